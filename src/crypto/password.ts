/**
 * Password and client-secret hashing with scrypt (Node's built-in, memory-hard). Format: `scrypt$N$r$p$salt$hash`
 * (base64url), so parameters can be raised and old hashes still verify; needsRehash says when a stored hash is
 * weaker than the current setting (the password grant then stores a new one, since it holds the password).
 *
 * Cost: N = 2^17, r = 8, p = 1 by default, OWASP's minimum for scrypt (Password Storage Cheat Sheet): 128 MiB and
 * a few hundred milliseconds per hash. PASSWORD_HASH_COST sets log2(N) for the process (setPasswordHashCost, called
 * by the api's and the worker's composition roots); lower values are for test suites only and are logged as such.
 */
import crypto from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(crypto.scrypt) as (
  password: crypto.BinaryLike,
  salt: crypto.BinaryLike,
  keylen: number,
  options: crypto.ScryptOptions,
) => Promise<Buffer>;

/** OWASP's minimum: N = 2^17. */
export const DEFAULT_PASSWORD_HASH_COST = 17;
let N = 2 ** DEFAULT_PASSWORD_HASH_COST;
const R = 8;
const P = 1;
const KEYLEN = 32;
/** scrypt needs 128 * N * r bytes; the most a stored hash may ask for is bounded (N up to 2^20: 1 GiB). */
const MAX_N = 2 ** 20;
const maxmem = (n: number, r: number) => 128 * n * r + 16 * 1024 * 1024;

/** Sets the cost (log2 N) of the hashes this process makes from now on. */
export function setPasswordHashCost(log2N: number): void {
  if (!Number.isInteger(log2N) || log2N < 10 || 2 ** log2N > MAX_N) throw new RangeError('the scrypt cost must be an integer log2(N) between 10 and 20');
  N = 2 ** log2N;
}

export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.randomBytes(16);
  const hash = await scrypt(password.normalize('NFKC'), salt, KEYLEN, { N, r: R, p: P, maxmem: maxmem(N, R) });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

/** Whether a stored hash was made with weaker parameters than this process's (it should be replaced). */
export function needsRehash(stored: string): boolean {
  const [scheme, n, r, p] = stored.split('$');
  return scheme !== 'scrypt' || Number(n) < N || Number(r) < R || Number(p) < P;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  // A stored hash cannot make this process spend unbounded memory or time.
  if (params.N > MAX_N || params.r > 32 || params.p > 16) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await scrypt(password.normalize('NFKC'), Buffer.from(salt, 'base64url'), expected.length, { ...params, maxmem: maxmem(params.N, params.r) });
  return crypto.timingSafeEqual(expected, actual);
}

/** Constant-time comparison of two secrets of possibly different lengths. */
export function safeEqual(a: string, b: string): boolean {
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb);
}
