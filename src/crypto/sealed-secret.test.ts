import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EncryptionCodec } from '../temporal/codec.js';
import { isSealed, SecretSealer } from './sealed-secret.js';
import { SecretBox } from './secret-box.js';

const k1 = { id: 'k1', key: crypto.randomBytes(32) };
const k2 = { id: 'k2', key: crypto.randomBytes(32) };

describe('SecretSealer', () => {
  it('seals so that the sealed form says nothing of the secret, and opens it again', () => {
    const sealer = new SecretSealer([k1]);
    const sealed = sealer.seal('Very-Secret-1');
    expect(isSealed(sealed)).toBe(true);
    expect(sealed).not.toContain('Very-Secret-1');
    expect(sealer.seal('Very-Secret-1')).not.toBe(sealed); // a fresh IV each time
    expect(sealer.open(sealed)).toBe('Very-Secret-1');
  });

  it('opens values sealed before a key rotation, and refuses tampered ones and unknown keys', () => {
    const old = new SecretSealer([k1]).seal('pw');
    expect(new SecretSealer([k2, k1]).open(old)).toBe('pw');
    expect(() => new SecretSealer([k2]).open(old)).toThrow(/not in the keyring/);
    const body = old.slice(old.lastIndexOf(':') + 1);
    const flipped = `${old.slice(0, old.lastIndexOf(':') + 1)}${body.slice(0, -2)}${body.endsWith('AA') ? 'AB' : 'AA'}`;
    expect(() => new SecretSealer([k1]).open(flipped)).toThrow(/could not be opened/);
  });

  it('uses a key of its own: what the payload codec decodes can never open a sealed value', async () => {
    const sealed = new SecretSealer([k1]).seal('pw');
    // A sealed value inside a payload is still ciphertext after the codec has done its work.
    const codec = new EncryptionCodec(new SecretBox([k1]));
    const payload = { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify({ password: sealed })) };
    const [decoded] = await codec.decode(await codec.encode([payload]));
    expect(Buffer.from(decoded!.data!).toString()).toContain(sealed);
    expect(Buffer.from(decoded!.data!).toString()).not.toContain('"pw"');
  });

  it('passes through the plain values of histories recorded before sealing', () => {
    const sealer = new SecretSealer([k1]);
    expect(sealer.openIfSealed('legacy-plain')).toBe('legacy-plain');
    expect(sealer.openIfSealed(undefined)).toBeUndefined();
    expect(sealer.openIfSealed(null)).toBeNull();
    expect(sealer.openIfSealed(sealer.seal('x'))).toBe('x');
  });
});
