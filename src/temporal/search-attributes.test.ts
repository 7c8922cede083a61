import { describe, expect, it } from 'vitest';
import { boundedKeyword, MAX_KEYWORD_BYTES } from './search-attributes.js';

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

describe('boundedKeyword (a long userName must never turn into a 503 from Temporal)', () => {
  it('keeps short values as they are', () => {
    expect(boundedKeyword('alice')).toBe('alice');
    expect(boundedKeyword('')).toBe('');
    const exact = 'a'.repeat(MAX_KEYWORD_BYTES);
    expect(boundedKeyword(exact)).toBe(exact);
  });

  it('cuts a 10,000-character value to the byte limit', () => {
    const cut = boundedKeyword('x'.repeat(10_000));
    expect(cut).toBe('x'.repeat(MAX_KEYWORD_BYTES));
  });

  it('never splits a character: 2-, 3- and 4-byte characters and surrogate pairs', () => {
    for (const ch of ['é', '€', '😀']) {
      const cut = boundedKeyword(`a${ch.repeat(300)}`);
      expect(utf8(cut)).toBeLessThanOrEqual(MAX_KEYWORD_BYTES);
      expect(utf8(cut)).toBeGreaterThan(MAX_KEYWORD_BYTES - utf8(ch));
      expect(cut).toBe(`a${ch.repeat((cut.length - 1) / ch.length)}`);
      expect(Buffer.from(cut, 'utf8').toString('utf8')).toBe(cut);
    }
  });

  it('counts a lone surrogate as the 3 bytes it is sent as', () => {
    const cut = boundedKeyword('\ud800'.repeat(100));
    expect(cut).toBe('\ud800'.repeat(Math.floor(MAX_KEYWORD_BYTES / 3)));
    expect(utf8(cut)).toBeLessThanOrEqual(MAX_KEYWORD_BYTES);
  });
});
