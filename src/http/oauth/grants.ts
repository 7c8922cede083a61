/**
 * The token endpoint's grants, registered with `provider.registerGrantType`:
 *
 * - `client_credentials` (RFC 6749 §4.4): the application acts for itself. Replaces oidc-provider's own
 *   handler only to apply this server's scope policy (below); the token is the same ClientCredentials
 *   model.
 * - `password` (RFC 6749 §4.3, WSO2's seed flow): the application acts for a user of the user store,
 *   whose user name and password it sends. Opt-in per application (its `grantTypes` include `password`;
 *   oidc-provider refuses the grant for other clients before this handler runs).
 *
 * The password grant is guarded against guessing (src/security/login-guard.ts): an address over its limit gets
 * 429 before anything is looked up, a locked user gets `invalid_grant` "the account is locked" before the
 * password is checked (WSO2 refuses the right password of a locked account too), and every wrong password
 * counts for the address and, if the user exists, for the user.
 *
 * Scope policy: every requested scope must be one of the API scopes (src/http/oauth/scopes.ts) the application
 * is authorised for, otherwise `invalid_scope`; with no `scope` parameter the request asks for every scope the
 * application is authorised for (RFC 6749 §3.3 allows such a default; WSO2 clients always name their scopes).
 * A client-credentials token gets them: the application acts for itself. A password-grant token gets only those
 * the user's roles permit, plus what every user may do (EVERYONE_SCOPES: WSO2's Internal/everyone), as WSO2
 * issues them: RFC 6749 §3.3 lets the server "fully or partially ignore the scope requested", and the answer's
 * `scope` then says what was granted. A request whose every named scope the user lacks is `invalid_scope`: a
 * token good for nothing it asked for would only fail later, with a less clear error.
 */
import { errors, type Provider, type TokenEndpointGrantContext } from 'oidc-provider';
import type { PrismaClient } from '../../db/client.js';
import { clientAddress } from '../../security/client-address.js';
import type { LoginGuard } from '../../security/login-guard.js';
import { excludingDomain, userAccess } from '../../userstore/user-access.js';
import { throttledError } from './client-guard.js';
import { stringProblem } from '../input.js';
import { isApiScope, parseScope, permittedScopes } from './scopes.js';
import { authenticateLocalUser, type LoginApplication } from './user-login.js';

type Ctx = TokenEndpointGrantContext<{ username?: string; password?: string }>;

/**
 * The scopes a token request gets, or `invalid_scope`. `permitted` (password grant): the scopes the user may hold;
 * the others asked for are left out, and none left of those named is `invalid_scope`.
 *
 * @example
 *   grantedScopes('internal_login internal_user_mgt_update', 'internal_user_mgt_update internal_login', new Set(['internal_login']))
 *   // => ['internal_login']
 */
export function grantedScopes(clientScope: string | undefined, requested: string | undefined, permitted?: ReadonlySet<string>): string[] {
  const allowed = parseScope(clientScope);
  let wanted = allowed;
  if (requested !== undefined) {
    const allowList = new Set(allowed);
    wanted = parseScope(requested);
    for (const scope of wanted) {
      if (!isApiScope(scope)) throw new errors.InvalidScope(`unknown scope ${scope}`, scope);
      if (!allowList.has(scope)) throw new errors.InvalidScope(`the client is not authorised for scope ${scope}`, scope);
    }
  }
  if (permitted === undefined) return wanted;
  const granted = wanted.filter((s) => permitted.has(s));
  if (requested !== undefined && wanted.length > 0 && granted.length === 0) {
    throw new errors.InvalidScope(`the user's roles permit none of the requested scopes (${wanted.join(' ')})`, wanted.join(' '));
  }
  return granted;
}

function tokenResponse(value: string, token: { expiration: number; tokenType: string; scope?: string | undefined }) {
  return {
    access_token: value,
    expires_in: token.expiration,
    token_type: token.tokenType,
    ...(token.scope && { scope: token.scope }),
  };
}

/**
 * What a password-grant token for this user gets: the requested scopes its roles permit (userAccess), refused when
 * the application is restricted to its user store domain and the user lives in another one.
 */
async function userScopes(db: PrismaClient, app: LoginApplication | null, accountId: string, clientScope: string | undefined, requested: string | undefined): Promise<string[]> {
  const access = await userAccess(db, accountId);
  if (!access) throw Object.assign(new errors.InvalidGrant(), { error_description: 'invalid username or password' });
  const only = app ? excludingDomain(app, access) : undefined;
  if (only) throw Object.assign(new errors.InvalidGrant(), { error_description: `this application serves users of user store domain ${only} only` });
  return grantedScopes(clientScope, requested, permittedScopes(access));
}

export function registerGrants(provider: Provider, db: PrismaClient, security: { guard: LoginGuard; trustProxyHops: number }): void {
  provider.registerGrantType(
    'client_credentials',
    async (ctx: Ctx) => {
      const { client, params } = ctx.oidc;
      const scopes = grantedScopes(client.scope, params.scope);
      const token = new provider.ClientCredentials({ client, scope: scopes.join(' ') || undefined });
      ctx.oidc.entity('ClientCredentials', token);
      const value = await token.save();
      ctx.body = tokenResponse(value, token);
    },
    ['scope'],
  );

  provider.registerGrantType(
    'password',
    async (ctx: Ctx) => {
      const { client, params } = ctx.oidc;
      if (!params.username || !params.password) throw new errors.InvalidRequest('missing required parameter(s) (username, password)');
      // The form parser decodes leniently, so a NUL, a lone surrogate or an absurd length reaches here: refused with
      // the door's own rules (src/http/input.ts) before anything is looked up.
      const problem = stringProblem(params.username, 'username', 1024) ?? stringProblem(params.password, 'password', 4096);
      if (problem) throw new errors.InvalidRequest(problem);
      // The requested scopes are checked before the password, so a misconfigured client learns it at once.
      grantedScopes(client.scope, params.scope);
      const address = clientAddress(ctx.req, security.trustProxyHops);
      const app = await db.application.findUnique({
        where: { clientId: client.clientId },
        select: { restrictToInboundDomain: true, proxyMode: true, inboundDomain: { select: { name: true } } },
      });
      const auth = await authenticateLocalUser(db, security.guard, address, app, { username: params.username, password: params.password });
      if ('refused' in auth) {
        if (auth.refused === 'throttled') throw throttledError(ctx, auth.refusal);
        // A 400 invalid_grant as for a wrong password (RFC 6749 §5.2: the grant is invalid), told apart by its
        // description, as WSO2 answers "Account is locked" (its error 17003).
        const description =
          auth.refused === 'locked'
            ? `the account is locked after too many failed sign-ins; try again in ${auth.refusal.retryAfterSeconds} seconds or ask an operator to unlock it`
            : 'invalid username or password';
        throw Object.assign(new errors.InvalidGrant(), { error_description: description });
      }
      const accountId = auth.userId;
      const scopes = await userScopes(db, app, accountId, client.scope, params.scope);
      // A grant ties the token to the user and the application, as the authorization-code flow would.
      const grant = new provider.Grant({ accountId, clientId: client.clientId });
      if (scopes.length > 0) grant.addOIDCScope(scopes.join(' '));
      const grantId = await grant.save();
      const token = new provider.AccessToken({ client, accountId, grantId, gty: 'password', scope: scopes.join(' ') || undefined });
      ctx.oidc.entity('AccessToken', token);
      const value = await token.save();
      ctx.body = tokenResponse(value, token);
    },
    ['scope', 'username', 'password'],
  );
}
