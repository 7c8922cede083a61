/**
 * The claims of a federated login -> the local user JIT provisioning writes (issue #9): the attributes by the
 * identity provider's claim mappings (src/federation/config.ts, defaults for the standard OIDC claims), the username
 * from its userNameClaims (checked with the store's own RFC 8265 rules, src/userstore/username.ts), the email and
 * whether the IdP verified it, and the group claim values mapped to local group names. And, at a re-login, which of
 * those attributes the sync mode lets change the local user (syncedUserInput).
 *
 * Pure: no I/O, unit-tested beside it (claims.test.ts). Everything here is bounded: a claim the store could not keep
 * (too long, a NUL, too many values) makes the login an `invalid_claims` failure with a message naming the claim,
 * decided once, never an activity that the store's refusal would retry.
 */
import type { MultiValue, UserInput, UserRecord } from '../provisioning/types.js';
import { checkUserName } from '../userstore/username.js';
import { claimMappingsOf, type JitAttribute, type JitSettings } from './config.js';
import type { FederatedClaims } from './jit-types.js';

/** The most characters of one mapped claim value (a profile or picture URL fits; the door's limit is far higher). */
export const MAX_CLAIM_VALUE_LENGTH = 2048;
/** The most characters of an email address (RFC 5321 §4.5.3.1: 64 + 1 + 255). */
export const MAX_EMAIL_LENGTH = 320;
/** The most values of the group claim, and characters of one (a group display name's limit). */
export const MAX_GROUP_VALUES = 100;
export const MAX_GROUP_VALUE_LENGTH = 255;

/** A mapped attribute other than the username (chosen once, never synced: see syncedUserInput). */
export type JitValueAttribute = Exclude<JitAttribute, 'userName'>;

export interface MappedClaims {
  /** The first userNameClaims value that is a valid local username, if any. */
  userName: string | undefined;
  /** Mapped attribute -> the claim's value; an attribute whose claim is absent is absent. */
  attributes: Partial<Record<JitValueAttribute, string>>;
  /** The attributes the mappings name (present or not), for the sync modes and the consent text. */
  mappedAttributes: JitValueAttribute[];
  /** The `email` claim. */
  email: string | undefined;
  /** `email_verified === true` for that email (the relying party dropped it if userinfo's email differed). */
  emailVerified: boolean;
  /** Local group names (`DOMAIN/name` or bare: in the JIT user store domain) the group claim maps to; undefined when settings.groups is unset. */
  groupNames: string[] | undefined;
}

export type ClaimsResult = { ok: true; value: MappedClaims } | { ok: false; message: string };

/** Why one string cannot be stored, or undefined. */
function valueProblem(value: string, what: string, max: number): string | undefined {
  if (value.includes('\u0000')) return `${what} contains a NUL character`;
  if (/\p{Cs}/u.test(value)) return `${what} contains a lone UTF-16 surrogate`;
  if (value.length > max) return `${what} is longer than ${max} characters`;
  return undefined;
}

/** A claim as a string: strings as they are, numbers and booleans written out; anything else is not a value. */
function claimString(value: unknown): string | undefined | { invalid: true } {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value.trim() === '' ? undefined : value.trim();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return { invalid: true };
}

/** Whether a local username is one the store keeps and the password grant can name (no `DOMAIN/` prefix). */
export function userNameProblem(userName: string): string | undefined {
  if (userName.includes('/')) return 'a username cannot contain "/" (it separates a user store domain from the name)';
  const checked = checkUserName(userName);
  return checked.ok ? undefined : checked.error.message;
}

