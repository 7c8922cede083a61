/**
 * The HTTP transport of the SCIM connectors (SCIM 2.0 and 1.1): authentication to the target, a timeout, and the
 * one place where HTTP outcomes become the connector error taxonomy (src/connectors/errors.ts). The versions differ
 * only in their media type and in where their error bodies keep the message.
 *
 * Authentication, the same settings for both versions (at most one method; none sends no Authorization header):
 *   - HTTP Basic: setting `username`, secret `password` (WSO2's connectors);
 *   - OAuth 2.0 client credentials (RFC 6749 §4.4): settings `tokenEndpoint`, `clientId`, optional `scope` and
 *     `tokenEndpointAuthMethod` (`client_secret_basic`, the default, or `client_secret_post`), secret `clientSecret`.
 *     Tokens are cached until shortly before they expire (./oauth-client.ts); a 401 from the target drops the
 *     token, and the call is repeated once with a new one;
 *   - a static bearer token (RFC 6750): secret `bearerToken`.
 */
import crypto from 'node:crypto';
import { z } from 'zod';
import {
  ConnectorAlreadyExists,
  ConnectorMisconfigured,
  ConnectorNotFound,
  ConnectorRejected,
  ConnectorTransient,
  parseRetryAfter,
  type ConnectorError,
} from './errors.js';
import { clientCredentialsToken, clientFingerprint, type ClientCredentials } from './oauth-client.js';

