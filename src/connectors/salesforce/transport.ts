/**
 * The Salesforce connector's transport: jsforce's HTTP transport with jsforce's own retries turned off (the
 * delivery activity's retry policy decides, with Retry-After) and a per-call timeout, and the one place where
 * Salesforce's answers become the connector error taxonomy (src/connectors/errors.ts).
 *
 * jsforce (3.x) hides the HTTP status and headers from its callers (its errors carry only `errorCode`), so the
 * translation sits below it: every request jsforce sends, REST and OAuth token alike, passes through here.
 */
import type { HttpRequest, HttpRequestOptions, HttpResponse } from 'jsforce';
import { Transport } from 'jsforce/lib/transport.js';
import { StreamPromise } from 'jsforce/lib/util/promise.js';
import {
  ConnectorAlreadyExists,
  ConnectorMisconfigured,
  ConnectorNotFound,
  ConnectorRejected,
  ConnectorTransient,
  parseRetryAfter,
  type ConnectorError,
} from '../errors.js';

/**
 * 401 INVALID_SESSION_ID: the access token expired or was revoked. The connector logs in again once and
 * repeats the call; if that does not help it surfaces as ConnectorMisconfigured.
 */
export class SalesforceSessionExpired extends ConnectorMisconfigured {}

/** One entry of Salesforce's REST error array (REST API Developer Guide, "Status Codes and Error Responses"). */
interface RestError {
  errorCode: string;
  message?: string;
  fields?: string[];
}

/** Salesforce error codes that mean the same request may succeed later. */
const TRANSIENT_CODES = new Set(['REQUEST_LIMIT_EXCEEDED', 'SERVER_UNAVAILABLE', 'UNABLE_TO_LOCK_ROW', 'TXN_SECURITY_METERING_ERROR']);
const EXISTS_CODES = new Set(['DUPLICATE_USERNAME', 'DUPLICATE_VALUE']);
/** MALFORMED_ID: an id Salesforce cannot have issued cannot name an existing record either. */
const NOT_FOUND_CODES = new Set(['NOT_FOUND', 'ENTITY_IS_DELETED', 'MALFORMED_ID']);
/** The org or the integration user cannot use the API at all: nothing per-user will fix it. */
const MISCONFIGURED_CODES = new Set(['API_DISABLED_FOR_ORG', 'API_CURRENTLY_DISABLED', 'INVALID_AUTH_HEADER']);
/** OAuth 2.0 token endpoint errors (RFC 6749 §5.2) that mean our client or user credentials are wrong. */
const OAUTH_MISCONFIGURED = new Set(['invalid_grant', 'invalid_client', 'invalid_client_id', 'invalid_client_credentials', 'unauthorized_client', 'unsupported_grant_type', 'invalid_request']);

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

function restErrors(body: unknown): RestError[] {
  const list = Array.isArray(body) ? body : body && typeof body === 'object' ? [body] : [];
  return list.filter((e): e is RestError => typeof (e as Partial<RestError> | null)?.errorCode === 'string');
}

/** Where a request went, without the query string (SOQL may carry user names). */
function describe(req: HttpRequest): string {
  try {
    return `${req.method} ${new URL(req.url).pathname}`;
  } catch {
    return req.method;
  }
}

/** Translates one non-2xx answer of Salesforce (REST API or OAuth token endpoint) into the taxonomy. */
export function httpError(req: HttpRequest, res: HttpResponse): ConnectorError {
  const status = res.statusCode;
  const where = `${describe(req)} -> ${status}`;
  const retryAfterMs = parseRetryAfter(res.headers['retry-after'] ?? null);
  const body = parseJson(res.body);

  const oauth = body as { error?: unknown; error_description?: unknown } | undefined;
  if (oauth && typeof oauth === 'object' && !Array.isArray(oauth) && typeof oauth.error === 'string') {
    const message = `${where} ${oauth.error}${typeof oauth.error_description === 'string' ? `: ${oauth.error_description}` : ''}`;
    if (status >= 500 || status === 429) return new ConnectorTransient(message, status, retryAfterMs);
    if (OAUTH_MISCONFIGURED.has(oauth.error)) return new ConnectorMisconfigured(`${message} (check the connector's login URL and credentials)`, status);
    return new ConnectorRejected(message, status);
  }

  const errors = restErrors(body);
  const first = errors[0];
  const message = first
    ? `${where} ${errors.map((e) => `${e.errorCode}${e.message ? `: ${e.message}` : ''}${e.fields?.length ? ` [${e.fields.join(', ')}]` : ''}`).join('; ')}`
    : `${where}${res.body ? `: ${res.body.slice(0, 200)}` : ''}`;
  const code = first?.errorCode;

  if (code === 'INVALID_SESSION_ID') return new SalesforceSessionExpired(message, status);
  if (code && TRANSIENT_CODES.has(code)) return new ConnectorTransient(message, status, retryAfterMs);
  if (status >= 500 || status === 408 || status === 429) return new ConnectorTransient(message, status, retryAfterMs);
  if (code && EXISTS_CODES.has(code)) return new ConnectorAlreadyExists(message, status);
  if ((code && NOT_FOUND_CODES.has(code)) || (!code && status === 404)) return new ConnectorNotFound(message, status);
  if ((code && MISCONFIGURED_CODES.has(code)) || status === 401) {
    return new ConnectorMisconfigured(`${message} (check the connector's credentials and the API user's permissions)`, status);
  }
  return new ConnectorRejected(message, status);
}

/** Network failures and timeouts: the target may be back later. */
export function networkError(req: HttpRequest, err: unknown): ConnectorError {
  const cause = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
  return new ConnectorTransient(`${describe(req)} failed: ${cause}`);
}

export class SalesforceTransport extends Transport {
  constructor(private readonly timeoutMs: number) {
    super();
  }

  override httpRequest(req: HttpRequest, options: HttpRequestOptions = {}): StreamPromise<HttpResponse> {
    // maxRetries 0: jsforce would otherwise retry GET/PUT/DELETE and 5xx itself, up to 5 times, unseen by Temporal.
    const sent = super.httpRequest(req, { ...options, timeout: this.timeoutMs, retry: { maxRetries: 0 } });
    return StreamPromise.create(() => ({
      stream: sent.stream(),
      promise: sent.then(
        (res) => {
          if (res.statusCode >= 400) throw httpError(req, res);
          return res;
        },
        (err: unknown) => {
          throw networkError(req, err);
        },
      ),
    }));
  }
}
