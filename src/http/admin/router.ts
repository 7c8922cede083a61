/**
 * The admin API, mounted at /api/server/v1 (paths follow WSO2's server REST API where one exists):
 *
 *   POST   /identity-providers                                       create an IdP (with connectors, and optionally
 *                                                                    federatedAuthenticator and jit)
 *   GET    /identity-providers                                       list
 *   GET    /identity-providers/{id}                                  one (secrets masked)
 *   DELETE /identity-providers/{id}
 *   POST   /identity-providers/{id}/provisioning/outbound-connectors add a connector
 *   PATCH  /identity-providers/{id}/provisioning/outbound-connectors/{connectorId}
 *                                                                    change it (settings replaced, secrets merged by
 *                                                                    name, null removes one; enable/disable)
 *   DELETE /identity-providers/{id}/provisioning/outbound-connectors/{connectorId}
 *   PATCH  /identity-providers/{id}                                  description, homeRealmIdentifier, enabled
 *   GET|PUT|DELETE /identity-providers/{id}/federated-authenticator  its OIDC authenticator (client secret masked,
 *                                                                    kept when a PUT leaves it out)
 *   GET|PUT /identity-providers/{id}/provisioning/jit                its JIT settings (src/http/admin/federation.ts)
 *   GET    /users/{id}/federated-links                               a user's federated identities
 *   DELETE /users/{id}/federated-links/{linkId}                      unlink one
 *   PUT    /users/{id}/email-verified                                { "verified": true }: the operator vouches for
 *                                                                    the user's primary email
 *   GET|PUT /identity-providers/{id}/roles                            { "outboundProvisioningRoles": ["<role name>"] }:
 *                                                                    only holders of these roles are provisioned there
 *   POST   /applications                                             create an application (OAuth client); its
 *                                                                     client secret is in this answer only
 *   GET    /applications                                             list (the resident SP first; never a secret)
 *   GET    /applications/{id}                                        one ({id} may be `resident`)
 *   PATCH  /applications/{id}                                        change name, grants, scopes, inbound provisioning
 *   POST   /applications/{id}/regenerate-secret                      new client secret; old tokens revoked
 *   DELETE /applications/{id}                                        not the resident SP
 *   GET    /applications/{id}/provisioning/outbound-connectors       outbound links ({id} = resident: every operation)
 *   POST   /applications/{id}/provisioning/outbound-connectors       link a connector (blocking, rules, JIT,
 *                                                                    rulesNotApplicable: provision | skip)
 *   PATCH  /applications/{id}/provisioning/outbound-connectors/{linkId}  change a link's flags
 *   DELETE /applications/{id}/provisioning/outbound-connectors/{linkId}
 *   POST   /roles                                                    create a role ({ name, description, permissions
 *                                                                    (API scopes), users, groups }); a RoleChange workflow
 *   GET    /roles                                                    list (without assignments)
 *   GET    /roles/{id}                                               one, with its users and groups
 *   PATCH  /roles/{id}                                               name, description; permissions, users, groups replaced
 *   DELETE /roles/{id}                                               409 while an identity provider provisions by it
 *   POST   /roles/{id}/users | /roles/{id}/groups                    assign ({ "users": [ids] } / { "groups": [ids] })
 *   DELETE /roles/{id}/users/{userId} | /roles/{id}/groups/{groupId} unassign
 *   GET    /users/{id}/roles                                         a user's roles (direct, via groups) and permissions
 *   GET    /users/{id}/consents                                      what the user allowed each application (consent page)
 *   DELETE /users/{id}/consents/{applicationId}                      revoke it: the next sign-in asks again (consents.ts)
 *   POST   /userstores                                               add a user store domain
 *   GET    /userstores                                               list
 *   DELETE /userstores/{name}                                        409 while users, groups or applications use it
 *   GET    /userstores/username-conflicts[?limit=]                   users the userName data migration could not key
 *                                                                     (an older twin under RFC 8265, or a name the
 *                                                                     profile refuses): found by id only until renamed
 *   POST   /scim2/schemas                                            add a SCIM extension schema (User or Group)
 *   GET    /scim2/schemas[/{urn}]                                    list / one
 *   DELETE /scim2/schemas/{urn}
 *   GET    /provisioning/{users|groups}/{id}/remote-links            where a user or group lives at each target
 *                                                                    (remoteId null: its first delivery is on its way)
 *   POST   /provisioning/{users|groups}/{id}/resend                  re-send one user or group to its targets now,
 *                                                                     or to one connector ({ "connectorId": ... })
 *   GET    /provisioning/quarantine                                  connectors whose deliveries are held
 *   POST   /provisioning/quarantine/{connectorId}/resume             resume one: held deliveries go on, in order
 *   POST   /provisioning/reconcile/{connectorId}[?wait=true]       compare a target with the store; repair on request
 *   PUT|GET|DELETE /provisioning/reconcile/{connectorId}/schedule   its Temporal Schedule (src/http/admin/reconcile.ts)
 *   GET    /provisioning/requests/{id}                               a SCIM write answered 202: running, or its answer
 *                                                                    (also for the application that made it; requests.ts)
 *   GET    /provisioning/audit?userId=&connectorId=&outcome=&resourceType=&operation=&from=&to=&limit=
 *                                                                     delivery audit records, newest first
 *   GET    /security/locks?kind=&account=&address=&blocked=true     account locks and address throttles
 *   DELETE /security/locks?address=                                 clear an address's throttles and per-address locks
 *   POST   /users/{id}/unlock                                       unlock a user account locked by failed sign-ins
 *   POST   /keys/rotate | GET /keys                                 the OpenID Provider's signing keys (src/http/admin/keys.ts)
 *   POST|GET /rules/policies, GET|PUT|PATCH|DELETE /rules/policies/{policyId}, .../versions[/{n}],
 *   POST   /rules/policies/validate, GET|PUT /rules/settings, POST /rules/decision,
 *   GET    /applications/{id}/provisioning/outbound-connectors/{linkId}/rules
 *                                                                     XACML rule policies for Enable Rules links
 *                                                                     (src/http/admin/policies.ts)
 *   GET    /security/events?type=&kind=&account=&address=&from=&to=&limit=
 *                                                                     locks, unlocks, throttled addresses, newest first
 *                                                                     (src/http/admin/security.ts)
 *
 * Every call needs the admin credential (HTTP Basic), checked under the login guard: wrong credentials from one
 * address are throttled (429 { code: too_many_requests }, Retry-After), see src/security/login-guard.ts.
 *
 * Errors are JSON: { code, message, details? }.
 */
