/**
 * The XACML 3.0 standard function library (Appendix A.3), with the 1.0/2.0 ids that XACML 3.0 keeps and the
 * deprecated ones of §10.2.8 that older policies use. One module per family; each adds its functions to the table.
 *
 * @example
 * const fn = getFunction('urn:oasis:names:tc:xacml:1.0:function:integer-add');
 * fn?.check([{ kind: 'value', dataType: DataType.integer }, { kind: 'value', dataType: DataType.integer }]);
 */
import type { FunctionDefinition } from '../values.js';
import { FunctionTable } from './define.js';
import { addArithmeticFunctions } from './arithmetic.js';
import { addBagAndSetFunctions } from './bag.js';
import { addComparisonFunctions } from './comparison.js';
import { addConversionFunctions } from './conversion.js';
import { addEqualityFunctions } from './equality.js';
import { addHigherOrderFunctions } from './higher-order.js';
import { addLogicalFunctions } from './logical.js';
import { addRegexpFunctions } from './regexp.js';
import { addSpecialMatchFunctions } from './special-match.js';
import { addStringFunctions } from './strings.js';
import { addTemporalFunctions } from './temporal.js';
import { addXPathFunctions } from './xpath.js';

const table = new FunctionTable();
addEqualityFunctions(table);
addArithmeticFunctions(table);
addStringFunctions(table);
addLogicalFunctions(table);
addComparisonFunctions(table);
addTemporalFunctions(table);
addBagAndSetFunctions(table);
addHigherOrderFunctions(table);
addRegexpFunctions(table);
addSpecialMatchFunctions(table);
addXPathFunctions(table);
addConversionFunctions(table);

/** The function with this id, or undefined when it is not a known standard (or kept deprecated) function. */
export function getFunction(id: string): FunctionDefinition | undefined {
  return table.get(id);
}

/** Every function id the library knows (for documentation and tests). */
export function functionIds(): string[] {
  return table.ids();
}

export { formatValue, isKnownDataType, parseValue, valueEquals } from './datatypes.js';
