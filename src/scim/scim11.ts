/**
 * SCIM 1.1 resources <-> SCIM 2.0 resources, as pure functions over JSON: the one translation shared by the
 * SCIM 1.1 service provider (src/http/scim11/) and the SCIM 1.1 outbound connector (src/connectors/scim11/).
 * Protocol knowledge, so it lives in src/scim/ and both import it (neither imports the other).
 *
 * SCIM 1.1 (the "SCIM Core Schema 1.1" and "SCIM Protocol 1.1" drafts, which WSO2 IS serves at /wso2/scim)
 * has the same User and Group attributes as RFC 7643, with these differences, each handled here:
 * - one core schema URN for every resource, `urn:scim:schemas:core:1.0`, and the enterprise extension
 *   `urn:scim:schemas:extension:enterprise:1.0`, whose `manager` is `{managerId, displayName}`;
 * - no `$ref` sub-attributes and no `meta.resourceType`;
 * - error bodies `{"Errors": [{"description": "...", "code": "409"}]}`;
 * - a filter grammar without `ne`, `ew`, `not` or value paths (`emails[...]`), see src/http/scim11/filter.ts;
 * - PATCH as a partial resource (see src/http/scim11/patch.ts and src/connectors/scim11/patch-body.ts).
 */
import { SCHEMA_ENTERPRISE_USER, SCHEMA_GROUP, SCHEMA_USER } from './schemas.js';

export const SCIM11_CORE = 'urn:scim:schemas:core:1.0';
export const SCIM11_ENTERPRISE = 'urn:scim:schemas:extension:enterprise:1.0';

type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The key of `obj` that matches `name` ignoring case (attribute names are case-insensitive in both versions). */
export function keyOf(obj: Json, name: string): string | undefined {
  if (name in obj) return name;
  const lower = name.toLowerCase();
  return Object.keys(obj).find((k) => k.toLowerCase() === lower);
}

/** The attributes of the SCIM 1.1 enterprise extension (all singular; `manager` complex). */
export const ENTERPRISE_ATTRIBUTES = ['employeeNumber', 'costCenter', 'organization', 'division', 'department', 'manager'] as const;

/** Attributes a client never writes (readOnly in both versions); ignored in request bodies. */
const READ_ONLY = new Set(['id', 'meta', 'schemas']);

export function managerFrom11(m: unknown): unknown {
  if (!isObject(m)) return m;
  const out: Json = {};
  for (const [k, v] of Object.entries(m)) {
    const lower = k.toLowerCase();
    if (lower === 'managerid') out.value = v;
    else if (lower === 'displayname') out.displayName = v;
    else if (lower !== '$ref') out[k] = v;
  }
  return out;
}

function manager20to11(m: unknown): unknown {
  if (!isObject(m)) return m;
  return {
    ...(m.value !== undefined && { managerId: m.value }),
    ...(m.displayName !== undefined && { displayName: m.displayName }),
  };
}

/** The 1.1 enterprise extension object in 2.0 form (`manager.managerId` -> `manager.value`). */
export function enterpriseFrom11(ext: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(ext)) out[k] = k.toLowerCase() === 'manager' ? managerFrom11(v) : v;
  return out;
}

function enterprise20to11(ext: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(ext)) out[k] = k === 'manager' ? manager20to11(v) : v;
  return out;
}

/** Drops SCIM 1.1 PATCH's per-value `operation` (meaningless in a POST or PUT) from multi-valued entries. */
function withoutOperation(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  return (value as unknown[]).map((e) => {
    if (!isObject(e)) return e;
    const k = keyOf(e, 'operation');
    if (k === undefined) return e;
    const { [k]: _op, ...rest } = e;
    return rest;
  });
}

/**
 * A SCIM 1.1 User or Group body (POST, PUT) as the SCIM 2.0 body ScimService accepts: the 2.0 schema URNs,
 * the enterprise extension under its 2.0 URN with `manager.managerId` as `manager.value`. Other keys pass
 * unchanged (their validation, with 2.0's error messages, is ScimService's). A body that is not an object
 * is passed on for ScimService to refuse.
 */
