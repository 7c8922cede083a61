/**
 * Conversions between strings and the other types (XACML 3.0 §A.3.9): <type>-from-string parses the string as the
 * type's lexical form (an invalid one is a processing error, Indeterminate), string-from-<type> gives the canonical
 * lexical form (formatValue).
 */
import { DataType, processingError } from '../values.js';
import { formatValue, parseValue } from './datatypes.js';
import { XACML3, firstOrder, single, str, v, val, valueType, type FunctionTable } from './define.js';

const CONVERTIBLE = [
  'boolean',
  'integer',
  'double',
  'time',
  'date',
  'dateTime',
  'anyURI',
  'dayTimeDuration',
  'yearMonthDuration',
  'x500Name',
  'rfc822Name',
  'ipAddress',
  'dnsName',
] as const;

export function addConversionFunctions(table: FunctionTable): void {
  const S = DataType.string;
  for (const name of CONVERTIBLE) {
    const dataType = DataType[name];
    table.add(
      firstOrder(`${XACML3}${name}-from-string`, { params: [v(S)], returns: valueType(dataType) }, ([s]) => {
        try {
          return parseValue(dataType, str(s));
        } catch (e) {
          throw processingError(`${name}-from-string: ${(e as Error).message}`);
        }
      }),
    );
    table.add(firstOrder(`${XACML3}string-from-${name}`, { params: [v(dataType)], returns: valueType(S) }, ([x]) => val(S, formatValue(single(x)))));
  }
}
