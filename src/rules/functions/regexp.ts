/**
 * The regular-expression functions (XACML 3.0 §A.3.13): string-regexp-match and the XACML 2.0 anyURI-, ipAddress-,
 * dnsName-, rfc822Name- and x500Name-regexp-match. §A.3.13 specifies them as XPath F&O's fn:matches (§7.6.2) with
 * the arguments reversed, so the pattern is unanchored ("read|write" matches "do read") unless it uses ^ and $, and
 * the syntax is XML Schema's (Part 2, Appendix F) with F&O's additions: ^ and $, reluctant quantifiers, back-references
 * and (?:...) groups.
 *
 * A parser of Appendix F's grammar turns the pattern into a tree whose character classes are JavaScript `v`-flag
 * classes (Unicode sets, for XML Schema's class subtraction), so every construct means what XML Schema says (\d is
 * any Unicode digit, . excludes only \n and \r, \w excludes punctuation, separators and others, \i and \c are XML
 * name characters) and nothing JavaScript adds (lookaround, \b, named groups) slips through. Unsupported constructs
 * (block escapes other than a few common blocks) are refused with a message naming them.
 *
 * Runaway matching: patterns run on a Thompson automaton, in time proportional to pattern states × input, whatever
 * the pattern (see compileRegex). Bounds: patterns of at most 1024 characters, quantifier counts up to 1000, inputs
 * of at most 65 536 characters, automata of at most 20 000 states.
 */
import { DataType, processingError } from '../values.js';
import { formatValue } from './datatypes.js';
import { XACML1, XACML2, firstOrder, single, str, v, val, valueType, type FunctionTable } from './define.js';

export const MAX_PATTERN_LENGTH = 1024;
export const MAX_INPUT_LENGTH = 65_536;
const MAX_QUANTITY = 1000;

/** XML Schema's general categories (Appendix F, Table "category escapes"). */
const CATEGORIES = new Set(
  'L Lu Ll Lt Lm Lo M Mn Mc Me N Nd Nl No P Pc Pd Ps Pe Pi Pf Po Z Zs Zl Zp S Sm Sc Sk So C Cc Cf Co Cn'.split(' '),
);

/** A few Unicode blocks (\p{IsBasicLatin}); JavaScript has no block property, so the ranges are spelled out. */
const BLOCKS: Record<string, [number, number]> = {
  BasicLatin: [0x0000, 0x007f],
  'Latin-1Supplement': [0x0080, 0x00ff],
  'LatinExtended-A': [0x0100, 0x017f],
  'LatinExtended-B': [0x0180, 0x024f],
  IPAExtensions: [0x0250, 0x02af],
  Greek: [0x0370, 0x03ff],
  Cyrillic: [0x0400, 0x04ff],
  Armenian: [0x0530, 0x058f],
  Hebrew: [0x0590, 0x05ff],
  Arabic: [0x0600, 0x06ff],
  Devanagari: [0x0900, 0x097f],
  Thai: [0x0e00, 0x0e7f],
  Hiragana: [0x3040, 0x309f],
  Katakana: [0x30a0, 0x30ff],
  CJKUnifiedIdeographs: [0x4e00, 0x9fff],
  HangulSyllables: [0xac00, 0xd7af],
};

// XML 1.0 (5th edition) NameStartChar and NameChar, for \i and \c.
const NAME_START = ':A-Z_a-z\\u{C0}-\\u{D6}\\u{D8}-\\u{F6}\\u{F8}-\\u{2FF}\\u{370}-\\u{37D}\\u{37F}-\\u{1FFF}\\u{200C}-\\u{200D}\\u{2070}-\\u{218F}\\u{2C00}-\\u{2FEF}\\u{3001}-\\u{D7FF}\\u{F900}-\\u{FDCF}\\u{FDF0}-\\u{FFFD}\\u{10000}-\\u{EFFFF}';
const NAME_CHAR = `${NAME_START}\\-.0-9\\u{B7}\\u{300}-\\u{36F}\\u{203F}-\\u{2040}`;

