/**
 * Applications (WSO2's service providers: OAuth clients of this server) and user store domains, for the
 * admin API: validated writes, client secrets encrypted at rest and shown once, views without secrets.
 *
 * An application's OAuth client is read from its row at every token request (src/http/oauth/adapter.ts),
 * so whatever is written here applies at once in every api process.
 */
import crypto from 'node:crypto';
import { z } from 'zod';
import type { SecretBox } from '../crypto/secret-box.js';
import type { PrismaClient } from '../db/client.js';
import { isUniqueViolation } from '../db/errors.js';
import { Prisma } from '../generated/prisma/client.js';
import { APPLICATION_GRANT_TYPES, CLIENT_ID, revokeClientTokens } from '../http/oauth/adapter.js';
import { API_SCOPES } from '../http/oauth/scopes.js';
import { PRIMARY_DOMAIN } from '../scim/user-resource.js';
import { allowedIdentityProviders, LOCAL_LOGIN, loginMethodInput, type LoginMethod } from '../federation/config.js';
import { MAX_REDIRECT_URIS, redirectUriProblem } from './redirect-uris.js';
import { AdminError, parseInput } from './connectors.js';
import { PRIMARY_DOMAIN_ID, RESIDENT_APPLICATION_ID, RESIDENT_APPLICATION_NAME } from './defaults.js';


const distinct = <T>(values: T[]): T[] => [...new Set(values)];

/** Response types of the authorization endpoint an application may have (the code flow only). */
export const RESPONSE_TYPES = ['code'] as const;

function redirectUris(field: string) {
  return z
    .array(z.string())
    .max(MAX_REDIRECT_URIS, { message: `at most ${MAX_REDIRECT_URIS} URIs` })
    .superRefine((values, rctx) => {
      values.forEach((value, i) => {
        const problem = redirectUriProblem(value);
        if (problem) rctx.addIssue({ code: 'custom', path: [i], message: `${field}[${i}] ${problem}` });
      });
    })
    .transform(distinct);
}

/**
 * An application's inbound provisioning, replaced as a whole when given: its user store domain (`restrictToDomain`:
 * its tokens then read, list, search and write only users and groups of that domain; off by default, as before the
 * setting existed), or proxy mode.
 */
const inboundProvisioningInput = z
  .object({
    userStoreDomain: z.string().trim().min(1).optional(),
    restrictToDomain: z.boolean().optional(),
    proxyMode: z.boolean().optional(),
  })
  .strict()
  .refine((v) => (v.proxyMode === true) !== (v.userStoreDomain !== undefined), {
    message: 'give either { "userStoreDomain": "<DOMAIN>" } or { "proxyMode": true }',
  })
  .refine((v) => !(v.proxyMode === true && v.restrictToDomain === true), {
    message: 'restrictToDomain needs a userStoreDomain: in proxy mode nothing is stored to restrict to',
  });

const applicationFields = {
  name: z.string().trim().min(1).max(255),
  description: z.string().max(1024).nullable(),
  clientId: z.string().regex(CLIENT_ID, { message: 'expected 3 to 128 characters among A-Z a-z 0-9 . _ ~ -' }),
  grantTypes: z
    .array(z.enum(APPLICATION_GRANT_TYPES, { message: `expected one of ${APPLICATION_GRANT_TYPES.join(', ')}` }))
    .min(1)
    .transform(distinct),
  scopes: z.array(z.enum(API_SCOPES, { message: `unknown scope; known scopes: ${API_SCOPES.join(', ')}` })).transform(distinct),
  inboundProvisioning: inboundProvisioningInput,
  /** Where the authorization endpoint may send the code: compared exactly (src/provisioning/redirect-uris.ts). */
  redirectUris: redirectUris('redirectUris'),
  /** Where RP-initiated logout may send the browser afterwards: compared exactly. */
  postLogoutRedirectUris: redirectUris('postLogoutRedirectUris'),
  responseTypes: z.array(z.enum(RESPONSE_TYPES, { message: `expected one of ${RESPONSE_TYPES.join(', ')}` })).max(RESPONSE_TYPES.length).transform(distinct),
  /** No client secret (a SPA, a mobile application): token_endpoint_auth_method none, PKCE still required. */
  publicClient: z.boolean(),
  /** No consent page for this application (WSO2's "Skip Login Consent", for first-party applications). */
  skipConsent: z.boolean(),
  /** How its users sign in (src/federation/config.ts); the identity providers it names must exist. */
  loginMethod: loginMethodInput,
};