const httpUrl = z.string().refine((v) => /^https?:\/\//.test(v) && URL.canParse(v), 'must be an http(s) URL');

/** The authentication settings of a SCIM connector (merged into each version's settings schema). */
export const scimAuthSettings = z.object({
  /** HTTP Basic user name (its password is the secret `password`). */
  username: z.string().min(1).optional(),
  /** OAuth 2.0 client credentials: the target's token endpoint (its secret is `clientSecret`). */
  tokenEndpoint: httpUrl.optional(),
  clientId: z.string().min(1).optional(),
  /** Space-separated scopes to ask for (absent: the authorization server's default for the client). */
  scope: z.string().min(1).optional(),
  /** How the client authenticates at the token endpoint (RFC 6749 §2.3.1). */
  tokenEndpointAuthMethod: z.enum(['client_secret_basic', 'client_secret_post']).optional(),
});
export type ScimAuthSettings = z.infer<typeof scimAuthSettings>;

/** The authentication secrets of a SCIM connector (encrypted at rest, masked by the admin API). */
export const scimAuthSecrets = z.object({
  password: z.string().optional(),
  clientSecret: z.string().optional(),
  bearerToken: z.string().optional(),
});
export type ScimAuthSecrets = z.infer<typeof scimAuthSecrets>;

/** The secret fields of the authentication methods. */
export const SCIM_AUTH_SECRET_FIELDS = ['password', 'clientSecret', 'bearerToken'] as const;

const present = (v: string | undefined) => v !== undefined && v !== '';

/**
 * What is wrong with a connector's authentication settings, as `field: message` lines (empty: fine). Zod has
 * already checked each field; this checks how they go together.
 */
export function scimAuthIssues(settings: ScimAuthSettings, secrets: Partial<Record<string, string>>): string[] {
  const basic = settings.username !== undefined || present(secrets.password);
  const oauth = settings.tokenEndpoint !== undefined || settings.clientId !== undefined || present(secrets.clientSecret);
  const bearer = present(secrets.bearerToken);
  const methods = [basic && 'basic (username + password)', oauth && 'OAuth 2.0 client credentials (tokenEndpoint + clientId + clientSecret)', bearer && 'bearer token (bearerToken)'].filter(
    (m): m is string => typeof m === 'string',
  );
  const out: string[] = [];
  if (methods.length > 1) out.push(`authentication: configure one method only, not ${methods.join(' and ')}`);
  if (basic) {
    if (settings.username === undefined) out.push('username: required with password (basic authentication)');
    if (!present(secrets.password)) out.push('password: required with username (basic authentication)');
  }
  if (oauth) {
    if (settings.tokenEndpoint === undefined) out.push('tokenEndpoint: required for OAuth 2.0 client credentials');
    if (settings.clientId === undefined) out.push('clientId: required for OAuth 2.0 client credentials');
    if (!present(secrets.clientSecret)) out.push('clientSecret: required for OAuth 2.0 client credentials');
  }
  if (!oauth && (settings.scope !== undefined || settings.tokenEndpointAuthMethod !== undefined)) {
    out.push('scope, tokenEndpointAuthMethod: only with OAuth 2.0 client credentials (tokenEndpoint + clientId + clientSecret)');
  }
  return out;
}

/** How a connector authenticates its calls to the target. */
export interface ScimAuth {
  /** The Authorization header for the next call (undefined: none). */
  authorization(): Promise<string | undefined>;
  /**
   * The target answered 401 to `refused`: returns a new header worth one more try, or undefined when a new one
   * cannot help (static credentials).
   */
  renew(refused: string): Promise<string | undefined>;
  /** Identifies the credential (a hash, never the secret), for caches of what the target told this client. */
  readonly fingerprint: string;
}

const hash = (...parts: string[]) => crypto.createHash('sha256').update(JSON.stringify(parts)).digest('base64url');

/** Builds the authentication of validated settings and secrets (see scimAuthIssues). */
export function scimAuth(settings: ScimAuthSettings, secrets: ScimAuthSecrets, timeoutMs: number): ScimAuth {
  if (settings.tokenEndpoint !== undefined && settings.clientId !== undefined && present(secrets.clientSecret)) {
    const client: ClientCredentials = {
      tokenEndpoint: settings.tokenEndpoint,
      clientId: settings.clientId,
      clientSecret: secrets.clientSecret!,
      scope: settings.scope,
      authMethod: settings.tokenEndpointAuthMethod ?? 'client_secret_basic',
      timeoutMs,
    };
    return {
      fingerprint: `oauth:${clientFingerprint(client)}`,
      authorization: async () => `Bearer ${await clientCredentialsToken(client)}`,
      renew: async (refused) => `Bearer ${await clientCredentialsToken(client, { refused: refused.replace(/^Bearer /, '') })}`,
    };
  }
  if (present(secrets.bearerToken)) {
    const header = `Bearer ${secrets.bearerToken}`;
    return { fingerprint: `bearer:${hash(header)}`, authorization: () => Promise.resolve(header), renew: () => Promise.resolve(undefined) };
  }
  if (settings.username !== undefined) {
    const header = `Basic ${Buffer.from(`${settings.username}:${secrets.password ?? ''}`).toString('base64')}`;
    return { fingerprint: `basic:${hash(header)}`, authorization: () => Promise.resolve(header), renew: () => Promise.resolve(undefined) };
  }
  return { fingerprint: 'none', authorization: () => Promise.resolve(undefined), renew: () => Promise.resolve(undefined) };
}

export interface ScimHttpOptions {
  contentType: string;
  auth: ScimAuth;
  timeoutMs: number;
  /** The human-readable message of an error body (SCIM 2.0 `detail`, SCIM 1.1 `Errors[].description`). */
  errorDetail: (body: unknown) => string | undefined;
  /** The machine-readable error type of an error body (SCIM 2.0 `scimType`, RFC 7644 §3.12), if the version has one. */
  errorType?: (body: unknown) => string | undefined;
}

/** A 4xx refusal with the target's `scimType` (RFC 7644 §3.12), for a connector that chooses a fallback by it. */
export class ScimRejected extends ConnectorRejected {
  constructor(
    message: string,
    status: number,
    readonly scimType: string | undefined,
  ) {
    super(message, status);
  }
}

export async function scimRequest(opts: ScimHttpOptions, method: string, url: string, body?: unknown): Promise<unknown> {
  let authorization = await opts.auth.authorization();
  let res = await send(opts, method, url, body, authorization);
  if (res.status === 401 && authorization !== undefined) {
    // An OAuth token the target no longer accepts (expired early, revoked, the target restarted): one more try
    // with a new token. A second 401 means the credentials themselves are refused.
    const renewed = await opts.auth.renew(authorization);
    if (renewed !== undefined) {
      await res.body?.cancel();
      authorization = renewed;
      res = await send(opts, method, url, body, authorization);
    }
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (res.ok) return json;
  const detail = opts.errorDetail(json);
  const message = `${method} ${new URL(url).pathname} -> ${res.status}${detail !== undefined ? `: ${detail}` : ''}`;
  throw scimStatusError(res.status, message, opts.errorType?.(json), parseRetryAfter(res.headers.get('retry-after')));
}

/**
 * The error a SCIM target's refusal means, by its HTTP status: of a whole request (scimRequest) or of one operation of
 * a Bulk request (its `status`, the SCIM 2.0 connector's createUsers).
 */
export function scimStatusError(status: number, message: string, scimType?: string, retryAfterMs?: number): ConnectorError {
  if (status === 404) return new ConnectorNotFound(message, 404);
  if (status === 409) return new ConnectorAlreadyExists(message, 409);
  if (status === 408 || status === 429 || status >= 500) return new ConnectorTransient(message, status, retryAfterMs);
  if (status === 401 || status === 403) return new ConnectorMisconfigured(`${message} (check the connector's credentials)`, status);
  return new ScimRejected(message, status, scimType);
}

async function send(opts: ScimHttpOptions, method: string, url: string, body: unknown, authorization: string | undefined): Promise<Response> {
  const headers: Record<string, string> = { Accept: opts.contentType };
  if (body !== undefined) headers['Content-Type'] = opts.contentType;
  if (authorization !== undefined) headers.Authorization = authorization;
  try {
    return await fetch(url, {
      method,
      headers,
      ...(body !== undefined && { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
  } catch (err) {
    const cause = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
    throw new ConnectorTransient(`${method} ${url} failed: ${cause}`);
  }
}
