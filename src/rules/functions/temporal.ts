/**
 * Date and time functions: the duration arithmetic of XACML 3.0 §A.3.7 (with the deprecated 1.0 ids of §10.2.8, on
 * the old or the new duration types) and time-in-range (§A.3.8).
 */
import { DataType, processingError } from '../values.js';
import { LegacyDataType } from './datatypes.js';
import { XACML1, XACML2, XACML3, firstOrder, single, v, val, valueType, type FunctionTable } from './define.js';
import { addDayTime, addYearMonth, type DayTimeDuration, type Temporal, type YearMonthDuration } from './temporal-values.js';

const DT = DataType.dateTime;
const DATE = DataType.date;

function negate<T extends DayTimeDuration | YearMonthDuration>(d: T): T {
  return ('nanos' in d ? { nanos: -d.nanos } : { months: -(d as YearMonthDuration).months }) as T;
}

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

export function addTemporalFunctions(table: FunctionTable): void {
  const DTD = [DataType.dayTimeDuration];
  const YMD = [DataType.yearMonthDuration];
  const ops: [string, string, string[], (t: Temporal, d: never) => Temporal, boolean][] = [
    ['dateTime-add-dayTimeDuration', DT, DTD, addDayTime as never, false],
    ['dateTime-subtract-dayTimeDuration', DT, DTD, addDayTime as never, true],
    ['dateTime-add-yearMonthDuration', DT, YMD, addYearMonth as never, false],
    ['dateTime-subtract-yearMonthDuration', DT, YMD, addYearMonth as never, true],
    ['date-add-yearMonthDuration', DATE, YMD, addYearMonth as never, false],
    ['date-subtract-yearMonthDuration', DATE, YMD, addYearMonth as never, true],
  ];
  for (const [name, base, durationTypes, add, subtract] of ops) {
    const legacy = durationTypes[0] === DataType.dayTimeDuration ? LegacyDataType.dayTimeDuration : LegacyDataType.yearMonthDuration;
    const impl = ([a, b]: unknown[]) => {
      const t = single(a as never).value as Temporal;
      const d = single(b as never).value as DayTimeDuration | YearMonthDuration;
      return val(base, guarded(() => add(t, (subtract ? negate(d) : d) as never)));
    };
    table.add(firstOrder(`${XACML3}${name}`, { params: [v(base), v(...durationTypes)], returns: valueType(base) }, impl));
    table.add(firstOrder(`${XACML1}${name}`, { params: [v(base), v(...durationTypes, legacy)], returns: valueType(base) }, impl));
  }

  const T = DataType.time;
  table.add(
    firstOrder(`${XACML2}time-in-range`, { params: [v(T), v(T), v(T)], returns: valueType(DataType.boolean) }, ([a, b, c]) =>
      val(DataType.boolean, timeInRange(single(a).value as Temporal, single(b).value as Temporal, single(c).value as Temporal)),
    ),
  );
}
