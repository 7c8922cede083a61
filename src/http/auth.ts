/**
 * Authentication of API calls, and the scope check of SCIM operations.
 *
 * - Operators use the admin credential (HTTP Basic). They act as the resident service provider, with
 *   every scope, as in WSO2's management console.
 * - Applications use an OAuth 2.0 access token from /oauth2/token (`Authorization: Bearer`, RFC 6750).
 *   They act as themselves: their scopes, their inbound provisioning settings (user store domain or proxy
 *   mode), their outbound links; a password-grant token also names the user.
 *
 * The admin credential is checked under the login guard (src/security/login-guard.ts): an address that keeps
 * presenting a wrong one is throttled (429 with Retry-After, the right credential refused too from there), and
 * never the operator account as a whole, so no attacker can deny the operator access from elsewhere.
 */
import type { NextFunction, Request, Response } from 'express';
import { safeEqual } from '../crypto/password.js';
import { RESIDENT_APPLICATION_ID } from '../provisioning/defaults.js';
import type { Initiator } from '../provisioning/types.js';
import { ScimError } from '../scim/errors.js';
import { PRIMARY_DOMAIN } from '../scim/user-resource.js';
import { clientAddress } from '../security/client-address.js';
import { excludingDomain, userAccess } from '../userstore/user-access.js';
import type { AppContext } from './context.js';
import { oauthServer, type VerifiedToken } from './oauth/provider.js';
import { tokenCacheOf } from './oauth/token-cache.js';
import { permittedScopes } from './oauth/scopes.js';
import { sendScim } from './scim/respond.js';

/**
 * Where an application's SCIM writes go: a user store domain, or nowhere locally (proxy mode). `restricted`: the
 * application reads and writes only users and groups of that domain (its `inboundProvisioning.restrictToDomain`).
 */
export type InboundTarget = { domain: string; restricted?: boolean | undefined } | { proxyMode: true };

export interface Caller {
  initiator: Initiator;
  /** The scopes the caller holds; `all` for operators (admin credential). */
  scopes: ReadonlySet<string> | 'all';
  /** The calling application; the resident service provider for operators. */
  applicationId: string;
  /** The user a password-grant token was issued for. */
  userId?: string;
  inbound: InboundTarget;
}

const BASIC_CHALLENGE = 'Basic realm="provisioning", charset="UTF-8"';
const BEARER_CHALLENGE = 'Bearer realm="provisioning"';

export function basicCredentials(req: Request): { username: string; password: string } | undefined {
  const header = req.headers.authorization;
  if (!header?.toLowerCase().startsWith('basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const sep = decoded.indexOf(':');
  if (sep < 0) return undefined;
  return { username: decoded.slice(0, sep), password: decoded.slice(sep + 1) };
}

/** The token of an `Authorization: Bearer` header (RFC 6750 §2.1), if there is one. */
export function bearerToken(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (!header || !/^bearer(?: |$)/i.test(header)) return undefined;
  return header.slice(6).trim();
}

/** The outcome of an admin credential check under the login guard. */
export type AdminAuthentication = { outcome: 'accepted' } | { outcome: 'refused' } | { outcome: 'throttled'; retryAfterSeconds: number };

/**
 * Checks a request's admin credential (HTTP Basic) under the login guard: refused without being compared while
 * its address is throttled, counted when wrong. A request with no Basic credential is refused and not counted
 * (it guessed nothing). Only attempts on the operator's own name count for the operator account (per address);
 * any other name cannot be right, and counts for the address alone.
 *
 * @example
 *   const auth = await authenticateAdmin(ctx, req);
 *   if (auth.outcome === 'throttled') res.status(429).setHeader('Retry-After', String(auth.retryAfterSeconds));
 */
export async function authenticateAdmin(ctx: Pick<AppContext, 'admin' | 'loginGuard' | 'config'>, req: Request): Promise<AdminAuthentication> {
  const creds = basicCredentials(req);
  if (!creds) return { outcome: 'refused' };
  return authenticateOperator(ctx, clientAddress(req, ctx.config.loginSecurity.trustProxyHops), creds);
}

/**
 * Checks an operator credential from any channel (HTTP Basic, the sign-in form) under the login guard; see
 * authenticateAdmin. Both parts are always compared, in constant time.
 */
export async function authenticateOperator(
  ctx: Pick<AppContext, 'admin' | 'loginGuard'>,
  address: string,
  creds: { username: string; password: string },
): Promise<AdminAuthentication> {
  const okUser = safeEqual(creds.username, ctx.admin.username);
  const attempt = { kind: 'operator' as const, address, ...(okUser && { account: ctx.admin.username }) };
  const before = await ctx.loginGuard.check(attempt);
  if (!before.allowed) return { outcome: 'throttled', retryAfterSeconds: before.retryAfterSeconds };
  const okPassword = safeEqual(creds.password, ctx.admin.password);
  if (okUser && okPassword) {
    await ctx.loginGuard.recordSuccess(attempt);
    return { outcome: 'accepted' };
  }
  const after = await ctx.loginGuard.recordFailure(attempt);
  return after.allowed ? { outcome: 'refused' } : { outcome: 'throttled', retryAfterSeconds: after.retryAfterSeconds };
}

/** Answers how a protocol says "too many attempts" (429); Retry-After is already set. */
export type ThrottledResponder = (res: Response, retryAfterSeconds: number) => void;

/** The words of every protocol's 429 for a throttled address. */
export const throttledMessage = (retryAfterSeconds: number) =>
  `Too many failed sign-in attempts from this address; try again in ${retryAfterSeconds} seconds`;

function adminCaller(admin: { username: string }, channel: string): Caller {
  return {
    initiator: { applicationId: RESIDENT_APPLICATION_ID, channel, label: `${admin.username} via ${channel}` },
    scopes: 'all',
    applicationId: RESIDENT_APPLICATION_ID,
    inbound: { domain: PRIMARY_DOMAIN },
  };
}

/**
 * Accepts the admin credential (under the login guard, see authenticateAdmin); otherwise calls `deny`, or
 * `throttled` (with Retry-After set) while the caller's address is throttled. The caller acts for the resident
 * service provider, as an operator in WSO2's management console does.
 */
export function requireAdmin(ctx: AppContext, channel: string, deny: (res: Response) => void, throttled: ThrottledResponder) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const auth = await authenticateAdmin(ctx, req);
    if (auth.outcome === 'throttled') {
      res.setHeader('Retry-After', String(auth.retryAfterSeconds));
      throttled(res, auth.retryAfterSeconds);
      return;
    }
    if (auth.outcome === 'refused') {
      res.setHeader('WWW-Authenticate', BASIC_CHALLENGE);
      deny(res);
      return;
    }
    res.locals.caller = adminCaller(ctx.admin, channel);
    next();
  };
}