/**
 * `POST /api/server/v1/applications`
 *
 * @example
 *   { "name": "hr-app", "grantTypes": ["client_credentials", "password"],
 *     "scopes": ["internal_user_mgt_create", "internal_user_mgt_view"],
 *     "inboundProvisioning": { "userStoreDomain": "PRIMARY" } }
 *   { "name": "portal", "grantTypes": ["authorization_code", "refresh_token"],
 *     "redirectUris": ["https://portal.example/callback"], "postLogoutRedirectUris": ["https://portal.example/"],
 *     "loginMethod": { "type": "choice", "identityProviders": ["corp-idp"], "local": true } }
 */
export const applicationInput = z
  .object({
    ...applicationFields,
    description: applicationFields.description.optional(),
    clientId: applicationFields.clientId.optional(),
    grantTypes: applicationFields.grantTypes.default(['client_credentials']),
    scopes: applicationFields.scopes.default([]),
    inboundProvisioning: applicationFields.inboundProvisioning.default({ userStoreDomain: PRIMARY_DOMAIN }),
    redirectUris: applicationFields.redirectUris.default([]),
    postLogoutRedirectUris: applicationFields.postLogoutRedirectUris.default([]),
    responseTypes: applicationFields.responseTypes.optional(),
    publicClient: applicationFields.publicClient.default(false),
    skipConsent: applicationFields.skipConsent.default(false),
    loginMethod: applicationFields.loginMethod.default(LOCAL_LOGIN),
  })
  .strict();

/** `PATCH /api/server/v1/applications/{id}`: any of the creation fields; absent ones are kept. */
export const applicationPatch = z.object(applicationFields).partial().strict();

export const userStoreInput = z
  .object({
    name: z
      .string()
      .trim()
      .transform((v) => v.toUpperCase())
      .pipe(
        z
          .string()
          .regex(/^[A-Z0-9_-]{1,64}$/, { message: 'expected 1 to 64 characters among A-Z 0-9 _ -' })
          .refine((v) => v !== PRIMARY_DOMAIN, { message: 'PRIMARY always exists' }),
      ),
    description: z.string().max(1024).optional(),
  })
  .strict();

const appInclude = { inboundDomain: true } as const;
type ApplicationRow = Prisma.ApplicationGetPayload<{ include: typeof appInclude }>;

export function applicationView(row: ApplicationRow) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    isResident: row.isResident,
    clientId: row.clientId,
    grantTypes: row.grantTypes,
    scopes: row.scopes,
    inboundProvisioning: row.proxyMode
      ? { proxyMode: true as const }
      : { userStoreDomain: row.inboundDomain?.name ?? PRIMARY_DOMAIN, restrictToDomain: row.restrictToInboundDomain },
    redirectUris: row.redirectUris,
    postLogoutRedirectUris: row.postLogoutRedirectUris,
    responseTypes: row.responseTypes,
    publicClient: row.publicClient,
    skipConsent: row.skipConsent,
    loginMethod: loginMethodOf(row.loginMethod),
    created: row.createdAt.toISOString(),
    lastModified: row.updatedAt.toISOString(),
  };
}

/** An application's stored login method; null (and anything unreadable) is local. */
export function loginMethodOf(json: Prisma.JsonValue | null): LoginMethod {
  const parsed = loginMethodInput.safeParse(json);
  return parsed.success ? parsed.data : LOCAL_LOGIN;
}

/** The OpenID Connect settings of an application, as they stand after a write. */
interface OidcShape {
  grantTypes: string[];
  redirectUris: string[];
  responseTypes: string[];
  publicClient: boolean;
}

