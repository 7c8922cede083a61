/**
 * The authorization server's own keys: the signing keys (JWKS: ID tokens, signed responses) and the cookie
 * keys (interaction and session cookies, the sign-in pages' CSRF tokens). Every api process must use the same
 * ones, so they are generated once, by whichever process starts first, and kept in the `oauth_payload` table
 * (one row of kind `jwks`), sealed with the server's encryption keyring (AES-256-GCM, src/crypto/secret-box.ts).
 * They are never printed or logged.
 *
 * Key rotation (`POST /api/server/v1/keys/rotate`, src/http/admin/keys.ts): a new signing key is put first, so it
 * signs everything from then on (oidc-provider signs with the first key of the JWKS that fits the algorithm); the
 * keys it replaces are marked retired and stay published in the JWKS, so tokens they signed still verify, until
 * `retainSeconds` (the longest lifetime of anything they signed: ID tokens) after their retirement; the rotation
 * after that drops them. The row's `version` grows with every rotation: api processes compare it to the one they
 * built their provider from (src/http/oauth/provider.ts) and build a new one when it changed.
 */
import crypto from 'node:crypto';
import type { JWK } from 'oidc-provider';
import type { SecretBox } from '../../crypto/secret-box.js';
import type { PrismaClient } from '../../db/client.js';

const ROW_ID = 'jwks:server';

/** One signing key with its history. */
export interface SigningKey {
  /** The private JWK (with `kid`, `use`, `alg`). */
  jwk: JWK;
  /** ISO time it was made. */
  createdAt: string;
  /** ISO time a newer key replaced it; absent for the key that signs. */
  retiredAt?: string;
}

export interface ServerKeys {
  /** Grows by one per rotation; 1 for the first keys. */
  version: number;
  /** Newest (signing) first, then the retired ones still published. */
  signing: SigningKey[];
  cookieKeys: string[];
}

/** The keys as oidc-provider takes them: every published key, the signing one first. */
export function providerJwks(keys: ServerKeys): { keys: JWK[] } {
  return { keys: keys.signing.map((k) => k.jwk) };
}

/** The first format (one key, no history), as processes before rotation existed wrote it. */
interface LegacyKeys {
  jwks: { keys: JWK[] };
  cookieKeys: string[];
}

interface Sealed {
  sealed: string;
}

/**
 * An RSA key's RFC 7638 thumbprint (members e, kty, n in that order, no whitespace): its kid, as oidc-provider would
 * compute it for a key without one, so keys of the first format keep the kid their tokens carry.
 */
function thumbprint(jwk: JWK): string {
  return crypto.createHash('sha256').update(JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n })).digest('base64url');
}

function newSigningKey(now: Date): SigningKey {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' }) as JWK;
  return { jwk: { ...jwk, kid: thumbprint(jwk), use: 'sig', alg: 'RS256' }, createdAt: now.toISOString() };
}

function generate(now: Date): ServerKeys {
  return {
    version: 1,
    signing: [newSigningKey(now)],
    cookieKeys: [crypto.randomBytes(32).toString('base64url'), crypto.randomBytes(32).toString('base64url')],
  };
}

function upgrade(parsed: ServerKeys | LegacyKeys): ServerKeys {
  if ('signing' in parsed) return parsed;
  const epoch = new Date(0).toISOString();
  return { version: 1, signing: parsed.jwks.keys.map((jwk) => ({ jwk: { kid: thumbprint(jwk), ...jwk }, createdAt: epoch })), cookieKeys: parsed.cookieKeys };
}

function open(box: SecretBox, sealed: string): ServerKeys {
  try {
    return upgrade(JSON.parse(box.openString(sealed)) as ServerKeys | LegacyKeys);
  } catch (cause) {
    throw new Error(
      'The OAuth server keys (oauth_payload row jwks:server) cannot be decrypted: ENCRYPTION_KEYS must still hold the key they were sealed with',
      { cause },
    );
  }
}

