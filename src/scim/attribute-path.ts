/**
 * Attribute paths (RFC 7644 §3.10: `attrPath = [URI ":"] ATTRNAME *1subAttr`): how one is written, and the one
 * place where a path is resolved against a resource type's schemas. Filters (src/scim/filter.ts and the SQL
 * translation), PATCH paths (src/scim/patch.ts), `attributes` / `excludedAttributes` (src/scim/projection.ts) and
 * `sortBy` (src/userstore/filter-sql.ts) all resolve through resolveAttrPath, so they accept the same names.
 *
 * Names ignore case (RFC 7643 §2.1). Beyond RFC 7644, two forms real clients write are accepted here, and only
 * here:
 * - the legacy dotted URN form `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.manager` (a `.` instead
 *   of the `:` before the attribute; old WSO2 releases and some clients write it), also with a sub-attribute
 *   (`...:User.manager.value`);
 * - an extension attribute without its URN (`manager`, `employeeNumber`), when exactly one schema of the resource
 *   type defines it. Core attributes win over extension attributes of the same name; a name two extensions define
 *   is refused, naming both.
 */
import { ScimError, type ScimType } from './errors.js';
import type { AttrPath } from './filter-ast.js';
import { COMMON_ATTRIBUTES, findAttribute, type AttributeDef, type ResolvedPath, type ResourceTypeDef, type SchemaDef } from './schema-defs.js';

export type { AttrPath, ResolvedPath };

/** Characters of an attribute path word: ATTRNAME characters, `$` (for `$ref`), and the URN's `:` and `.`. */
export const ATTR_WORD_CHAR = /[A-Za-z0-9_:.$-]/;
export const ATTR_WORD_START = /[A-Za-z$]/;
const ATTR_NAME = /^\$?[A-Za-z][A-Za-z0-9_-]*$/;
const URN = /^urn:[A-Za-z0-9][A-Za-z0-9-]*(?::[A-Za-z0-9._$-]+)+$/i;

/**
 * Splits one path word into its parts. The URN ends at the last `:`; what follows is `attribute[.sub]`, or, in
 * the legacy dotted form, `Resource.attribute.sub` (three parts), whose first part belongs to the URN. Two parts
 * after a URN (`urn:...:2.0:User.manager`) stay ambiguous until resolution, which knows the schemas.
 */
export function splitAttrPath(word: string, fail: (message: string) => never): AttrPath {
  const colon = word.lastIndexOf(':');
  let urn = colon >= 0 ? word.slice(0, colon) : undefined;
  if (urn !== undefined && !URN.test(urn)) fail(`invalid schema URN '${urn}' in the attribute path '${word}'`);
  let parts = word.slice(colon + 1).split('.');
  if (urn !== undefined && parts.length === 3) {
    urn = `${urn}:${parts[0]}`;
    parts = parts.slice(1);
  }
  if (parts.length > 2 || !parts.every((p) => ATTR_NAME.test(p))) {
    fail(`invalid attribute path '${word}' (expected [schema URN:]attribute[.subAttribute])`);
  }
  return { ...(urn !== undefined && { urn }), attribute: parts[0]!, ...(parts[1] !== undefined && { subAttribute: parts[1] }) };
}

/**
 * Parses one attribute path (`name.givenName`, `urn:...:User:manager.value`), e.g. a sortBy or an `attributes`
 * entry. Throws ScimError 400 with `scimType` (default invalidPath).
 */
export function parseAttrPath(text: string, scimType: ScimType = 'invalidPath'): AttrPath {
  const word = text.trim();
  const fail = (message: string): never => {
    throw new ScimError(400, `Invalid attribute path: ${message}`, scimType);
  };
  if (word === '') fail('the attribute path is empty');
  if (!ATTR_WORD_START.test(word[0]!) || ![...word].every((c) => ATTR_WORD_CHAR.test(c))) {
    fail(`'${word}' is not [schema URN:]attribute[.subAttribute]`);
  }
  return splitAttrPath(word, fail);
}

