/**
 * The SCIM 1.1 service provider (SCIM Protocol 1.1, Core Schema 1.1), mounted at /wso2/scim where WSO2 IS
 * serves it: /Users and /Groups with POST, GET (by id, and lists with `filter`), PUT, PATCH and DELETE, and the
 * read-only /ServiceProviderConfigs and /Schemas[/Users|/Groups] (src/scim/scim11-discovery.ts).
 *
 * It is a translation layer over ScimService, never a second implementation: each request's 1.1 JSON, filter
 * and PATCH become their 2.0 equivalents (src/scim/scim11.ts, src/scim/scim11-filter.ts, ./patch.ts), the
 * operation runs exactly as a /scim2 one does (every write through the InboundProvision workflow, so outbound
 * provisioning follows), and the 2.0 answer goes back in 1.1 form: `schemas: ["urn:scim:schemas:core:1.0"]`,
 * meta.location under this base path, errors as `{"Errors": [{"description", "code"}]}`. Authentication and
 * scopes are those of /scim2 (scimAuthenticate, requireScope, SCOPES); audit records name the channel scim11.
 */
import { Router, type NextFunction, type Request, type Response } from 'express';
import { isObject, errorBody11, resourceFrom11, resourceTo11, SCIM11_CORE, attributePathTo20 } from '../../scim/scim11.js';
import type { Logger } from '../../log.js';
import { ScimError } from '../../scim/errors.js';
import { SchemaRegistry } from '../../scim/schema-registry.js';
import { SCHEMA_ERROR } from '../../scim/schemas.js';
import { schema11, serviceProviderConfigs11 } from '../../scim/scim11-discovery.js';
import { scim11FilterDialect } from '../../scim/scim11-filter.js';
import type { ListParams, ScimResult, ScimService } from '../../scim/service.js';
import { callerOf, requireScope, scimAuthenticate, throttledMessage } from '../auth.js';
import type { AppContext } from '../context.js';
import { jsonBody } from '../input.js';
import { preconditions, SCOPES } from '../scim/resources.js';
import { createScimService, SCIM_BODY_LIMIT, SCIM_JSON_TYPES, scimErrorOf } from '../scim/router.js';
import { writeRequests } from '../scim/write-request.js';
import { RETRY_AFTER_SECONDS } from '../health.js';
import { saturatedAnswer } from '../saturation.js';
import { admitWrites } from '../write-admission.js';
import { patchTo20 } from './patch.js';

type ResourceType = 'User' | 'Group';
type Json = Record<string, unknown>;

const CHANNEL = 'scim11';
const PATHS: Record<ResourceType, string> = { User: 'Users', Group: 'Groups' };

/** Sends a SCIM 1.1 error (SCIM Protocol 1.1 §3.9). */
function sendError11(res: Response, status: number, description: string): void {
  res.status(status).type('application/json').send(JSON.stringify(errorBody11(status, description)));
}

/**
 * The one place where a SCIM 2.0 error body written by the middleware this router shares with /scim2
 * (requireScope's 403) becomes a SCIM 1.1 one; everything this router writes itself is already 1.1.
 */
export function errorsIn11(_req: Request, res: Response, next: NextFunction): void {
  const send = res.send.bind(res);
  res.send = ((body?: unknown) => {
    if (typeof body === 'string' && res.statusCode >= 400 && /scim\+json/i.test(String(res.getHeader('content-type') ?? ''))) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        parsed = undefined;
      }
      if (isObject(parsed) && Array.isArray(parsed.schemas) && parsed.schemas.includes(SCHEMA_ERROR)) {
        res.type('application/json');
        return send(JSON.stringify(errorBody11(res.statusCode, typeof parsed.detail === 'string' ? parsed.detail : 'Error')));
      }
    }
    return send(body);
  }) as Response['send'];
  next();
}

/** The SCIM 1.1 base URL of this request (`https://host/wso2/scim`), for meta.location and Location. */
function base11(res: Response): string {
  return res.locals.scim11Base as string;
}

function idParam(req: Request): string {
  const id = (req.params as Record<string, unknown>).id;
  return typeof id === 'string' ? id : '';
}

function stringOf(v: unknown, name: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw ScimError.badRequest(`${name} must be given once, as a string`);
  return v;
}

/**
 * The query parameters of SCIM 1.1 (SCIM Protocol 1.1 §3.2: filter, sortBy, sortOrder, startIndex, count,
 * attributes) as ScimService's ListParams: attribute names in 2.0 form. The filter stays in 1.1 form: this
 * router's ScimService reads it in the SCIM 1.1 dialect (src/scim/scim11-filter.ts).
 */
