import { describe, expect, it } from 'vitest';
import { DataType } from '../values.js';
import { a, bagOfValues, fn, functionArgument, indeterminate, result } from './test-support.js';

const f = functionArgument;
const s = (...v: string[]) => bagOfValues('string', ...v);
const i = (...v: string[]) => bagOfValues('integer', ...v);

describe('higher-order bag functions (XACML 3.0 §A.3.12)', () => {
  it('any-of and all-of take the bag in any position', () => {
    expect(result('any-of', f('string-equal'), a('string', 'b'), s('a', 'b'))).toBe(true);
    expect(result('any-of', f('integer-greater-than'), i('1', '5'), a('integer', '3'))).toBe(true);
    expect(result('all-of', f('integer-greater-than'), i('4', '5'), a('integer', '3'))).toBe(true);
    expect(result('all-of', f('integer-greater-than'), a('integer', '3'), i('1', '5'))).toBe(false);
    expect(result('any-of', f('string-equal'), a('string', 'b'), s())).toBe(false);
    expect(result('all-of', f('string-equal'), a('string', 'b'), s())).toBe(true);
  });

  it('variadic: n-1 values and one bag', () => {
    // n-of(1, false, member): true for the member true.
    expect(result('any-of', f('n-of'), a('integer', '1'), a('boolean', 'false'), bagOfValues('boolean', 'false', 'true'))).toBe(true);
    expect(result('all-of', f('n-of'), a('integer', '1'), a('boolean', 'false'), bagOfValues('boolean', 'false', 'true'))).toBe(false);
  });

  it('any-of-any tries every combination of several bags', () => {
    expect(result('any-of-any', f('string-equal'), s('a', 'b'), s('c', 'b'))).toBe(true);
    expect(result('any-of-any', f('string-equal'), s('a', 'b'), s('c', 'd'))).toBe(false);
    expect(result('any-of-any', f('string-equal'), a('string', 'c'), s('c', 'd'))).toBe(true);
    expect(result('any-of-any', f('string-equal'), s(), s('c'))).toBe(false);
  });

  it('all-of-any, any-of-all, all-of-all', () => {
    expect(result('all-of-any', f('integer-greater-than'), i('10', '20'), i('1', '15'))).toBe(true);
    expect(result('all-of-any', f('integer-greater-than'), i('10', '20'), i('11', '15'))).toBe(false);
    expect(result('any-of-all', f('integer-greater-than'), i('3', '5'), i('1', '4'))).toBe(true);
    expect(result('any-of-all', f('integer-greater-than'), i('3', '4'), i('1', '4'))).toBe(false);
    expect(result('all-of-all', f('integer-greater-than'), i('6', '5'), i('1', '4'))).toBe(true);
    expect(result('all-of-all', f('integer-greater-than'), i('6', '4'), i('1', '4'))).toBe(false);
  });

  it('map returns a bag of the function’s results', () => {
    expect(result('map', f('string-normalize-to-lower-case'), s('A', 'B'))).toEqual(['a', 'b']);
    expect(fn('map').check([{ kind: 'function', fn: fn('integer-add') }, { kind: 'value', dataType: DataType.integer }, { kind: 'bag', dataType: DataType.integer }])).toEqual({
      kind: 'bag',
      dataType: DataType.integer,
    });
    expect(result('map', f('integer-add'), a('integer', '10'), i('1', '2'))).toEqual([11n, 12n]);
  });

  it('check type-checks the function against the element types', () => {
    expect(() => result('any-of', f('integer-equal'), a('string', 'b'), s('a'))).toThrow(/applies .*integer-equal to string, string: .*argument 1 must be integer/);
    expect(() => result('any-of', f('string-concatenate'), a('string', 'b'), s('a'))).toThrow(/must return a boolean/);
    expect(() => result('any-of', f('string-equal'), a('string', 'b'), a('string', 'c'))).toThrow(/exactly one argument .* must be a bag, got 0/);
    expect(() => result('any-of', a('string', 'b'), s('a'))).toThrow(/first argument must be a <Function>/);
    expect(() => result('all-of-any', f('string-equal'), a('string', 'b'), s('a'))).toThrow(/two bags/);
    expect(() => result('map', f('string-bag'), s('a'))).toThrow(/single value/);
  });

  it('an Indeterminate application decides only when no other application does', () => {
    // n-of(5, b) is Indeterminate (fewer than 5 arguments), n-of(1, b) is b.
    const T = a('boolean', 'true');
    const F = a('boolean', 'false');
    expect(result('any-of', f('n-of'), i('5', '1'), T)).toBe(true);
    expect(indeterminate('any-of', f('n-of'), i('5', '1'), F).message).toMatch(/needs 5/);
    expect(result('all-of', f('n-of'), i('5', '1'), F)).toBe(false);
    expect(indeterminate('all-of', f('n-of'), i('5', '1'), T).message).toMatch(/needs 5/);
    expect(indeterminate('map', f('string-substring'), a('string', 'abc'), a('integer', '0'), i('1', '10')).message).toMatch(/end index 10/);
  });

  it('the deprecated 1.0 ids are the same functions', () => {
    expect(result('urn:oasis:names:tc:xacml:1.0:function:any-of', f('string-equal'), a('string', 'b'), s('a', 'b'))).toBe(true);
    expect(result('urn:oasis:names:tc:xacml:1.0:function:map', f('string-normalize-space'), s(' a '))).toEqual(['a']);
  });

  it('bounds the number of applications', () => {
    const big = Array.from({ length: 1100 }, (_, k) => String(k));
    expect(indeterminate('any-of-any', f('string-equal'), s(...big), s(...big)).message).toMatch(/exceed the bound/);
  });
});
