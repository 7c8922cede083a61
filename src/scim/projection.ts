/**
 * Partial representations (RFC 7644 §3.4.2.5, §3.9): which attributes of a resource a response carries,
 * from the `attributes` / `excludedAttributes` parameters and each attribute's `returned` characteristic
 * (RFC 7643 §7), read from the schema definitions rather than hard-coded:
 *
 *   always   returned whatever the parameters say (`id`); excludedAttributes has no effect on it
 *   never    never returned (`password`)
 *   default  returned unless excluded, or unless an `attributes` list is given that does not name it
 *   request  returned only when named in `attributes` (RFC 7643 §7 also returns it from a POST, PUT or PATCH
 *            that set it; handlers wanting that pass the names the client wrote in `attributes`)
 *
 * Names follow RFC 7644 §3.10 and ignore case (RFC 7643 §2.1): `name`, `name.givenName`, `emails.value`,
 * `meta.lastModified`, `urn:...:enterprise:2.0:User:employeeNumber`, or a whole extension's URN. `schemas` is
 * always kept.
 *
 * Names resolve as everywhere else (src/scim/attribute-path.ts), so the legacy forms clients send work here too:
 * `urn:...:enterprise:2.0:User.manager`, and `manager` for an extension attribute no other schema defines. A bare
 * name two extensions define is refused (400 invalidValue naming both): which one was meant cannot be guessed.
 *
 * Unknown attribute names are ignored rather than refused. A client may well ask for attributes of a schema
 * it knows and this server does not serve (Entra ID and Okta send fixed lists); the resource has no value for
 * them, so leaving them out is the accurate answer, and it is what most service providers do. A name that is
 * not even attribute notation (`name..x`, `a.b.c`, `a b`) is a client bug and gets 400 invalidValue.
 */
import { isPathProblem, lookupAttrPath, parseAttrPath, type AttrPath } from './attribute-path.js';
import { ScimError } from './errors.js';
import { COMMON_ATTRIBUTES, findAttribute, type AttributeDef, type ResolvedPath, type ResourceTypeDef } from './schema-defs.js';

export interface ProjectionRequest {
  attributes?: string[] | undefined;
  excludedAttributes?: string[] | undefined;
}

type Json = Record<string, unknown>;

/**
 * attrPath = [URI ":"] ATTRNAME *1subAttr (RFC 7644 §3.10), or a bare schema URN. `$` allows `$ref`. After a URN,
 * up to two dots: the legacy form `urn:...:User.manager.value` (src/scim/attribute-path.ts).
 */
const ATTR_PATH = /^(?:urn:[^\s,]+:[A-Za-z$][\w$-]*(?:\.[A-Za-z$][\w$-]*){0,2}|[A-Za-z$][\w$-]*(?:\.[A-Za-z$][\w$-]*)?)$/;
const SCHEMA_URN = /^urn:[^\s,]+$/;

/**
 * Parses the comma-separated `attributes` / `excludedAttributes` query parameter (RFC 7644 §3.4.2.5).
 * A repeated parameter (`?attributes=a&attributes=b`) counts as one list. Returns undefined when absent or empty.
 */
export function parseAttributeList(value: unknown, param = 'attributes'): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const parts = Array.isArray(value) ? value : [value];
  if (!parts.every((p) => typeof p === 'string')) throw ScimError.badRequest(`${param} must be a comma-separated list of attribute names`);
  const names = parts.flatMap((p) => p.split(',')).map((n) => n.trim()).filter((n) => n !== '');
  for (const n of names) {
    if (!ATTR_PATH.test(n) && !SCHEMA_URN.test(n)) throw ScimError.badRequest(`${param}: '${n}' is not an attribute name (RFC 7644 §3.10)`);
  }
  return names.length > 0 ? names : undefined;
}

