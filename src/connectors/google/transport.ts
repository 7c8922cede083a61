/**
 * The Google connector's transport: the official Admin SDK client (`@googleapis/admin`, Directory API
 * directory_v1) authorised by a service account with domain-wide delegation (google-auth-library's JWT
 * client: RFC 7523 JWT bearer grant, impersonating an admin), and the ONE place where Google's errors
 * become the connector error taxonomy (src/connectors/errors.ts).
 *
 * Both endpoints are settings so tests (and private endpoints) can replace Google's: the Directory API
 * base URL is the client's `rootUrl`; the token URL, which google-auth-library 10 hard-codes, is rewritten
 * by a request interceptor on the JWT client's own transporter, and the assertion's `aud` names it.
 *
 * Retries are the workflow's (Temporal's retry policy, honouring Retry-After): the client's and the token
 * request's own retries are turned off.
 */
import crypto from 'node:crypto';
import { admin, type admin_directory_v1 } from '@googleapis/admin';
import { JWT } from 'google-auth-library';
import {
  ConnectorAlreadyExists,
  ConnectorError,
  ConnectorMisconfigured,
  ConnectorNotFound,
  ConnectorRejected,
  ConnectorTransient,
  parseRetryAfter,
} from '../errors.js';

export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
export const GOOGLE_DIRECTORY_URL = 'https://admin.googleapis.com/';
export const DIRECTORY_SCOPES = [
  'https://www.googleapis.com/auth/admin.directory.user',
  'https://www.googleapis.com/auth/admin.directory.group',
] as const;

export interface TransportSettings {
  serviceAccountEmail: string;
  /** PKCS#8 PEM, as in the `private_key` of a service account's JSON key. */
  privateKey: string;
  /** The admin user impersonated (domain-wide delegation). */
  subject: string;
  tokenUrl: string;
  directoryUrl: string;
  timeoutMs: number;
}

/** A private key as operators paste it: JSON-escaped newlines are accepted. */
export function normalizePrivateKey(key: string): string {
  return key.includes('\\n') ? key.replace(/\\n/g, '\n') : key;
}

/** Whether the key is a usable RSA private key (checked at validation, so signing never fails later). */
export function privateKeyProblem(key: string): string | undefined {
  try {
    const k = crypto.createPrivateKey(normalizePrivateKey(key));
    return k.asymmetricKeyType === 'rsa' ? undefined : `must be an RSA key (got ${k.asymmetricKeyType})`;
  } catch {
    return 'is not a PEM private key (use the private_key of the service account JSON key)';
  }
}

/**
 * JWT clients by credential, shared by the connector instances of a process: a connector is built per
 * delivery, and minting a token per delivery would spend Google's token quota for nothing.
 */
const jwtClients = new Map<string, JWT>();
const MAX_CACHED_CLIENTS = 64;

function cacheKey(s: TransportSettings): string {
  return crypto
    .createHash('sha256')
    .update(JSON.stringify([s.serviceAccountEmail, s.subject, s.tokenUrl, s.timeoutMs, s.privateKey]))
    .digest('hex');
}

function jwtFor(s: TransportSettings): JWT {
  const key = cacheKey(s);
  const cached = jwtClients.get(key);
  if (cached) return cached;
  const jwt = new JWT({
    email: s.serviceAccountEmail,
    key: normalizePrivateKey(s.privateKey),
    subject: s.subject,
    scopes: [...DIRECTORY_SCOPES],
    // RFC 7523 §3: the audience is the authorization server's token endpoint (Google's by default).
    additionalClaims: { aud: s.tokenUrl },
    transporterOptions: { timeout: s.timeoutMs, retry: false },
  });
  jwt.transporter.interceptors.request.add({
    resolved: (opts) => {
      if (opts.url.toString() === GOOGLE_TOKEN_URL) {
        opts.url = new URL(s.tokenUrl);
        // getToken asks for 3 retries of its POST; Temporal retries instead.
        opts.retryConfig = { ...opts.retryConfig, retry: 0 };
      }
      return Promise.resolve(opts);
    },
  });
  if (jwtClients.size >= MAX_CACHED_CLIENTS) jwtClients.delete(jwtClients.keys().next().value!);
  jwtClients.set(key, jwt);
  return jwt;
}

/** Forgets the access token, so the next call mints a new one. */
function dropToken(jwt: JWT): void {
  jwt.credentials = { refresh_token: 'jwt-placeholder', expiry_date: 1 };
}

/** The token endpoint refused the grant: minting another token cannot help. */
class TokenEndpointMisconfigured extends ConnectorMisconfigured {}

export class GoogleTransport {
  readonly directory: admin_directory_v1.Admin;
  private readonly jwt: JWT;

