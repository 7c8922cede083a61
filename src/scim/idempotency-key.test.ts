import { describe, expect, it } from 'vitest';
import { formatIdempotencyKey, IDEMPOTENCY_KEY_MAX_LENGTH, IdempotencyKeyError, parseIdempotencyKey } from './idempotency-key.js';

describe('Idempotency-Key (an sf-string, RFC 8941 §3.3.3)', () => {
  it('reads the key of a well-formed field, with escapes, surrounding spaces and ignored parameters', () => {
    expect(parseIdempotencyKey(undefined)).toBeUndefined();
    expect(parseIdempotencyKey('"8e03978e-40d5-43e8-bc93-6894a57f9324"')).toBe('8e03978e-40d5-43e8-bc93-6894a57f9324');
    expect(parseIdempotencyKey('  "a b"  ')).toBe('a b');
    expect(parseIdempotencyKey('"say \\"hi\\" \\\\ bye"')).toBe('say "hi" \\ bye');
    expect(parseIdempotencyKey('"k1";origin=client;n=2;s="x;y";flag')).toBe('k1');
    expect(parseIdempotencyKey(['"only-one"'])).toBe('only-one');
  });

  it.each([
    ['a token, not a string', 'abc123'],
    ['unterminated', '"abc'],
    ['an unknown escape', '"a\\nb"'],
    ['a non-ASCII character', '"clé"'],
    ['a control character', '"a\tb"'],
    ['two keys (the field sent twice, joined by Node)', '"a", "b"'],
    ['trailing garbage', '"a" b'],
    ['empty', '""'],
    ['too long', `"${'k'.repeat(IDEMPOTENCY_KEY_MAX_LENGTH + 1)}"`],
  ])('refuses %s', (_what, value) => {
    expect(() => parseIdempotencyKey(value)).toThrow(IdempotencyKeyError);
  });

  it('refuses the field given twice as separate values', () => {
    expect(() => parseIdempotencyKey(['"a"', '"b"'])).toThrow(/once/);
  });

  it('accepts the longest key and writes keys back in the same syntax', () => {
    const longest = 'k'.repeat(IDEMPOTENCY_KEY_MAX_LENGTH);
    expect(parseIdempotencyKey(`"${longest}"`)).toBe(longest);
    for (const key of ['plain', 'with "quotes"', 'back\\slash']) expect(parseIdempotencyKey(formatIdempotencyKey(key))).toBe(key);
  });
});
