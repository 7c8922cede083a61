/**
 * The SCIM filter grammar (RFC 7644 §3.4.2.2) and PATCH paths (RFC 7644 §3.5.2): a hand-written recursive-descent
 * parser producing the syntax tree of filter-ast.ts. Every malformed input is a 400 with a detail naming what was
 * expected, what was found and where (1-based character position).
 *
 * Hostile input is bounded before it can cost anything (RFC 7644 §3.4.2.2 lets a service provider refuse filters
 * it will not process, §3.12 invalidFilter): the length is checked before parsing starts, control characters
 * before any token is read, and the number of terms and the nesting depth while parsing, so the parser's own
 * recursion never goes deeper than SCIM_LIMITS.filterMaxDepth levels. The tree it builds is no deeper than that
 * either (and/or chains are one node, filter-ast.ts), so the code that walks it (filter-eval.ts, the SQL
 * translation) may recurse. The limits (SCIM_LIMITS, service-provider.ts) are named in each refusal.
 *
 * Forms real clients send beyond RFC 7644, accepted here:
 * - `emails[type eq "work"].value eq "a@b.c"` (Microsoft Entra): a sub-attribute and a comparison after a value
 *   filter, read as `emails[type eq "work" and value eq "a@b.c"]`, with any operator, `pr` included;
 * - unquoted values in lenient mode (FilterSyntax.lenient, SCIM_FILTER_LENIENT): `userName eq alice`,
 *   `meta.lastModified gt 2011-05-13T04:42:34Z`; see compareOperand for how a bare value is typed;
 * - legacy attribute paths (`urn:...:User.manager`, `manager` without its URN), resolved in attribute-path.ts.
 *
 * Other grammars that are a subset of this one (SCIM 1.1's) are parsed here too, as a FilterDialect, so they get
 * the same limits and the same tree.
 *
 * Evaluation lives in filter-eval.ts, resolution and operand checks in filter-operand.ts and attribute-path.ts;
 * this module re-exports them for the modules that imported them from here.
 */
import { ATTR_WORD_CHAR, ATTR_WORD_START, formatAttrPath, splitAttrPath } from './attribute-path.js';
import { ScimError, type ScimType } from './errors.js';
import type { AttrPath, CompareOp, Filter, FilterValue, PatchPath } from './filter-ast.js';
import { SCIM_LIMITS } from './service-provider.js';

export type { AttrPath, CompareOp, Filter, FilterValue, PatchPath } from './filter-ast.js';
export { formatAttrPath, parseAttrPath } from './attribute-path.js';
export { comparedAttribute, compareOperand, parseDateTime, resolveElementPath, resolveFilterPath, type Operand } from './filter-operand.js';
export { evaluateElementFilter, evaluateFilter, validateFilter } from './filter-eval.js';

