import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { keyringToEnv, resolveSecrets, secretsMessage } from './secrets.js';

const key = Buffer.from(Array.from({ length: 32 }, (_, i) => i * 9 + 2)).toString('base64');
const dirs: string[] = [];
const tmpDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'secrets-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** An fd to read the launcher's message from, as a child reads its inherited pipe (a file reads the same way). */
function fdWith(text: string): number {
  const file = path.join(tmpDir(), 'message');
  fs.writeFileSync(file, text);
  return fs.openSync(file, 'r');
}

describe('resolveSecrets', () => {
  it('generates the secrets file once: "generated" only on that first call, the same password after', () => {
    const dataDir = path.join(tmpDir(), 'data');
    const first = resolveSecrets(loadConfig({ DATA_DIR: dataDir }));
    expect(first).toMatchObject({ passwordSource: 'file', generated: true, file: path.join(dataDir, 'secrets.json') });
    expect(fs.statSync(first.file!).mode & 0o777).toBe(0o600);
    const second = resolveSecrets(loadConfig({ DATA_DIR: dataDir }));
    expect(second).toMatchObject({ passwordSource: 'file', generated: false });
    expect(second.admin.password).toBe(first.admin.password);
    expect(keyringToEnv(second.keys)).toBe(keyringToEnv(first.keys));
  });

  it('prefers the environment and then writes no file', () => {
    const dataDir = path.join(tmpDir(), 'data');
    const s = resolveSecrets(loadConfig({ DATA_DIR: dataDir, ADMIN_PASSWORD: 'from-the-env', ENCRYPTION_KEYS: `k7:${key}` }));
    expect(s).toMatchObject({ passwordSource: 'environment', generated: false, file: undefined, admin: { password: 'from-the-env' } });
    expect(fs.existsSync(dataDir)).toBe(false);
  });

  it("reads a launcher child's secrets from SECRETS_FD, touching no file, the environment still first", () => {
    const dataDir = path.join(tmpDir(), 'data');
    const parent = resolveSecrets(loadConfig({ DATA_DIR: tmpDir() }));
    const fd = fdWith(secretsMessage(parent));
    const child = resolveSecrets(loadConfig({ DATA_DIR: dataDir, SECRETS_FD: String(fd) }));
    expect(child).toMatchObject({ passwordSource: 'launcher', generated: false, file: undefined });
    expect(child.admin.password).toBe(parent.admin.password);
    expect(keyringToEnv(child.keys)).toBe(keyringToEnv(parent.keys));
    expect(fs.existsSync(dataDir)).toBe(false);
    expect(() => fs.fstatSync(fd)).toThrow(); // read once, then closed

    const fd2 = fdWith(secretsMessage(parent));
    const overridden = resolveSecrets(loadConfig({ DATA_DIR: dataDir, SECRETS_FD: String(fd2), ADMIN_PASSWORD: 'operator-set' }));
    expect(overridden).toMatchObject({ passwordSource: 'environment', admin: { password: 'operator-set' } });
    expect(keyringToEnv(overridden.keys)).toBe(keyringToEnv(parent.keys));
  });

  it('refuses a message that is not the launcher\'s without repeating it (it may hold a secret)', () => {
    for (const message of ['{"adminPassword":"s3cret-value"}', 'not json s3cret-value']) {
      let error: unknown;
      try {
        resolveSecrets(loadConfig({ DATA_DIR: tmpDir(), SECRETS_FD: String(fdWith(message)) }));
      } catch (err) {
        error = err;
      }
      expect(String(error)).toMatch(/the launcher's message is not valid/);
      expect(String(error)).not.toContain('s3cret-value');
    }
  });

  it('lets a production child of the launcher start without the secrets in its environment', () => {
    const env = { DATABASE_URL: 'postgresql://u:p@db:5432/prov', TEMPORAL_ADDRESS: 'temporal:7233' };
    expect(() => loadConfig(env)).toThrow(/ADMIN_PASSWORD/);
    expect(loadConfig({ ...env, SECRETS_FD: '3' }).mode).toBe('production');
  });
});
