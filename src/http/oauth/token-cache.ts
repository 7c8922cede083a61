/**
 * What an application's access token resolved to a moment ago, kept per api process: the token's verification (the
 * oauth_payload row) and its application's row. Without it every SCIM call with a bearer token paid two database
 * round trips before reading anything (issue #11: three of the three queries of `GET /scim2/Users/{id}` were the token, its
 * application and the resource; with it, one).
 *
 * What may be stale, and for how long:
 * - in the process that took the change, nothing: a token revoked through the revocation endpoint, an application
 *   changed, given a new secret or deleted, or a user store domain deleted is forgotten at once (oidc-provider's
 *   `client_credentials.destroyed` event, and forgetAllTokens from the admin API);
 * - in the other api processes, at most TOKEN_CACHE_MS, the same bound the SCIM extension schemas
 *   (SCHEMA_CACHE_TTL_MS) and the OAuth keys (KEY_CHECK_MS) have. WSO2 keeps validated tokens in its OAuthCache for
 *   minutes, with cluster invalidation; a JWT access token is never re-checked at all.
 * - a token issued for a user (password grant, authorization code) is not cached at all: the store deletes a user's
 *   tokens when the password changes or the user is deactivated, in the worker, and only that deletion refuses a
 *   token issued in the very second of the change (src/http/auth.ts); so only an application's own tokens (client
 *   credentials, the provisioning clients) are kept.
 * An entry never outlives its token's expiry. Only accepted tokens are kept (an unknown one costs its queries, so
 * guessing cannot fill the cache), and the cache is bounded (oldest first out).
 */
import { createHash } from 'node:crypto';

/** How long a resolved token is reused by an api process other than the one where it was revoked. */
export const TOKEN_CACHE_MS = 2_000;
/** Most entries kept per process: far above the distinct tokens of the busiest client fleet in 2 s. */
export const TOKEN_CACHE_MAX_ENTRIES = 10_000;

interface Entry<T> {
  value: T;
  until: number;
}

/** The key of a token: its SHA-256, so the cache's memory holds no usable token. */
const keyOf = (token: string) => createHash('sha256').update(token).digest('base64url');

export class TokenCache<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(
    private readonly ttlMs = TOKEN_CACHE_MS,
    private readonly maxEntries = TOKEN_CACHE_MAX_ENTRIES,
    private readonly now: () => number = Date.now,
  ) {}

  get(token: string): T | undefined {
    const key = keyOf(token);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Keeps what `token` resolved to until TOKEN_CACHE_MS from now, or its expiry (epoch seconds) if sooner. */
  set(token: string, value: T, opts: { expiresAt: number | undefined }): void {
    if (this.ttlMs <= 0) return;
    const now = this.now();
    const until = Math.min(now + this.ttlMs, opts.expiresAt !== undefined ? opts.expiresAt * 1000 : Infinity);
    if (until <= now) return;
    const key = keyOf(token);
    this.entries.delete(key); // re-inserted last: Map order is the eviction order
    this.entries.set(key, { value, until });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  /** Forgets one token (revoked). */
  forgetToken(token: string): void {
    this.entries.delete(keyOf(token));
  }

  /** Forgets everything (an application or a user store domain changed). */
  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}

const caches = new WeakMap<object, TokenCache<unknown>>();

/** The token cache of an api process (one per AppContext), shared by the SCIM routers and the OAuth server's events. */
export function tokenCacheOf<T>(ctx: object): TokenCache<T> {
  let cache = caches.get(ctx);
  if (!cache) {
    cache = new TokenCache<unknown>();
    caches.set(ctx, cache);
  }
  return cache as TokenCache<T>;
}

/** After an application or a user store domain changed in this process: every resolved token is read again. */
export function forgetAllTokens(ctx: object): void {
  caches.get(ctx)?.clear();
}