const COMPARE_OPS: readonly CompareOp[] = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'];
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const SUB_ATTR_CHAR = /[A-Za-z0-9_$-]/;
const ATTR_NAME = /^\$?[A-Za-z][A-Za-z0-9_-]*$/;
/**
 * Control characters (C0 but tab, line feed and carriage return, which separate tokens like spaces; DEL; C1):
 * no attribute value holds them, and NUL cannot even be sent to PostgreSQL.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
/** Ends an unquoted value (lenient mode). */
const BARE_END = /[\s()[\]"]/;

/**
 * A grammar that is a subset of RFC 7644's, parsed by the same parser (SCIM 1.1's: src/scim/scim11/filter.ts).
 */
export interface FilterDialect {
  /** For messages: `Invalid SCIM 1.1 filter: ...`. */
  name: string;
  /** The comparison operators it has, and whether it has `pr`. */
  operators: readonly CompareOp[];
  present: boolean;
  /** Whether it has `not (...)` and value filters `attr[...]`; each refusal names it. */
  not: boolean;
  valueFilters: boolean;
  /** The SCIM 2.0 attribute path an attribute path word of the dialect names. */
  path(word: string): string;
}

/** How filters are read: strict RFC 7644 (the default) or lenient, and in which dialect. */
export interface FilterSyntax {
  /**
   * Accept unquoted comparison values (`userName eq alice`, `externalId eq 12ab`), which RFC 7644 §3.4.2.2 does
   * not allow but clients in the field send. Default false (strict); the server's default comes from
   * SCIM_FILTER_LENIENT (src/config.ts).
   */
  lenient?: boolean | undefined;
  /** Another grammar than RFC 7644's (SCIM 1.1). */
  dialect?: FilterDialect | undefined;
}

type Mode = 'filter' | 'path';

/** A word as quoted in a message: long ones cut, so an error never echoes kilobytes of the request. */
function clip(word: string): string {
  return word.length > 64 ? `${word.slice(0, 61)}...` : word;
}

class Parser {
  pos = 0;
  private depth = 0;
  private terms = 0;
  private readonly lenient: boolean;
  private readonly dialect: FilterDialect | undefined;

  constructor(
    private readonly text: string,
    private readonly mode: Mode,
    syntax: FilterSyntax = {},
  ) {
    this.lenient = syntax.lenient === true;
    this.dialect = mode === 'filter' ? syntax.dialect : undefined;
  }

  private get scimType(): ScimType {
    return this.mode === 'filter' ? 'invalidFilter' : 'invalidPath';
  }

  get what(): string {
    if (this.mode === 'path') return 'Invalid path';
    return this.dialect ? `Invalid ${this.dialect.name} filter` : 'Invalid filter';
  }

  fail(message: string, at = this.pos): never {
    throw new ScimError(400, `${this.what}: ${message} at position ${at + 1}`, this.scimType);
  }

  /** The length and character checks, before anything else looks at the text. */
  checkText(): void {
    const max = SCIM_LIMITS.filterMaxLength;
    if (this.text.length > max) {
      throw new ScimError(
        400,
        `${this.what}: it is ${this.text.length} characters long; this server's limit is ${max} characters`,
        this.scimType,
      );
    }
    const control = CONTROL.exec(this.text);
    if (control) {
      const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
      this.fail(`control character U+${code}; a ${this.mode} cannot contain control characters`, control.index);
    }
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
    if (first === undefined || !ATTR_WORD_START.test(first)) return undefined;
    let end = at + 1;
    while (end < this.text.length && ATTR_WORD_CHAR.test(this.text[end]!)) end++;
    return this.text.slice(at, end);
  }

  /** What stands at `at`, for error messages. */
  found(at = this.pos): string {
    const c = this.char(at);
    if (c === undefined) return `the end of the ${this.mode}`;
    if (c === '"') return 'a string';
    const word = this.wordAt(at);
    if (word) return `'${clip(word)}'`;
    const run = /^[^\s()[\]"]+/.exec(this.text.slice(at, at + 100))?.[0];
    return `'${run && run.length > 1 ? clip(run) : c}'`;
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
    const max = SCIM_LIMITS.filterMaxDepth;
    if (this.depth > max) this.fail(`nesting deeper than ${max} levels (parentheses, not, value filters), this server's limit`, open);
  }

  private unnest(): void {
    this.depth--;
  }

  /** Counts one comparison or presence test. */
  private term(at: number): void {
    this.terms++;
    const max = SCIM_LIMITS.filterMaxTerms;
    if (this.terms > max) this.fail(`more than ${max} comparisons, this server's limit`, at);
  }

  /** FILTER = logExp with `or` binding loosest (RFC 7644 §3.4.2.2: precedence not > and > or). */
  parseOr(inValueFilter: boolean): Filter {
    const filters = [this.parseAnd(inValueFilter)];
    while (this.keyword('or')) filters.push(this.parseAnd(inValueFilter));
    return filters.length === 1 ? filters[0]! : { kind: 'or', filters };
  }

  private parseAnd(inValueFilter: boolean): Filter {
    const filters = [this.parseUnary(inValueFilter)];
    while (this.keyword('and')) filters.push(this.parseUnary(inValueFilter));
    return filters.length === 1 ? filters[0]! : { kind: 'and', filters };
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
      if (this.dialect && !this.dialect.not) this.fail(`'not' is SCIM 2.0, not ${this.dialect.name}`);
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
      if (this.dialect && !this.dialect.valueFilters) this.fail(`value filters ('[...]') are SCIM 2.0, not ${this.dialect.name}`);
      if (inValueFilter) this.fail('value filters cannot be nested');
      const open = this.pos;
      this.pos++;
      const filter = this.parseValueFilter(open);
      if (this.char() !== '.') return { kind: 'valuePath', path, filter };
      // Microsoft Entra: `emails[type eq "work"].value eq "x"` means `emails[type eq "work" and value eq "x"]`.
      this.pos++;
      const subStart = this.pos;
      const sub = this.subAttributeName();
      const term = this.parseComparison({ attribute: sub }, subStart);
      const filters = filter.kind === 'and' ? [...filter.filters, term] : [filter, term];
      return { kind: 'valuePath', path, filter: { kind: 'and', filters } };
    }
    if (this.pos === afterPath && !this.atEnd()) {
      this.fail(`expected a space after the attribute path '${formatAttrPath(path)}', found ${this.found()}`);
    }
    return this.parseComparison(path, start);
  }

  /** After an attribute path and whitespace: `pr`, or an operator and a value. */
  private parseComparison(path: AttrPath, start: number): Filter {
    this.skipWs();
    const opStart = this.pos;
    const opWord = this.wordAt();
    const op = opWord?.toLowerCase();
    const operators = this.dialect?.operators ?? COMPARE_OPS;
    const present = this.dialect?.present ?? true;
    const names = [...operators, ...(present ? ['pr'] : [])].join(', ');
    this.term(start);
    if (op === 'pr' && present) {
      this.pos += opWord!.length;
      return { kind: 'present', path };
    }
    if (op === undefined || !operators.includes(op as CompareOp)) {
      if (this.dialect && op !== undefined && (op === 'pr' || COMPARE_OPS.includes(op as CompareOp))) {
        this.fail(`'${opWord}' is not a ${this.dialect.name} operator (${names})`, opStart);
      }
      this.fail(`expected an operator (${names}) after '${formatAttrPath(path)}', found ${this.found()}`, opStart);
    }
    this.pos += opWord!.length;
    return { kind: 'compare', path, op: op as CompareOp, ...this.parseValue(op) };
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

  /** After the '.' that follows a value filter: the sub-attribute's name. */
  subAttributeName(): string {
    const start = this.pos;
    while (this.char() !== undefined && SUB_ATTR_CHAR.test(this.char()!)) this.pos++;
    const sub = this.text.slice(start, this.pos);
    if (!ATTR_NAME.test(sub)) this.fail(`expected a sub-attribute name after '.', found ${this.found(start)}`, start);
    return sub;
  }

  /** attrPath = [URI ":"] ATTRNAME *1subAttr (RFC 7644 §3.10), after the dialect's own spelling is mapped. */
  parseAttrPathWord(): AttrPath {
    const start = this.pos;
    const word = this.wordAt();
    if (word === undefined) this.fail(`expected an attribute path, found ${this.found()}`);
    this.pos += word.length;
    return splitAttrPath(this.dialect ? this.dialect.path(word) : word, (message) => this.fail(message, start));
  }

  /** compValue = false / null / true / number / string (JSON, RFC 7159); in lenient mode also a bare word. */
  private parseValue(op: string): { value: FilterValue; bare?: string } {
    this.skipWs();
    const start = this.pos;
    const c = this.char();
    if (c === '"') return { value: this.parseString() };
    if (this.lenient) return this.parseBareValue(op);
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      NUMBER.lastIndex = start;
      const m = NUMBER.exec(this.text);
      const next = m ? this.char(start + m[0].length) : c;
      if (!m || (next !== undefined && !/[\s)\]]/.test(next))) {
        this.fail(`invalid number ${this.found()} (JSON number syntax)`, start);
      }
      this.pos += m[0].length;
      return { value: Number(m[0]) };
    }
    const word = this.wordAt();
    const lower = word?.toLowerCase();
    if (lower === 'true' || lower === 'false' || lower === 'null') {
      this.pos += word!.length;
      return { value: lower === 'null' ? null : lower === 'true' };
    }
    const hint = word ? ' (strings must be in double quotes)' : '';
    this.fail(`expected a value (a string in double quotes, a number, true, false or null) after '${op}', found ${this.found()}${hint}`);
  }

  /**
   * Lenient mode: everything up to the next space, parenthesis, bracket or quote. A JSON literal keeps its type
   * (and its text, for compareOperand to read it as a string where the attribute is one); anything else is a string.
   */
  private parseBareValue(op: string): { value: FilterValue; bare: string } {
    const start = this.pos;
    while (this.char() !== undefined && !BARE_END.test(this.char()!)) this.pos++;
    const bare = this.text.slice(start, this.pos);
    if (bare === '') this.fail(`expected a value after '${op}', found ${this.found()}`);
    const lower = bare.toLowerCase();
    if (lower === 'true' || lower === 'false') return { value: lower === 'true', bare };
    if (lower === 'null') return { value: null, bare };
    NUMBER.lastIndex = 0;
    const m = NUMBER.exec(bare);
    if (m && m[0] === bare) return { value: Number(bare), bare };
    return { value: bare, bare };
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
      const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', n: '\n', r: '\r', t: '\t' };
      const hex = this.text.slice(this.pos + 2, this.pos + 6);
      if (e !== undefined && e in simple) {
        out += simple[e];
        this.pos += 2;
      } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(hex)) {
        const code = parseInt(hex, 16);
        if (CONTROL.test(String.fromCharCode(code))) {
          this.fail(`the escape '\\u${hex}' is a control character; a ${this.mode} cannot contain control characters`);
        }
        out += String.fromCharCode(code);
        this.pos += 6;
      } else if (e === 'b' || e === 'f') {
        this.fail(`the escape '\\${e}' is a control character; a ${this.mode} cannot contain control characters`);
      } else {
        this.fail(`invalid escape '\\${e ?? ''}' in a string`);
      }
    }
  }
}

