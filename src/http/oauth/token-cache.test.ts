import { describe, expect, it } from 'vitest';
import { TokenCache } from './token-cache.js';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('TokenCache', () => {
  it('keeps a resolved token for its time, never past the token expiry', () => {
    const c = clock();
    const cache = new TokenCache<string>(2000, 10, c.now);
    cache.set('tok-a', 'A', { expiresAt: undefined});
    cache.set('tok-b', 'B', { expiresAt: Math.floor(c.now() / 1000) + 1}); // expires in <= 1 s
    expect(cache.get('tok-a')).toBe('A');
    expect(cache.get('tok-b')).toBe('B');
    c.advance(1000);
    expect(cache.get('tok-b')).toBeUndefined();
    expect(cache.get('tok-a')).toBe('A');
    c.advance(1000);
    expect(cache.get('tok-a')).toBeUndefined();
    // A token already expired is not kept at all.
    cache.set('tok-c', 'C', { expiresAt: Math.floor(c.now() / 1000) - 1});
    expect(cache.get('tok-c')).toBeUndefined();
  });

  it('forgets a revoked token, or everything', () => {
    const cache = new TokenCache<string>();
    cache.set('t1', '1', { expiresAt: undefined});
    cache.set('t2', '2', { expiresAt: undefined});
    cache.set('t3', '3', { expiresAt: undefined});
    cache.set('t4', '4', { expiresAt: undefined});
    cache.forgetToken('t4');
    expect(cache.get('t4')).toBeUndefined();
    expect([cache.get('t1'), cache.get('t2'), cache.get('t3')]).toEqual(['1', '2', '3']);
    cache.clear();
    expect(cache.size).toBe(0);
  });

  it('is bounded, oldest out first, and holds no token in clear', () => {
    const cache = new TokenCache<string>(60_000, 3);
    for (const t of ['t1', 't2', 't3', 't4']) cache.set(t, t, { expiresAt: undefined});
    expect(cache.size).toBe(3);
    expect(cache.get('t1')).toBeUndefined();
    expect(cache.get('t4')).toBe('t4');
    const keys = [...(cache as unknown as { entries: Map<string, unknown> }).entries.keys()];
    expect(keys.some((k) => k.includes('t2'))).toBe(false);
  });

  it('caches nothing when its time is 0', () => {
    const cache = new TokenCache<string>(0);
    cache.set('t', 'v', { expiresAt: undefined});
    expect(cache.get('t')).toBeUndefined();
  });
});
