/**
 * How userNames are compared: the PRECIS UsernameCaseMapped profile (RFC 8265 §3.3) of the IdentifierClass
 * (RFC 8264 §4.2), so that names a person reads as the same are one user (uniqueness, filters, the password
 * grant). Pure: no I/O. `checkUserName` validates and gives the comparison key stored in
 * scim_user.user_name_normalized; the userName itself is stored and returned as the client sent it.
 *
 * Enforcement, in RFC 8264 §7's order:
 * 1. Width mapping (RFC 8265 §3.3.1 rule 1): fullwidth and halfwidth code points become their decomposition
 *    (`ａｌｉｃｅ` is `alice`; U+3000 IDEOGRAPHIC SPACE is a space).
 * 2. Case mapping: Unicode full default case folding (CaseFolding.txt C+F), not RFC 8265's toLowerCase. A
 *    deliberate departure: RFC 8264 §5.2.3 names toCaseFold as the operation for comparing strings, and RFC 8265
 *    §3.6 says a server that wants `fußball` and `fussball` to be one name enforces that by policy; this is that
 *    policy (`ß`/`ss`, `ﬁ`/`fi`, and `ς`/`σ` are twins). Folding is applied to NFD text (Unicode D145,
 *    canonical caseless match). U+0130 `İ`: its full folding is `i̇` (i + U+0307 COMBINING DOT ABOVE), which looks
 *    exactly like `i` (the dot above an i is the i's own dot); so U+0307 right after `i` is dropped and `İ`, `i̇`
 *    and `i` are one name. (That is the Turkic T folding of U+0130; the Turkic I -> ı is not applied: `I` is `i`.)
 * 3. Normalization: NFC. Steps 1-3 repeat until the result is stable (RFC 8264 §7; at most 4 rounds).
 * 4. The behavioural rules (RFC 8264 §7 step 6, §8): every code point must be PVALID in the IdentifierClass, or
 *    CONTEXTO with its rule met (RFC 5892 Appendix A). Checked on the width-mapped input (RFC 8265 §3.3.2), where a
 *    code point that steps 2-3 turn into valid ones counts as what it becomes (`ﬁ` is `fi`, U+212A KELVIN SIGN is
 *    `k`, U+037E GREEK QUESTION MARK is canonically `;`), and again on the enforced key. So: no control characters, no default-ignorable (invisible) code points, no unassigned
 *    code points, nothing with a compatibility decomposition (`Ⅳ`, U+00A0 NO-BREAK SPACE), no symbols or
 *    punctuation beyond ASCII's, no old Hangul jamo.
 *    Departure, stricter than RFC 8264 §9.8: the join controls U+200C/U+200D (CONTEXTJ) are refused outright; an
 *    application may exclude code points (RFC 8264 §6.1), and an invisible joiner is a look-alike by nature.
 * 5. Spaces (RFC 8265 §3.1, §3.5: `username = userpart *(1*SP userpart)`): U+0020 only between userparts, and
 *    only one at a time (departure: the ABNF allows runs of spaces, which read as one space).
 * 6. The Bidi Rule (RFC 5893 §2), when the name holds right-to-left code points (R, AL or AN): on each userpart,
 *    as RFC 5893 does on each label of a domain name.
 * 7. Not empty, and at most MAX_USERNAME_LENGTH code points once enforced.
 *
 * Two strings are the same userName if and only if their keys are equal (RFC 8265 §3.3.4: octet for octet).
 * USERNAME_PROFILE_VERSION changes whenever a rule here changes keys; src/userstore/username-migration.ts then
 * recomputes the stored keys. (A newer Unicode version of the engine keeps stored keys: case folding and NFC are
 * stable for assigned code points, and unassigned ones were refused.)
 */
import { bidiClass, caseFold, UNICODE_VERSION, widthMapping, type BidiClass } from './unicode.js';

/** Bumped whenever a key could change; the data migration recomputes stored keys once per version. */
export const USERNAME_PROFILE_VERSION = 1;

