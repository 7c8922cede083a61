/**
 * SCIM 1.1 PATCH (SCIM Protocol 1.1 §3.3.2) as the equivalent RFC 7644 PatchOp, so a 1.1 PATCH runs through
 * ScimService.patchUser / patchGroup (and so through the InboundProvision workflow) like any 2.0 PATCH.
 *
 * A 1.1 PATCH body is a partial resource:
 * - `meta.attributes` lists attributes to remove; they are removed first, so a body can replace every value
 *   of a multi-valued attribute (`"meta": {"attributes": ["members"]}` plus the new `members`);
 *   -> `remove <path>`, one per name.
 * - a singular attribute replaces the current value; a complex one (`name`) replaces the sub-attributes it
 *   names and leaves the others -> `replace <attr>` (RFC 7644 §3.5.2.3 merges complex values alike).
 *   An explicit null is taken as a removal -> `remove <attr>`.
 * - a multi-valued attribute's values are merged into the current ones: a value equal to a current one (same
 *   `value`) supersedes it, others are added -> `remove <attr>[value eq "v"]` (matching nothing is not an
 *   error, RFC 7644 §3.5.2.2) then `add <attr>`; values without a `value` sub-attribute (addresses) and group
 *   members are simply added (an equal value is not added twice, RFC 7644 §3.5.2.1).
 * - a value carrying `"operation": "delete"` is removed -> `remove <attr>[value eq "v"]`, or, without a
 *   `value`, `remove <attr>[sub1 eq "a" and sub2 eq "b"]` over the sub-attributes it gives.
 * - the enterprise extension's attributes go to their 2.0 paths; readOnly attributes (id, meta, schemas, a
 *   user's groups) are ignored, as a 1.1 service provider ignores them.
 */
import { ScimError } from '../../scim/errors.js';
import { SCHEMA_ENTERPRISE_USER, SCHEMA_PATCH_OP } from '../../scim/schemas.js';
import { attributePathTo20, enterpriseFrom11, isObject, keyOf, SCIM11_ENTERPRISE } from '../../scim/scim11.js';

type Json = Record<string, unknown>;

export interface PatchOperation {
  op: 'add' | 'remove' | 'replace';
  path: string;
  value?: unknown;
}

const IGNORED = new Set(['id', 'schemas', 'meta']);

function isDelete(entry: unknown): boolean {
  if (!isObject(entry)) return false;
  const k = keyOf(entry, 'operation');
  if (k === undefined) return false;
  const op = entry[k];
  if (typeof op !== 'string' || op.toLowerCase() !== 'delete') {
    throw ScimError.badRequest(`'operation' of a multi-valued value can only be "delete", not ${JSON.stringify(op)}`);
  }
  return true;
}

function withoutOperation(entry: Json): Json {
  const k = keyOf(entry, 'operation');
  if (k === undefined) return entry;
  const { [k]: _op, ...rest } = entry;
  return rest;
}

const literal = (v: unknown) => JSON.stringify(v);

/** The value filter selecting `entry` among the values of a multi-valued attribute. */
function valueFilter(attr: string, entry: unknown): string {
  if (!isObject(entry)) return `${attr}[value eq ${literal(entry)}]`;
  const e = withoutOperation(entry);
  const valueKey = keyOf(e, 'value');
  if (valueKey !== undefined && e[valueKey] !== null && e[valueKey] !== undefined) return `${attr}[value eq ${literal(e[valueKey])}]`;
  const terms = Object.entries(e)
    .filter(([, v]) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
    .map(([k, v]) => `${k} eq ${literal(v)}`);
  if (terms.length === 0) throw ScimError.badRequest(`A value of '${attr}' to delete names no sub-attribute to find it by`);
  return `${attr}[${terms.join(' and ')}]`;
}

function multiValuedOps(attr: string, values: unknown[], type: 'User' | 'Group'): PatchOperation[] {
  const ops: PatchOperation[] = [];
  for (const entry of values) {
    if (isDelete(entry)) {
      ops.push({ op: 'remove', path: valueFilter(attr, entry) });
      continue;
    }
    const value = isObject(entry) ? withoutOperation(entry) : entry;
    const members = type === 'Group' && attr.toLowerCase() === 'members';
    const hasValue = isObject(value) && keyOf(value, 'value') !== undefined;
    // A value equal to a current one supersedes it (its type or primary may have changed).
    if (hasValue && !members) ops.push({ op: 'remove', path: valueFilter(attr, value) });
    ops.push({ op: 'add', path: attr, value: [value] });
  }
  return ops;
}

function attributeOps(path: string, value: unknown, type: 'User' | 'Group'): PatchOperation[] {
  if (value === null) return [{ op: 'remove', path }];
  if (Array.isArray(value)) return multiValuedOps(path, value, type);
  return [{ op: 'replace', path, value }];
}

/**
 * Builds the RFC 7644 PatchOp equivalent to a SCIM 1.1 PATCH body. Returns an empty `Operations` list when
 * the body changes nothing. Throws ScimError 400 for a body that is not a partial resource.
 *
 * @example
 * patchTo20({ schemas: ['urn:scim:schemas:core:1.0'], members: [{ value: 'u1', operation: 'delete' }] }, 'Group')
 * // { schemas: [PatchOp], Operations: [{ op: 'remove', path: 'members[value eq "u1"]' }] }
 */
export function patchTo20(body: unknown, type: 'User' | 'Group'): { schemas: string[]; Operations: PatchOperation[] } {
  if (!isObject(body)) throw ScimError.badRequest('The PATCH body must be a JSON object (a partial resource)', 'invalidSyntax');
  const ops: PatchOperation[] = [];

  // meta.attributes: the attributes to remove, before anything is added.
  const metaKey = keyOf(body, 'meta');
  const meta = metaKey === undefined ? undefined : body[metaKey];
  if (meta !== undefined && meta !== null) {
    if (!isObject(meta)) throw ScimError.badRequest("'meta' must be an object", 'invalidSyntax');
    const attrsKey = keyOf(meta, 'attributes');
    const attrs = attrsKey === undefined ? undefined : meta[attrsKey];
    if (attrs !== undefined) {
      if (!Array.isArray(attrs) || !attrs.every((a) => typeof a === 'string' && a.trim() !== '')) {
        throw ScimError.badRequest("'meta.attributes' must be an array of attribute names", 'invalidSyntax');
      }
      for (const a of attrs as string[]) ops.push({ op: 'remove', path: attributePathTo20(a, type) });
    }
  }

  for (const [key, value] of Object.entries(body)) {
    const lower = key.toLowerCase();
    if (IGNORED.has(lower) || (type === 'User' && lower === 'groups')) continue;
    if (type === 'User' && lower === SCIM11_ENTERPRISE) {
      if (value === null) {
        ops.push({ op: 'remove', path: SCHEMA_ENTERPRISE_USER });
        continue;
      }
      if (!isObject(value)) throw ScimError.badRequest(`'${SCIM11_ENTERPRISE}' must be an object`, 'invalidSyntax');
      for (const [attr, v] of Object.entries(enterpriseFrom11(value))) {
        ops.push(...attributeOps(`${SCHEMA_ENTERPRISE_USER}:${attr}`, v, type));
      }
      continue;
    }
    ops.push(...attributeOps(key, value, type));
  }
  return { schemas: [SCHEMA_PATCH_OP], Operations: ops };
}