/**
 * Parses a filter (RFC 7644 §3.4.2.2). Operators and keywords ignore case; attribute names keep the client's
 * case (resolution ignores it). Throws ScimError 400 invalidFilter, with the position, for malformed input and
 * for a filter over this server's limits (SCIM_LIMITS: length, comparisons, nesting).
 *
 * @example parseFilter('userType eq "Employee" and emails[type eq "work" and value co "@example.com"]')
 * @example parseFilter('userName eq alice', { lenient: true }) // { kind: 'compare', ..., value: 'alice', bare: 'alice' }
 */
export function parseFilter(text: string, syntax: FilterSyntax = {}): Filter {
  const p = new Parser(text, 'filter', syntax);
  p.checkText();
  p.skipWs();
  if (p.atEnd()) throw new ScimError(400, `${p.what}: the filter is empty`, 'invalidFilter');
  const filter = p.parseOr(false);
  p.skipWs();
  if (!p.atEnd()) p.fail(`unexpected ${p.found()} after a complete filter (expected 'and', 'or' or the end)`);
  return filter;
}

/**
 * Parses a PATCH operation's path (RFC 7644 §3.5.2: PATH = attrPath / valuePath [subAttr]):
 * `members`, `name.givenName`, `members[value eq "2819c223"]`, `emails[type eq "work"].value`,
 * `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`. Throws ScimError 400 invalidPath, also
 * for a path over the filter limits.
 */
