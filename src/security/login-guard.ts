/**
 * Brute-force protection for every place a secret is checked: the password grant (users), the admin credential
 * (the operator), OAuth client authentication (applications), and the sign-in pages to come. Each entry point
 * does the same three things around its own credential check:
 *
 *   const attempt = { kind: 'operator', address: clientAddress(req, hops), account: 'admin' };
 *   const before = await guard.check(attempt);           // refused? answer 429 (or "locked") without checking
 *   if (credentialIsRight) await guard.recordSuccess(attempt);
 *   else { const after = await guard.recordFailure(attempt); ... after.allowed ? 401 : 429 }
 *
 * What is counted, per attempt:
 * - its **address**, per kind: `LOGIN_ADDRESS_MAX_FAILURES` within `LOGIN_ADDRESS_WINDOW_SECONDS` throttle the
 *   address for the window. Successes never reset it (one valid account must not buy an attacker more guesses).
 * - its **account**, when the attempt names one that exists, with WSO2's account locking (ACCOUNT_LOCK_*):
 *   consecutive failures lock it, each lock longer by the factor up to the cap; a success forgets the failures
 *   and the lock count, as WSO2's AccountLockHandler does.
 *   - A user's account locks for everyone (WSO2's behaviour): the right password is refused until the lock
 *     ends or an operator unlocks it.
 *   - The operator's account and applications' clients lock only **for the address** the failures came from,
 *     never globally: the operator's name and an application's client id are known to anybody who watches
 *     the traffic, and a global lock would let any of them deny the operator or the application its access.
 *     The operator is protected by the address limit, by the per-(operator, address) lock that grows by the
 *     factor, and by the strength of the admin password (generated ones are 144-bit random); client secrets are
 *     256-bit random, so only the per-address limits are needed to keep guessing from costing anything.
 * The address comes first: it is checked (and reported) before the account, and for the operator and clients
 * everything an address can provoke stays with that address, so hammering the admin credential from one address
 * ends in that address's 429 and never touches the operator's access from elsewhere. A user's lock is global by
 * design (WSO2); the address limit bounds how many users one address can lock per window (limit / attempts).
 *
 * State is in the database (`login_throttle`, `security_event`), shared by every api process. The success path
 * must stay cheap (the admin credential is checked on every operator SCIM request), so each process keeps what
 * it last read of a key for CACHE_TTL_MS and writes only on failures, on a success that has something to forget,
 * and on an operator's unlock. The trade-off: a process learns of failures counted by another process up to
 * CACHE_TTL_MS late. Counting itself is never lost (failures of a key are counted one at a time within a process,
 * and by compare-and-set on the row between processes), and the process that counts a failure learns the row's
 * new state at once, so across N processes an attacker gains at most about N extra verified attempts per
 * CACHE_TTL_MS, and an unlock done elsewhere reaches this process within CACHE_TTL_MS.
 */
import type { LoginSecurityConfig } from '../config.js';
import type { PrismaClient } from '../db/client.js';
import type { LoginThrottle } from '../generated/prisma/client.js';
import type { Logger } from '../log.js';
import { normalizeAddress } from './client-address.js';
import { afterFailure, blockedFor, live, type ThrottlePolicy, type ThrottleState } from './throttle-policy.js';

/** Who signs in: a user of the user store, the operator (admin credential), an application (OAuth client). */
export type LoginKind = 'user' | 'operator' | 'client';
export const LOGIN_KINDS: readonly LoginKind[] = ['user', 'operator', 'client'];

export interface LoginAttempt {
  kind: LoginKind;
  /** Where the attempt comes from: `clientAddress(req, trustProxyHops)` (src/security/client-address.ts). */
  address: string;
  /**
   * The account the attempt is for, only when it exists (a user's id, the operator's name, a client id): an
   * attempt on a name that does not exist counts for its address only, so nobody can fill the table with names.
   */
  account?: string | undefined;
  /** How events name the account (e.g. `PRIMARY/alice`), never a presented, unverified name. */
  label?: string | undefined;
}