/**
 * Loads the server keys, creating them on first use. Safe when several processes start together: the
 * first insert wins and every process reads that row. A row sealed with an older key of the keyring is
 * re-sealed with the current one (key rotation of the keyring).
 */
export async function loadServerKeys(db: PrismaClient, box: SecretBox): Promise<ServerKeys> {
  let row = await db.oAuthPayload.findUnique({ where: { id: ROW_ID } });
  if (!row) {
    await db.oAuthPayload.createMany({
      data: [{ id: ROW_ID, kind: 'jwks', payload: { sealed: box.sealString(JSON.stringify(generate(new Date()))) } satisfies Sealed }],
      skipDuplicates: true,
    });
    row = await db.oAuthPayload.findUniqueOrThrow({ where: { id: ROW_ID } });
  }
  const { sealed } = row.payload as unknown as Sealed;
  const keys = open(box, sealed);
  if (!sealed.startsWith(`v1.${box.currentKeyId}.`)) {
    await db.oAuthPayload.updateMany({
      where: { id: ROW_ID, payload: { equals: { sealed } } },
      data: { payload: { sealed: box.sealString(JSON.stringify(keys)) } satisfies Sealed },
    });
  }
  return keys;
}

/** The keys' version in the database (cheap: no decryption), for processes checking whether a rotation happened. */
export async function serverKeysVersion(db: PrismaClient, box: SecretBox): Promise<number | undefined> {
  const row = await db.oAuthPayload.findUnique({ where: { id: ROW_ID } });
  if (!row) return undefined;
  return open(box, (row.payload as unknown as Sealed).sealed).version;
}

/**
 * The keys after one rotation, pure: a new signing key first, the previous signing key retired now, and retired
 * keys whose retirement is more than `retainSeconds` old dropped (every token they signed has expired).
 */
export function rotated(keys: ServerKeys, now: Date, retainSeconds: number, fresh: SigningKey = newSigningKey(now)): ServerKeys {
  const cutoff = now.getTime() - retainSeconds * 1000;
  const kept = keys.signing
    .map((k) => (k.retiredAt ? k : { ...k, retiredAt: now.toISOString() }))
    .filter((k) => Date.parse(k.retiredAt ?? '') > cutoff);
  return { ...keys, version: keys.version + 1, signing: [fresh, ...kept] };
}

/** What a rotation answers: the new signing key's id and the ids still published. */
export interface RotationResult {
  version: number;
  signingKid: string;
  publishedKids: string[];
  droppedKids: string[];
}

/**
 * Rotates the signing key in the database (compare-and-set on the sealed row, so two rotations at once make two
 * versions, never one lost). Every api process switches within the provider's key check interval.
 */
export async function rotateServerKeys(db: PrismaClient, box: SecretBox, retainSeconds: number, now = new Date()): Promise<RotationResult> {
  for (let round = 0; round < 10; round++) {
    await loadServerKeys(db, box);
    const row = await db.oAuthPayload.findUniqueOrThrow({ where: { id: ROW_ID } });
    const { sealed } = row.payload as unknown as Sealed;
    const before = open(box, sealed);
    const after = rotated(before, now, retainSeconds);
    const { count } = await db.oAuthPayload.updateMany({
      where: { id: ROW_ID, payload: { equals: { sealed } } },
      data: { payload: { sealed: box.sealString(JSON.stringify(after)) } satisfies Sealed },
    });
    if (count === 1) {
      const published = new Set(after.signing.map((k) => k.jwk.kid as string));
      return {
        version: after.version,
        signingKid: after.signing[0]!.jwk.kid as string,
        publishedKids: [...published],
        droppedKids: before.signing.map((k) => k.jwk.kid as string).filter((kid) => !published.has(kid)),
      };
    }
  }
  throw new Error('the server keys changed under ten rotations in a row');
}
