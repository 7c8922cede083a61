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
 */
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { formatIdempotencyKey, parseIdempotencyKey } from '../scim/idempotency-key.js';
import { errorBody11 } from '../scim/scim11.js';
import { ScimError } from '../scim/errors.js';
import type { Readiness } from '../runtime/readiness.js';
import { RETRY_AFTER_SECONDS } from './health.js';
import { sendScim } from './scim/respond.js';

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const GATED = /^\/(scim2|wso2\/scim|api\/server\/v1)(\/|$)/i;
const SEARCH = /\/\.search\/?$/i;

/** The client's Idempotency-Key, if it sent a well-formed one. */
function clientKey(header: string | string[] | undefined): string | undefined {
  try {
    return parseIdempotencyKey(header);
  } catch {
    return undefined;
  }
}

export function writeGate(readiness: Readiness): RequestHandler {
  return (req, res, next) => {
    if (readiness.ready || !WRITE_METHODS.has(req.method)) return next();
    const m = GATED.exec(req.path);
    if (!m || (req.method === 'POST' && SEARCH.test(req.path))) return next();
    const failing = Object.entries(readiness.snapshot().checks)
      .filter(([, r]) => !r.ok)
      .map(([name]) => name);
    const message = `The provisioning engine is not ready (${failing.length > 0 ? `${failing.join(', ')} unavailable` : 'starting'}): nothing was applied; retry in ${RETRY_AFTER_SECONDS} s`;
    res.set('Retry-After', String(RETRY_AFTER_SECONDS));
    // As every 503 of a SCIM write does (src/scim/inbound-requests.ts): the key to repeat it with, the client's own or
    // a new one. Nothing was applied, so any key is safe; one rule for clients: repeat a 503 with its key.
    if (m[1]!.toLowerCase() !== 'api/server/v1') res.set('Idempotency-Key', formatIdempotencyKey(clientKey(req.headers['idempotency-key']) ?? randomUUID()));
    switch (m[1]!.toLowerCase()) {
      case 'scim2':
        return sendScim(res, 503, new ScimError(503, message).toBody());
      case 'wso2/scim':
        return void res.status(503).type('application/json').send(JSON.stringify(errorBody11(503, message)));
      default:
        return void res.status(503).json({ code: 'not_ready', message });
    }
  };
}
