import { describe, expect, it } from 'vitest';
import { AdminError } from '../provisioning/connectors.js';
import { ScimError } from './errors.js';
import { SchemaRegistry, validateExtensionValue, type ExtensionStore } from './schema-registry.js';
import type { SchemaDef } from './schema-defs.js';
import { SCHEMA_ENTERPRISE_USER, SCHEMA_GROUP, SCHEMA_USER } from './schemas.js';

interface Row {
  id: string;
  name: string;
  description: string | null;
  resourceType: string;
  required: boolean;
  attributes: unknown;
  createdAt: Date;
  updatedAt: Date;
}

/** The extension table, in memory: what two api processes share. */
function fakeTable() {
  const rows: Row[] = [];
  let reads = 0;
  let failing = false;
  const byId = (id: string) => rows.find((r) => r.id.toLowerCase() === id.toLowerCase());
  const store = {
    scimSchemaExtension: {
      findMany: () => {
        reads += 1;
        return failing ? Promise.reject(new Error('database down')) : Promise.resolve([...rows]);
      },
      findFirst: ({ where }: { where: { id: { equals: string } } }) => Promise.resolve(byId(where.id.equals) ?? null),
      create: ({ data }: { data: Omit<Row, 'createdAt' | 'updatedAt'> }) => {
        const row = { ...data, createdAt: new Date(), updatedAt: new Date() };
        rows.push(row);
        return Promise.resolve(row);
      },
      delete: ({ where }: { where: { id: string } }) => {
        const i = rows.findIndex((r) => r.id === where.id);
        return Promise.resolve(rows.splice(i, 1)[0]);
      },
    },
  };
  return {
    store: store as unknown as ExtensionStore,
    reads: () => reads,
    fail: (v: boolean) => {
      failing = v;
    },
  };
}

const ACME = 'urn:example:params:scim:schemas:extension:acme:2.0:User';
const acmeInput = {
  id: ACME,
  name: 'AcmeUser',
  resourceType: 'User',
  attributes: [
    { name: 'badge', type: 'integer', required: true },
    { name: 'level', type: 'string', canonicalValues: ['Bronze', 'Gold'] },
    { name: 'pin', type: 'string', mutability: 'writeOnly' },
    { name: 'site', type: 'complex', multiValued: true, subAttributes: [{ name: 'value', type: 'string' }, { name: 'primary', type: 'boolean' }] },
    { name: 'homepage', type: 'reference' },
  ],
};

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

async function adminErrorOf(p: Promise<unknown>): Promise<AdminError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AdminError) return err;
    throw err;
  }
  throw new Error('expected an AdminError');
}

