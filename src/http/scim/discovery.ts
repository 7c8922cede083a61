/**
 * SCIM discovery (RFC 7644 §4): /ServiceProviderConfig, /ResourceTypes[/{name}], /Schemas[/{urn}], read-only.
 *
 * - The collections answer in ListResponse form with everything at once: RFC 7644 §4 says the query
 *   parameters of §3.4.2 (filtering, sorting, paging, attributes) SHALL be ignored, except that a `filter`
 *   SHOULD get 403 so a client cannot believe its conditions were applied. That applies to every endpoint here.
 * - /ResourceTypes lists User and Group (with the operator's extensions) and Role (WSO2's Roles API, fixed).
 * - /Schemas lists the resource schemas: core User, Enterprise User, Group, the operator's extensions and Role.
 *   Each carries only its own attributes, as in RFC 7643 §8.7.1 (id, externalId and meta are common to all
 *   resources, RFC 7643 §3.1, and not repeated in each schema).
 * - Other methods get 405 with `Allow: GET, HEAD`, as a SCIM error body, whatever the request's body.
 *
 * Mounted inside the SCIM router after its authentication (discovery needs the same credential as the rest) and
 * before its body parser (no handler here reads a body, so none is parsed, refused or waited for).
 */
import { Router, type NextFunction, type Request, type Response } from 'express';
import { ScimError } from '../../scim/errors.js';
import { ROLE_SCHEMA, roleResourceType, type AttributeDef, type ResourceTypeDef, type SchemaDef } from '../../scim/schema-defs.js';
import { SCHEMA_RESOURCE_TYPE, SCHEMA_SCHEMA, type SchemaRegistry } from '../../scim/schema-registry.js';
import { SCHEMA_LIST_RESPONSE } from '../../scim/schemas.js';
import { serviceProviderConfig } from '../../scim/service-provider.js';
import { sendScim } from './respond.js';

/** RFC 7643 §7 attribute representation, in the RFC's key order; optional characteristics only when set. */
export function attributeView(a: AttributeDef): Record<string, unknown> {
  return {
    name: a.name,
    type: a.type,
    ...(a.subAttributes && { subAttributes: a.subAttributes.map(attributeView) }),
    multiValued: a.multiValued,
    description: a.description,
    required: a.required,
    ...(a.canonicalValues && { canonicalValues: a.canonicalValues }),
    caseExact: a.caseExact,
    mutability: a.mutability,
    returned: a.returned,
    uniqueness: a.uniqueness,
    ...(a.referenceTypes && { referenceTypes: a.referenceTypes }),
  };
}

/** A Schema resource (RFC 7643 §7, example in §8.7.1). `scimBase` is the SCIM base URL, for meta.location. */
export function schemaView(schema: SchemaDef, scimBase: string): Record<string, unknown> {
  return {
    schemas: [SCHEMA_SCHEMA],
    id: schema.id,
    name: schema.name,
    description: schema.description,
    attributes: schema.attributes.map(attributeView),
    meta: { resourceType: 'Schema', location: `${scimBase}/Schemas/${schema.id}` },
  };
}

/** A ResourceType resource (RFC 7643 §6, example in §8.6). */
export function resourceTypeView(rt: ResourceTypeDef<string>, scimBase: string): Record<string, unknown> {
  return {
    schemas: [SCHEMA_RESOURCE_TYPE],
    id: rt.name,
    name: rt.name,
    endpoint: rt.endpoint,
    description: rt.description,
    schema: rt.schema.id,
    ...(rt.extensions.length > 0 && { schemaExtensions: rt.extensions.map((e) => ({ schema: e.schema.id, required: e.required })) }),
    meta: { resourceType: 'ResourceType', location: `${scimBase}/ResourceTypes/${rt.name}` },
  };
}

function listResponse(resources: unknown[]): Record<string, unknown> {
  return { schemas: [SCHEMA_LIST_RESPONSE], totalResults: resources.length, itemsPerPage: resources.length, startIndex: 1, Resources: resources };
}

/** RFC 7644 §4: "If a filter is provided, the service provider SHOULD respond with HTTP status code 403". */
function refuseFilter(req: Request, _res: Response, next: NextFunction): void {
  if (req.query.filter !== undefined) {
    next(new ScimError(403, 'Discovery endpoints cannot be filtered (RFC 7644 §4); request the whole collection'));
    return;
  }
  next();
}

function methodNotAllowed(req: Request, res: Response): void {
  res.setHeader('Allow', 'GET, HEAD');
  sendScim(res, 405, new ScimError(405, `${req.method} is not supported on ${req.baseUrl}${req.path}: discovery endpoints are read-only`).toBody());
}

/**
 * The discovery endpoints. `publicBaseUrl` is the server's public base (config.api.publicBaseUrl); the
 * router is meant to be mounted at `/scim2`, so locations are `${publicBaseUrl}/scim2/...`.
 */
export function discoveryRouter(registry: SchemaRegistry, publicBaseUrl: string): Router {
  const router = Router();
  const scimBase = `${publicBaseUrl.replace(/\/+$/, '')}/scim2`;

  router.get('/ServiceProviderConfig', refuseFilter, (_req, res) => {
    sendScim(res, 200, serviceProviderConfig(scimBase));
  });

  router.get('/ResourceTypes', refuseFilter, async (_req, res) => {
    const types: ResourceTypeDef<string>[] = [...(await registry.resourceTypes()), roleResourceType()];
    sendScim(res, 200, listResponse(types.map((rt) => resourceTypeView(rt, scimBase))));
  });

  router.get('/ResourceTypes/:name', refuseFilter, async (req, res) => {
    const name = String(req.params.name);
    const rt: ResourceTypeDef<string> | undefined = name.toLowerCase() === 'role' ? roleResourceType() : await registry.resourceType(name);
    if (!rt) throw new ScimError(404, `No resource type '${name}'`);
    sendScim(res, 200, resourceTypeView(rt, scimBase));
  });

  router.get('/Schemas', refuseFilter, async (_req, res) => {
    sendScim(res, 200, listResponse([...(await registry.schemas()), ROLE_SCHEMA].map((s) => schemaView(s, scimBase))));
  });

  router.get('/Schemas/:id', refuseFilter, async (req, res) => {
    const id = String(req.params.id);
    const schema = id.toLowerCase() === ROLE_SCHEMA.id.toLowerCase() ? ROLE_SCHEMA : await registry.schema(id);
    if (!schema) throw new ScimError(404, `No schema '${id}'`);
    sendScim(res, 200, schemaView(schema, scimBase));
  });

  for (const path of ['/ServiceProviderConfig', '/ResourceTypes', '/ResourceTypes/:name', '/Schemas', '/Schemas/:id']) {
    router.all(path, methodNotAllowed);
  }
  return router;
}