/** The path as text, in the client's spelling: `urn:...:User:manager.value`. */
export function formatAttrPath(path: AttrPath): string {
  return `${path.urn !== undefined ? `${path.urn}:` : ''}${path.attribute}${path.subAttribute !== undefined ? `.${path.subAttribute}` : ''}`;
}

/** The schemas of a resource type, core first. */
function schemasOf(rt: ResourceTypeDef<string>): SchemaDef[] {
  return [rt.schema, ...rt.extensions.map((e) => e.schema)];
}

/** The attributes of one schema of `rt`; the core schema also holds the common id, externalId and meta. */
export function attributesOf(rt: ResourceTypeDef<string>, schema: SchemaDef): AttributeDef[] {
  return schema === rt.schema ? [...COMMON_ATTRIBUTES, ...schema.attributes] : schema.attributes;
}

/** A schema of `rt` by its URN, ignoring case. */
export function schemaOf(rt: ResourceTypeDef<string>, urn: string): SchemaDef | undefined {
  const lower = urn.toLowerCase();
  return schemasOf(rt).find((s) => s.id.toLowerCase() === lower);
}

/** Why a path did not resolve: the kind (so a caller may ignore unknown names) and a detail for the client. */
export type PathProblem = { kind: 'unknown' | 'ambiguous'; detail: string };

/**
 * Resolves a path against a resource type, or says why it does not resolve. Never throws.
 *
 * @example lookupAttrPath(userResourceType(), { attribute: 'manager' }) // { schema: enterprise, attribute: manager }
 */
export function lookupAttrPath(rt: ResourceTypeDef<string>, path: AttrPath): ResolvedPath | PathProblem {
  const text = formatAttrPath(path);
  const urn = path.urn;
  let { attribute, subAttribute } = path;
  let candidates: SchemaDef[];
  if (urn !== undefined) {
    let schema = schemaOf(rt, urn);
    if (!schema && subAttribute !== undefined) {
      // The legacy dotted form: `urn:...:2.0:User.manager` is `urn:...:2.0:User:manager`.
      schema = schemaOf(rt, `${urn}:${attribute}`);
      if (schema) [attribute, subAttribute] = [subAttribute, undefined];
    }
    if (!schema) return { kind: 'unknown', detail: `Unknown schema '${urn}' in the attribute path '${text}' (resource type ${rt.name})` };
    candidates = [schema];
  } else {
    candidates = schemasOf(rt);
  }
  const found: ResolvedPath[] = [];
  for (const schema of candidates) {
    const def = findAttribute(attributesOf(rt, schema), attribute);
    if (!def) continue;
    found.push({ schema, attribute: def });
    // Core attributes win over extension attributes of the same name.
    if (schema === rt.schema) break;
  }
  if (found.length > 1 && found[0]!.schema !== rt.schema) {
    const urns = found.map((f) => f.schema.id).join(' and ');
    return { kind: 'ambiguous', detail: `Attribute '${text}' is ambiguous: ${urns} both define it; qualify it with its schema URN` };
  }
  const resolved = found[0];
  if (!resolved) return { kind: 'unknown', detail: `Unknown attribute '${text}' (resource type ${rt.name})` };
  if (subAttribute === undefined) return resolved;
  const sub = resolved.attribute.subAttributes && findAttribute(resolved.attribute.subAttributes, subAttribute);
  if (!sub) return { kind: 'unknown', detail: `Unknown attribute '${text}': '${resolved.attribute.name}' has no sub-attribute '${subAttribute}'` };
  return { ...resolved, subAttribute: sub };
}

export function isPathProblem(r: ResolvedPath | PathProblem): r is PathProblem {
  return 'kind' in r;
}

/**
 * Resolves a path against a resource type (RFC 7644 §3.10, and the forms in this module's header). Throws
 * ScimError 400 with `scimType` for an unknown or ambiguous path.
 */
export function resolveAttrPath(rt: ResourceTypeDef<string>, path: AttrPath, scimType: ScimType): ResolvedPath {
  const r = lookupAttrPath(rt, path);
  if (isPathProblem(r)) throw new ScimError(400, r.detail, scimType);
  return r;
}
