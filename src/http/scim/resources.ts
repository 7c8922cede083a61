/**
 * /scim2/Users and /scim2/Groups (RFC 7644 §3.3-§3.6, §3.4.3 .search), thin over ScimService: each route
 * checks the caller's scope (WSO2's names), reads the request's parts and sends the result.
 */
import { Router, type Request, type Response } from 'express';
import type { ListParams, Preconditions, ScimResult, ScimService } from '../../scim/service.js';
import type { ResourceTypeName } from '../../scim/schema-defs.js';
import { ScimError } from '../../scim/errors.js';
import { callerOf, requireScope, type Caller } from '../auth.js';
import { sendScim } from './respond.js';

/** The scopes each SCIM operation needs (WSO2's API resource scopes). */
export const SCOPES = {
  User: {
    create: 'internal_user_mgt_create',
    view: 'internal_user_mgt_view',
    list: 'internal_user_mgt_list',
    update: 'internal_user_mgt_update',
    delete: 'internal_user_mgt_delete',
  },
  Group: {
    create: 'internal_group_mgt_create',
    view: 'internal_group_mgt_view',
    list: 'internal_group_mgt_list',
    update: 'internal_group_mgt_update',
    delete: 'internal_group_mgt_delete',
  },
} as const;

export function preconditions(req: Request): Preconditions {
  const header = (name: string) => {
    const v = req.headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  };
  return { ifMatch: header('if-match'), ifNoneMatch: header('if-none-match') };
}

function idParam(req: Request): string {
  const id = (req.params as Record<string, unknown>).id;
  return typeof id === 'string' ? id : '';
}

export function send(res: Response, result: ScimResult): void {
  for (const [k, v] of Object.entries(result.headers ?? {})) res.setHeader(k, v);
  if (result.body === undefined) {
    res.status(result.status).end();
    return;
  }
  if (result.plain) {
    res.status(result.status).json(result.body);
    return;
  }
  sendScim(res, result.status, result.body);
}

/** A .search body (RFC 7644 §3.4.3): the SearchRequest schema with the list parameters as members. */
export function searchParams(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw ScimError.badRequest('The search request must be a JSON object', 'invalidSyntax');
  }
  const b = body as Record<string, unknown>;
  const schemas = b.schemas;
  if (!Array.isArray(schemas) || !schemas.includes('urn:ietf:params:scim:api:messages:2.0:SearchRequest')) {
    throw ScimError.badRequest("A search request's schemas must contain urn:ietf:params:scim:api:messages:2.0:SearchRequest", 'invalidSyntax');
  }
  const list = (v: unknown, name: string) => {
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw ScimError.badRequest(`${name} must be an array of strings`);
    return v.join(',');
  };
  return {
    filter: b.filter,
    startIndex: b.startIndex,
    count: b.count,
    sortBy: b.sortBy,
    sortOrder: b.sortOrder,
    cursor: b.cursor,
    attributes: list(b.attributes, 'attributes'),
    excludedAttributes: list(b.excludedAttributes, 'excludedAttributes'),
  };
}

export function resourceRouter(service: ScimService, type: ResourceTypeName): Router {
  const router = Router();
  const scopes = SCOPES[type];
  const user = type === 'User';
  const bound = {
    create: (c: Caller, body: unknown, q: ListParams) => (user ? service.createUser(c, body, q) : service.createGroup(c, body, q)),
    get: (c: Caller, id: string, q: ListParams, p: Preconditions) => (user ? service.getUser(c, id, q, p) : service.getGroup(c, id, q, p)),
    replace: (c: Caller, id: string, body: unknown, p: Preconditions, q: ListParams) =>
      user ? service.replaceUser(c, id, body, p, q) : service.replaceGroup(c, id, body, p, q),
    patch: (c: Caller, id: string, body: unknown, p: Preconditions, q: ListParams) =>
      user ? service.patchUser(c, id, body, p, q) : service.patchGroup(c, id, body, p, q),
    remove: (c: Caller, id: string, p: Preconditions) => (user ? service.deleteUser(c, id, p) : service.deleteGroup(c, id, p)),
  };

  router.post('/', requireScope(scopes.create), async (req, res) => {
    send(res, await bound.create(callerOf(res), req.body, req.query));
  });
  router.get('/', requireScope(scopes.list), async (req, res) => {
    send(res, await service.list(callerOf(res), type, req.query));
  });
  router.post('/.search', requireScope(scopes.list), async (req, res) => {
    send(res, await service.list(callerOf(res), type, searchParams(req.body)));
  });
  router.get('/:id', requireScope(scopes.view), async (req, res) => {
    send(res, await bound.get(callerOf(res), idParam(req), req.query, preconditions(req)));
  });
  router.put('/:id', requireScope(scopes.update), async (req, res) => {
    send(res, await bound.replace(callerOf(res), idParam(req), req.body, preconditions(req), req.query));
  });
  router.patch('/:id', requireScope(scopes.update), async (req, res) => {
    send(res, await bound.patch(callerOf(res), idParam(req), req.body, preconditions(req), req.query));
  });
  router.delete('/:id', requireScope(scopes.delete), async (req, res) => {
    send(res, await bound.remove(callerOf(res), idParam(req), preconditions(req)));
  });
  return router;
}

/**
 * /scim2/Me (RFC 7644 §3.11): the authenticated user's own resource, for tokens issued to a user (password
 * grant). Operators authenticated with the admin credential are not SCIM users: 404 says so.
 */
export function meRouter(service: ScimService): Router {
  const router = Router();
  const self = (res: Response): string => {
    const userId = callerOf(res).userId;
    if (userId === undefined) throw new ScimError(404, 'The authenticated subject is not a user of this server: /Me needs a token issued to a user');
    return userId;
  };
  router.use(requireScope('internal_login'));
  router.get('/', async (req, res) => {
    send(res, await service.getUser(callerOf(res), self(res), req.query, preconditions(req)));
  });
  router.put('/', async (req, res) => {
    send(res, await service.replaceUser(callerOf(res), self(res), req.body, preconditions(req), req.query));
  });
  router.patch('/', async (req, res) => {
    send(res, await service.patchUser(callerOf(res), self(res), req.body, preconditions(req), req.query));
  });
  router.delete('/', async (req, res) => {
    send(res, await service.deleteUser(callerOf(res), self(res), preconditions(req)));
  });
  router.post('/', () => {
    throw new ScimError(501, 'Self-registration through POST /Me is not supported; an application creates users with POST /Users');
  });
  return router;
}
