/**
 * The admin credential and the encryption keyring, resolved for each process in this order:
 *   1. ADMIN_PASSWORD / ENCRYPTION_KEYS in the process's own environment (production: loadConfig requires them
 *      unless the process is a child of the launcher);
 *   2. the launcher's private pipe (SECRETS_FD): `npm start` hands its worker and api the secrets there, so that
 *      they are not in their environment, which /proc/<pid>/environ shows to anyone running as the same user;
 *   3. DATA_DIR/secrets.json (mode 0600), generated on first start and reused, so a second `npm start` keeps the
 *      same admin password and can still decrypt what it wrote.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseKeyring, type Config } from '../config.js';
import type { KeyringKey } from '../crypto/secret-box.js';

export interface RuntimeSecrets {
  admin: { username: string; password: string };
  keys: KeyringKey[];
  /** Where the admin password came from. */
  passwordSource: 'environment' | 'launcher' | 'file';
  /** The secrets file, when anything was read from it or written to it. */
  file: string | undefined;
  /** True only when this call generated the admin password (the first start): the one time it may be shown. */
  generated: boolean;
}

interface StoredSecrets {
  adminPassword: string;
  encryptionKey: { id: string; key: string };
}

/** The one message the launcher writes on a child's SECRETS_FD. */
const launcherMessage = z.object({ adminPassword: z.string().min(1), encryptionKeys: z.string().min(1) });
type LauncherMessage = z.infer<typeof launcherMessage>;

/** The message for a child of the launcher (see SECRETS_FD): never log it, never put it in an environment. */
export function secretsMessage(secrets: RuntimeSecrets): string {
  const message: LauncherMessage = { adminPassword: secrets.admin.password, encryptionKeys: keyringToEnv(secrets.keys) };
  return JSON.stringify(message);
}

/** Reads the launcher's message; the pipe is read to its end and closed, so a process does this once. */
function readLauncherSecrets(fd: number): { password: string; keys: KeyringKey[] } {
  let text: string;
  try {
    // The launcher writes the message and closes its end at once: this read ends at that EOF.
    text = fs.readFileSync(fd, 'utf8');
  } catch (err) {
    throw new Error(`SECRETS_FD=${fd}: cannot read the launcher's secrets (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err });
  } finally {
    try {
      fs.closeSync(fd);
    } catch {
      // already closed
    }
  }
  let parsed: LauncherMessage;
  try {
    parsed = launcherMessage.parse(JSON.parse(text));
  } catch {
    // Not the message itself: it is a secret.
    throw new Error(`SECRETS_FD=${fd}: the launcher's message is not valid`);
  }
  return { password: parsed.adminPassword, keys: parseKeyring(parsed.encryptionKeys) };
}

function readOrCreateFile(file: string): { stored: StoredSecrets; created: boolean } {
  if (fs.existsSync(file)) return { stored: JSON.parse(fs.readFileSync(file, 'utf8')) as StoredSecrets, created: false };
  const stored: StoredSecrets = {
    adminPassword: crypto.randomBytes(18).toString('base64url'),
    encryptionKey: { id: 'k1', key: crypto.randomBytes(32).toString('base64') },
  };
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // wx: two processes starting at once must not overwrite each other's fresh secrets.
  try {
    fs.writeFileSync(file, JSON.stringify(stored, null, 2), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return { stored: JSON.parse(fs.readFileSync(file, 'utf8')) as StoredSecrets, created: false };
  }
  return { stored, created: true };
}

/** Resolves the secrets of this process (once per process: the launcher's pipe is read to its end). */
export function resolveSecrets(config: Config): RuntimeSecrets {
  const username = config.admin.username;
  if (config.admin.password !== undefined && config.encryptionKeys !== undefined) {
    return { admin: { username, password: config.admin.password }, keys: config.encryptionKeys, passwordSource: 'environment', file: undefined, generated: false };
  }
  if (config.secretsFd !== undefined) {
    const launcher = readLauncherSecrets(config.secretsFd);
    return {
      admin: { username, password: config.admin.password ?? launcher.password },
      keys: config.encryptionKeys ?? launcher.keys,
      passwordSource: config.admin.password !== undefined ? 'environment' : 'launcher',
      file: undefined,
      generated: false,
    };
  }
  const file = path.join(config.dataDir, 'secrets.json');
  const { stored, created } = readOrCreateFile(file);
  return {
    admin: { username, password: config.admin.password ?? stored.adminPassword },
    keys: config.encryptionKeys ?? [{ id: stored.encryptionKey.id, key: Buffer.from(stored.encryptionKey.key, 'base64') }],
    passwordSource: config.admin.password !== undefined ? 'environment' : 'file',
    file,
    generated: created && config.admin.password === undefined,
  };
}

/** The ENCRYPTION_KEYS form of a keyring. */
export function keyringToEnv(keys: KeyringKey[]): string {
  return keys.map((k) => `${k.id}:${k.key.toString('base64')}`).join(',');
}
