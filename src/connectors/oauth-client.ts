/**
 * An OAuth 2.0 client credentials client (RFC 6749 §4.4) for connectors that call their target with a bearer
 * token: one token request, client authentication `client_secret_basic` (RFC 6749 §2.3.1, the default) or
 * `client_secret_post`, and a process-wide token cache.
 *
 * Why not a library: openid-client (v6) is not a dependency of this project, and its `clientCredentialsGrant`
 * wants a `Configuration` built from issuer metadata (discovery, or a hand-made `{ issuer, token_endpoint }`),
 * plus `allowInsecureRequests` for the http targets of tests and intranets. A target's SCIM setup gives only a
 * token endpoint URL; the grant itself is one form POST. What matters here is the error mapping to the
 * connector taxonomy and the cache, which a library would not do for us either.
 *
 * Caching: connectors are built per delivery (src/connectors/registry.ts, activities/outbound.ts), so tokens are
 * cached at module level (one cache per worker process), keyed by a hash of endpoint, client id, secret, scope and
 * authentication method; a token is reused until shortly before its `expires_in`, and concurrent deliveries that
 * need a new one share one token request.
 *
 * @example
 * const client = { tokenEndpoint: 'https://is2.example.com/oauth2/token', clientId: 'id', clientSecret: 's',
 *   authMethod: 'client_secret_basic', timeoutMs: 10_000 } satisfies ClientCredentials;
 * const token = await clientCredentialsToken(client);          // cached
 * // ... the resource server answered 401 to `token`:
 * const fresh = await clientCredentialsToken(client, { refused: token });
 */
import crypto from 'node:crypto';
import { ConnectorMisconfigured, ConnectorTransient, parseRetryAfter } from './errors.js';

export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post';

export interface ClientCredentials {
  tokenEndpoint: string;
  clientId: string;
  clientSecret: string;
  /** Space-separated scopes to ask for; absent: the authorization server's default for the client. */
  scope?: string | undefined;
  authMethod: TokenEndpointAuthMethod;
  /** Timeout of the token request, in ms. */
  timeoutMs: number;
}

interface CachedToken {
  accessToken: string;
  /** When to stop using it (ms since the epoch): shortly before the server says it expires. */
  refreshAt: number;
}

/** Assumed lifetime of a token whose response has no `expires_in` (RFC 6749 §5.1 only RECOMMENDS it). */
const DEFAULT_LIFETIME_MS = 5 * 60_000;
/** How long before `expires_in` a token is replaced: a tenth of its lifetime, at most a minute. */
const MAX_EARLY_REFRESH_MS = 60_000;
/** The longest `error_description` quoted in a message (it is the authorization server's text). */
const MAX_DESCRIPTION = 300;

const tokens = new Map<string, CachedToken>();
const inFlight = new Map<string, Promise<CachedToken>>();

/** The cache key of a client: a hash, so no secret is kept in clear as a key. */
export function clientFingerprint(client: Pick<ClientCredentials, 'tokenEndpoint' | 'clientId' | 'clientSecret' | 'scope' | 'authMethod'>): string {
  return crypto
    .createHash('sha256')
    .update(JSON.stringify([client.tokenEndpoint, client.clientId, client.clientSecret, client.scope ?? '', client.authMethod]))
    .digest('base64url');
}

/**
 * An access token for `client`: the cached one while it is fresh, else a new one from the token endpoint.
 * With `refused` (a token the resource server answered 401 to), that token is dropped first, so the call gets a
 * new one unless another caller already replaced it.
 *
 * Throws ConnectorTransient (network, timeout, 5xx, 408, 429) or ConnectorMisconfigured (the endpoint refused
 * the client: 400/401 `invalid_client` and the like, with the server's `error` and `error_description`; an
 * unusable answer). Messages never contain the secret.
 */