/** The rules between the OpenID Connect fields, checked on the application as a write would leave it. */
function oidcProblems(app: OidcShape): string[] {
  const problems: string[] = [];
  const code = app.grantTypes.includes('authorization_code');
  if (code && app.redirectUris.length === 0) problems.push('redirectUris: the authorization_code grant needs at least one redirect URI');
  if (code && !app.responseTypes.includes('code')) problems.push('responseTypes: the authorization_code grant needs the response type code');
  if (!code && app.responseTypes.includes('code')) problems.push('responseTypes: the response type code needs the authorization_code grant');
  if (app.grantTypes.includes('refresh_token') && !code) problems.push('grantTypes: refresh_token is issued by the authorization_code grant: add it');
  if (app.publicClient) {
    const confidential = app.grantTypes.filter((g) => g === 'client_credentials' || g === 'password');
    if (confidential.length > 0) problems.push(`publicClient: a public client has no secret, so it cannot use ${confidential.join(', ')}`);
  }
  return problems;
}

const newClientId = () => crypto.randomBytes(18).toString('base64url');
const newClientSecret = () => crypto.randomBytes(32).toString('base64url');

export class ApplicationService {
  constructor(
    private readonly db: PrismaClient,
    private readonly box: SecretBox,
  ) {}

  /** `resident` names the resident service provider; anything else must be an application's id. */
  resolveId(param: string): string {
    if (param === RESIDENT_APPLICATION_NAME) return RESIDENT_APPLICATION_ID;
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(param)) {
      throw new AdminError(404, 'not_found', `No application with id '${param}'`);
    }
    return param.toLowerCase();
  }

  private async row(id: string): Promise<ApplicationRow> {
    const row = await this.db.application.findUnique({ where: { id }, include: appInclude });
    if (!row) throw new AdminError(404, 'not_found', `Application ${id} not found`);
    return row;
  }

  /** Throws 404 unless the application exists (the resident one always does). */
  async assertExists(id: string): Promise<void> {
    await this.row(id);
  }

  private async inboundColumns(input: { userStoreDomain?: string | undefined; restrictToDomain?: boolean | undefined; proxyMode?: boolean | undefined }) {
    if (input.proxyMode) return { proxyMode: true, inboundDomainId: null, restrictToInboundDomain: false };
    const name = (input.userStoreDomain ?? PRIMARY_DOMAIN).toUpperCase();
    const domain = await this.db.userStoreDomain.findUnique({ where: { name } });
    if (!domain) throw new AdminError(400, 'invalid_request', `Unknown user store domain '${name}'`, ['inboundProvisioning.userStoreDomain: create it first with POST /api/server/v1/userstores']);
    return { proxyMode: false, inboundDomainId: domain.id, restrictToInboundDomain: input.restrictToDomain === true };
  }

  /** 400 naming every identity provider of the login method that does not exist. */
  private async assertIdentityProviders(method: LoginMethod): Promise<void> {
    const names = allowedIdentityProviders(method);
    if (names.length === 0) return;
    const found = await this.db.identityProvider.findMany({ where: { name: { in: names } }, select: { name: true } });
    const known = new Set(found.map((f) => f.name));
    const unknown = names.filter((n) => !known.has(n));
    if (unknown.length > 0) {
      throw new AdminError(400, 'invalid_request', `Unknown identity provider${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `'${n}'`).join(', ')} in loginMethod`, [
        'loginMethod: create it first with POST /api/server/v1/identity-providers',
      ]);
    }
  }

  private assertOidc(app: OidcShape): void {
    const problems = oidcProblems(app);
    if (problems.length > 0) throw new AdminError(400, 'invalid_request', 'Invalid OpenID Connect settings', problems);
  }

  private async assertFree(name: string | undefined, clientId: string | undefined, exceptId?: string): Promise<void> {
    const taken = await this.db.application.findFirst({
      where: {
        OR: [...(name !== undefined ? [{ name }] : []), ...(clientId !== undefined ? [{ clientId }] : [])],
        ...(exceptId && { id: { not: exceptId } }),
      },
    });
    if (!taken) return;
    throw new AdminError(409, 'conflict', taken.name === name ? `An application named '${name}' already exists` : `The client id '${clientId}' is taken`);
  }

  /** Creates an application; the answer carries its client secret, the only time it is ever shown. */
  async create(body: unknown) {
    const input = parseInput(applicationInput, body);
    const clientId = input.clientId ?? newClientId();
    // The code grant's response type goes without saying.
    const responseTypes = input.responseTypes ?? (input.grantTypes.includes('authorization_code') ? ['code'] : []);
    this.assertOidc({ ...input, responseTypes });
    await this.assertIdentityProviders(input.loginMethod);
    await this.assertFree(input.name, clientId);
    // A public client has no secret at all: nothing to show, nothing to leak.
    const clientSecret = input.publicClient ? undefined : newClientSecret();
    try {
      const row = await this.db.application.create({
        data: {
          name: input.name,
          description: input.description ?? null,
          clientId,
          clientSecretEncrypted: clientSecret === undefined ? null : this.box.sealString(clientSecret),
          grantTypes: input.grantTypes,
          scopes: input.scopes,
          redirectUris: input.redirectUris,
          postLogoutRedirectUris: input.postLogoutRedirectUris,
          responseTypes,
          publicClient: input.publicClient,
          skipConsent: input.skipConsent,
          loginMethod: input.loginMethod,
          ...(await this.inboundColumns(input.inboundProvisioning)),
        },
        include: appInclude,
      });
      return clientSecret === undefined ? applicationView(row) : { ...applicationView(row), clientSecret };
    } catch (err) {
      if (isUniqueViolation(err)) throw new AdminError(409, 'conflict', 'An application with this name or client id already exists');
      throw err;
    }
  }

  async list() {
    const rows = await this.db.application.findMany({ include: appInclude, orderBy: [{ isResident: 'desc' }, { name: 'asc' }] });
    return rows.map(applicationView);
  }

  async get(id: string) {
    return applicationView(await this.row(id));
  }

  async update(id: string, body: unknown) {
    const input = parseInput(applicationPatch, body);
    const current = await this.row(id);
    if (current.isResident) {
      throw new AdminError(409, 'conflict', 'The resident service provider is not an OAuth client; only its outbound provisioning can be configured');
    }
    const grantTypes = input.grantTypes ?? current.grantTypes;
    const responseTypes =
      input.responseTypes ?? (input.grantTypes === undefined ? current.responseTypes : grantTypes.includes('authorization_code') ? ['code'] : []);
    const publicClient = input.publicClient ?? current.publicClient;
    this.assertOidc({ grantTypes, responseTypes, publicClient, redirectUris: input.redirectUris ?? current.redirectUris });
    if (publicClient !== current.publicClient) {
      throw new AdminError(400, 'invalid_request', 'publicClient cannot change: create a new application (a confidential client has a secret, a public one none)');
    }
    if (input.loginMethod !== undefined) await this.assertIdentityProviders(input.loginMethod);
    await this.assertFree(input.name, input.clientId, id);
    try {
      const row = await this.db.application.update({
        where: { id },
        data: {
          ...(input.name !== undefined && { name: input.name }),
          ...(input.description !== undefined && { description: input.description }),
          ...(input.clientId !== undefined && { clientId: input.clientId }),
          ...(input.grantTypes !== undefined && { grantTypes: input.grantTypes }),
          ...(input.scopes !== undefined && { scopes: input.scopes }),
          responseTypes,
          ...(input.redirectUris !== undefined && { redirectUris: input.redirectUris }),
          ...(input.postLogoutRedirectUris !== undefined && { postLogoutRedirectUris: input.postLogoutRedirectUris }),
          ...(input.skipConsent !== undefined && { skipConsent: input.skipConsent }),
          ...(input.loginMethod !== undefined && { loginMethod: input.loginMethod }),
          ...(input.inboundProvisioning !== undefined && (await this.inboundColumns(input.inboundProvisioning))),
        },
        include: appInclude,
      });
      // Tokens name their client by id: under a new client id they would belong to nobody.
      if (current.clientId !== null && row.clientId !== current.clientId) await revokeClientTokens(this.db, current.clientId);
      return applicationView(row);
    } catch (err) {
      if (isUniqueViolation(err)) throw new AdminError(409, 'conflict', 'An application with this name or client id already exists');
      throw err;
    }
  }

  /** A new client secret (shown in the answer, once); the old one and every token issued with it stop working. */
  async regenerateSecret(id: string) {
    const current = await this.row(id);
    if (current.isResident || current.clientId === null) {
      throw new AdminError(409, 'conflict', 'The resident service provider is not an OAuth client');
    }
    if (current.publicClient) throw new AdminError(409, 'conflict', 'A public client has no secret');
    const clientSecret = newClientSecret();
    const row = await this.db.application.update({
      where: { id },
      data: { clientSecretEncrypted: this.box.sealString(clientSecret) },
      include: appInclude,
    });
    await revokeClientTokens(this.db, current.clientId);
    return { ...applicationView(row), clientSecret };
  }

  /** Deletes an application, its outbound links and every token issued to it. */
  async delete(id: string): Promise<void> {
    const current = await this.row(id);
    if (current.isResident) throw new AdminError(409, 'conflict', 'The resident service provider cannot be deleted');
    await this.db.application.deleteMany({ where: { id, isResident: false } });
    if (current.clientId !== null) await revokeClientTokens(this.db, current.clientId);
  }
}

