/**
 * AES-256-GCM with a keyring, shared by the Temporal payload codec (secrets in workflow history) and
 * the connector credentials stored in the database. The first key encrypts; any key decrypts, by its id,
 * so keys rotate without re-encrypting everything at once.
 */
import crypto from 'node:crypto';

export interface KeyringKey {
  id: string;
  key: Buffer;
}

export class SecretBoxError extends Error {
  override name = 'SecretBoxError';
  constructor(
    readonly code: 'ERR_UNKNOWN_KEY' | 'ERR_DECRYPT' | 'ERR_FORMAT',
    message: string,
  ) {
    super(message);
  }
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SecretBox {
  private readonly byId: Map<string, Buffer>;
  readonly currentKeyId: string;
  /** The keyring, current key first: the root of the keys derived for other purposes (sealed secrets, digests). */
  readonly keyring: readonly KeyringKey[];

  constructor(keys: KeyringKey[]) {
    const first = keys[0];
    if (!first) throw new SecretBoxError('ERR_UNKNOWN_KEY', 'the keyring is empty');
    this.currentKeyId = first.id;
    this.keyring = [...keys];
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  /** Encrypts; `aad` binds the ciphertext to its context (e.g. the encoding) so it cannot be moved. */
  seal(plaintext: Uint8Array, aad?: Uint8Array): { keyId: string; data: Buffer } {
    const key = this.byId.get(this.currentKeyId)!;
    const iv = crypto.randomBytes(IV_BYTES);
    const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
    if (aad) cipher.setAAD(aad);
    const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return { keyId: this.currentKeyId, data: Buffer.concat([iv, ct, cipher.getAuthTag()]) };
  }

  open(keyId: string, data: Uint8Array, aad?: Uint8Array): Buffer {
    const key = this.byId.get(keyId);
    if (!key) throw new SecretBoxError('ERR_UNKNOWN_KEY', `no key with id "${keyId}" in the keyring`);
    if (data.length < IV_BYTES + TAG_BYTES) throw new SecretBoxError('ERR_FORMAT', 'ciphertext too short');
    const buf = Buffer.from(data);
    const iv = buf.subarray(0, IV_BYTES);
    const tag = buf.subarray(buf.length - TAG_BYTES);
    const ct = buf.subarray(IV_BYTES, buf.length - TAG_BYTES);
    const decipher = crypto.createDecipheriv('aes-256-gcm', key, iv);
    if (aad) decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(ct), decipher.final()]);
    } catch (cause) {
      throw Object.assign(new SecretBoxError('ERR_DECRYPT', 'decryption failed (wrong key or tampered data)'), {
        cause,
      });
    }
  }

  /** Text form for database columns: `v1.<keyId>.<base64url>`. */
  sealString(value: string): string {
    const { keyId, data } = this.seal(Buffer.from(value, 'utf8'));
    return `v1.${keyId}.${data.toString('base64url')}`;
  }

  openString(sealed: string): string {
    const [version, keyId, body] = sealed.split('.');
    if (version !== 'v1' || !keyId || body === undefined) {
      throw new SecretBoxError('ERR_FORMAT', 'not a sealed value');
    }
    return this.open(keyId, Buffer.from(body, 'base64url')).toString('utf8');
  }

  static generateKey(): Buffer {
    return crypto.randomBytes(32);
  }
}