export function listParamsTo20(query: Record<string, unknown>, type: ResourceType): ListParams {
  const filter = stringOf(query.filter, 'filter');
  const sortBy = stringOf(query.sortBy, 'sortBy');
  const attributes = stringOf(query.attributes, 'attributes');
  return {
    ...(filter !== undefined && { filter }),
    ...(sortBy !== undefined && { sortBy: attributePathTo20(sortBy, type) }),
    ...(query.sortOrder !== undefined && { sortOrder: query.sortOrder }),
    ...(query.startIndex !== undefined && { startIndex: query.startIndex }),
    ...(query.count !== undefined && { count: query.count }),
    ...(attributes !== undefined && {
      attributes: attributes
        .split(',')
        .map((a) => a.trim())
        .filter((a) => a !== '')
        .map((a) => attributePathTo20(a, type))
        .join(','),
    }),
  };
}

/** A 2.0 resource as ScimService rendered it, in 1.1 form, located under this base path. */
function resource11(body: Json, type: ResourceType, base: string): Json {
  const meta = isObject(body.meta) ? body.meta : undefined;
  // Proxy mode renders no location (nothing is stored here to read back): none in 1.1 either.
  const location = meta?.location !== undefined && typeof body.id === 'string' ? `${base}/${PATHS[type]}/${body.id}` : undefined;
  return resourceTo11(body, location);
}

/** Sends a ScimService result in SCIM 1.1 form. */
function send11(res: Response, result: ScimResult, type: ResourceType, opts: { deleted?: boolean } = {}): void {
  const base = base11(res);
  for (const [k, v] of Object.entries(result.headers ?? {})) res.setHeader(k, v);
  if (result.plain && result.body !== undefined) {
    // The status of a write still being applied: no resource to translate or locate here.
    res.status(result.status).json(result.body);
    return;
  }
  if (result.headers?.Location !== undefined && isObject(result.body) && typeof result.body.id === 'string') {
    res.setHeader('Location', `${base}/${PATHS[type]}/${result.body.id}`);
  }
  // SCIM Protocol 1.1 §3.5: "Service Providers MUST return a 200 OK" on a successful DELETE.
  const status = opts.deleted && result.status === 204 ? 200 : result.status;
  if (result.body === undefined) {
    res.status(status).end();
    return;
  }
  const body = result.body;
  const out = Array.isArray(body.Resources)
    ? {
        schemas: [SCIM11_CORE],
        totalResults: body.totalResults,
        itemsPerPage: body.itemsPerPage,
        startIndex: body.startIndex,
        Resources: (body.Resources as unknown[]).map((r) => (isObject(r) ? resource11(r, type, base) : r)),
      }
    : resource11(body, type, base);
  res.status(status).type('application/json').send(JSON.stringify(out));
}

function resources11(service: ScimService, type: ResourceType): Router {
  const router = Router();
  const scopes = SCOPES[type];
  const user = type === 'User';

  router.post('/', requireScope(scopes.create), async (req, res) => {
    const body = resourceFrom11(req.body, type);
    const q = listParamsTo20(req.query, type);
    send11(res, user ? await service.createUser(callerOf(res), body, q) : await service.createGroup(callerOf(res), body, q), type);
  });
  router.get('/', requireScope(scopes.list), async (req, res) => {
    send11(res, await service.list(callerOf(res), type, listParamsTo20(req.query, type)), type);
  });
  router.get('/:id', requireScope(scopes.view), async (req, res) => {
    const q = listParamsTo20(req.query, type);
    const pre = preconditions(req);
    const c = callerOf(res);
    send11(res, user ? await service.getUser(c, idParam(req), q, pre) : await service.getGroup(c, idParam(req), q, pre), type);
  });
  router.put('/:id', requireScope(scopes.update), async (req, res) => {
    const body = resourceFrom11(req.body, type);
    const q = listParamsTo20(req.query, type);
    const pre = preconditions(req);
    const c = callerOf(res);
    send11(res, user ? await service.replaceUser(c, idParam(req), body, pre, q) : await service.replaceGroup(c, idParam(req), body, pre, q), type);
  });
  router.patch('/:id', requireScope(scopes.update), async (req, res) => {
    const patch = patchTo20(req.body, type);
    const q = listParamsTo20(req.query, type);
    const pre = preconditions(req);
    const c = callerOf(res);
    const id = idParam(req);
    if (patch.Operations.length === 0) {
      // A partial resource that changes nothing: the resource as it is (RFC 7644 needs at least one operation).
      send11(res, user ? await service.getUser(c, id, q) : await service.getGroup(c, id, q), type);
      return;
    }
    send11(res, user ? await service.patchUser(c, id, patch, pre, q) : await service.patchGroup(c, id, patch, pre, q), type);
  });
  router.delete('/:id', requireScope(scopes.delete), async (req, res) => {
    const pre = preconditions(req);
    const c = callerOf(res);
    send11(res, user ? await service.deleteUser(c, idParam(req), pre) : await service.deleteGroup(c, idParam(req), pre), type, { deleted: true });
  });
  return router;
}

