import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_PASSWORD_HASH_COST, hashPassword, needsRehash, safeEqual, setPasswordHashCost, verifyPassword } from './password.js';

afterEach(() => setPasswordHashCost(DEFAULT_PASSWORD_HASH_COST));

describe('password hashing', () => {
  it("hashes with OWASP's scrypt minimum by default (N = 2^17, r = 8, p = 1; issue #8: 2^15 was below it)", async () => {
    const hash = await hashPassword('correct horse');
    expect(hash).toMatch(/^scrypt\$131072\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(await verifyPassword('correct horse', hash)).toBe(true);
    expect(await verifyPassword('correct horsE', hash)).toBe(false);
    expect(needsRehash(hash)).toBe(false);
  });

  it('verifies hashes made with other parameters, and says when one is weaker than the current setting', async () => {
    setPasswordHashCost(12);
    const weak = await hashPassword('pw');
    expect(weak.startsWith('scrypt$4096$')).toBe(true);
    setPasswordHashCost(DEFAULT_PASSWORD_HASH_COST);
    expect(await verifyPassword('pw', weak)).toBe(true);
    expect(needsRehash(weak)).toBe(true);
  });

  it('refuses stored parameters that would cost unbounded memory, and malformed hashes', async () => {
    expect(await verifyPassword('pw', 'scrypt$1073741824$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).toBe(false);
    expect(await verifyPassword('pw', 'not-a-hash')).toBe(false);
    expect(() => setPasswordHashCost(40)).toThrow(RangeError);
  });

  it('compares secrets in constant time whatever their lengths', () => {
    expect(safeEqual('a', 'a')).toBe(true);
    expect(safeEqual('a', 'ab')).toBe(false);
  });
});
