/**
 * The server's OAuth 2.0 authorization server and OpenID Provider for its applications (oidc-provider), mounted at
 * /oauth2 with WSO2's paths:
 *
 *   GET  /oauth2/authorize                     authorization endpoint: code flow, PKCE S256 required (plain refused)
 *   POST /oauth2/token                         token endpoint: authorization_code, refresh_token (rotated: a used
 *                                              refresh token is refused and revokes its grant), client_credentials,
 *                                              password (opt-in per application)
 *   POST /oauth2/token/revocation              RFC 7009
 *   GET  /oauth2/userinfo                      OpenID Connect userinfo
 *   GET  /oauth2/jwks                          the signing keys (the signing one and the retired ones still needed)
 *   GET  /oauth2/logout (alias /oidc/logout)   RP-initiated logout, with a confirmation page
 *   GET  /oauth2/token/.well-known/openid-configuration, /.well-known/openid-configuration,
 *        /oauth2/.well-known/openid-configuration   discovery
 *
 * The issuer is WSO2's: `<PUBLIC_BASE_URL>/oauth2/token`. openid-client's `discovery(new URL(issuer))` fetches
 * `<issuer>/.well-known/openid-configuration` and checks that the document's issuer equals the URL it was given,
 * which holds; given the root document's full URL (`<PUBLIC_BASE_URL>/.well-known/openid-configuration`) it
 * fetches that document as it is and takes its issuer, the same one. (An issuer of `<PUBLIC_BASE_URL>/` would pass
 * a bare-origin discovery but break every WSO2 client configured with `/oauth2/token`, and ID tokens can carry only
 * one `iss`.)
 *
 * Clients are the applications of the admin API, tokens live in the database (src/http/oauth/adapter.ts)
 * and the keys are shared through it (src/http/oauth/keys.ts): any api process issues and accepts the same
 * tokens, and nothing is cached that an admin change must wait for. Key rotation reaches every process through
 * the keys' version: each process checks it at most every KEY_CHECK_MS and builds a new provider when it changed
 * (requests in flight finish on the old one; everything they share is in the database).
 *
 * The login and consent prompts are the pages of src/http/pages/interactions.ts.
 *
 * @example
 *   curl -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials -d scope=internal_user_mgt_create \
 *     http://localhost:8080/oauth2/token
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../../config.js';
import type { SecretBox } from '../../crypto/secret-box.js';
import type { PrismaClient } from '../../db/client.js';
import { createLogger, type Logger } from '../../log.js';
import type { LoginGuard } from '../../security/login-guard.js';
import type { AppContext } from '../context.js';
import { promptPath } from '../pages/paths.js';
import { logoutSource, postLogoutSuccessSource, renderProviderError } from '../pages/provider-pages.js';
import { prismaAdapter } from './adapter.js';
import { rememberedConsent } from './consents.js';
import { OIDC_SCOPES, SCOPE_CLAIMS, userClaims } from './claims.js';
import { clientAuthGuard } from './client-guard.js';
import { registerGrants } from './grants.js';
import { loadServerKeys, providerJwks, serverKeysVersion } from './keys.js';
import { tokenCacheOf } from './token-cache.js';
import { API_SCOPES } from './scopes.js';

/** What a valid access token says. */
export interface VerifiedToken {
  clientId: string;
  /** The user, for password-grant tokens. */
  accountId: string | undefined;
  scopes: ReadonlySet<string>;
  /** When it was issued, in seconds since the epoch (its `iat`). */
  issuedAt: number;
  /** When it expires, in seconds since the epoch (its `exp`). */
  expiresAt: number | undefined;
}

export interface OAuthServer {
  provider: Provider;
  /** The version of the keys it was built with (src/http/oauth/keys.ts). */
  keysVersion: number;
  /** A secret shared by every api process, for the sign-in pages' CSRF tokens. */
  csrfSecret: string;
  /** The provider's request handler (its Koa application). */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Looks an access token up; undefined when it is unknown, expired, revoked or bound to a key (DPoP, mTLS). */
  verifyAccessToken(value: string): Promise<VerifiedToken | undefined>;
}

