/**
 * Every SCIM write (POST, PUT, PATCH, DELETE; not the POST of a search) runs under an Idempotency-Key: the one the
 * client sent (IETF httpapi idempotency-key draft), or one generated for this request, which the answer hands back
 * when the client may need to repeat the request (202, 503). The middleware reads it, fingerprints the request and
 * sets the deadline by which the caller is answered; ScimService runs the write under them
 * (src/scim/inbound-requests.ts). Shared by /scim2 and the SCIM 1.1 endpoint.
 */
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { ScimError } from '../../scim/errors.js';
import { IdempotencyKeyError, parseIdempotencyKey } from '../../scim/idempotency-key.js';
import { requestFingerprint, type WriteRequest } from '../../scim/inbound-requests.js';
import type { ScimCaller } from '../../scim/service.js';
import { callerOf } from '../auth.js';

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The key, fingerprint and deadline of a write; a malformed or too long key is a 400. */
export function writeRequestOf(req: Request, requestTimeoutMs: number): WriteRequest {
  let key: string | undefined;
  try {
    key = parseIdempotencyKey(req.headers['idempotency-key']);
  } catch (err) {
    if (err instanceof IdempotencyKeyError) throw new ScimError(400, err.message);
    throw err;
  }
  // The request as the client sent it, not as the server resolved it (a retry must match before anything moved):
  // method, path without trailing slash (case-insensitive, as the routes are), body, If-Match. Query parameters
  // only shape the answer.
  const path = req.path.replace(/\/+$/, '').toLowerCase();
  const ifMatch = req.headers['if-match'];
  return {
    key: key ?? randomUUID(),
    keyFromClient: key !== undefined,
    fingerprint: requestFingerprint(req.method, path, req.body ?? null, ifMatch ?? null),
    deadline: Date.now() + requestTimeoutMs,
  };
}

/** Sets the write request on the caller (ScimCaller.request); goes after authentication and body parsing. */
export function writeRequests(requestTimeoutMs: number) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!WRITES.has(req.method) || /\/\.search\/?$/.test(req.path)) {
      next();
      return;
    }
    const caller: ScimCaller = { ...callerOf(res), request: writeRequestOf(req, requestTimeoutMs) };
    res.locals.caller = caller;
    next();
  };
}