/** Maps a login's claims by the IdP's JIT settings; a claim that cannot be stored fails the whole mapping. */
export function mapClaims(claims: FederatedClaims, settings: JitSettings): ClaimsResult {
  const attributes: Partial<Record<JitValueAttribute, string>> = {};
  const mappedAttributes: JitValueAttribute[] = [];
  for (const { claim, attribute } of claimMappingsOf(settings)) {
    if (attribute === 'userName') continue;
    if (!mappedAttributes.includes(attribute)) mappedAttributes.push(attribute);
    const value = claimString(claims[claim]);
    if (value === undefined || attributes[attribute] !== undefined) continue; // the first mapping with a value wins
    if (typeof value !== 'string') return { ok: false, message: `The identity provider's claim '${claim}' is not a single value` };
    const max = attribute === 'emails' ? MAX_EMAIL_LENGTH : MAX_CLAIM_VALUE_LENGTH;
    const problem = valueProblem(value, `The identity provider's claim '${claim}'`, max);
    if (problem) return { ok: false, message: problem };
    if (attribute === 'emails' && !/^[^\s@]+@[^\s@]+$/.test(value)) return { ok: false, message: `The identity provider's claim '${claim}' is not an email address` };
    attributes[attribute] = value;
  }

  // The username: the first userNameClaims value the store accepts. A claim that is present but not a valid name is
  // passed over for the next (an email or `sub` still makes a name), and reported only if none is valid.
  let userName: string | undefined;
  const refused: string[] = [];
  for (const claim of settings.userNameClaims) {
    const value = claimString(claims[claim]);
    if (value === undefined) continue;
    if (typeof value !== 'string') {
      refused.push(`'${claim}' is not a single value`);
      continue;
    }
    const problem = userNameProblem(value) ?? valueProblem(value, `'${claim}'`, MAX_CLAIM_VALUE_LENGTH);
    if (problem) {
      refused.push(`'${claim}': ${problem}`);
      continue;
    }
    userName = value;
    break;
  }
  if (userName === undefined && refused.length > 0) {
    return { ok: false, message: `The identity provider gave no usable username (${refused.join('; ')})` };
  }

  const emailClaim = claimString(claims.email);
  let email: string | undefined;
  if (typeof emailClaim === 'string') {
    const problem = valueProblem(emailClaim, "The identity provider's claim 'email'", MAX_EMAIL_LENGTH);
    if (problem) return { ok: false, message: problem };
    email = emailClaim;
  }
  const emailVerified = email !== undefined && claims.email_verified === true;

  let groupNames: string[] | undefined;
  if (settings.groups) {
    const raw = claims[settings.groups.claim];
    const values = raw === undefined || raw === null ? [] : Array.isArray(raw) ? raw : [raw];
    if (values.length > MAX_GROUP_VALUES) {
      return { ok: false, message: `The identity provider's claim '${settings.groups.claim}' has ${values.length} values; at most ${MAX_GROUP_VALUES} are accepted` };
    }
    const names = new Set<string>();
    for (const v of values) {
      if (typeof v !== 'string') return { ok: false, message: `The identity provider's claim '${settings.groups.claim}' holds a value that is not a string` };
      const problem = valueProblem(v, `A value of the identity provider's claim '${settings.groups.claim}'`, MAX_GROUP_VALUE_LENGTH);
      if (problem) return { ok: false, message: problem };
      const mapped = settings.groups.mappings.filter((m) => m.value === v).map((m) => m.group);
      for (const name of mapped) names.add(name);
      if (mapped.length === 0 && settings.groups.matchByName && v.trim() !== '') names.add(v.trim());
    }
    groupNames = [...names];
  }
  return { ok: true, value: { userName, attributes, mappedAttributes, email, emailVerified, groupNames } };
}

/** The attributes of a stored user as a write's input (what a replace sends back, changed or not). */
export function userInputOf(user: UserRecord): UserInput {
  const { id: _id, version: _v, created: _c, lastModified: _l, groups: _g, ...input } = user;
  return input;
}

const NAME_PARTS = { 'name.formatted': 'formatted', 'name.givenName': 'givenName', 'name.familyName': 'familyName', 'name.middleName': 'middleName' } as const;
/** The mapped attributes that are plain strings of UserInput. */
type ScalarAttribute = 'externalId' | 'displayName' | 'nickName' | 'profileUrl' | 'title' | 'userType' | 'preferredLanguage' | 'locale' | 'timezone';

/** The primary value of a multi-valued attribute (the first when none is marked primary). */
function primaryOf(values: readonly MultiValue[] | undefined): string | undefined {
  if (!values || values.length === 0) return undefined;
  return (values.find((v) => v.primary) ?? values[0])!.value;
}

