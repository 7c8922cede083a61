import { describe, expect, it } from 'vitest';
import { defaultPayloadConverter } from '@temporalio/common';
import { SecretBox } from '../crypto/secret-box.js';
import { maskSecrets } from '../http/codec.js';
import { EncryptionCodec } from './codec.js';

const k1 = { id: 'k1', key: SecretBox.generateKey() };
const k2 = { id: 'k2', key: SecretBox.generateKey() };

describe('EncryptionCodec', () => {
  it('encrypts payloads so their content is unreadable, and decrypts them back', async () => {
    const codec = new EncryptionCodec(new SecretBox([k1]));
    const plain = defaultPayloadConverter.toPayload({ userName: 'alice', password: 'hunter2-hunter2' });
    const [encoded] = await codec.encode([plain]);
    expect(Buffer.from(encoded!.metadata!.encoding!).toString()).toBe('binary/encrypted');
    expect(Buffer.from(encoded!.data!).toString('latin1')).not.toContain('hunter2');
    const [decoded] = await codec.decode([encoded!]);
    expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual({ userName: 'alice', password: 'hunter2-hunter2' });
  });

  it('rotates keys: a payload sealed with the old key still opens after a new key is put first', async () => {
    const [old] = await new EncryptionCodec(new SecretBox([k1])).encode([defaultPayloadConverter.toPayload('x')]);
    const rotated = new EncryptionCodec(new SecretBox([k2, k1]));
    expect(defaultPayloadConverter.fromPayload((await rotated.decode([old!]))[0]!)).toBe('x');
    const [fresh] = await rotated.encode([defaultPayloadConverter.toPayload('y')]);
    expect(Buffer.from(fresh!.metadata!['encryption-key-id']!).toString()).toBe('k2');
    await expect(new EncryptionCodec(new SecretBox([k1])).decode([fresh!])).rejects.toThrow(/no key with id "k2"/);
  });

  it('rejects tampered ciphertext', async () => {
    const codec = new EncryptionCodec(new SecretBox([k1]));
    const [encoded] = await codec.encode([defaultPayloadConverter.toPayload('x')]);
    const data = Buffer.from(encoded!.data!);
    data[data.length - 1]! ^= 1;
    await expect(codec.decode([{ ...encoded!, data }])).rejects.toThrow(/decryption failed/);
  });
});

describe('maskSecrets', () => {
  it('masks secret fields at any depth and leaves the rest', () => {
    expect(maskSecrets({ user: { userName: 'a', password: 'p' }, targets: [{ secrets: { password: 'x' } }], n: 1 })).toEqual({
      user: { userName: 'a', password: '********' },
      targets: [{ secrets: '********' }],
      n: 1,
    });
  });
});
