/**
 * XML Schema's date/time and duration values (XML Schema Part 2 §3.2.7-3.2.9, the XACML 3.0 duration types of
 * Appendix A.2), their order (§3.2.7.4) and the arithmetic of XML Schema Appendix E that XACML 3.0 §A.3.7 uses.
 *
 * Representations (immutable objects, owned by this module):
 * - dateTime, date, time: {@link Temporal}. The local fields as written (24:00:00 already carried into the next day),
 *   `year` astronomical (XML Schema 1.0 has no year 0: the lexical -0001 is year 0 here), `nanos` the fractional
 *   second in nanoseconds, `tz` the offset in minutes east of UTC or null when the lexical form had none.
 *   A date has zero time fields; a time has the reference date 1972-12-31 (the date XPath F&O §10.4 compares times on).
 * - dayTimeDuration: {@link DayTimeDuration}, the signed total in nanoseconds (bigint).
 * - yearMonthDuration: {@link YearMonthDuration}, the signed total in months (bigint).
 *
 * Bounds: years up to 9 999 999 in magnitude, at most 9 fractional-second digits (trailing zeros aside), duration
 * components of at most 18 digits. Anything beyond is refused with a clear error rather than rounded.
 */

export interface Temporal {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly nanos: number;
  readonly tz: number | null;
}

export interface DayTimeDuration {
  readonly nanos: bigint;
}

export interface YearMonthDuration {
  readonly months: bigint;
}

export const MAX_YEAR = 9_999_999;
const MAX_FRACTION_DIGITS = 9;
const MAX_COMPONENT_DIGITS = 18;
const NANOS_PER_SECOND = 1_000_000_000n;
const SECONDS_PER_DAY = 86_400;

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (astronomical year); H. Hinnant's days_from_civil. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing

const YEAR = '(-?(?:[1-9]\\d{4,}|\\d{4}))';
const TZ = '(Z|[+-]\\d{2}:\\d{2})?';
const DATE_TIME_RE = new RegExp(`^${YEAR}-(\\d{2})-(\\d{2})T(\\d{2}):(\\d{2}):(\\d{2})(?:\\.(\\d+))?${TZ}$`);
const DATE_RE = new RegExp(`^${YEAR}-(\\d{2})-(\\d{2})${TZ}$`);
const TIME_RE = new RegExp(`^(\\d{2}):(\\d{2}):(\\d{2})(?:\\.(\\d+))?${TZ}$`);

function parseYear(text: string, what: string): number {
  const lexical = Number(text);
  if (lexical === 0) throw new Error(`invalid ${what} "${text}": year 0000 is not allowed (XML Schema 1.0 §3.2.7)`);
  if (Math.abs(lexical) > MAX_YEAR) throw new Error(`${what} year ${text} is out of the supported range (±${MAX_YEAR})`);
  return lexical < 0 ? lexical + 1 : lexical;
}

function parseTz(text: string | undefined, what: string): number | null {
  if (text === undefined) return null;
  if (text === 'Z') return 0;
  const hours = Number(text.slice(1, 3));
  const minutes = Number(text.slice(4, 6));
  if (minutes > 59 || hours > 14 || (hours === 14 && minutes !== 0)) {
    throw new Error(`invalid ${what} time zone "${text}" (must lie within -14:00..+14:00)`);
  }
  const offset = hours * 60 + minutes;
  return text[0] === '-' ? -offset : offset;
}

function parseFraction(digits: string | undefined, what: string): number {
  if (digits === undefined) return 0;
  const significant = digits.replace(/0+$/, '');
  if (significant.length > MAX_FRACTION_DIGITS) {
    throw new Error(`${what} has more than ${MAX_FRACTION_DIGITS} fractional second digits`);
  }
  return Number(significant.padEnd(MAX_FRACTION_DIGITS, '0'));
}

interface TimeOfDay {
  hour: number;
  minute: number;
  second: number;
  nanos: number;
  /** 24:00:00 was written: the value is the start of the next day (XML Schema §3.2.7). */
  nextDay: boolean;
}

