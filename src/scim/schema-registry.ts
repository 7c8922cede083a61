/**
 * The resource types and schemas this service provider serves (RFC 7643 §6, §7): the fixed core User,
 * Enterprise User and Group schemas of schema-defs.ts plus the extension schemas an operator defines through
 * the admin API, stored in the scim_schema_extension table.
 *
 * Several api processes serve the same database, so the extensions are read from it and cached for a few
 * seconds: a change made through one process is seen by the others within `ttlMs`, and at once by the
 * process that made it (it drops its cache). `SchemaRegistry.for(db)` hands every router of a process the
 * same registry, so they share that invalidation.
 *
 * @example
 *   const registry = SchemaRegistry.for(ctx.db);
 *   await registry.createExtension({
 *     id: 'urn:example:params:scim:schemas:extension:acme:2.0:User', name: 'AcmeUser', resourceType: 'User',
 *     attributes: [{ name: 'badge', type: 'integer', required: true }],
 *   });
 *   const user = await registry.user(); // user.extensions now lists it, with defaults filled in
 */
import { z } from 'zod';
import type { Prisma, PrismaClient } from '../db/client.js';
import { isUniqueViolation } from '../db/errors.js';
import type { Logger } from '../log.js';
import { AdminError, parseInput } from '../provisioning/connectors.js';
import { ScimError } from './errors.js';
import {
  ENTERPRISE_USER_SCHEMA,
  findAttribute,
  GROUP_SCHEMA,
  groupResourceType,
  SCHEMA_ROLE,
  USER_SCHEMA,
  userResourceType,
  type AttributeDef,
  type AttributeType,
  type ResourceTypeDef,
  type ResourceTypeName,
  type SchemaDef,
} from './schema-defs.js';
import { SCHEMA_ENTERPRISE_USER, SCHEMA_GROUP, SCHEMA_USER } from './schemas.js';
import { MAX_VALUES_PER_ATTRIBUTE } from './user-resource.js';

/** RFC 7643 §8.7.2 (kept here, beside the resources they name, rather than in schemas.ts, which others own). */
export const SCHEMA_RESOURCE_TYPE = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
export const SCHEMA_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

/** How long a process trusts its copy of the extension table. */
export const SCHEMA_CACHE_TTL_MS = 5000;

// ---------------------------------------------------------------------------------------------------------
// Extension definitions: input validation (RFC 7643 §7)
// ---------------------------------------------------------------------------------------------------------

const ATTRIBUTE_TYPES = ['string', 'boolean', 'decimal', 'integer', 'dateTime', 'reference', 'complex', 'binary'] as const satisfies readonly AttributeType[];
/** RFC 7643 §2.1 ATTRNAME = ALPHA *(nameChar); `$` is allowed after the first character as in `$ref`. */
const ATTRIBUTE_NAME = /^[A-Za-z][\w$-]*$/;
/**
 * RFC 8141 `urn:<NID>:<NSS>`. The NSS excludes `/`, `?` and `#` so the id fits in one path segment
 * (`/Schemas/{id}`), and must not end with `:` (attribute paths append `:name`, RFC 7644 §3.10).
 */
const SCHEMA_URN = /^urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:[A-Za-z0-9()+,\-.:=@;$_!*'%]*[A-Za-z0-9()+,\-.=@;$_!*'%]$/;
/** Names the RFCs own: core resource schemas, the API messages, the discovery resources. */
const RESERVED_URN_PREFIXES = ['urn:ietf:params:scim:schemas:core:', 'urn:ietf:params:scim:api:'];
const RESERVED_URNS = [SCHEMA_USER, SCHEMA_GROUP, SCHEMA_ENTERPRISE_USER, SCHEMA_ROLE].map((u) => u.toLowerCase());

/** `schemas` is common to every SCIM object (RFC 7643 §3); an extension attribute of that name would be ambiguous. */
const RESERVED_ATTRIBUTE_NAMES = ['schemas'];

