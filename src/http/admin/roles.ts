/**
 * Roles in the admin API (mounted by src/http/admin/router.ts, which lists the endpoints): WSO2's role model of
 * permissions on API resources (this server's API scopes) assigned to users and groups. Every write is a
 * RoleChange workflow (workflows/role-change.ts says why), like the same writes through SCIM /Roles.
 *
 * @example
 *   POST /api/server/v1/roles
 *   { "name": "user-admins", "permissions": ["internal_user_mgt_view", "internal_user_mgt_update"], "users": ["<user id>"] }
 */
import { Router, type Response } from 'express';
import { z } from 'zod';
import { API_SCOPES, EVERYONE_SCOPES } from '../oauth/scopes.js';
import { AdminError, parseInput } from '../../provisioning/connectors.js';
import { RESIDENT_APPLICATION_ID } from '../../provisioning/defaults.js';
import { runRoleChange } from '../../provisioning/role-changes.js';
import { getRole, listRoles, rolesOfUser, type RoleChange, type RoleRecord } from '../../userstore/roles.js';
import { userAccess } from '../../userstore/user-access.js';
import { getUser, isUuid } from '../../userstore/users.js';
import type { AppContext } from '../context.js';

/** Roles one GET /roles answers with; WSO2 deployments have tens. */
const LIST_LIMIT = 1000;
/** Users or groups one request may name. */
const MAX_IDS = 10_000;

const ids = z.array(z.string().uuid({ message: 'expected a UUID' })).max(MAX_IDS);
const roleFields = {
  name: z.string().trim().min(1).max(255),
  description: z.string().max(1024).nullable(),
  permissions: z.array(z.enum(API_SCOPES, { message: `unknown permission; the API scopes are: ${API_SCOPES.join(', ')}` })).max(API_SCOPES.length * 2),
  users: ids,
  groups: ids,
};

/** `POST /roles` */
export const roleInput = z
  .object({
    ...roleFields,
    description: roleFields.description.optional(),
    permissions: roleFields.permissions.default([]),
    users: roleFields.users.default([]),
    groups: roleFields.groups.default([]),
  })
  .strict();

/** `PATCH /roles/{id}`: any field; a list given replaces the role's list. */
export const rolePatchInput = z.object(roleFields).partial().strict();

const usersInput = z.object({ users: ids.min(1) }).strict();
const groupsInput = z.object({ groups: ids.min(1) }).strict();

export function roleView(role: RoleRecord) {
  return {
    id: role.id,
    name: role.name,
    externalId: role.externalId ?? null,
    description: role.description ?? null,
    permissions: role.permissions,
    ...(role.users && { users: role.users.map((u) => ({ id: u.value, name: u.display })) }),
    ...(role.groups && { groups: role.groups.map((g) => ({ id: g.value, name: g.display })) }),
    version: role.version,
    created: role.created,
    lastModified: role.lastModified,
  };
}

const CODES: Record<number, string> = { 400: 'invalid_request', 404: 'not_found', 409: 'conflict', 412: 'precondition_failed' };

