/**
 * What a filter's attribute paths and comparison values mean against the SCIM schemas as data (schema-defs.ts):
 * resolution of filter paths and of paths inside a value filter, the attribute a comparison applies to, and the
 * typed operand. Shared by the in-memory evaluator (filter-eval.ts) and the SQL translation
 * (src/userstore/filter-sql.ts), so both refuse the same filters with the same words.
 */
import { resolveAttrPath, formatAttrPath } from './attribute-path.js';
import { ScimError, type ScimType } from './errors.js';
import type { AttrPath, CompareOp, FilterValue } from './filter-ast.js';
import { findAttribute, type AttributeDef, type ResolvedPath, type ResourceTypeDef } from './schema-defs.js';

function invalidFilter(detail: string): ScimError {
  return new ScimError(400, detail, 'invalidFilter');
}

/**
 * Resolves a filter's (or sortBy's) attribute path against a resource type (src/scim/attribute-path.ts: RFC 7644
 * §3.10 plus the legacy forms clients send). Attributes that are never returned (password) cannot be filtered on.
 */
export function resolveFilterPath(rt: ResourceTypeDef, path: AttrPath, scimType: ScimType = 'invalidFilter'): ResolvedPath {
  const resolved = resolveAttrPath(rt, path, scimType);
  if (resolved.attribute.returned === 'never') {
    throw new ScimError(400, `Attribute '${formatAttrPath(path)}' cannot be used in a filter: it is never returned`, scimType);
  }
  return resolved;
}

/**
 * Resolves a path inside a value filter (`type` in `emails[type eq "work"]`) against the filtered attribute:
 * a sub-attribute of a complex attribute, or `value` for the elements of a simple multi-valued attribute.
 */
export function resolveElementPath(parent: AttributeDef, path: AttrPath, scimType: ScimType = 'invalidFilter'): AttributeDef {
  const text = formatAttrPath(path);
  const fail = (detail: string): never => {
    throw new ScimError(400, detail, scimType);
  };
  if (path.urn !== undefined || path.subAttribute !== undefined) {
    fail(`Unknown attribute '${text}' in the value filter of '${parent.name}': name one of its sub-attributes`);
  }
  if (parent.type !== 'complex') {
    if (path.attribute.toLowerCase() === 'value') return { ...parent, name: 'value', multiValued: false };
    fail(`Unknown attribute '${text}' in the value filter of '${parent.name}': its elements have only 'value'`);
  }
  const sub = parent.subAttributes && findAttribute(parent.subAttributes, path.attribute);
  if (!sub) return fail(`Unknown attribute '${text}': '${parent.name}' has no sub-attribute '${path.attribute}'`);
  return sub;
}

/**
 * The attribute a comparison applies to: the sub-attribute if given; for a multi-valued complex attribute
 * without one, its `value` sub-attribute (`emails co "x"` = `emails.value co "x"`). A complex attribute
 * without `value` cannot be compared.
 */
export function comparedAttribute(resolved: { attribute: AttributeDef; subAttribute?: AttributeDef | undefined }, text: string): AttributeDef {
  if (resolved.subAttribute) return resolved.subAttribute;
  const attr = resolved.attribute;
  if (attr.type !== 'complex') return attr;
  const value = attr.multiValued ? attr.subAttributes && findAttribute(attr.subAttributes, 'value') : undefined;
  if (value) return value;
  const example = attr.subAttributes?.[0]?.name;
  throw invalidFilter(
    `Attribute '${text}' is complex and cannot be compared${example ? `: name a sub-attribute, e.g. '${text}.${example}'` : ''}`,
  );
}

/** A comparison value checked against the attribute's type. */
export type Operand =
  | { type: 'string'; value: string }
  | { type: 'number'; value: number }
  | { type: 'boolean'; value: boolean }
  /** `value`: the instant as ISO 8601 with its zone (Z added when missing); `ms`: epoch milliseconds. */
  | { type: 'dateTime'; value: string; ms: number };

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/i;

/** Parses an xsd:dateTime (RFC 7643 §2.3.5) as an instant; undefined if it is not one. */
export function parseDateTime(text: string): { iso: string; ms: number } | undefined {
  const m = DATE_TIME.exec(text);
  if (!m) return undefined;
  const iso = m[8] ? text.toUpperCase() : `${text}Z`;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return undefined;
  // Date.parse rolls 2026-02-30 over to March; refuse it instead.
  const [, y, mo, d] = m;
  const check = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d)) return undefined;
  return { iso, ms };
}

/**
 * Checks that `op value` applies to the attribute `def` (RFC 7644 §3.4.2.2) and returns the typed operand;
 * null for `eq null` / `ne null` (absent / present). Throws 400 invalidFilter on a type mismatch.
 *
 * `bare` is the value as the client wrote it without quotes (lenient mode, see parseFilter): a bare number, true
 * or false compared with a string, reference or binary attribute is read as that text (`externalId eq 123` is
 * `externalId eq "123"`), since that is the only reading under which the comparison means something. A bare
 * `null` stays null, as in RFC 7644.
 */
export function compareOperand(def: AttributeDef, op: CompareOp, value: FilterValue, text: string, bare?: string): Operand | null {
  if (bare !== undefined && value !== null && typeof value !== 'string' && (def.type === 'string' || def.type === 'reference' || def.type === 'binary')) {
    value = bare;
  }
  const shown = value;
  const fail = (why: string): never => {
    throw invalidFilter(`Invalid filter '${text} ${op} ${JSON.stringify(shown)}': ${why}`);
  };
  if (value === null) {
    if (op === 'eq' || op === 'ne') return null;
    fail(`'${op}' cannot compare with null (use 'pr' or 'not (... pr)')`);
  }
  switch (def.type) {
    case 'complex':
      return fail(`'${text}' is complex and cannot be compared`);
    case 'boolean': {
      if (op !== 'eq' && op !== 'ne') fail(`'${op}' does not apply to the boolean attribute '${text}' (only eq, ne and pr do)`);
      if (typeof value === 'boolean') return { type: 'boolean', value };
      // Some clients (Microsoft Entra) send booleans as strings.
      if (typeof value === 'string' && /^(true|false)$/i.test(value)) return { type: 'boolean', value: value.toLowerCase() === 'true' };
      return fail(`'${text}' is a boolean: compare it with true or false`);
    }
    case 'integer':
    case 'decimal': {
      if (op === 'co' || op === 'sw' || op === 'ew') fail(`'${op}' does not apply to the number attribute '${text}'`);
      if (typeof value !== 'number') return fail(`'${text}' is a number: compare it with a number`);
      return { type: 'number', value };
    }
    case 'dateTime': {
      if (op === 'co' || op === 'sw' || op === 'ew') fail(`'${op}' does not apply to the dateTime attribute '${text}'`);
      if (typeof value !== 'string') return fail(`'${text}' is a dateTime: compare it with a string such as "2026-01-31T12:00:00Z"`);
      const instant = parseDateTime(value);
      if (!instant) return fail(`"${value}" is not a dateTime (xsd:dateTime, e.g. "2026-01-31T12:00:00Z")`);
      return { type: 'dateTime', value: instant.iso, ms: instant.ms };
    }
    case 'binary':
      if (op !== 'eq' && op !== 'ne') fail(`'${op}' does not apply to the binary attribute '${text}' (only eq, ne and pr do)`);
      if (typeof value !== 'string') return fail(`'${text}' is binary (base64): compare it with a string`);
      return { type: 'string', value };
    case 'string':
    case 'reference':
      if (typeof value !== 'string') return fail(`'${text}' is a string: compare it with a string in double quotes`);
      return { type: 'string', value };
  }
}
