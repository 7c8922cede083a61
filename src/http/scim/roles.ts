/**
 * /scim2/Roles: WSO2's SCIM 2.0 Roles API over this server's roles (src/userstore/roles.ts), guarded by WSO2's
 * scopes: `internal_role_mgt_create` (POST), `_view` (GET, list, .search), `_update` (PUT, PATCH: name,
 * permissions, users, groups), `_delete` (DELETE).
 *
 * - Lists filter on displayName only, with eq, co, sw or ew (what WSO2's role filter supports); startIndex and
 *   count page them; they sort by creation, or by displayName (`sortBy`; other attributes are 400).
 * - Every write is a RoleChange workflow (workflows/role-change.ts), as every user and group write is an
 *   InboundProvision: assigning a user to an outbound provisioning role provisions it.
 * - Roles span every user store domain: an application restricted to its own domain cannot manage them (403).
 */
import { Router, type NextFunction, type Request, type Response } from 'express';
import { runRoleChange } from '../../provisioning/role-changes.js';
import { ScimError, type ScimType } from '../../scim/errors.js';
import { parseFilter } from '../../scim/filter.js';
import { project, projectionOf } from '../../scim/projection.js';
import { parseRoleInput, parseRolePatch, toScimRole } from '../../scim/role-resource.js';
import { roleResourceType } from '../../scim/schema-defs.js';
import { SCHEMA_LIST_RESPONSE } from '../../scim/schemas.js';
import { SCIM_LIMITS, SCIM_PAGINATION } from '../../scim/service-provider.js';
import { intParam, notModified, requiredVersion, stringParam, type ListParams, type ScimResult } from '../../scim/service.js';
import { etagOf } from '../../scim/user-resource.js';
import { getRole, listRoles, type RoleChange, type RoleNameFilter } from '../../userstore/roles.js';
import { callerOf, hasScope, requireScope, type Caller } from '../auth.js';
import type { AppContext } from '../context.js';
import { preconditions, searchParams, send } from './resources.js';

export const ROLE_SCOPES = {
  create: 'internal_role_mgt_create',
  view: 'internal_role_mgt_view',
  update: 'internal_role_mgt_update',
  delete: 'internal_role_mgt_delete',
} as const;

/** A displayName filter, the only one roles offer (as in WSO2); anything else is 400 invalidFilter. */
function nameFilter(text: string | undefined): RoleNameFilter | undefined {
  if (text === undefined) return undefined;
  const f = parseFilter(text);
  if (
    f.kind !== 'compare' ||
    f.path.subAttribute !== undefined ||
    f.path.attribute.toLowerCase() !== 'displayname' ||
    (f.path.urn !== undefined && f.path.urn.toLowerCase() !== roleResourceType().schema.id.toLowerCase()) ||
    !['eq', 'co', 'sw', 'ew'].includes(f.op) ||
    typeof f.value !== 'string'
  ) {
    throw new ScimError(400, 'Roles can be filtered on displayName only, with eq, co, sw or ew and a string (e.g. displayName sw "hr-")', 'invalidFilter');
  }
  return { op: f.op as RoleNameFilter['op'], value: f.value };
}

/** Whether a response shows the assignments (they may be many: load them only when they are shown). */
function wantsAssignments(query: ListParams): boolean {
  const { attributes, excludedAttributes } = projectionOf(query);
  const names = (list: string[] | undefined, attr: 'users' | 'groups') =>
    list?.some((a) => new RegExp(`^(urn:ietf:params:scim:schemas:extension:2\\.0:role:)?${attr}(\\..*)?$`, 'i').test(a)) ?? false;
  if (attributes) return names(attributes, 'users') || names(attributes, 'groups');
  return !(names(excludedAttributes, 'users') && names(excludedAttributes, 'groups'));
}

function idParam(req: Request): string {
  const id = (req.params as Record<string, unknown>).id;
  return typeof id === 'string' ? id : '';
}

/**
 * Lists roles as a SCIM ListResponse, from list parameters (RFC 7644 §3.4.2): /Roles, /Roles/.search, and the
 * server root's /.search (src/http/scim/router.ts), where a filter on anything but displayName makes Roles contribute
 * nothing (its invalidFilter is skipped there, as for a type lacking the attribute).
 */