/** The local value of a mapped attribute (a multi-valued one's primary value). */
export function localValue(input: UserInput, attribute: JitValueAttribute): string | undefined {
  if (attribute in NAME_PARTS) return input.name?.[NAME_PARTS[attribute as keyof typeof NAME_PARTS]];
  if (attribute === 'emails' || attribute === 'phoneNumbers' || attribute === 'photos') return primaryOf(input[attribute]);
  return input[attribute as ScalarAttribute];
}

/**
 * `input` with one attribute set (or removed, `value` undefined). A multi-valued attribute gets the value as its
 * primary one; its other values stay (the IdP asserts one email, not the user's whole list).
 */
export function withAttribute(input: UserInput, attribute: JitValueAttribute, value: string | undefined): UserInput {
  if (attribute in NAME_PARTS) {
    const name = { ...input.name, [NAME_PARTS[attribute as keyof typeof NAME_PARTS]]: value };
    return { ...input, name: Object.values(name).some((v) => v !== undefined) ? name : undefined };
  }
  if (attribute === 'emails' || attribute === 'phoneNumbers' || attribute === 'photos') {
    const current = input[attribute] ?? [];
    const old = current.find((v) => v.primary) ?? current[0];
    const others = current.filter((v) => v !== old && v.value !== value).map((v) => ({ ...v, primary: false }));
    const list = value === undefined ? others : [{ value, primary: true, ...(old?.type !== undefined && { type: old.type }) }, ...others];
    return { ...input, [attribute]: list };
  }
  return { ...input, [attribute]: value };
}

/** The input of a new JIT user: the mapped attributes, active, no password (the person's own, if a prompt asked). */
export function newUserInput(domain: string, userName: string, mapped: MappedClaims): UserInput {
  let input: UserInput = { domain, userName, active: true, emails: [], phoneNumbers: [], addresses: [] };
  for (const attribute of mapped.mappedAttributes) {
    const value = mapped.attributes[attribute];
    if (value !== undefined) input = withAttribute(input, attribute, value);
  }
  return input;
}

/**
 * What a re-login changes on the local user, or undefined when nothing changes (no write, no outbound update):
 * - OVERRIDE_ALL: every mapped attribute the IdP asserts is set from its claim (an absent claim leaves the local value);
 * - PRESERVE_LOCAL: only mapped attributes that are empty locally are filled;
 * - SYNC_NONE: nothing;
 * - idpOwnedAttributes, whatever the mode: set from the claim, and removed when the IdP stops asserting them.
 * The username is never synced: it was chosen once (a rename from the IdP could collide with, or take, another name).
 */
export function syncedUserInput(current: UserRecord, mapped: MappedClaims, settings: Pick<JitSettings, 'attributeSync' | 'idpOwnedAttributes'>): UserInput | undefined {
  const owned = settings.idpOwnedAttributes.filter((a): a is JitValueAttribute => a !== 'userName');
  let input = userInputOf(current);
  let changed = false;
  for (const attribute of [...new Set([...mapped.mappedAttributes, ...owned])]) {
    const value = mapped.attributes[attribute];
    const local = localValue(input, attribute);
    const set =
      owned.includes(attribute) ||
      (value !== undefined && (settings.attributeSync === 'OVERRIDE_ALL' || (settings.attributeSync === 'PRESERVE_LOCAL' && local === undefined)));
    if (!set || value === local) continue;
    input = withAttribute(input, attribute, value);
    changed = true;
  }
  return changed ? input : undefined;
}

/** What the consent prompt lists: the username and every mapped attribute the login asserts, in mapping order. */
export function consentAttributes(userName: string, mapped: MappedClaims): Array<{ attribute: string; value: string }> {
  return [
    { attribute: 'userName', value: userName },
    ...mapped.mappedAttributes.flatMap((attribute) => {
      const value = mapped.attributes[attribute];
      return value === undefined ? [] : [{ attribute, value }];
    }),
  ];
}
