import { describe, expect, it } from 'vitest';
import { INPUT_LIMITS, jsonValueProblem, urlProblem } from './input.js';

describe('the door: JSON values', () => {
  it('accepts ordinary values, astral characters included', () => {
    expect(jsonValueProblem({ userName: 'zoë', emails: [{ value: 'a@b.c' }], nick: '😀', n: 1, b: true, z: null })).toBeUndefined();
  });

  it('refuses NUL and lone surrogates in values and member names (issue #8: NUL hung the store activity)', () => {
    expect(jsonValueProblem({ userName: 'a\u0000b' })?.detail).toMatch(/userName contains a NUL/);
    expect(jsonValueProblem({ emails: [{ value: 'x\ud800' }] })?.detail).toMatch(/emails\[0\]\.value contains a lone UTF-16 surrogate/);
    expect(jsonValueProblem({ ['k\u0000']: 1 })?.detail).toMatch(/member name/);
    expect(jsonValueProblem({ s: '\udc00' })?.detail).toMatch(/lone/);
  });

  it('bounds string length and nesting depth, without recursion (20,000 levels deep)', () => {
    expect(jsonValueProblem({ s: 'x'.repeat(INPUT_LIMITS.stringLength) })).toBeUndefined();
    expect(jsonValueProblem({ s: 'x'.repeat(INPUT_LIMITS.stringLength + 1) })?.detail).toMatch(/longer than/);
    let deep: unknown = 1;
    for (let i = 0; i < 20_000; i++) deep = [deep];
    expect(jsonValueProblem({ data: deep })?.detail).toMatch(/nested deeper than 32/);
    let ok: unknown = 1;
    for (let i = 0; i < INPUT_LIMITS.jsonDepth - 1; i++) ok = { a: ok };
    expect(jsonValueProblem(ok)).toBeUndefined();
  });
});

describe('the door: URLs', () => {
  it('accepts well-formed percent-encoding, + as a space in queries', () => {
    expect(urlProblem('/scim2/Users/abc?filter=userName%20eq%20%22z%C3%B6e%22&count=5')).toBeUndefined();
    expect(urlProblem('/scim2/Users?filter=userName+eq+%22a%22')).toBeUndefined();
  });

  it('refuses malformed and non-UTF-8 escapes and NUL (issue #8: /scim2/Users/% answered 500)', () => {
    expect(urlProblem('/scim2/Users/%')?.detail).toMatch(/not valid percent-encoded UTF-8/);
    expect(urlProblem('/scim2/Users/%E0%A4%A')?.detail).toMatch(/not valid/);
    expect(urlProblem('/scim2/Users/%ED%A0%80')?.detail).toMatch(/not valid/); // an encoded surrogate is not UTF-8
    expect(urlProblem('/scim2/Users?filter=%FF')?.detail).toMatch(/not valid/);
    expect(urlProblem('/scim2/Users?filter=a%00b')?.detail).toMatch(/NUL/);
    expect(urlProblem('/api/server/v1/applications/%00')?.detail).toMatch(/NUL/);
  });
});

describe('the door: where a problem is', () => {
  it('names the top-level member or query parameter, so a bad filter can be invalidFilter (RFC 7644 §3.4.2.2)', () => {
    expect(jsonValueProblem({ schemas: [], filter: 'userName eq "a\u0000"' })?.field).toBe('filter');
    expect(jsonValueProblem({ Operations: [{ value: { title: 'x\ud800' } }] })?.field).toBe('Operations');
    expect(urlProblem('/scim2/Users?count=1&filter=%00')?.field).toBe('filter');
    expect(urlProblem('/scim2/Users/%')?.field).toBeUndefined();
  });
});