describe('SchemaRegistry', () => {
  it('serves the core resource types and schemas', async () => {
    const registry = new SchemaRegistry(fakeTable().store);
    expect((await registry.resourceTypes()).map((rt) => rt.name)).toEqual(['User', 'Group']);
    expect((await registry.schemas()).map((s) => s.id)).toEqual([SCHEMA_USER, SCHEMA_ENTERPRISE_USER, SCHEMA_GROUP]);
    expect((await registry.user()).extensions.map((e) => e.schema.id)).toEqual([SCHEMA_ENTERPRISE_USER]);
    expect((await registry.group()).extensions).toEqual([]);
    expect((await registry.schema(SCHEMA_USER.toUpperCase()))?.id).toBe(SCHEMA_USER);
    expect(await registry.schema('urn:nope')).toBeUndefined();
    expect((await registry.resourceType('user'))?.name).toBe('User');
  });

  it('creates an extension with every characteristic filled in, and serves it at once', async () => {
    const registry = new SchemaRegistry(fakeTable().store);
    await registry.user(); // cached before the change
    const created = await registry.createExtension(acmeInput);
    expect(created.attributes[0]).toEqual({
      name: 'badge',
      type: 'integer',
      multiValued: false,
      description: '',
      required: true,
      caseExact: false,
      mutability: 'readWrite',
      returned: 'default',
      uniqueness: 'none',
    });
    expect(created.attributes.find((a) => a.name === 'pin')?.returned).toBe('never');
    expect(created.attributes.find((a) => a.name === 'homepage')?.referenceTypes).toEqual(['external']);
    expect(created.attributes.find((a) => a.name === 'site')?.subAttributes?.[1]?.type).toBe('boolean');
    const user = await registry.user();
    expect(user.extensions.map((e) => [e.schema.id, e.required])).toEqual([
      [SCHEMA_ENTERPRISE_USER, false],
      [ACME, false],
    ]);
    expect((await registry.schema(ACME))?.attributes).toHaveLength(5);
    expect((await registry.listExtensions()).map((e) => e.id)).toEqual([ACME]);
    expect((await registry.getExtension(ACME.toUpperCase())).id).toBe(ACME);
  });

  it('refuses a second extension with the same id, ignoring case (409)', async () => {
    const registry = new SchemaRegistry(fakeTable().store);
    await registry.createExtension(acmeInput);
    const err = await adminErrorOf(registry.createExtension({ ...acmeInput, id: ACME.toUpperCase().replace('URN:', 'urn:') }));
    expect(err.status).toBe(409);
  });

  it.each([
    ['a bad attribute name', { attributes: [{ name: '1badge', type: 'integer' }] }, 'attributes.0.name'],
    ['the reserved name schemas', { attributes: [{ name: 'Schemas', type: 'string' }] }, 'attributes.0.name'],
    ['an unknown type', { attributes: [{ name: 'x', type: 'date' }] }, 'attributes.0.type'],
    ['a complex attribute without subAttributes', { attributes: [{ name: 'x', type: 'complex' }] }, 'attributes.0.subAttributes'],
    ['subAttributes on a string', { attributes: [{ name: 'x', type: 'string', subAttributes: [{ name: 'y', type: 'string' }] }] }, 'attributes.0.subAttributes'],
    [
      'complex nested in complex',
      { attributes: [{ name: 'x', type: 'complex', subAttributes: [{ name: 'y', type: 'complex' }] }] },
      'attributes.0.subAttributes.0.type',
    ],
    ['duplicate names ignoring case', { attributes: [{ name: 'badge', type: 'integer' }, { name: 'BADGE', type: 'string' }] }, 'attributes'],
    [
      'duplicate sub-attribute names',
      { attributes: [{ name: 'x', type: 'complex', subAttributes: [{ name: 'v', type: 'string' }, { name: 'V', type: 'string' }] }] },
      'attributes.0.subAttributes',
    ],
    ['canonicalValues on an integer', { attributes: [{ name: 'x', type: 'integer', canonicalValues: ['1'] }] }, 'attributes.0.canonicalValues'],
    ['non-string canonicalValues', { attributes: [{ name: 'x', type: 'string', canonicalValues: [1, 2] }] }, 'attributes.0.canonicalValues.0'],
    ['a returned writeOnly attribute', { attributes: [{ name: 'x', type: 'string', mutability: 'writeOnly', returned: 'default' }] }, 'attributes.0.returned'],
    ['unenforceable uniqueness', { attributes: [{ name: 'x', type: 'string', uniqueness: 'server' }] }, 'attributes.0.uniqueness'],
    ['a required readOnly attribute', { attributes: [{ name: 'x', type: 'string', required: true, mutability: 'readOnly' }] }, 'attributes.0.required'],
    ['an unknown characteristic', { attributes: [{ name: 'x', type: 'string', multivalued: true }] }, 'attributes.0'],
    ['no attributes', { attributes: [] }, 'attributes'],
    ['an id that is not a URN', { id: 'acme-user' }, 'id'],
    ['an id with a slash', { id: 'urn:example:acme/2.0:User' }, 'id'],
    ['the enterprise extension id', { id: SCHEMA_ENTERPRISE_USER.toUpperCase().replace('URN:', 'urn:') }, 'id'],
    ['a core namespace id', { id: 'urn:ietf:params:scim:schemas:core:2.0:Device' }, 'id'],
    ['an unknown resource type', { resourceType: 'Device' }, 'resourceType'],
  ])('refuses %s (400 with details)', async (_what, change, path) => {
    const registry = new SchemaRegistry(fakeTable().store);
    const err = await adminErrorOf(registry.createExtension({ ...acmeInput, ...change }));
    expect(err.status).toBe(400);
    expect(err.code).toBe('invalid_request');
    expect(err.details.some((d) => d.startsWith(`${path}: `)), err.details.join('\n')).toBe(true);
  });

  it('other processes see a change within the TTL; the process that made it at once', async () => {
    const table = fakeTable();
    const c = clock();
    const a = new SchemaRegistry(table.store, { ttlMs: 5000, now: c.now });
    const b = new SchemaRegistry(table.store, { ttlMs: 5000, now: c.now });
    await b.user();
    await a.createExtension(acmeInput);
    expect((await a.user()).extensions).toHaveLength(2);
    expect((await b.user()).extensions).toHaveLength(1); // b's copy is still fresh
    c.advance(5000);
    expect((await b.user()).extensions).toHaveLength(2);
    await a.deleteExtension(ACME);
    expect((await a.user()).extensions).toHaveLength(1);
    expect(await a.schema(ACME)).toBeUndefined();
  });

  it('reads the table once for concurrent callers, and once per TTL', async () => {
    const table = fakeTable();
    const c = clock();
    const registry = new SchemaRegistry(table.store, { ttlMs: 5000, now: c.now });
    await Promise.all([registry.user(), registry.group(), registry.schemas(), registry.resourceTypes()]);
    expect(table.reads()).toBe(1);
    c.advance(4999);
    await registry.schemas();
    expect(table.reads()).toBe(1);
    c.advance(1);
    await registry.schemas();
    expect(table.reads()).toBe(2);
  });

  it('keeps serving the last schemas while the database is unreachable', async () => {
    const table = fakeTable();
    const c = clock();
    const registry = new SchemaRegistry(table.store, { ttlMs: 1000, now: c.now });
    await registry.createExtension(acmeInput);
    expect(await registry.schema(ACME)).toBeDefined();
    table.fail(true);
    c.advance(2000);
    expect(await registry.schema(ACME)).toBeDefined();
    const fresh = new SchemaRegistry(table.store);
    await expect(fresh.schemas()).rejects.toThrow('database down');
  });

  it('deleting an unknown extension is a 404', async () => {
    const err = await adminErrorOf(new SchemaRegistry(fakeTable().store).deleteExtension(ACME));
    expect(err.status).toBe(404);
  });

  it('SchemaRegistry.for gives one registry per database client', () => {
    const { store } = fakeTable();
    expect(SchemaRegistry.for(store)).toBe(SchemaRegistry.for(store));
    expect(SchemaRegistry.for(fakeTable().store)).not.toBe(SchemaRegistry.for(store));
  });
});