/** Both parameters of a query string, which RFC 7644 §3.4.2.5 makes mutually exclusive. */
export function projectionOf(query: { attributes?: unknown; excludedAttributes?: unknown }): ProjectionRequest {
  const req = {
    attributes: parseAttributeList(query.attributes, 'attributes'),
    excludedAttributes: parseAttributeList(query.excludedAttributes, 'excludedAttributes'),
  };
  assertExclusive(req);
  return req;
}

function assertExclusive(req: ProjectionRequest): void {
  if (req.attributes?.length && req.excludedAttributes?.length) {
    throw ScimError.badRequest('attributes and excludedAttributes are mutually exclusive (RFC 7644 §3.4.2.5)', 'invalidSyntax');
  }
}

/** Which part of an attribute is named: all of it, or some of its sub-attributes (lower-case names). */
type Part = 'all' | Set<string>;

/** What a list names in one schema: the whole schema, or attributes by lower-case name. */
interface SchemaSelection {
  whole: boolean;
  attributes: Map<string, Part>;
}

type Selection = Map<string, SchemaSelection>;

function selectionOf(rt: ResourceTypeDef<string>, names: readonly string[]): Selection {
  const selection: Selection = new Map();
  const entry = (schemaId: string): SchemaSelection => {
    const key = schemaId.toLowerCase();
    let s = selection.get(key);
    if (!s) selection.set(key, (s = { whole: false, attributes: new Map() }));
    return s;
  };
  const schemas = [rt.schema, ...rt.extensions.map((e) => e.schema)];
  for (const name of names) {
    const whole = schemas.find((s) => s.id.toLowerCase() === name.toLowerCase());
    if (whole) {
      entry(whole.id).whole = true;
      continue;
    }
    const resolved = resolveListed(rt, name);
    if (!resolved) continue; // unknown: ignored, see the header comment
    const s = entry(resolved.schema.id);
    const key = resolved.attribute.name.toLowerCase();
    const current = s.attributes.get(key);
    if (!resolved.subAttribute) s.attributes.set(key, 'all');
    else if (current !== 'all') s.attributes.set(key, new Set([...(current ?? []), resolved.subAttribute.name.toLowerCase()]));
  }
  return selection;
}