export type LoginRefusal = {
  allowed: false;
  /** address_throttled: the address's limit; account_locked: the account's lock (for this address, or globally for users). */
  reason: 'address_throttled' | 'account_locked';
  /** Whole seconds until the refusal ends (HTTP Retry-After), at least 1. */
  retryAfterSeconds: number;
  until: Date;
};
export type LoginVerdict = { allowed: true } | LoginRefusal;

/** A current record, as the admin API lists it. */
export interface ThrottleRecord {
  kind: LoginKind;
  scope: 'account' | 'address';
  account: string | null;
  address: string | null;
  failures: number;
  lockCount: number;
  blocked: boolean;
  lockedUntil: string | null;
  retryAfterSeconds: number;
  updatedAt: string;
}

export type SecurityEventType = 'account_locked' | 'account_unlocked' | 'address_throttled' | 'address_cleared';
export const SECURITY_EVENT_TYPES: readonly SecurityEventType[] = ['account_locked', 'account_unlocked', 'address_throttled', 'address_cleared'];

/** How long a process believes what it read of a key (see the module comment for the trade-off). */
export const CACHE_TTL_MS = 5_000;
/** Keys a process remembers; beyond this the oldest are dropped (and read again when needed). */
const CACHE_MAX_KEYS = 10_000;
/** Compare-and-set rounds before a failure gives up; only other processes can make a round fail. */
const MAX_WRITE_ROUNDS = 20;
/** One sweep of expired records and old events per this many failures, on average. */
const SWEEP_EVERY = 50;
/** Security events are kept this long. */
const EVENT_RETENTION_MS = 90 * 86_400_000;
/** Longer account names are not counted as accounts (no real one is this long). */
const MAX_ACCOUNT_CHARS = 256;

interface Counted {
  key: string;
  scope: 'account' | 'address';
  policy: ThrottlePolicy;
  account: string | null;
  address: string | null;
}

const toState = (row: LoginThrottle): ThrottleState => ({
  failures: row.failures,
  windowStartedAt: row.windowStartedAt.getTime(),
  lockedUntil: row.lockedUntil?.getTime() ?? null,
  lockCount: row.lockCount,
  expiresAt: row.expiresAt.getTime(),
});

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/** The two policies of the settings (src/config.ts). */
export function loginPolicies(config: LoginSecurityConfig): { address: ThrottlePolicy; account: ThrottlePolicy | undefined } {
  const windowMs = config.addressLimit.windowSeconds * 1000;
  const lock = config.accountLock;
  return {
    address: { maxFailures: config.addressLimit.maxFailures, windowMs, lockMs: windowMs, factor: 1, maxLockMs: windowMs, forgetMs: windowMs },
    account: lock && {
      maxFailures: lock.maxFailedAttempts,
      windowMs: undefined,
      lockMs: lock.lockSeconds * 1000,
      factor: lock.incrementFactor,
      maxLockMs: lock.maxLockSeconds * 1000,
      // Not WSO2 (which keeps the counts until a success): a record quiet for as long as the longest lock is
      // forgotten, so the table does not grow with every account that ever mistyped once.
      forgetMs: lock.maxLockSeconds * 1000,
    },
  };
}

/**
 * Checks and counts sign-in attempts (see the module comment). One per api process, shared by every entry point.
 *
 * @example
 *   const guard = new LoginGuard(db, config.loginSecurity, log);
 *   const verdict = await guard.check({ kind: 'user', address, account: user.id });
 *   if (!verdict.allowed) return refuse(verdict.retryAfterSeconds);
 */
export class LoginGuard {
  private readonly policies: ReturnType<typeof loginPolicies>;
  private readonly cache = new Map<string, { state: ThrottleState | null; readAt: number }>();
  /** The tail of each key's failures being counted in this process (see serial). */
  private readonly queues = new Map<string, Promise<unknown>>();