const characteristics = {
  name: z
    .string()
    .max(64)
    .regex(ATTRIBUTE_NAME, { message: 'must start with a letter and contain only letters, digits, _, $ and - (RFC 7643 §2.1)' })
    .refine((n) => !RESERVED_ATTRIBUTE_NAMES.includes(n.toLowerCase()), { message: 'is reserved (RFC 7643 §3)' }),
  type: z.enum(ATTRIBUTE_TYPES),
  multiValued: z.boolean().default(false),
  description: z.string().max(1024).default(''),
  required: z.boolean().default(false),
  caseExact: z.boolean().default(false),
  mutability: z.enum(['readOnly', 'readWrite', 'immutable', 'writeOnly']).default('readWrite'),
  // Filled in below: writeOnly attributes default to `never`, everything else to `default`.
  returned: z.enum(['always', 'never', 'default', 'request']).optional(),
  uniqueness: z.enum(['none', 'server', 'global']).default('none'),
  canonicalValues: z.array(z.string().min(1).max(256)).min(1).max(200).optional(),
  referenceTypes: z.array(z.string().min(1).max(64)).min(1).max(20).optional(),
};

const subAttributeInput = z.object(characteristics).strict();
const attributeInput = z.object({ ...characteristics, subAttributes: z.array(subAttributeInput).min(1).max(100).optional() }).strict();
type AttributeInput = z.infer<typeof attributeInput>;
type SubAttributeInput = z.infer<typeof subAttributeInput>;

function duplicateNames(names: readonly string[]): string[] {
  const seen = new Set<string>();
  const dups = new Set<string>();
  for (const n of names) {
    const k = n.toLowerCase();
    if (seen.has(k)) dups.add(n);
    seen.add(k);
  }
  return [...dups];
}

/** Rules between characteristics that a field-by-field schema cannot express. */
function checkAttribute(a: AttributeInput | SubAttributeInput, path: (string | number)[], ctx: z.RefinementCtx, isSub: boolean): void {
  const issue = (message: string, at: (string | number)[] = []) => ctx.addIssue({ code: 'custom', message, path: [...path, ...at] });
  const subAttributes = 'subAttributes' in a ? a.subAttributes : undefined;
  if (a.type === 'complex') {
    if (isSub) issue('a sub-attribute cannot be complex: complex attributes nest one level only (RFC 7643 §2.3.8)', ['type']);
    else if (!subAttributes) issue('a complex attribute needs subAttributes', ['subAttributes']);
  } else if (subAttributes) {
    issue(`only complex attributes have subAttributes, not ${a.type}`, ['subAttributes']);
  }
  if (a.canonicalValues && a.type !== 'string') issue('canonicalValues apply to string attributes only', ['canonicalValues']);
  if (a.canonicalValues) {
    const dups = a.caseExact ? a.canonicalValues.filter((v, i, all) => all.indexOf(v) !== i) : duplicateNames(a.canonicalValues);
    if (dups.length > 0) issue(`duplicate canonical values: ${dups.join(', ')}`, ['canonicalValues']);
  }
  if (a.referenceTypes && a.type !== 'reference') issue('referenceTypes apply to reference attributes only', ['referenceTypes']);
  if (a.mutability === 'writeOnly' && a.returned !== undefined && a.returned !== 'never') {
    issue('a writeOnly attribute is never returned (RFC 7643 §7): returned must be "never"', ['returned']);
  }
  if (a.required && a.mutability === 'readOnly') issue('a required attribute cannot be readOnly: clients could never supply it', ['required']);
  // Extension values live in one JSON document per resource; no index could enforce uniqueness across them,
  // and announcing a uniqueness the server does not enforce would mislead clients.
  if (a.uniqueness !== 'none') issue('uniqueness is not enforced for extension attributes: use "none"', ['uniqueness']);
  if (subAttributes) {
    const dups = duplicateNames(subAttributes.map((s) => s.name));
    if (dups.length > 0) issue(`duplicate sub-attribute names (ignoring case): ${dups.join(', ')}`, ['subAttributes']);
    subAttributes.forEach((s, i) => checkAttribute(s, [...path, 'subAttributes', i], ctx, true));
  }
}