/** A name of an `attributes` list resolved against `rt`; undefined when unknown, 400 when ambiguous. */
function resolveListed(rt: ResourceTypeDef<string>, name: string): ResolvedPath | undefined {
  let path: AttrPath;
  try {
    path = parseAttrPath(name, 'invalidValue');
  } catch (err) {
    // Not attribute notation this server's schemas could hold (an unusual URN): there is nothing to show.
    if (err instanceof ScimError) return undefined;
    throw err;
  }
  const resolved = lookupAttrPath(rt, path);
  if (!isPathProblem(resolved)) return resolved;
  if (resolved.kind === 'ambiguous') throw ScimError.badRequest(resolved.detail, 'invalidValue');
  return undefined;
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface Mode {
  /** An `attributes` list was given: only what it names (and `always` attributes) is returned. */
  listed: boolean;
}

/**
 * The sub-attributes of one complex value to keep. `include` is what is asked for; `explicit` says the
 * client named the attribute itself (then `request` sub-attributes come too); `excluded` are the
 * sub-attributes excludedAttributes names.
 */
function projectComplex(def: AttributeDef, value: Json, include: Part, explicit: boolean, excluded: Set<string> | undefined): Json | undefined {
  const out: Json = {};
  for (const [key, v] of Object.entries(value)) {
    const sub = findAttribute(def.subAttributes ?? [], key);
    if (!sub) {
      if (include === 'all') out[key] = v;
      continue;
    }
    const lower = sub.name.toLowerCase();
    let keep: boolean;
    if (sub.returned === 'never') keep = false;
    else if (sub.returned === 'always') keep = true;
    else if (include !== 'all') keep = include.has(lower);
    else if (sub.returned === 'request') keep = explicit;
    else keep = !excluded?.has(lower);
    if (keep) out[key] = v;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function projectValue(def: AttributeDef, value: unknown, include: Part, explicit: boolean, excluded: Set<string> | undefined): unknown {
  if (def.type !== 'complex') return value;
  if (Array.isArray(value)) {
    const elements = (value as unknown[]).map((e) => (isObject(e) ? projectComplex(def, e, include, explicit, excluded) : e)).filter((e) => e !== undefined);
    return elements.length > 0 ? elements : undefined;
  }
  return isObject(value) ? projectComplex(def, value, include, explicit, excluded) : value;
}

/** The attributes of one schema present in `obj` (the resource's top level, or an extension object). */
function projectAttributes(
  defs: readonly AttributeDef[],
  obj: Json,
  selected: SchemaSelection | undefined,
  excluded: SchemaSelection | undefined,
  mode: Mode,
  skip: (key: string) => boolean = () => false,
): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(obj)) {
    if (skip(key)) continue;
    const def = findAttribute(defs, key);
    if (!def) {
      // Not declared by the schema: kept in a full representation, not part of a listed one.
      if (!mode.listed) out[key] = value;
      continue;
    }
    const lower = def.name.toLowerCase();
    let v: unknown;
    if (def.returned === 'never') continue;
    if (def.returned === 'always') {
      v = projectValue(def, value, 'all', false, undefined);
    } else if (mode.listed) {
      const part = selected?.whole ? 'all' : selected?.attributes.get(lower);
      if (part === undefined) continue;
      v = projectValue(def, value, part, true, undefined);
    } else {
      if (def.returned === 'request' || excluded?.whole) continue;
      const part = excluded?.attributes.get(lower);
      if (part === 'all') continue;
      v = projectValue(def, value, 'all', false, part);
    }
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/**
 * The representation of `resource` (a full SCIM resource as rendered by the server) that a response
 * carries, given the request's `attributes` or `excludedAttributes` (RFC 7644 §3.4.2.5).
 *
 * @example
 *   project(user, await registry.user(), { attributes: ['userName', 'name.givenName'] })
 *   // => { schemas, id, userName, name: { givenName } }
 */
export function project(resource: Record<string, unknown>, rt: ResourceTypeDef<string>, req: ProjectionRequest = {}): Record<string, unknown> {
  assertExclusive(req);
  const listed = (req.attributes?.length ?? 0) > 0;
  const mode: Mode = { listed };
  const selected = listed ? selectionOf(rt, req.attributes!) : undefined;
  const excluded = !listed && req.excludedAttributes?.length ? selectionOf(rt, req.excludedAttributes) : undefined;
  const sel = (schemaId: string) => selected?.get(schemaId.toLowerCase());
  const exc = (schemaId: string) => excluded?.get(schemaId.toLowerCase());

  const extensionOf = (key: string) => rt.extensions.find((e) => e.schema.id.toLowerCase() === key.toLowerCase())?.schema;
  const isSchemas = (key: string) => key.toLowerCase() === 'schemas';
  // An extension the resource type does not declare (e.g. one deleted since the value was stored) is not
  // part of the resource; the core attributes are projected first, then each declared extension.
  const isUrn = (key: string) => key.toLowerCase().startsWith('urn:');

  const core = projectAttributes([...COMMON_ATTRIBUTES, ...rt.schema.attributes], resource, sel(rt.schema.id), exc(rt.schema.id), mode, (key) => isSchemas(key) || isUrn(key));
  const out: Json = {};
  for (const [key, value] of Object.entries(resource)) {
    if (isSchemas(key)) {
      out[key] = value;
      continue;
    }
    if (!isUrn(key)) {
      if (key in core) out[key] = core[key];
      continue;
    }
    const schema = extensionOf(key);
    if (!schema || !isObject(value)) continue;
    const projected = projectAttributes(schema.attributes, value, sel(schema.id), exc(schema.id), mode);
    if (Object.keys(projected).length > 0) out[key] = projected;
  }
  return out;
}