function checkTimeOfDay(h: string, m: string, s: string, frac: string | undefined, what: string, text: string): TimeOfDay {
  const hour = Number(h);
  const minute = Number(m);
  const second = Number(s);
  const nanos = parseFraction(frac, what);
  if (hour === 24 && minute === 0 && second === 0 && nanos === 0) return { hour: 0, minute: 0, second: 0, nanos: 0, nextDay: true };
  if (hour > 23 || minute > 59 || second > 59) throw new Error(`invalid ${what} "${text}": time of day out of range`);
  return { hour, minute, second, nanos, nextDay: false };
}

function checkDate(year: number, month: number, day: number, what: string, text: string): void {
  if (month < 1 || month > 12) throw new Error(`invalid ${what} "${text}": month out of range`);
  if (day < 1 || day > daysInMonth(year, month)) throw new Error(`invalid ${what} "${text}": day out of range for the month`);
}

export function parseDateTime(text: string): Temporal {
  const m = DATE_TIME_RE.exec(text);
  if (!m) throw new Error(`invalid dateTime "${text}" (expected [-]YYYY-MM-DDThh:mm:ss[.fff][Z|(+|-)hh:mm])`);
  const year = parseYear(m[1]!, 'dateTime');
  const month = Number(m[2]);
  const day = Number(m[3]);
  checkDate(year, month, day, 'dateTime', text);
  const t = checkTimeOfDay(m[4]!, m[5]!, m[6]!, m[7], 'dateTime', text);
  const tz = parseTz(m[8], 'dateTime');
  let date = { year, month, day };
  if (t.nextDay) date = civilFromDays(daysFromCivil(year, month, day) + 1);
  checkYear(date.year);
  return { ...date, hour: t.hour, minute: t.minute, second: t.second, nanos: t.nanos, tz };
}

export function parseDate(text: string): Temporal {
  const m = DATE_RE.exec(text);
  if (!m) throw new Error(`invalid date "${text}" (expected [-]YYYY-MM-DD[Z|(+|-)hh:mm])`);
  const year = parseYear(m[1]!, 'date');
  const month = Number(m[2]);
  const day = Number(m[3]);
  checkDate(year, month, day, 'date', text);
  return { year, month, day, hour: 0, minute: 0, second: 0, nanos: 0, tz: parseTz(m[4], 'date') };
}

/** Times sit on the reference date 1972-12-31 (XPath F&O §10.4.12 op:time-equal). */
const TIME_REFERENCE = { year: 1972, month: 12, day: 31 } as const;

export function parseTime(text: string): Temporal {
  const m = TIME_RE.exec(text);
  if (!m) throw new Error(`invalid time "${text}" (expected hh:mm:ss[.fff][Z|(+|-)hh:mm])`);
  const t = checkTimeOfDay(m[1]!, m[2]!, m[3]!, m[4], 'time', text);
  return { ...TIME_REFERENCE, hour: t.hour, minute: t.minute, second: t.second, nanos: t.nanos, tz: parseTz(m[5], 'time') };
}

function checkYear(year: number): void {
  if (Math.abs(year) > MAX_YEAR) throw new Error(`year ${year} is out of the supported range (±${MAX_YEAR})`);
}

const DAY_TIME_RE = /^(-)?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:\.(\d+))?S)?)?$/;
const YEAR_MONTH_RE = /^(-)?P(?:(\d+)Y)?(?:(\d+)M)?$/;

function component(digits: string | undefined, what: string): bigint {
  if (digits === undefined) return 0n;
  if (digits.length > MAX_COMPONENT_DIGITS) throw new Error(`${what} component ${digits} has more than ${MAX_COMPONENT_DIGITS} digits`);
  return BigInt(digits);
}

