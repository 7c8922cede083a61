/**
 * The arithmetic of failed sign-ins, free of storage and clocks: what one more failure does to a key's record,
 * and whether a record blocks. The login guard (src/security/login-guard.ts) keeps records in the database and
 * applies these rules to them.
 *
 * Two policies are built from the settings:
 * - an account policy, WSO2 IS's account locking (identity-governance AccountLockHandler): consecutive failures
 *   with no time window; at `maxFailures` the account is locked for `lockMs * factor ^ lockCount` (the lock count
 *   is WSO2's failedLoginLockoutCount), capped at `maxLockMs`, and the count of failures starts again from zero;
 *   a successful sign-in forgets everything (the guard deletes the record);
 * - an address policy, a plain rate limit: `maxFailures` within `windowMs` block the address for `windowMs`.
 */

export interface ThrottlePolicy {
  /** The failure that makes the count reach this locks. */
  maxFailures: number;
  /** Failures older than this stop counting; undefined: they count until a success or a lock (WSO2's accounts). */
  windowMs: number | undefined;
  /** The first lock. */
  lockMs: number;
  /** Each further lock lasts this many times the one before (1: always `lockMs`). */
  factor: number;
  /** No lock lasts longer than this, however many came before. */
  maxLockMs: number;
  /** A record with no failure and no lock for this long is forgotten, lock count included. */
  forgetMs: number;
}

/** A key's record, times in epoch milliseconds. */
export interface ThrottleState {
  failures: number;
  windowStartedAt: number;
  /** When the latest lock ends (possibly in the past); null before the first lock. */
  lockedUntil: number | null;
  lockCount: number;
  expiresAt: number;
}

/** How long the `lockCount + 1`-th lock lasts. */
export function lockDuration(policy: ThrottlePolicy, lockCount: number): number {
  // Math.pow overflows to Infinity long before lockCount could, and min() takes care of it.
  return Math.min(policy.maxLockMs, Math.round(policy.lockMs * Math.pow(policy.factor, lockCount)));
}

/** The record, if it still means something at `now`. */
export function live(state: ThrottleState | null | undefined, now: number): ThrottleState | undefined {
  return state && state.expiresAt > now ? state : undefined;
}

/** Milliseconds until the record stops blocking; 0 when it does not block. */
export function blockedFor(state: ThrottleState | null | undefined, now: number): number {
  const s = live(state, now);
  return s?.lockedUntil != null && s.lockedUntil > now ? s.lockedUntil - now : 0;
}

/**
 * The record after one more failure at `now`, and whether this failure locked it. A failure while the record
 * blocks changes nothing: such an attempt was refused before its credential was checked (the guard checks
 * first), and only concurrent attempts that were let through before the lock can get here.
 */
export function afterFailure(state: ThrottleState | null | undefined, policy: ThrottlePolicy, now: number): { state: ThrottleState; locked: boolean } {
  const current = live(state, now);
  if (current && blockedFor(current, now) > 0) return { state: current, locked: false };
  const windowOver = current !== undefined && policy.windowMs !== undefined && now - current.windowStartedAt >= policy.windowMs;
  const counting = current !== undefined && !windowOver;
  const failures = (counting ? current.failures : 0) + 1;
  const lockCount = current?.lockCount ?? 0;
  if (failures >= policy.maxFailures) {
    const lockedUntil = now + lockDuration(policy, lockCount);
    return {
      state: { failures: 0, windowStartedAt: now, lockedUntil, lockCount: lockCount + 1, expiresAt: lockedUntil + policy.forgetMs },
      locked: true,
    };
  }
  return {
    state: {
      failures,
      windowStartedAt: counting ? current.windowStartedAt : now,
      lockedUntil: current?.lockedUntil ?? null,
      lockCount,
      expiresAt: now + policy.forgetMs,
    },
    locked: false,
  };
}
