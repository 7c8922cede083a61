/**
 * Date and time functions: the duration arithmetic of XACML 3.0 §A.3.7 (with the deprecated 1.0 ids of §10.2.8, on
 * the old or the new duration types) and time-in-range (§A.3.8).
 */
import { DataType, processingError, type AttributeValue, type Value } from '../values.js';
import { LegacyDataType } from './datatypes.js';
import { XACML1, XACML2, XACML3, firstOrder, single, v, val, valueType, type FunctionTable } from './define.js';
import { addDayTime, addYearMonth, type DayTimeDuration, type Temporal, type YearMonthDuration } from './temporal-values.js';

const DT = DataType.dateTime;
const DATE = DataType.date;

function guarded(compute: () => Temporal): Temporal {
  try {
    return compute();
  } catch (e) {
    throw processingError((e as Error).message);
  }
}

/** Seconds of the day, in nanoseconds, of a time at UTC (for time-in-range). */
function nanosOfDayUtc(t: Temporal, tz: number): bigint {
  const seconds = (((t.hour * 3600 + t.minute * 60 + t.second - tz * 60) % 86_400) + 86_400) % 86_400;
  return BigInt(seconds) * 1_000_000_000n + BigInt(t.nanos);
}

/**
 * §A.3.8 time-in-range: is the first time within [second, third], the third being at most 24 hours after the second
 * (so a range may run over midnight). A first argument without a time zone is read at this server's default time
 * zone, UTC; a bound without one takes the first argument's time zone.
 */
export function timeInRange(t: Temporal, low: Temporal, high: Temporal): boolean {
  const tz = t.tz ?? 0;
  const x = nanosOfDayUtc(t, tz);
  const lo = nanosOfDayUtc(low, low.tz ?? tz);
  const hi = nanosOfDayUtc(high, high.tz ?? tz);
  return lo <= hi ? lo <= x && x <= hi : x >= lo || x <= hi;
}

type Shift = (t: Temporal, d: AttributeValue, sign: 1n | -1n) => Temporal;

const byDayTime: Shift = (t, d, sign) => addDayTime(t, { nanos: sign * (d.value as DayTimeDuration).nanos });
const byYearMonth: Shift = (t, d, sign) => addYearMonth(t, { months: sign * (d.value as YearMonthDuration).months });

export function addTemporalFunctions(table: FunctionTable): void {
  const dayTime = [DataType.dayTimeDuration, LegacyDataType.dayTimeDuration];
  const yearMonth = [DataType.yearMonthDuration, LegacyDataType.yearMonthDuration];
  const ops: [string, string, string[], Shift, 1n | -1n][] = [
    ['dateTime-add-dayTimeDuration', DT, dayTime, byDayTime, 1n],
    ['dateTime-subtract-dayTimeDuration', DT, dayTime, byDayTime, -1n],
    ['dateTime-add-yearMonthDuration', DT, yearMonth, byYearMonth, 1n],
    ['dateTime-subtract-yearMonthDuration', DT, yearMonth, byYearMonth, -1n],
    ['date-add-yearMonthDuration', DATE, yearMonth, byYearMonth, 1n],
    ['date-subtract-yearMonthDuration', DATE, yearMonth, byYearMonth, -1n],
  ];
  for (const [name, base, [current, legacy], shift, sign] of ops) {
    const impl = ([a, b]: Value[]) => val(base, guarded(() => shift(single(a).value as Temporal, single(b), sign)));
    table.add(firstOrder(`${XACML3}${name}`, { params: [v(base), v(current!)], returns: valueType(base) }, impl));
    // The deprecated 1.0 ids (§10.2.8) also take the 2002 working-draft duration types.
    table.add(firstOrder(`${XACML1}${name}`, { params: [v(base), v(current!, legacy!)], returns: valueType(base) }, impl));
  }

  const T = DataType.time;
  table.add(
    firstOrder(`${XACML2}time-in-range`, { params: [v(T), v(T), v(T)], returns: valueType(DataType.boolean) }, ([a, b, c]) =>
      val(DataType.boolean, timeInRange(single(a).value as Temporal, single(b).value as Temporal, single(c).value as Temporal)),
    ),
  );
}
