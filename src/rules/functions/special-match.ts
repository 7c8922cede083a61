/** Special match functions (XACML 3.0 §A.3.14): x500Name-match and rfc822Name-match. */
import { DataType } from '../values.js';
import { XACML1, firstOrder, single, str, v, val, valueType, type FunctionTable } from './define.js';
import { rfc822NameMatches, x500NameMatches, type Rfc822Name, type X500Name } from './name-values.js';

export function addSpecialMatchFunctions(table: FunctionTable): void {
  const boolean = valueType(DataType.boolean);
  const X = DataType.x500Name;
  table.add(
    firstOrder(`${XACML1}x500Name-match`, { params: [v(X), v(X)], returns: boolean }, ([a, b]) =>
      val(DataType.boolean, x500NameMatches(single(a).value as X500Name, single(b).value as X500Name)),
    ),
  );
  table.add(
    firstOrder(`${XACML1}rfc822Name-match`, { params: [v(DataType.string), v(DataType.rfc822Name)], returns: boolean }, ([p, n]) =>
      val(DataType.boolean, rfc822NameMatches(str(p), single(n).value as Rfc822Name)),
    ),
  );
}