export function rolesAdminRouter(ctx: AppContext): Router {
  const router = Router();
  const initiator = { applicationId: RESIDENT_APPLICATION_ID, channel: 'admin-api', label: `${ctx.admin.username} via admin-api` };

  const roleId = (param: unknown): string => {
    if (typeof param !== 'string' || !isUuid(param)) throw new AdminError(404, 'not_found', `No role with id '${String(param)}'`);
    return param.toLowerCase();
  };

  const run = async (id: string | undefined, change: RoleChange): Promise<RoleRecord> => {
    const result = await runRoleChange(ctx.temporal, ctx.config.temporal.taskQueue, { roleId: id, change, initiator });
    if (!result.ok) throw new AdminError(result.rejection.status, CODES[result.rejection.status] ?? 'invalid_request', result.rejection.detail);
    return result.role;
  };

  const show = async (res: Response, id: string, status = 200) => {
    const role = await getRole(ctx.db, id);
    if (!role) throw new AdminError(404, 'not_found', `Role ${id} not found`);
    res.status(status).json(roleView(role));
  };

  const existing = async (id: string): Promise<RoleRecord> => {
    const role = await getRole(ctx.db, id, { assignments: false });
    if (!role) throw new AdminError(404, 'not_found', `Role ${id} not found`);
    return role;
  };

  router.post('/roles', async (req, res) => {
    const input = parseInput(roleInput, req.body);
    const role = await run(undefined, { operation: 'create', input: { ...input, description: input.description ?? undefined } });
    res.location(`${ctx.config.api.publicBaseUrl}/api/server/v1/roles/${role.id}`);
    await show(res, role.id, 201);
  });

  router.get('/roles', async (_req, res) => {
    const { roles } = await listRoles(ctx.db, { startIndex: 1, count: LIST_LIMIT });
    res.json(roles.map(roleView));
  });

  router.get('/roles/:id', async (req, res) => {
    await show(res, roleId(req.params.id));
  });

  router.patch('/roles/:id', async (req, res) => {
    const id = roleId(req.params.id);
    const input = parseInput(rolePatchInput, req.body);
    await existing(id);
    await run(id, {
      operation: 'patch',
      patch: {
        name: input.name,
        description: input.description,
        operations: [
          ...(input.permissions ? [{ attribute: 'permissions' as const, op: 'replace' as const, values: input.permissions }] : []),
          ...(input.users ? [{ attribute: 'users' as const, op: 'replace' as const, values: input.users }] : []),
          ...(input.groups ? [{ attribute: 'groups' as const, op: 'replace' as const, values: input.groups }] : []),
        ],
      },
    });
    await show(res, id);
  });

  router.delete('/roles/:id', async (req, res) => {
    const id = roleId(req.params.id);
    await existing(id);
    await run(id, { operation: 'delete' });
    res.status(204).end();
  });

  // Assigning and unassigning, one kind at a time (WSO2's console does the same through its Roles API PATCH).
  for (const kind of ['users', 'groups'] as const) {
    router.post(`/roles/:id/${kind}`, async (req, res) => {
      const id = roleId(req.params.id);
      const body = kind === 'users' ? parseInput(usersInput, req.body).users : parseInput(groupsInput, req.body).groups;
      await existing(id);
      await run(id, { operation: 'patch', patch: { operations: [{ attribute: kind, op: 'add', values: body }] } });
      await show(res, id);
    });
    router.delete(`/roles/:id/${kind}/:memberId`, async (req, res) => {
      const id = roleId(req.params.id);
      const memberId = req.params.memberId;
      if (typeof memberId !== 'string' || !isUuid(memberId)) throw new AdminError(404, 'not_found', `No ${kind === 'users' ? 'user' : 'group'} '${String(memberId)}'`);
      const role = await getRole(ctx.db, id);
      if (!role) throw new AdminError(404, 'not_found', `Role ${id} not found`);
      if (!(role[kind] ?? []).some((m) => m.value === memberId.toLowerCase())) {
        throw new AdminError(404, 'not_found', `Role ${role.name} has no ${kind === 'users' ? 'user' : 'group'} ${memberId} assigned`);
      }
      await run(id, { operation: 'patch', patch: { operations: [{ attribute: kind, op: 'remove', values: [memberId] }] } });
      res.status(204).end();
    });
  }

  // What a user holds: its roles (directly or through which groups) and the scopes a password-grant token of
  // its gets at most (the application's own scopes narrow it further).
  router.get('/users/:id/roles', async (req, res) => {
    const id = req.params.id;
    const user = typeof id === 'string' ? await getUser(ctx.db, id) : undefined;
    if (!user) throw new AdminError(404, 'not_found', `No user '${String(id)}'`);
    const [held, access] = await Promise.all([rolesOfUser(ctx.db, user.id), userAccess(ctx.db, user.id)]);
    res.json({
      userId: user.id,
      roles: held.map((h) => ({ id: h.role.id, name: h.role.name, direct: h.direct, viaGroups: h.viaGroups.map((g) => ({ id: g.value, name: g.display })) })),
      permissions: [...new Set([...EVERYONE_SCOPES, ...(access?.permissions ?? [])])].sort(),
    });
  });

  return router;
}
