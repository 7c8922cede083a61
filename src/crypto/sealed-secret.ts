/**
 * Sealed secrets: a password (or a password hash) that has to travel through a workflow is sealed by the api
 * before the workflow starts and opened only by the activity that must use it (the user store write that hashes
 * it, the delivery that sends it to a target). Workflow history, the payload codec and the codec endpoint of the
 * Temporal UI only ever see the sealed form, so even an operator who decodes a history reads no password.
 *
 * The payload codec (src/temporal/codec.ts) already encrypts every payload; sealing is the second lock, for the
 * people who are allowed to open the first one. Its key is derived (HKDF-SHA256) from the same keyring with a
 * purpose of its own, so nothing that decodes payloads can open a sealed value by accident, and key rotation
 * works as for the codec: the key id travels with the value.
 *
 * Form: `sealed:v1:<keyId>:<base64url(iv | ciphertext | tag)>` (AES-256-GCM).
 */
import crypto from 'node:crypto';
import type { KeyringKey } from './secret-box.js';

const PREFIX = 'sealed:v1:';
const PURPOSE = Buffer.from('provisioning-server/sealed-secret/v1');
const AAD = Buffer.from('sealed-secret');
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SealedSecretError extends Error {
  override name = 'SealedSecretError';
  readonly code = 'ERR_SEALED_SECRET';
}

/** Whether a value has the sealed form (it may still fail to open: a wrong key, or tampering). */
export function isSealed(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(PREFIX);
}

export class SecretSealer {
  private readonly keys: Map<string, Buffer>;
  private readonly currentKeyId: string;

  constructor(keyring: readonly KeyringKey[]) {
    const first = keyring[0];
    if (!first) throw new SealedSecretError('the keyring is empty');
    this.currentKeyId = first.id;
    this.keys = new Map(keyring.map((k) => [k.id, Buffer.from(crypto.hkdfSync('sha256', k.key, Buffer.alloc(0), PURPOSE, 32))]));
  }

  seal(plaintext: string): string {
    const iv = crypto.randomBytes(IV_BYTES);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.keys.get(this.currentKeyId)!, iv);
    cipher.setAAD(AAD);
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${PREFIX}${this.currentKeyId}:${Buffer.concat([iv, ct, cipher.getAuthTag()]).toString('base64url')}`;
  }

  open(sealed: string): string {
    if (!isSealed(sealed)) throw new SealedSecretError('not a sealed secret');
    const rest = sealed.slice(PREFIX.length);
    const sep = rest.indexOf(':');
    const key = sep > 0 ? this.keys.get(rest.slice(0, sep)) : undefined;
    if (!key) throw new SealedSecretError('a sealed secret names a key that is not in the keyring');
    const data = Buffer.from(rest.slice(sep + 1), 'base64url');
    if (data.length < IV_BYTES + TAG_BYTES) throw new SealedSecretError('a sealed secret is truncated');
    const decipher = crypto.createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
    decipher.setAAD(AAD);
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch (cause) {
      throw Object.assign(new SealedSecretError('a sealed secret could not be opened (wrong key or tampered)'), { cause });
    }
  }

  /** Seals a value if there is one. */
  sealOptional(value: string | undefined): string | undefined {
    return value === undefined ? undefined : this.seal(value);
  }

  /** Seals a nullable value (a password hash, which is null for users without a password). */
  sealNullable(value: string | null): string | null {
    return value === null ? null : this.seal(value);
  }

  /**
   * Opens a value that should be sealed. Histories recorded before sealing existed carry the plain value: it is
   * returned as it is (a client value can never pass for a sealed one, since every client value is sealed at the
   * door, whatever it looks like).
   */
  openIfSealed<T extends string | null | undefined>(value: T): T {
    return (isSealed(value) ? this.open(value) : value) as T;
  }
}
