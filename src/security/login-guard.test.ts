// The login guard on a real (embedded) PostgreSQL, as two api processes share it: two guards on one database,
// concurrent failures counted exactly, one process learning of the other's lock, and a success path that does not
// touch the database when nothing is known.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoginSecurityConfig } from '../config.js';
import { createPrismaClient, type PrismaClient } from '../db/client.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../db/embedded-postgres.js';
import { applyMigrations } from '../db/schema-engine.js';
import { createLogger } from '../log.js';
import { LoginGuard } from './login-guard.js';

const migrationsDir = join(fileURLToPath(new URL('../../', import.meta.url)), 'prisma', 'migrations');
const HOOK_TIMEOUT = 60_000;
const log = createLogger('login-guard-test', 'error');

const config = (maxFailedAttempts: number): LoginSecurityConfig => ({
  accountLock: { maxFailedAttempts, lockSeconds: 60, incrementFactor: 2, maxLockSeconds: 600 },
  addressLimit: { maxFailures: 1000, windowSeconds: 60 },
  trustProxyHops: 0,
});

let scratch: string;
let server: EmbeddedPostgres;
let db: PrismaClient;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'login-guard-test-'));
  server = await startEmbeddedPostgres({ dataDir: join(scratch, 'pglite'), port: 0 });
  await applyMigrations({ databaseUrl: server.url, migrationsDir });
  db = createPrismaClient(server.url, { poolSize: 4 });
}, HOOK_TIMEOUT);

afterAll(async () => {
  await db?.$disconnect();
  await server?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
}, HOOK_TIMEOUT);

/** The database client, counting the guard's queries on its table. */
function counting(client: PrismaClient): { db: PrismaClient; queries: () => number } {
  let n = 0;
  const table = new Proxy(client.loginThrottle, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        n++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const proxied = new Proxy(client, { get: (target, prop, receiver): unknown => (prop === 'loginThrottle' ? table : Reflect.get(target, prop, receiver)) });
  return { db: proxied, queries: () => n };
}

describe('LoginGuard', () => {
  it('counts concurrent failures from two processes exactly (row lock, no lost update)', async () => {
    const a = new LoginGuard(db, config(1000), log);
    const b = new LoginGuard(db, config(1000), log);
    await Promise.all(Array.from({ length: 24 }, (_, i) => (i % 2 ? a : b).recordFailure({ kind: 'user', address: '192.0.2.1', account: 'u-concurrent' })));
    const row = await db.loginThrottle.findUnique({ where: { key: 'account:user:u-concurrent' } });
    expect(row).toMatchObject({ failures: 24, lockCount: 0 });
    expect((await db.loginThrottle.findUnique({ where: { key: 'address:user:192.0.2.1' } }))?.failures).toBe(24);
  });

  it('locks once at the limit however many failures race for it, and the other process learns of it within its cache time', async () => {
    const a = new LoginGuard(db, config(5), log, { cacheTtlMs: 300 });
    const b = new LoginGuard(db, config(5), log, { cacheTtlMs: 300 });
    const attempt = { kind: 'user' as const, address: '192.0.2.2', account: 'u-race' };
    expect(await b.check(attempt)).toEqual({ allowed: true }); // b now believes there is nothing
    await Promise.all(Array.from({ length: 12 }, () => a.recordFailure(attempt)));
    expect(await db.loginThrottle.findUnique({ where: { key: 'account:user:u-race' } })).toMatchObject({ failures: 0, lockCount: 1 });
    expect(await db.securityEvent.count({ where: { type: 'account_locked', account: 'u-race' } })).toBe(1);
    await new Promise((r) => setTimeout(r, 350));
    expect(await b.check(attempt)).toMatchObject({ allowed: false, reason: 'account_locked' });
    // An operator's unlock in b; a, past its cache time, lets the user in again.
    expect(await b.unlockAccount('user', 'u-race', 'test')).toEqual({ wasLocked: true, records: 1 });
    await new Promise((r) => setTimeout(r, 350));
    expect(await a.check(attempt)).toEqual({ allowed: true });
  });

  it('spends no query on the success path once it knows there is nothing to forget', async () => {
    const { db: watched, queries } = counting(db);
    const guard = new LoginGuard(watched, config(5), log);
    const attempt = { kind: 'operator' as const, address: '192.0.2.3', account: 'admin' };
    expect(await guard.check(attempt)).toEqual({ allowed: true });
    expect(queries()).toBe(1); // one read of both keys
    for (let i = 0; i < 100; i++) {
      await guard.check(attempt);
      await guard.recordSuccess(attempt);
    }
    expect(queries()).toBe(1);
    // A failure is written, and the next success forgets it (one delete), then nothing again.
    await guard.recordFailure(attempt);
    const afterFailure = queries();
    await guard.recordSuccess(attempt);
    await guard.recordSuccess(attempt);
    expect(queries()).toBe(afterFailure + 1);
    expect(await db.loginThrottle.findUnique({ where: { key: 'account:operator:admin@192.0.2.3' } })).toBeNull();
  });
});