/** Opaque tokens are 43 base64url characters (256 bits); anything far from that is not worth a query. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{16,256}$/;

/** The issuer (WSO2's: the token endpoint's URL). */
export function oauthIssuer(config: Config): string {
  return `${config.api.publicBaseUrl}/oauth2/token`;
}

/** Refresh tokens live this long (WSO2's default, 24 hours, is short for a mobile application; 14 days). */
export const REFRESH_TOKEN_TTL_SECONDS = 14 * 86_400;
/** A sign-in (the provider's session) lasts this long. */
const SESSION_TTL_SECONDS = 8 * 3600;
/** A login or consent page may stay open this long. */
const INTERACTION_TTL_SECONDS = 600;
/** How often an api process looks whether the keys were rotated by another one. */
export const KEY_CHECK_MS = 3_000;

/** How long retired signing keys stay published: the longest life of what they signed (ID tokens), plus a minute's clock skew. */
export function keyRetentionSeconds(config: Config): number {
  return config.oauth.accessTokenTtlSeconds + 60;
}

/** The client metadata members this server adds (src/http/oauth/adapter.ts applicationClient). */
type ClientExtras = { skip_consent?: boolean };

export async function createOAuthServer(deps: { config: Config; db: PrismaClient; box: SecretBox; log: Logger; guard: LoginGuard }): Promise<OAuthServer> {
  const { config, db, box, log, guard } = deps;
  const keys = await loadServerKeys(db, box);
  const ttl = config.oauth.accessTokenTtlSeconds;
  const base = config.api.publicBaseUrl;
  // Brute-force protection of client authentication and of the password grant (src/security/login-guard.ts).
  const trustProxyHops = config.loginSecurity.trustProxyHops;
  const clientGuard = clientAuthGuard(guard, trustProxyHops);
  const configuration: Configuration = {
    adapter: prismaAdapter(db, box, { beforeClientLookup: clientGuard.beforeClientLookup }),
    jwks: providerJwks(keys),
    cookies: { keys: keys.cookieKeys },
    scopes: [...OIDC_SCOPES, ...API_SCOPES],
    claims: Object.fromEntries(Object.entries(SCOPE_CLAIMS).map(([scope, claims]) => [scope, [...claims]])),
    // Claims of the granted scopes go into the ID token too, as WSO2 and most relying parties expect (OpenID Connect
    // Core §5.4 puts them at userinfo when an access token is issued; both have them here).
    conformIdTokenClaims: false,
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    // WSO2's authorization parameter naming the identity provider to sign in with (its home realm identifier).
    extraParams: ['fidp'],
    extraClientMetadata: { properties: ['skip_consent'] },
    routes: { authorization: '/authorize', userinfo: '/userinfo', jwks: '/jwks', end_session: '/logout' },
    // PKCE on every authorization request (RFC 9700 §2.1.1), public or confidential client; oidc-provider knows S256
    // only, so `plain` is refused as an unsupported code_challenge_method.
    pkce: { required: () => true },
    responseTypes: ['code', 'none'],
    features: {
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
      devInteractions: { enabled: false },
    },
    interactions: { url: (_ctx, interaction) => `${base}${promptPath(interaction.prompt.name, interaction.uid)}` },
    // WSO2 issues a refresh token whenever the application has the refresh_token grant (not only for offline_access).
    issueRefreshToken: (_ctx, client) => Promise.resolve(client.grantTypeAllowed('refresh_token')),
    // Every refresh rotates: the used token is consumed, and presenting it again revokes the whole grant
    // (RFC 9700 §4.14.2, refresh token replay detection).
    rotateRefreshToken: true,
    ttl: {
      AccessToken: ttl,
      ClientCredentials: ttl,
      IdToken: ttl,
      RefreshToken: REFRESH_TOKEN_TTL_SECONDS,
      Grant: REFRESH_TOKEN_TTL_SECONDS,
      Session: SESSION_TTL_SECONDS,
      Interaction: INTERACTION_TTL_SECONDS,
    },
    // Consent is remembered in the grant the person gave (found through their session) and, across sessions, in
    // oauth_consent; an application with skipConsent gets a grant of the OIDC scopes it asked for, without a page.
    async loadExistingGrant(ctx: KoaContextWithOIDC) {
      const client = ctx.oidc.client!;
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session!.grantIdFor(client.clientId);
      if (grantId) {
        const grant = await ctx.oidc.provider.Grant.find(grantId);
        if (grant) return grant;
      }
      const accountId = ctx.oidc.session?.accountId;
      if (!accountId) return undefined;
      if ((client as unknown as ClientExtras).skip_consent !== true) {
        // A new session: the consent the user gave this application before, if any (src/http/oauth/consents.ts); the
        // provider then asks only for what it does not cover.
        const remembered = await rememberedConsent(db, accountId, client.clientId);
        if (!remembered) return undefined;
        const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId });
        if (remembered.scopes.length > 0) grant.addOIDCScope(remembered.scopes.join(' '));
        if (remembered.claims.length > 0) grant.addOIDCClaims(remembered.claims);
        await grant.save();
        ctx.oidc.session!.grantIdFor(client.clientId, grant.jti);
        return grant;
      }
      const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId });
      const requested = [...(ctx.oidc.requestParamScopes ?? [])].filter((s) => client.scope?.split(' ').includes(s));
      if (requested.length > 0) grant.addOIDCScope(requested.join(' '));
      await grant.save();
      ctx.oidc.session!.grantIdFor(client.clientId, grant.jti);
      return grant;
    },
    // Browser-facing endpoints (authorization, logout) open pages; every other endpoint is an API.
    clientBasedCORS: () => false,
    async findAccount(_ctx, sub) {
      const claims = await userClaims(db, sub);
      return claims ? { accountId: claims.sub, claims: () => claims } : undefined;
    },
    // Only for errors that cannot go back to the application (its redirect_uri is unknown) and when the caller
    // accepts HTML (a browser); API callers get the JSON error body.
    renderError(ctx, out) {
      renderProviderError(ctx, out);
    },
  };
  const provider = new Provider(oauthIssuer(config), configuration);
  // The URLs of discovery and of every answer are built from the request's host and protocol: oauthRouter sets
  // both from PUBLIC_BASE_URL (X-Forwarded-Host/-Proto, trusted only because it writes them itself), so a Host
  // header can never make the server advertise another origin (issue #8: `Host: evil.example`).
  provider.proxy = true;
  // Unknown paths and methods under /oauth2 get an OAuth error body too (Koa's default is a text "Not Found").
  provider.use(async (ctx, next) => {
    await next();
    const status = ctx.status;
    if ((status === 404 || status === 405) && (ctx.body === undefined || ctx.body === null || typeof ctx.body === 'string')) {
      ctx.type = 'json';
      ctx.body = { error: 'invalid_request', error_description: status === 404 ? `no endpoint at ${ctx.method} ${ctx.path}` : `${ctx.method} is not allowed here` };
      ctx.status = status; // Koa turns a 404 into 200 when a body is set
    }
  });
  provider.use(clientGuard.middleware);
  registerGrants(provider, db, { guard, trustProxyHops });
  provider.on('server_error', (_ctx, err) => log.error('oauth server error', { error: err.message }));
  provider.on('grant.error', (ctx, err) => {
    const e = err as { error?: string; error_detail?: string };
    log.debug('token request refused', { clientId: ctx.oidc.client?.clientId, error: e.error, detail: e.error_detail });
  });
  const callback = provider.callback();

  return {
    provider,
    keysVersion: keys.version,
    csrfSecret: keys.cookieKeys[0]!,
    handle: (req, res) => callback(req, res),
    async verifyAccessToken(value) {
      if (!TOKEN_SHAPE.test(value)) return undefined;
      const [access, clientCredentials] = await Promise.all([provider.AccessToken.find(value), provider.ClientCredentials.find(value)]);
      const token = access ?? clientCredentials;
      if (!token || token.isExpired || token.isSenderConstrained() || !token.clientId) return undefined;
      return {
        clientId: token.clientId,
        accountId: access?.accountId,
        scopes: new Set(token.scope?.split(' ').filter(Boolean) ?? []),
        issuedAt: token.iat,
        expiresAt: token.exp,
      };
    },
  };
}

