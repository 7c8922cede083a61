/**
 * oidc-provider's storage, in PostgreSQL through Prisma (table `oauth_payload`), so a token issued by one
 * api process is valid in every other one, and survives restarts.
 *
 * One row per model instance, keyed `<model name>:<keyed digest of the id>`: an opaque token's id *is* the token
 * (and a session's id its cookie), so the database never holds one in clear: the id is replaced by its HMAC
 * (src/crypto/keyed-digest.ts) and the `jti` member, which repeats it, is left out of the stored payload and put
 * back on read. Reading the database files gives nobody a usable access token, refresh token or session. Expiry is
 * honoured on read (an expired row is never returned, whatever the database's clock of cleaning says) and expired
 * rows are swept now and then.
 *
 * Clients are not stored here: they are the `application` rows, maintained through the admin API. The
 * adapter for the `Client` model reads them (secret decrypted) on every lookup, so an application created,
 * changed or deleted in any api process takes effect at once in all of them.
 */
import type { Adapter, AdapterPayload, ClientMetadata } from 'oidc-provider';
import { KeyedDigest } from '../../crypto/keyed-digest.js';
import type { SecretBox } from '../../crypto/secret-box.js';
import type { PrismaClient } from '../../db/client.js';
import type { Prisma } from '../../generated/prisma/client.js';
import { OIDC_SCOPES } from './claims.js';
import { isApiScope } from './scopes.js';

/** Grant types an application may be given (admin API `grantTypes`). */
export const APPLICATION_GRANT_TYPES = ['client_credentials', 'password', 'authorization_code', 'refresh_token'] as const;
export type ApplicationGrantType = (typeof APPLICATION_GRANT_TYPES)[number];

/** Client ids: characters that survive HTTP Basic and form encoding unchanged (RFC 3986 unreserved). */
export const CLIENT_ID = /^[A-Za-z0-9._~-]{3,128}$/;

/** One expired-row sweep per this many writes, on average. */
const SWEEP_EVERY = 100;

/** Models whose rows carry a client id and die with their client. */
const CLIENT_TOKEN_KINDS = ['AccessToken', 'ClientCredentials', 'RefreshToken', 'Grant'];

/**
 * The OAuth client of an application, as oidc-provider's client metadata (RFC 7591 names). Undefined for
 * an unknown client id and for the resident service provider, which is not an OAuth client.
 */
export async function applicationClient(db: PrismaClient, box: SecretBox, clientId: string): Promise<ClientMetadata | undefined> {
  // No client id of this server looks otherwise; anything else (a NUL, a 5,000-character id) is unknown, unasked.
  if (!CLIENT_ID.test(clientId)) return undefined;
  const app = await db.application.findUnique({ where: { clientId } });
  if (!app || app.isResident || app.clientId === null) return undefined;
  // A confidential client without its secret (never written so) is no client at all.
  if (!app.publicClient && app.clientSecretEncrypted === null) return undefined;
  const grantTypes = app.grantTypes.filter((g) => (APPLICATION_GRANT_TYPES as readonly string[]).includes(g));
  const browserFlow = grantTypes.includes('authorization_code');
  // An application with the code flow may ask for the OpenID Connect scopes beside its API scopes.
  const scope = [...(browserFlow ? OIDC_SCOPES : []), ...app.scopes.filter(isApiScope)].join(' ');
  return {
    client_id: app.clientId,
    ...(app.publicClient ? {} : { client_secret: box.openString(app.clientSecretEncrypted!) }),
    client_name: app.name,
    grant_types: grantTypes,
    // Only the code flow uses the authorization endpoint; other clients use the token endpoint alone.
    response_types: browserFlow ? app.responseTypes.filter((t) => t === 'code') : [],
    redirect_uris: browserFlow ? app.redirectUris : [],
    post_logout_redirect_uris: browserFlow ? app.postLogoutRedirectUris : [],
    // A public client (a SPA, a mobile application) has no secret: PKCE alone binds its code (required for all).
    token_endpoint_auth_method: app.publicClient ? 'none' : 'client_secret_basic', // client_secret_post is accepted as well
    skip_consent: app.skipConsent,
    ...(scope !== '' && { scope }),
  };
}

/** Deletes every token and grant issued to a client (its application was deleted or got a new secret). */
export async function revokeClientTokens(db: PrismaClient, clientId: string): Promise<number> {
  const { count } = await db.oAuthPayload.deleteMany({
    where: { kind: { in: CLIENT_TOKEN_KINDS }, payload: { path: ['clientId'], equals: clientId } },
  });
  return count;
}

/**
 * Deletes every token, grant and session issued for a user: called by the user store when the user's password
 * changes or the user is deactivated, in that change's transaction, so its sessions end with it (the token check
 * refuses older tokens anyway: this keeps them from lingering in the table).
 */
export async function revokeUserTokens(db: Pick<PrismaClient, 'oAuthPayload'>, userId: string): Promise<number> {
  const { count } = await db.oAuthPayload.deleteMany({ where: { payload: { path: ['accountId'], equals: userId } } });
  return count;
}

const expiresAtOf = (expiresIn: number | undefined): Date | null =>
  expiresIn !== undefined && expiresIn > 0 ? new Date(Date.now() + expiresIn * 1000) : null;

