/**
 * The admin credential and the encryption keyring. In production both come from the environment
 * (loadConfig requires them). Otherwise they are generated on first start into DATA_DIR/secrets.json
 * (mode 0600) and reused, so a second `npm start` keeps the same admin password and can still decrypt
 * what it wrote.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import type { KeyringKey } from '../crypto/secret-box.js';

export interface RuntimeSecrets {
  admin: { username: string; password: string };
  keys: KeyringKey[];
  /** Where generated secrets live, when they were generated (printed by the launcher). */
  file: string | undefined;
}

interface StoredSecrets {
  adminPassword: string;
  encryptionKey: { id: string; key: string };
}

export function resolveSecrets(config: Config): RuntimeSecrets {
  if (config.admin.password !== undefined && config.encryptionKeys !== undefined) {
    return { admin: { username: config.admin.username, password: config.admin.password }, keys: config.encryptionKeys, file: undefined };
  }
  const file = path.join(config.dataDir, 'secrets.json');
  let stored: StoredSecrets;
  if (fs.existsSync(file)) {
    stored = JSON.parse(fs.readFileSync(file, 'utf8')) as StoredSecrets;
  } else {
    stored = {
      adminPassword: crypto.randomBytes(18).toString('base64url'),
      encryptionKey: { id: 'k1', key: crypto.randomBytes(32).toString('base64') },
    };
    fs.mkdirSync(config.dataDir, { recursive: true });
    // wx: two processes starting at once must not overwrite each other's fresh secrets.
    try {
      fs.writeFileSync(file, JSON.stringify(stored, null, 2), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      stored = JSON.parse(fs.readFileSync(file, 'utf8')) as StoredSecrets;
    }
  }
  return {
    admin: { username: config.admin.username, password: config.admin.password ?? stored.adminPassword },
    keys: config.encryptionKeys ?? [{ id: stored.encryptionKey.id, key: Buffer.from(stored.encryptionKey.key, 'base64') }],
    file,
  };
}

/** Environment form of the keyring, for child processes. */
export function keyringToEnv(keys: KeyringKey[]): string {
  return keys.map((k) => `${k.id}:${k.key.toString('base64')}`).join(',');
}