  private readonly cacheTtlMs: number;

  constructor(
    private readonly db: PrismaClient,
    config: LoginSecurityConfig,
    private readonly log: Logger,
    options: { cacheTtlMs?: number } = {},
  ) {
    this.policies = loginPolicies(config);
    this.cacheTtlMs = options.cacheTtlMs ?? CACHE_TTL_MS;
  }

  /** Whether the attempt may have its credential checked at all. Reads the database at most once per key per CACHE_TTL_MS. */
  async check(attempt: LoginAttempt): Promise<LoginVerdict> {
    const counted = this.countedKeys(attempt);
    const now = Date.now();
    const stale = counted.filter((c) => {
      const entry = this.cache.get(c.key);
      return !entry || now - entry.readAt >= this.cacheTtlMs;
    });
    if (stale.length > 0) {
      const rows = await this.db.loginThrottle.findMany({ where: { key: { in: stale.map((c) => c.key) } } });
      for (const c of stale) {
        const row = rows.find((r) => r.key === c.key);
        this.remember(c.key, row ? toState(row) : null, now);
      }
    }
    return this.verdict(counted.map((c) => this.cache.get(c.key)?.state ?? null));
  }

  /** Counts a failed attempt; the verdict says whether the next attempt (and this answer) is refused. */
  async recordFailure(attempt: LoginAttempt): Promise<LoginVerdict> {
    const counted = this.countedKeys(attempt);
    const states: (ThrottleState | null)[] = [];
    for (const c of counted) states.push(await this.countFailure(c, attempt));
    if (Math.random() < 1 / SWEEP_EVERY) await this.sweep();
    return this.verdict(states);
  }

  /** A right credential: the account's failures and lock count are forgotten (the address's are not). */
  async recordSuccess(attempt: LoginAttempt): Promise<void> {
    const account = this.countedKeys(attempt).find((c) => c.scope === 'account');
    if (!account) return;
    // Nothing known to forget: no write (the success path of every operator request). See the module comment.
    if (this.cache.get(account.key)?.state === null) return;
    await this.db.loginThrottle.deleteMany({ where: { key: account.key } });
    this.remember(account.key, null, Date.now());
  }

  /**
   * An operator's unlock: the account's records (its global lock, or its per-address locks) are deleted, and the
   * event is audited. Other api processes see it within CACHE_TTL_MS.
   */
  async unlockAccount(kind: LoginKind, account: string, actor: string, label?: string): Promise<{ wasLocked: boolean; records: number }> {
    const rows = await this.db.loginThrottle.findMany({ where: { scope: 'account', kind, account } });
    if (rows.length === 0) return { wasLocked: false, records: 0 };
    const now = Date.now();
    await this.db.loginThrottle.deleteMany({ where: { key: { in: rows.map((r) => r.key) } } });
    for (const r of rows) this.remember(r.key, null, now);
    const wasLocked = rows.some((r) => blockedFor(toState(r), now) > 0);
    await this.audit({
      type: 'account_unlocked',
      kind,
      account,
      address: null,
      actor,
      reason: `${wasLocked ? 'unlocked' : 'failure count reset'} by an operator${label ? ` (${label})` : ''}`,
    });
    return { wasLocked, records: rows.length };
  }

  /** An operator's clearing of an address: every record counted for it (its limits and per-address locks) goes. */
  async clearAddress(rawAddress: string, actor: string): Promise<{ address: string; records: number }> {
    const address = normalizeAddress(rawAddress);
    if (!address) throw new RangeError('not an IP address');
    const rows = await this.db.loginThrottle.findMany({ where: { address }, select: { key: true } });
    if (rows.length > 0) {
      await this.db.loginThrottle.deleteMany({ where: { key: { in: rows.map((r) => r.key) } } });
      const now = Date.now();
      for (const r of rows) this.remember(r.key, null, now);
      await this.audit({ type: 'address_cleared', kind: null, account: null, address, actor, reason: `${rows.length} record(s) cleared by an operator` });
    }
    return { address, records: rows.length };
  }