export function parsePatchPath(text: string): PatchPath {
  const p = new Parser(text.trim(), 'path');
  p.checkText();
  if (p.atEnd()) throw new ScimError(400, 'Invalid path: the path is empty', 'invalidPath');
  const path = p.parseAttrPathWord();
  let valueFilter: Filter | undefined;
  let subAttribute: string | undefined;
  p.skipWs();
  if (p.char() === '[') {
    const open = p.pos;
    p.pos++;
    valueFilter = p.parseValueFilter(open);
    // With a URN, `urn:...:User.emails[...]` may be the legacy dotted form of `urn:...:User:emails[...]`: only
    // resolution, which knows the schemas, can tell (src/scim/attribute-path.ts).
    if (path.subAttribute !== undefined && path.urn === undefined) {
      p.fail(`a value filter applies to a multi-valued attribute, not to the sub-attribute '${formatAttrPath(path)}'`, open);
    }
    if (p.char() === '.') {
      p.pos++;
      subAttribute = p.subAttributeName();
    }
  }
  if (!p.atEnd()) p.fail(`unexpected ${p.found()} after the path`);
  return { path, ...(valueFilter && { valueFilter }), ...(subAttribute !== undefined && { subAttribute }) };
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
      return `(${filter.filters.map(formatFilter).join(` ${filter.kind} `)})`;
    case 'not':
      return `not (${formatFilter(filter.filter)})`;
    case 'valuePath':
      return `${formatAttrPath(filter.path)}[${formatFilter(filter.filter)}]`;
  }
}
