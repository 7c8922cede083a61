/**
 * The SCIM 2.0 service provider, mounted at /scim2. JSON bodies are accepted as application/scim+json
 * or application/json (RFC 7644 §3.1); every error is a SCIM error body (RFC 7644 §3.12).
 */
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { ScimError } from '../../scim/errors.js';
import { scimAuthenticate } from '../auth.js';
import type { AppContext } from '../context.js';
import type { Logger } from '../../log.js';
import { runBulk } from '../../scim/bulk.js';
import { SchemaRegistry } from '../../scim/schema-registry.js';
import { ScimService } from '../../scim/service.js';
import { SCIM_LIMITS } from '../../scim/service-provider.js';
import { callerOf, hasScope, requireScope } from '../auth.js';
import { discoveryRouter } from './discovery.js';
import { meRouter, resourceRouter, searchParams, send, SCOPES } from './resources.js';
import { mayViewRoles, ROLE_SCOPES, roleLister, rolesRouter } from './roles.js';
import { sendScim } from './respond.js';

export const SCIM_BODY_LIMIT = SCIM_LIMITS.bulkMaxPayloadSize;

export function scimRouter(ctx: AppContext, log: Logger): Router {
  const router = Router();
  router.use(
    scimAuthenticate(ctx, (res) =>
      sendScim(res, 401, new ScimError(401, 'Authentication required: valid credentials were not supplied').toBody()),
    ),
  );
  // One limit for every body: the Bulk maxPayloadSize advertised in ServiceProviderConfig (RFC 7644 §3.7.4).
  router.use(express.json({ type: ['application/json', 'application/scim+json', 'application/*+json'], limit: SCIM_BODY_LIMIT }));
  const schemas = SchemaRegistry.for(ctx.db);
  const service = new ScimService({
    db: ctx.db,
    temporal: ctx.temporal,
    taskQueue: ctx.config.temporal.taskQueue,
    schemas,
    baseUrl: ctx.config.api.publicBaseUrl,
    blockingTimeoutMs: ctx.config.blockingTimeoutMs,
  });
  router.use(discoveryRouter(schemas, ctx.config.api.publicBaseUrl));
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
    sendScim(res, ...scimErrorOf(err, req, log));
  });
  return router;
}

/** Maps anything thrown by a SCIM handler to a status and SCIM error body; never leaks internals. */
export function scimErrorOf(err: unknown, req: Request, log: Logger): [number, Record<string, unknown>] {
  if (err instanceof ScimError) return [err.status, err.toBody()];
  const e = err as { type?: string; status?: number; message?: string };
  if (e.type === 'entity.parse.failed') return [400, ScimError.badRequest('The request body is not valid JSON', 'invalidSyntax').toBody()];
  if (e.type === 'entity.too.large') {
    return [413, new ScimError(413, `The request body exceeds ${SCIM_BODY_LIMIT} bytes (maxPayloadSize)`, 'tooLarge').toBody()];
  }
  if (e.type === 'charset.unsupported' || e.type === 'encoding.unsupported') {
    return [415, new ScimError(415, e.message ?? 'Unsupported encoding').toBody()];
  }
  const unavailable = (err as { name?: string }).name === 'ServiceError' || (err as { code?: number }).code === 14;
  log.error('SCIM request failed', { method: req.method, path: req.originalUrl, error: String(e.message ?? err) });
  if (unavailable) return [503, new ScimError(503, 'The provisioning engine is unavailable; try again shortly').toBody()];
  return [500, new ScimError(500, 'Internal server error').toBody()];
}