  /** Current records, newest first; `blocked` keeps only locks and throttles in force. */
  async listRecords(filter: { kind?: LoginKind; account?: string; address?: string; blocked?: boolean; limit: number }): Promise<ThrottleRecord[]> {
    const now = new Date();
    const address = filter.address !== undefined ? (normalizeAddress(filter.address) ?? filter.address) : undefined;
    const rows = await this.db.loginThrottle.findMany({
      where: {
        expiresAt: { gt: now },
        ...(filter.kind && { kind: filter.kind }),
        ...(filter.account !== undefined && { account: filter.account }),
        ...(address !== undefined && { address }),
        ...(filter.blocked === true && { lockedUntil: { gt: now } }),
      },
      orderBy: { updatedAt: 'desc' },
      take: filter.limit,
    });
    return rows.map((r) => {
      const blockedMs = blockedFor(toState(r), now.getTime());
      return {
        kind: r.kind as LoginKind,
        scope: r.scope as 'account' | 'address',
        account: r.account,
        address: r.address,
        failures: r.failures,
        lockCount: r.lockCount,
        blocked: blockedMs > 0,
        lockedUntil: r.lockedUntil?.toISOString() ?? null,
        retryAfterSeconds: blockedMs > 0 ? seconds(blockedMs) : 0,
        updatedAt: r.updatedAt.toISOString(),
      };
    });
  }

  /** The keys an attempt counts against, the address's first (it is the one reported when both refuse). */
  private countedKeys(attempt: LoginAttempt): Counted[] {
    const address = normalizeAddress(attempt.address) ?? attempt.address;
    const counted: Counted[] = [
      { key: `address:${attempt.kind}:${address}`, scope: 'address', policy: this.policies.address, account: null, address },
    ];
    const account = attempt.account;
    if (this.policies.account && account !== undefined && account !== '' && account.length <= MAX_ACCOUNT_CHARS) {
      // A user's account locks for everyone; the operator's and a client's only for this address (module comment).
      const global = attempt.kind === 'user';
      counted.push({
        key: global ? `account:${attempt.kind}:${account}` : `account:${attempt.kind}:${account}@${address}`,
        scope: 'account',
        policy: this.policies.account,
        account,
        address: global ? null : address,
      });
    }
    return counted;
  }

  private verdict(states: (ThrottleState | null)[]): LoginVerdict {
    const now = Date.now();
    for (const [i, state] of states.entries()) {
      const ms = blockedFor(state, now);
      if (ms > 0) {
        return { allowed: false, reason: i === 0 ? 'address_throttled' : 'account_locked', retryAfterSeconds: seconds(ms), until: new Date(now + ms) };
      }
    }
    return { allowed: true };
  }

  /**
   * One failure on one key. Within this process, failures of one key are counted one after the other (serial);
   * between processes, by compare-and-set on the row's version, so no count is lost, and a conflict can only come
   * from another process, which bounds the retries by the number of api processes.
   */
  private countFailure(c: Counted, attempt: LoginAttempt): Promise<ThrottleState> {
    return this.serial(c.key, async () => {
      let latest: ThrottleState | undefined;
      for (let round = 0; round < MAX_WRITE_ROUNDS; round++) {
        if (round > 0) await new Promise((r) => setTimeout(r, Math.random() * 10 * round)); // another process wrote it
        const row = await this.db.loginThrottle.findUnique({ where: { key: c.key } });
        const now = Date.now();
        const before = row ? toState(row) : null;
        const { state, locked } = afterFailure(before, c.policy, now);
        latest = state;
        if (state === live(before, now)) {
          // Already blocking: nothing counts (see afterFailure), nothing to write.
          this.remember(c.key, state, now);
          return state;
        }
        const data = {
          failures: state.failures,
          windowStartedAt: new Date(state.windowStartedAt),
          lockedUntil: state.lockedUntil === null ? null : new Date(state.lockedUntil),
          lockCount: state.lockCount,
          expiresAt: new Date(state.expiresAt),
          updatedAt: new Date(now),
        };
        const written = row
          ? (await this.db.loginThrottle.updateMany({ where: { key: c.key, version: row.version }, data: { ...data, version: row.version + 1 } })).count
          : (
              await this.db.loginThrottle.createMany({
                data: [{ key: c.key, kind: attempt.kind, scope: c.scope, account: c.account, address: c.address, version: 0, ...data }],
                skipDuplicates: true,
              })
            ).count;
        if (written === 1) {
          this.remember(c.key, state, now);
          if (locked) await this.lockEvent(c, attempt, state, now);
          return state;
        }
      }
      this.log.warn('failed sign-in not counted: its record is too contended between processes', { kind: attempt.kind, scope: c.scope });
      return latest!;
    });
  }

