/**
 * The discovery endpoints and the admin API for extension schemas over real HTTP, on an in-memory extension
 * table (the full server is covered by test/scim2-tester.test.ts).
 */
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScimError } from '../../scim/errors.js';
import { SCHEMA_ROLE } from '../../scim/schema-defs.js';
import { SCHEMA_RESOURCE_TYPE, SCHEMA_SCHEMA, SchemaRegistry, type ExtensionStore } from '../../scim/schema-registry.js';
import { SCHEMA_ENTERPRISE_USER, SCHEMA_GROUP, SCHEMA_LIST_RESPONSE, SCHEMA_USER } from '../../scim/schemas.js';
import { SCHEMA_SERVICE_PROVIDER_CONFIG, SCIM_LIMITS } from '../../scim/service-provider.js';
import { schemasAdminRouter } from '../admin/schemas.js';
import { discoveryRouter } from './discovery.js';
import { sendScim } from './respond.js';

interface Row {
  id: string;
  createdAt: Date;
  updatedAt: Date;
  [k: string]: unknown;
}

function memoryStore(): ExtensionStore {
  const rows: Row[] = [];
  const byId = (id: string) => rows.find((r) => r.id.toLowerCase() === id.toLowerCase());
  return {
    scimSchemaExtension: {
      findMany: () => Promise.resolve([...rows]),
      findFirst: ({ where }: { where: { id: { equals: string } } }) => Promise.resolve(byId(where.id.equals) ?? null),
      create: ({ data }: { data: { id: string } }) => {
        const row = { ...data, createdAt: new Date(), updatedAt: new Date() };
        rows.push(row);
        return Promise.resolve(row);
      },
      delete: ({ where }: { where: { id: string } }) => Promise.resolve(rows.splice(rows.findIndex((r) => r.id === where.id), 1)[0]),
    },
  } as unknown as ExtensionStore;
}

const ACME = 'urn:example:params:scim:schemas:extension:acme:2.0:User';
let base: string;
let close: () => Promise<void>;

beforeAll(async () => {
  const registry = new SchemaRegistry(memoryStore());
  const app = express();
  app.use('/scim2', discoveryRouter(registry, 'https://id.example.com/'));
  app.use('/scim2', (err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    sendScim(res, ...(err instanceof ScimError ? ([err.status, err.toBody()] as const) : ([500, { detail: String(err) }] as const)));
  });
  app.use('/api/server/v1', express.json(), schemasAdminRouter(registry));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => new Promise((r) => server.close(() => r()));
});
afterAll(() => close());

