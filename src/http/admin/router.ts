/**
 * The admin API, mounted at /api/server/v1 (paths follow WSO2's server REST API where one exists):
 *
 *   POST   /identity-providers                                       create an IdP (with connectors)
 *   GET    /identity-providers                                       list
 *   GET    /identity-providers/{id}                                  one (secrets masked)
 *   DELETE /identity-providers/{id}
 *   POST   /identity-providers/{id}/provisioning/outbound-connectors add a connector
 *   GET    /applications/resident/provisioning/outbound-connectors   the resident SP's outbound links
 *   POST   /applications/resident/provisioning/outbound-connectors   link a connector (blocking, rules, JIT)
 *   DELETE /applications/resident/provisioning/outbound-connectors/{linkId}
 *   GET    /provisioning/users/{id}/remote-links                     where a user lives at each target
 *   GET    /provisioning/audit?userId=&connectorId=&outcome=&limit=   delivery audit records
 *
 * Errors are JSON: { code, message, details? }.
 */
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../../log.js';
import { AdminError, ProvisioningConfigService } from '../../provisioning/connectors.js';
import { RESIDENT_APPLICATION_ID } from '../../provisioning/defaults.js';
import { isUuid } from '../../userstore/users.js';
import { requireAdmin } from '../auth.js';
import type { AppContext } from '../context.js';

function uuidParam(req: Request, name: string): string {
  const value = req.params[name];
  if (typeof value !== 'string' || !isUuid(value)) throw new AdminError(404, 'not_found', `No resource with id '${String(value)}'`);
  return value;
}

export function adminRouter(ctx: AppContext, log: Logger): Router {
  const router = Router();
  const service = new ProvisioningConfigService(ctx.db, ctx.box, ctx.registry);
  router.use(
    requireAdmin(ctx.admin, 'admin-api', (res) => res.status(401).json({ code: 'unauthorized', message: 'Authentication required' })),
  );
  router.use(express.json({ type: ['application/json', 'application/*+json'], limit: '256kb' }));

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

  const residentLinks = '/applications/resident/provisioning/outbound-connectors';
  router.get(residentLinks, async (_req, res) => {
    res.json(await service.listOutboundLinks(RESIDENT_APPLICATION_ID));
  });
  router.post(residentLinks, async (req, res) => {
    res.status(201).json(await service.addOutboundLink(RESIDENT_APPLICATION_ID, req.body));
  });
  router.delete(`${residentLinks}/:linkId`, async (req, res) => {
    await service.removeOutboundLink(RESIDENT_APPLICATION_ID, uuidParam(req, 'linkId'));
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
        appliedVersion: l.appliedVersion,
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
