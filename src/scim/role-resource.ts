/**
 * SCIM 2.0 Role resource (WSO2's Roles API, schema `urn:ietf:params:scim:schemas:extension:2.0:Role`) <-> the
 * store's RoleInput / RolePatch / RoleRecord (src/userstore/roles.ts):
 *
 *   { "schemas": ["urn:ietf:params:scim:schemas:extension:2.0:Role"], "id": "...", "displayName": "hr-admins",
 *     "users": [{ "value": "<user id>", "display": "alice", "$ref": ".../Users/<id>" }],
 *     "groups": [{ "value": "<group id>", "display": "PARTNERS/hr", "$ref": ".../Groups/<id>" }],
 *     "permissions": [{ "value": "internal_user_mgt_view", "display": "internal_user_mgt_view" }],
 *     "meta": { "resourceType": "Role", ... } }
 *
 * Permissions are this server's API scopes (WSO2's names). They are rendered as WSO2's Roles API v2 does
 * (objects with `value`), and accepted in that form or as WSO2 v1's plain strings.
 */
import { isApiScope } from '../http/oauth/scopes.js';
import type { RoleInput, RoleListOperation, RolePatch, RoleRecord } from '../userstore/roles.js';
import { ScimError } from './errors.js';
import { parsePatchOperations } from './patch.js';
import { SCHEMA_ROLE } from './schema-defs.js';
import { etagOf, get, isObject } from './user-resource.js';

export { SCHEMA_ROLE };

const MAX_NAME = 255;

function displayName(value: unknown, where = 'displayName'): string {
  if (typeof value !== 'string' || value.trim() === '') throw ScimError.badRequest(`Attribute '${where}' is required: a non-empty string`);
  const name = value.trim();
  if (name.length > MAX_NAME) throw ScimError.badRequest(`Attribute '${where}' is longer than ${MAX_NAME} characters`);
  return name;
}

/** The ids of `users` or `groups` entries (`{ "value": id }`; a bare id string is accepted too). */
function ids(value: unknown, where: string): string[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  return [
    ...new Set(
      list.map((entry, i) => {
        const id = typeof entry === 'string' ? entry : isObject(entry) ? get(entry, 'value') : undefined;
        if (typeof id !== 'string' || id.trim() === '') throw ScimError.badRequest(`${where}[${i}].value must be a non-empty string (an id)`);
        return id.trim();
      }),
    ),
  ];
}

/** Permission values: API scopes, as `{ "value": scope }` (v2) or plain strings (v1). Unknown ones are a 400. */
function permissions(value: unknown, where = 'permissions'): string[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  return [
    ...new Set(
      list.map((entry, i) => {
        const scope = typeof entry === 'string' ? entry : isObject(entry) ? get(entry, 'value') : undefined;
        if (typeof scope !== 'string' || !isApiScope(scope)) {
          throw ScimError.badRequest(`${where}[${i}]: ${JSON.stringify(scope ?? entry)} is not a permission of this server (its API scopes: internal_user_mgt_view, ...)`);
        }
        return scope;
      }),
    ),
  ];
}

function externalId(value: unknown, where = 'externalId'): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length > MAX_NAME) throw ScimError.badRequest(`Attribute '${where}' must be a string of at most ${MAX_NAME} characters`);
  return value;
}

/** Validates a Role resource from a POST or PUT body. `description` is not part of the SCIM schema: kept as is. */
export function parseRoleInput(body: unknown): Omit<RoleInput, 'description'> {
  if (!isObject(body)) throw ScimError.badRequest('The request body must be a JSON object', 'invalidSyntax');
  return {
    name: displayName(get(body, 'displayName')),
    externalId: externalId(get(body, 'externalId')),
    users: ids(get(body, 'users'), 'users'),
    groups: ids(get(body, 'groups'), 'groups'),
    permissions: permissions(get(body, 'permissions')),
  };
}

const LIST_ATTRIBUTES = ['users', 'groups', 'permissions'] as const;
type ListAttribute = (typeof LIST_ATTRIBUTES)[number];

function listAttribute(name: string): ListAttribute | undefined {
  return LIST_ATTRIBUTES.find((a) => a === name.toLowerCase());
}

/** `users[value eq "id"]`, also `value eq "a" or value eq "b"`: the values named. */
function filteredValues(filter: string, where: string): string[] {
  const terms = filter.split(/\s+or\s+/i).map((t) => /^\s*value\s+eq\s+"([^"]*)"\s*$/i.exec(t)?.[1]);
  if (terms.some((t) => t === undefined)) {
    throw new ScimError(400, `${where}: only value filters are supported here, e.g. users[value eq "<id>"]`, 'invalidFilter');
  }
  return terms as string[];
}

