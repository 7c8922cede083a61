/**
 * What an application's configuration changes for SCIM, over real HTTP with OAuth tokens: the user store domain
 * its writes go to, proxy mode (nothing stored here, everything sent to the outbound target B), /Me with a
 * password-grant token, and operator-defined extension schemas (validated, stored, filtered and patched).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, linkScim2Target, startInstance, type Instance } from './harness.js';

type Json = Record<string, unknown>;
const USER_SCOPES = ['internal_user_mgt_create', 'internal_user_mgt_view', 'internal_user_mgt_list', 'internal_user_mgt_update', 'internal_user_mgt_delete'];

let a: Instance;
let b: Instance;

beforeAll(async () => {
  [a, b] = await Promise.all([startInstance('appsA'), startInstance('appsB')]);
  await linkScim2Target(a, b, { blocking: false });
});
afterAll(async () => {
  await Promise.allSettled([a?.stop(), b?.stop()]);
});

async function admin(method: string, pathname: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const res = await a.request(method, `/api/server/v1${pathname}`, body, body !== undefined ? { 'Content-Type': 'application/json' } : {});
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {} };
}

async function application(body: Json): Promise<{ clientId: string; clientSecret: string }> {
  const res = await admin('POST', '/applications', body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { clientId: string; clientSecret: string };
}

async function token(app: { clientId: string; clientSecret: string }, params: Record<string, string>): Promise<string> {
  const res = await fetch(`${a.baseUrl}/oauth2/token`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      Authorization: `Basic ${Buffer.from(`${app.clientId}:${app.clientSecret}`).toString('base64')}`,
    },
    body: new URLSearchParams(params).toString(),
  });
  const body = (await res.json()) as { access_token?: string };
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body.access_token!;
}

async function scim(instance: Instance, method: string, path: string, bearer: string | undefined, body?: unknown): Promise<{ status: number; body: Json; headers: Headers }> {
  const headers: Record<string, string> = { 'Content-Type': 'application/scim+json' };
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  const res = bearer
    ? await fetch(`${instance.baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
    : await instance.request(method, path, body === undefined ? undefined : JSON.stringify(body), headers);
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {}, headers: res.headers };
}

const filterQuery = (f: string) => `/scim2/Users?filter=${encodeURIComponent(f)}`;

describe('user store domains', () => {
  it("routes an application's writes to its inbound domain; DOMAIN/name and filters target a domain", async () => {
    expect((await admin('POST', '/userstores', { name: 'partners', description: 'Partner accounts' })).status).toBe(201);
    const app = await application({ name: 'partner-portal', scopes: USER_SCOPES, inboundProvisioning: { userStoreDomain: 'PARTNERS' } });
    const t = await token(app, { grant_type: 'client_credentials', scope: USER_SCOPES.join(' ') });

    const created = await scim(a, 'POST', '/scim2/Users', t, { userName: 'dora' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.userName).toBe('PARTNERS/dora');
    // The same bare name in PRIMARY is another user: uniqueness is per domain.
    expect((await scim(a, 'POST', '/scim2/Users', undefined, { userName: 'dora' })).status).toBe(201);
    expect((await scim(a, 'POST', '/scim2/Users', undefined, { userName: 'PARTNERS/DORA' })).status).toBe(409);

    const inDomain = await scim(a, 'GET', filterQuery('userName eq "PARTNERS/dora"'), t);
    expect((inDomain.body.Resources as Json[]).map((r) => r.userName)).toEqual(['PARTNERS/dora']);
    const byPrefix = await scim(a, 'GET', filterQuery('userName sw "partners/"'), t);
    expect(byPrefix.body.totalResults).toBe(1);
    const everywhere = await scim(a, 'GET', filterQuery('userName eq "dora"'), t);
    expect(everywhere.body.totalResults).toBe(2);

    // A domain in use cannot be removed.
    expect((await admin('DELETE', '/userstores/PARTNERS')).status).toBe(409);
  });
});

describe('proxy mode', () => {
  it('stores nothing here, provisions to the outbound target, and says so', async () => {
    const app = await application({ name: 'proxy-app', scopes: USER_SCOPES, inboundProvisioning: { proxyMode: true } });
    const t = await token(app, { grant_type: 'client_credentials', scope: USER_SCOPES.join(' ') });

    const created = await scim(a, 'POST', '/scim2/Users', t, { userName: 'ghost', emails: [{ value: 'ghost@example.org' }] });
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    expect(created.headers.get('x-provisioning-mode')).toMatch(/^proxy/);
    expect((created.body.meta as Json).location).toBeUndefined();
    const id = String(created.body.id);

    // Not here...
    expect((await scim(a, 'GET', `/scim2/Users/${id}`, undefined)).status).toBe(404);
    expect((await scim(a, 'GET', filterQuery('userName eq "ghost"'), undefined)).body.totalResults).toBe(0);
    // ...but at the target.
    const onB = await eventually(async () => {
      const r = await scim(b, 'GET', filterQuery('userName eq "ghost"'), undefined);
      return r.body.totalResults === 1 ? (r.body.Resources as Json[])[0] : undefined;
    }, 30_000, 'the proxied user on B');
    expect(onB.emails).toEqual([expect.objectContaining({ value: 'ghost@example.org' })]);

    // Later writes by the same id reach the target in order; PATCH has no local copy to apply to.
    expect((await scim(a, 'PUT', `/scim2/Users/${id}`, t, { userName: 'ghost', displayName: 'Casper' })).status).toBe(202);
    await eventually(async () => {
      const r = await scim(b, 'GET', filterQuery('userName eq "ghost"'), undefined);
      return (r.body.Resources as Json[])[0]?.displayName === 'Casper' ? true : undefined;
    }, 30_000, 'the proxied update on B');
    const patched = await scim(a, 'PATCH', `/scim2/Users/${id}`, t, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'add', path: 'title', value: 'x' }] });
    expect(patched.status).toBe(501);
    expect((await scim(a, 'DELETE', `/scim2/Users/${id}`, t)).status).toBe(202);
    await eventually(async () => {
      const r = await scim(b, 'GET', filterQuery('userName eq "ghost"'), undefined);
      return r.body.totalResults === 0 ? true : undefined;
    }, 30_000, 'the proxied delete on B');
  });
});

describe('/Me', () => {
  it("serves the token's own user, for password-grant tokens only", async () => {
    const created = await scim(a, 'POST', '/scim2/Users', undefined, { userName: 'meg', password: 'meg-secret-1', displayName: 'Meg' });
    expect(created.status).toBe(201);
    const app = await application({ name: 'self-service', grantTypes: ['password'], scopes: ['internal_login'] });
    const t = await token(app, { grant_type: 'password', username: 'meg', password: 'meg-secret-1', scope: 'internal_login' });

    const me = await scim(a, 'GET', '/scim2/Me', t);
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(created.body.id);
    const patched = await scim(a, 'PATCH', '/scim2/Me', t, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'displayName', value: 'Meg R.' }],
    });
    expect(patched.status).toBe(200);
    expect(patched.body.displayName).toBe('Meg R.');
    // The token grants /Me only: the Users collection needs its own scopes.
    expect((await scim(a, 'GET', '/scim2/Users', t)).status).toBe(403);
    // An operator is not a SCIM user.
    expect((await scim(a, 'GET', '/scim2/Me', undefined)).status).toBe(404);
  });
});

describe('Bulk scopes', () => {
  it('needs internal_bulk_resource_create, then the per-operation bulk scope for each operation', async () => {
    const app = await application({ name: 'bulk-loader', scopes: ['internal_bulk_resource_create', 'internal_bulk_user_create'] });
    const t = await token(app, { grant_type: 'client_credentials' });
    const res = await scim(a, 'POST', '/scim2/Bulk', t, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'u', data: { userName: 'bulk-scoped' } },
        { method: 'POST', path: '/Groups', bulkId: 'g', data: { displayName: 'Bulk Scoped' } },
      ],
    });
    expect(res.status).toBe(200);
    expect((res.body.Operations as { status: string }[]).map((o) => o.status)).toEqual(['201', '403']);

    const userOnly = await application({ name: 'user-writer', scopes: ['internal_user_mgt_create'] });
    const t2 = await token(userOnly, { grant_type: 'client_credentials' });
    const refused = await scim(a, 'POST', '/scim2/Bulk', t2, { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations: [] });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toMatch(/insufficient_scope/);
  });
});

describe('operator-defined extension schemas', () => {
  const URN = 'urn:example:params:scim:schemas:extension:acme:2.0:User';

  it('appear in /Schemas and are validated, stored, filtered and patched like core attributes', async () => {
    const created = await admin('POST', '/scim2/schemas', {
      id: URN,
      name: 'AcmeUser',
      resourceType: 'User',
      attributes: [
        { name: 'badge', type: 'string', required: true },
        { name: 'clearance', type: 'integer' },
        { name: 'hiredOn', type: 'dateTime' },
        { name: 'projects', type: 'string', multiValued: true },
        { name: 'serial', type: 'string', mutability: 'immutable' },
      ],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const schema = await scim(a, 'GET', `/scim2/Schemas/${URN}`, undefined);
    expect(schema.status).toBe(200);
    expect((schema.body.attributes as Json[]).map((x) => x.name)).toEqual(['badge', 'clearance', 'hiredOn', 'projects', 'serial']);
    const rt = await scim(a, 'GET', '/scim2/ResourceTypes/User', undefined);
    expect(rt.body.schemaExtensions).toEqual(expect.arrayContaining([{ schema: URN, required: false }]));

    const user = await scim(a, 'POST', '/scim2/Users', undefined, {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', URN],
      userName: 'ext-ivy',
      [URN]: { badge: 'B-7', clearance: 3, hiredOn: '2024-05-01T09:00:00Z', projects: ['apollo'] },
    });
    expect(user.status, JSON.stringify(user.body)).toBe(201);
    expect(user.body.schemas).toContain(URN);
    expect(user.body[URN]).toEqual({ badge: 'B-7', clearance: 3, hiredOn: '2024-05-01T09:00:00Z', projects: ['apollo'] });

    const wrongType = await scim(a, 'POST', '/scim2/Users', undefined, { userName: 'ext-bad', [URN]: { badge: 'B-8', clearance: 'high' } });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.scimType).toBe('invalidValue');
    const missing = await scim(a, 'POST', '/scim2/Users', undefined, { userName: 'ext-bad', [URN]: { clearance: 1 } });
    expect(missing.status).toBe(400);

    expect((await scim(a, 'GET', filterQuery(`${URN}:clearance ge 3 and ${URN}:projects eq "apollo"`), undefined)).body.totalResults).toBe(1);
    expect((await scim(a, 'GET', filterQuery(`${URN}:hiredOn gt "2025-01-01T00:00:00Z"`), undefined)).body.totalResults).toBe(0);

    const patched = await scim(a, 'PATCH', `/scim2/Users/${String(user.body.id)}`, undefined, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [
        { op: 'replace', path: `${URN}:clearance`, value: 5 },
        { op: 'add', path: `${URN}:projects`, value: ['gemini'] },
      ],
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body[URN]).toEqual(expect.objectContaining({ clearance: 5, projects: ['apollo', 'gemini'] }));
    expect((await scim(a, 'GET', filterQuery(`${URN}:clearance eq 5`), undefined)).body.totalResults).toBe(1);
    const excluded = await scim(a, 'GET', `/scim2/Users/${String(user.body.id)}?excludedAttributes=${encodeURIComponent(URN)}`, undefined);
    expect(excluded.body[URN]).toBeUndefined();

    // An immutable attribute may be set once; a PUT must then carry the same value (RFC 7644 §3.5.1).
    const id = String(user.body.id);
    const put = (serial: string) => scim(a, 'PUT', `/scim2/Users/${id}`, undefined, { userName: 'ext-ivy', [URN]: { badge: 'B-7', serial } });
    expect((await put('S-1')).status).toBe(200);
    const changed = await put('S-2');
    expect(changed.status).toBe(400);
    expect(changed.body.scimType).toBe('mutability');
    expect((await put('S-1')).status).toBe(200);
  });
});