export function parseDayTimeDuration(text: string): DayTimeDuration {
  const m = DAY_TIME_RE.exec(text);
  // At least one component, and a 'T' only when a time component follows (XML Schema §3.2.6.1).
  if (!m || (m[2] === undefined && m[3] === undefined && m[4] === undefined && m[5] === undefined) || /T$/.test(text)) {
    throw new Error(`invalid dayTimeDuration "${text}" (expected [-]PnDTnHnMn[.n]S)`);
  }
  const what = 'dayTimeDuration';
  const seconds =
    component(m[2], what) * 86_400n + component(m[3], what) * 3_600n + component(m[4], what) * 60n + component(m[5], what);
  const nanos = seconds * NANOS_PER_SECOND + BigInt(parseFraction(m[6], what));
  return { nanos: m[1] ? -nanos : nanos };
}

export function parseYearMonthDuration(text: string): YearMonthDuration {
  const m = YEAR_MONTH_RE.exec(text);
  if (!m || (m[2] === undefined && m[3] === undefined)) {
    throw new Error(`invalid yearMonthDuration "${text}" (expected [-]PnYnM)`);
  }
  const months = component(m[2], 'yearMonthDuration') * 12n + component(m[3], 'yearMonthDuration');
  return { months: m[1] ? -months : months };
}

// ---------------------------------------------------------------------------------------------------------------
// Formatting (the canonical forms of XML Schema §3.2.6.2 and §3.2.7.2, keeping a value's own time zone)

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function formatFraction(nanos: number): string {
  return nanos === 0 ? '' : `.${pad(nanos, MAX_FRACTION_DIGITS).replace(/0+$/, '')}`;
}

function formatTz(tz: number | null): string {
  if (tz === null) return '';
  if (tz === 0) return 'Z';
  const abs = Math.abs(tz);
  return `${tz < 0 ? '-' : '+'}${pad(Math.floor(abs / 60), 2)}:${pad(abs % 60, 2)}`;
}

function formatYear(year: number): string {
  const lexical = year <= 0 ? year - 1 : year;
  return lexical < 0 ? `-${pad(-lexical, 4)}` : pad(lexical, 4);
}

export function formatDate(v: Temporal): string {
  return `${formatYear(v.year)}-${pad(v.month, 2)}-${pad(v.day, 2)}${formatTz(v.tz)}`;
}

export function formatTime(v: Temporal): string {
  return `${pad(v.hour, 2)}:${pad(v.minute, 2)}:${pad(v.second, 2)}${formatFraction(v.nanos)}${formatTz(v.tz)}`;
}

export function formatDateTime(v: Temporal): string {
  return `${formatYear(v.year)}-${pad(v.month, 2)}-${pad(v.day, 2)}T${formatTime({ ...v, tz: null })}${formatTz(v.tz)}`;
}

export function formatDayTimeDuration(v: DayTimeDuration): string {
  const negative = v.nanos < 0n;
  let rest = negative ? -v.nanos : v.nanos;
  const nanos = Number(rest % NANOS_PER_SECOND);
  rest /= NANOS_PER_SECOND;
  const seconds = rest % 60n;
  rest /= 60n;
  const minutes = rest % 60n;
  rest /= 60n;
  const hours = rest % 24n;
  const days = rest / 24n;
  let time = '';
  if (hours) time += `${hours}H`;
  if (minutes) time += `${minutes}M`;
  if (seconds || nanos) time += `${seconds}${formatFraction(nanos)}S`;
  const body = `${days ? `${days}D` : ''}${time ? `T${time}` : ''}`;
  return body ? `${negative ? '-' : ''}P${body}` : 'PT0S';
}

