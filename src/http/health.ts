/**
 * `/health` and `/ready`, for load balancers and orchestrators; neither needs a credential, and neither shows
 * more than each check's name, outcome, latency and a short reason (no address, no driver message).
 *
 * - `/health` (liveness): the process answers. It touches nothing, so a slow database never gets a healthy
 *   api restarted.
 * - `/ready` (readiness): the api can apply writes now: database, Temporal and a worker polling the task
 *   queue, as last computed by the background ReadinessMonitor. 200, or 503 with Retry-After.
 */
import { Router } from 'express';
import type { Readiness } from '../runtime/readiness.js';

/** Seconds a client is told to wait before retrying while the api is not ready (RFC 9110 §10.2.3). */
export const RETRY_AFTER_SECONDS = 5;

export function healthRouter(readiness: Readiness): Router {
  const router = Router();
  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/ready', (_req, res) => {
    const s = readiness.snapshot();
    res.set('Cache-Control', 'no-store');
    if (!readiness.ready) res.status(503).set('Retry-After', String(RETRY_AFTER_SECONDS));
    res.json({ status: readiness.ready ? 'ready' : 'not_ready', checkedAt: s.checkedAt ?? null, checks: s.checks });
  });
  return router;
}