async function get(path: string): Promise<{ status: number; type: string | null; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${base}${path}`);
  return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

describe('SCIM discovery', () => {
  it('GET /ServiceProviderConfig announces the features and limits (RFC 7643 §5)', async () => {
    const r = await get('/scim2/ServiceProviderConfig');
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^application\/scim\+json/);
    expect(r.body).toMatchObject({
      schemas: [SCHEMA_SERVICE_PROVIDER_CONFIG],
      patch: { supported: true },
      bulk: { supported: true, maxOperations: SCIM_LIMITS.bulkMaxOperations, maxPayloadSize: SCIM_LIMITS.bulkMaxPayloadSize },
      filter: { supported: true, maxResults: SCIM_LIMITS.filterMaxResults },
      changePassword: { supported: true },
      sort: { supported: true },
      etag: { supported: true },
      pagination: { cursor: true, index: true, defaultPaginationMethod: 'index', defaultPageSize: 100, maxPageSize: 1000, cursorTimeout: 3600 },
      meta: { resourceType: 'ServiceProviderConfig', location: 'https://id.example.com/scim2/ServiceProviderConfig' },
    });
    const schemes = r.body.authenticationSchemes as { type: string; primary: boolean; documentationUri: string; specUri: string }[];
    expect(schemes.map((s) => [s.type, s.primary])).toEqual([
      ['oauthbearertoken', true],
      ['httpbasic', false],
    ]);
    for (const s of schemes) expect(s.documentationUri && s.specUri).toMatch(/^https:\/\//);
  });

  it('GET /ResourceTypes lists User, Group and Role (WSO2 Roles API) in a ListResponse (RFC 7644 §4)', async () => {
    const r = await get('/scim2/ResourceTypes?startIndex=2&count=1&sortBy=name');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ schemas: [SCHEMA_LIST_RESPONSE], totalResults: 3, itemsPerPage: 3, startIndex: 1 });
    expect(r.body.Resources).toEqual([
      {
        schemas: [SCHEMA_RESOURCE_TYPE],
        id: 'User',
        name: 'User',
        endpoint: '/Users',
        description: 'User Account',
        schema: SCHEMA_USER,
        schemaExtensions: [{ schema: SCHEMA_ENTERPRISE_USER, required: false }],
        meta: { resourceType: 'ResourceType', location: 'https://id.example.com/scim2/ResourceTypes/User' },
      },
      {
        schemas: [SCHEMA_RESOURCE_TYPE],
        id: 'Group',
        name: 'Group',
        endpoint: '/Groups',
        description: 'Group',
        schema: SCHEMA_GROUP,
        meta: { resourceType: 'ResourceType', location: 'https://id.example.com/scim2/ResourceTypes/Group' },
      },
      {
        schemas: [SCHEMA_RESOURCE_TYPE],
        id: 'Role',
        name: 'Role',
        endpoint: '/Roles',
        description: 'Role',
        schema: SCHEMA_ROLE,
        meta: { resourceType: 'ResourceType', location: 'https://id.example.com/scim2/ResourceTypes/Role' },
      },
    ]);
  });

  it('GET /ResourceTypes/{name} and /Schemas/{urn}, ignoring case; 404 SCIM errors otherwise', async () => {
    expect((await get('/scim2/ResourceTypes/group')).body.id).toBe('Group');
    expect((await get('/scim2/ResourceTypes/role')).body.id).toBe('Role');
    expect((await get(`/scim2/Schemas/${SCHEMA_ROLE}`)).body).toMatchObject({ id: SCHEMA_ROLE, name: 'Role' });
    const user = await get(`/scim2/Schemas/${SCHEMA_USER.toLowerCase()}`);
    expect(user.body).toMatchObject({ schemas: [SCHEMA_SCHEMA], id: SCHEMA_USER, name: 'User', meta: { resourceType: 'Schema', location: `https://id.example.com/scim2/Schemas/${SCHEMA_USER}` } });
    for (const path of ['/scim2/ResourceTypes/Device', '/scim2/Schemas/urn:example:nothing']) {
      const r = await get(path);
      expect(r.status).toBe(404);
      expect(r.body).toMatchObject({ status: '404', schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'] });
    }
  });

  it('GET /Schemas: core User (its own attributes only, RFC 7643 §8.7.1), Enterprise User, Group, Role', async () => {
    const r = await get('/scim2/Schemas');
    const schemas = r.body.Resources as { id: string; attributes: { name: string; returned: string; subAttributes?: unknown[] }[] }[];
    expect(schemas.map((s) => s.id)).toEqual([SCHEMA_USER, SCHEMA_ENTERPRISE_USER, SCHEMA_GROUP, SCHEMA_ROLE]);
    const names = schemas[0]!.attributes.map((a) => a.name);
    expect(names).toContain('userName');
    expect(names).not.toContain('id');
    expect(names).not.toContain('meta');
    expect(schemas[0]!.attributes.find((a) => a.name === 'password')).toMatchObject({ mutability: 'writeOnly', returned: 'never' });
    expect(schemas[0]!.attributes.find((a) => a.name === 'emails')?.subAttributes).toHaveLength(4);
  });

  it('answers a filter with 403 (RFC 7644 §4) and other methods with 405', async () => {
    const r = await get('/scim2/Schemas?filter=id%20eq%20%22x%22');
    expect(r.status).toBe(403);
    expect(r.body.detail).toMatch(/RFC 7644 §4/);
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const res = await fetch(`${base}/scim2/ResourceTypes/User`, { method });
      expect(res.status, method).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
      expect(((await res.json()) as { status: string }).status).toBe('405');
    }
  });
});

describe('admin API: extension schemas', () => {
  const admin = (method: string, path: string, body?: unknown) =>
    fetch(`${base}/api/server/v1/scim2/schemas${path}`, {
      method,
      ...(body !== undefined && { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }),
    });

  it('creates, lists, shows and deletes an extension, which discovery serves at once', async () => {
    const created = await admin('POST', '', { id: ACME, name: 'AcmeUser', resourceType: 'User', attributes: [{ name: 'badge', type: 'integer' }] });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/api/server/v1/scim2/schemas/${encodeURIComponent(ACME)}`);
    expect(await created.json()).toMatchObject({ id: ACME, resourceType: 'User', required: false, attributes: [{ name: 'badge', returned: 'default' }] });

    expect(((await (await admin('GET', '')).json()) as { id: string }[]).map((e) => e.id)).toEqual([ACME]);
    expect(((await (await admin('GET', `/${ACME}`)).json()) as { id: string }).id).toBe(ACME);
    expect(((await get('/scim2/ResourceTypes/User')).body.schemaExtensions as unknown[]).length).toBe(2);
    expect((await get(`/scim2/Schemas/${ACME}`)).body.attributes).toEqual([
      { name: 'badge', type: 'integer', multiValued: false, description: '', required: false, caseExact: false, mutability: 'readWrite', returned: 'default', uniqueness: 'none' },
    ]);

    expect((await admin('DELETE', `/${encodeURIComponent(ACME)}`)).status).toBe(204);
    expect((await get(`/scim2/Schemas/${ACME}`)).status).toBe(404);
    expect(await (await admin('GET', `/${ACME}`)).json()).toMatchObject({ code: 'not_found' });
  });

  it('answers invalid definitions with 400 { code, message, details }', async () => {
    const res = await admin('POST', '', { id: 'acme', name: 'A', resourceType: 'User', attributes: [{ name: 'x', type: 'complex' }] });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { code: string; message: string; details: string[] };
    expect(body.code).toBe('invalid_request');
    expect(body.details).toEqual(expect.arrayContaining([expect.stringMatching(/^id: /), expect.stringMatching(/^attributes\.0\.subAttributes: /)]));
  });
});
