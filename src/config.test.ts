import { describe, expect, it } from 'vitest';
import os from 'node:os';
import { ConfigError, defaultWriteConcurrency, loadConfig } from './config.js';

const key = Buffer.from(Array.from({ length: 32 }, (_, i) => i * 7 + 1)).toString('base64');

describe('loadConfig', () => {
  it('defaults to embedded mode with no external services', () => {
    const c = loadConfig({});
    expect(c.mode).toBe('embedded');
    expect(c.database.url).toBeUndefined();
    expect(c.temporal.address).toBeUndefined();
    expect(c.api.publicBaseUrl).toBe('http://localhost:8080');
  });

  it('switches to production mode when DATABASE_URL and TEMPORAL_ADDRESS are set, and then needs secrets', () => {
    const env = { DATABASE_URL: 'postgresql://u:p@db:5432/prov', TEMPORAL_ADDRESS: 'temporal:7233' };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    const c = loadConfig({ ...env, ADMIN_PASSWORD: 'long-enough', ENCRYPTION_KEYS: `k2:${key},k1:${key}` });
    expect(c.mode).toBe('production');
    expect(c.encryptionKeys?.map((k) => k.id)).toEqual(['k2', 'k1']);
  });

  it('lists every bad value at once', () => {
    try {
      loadConfig({ API_PORT: '70000', TEMPORAL_ADDRESS: 'no-port', DATABASE_URL: 'mysql://x', ENCRYPTION_KEYS: 'k1:abc', BLOCKING_TIMEOUT_MS: '-1' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const issues = (err as ConfigError).issues.join('\n');
      for (const name of ['API_PORT', 'TEMPORAL_ADDRESS', 'DATABASE_URL', 'ENCRYPTION_KEYS', 'BLOCKING_TIMEOUT_MS']) expect(issues).toContain(name);
    }
  });

  it("defaults sign-in protection to WSO2's account locking (5 attempts, 5 minutes, factor 2) and validates it", () => {
    expect(loadConfig({}).loginSecurity).toEqual({
      accountLock: { maxFailedAttempts: 5, lockSeconds: 300, incrementFactor: 2, maxLockSeconds: 86_400 },
      addressLimit: { maxFailures: 100, windowSeconds: 300 },
      trustProxyHops: 0,
    });
    expect(loadConfig({ ACCOUNT_LOCK_ENABLE: 'false', TRUST_PROXY: 'true' }).loginSecurity).toMatchObject({ accountLock: undefined, trustProxyHops: 1 });
    for (const [name, value] of [
      ['ACCOUNT_LOCK_LOGIN_FAIL_TIMEOUT_RATIO', '0.5'],
      ['ACCOUNT_LOCK_ON_FAILURE_MAX_ATTEMPTS', '0'],
      ['LOGIN_ADDRESS_MAX_FAILURES', '1.5'],
      ['TRUST_PROXY', 'yes-please'],
    ] as const) {
      expect(() => loadConfig({ [name]: value }), name).toThrow(new RegExp(name));
    }
    expect(() => loadConfig({ ACCOUNT_LOCK_TIME_SECONDS: '600', ACCOUNT_LOCK_MAX_TIME_SECONDS: '300' })).toThrow(/must not exceed ACCOUNT_LOCK_MAX_TIME_SECONDS/);
  });

  it('bounds how long a request waits: a little above the blocking timeout, never at or below it', () => {
    expect(loadConfig({}).requestTimeoutMs).toBe(40_000);
    expect(loadConfig({ BLOCKING_TIMEOUT_MS: '5000' }).requestTimeoutMs).toBe(15_000);
    expect(loadConfig({ BLOCKING_TIMEOUT_MS: '500', REQUEST_TIMEOUT_MS: '2000' }).requestTimeoutMs).toBe(2000);
    expect(() => loadConfig({ REQUEST_TIMEOUT_MS: '30000' })).toThrow(/REQUEST_TIMEOUT_MS: must be greater than BLOCKING_TIMEOUT_MS \(30000\)/);
    expect(() => loadConfig({ REQUEST_TIMEOUT_MS: '0' })).toThrow(/REQUEST_TIMEOUT_MS/);
  });

  it('bounds writes in flight by the database pool and the machine, with a short wait and an engine timeout below the request timeout', () => {
    expect(defaultWriteConcurrency(10, 2)).toBe(32); // 16 per core
    expect(defaultWriteConcurrency(5, 2)).toBe(20); // 4 per connection
    expect(defaultWriteConcurrency(10, 64)).toBe(40);
    const c = loadConfig({});
    expect(c.writes).toEqual({ concurrency: defaultWriteConcurrency(10, os.availableParallelism()), queueTimeoutMs: 1000, engineTimeoutMs: 5000 });
    expect(c.database.poolTimeoutMs).toBe(10_000);
    expect(loadConfig({ DATABASE_POOL_SIZE: '2' }).writes.concurrency).toBe(defaultWriteConcurrency(2, os.availableParallelism()));
    expect(loadConfig({ WRITE_CONCURRENCY: '3', WRITE_QUEUE_TIMEOUT_MS: '0', ENGINE_TIMEOUT_MS: '2000', DATABASE_POOL_TIMEOUT_MS: '800' })).toMatchObject({
      writes: { concurrency: 3, queueTimeoutMs: 0, engineTimeoutMs: 2000 },
      database: { poolTimeoutMs: 800 },
    });
    // A short request timeout takes the engine timeout down with it; an explicit one must stay below it.
    expect(loadConfig({ BLOCKING_TIMEOUT_MS: '1000', REQUEST_TIMEOUT_MS: '4000' }).writes.engineTimeoutMs).toBe(2000);
    expect(() => loadConfig({ ENGINE_TIMEOUT_MS: '40000' })).toThrow(/ENGINE_TIMEOUT_MS: must be less than REQUEST_TIMEOUT_MS \(40000\)/);
    for (const [name, value] of [
      ['WRITE_CONCURRENCY', '0'],
      ['WRITE_CONCURRENCY', 'many'],
      ['WRITE_QUEUE_TIMEOUT_MS', '-1'],
      ['WRITE_QUEUE_TIMEOUT_MS', '120000'],
      ['DATABASE_POOL_TIMEOUT_MS', '0'],
    ] as const) {
      expect(() => loadConfig({ [name]: value }), `${name}=${value}`).toThrow(new RegExp(name));
    }
  });

  it('requires a client certificate and key together, and implies TLS with them', () => {
    expect(() => loadConfig({ TEMPORAL_TLS_CERT: '/c.pem' })).toThrow(/TEMPORAL_TLS_KEY/);
    const c = loadConfig({ TEMPORAL_TLS_CERT: '/c.pem', TEMPORAL_TLS_KEY: '/k.pem' });
    expect(c.temporal.tls).toEqual({ clientCert: '/c.pem', clientKey: '/k.pem' });
  });

  it('reads SCIM filters leniently unless SCIM_FILTER_LENIENT=false', () => {
    expect(loadConfig({}).scim.filterLenient).toBe(true);
    expect(loadConfig({ SCIM_FILTER_LENIENT: 'false' }).scim.filterLenient).toBe(false);
    expect(() => loadConfig({ SCIM_FILTER_LENIENT: 'maybe' })).toThrow(/SCIM_FILTER_LENIENT/);
  });

  it('refuses placeholder secrets (issue #8: docker-compose defaulted to a known password and an all-zero key)', () => {
    const production = { DATABASE_URL: 'postgresql://u:p@db:5432/p', TEMPORAL_ADDRESS: 'temporal:7233' };
    const realKey = `k1:${Buffer.alloc(32, 7).toString('base64')}`; // 7 repeated: a placeholder too
    expect(() => loadConfig({ ...production, ADMIN_PASSWORD: 'change-me-please', ENCRYPTION_KEYS: `k1:${Buffer.alloc(32).toString('base64')}` })).toThrow(
      /ADMIN_PASSWORD: is a well-known placeholder[\s\S]*ENCRYPTION_KEYS: a key is the same byte repeated/,
    );
    expect(() => loadConfig({ ...production, ADMIN_PASSWORD: 's3cret-long-enough', ENCRYPTION_KEYS: realKey })).toThrow(/same byte repeated/);
    const good = `k1:${Buffer.from(Array.from({ length: 32 }, (_, i) => i)).toString('base64')}`;
    expect(loadConfig({ ...production, ADMIN_PASSWORD: 's3cret-long-enough', ENCRYPTION_KEYS: good }).mode).toBe('production');
  });
});
