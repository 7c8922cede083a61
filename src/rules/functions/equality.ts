/** Equality predicates (XACML 3.0 §A.3.1). */
import { DataType } from '../values.js';
import { LegacyDataType, valueEquals } from './datatypes.js';
import { XACML1, XACML3, firstOrder, single, str, v, val, valueType, type FunctionTable } from './define.js';
import { lowerCase } from './strings.js';
import { EQUALITY_TYPES } from './types.js';

const boolean = valueType(DataType.boolean);

export function addEqualityFunctions(table: FunctionTable): void {
  for (const t of EQUALITY_TYPES) {
    table.add(
      firstOrder(`${t.prefix}${t.name}-equal`, { params: [v(t.dataType), v(t.dataType)], returns: boolean }, ([a, b]) =>
        val(DataType.boolean, valueEquals(single(a), single(b))),
      ),
    );
  }
  // The 1.0 ids of the duration equalities, on the 2002 working-draft data types or the XML Schema ones (§10.2.8).
  for (const name of ['dayTimeDuration', 'yearMonthDuration'] as const) {
    const types = [DataType[name], LegacyDataType[name]];
    table.add(
      firstOrder(`${XACML1}${name}-equal`, { params: [v(...types), v(...types)], returns: boolean }, ([a, b]) =>
        val(DataType.boolean, valueEquals(val(DataType[name], single(a).value), val(DataType[name], single(b).value))),
      ),
    );
  }
  // §A.3.1: both arguments are lower-cased as string-normalize-to-lower-case does, then compared.
  table.add(
    firstOrder(`${XACML3}string-equal-ignore-case`, { params: [v(DataType.string), v(DataType.string)], returns: boolean }, ([a, b]) =>
      val(DataType.boolean, lowerCase(str(a)) === lowerCase(str(b))),
    ),
  );
}