/** The most code points an enforced userName may have (it is an index key; WSO2's own default is far lower). */
export const MAX_USERNAME_LENGTH = 255;

/**
 * No longer input can enforce to MAX_USERNAME_LENGTH code points (NFC composes at most 4 code points into one),
 * so longer input is refused before any work.
 */
const MAX_INPUT_LENGTH = 4 * MAX_USERNAME_LENGTH;

/** Which rule a userName breaks (stable: part of InvalidUserNameError). */
export type UserNameRule =
  | 'empty'
  | 'length'
  | 'spaces'
  | 'unassigned'
  | 'control'
  | 'ignorable'
  | 'join-control'
  | 'old-hangul-jamo'
  | 'compatibility'
  | 'space'
  | 'symbol'
  | 'punctuation'
  | 'other-letter-digit'
  | 'disallowed'
  | 'context'
  | 'bidi'
  | 'unstable';

/** A userName the profile refuses: `message` says which rule and, where one is to blame, which code point. */
export class InvalidUserNameError extends Error {
  override readonly name = 'InvalidUserNameError';
  readonly code = 'invalid_username';
  constructor(
    readonly rule: UserNameRule,
    message: string,
    readonly codePoint?: number,
  ) {
    super(message);
  }
}

export type UserNameCheck = { ok: true; key: string } | { ok: false; error: InvalidUserNameError };

// ---------------------------------------------------------------------------------------------------------------
// The derived property value of RFC 8264 §8, for the IdentifierClass

type Derived = 'pvalid' | 'contexto' | Exclude<UserNameRule, 'empty' | 'length' | 'spaces' | 'context' | 'bidi' | 'unstable'>;

/** Exceptions (F), RFC 5892 §2.6, which RFC 8264 §9.6 reuses. */
const EXCEPTIONS = new Map<number, Derived>([
  ...[0x00df, 0x03c2, 0x06fd, 0x06fe, 0x0f0b, 0x3007].map((cp) => [cp, 'pvalid'] as const),
  ...[0x00b7, 0x0375, 0x05f3, 0x05f4, 0x30fb].map((cp) => [cp, 'contexto'] as const),
  ...range(0x0660, 0x0669).map((cp) => [cp, 'contexto'] as const),
  ...range(0x06f0, 0x06f9).map((cp) => [cp, 'contexto'] as const),
  ...[0x0640, 0x07fa, 0x302e, 0x302f, 0x303b, ...range(0x3031, 0x3035)].map((cp) => [cp, 'disallowed'] as const),
]);

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

const UNASSIGNED = /^\p{Cn}$/u;
const JOIN_CONTROL = /^\p{Join_Control}$/u;
const IGNORABLE = /^[\p{Default_Ignorable_Code_Point}\p{Noncharacter_Code_Point}]$/u;
const CONTROL = /^\p{Cc}$/u;
const LETTER_DIGITS = /^[\p{Ll}\p{Lu}\p{Lo}\p{Nd}\p{Lm}\p{Mn}\p{Mc}]$/u;
const OTHER_LETTER_DIGITS = /^[\p{Lt}\p{Nl}\p{No}\p{Me}]$/u;
const SPACES = /^\p{Zs}$/u;
const SYMBOLS = /^\p{S}$/u;
const PUNCTUATION = /^\p{P}$/u;

/**
 * Hangul_Syllable_Type L, V or T (RFC 5892 §2.9, RFC 8264 §9.9): the conjoining jamo blocks, which are complete
 * (HangulSyllableType.txt has had these ranges since Unicode 5.2).
 */
function isConjoiningJamo(cp: number): boolean {
  return (cp >= 0x1100 && cp <= 0x11ff) || (cp >= 0xa960 && cp <= 0xa97c) || (cp >= 0xd7b0 && cp <= 0xd7c6) || (cp >= 0xd7cb && cp <= 0xd7fb);
}

