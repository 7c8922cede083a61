/**
 * The admission bound (src/http/admission.ts) in front of a router's writes. Mounted after authentication and the
 * body parser, so that only writes a caller may make count (an unauthenticated flood cannot take the places of
 * authenticated clients), and a /Bulk request can be weighed by its operations. For SCIM it goes after
 * write-request.ts, so that a refusal hands back the request's own Idempotency-Key.
 *
 * A refused write gets 429 Too Many Requests at once (after at most WRITE_QUEUE_TIMEOUT_MS), Retry-After, and its
 * protocol's error body; nothing of it was attempted. An admitted SCIM write carries its place in
 * `caller.request.admission`, through which src/scim/inbound-requests.ts keeps the place while the workflow runs on
 * after a 202, reports the engine's saturation, and learns when to stop waiting.
 *
 * @example
 *   router.use(writeRequests(ctx.config.requestTimeoutMs));
 *   router.use(admitWrites(ctx.admission, 'scim2'));
 */
import type { Request, RequestHandler } from 'express';
import type { ScimCaller } from '../scim/service.js';
import { AdmissionAborted, Overloaded, type AdmissionLimiter } from './admission.js';
import { isWrite, refuseWrite, type WriteProtocol } from './write-gate.js';

const BULK = /^\/bulk\/?$/i;

/**
 * The admin API's writes that start or signal-with-start workflows (paths below /api/server/v1): roles and their
 * assignments (a RoleChange workflow), re-sending a user or group (OutboundFanOut), a reconciliation run. Its other
 * writes are configuration, a database transaction each.
 */
export const ADMIN_WORKFLOW_WRITE = /^\/(roles(\/.*)?|provisioning\/(users|groups)\/[^/]+\/resend|provisioning\/reconcile\/[^/]+)\/?$/i;

/**
 * A Bulk request's weight: its operations (the handler refuses more than maxOperations with 413), except that its user
 * creates weigh one together (src/scim/bulk.ts writes a run of them as one workflow, a chunk at a time: one write in
 * flight, however many users), at most half the bound, so that a large Bulk request runs when the api is quiet without
 * ever shutting single writes out.
 */
export function bulkWeight(body: unknown, bound: number): number {
  const ops = typeof body === 'object' && body !== null ? (body as { Operations?: unknown }).Operations : undefined;
  if (!Array.isArray(ops)) return 1;
  const creates = ops.filter((op: unknown) => {
    const o = op as { method?: unknown; path?: unknown } | null;
    return typeof o?.method === 'string' && o.method.toUpperCase() === 'POST' && o.path === '/Users';
  }).length;
  const n = ops.length - creates + Math.min(creates, 1);
  return Math.max(1, Math.min(n, Math.floor(bound / 2)));
}

export interface AdmitWritesOptions {
  /** Only the writes this picks are counted (the admin API's writes that start workflows). */
  only?: (req: Request) => boolean;
}

export function admitWrites(limiter: AdmissionLimiter, protocol: WriteProtocol, opts: AdmitWritesOptions = {}): RequestHandler {
  return (req, res, next) => {
    if (!isWrite(req) || (opts.only && !opts.only(req))) return next();
    const bulk = protocol === 'scim2' && BULK.test(req.path);
    const gone = new AbortController();
    const onClose = () => gone.abort();
    res.once('close', onClose);
    limiter.acquire(bulk ? bulkWeight(req.body, limiter.max) : 1, { signal: gone.signal, cut: !bulk }).then(
      (permit) => {
        res.off('close', onClose);
        if (gone.signal.aborted) return permit.end();
        res.once('close', () => permit.end());
        const caller = res.locals.caller as ScimCaller | undefined;
        if (caller?.request) res.locals.caller = { ...caller, request: { ...caller.request, admission: permit } } satisfies ScimCaller;
        next();
      },
      (err: unknown) => {
        res.off('close', onClose);
        if (err instanceof AdmissionAborted) return; // nobody is left to answer
        if (!(err instanceof Overloaded)) return next(err);
        const key = (res.locals.caller as ScimCaller | undefined)?.request?.key;
        refuseWrite(res, protocol, {
          status: 429,
          message: `${err.message}${protocol === 'admin' ? '' : '; repeat it with the same Idempotency-Key to apply it exactly once'}`,
          retryAfterSeconds: err.retryAfterSeconds,
          code: 'too_many_requests',
          key,
        });
      },
    );
  };
}
