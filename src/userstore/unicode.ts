/**
 * The Unicode operations the userName profile (src/userstore/username.ts) builds on, in one place so that each
 * can be replaced by a library without touching the profile:
 *
 * - `caseFold`: Unicode full default case folding (toCaseFold, CaseFolding.txt statuses C and F). Derived from
 *   the engine's own case mappings and its Changes_When_Casefolded property, so it follows the engine's Unicode
 *   version like `normalize()` and the RegExp property escapes the profile uses. Checked against CaseFolding.txt
 *   (Python's str.casefold) for every code point when written: `toLowerCase(toUpperCase(toLowerCase(c)))` is the
 *   full folding of every code point that changes when case folded, except Cherokee, the one script whose folding
 *   goes to capitals (Unicode 8.0 stability), handled here. Swap: `unicode-case-folding`'s `caseFold`.
 * - `bidiClass`: Bidi_Class (UAX #9), which JavaScript cannot query, from a table generated from the Unicode
 *   Character Database of the engine's version (scripts/generate-unicode-tables.py). Swap: `bidi-js`'s
 *   `getBidiCharTypeName`.
 * - `widthMapping`: the decomposition mapping of fullwidth and halfwidth code points (Decomposition_Type Wide or
 *   Narrow, UAX #11), likewise generated.
 */
import { BIDI_CLASSES, UNICODE_TABLES_VERSION, WIDTH_MAPPINGS } from './unicode-tables.generated.js';

/** The Unicode version of the generated tables (the engine's: Node 20.20 ships Unicode 17.0). */
export const UNICODE_VERSION = UNICODE_TABLES_VERSION;

export type BidiClass = 'L' | 'R' | 'AL' | 'EN' | 'ES' | 'ET' | 'AN' | 'CS' | 'NSM' | 'BN' | 'B' | 'S' | 'WS' | 'ON' | 'LRE' | 'LRO' | 'RLE' | 'RLO' | 'PDF' | 'LRI' | 'RLI' | 'FSI' | 'PDI';

interface Ranges<V> {
  starts: number[];
  ends: number[];
  values: V[];
}

/** Parses the generated `start[-end]:value` lists (hex code points) into sorted arrays for binary search. */
function parseRanges<V>(text: string, value: (raw: string) => V): Ranges<V> {
  const out: Ranges<V> = { starts: [], ends: [], values: [] };
  for (const entry of text.split(' ')) {
    const [span = '', raw = ''] = entry.split(':');
    const [start = '', end = start] = span.split('-');
    out.starts.push(parseInt(start, 16));
    out.ends.push(parseInt(end, 16));
    out.values.push(value(raw));
  }
  return out;
}

function lookup<V>(ranges: Ranges<V>, cp: number): V | undefined {
  let lo = 0;
  let hi = ranges.starts.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < ranges.starts[mid]!) hi = mid - 1;
    else if (cp > ranges.ends[mid]!) lo = mid + 1;
    else return ranges.values[mid];
  }
  return undefined;
}

let bidi: Ranges<BidiClass> | undefined;
let width: Ranges<number> | undefined;

/** The Bidi_Class of a code point (L for every code point the table does not list). */
export function bidiClass(cp: number): BidiClass {
  bidi ??= parseRanges(BIDI_CLASSES, (raw) => raw as BidiClass);
  return lookup(bidi, cp) ?? 'L';
}

/** The decomposition mapping of a fullwidth or halfwidth code point (`Ａ` -> `A`), else the code point itself. */
export function widthMapping(cp: number): number {
  width ??= parseRanges(WIDTH_MAPPINGS, Number);
  const delta = lookup(width, cp);
  return delta === undefined ? cp : cp + delta;
}

const CHANGES_WHEN_CASEFOLDED = /\p{Changes_When_Casefolded}/u;
const CHEROKEE = /\p{Script=Cherokee}/u;

/** Full case folding of one code point (a string of one code point). */
function foldCodePoint(c: string): string {
  if (!CHANGES_WHEN_CASEFOLDED.test(c)) return c;
  if (CHEROKEE.test(c)) return c.toUpperCase(); // only its small letters change when case folded
  // Lower first (ẞ -> ß), then upper (ß -> SS, ﬁ -> FI, ΐ -> Ϊ́), then lower: the C and F foldings. Per code
  // point, so toLowerCase's Final_Sigma context never applies (folding has none: ς folds to σ).
  return c.toLowerCase().toUpperCase().toLowerCase();
}

/**
 * Unicode full default case folding (toCaseFold, Unicode §3.13 D142 with CaseFolding.txt statuses C and F; not
 * the Turkic T mappings). Apply it to NFD text for a canonical caseless match (D145).
 */
export function caseFold(text: string): string {
  let out = '';
  for (const c of text) out += foldCodePoint(c);
  return out;
}