export function formatYearMonthDuration(v: YearMonthDuration): string {
  const negative = v.months < 0n;
  const abs = negative ? -v.months : v.months;
  const years = abs / 12n;
  const months = abs % 12n;
  const body = `${years ? `${years}Y` : ''}${months || !years ? `${months}M` : ''}`;
  return `${negative && abs ? '-' : ''}P${body}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Order (XML Schema §3.2.7.4)

/** Seconds since 1970-01-01T00:00:00 of the local fields read as UTC. */
function localSeconds(v: Temporal): number {
  return daysFromCivil(v.year, v.month, v.day) * SECONDS_PER_DAY + v.hour * 3600 + v.minute * 60 + v.second;
}

function compareInstants(aSeconds: number, aNanos: number, bSeconds: number, bNanos: number): -1 | 0 | 1 {
  if (aSeconds !== bSeconds) return aSeconds < bSeconds ? -1 : 1;
  if (aNanos !== bNanos) return aNanos < bNanos ? -1 : 1;
  return 0;
}

const FOURTEEN_HOURS = 14 * 3600;

/**
 * The partial order of XML Schema §3.2.7.4: values that both have or both lack a time zone are totally ordered; a
 * value with a time zone and one without are ordered only when the one without lies on the same side under every
 * time zone from -14:00 to +14:00. `undefined` means the two are incomparable.
 */
export function compareTemporal(a: Temporal, b: Temporal): -1 | 0 | 1 | undefined {
  const aLocal = localSeconds(a);
  const bLocal = localSeconds(b);
  if ((a.tz === null) === (b.tz === null)) {
    return compareInstants(aLocal - (a.tz ?? 0) * 60, a.nanos, bLocal - (b.tz ?? 0) * 60, b.nanos);
  }
  if (a.tz !== null) {
    const p = aLocal - a.tz * 60;
    if (compareInstants(p, a.nanos, bLocal - FOURTEEN_HOURS, b.nanos) < 0) return -1;
    if (compareInstants(p, a.nanos, bLocal + FOURTEEN_HOURS, b.nanos) > 0) return 1;
    return undefined;
  }
  const reversed = compareTemporal(b, a);
  return reversed === undefined ? undefined : ((-reversed || 0) as -1 | 0 | 1);
}

/** A string equal for equal values (XML Schema's equality), for hashing bags. */
export function temporalKey(v: Temporal): string {
  const seconds = localSeconds(v) - (v.tz ?? 0) * 60;
  return `${v.tz === null ? 'L' : 'Z'}${seconds}.${v.nanos}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Arithmetic (XML Schema Appendix E, "Adding durations to dateTimes")

function fromLocalSeconds(seconds: number, nanos: number, tz: number | null): Temporal {
  const days = Math.floor(seconds / SECONDS_PER_DAY);
  let rest = seconds - days * SECONDS_PER_DAY;
  const date = civilFromDays(days);
  checkYear(date.year);
  const hour = Math.floor(rest / 3600);
  rest -= hour * 3600;
  const minute = Math.floor(rest / 60);
  return { ...date, hour, minute, second: rest - minute * 60, nanos, tz };
}

/** dateTime + dayTimeDuration: the local fields move by the duration; the time zone stays. Throws on overflow. */
export function addDayTime(v: Temporal, d: DayTimeDuration): Temporal {
  const total = BigInt(localSeconds(v)) * NANOS_PER_SECOND + BigInt(v.nanos) + d.nanos;
  let seconds = total / NANOS_PER_SECOND;
  let nanos = total % NANOS_PER_SECOND;
  if (nanos < 0n) {
    nanos += NANOS_PER_SECOND;
    seconds -= 1n;
  }
  const limit = BigInt(daysFromCivil(MAX_YEAR + 1, 1, 1)) * 86_400n;
  if (seconds >= limit || seconds <= -limit) throw new Error(`the result is out of the supported year range (±${MAX_YEAR})`);
  return fromLocalSeconds(Number(seconds), Number(nanos), v.tz);
}

/**
 * date/dateTime + yearMonthDuration: months are added and the day is pinned to the last day of the resulting month
 * (XML Schema Appendix E: 2004-01-31 + P1M = 2004-02-29). Throws on overflow.
 */
export function addYearMonth(v: Temporal, d: YearMonthDuration): Temporal {
  const monthIndex = BigInt(v.year) * 12n + BigInt(v.month - 1) + d.months;
  let year = monthIndex / 12n;
  let month = monthIndex % 12n;
  if (month < 0n) {
    month += 12n;
    year -= 1n;
  }
  if (year > BigInt(MAX_YEAR) || year < -BigInt(MAX_YEAR)) {
    throw new Error(`the result is out of the supported year range (±${MAX_YEAR})`);
  }
  const y = Number(year);
  const m = Number(month) + 1;
  return { ...v, year: y, month: m, day: Math.min(v.day, daysInMonth(y, m)) };
}
