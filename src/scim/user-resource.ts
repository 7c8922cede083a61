/**
 * SCIM 2.0 User resource <-> the server's UserInput / UserRecord (RFC 7643 §4.1, §4.3).
 *
 * Attribute names are case-insensitive (RFC 7643 §2.1), so incoming keys are matched ignoring case.
 * readOnly attributes (id, meta, groups) are ignored on write (RFC 7643 §7). The password is write-only:
 * it is never rendered (returned: never).
 */
import type { Address, EnterpriseUser, MultiValue, Name, UserInput, UserRecord } from '../provisioning/types.js';
import { checkUserName } from '../userstore/username.js';
import { ScimError } from './errors.js';
import { SCHEMA_ENTERPRISE_USER, SCHEMA_USER } from './schemas.js';

export const PRIMARY_DOMAIN = 'PRIMARY';

type Json = Record<string, unknown>;

/** Looks a key up ignoring case (RFC 7643 §2.1). */
export function get(obj: Json, key: string): unknown {
  if (key in obj) return obj[key];
  const lower = key.toLowerCase();
  for (const [k, v] of Object.entries(obj)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(obj: Json, key: string, path = key): string | undefined {
  const v = get(obj, key);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw ScimError.badRequest(`Attribute '${path}' must be a string`);
  return v;
}

function bool(obj: Json, key: string, path = key): boolean | undefined {
  const v = get(obj, key);
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  // Some clients (Microsoft Entra) send booleans as strings.
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  throw ScimError.badRequest(`Attribute '${path}' must be a boolean`);
}

function complex(obj: Json, key: string): Json | undefined {
  const v = get(obj, key);
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw ScimError.badRequest(`Attribute '${key}' must be a complex value (an object)`);
  return v;
}

/**
 * The most values one multi-valued attribute of a user may have (emails, phoneNumbers, addresses, ims, photos,
 * entitlements, roles, x509Certificates): far more than a person has, few enough that one user can never cost the
 * store a pathological write (issue #8: 30,000 emails were accepted after 25 s).
 */
export const MAX_VALUES_PER_ATTRIBUTE = 100;

function multi(obj: Json, key: string): Json[] {
  const v = get(obj, key);
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every(isObject)) {
    throw ScimError.badRequest(`Attribute '${key}' must be an array of complex values`);
  }
  if (v.length > MAX_VALUES_PER_ATTRIBUTE) {
    throw ScimError.badRequest(`Attribute '${key}' has ${v.length} values; at most ${MAX_VALUES_PER_ATTRIBUTE} are accepted`);
  }
  return v;
}

function multiValues(obj: Json, key: string): MultiValue[] {
  const values = multi(obj, key).map((entry, i) => {
    const value = str(entry, 'value', `${key}[${i}].value`);
    if (value === undefined || value === '') throw ScimError.badRequest(`Attribute '${key}[${i}].value' is required`);
    return {
      value,
      type: str(entry, 'type', `${key}[${i}].type`),
      primary: bool(entry, 'primary', `${key}[${i}].primary`) ?? false,
      display: str(entry, 'display', `${key}[${i}].display`),
    };
  });
  // RFC 7643 §2.4: the primary attribute value 'true' MUST appear no more than once.
  if (values.filter((v) => v.primary).length > 1) {
    throw ScimError.badRequest(`Attribute '${key}' has more than one primary value`);
  }
  return values;
}

/** Splits WSO2-style `DOMAIN/name` user names. */
export function splitDomain(userName: string): { domain: string | undefined; name: string } {
  const slash = userName.indexOf('/');
  if (slash <= 0) return { domain: undefined, name: userName };
  return { domain: userName.slice(0, slash).toUpperCase(), name: userName.slice(slash + 1) };
}

/** Renders the user name as WSO2 does: bare in PRIMARY, `DOMAIN/name` in a secondary domain. */
export function qualifiedUserName(domain: string, userName: string): string {
  return domain === PRIMARY_DOMAIN ? userName : `${domain}/${userName}`;
}

/**
 * Validates a User resource from a POST or PUT body. Throws ScimError (400) for anything malformed;
 * nothing reaches the store or a workflow until this passes.
 */
/**
 * An operator-defined extension schema as the parsers need it: its URN, whether resources must carry it, and
 * its validator (src/scim/schema-registry.ts), which returns the canonical object or throws ScimError 400.
 */
export interface ExtensionParser {
  id: string;
  required: boolean;
  validate: (value: unknown) => Record<string, unknown>;
}

/** Parses the operator extensions present in a body (RFC 7643 §3.3: keyed by their schema URN). */
export function parseExtensions(body: Json, extensions: readonly ExtensionParser[]): Record<string, Record<string, unknown>> | undefined {
  const out: Record<string, Record<string, unknown>> = {};
  for (const ext of extensions) {
    const value = get(body, ext.id);
    if (value === undefined || value === null) {
      if (ext.required) throw ScimError.badRequest(`The extension ${ext.id} is required`, 'invalidValue');
      continue;
    }
    const parsed = ext.validate(value);
    if (Object.keys(parsed).length > 0) out[ext.id] = parsed;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Optional multi-valued attributes kept as JSON (RFC 7643 §4.1.2); absent when empty. */
const JSON_MULTI_VALUED = ['ims', 'photos', 'entitlements', 'roles', 'x509Certificates'] as const;

export function parseUserInput(body: unknown, opts: { defaultDomain: string; extensions?: readonly ExtensionParser[] }): UserInput {
  if (!isObject(body)) throw ScimError.badRequest('The request body must be a JSON object', 'invalidSyntax');
  const schemas = get(body, 'schemas');
  if (schemas !== undefined && (!Array.isArray(schemas) || !schemas.every((s) => typeof s === 'string'))) {
    throw ScimError.badRequest("Attribute 'schemas' must be an array of strings", 'invalidSyntax');
  }
  const rawUserName = str(body, 'userName');
  if (rawUserName === undefined || rawUserName.trim() === '') {
    throw ScimError.badRequest("Attribute 'userName' is required", 'invalidValue');
  }
  const { domain, name: userName } = splitDomain(rawUserName.trim());
  if (userName === '') throw ScimError.badRequest("Attribute 'userName' is empty after its domain prefix");
  // RFC 8265 (src/userstore/username.ts): a name the profile refuses never reaches a workflow; the detail names
  // the rule and the code point. PUT, POST, PATCH (re-parsed in the store activity), Bulk and SCIM 1.1 all pass here.
  const enforced = checkUserName(userName);
  if (!enforced.ok) throw ScimError.badRequest(enforced.error.message, 'invalidValue');

  const nameObj = complex(body, 'name');
  const name: Name | undefined = nameObj && {
    formatted: str(nameObj, 'formatted', 'name.formatted'),
    familyName: str(nameObj, 'familyName', 'name.familyName'),
    givenName: str(nameObj, 'givenName', 'name.givenName'),
    middleName: str(nameObj, 'middleName', 'name.middleName'),
    honorificPrefix: str(nameObj, 'honorificPrefix', 'name.honorificPrefix'),
    honorificSuffix: str(nameObj, 'honorificSuffix', 'name.honorificSuffix'),
  };

  const addresses: Address[] = multi(body, 'addresses').map((a, i) => ({
    type: str(a, 'type', `addresses[${i}].type`),
    primary: bool(a, 'primary', `addresses[${i}].primary`) ?? false,
    formatted: str(a, 'formatted', `addresses[${i}].formatted`),
    streetAddress: str(a, 'streetAddress', `addresses[${i}].streetAddress`),
    locality: str(a, 'locality', `addresses[${i}].locality`),
    region: str(a, 'region', `addresses[${i}].region`),
    postalCode: str(a, 'postalCode', `addresses[${i}].postalCode`),
    country: str(a, 'country', `addresses[${i}].country`),
  }));

  const ent = complex(body, SCHEMA_ENTERPRISE_USER);
  let enterprise: EnterpriseUser | undefined;
  if (ent) {
    const manager = complex(ent, 'manager');
    enterprise = {
      employeeNumber: str(ent, 'employeeNumber'),
      costCenter: str(ent, 'costCenter'),
      organization: str(ent, 'organization'),
      division: str(ent, 'division'),
      department: str(ent, 'department'),
      manager: manager && { value: str(manager, 'value', 'manager.value'), displayName: str(manager, 'displayName', 'manager.displayName') },
    };
  }

  const password = str(body, 'password');
  if (password !== undefined && password.length === 0) throw ScimError.badRequest("Attribute 'password' is empty");
  const jsonMulti = Object.fromEntries(
    JSON_MULTI_VALUED.map((key) => {
      const values = multiValues(body, key);
      return [key, values.length > 0 ? values : undefined];
    }),
  ) as Pick<UserInput, (typeof JSON_MULTI_VALUED)[number]>;

  return {
    domain: domain ?? opts.defaultDomain,
    userName,
    externalId: str(body, 'externalId'),
    active: bool(body, 'active'),
    name,
    displayName: str(body, 'displayName'),
    nickName: str(body, 'nickName'),
    profileUrl: str(body, 'profileUrl'),
    title: str(body, 'title'),
    userType: str(body, 'userType'),
    preferredLanguage: str(body, 'preferredLanguage'),
    locale: str(body, 'locale'),
    timezone: str(body, 'timezone'),
    emails: multiValues(body, 'emails'),
    phoneNumbers: multiValues(body, 'phoneNumbers'),
    addresses,
    enterprise,
    ...jsonMulti,
    extensions: parseExtensions(body, opts.extensions ?? []),
    password,
  };
}

function compact<T extends object>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined && v !== null)) as Partial<T>;
}