  /** Runs `fn` after every earlier call for the same key has settled. */
  private serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const run = (this.queues.get(key) ?? Promise.resolve()).then(fn);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(key, tail);
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return run;
  }

  private async lockEvent(c: Counted, attempt: LoginAttempt, state: ThrottleState, now: number): Promise<void> {
    const forS = seconds((state.lockedUntil ?? now) - now);
    const p = c.policy;
    const who = attempt.label ?? c.account;
    const reason =
      c.scope === 'address'
        ? `${p.maxFailures} failed ${attempt.kind} sign-ins from this address within ${seconds(p.windowMs ?? 0)} s; throttled for ${forS} s`
        : attempt.kind === 'user'
          ? `${p.maxFailures} consecutive failed sign-ins${who ? ` of ${who}` : ''}; lock ${state.lockCount} of this account, for ${forS} s`
          : `${p.maxFailures} consecutive failed sign-ins of ${who ?? 'this account'} from this address; locked for this address only (lock ${state.lockCount}), for ${forS} s`;
    const event = {
      type: c.scope === 'address' ? ('address_throttled' as const) : ('account_locked' as const),
      kind: attempt.kind,
      account: c.account,
      // A user's lock is global, but where the locking failures came from is worth knowing.
      address: c.address ?? normalizeAddress(attempt.address) ?? null,
      reason,
      lockedUntil: state.lockedUntil === null ? null : new Date(state.lockedUntil),
      actor: 'system',
      // The moment the lock was decided, not when the row reached the database: lockedUntil - createdAt is the
      // lock's length exactly, however long the insert waited.
      createdAt: new Date(now),
    };
    this.log.warn(event.type === 'address_throttled' ? 'address throttled' : 'account locked', {
      kind: event.kind,
      account: event.account,
      address: event.address,
      lockedUntil: event.lockedUntil?.toISOString(),
    });
    await this.audit(event);
  }

  private async audit(event: {
    type: SecurityEventType;
    kind: LoginKind | null;
    account: string | null;
    address: string | null;
    reason: string;
    actor: string;
    lockedUntil?: Date | null;
    createdAt?: Date;
  }): Promise<void> {
    await this.db.securityEvent.create({ data: { ...event, lockedUntil: event.lockedUntil ?? null } });
  }

  private remember(key: string, state: ThrottleState | null, now: number): void {
    this.cache.delete(key); // re-inserted last: the Map's order is the eviction order
    this.cache.set(key, { state, readAt: now });
    if (this.cache.size > CACHE_MAX_KEYS) this.cache.delete(this.cache.keys().next().value!);
  }

  private async sweep(): Promise<void> {
    const now = Date.now();
    await this.db.loginThrottle.deleteMany({ where: { expiresAt: { lt: new Date(now) } } });
    await this.db.securityEvent.deleteMany({ where: { createdAt: { lt: new Date(now - EVENT_RETENTION_MS) } } });
  }
}
