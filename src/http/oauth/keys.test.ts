import { describe, expect, it } from 'vitest';
import { rotated, type ServerKeys, type SigningKey } from './keys.js';

const key = (kid: string, createdAt: string, retiredAt?: string): SigningKey => ({ jwk: { kty: 'RSA', kid }, createdAt, ...(retiredAt && { retiredAt }) });

describe('rotated', () => {
  const keys: ServerKeys = {
    version: 3,
    signing: [key('c', '2026-12-01T10:00:00Z'), key('b', '2026-12-01T09:00:00Z', '2026-12-01T10:00:00Z'), key('a', '2026-12-01T08:00:00Z', '2026-12-01T09:00:00Z')],
    cookieKeys: ['k'],
  };

  it('puts the new key first, retires the signing one now, and keeps retired keys within the retention', () => {
    const now = new Date('2026-12-01T10:30:00Z');
    const next = rotated(keys, now, 3600, key('d', now.toISOString()));
    expect(next.version).toBe(4);
    expect(next.signing.map((k) => k.jwk.kid)).toEqual(['d', 'c', 'b']);
    expect(next.signing[1]!.retiredAt).toBe(now.toISOString());
    // b was retired 30 minutes ago (kept), a 90 minutes ago: every ID token it signed has expired.
    expect(next.cookieKeys).toEqual(['k']);
  });

  it('drops every retired key once the retention has passed, never the new one', () => {
    const now = new Date('2026-12-02T00:00:00Z');
    const next = rotated(keys, now, 3600, key('d', now.toISOString()));
    expect(next.signing.map((k) => k.jwk.kid)).toEqual(['d', 'c']);
  });
});
