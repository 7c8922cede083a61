/**
 * SCIM filters (RFC 7644 §3.4.2.2) evaluated in memory over SCIM JSON: PATCH value filters
 * (`emails[type eq "work"]`), group member filters the store evaluates, attribute-mapping sources, and anything
 * that already holds a rendered resource. The SQL translation (src/userstore/filter-sql.ts) gives the same answers.
 *
 * Semantics shared by the evaluator and the SQL translation:
 * - String comparisons ignore case unless the attribute is caseExact (RFC 7643 §2.2, §7); gt/ge/lt/le on strings
 *   are lexicographic by code point (after lower-casing when caseExact is false).
 * - dateTime values are compared as instants (RFC 7644 §3.4.2.2); a value without a time zone is read as UTC.
 * - A multi-valued attribute matches when any of its values matches (RFC 7644 §3.4.2.2); `emails co "x"` on a
 *   multi-valued complex attribute means `emails.value co "x"`.
 * - `ne` is the negation of `eq`: `title ne "x"` matches a resource without a title, like `not (title eq "x")`,
 *   and `emails.type ne "work"` matches when no email has type work.
 * - `eq null` means "not present", `ne null` means "present"; other operators refuse null.
 * - `pr`: present means not null, not "", not an empty array or object (RFC 7644 §3.4.2.2).
 * - Booleans support eq and ne only (true/false, or the strings "true"/"false" some clients send); numbers and
 *   dateTimes have no co/sw/ew; binary values support eq and ne only; a complex attribute cannot be compared.
 *
 * The recursion below follows the tree, whose depth the parser bounds (filter-ast.ts).
 */
import { formatAttrPath } from './attribute-path.js';
import { ScimError } from './errors.js';
import type { AttrPath, CompareOp, Filter } from './filter-ast.js';
import { comparedAttribute, compareOperand, parseDateTime, resolveElementPath, resolveFilterPath, type Operand } from './filter-operand.js';
import type { AttributeDef, ResourceTypeDef } from './schema-defs.js';

function invalidFilter(detail: string): ScimError {
  return new ScimError(400, detail, 'invalidFilter');
}

/**
 * Checks every attribute path and operand of a filter against a resource type, without evaluating it: the
 * same 400s the SQL translation and the evaluator give, up front.
 */
