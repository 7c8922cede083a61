/**
 * oidc-provider's storage, in PostgreSQL through Prisma (table `oauth_payload`), so a token issued by one
 * api process is valid in every other one, and survives restarts.
 *
 * One row per model instance, keyed `<model name>:<id>`. Expiry is honoured on read (an expired row is
 * never returned, whatever the database's clock of cleaning says) and expired rows are swept now and then.
 *
 * Clients are not stored here: they are the `application` rows, maintained through the admin API. The
 * adapter for the `Client` model reads them (secret decrypted) on every lookup, so an application created,
 * changed or deleted in any api process takes effect at once in all of them.
 */
import type { Adapter, AdapterPayload, ClientMetadata } from 'oidc-provider';
import type { SecretBox } from '../../crypto/secret-box.js';
import type { PrismaClient } from '../../db/client.js';
import type { Prisma } from '../../generated/prisma/client.js';
import { isApiScope } from './scopes.js';

/** Grant types an application may be given (admin API `grantTypes`). */
export const APPLICATION_GRANT_TYPES = ['client_credentials', 'password'] as const;
export type ApplicationGrantType = (typeof APPLICATION_GRANT_TYPES)[number];

/** One expired-row sweep per this many writes, on average. */
const SWEEP_EVERY = 100;

/** Models whose rows carry a client id and die with their client. */
const CLIENT_TOKEN_KINDS = ['AccessToken', 'ClientCredentials', 'RefreshToken', 'Grant'];

/**
 * The OAuth client of an application, as oidc-provider's client metadata (RFC 7591 names). Undefined for
 * an unknown client id and for the resident service provider, which is not an OAuth client.
 */
export async function applicationClient(db: PrismaClient, box: SecretBox, clientId: string): Promise<ClientMetadata | undefined> {
  const app = await db.application.findUnique({ where: { clientId } });
  if (!app || app.isResident || app.clientId === null || app.clientSecretEncrypted === null) return undefined;
  const grantTypes = app.grantTypes.filter((g) => (APPLICATION_GRANT_TYPES as readonly string[]).includes(g));
  const scope = app.scopes.filter(isApiScope).join(' ');
  return {
    client_id: app.clientId,
    client_secret: box.openString(app.clientSecretEncrypted),
    client_name: app.name,
    grant_types: grantTypes,
    // No authorization endpoint flows: these clients only use the token endpoint.
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic', // client_secret_post is accepted as well
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

function toPayload(row: { payload: Prisma.JsonValue; consumedAt: Date | null }): AdapterPayload {
  const payload = row.payload as AdapterPayload;
  return row.consumedAt ? { ...payload, consumed: Math.floor(row.consumedAt.getTime() / 1000) } : payload;
}

/**
 * Builds the adapter class oidc-provider instantiates once per model name (`configuration.adapter`).
 *
 * @example
 *   new Provider(issuer, { adapter: prismaAdapter(db, box), ... })
 */
export function prismaAdapter(db: PrismaClient, box: SecretBox): new (name: string) => Adapter {
  return class PrismaAdapter implements Adapter {
    constructor(private readonly name: string) {}

    private key(id: string): string {
      return `${this.name}:${id}`;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      if (this.name === 'Client') throw new Error('clients are applications: manage them through the admin API');
      const data = {
        kind: this.name,
        payload: payload as Prisma.InputJsonValue,
        grantId: payload.grantId ?? null,
        userCode: payload.userCode ?? null,
        uid: payload.uid ?? null,
        expiresAt: expiresAtOf(expiresIn),
      };
      await db.oAuthPayload.upsert({ where: { id: this.key(id) }, create: { id: this.key(id), ...data }, update: data });
      if (Math.random() < 1 / SWEEP_EVERY) await db.oAuthPayload.deleteMany({ where: { expiresAt: { lt: new Date() } } });
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.name === 'Client') return applicationClient(db, box, id);
      const row = await db.oAuthPayload.findUnique({ where: { id: this.key(id) } });
      return row && isLive(row) ? toPayload(row) : undefined;
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      const row = await db.oAuthPayload.findFirst({ where: { kind: this.name, userCode } });
      return row && isLive(row) ? toPayload(row) : undefined;
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      const row = await db.oAuthPayload.findFirst({ where: { kind: this.name, uid } });
      return row && isLive(row) ? toPayload(row) : undefined;
    }

    async consume(id: string): Promise<void> {
      await db.oAuthPayload.updateMany({ where: { id: this.key(id), consumedAt: null }, data: { consumedAt: new Date() } });
    }

    async destroy(id: string): Promise<void> {
      await db.oAuthPayload.deleteMany({ where: { id: this.key(id) } });
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      // Every model sharing the grant goes (access and refresh tokens, codes), as oidc-provider expects.
      await db.oAuthPayload.deleteMany({ where: { grantId } });
    }
  };
}
