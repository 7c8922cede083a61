import { describe, expect, it } from 'vitest';
import { functionIds, getFunction } from './index.js';

const X1 = 'urn:oasis:names:tc:xacml:1.0:function:';
const X2 = 'urn:oasis:names:tc:xacml:2.0:function:';
const X3 = 'urn:oasis:names:tc:xacml:3.0:function:';

const expand = (prefix: string, types: string[], suffixes: string[]) => types.flatMap((t) => suffixes.map((s) => `${prefix}${t}-${s}`));
const bagAndSet = ['one-and-only', 'bag-size', 'is-in', 'bag', 'intersection', 'at-least-one-member-of', 'union', 'subset', 'set-equals'];
const types1 = ['string', 'boolean', 'integer', 'double', 'time', 'date', 'dateTime', 'anyURI', 'hexBinary', 'base64Binary', 'x500Name', 'rfc822Name'];
const conversions = ['boolean', 'integer', 'double', 'time', 'date', 'dateTime', 'anyURI', 'dayTimeDuration', 'yearMonthDuration', 'x500Name', 'rfc822Name', 'ipAddress', 'dnsName'];
const temporalArithmetic = [
  'dateTime-add-dayTimeDuration',
  'dateTime-add-yearMonthDuration',
  'dateTime-subtract-dayTimeDuration',
  'dateTime-subtract-yearMonthDuration',
  'date-add-yearMonthDuration',
  'date-subtract-yearMonthDuration',
];

/** XACML 3.0 Appendix A.3, written out from the specification's lists. */
const STANDARD = [
  // §A.3.1
  ...expand(X1, types1, ['equal']),
  `${X3}dayTimeDuration-equal`,
  `${X3}yearMonthDuration-equal`,
  `${X3}string-equal-ignore-case`,
  // §A.3.2, §A.3.3, §A.3.4
  ...['integer-add', 'double-add', 'integer-subtract', 'double-subtract', 'integer-multiply', 'double-multiply', 'integer-divide', 'double-divide', 'integer-mod', 'integer-abs', 'double-abs', 'round', 'floor'].map((f) => X1 + f),
  `${X1}string-normalize-space`,
  `${X1}string-normalize-to-lower-case`,
  `${X1}double-to-integer`,
  `${X1}integer-to-double`,
  // §A.3.5
  ...['or', 'and', 'n-of', 'not'].map((f) => X1 + f),
  // §A.3.6, §A.3.8
  ...expand(X1, ['integer', 'double', 'string', 'time', 'dateTime', 'date'], ['greater-than', 'greater-than-or-equal', 'less-than', 'less-than-or-equal']),
  `${X2}time-in-range`,
  // §A.3.7
  ...temporalArithmetic.map((f) => X3 + f),
  // §A.3.9
  `${X2}string-concatenate`,
  ...conversions.flatMap((t) => [`${X3}${t}-from-string`, `${X3}string-from-${t}`]),
  ...['string-starts-with', 'anyURI-starts-with', 'string-ends-with', 'anyURI-ends-with', 'string-contains', 'anyURI-contains', 'string-substring', 'anyURI-substring'].map((f) => X3 + f),
  // §A.3.10, §A.3.11
  ...expand(X1, types1, bagAndSet),
  ...expand(X3, ['dayTimeDuration', 'yearMonthDuration'], bagAndSet),
  ...expand(X2, ['ipAddress', 'dnsName'], ['one-and-only', 'bag-size', 'is-in', 'bag']),
  // §A.3.12
  ...['any-of', 'all-of', 'any-of-any', 'map'].map((f) => X3 + f),
  ...['all-of-any', 'any-of-all', 'all-of-all'].map((f) => X1 + f),
  // §A.3.13
  `${X1}string-regexp-match`,
  ...['anyURI', 'ipAddress', 'dnsName', 'rfc822Name', 'x500Name'].map((t) => `${X2}${t}-regexp-match`),
  // §A.3.14, §A.3.15
  `${X1}x500Name-match`,
  `${X1}rfc822Name-match`,
  ...['xpath-node-count', 'xpath-node-equal', 'xpath-node-match'].map((f) => X3 + f),
];

/** The deprecated ids older policies use (XACML 3.0 §10.2.8), and the 1.0 duration bag functions WSO2's Balana keeps. */
const DEPRECATED = [
  ...temporalArithmetic.map((f) => X1 + f),
  `${X1}dayTimeDuration-equal`,
  `${X1}yearMonthDuration-equal`,
  ...['any-of', 'all-of', 'any-of-any', 'map'].map((f) => X1 + f),
  `${X2}uri-string-concatenate`,
  ...expand(X1, ['dayTimeDuration', 'yearMonthDuration'], ['one-and-only', 'bag-size', 'is-in', 'bag']),
];

describe('the function library (XACML 3.0 Appendix A.3)', () => {
  it('has every standard function and the kept deprecated ids, and nothing else', () => {
    const missing = [...STANDARD, ...DEPRECATED].filter((id) => getFunction(id) === undefined);
    expect(missing).toEqual([]);
    expect(new Set(functionIds())).toEqual(new Set([...STANDARD, ...DEPRECATED]));
  });

  it('each definition carries its own id', () => {
    for (const id of functionIds()) expect(getFunction(id)!.id).toBe(id);
  });

  it('unknown ids are undefined', () => {
    expect(getFunction(`${X1}string-equal-ignore-case`)).toBeUndefined();
    expect(getFunction(`${X3}access-permitted`)).toBeUndefined();
  });
});
