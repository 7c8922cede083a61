/**
 * SCIM 2.0 Group resource <-> the server's GroupInput / GroupRecord (RFC 7643 §4.2).
 *
 * Like users, groups live in a user store domain and may be named `DOMAIN/name` (WSO2's convention).
 * Members are users or groups, named by id; `display` and `$ref` are computed by the server (readOnly).
 */
import type { GroupInput, GroupRecord, MemberRef } from '../provisioning/types.js';
import { ScimError } from './errors.js';
import { SCHEMA_GROUP } from './schemas.js';
import { etagOf, get, isObject, parseExtensions, qualifiedUserName, splitDomain, type ExtensionParser } from './user-resource.js';


/** Validates one member reference (RFC 7643 §4.2: value is the member's id; type User or Group). */
export function parseMemberRef(entry: unknown, where: string): MemberRef {
  if (!isObject(entry)) throw ScimError.badRequest(`${where} must be an object with a 'value'`);
  const value = get(entry, 'value');
  if (typeof value !== 'string' || value.trim() === '') throw ScimError.badRequest(`${where}.value must be a non-empty string (the member's id)`);
  const type = get(entry, 'type');
  if (type !== undefined && type !== null && (typeof type !== 'string' || !/^(user|group)$/i.test(type))) {
    throw ScimError.badRequest(`${where}.type must be 'User' or 'Group'`);
  }
  return {
    value: value.trim(),
    ...(typeof type === 'string' && { type: type.toLowerCase() === 'user' ? ('User' as const) : ('Group' as const) }),
  };
}

export function parseMembers(value: unknown): MemberRef[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw ScimError.badRequest("Attribute 'members' must be an array");
  const seen = new Set<string>();
  const members: MemberRef[] = [];
  value.forEach((entry, i) => {
    const ref = parseMemberRef(entry, `members[${i}]`);
    if (!seen.has(ref.value)) members.push(ref);
    seen.add(ref.value);
  });
  return members;
}

/** The longest group displayName accepted (after its domain prefix), as for user names: a name, not a document. */
export const MAX_GROUP_NAME_LENGTH = 255;

/** Validates a Group resource from a POST or PUT body; throws ScimError (400) for anything malformed. */
export function parseGroupInput(body: unknown, opts: { defaultDomain: string; extensions?: readonly ExtensionParser[] }): GroupInput {
  if (!isObject(body)) throw ScimError.badRequest('The request body must be a JSON object', 'invalidSyntax');
  const raw = get(body, 'displayName');
  if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) {
    throw ScimError.badRequest("Attribute 'displayName' is required", 'invalidValue');
  }
  if (typeof raw !== 'string') throw ScimError.badRequest("Attribute 'displayName' must be a string");
  const { domain, name } = splitDomain(raw.trim());
  if (name === '') throw ScimError.badRequest("Attribute 'displayName' is empty after its domain prefix");
  if (name.length > MAX_GROUP_NAME_LENGTH) throw ScimError.badRequest(`Attribute 'displayName' is longer than ${MAX_GROUP_NAME_LENGTH} characters`);
  const externalId = get(body, 'externalId');
  if (externalId !== undefined && externalId !== null && typeof externalId !== 'string') {
    throw ScimError.badRequest("Attribute 'externalId' must be a string");
  }
  return {
    domain: domain ?? opts.defaultDomain,
    displayName: name,
    externalId: typeof externalId === 'string' ? externalId : undefined,
    members: parseMembers(get(body, 'members')),
    extensions: parseExtensions(body, opts.extensions ?? []),
  };
}

/** Renders a stored group as a SCIM Group resource. */
export function toScimGroup(group: GroupRecord, baseUrl: string): Record<string, unknown> {
  const extensionUrns = Object.keys(group.extensions ?? {});
  return {
    schemas: [SCHEMA_GROUP, ...extensionUrns],
    id: group.id,
    ...(group.externalId !== undefined && { externalId: group.externalId }),
    displayName: qualifiedUserName(group.domain, group.displayName),
    ...(group.members &&
      group.members.length > 0 && {
        members: group.members.map((m) => ({
          value: m.value,
          $ref: `${baseUrl}/scim2/${m.type === 'User' ? 'Users' : 'Groups'}/${m.value}`,
          type: m.type,
          ...(m.display !== undefined && { display: m.display }),
        })),
      }),
    ...group.extensions,
    meta: {
      resourceType: 'Group',
      created: group.created,
      lastModified: group.lastModified,
      version: etagOf(group.version),
      location: `${baseUrl}/scim2/Groups/${group.id}`,
    },
  };
}