export const extensionInput = z
  .object({
    id: z
      .string()
      .max(255)
      .regex(SCHEMA_URN, { message: 'must be a URN (urn:<namespace>:<name>, e.g. urn:example:params:scim:schemas:extension:acme:2.0:User)' })
      .refine((id) => !RESERVED_URNS.includes(id.toLowerCase()), { message: 'is a schema this server defines already' })
      .refine((id) => !RESERVED_URN_PREFIXES.some((p) => id.toLowerCase().startsWith(p)), {
        message: `is in a namespace reserved by RFC 7643/7644 (${RESERVED_URN_PREFIXES.join(', ')})`,
      }),
    name: z.string().min(1).max(255),
    description: z.string().max(1024).optional(),
    resourceType: z.enum(['User', 'Group']),
    required: z.boolean().default(false),
    attributes: z.array(attributeInput).min(1).max(200),
  })
  .strict()
  .superRefine((v, ctx) => {
    const dups = duplicateNames(v.attributes.map((a) => a.name));
    if (dups.length > 0) ctx.addIssue({ code: 'custom', message: `duplicate attribute names (ignoring case): ${dups.join(', ')}`, path: ['attributes'] });
    v.attributes.forEach((a, i) => checkAttribute(a, ['attributes', i], ctx, false));
  });
export type ExtensionInput = z.input<typeof extensionInput>;