/** RFC 8264 §8, in its order (which implementations must not change). BackwardCompatible (§9.7) is empty. */
function derive(cp: number): Derived {
  if (cp >= 0x21 && cp <= 0x7e) return 'pvalid'; // ASCII7 (K); no exception is ASCII, so checking it first is the same
  const exception = EXCEPTIONS.get(cp);
  if (exception) return exception;
  const c = String.fromCodePoint(cp);
  if (UNASSIGNED.test(c) && !/^\p{Noncharacter_Code_Point}$/u.test(c)) return 'unassigned';
  if (JOIN_CONTROL.test(c)) return 'join-control';
  if (isConjoiningJamo(cp)) return 'old-hangul-jamo';
  if (IGNORABLE.test(c)) return 'ignorable';
  if (CONTROL.test(c)) return 'control';
  if (c.normalize('NFKC') !== c) return 'compatibility';
  if (LETTER_DIGITS.test(c)) return 'pvalid';
  if (OTHER_LETTER_DIGITS.test(c)) return 'other-letter-digit';
  if (SPACES.test(c)) return 'space';
  if (SYMBOLS.test(c)) return 'symbol';
  if (PUNCTUATION.test(c)) return 'punctuation';
  return 'disallowed';
}

const allowed = (d: Derived) => d === 'pvalid' || d === 'contexto';

// ---------------------------------------------------------------------------------------------------------------
// Messages

/** Names of the invisible code points clients send most, so the message names them (no glyph to show). */
const NAMES = new Map<number, string>([
  [0x0009, 'CHARACTER TABULATION'],
  [0x000a, 'LINE FEED'],
  [0x000d, 'CARRIAGE RETURN'],
  [0x0000, 'NULL'],
  [0x007f, 'DELETE'],
  [0x00a0, 'NO-BREAK SPACE'],
  [0x00ad, 'SOFT HYPHEN'],
  [0x034f, 'COMBINING GRAPHEME JOINER'],
  [0x061c, 'ARABIC LETTER MARK'],
  [0x115f, 'HANGUL CHOSEONG FILLER'],
  [0x1160, 'HANGUL JUNGSEONG FILLER'],
  [0x180e, 'MONGOLIAN VOWEL SEPARATOR'],
  [0x2000, 'EN QUAD'],
  [0x2001, 'EM QUAD'],
  [0x2002, 'EN SPACE'],
  [0x2003, 'EM SPACE'],
  [0x2009, 'THIN SPACE'],
  [0x200a, 'HAIR SPACE'],
  [0x200b, 'ZERO WIDTH SPACE'],
  [0x200c, 'ZERO WIDTH NON-JOINER'],
  [0x200d, 'ZERO WIDTH JOINER'],
  [0x200e, 'LEFT-TO-RIGHT MARK'],
  [0x200f, 'RIGHT-TO-LEFT MARK'],
  [0x2028, 'LINE SEPARATOR'],
  [0x2029, 'PARAGRAPH SEPARATOR'],
  [0x202a, 'LEFT-TO-RIGHT EMBEDDING'],
  [0x202b, 'RIGHT-TO-LEFT EMBEDDING'],
  [0x202c, 'POP DIRECTIONAL FORMATTING'],
  [0x202d, 'LEFT-TO-RIGHT OVERRIDE'],
  [0x202e, 'RIGHT-TO-LEFT OVERRIDE'],
  [0x202f, 'NARROW NO-BREAK SPACE'],
  [0x205f, 'MEDIUM MATHEMATICAL SPACE'],
  [0x2060, 'WORD JOINER'],
  [0x2066, 'LEFT-TO-RIGHT ISOLATE'],
  [0x2067, 'RIGHT-TO-LEFT ISOLATE'],
  [0x2068, 'FIRST STRONG ISOLATE'],
  [0x2069, 'POP DIRECTIONAL ISOLATE'],
  [0x3164, 'HANGUL FILLER'],
  [0xfeff, 'ZERO WIDTH NO-BREAK SPACE'],
  [0xffa0, 'HALFWIDTH HANGUL FILLER'],
]);

