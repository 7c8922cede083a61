/**
 * SCIM 1.1 PATCH bodies (SCIM Protocol 1.1 §3.3.2, "Modifying with PATCH") that give a target the same state as a
 * PUT of the same resource: a delivery sends state, not deltas.
 *
 * A 1.1 PATCH body is a partial resource. Attributes it carries are set; attributes named in `meta.attributes` are
 * removed, and those removals are processed first; multi-valued attributes are merged into the current values. So
 * the full-state PATCH of a PUT body (what the connector would PUT, in SCIM 1.1 form, ./index.ts) is:
 *
 * - every attribute the PUT body has, sent as is (the enterprise manager as its `managerId` only: its
 *   `displayName` is readOnly);
 * - every managed attribute it lacks listed in `meta.attributes` (a `name` sub-attribute as `name.middleName`, an
 *   enterprise attribute by its full name, `urn:scim:schemas:extension:enterprise:1.0:department`);
 * - every multi-valued attribute it has listed in `meta.attributes` too and sent again, so its values are
 *   replaced, not merged;
 * - `password` only when present, never removed. readOnly attributes (`groups`, `meta`, `id`) are never sent.
 *
 * Operator-defined extensions are sent as they are; an attribute of one the user lost cannot be named here (the
 * connector does not know those schemas), so it is only cleared by a PUT.
 */
import { ENTERPRISE_ATTRIBUTES, isObject, SCIM11_CORE, SCIM11_ENTERPRISE } from '../../scim/scim11.js';

type Json = Record<string, unknown>;

/** A SCIM 1.1 PATCH body: a partial resource, with the attributes to remove in `meta.attributes`. */
export interface Patch11Body extends Json {
  schemas: string[];
  meta?: { attributes: string[] };
}

/** Writable singular core User attributes (SCIM Core Schema 1.1 §6), `name` apart. */
export const MANAGED_SINGULAR_ATTRIBUTES = [
  'externalId',
  'userName',
  'displayName',
  'nickName',
  'profileUrl',
  'title',
  'userType',
  'preferredLanguage',
  'locale',
  'timezone',
  'active',
] as const;

/** Writable multi-valued core User attributes (SCIM Core Schema 1.1 §6.2); `groups` is readOnly. */
export const MANAGED_MULTI_VALUED_ATTRIBUTES = ['emails', 'phoneNumbers', 'ims', 'photos', 'addresses', 'entitlements', 'roles', 'x509Certificates'] as const;

/** Sub-attributes of `name` (SCIM Core Schema 1.1 §6.1). */
const NAME_SUB_ATTRIBUTES = ['formatted', 'familyName', 'givenName', 'middleName', 'honorificPrefix', 'honorificSuffix'] as const;

const READ_ONLY = new Set(['id', 'meta', 'groups']);

const absent = (v: unknown) => v === undefined || v === null;

/**
 * The full-state PATCH of the SCIM 1.1 User body `put`. `name` is sent with the sub-attributes the user has, and
 * those it lacks are removed one by one (a complex value in a 1.1 PATCH replaces only the sub-attributes it names).
 *
 * @example
 * userPatchBody({ schemas: [SCIM11_CORE], userName: 'bjensen', active: true, emails: [{ value: 'b@x' }] })
 * // { schemas: [SCIM11_CORE], userName: 'bjensen', active: true, emails: [{ value: 'b@x' }],
 * //   meta: { attributes: ['externalId', 'displayName', ..., 'name', 'emails', 'phoneNumbers', ..., 'urn:...:enterprise:1.0:department', ...] } }
 */
export function userPatchBody(put: Json): Patch11Body {
  const body: Json = {};
  const remove: string[] = [];
  for (const [k, v] of Object.entries(put)) {
    if (READ_ONLY.has(k) || k === SCIM11_ENTERPRISE || absent(v)) continue;
    body[k] = v;
  }
  for (const attr of MANAGED_SINGULAR_ATTRIBUTES) if (absent(put[attr])) remove.push(attr);
  const name = put.name;
  if (isObject(name)) {
    for (const sub of NAME_SUB_ATTRIBUTES) if (absent(name[sub])) remove.push(`name.${sub}`);
  } else {
    remove.push('name');
  }
  // Multi-valued attributes are replaced: listed (removed first) whether or not they are sent again.
  for (const attr of MANAGED_MULTI_VALUED_ATTRIBUTES) if (!Array.isArray(put[attr])) remove.push(attr);
  for (const [k, v] of Object.entries(body)) if (k !== 'schemas' && Array.isArray(v)) remove.push(k);

  const enterprise = isObject(put[SCIM11_ENTERPRISE]) ? put[SCIM11_ENTERPRISE] : {};
  const sentEnterprise: Json = {};
  for (const attr of ENTERPRISE_ATTRIBUTES) {
    const raw = enterprise[attr];
    const value = attr === 'manager' && isObject(raw) ? (absent(raw.managerId) ? undefined : { managerId: raw.managerId }) : raw;
    if (absent(value)) remove.push(`${SCIM11_ENTERPRISE}:${attr}`);
    else sentEnterprise[attr] = value;
  }
  if (Object.keys(sentEnterprise).length > 0) body[SCIM11_ENTERPRISE] = sentEnterprise;

  const { schemas: _schemas, ...attributes } = body;
  return { schemas: Array.isArray(put.schemas) ? (put.schemas as string[]) : [SCIM11_CORE], ...attributes, meta: { attributes: remove } };
}

/**
 * A group's state as a 1.1 PATCH: `displayName` set, `externalId` set or removed, and `members` listed in
 * `meta.attributes` and sent in full, so the membership ends as a PUT would leave it.
 */
export function groupPatchBody(put: Json): Patch11Body {
  return {
    schemas: Array.isArray(put.schemas) ? (put.schemas as string[]) : [SCIM11_CORE],
    displayName: put.displayName,
    ...(!absent(put.externalId) && { externalId: put.externalId }),
    members: Array.isArray(put.members) ? put.members : [],
    meta: { attributes: [...(absent(put.externalId) ? ['externalId'] : []), 'members'] },
  };
}

/** Deprovisioning by deactivation: `active` set to false, nothing else touched. */
export function deactivatePatchBody(): Patch11Body {
  return { schemas: [SCIM11_CORE], active: false };
}
