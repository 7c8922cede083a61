/**
 * PatchOp bodies (RFC 7644 §3.5.2) that give a target the same state as a PUT of the same resource: a delivery
 * sends state, not deltas, so every attribute the connector manages is either replaced with its value or removed.
 *
 * The managed attributes are those a PUT body of the connector can carry (src/scim/user-resource.ts toScimUser):
 * the writable core User attributes, the enterprise extension's, and the attributes of operator-defined extensions
 * the user has. readOnly attributes (`groups`, `meta`, `id`) are never sent: RFC 7644 §3.5.2 forbids modifying them.
 */
import { SCHEMA_ENTERPRISE_USER, SCHEMA_PATCH_OP } from '../../scim/schemas.js';

export interface PatchOperation {
  op: 'add' | 'remove' | 'replace';
  path?: string;
  value?: unknown;
}

export interface PatchOpBody {
  schemas: [typeof SCHEMA_PATCH_OP];
  Operations: PatchOperation[];
}

/** Writable core User attributes (RFC 7643 §4.1), in schema order. `password` is handled apart: never removed. */
export const MANAGED_USER_ATTRIBUTES = [
  'externalId',
  'userName',
  'name',
  'displayName',
  'nickName',
  'profileUrl',
  'title',
  'userType',
  'preferredLanguage',
  'locale',
  'timezone',
  'active',
  'emails',
  'phoneNumbers',
  'ims',
  'photos',
  'addresses',
  'entitlements',
  'roles',
  'x509Certificates',
] as const;

/** Sub-attributes of `name` (RFC 7643 §4.1.1). */
const NAME_SUB_ATTRIBUTES = ['formatted', 'familyName', 'givenName', 'middleName', 'honorificPrefix', 'honorificSuffix'] as const;

/** The enterprise User extension's attributes (RFC 7643 §4.3). */
export const MANAGED_ENTERPRISE_ATTRIBUTES = ['employeeNumber', 'costCenter', 'organization', 'division', 'department', 'manager'] as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function patchOp(operations: PatchOperation[]): PatchOpBody {
  return { schemas: [SCHEMA_PATCH_OP], Operations: operations };
}

/**
 * The PATCH equivalent of the PUT body `put` (what the connector would PUT for the user): `replace` for every
 * managed attribute it has, `remove` for every managed attribute it lacks.
 *
 * - `name` is replaced as a whole; RFC 7644 §3.5.2.3 keeps sub-attributes a complex `replace` leaves out, so the
 *   `name` sub-attributes the user lacks are removed one by one (`name.middleName`).
 * - Extension attributes go by their full path (`urn:...:enterprise:2.0:User:department`, RFC 7644 §3.10).
 *   Operator-defined extensions are replaced attribute by attribute; an attribute of one the user lost cannot be
 *   named here (the connector does not know those schemas), so it is only cleared by a PUT.
 */
export function userPatchBody(put: Record<string, unknown>): PatchOpBody {
  const replace: PatchOperation[] = [];
  const remove: PatchOperation[] = [];
  for (const attr of MANAGED_USER_ATTRIBUTES) {
    const value = put[attr];
    if (value === undefined || value === null) {
      remove.push({ op: 'remove', path: attr });
      continue;
    }
    replace.push({ op: 'replace', path: attr, value });
    if (attr === 'name' && isObject(value)) {
      for (const sub of NAME_SUB_ATTRIBUTES) if (value[sub] === undefined) remove.push({ op: 'remove', path: `name.${sub}` });
    }
  }
  if (typeof put.password === 'string') replace.push({ op: 'replace', path: 'password', value: put.password });
  const enterprise = isObject(put[SCHEMA_ENTERPRISE_USER]) ? put[SCHEMA_ENTERPRISE_USER] : {};
  for (const attr of MANAGED_ENTERPRISE_ATTRIBUTES) {
    const raw = enterprise[attr];
    const value = attr === 'manager' && isObject(raw) ? managerValue(raw) : raw;
    const path = `${SCHEMA_ENTERPRISE_USER}:${attr}`;
    if (value === undefined || value === null) remove.push({ op: 'remove', path });
    else replace.push({ op: 'replace', path, value });
  }
  for (const [urn, extension] of Object.entries(put)) {
    if (!urn.startsWith('urn:') || urn === SCHEMA_ENTERPRISE_USER || !isObject(extension)) continue;
    for (const [attr, value] of Object.entries(extension)) {
      if (value !== undefined && value !== null) replace.push({ op: 'replace', path: `${urn}:${attr}`, value });
    }
  }
  return patchOp([...replace, ...remove]);
}

/**
 * The manager as a PATCH value: only its `value`. `displayName` is readOnly (RFC 7643 §4.3), which a PATCH must not
 * touch, and `$ref` would point at this server, not at the target.
 */
function managerValue(manager: Record<string, unknown>): Record<string, unknown> | undefined {
  return manager.value !== undefined && manager.value !== null ? { value: manager.value } : undefined;
}

/**
 * A group's state as a PATCH: `displayName` and `externalId` replaced (or removed), and `members` replaced by the
 * full translated list, so the membership ends as a PUT would leave it.
 */
export function groupPatchBody(put: Record<string, unknown>): PatchOpBody {
  return patchOp([
    { op: 'replace', path: 'displayName', value: put.displayName },
    put.externalId !== undefined ? { op: 'replace', path: 'externalId', value: put.externalId } : { op: 'remove', path: 'externalId' },
    { op: 'replace', path: 'members', value: Array.isArray(put.members) ? put.members : [] },
  ]);
}

/** Deprovisioning by deactivation: `active` set to false, nothing else touched. */
export function deactivatePatchBody(): PatchOpBody {
  return patchOp([{ op: 'replace', path: 'active', value: false }]);
}
