/**
 * SCIM 1.1 discovery resources, built from the same schemas as data as SCIM 2.0's (schema-defs.ts and the
 * operator's extensions), so /wso2/scim and /scim2 describe one server:
 *
 * - /ServiceProviderConfigs (SCIM Core Schema 1.1, "Service Provider Configuration Schema");
 * - /Schemas/{Users|Groups} (SCIM Protocol 1.1, "Service Provider Configuration Endpoints": `/Schemas` "is used to
 *   retrieve information about resource schemas supported by a SCIM Service Provider", resource specific, e.g.
 *   `/Schemas/Users`), in the representation of the Core Schema 1.1's schema for resource schemas: the
 *   resource's `id` (`urn:scim:schemas:core:1.0:User`), `name`, `description`, `schema` (the core URN), `endpoint`,
 *   and one list of `attributes`, the common ones (id, externalId, meta) and the extensions' included, each with
 *   its `schema` URN and the 1.1 characteristics `readOnly`, `required`, `caseExact`, `multiValued` with
 *   `multiValuedAttributeChildName`, `canonicalValues`, `subAttributes`.
 *
 * What SCIM 1.1 lacks is left out or mapped: `$ref` sub-attributes and `meta.resourceType` are not 1.1; type
 * `reference` is a 1.1 `string`; 2.0's mutability becomes `readOnly` (readOnly only); `meta.attributes` (the PATCH
 * removal list of SCIM Protocol 1.1 §3.3.2) is added; the enterprise extension has its 1.1 URN and its manager's
 * `managerId` (scim11.ts). WSO2 IS's own /wso2/scim serves no /Schemas; clients of other 1.1 service providers
 * (UnboundID's SCIM SDK 1.x) read it.
 */
import { COMMON_ATTRIBUTES, ENTERPRISE_USER_SCHEMA, type AttributeDef, type ResourceTypeDef, type SchemaDef } from './schema-defs.js';
import { SCIM11_CORE, SCIM11_ENTERPRISE } from './scim11.js';
import { SCHEMA_ENTERPRISE_USER } from './schemas.js';
import { SCIM_LIMITS } from './service-provider.js';

type Json = Record<string, unknown>;

/** SCIM 1.1 /ServiceProviderConfigs (Core Schema 1.1): what the /wso2/scim endpoint supports. */
export function serviceProviderConfigs11(): Json {
  return {
    schemas: [SCIM11_CORE],
    documentationUrl: 'https://github.com/wso2/docs-is',
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: SCIM_LIMITS.filterMaxResults },
    changePassword: { supported: true },
    sort: { supported: true },
    etag: { supported: true },
    xmlDataFormat: { supported: false },
    authenticationSchemes: [
      { name: 'HTTP Basic', description: 'The operator (admin) credential', specUrl: 'http://www.ietf.org/rfc/rfc2617.txt', primary: false },
      { name: 'OAuth Bearer Token', description: 'An access token from /oauth2/token', specUrl: 'http://tools.ietf.org/html/rfc6750', primary: true },
    ],
  };
}

/** `meta` as SCIM 1.1's common attributes have it: created, lastModified, location, version, attributes. */
const META_11: Json = {
  name: 'meta',
  type: 'complex',
  multiValued: false,
  description: 'A complex attribute containing resource metadata',
  readOnly: true,
  required: false,
  caseExact: false,
  subAttributes: [
    { name: 'created', type: 'dateTime', multiValued: false, description: 'When the resource was added', readOnly: true, required: false, caseExact: false },
    { name: 'lastModified', type: 'dateTime', multiValued: false, description: 'When the resource was last changed', readOnly: true, required: false, caseExact: false },
    { name: 'location', type: 'string', multiValued: false, description: 'The URI of the resource', readOnly: true, required: false, caseExact: false },
    { name: 'version', type: 'string', multiValued: false, description: 'The version (weak ETag) of the resource', readOnly: true, required: false, caseExact: true },
    {
      name: 'attributes',
      type: 'string',
      multiValued: true,
      multiValuedAttributeChildName: 'attribute',
      description: 'The names of the attributes to remove from the resource during a PATCH operation',
      readOnly: false,
      required: false,
      caseExact: false,
    },
  ],
};

/** Sub-attributes renamed in SCIM 1.1 (its enterprise manager's id is `managerId`). */
const RENAMED_11: Record<string, Record<string, string>> = { [SCHEMA_ENTERPRISE_USER]: { 'manager.value': 'managerId' } };

/** The element name of a multi-valued attribute (`emails` -> `email`, `addresses` -> `address`). */
function childName(name: string): string {
  if (name.endsWith('sses')) return name.slice(0, -2);
  return name.endsWith('s') ? name.slice(0, -1) : name;
}

function attributeTo11(a: AttributeDef, schema: string | undefined, renamed: Record<string, string>, parent?: string): Json {
  const path = parent ? `${parent}.${a.name}` : a.name;
  const subs = (a.subAttributes ?? []).filter((s) => s.name !== '$ref');
  return {
    name: renamed[path] ?? a.name,
    type: a.type === 'reference' ? 'string' : a.type,
    multiValued: a.multiValued,
    ...(a.multiValued && { multiValuedAttributeChildName: childName(a.name) }),
    description: a.description,
    ...(schema !== undefined && { schema }),
    readOnly: a.mutability === 'readOnly',
    required: a.required,
    caseExact: a.caseExact,
    ...(a.canonicalValues && { canonicalValues: a.canonicalValues }),
    ...(subs.length > 0 && { subAttributes: subs.map((s) => attributeTo11(s, undefined, renamed, path)) }),
  };
}

/** The URN an extension has in SCIM 1.1: the enterprise one's own, an operator's its 2.0 URN (scim11.ts). */
function urn11(schema: SchemaDef): string {
  return schema.id === ENTERPRISE_USER_SCHEMA.id ? SCIM11_ENTERPRISE : schema.id;
}

/**
 * The SCIM 1.1 schema of a resource type (Core Schema 1.1 §7). `base` is the 1.1 base URL, for meta.location.
 *
 * @example schema11(await registry.user(), 'https://host/wso2/scim').id // 'urn:scim:schemas:core:1.0:User'
 */
export function schema11(rt: ResourceTypeDef, base: string): Json {
  const core = rt.schema.attributes.map((a) => attributeTo11(a, SCIM11_CORE, {}));
  const extensions = rt.extensions.flatMap(({ schema }) => schema.attributes.map((a) => attributeTo11(a, urn11(schema), RENAMED_11[schema.id] ?? {})));
  const [id, externalId] = COMMON_ATTRIBUTES;
  const common = [attributeTo11(id!, SCIM11_CORE, {}), attributeTo11(externalId!, SCIM11_CORE, {}), { ...META_11, schema: SCIM11_CORE }];
  return {
    schemas: [SCIM11_CORE],
    id: `${SCIM11_CORE}:${rt.name}`,
    name: rt.name,
    description: rt.description,
    schema: SCIM11_CORE,
    endpoint: rt.endpoint,
    attributes: [...common, ...core, ...extensions],
    meta: { location: `${base}/Schemas${rt.endpoint}` },
  };
}