const hex = (cp: number) => `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
const INVISIBLE = /^[\p{C}\p{Z}\p{Default_Ignorable_Code_Point}]$/u;
const MARK = /^\p{M}$/u;

/** `U+200B ZERO WIDTH SPACE`, or `U+2163 'Ⅳ'` for a visible code point (a mark shown on a dotted circle). */
function describe(cp: number): string {
  const name = NAMES.get(cp);
  if (name) return `${hex(cp)} ${name}`;
  if (cp >= 0xd800 && cp <= 0xdfff) return hex(cp);
  const c = String.fromCodePoint(cp);
  if (INVISIBLE.test(c)) return hex(cp);
  return `${hex(cp)} '${MARK.test(c) ? `\u25cc${c}` : c}'`;
}

function why(rule: Derived, cp: number): string {
  const c = String.fromCodePoint(cp);
  switch (rule) {
    case 'unassigned':
      return `a code point not assigned in Unicode ${UNICODE_VERSION}`;
    case 'join-control':
      return 'an invisible joiner';
    case 'old-hangul-jamo':
      return 'a conjoining Hangul jamo outside a precomposed syllable';
    case 'ignorable':
      return 'an invisible (default-ignorable) code point';
    case 'control':
      return 'a control character';
    case 'compatibility':
      return SPACES.test(c) ? 'a space other than U+0020 SPACE' : `a compatibility character (it stands for '${c.normalize('NFKC')}')`;
    case 'other-letter-digit':
      return 'a letter or number of a kind identifiers exclude (titlecase, letter-like or other numbers, enclosing marks)';
    case 'space':
      return 'a space other than U+0020 SPACE';
    case 'symbol':
      return 'a symbol (only ASCII symbols are allowed)';
    case 'punctuation':
      return 'punctuation (only ASCII punctuation is allowed)';
    case 'disallowed':
      if (cp >= 0xd800 && cp <= 0xdfff) return 'a lone surrogate (malformed UTF-16)';
      if (/^\p{Co}$/u.test(c)) return 'a private-use code point';
      if (EXCEPTIONS.has(cp)) return 'a character RFC 5892 §2.6 excludes from identifiers';
      return 'a format or separator character';
    case 'pvalid':
    case 'contexto':
      return '';
  }
}

function codePointError(rule: Derived, cp: number): InvalidUserNameError {
  const by = rule === 'join-control' ? 'this server does not allow in user names' : 'RFC 8265 does not allow';
  return new InvalidUserNameError(rule as UserNameRule, `userName contains ${describe(cp)}, ${why(rule, cp)}, which ${by}`, cp);
}

// ---------------------------------------------------------------------------------------------------------------
// Contextual rules (RFC 5892 Appendix A) and the Bidi Rule (RFC 5893 §2), on one userpart

const GREEK = /^\p{Script=Greek}$/u;
const HEBREW = /^\p{Script=Hebrew}$/u;
const KANA_OR_HAN = /^[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]$/u;
const chr = (cp: number | undefined) => (cp === undefined ? '' : String.fromCodePoint(cp));

/** The CONTEXTO rule of `cps[i]`: undefined when it holds, else what it needs. */
function contextProblem(cps: number[], i: number): string | undefined {
  const cp = cps[i]!;
  if (cp === 0x00b7) return cps[i - 1] === 0x6c && cps[i + 1] === 0x6c ? undefined : "only between two 'l' (RFC 5892 Appendix A.3)";
  if (cp === 0x0375) return GREEK.test(chr(cps[i + 1])) ? undefined : 'only before a Greek letter (RFC 5892 Appendix A.4)';
  if (cp === 0x05f3 || cp === 0x05f4) return HEBREW.test(chr(cps[i - 1])) ? undefined : 'only after a Hebrew letter (RFC 5892 Appendix A.5, A.6)';
  if (cp === 0x30fb) return cps.some((c) => KANA_OR_HAN.test(chr(c))) ? undefined : 'only with Hiragana, Katakana or Han (RFC 5892 Appendix A.7)';
  if (cp >= 0x0660 && cp <= 0x0669) return cps.some((c) => c >= 0x06f0 && c <= 0x06f9) ? 'not with Extended Arabic-Indic digits (RFC 5892 Appendix A.8)' : undefined;
  if (cp >= 0x06f0 && cp <= 0x06f9) return cps.some((c) => c >= 0x0660 && c <= 0x0669) ? 'not with Arabic-Indic digits (RFC 5892 Appendix A.9)' : undefined;
  return undefined;
}

const RTL_ALLOWED = new Set<BidiClass>(['R', 'AL', 'AN', 'EN', 'ES', 'CS', 'ET', 'ON', 'BN', 'NSM']);
const LTR_ALLOWED = new Set<BidiClass>(['L', 'EN', 'ES', 'CS', 'ET', 'ON', 'BN', 'NSM']);

/** The six conditions of RFC 5893 §2 on one userpart; the error names the condition and the code point. */
function bidiProblem(cps: number[]): InvalidUserNameError | undefined {
  const classes = cps.map(bidiClass);
  const fail = (condition: number, cp: number, what: string) =>
    new InvalidUserNameError('bidi', `userName ${what} (${describe(cp)}), which the Bidi Rule (RFC 5893 §2, condition ${condition}) does not allow`, cp);
  const first = classes[0]!;
  if (first !== 'L' && first !== 'R' && first !== 'AL') return fail(1, cps[0]!, 'mixes directions: a part of it begins with a character of no strong direction');
  const rtl = first !== 'L';
  for (let i = 0; i < cps.length; i++) {
    if (!(rtl ? RTL_ALLOWED : LTR_ALLOWED).has(classes[i]!)) {
      return fail(rtl ? 2 : 5, cps[i]!, rtl ? 'mixes directions: left-to-right text in a right-to-left part' : 'mixes directions: right-to-left text in a left-to-right part');
    }
  }
  let end = classes.length - 1;
  while (end > 0 && classes[end] === 'NSM') end--;
  const last = classes[end]!;
  if (rtl && !['R', 'AL', 'EN', 'AN'].includes(last)) return fail(3, cps[end]!, 'mixes directions: a right-to-left part ends with a character of no strong direction');
  if (!rtl && last !== 'L' && last !== 'EN') return fail(6, cps[end]!, 'mixes directions: a left-to-right part ends with a character of no strong direction');
  if (rtl && classes.includes('EN') && classes.includes('AN')) {
    return fail(4, cps[classes.indexOf('AN')]!, 'mixes European and Arabic-Indic digits in a right-to-left part');
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Enforcement

const DOTTED_I = /i\u0307/g;

/** One round of the mapping rules: width, case folding (on NFD), the `i̇` -> `i` choice, NFC. */
function mapOnce(text: string): string {
  let widened = '';
  for (const c of text) widened += String.fromCodePoint(widthMapping(c.codePointAt(0)!));
  return caseFold(widened.normalize('NFD')).replace(DOTTED_I, 'i').normalize('NFC');
}

/** The mapping rules applied until stable (RFC 8264 §7); undefined if not stable after 4 rounds. */
function mapStable(text: string): string | undefined {
  let current = text;
  for (let round = 0; round < 4; round++) {
    const next = mapOnce(current);
    if (next === current) return current;
    current = next;
  }
  return undefined;
}

/** Plain ASCII names (nearly all of them) need none of the Unicode work: their key is their lower case. */
const PLAIN_ASCII = /^[\x21-\x7e]+(?: [\x21-\x7e]+)*$/;

/**
 * Enforces the profile on a userName (without its `DOMAIN/` prefix): its comparison key, or the rule it breaks.
 *
 * @example
 * checkUserName('ＡＬＩＣＥ')   // { ok: true, key: 'alice' }
 * checkUserName('Straße')       // { ok: true, key: 'strasse' }
 * checkUserName('bob\u200b')    // { ok: false, error: 'userName contains U+200B ZERO WIDTH SPACE, ...' }
 */
export function checkUserName(userName: string): UserNameCheck {
  const fail = (error: InvalidUserNameError): UserNameCheck => ({ ok: false, error });
  if (userName === '') return fail(new InvalidUserNameError('empty', 'userName is empty'));
  const tooLong = () => fail(new InvalidUserNameError('length', `userName is longer than ${MAX_USERNAME_LENGTH} characters`));
  if (userName.length <= MAX_USERNAME_LENGTH && PLAIN_ASCII.test(userName)) return { ok: true, key: userName.toLowerCase() };
  if (userName.length > 2 * MAX_INPUT_LENGTH || [...userName].length > MAX_INPUT_LENGTH) return tooLong();

  // Preparation (RFC 8265 §3.3.2): width-mapped code points must be allowed, or map (fold, NFC) to allowed ones.
  for (const c of userName) {
    const original = c.codePointAt(0)!;
    const cp = widthMapping(original);
    if (cp === 0x20) continue; // spaces: the userpart structure, below
    // Conjoining jamo compose with their neighbours (U+1100 U+1161 is 가): the key below decides for them.
    if (isConjoiningJamo(cp)) continue;
    const d = derive(cp);
    if (allowed(d)) continue;
    const folded = mapStable(String.fromCodePoint(cp));
    if (folded !== undefined && folded !== String.fromCodePoint(cp) && [...folded].every((f) => allowed(derive(f.codePointAt(0)!)))) continue;
    return fail(codePointError(d, original));
  }

  const key = mapStable(userName);
  if (key === undefined) return fail(new InvalidUserNameError('unstable', 'userName does not reach a stable form under RFC 8264 §7'));
  if (key === '') return fail(new InvalidUserNameError('empty', 'userName is empty'));
  if (key.startsWith(' ') || key.endsWith(' ')) return fail(new InvalidUserNameError('spaces', 'userName begins or ends with a space'));
  if (key.includes('  ')) return fail(new InvalidUserNameError('spaces', 'userName has two spaces in a row: spaces are allowed one at a time, between parts of the name'));

  const parts = key.split(' ').map((part) => [...part].map((c) => c.codePointAt(0)!));
  let rtl = false;
  for (const cps of parts) {
    for (let i = 0; i < cps.length; i++) {
      const cp = cps[i]!;
      const d = derive(cp);
      // The key is what is compared, so it must itself consist of idpoints (a mapping could produce others).
      if (!allowed(d)) return fail(codePointError(d, cp));
      if (d === 'contexto') {
        const problem = contextProblem(cps, i);
        if (problem) return fail(new InvalidUserNameError('context', `userName contains ${describe(cp)}, which is allowed ${problem}`, cp));
      }
      const b = bidiClass(cp);
      if (b === 'R' || b === 'AL' || b === 'AN') rtl = true;
    }
  }
  if (rtl) {
    for (const cps of parts) {
      const problem = bidiProblem(cps);
      if (problem) return fail(problem);
    }
  }
  if ([...key].length > MAX_USERNAME_LENGTH) return tooLong();
  return { ok: true, key };
}

/** The comparison key of a userName; throws InvalidUserNameError when the profile refuses it. */
export function userNameKey(userName: string): string {
  const result = checkUserName(userName);
  if (!result.ok) throw result.error;
  return result.key;
}

/**
 * The profile's mapping rules alone (width, case folding, NFC), for text that is not a whole userName: a
 * substring filter value (`userName co "ＳＳ"` matches `straße`) or a name another system holds. Never throws.
 * (NFC of a part is not always a part of the NFC of the whole; for the strings identifiers allow it is.)
 */
export function foldUserName(text: string): string {
  if (PLAIN_ASCII.test(text)) return text.toLowerCase();
  let current = text;
  for (let round = 0; round < 4; round++) {
    const next = mapOnce(current);
    if (next === current) break;
    current = next;
  }
  return current;
}
