/**
 * String functions: normalisation (XACML 3.0 §A.3.3), string-concatenate, the starts-with/ends-with/contains
 * predicates and the substrings of strings and URIs (§A.3.9). Positions count characters (Unicode code points, as
 * XPath F&O does), not UTF-16 units.
 */
import { DataType, processingError } from '../values.js';
import { MAX_LEXICAL_LENGTH } from './datatypes.js';
import { XACML1, XACML2, XACML3, firstOrder, int, str, v, val, valueType, type FunctionTable } from './define.js';

const S = DataType.string;
const URI = DataType.anyURI;
const string = valueType(S);
const boolean = valueType(DataType.boolean);

/** fn:lower-case without language tailoring (§A.3.3 string-normalize-to-lower-case). */
export function lowerCase(s: string): string {
  return s.toLowerCase();
}

/** §A.3.3: leading and trailing white space (XML's S production: space, tab, CR, LF) stripped; inner kept. */
export function normalizeSpace(s: string): string {
  return s.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
}

/** Code-point comparison of strings (XML Schema's order on string is that of the code points). */
export function compareStrings(a: string, b: string): -1 | 0 | 1 {
  const x = [...a];
  const y = [...b];
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const cx = x[i]!.codePointAt(0)!;
    const cy = y[i]!.codePointAt(0)!;
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
  return x.length === y.length ? 0 : x.length < y.length ? -1 : 1;
}

/**
 * §A.3.9 string-substring / anyURI-substring: from `begin` (0-based, inclusive) to `end` (exclusive, -1 = the end).
 * Indices outside the string, or an end before the begin, are a processing error.
 */
function substring(s: string, begin: bigint, end: bigint): string {
  const chars = [...s];
  const length = BigInt(chars.length);
  if (begin < 0n || begin > length) throw processingError(`substring: begin index ${begin} is outside 0..${length}`);
  const stop = end === -1n ? length : end;
  if (stop < 0n || stop > length) throw processingError(`substring: end index ${end} is outside 0..${length} (or -1)`);
  if (stop < begin) throw processingError(`substring: end index ${end} is before begin index ${begin}`);
  return chars.slice(Number(begin), Number(stop)).join('');
}

export function addStringFunctions(table: FunctionTable): void {
  table.add(firstOrder(`${XACML1}string-normalize-space`, { params: [v(S)], returns: string }, ([a]) => val(S, normalizeSpace(str(a)))));
  table.add(firstOrder(`${XACML1}string-normalize-to-lower-case`, { params: [v(S)], returns: string }, ([a]) => val(S, lowerCase(str(a)))));

  table.add(
    firstOrder(`${XACML2}string-concatenate`, { params: [v(S), v(S)], rest: v(S), minArgs: 2, returns: string }, (args) => {
      const out = args.map(str).join('');
      if (out.length > MAX_LEXICAL_LENGTH) throw processingError(`string-concatenate: the result exceeds ${MAX_LEXICAL_LENGTH} characters`);
      return val(S, out);
    }),
  );
  // Deprecated in 3.0 (§10.2.8), kept so older policies load: an anyURI followed by strings, giving an anyURI.
  table.add(
    firstOrder(`${XACML2}uri-string-concatenate`, { params: [v(URI), v(S)], rest: v(S), minArgs: 2, returns: valueType(URI) }, (args) => {
      const out = args.map(str).join('');
      if (out.length > MAX_LEXICAL_LENGTH) throw processingError(`uri-string-concatenate: the result exceeds ${MAX_LEXICAL_LENGTH} characters`);
      return val(URI, out);
    }),
  );

  // §A.3.9: "true if the second argument begins with (ends with, contains) the first"; the URI forms take the string
  // first and the anyURI second.
  const predicates: [string, (hay: string, needle: string) => boolean][] = [
    ['starts-with', (hay, needle) => hay.startsWith(needle)],
    ['ends-with', (hay, needle) => hay.endsWith(needle)],
    ['contains', (hay, needle) => hay.includes(needle)],
  ];
  for (const [name, test] of predicates) {
    table.add(firstOrder(`${XACML3}string-${name}`, { params: [v(S), v(S)], returns: boolean }, ([a, b]) => val(DataType.boolean, test(str(b), str(a)))));
    table.add(firstOrder(`${XACML3}anyURI-${name}`, { params: [v(S), v(URI)], returns: boolean }, ([a, b]) => val(DataType.boolean, test(str(b), str(a)))));
  }

  const I = DataType.integer;
  table.add(firstOrder(`${XACML3}string-substring`, { params: [v(S), v(I), v(I)], returns: string }, ([s, b, e]) => val(S, substring(str(s), int(b), int(e)))));
  table.add(firstOrder(`${XACML3}anyURI-substring`, { params: [v(URI), v(I), v(I)], returns: string }, ([s, b, e]) => val(S, substring(str(s), int(b), int(e)))));
}
