/**
 * Payload codec: every payload that enters Temporal (workflow inputs and results, signals, activity
 * arguments and results) is encrypted with AES-256-GCM, so passwords and connector secrets are never
 * readable in workflow history, in the Temporal database, or in the Web UI without the key.
 *
 * The key id travels in the payload metadata, so keys rotate without breaking old histories: put the new
 * key first in ENCRYPTION_KEYS and keep the old one until no open workflow uses it.
 *
 * Operators read histories through the codec endpoint of the API (src/http/codec.ts), which decodes for
 * an authenticated operator and masks secret fields.
 */
import type { Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';

const { temporal } = proto;
import { type SecretBox } from '../crypto/secret-box.js';

export const ENCODING = 'binary/encrypted';
const METADATA_ENCODING_KEY = 'encoding';
const METADATA_KEY_ID = 'encryption-key-id';
const AAD = Buffer.from(ENCODING);

export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly box: SecretBox) {}

  // Promise.resolve().then(...): a failure (unknown key, tampered data) becomes a rejection, not a throw.
  encode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.resolve().then(() =>
      payloads.map((payload) => {
        const plain = temporal.api.common.v1.Payload.encode(payload).finish();
        const { keyId, data } = this.box.seal(plain, AAD);
        return {
          metadata: {
            [METADATA_ENCODING_KEY]: Buffer.from(ENCODING),
            [METADATA_KEY_ID]: Buffer.from(keyId),
          },
          data,
        };
      }),
    );
  }

  decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.resolve().then(() =>
      payloads.map((payload) => {
        const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
        if (!encoding || Buffer.from(encoding).toString() !== ENCODING) return payload;
        const keyId = Buffer.from(payload.metadata?.[METADATA_KEY_ID] ?? []).toString();
        const plain = this.box.open(keyId, payload.data ?? new Uint8Array(), AAD);
        return temporal.api.common.v1.Payload.decode(plain);
      }),
    );
  }
}