/** 405 for anything but GET and HEAD on the read-only discovery endpoints, whatever the request's body. */
function methodNotAllowed11(req: Request, res: Response): void {
  res.setHeader('Allow', 'GET, HEAD');
  sendError11(res, 405, `${req.method} is not supported on ${req.baseUrl}${req.path}: it is read-only`);
}

/**
 * /ServiceProviderConfigs and /Schemas[/Users|/Groups]. Mounted before the body parser: they read no body, so a
 * write to them is 405 whatever it carries.
 */
function discovery11(registry: SchemaRegistry): Router {
  const router = Router();
  const send = (res: Response, body: unknown) => res.status(200).type('application/json').send(JSON.stringify(body));
  const resourceType = async (name: string) => {
    const lower = name.toLowerCase();
    // `/Schemas/Users` as SCIM Protocol 1.1 writes it; the resource name and the 1.1 schema id work too.
    return (await registry.resourceTypes()).find((rt) =>
      [rt.endpoint.slice(1), rt.name, `${SCIM11_CORE}:${rt.name}`].some((n) => n.toLowerCase() === lower),
    );
  };
  router.get('/ServiceProviderConfigs', (_req, res) => send(res, serviceProviderConfigs11()));
  router.get('/Schemas', async (_req, res) => {
    const schemas = (await registry.resourceTypes()).map((rt) => schema11(rt, base11(res)));
    send(res, { schemas: [SCIM11_CORE], totalResults: schemas.length, itemsPerPage: schemas.length, startIndex: 1, Resources: schemas });
  });
  router.get('/Schemas/:name', async (req, res) => {
    const name = String(req.params.name);
    const rt = await resourceType(name);
    if (!rt) {
      sendError11(res, 404, `No schema '${name}': this endpoint serves /Schemas/Users and /Schemas/Groups`);
      return;
    }
    send(res, schema11(rt, base11(res)));
  });
  for (const path of ['/ServiceProviderConfigs', '/Schemas', '/Schemas/:name']) router.all(path, methodNotAllowed11);
  return router;
}

/**
 * The SCIM 1.1 router. Mount it at /wso2/scim (`app.use('/wso2/scim', scim11Router(ctx, log))`); locations
 * follow the mount path.
 */
export function scim11Router(ctx: AppContext, log: Logger): Router {
  const router = Router();
  router.use(errorsIn11);
  router.use(
    scimAuthenticate(
      ctx,
      (res) => sendError11(res, 401, 'Authentication required: valid credentials were not supplied'),
      (res, seconds) => sendError11(res, 429, throttledMessage(seconds)),
    ),
  );
  router.use((req: Request, res: Response, next: NextFunction) => {
    // The same caller as /scim2, but audit records and workflow labels name the channel it came through.
    const caller = callerOf(res);
    res.locals.caller = {
      ...caller,
      initiator: { ...caller.initiator, channel: CHANNEL, label: caller.initiator.label.replace(/ via scim2$/, ` via ${CHANNEL}`) },
    };
    res.locals.scim11Base = `${ctx.config.api.publicBaseUrl}${req.baseUrl}`;
    next();
  });
  const schemas = SchemaRegistry.for(ctx.db);
  router.use(discovery11(schemas));
  router.use(jsonBody({ type: SCIM_JSON_TYPES, limit: SCIM_BODY_LIMIT }));
  router.use(writeRequests(ctx.config.requestTimeoutMs));
  // The same bound as /scim2's (one per process), refusals in SCIM 1.1's error body.
  router.use(admitWrites(ctx.admission, 'scim11'));
  const service = createScimService(ctx, log, { filterDialect: scim11FilterDialect });
  router.use('/Users', resources11(service, 'User'));
  router.use('/Groups', resources11(service, 'Group'));
  router.use((req: Request, res: Response) => {
    sendError11(res, 404, `No SCIM 1.1 endpoint at ${req.method} ${req.originalUrl}`);
  });
  router.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof ScimError) for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
    const saturated = saturatedAnswer(err, res, ctx.admission);
    if (saturated) return sendError11(res, saturated.status, saturated.message);
    const [status, body] = scimErrorOf(err, req, log);
    if (status === 503 && !res.hasHeader('Retry-After')) res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    sendError11(res, status, typeof body.detail === 'string' ? body.detail : 'Error');
  });
  return router;
}