export function roleLister(ctx: AppContext): (params: ListParams) => Promise<ScimResult> {
  const rt = roleResourceType();
  return async (params) => {
    const sortBy = stringParam(params.sortBy, 'sortBy');
    if (sortBy !== undefined && !/^(urn:ietf:params:scim:schemas:extension:2\.0:role:)?displayName$/i.test(sortBy)) {
      throw new ScimError(400, `Invalid sortBy '${sortBy}': roles sort by displayName only`, 'invalidValue');
    }
    const sortOrder = stringParam(params.sortOrder, 'sortOrder');
    if (sortOrder !== undefined && !/^(ascending|descending)$/i.test(sortOrder)) throw ScimError.badRequest("sortOrder must be 'ascending' or 'descending'");
    if (params.cursor !== undefined) throw new ScimError(400, 'Roles are paged with startIndex and count, not cursors', 'invalidValue');
    const count = Math.min(Math.max(intParam(params.count, 'count') ?? SCIM_PAGINATION.defaultPageSize, 0), SCIM_LIMITS.filterMaxResults);
    const startIndex = Math.max(intParam(params.startIndex, 'startIndex') ?? 1, 1);
    const { total, roles } = await listRoles(ctx.db, {
      name: nameFilter(stringParam(params.filter, 'filter')),
      startIndex,
      count,
      ...(sortBy !== undefined && { byName: sortOrder?.toLowerCase() === 'descending' ? ('desc' as const) : ('asc' as const) }),
    });
    const resources = roles.map((r) => project(toScimRole(r, ctx.config.api.publicBaseUrl), rt, projectionOf(params)));
    return {
      status: 200,
      body: { schemas: [SCHEMA_LIST_RESPONSE], totalResults: total, startIndex, itemsPerPage: resources.length, Resources: resources },
    };
  };
}

/** Whether a caller may see roles: the view scope, and not confined to one user store domain (roles span them all). */
export function mayViewRoles(caller: Caller): boolean {
  return hasScope(caller, [ROLE_SCOPES.view]) && !('domain' in caller.inbound && caller.inbound.restricted);
}

export function rolesRouter(ctx: AppContext): Router {
  const router = Router();
  const base = ctx.config.api.publicBaseUrl;
  const rt = roleResourceType();
  const render = (role: Parameters<typeof toScimRole>[0], query: ListParams) => project(toScimRole(role, base), rt, projectionOf(query));

  router.use((_req: Request, res: Response, next: NextFunction) => {
    const inbound = callerOf(res).inbound;
    if ('domain' in inbound && inbound.restricted) {
      next(new ScimError(403, `Roles span every user store domain; this application is restricted to user store domain ${inbound.domain}`));
      return;
    }
    next();
  });

  const current = async (id: string) => {
    const role = await getRole(ctx.db, id, { assignments: false });
    if (!role) throw ScimError.notFound('Role', id);
    return role;
  };

  const change = async (res: Response, roleId: string | undefined, roleChange: RoleChange) => {
    const caller = callerOf(res);
    const result = await runRoleChange(ctx.temporal, ctx.config.temporal.taskQueue, { roleId, change: roleChange, initiator: caller.initiator });
    if (!result.ok) throw new ScimError(result.rejection.status, result.rejection.detail, result.rejection.scimType as ScimType | undefined);
    return result.role;
  };

  const answer = async (id: string, status: number, query: ListParams, headers: Record<string, string> = {}): Promise<ScimResult> => {
    const role = await getRole(ctx.db, id, { assignments: wantsAssignments(query) });
    if (!role) throw ScimError.notFound('Role', id);
    return { status, body: render(role, query), headers: { ETag: etagOf(role.version), ...headers } };
  };

  const list = roleLister(ctx);

  router.post('/', requireScope(ROLE_SCOPES.create), async (req, res) => {
    const input = parseRoleInput(req.body);
    const role = await change(res, undefined, { operation: 'create', input });
    send(res, await answer(role.id, 201, req.query, { Location: `${base}/scim2/Roles/${role.id}` }));
  });
  router.get('/', requireScope(ROLE_SCOPES.view), async (req, res) => {
    send(res, await list(req.query));
  });
  router.post('/.search', requireScope(ROLE_SCOPES.view), async (req, res) => {
    send(res, await list(searchParams(req.body)));
  });
  router.get('/:id', requireScope(ROLE_SCOPES.view), async (req, res) => {
    const role = await current(idParam(req));
    send(res, notModified(preconditions(req), role.version) ?? (await answer(role.id, 200, req.query)));
  });
  router.put('/:id', requireScope(ROLE_SCOPES.update), async (req, res) => {
    const role = await current(idParam(req));
    const ifMatchVersion = requiredVersion(preconditions(req), role);
    // The SCIM Role has no description; a PUT keeps the one set through the admin API.
    const input = { ...parseRoleInput(req.body), description: role.description };
    await change(res, role.id, { operation: 'replace', input, ifMatchVersion });
    send(res, await answer(role.id, 200, req.query));
  });
  router.patch('/:id', requireScope(ROLE_SCOPES.update), async (req, res) => {
    const role = await current(idParam(req));
    const ifMatchVersion = requiredVersion(preconditions(req), role);
    const patch = parseRolePatch(req.body);
    await change(res, role.id, { operation: 'patch', patch, ifMatchVersion });
    send(res, await answer(role.id, 200, req.query));
  });
  router.delete('/:id', requireScope(ROLE_SCOPES.delete), async (req, res) => {
    const role = await current(idParam(req));
    const ifMatchVersion = requiredVersion(preconditions(req), role);
    await change(res, role.id, { operation: 'delete', ifMatchVersion });
    res.status(204).end();
  });
  return router;
}
