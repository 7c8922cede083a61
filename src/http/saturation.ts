/**
 * Errors that say a dependency is saturated rather than that the request is wrong or the server broken, decided in
 * one place for every router's error handler: they are answered 503 with Retry-After (and, for a SCIM write, the
 * Idempotency-Key to repeat it with), never 500, and logged once per overload episode by the admission bound
 * (src/http/admission.ts) instead of once per request.
 *
 * - The api's database pool found no free connection within DATABASE_POOL_TIMEOUT_MS (node-postgres:
 *   "timeout exceeded when trying to connect"), or opening a connection timed out.
 * - PostgreSQL refused a connection or a query for want of resources (SQLSTATE class 53: 53300 too_many_connections,
 *   53000 insufficient_resources, 53100 disk_full, 53200 out_of_memory; 57P03 cannot_connect_now while it starts
 *   or stops).
 * - Temporal refused a call for its rate or resource limits (gRPC RESOURCE_EXHAUSTED) outside a start (a start's is
 *   429, src/scim/inbound-requests.ts).
 */
import type { Response } from 'express';
import { sqlStateOf } from '../db/errors.js';
import { formatIdempotencyKey } from '../scim/idempotency-key.js';
import type { ScimCaller } from '../scim/service.js';
import type { AdmissionLimiter } from './admission.js';
import { RETRY_AFTER_SECONDS } from './health.js';

export interface Saturation {
  source: 'database' | 'engine';
  /** For the operator's log and the client's message: never a host, a user or a query. */
  detail: string;
}

const SQLSTATES: Record<string, string> = {
  '53300': 'too many connections',
  '53000': 'insufficient resources',
  '53100': 'disk full',
  '53200': 'out of memory',
  '57P03': 'not accepting connections now',
};

/** Whether `err` (or what caused it) says a dependency is saturated; what and why. */
export function saturationOf(err: unknown): Saturation | undefined {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const message = e instanceof Error ? e.message : '';
    if (/timeout exceeded when trying to connect/i.test(message)) return { source: 'database', detail: 'no free database connection in time' };
    if (/connection terminated due to connection timeout/i.test(message)) return { source: 'database', detail: 'connecting to the database timed out' };
    const state = sqlStateOf(e);
    if (state !== undefined && SQLSTATES[state] !== undefined) return { source: 'database', detail: `the database refused: ${SQLSTATES[state]} (SQLSTATE ${state})` };
    // Prisma's own pool (before driver adapters) and the Temporal client (a ServiceError caused by the gRPC error).
    if ((e as { code?: unknown }).code === 'P2024') return { source: 'database', detail: 'no free database connection in time' };
    if ((e as { name?: unknown }).name === 'ServiceError' && ((e as { cause?: { code?: unknown } }).cause?.code === 8)) {
      return { source: 'engine', detail: 'the provisioning engine is at its limits (RESOURCE_EXHAUSTED)' };
    }
  }
  return undefined;
}

/**
 * The 503 a request gets when `err` says a dependency is saturated (undefined otherwise), with its headers set on
 * `res`: Retry-After (the admission bound's estimate, at least RETRY_AFTER_SECONDS: nobody knows when a saturated
 * database recovers) and, for a SCIM write, its Idempotency-Key. A write may have been applied before its answer
 * failed (the workflow finished, reading the answer did not): it is told to repeat itself with its key, which can
 * never apply it twice.
 */
export function saturatedAnswer(err: unknown, res: Response, admission: AdmissionLimiter | undefined): { status: 503; message: string } | undefined {
  const saturation = saturationOf(err);
  if (!saturation) return undefined;
  admission?.noteOverload(saturation.source, saturation.detail);
  const seconds = Math.max(RETRY_AFTER_SECONDS, admission?.retryAfterSeconds() ?? 0);
  res.setHeader('Retry-After', String(seconds));
  const what = saturation.source === 'database' ? 'The database is saturated' : 'The provisioning engine is saturated';
  const request = (res.locals.caller as ScimCaller | undefined)?.request;
  if (!request) return { status: 503, message: `${what} (${saturation.detail}); retry in ${seconds} s` };
  const key = formatIdempotencyKey(request.key);
  res.setHeader('Idempotency-Key', key);
  return {
    status: 503,
    message: `${what} (${saturation.detail}): the request could not be completed. Retry in ${seconds} s with the same Idempotency-Key (${key}): it is applied exactly once.`,
  };
}
