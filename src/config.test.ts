import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const key = Buffer.alloc(32, 7).toString('base64');

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
});