const MULTI_CHAR: Record<string, string> = {
  s: '[\\u{20}\\t\\n\\r]',
  S: '[^\\u{20}\\t\\n\\r]',
  d: '\\p{Nd}',
  D: '\\P{Nd}',
  w: '[^\\p{P}\\p{Z}\\p{C}]',
  W: '[\\p{P}\\p{Z}\\p{C}]',
  i: `[${NAME_START}]`,
  I: `[^${NAME_START}]`,
  c: `[${NAME_CHAR}]`,
  C: `[^${NAME_CHAR}]`,
};

/** Appendix F SingleCharEsc, plus F&O's \$. */
const SINGLE_CHAR_ESCAPES: Record<string, number> = { n: 0x0a, r: 0x0d, t: 0x09 };
const ESCAPABLE = '\\|.?*+(){}-[]^$';

function literal(codePoint: number): string {
  const c = String.fromCodePoint(codePoint);
  return /^[A-Za-z0-9]$/.test(c) ? c : `\\u{${codePoint.toString(16)}}`;
}

export class RegexSyntaxError extends Error {
  override readonly name = 'RegexSyntaxError';
}

/** The parsed pattern. A `set` matches one character; its `js` is a JavaScript (`v` flag) class, escape or literal. */
export type RegexNode =
  | { readonly kind: 'set'; readonly js: string }
  | { readonly kind: 'seq'; readonly items: readonly RegexNode[] }
  | { readonly kind: 'alt'; readonly branches: readonly RegexNode[] }
  | { readonly kind: 'repeat'; readonly node: RegexNode; readonly min: number; readonly max: number | undefined; readonly js: string }
  | { readonly kind: 'group'; readonly node: RegexNode; readonly capturing: boolean }
  | { readonly kind: 'start' }
  | { readonly kind: 'end' }
  | { readonly kind: 'backref'; readonly group: number };

/** A recursive-descent parser of Appendix F's grammar (with F&O's additions). */
class Parser {
  #pos = 0;
  #groups = 0;
  #closedGroups = new Set<number>();

  constructor(private readonly src: string) {}

