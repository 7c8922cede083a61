import { describe, expect, it } from 'vitest';
import { a, call, indeterminate, result } from './test-support.js';

const s = (text: string) => a('string', text);
const i = (n: number) => a('integer', String(n));

describe('string functions (XACML 3.0 §A.3.3, §A.3.9)', () => {
  it('normalize-space strips only leading and trailing white space; to-lower-case lowers everything', () => {
    expect(result('string-normalize-space', s(' \t a  b \r\n'))).toBe('a  b');
    expect(result('string-normalize-to-lower-case', s('ÀB Ç'))).toBe('àb ç');
  });

  it('string-equal-ignore-case', () => {
    expect(result('string-equal-ignore-case', s('Straße'), s('STRAßE'))).toBe(true);
    expect(result('string-equal-ignore-case', s('a'), s('b'))).toBe(false);
  });

  it('starts-with, ends-with, contains: true when the second argument holds the first', () => {
    expect(result('string-starts-with', s('ab'), s('abc'))).toBe(true);
    expect(result('string-starts-with', s('abc'), s('ab'))).toBe(false);
    expect(result('string-ends-with', s('bc'), s('abc'))).toBe(true);
    expect(result('string-contains', s(''), s('abc'))).toBe(true);
    expect(result('anyURI-starts-with', s('http://medico.com/'), a('anyURI', 'http://medico.com/record'))).toBe(true);
    expect(() => result('anyURI-starts-with', a('anyURI', 'http://x'), s('http://x'))).toThrow(/argument 1 must be string/);
  });

  it('string-concatenate takes two or more strings; the deprecated uri-string-concatenate gives an anyURI', () => {
    expect(result('string-concatenate', s('a'), s('b'), s('c'))).toBe('abc');
    expect(call('uri-string-concatenate', a('anyURI', 'http://x/'), s('a'), s('b'))).toEqual(a('anyURI', 'http://x/ab'));
    expect(() => result('string-concatenate', s('a'))).toThrow(/at least 2/);
  });

  it('substring: begin inclusive, end exclusive, -1 for the end, positions in characters', () => {
    expect(result('string-substring', s('Hello'), i(1), i(3))).toBe('el');
    expect(result('string-substring', s('Hello'), i(1), i(-1))).toBe('ello');
    expect(result('string-substring', s('Hello'), i(5), i(-1))).toBe('');
    expect(result('string-substring', s('a😀b'), i(1), i(2))).toBe('😀');
    expect(result('anyURI-substring', a('anyURI', 'http://x/y'), i(0), i(4))).toBe('http');
  });

  it('substring indices out of range are Indeterminate', () => {
    expect(indeterminate('string-substring', s('Hello'), i(-1), i(2)).message).toMatch(/begin index -1/);
    expect(indeterminate('string-substring', s('Hello'), i(6), i(-1)).message).toMatch(/begin index 6/);
    expect(indeterminate('string-substring', s('Hello'), i(0), i(6)).message).toMatch(/end index 6/);
    expect(indeterminate('string-substring', s('Hello'), i(3), i(2)).message).toMatch(/before begin/);
    expect(indeterminate('string-substring', s('Hello'), i(0), i(-2)).message).toMatch(/end index -2/);
  });

  it('string order is by code point', () => {
    expect(result('string-less-than', s('Z'), s('a'))).toBe(true);
    // U+FF5E is below U+1F600 as code points, above it as UTF-16 units.
    expect(result('string-less-than', s('\uFF5E'), s('😀'))).toBe(true);
    expect(result('string-greater-than-or-equal', s('ab'), s('ab'))).toBe(true);
    expect(result('string-less-than', s('ab'), s('abc'))).toBe(true);
  });

  it('conversions: <type>-from-string parses, string-from-<type> gives the canonical form', () => {
    expect(result('integer-from-string', s(' 042 '))).toBe(42n);
    expect(result('string-from-double', a('double', '1.50'))).toBe('1.5E0');
    expect(result('string-from-dayTimeDuration', a('dayTimeDuration', 'PT36H'))).toBe('P1DT12H');
    expect(result('boolean-from-string', s('1'))).toBe(true);
    expect(indeterminate('integer-from-string', s('4.2')).message).toMatch(/invalid integer/);
    expect(indeterminate('dateTime-from-string', s('2002-02-30T00:00:00')).message).toMatch(/day out of range/);
    expect(result('string-from-rfc822Name', a('rfc822Name', 'Anne@Example.COM'))).toBe('Anne@Example.COM');
    expect(result('string-from-ipAddress', call('ipAddress-from-string', s('10.0.0.1/255.0.0.0:80-')))).toBe('10.0.0.1/255.0.0.0:80-');
    expect(indeterminate('dnsName-from-string', s('bad_host')).message).toMatch(/not a host name/);
  });
});
