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
 * Scope policy, the same for both: every requested scope must be one of the API scopes
 * (src/http/oauth/scopes.ts) the application is authorised for, otherwise `invalid_scope`; with no
 * `scope` parameter the token gets every scope the application is authorised for (RFC 6749 §3.3 allows
 * such a default; WSO2 clients always name their scopes).
 */
import { errors, type Provider, type TokenEndpointGrantContext } from 'oidc-provider';
import { hashPassword, verifyPassword } from '../../crypto/password.js';
import type { PrismaClient } from '../../db/client.js';
import { PRIMARY_DOMAIN, splitDomain } from '../../scim/user-resource.js';
import { checkUserName } from '../../userstore/username.js';
import { isApiScope, parseScope } from './scopes.js';

type Ctx = TokenEndpointGrantContext<{ username?: string; password?: string }>;

/** The scopes a token request gets, or `invalid_scope`. */
export function grantedScopes(clientScope: string | undefined, requested: string | undefined): string[] {
  const allowed = parseScope(clientScope);
  if (requested === undefined) return allowed;
  const allowList = new Set(allowed);
  const wanted = parseScope(requested);
  for (const scope of wanted) {
    if (!isApiScope(scope)) throw new errors.InvalidScope(`unknown scope ${scope}`, scope);
    if (!allowList.has(scope)) throw new errors.InvalidScope(`the client is not authorised for scope ${scope}`, scope);
  }
  return wanted;
}

function tokenResponse(value: string, token: { expiration: number; tokenType: string; scope?: string | undefined }) {
  return {
    access_token: value,
    expires_in: token.expiration,
    token_type: token.tokenType,
    ...(token.scope && { scope: token.scope }),
  };
}

/** A well-formed hash of nothing anybody knows, so an unknown user costs as much time as a wrong password. */
let decoyHash: Promise<string> | undefined;

/** Finds the user a password-grant user name designates and checks the password; undefined when either is wrong. */
async function authenticateUser(db: PrismaClient, clientId: string, username: string, password: string): Promise<string | undefined> {
  const { domain: prefix, name } = splitDomain(username.trim());
  let domain = prefix;
  if (domain === undefined) {
    // Unprefixed names live in the application's inbound provisioning domain (PRIMARY in proxy mode).
    const app = await db.application.findUnique({ where: { clientId }, include: { inboundDomain: true } });
    domain = app && !app.proxyMode && app.inboundDomain ? app.inboundDomain.name : PRIMARY_DOMAIN;
  }
  // The name is compared as RFC 8265 says (src/userstore/username.ts): `ＡＬＩＣＥ` and `Alice` are alice; a name the
  // profile refuses designates nobody (and still costs a hash, below).
  const enforced = checkUserName(name);
  const user = enforced.ok
    ? await db.user.findFirst({
        where: { userNameNormalized: enforced.key, domain: { name: domain } },
        select: { id: true, active: true, passwordHash: true },
      })
    : null;
  const hash = user?.passwordHash ?? (await (decoyHash ??= hashPassword('decoy')));
  const ok = await verifyPassword(password, hash);
  return ok && user?.passwordHash && user.active !== false ? user.id : undefined;
}

export function registerGrants(provider: Provider, db: PrismaClient): void {
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
      const scopes = grantedScopes(client.scope, params.scope);
      const accountId = await authenticateUser(db, client.clientId, params.username, params.password);
      if (accountId === undefined) {
        throw Object.assign(new errors.InvalidGrant(), { error_description: 'invalid username or password' });
      }
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
