/**
 * The authorization server's own keys: a signing key (JWKS: ID tokens, signed responses) and the cookie
 * keys (interaction and session cookies). Every api process must use the same ones, so they are generated
 * once, by whichever process starts first, and kept in the `oauth_payload` table (one row of kind `jwks`),
 * sealed with the server's encryption keyring (AES-256-GCM, src/crypto/secret-box.ts). They are never
 * printed or logged.
 */
import crypto from 'node:crypto';
import type { JWK } from 'oidc-provider';
import type { SecretBox } from '../../crypto/secret-box.js';
import type { PrismaClient } from '../../db/client.js';

const ROW_ID = 'jwks:server';

export interface ServerKeys {
  jwks: { keys: JWK[] };
  cookieKeys: string[];
}

interface Sealed {
  sealed: string;
}

function generate(): ServerKeys {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' }) as JWK;
  return {
    jwks: { keys: [{ ...jwk, use: 'sig', alg: 'RS256' }] },
    cookieKeys: [crypto.randomBytes(32).toString('base64url'), crypto.randomBytes(32).toString('base64url')],
  };
}

/**
 * Loads the server keys, creating them on first use. Safe when several processes start together: the
 * first insert wins and every process reads that row. A row sealed with an older key of the keyring is
 * re-sealed with the current one (key rotation).
 */
export async function loadServerKeys(db: PrismaClient, box: SecretBox): Promise<ServerKeys> {
  let row = await db.oAuthPayload.findUnique({ where: { id: ROW_ID } });
  if (!row) {
    await db.oAuthPayload.createMany({
      data: [{ id: ROW_ID, kind: 'jwks', payload: { sealed: box.sealString(JSON.stringify(generate())) } satisfies Sealed }],
      skipDuplicates: true,
    });
    row = await db.oAuthPayload.findUniqueOrThrow({ where: { id: ROW_ID } });
  }
  const { sealed } = row.payload as unknown as Sealed;
  let keys: ServerKeys;
  try {
    keys = JSON.parse(box.openString(sealed)) as ServerKeys;
  } catch (cause) {
    throw new Error(
      'The OAuth server keys (oauth_payload row jwks:server) cannot be decrypted: ENCRYPTION_KEYS must still hold the key they were sealed with',
      { cause },
    );
  }
  if (!sealed.startsWith(`v1.${box.currentKeyId}.`)) {
    await db.oAuthPayload.updateMany({
      where: { id: ROW_ID, payload: { equals: { sealed } } },
      data: { payload: { sealed: box.sealString(JSON.stringify(keys)) } satisfies Sealed },
    });
  }
  return keys;
}
