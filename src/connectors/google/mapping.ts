/**
 * Google Workspace <-> provisioning server mapping: how a local user becomes a Directory API user
 * (https://developers.google.com/workspace/admin/directory/reference/rest/v1/users) and a local group a
 * Directory API group. Pure functions, so the rules are testable without a server.
 */
import type { admin_directory_v1 } from '@googleapis/admin';
import { AttributeMappingError } from '../../provisioning/attribute-mapping.js';
import type { MultiValue } from '../../provisioning/types.js';
import { ConnectorRejected } from '../errors.js';
import { JsonPathError, jsonPathProblem, parseJsonPath, setJsonPath } from '../json-path.js';
import type { OutboundGroup, OutboundUser, RemoteUser } from '../types.js';

/**
 * How the primary email (Google's account name) is built, as WSO2's "Primary Email" setting:
 *   'userName@domain'  the user name's local part at the connector's domain (`rashmini` -> `rashmini@example.com`)
 *   'userName'         the user name is already the full address (`rashmini@example.com`)
 */
export type PrimaryEmailMode = 'userName@domain' | 'userName';

/**
 * The connector's own mapping settings (WSO2's Google Provisioning Configuration), kept as they were. Each is the
 * built-in form of an attribute-mapping rule (settings.attributeMapping, src/provisioning/attribute-mapping.ts), and a
 * rule with the same target overrides it:
 *   primaryEmail 'userName@domain'   { "target": "primaryEmail", "expression": "$substringBefore(userName, '@') & '@example.com'" }
 *   defaultGivenName: 'X'            { "target": "name.givenName", "source": "name.givenName", "default": "X" }
 *   defaultFamilyName: 'Y'           { "target": "name.familyName", "source": "name.familyName", "default": "Y" }
 *   orgUnitPath: '/Staff'            { "target": "orgUnitPath", "expression": "'/Staff'" }
 */
export interface MappingSettings {
  domain: string;
  primaryEmail: PrimaryEmailMode;
  defaultGivenName?: string | undefined;
  defaultFamilyName?: string | undefined;
  orgUnitPath?: string | undefined;
}

/** The externalIds entry that carries the local user id, so an operator (and reconciliation) can match. */
export const LOCAL_ID_TYPE = 'provisioning-server-id';

/** Google's account name for a local user name. */
export function primaryEmailOf(userName: string, s: MappingSettings): string {
  if (s.primaryEmail === 'userName') {
    if (!/^[^@\s]+@[^@\s]+$/.test(userName)) {
      throw new ConnectorRejected(`User name '${userName}' is not an email address (the connector's primaryEmail is 'userName')`);
    }
    return userName.toLowerCase();
  }
  const local = userName.includes('@') ? userName.slice(0, userName.lastIndexOf('@')) : userName;
  return `${local}@${s.domain}`.toLowerCase();
}

/** The inverse of primaryEmailOf, for reconciliation reports. */
export function userNameOf(primaryEmail: string, s: MappingSettings): string {
  if (s.primaryEmail === 'userName') return primaryEmail;
  const at = primaryEmail.lastIndexOf('@');
  return at > 0 && primaryEmail.slice(at + 1).toLowerCase() === s.domain.toLowerCase() ? primaryEmail.slice(0, at) : primaryEmail;
}

/** A group's address: its display name made an email local part, at the connector's domain. */
export function groupEmailOf(displayName: string, domain: string): string {
  if (/^[^@\s]+@[^@\s]+$/.test(displayName)) return displayName.toLowerCase();
  const local = displayName
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '');
  if (local === '') throw new ConnectorRejected(`Group '${displayName}' has no characters usable in an email address`);
  return `${local}@${domain}`.toLowerCase();
}

// SCIM email types are work/home/other; Google's are the same plus custom.
function emailEntry(e: MultiValue): admin_directory_v1.Schema$UserEmail {
  const type = e.type && ['work', 'home', 'other'].includes(e.type) ? e.type : e.type ? 'custom' : 'work';
  return { address: e.value, type, ...(type === 'custom' && { customType: e.type }), ...(e.primary && { primary: true }) };
}

// SCIM phone types (RFC 7643 §4.1.2: work, home, mobile, fax, pager, other) to Google's phone types.
const PHONE_TYPES: Record<string, string> = { work: 'work', home: 'home', mobile: 'mobile', fax: 'work_fax', pager: 'pager', other: 'other' };

function phoneEntry(p: MultiValue): admin_directory_v1.Schema$UserPhone {
  const mapped = p.type ? PHONE_TYPES[p.type] : 'work';
  return {
    value: p.value,
    type: mapped ?? 'custom',
    ...(mapped === undefined && { customType: p.type }),
    ...(p.primary && { primary: true }),
  };
}