function valuesOf(attribute: ListAttribute, value: unknown, where: string): string[] {
  return attribute === 'permissions' ? permissions(value, where) : ids(value, where);
}

/**
 * Reads a Role PATCH (RFC 7644 §3.5.2) as WSO2's Roles API takes it: `displayName` replaced; `users`, `groups` and
 * `permissions` added to, removed from (the listed values, `attr[value eq "id"]`, or all of them) or replaced; a
 * path-less add or replace carries those attributes in its value. Operations apply in order, all or none.
 */
export function parseRolePatch(body: unknown): RolePatch {
  const operations: RoleListOperation[] = [];
  let name: string | undefined;
  let external: string | null | undefined;
  parsePatchOperations(body).forEach((op, i) => {
    const where = `Operations[${i}]`;
    if (op.path === undefined) {
      if (op.op === 'remove') throw new ScimError(400, `${where}: a remove needs a path`, 'noTarget');
      if (!isObject(op.value)) throw ScimError.badRequest(`${where}.value must be an object of Role attributes when there is no path`);
      for (const [key, value] of Object.entries(op.value)) {
        if (key.toLowerCase() === 'displayname') {
          name = displayName(value, `${where}.value.displayName`);
          continue;
        }
        if (key.toLowerCase() === 'externalid') {
          external = externalId(value, `${where}.value.externalId`) ?? null;
          continue;
        }
        const attribute = listAttribute(key);
        if (!attribute) {
          if (key.toLowerCase() === 'schemas' || key.toLowerCase() === 'id' || key.toLowerCase() === 'meta') continue;
          throw new ScimError(400, `${where}.value: '${key}' is not an attribute of a Role`, 'invalidPath');
        }
        operations.push({ attribute, op: op.op, values: valuesOf(attribute, value, `${where}.value.${attribute}`) });
      }
      return;
    }
    const m = /^([A-Za-z]+)(?:\[(.*)\])?$/.exec(op.path.trim());
    const attr = m?.[1] ?? '';
    if (attr.toLowerCase() === 'displayname' && m?.[2] === undefined) {
      if (op.op === 'remove') throw new ScimError(400, `${where}: displayName is required and cannot be removed`, 'mutability');
      name = displayName(op.value, `${where}.value`);
      return;
    }
    if (attr.toLowerCase() === 'externalid' && m?.[2] === undefined) {
      external = op.op === 'remove' ? null : (externalId(op.value, `${where}.value`) ?? null);
      return;
    }
    const attribute = listAttribute(attr);
    if (!m || !attribute) throw new ScimError(400, `${where}: '${op.path}' is not an attribute of a Role (displayName, users, groups, permissions)`, 'invalidPath');
    if (m[2] !== undefined) {
      if (op.op !== 'remove') throw new ScimError(400, `${where}: a value filter selects entries to remove; add and replace take the attribute`, 'invalidPath');
      operations.push({ attribute, op: 'remove', values: filteredValues(m[2], where) });
      return;
    }
    if (op.op === 'remove') {
      // Microsoft Entra's form: remove with the values to remove; without a value, the whole attribute goes.
      operations.push({ attribute, op: 'remove', ...(op.value !== undefined && op.value !== null && { values: valuesOf(attribute, op.value, `${where}.value`) }) });
      return;
    }
    operations.push({ attribute, op: op.op, values: valuesOf(attribute, op.value, `${where}.value`) });
  });
  return { ...(name !== undefined && { name }), ...(external !== undefined && { externalId: external }), operations };
}

/** Renders a stored role as a SCIM Role resource; `users` and `groups` only when they were loaded. */
export function toScimRole(role: RoleRecord, baseUrl: string): Record<string, unknown> {
  const scim = `${baseUrl}/scim2`;
  return {
    schemas: [SCHEMA_ROLE],
    id: role.id,
    ...(role.externalId !== undefined && { externalId: role.externalId }),
    displayName: role.name,
    ...(role.users && { users: role.users.map((u) => ({ value: u.value, display: u.display, $ref: `${scim}/Users/${u.value}` })) }),
    ...(role.groups && { groups: role.groups.map((g) => ({ value: g.value, display: g.display, $ref: `${scim}/Groups/${g.value}` })) }),
    permissions: role.permissions.map((p) => ({ value: p, display: p })),
    meta: {
      resourceType: 'Role',
      created: role.created,
      lastModified: role.lastModified,
      location: `${scim}/Roles/${role.id}`,
      version: etagOf(role.version),
    },
  };
}