  constructor(settings: TransportSettings) {
    this.jwt = jwtFor(settings);
    this.directory = admin({
      version: 'directory_v1',
      // google-auth-library may be a newer copy than googleapis-common's: same interface, other class.
      auth: this.jwt as unknown as admin_directory_v1.Options['auth'],
      rootUrl: settings.directoryUrl.endsWith('/') ? settings.directoryUrl : `${settings.directoryUrl}/`,
      retry: false,
      timeout: settings.timeoutMs,
    });
  }

  /**
   * Runs one Directory API call and translates its failure. A 401 (the cached token revoked, or expired
   * early at Google) is met once with a freshly minted token; a second 401 is a configuration problem.
   */
  async call<T>(what: string, fn: (directory: admin_directory_v1.Admin) => Promise<{ data: T }>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return (await fn(this.directory)).data;
      } catch (err) {
        const translated = translateGoogleError(what, err);
        if (translated instanceof ConnectorMisconfigured && translated.status === 401 && attempt === 0 && !(translated instanceof TokenEndpointMisconfigured)) {
          dropToken(this.jwt);
          continue;
        }
        throw translated;
      }
    }
  }
}

interface GoogleErrorBody {
  error?: string | { code?: number; message?: string; errors?: { reason?: string; message?: string }[] };
  error_description?: string;
}

interface HttpishError {
  message: string;
  code?: unknown;
  config?: { url?: unknown };
  response?: { status: number; data?: unknown; headers?: unknown };
}

function header(headers: unknown, name: string): string | null {
  // A fetch Headers, though not necessarily this realm's (instanceof fails), or a plain object.
  if (typeof (headers as Headers | undefined)?.get === 'function') return (headers as Headers).get(name);
  if (typeof headers === 'object' && headers !== null) {
    const v = (headers as Record<string, unknown>)[name];
    return typeof v === 'string' ? v : null;
  }
  return null;
}

const RATE_LIMIT_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded']);

/**
 * The one place where Google's failures become the connector taxonomy. The client throws GaxiosError:
 * with `response` for HTTP answers (Directory API errors are `{"error":{"code","message","errors":[{reason}]}}`,
 * token endpoint errors are OAuth's `{"error":"invalid_grant","error_description"}`), without it for
 * network failures and timeouts.
 */
export function translateGoogleError(what: string, err: unknown): ConnectorError {
  if (err instanceof ConnectorError) return err;
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as HttpishError;
  const isHttpClientError = typeof e.config === 'object' && e.config !== null;
  const res = e.response;
  if (!res) {
    if (isHttpClientError) {
      // No answer: refused, reset, DNS, timeout. The target may be back soon.
      const cause = err instanceof Error && err.cause instanceof Error ? ((err.cause.cause as Error | undefined)?.message ?? err.cause.message) : e.message;
      return new ConnectorTransient(`${what} failed: ${cause}`);
    }
    // Thrown before any request left: signing with the key, or the client refusing its arguments.
    const code = typeof e.code === 'string' ? e.code : '';
    if (code.startsWith('ERR_OSSL') || /private key|secretOrPrivateKey/i.test(e.message)) {
      return new ConnectorMisconfigured(`${what}: the service account private key cannot sign: ${e.message}`);
    }
    return new ConnectorRejected(`${what}: ${e.message}`);
  }

  const status = res.status;
  const body = (typeof res.data === 'object' && res.data !== null ? res.data : {}) as GoogleErrorBody;
  const retryAfterMs = parseRetryAfter(header(res.headers, 'retry-after'));

  if (typeof body.error === 'string') {
    // The OAuth token endpoint (RFC 6749 §5.2): invalid_grant (bad key, unknown subject, clock skew),
    // unauthorized_client (no domain-wide delegation for these scopes), invalid_scope...
    const message = `${what}: token endpoint -> ${status} ${body.error}${body.error_description ? `: ${body.error_description}` : ''}`;
    if (status === 429 || status >= 500) return new ConnectorTransient(message, status, retryAfterMs);
    return new TokenEndpointMisconfigured(`${message} (check the service account, its key, the admin email and domain-wide delegation)`, status);
  }

  const reasons = (typeof body.error === 'object' ? (body.error.errors ?? []) : []).map((x) => x.reason ?? '');
  const detail = typeof body.error === 'object' ? body.error.message : typeof res.data === 'string' ? res.data.slice(0, 200) : undefined;
  const message = `${what} -> ${status}${reasons.length > 0 ? ` ${reasons.join(',')}` : ''}${detail ? `: ${detail}` : ''}`;

  if (status === 404) return new ConnectorNotFound(message, status);
  if (status === 409) return new ConnectorAlreadyExists(message, status);
  if (status === 429 || (status === 403 && reasons.some((r) => RATE_LIMIT_REASONS.has(r)))) {
    return new ConnectorTransient(message, status, retryAfterMs);
  }
  if (status === 408 || status >= 500) return new ConnectorTransient(message, status, retryAfterMs);
  if (status === 401) return new ConnectorMisconfigured(`${message} (check the connector's credentials)`, status);
  return new ConnectorRejected(message, status);
}