  parse(): RegexNode {
    const node = this.regExp();
    if (this.#pos < this.src.length) this.fail(`unexpected "${this.src[this.#pos]}"`);
    return node;
  }

  private fail(message: string): never {
    throw new RegexSyntaxError(`invalid regular expression "${this.src}" at ${this.#pos}: ${message}`);
  }

  private peek(): string | undefined {
    return this.src[this.#pos];
  }

  private next(): string {
    const cp = this.src.codePointAt(this.#pos);
    if (cp === undefined) this.fail('unexpected end');
    const c = String.fromCodePoint(cp);
    this.#pos += c.length;
    return c;
  }

  private regExp(): RegexNode {
    const branches = [this.branch()];
    while (this.peek() === '|') {
      this.#pos++;
      branches.push(this.branch());
    }
    return branches.length === 1 ? branches[0]! : { kind: 'alt', branches };
  }

  private branch(): RegexNode {
    const items: RegexNode[] = [];
    while (this.#pos < this.src.length && this.peek() !== '|' && this.peek() !== ')') items.push(this.piece());
    return { kind: 'seq', items };
  }

  private piece(): RegexNode {
    const atom = this.atom();
    const c = this.peek();
    let min: number;
    let max: number | undefined;
    let js: string;
    if (c === '?' || c === '*' || c === '+') {
      this.#pos++;
      js = c;
      min = c === '+' ? 1 : 0;
      max = c === '?' ? 1 : undefined;
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.#pos));
      if (!m) this.fail('a malformed {n,m} quantifier');
      this.#pos += m[0].length;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? undefined : Number(m[3]);
      if (min > MAX_QUANTITY || (max ?? 0) > MAX_QUANTITY) this.fail(`quantifier counts above ${MAX_QUANTITY} are not supported`);
      if (max !== undefined && max < min) this.fail(`quantifier {${min},${max}} has its maximum below its minimum`);
      js = m[0];
    } else {
      return atom;
    }
    // F&O §7.6.1: a reluctant quantifier ends with "?" (it changes which match is found, never whether one is).
    if (this.peek() === '?') {
      this.#pos++;
      js += '?';
    }
    return { kind: 'repeat', node: atom, min, max, js };
  }

  private atom(): RegexNode {
    const c = this.next();
    switch (c) {
      case '(': {
        let capturing = true;
        if (this.src.startsWith('?:', this.#pos)) {
          this.#pos += 2;
          capturing = false;
        }
        const group = capturing ? ++this.#groups : 0;
        const inner = this.regExp();
        if (this.peek() !== ')') this.fail('a missing ")"');
        this.#pos++;
        if (capturing) this.#closedGroups.add(group);
        return { kind: 'group', node: inner, capturing };
      }
      case '[':
        return { kind: 'set', js: this.charClassExpr() };
      case '.':
        return { kind: 'set', js: '[^\\n\\r]' };
      case '^':
        return { kind: 'start' };
      case '$':
        return { kind: 'end' };
      case '\\':
        return this.escapeAtom();
      case ')':
      case ']':
      case '{':
      case '}':
      case '?':
      case '*':
      case '+':
      case '|':
        return this.fail(`"${c}" must be escaped`);
      default:
        return { kind: 'set', js: literal(c.codePointAt(0)!) };
    }
  }

  private escapeAtom(): RegexNode {
    const c = this.peek();
    if (c !== undefined && /[1-9]/.test(c)) {
      // F&O §7.6.1 back-reference: the longest number naming a group closed before it.
      let digits = this.next();
      while (this.peek() !== undefined && /\d/.test(this.peek()!) && this.#closedGroups.has(Number(digits + this.peek()))) digits += this.next();
      if (!this.#closedGroups.has(Number(digits))) this.fail(`back-reference \\${digits} to a group not closed before it`);
      return { kind: 'backref', group: Number(digits) };
    }
    return { kind: 'set', js: this.charClassEscape(false) };
  }

  /** After a backslash. `inClass`: the result goes inside [...] (nested classes are fine in `v` mode). */
  private charClassEscape(inClass: boolean): string {
    const c = this.next();
    if (c in SINGLE_CHAR_ESCAPES) return literal(SINGLE_CHAR_ESCAPES[c]!);
    if (ESCAPABLE.includes(c)) return literal(c.codePointAt(0)!);
    if (c in MULTI_CHAR) return MULTI_CHAR[c]!;
    if (c === 'p' || c === 'P') {
      if (this.next() !== '{') this.fail(`\\${c} must be followed by {name}`);
      const end = this.src.indexOf('}', this.#pos);
      if (end < 0) this.fail(`an unterminated \\${c}{`);
      const name = this.src.slice(this.#pos, end);
      this.#pos = end + 1;
      const negate = c === 'P';
      if (CATEGORIES.has(name)) return `\\${c}{${name === 'Cn' ? 'Unassigned' : name}}`;
      if (name.startsWith('Is')) {
        const block = BLOCKS[name.slice(2)];
        if (!block) this.fail(`the Unicode block escape \\${c}{${name}} is not supported (supported: ${Object.keys(BLOCKS).join(', ')})`);
        const range = `\\u{${block[0].toString(16)}}-\\u{${block[1].toString(16)}}`;
        return `[${negate ? '^' : ''}${range}]`;
      }
      return this.fail(`unknown character property \\${c}{${name}}`);
    }
    void inClass;
    return this.fail(`unknown escape \\${c}`);
  }

  /** After "[": charGroup "]" (Appendix F: posCharGroup | negCharGroup, then an optional "-" charClassExpr). */
  private charClassExpr(): string {
    let negate = false;
    if (this.peek() === '^') {
      this.#pos++;
      negate = true;
    }
    const items: string[] = [];
    let subtraction: string | undefined;
    let first = true;
    for (;;) {
      const c = this.peek();
      if (c === undefined) this.fail('an unterminated character class');
      if (c === ']') {
        if (first) this.fail('an empty character class');
        this.#pos++;
        break;
      }
      if (c === '-' && this.src[this.#pos + 1] === '[') {
        if (first) this.fail('a character class that only subtracts');
        this.#pos += 2;
        subtraction = this.charClassExpr();
        if (this.peek() !== ']') this.fail('a subtraction must end its character class');
        this.#pos++;
        break;
      }
      items.push(this.classItem(first));
      first = false;
    }
    const body = `${negate ? '^' : ''}${items.join('')}`;
    return subtraction ? `[[${body}]--${subtraction}]` : `[${body}]`;
  }

  /** One charRange or charClassEsc. */
  private classItem(first: boolean): string {
    const start = this.#pos;
    const low = this.classChar(first);
    if (low.kind === 'set') return low.js;
    if (this.peek() === '-' && this.src[this.#pos + 1] !== ']' && this.src[this.#pos + 1] !== '[') {
      this.#pos++;
      const high = this.classChar(false);
      if (high.kind === 'set') this.fail('a range cannot end in a multi-character escape');
      if (high.cp < low.cp) {
        this.#pos = start;
        this.fail('a range whose end is below its start');
      }
      return `${literal(low.cp)}-${literal(high.cp)}`;
    }
    return literal(low.cp);
  }

  private classChar(first: boolean): { kind: 'char'; cp: number } | { kind: 'set'; js: string } {
    const c = this.next();
    if (c === '\\') {
      const e = this.peek();
      if (e !== undefined && (e in SINGLE_CHAR_ESCAPES || ESCAPABLE.includes(e))) {
        this.#pos++;
        return { kind: 'char', cp: e in SINGLE_CHAR_ESCAPES ? SINGLE_CHAR_ESCAPES[e]! : e.codePointAt(0)! };
      }
      return { kind: 'set', js: this.charClassEscape(true) };
    }
    if (c === '[') this.fail('"[" must be escaped inside a character class');
    // "-" is literal only first or last in a group (Appendix F, XmlCharIncDash).
    if (c === '-' && !first && this.peek() !== ']') this.fail('"-" must be escaped inside a character class');
    return { kind: 'char', cp: c.codePointAt(0)! };
  }
}

/** The JavaScript (`v` flag) source of a parsed pattern. */
function toJs(node: RegexNode): string {
  switch (node.kind) {
    case 'set':
      return node.js;
    case 'seq':
      return node.items.map(toJs).join('');
    case 'alt':
      return node.branches.map(toJs).join('|');
    case 'group':
      return `(${node.capturing ? '' : '?:'}${toJs(node.node)})`;
    case 'repeat':
      return `${toJs(node.node)}${node.js}`;
    case 'start':
      return '^';
    case 'end':
      return '$';
    case 'backref':
      return `\\${node.group}`;
  }
}

function some(node: RegexNode, test: (n: RegexNode) => boolean): boolean {
  if (test(node)) return true;
  switch (node.kind) {
    case 'seq':
      return node.items.some((n) => some(n, test));
    case 'alt':
      return node.branches.some((n) => some(n, test));
    case 'group':
    case 'repeat':
      return some(node.node, test);
    default:
      return false;
  }
}

/**
 * Could a backtracking engine take exponential time on it? When a repetition contains another repetition or an
 * alternation ("(a+)+", "(a|aa)*", "([a-z]+[a-z])+"), the ways of splitting an input between them multiply.
 */
function mayBacktrack(node: RegexNode): boolean {
  return some(node, (n) => n.kind === 'repeat' && (n.max === undefined || n.max > 1) && some(n.node, (m) => m.kind === 'repeat' || m.kind === 'alt'));
}

/** Bound on the states of the automaton (counted repetitions are expanded into copies). */
const MAX_STATES = 20_000;
/** Bound on the work of one automaton match: states times input characters. */
const MAX_STEPS = 50_000_000;

type State =
  | { t: 'char'; test: RegExp; out: number }
  | { t: 'split'; a: number; b: number }
  | { t: 'start' | 'end'; out: number }
  | { t: 'match' };

const charTests = new Map<string, RegExp>();

function charTest(js: string): RegExp {
  let re = charTests.get(js);
  if (!re) {
    re = new RegExp(`^(?:${js})$`, 'v');
    if (charTests.size > 4096) charTests.clear();
    charTests.set(js, re);
  }
  return re;
}

/**
 * A Thompson automaton for patterns a backtracking engine could take exponential time on: simulated over all its
 * states at once, it answers "is there a match" in time proportional to states × input, whatever the pattern.
 * (Greedy and reluctant quantifiers find the same matches for fn:matches' yes/no question.)
 */
class Automaton {
  readonly states: State[] = [{ t: 'match' }];
  readonly entry: number;

  constructor(root: RegexNode, pattern: string) {
    this.entry = this.build(root, 0, pattern);
  }

  private push(state: State, pattern: string): number {
    if (this.states.length >= MAX_STATES) {
      throw new RegexSyntaxError(`the regular expression "${pattern}" is too large once its counted repetitions are expanded`);
    }
    this.states.push(state);
    return this.states.length - 1;
  }

  /** Builds `node` so that it continues at state `next`; returns its entry state. */
  private build(node: RegexNode, next: number, pattern: string): number {
    switch (node.kind) {
      case 'set':
        return this.push({ t: 'char', test: charTest(node.js), out: next }, pattern);
      case 'seq':
        return node.items.reduceRight((n, item) => this.build(item, n, pattern), next);
      case 'alt': {
        const entries = node.branches.map((b) => this.build(b, next, pattern));
        return entries.reduceRight((b, a) => this.push({ t: 'split', a, b }, pattern));
      }
      case 'group':
        return this.build(node.node, next, pattern);
      case 'start':
      case 'end':
        return this.push({ t: node.kind, out: next }, pattern);
      case 'backref':
        throw new RegexSyntaxError(`the regular expression "${pattern}" has a back-reference, which the automaton cannot match`);
      case 'repeat': {
        let n: number;
        if (node.max === undefined) {
          const loop = this.push({ t: 'split', a: -1, b: next }, pattern);
          (this.states[loop] as { a: number }).a = this.build(node.node, loop, pattern);
          n = loop;
        } else {
          n = next;
          for (let k = node.min; k < node.max; k++) n = this.push({ t: 'split', a: this.build(node.node, n, pattern), b: next }, pattern);
        }
        for (let k = 0; k < node.min; k++) n = this.build(node.node, n, pattern);
        return n;
      }
    }
  }

  /** Is there a match anywhere in `input` (fn:matches is unanchored)? Time: states × input characters. */
  matches(input: string): boolean {
    const chars = [...input];
    if (this.states.length * (chars.length + 1) > MAX_STEPS) {
      throw processingError(`regexp-match: the pattern and an input of ${chars.length} characters are too large to match together`);
    }
    // States already in the list for the position being built carry that position's generation.
    const mark = new Int32Array(this.states.length);
    let generation = 1;
    const stack: number[] = [];
    /** Adds the character states reachable from `from` without consuming; true when the match state is reachable. */
    const close = (from: number, into: number[], atStart: boolean, atEnd: boolean): boolean => {
      stack.push(from);
      while (stack.length) {
        const i = stack.pop()!;
        if (mark[i] === generation) continue;
        mark[i] = generation;
        const s = this.states[i]!;
        if (s.t === 'match') {
          stack.length = 0;
          return true;
        }
        if (s.t === 'split') stack.push(s.b, s.a);
        else if (s.t === 'char') into.push(i);
        else if (s.t === 'start' ? atStart : atEnd) stack.push(s.out);
      }
      return false;
    };
    let current: number[] = [];
    for (let pos = 0; ; pos++) {
      const last = pos === chars.length;
      if (close(this.entry, current, pos === 0, last)) return true;
      if (last) return false;
      generation++;
      const c = chars[pos]!;
      const next: number[] = [];
      for (const i of current) {
        const s = this.states[i] as { t: 'char'; test: RegExp; out: number };
        if (s.test.test(c) && close(s.out, next, false, pos + 1 === chars.length)) return true;
      }
      current = next;
    }
  }
}

/** A compiled pattern: the automaton, or a JavaScript RegExp for patterns with back-references. */
export interface CompiledRegex {
  readonly engine: 'regexp' | 'automaton';
  test(input: string): boolean;
}

/** Bound on the input of a pattern with back-references, which only a backtracking engine can match. */
export const MAX_BACKTRACKING_INPUT = 4096;

/**
 * Parses and compiles an XML Schema / F&O regular expression; throws RegexSyntaxError.
 *
 * Patterns run on the automaton: a backtracking engine takes exponential time on nested repetition ("(a|aa)+") and
 * polynomial time on plain ones (V8 needs seconds for the unanchored "a*b" on 65 536 "a"s). Back-references
 * need backtracking, so patterns with them run as a JavaScript RegExp, on inputs of at most 4096 characters, and
 * are refused if their repetitions nest.
 */
export function compileRegex(pattern: string): CompiledRegex {
  if (pattern.length > MAX_PATTERN_LENGTH) throw new RegexSyntaxError(`a regular expression longer than ${MAX_PATTERN_LENGTH} characters`);
  const ast = new Parser(pattern).parse();
  let re: RegExp;
  try {
    // Also validates what the parser produced (a quantified "^", for one).
    re = new RegExp(toJs(ast), 'v');
  } catch (e) {
    throw new RegexSyntaxError(`invalid regular expression "${pattern}": ${(e as Error).message}`, { cause: e });
  }
  if (some(ast, (n) => n.kind === 'backref')) {
    if (mayBacktrack(ast)) throw new RegexSyntaxError(`the regular expression "${pattern}" combines a back-reference with nested repetition, which cannot be matched in bounded time`);
    return {
      engine: 'regexp',
      test: (input) => {
        if (input.length > MAX_BACKTRACKING_INPUT) throw processingError(`regexp-match: a pattern with back-references takes inputs of at most ${MAX_BACKTRACKING_INPUT} characters`);
        return re.test(input);
      },
    };
  }
  const automaton = new Automaton(ast, pattern);
  return { engine: 'automaton', test: (input) => automaton.matches(input) };
}

/** The same pattern as a JavaScript RegExp, for tests that compare the two engines. */
export function regexForTests(pattern: string): RegExp {
  return new RegExp(toJs(new Parser(pattern).parse()), 'v');
}

const cache = new Map<string, CompiledRegex>();
const CACHE_SIZE = 256;

function compiled(pattern: string): CompiledRegex {
  let re = cache.get(pattern);
  if (re) {
    cache.delete(pattern);
  } else {
    re = compileRegex(pattern);
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  }
  cache.set(pattern, re);
  return re;
}

/** fn:matches(input, pattern) without flags. Throws IndeterminateError on a bad pattern or an oversized input. */
export function regexpMatches(pattern: string, input: string): boolean {
  if (input.length > MAX_INPUT_LENGTH) throw processingError(`regexp-match: an input longer than ${MAX_INPUT_LENGTH} characters`);
  let re: CompiledRegex;
  try {
    re = compiled(pattern);
  } catch (e) {
    throw processingError((e as Error).message);
  }
  return re.test(input);
}

export function addRegexpFunctions(table: FunctionTable): void {
  const S = DataType.string;
  const boolean = valueType(DataType.boolean);
  table.add(firstOrder(`${XACML1}string-regexp-match`, { params: [v(S), v(S)], returns: boolean }, ([p, s]) => val(DataType.boolean, regexpMatches(str(p), str(s)))));
  // §A.3.13: the other types match on their string form (string-from-<type>).
  for (const name of ['anyURI', 'ipAddress', 'dnsName', 'rfc822Name', 'x500Name'] as const) {
    table.add(
      firstOrder(`${XACML2}${name}-regexp-match`, { params: [v(S), v(DataType[name])], returns: boolean }, ([p, x]) =>
        val(DataType.boolean, regexpMatches(str(p), formatValue(single(x)))),
      ),
    );
  }
}
