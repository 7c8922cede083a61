/**
 * SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (RFC 7644 §3.5.2).
 *
 * - A hand-written recursive-descent parser producing the syntax tree of filter-ast.ts. Every malformed input
 *   is a 400 with a detail naming what was expected, what was found and where (1-based character position).
 * - Attribute resolution and operand checks against the SCIM schemas as data (schema-defs.ts), shared with the
 *   SQL translation (src/userstore/filter-sql.ts) so both refuse the same filters with the same words.
 * - An in-memory evaluator over SCIM JSON, for PATCH value filters (`emails[type eq "work"]`) and for anything
 *   that already holds a rendered resource.
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
 */
import { ScimError, type ScimType } from './errors.js';
import type { AttrPath, CompareOp, Filter, FilterValue, PatchPath } from './filter-ast.js';
import {
  COMMON_ATTRIBUTES,
  findAttribute,
  type AttributeDef,
  type ResolvedPath,
  type ResourceTypeDef,
  type SchemaDef,
} from './schema-defs.js';

export type { AttrPath, CompareOp, Filter, FilterValue, PatchPath } from './filter-ast.js';

const COMPARE_OPS: ReadonlySet<string> = new Set<CompareOp>(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']);
/** Deeper nesting than this is refused rather than risking the stack on hostile input. */
const MAX_DEPTH = 64;
const WORD_CHAR = /[A-Za-z0-9_:.$-]/;
const WORD_START = /[A-Za-z$]/;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ATTR_NAME = /^\$?[A-Za-z][A-Za-z0-9_-]*$/;
const URN = /^urn:[A-Za-z0-9][A-Za-z0-9-]*(?::[A-Za-z0-9._$-]+)+$/i;

type Mode = 'filter' | 'path';

class Parser {
  pos = 0;
  private depth = 0;

  constructor(
    private readonly text: string,
    private readonly mode: Mode,
  ) {}

  private get scimType(): ScimType {
    return this.mode === 'filter' ? 'invalidFilter' : 'invalidPath';
  }

  fail(message: string, at = this.pos): never {
    const what = this.mode === 'filter' ? 'Invalid filter' : 'Invalid path';
    throw new ScimError(400, `${what}: ${message} at position ${at + 1}`, this.scimType);
  }

  char(at = this.pos): string | undefined {
    return this.text[at];
  }

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  skipWs(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  /** The word (attribute path, keyword or literal) starting at `at`, without consuming it. */
  private wordAt(at = this.pos): string | undefined {
    const first = this.char(at);
    if (first === undefined || !WORD_START.test(first)) return undefined;
    let end = at + 1;
    while (end < this.text.length && WORD_CHAR.test(this.text[end]!)) end++;
    return this.text.slice(at, end);
  }

  /** What stands at `at`, for error messages. */
  found(at = this.pos): string {
    const c = this.char(at);
    if (c === undefined) return `the end of the ${this.mode}`;
    if (c === '"') return 'a string';
    const word = this.wordAt(at);
    if (word) return `'${word}'`;
    const run = /^[^\s()[\]"]+/.exec(this.text.slice(at))?.[0];
    return `'${run && run.length > 1 ? run : c}'`;
  }

  /** Consumes `keyword` (ignoring case) if it is the next word. */
  private keyword(...keywords: string[]): string | undefined {
    const save = this.pos;
    this.skipWs();
    const word = this.wordAt();
    const lower = word?.toLowerCase();
    if (word && lower && keywords.includes(lower)) {
      this.pos += word.length;
      return lower;
    }
    this.pos = save;
    return undefined;
  }

  private nest(open: number): void {
    this.depth++;
    if (this.depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH} levels`, open);
  }

  private unnest(): void {
    this.depth--;
  }

  /** FILTER = logExp with `or` binding loosest (RFC 7644 §3.4.2.2: precedence not > and > or). */
  parseOr(inValueFilter: boolean): Filter {
    let left = this.parseAnd(inValueFilter);
    while (this.keyword('or')) left = { kind: 'or', left, right: this.parseAnd(inValueFilter) };
    return left;
  }

  private parseAnd(inValueFilter: boolean): Filter {
    let left = this.parseUnary(inValueFilter);
    while (this.keyword('and')) left = { kind: 'and', left, right: this.parseUnary(inValueFilter) };
    return left;
  }

  private parseUnary(inValueFilter: boolean): Filter {
    this.skipWs();
    const start = this.pos;
    if (this.char() === '(') {
      this.pos++;
      return this.parseGroup(start, inValueFilter);
    }
    const word = this.wordAt();
    if (word === undefined) {
      this.fail(`expected an attribute path, '(' or 'not', found ${this.found()}`);
    }
    if (word.toLowerCase() === 'and' || word.toLowerCase() === 'or') {
      this.fail(`expected an attribute path, '(' or 'not', found '${word}'`);
    }
    if (word.toLowerCase() === 'not') {
      this.pos += word.length;
      this.skipWs();
      if (this.char() !== '(') this.fail(`expected '(' after 'not', found ${this.found()}`);
      const open = this.pos;
      this.pos++;
      return { kind: 'not', filter: this.parseGroup(open, inValueFilter) };
    }
    const path = this.parseAttrPathWord();
    const afterPath = this.pos;
    this.skipWs();
    if (this.char() === '[') {
      if (inValueFilter) this.fail('value filters cannot be nested');
      const open = this.pos;
      this.pos++;
      const filter = this.parseValueFilter(open);
      if (this.char() === '.') {
        this.fail("a sub-attribute after a value filter ('emails[type eq \"work\"].value') is only allowed in PATCH paths");
      }
      return { kind: 'valuePath', path, filter };
    }
    if (this.pos === afterPath && !this.atEnd()) {
      this.fail(`expected a space after the attribute path '${formatAttrPath(path)}', found ${this.found()}`);
    }
    const opStart = this.pos;
    const opWord = this.wordAt();
    const op = opWord?.toLowerCase();
    if (op === 'pr') {
      this.pos += opWord!.length;
      return { kind: 'present', path };
    }
    if (op === undefined || !COMPARE_OPS.has(op)) {
      this.fail(
        `expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr) after '${formatAttrPath(path)}', found ${this.found()}`,
        opStart,
      );
    }
    this.pos += opWord!.length;
    const value = this.parseValue(op);
    return { kind: 'compare', path, op: op as CompareOp, value };
  }

  /** After '(': a filter and the closing ')'. */
  private parseGroup(open: number, inValueFilter: boolean): Filter {
    this.nest(open);
    const inner = this.parseOr(inValueFilter);
    this.skipWs();
    if (this.char() !== ')') {
      this.fail(`expected ')' to close the '(' at position ${open + 1}, found ${this.found()}`);
    }
    this.pos++;
    this.unnest();
    return inner;
  }

  /** After '[': valFilter and the closing ']'. */
  parseValueFilter(open: number): Filter {
    this.nest(open);
    this.skipWs();
    if (this.char() === ']') this.fail("empty value filter '[]'");
    const filter = this.parseOr(true);
    this.skipWs();
    if (this.char() !== ']') {
      this.fail(`expected ']' to close the '[' at position ${open + 1}, found ${this.found()}`);
    }
    this.pos++;
    this.unnest();
    return filter;
  }

  /** attrPath = [URI ":"] ATTRNAME *1subAttr (RFC 7644 §3.10). */
  parseAttrPathWord(): AttrPath {
    const start = this.pos;
    const word = this.wordAt();
    if (word === undefined) this.fail(`expected an attribute path, found ${this.found()}`);
    this.pos += word.length;
    return splitAttrPath(word, (message) => this.fail(message, start));
  }

  /** compValue = false / null / true / number / string (JSON, RFC 7159). */
  private parseValue(op: string): FilterValue {
    this.skipWs();
    const start = this.pos;
    const c = this.char();
    if (c === '"') return this.parseString();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      NUMBER.lastIndex = start;
      const m = NUMBER.exec(this.text);
      const next = m ? this.char(start + m[0].length) : c;
      if (!m || (next !== undefined && !/[\s)\]]/.test(next))) {
        this.fail(`invalid number ${this.found()} (JSON number syntax)`, start);
      }
      this.pos += m[0].length;
      return Number(m[0]);
    }
    const word = this.wordAt();
    const lower = word?.toLowerCase();
    if (lower === 'true' || lower === 'false' || lower === 'null') {
      this.pos += word!.length;
      return lower === 'null' ? null : lower === 'true';
    }
    const hint = word ? ' (strings must be in double quotes)' : '';
    this.fail(`expected a value (a string in double quotes, a number, true, false or null) after '${op}', found ${this.found()}${hint}`);
  }

  private parseString(): string {
    const start = this.pos;
    this.pos++; // opening quote
    let out = '';
    for (;;) {
      const c = this.char();
      if (c === undefined) this.fail('unterminated string', start);
      if (c === '"') {
        this.pos++;
        return out;
      }
      if (c < ' ') this.fail('control character in a string (escape it, e.g. \\n)');
      if (c !== '\\') {
        out += c;
        this.pos++;
        continue;
      }
      const e = this.char(this.pos + 1);
      const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
      if (e !== undefined && e in simple) {
        out += simple[e];
        this.pos += 2;
      } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(this.text.slice(this.pos + 2, this.pos + 6))) {
        out += String.fromCharCode(parseInt(this.text.slice(this.pos + 2, this.pos + 6), 16));
        this.pos += 6;
      } else {
        this.fail(`invalid escape '\\${e ?? ''}' in a string`);
      }
    }
  }
}

function splitAttrPath(word: string, fail: (message: string) => never): AttrPath {
  const colon = word.lastIndexOf(':');
  const urn = colon >= 0 ? word.slice(0, colon) : undefined;
  const rest = word.slice(colon + 1);
  if (urn !== undefined && !URN.test(urn)) fail(`invalid schema URN '${urn}' in the attribute path '${word}'`);
  const parts = rest.split('.');
  if (parts.length > 2 || !parts.every((p) => ATTR_NAME.test(p))) {
    fail(`invalid attribute path '${word}' (expected [schema URN:]attribute[.subAttribute])`);
  }
  return { ...(urn !== undefined && { urn }), attribute: parts[0]!, ...(parts[1] !== undefined && { subAttribute: parts[1] }) };
}

/**
 * Parses a filter (RFC 7644 §3.4.2.2). Operators and keywords ignore case; attribute names keep the client's
 * case (resolution ignores it). Throws ScimError 400 invalidFilter, with the position, for malformed input.
 *
 * @example parseFilter('userType eq "Employee" and emails[type eq "work" and value co "@example.com"]')
 */
export function parseFilter(text: string): Filter {
  const p = new Parser(text, 'filter');
  p.skipWs();
  if (p.atEnd()) throw new ScimError(400, 'Invalid filter: the filter is empty', 'invalidFilter');
  const filter = p.parseOr(false);
  p.skipWs();
  if (!p.atEnd()) p.fail(`unexpected ${p.found()} after a complete filter (expected 'and', 'or' or the end)`);
  return filter;
}

/**
 * Parses a PATCH operation's path (RFC 7644 §3.5.2: PATH = attrPath / valuePath [subAttr]):
 * `members`, `name.givenName`, `members[value eq "2819c223"]`, `emails[type eq "work"].value`,
 * `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`. Throws ScimError 400 invalidPath.
 */
export function parsePatchPath(text: string): PatchPath {
  const p = new Parser(text.trim(), 'path');
  if (p.atEnd()) throw new ScimError(400, 'Invalid path: the path is empty', 'invalidPath');
  const path = p.parseAttrPathWord();
  let valueFilter: Filter | undefined;
  let subAttribute: string | undefined;
  p.skipWs();
  if (p.char() === '[') {
    const open = p.pos;
    p.pos++;
    valueFilter = p.parseValueFilter(open);
    if (path.subAttribute !== undefined) {
      p.fail(`a value filter applies to a multi-valued attribute, not to the sub-attribute '${formatAttrPath(path)}'`, open);
    }
    if (p.char() === '.') {
      p.pos++;
      const start = p.pos;
      let sub = '';
      while (p.char() !== undefined && /[A-Za-z0-9_$-]/.test(p.char()!)) sub += p.char(p.pos++);
      if (!ATTR_NAME.test(sub)) p.fail(`expected a sub-attribute name after '.', found ${p.found(start)}`, start);
      subAttribute = sub;
    }
  }
  if (!p.atEnd()) p.fail(`unexpected ${p.found()} after the path`);
  return { path, ...(valueFilter && { valueFilter }), ...(subAttribute !== undefined && { subAttribute }) };
}

/**
 * Parses one attribute path (`name.givenName`, `urn:...:User:manager.value`), e.g. a sortBy or an
 * `attributes` entry. Throws ScimError 400 with `scimType` (default invalidPath).
 */
export function parseAttrPath(text: string, scimType: ScimType = 'invalidPath'): AttrPath {
  const word = text.trim();
  const fail = (message: string): never => {
    throw new ScimError(400, `Invalid attribute path: ${message}`, scimType);
  };
  if (word === '') fail('the attribute path is empty');
  if (!WORD_START.test(word[0]!) || ![...word].every((c) => WORD_CHAR.test(c))) {
    fail(`'${word}' is not [schema URN:]attribute[.subAttribute]`);
  }
  return splitAttrPath(word, fail);
}

/** The path as text, in the client's spelling: `urn:...:User:manager.value`. */
export function formatAttrPath(path: AttrPath): string {
  return `${path.urn !== undefined ? `${path.urn}:` : ''}${path.attribute}${path.subAttribute !== undefined ? `.${path.subAttribute}` : ''}`;
}

/** A canonical, fully parenthesised rendering of a filter (for logs and tests). */
export function formatFilter(filter: Filter): string {
  switch (filter.kind) {
    case 'compare':
      return `${formatAttrPath(filter.path)} ${filter.op} ${JSON.stringify(filter.value)}`;
    case 'present':
      return `${formatAttrPath(filter.path)} pr`;
    case 'and':
    case 'or':
      return `(${formatFilter(filter.left)} ${filter.kind} ${formatFilter(filter.right)})`;
    case 'not':
      return `not (${formatFilter(filter.filter)})`;
    case 'valuePath':
      return `${formatAttrPath(filter.path)}[${formatFilter(filter.filter)}]`;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Resolution and operand checks (shared with src/userstore/filter-sql.ts)

function invalidFilter(detail: string): ScimError {
  return new ScimError(400, detail, 'invalidFilter');
}

/**
 * Resolves a filter's attribute path against a resource type (RFC 7644 §3.10), ignoring case. Core attributes
 * may omit their schema URN; an extension attribute without its URN is accepted when exactly one extension
 * defines it. Unknown attributes and attributes that are never returned (password) are refused.
 */
export function resolveFilterPath(rt: ResourceTypeDef, path: AttrPath, scimType: ScimType = 'invalidFilter'): ResolvedPath {
  const text = formatAttrPath(path);
  const fail = (detail: string): never => {
    throw new ScimError(400, detail, scimType);
  };
  const schemas = [rt.schema, ...rt.extensions.map((e) => e.schema)];
  let candidates: SchemaDef[];
  if (path.urn !== undefined) {
    const schema = schemas.find((s) => s.id.toLowerCase() === path.urn!.toLowerCase());
    if (!schema) fail(`Unknown schema '${path.urn}' in the attribute path '${text}' (resource type ${rt.name})`);
    candidates = [schema!];
  } else {
    candidates = schemas;
  }
  const found: ResolvedPath[] = [];
  for (const schema of candidates) {
    const attributes = schema === rt.schema ? [...COMMON_ATTRIBUTES, ...schema.attributes] : schema.attributes;
    const attribute = findAttribute(attributes, path.attribute);
    if (attribute) found.push({ schema, attribute });
    // Core attributes win over extension attributes of the same name.
    if (attribute && schema === rt.schema) break;
  }
  if (found.length > 1 && found[0]!.schema !== rt.schema) {
    fail(`Attribute '${text}' is ambiguous: qualify it with its schema URN (${found.map((f) => f.schema.id).join(', ')})`);
  }
  const resolved = found[0];
  if (!resolved) return fail(`Unknown attribute '${text}' (resource type ${rt.name})`);
  if (resolved.attribute.returned === 'never') fail(`Attribute '${text}' cannot be used in a filter: it is never returned`);
  if (path.subAttribute === undefined) return resolved;
  const sub = resolved.attribute.subAttributes && findAttribute(resolved.attribute.subAttributes, path.subAttribute);
  if (!sub) return fail(`Unknown attribute '${text}': '${resolved.attribute.name}' has no sub-attribute '${path.subAttribute}'`);
  return { ...resolved, subAttribute: sub };
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
 */
export function compareOperand(def: AttributeDef, op: CompareOp, value: FilterValue, text: string): Operand | null {
  const fail = (why: string): never => {
    throw invalidFilter(`Invalid filter '${text} ${op} ${JSON.stringify(value)}': ${why}`);
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

/**
 * Checks every attribute path and operand of a filter against a resource type, without evaluating it: the
 * same 400s the SQL translation and the evaluator give, up front.
 */
export function validateFilter(filter: Filter, rt: ResourceTypeDef): void {
  evaluate(filter, { kind: 'validate', rt });
}

// ---------------------------------------------------------------------------------------------------------------
// In-memory evaluation

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
    case 'and': {
      // Validation walks both sides; evaluation may stop early.
      const left = evaluate(filter.left, scope);
      const right = evaluate(filter.right, scope);
      return left && right;
    }
    case 'or': {
      const left = evaluate(filter.left, scope);
      const right = evaluate(filter.right, scope);
      return left || right;
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
      const operand = compareOperand(def, filter.op, filter.value, text);
      // `emails co "x"`: compare the value sub-attribute of each element.
      const values = def === resolved.attribute || def === resolved.subAttribute ? raw : raw.map((e) => get(e, def.name));
      if (operand === null) return filter.op === 'eq' ? !values.some(isPresent) : values.some(isPresent);
      if (filter.op === 'ne') return !values.some((v) => matches(v, 'eq', operand, def));
      return values.some((v) => matches(v, filter.op, operand, def));
    }
    case 'valuePath': {
      if (scope.kind === 'element' || scope.kind === 'validateElement') throw invalidFilter('Value filters cannot be nested');
      const text = formatAttrPath(filter.path);
      if (filter.path.subAttribute !== undefined) {
        throw invalidFilter(`A value filter applies to a multi-valued or complex attribute, not to the sub-attribute '${text}'`);
      }
      const { resolved, raw } = lookup(scope, filter.path);
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