/**
 * The Directory API user for a local user. Google requires name.givenName and name.familyName: the
 * configured defaults, then the user name, stand in for missing ones (WSO2's connector does the same).
 * `password` is included only when given (required on insert: the caller supplies it).
 */
export function toGoogleUser(user: OutboundUser, s: MappingSettings, password: string | undefined): admin_directory_v1.Schema$User {
  const org = user.enterprise;
  const organizations =
    user.title || org?.department || org?.costCenter || org?.organization
      ? [
          {
            primary: true,
            ...(user.title && { title: user.title }),
            ...(org?.department && { department: org.department }),
            ...(org?.costCenter && { costCenter: org.costCenter }),
            ...(org?.organization && { name: org.organization }),
          },
        ]
      : [];
  return {
    primaryEmail: primaryEmailOf(user.userName, s),
    name: {
      givenName: nonEmpty(user.name?.givenName) ?? s.defaultGivenName ?? user.userName,
      familyName: nonEmpty(user.name?.familyName) ?? s.defaultFamilyName ?? user.userName,
    },
    ...(password !== undefined && { password }),
    suspended: user.active === false,
    externalIds: [
      { type: 'custom', customType: LOCAL_ID_TYPE, value: user.id },
      ...(user.externalId ? [{ type: 'organization', value: user.externalId }] : []),
    ],
    emails: user.emails.map(emailEntry),
    phones: user.phoneNumbers.map(phoneEntry),
    organizations,
    ...(s.orgUnitPath !== undefined && { orgUnitPath: s.orgUnitPath }),
  };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v !== undefined && v.trim() !== '' ? v : undefined;
}

/** A Directory API user as a reconciliation entry. */
export function fromGoogleUser(u: admin_directory_v1.Schema$User, s: MappingSettings): RemoteUser {
  const ids = (u.externalIds ?? []) as admin_directory_v1.Schema$UserExternalId[];
  const local = ids.find((x) => x.type === 'custom' && x.customType === LOCAL_ID_TYPE)?.value;
  return {
    remoteId: u.id ?? '',
    userName: userNameOf(u.primaryEmail ?? '', s),
    externalId: local ?? undefined,
    active: u.suspended === undefined || u.suspended === null ? undefined : !u.suspended,
    raw: u,
  };
}

/** The Directory API group for a local group (members are synced separately). */
export function toGoogleGroup(group: OutboundGroup, domain: string): admin_directory_v1.Schema$Group {
  return {
    email: groupEmailOf(group.displayName, domain),
    name: group.displayName,
    description: `Provisioned group ${group.displayName}${group.externalId ? ` (${group.externalId})` : ''}`,
  };
}

/**
 * Mapping targets Google's User resource has but a rule must not write: the password (a rule would reset it on every
 * update) and its hash function, and the read-only identity fields.
 */
const REFUSED_TARGETS = new Set(['password', 'hashFunction', 'id', 'kind', 'etag', 'isAdmin', 'creationTime']);

/**
 * Targets Google requires of every user: a rule without a value (null) leaves the connector's own value (the
 * defaults above, then the user name) rather than sending none.
 */
const REQUIRED_TARGETS = new Set(['primaryEmail', 'name.givenName', 'name.familyName']);

/** What is wrong with a rule's target, as a Directory API user field path; undefined when it is usable. */
export function googleTargetProblem(target: string): string | undefined {
  const problem = jsonPathProblem(target);
  if (problem) return `is not a Directory API field path (${problem})`;
  const first = parseJsonPath(target)[0] as string;
  if (REFUSED_TARGETS.has(first)) return `'${first}' cannot be written by a mapping rule`;
  return undefined;
}

/**
 * Writes the attribute-mapping values (OutboundUser.mapped) into a Directory API user body, over what toGoogleUser
 * derived. Google's users.update clears a field sent as null, so a rule without a value clears its target, except the
 * required ones. Throws AttributeMappingError (a rejection of this user) naming the target when a value cannot go there.
 */
export function applyMapped(body: admin_directory_v1.Schema$User, mapped: OutboundUser['mapped']): admin_directory_v1.Schema$User {
  for (const m of mapped ?? []) {
    if (m.value === null && REQUIRED_TARGETS.has(m.target)) continue;
    if (m.target === 'primaryEmail' && (typeof m.value !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(m.value))) {
      throw new AttributeMappingError(`The value mapped to 'primaryEmail' is not an email address: ${JSON.stringify(m.value)}`);
    }
    try {
      setJsonPath(body as Record<string, unknown>, m.target, m.target === 'primaryEmail' ? (m.value as string).toLowerCase() : m.value);
    } catch (err) {
      if (err instanceof JsonPathError) throw new AttributeMappingError(`The value mapped to '${m.target}' cannot be set: ${err.message}`);
      throw err;
    }
  }
  return body;
}
