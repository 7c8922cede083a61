import { describe, expect, it } from 'vitest';
import { INPUT_LIMITS, jsonValueProblem, urlProblem } from './input.js';

describe('the door: JSON values', () => {
  it('accepts ordinary values, astral characters included', () => {
    expect(jsonValueProblem({ userName: 'zoë', emails: [{ value: 'a@b.c' }], nick: '😀', n: 1, b: true, z: null })).toBeUndefined();
  });

  it('refuses NUL and lone surrogates in values and member names (issue #8: NUL hung the store activity)', () => {
    expect(jsonValueProblem({ userName: 'a\u0000b' })).toMatch(/userName contains a NUL/);
    expect(jsonValueProblem({ emails: [{ value: 'x\ud800' }] })).toMatch(/emails\[0\]\.value contains a lone UTF-16 surrogate/);
    expect(jsonValueProblem({ ['k\u0000']: 1 })).toMatch(/member name/);
    expect(jsonValueProblem({ s: '\udc00' })).toMatch(/lone/);
  });

  it('bounds string length and nesting depth, without recursion (20,000 levels deep)', () => {
    expect(jsonValueProblem({ s: 'x'.repeat(INPUT_LIMITS.stringLength) })).toBeUndefined();
    expect(jsonValueProblem({ s: 'x'.repeat(INPUT_LIMITS.stringLength + 1) })).toMatch(/longer than/);
    let deep: unknown = 1;
    for (let i = 0; i < 20_000; i++) deep = [deep];
    expect(jsonValueProblem({ data: deep })).toMatch(/nested deeper than 32/);
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
    expect(urlProblem('/scim2/Users/%')).toMatch(/not valid percent-encoded UTF-8/);
    expect(urlProblem('/scim2/Users/%E0%A4%A')).toMatch(/not valid/);
    expect(urlProblem('/scim2/Users/%ED%A0%80')).toMatch(/not valid/); // an encoded surrogate is not UTF-8
    expect(urlProblem('/scim2/Users?filter=%FF')).toMatch(/not valid/);
    expect(urlProblem('/scim2/Users?filter=a%00b')).toMatch(/NUL/);
    expect(urlProblem('/api/server/v1/applications/%00')).toMatch(/NUL/);
  });
});