import { randomUUID } from 'node:crypto';
import { Router, type NextFunction, type Request, type Response } from 'express';
import { refusedValue } from '../../db/errors.js';
import type { Logger } from '../../log.js';
import { AdminError, ProvisioningConfigService } from '../../provisioning/connectors.js';
import { forgetAllTokens } from '../oauth/token-cache.js';
import { ApplicationService, UserStoreDomainService } from '../../provisioning/applications.js';
import { SchemaRegistry } from '../../scim/schema-registry.js';
import { getGroup } from '../../userstore/groups.js';
import { getUser, isUuid } from '../../userstore/users.js';
import { listUserNameConflicts } from '../../userstore/username-conflicts.js';
import { enqueueProvisioningEvent, outboundWorkflowId } from '../../provisioning/enqueue.js';
import { resumeConnectorSignal } from '../../../workflows/messages.js';
import { RESIDENT_APPLICATION_ID } from '../../provisioning/defaults.js';
import { resolveOutboundTargets, targetForConnector } from '../../provisioning/targets.js';
import type { OutboundTarget, ProvisioningEvent } from '../../provisioning/types.js';
import { requireAdmin, throttledMessage } from '../auth.js';
import type { AppContext } from '../context.js';
import { uuidParam } from './params.js';
import { inputErrorOf, jsonBody } from '../input.js';
import { RETRY_AFTER_SECONDS } from '../health.js';
import { saturatedAnswer } from '../saturation.js';
import { keysAdminRouter } from './keys.js';
import { reconcileAdminRouter, removeReconcileSchedule, syncReconcileSchedule } from './reconcile.js';
import { consentsAdminRouter } from './consents.js';
import { federationAdminRouter } from './federation.js';
import { policiesAdminRouter } from './policies.js';
import { requestsAdminRouter } from './requests.js';
import { rolesAdminRouter } from './roles.js';
import { schemasAdminRouter } from './schemas.js';
import { securityAdminRouter } from './security.js';

