/**
 * The XACML 3.0 data types (Appendix A.2): lexical parsing, canonical formatting, equality and a hash key per type.
 *
 * Each AttributeValue's `value` is the representation its type chose here (or in temporal-values.ts and
 * name-values.ts for the date/time and name types):
 * - string, anyURI: the string as written (anyURI with XML Schema's whitespace collapsing).
 * - boolean: a boolean. integer: a bigint (arbitrary precision, §A.2). double: a number (IEEE 754, INF/-INF/NaN).
 * - hexBinary, base64Binary: a Uint8Array of the octets.
 * - xpathExpression: {@link XPathExpressionValue} (the path, its XPathCategory and the in-scope namespace prefixes).
 * - date/time/duration and name types: see their modules.
 *
 * Deprecated data type identifiers that older policies use (XACML 3.0 §10.2.8) are known too: the 2002 working-draft
 * duration URIs have the same representation as the XML Schema ones.
 */
import { DataType, type AttributeValue } from '../values.js';
import {
  compareTemporal,
  formatDate,
  formatDateTime,
  formatDayTimeDuration,
  formatTime,
  formatYearMonthDuration,
  parseDate,
  parseDateTime,
  parseDayTimeDuration,
  parseTime,
  parseYearMonthDuration,
  temporalKey,
  type DayTimeDuration,
  type Temporal,
  type YearMonthDuration,
} from './temporal-values.js';
import {
  dnsNameKey,
  ipAddressKey,
  parseDnsName,
  parseIpAddress,
  parseRfc822Name,
  parseX500Name,
  rfc822NameKey,
  x500NameKey,
  type DnsName,
  type IpAddress,
  type Rfc822Name,
  type X500Name,
} from './name-values.js';

/** The deprecated duration data types (XACML 3.0 §10.2.8), accepted by the deprecated 1.0 function ids. */
export const LegacyDataType = {
  dayTimeDuration: 'http://www.w3.org/TR/2002/WD-xquery-operators-20020816#dayTimeDuration',
  yearMonthDuration: 'http://www.w3.org/TR/2002/WD-xquery-operators-20020816#yearMonthDuration',
} as const;

export interface XPathExpressionValue {
  readonly path: string;
  readonly category: string;
  readonly namespaces: Readonly<Record<string, string>>;
}

export interface XmlContext {
  attributes: Record<string, string>;
  namespaces: Record<string, string>;
}

interface DataTypeDefinition {
  parse(text: string, xml?: XmlContext): unknown;
  format(value: unknown): string;
  /** Equal keys for equal values; values with different keys are never equal. */
  key(value: unknown): string;
  /** Only where equality is more than key equality (the date/time types' partial order). */
  equals?(a: unknown, b: unknown): boolean;
}

/** Bound on one lexical value (the policy and request documents are bounded as a whole by the parser). */
export const MAX_LEXICAL_LENGTH = 1_000_000;
/** Bound on an integer's size: 4096 decimal digits (values, and results of arithmetic on them). */
export const MAX_INTEGER_DIGITS = 4096;

/** XML Schema's whiteSpace="collapse" (every type here but string, §4.3.6 of XML Schema Part 2). */
function collapse(text: string): string {
  return text.replace(/[\t\n\r ]+/g, ' ').trim();
}

export function checkIntegerBound(v: bigint): bigint {
  if ((v < 0n ? -v : v).toString().length > MAX_INTEGER_DIGITS) {
    throw new RangeError(`integer of more than ${MAX_INTEGER_DIGITS} digits`);
  }
  return v;
}

export function parseInteger(text: string): bigint {
  const t = collapse(text);
  if (!/^[+-]?\d+$/.test(t)) throw new Error(`invalid integer "${text}"`);
  if (t.replace(/^[+-]?0*/, '').length > MAX_INTEGER_DIGITS) throw new Error(`integer "${t.slice(0, 20)}..." has more than ${MAX_INTEGER_DIGITS} digits`);
  return BigInt(t);
}