describe('validateExtensionValue', () => {
  const def = async (): Promise<SchemaDef> => {
    const registry = new SchemaRegistry(fakeTable().store);
    await registry.createExtension({
      ...acmeInput,
      attributes: [
        ...acmeInput.attributes,
        { name: 'score', type: 'decimal' },
        { name: 'active', type: 'boolean' },
        { name: 'since', type: 'dateTime' },
        { name: 'photo', type: 'binary' },
        { name: 'tags', type: 'string', multiValued: true },
        { name: 'code', type: 'string', caseExact: true, canonicalValues: ['A1', 'a1'] },
        { name: 'assigned', type: 'string', mutability: 'readOnly' },
      ],
    });
    return (await registry.schema(ACME))!;
  };

  const invalid = (d: SchemaDef, value: unknown): ScimError => {
    try {
      validateExtensionValue(d, value);
    } catch (err) {
      if (err instanceof ScimError) return err;
      throw err;
    }
    throw new Error(`expected a ScimError for ${JSON.stringify(value)}`);
  };

  it('canonicalises names and canonical values, drops readOnly attributes and nulls', async () => {
    const d = await def();
    expect(
      validateExtensionValue(d, {
        BADGE: 7,
        Level: 'gold',
        pin: '1234',
        site: [{ VALUE: 'ams', primary: true }, null, { value: 'nyc' }],
        homepage: 'https://acme.example/u/7',
        score: 1.5,
        active: null,
        since: '2026-11-23T10:00:00.5+01:00',
        photo: 'aGVsbG8=',
        tags: [],
        code: 'a1',
        assigned: 'server-owned',
      }),
    ).toEqual({
      badge: 7,
      level: 'Gold',
      pin: '1234',
      site: [{ value: 'ams', primary: true }, { value: 'nyc' }],
      homepage: 'https://acme.example/u/7',
      score: 1.5,
      since: '2026-11-23T10:00:00.5+01:00',
      photo: 'aGVsbG8=',
      code: 'a1',
    });
    // scim2-models sends the extension's own `schemas` inside its value; it carries nothing and is ignored.
    expect(validateExtensionValue(d, { schemas: [ACME], badge: 1 })).toEqual({ badge: 1 });
    // Some clients (Microsoft Entra) send booleans as strings.
    expect(validateExtensionValue(d, { badge: 1, active: 'True' })).toEqual({ badge: 1, active: true });
  });

  it.each([
    ['not an object', ['x'], `Extension '${ACME}' must be a JSON object`],
    ['a missing required attribute', { level: 'Gold' }, `Attribute '${ACME}:badge' is required`],
    ['a required attribute set to null', { badge: null }, `Attribute '${ACME}:badge' is required`],
    ['an unknown attribute', { badge: 1, color: 'red' }, `Attribute '${ACME}:color' is not defined`],
    ['the same attribute twice in different case', { badge: 1, Badge: 2 }, 'given more than once'],
    ['a string for an integer', { badge: '7' }, `Attribute '${ACME}:badge' must be an integer`],
    ['a fraction for an integer', { badge: 7.5 }, 'must be an integer'],
    ['a value outside canonicalValues', { badge: 1, level: 'Platinum' }, 'must be one of "Bronze", "Gold"'],
    ['a wrong case for a caseExact canonical value', { badge: 1, code: 'A1 ' }, 'must be one of'],
    ['an array for a single value', { badge: [1] }, 'is single-valued'],
    ['a single value for a multi-valued attribute', { badge: 1, tags: 'x' }, 'is multi-valued'],
    ['a number in a string array', { badge: 1, tags: ['x', 2] }, `Attribute '${ACME}:tags[1]' must be a string`],
    ['two primary values', { badge: 1, site: [{ value: 'a', primary: true }, { value: 'b', primary: true }] }, 'more than one primary'],
    ['a bad sub-attribute type', { badge: 1, site: [{ value: 3 }] }, `Attribute '${ACME}:site[0].value' must be a string`],
    ['an unknown sub-attribute', { badge: 1, site: [{ value: 'a', city: 'x' }] }, `Attribute '${ACME}:site[0].city' is not defined`],
    ['a dateTime without a time zone', { badge: 1, since: '2026-11-23T10:00:00' }, 'must be an xsd:dateTime'],
    ['an impossible date', { badge: 1, since: '2026-13-45T10:00:00Z' }, 'must be an xsd:dateTime'],
    ['a decimal given as a string', { badge: 1, score: '1.5' }, 'must be a decimal'],
    ['bad base64', { badge: 1, photo: 'not base64!' }, 'base64'],
    ['a reference with spaces', { badge: 1, homepage: 'a b' }, 'URI reference'],
  ])('refuses %s with 400 invalidValue', async (_what, value, detail) => {
    const err = invalid(await def(), value);
    expect(err.status).toBe(400);
    expect(err.scimType).toBe('invalidValue');
    expect(err.detail).toContain(detail);
  });
});