export function validateFilter(filter: Filter, rt: ResourceTypeDef): void {
  evaluate(filter, { kind: 'validate', rt });
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Looks a key up ignoring case (RFC 7643 §2.1). */
function get(obj: unknown, key: string): unknown {
  if (!isObject(obj)) return undefined;
  if (key in obj) return obj[key];
  const lower = key.toLowerCase();
  for (const [k, v] of Object.entries(obj)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

function isPresent(v: unknown): boolean {
  if (v === undefined || v === null || v === '') return false;
  if (Array.isArray(v)) return v.some(isPresent);
  if (isObject(v)) return Object.values(v).some(isPresent);
  return true;
}

type Scope =
  | { kind: 'resource'; rt: ResourceTypeDef; resource: Json }
  | { kind: 'element'; parent: AttributeDef; element: unknown }
  | { kind: 'validate'; rt: ResourceTypeDef }
  | { kind: 'validateElement'; parent: AttributeDef };

/** The values a path designates: every value of a multi-valued attribute, one value otherwise. */
interface Values {
  /** The attribute compared (see comparedAttribute); undefined when only `pr` or a value filter applies. */
  text: string;
  resolved: { attribute: AttributeDef; subAttribute?: AttributeDef | undefined };
  /** The values designated by the path itself (for pr and valuePath). */
  raw: unknown[];
}

function lookup(scope: Scope, path: AttrPath): Values {
  const text = formatAttrPath(path);
  if (scope.kind === 'element' || scope.kind === 'validateElement') {
    const def = resolveElementPath(scope.parent, path);
    if (scope.kind === 'validateElement') return { text, resolved: { attribute: def }, raw: [] };
    const v = scope.parent.type === 'complex' ? get(scope.element, def.name) : scope.element;
    return { text, resolved: { attribute: def }, raw: def.multiValued && Array.isArray(v) ? v : [v] };
  }
  const resolved = resolveFilterPath(scope.rt, path);
  if (scope.kind === 'validate') return { text, resolved, raw: [] };
  const container = resolved.schema === scope.rt.schema ? scope.resource : get(scope.resource, resolved.schema.id);
  const value = get(container, resolved.attribute.name);
  const elements = resolved.attribute.multiValued ? (Array.isArray(value) ? value : value === undefined ? [] : [value]) : [value];
  if (!resolved.subAttribute) return { text, resolved, raw: elements };
  const sub = resolved.subAttribute;
  const raw = elements.flatMap((e): unknown[] => {
    const v = get(e, sub.name);
    return sub.multiValued && Array.isArray(v) ? (v as unknown[]) : [v];
  });
  return { text, resolved, raw };
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function matches(v: unknown, op: CompareOp, operand: Operand, def: AttributeDef): boolean {
  let order: number;
  switch (operand.type) {
    case 'boolean':
      return v === operand.value; // eq (ne is the negation of eq)
    case 'number':
      if (typeof v !== 'number') return false;
      order = v - operand.value;
      break;
    case 'dateTime': {
      const instant = typeof v === 'string' ? parseDateTime(v) : undefined;
      if (!instant) return false;
      order = instant.ms - operand.ms;
      break;
    }
    case 'string': {
      if (typeof v !== 'string') return false;
      const a = def.caseExact ? v : v.toLowerCase();
      const b = def.caseExact ? operand.value : operand.value.toLowerCase();
      if (op === 'co') return a.includes(b);
      if (op === 'sw') return a.startsWith(b);
      if (op === 'ew') return a.endsWith(b);
      order = compareStrings(a, b);
      break;
    }
  }
  switch (op) {
    case 'eq':
      return order === 0;
    case 'gt':
      return order > 0;
    case 'ge':
      return order >= 0;
    case 'lt':
      return order < 0;
    case 'le':
      return order <= 0;
    default:
      return false;
  }
}

function evaluate(filter: Filter, scope: Scope): boolean {
  switch (filter.kind) {
    case 'and':
    case 'or': {
      // Every operand is walked, so a validation pass checks them all.
      const results = filter.filters.map((f) => evaluate(f, scope));
      return filter.kind === 'and' ? results.every(Boolean) : results.some(Boolean);
    }
    case 'not':
      return !evaluate(filter.filter, scope);
    case 'present': {
      const { raw } = lookup(scope, filter.path);
      return raw.some(isPresent);
    }
    case 'compare': {
      const { text, resolved, raw } = lookup(scope, filter.path);
      const def = comparedAttribute(resolved, text);
      const operand = compareOperand(def, filter.op, filter.value, text, filter.bare);
      // `emails co "x"`: compare the value sub-attribute of each element.
      const values = def === resolved.attribute || def === resolved.subAttribute ? raw : raw.map((e) => get(e, def.name));
      if (operand === null) return filter.op === 'eq' ? !values.some(isPresent) : values.some(isPresent);
      if (filter.op === 'ne') return !values.some((v) => matches(v, 'eq', operand, def));
      return values.some((v) => matches(v, filter.op, operand, def));
    }
    case 'valuePath': {
      if (scope.kind === 'element' || scope.kind === 'validateElement') throw invalidFilter('Value filters cannot be nested');
      const text = formatAttrPath(filter.path);
      const { resolved, raw } = lookup(scope, filter.path);
      // After resolution: `urn:...:User.desks[...]` has no sub-attribute, it is the legacy spelling of `...:User:desks`.
      if (resolved.subAttribute !== undefined) {
        throw invalidFilter(`A value filter applies to a multi-valued or complex attribute, not to the sub-attribute '${text}'`);
      }
      const parent = resolved.attribute;
      if (!parent.multiValued && parent.type !== 'complex') {
        throw invalidFilter(`A value filter applies to a multi-valued or complex attribute; '${text}' is a single ${parent.type}`);
      }
      if (scope.kind === 'validate') return evaluate(filter.filter, { kind: 'validateElement', parent });
      return raw.some((element) => element !== undefined && element !== null && evaluate(filter.filter, { kind: 'element', parent, element }));
    }
  }
}

/**
 * Evaluates a filter against a SCIM resource in its JSON form (as rendered: core attributes at the top level,
 * extension attributes under their schema URN). Throws ScimError 400 invalidFilter for unknown attributes and
 * type mismatches, whatever the resource holds.
 *
 * Note: `userName` is compared as rendered, i.e. `DOMAIN/name` for users of a secondary domain, whereas the SQL
 * translation compares the bare name unless the filter value carries a domain prefix.
 */
export function evaluateFilter(filter: Filter, resource: Record<string, unknown>, rt: ResourceTypeDef): boolean {
  validateFilter(filter, rt);
  return evaluate(filter, { kind: 'resource', rt, resource });
}

/**
 * Evaluates a value filter against one element of a multi-valued attribute (RFC 7644 §3.5.2: the `[...]` of
 * `emails[type eq "work"]`): its paths name sub-attributes of `attribute` (or `value` for a simple multi-valued
 * attribute, whose elements are the values themselves).
 *
 * @example evaluateElementFilter(parsePatchPath('emails[type eq "work"]').valueFilter!, { value: 'a@x', type: 'work' }, emailsDef) // true
 */
export function evaluateElementFilter(filter: Filter, element: unknown, attribute: AttributeDef): boolean {
  evaluate(filter, { kind: 'validateElement', parent: attribute });
  return evaluate(filter, { kind: 'element', parent: attribute, element });
}