/** Escapes a value for a quoted-string auth-param (RFC 9110 §5.6.4). */
const quoted = (v: string) => `"${v.replace(/[\\"]/g, '\\$&')}"`;

/** What a token resolves to before its user is considered: kept a moment per process (src/http/oauth/token-cache.ts). */
interface ResolvedToken {
  verified: VerifiedToken;
  app: { id: string; name: string; scopes: readonly string[]; proxyMode: boolean; restrictToInboundDomain: boolean; inboundDomain: { name: string } | null };
}

/**
 * The token and its application: from the token cache, or two queries (then cached, for an application's own token).
 * A string says why it is refused.
 */
async function resolveToken(ctx: AppContext, token: string): Promise<ResolvedToken | string> {
  const cache = tokenCacheOf<ResolvedToken>(ctx);
  const cached = cache.get(token);
  if (cached) return cached;
  const server = await oauthServer(ctx);
  const verified = await server.verifyAccessToken(token);
  if (!verified) return 'The access token is unknown, expired or revoked';
  const row = await ctx.db.application.findUnique({ where: { clientId: verified.clientId }, include: { inboundDomain: true } });
  if (!row || row.isResident) return 'The application of this access token no longer exists';
  const resolved: ResolvedToken = {
    verified,
    app: {
      id: row.id,
      name: row.name,
      scopes: row.scopes,
      proxyMode: row.proxyMode,
      restrictToInboundDomain: row.restrictToInboundDomain,
      inboundDomain: row.inboundDomain && { name: row.inboundDomain.name },
    },
  };
  // Only tokens of an application alone: a user's token must be looked up every time, since the store deletes a user's
  // tokens when the password changes (in the worker), and that deletion is what refuses a token of the very second
  // of the change, which the `iat` comparison below cannot tell from a younger one.
  if (verified.accountId === undefined) cache.set(token, resolved, { expiresAt: verified.expiresAt });
  return resolved;
}

/**
 * The caller of a Bearer token, or why it is refused. Checked on every request, so what changed since the token was
 * issued applies (within the token cache's bound for the token and its application, src/http/oauth/token-cache.ts):
 * scopes withdrawn from the application no longer count; for a password-grant token, the user must still exist and
 * be active, the token must be younger than the user's last password change, and its scopes narrow to what the
 * user's roles permit now (plus what every user may do, EVERYONE_SCOPES). A user's token is never cached: it and its
 * user (userAccess) are read on every request; client-credentials tokens need no user.
 */
