/**
 * The SCIM 2.0 service provider, mounted at /scim2. JSON bodies are accepted as application/scim+json
 * or application/json (RFC 7644 §3.1); every error is a SCIM error body (RFC 7644 §3.12).
 */
import { Router, type NextFunction, type Request, type Response } from 'express';
import { ScimError } from '../../scim/errors.js';
import { scimAuthenticate, throttledMessage } from '../auth.js';
import type { AppContext } from '../context.js';
import { inputErrorOf, jsonBody } from '../input.js';
import type { Logger } from '../../log.js';
import { runBulk } from '../../scim/bulk.js';
import { SchemaRegistry } from '../../scim/schema-registry.js';
import { ScimService } from '../../scim/service.js';
import { SCIM_LIMITS, SCIM_PAGINATION } from '../../scim/service-provider.js';
import { CursorCodec } from '../../scim/cursor.js';
import type { FilterDialect } from '../../scim/filter.js';
import type { ResourceTypeName } from '../../scim/schema-defs.js';
import { KeyedDigest } from '../../crypto/keyed-digest.js';
import { callerOf, hasScope, requireScope } from '../auth.js';
import { discoveryRouter } from './discovery.js';
import { meRouter, resourceRouter, searchParams, send, SCOPES } from './resources.js';
import { mayViewRoles, ROLE_SCOPES, roleLister, rolesRouter } from './roles.js';
import { sendScim } from './respond.js';
import { admitWrites } from '../write-admission.js';
import { RETRY_AFTER_SECONDS } from '../health.js';
import { saturatedAnswer } from '../saturation.js';
import { writeRequests } from './write-request.js';

export const SCIM_BODY_LIMIT = SCIM_LIMITS.bulkMaxPayloadSize;
/** RFC 7644 §3.1: application/scim+json, and application/json from clients that send it. */
export const SCIM_JSON_TYPES = ['application/json', 'application/scim+json', 'application/*+json'];

/** The SCIM operations as the api runs them, for /scim2 and /wso2/scim alike. */
export function createScimService(ctx: AppContext, log: Logger, opts: { filterDialect?: (type: ResourceTypeName) => FilterDialect } = {}): ScimService {
  return new ScimService({
    db: ctx.db,
    temporal: ctx.temporal,
    taskQueue: ctx.config.temporal.taskQueue,
    schemas: SchemaRegistry.for(ctx.db),
    baseUrl: ctx.config.api.publicBaseUrl,
    blockingTimeoutMs: ctx.config.blockingTimeoutMs,
    requestTimeoutMs: ctx.config.requestTimeoutMs,
    engineTimeoutMs: ctx.config.writes.engineTimeoutMs,
    log,
    sealer: ctx.sealer,
    cursors: new CursorCodec(new KeyedDigest(ctx.box.keyring, 'scim-cursor'), SCIM_PAGINATION.cursorTimeout),
    requestFingerprints: new KeyedDigest(ctx.box.keyring, 'request-fingerprint'),
    filters: { lenient: ctx.config.scim.filterLenient, dialect: opts.filterDialect },
  });
}

export function scimRouter(ctx: AppContext, log: Logger): Router {
  const router = Router();
  router.use(
    scimAuthenticate(
      ctx,
      (res) => sendScim(res, 401, new ScimError(401, 'Authentication required: valid credentials were not supplied').toBody()),
      // RFC 7644 §3.12 lists 429 (Too Many Requests) with no scimType.
      (res, seconds) => sendScim(res, 429, new ScimError(429, throttledMessage(seconds)).toBody()),
    ),
  );
  const schemas = SchemaRegistry.for(ctx.db);
  // Discovery is read-only and reads no body: mounted before the body parser, so a write to it is 405 whatever
  // its body (malformed, too large, of another type), never a 400 or 413 about a body nobody would read.
  router.use(discoveryRouter(schemas, ctx.config.api.publicBaseUrl));
  // One limit for every body: the Bulk maxPayloadSize advertised in ServiceProviderConfig (RFC 7644 §3.7.4).
  router.use(jsonBody({ type: SCIM_JSON_TYPES, limit: SCIM_BODY_LIMIT }));
  // Every write runs under an Idempotency-Key, with a bounded wait (src/http/scim/write-request.ts).
  router.use(writeRequests(ctx.config.requestTimeoutMs));
  // Backpressure: a bounded number of writes in flight, 429 + Retry-After beyond it (src/http/write-admission.ts).
  router.use(admitWrites(ctx.admission, 'scim2'));
  const service = createScimService(ctx, log);
  router.use('/Users', resourceRouter(service, 'User'));
  router.use('/Groups', resourceRouter(service, 'Group'));
  router.use('/Me', meRouter(service));
  router.use('/Roles', rolesRouter(ctx));
  const roles = roleLister(ctx);
  router.post('/.search', requireScope(SCOPES.User.list, SCOPES.Group.list, ROLE_SCOPES.view), async (req, res) => {
    const caller = callerOf(res);
    // Each resource type is searched only if the caller may list it.
    const types = (['User', 'Group'] as const).filter((t) => hasScope(caller, [SCOPES[t].list]));
    send(res, await service.searchAll(caller, searchParams(req.body), types, mayViewRoles(caller) ? [roles] : []));
  });
  router.post('/Bulk', requireScope('internal_bulk_resource_create'), async (req, res) => {
    const caller = callerOf(res);
    send(res, await runBulk(service, caller, (scope) => hasScope(caller, [scope]), req.body));
  });
  router.use((req: Request, res: Response) => {
    sendScim(res, 404, new ScimError(404, `No SCIM endpoint at ${req.method} ${req.originalUrl}`).toBody());
  });
  router.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof ScimError) for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
    // A saturated database or engine: 503 + Retry-After, not 500 (src/http/saturation.ts).
    const saturated = saturatedAnswer(err, res, ctx.admission);
    if (saturated) return sendScim(res, saturated.status, new ScimError(saturated.status, saturated.message).toBody());
    const [status, body] = scimErrorOf(err, req, log);
    // RFC 9110 §15.6.4: a 503 says when to come back.
    if (status === 503 && !res.hasHeader('Retry-After')) res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    sendScim(res, status, body);
  });
  return router;
}

/** Maps anything thrown by a SCIM handler to a status and SCIM error body; never leaks internals. */
export function scimErrorOf(err: unknown, req: Request, log: Logger): [number, Record<string, unknown>] {
  if (err instanceof ScimError) return [err.status, err.toBody()];
  const input = inputErrorOf(err, `${SCIM_BODY_LIMIT} bytes (maxPayloadSize)`);
  if (input) {
    const scimType =
      input.kind === 'tooLarge' ? 'tooLarge' : input.kind === 'syntax' ? 'invalidSyntax' : input.field?.toLowerCase() === 'filter' ? 'invalidFilter' : 'invalidValue';
    return [input.status, new ScimError(input.status, input.message, input.status === 415 ? undefined : scimType).toBody()];
  }
  const e = err as { message?: string };
  const unavailable = (err as { name?: string }).name === 'ServiceError' || (err as { code?: number }).code === 14;
  log.error('SCIM request failed', { method: req.method, path: req.originalUrl, error: String(e.message ?? err) });
  if (unavailable) return [503, new ScimError(503, 'The provisioning engine is unavailable; try again shortly').toBody()];
  return [500, new ScimError(500, 'Internal server error').toBody()];
}
