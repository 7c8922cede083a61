/**
 * While the api is not ready (src/runtime/readiness.ts: database, Temporal or the worker unavailable), writes
 * are refused at once with 503 and Retry-After, before anything is attempted: the caller learns the truth
 * (nothing was applied, try again later) instead of waiting for a workflow that cannot run, or getting an
 * error after half an attempt. Reads are still served from the database.
 *
 * A write is POST, PUT, PATCH or DELETE under /scim2, /wso2/scim or /api/server/v1, except the SCIM searches
 * (`POST .../.search`, RFC 7644 §3.4.3), which are reads. Paths match case-insensitively, as express routes.
 * Each protocol gets its own error body: SCIM 2.0's (RFC 7644 §3.12), SCIM 1.1's, the admin API's
 * `{ code, message }`. The gate reads one field per request: the readiness is computed in the background.
 *
 * `refuseWrite` is the one way a write is refused for want of capacity, here (503, not ready) and by the admission
 * bound (429, src/http/write-admission.ts): the same bodies, Retry-After, and for SCIM the Idempotency-Key to repeat
 * the request with.
 */
import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { formatIdempotencyKey, parseIdempotencyKey } from '../scim/idempotency-key.js';
import { errorBody11 } from '../scim/scim11.js';
import { ScimError } from '../scim/errors.js';
import type { Readiness } from '../runtime/readiness.js';
import { RETRY_AFTER_SECONDS } from './health.js';
import { sendScim } from './scim/respond.js';

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const GATED = /^\/(scim2|wso2\/scim|api\/server\/v1)(\/|$)/i;
const SEARCH = /\/\.search\/?$/i;

/** The API a write came through, which decides the form of its error body. */
export type WriteProtocol = 'scim2' | 'scim11' | 'admin';

/** Whether a request (its method, and its path below its router) is a write: not a read, not a SCIM search. */
export function isWrite(req: Pick<Request, 'method' | 'path'>): boolean {
  return WRITE_METHODS.has(req.method) && !(req.method === 'POST' && SEARCH.test(req.path));
}

/** The client's Idempotency-Key, if it sent a well-formed one. */
function clientKey(header: string | string[] | undefined): string | undefined {
  try {
    return parseIdempotencyKey(header);
  } catch {
    return undefined;
  }
}

/**
 * Refuses a write in its protocol's error body with Retry-After; for SCIM with the Idempotency-Key to repeat it with
 * (`key`, or the client's own, or a new one: nothing was applied, so any key is safe, and clients keep one rule:
 * repeat a 429 or 503 with its key). `code` is the admin API's error code.
 */
export function refuseWrite(
  res: Response,
  protocol: WriteProtocol,
  answer: { status: 429 | 503; message: string; retryAfterSeconds: number; code: string; key?: string | undefined },
): void {
  res.set('Retry-After', String(answer.retryAfterSeconds));
  if (protocol !== 'admin') res.set('Idempotency-Key', formatIdempotencyKey(answer.key ?? clientKey(res.req.headers['idempotency-key']) ?? randomUUID()));
  switch (protocol) {
    case 'scim2':
      // RFC 7644 §3.12: 429 and 503 carry no scimType.
      return sendScim(res, answer.status, new ScimError(answer.status, answer.message).toBody());
    case 'scim11':
      return void res.status(answer.status).type('application/json').send(JSON.stringify(errorBody11(answer.status, answer.message)));
    default:
      return void res.status(answer.status).json({ code: answer.code, message: answer.message });
  }
}

export function writeGate(readiness: Readiness): RequestHandler {
  return (req, res, next) => {
    if (readiness.ready || !isWrite(req)) return next();
    const m = GATED.exec(req.path);
    if (!m) return next();
    const failing = Object.entries(readiness.snapshot().checks)
      .filter(([, r]) => !r.ok)
      .map(([name]) => name);
    const message = `The provisioning engine is not ready (${failing.length > 0 ? `${failing.join(', ')} unavailable` : 'starting'}): nothing was applied; retry in ${RETRY_AFTER_SECONDS} s`;
    const prefix = m[1]!.toLowerCase();
    refuseWrite(res, prefix === 'scim2' ? 'scim2' : prefix === 'wso2/scim' ? 'scim11' : 'admin', {
      status: 503,
      message,
      retryAfterSeconds: RETRY_AFTER_SECONDS,
      code: 'not_ready',
    });
  };
}
