/**
 * Remembered consents (src/http/oauth/consents.ts), mounted by src/http/admin/router.ts under /api/server/v1:
 *
 *   GET    /users/{id}/consents                   what the user allowed each application on the consent page
 *   DELETE /users/{id}/consents/{applicationId}   revoke one: the next sign-in to that application asks again
 *                                                 (tokens already issued keep working until they expire or are revoked)
 */
import { Router } from 'express';
import { AdminError } from '../../provisioning/connectors.js';
import type { AppContext } from '../context.js';
import { uuidParam } from './params.js';
import { listConsents, revokeConsent } from '../oauth/consents.js';


export function consentsAdminRouter(ctx: AppContext): Router {
  const router = Router();
  router.get('/users/:id/consents', async (req, res) => {
    const id = uuidParam(req, 'id');
    if (!(await ctx.db.user.findUnique({ where: { id }, select: { id: true } }))) throw new AdminError(404, 'not_found', `User ${id} not found`);
    res.json(await listConsents(ctx.db, id));
  });
  router.delete('/users/:id/consents/:applicationId', async (req, res) => {
    if (!(await revokeConsent(ctx.db, uuidParam(req, 'id'), uuidParam(req, 'applicationId')))) throw new AdminError(404, 'not_found', 'The user has no remembered consent for that application');
    res.status(204).end();
  });
  return router;
}