const isLive = (row: { expiresAt: Date | null }): boolean => row.expiresAt === null || row.expiresAt.getTime() > Date.now();

/** Payload member holding the sealed id of models that are looked up by uid or user code. */
const SEALED_JTI = 'sealedJti';

/** The stored payload as oidc-provider wrote it: `jti` (the id, never stored in clear) put back. */
function toPayload(row: { payload: Prisma.JsonValue; consumedAt: Date | null }, jti: string): AdapterPayload {
  const { [SEALED_JTI]: _sealed, ...stored } = row.payload as Record<string, unknown>;
  const payload = { ...(stored as AdapterPayload), jti };
  return row.consumedAt ? { ...payload, consumed: Math.floor(row.consumedAt.getTime() / 1000) } : payload;
}

/** The purpose of the digest key (src/crypto/keyed-digest.ts). */
const DIGEST_PURPOSE = 'oauth-payload-id';

export interface AdapterHooks {
  /**
   * Runs before a client is looked up, which oidc-provider does before it compares a client secret; a throw
   * becomes the endpoint's error answer (src/http/oauth/client-guard.ts refuses throttled clients here).
   */
  beforeClientLookup?(clientId: string): Promise<void>;
}

/**
 * Builds the adapter class oidc-provider instantiates once per model name (`configuration.adapter`).
 *
 * @example
 *   new Provider(issuer, { adapter: prismaAdapter(db, box, { beforeClientLookup }), ... })
 */
export function prismaAdapter(db: PrismaClient, box: SecretBox, hooks: AdapterHooks = {}): new (name: string) => Adapter {
  const digest = new KeyedDigest(box.keyring, DIGEST_PURPOSE);
  return class PrismaAdapter implements Adapter {
    constructor(private readonly name: string) {}

    /** The row ids a row may have, the current key's first (one per keyring key: rows written before a rotation). */
    private keys(id: string): string[] {
      return digest.candidates(id).map((d) => `${this.name}:${d}`);
    }

    private async findRow(id: string) {
      const ids = this.keys(id);
      if (ids.length === 1) return db.oAuthPayload.findUnique({ where: { id: ids[0]! } });
      return db.oAuthPayload.findFirst({ where: { id: { in: ids } } });
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      if (this.name === 'Client') throw new Error('clients are applications: manage them through the admin API');
      const { jti: _jti, ...stored } = payload;
      // Models also looked up by uid or user code (sessions, device codes) must give their id back from such a
      // lookup: it is kept sealed (encrypted), never in clear. Tokens (access, refresh, client credentials,
      // codes) are only ever looked up by their value, so nothing of it is kept but the digest.
      const reachable = payload.uid !== undefined || payload.userCode !== undefined;
      const data = {
        kind: this.name,
        payload: (reachable ? { ...stored, [SEALED_JTI]: box.sealString(id) } : stored) as Prisma.InputJsonValue,
        grantId: payload.grantId ?? null,
        userCode: payload.userCode === undefined ? null : digest.digest(payload.userCode),
        uid: payload.uid === undefined ? null : digest.digest(payload.uid),
        expiresAt: expiresAtOf(expiresIn),
      };
      // A row written under an older key (before a rotation) is replaced, not duplicated.
      const [current, ...older] = this.keys(id);
      if (older.length > 0) await db.oAuthPayload.deleteMany({ where: { id: { in: older } } });
      await db.oAuthPayload.upsert({ where: { id: current! }, create: { id: current!, ...data }, update: data });
      if (Math.random() < 1 / SWEEP_EVERY) await db.oAuthPayload.deleteMany({ where: { expiresAt: { lt: new Date() } } });
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.name === 'Client') {
        await hooks.beforeClientLookup?.(id);
        return applicationClient(db, box, id);
      }
      const row = await this.findRow(id);
      return row && isLive(row) ? toPayload(row, id) : undefined;
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      const row = await db.oAuthPayload.findFirst({ where: { kind: this.name, userCode: { in: digest.candidates(userCode) } } });
      return row && isLive(row) ? toPayload(row, jtiOf(row, box)) : undefined;
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      const row = await db.oAuthPayload.findFirst({ where: { kind: this.name, uid: { in: digest.candidates(uid) } } });
      return row && isLive(row) ? toPayload(row, jtiOf(row, box)) : undefined;
    }

    async consume(id: string): Promise<void> {
      await db.oAuthPayload.updateMany({ where: { id: { in: this.keys(id) }, consumedAt: null }, data: { consumedAt: new Date() } });
    }

    async destroy(id: string): Promise<void> {
      await db.oAuthPayload.deleteMany({ where: { id: { in: this.keys(id) } } });
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      // Every model sharing the grant goes (access and refresh tokens, codes), as oidc-provider expects.
      await db.oAuthPayload.deleteMany({ where: { grantId } });
    }
  };
}

/** The id of a row found by uid or user code: kept sealed in its payload (see upsert). */
function jtiOf(row: { payload: Prisma.JsonValue }, box: SecretBox): string {
  const sealed = (row.payload as Record<string, unknown>)[SEALED_JTI];
  if (typeof sealed !== 'string') throw new Error('an oauth_payload row found by uid or user code has no sealed id');
  return box.openString(sealed);
}