/** Admin bodies are configuration, never bulk data. */
const ADMIN_BODY_LIMIT = '256kb';


export function adminRouter(ctx: AppContext, log: Logger): Router {
  const router = Router();
  const service = new ProvisioningConfigService(ctx.db, ctx.box, ctx.registry);
  const applications = new ApplicationService(ctx.db, ctx.box);
  const userStores = new UserStoreDomainService(ctx.db);
  // The status of a SCIM write answered 202: readable by the application that made it too, so before requireAdmin.
  router.use(requestsAdminRouter(ctx, log));
  router.use(
    requireAdmin(
      ctx,
      'admin-api',
      (res) => res.status(401).json({ code: 'unauthorized', message: 'Authentication required' }),
      (res, seconds) => res.status(429).json({ code: 'too_many_requests', message: throttledMessage(seconds) }),
    ),
  );
  // Rule policies (XACML): /rules/... and a link's rules view (src/http/admin/policies.ts). Before the JSON parser: its
  // routes take XML and JSON bodies up to 1 MiB, read raw.
  router.use(policiesAdminRouter(ctx, log));
  router.use(jsonBody({ type: ['application/json', 'application/*+json'], limit: ADMIN_BODY_LIMIT }));
  // Operator-defined SCIM extension schemas: /scim2/schemas (src/http/admin/schemas.ts).
  router.use(schemasAdminRouter(SchemaRegistry.for(ctx.db)));
  // Reconciliation of a target, on demand and scheduled: /provisioning/reconcile (src/http/admin/reconcile.ts).
  router.use(reconcileAdminRouter(ctx));
  // Sign-in protection: locks, throttles, unlock, security events (src/http/admin/security.ts).
  router.use(securityAdminRouter(ctx));
  // Roles and their assignments: /roles, /users/{id}/roles (src/http/admin/roles.ts).
  router.use(rolesAdminRouter(ctx));
  // The OpenID Provider's signing keys: /keys, /keys/rotate (src/http/admin/keys.ts).
  router.use(keysAdminRouter(ctx));
  // Consents users gave applications on the consent page: /users/{id}/consents (src/http/admin/consents.ts).
  router.use(consentsAdminRouter(ctx));
  // Federated login: the OIDC authenticator, JIT settings, PATCH of an IdP, users' federated links (src/http/admin/federation.ts).
  router.use(federationAdminRouter(ctx));

  // A connector whose settings.reconcile has intervalMinutes or cron gets its reconciliation schedule when saved; the
  // answer shows it (or why it could not be saved) as `reconcileSchedule`.
  const withSchedule = async <C extends { id: string; type: string; settings: unknown }>(idpName: string, c: C) => {
    const schedule = await syncReconcileSchedule(ctx, { ...c, idp: { name: idpName } });
    return schedule ? { ...c, reconcileSchedule: schedule } : c;
  };

  router.post('/identity-providers', async (req, res) => {
    const idp = await service.createIdentityProvider(req.body);
    const outboundConnectors = [];
    for (const c of idp.outboundConnectors) outboundConnectors.push(await withSchedule(idp.name, c));
    res.status(201).json({ ...idp, outboundConnectors });
  });
  router.get('/identity-providers', async (_req, res) => {
    res.json(await service.listIdentityProviders());
  });
  router.get('/identity-providers/:id', async (req, res) => {
    res.json(await service.getIdentityProvider(uuidParam(req, 'id')));
  });
  router.delete('/identity-providers/:id', async (req, res) => {
    const idp = await service.getIdentityProvider(uuidParam(req, 'id'));
    await service.deleteIdentityProvider(idp.id);
    for (const c of idp.outboundConnectors) await removeReconcileSchedule(ctx, c.id);
    res.status(204).end();
  });
  // WSO2's role configuration of an identity provider: its outbound provisioning roles (src/provisioning/provisioning-roles.ts).
  router.get('/identity-providers/:id/roles', async (req, res) => {
    res.json((await service.getIdentityProvider(uuidParam(req, 'id'))).roles);
  });
  router.put('/identity-providers/:id/roles', async (req, res) => {
    res.json(await service.setIdentityProviderRoles(uuidParam(req, 'id'), req.body));
  });
  router.post('/identity-providers/:id/provisioning/outbound-connectors', async (req, res) => {
    const idp = await service.getIdentityProvider(uuidParam(req, 'id'));
    res.status(201).json(await withSchedule(idp.name, await service.addConnector(idp.id, req.body)));
  });
  router.patch('/identity-providers/:id/provisioning/outbound-connectors/:connectorId', async (req, res) => {
    const idp = await service.getIdentityProvider(uuidParam(req, 'id'));
    res.json(await withSchedule(idp.name, await service.updateConnector(idp.id, uuidParam(req, 'connectorId'), req.body)));
  });
  router.delete('/identity-providers/:id/provisioning/outbound-connectors/:connectorId', async (req, res) => {
    const connectorId = uuidParam(req, 'connectorId');
    await service.deleteConnector(uuidParam(req, 'id'), connectorId);
    await removeReconcileSchedule(ctx, connectorId);
    res.status(204).end();
  });

  const applicationId = (req: Request) => applications.resolveId(String(req.params.id));
  // Tokens resolved by this process name their application's scopes and domain: a change is seen at once here (the
  // other api processes see it within TOKEN_CACHE_MS), whether it succeeded or failed half-way.
  const changingApplications = async <T>(change: () => Promise<T>): Promise<T> => {
    try {
      return await change();
    } finally {
      forgetAllTokens(ctx);
    }
  };
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
    res.json(await changingApplications(() => applications.update(applicationId(req), req.body)));
  });
  router.post('/applications/:id/regenerate-secret', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(await changingApplications(() => applications.regenerateSecret(applicationId(req))));
  });
  router.delete('/applications/:id', async (req, res) => {
    await changingApplications(() => applications.delete(applicationId(req)));
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
  router.patch(`${links}/:linkId`, async (req, res) => {
    res.json(await service.updateOutboundLink(applicationId(req), uuidParam(req, 'linkId'), req.body));
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
  // What src/userstore/username-migration.ts found; a rename or delete (of either twin) takes an entry away.
  router.get('/userstores/username-conflicts', async (req, res) => {
    const raw = typeof req.query.limit === 'string' ? req.query.limit : '100';
    const limit = Number(raw);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new AdminError(400, 'invalid_request', 'limit must be an integer from 1 to 1000');
    res.json(await listUserNameConflicts(ctx.db, limit));
  });
  router.delete('/userstores/:name', async (req, res) => {
    await changingApplications(() => userStores.delete(String(req.params.name)));
    res.status(204).end();
  });

  router.get('/provisioning/:kind/:id/remote-links', async (req, res) => {
    const resourceType = req.params.kind === 'users' ? 'User' : req.params.kind === 'groups' ? 'Group' : undefined;
    if (!resourceType) throw new AdminError(404, 'not_found', `No such resource kind '${String(req.params.kind)}' (users or groups)`);
    const links = await ctx.db.remoteLink.findMany({
      where: { localId: uuidParam(req, 'id'), resourceType },
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

  // On-demand provisioning: the resource's current state goes to the target(s) even if that version was
  // delivered before (an operator repairing a target, or provisioning a user to a newly added connector).
  router.post('/provisioning/:kind/:id/resend', async (req, res) => {
    const kind = req.params.kind;
    if (kind !== 'users' && kind !== 'groups') throw new AdminError(404, 'not_found', `No admin endpoint at ${req.method} ${req.originalUrl}`);
    const id = uuidParam(req, 'id');
    const body = (req.body ?? {}) as { connectorId?: unknown };
    if (body.connectorId !== undefined && (typeof body.connectorId !== 'string' || !isUuid(body.connectorId))) {
      throw new AdminError(400, 'invalid_request', 'connectorId must be the UUID of an outbound connector');
    }
    let targets: OutboundTarget[];
    if (typeof body.connectorId === 'string') {
      const target = await targetForConnector(ctx.db, body.connectorId);
      if (!target) throw new AdminError(404, 'not_found', `No outbound connector '${body.connectorId}'`);
      targets = [target];
    } else {
      targets = await resolveOutboundTargets(ctx.db, RESIDENT_APPLICATION_ID);
      if (targets.length === 0) throw new AdminError(409, 'conflict', 'The resident service provider has no outbound connectors to send to');
    }
    const initiator = { applicationId: RESIDENT_APPLICATION_ID, channel: 'admin-api', label: `${ctx.admin.username} via admin-api (re-send)` };
    const eventId = `resend-${randomUUID()}`;
    let event: ProvisioningEvent;
    if (kind === 'users') {
      const user = await getUser(ctx.db, id);
      if (!user) throw new AdminError(404, 'not_found', `No user '${id}'`);
      event = { eventId, resourceType: 'User', operation: 'update', localId: id, version: user.version, user, targets, initiator, resync: true };
    } else {
      const group = await getGroup(ctx.db, id, { members: false });
      if (!group) throw new AdminError(404, 'not_found', `No group '${id}'`);
      const summary = { id, domain: group.domain, displayName: group.displayName, externalId: group.externalId };
      event = { eventId, resourceType: 'Group', operation: 'update', localId: id, version: group.version, group: summary, targets, initiator, resync: true };
    }
    await enqueueProvisioningEvent(ctx.temporal, { taskQueue: ctx.config.temporal.taskQueue, outboundIdleMs: ctx.config.outboundIdleMs }, event);
    res.status(202).json({ eventId, workflowId: outboundWorkflowId(id), targets: targets.map((t) => t.label) });
  });

  router.get('/provisioning/quarantine', async (_req, res) => {
    const rows = await ctx.db.outboundConnector.findMany({
      where: { quarantinedAt: { not: null } },
      include: { idp: true },
      orderBy: { quarantinedAt: 'asc' },
    });
    const held = await ctx.db.provisioningAudit.groupBy({
      by: ['connectorId'],
      where: { connectorId: { in: rows.map((r) => r.id) }, outcome: 'held' },
      _count: { _all: true },
    });
    res.json(
      rows.map((r) => ({
        connectorId: r.id,
        identityProvider: r.idp.name,
        connectorType: r.type,
        since: r.quarantinedAt!.toISOString(),
        reason: r.quarantineReason,
        heldDeliveries: held.find((h) => h.connectorId === r.id)?._count._all ?? 0,
      })),
    );
  });

  // Resuming clears the quarantine, then tells every running OutboundFanOut, so held deliveries go on at once
  // (a fan-out that misses the signal looks again within minutes: see QUARANTINE_RECHECK).
  router.post('/provisioning/quarantine/:connectorId/resume', async (req, res) => {
    const connectorId = uuidParam(req, 'connectorId');
    const updated = await ctx.db.outboundConnector.updateMany({
      where: { id: connectorId, quarantinedAt: { not: null } },
      data: { quarantinedAt: null, quarantineReason: null },
    });
    if (updated.count === 0) {
      const exists = await ctx.db.outboundConnector.findUnique({ where: { id: connectorId }, select: { id: true } });
      throw exists ? new AdminError(409, 'conflict', 'The connector is not quarantined') : new AdminError(404, 'not_found', `No outbound connector '${connectorId}'`);
    }
    const signalledIds = new Set<string>();
    const signal = async (workflowId: string) => {
      if (signalledIds.has(workflowId)) return;
      try {
        await ctx.temporal.workflow.getHandle(workflowId).signal(resumeConnectorSignal, { connectorId });
        signalledIds.add(workflowId);
      } catch {
        // Completed in between: nothing held there.
      }
    };
    // First the fan-outs whose deliveries were audited `held` for this connector (the database knows them at once),
    // then every running fan-out the visibility store lists (it may lag behind a fan-out started a moment ago).
    const held = await ctx.db.provisioningAudit.findMany({ where: { connectorId, outcome: 'held' }, select: { workflowId: true }, distinct: ['workflowId'] });
    for (const { workflowId } of held) await signal(workflowId);
    // Listing may fail transiently (a busy visibility store): try a few times; held deliveries look at their
    // connector again within minutes anyway, so the resume itself (the database) already stands.
    let listError: unknown;
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        for await (const wf of ctx.temporal.workflow.list({ query: `WorkflowType = 'outboundFanOut' AND ExecutionStatus = 'Running'` })) {
          await signal(wf.workflowId);
        }
        listError = undefined;
        break;
      } catch (err) {
        listError = err;
        await new Promise((r) => setTimeout(r, 500 * attempt));
      }
    }
    if (listError) log.warn('resume: could not list the running fan-outs; they resume at their next check', { error: listError instanceof Error ? listError.message : 'unknown' });
    res.json({ connectorId, resumed: true, fanOutsSignalled: signalledIds.size, ...(listError !== undefined && { note: 'held deliveries resume within 5 minutes' }) });
  });

  router.get('/provisioning/audit', async (req, res) => {
    const q = req.query;
    const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
    const userId = str(q.userId);
    const connectorId = str(q.connectorId);
    if ((userId && !isUuid(userId)) || (connectorId && !isUuid(connectorId))) {
      throw new AdminError(400, 'invalid_request', 'userId and connectorId must be UUIDs');
    }
    const time = (name: 'from' | 'to') => {
      const v = str(q[name]);
      if (v === undefined) return undefined;
      const d = new Date(v);
      if (Number.isNaN(d.getTime())) throw new AdminError(400, 'invalid_request', `${name} must be an ISO 8601 date-time`);
      return d;
    };
    const from = time('from');
    const to = time('to');
    const outcome = str(q.outcome);
    // `applied`: a JIT login's own rows (operation jit-create, jit-update, jit-link; connectorId null).
    if (outcome && !['delivered', 'skipped', 'failed', 'held', 'denied', 'applied'].includes(outcome)) {
      throw new AdminError(400, 'invalid_request', 'outcome must be delivered, skipped, failed, held, denied or applied');
    }
    const limit = Math.min(Math.max(Number(str(q.limit) ?? 100) || 100, 1), 1000);
    const rows = await ctx.db.provisioningAudit.findMany({
      where: {
        ...(userId && { localId: userId }),
        ...(connectorId && { connectorId }),
        ...(outcome && { outcome }),
        ...(str(q.resourceType) && { resourceType: str(q.resourceType)! }),
        ...(str(q.operation) && { operation: str(q.operation)! }),
        ...((from ?? to) && { createdAt: { ...(from && { gte: from }), ...(to && { lte: to }) } }),
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
    const input = inputErrorOf(err, ADMIN_BODY_LIMIT);
    if (input) {
      res.status(input.status).json({ code: input.status === 413 ? 'too_large' : input.status === 415 ? 'unsupported_media_type' : 'invalid_request', message: input.message });
      return;
    }
    // A saturated database or engine: 503 + Retry-After, never 500 (src/http/saturation.ts).
    const saturated = saturatedAnswer(err, res, ctx.admission);
    if (saturated) {
      res.status(503).json({ code: 'unavailable', message: saturated.message });
      return;
    }
    // The engine could not be reached (a role change, a re-send, a reconciliation): the operator may retry.
    if ((err as { name?: unknown }).name === 'ServiceError') {
      log.warn('admin request: provisioning engine unavailable', { method: req.method, path: req.originalUrl, error: String((err as Error).message) });
      res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
      res.status(503).json({ code: 'unavailable', message: `The provisioning engine is unavailable; retry in ${RETRY_AFTER_SECONDS} s` });
      return;
    }
    // A value the database refuses (a NUL character, ...) is the request's fault, and no retry cures it.
    const refused = refusedValue(err, req.body);
    if (refused !== undefined) {
      res.status(400).json({ code: 'invalid_request', message: refused });
      return;
    }
    const e = err as { message?: string };
    log.error('admin request failed', { method: req.method, path: req.originalUrl, error: String(e.message ?? err) });
    res.status(500).json({ code: 'server_error', message: 'Internal server error' });
  });
  return router;
}