export function parseDouble(text: string): number {
  const t = collapse(text);
  if (t === 'INF' || t === '+INF') return Infinity;
  if (t === '-INF') return -Infinity;
  if (t === 'NaN') return NaN;
  if (!/^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/.test(t)) throw new Error(`invalid double "${text}"`);
  return Number(t);
}

/** XML Schema §3.2.5.2's canonical double (mantissa, "E", exponent), INF, -INF, NaN. */
export function formatDouble(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'INF';
  if (v === -Infinity) return '-INF';
  if (Object.is(v, -0)) return '-0.0E0';
  if (v === 0) return '0.0E0';
  const [mantissa, exponent] = v.toExponential().split('e') as [string, string];
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${Number(exponent)}`;
}

function parseBoolean(text: string): boolean {
  const t = collapse(text);
  if (t === 'true' || t === '1') return true;
  if (t === 'false' || t === '0') return false;
  throw new Error(`invalid boolean "${text}" (expected true, false, 1 or 0)`);
}

function parseHexBinary(text: string): Uint8Array {
  const t = collapse(text);
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(t)) throw new Error(`invalid hexBinary "${text.slice(0, 40)}" (expected pairs of hex digits)`);
  const bytes = new Uint8Array(t.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(t.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

function formatHexBinary(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0').toUpperCase()).join('');
}

function parseBase64Binary(text: string): Uint8Array {
  // XML Schema §3.2.16: base64 with optional spaces between the characters.
  const t = text.replace(/[\t\n\r ]+/g, '');
  if (t.length % 4 !== 0 || !/^[A-Za-z0-9+/]*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(t)) {
    throw new Error(`invalid base64Binary "${text.slice(0, 40)}"`);
  }
  return new Uint8Array(Buffer.from(t, 'base64'));
}

function formatBase64Binary(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

function parseXPathExpression(text: string, xml?: XmlContext): XPathExpressionValue {
  const category = xml?.attributes['XPathCategory'];
  if (!category) throw new Error('an xpathExpression value needs an XPathCategory attribute (XACML 3.0 §A.2)');
  if (text.trim() === '') throw new Error('an empty xpathExpression');
  return { path: text.trim(), category, namespaces: { ...(xml?.namespaces ?? {}) } };
}

const temporalType = (parse: (t: string) => Temporal, format: (v: Temporal) => string): DataTypeDefinition => ({
  parse: (text) => parse(collapse(text)),
  format: (v) => format(v as Temporal),
  key: (v) => temporalKey(v as Temporal),
  equals: (a, b) => compareTemporal(a as Temporal, b as Temporal) === 0,
});

const dayTimeDurationType: DataTypeDefinition = {
  parse: (text) => parseDayTimeDuration(collapse(text)),
  format: (v) => formatDayTimeDuration(v as DayTimeDuration),
  key: (v) => String((v as DayTimeDuration).nanos),
};

const yearMonthDurationType: DataTypeDefinition = {
  parse: (text) => parseYearMonthDuration(collapse(text)),
  format: (v) => formatYearMonthDuration(v as YearMonthDuration),
  key: (v) => String((v as YearMonthDuration).months),
};

const definitions: ReadonlyMap<string, DataTypeDefinition> = new Map<string, DataTypeDefinition>([
  [DataType.string, { parse: (t) => t, format: (v) => v as string, key: (v) => v as string }],
  [DataType.boolean, { parse: parseBoolean, format: (v) => String(v), key: (v) => String(v) }],
  [DataType.integer, { parse: parseInteger, format: (v) => String(v), key: (v) => String(v) }],
  [
    DataType.double,
    {
      parse: parseDouble,
      format: (v) => formatDouble(v as number),
      // 0 and -0 are equal (IEEE 754). NaN equals NaN: XML Schema 1.0's equality is identity in the value space, and
      // the mandatory conformance tests IIC350 and IIC358 require double-equal(NaN, NaN) to be True.
      key: (v) => String(v),
    },
  ],
  [DataType.anyURI, { parse: collapse, format: (v) => v as string, key: (v) => v as string }],
  [DataType.hexBinary, { parse: parseHexBinary, format: (v) => formatHexBinary(v as Uint8Array), key: (v) => formatHexBinary(v as Uint8Array) }],
  [DataType.base64Binary, { parse: parseBase64Binary, format: (v) => formatBase64Binary(v as Uint8Array), key: (v) => formatHexBinary(v as Uint8Array) }],
  [DataType.dateTime, temporalType(parseDateTime, formatDateTime)],
  [DataType.date, temporalType(parseDate, formatDate)],
  [DataType.time, temporalType(parseTime, formatTime)],
  [DataType.dayTimeDuration, dayTimeDurationType],
  [DataType.yearMonthDuration, yearMonthDurationType],
  [LegacyDataType.dayTimeDuration, dayTimeDurationType],
  [LegacyDataType.yearMonthDuration, yearMonthDurationType],
  [DataType.x500Name, { parse: (t) => parseX500Name(t.trim()), format: (v) => (v as X500Name).text, key: (v) => x500NameKey(v as X500Name) }],
  [DataType.rfc822Name, { parse: (t) => parseRfc822Name(collapse(t)), format: (v) => `${(v as Rfc822Name).local}@${(v as Rfc822Name).domain}`, key: (v) => rfc822NameKey(v as Rfc822Name) }],
  [DataType.ipAddress, { parse: (t) => parseIpAddress(collapse(t)), format: (v) => (v as IpAddress).text, key: (v) => ipAddressKey(v as IpAddress) }],
  [DataType.dnsName, { parse: (t) => parseDnsName(collapse(t)), format: (v) => (v as DnsName).text, key: (v) => dnsNameKey(v as DnsName) }],
  [
    DataType.xpathExpression,
    {
      parse: parseXPathExpression,
      format: (v) => (v as XPathExpressionValue).path,
      key: (v) => `${(v as XPathExpressionValue).category} ${(v as XPathExpressionValue).path}`,
    },
  ],
]);

function definition(dataType: string): DataTypeDefinition {
  const def = definitions.get(dataType);
  if (!def) throw new Error(`unknown data type ${dataType}`);
  return def;
}

export function isKnownDataType(dataType: string): boolean {
  return definitions.has(dataType);
}

/**
 * Parses an <AttributeValue>'s text. `xml` carries what xpathExpression needs (the XPathCategory attribute and the
 * in-scope namespace prefixes of the element). Throws Error (a syntax error message) on an invalid lexical form or an
 * unknown data type.
 *
 * @example parseValue(DataType.integer, ' 42 ') // { dataType: 'http://www.w3.org/2001/XMLSchema#integer', value: 42n }
 */
export function parseValue(dataType: string, text: string, xml?: XmlContext): AttributeValue {
  const def = definition(dataType);
  if (text.length > MAX_LEXICAL_LENGTH) throw new Error(`a value longer than ${MAX_LEXICAL_LENGTH} characters`);
  return { dataType, value: def.parse(text, xml) };
}

/** The canonical lexical form, for responses (AttributeAssignment, IncludeInResult attributes). */
export function formatValue(value: AttributeValue): string {
  return definition(value.dataType).format(value.value);
}

/** The type's equality (the `type-equal` function's semantics, §A.3.1); values of different types are unequal. */
export function valueEquals(a: AttributeValue, b: AttributeValue): boolean {
  if (a.dataType !== b.dataType) return false;
  const def = definition(a.dataType);
  return def.equals ? def.equals(a.value, b.value) : def.key(a.value) === def.key(b.value);
}

/** A string such that equal values (valueEquals) have equal keys; for the set and bag functions' hashing. */
export function valueKey(value: AttributeValue): string {
  return definition(value.dataType).key(value.value);
}

/** A short name for messages: "integer" for XML Schema types, the last URN segment otherwise. */
export function shortTypeName(dataType: string): string {
  const hash = dataType.lastIndexOf('#');
  if (hash >= 0) return dataType.slice(hash + 1);
  return dataType.slice(dataType.lastIndexOf(':') + 1);
}
