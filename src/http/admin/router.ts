/**
 * The admin API, mounted at /api/server/v1 (paths follow WSO2's server REST API where one exists):
 *
 *   POST   /identity-providers                                       create an IdP (with connectors)
 *   GET    /identity-providers                                       list
 *   GET    /identity-providers/{id}                                  one (secrets masked)
 *   DELETE /identity-providers/{id}
 *   POST   /identity-providers/{id}/provisioning/outbound-connectors add a connector
 *   POST   /applications                                             create an application (OAuth client); its
 *                                                                     client secret is in this answer only
 *   GET    /applications                                             list (the resident SP first; never a secret)
 *   GET    /applications/{id}                                        one ({id} may be `resident`)
 *   PATCH  /applications/{id}                                        change name, grants, scopes, inbound provisioning
 *   POST   /applications/{id}/regenerate-secret                      new client secret; old tokens revoked
 *   DELETE /applications/{id}                                        not the resident SP
 *   GET    /applications/{id}/provisioning/outbound-connectors       outbound links ({id} = resident: every operation)
 *   POST   /applications/{id}/provisioning/outbound-connectors       link a connector (blocking, rules, JIT)
 *   DELETE /applications/{id}/provisioning/outbound-connectors/{linkId}
 *   POST   /userstores                                               add a user store domain
 *   GET    /userstores                                               list
 *   DELETE /userstores/{name}                                        409 while users, groups or applications use it
 *   POST   /scim2/schemas                                            add a SCIM extension schema (User or Group)
 *   GET    /scim2/schemas[/{urn}]                                    list / one
 *   DELETE /scim2/schemas/{urn}
 *   GET    /provisioning/users/{id}/remote-links                     where a user lives at each target
 *   GET    /provisioning/audit?userId=&connectorId=&outcome=&limit=   delivery audit records
 *
 * Errors are JSON: { code, message, details? }.
 */
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../../log.js';
import { AdminError, ProvisioningConfigService } from '../../provisioning/connectors.js';
import { ApplicationService, UserStoreDomainService } from '../../provisioning/applications.js';
import { SchemaRegistry } from '../../scim/schema-registry.js';
import { isUuid } from '../../userstore/users.js';
import { requireAdmin } from '../auth.js';
import type { AppContext } from '../context.js';
import { schemasAdminRouter } from './schemas.js';

function uuidParam(req: Request, name: string): string {
  const value = req.params[name];
  if (typeof value !== 'string' || !isUuid(value)) throw new AdminError(404, 'not_found', `No resource with id '${String(value)}'`);
  return value;
}

