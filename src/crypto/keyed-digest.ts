/**
 * Keyed digests (HMAC-SHA256) of bearer secrets, so the database stores something that identifies a token or a
 * session without being one: reading the database files gives nobody a usable access token, refresh token or
 * operator session. Unlike a password hash the input is a 256-bit random value, so a fast keyed hash is enough and
 * lookups stay one indexed read.
 *
 * Each use has its own purpose string, from which a key of its own is derived (HKDF) out of every keyring key:
 * the current key makes new digests; the others are still tried on lookup, so rotating ENCRYPTION_KEYS does not
 * end live tokens and sessions (keep the old key in the ring until they have expired).
 */
import crypto from 'node:crypto';
import type { KeyringKey } from './secret-box.js';

export class KeyedDigest {
  private readonly keys: Buffer[];

  constructor(keyring: readonly KeyringKey[], purpose: string) {
    if (keyring.length === 0) throw new Error('the keyring is empty');
    this.keys = keyring.map((k) => Buffer.from(crypto.hkdfSync('sha256', k.key, Buffer.alloc(0), Buffer.from(`provisioning-server/${purpose}`), 32)));
  }

  /** The digest under the current key: what new rows are stored under. */
  digest(value: string): string {
    return crypto.createHmac('sha256', this.keys[0]!).update(value, 'utf8').digest('base64url');
  }

  /** The digests under every key of the ring, current first: what a lookup must try. */
  candidates(value: string): string[] {
    return this.keys.map((key) => crypto.createHmac('sha256', key).update(value, 'utf8').digest('base64url'));
  }
}