/** The weak ETag of a resource version (RFC 7644 §3.14). */
export function etagOf(version: number): string {
  return `W/"${version}"`;
}

/** Renders a stored user as a SCIM User resource. */
export function toScimUser(user: UserRecord, baseUrl: string): Record<string, unknown> {
  const extensionUrns = Object.keys(user.extensions ?? {});
  const manager = user.enterprise?.manager;
  const enterprise =
    user.enterprise &&
    compact({
      ...user.enterprise,
      manager: manager && compact({ ...manager, $ref: manager.value !== undefined ? `${baseUrl}/scim2/Users/${manager.value}` : undefined }),
    });
  const hasEnterprise = enterprise !== undefined && Object.keys(enterprise).length > 0;
  const name = user.name && compact(user.name);
  return compact({
    schemas: [SCHEMA_USER, ...(hasEnterprise ? [SCHEMA_ENTERPRISE_USER] : []), ...extensionUrns],
    id: user.id,
    externalId: user.externalId,
    userName: qualifiedUserName(user.domain, user.userName),
    name: name && Object.keys(name).length > 0 ? name : undefined,
    displayName: user.displayName,
    nickName: user.nickName,
    profileUrl: user.profileUrl,
    title: user.title,
    userType: user.userType,
    preferredLanguage: user.preferredLanguage,
    locale: user.locale,
    timezone: user.timezone,
    active: user.active,
    emails: user.emails.length > 0 ? user.emails.map(compact) : undefined,
    phoneNumbers: user.phoneNumbers.length > 0 ? user.phoneNumbers.map(compact) : undefined,
    addresses: user.addresses.length > 0 ? user.addresses.map(compact) : undefined,
    ims: user.ims?.map(compact),
    photos: user.photos?.map(compact),
    entitlements: user.entitlements?.map(compact),
    roles: user.roles?.map(compact),
    x509Certificates: user.x509Certificates?.map(compact),
    groups:
      user.groups && user.groups.length > 0
        ? user.groups.map((g) => ({ value: g.value, $ref: `${baseUrl}/scim2/Groups/${g.value}`, display: g.display, type: g.type }))
        : undefined,
    [SCHEMA_ENTERPRISE_USER]: hasEnterprise ? enterprise : undefined,
    ...user.extensions,
    meta: {
      resourceType: 'User',
      created: user.created,
      lastModified: user.lastModified,
      version: etagOf(user.version),
      location: `${baseUrl}/scim2/Users/${user.id}`,
    },
  });
}

/** The parsers of a resource type's operator extensions (the enterprise extension has its own columns). */
export function extensionParsers(
  rt: { extensions: readonly { schema: { id: string }; required: boolean }[] },
  validate: (schemaId: string, value: unknown) => Record<string, unknown>,
): ExtensionParser[] {
  return rt.extensions
    .filter((e) => e.schema.id !== SCHEMA_ENTERPRISE_USER)
    .map((e) => ({ id: e.schema.id, required: e.required, validate: (value: unknown) => validate(e.schema.id, value) }));
}
