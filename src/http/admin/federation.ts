/**
 * The admin API of federated login (issue #9), mounted by src/http/admin/router.ts under /api/server/v1:
 *
 *   GET|PUT|DELETE /identity-providers/{id}/federated-authenticator  the OIDC authenticator (src/federation/config.ts
 *                                                                    federatedAuthenticatorInput); clientSecret is
 *                                                                    write-only: answered masked, absent on PUT keeps
 *                                                                    the stored one
 *   GET|PUT /identity-providers/{id}/provisioning/jit                JIT settings (jitInput); the user store domain and
 *                                                                    every mapped group must exist (400 naming them)
 *   PATCH  /identity-providers/{id}                                  description, homeRealmIdentifier, enabled
 *   GET    /users/{id}/federated-links                               the federated identities a user logs in with
 *   DELETE /users/{id}/federated-links/{linkId}                      unlink one: its next login is a first login
 *   PUT    /users/{id}/email-verified  { "verified": true }          an operator vouches for the user's primary email
 *                                                                    (association by verified email needs it)
 */
import { Router } from 'express';
import { z } from 'zod';
import { federatedAuthenticatorInput, jitInput } from '../../federation/config.js';
import { deleteLink, listLinks } from '../../federation/links.js';
import { jitReferenceProblems } from '../../federation/settings-check.js';
import { federatedAuthenticatorView, jitSettingsOf, sealFederatedAuthenticator, storedFederatedAuthenticator } from '../../federation/store.js';
import { Prisma } from '../../generated/prisma/client.js';
import { AdminError, identityProviderUpdateInput, parseInput, ProvisioningConfigService } from '../../provisioning/connectors.js';
import type { AppContext } from '../context.js';
import { uuidParam } from './params.js';

const emailVerifiedInput = z.object({ verified: z.boolean() }).strict();


export function federationAdminRouter(ctx: AppContext): Router {
  const router = Router();
  const service = new ProvisioningConfigService(ctx.db, ctx.box, ctx.registry);
  const idpRow = async (id: string) => {
    const row = await ctx.db.identityProvider.findUnique({ where: { id }, select: { id: true, federatedAuth: true, jit: true } });
    if (!row) throw new AdminError(404, 'not_found', `Identity provider ${id} not found`);
    return row;
  };
  const userExists = async (id: string) => {
    if (!(await ctx.db.user.findUnique({ where: { id }, select: { id: true } }))) throw new AdminError(404, 'not_found', `User ${id} not found`);
  };

  router.patch('/identity-providers/:id', async (req, res) => {
    const id = uuidParam(req, 'id');
    const input = parseInput(identityProviderUpdateInput, req.body);
    await idpRow(id);
    await ctx.db.identityProvider.update({
      where: { id },
      data: {
        ...(input.description !== undefined && { description: input.description }),
        ...(input.homeRealmIdentifier !== undefined && { homeRealmId: input.homeRealmIdentifier }),
        ...(input.enabled !== undefined && { enabled: input.enabled }),
      },
    });
    res.json(await service.getIdentityProvider(id));
  });

  router.get('/identity-providers/:id/federated-authenticator', async (req, res) => {
    const view = federatedAuthenticatorView(storedFederatedAuthenticator((await idpRow(uuidParam(req, 'id'))).federatedAuth));
    if (!view) throw new AdminError(404, 'not_found', 'This identity provider has no federated authenticator');
    res.json(view);
  });
  router.put('/identity-providers/:id/federated-authenticator', async (req, res) => {
    const row = await idpRow(uuidParam(req, 'id'));
    const previous = storedFederatedAuthenticator(row.federatedAuth);
    const body = req.body as Record<string, unknown> | undefined;
    // Write-only secret: a PUT without it keeps the stored one (the view never shows it, so it cannot be sent back).
    const keeps = typeof body === 'object' && body !== null && !Array.isArray(body) && body.clientSecret === undefined && previous?.clientSecretSealed !== undefined;
    const parsed = parseInput(federatedAuthenticatorInput, keeps ? { ...body, clientSecret: 'kept' } : body);
    const input = keeps ? { ...parsed, clientSecret: undefined } : parsed;
    const stored = sealFederatedAuthenticator(ctx.box, input, previous);
    await ctx.db.identityProvider.update({ where: { id: row.id }, data: { federatedAuth: stored } });
    res.json(federatedAuthenticatorView(stored));
  });
  router.delete('/identity-providers/:id/federated-authenticator', async (req, res) => {
    const row = await idpRow(uuidParam(req, 'id'));
    await ctx.db.identityProvider.update({ where: { id: row.id }, data: { federatedAuth: Prisma.DbNull } });
    res.status(204).end();
  });

  router.get('/identity-providers/:id/provisioning/jit', async (req, res) => {
    res.json(jitSettingsOf((await idpRow(uuidParam(req, 'id'))).jit));
  });
  router.put('/identity-providers/:id/provisioning/jit', async (req, res) => {
    const row = await idpRow(uuidParam(req, 'id'));
    const settings = parseInput(jitInput, req.body);
    const problems = await jitReferenceProblems(ctx.db, settings);
    if (problems.length > 0) throw new AdminError(400, 'invalid_request', 'Invalid JIT settings', problems);
    await ctx.db.identityProvider.update({ where: { id: row.id }, data: { jit: settings } });
    res.json(settings);
  });

  router.get('/users/:id/federated-links', async (req, res) => {
    const id = uuidParam(req, 'id');
    await userExists(id);
    res.json(await listLinks(ctx.db, id));
  });
  router.delete('/users/:id/federated-links/:linkId', async (req, res) => {
    if (!(await deleteLink(ctx.db, uuidParam(req, 'id'), uuidParam(req, 'linkId')))) throw new AdminError(404, 'not_found', 'The user has no such federated link');
    res.status(204).end();
  });
  router.put('/users/:id/email-verified', async (req, res) => {
    const id = uuidParam(req, 'id');
    const input = parseInput(emailVerifiedInput, req.body);
    await userExists(id);
    await ctx.db.user.update({ where: { id }, data: { emailVerified: input.verified } });
    res.json({ verified: input.verified });
  });
  return router;
}
