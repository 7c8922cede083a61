/**
 * Which data types each family of functions covers, and the prefix of their function ids (XACML 3.0 Appendix A.3:
 * the 1.0 types keep their 1.0 ids, the durations got 3.0 ids, ipAddress and dnsName 2.0 ones).
 */
import { DataType } from '../values.js';
import { XACML1, XACML2, XACML3 } from './define.js';

export interface TypeEntry {
  readonly name: string;
  readonly dataType: string;
  readonly prefix: string;
}

const entry = (name: keyof typeof DataType, prefix: string): TypeEntry => ({ name, dataType: DataType[name], prefix });

/** The types with equality, bag and set functions (§A.3.1, §A.3.10, §A.3.11). */
export const EQUALITY_TYPES: readonly TypeEntry[] = [
  entry('string', XACML1),
  entry('boolean', XACML1),
  entry('integer', XACML1),
  entry('double', XACML1),
  entry('time', XACML1),
  entry('date', XACML1),
  entry('dateTime', XACML1),
  entry('anyURI', XACML1),
  entry('hexBinary', XACML1),
  entry('base64Binary', XACML1),
  entry('dayTimeDuration', XACML3),
  entry('yearMonthDuration', XACML3),
  entry('x500Name', XACML1),
  entry('rfc822Name', XACML1),
];

/** ipAddress and dnsName have bag functions (XACML 2.0 ids) but no equality or set functions. */
export const BAG_ONLY_TYPES: readonly TypeEntry[] = [entry('ipAddress', XACML2), entry('dnsName', XACML2)];