async function tokenCaller(ctx: AppContext, token: string, channel: string): Promise<Caller | string> {
  const resolved = await resolveToken(ctx, token);
  if (typeof resolved === 'string') return resolved;
  const { verified, app } = resolved;
  // An application without a domain (its domain was deleted) provisions to PRIMARY, as WSO2 defaults to.
  const domain = app.inboundDomain?.name ?? PRIMARY_DOMAIN;
  // Scopes withdrawn from the application since the token was issued no longer count.
  const allowed = new Set(app.scopes);
  let scopes = new Set([...verified.scopes].filter((s) => allowed.has(s)));
  if (verified.accountId !== undefined) {
    const access = await userAccess(ctx.db, verified.accountId);
    if (!access || access.active === false) return 'The user of this access token no longer exists or is inactive';
    // `iat` has whole seconds: a token of the very second of the change passes (the store deleted the older ones).
    if (access.passwordChangedAt !== null && verified.issuedAt < Math.floor(access.passwordChangedAt / 1000)) {
      return "The access token was issued before the user's password changed";
    }
    const only = excludingDomain(app, access);
    if (only) return `The user of this access token is not in user store domain ${only}, to which the application is restricted`;
    const permitted = permittedScopes(access);
    scopes = new Set([...scopes].filter((s) => permitted.has(s)));
  }
  return {
    initiator: {
      applicationId: app.id,
      channel,
      label: verified.accountId ? `${app.name} for user ${verified.accountId} via ${channel}` : `${app.name} via ${channel}`,
    },
    scopes,
    applicationId: app.id,
    ...(verified.accountId !== undefined && { userId: verified.accountId }),
    inbound: app.proxyMode ? { proxyMode: true } : { domain, ...(app.restrictToInboundDomain && { restricted: true }) },
  };
}

/**
 * Authenticates a SCIM call: the admin credential (HTTP Basic) or an application's access token (Bearer).
 * A refused call gets both challenges (or the Bearer `invalid_token` error, RFC 6750 §3.1) and `deny`'s
 * answer; an address throttled for wrong admin credentials gets `throttled`'s (429, Retry-After set); an
 * accepted one sets the Caller (see callerOf).
 *
 * @example
 *   router.use(scimAuthenticate(ctx, (res) => sendScim(res, 401, new ScimError(401, 'Authentication required').toBody()),
 *     (res, s) => sendScim(res, 429, new ScimError(429, `Too many failed attempts; retry in ${s} s`).toBody())));
 */
export function scimAuthenticate(ctx: AppContext, deny: (res: Response) => void, throttled: ThrottledResponder) {
  const channel = 'scim2';
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const token = bearerToken(req);
    if (token !== undefined) {
      const caller = await tokenCaller(ctx, token, channel);
      if (typeof caller === 'string') {
        res.setHeader('WWW-Authenticate', `Bearer realm="provisioning", error="invalid_token", error_description=${quoted(caller)}`);
        deny(res);
        return;
      }
      res.locals.caller = caller;
      next();
      return;
    }
    const admin = await authenticateAdmin(ctx, req);
    if (admin.outcome === 'throttled') {
      res.setHeader('Retry-After', String(admin.retryAfterSeconds));
      throttled(res, admin.retryAfterSeconds);
      return;
    }
    if (admin.outcome === 'accepted') {
      res.locals.caller = adminCaller(ctx.admin, channel);
      next();
      return;
    }
    res.setHeader('WWW-Authenticate', [BASIC_CHALLENGE, BEARER_CHALLENGE]);
    deny(res);
  };
}

/** Whether the caller holds at least one of `scopes`. */
export function hasScope(caller: Caller, scopes: readonly string[]): boolean {
  return caller.scopes === 'all' || scopes.some((s) => (caller.scopes as ReadonlySet<string>).has(s));
}

/**
 * Lets the request through when the caller holds any one of `scopes`; otherwise answers 403 with a SCIM
 * error body and `WWW-Authenticate: Bearer error="insufficient_scope"` (RFC 6750 §3.1). Goes after
 * scimAuthenticate.
 *
 * @example
 *   router.post('/', requireScope('internal_user_mgt_create'), createUser);
 */
export function requireScope(...scopes: string[]) {
  if (scopes.length === 0) throw new TypeError('requireScope needs at least one scope');
  return (_req: Request, res: Response, next: NextFunction): void => {
    if (hasScope(callerOf(res), scopes)) {
      next();
      return;
    }
    const needed = scopes.length === 1 ? `the scope ${scopes[0]!}` : `one of the scopes ${scopes.join(', ')}`;
    res.setHeader(
      'WWW-Authenticate',
      `Bearer realm="provisioning", error="insufficient_scope", scope=${quoted(scopes.join(' '))}, error_description=${quoted(`requires ${needed}`)}`,
    );
    sendScim(res, 403, new ScimError(403, `The access token does not grant this operation: it requires ${needed}`).toBody());
  };
}

export function callerOf(res: Response): Caller {
  return res.locals.caller as Caller;
}