/** The full RFC 7643 §7 attribute definition, every characteristic present, in the RFC's key order. */
function normalizeAttribute(a: AttributeInput | SubAttributeInput): AttributeDef {
  const subAttributes = 'subAttributes' in a ? a.subAttributes : undefined;
  return {
    name: a.name,
    type: a.type,
    ...(subAttributes && { subAttributes: subAttributes.map(normalizeAttribute) }),
    multiValued: a.multiValued,
    description: a.description,
    required: a.required,
    ...(a.canonicalValues && { canonicalValues: a.canonicalValues }),
    caseExact: a.caseExact,
    mutability: a.mutability,
    returned: a.returned ?? (a.mutability === 'writeOnly' ? 'never' : 'default'),
    uniqueness: a.uniqueness,
    ...(a.type === 'reference' && { referenceTypes: a.referenceTypes ?? ['external'] }),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Extension values on resources
// ---------------------------------------------------------------------------------------------------------

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const invalid = (detail: string) => ScimError.badRequest(detail, 'invalidValue');

/** xsd:dateTime (RFC 7643 §2.3.5), with a mandatory time zone so values compare without guessing. */
const DATE_TIME = /^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
/** RFC 7643 §2.3.6: base64 (RFC 4648 §4), no line breaks. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

/** One value of `attr` (an element, for a multi-valued attribute); undefined when it amounts to no value. */
function validateSingle(attr: AttributeDef, raw: unknown, path: string): unknown {
  switch (attr.type) {
    case 'string': {
      if (typeof raw !== 'string') throw invalid(`Attribute '${path}' must be a string, not ${describe(raw)}`);
      if (!attr.canonicalValues) return raw;
      const match = attr.canonicalValues.find((c) => (attr.caseExact ? c === raw : c.toLowerCase() === raw.toLowerCase()));
      if (match === undefined) throw invalid(`Attribute '${path}' must be one of ${attr.canonicalValues.map((c) => `"${c}"`).join(', ')}, not "${raw}"`);
      return match;
    }
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      // Some clients (Microsoft Entra) send booleans as strings.
      if (typeof raw === 'string' && /^(true|false)$/i.test(raw)) return raw.toLowerCase() === 'true';
      throw invalid(`Attribute '${path}' must be a boolean, not ${describe(raw)}`);
    case 'integer':
      if (typeof raw === 'number' && Number.isSafeInteger(raw)) return raw;
      throw invalid(`Attribute '${path}' must be an integer, not ${describe(raw)}`);
    case 'decimal':
      if (typeof raw === 'number' && Number.isFinite(raw)) return raw;
      throw invalid(`Attribute '${path}' must be a decimal number, not ${describe(raw)}`);
    case 'dateTime':
      if (typeof raw === 'string' && DATE_TIME.test(raw) && !Number.isNaN(Date.parse(raw))) return raw;
      throw invalid(`Attribute '${path}' must be an xsd:dateTime with a time zone (e.g. 2026-11-23T10:00:00Z), not ${describe(raw)}`);
    case 'reference':
      if (typeof raw === 'string' && raw !== '' && !/\s/.test(raw)) return raw;
      throw invalid(`Attribute '${path}' must be a URI reference, not ${describe(raw)}`);
    case 'binary':
      if (typeof raw === 'string' && BASE64.test(raw)) return raw;
      throw invalid(`Attribute '${path}' must be base64-encoded binary data, not ${describe(raw)}`);
    case 'complex': {
      if (!isObject(raw)) throw invalid(`Attribute '${path}' must be a complex value (an object), not ${describe(raw)}`);
      const value = validateAttributes(attr.subAttributes ?? [], raw, `${path}.`);
      return Object.keys(value).length > 0 ? value : undefined;
    }
  }
}

function validateValue(attr: AttributeDef, raw: unknown, path: string): unknown {
  if (!attr.multiValued) {
    if (Array.isArray(raw)) throw invalid(`Attribute '${path}' is single-valued: it cannot be an array`);
    return validateSingle(attr, raw, path);
  }
  if (!Array.isArray(raw)) throw invalid(`Attribute '${path}' is multi-valued: it must be an array`);
  if (raw.length > MAX_VALUES_PER_ATTRIBUTE) throw invalid(`Attribute '${path}' has ${raw.length} values; at most ${MAX_VALUES_PER_ATTRIBUTE} are accepted`);
  const values = raw
    .map((v, i) => (v === null ? undefined : validateSingle(attr, v, `${path}[${i}]`)))
    .filter((v) => v !== undefined);
  // RFC 7643 §2.4: the primary attribute value "true" MUST appear no more than once.
  const primary = attr.type === 'complex' ? attr.subAttributes?.find((s) => s.name === 'primary' && s.type === 'boolean') : undefined;
  if (primary && values.filter((v) => isObject(v) && v.primary === true).length > 1) {
    throw invalid(`Attribute '${path}' has more than one primary value`);
  }
  // RFC 7643 §2.5: an empty array is the same as no value.
  return values.length > 0 ? values : undefined;
}

function validateAttributes(attributes: readonly AttributeDef[], obj: Json, prefix: string, top = false): Json {
  const out: Json = {};
  const seen = new Set<string>();
  for (const [key, raw] of Object.entries(obj)) {
    // Clients that model an extension as an object of its own send its `schemas` with it (scim2-models does, in
    // a PATCH whose path is the extension URN). It names the extension, carries no value, and no extension
    // attribute can be called so (see RESERVED_ATTRIBUTE_NAMES): ignore it.
    if (top && key.toLowerCase() === 'schemas' && Array.isArray(raw) && raw.every((s) => typeof s === 'string')) continue;
    const attr = findAttribute(attributes, key);
    if (!attr) throw invalid(`Attribute '${prefix}${key}' is not defined by the schema`);
    const path = `${prefix}${attr.name}`;
    if (seen.has(attr.name)) throw invalid(`Attribute '${path}' is given more than once (attribute names ignore case)`);
    seen.add(attr.name);
    // RFC 7643 §7: readOnly values sent by a client SHALL be ignored; null means unassigned (§2.5).
    if (raw === null || raw === undefined || attr.mutability === 'readOnly') continue;
    const value = validateValue(attr, raw, path);
    if (value !== undefined) out[attr.name] = value;
  }
  for (const attr of attributes) {
    if (attr.required && attr.mutability !== 'readOnly' && !(attr.name in out)) throw invalid(`Attribute '${prefix}${attr.name}' is required`);
  }
  return out;
}

/**
 * Validates a resource's extension object (`body[def.id]`) against its definition and returns it in
 * canonical form: attribute names spelled as defined (clients may use any case, RFC 7643 §2.1), string
 * values in their canonical spelling, readOnly attributes and nulls dropped, empty values removed.
 * Throws ScimError 400 invalidValue naming the offending attribute by its full path.
 *
 * @example
 *   validateExtensionValue(acme, { BADGE: 7, level: 'gold' }) // => { badge: 7, level: 'Gold' }
 */
export function validateExtensionValue(def: SchemaDef, value: unknown): Record<string, unknown> {
  if (!isObject(value)) throw invalid(`Extension '${def.id}' must be a JSON object, not ${describe(value)}`);
  return validateAttributes(def.attributes, value, `${def.id}:`, true);
}

// ---------------------------------------------------------------------------------------------------------
// The registry
// ---------------------------------------------------------------------------------------------------------

/** An operator extension as the admin API shows it. */
export interface ExtensionView {
  id: string;
  name: string;
  description: string | null;
  resourceType: ResourceTypeName;
  required: boolean;
  attributes: AttributeDef[];
  created: string;
  lastModified: string;
}

/** What the registry needs of the database: the extension table only. */
export type ExtensionStore = Pick<PrismaClient, 'scimSchemaExtension'>;

type ExtensionRow = Prisma.ScimSchemaExtensionGetPayload<object>;

interface Snapshot {
  user: ResourceTypeDef;
  group: ResourceTypeDef;
  extensions: ExtensionView[];
}

const storedAttributes = z.array(attributeInput);

export interface SchemaRegistryOptions {
  ttlMs?: number;
  now?: () => number;
  log?: Logger;
}

const registries = new WeakMap<object, SchemaRegistry>();

export class SchemaRegistry {
  private readonly ttlMs: number;
  private readonly now: () => number;
  private cached: { snapshot: Snapshot; at: number } | undefined;
  private loading: { generation: number; promise: Promise<Snapshot> } | undefined;
  /** Bumped by every change this process makes: a load begun before it must not be cached after it. */
  private generation = 0;

  constructor(
    private readonly db: ExtensionStore,
    private readonly opts: SchemaRegistryOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? SCHEMA_CACHE_TTL_MS;
    this.now = opts.now ?? Date.now;
  }

  /** The registry of this process for `db`: every router gets the same one, so they share invalidation. */
  static for(db: ExtensionStore, opts?: SchemaRegistryOptions): SchemaRegistry {
    let registry = registries.get(db);
    if (!registry) {
      registry = new SchemaRegistry(db, opts);
      registries.set(db, registry);
    }
    return registry;
  }

  /** Forgets the cached extensions; the next call reads the table. */
  invalidate(): void {
    this.generation += 1;
    this.cached = undefined;
    this.loading = undefined;
  }

  async resourceTypes(): Promise<ResourceTypeDef[]> {
    const s = await this.snapshot();
    return [s.user, s.group];
  }

  /** A resource type by name, ignoring case (`/ResourceTypes/user` finds User). */
  async resourceType(name: string): Promise<ResourceTypeDef | undefined> {
    return (await this.resourceTypes()).find((rt) => rt.name.toLowerCase() === name.toLowerCase());
  }

  async user(): Promise<ResourceTypeDef> {
    return (await this.snapshot()).user;
  }

  async group(): Promise<ResourceTypeDef> {
    return (await this.snapshot()).group;
  }

  /** Every resource schema: core User, Enterprise User, Group, then the operator extensions. */
  async schemas(): Promise<SchemaDef[]> {
    const s = await this.snapshot();
    return [USER_SCHEMA, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, ...s.extensions.map(schemaOf)];
  }

  /** A schema by its URN, ignoring case (URNs compare case-insensitively in practice, RFC 8141 §3.1). */
  async schema(id: string): Promise<SchemaDef | undefined> {
    const lower = id.toLowerCase();
    return (await this.schemas()).find((s) => s.id.toLowerCase() === lower);
  }

  async listExtensions(): Promise<ExtensionView[]> {
    return (await this.snapshot()).extensions;
  }

  /** One extension, read from the table (not the cache): the admin API shows what is stored. */
  async getExtension(id: string): Promise<ExtensionView> {
    const row = await this.findRow(id);
    if (!row) throw new AdminError(404, 'not_found', `No extension schema '${id}'`);
    const view = this.viewOf(row);
    if (!view) throw new AdminError(500, 'server_error', `The stored definition of '${id}' is invalid`);
    return view;
  }

  /** Validates and stores an extension schema; it applies to its resource type at once in this process. */
  async createExtension(input: unknown): Promise<ExtensionView> {
    const parsed = parseInput(extensionInput, input);
    if (await this.findRow(parsed.id)) throw new AdminError(409, 'conflict', `An extension schema '${parsed.id}' exists already`);
    let row: ExtensionRow;
    try {
      row = await this.db.scimSchemaExtension.create({
        data: {
          id: parsed.id,
          name: parsed.name,
          description: parsed.description ?? null,
          resourceType: parsed.resourceType,
          required: parsed.required,
          attributes: parsed.attributes.map(normalizeAttribute) as unknown as Prisma.InputJsonValue,
        },
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new AdminError(409, 'conflict', `An extension schema '${parsed.id}' exists already`);
      throw err;
    } finally {
      this.invalidate();
    }
    return this.viewOf(row)!;
  }

  /**
   * Removes an extension schema. Values stored on resources stay in the store but are no longer served:
   * resources are rendered through their resource type, which no longer names the schema.
   */
  async deleteExtension(id: string): Promise<void> {
    const row = await this.findRow(id);
    if (!row) throw new AdminError(404, 'not_found', `No extension schema '${id}'`);
    try {
      await this.db.scimSchemaExtension.delete({ where: { id: row.id } });
    } finally {
      this.invalidate();
    }
  }

  private findRow(id: string): Promise<ExtensionRow | null> {
    return this.db.scimSchemaExtension.findFirst({ where: { id: { equals: id, mode: 'insensitive' } } });
  }

  private viewOf(row: ExtensionRow): ExtensionView | undefined {
    const attributes = storedAttributes.safeParse(row.attributes);
    if (!attributes.success || (row.resourceType !== 'User' && row.resourceType !== 'Group')) {
      this.opts.log?.error('ignoring an invalid stored SCIM extension schema', { id: row.id });
      return undefined;
    }
    return {
      id: row.id,
      name: row.name,
      description: row.description,
      resourceType: row.resourceType,
      required: row.required,
      attributes: attributes.data.map(normalizeAttribute),
      created: row.createdAt.toISOString(),
      lastModified: row.updatedAt.toISOString(),
    };
  }

  private async load(): Promise<Snapshot> {
    const rows = await this.db.scimSchemaExtension.findMany({ orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
    const extensions = rows.map((r) => this.viewOf(r)).filter((v) => v !== undefined);
    const of = (rt: ResourceTypeName) =>
      extensions.filter((e) => e.resourceType === rt).map((e) => ({ schema: schemaOf(e), required: e.required }));
    return { user: userResourceType(of('User')), group: groupResourceType(of('Group')), extensions };
  }

  private async snapshot(): Promise<Snapshot> {
    const cached = this.cached;
    if (cached && this.now() - cached.at < this.ttlMs) return cached.snapshot;
    if (this.loading?.generation === this.generation) return this.loading.promise;
    const generation = this.generation;
    const promise = this.load().then(
      (snapshot) => {
        if (this.generation === generation) this.cached = { snapshot, at: this.now() };
        return snapshot;
      },
      (err: unknown) => {
        // The database is unreachable: keep serving the last known schemas rather than failing discovery;
        // the next call tries again.
        if (cached && this.generation === generation) {
          this.opts.log?.warn('could not refresh SCIM extension schemas; serving the cached ones', { error: String(err) });
          return cached.snapshot;
        }
        throw err;
      },
    );
    this.loading = { generation, promise };
    const clear = () => {
      if (this.loading?.promise === promise) this.loading = undefined;
    };
    promise.then(clear, clear);
    return promise;
  }
}

function schemaOf(e: ExtensionView): SchemaDef {
  return { id: e.id, name: e.name, description: e.description ?? e.name, attributes: e.attributes };
}
