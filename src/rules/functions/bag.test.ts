import { describe, expect, it } from 'vitest';
import { a, bagOfValues, call, fn, indeterminate, result } from './test-support.js';

describe('bag functions (XACML 3.0 §A.3.10)', () => {
  it('one-and-only needs exactly one value', () => {
    expect(result('string-one-and-only', bagOfValues('string', 'x'))).toBe('x');
    expect(indeterminate('string-one-and-only', bagOfValues('string')).message).toMatch(/0 values/);
    expect(indeterminate('integer-one-and-only', bagOfValues('integer', '1', '2')).message).toMatch(/2 values/);
  });

  it('bag-size, is-in, bag', () => {
    expect(result('double-bag-size', bagOfValues('double', '1', '1'))).toBe(2n);
    expect(result('rfc822Name-is-in', a('rfc822Name', 'a@X.COM'), bagOfValues('rfc822Name', 'a@x.com'))).toBe(true);
    expect(result('dateTime-is-in', a('dateTime', '2002-03-22T08:23:47-05:00'), bagOfValues('dateTime', '2002-03-22T13:23:47Z'))).toBe(true);
    expect(result('integer-bag', a('integer', '1'), a('integer', '1'))).toEqual([1n, 1n]);
    expect(result('ipAddress-bag')).toEqual([]);
    expect(() => result('integer-bag', a('string', '1'))).toThrow(/argument 1 must be integer/);
    expect(() => result('string-is-in', bagOfValues('string', 'x'), bagOfValues('string', 'x'))).toThrow(/argument 1 must be string, got bag of string/);
  });
});

describe('the 1.0 ids of the duration bag functions', () => {
  const legacy = 'http://www.w3.org/TR/2002/WD-xquery-operators-20020816#dayTimeDuration';
  const old = (t: string) => ({ dataType: legacy, value: a('dayTimeDuration', t).value });
  it('work on the 2002 type, typed by their argument', () => {
    const b = call('urn:oasis:names:tc:xacml:1.0:function:dayTimeDuration-bag', old('P1D'), old('PT1H'));
    expect(b).toMatchObject({ kind: 'bag', dataType: legacy });
    expect(fn('urn:oasis:names:tc:xacml:1.0:function:dayTimeDuration-one-and-only').check([{ kind: 'bag', dataType: legacy }])).toEqual({ kind: 'value', dataType: legacy });
    expect(result('urn:oasis:names:tc:xacml:1.0:function:dayTimeDuration-is-in', old('PT24H'), b)).toBe(true);
    expect(result('urn:oasis:names:tc:xacml:1.0:function:dayTimeDuration-bag-size', b)).toBe(2n);
    expect(result('urn:oasis:names:tc:xacml:1.0:function:dayTimeDuration-equal', old('PT24H'), a('dayTimeDuration', 'P1D'))).toBe(true);
  });
  it('refuse a mix of the two types where one is needed', () => {
    expect(() => call('urn:oasis:names:tc:xacml:1.0:function:dayTimeDuration-is-in', a('dayTimeDuration', 'P1D'), call('urn:oasis:names:tc:xacml:1.0:function:dayTimeDuration-bag', old('P1D')))).toThrow(/one data type/);
  });
});

describe('set functions (XACML 3.0 §A.3.11)', () => {
  const s = (...v: string[]) => bagOfValues('string', ...v);
  it('intersection and union drop duplicates', () => {
    expect(result('string-intersection', s('a', 'b', 'b', 'c'), s('b', 'c', 'd'))).toEqual(['b', 'c']);
    expect(result('string-union', s('a', 'a'), s('b'), s('a', 'c'))).toEqual(['a', 'b', 'c']);
    expect(() => result('string-union', s('a'))).toThrow(/at least 2/);
    expect(result('x500Name-union', bagOfValues('x500Name', 'cn=A, o=X'), bagOfValues('x500Name', 'CN=a,O=x'))).toHaveLength(1);
  });

  it('at-least-one-member-of, subset, set-equals', () => {
    expect(result('string-at-least-one-member-of', s('x', 'b'), s('a', 'b'))).toBe(true);
    expect(result('string-at-least-one-member-of', s(), s('a'))).toBe(false);
    expect(result('string-subset', s('a', 'a'), s('a', 'b'))).toBe(true);
    expect(result('string-subset', s(), s())).toBe(true);
    expect(result('string-subset', s('c'), s('a', 'b'))).toBe(false);
    expect(result('string-set-equals', s('a', 'b', 'b'), s('b', 'a'))).toBe(true);
    expect(result('string-set-equals', s('a'), s('a', 'b'))).toBe(false);
  });

  it('use each type’s equality', () => {
    expect(result('double-set-equals', bagOfValues('double', '0', 'NaN'), bagOfValues('double', '-0', 'NaN'))).toBe(true);
    expect(result('dayTimeDuration-intersection', bagOfValues('dayTimeDuration', 'P1D'), bagOfValues('dayTimeDuration', 'PT24H'))).toHaveLength(1);
    expect(result('hexBinary-subset', bagOfValues('hexBinary', '0a'), bagOfValues('hexBinary', '0A', 'FF'))).toBe(true);
  });

  it('large bags cost linear time', () => {
    const many = Array.from({ length: 20_000 }, (_, k) => String(k));
    const started = Date.now();
    expect(result('string-set-equals', s(...many), s(...many.reverse()))).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
