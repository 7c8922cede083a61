/**
 * The regular-expression functions (XACML 3.0 §A.3.13): string-regexp-match and the XACML 2.0 anyURI-, ipAddress-,
 * dnsName-, rfc822Name- and x500Name-regexp-match. §A.3.13 specifies them as XPath F&O's fn:matches (§7.6.2) with
 * the arguments reversed, so the pattern is unanchored ("read|write" matches "do read") unless it uses ^ and $, and
 * the syntax is XML Schema's (Part 2, Appendix F) with F&O's additions: ^ and $, reluctant quantifiers, back-references
 * and (?:...) groups.
 *
 * The pattern is translated into a JavaScript RegExp with the `v` flag (Unicode sets, for XML Schema's character
 * class subtraction) by a parser of Appendix F's grammar, so every construct means what XML Schema says (\d is any
 * Unicode digit, . excludes only \n and \r, \w excludes punctuation, separators and others, \i and \c are XML name
 * characters) and nothing JavaScript adds (lookaround, \b, named groups) slips through. Unsupported constructs
 * (block escapes other than a few common blocks) are refused with a message naming them.
 *
 * Bounds against runaway matching: patterns of at most 1024 characters, quantifier counts up to 1000, inputs of at
 * most 65 536 characters, and no nested unbounded quantifier over a group that has no fixed character to anchor each
 * repetition (the "(a+)+" family that backtracks exponentially).
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

interface Piece {
  /** The translated JavaScript. */
  js: string;
  /** Can match more than one bounded repetition (contains * + or {n,}). */
  unbounded: boolean;
  /**
   * Every match of it consumes a character matched by a piece that is not itself repeated without bound (a literal,
   * a class or an escape, alone or with a bounded quantifier of at least one): a separator between repetitions.
   */
  fixed: boolean;
}

/** A recursive-descent translator of Appendix F's grammar. */
class Translator {
  #pos = 0;
  #groups = 0;
  #closedGroups = new Set<number>();

  constructor(private readonly src: string) {}

  translate(): string {
    const js = this.regExp().js;
    if (this.#pos < this.src.length) this.fail(`unexpected "${this.src[this.#pos]}"`);
    return js;
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

  private regExp(): Piece {
    const branches = [this.branch()];
    while (this.peek() === '|') {
      this.#pos++;
      branches.push(this.branch());
    }
    return {
      js: branches.map((b) => b.js).join('|'),
      unbounded: branches.some((b) => b.unbounded),
      fixed: branches.every((b) => b.fixed),
    };
  }

  private branch(): Piece {
    let js = '';
    let unbounded = false;
    let fixed = false;
    while (this.#pos < this.src.length && this.peek() !== '|' && this.peek() !== ')') {
      const p = this.piece();
      js += p.js;
      unbounded ||= p.unbounded;
      fixed ||= p.fixed;
    }
    return { js, unbounded, fixed };
  }

  private piece(): Piece {
    const atom = this.atom();
    const q = this.quantifier();
    if (!q) return atom;
    if (q.unbounded && atom.unbounded && !atom.fixed) {
      this.fail('a repeated group that itself repeats without a fixed character can backtrack exponentially; rewrite it');
    }
    return { js: `${atom.js}${q.js}`, unbounded: atom.unbounded || q.unbounded, fixed: atom.fixed && !q.unbounded && q.min > 0 };
  }

  private quantifier(): { js: string; unbounded: boolean; min: number } | undefined {
    const c = this.peek();
    let js: string;
    let unbounded: boolean;
    let min: number;
    if (c === '?' || c === '*' || c === '+') {
      this.#pos++;
      js = c;
      unbounded = c !== '?';
      min = c === '+' ? 1 : 0;
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.#pos));
      if (!m) this.fail('a malformed {n,m} quantifier');
      this.#pos += m[0].length;
      min = Number(m[1]);
      const max = m[3] === undefined || m[3] === '' ? undefined : Number(m[3]);
      if (min > MAX_QUANTITY || (max ?? 0) > MAX_QUANTITY) this.fail(`quantifier counts above ${MAX_QUANTITY} are not supported`);
      if (max !== undefined && max < min) this.fail(`quantifier {${min},${max}} has its maximum below its minimum`);
      unbounded = m[2] !== undefined && max === undefined;
      js = m[0];
    } else {
      return undefined;
    }
    // F&O §7.6.1: a reluctant quantifier ends with "?".
    if (this.peek() === '?') {
      this.#pos++;
      js += '?';
    }
    return { js, unbounded, min };
  }

  private atom(): Piece {
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
        return { js: `${capturing ? '(' : '(?:'}${inner.js})`, unbounded: inner.unbounded, fixed: inner.fixed };
      }
      case '[':
        return { js: this.charClassExpr(), unbounded: false, fixed: true };
      case '.':
        return { js: '[^\\n\\r]', unbounded: false, fixed: true };
      case '^':
      case '$':
        return { js: c, unbounded: false, fixed: false };
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
        return { js: literal(c.codePointAt(0)!), unbounded: false, fixed: true };
    }
  }

  private escapeAtom(): Piece {
    const c = this.peek();
    if (c !== undefined && /[1-9]/.test(c)) {
      // F&O §7.6.1 back-reference: the longest number naming a group closed before it.
      let digits = this.next();
      while (this.peek() !== undefined && /\d/.test(this.peek()!) && this.#closedGroups.has(Number(digits + this.peek()))) digits += this.next();
      if (!this.#closedGroups.has(Number(digits))) this.fail(`back-reference \\${digits} to a group not closed before it`);
      return { js: `\\${digits}`, unbounded: false, fixed: false };
    }
    return { js: this.charClassEscape(false), unbounded: false, fixed: true };
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

/** Translates an XML Schema / F&O regular expression; throws RegexSyntaxError. Exported for tests. */
export function translateRegex(pattern: string): RegExp {
  if (pattern.length > MAX_PATTERN_LENGTH) throw new RegexSyntaxError(`a regular expression longer than ${MAX_PATTERN_LENGTH} characters`);
  const js = new Translator(pattern).translate();
  try {
    return new RegExp(js, 'v');
  } catch (e) {
    throw new RegexSyntaxError(`invalid regular expression "${pattern}": ${(e as Error).message}`);
  }
}

const cache = new Map<string, RegExp>();
const CACHE_SIZE = 256;

function compiled(pattern: string): RegExp {
  let re = cache.get(pattern);
  if (re) {
    cache.delete(pattern);
  } else {
    re = translateRegex(pattern);
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  }
  cache.set(pattern, re);
  return re;
}

/** fn:matches(input, pattern) without flags. Throws IndeterminateError on a bad pattern or an oversized input. */
export function regexpMatches(pattern: string, input: string): boolean {
  if (input.length > MAX_INPUT_LENGTH) throw processingError(`regexp-match: an input longer than ${MAX_INPUT_LENGTH} characters`);
  let re: RegExp;
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
