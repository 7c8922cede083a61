/**
 * Order predicates: numeric (XACML 3.0 §A.3.6) and non-numeric (§A.3.8: string, time, date, dateTime). For the
 * date/time types the order is XML Schema's partial order (§3.2.7.4): a value with a time zone and one without may be
 * incomparable, and then every predicate is False (each returns True "if and only if" its relation holds).
 */
import { DataType, type AttributeValue } from '../values.js';
import { compareTemporal, type Temporal } from './temporal-values.js';
import { compareStrings } from './strings.js';
import { XACML1, firstOrder, single, v, val, valueType, type FunctionTable } from './define.js';

type Compare = (a: AttributeValue, b: AttributeValue) => -1 | 0 | 1 | undefined;

const numeric: Compare = (a, b) => {
  const x = a.value as number | bigint;
  const y = b.value as number | bigint;
  if (x < y) return -1;
  if (x > y) return 1;
  return x === y ? 0 : undefined; // NaN is unordered (IEEE 754)
};

const ORDERED: [string, string, Compare][] = [
  ['integer', DataType.integer, numeric],
  ['double', DataType.double, numeric],
  ['string', DataType.string, (a, b) => compareStrings(a.value as string, b.value as string)],
  ['time', DataType.time, (a, b) => compareTemporal(a.value as Temporal, b.value as Temporal)],
  ['date', DataType.date, (a, b) => compareTemporal(a.value as Temporal, b.value as Temporal)],
  ['dateTime', DataType.dateTime, (a, b) => compareTemporal(a.value as Temporal, b.value as Temporal)],
];

const RELATIONS: [string, (c: -1 | 0 | 1) => boolean][] = [
  ['greater-than', (c) => c > 0],
  ['greater-than-or-equal', (c) => c >= 0],
  ['less-than', (c) => c < 0],
  ['less-than-or-equal', (c) => c <= 0],
];

export function addComparisonFunctions(table: FunctionTable): void {
  for (const [name, dataType, compare] of ORDERED) {
    for (const [relation, holds] of RELATIONS) {
      table.add(
        firstOrder(`${XACML1}${name}-${relation}`, { params: [v(dataType), v(dataType)], returns: valueType(DataType.boolean) }, ([a, b]) => {
          const c = compare(single(a), single(b));
          return val(DataType.boolean, c !== undefined && holds(c));
        }),
      );
    }
  }
}