export function resourceFrom11(body: unknown, type: 'User' | 'Group'): unknown {
  if (!isObject(body)) return body;
  const out: Json = {};
  let enterprise = false;
  for (const [k, v] of Object.entries(body)) {
    const lower = k.toLowerCase();
    if (READ_ONLY.has(lower)) continue;
    if (type === 'User' && lower === SCIM11_ENTERPRISE) {
      if (isObject(v)) {
        out[SCHEMA_ENTERPRISE_USER] = enterpriseFrom11(v);
        enterprise = true;
      }
      continue;
    }
    out[k] = withoutOperation(v);
  }
  out.schemas = type === 'User' ? [SCHEMA_USER, ...(enterprise ? [SCHEMA_ENTERPRISE_USER] : [])] : [SCHEMA_GROUP];
  return out;
}

/** Strips `$ref` (not a SCIM 1.1 sub-attribute) from the entries of a multi-valued attribute. */
function withoutRefs(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  return (value as unknown[]).map((e) => {
    if (!isObject(e)) return e;
    const { $ref: _ref, ...rest } = e;
    return rest;
  });
}

/**
 * A SCIM 2.0 User or Group resource (as ScimService renders it, or as a connector builds it) in SCIM 1.1
 * form. `location` is the resource's SCIM 1.1 URL (meta.location), or undefined to leave meta.location out.
 */
export function resourceTo11(resource: Json, location: string | undefined): Json {
  const out: Json = {};
  const schemas = [SCIM11_CORE];
  for (const [k, v] of Object.entries(resource)) {
    if (k === 'schemas') continue;
    if (k === SCHEMA_ENTERPRISE_USER) {
      if (isObject(v)) {
        out[SCIM11_ENTERPRISE] = enterprise20to11(v);
        schemas.push(SCIM11_ENTERPRISE);
      }
    } else if (k === 'meta') {
      if (isObject(v)) {
        const { resourceType: _rt, location: _loc, ...meta } = v;
        out.meta = { ...meta, ...(location !== undefined && { location }) };
      }
    } else if (k === 'groups' || k === 'members') {
      out[k] = withoutRefs(v);
    } else {
      // Operator-defined extensions keep their (2.0) URNs: they have no SCIM 1.1 name.
      if (k.toLowerCase().startsWith('urn:')) schemas.push(k);
      out[k] = v;
    }
  }
  return { schemas, ...out };
}

/** A SCIM 1.1 error body (SCIM Protocol 1.1 §3.9): `{"Errors": [{"description": "...", "code": "409"}]}`. */
export function errorBody11(status: number, description: string): Json {
  return { Errors: [{ description, code: String(status) }] };
}

/** The message of an error body in either version (1.1 `Errors[].description`, 2.0 `detail`). */
export function errorMessageOf(body: unknown): string | undefined {
  if (!isObject(body)) return undefined;
  if (typeof body.detail === 'string') return body.detail;
  const errors = body[keyOf(body, 'Errors') ?? 'Errors'];
  if (Array.isArray(errors)) {
    const texts = errors.flatMap((e) => (isObject(e) && typeof e.description === 'string' ? [e.description] : []));
    if (texts.length > 0) return texts.join('; ');
  }
  return undefined;
}

const CORE_PREFIX = /^urn:scim:schemas:core:1\.0[:.]/i;
const ENTERPRISE_PREFIX = /^urn:scim:schemas:extension:enterprise:1\.0[:.]/i;

/**
 * An attribute path of SCIM 1.1 (`userName`, `name.familyName`, `urn:scim:schemas:core:1.0:userName`,
 * `urn:scim:schemas:extension:enterprise:1.0:manager.managerId`; clients write the URN separator as `:` or
 * `.`) as the SCIM 2.0 path. Bare enterprise attribute names (`department`) name the enterprise extension,
 * as they are not core attributes.
 */
export function attributePathTo20(path: string, type: 'User' | 'Group'): string {
  let p = path.trim();
  let enterprise = false;
  if (CORE_PREFIX.test(p)) p = p.replace(CORE_PREFIX, '');
  else if (ENTERPRISE_PREFIX.test(p)) {
    p = p.replace(ENTERPRISE_PREFIX, '');
    enterprise = true;
  }
  const [head = '', ...rest] = p.split('.');
  if (type === 'User' && !enterprise && ENTERPRISE_ATTRIBUTES.some((a) => a.toLowerCase() === head.toLowerCase())) enterprise = true;
  if (!enterprise) return p;
  const sub = rest.join('.');
  const mapped = head.toLowerCase() === 'manager' && sub.toLowerCase() === 'managerid' ? 'value' : sub;
  return `${SCHEMA_ENTERPRISE_USER}:${head}${mapped ? `.${mapped}` : ''}`;
}
