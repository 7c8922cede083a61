/**
 * The HTTP transport of the SCIM connectors (SCIM 2.0 and 1.1): basic authentication, a timeout, and the one
 * place where HTTP outcomes become the connector error taxonomy (src/connectors/errors.ts). The versions differ
 * only in their media type and in where their error bodies keep the message.
 */
import {
  ConnectorAlreadyExists,
  ConnectorMisconfigured,
  ConnectorNotFound,
  ConnectorRejected,
  ConnectorTransient,
  parseRetryAfter,
} from './errors.js';

export interface ScimHttpOptions {
  contentType: string;
  username?: string | undefined;
  password?: string | undefined;
  timeoutMs: number;
  /** The human-readable message of an error body (SCIM 2.0 `detail`, SCIM 1.1 `Errors[].description`). */
  errorDetail: (body: unknown) => string | undefined;
}

export async function scimRequest(opts: ScimHttpOptions, method: string, url: string, body?: unknown): Promise<unknown> {
  const headers: Record<string, string> = { Accept: opts.contentType };
  if (body !== undefined) headers['Content-Type'] = opts.contentType;
  if (opts.username !== undefined) {
    headers.Authorization = `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')}`;
  }
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers,
      ...(body !== undefined && { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
  } catch (err) {
    const cause = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
    throw new ConnectorTransient(`${method} ${url} failed: ${cause}`);
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
  if (res.status === 404) throw new ConnectorNotFound(message, 404);
  if (res.status === 409) throw new ConnectorAlreadyExists(message, 409);
  if (res.status === 408 || res.status === 429 || res.status >= 500) {
    throw new ConnectorTransient(message, res.status, parseRetryAfter(res.headers.get('retry-after')));
  }
  if (res.status === 401 || res.status === 403) throw new ConnectorMisconfigured(`${message} (check the connector's credentials)`, res.status);
  throw new ConnectorRejected(message, res.status);
}
