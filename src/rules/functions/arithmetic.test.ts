import { describe, expect, it } from 'vitest';
import { a, indeterminate, result } from './test-support.js';
import { roundHalfEven } from './arithmetic.js';

const i = (text: string) => a('integer', text);
const d = (text: string) => a('double', text);

describe('arithmetic (XACML 3.0 §A.3.2, §A.3.4)', () => {
  it('integers are exact at any size', () => {
    expect(result('integer-add', i('9007199254740993'), i('1'), i('1'))).toBe(9007199254740995n);
    expect(result('integer-multiply', i('123456789123456789'), i('1000000000000'))).toBe(123456789123456789000000000000n);
  });

  it('integer-divide truncates toward zero; integer-mod takes the sign of the dividend', () => {
    expect(result('integer-divide', i('-7'), i('2'))).toBe(-3n);
    expect(result('integer-mod', i('-7'), i('2'))).toBe(-1n);
    expect(result('integer-mod', i('7'), i('-2'))).toBe(1n);
  });

  it('a zero divisor is Indeterminate (processing error), for integers and doubles', () => {
    expect(indeterminate('integer-divide', i('1'), i('0')).statusCode).toBe('urn:oasis:names:tc:xacml:1.0:status:processing-error');
    expect(indeterminate('integer-mod', i('1'), i('0')).message).toMatch(/division by zero/);
    expect(indeterminate('double-divide', d('1'), d('0')).message).toMatch(/division by zero/);
    expect(indeterminate('double-divide', d('1'), d('-0')).message).toMatch(/division by zero/);
  });

  it('an integer beyond the size bound is Indeterminate, not a hang', () => {
    const big = i('9'.repeat(3000));
    expect(indeterminate('integer-multiply', big, big).message).toMatch(/4096 digits/);
  });

  it('doubles follow IEEE 754', () => {
    expect(result('double-add', d('INF'), d('1'))).toBe(Infinity);
    expect(Number.isNaN(result('double-subtract', d('INF'), d('INF')))).toBe(true);
    expect(result('double-abs', d('-0.5'))).toBe(0.5);
    expect(result('floor', d('-1.5'))).toBe(-2);
  });

  it('round is IEEE 754 round-half-even', () => {
    expect([0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, 2.4999, 2.5001, 5.25].map(roundHalfEven)).toEqual([0, 2, 2, 4, -0, -2, -2, 2, 3, 5]);
    expect(Object.is(roundHalfEven(-0.4), -0)).toBe(true);
    expect(result('round', d('INF'))).toBe(Infinity);
  });

  it('double-to-integer truncates; NaN and infinities are Indeterminate', () => {
    expect(result('double-to-integer', d('-2.9'))).toBe(-2n);
    expect(result('double-to-integer', d('1e20'))).toBe(100000000000000000000n);
    expect(indeterminate('double-to-integer', d('NaN')).message).toMatch(/no integer/);
    expect(indeterminate('double-to-integer', d('-INF')).message).toMatch(/no integer/);
    expect(result('integer-to-double', i('1' + '0'.repeat(400)))).toBe(Infinity);
  });

  it('add and multiply take two or more arguments; subtract exactly two', () => {
    expect(() => result('integer-add', i('1'))).toThrow(/at least 2 arguments/);
    expect(() => result('integer-subtract', i('1'), i('2'), i('3'))).toThrow(/takes 2 arguments/);
    expect(() => result('integer-add', i('1'), d('2'))).toThrow(/argument 2 must be integer, got double/);
  });
});
