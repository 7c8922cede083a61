/**
 * The server's OAuth 2.0 authorization server for its applications (oidc-provider), mounted at /oauth2 as
 * WSO2's: `POST /oauth2/token` with client_secret_basic or client_secret_post, grants `client_credentials`
 * and (opt-in per application) `password`, opaque access tokens; `POST /oauth2/token/revocation` (RFC
 * 7009); discovery at `/oauth2/.well-known/openid-configuration`.
 *
 * Clients are the applications of the admin API, tokens live in the database (src/http/oauth/adapter.ts)
 * and the keys are shared through it (src/http/oauth/keys.ts): any api process issues and accepts the same
 * tokens, and nothing is cached that an admin change must wait for.
 *
 * @example
 *   curl -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials -d scope=internal_user_mgt_create \
 *     http://localhost:8080/oauth2/token
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import Provider, { type Configuration } from 'oidc-provider';
import type { Config } from '../../config.js';
import type { SecretBox } from '../../crypto/secret-box.js';
import type { PrismaClient } from '../../db/client.js';
import { createLogger, type Logger } from '../../log.js';
import type { LoginGuard } from '../../security/login-guard.js';
import type { AppContext } from '../context.js';
import { prismaAdapter } from './adapter.js';
import { clientAuthGuard } from './client-guard.js';
import { registerGrants } from './grants.js';
import { loadServerKeys } from './keys.js';
import { API_SCOPES } from './scopes.js';

/** What a valid access token says. */
export interface VerifiedToken {
  clientId: string;
  /** The user, for password-grant tokens. */
  accountId: string | undefined;
  scopes: ReadonlySet<string>;
  /** When it was issued, in seconds since the epoch (its `iat`). */
  issuedAt: number;
}

export interface OAuthServer {
  provider: Provider;
  /** Looks an access token up; undefined when it is unknown, expired, revoked or bound to a key (DPoP, mTLS). */
  verifyAccessToken(value: string): Promise<VerifiedToken | undefined>;
}

/** Opaque tokens are 43 base64url characters (256 bits); anything far from that is not worth a query. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{16,256}$/;

export function oauthIssuer(config: Config): string {
  return `${config.api.publicBaseUrl}/oauth2`;
}

export async function createOAuthServer(deps: { config: Config; db: PrismaClient; box: SecretBox; log: Logger; guard: LoginGuard }): Promise<OAuthServer> {
  const { config, db, box, log, guard } = deps;
  const keys = await loadServerKeys(db, box);
  const ttl = config.oauth.accessTokenTtlSeconds;
  // Brute-force protection of client authentication and of the password grant (src/security/login-guard.ts).
  const trustProxyHops = config.loginSecurity.trustProxyHops;
  const clientGuard = clientAuthGuard(guard, trustProxyHops);
  const configuration: Configuration = {
    adapter: prismaAdapter(db, box, { beforeClientLookup: clientGuard.beforeClientLookup }),
    jwks: keys.jwks,
    cookies: { keys: keys.cookieKeys },
    scopes: [...API_SCOPES],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    features: {
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      // No login pages: these clients use the token endpoint only (the authorization endpoint answers with errors).
      devInteractions: { enabled: false },
    },
    ttl: { AccessToken: ttl, ClientCredentials: ttl, Grant: ttl },
    // Server-to-server clients: no browser may call the endpoints cross-origin.
    clientBasedCORS: () => false,
    async findAccount(_ctx, sub) {
      const user = await db.user.findUnique({ where: { id: sub }, select: { id: true, active: true } });
      return user && user.active !== false ? { accountId: user.id, claims: () => ({ sub: user.id }) } : undefined;
    },
    // The server's own error page would render HTML; every route here is an API.
    renderError(ctx, out) {
      ctx.type = 'json';
      ctx.body = out;
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

  return {
    provider,
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
      };
    },
  };
}

const servers = new WeakMap<AppContext, Promise<OAuthServer>>();

/**
 * The authorization server of an api process, created on first use (its keys come from the database).
 * A failed start is logged and retried by the next caller.
 */
export function oauthServer(ctx: AppContext): Promise<OAuthServer> {
  let server = servers.get(ctx);
  if (!server) {
    const log = createLogger('oauth', ctx.config.logLevel);
    server = createOAuthServer({ config: ctx.config, db: ctx.db, box: ctx.box, log, guard: ctx.loginGuard });
    servers.set(ctx, server);
    server.catch((err: unknown) => {
      servers.delete(ctx);
      log.error('the OAuth server could not start', { error: err instanceof Error ? err.message : String(err) });
    });
  }
  return server;
}

/** The express handler for /oauth2: oidc-provider's own (Koa) application, which answers every request under it. */
export function oauthRouter(ctx: AppContext): RequestHandler {
  let callback: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | undefined;
  const origin = new URL(ctx.config.api.publicBaseUrl);
  const serve = (cb: NonNullable<typeof callback>, req: Request, res: Response) => {
    // Token and revocation requests are a few hundred bytes: a Content-Encoding is refused rather than ignored
    // (oidc-provider would read a body labelled gzip as if it were plain).
    const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (encoding !== 'identity') {
      res.status(415).json({ error: 'invalid_request', error_description: `Content-Encoding ${encoding} is not accepted here: send the form as it is` });
      return;
    }
    req.headers['x-forwarded-host'] = origin.host;
    req.headers['x-forwarded-proto'] = origin.protocol.replace(/:$/, '');
    void cb(req, res);
  };
  const ready = () =>
    oauthServer(ctx).then((s) => {
      callback ??= s.provider.callback();
      return callback;
    });
  ready().catch(() => undefined); // start now; a failure is logged by oauthServer and retried on the next request
  return (req: Request, res: Response) => {
    if (callback) {
      serve(callback, req, res);
      return;
    }
    ready().then(
      (cb) => serve(cb, req, res),
      () => {
        res.status(503).json({ error: 'temporarily_unavailable', error_description: 'the authorization server is unavailable' });
      },
    );
  };
}
