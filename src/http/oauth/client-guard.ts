/**
 * The login guard (src/security/login-guard.ts) at the OAuth endpoints that authenticate clients (the token and
 * revocation endpoints; client_secret_basic and client_secret_post). oidc-provider authenticates the client
 * itself, so the guard sits at its two documented extension points:
 *
 * - before: the adapter's Client lookup (`configuration.adapter`, see prismaAdapter's `beforeClientLookup`),
 *   which oidc-provider calls once it has read the client id and before it compares the secret. A throttled
 *   client or address is refused there with 429, so the secret, right or wrong, is never compared.
 * - after: a Koa middleware (`provider.use`) that sees the outcome: `invalid_client` counts a failure (for the
 *   client, when it exists, and its address), any other answer for an identified client is a success.
 *
 * A failure that reaches a limit is answered 429 at once (not 401), like every later attempt until the limit
 * ends: the caller learns to stop now, not one attempt later.
 */
import Provider, { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { Next } from 'koa';
import { clientAddress } from '../../security/client-address.js';
import type { LoginAttempt, LoginGuard, LoginRefusal } from '../../security/login-guard.js';
import { CLIENT_ID } from './adapter.js';

/** oidc-provider's routes that authenticate the client (route names, so a changed path keeps working). */
const CLIENT_AUTH_ROUTES = new Set(['token', 'revocation', 'introspection']);

/** Client ids are 24 characters here (src/provisioning/applications.ts); anything far longer is not one. */
const MAX_CLIENT_ID_CHARS = 256;

/**
 * The OAuth answer to a refused attempt: HTTP 429 with `Retry-After` (RFC 6585 §4) and the error
 * `temporarily_unavailable`. RFC 6749 §5.2 has no error for this; the choice among the registered codes:
 * - not `invalid_client` / `invalid_grant`: they say the credential is wrong, and while throttled the right one
 *   is refused too; a client told its secret is wrong may alert, rotate or give up for good;
 * - not `slow_down` (RFC 8628 §3.5): it means "the device authorization is still pending, poll less often", a
 *   state of the device grant that a password or client-credentials client has no use for;
 * - `temporarily_unavailable` (RFC 6749 §4.1.2.1, registered for the authorization endpoint) says exactly
 *   "try again later", which with the 429 status and Retry-After is the whole message; it is also what this
 *   server's token endpoint already answers when the authorization server is unavailable.
 */
export function throttledError(ctx: { set(field: string, value: string): void }, refusal: LoginRefusal): errors.OIDCProviderError {
  ctx.set('Retry-After', String(refusal.retryAfterSeconds));
  const err = new errors.OIDCProviderError(429, 'temporarily_unavailable');
  err.error_description = `too many failed attempts from this address; try again in ${refusal.retryAfterSeconds} seconds`;
  return err;
}

/** The guard's two hooks for one authorization server. */
export function clientAuthGuard(guard: LoginGuard, trustProxyHops: number) {
  const attemptOf = (ctx: KoaContextWithOIDC, clientId: string | undefined): LoginAttempt => ({
    kind: 'client',
    address: clientAddress(ctx.req, trustProxyHops),
    // Only a client id this server could have issued names an account (a NUL or a 5,000-character id never does).
    ...(clientId !== undefined && clientId.length <= MAX_CLIENT_ID_CHARS && CLIENT_ID.test(clientId) && { account: clientId }),
  });

  return {
    /** For the Client adapter: throws the 429 error while the client (from this address) or the address is throttled. */
    beforeClientLookup: async (clientId: string): Promise<void> => {
      const ctx = Provider.ctx;
      if (!ctx || !CLIENT_AUTH_ROUTES.has(ctx.oidc.route)) return;
      const verdict = await guard.check(attemptOf(ctx, clientId));
      if (!verdict.allowed) throw throttledError(ctx, verdict);
    },

    /** For `provider.use`: counts the outcome of client authentication. */
    middleware: async (ctx: KoaContextWithOIDC, next: Next): Promise<void> => {
      await next();
      // ctx.oidc exists only on oidc-provider's own routes.
      const oidc = (ctx as Partial<KoaContextWithOIDC>).oidc;
      if (!oidc || !CLIENT_AUTH_ROUTES.has(oidc.route)) return;
      const body = ctx.body as { error?: unknown } | undefined;
      // oidc-provider sets the client before comparing its secret: present on "invalid secret", absent on "client not found".
      const attempt = attemptOf(ctx, oidc.client?.clientId);
      if (ctx.status === 401 && body?.error === 'invalid_client') {
        const verdict = await guard.recordFailure(attempt);
        if (!verdict.allowed) {
          const err = throttledError(ctx, verdict);
          ctx.remove('WWW-Authenticate');
          ctx.status = err.statusCode;
          ctx.body = { error: err.error, error_description: err.error_description };
        }
      } else if (oidc.client && ctx.status !== 429) {
        await guard.recordSuccess(attempt);
      }
    },
  };
}