interface Current {
  server: Promise<OAuthServer>;
  /** When the keys' version was last compared with the database's. */
  checkedAt: number;
  checking?: Promise<void> | undefined;
}

const servers = new WeakMap<AppContext, Current>();

function build(ctx: AppContext, log: Logger): Promise<OAuthServer> {
  const server = createOAuthServer({ config: ctx.config, db: ctx.db, box: ctx.box, log, guard: ctx.loginGuard }).then((s) => {
    // What this process revokes, its token cache forgets at once (src/http/oauth/token-cache.ts).
    const cache = tokenCacheOf(ctx);
    s.provider.on('client_credentials.destroyed', (token: { jti: string }) => cache.forgetToken(token.jti));
    return s;
  });
  server.catch((err: unknown) => {
    if (servers.get(ctx)?.server === server) servers.delete(ctx);
    log.error('the OAuth server could not start', { error: err instanceof Error ? err.message : String(err) });
  });
  return server;
}

/**
 * The authorization server of an api process, created on first use (its keys come from the database) and
 * re-created when the keys were rotated (checked at most every KEY_CHECK_MS). A failed start is logged and retried
 * by the next caller.
 */
export function oauthServer(ctx: AppContext): Promise<OAuthServer> {
  const log = createLogger('oauth', ctx.config.logLevel);
  let current = servers.get(ctx);
  if (!current) {
    current = { server: build(ctx, log), checkedAt: Date.now() };
    servers.set(ctx, current);
    return current.server;
  }
  if (Date.now() - current.checkedAt < KEY_CHECK_MS) return current.server;
  const entry = current;
  entry.checking ??= (async () => {
    try {
      const [server, version] = await Promise.all([entry.server, serverKeysVersion(ctx.db, ctx.box)]);
      if (version !== undefined && version !== server.keysVersion) {
        const next = build(ctx, log);
        await next;
        entry.server = next;
        log.info('the OAuth server keys changed: provider rebuilt', { keysVersion: version });
      }
    } catch (err) {
      log.warn('the OAuth server keys could not be checked', { error: err instanceof Error ? err.message : String(err) });
    } finally {
      entry.checkedAt = Date.now();
      entry.checking = undefined;
    }
  })();
  return entry.checking.then(() => entry.server);
}