export function adminRouter(ctx: AppContext, log: Logger): Router {
  const router = Router();
  const service = new ProvisioningConfigService(ctx.db, ctx.box, ctx.registry);
  const applications = new ApplicationService(ctx.db, ctx.box);
  const userStores = new UserStoreDomainService(ctx.db);
  router.use(
    requireAdmin(ctx.admin, 'admin-api', (res) => res.status(401).json({ code: 'unauthorized', message: 'Authentication required' })),
  );
  router.use(express.json({ type: ['application/json', 'application/*+json'], limit: '256kb' }));
  // Operator-defined SCIM extension schemas: /scim2/schemas (src/http/admin/schemas.ts).
  router.use(schemasAdminRouter(SchemaRegistry.for(ctx.db)));

  router.post('/identity-providers', async (req, res) => {
    res.status(201).json(await service.createIdentityProvider(req.body));
  });
  router.get('/identity-providers', async (_req, res) => {
    res.json(await service.listIdentityProviders());
  });
  router.get('/identity-providers/:id', async (req, res) => {
    res.json(await service.getIdentityProvider(uuidParam(req, 'id')));
  });
  router.delete('/identity-providers/:id', async (req, res) => {
    await service.deleteIdentityProvider(uuidParam(req, 'id'));
    res.status(204).end();
  });
  router.post('/identity-providers/:id/provisioning/outbound-connectors', async (req, res) => {
    res.status(201).json(await service.addConnector(uuidParam(req, 'id'), req.body));
  });

  const applicationId = (req: Request) => applications.resolveId(String(req.params.id));
  router.post('/applications', async (req, res) => {
    const created = await applications.create(req.body);
    res.setHeader('Cache-Control', 'no-store'); // it carries the client secret
    res.status(201).location(`${ctx.config.api.publicBaseUrl}/api/server/v1/applications/${created.id}`).json(created);
  });
  router.get('/applications', async (_req, res) => {
    res.json(await applications.list());
  });
  router.get('/applications/:id', async (req, res) => {
    res.json(await applications.get(applicationId(req)));
  });
  router.patch('/applications/:id', async (req, res) => {
    res.json(await applications.update(applicationId(req), req.body));
  });
  router.post('/applications/:id/regenerate-secret', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(await applications.regenerateSecret(applicationId(req)));
  });
  router.delete('/applications/:id', async (req, res) => {
    await applications.delete(applicationId(req));
    res.status(204).end();
  });

  // Outbound links: the resident SP's apply to every operation, an application's to the changes it makes.
  const links = '/applications/:id/provisioning/outbound-connectors';
  router.get(links, async (req, res) => {
    const id = applicationId(req);
    await applications.assertExists(id);
    res.json(await service.listOutboundLinks(id));
  });
  router.post(links, async (req, res) => {
    const id = applicationId(req);
    await applications.assertExists(id);
    res.status(201).json(await service.addOutboundLink(id, req.body));
  });
  router.delete(`${links}/:linkId`, async (req, res) => {
    await service.removeOutboundLink(applicationId(req), uuidParam(req, 'linkId'));
    res.status(204).end();
  });

  router.post('/userstores', async (req, res) => {
    res.status(201).json(await userStores.create(req.body));
  });
  router.get('/userstores', async (_req, res) => {
    res.json(await userStores.list());
  });
  router.delete('/userstores/:name', async (req, res) => {
    await userStores.delete(String(req.params.name));
    res.status(204).end();
  });

  router.get('/provisioning/users/:id/remote-links', async (req, res) => {
    const links = await ctx.db.remoteLink.findMany({
      where: { localId: uuidParam(req, 'id'), resourceType: 'User' },
      include: { connector: { include: { idp: true } } },
      orderBy: { createdAt: 'asc' },
    });
    res.json(
      links.map((l) => ({
        connectorId: l.connectorId,
        identityProvider: l.connector.idp.name,
        connectorType: l.connector.type,
        remoteId: l.remoteId,
        appliedVersion: Number(l.appliedVersion),
        deleted: l.deletedAt !== null,
        lastModified: l.updatedAt.toISOString(),
      })),
    );
  });

  router.get('/provisioning/audit', async (req, res) => {
    const q = req.query;
    const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
    const userId = str(q.userId);
    const connectorId = str(q.connectorId);
    if ((userId && !isUuid(userId)) || (connectorId && !isUuid(connectorId))) {
      throw new AdminError(400, 'invalid_request', 'userId and connectorId must be UUIDs');
    }
    const limit = Math.min(Math.max(Number(str(q.limit) ?? 100) || 100, 1), 1000);
    const rows = await ctx.db.provisioningAudit.findMany({
      where: {
        ...(userId && { localId: userId }),
        ...(connectorId && { connectorId }),
        ...(str(q.outcome) && { outcome: str(q.outcome)! }),
      },
      orderBy: { createdAt: 'desc' },
      take: limit,
    });
    res.json(rows);
  });

  router.use((req: Request, res: Response) => {
    res.status(404).json({ code: 'not_found', message: `No admin endpoint at ${req.method} ${req.originalUrl}` });
  });
  router.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof AdminError) {
      res.status(err.status).json({ code: err.code, message: err.message, ...(err.details.length > 0 && { details: err.details }) });
      return;
    }
    const e = err as { type?: string; message?: string };
    if (e.type === 'entity.parse.failed') {
      res.status(400).json({ code: 'invalid_request', message: 'The request body is not valid JSON' });
      return;
    }
    log.error('admin request failed', { method: req.method, path: req.originalUrl, error: String(e.message ?? err) });
    res.status(500).json({ code: 'server_error', message: 'Internal server error' });
  });
  return router;
}
