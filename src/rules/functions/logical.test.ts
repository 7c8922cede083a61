import { describe, expect, it } from 'vitest';
import { a, failing, indeterminate, result, unevaluated } from './test-support.js';

const T = a('boolean', 'true');
const F = a('boolean', 'false');
const n = (k: number) => a('integer', String(k));

describe('logical functions (XACML 3.0 §A.3.5)', () => {
  it('or and and without arguments', () => {
    expect(result('or')).toBe(false);
    expect(result('and')).toBe(true);
  });

  it('stop at the first deciding argument', () => {
    expect(result('or', F, T, unevaluated('boolean'))).toBe(true);
    expect(result('and', T, F, unevaluated('boolean'))).toBe(false);
  });

  it('an Indeterminate argument decides only when nothing after it does', () => {
    expect(result('or', failing('boolean'), T)).toBe(true);
    expect(indeterminate('or', failing('boolean'), F).message).toBe('test failure');
    expect(result('and', failing('boolean'), F)).toBe(false);
    expect(indeterminate('and', T, failing('boolean')).message).toBe('test failure');
  });

  it('n-of', () => {
    expect(result('n-of', n(0))).toBe(true);
    expect(result('n-of', n(2), T, F, T, unevaluated('boolean'))).toBe(true);
    expect(result('n-of', n(2), F, F, unevaluated('boolean'))).toBe(false);
    expect(result('n-of', n(1), failing('boolean'), T)).toBe(true);
    expect(indeterminate('n-of', n(2), failing('boolean'), T).message).toBe('test failure');
    expect(result('n-of', n(2), failing('boolean'), F, F)).toBe(false);
    expect(indeterminate('n-of', n(3), T, T).message).toMatch(/only 2/);
    expect(indeterminate('n-of', n(-1), T).message).toMatch(/negative/);
  });

  it('not, and type checks', () => {
    expect(result('not', F)).toBe(true);
    expect(() => result('not', T, T)).toThrow(/takes 1 argument/);
    expect(() => result('or', a('string', 'true'))).toThrow(/argument 1 must be boolean, got string/);
  });
});