/** Makes the next oauthServer call compare the keys' version at once (after a rotation in this process). */
export function recheckOAuthKeys(ctx: AppContext): void {
  const current = servers.get(ctx);
  if (current) current.checkedAt = 0;
}

/**
 * The express handler for /oauth2: oidc-provider's own (Koa) application, which answers every request under it.
 * `rewrite` serves another address as a path under /oauth2 (the discovery and logout aliases).
 */
export function oauthRouter(ctx: AppContext, rewrite?: string): RequestHandler {
  const origin = new URL(ctx.config.api.publicBaseUrl);
  const serve = (server: OAuthServer, req: Request, res: Response) => {
    // Token and revocation requests are a few hundred bytes: a Content-Encoding is refused rather than ignored
    // (oidc-provider would read a body labelled gzip as if it were plain).
    const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (encoding !== 'identity') {
      res.status(415).json({ error: 'invalid_request', error_description: `Content-Encoding ${encoding} is not accepted here: send the form as it is` });
      return;
    }
    forwardedFromPublicUrl(req, origin);
    if (rewrite !== undefined) {
      const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
      req.url = `${rewrite}${query}`;
      // oidc-provider finds its mount path from originalUrl minus url.
      req.originalUrl = `/oauth2${req.url}`;
    }
    void server.handle(req, res);
  };
  oauthServer(ctx).catch(() => undefined); // start now; a failure is logged by oauthServer and retried on the next request
  return (req: Request, res: Response) => {
    oauthServer(ctx).then(
      (server) => serve(server, req, res),
      () => {
        res.status(503).json({ error: 'temporarily_unavailable', error_description: 'the authorization server is unavailable' });
      },
    );
  };
}

/**
 * Sets X-Forwarded-Host/-Proto from PUBLIC_BASE_URL (whatever the client sent), for oidc-provider (`proxy` mode):
 * the URLs it builds and the Secure flag of its cookies then follow the public address, never a Host header.
 */
export function forwardedFromPublicUrl(req: IncomingMessage, origin: URL): void {
  req.headers['x-forwarded-host'] = origin.host;
  req.headers['x-forwarded-proto'] = origin.protocol.replace(/:$/, '');
}