export async function clientCredentialsToken(client: ClientCredentials, opts: { refused?: string | undefined; now?: () => number } = {}): Promise<string> {
  const now = opts.now ?? Date.now;
  const key = clientFingerprint(client);
  const cached = tokens.get(key);
  if (cached && opts.refused !== undefined && cached.accessToken === opts.refused) tokens.delete(key);
  const fresh = tokens.get(key);
  if (fresh && now() < fresh.refreshAt) return fresh.accessToken;
  let pending = inFlight.get(key);
  if (!pending) {
    pending = requestToken(client, now).finally(() => inFlight.delete(key));
    inFlight.set(key, pending);
  }
  const token = await pending;
  tokens.set(key, token);
  return token.accessToken;
}

/** Forgets every cached token (tests). */
export function clearTokenCache(): void {
  tokens.clear();
}

/** application/x-www-form-urlencoded encoding of one value, as RFC 6749 §2.3.1 asks for Basic credentials. */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

async function requestToken(client: ClientCredentials, now: () => number): Promise<CachedToken> {
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (client.scope !== undefined && client.scope !== '') form.set('scope', client.scope);
  const headers: Record<string, string> = {
    'Content-Type': 'application/x-www-form-urlencoded;charset=UTF-8',
    Accept: 'application/json',
  };
  if (client.authMethod === 'client_secret_post') {
    form.set('client_id', client.clientId);
    form.set('client_secret', client.clientSecret);
  } else {
    headers.Authorization = `Basic ${Buffer.from(`${formEncode(client.clientId)}:${formEncode(client.clientSecret)}`).toString('base64')}`;
  }
  const where = `OAuth token endpoint ${describeUrl(client.tokenEndpoint)}`;
  const started = now();
  let res: Response;
  try {
    res = await fetch(client.tokenEndpoint, { method: 'POST', headers, body: form.toString(), signal: AbortSignal.timeout(client.timeoutMs) });
  } catch (err) {
    const cause = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
    throw new ConnectorTransient(`${where} failed: ${cause}`);
  }
  const text = await res.text();
  let body: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    body = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    // RFC 6749 §5.2: `error` is a code, `error_description` a human-readable text meant for the client developer.
    const code = typeof body?.error === 'string' ? body.error : undefined;
    const description = typeof body?.error_description === 'string' ? body.error_description.slice(0, MAX_DESCRIPTION) : undefined;
    const detail = [code, description].filter((s) => s !== undefined).join(': ');
    const message = `${where} -> ${res.status}${detail ? `: ${detail}` : ''}`;
    if (res.status === 408 || res.status === 429 || res.status >= 500) {
      throw new ConnectorTransient(message, res.status, parseRetryAfter(res.headers.get('retry-after')));
    }
    // invalid_client, unauthorized_client, invalid_scope, unsupported_grant_type, a wrong URL (404): nothing a retry
    // of this delivery changes; the operator must fix the connector's settings.
    throw new ConnectorMisconfigured(`${message} (check the connector's tokenEndpoint, clientId, clientSecret and scope)`, res.status);
  }
  const accessToken = body?.access_token;
  if (typeof accessToken !== 'string' || accessToken === '') {
    throw new ConnectorMisconfigured(`${where} answered ${res.status} without an access_token`, res.status);
  }
  // RFC 6749 §7.1: the client must understand the token type; only Bearer (RFC 6750) is sent here.
  const tokenType = body?.token_type;
  if (typeof tokenType !== 'string' || tokenType.toLowerCase() !== 'bearer') {
    throw new ConnectorMisconfigured(`${where} issued a token of type '${String(tokenType)}'; only Bearer tokens are supported`, res.status);
  }
  const expiresIn = typeof body?.expires_in === 'number' ? body.expires_in : typeof body?.expires_in === 'string' ? Number(body.expires_in) : NaN;
  const lifetimeMs = Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn * 1000 : DEFAULT_LIFETIME_MS;
  return { accessToken, refreshAt: started + lifetimeMs - Math.min(MAX_EARLY_REFRESH_MS, lifetimeMs / 10) };
}

/** The URL without its query string and credentials, for messages. */
function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