type DomainRow = Prisma.UserStoreDomainGetPayload<object>;

export function userStoreView(row: DomainRow) {
  return { id: row.id, name: row.name, description: row.description, created: row.createdAt.toISOString() };
}

/** User store domains (WSO2's secondary user stores): PRIMARY always exists; others are added and removed here. */
export class UserStoreDomainService {
  constructor(private readonly db: PrismaClient) {}

  async create(body: unknown) {
    const input = parseInput(userStoreInput, body);
    try {
      const row = await this.db.userStoreDomain.create({ data: { name: input.name, description: input.description ?? null } });
      return userStoreView(row);
    } catch (err) {
      if (isUniqueViolation(err)) throw new AdminError(409, 'conflict', `A user store domain named '${input.name}' already exists`);
      throw err;
    }
  }

  async list() {
    const rows = await this.db.userStoreDomain.findMany({ orderBy: { name: 'asc' } });
    return rows.map(userStoreView);
  }

  /** Deletes an empty domain: 409 while users, groups or applications still use it. */
  async delete(rawName: string): Promise<void> {
    const name = rawName.toUpperCase();
    const domain = await this.db.userStoreDomain.findUnique({
      where: { name },
      include: { _count: { select: { users: true, groups: true, applications: true } } },
    });
    if (!domain) throw new AdminError(404, 'not_found', `User store domain ${name} not found`);
    if (domain.id === PRIMARY_DOMAIN_ID) throw new AdminError(409, 'conflict', 'The PRIMARY user store domain cannot be deleted');
    const inUse = (counts: { users: number; groups: number; applications: number }) => {
      const parts = Object.entries(counts)
        .filter(([, n]) => n > 0)
        .map(([what, n]) => `${n} ${n === 1 ? what.slice(0, -1) : what}`);
      return new AdminError(409, 'conflict', `User store domain ${name} is still in use`, parts);
    };
    if (domain._count.users + domain._count.groups + domain._count.applications > 0) throw inUse(domain._count);
    try {
      // Users and groups hold the domain by a RESTRICT foreign key; applications by SET NULL, hence the filter.
      const { count } = await this.db.userStoreDomain.deleteMany({ where: { id: domain.id, applications: { none: {} } } });
      if (count === 0) throw new AdminError(409, 'conflict', `User store domain ${name} is still in use`, ['an application was pointed at it meanwhile']);
    } catch (err) {
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2003') {
        throw new AdminError(409, 'conflict', `User store domain ${name} is still in use`, ['users or groups were added to it meanwhile']);
      }
      throw err;
    }
  }
}
