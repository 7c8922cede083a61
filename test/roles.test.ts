/**
 * Roles, and what a token may do, over real HTTP on real processes: roles through the admin API and SCIM /Roles
 * (WSO2's Roles API), password-grant tokens narrowed to what the user's roles permit and re-checked on every
 * request (role removal, password change, deactivation), applications restricted to their user store domain, and
 * role-based outbound provisioning to a second instance (B) as a SCIM 2.0 target.
 *
 * Prompted by a review of issue #8: a password-grant token carried every scope of its application whatever the
 * user's roles; an application bound to a secondary domain read and wrote PRIMARY users; a password change left
 * the user's tokens working.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, linkScim2Target, startInstance, type Instance } from './harness.js';

type Json = Record<string, unknown>;
const ROLE_SCHEMA = 'urn:ietf:params:scim:schemas:extension:2.0:Role';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const USER_SCOPES = ['internal_user_mgt_create', 'internal_user_mgt_view', 'internal_user_mgt_list', 'internal_user_mgt_update', 'internal_user_mgt_delete'];
const GROUP_SCOPES = ['internal_group_mgt_create', 'internal_group_mgt_view', 'internal_group_mgt_list', 'internal_group_mgt_update', 'internal_group_mgt_delete'];
const ROLE_SCOPES = ['internal_role_mgt_create', 'internal_role_mgt_view', 'internal_role_mgt_update', 'internal_role_mgt_delete'];

let a: Instance;
let b: Instance;

beforeAll(async () => {
  [a, b] = await Promise.all([startInstance('rolesA'), startInstance('rolesB')]);
});
afterAll(async () => {
  await Promise.allSettled([a?.stop(), b?.stop()]);
});

async function call(instance: Instance, method: string, path: string, body?: unknown, bearer?: string): Promise<{ status: number; body: Json; headers: Headers }> {
  const headers: Record<string, string> = { ...(body !== undefined && { 'Content-Type': 'application/scim+json' }) };
  const res = bearer
    ? await fetch(`${instance.baseUrl}${path}`, {
        method,
        headers: { ...headers, Authorization: `Bearer ${bearer}` },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      })
    : await instance.request(method, path, body, headers);
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {}, headers: res.headers };
}

const admin = (method: string, path: string, body?: unknown) => call(a, method, `/api/server/v1${path}`, body);

async function application(body: Json): Promise<{ id: string; clientId: string; clientSecret: string }> {
  const res = await admin('POST', '/applications', body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; clientId: string; clientSecret: string };
}

async function tokenRequest(app: { clientId: string; clientSecret: string }, params: Record<string, string>): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${a.baseUrl}/oauth2/token`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      Authorization: `Basic ${Buffer.from(`${app.clientId}:${app.clientSecret}`).toString('base64')}`,
    },
    body: new URLSearchParams(params).toString(),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

async function token(app: { clientId: string; clientSecret: string }, params: Record<string, string>): Promise<string> {
  const res = await tokenRequest(app, params);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.access_token as string;
}

async function createUser(userName: string, extra: Json = {}): Promise<string> {
  const res = await call(a, 'POST', '/scim2/Users', { schemas: [], userName, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

async function createGroup(displayName: string, members: string[] = []): Promise<string> {
  const res = await call(a, 'POST', '/scim2/Groups', { schemas: [], displayName, members: members.map((value) => ({ value })) });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

const patchOp = (...Operations: Json[]) => ({ schemas: [PATCH_OP], Operations });
const filter = (f: string) => `/scim2/Users?filter=${encodeURIComponent(f)}`;

async function storedTokens(userId: string): Promise<number> {
  const client = new pg.Client({ connectionString: a.databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM oauth_payload WHERE payload->>'accountId' = $1`, [userId]);
    return rows[0]!.n;
  } finally {
    await client.end();
  }
}

describe('roles through the admin API', () => {
  it('creates, reads, changes, assigns, unassigns and deletes roles, with clear 400/404/409 errors', async () => {
    const alice = await createUser('role-alice');
    const bob = await createUser('role-bob');
    const team = await createGroup('role-team', [bob]);

    const created = await admin('POST', '/roles', { name: 'viewers', description: 'read users', permissions: ['internal_user_mgt_view'], users: [alice] });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ name: 'viewers', description: 'read users', permissions: ['internal_user_mgt_view'], users: [{ id: alice, name: 'role-alice' }], groups: [], version: 1 });
    const id = created.body.id as string;

    expect((await admin('GET', `/roles/${id}`)).body).toMatchObject({ id, name: 'viewers' });
    expect(((await admin('GET', '/roles')).body as unknown as Json[]).map((r) => r.name)).toContain('viewers');

    const patched = await admin('PATCH', `/roles/${id}`, { name: 'user-viewers', permissions: ['internal_user_mgt_view', 'internal_user_mgt_list'] });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body).toMatchObject({ name: 'user-viewers', permissions: ['internal_user_mgt_view', 'internal_user_mgt_list'], users: [{ id: alice }] });

    expect((await admin('POST', `/roles/${id}/groups`, { groups: [team] })).body).toMatchObject({ groups: [{ id: team, name: 'role-team' }] });
    // bob holds the role through role-team; alice directly.
    const bobs = await admin('GET', `/users/${bob}/roles`);
    expect(bobs.body).toMatchObject({ userId: bob, roles: [{ id, name: 'user-viewers', direct: false, viaGroups: [{ id: team, name: 'role-team' }] }] });
    expect(bobs.body.permissions).toEqual(['internal_login', 'internal_user_mgt_list', 'internal_user_mgt_view']);

    expect((await admin('DELETE', `/roles/${id}/users/${alice}`)).status).toBe(204);
    expect((await admin('DELETE', `/roles/${id}/users/${alice}`)).status).toBe(404);
    expect((await admin('GET', `/users/${alice}/roles`)).body).toMatchObject({ roles: [], permissions: ['internal_login'] });

    // Bad input changes nothing.
    const badPermission = await admin('POST', '/roles', { name: 'x', permissions: ['root'] });
    expect(badPermission).toMatchObject({ status: 400, body: { code: 'invalid_request' } });
    const unknownUser = await admin('POST', `/roles/${id}/users`, { users: ['00000000-0000-4000-8000-000000000000'] });
    expect(unknownUser).toMatchObject({ status: 400, body: { code: 'invalid_request' } });
    expect(unknownUser.body.message).toMatch(/No user with id/);
    expect((await admin('POST', '/roles', { name: 'USER-VIEWERS' })).status).toBe(409);
    expect((await admin('GET', `/roles/${id}`)).body).toMatchObject({ name: 'user-viewers', users: [], version: 4 });

    expect((await admin('DELETE', `/roles/${id}`)).status).toBe(204);
    expect((await admin('GET', `/roles/${id}`)).status).toBe(404);
    expect((await admin('GET', `/users/${bob}/roles`)).body).toMatchObject({ roles: [] });
  });
});

describe('SCIM /Roles (WSO2 Roles API)', () => {
  it("creates, lists, filters, patches, replaces and deletes roles, guarded by WSO2's internal_role_mgt_* scopes", async () => {
    const carol = await createUser('scim-carol');
    const dave = await createUser('scim-dave');
    const ops = await createGroup('scim-ops');
    const app = await application({ name: 'role-manager', scopes: [...ROLE_SCOPES, 'internal_user_mgt_view'] });
    const t = await token(app, { grant_type: 'client_credentials' });

    const created = await call(a, 'POST', '/scim2/Roles', { schemas: [ROLE_SCHEMA], displayName: 'auditors', users: [{ value: carol }], permissions: [{ value: 'internal_user_mgt_list' }] }, t);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    expect(created.headers.get('location')).toBe(`${a.baseUrl}/scim2/Roles/${id}`);
    expect(created.body).toMatchObject({
      schemas: [ROLE_SCHEMA],
      displayName: 'auditors',
      users: [{ value: carol, $ref: `${a.baseUrl}/scim2/Users/${carol}` }],
      permissions: [{ value: 'internal_user_mgt_list' }],
      meta: { resourceType: 'Role', location: `${a.baseUrl}/scim2/Roles/${id}`, version: 'W/"1"' },
    });
    expect(created.body.groups).toBeUndefined();
    // The server's names of the assigned users come when asked for (returned: request, as for Group members).
    const named = await call(a, 'GET', `/scim2/Roles/${id}?attributes=users.display,externalId`, undefined, t);
    expect(named.body.users).toEqual([{ display: 'scim-carol' }]);

    const listed = await call(a, 'GET', `/scim2/Roles?filter=${encodeURIComponent('displayName eq "auditors"')}`, undefined, t);
    expect(listed.body).toMatchObject({ totalResults: 1, Resources: [{ id, displayName: 'auditors' }] });
    expect((await call(a, 'GET', `/scim2/Roles?filter=${encodeURIComponent('displayName sw "audit"')}`, undefined, t)).body.totalResults).toBe(1);
    const badFilter = await call(a, 'GET', `/scim2/Roles?filter=${encodeURIComponent('users.value eq "x"')}`, undefined, t);
    expect(badFilter).toMatchObject({ status: 400, body: { scimType: 'invalidFilter' } });

    // WSO2's PATCH forms: add users and groups, remove by value filter, replace displayName and permissions.
    const patched = await call(
      a,
      'PATCH',
      `/scim2/Roles/${id}`,
      patchOp(
        { op: 'add', path: 'users', value: [{ value: dave }] },
        { op: 'add', path: 'groups', value: [{ value: ops }] },
        { op: 'remove', path: `users[value eq "${carol}"]` },
        { op: 'add', path: 'permissions', value: [{ value: 'internal_user_mgt_view' }] },
        { op: 'replace', path: 'displayName', value: 'auditors-2' },
      ),
      t,
    );
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body).toMatchObject({ displayName: 'auditors-2', users: [{ value: dave }], groups: [{ value: ops, $ref: `${a.baseUrl}/scim2/Groups/${ops}` }] });
    expect((patched.body.permissions as Json[]).map((p) => p.value).sort()).toEqual(['internal_user_mgt_list', 'internal_user_mgt_view']);
    expect(patched.headers.get('etag')).toBe('W/"2"');

    // A bad operation applies nothing of the request (all or none), and a stale If-Match is 412.
    const refused = await call(a, 'PATCH', `/scim2/Roles/${id}`, patchOp({ op: 'remove', path: 'users' }, { op: 'add', path: 'users', value: [{ value: 'not-a-user' }] }), t);
    expect(refused).toMatchObject({ status: 400, body: { scimType: 'invalidValue' } });
    const stale = await fetch(`${a.baseUrl}/scim2/Roles/${id}`, {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${t}`, 'Content-Type': 'application/scim+json', 'If-Match': 'W/"1"' },
      body: JSON.stringify(patchOp({ op: 'replace', path: 'displayName', value: 'late' })),
    });
    expect(stale.status).toBe(412);
    expect((await call(a, 'GET', `/scim2/Roles/${id}`, undefined, t)).body).toMatchObject({ displayName: 'auditors-2', users: [{ value: dave }] });

    const replaced = await call(a, 'PUT', `/scim2/Roles/${id}`, { schemas: [ROLE_SCHEMA], displayName: 'auditors-3', externalId: 'ext-7', permissions: ['internal_user_mgt_view'] }, t);
    expect(replaced.status, JSON.stringify(replaced.body)).toBe(200);
    expect(replaced.body).toMatchObject({ displayName: 'auditors-3', externalId: 'ext-7', permissions: [{ value: 'internal_user_mgt_view' }] });
    // Empty multi-valued attributes are unassigned, hence absent (RFC 7643 §2.4).
    expect(replaced.body.users).toBeUndefined();
    expect(replaced.body.groups).toBeUndefined();

    // Scopes: a token without internal_role_mgt_* gets 403 insufficient_scope.
    const reader = await application({ name: 'user-reader', scopes: ['internal_user_mgt_view'] });
    const rt = await token(reader, { grant_type: 'client_credentials' });
    const forbidden = await call(a, 'GET', `/scim2/Roles/${id}`, undefined, rt);
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get('www-authenticate')).toMatch(/insufficient_scope/);

    expect((await call(a, 'DELETE', `/scim2/Roles/${id}`, undefined, t)).status).toBe(204);
    expect((await call(a, 'GET', `/scim2/Roles/${id}`, undefined, t)).status).toBe(404);
  });
});

describe("a password-grant token carries what the user's roles permit", () => {
  let app: { id: string; clientId: string; clientSecret: string };
  let erin: string;
  let victim: string;

  beforeAll(async () => {
    app = await application({ name: 'portal', grantTypes: ['password'], scopes: ['internal_login', 'internal_user_mgt_update', 'internal_user_mgt_view'] });
    erin = await createUser('erin', { password: 'Erin-pw-1' });
    victim = await createUser('victim', { displayName: 'Victim' });
  });

  it('regression: an end user without a role cannot PATCH other users through an application that has internal_user_mgt_update', async () => {
    // Asking for more than the roles permit narrows the token (RFC 6749 §3.3); the answer's scope says so.
    const narrowed = await tokenRequest(app, { grant_type: 'password', username: 'erin', password: 'Erin-pw-1', scope: 'internal_user_mgt_update internal_login' });
    expect(narrowed.status, JSON.stringify(narrowed.body)).toBe(200);
    expect(narrowed.body.scope).toBe('internal_login');
    // Nothing the request named is permitted: invalid_scope.
    const refused = await tokenRequest(app, { grant_type: 'password', username: 'erin', password: 'Erin-pw-1', scope: 'internal_user_mgt_update' });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_scope');
    // The default (no scope asked) is the application's scopes the user may hold: self-service only.
    expect((await tokenRequest(app, { grant_type: 'password', username: 'erin', password: 'Erin-pw-1' })).body.scope).toBe('internal_login');

    const t = narrowed.body.access_token as string;
    const attack = await call(a, 'PATCH', `/scim2/Users/${victim}`, patchOp({ op: 'replace', path: 'displayName', value: 'pwned' }), t);
    expect(attack.status).toBe(403);
    expect(attack.headers.get('www-authenticate')).toMatch(/insufficient_scope/);
    expect((await call(a, 'GET', `/scim2/Users/${victim}`)).body.displayName).toBe('Victim');
    // What every user may do still works: /Me.
    expect((await call(a, 'GET', '/scim2/Me', undefined, t)).body).toMatchObject({ id: erin, userName: 'erin' });
  });

  it('with a role that permits it the token works; removing the role narrows the live token at once', async () => {
    const role = await admin('POST', '/roles', { name: 'user-editors', permissions: ['internal_user_mgt_update'], users: [erin] });
    expect(role.status, JSON.stringify(role.body)).toBe(201);
    const granted = await tokenRequest(app, { grant_type: 'password', username: 'erin', password: 'Erin-pw-1', scope: 'internal_user_mgt_update internal_login' });
    expect(granted.body.scope).toBe('internal_user_mgt_update internal_login');
    const t = granted.body.access_token as string;
    const edit = await call(a, 'PATCH', `/scim2/Users/${victim}`, patchOp({ op: 'replace', path: 'title', value: 'edited' }), t);
    expect(edit.status, JSON.stringify(edit.body)).toBe(200);

    expect((await admin('DELETE', `/roles/${role.body.id as string}/users/${erin}`)).status).toBe(204);
    const after = await call(a, 'PATCH', `/scim2/Users/${victim}`, patchOp({ op: 'replace', path: 'title', value: 'again' }), t);
    expect(after.status).toBe(403);
    expect(after.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);
    expect((await call(a, 'GET', '/scim2/Me', undefined, t)).status).toBe(200);
  });

  it('a group assigned to a role gives its members the role', async () => {
    const readers = await createGroup('readers', [erin]);
    expect((await admin('POST', '/roles', { name: 'readers-role', permissions: ['internal_user_mgt_view'], groups: [readers] })).status).toBe(201);
    const t = await token(app, { grant_type: 'password', username: 'erin', password: 'Erin-pw-1', scope: 'internal_user_mgt_view' });
    expect((await call(a, 'GET', `/scim2/Users/${victim}`, undefined, t)).status).toBe(200);
    // Leaving the group takes the role away, at once.
    expect((await call(a, 'PATCH', `/scim2/Groups/${readers}`, patchOp({ op: 'remove', path: `members[value eq "${erin}"]` }))).status).toBe(200);
    expect((await call(a, 'GET', `/scim2/Users/${victim}`, undefined, t)).status).toBe(403);
  });

  it('a password change ends the old token (401 invalid_token) and deletes it; a new login works', async () => {
    const old = await token(app, { grant_type: 'password', username: 'erin', password: 'Erin-pw-1', scope: 'internal_login' });
    expect((await call(a, 'GET', '/scim2/Me', undefined, old)).status).toBe(200);
    expect(await storedTokens(erin)).toBeGreaterThan(0);
    const changed = await call(a, 'PATCH', `/scim2/Users/${erin}`, patchOp({ op: 'replace', path: 'password', value: 'Erin-pw-2' }));
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(await storedTokens(erin)).toBe(0);

    const refused = await call(a, 'GET', '/scim2/Me', undefined, old);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect((await tokenRequest(app, { grant_type: 'password', username: 'erin', password: 'Erin-pw-1' })).body.error).toBe('invalid_grant');
    const fresh = await token(app, { grant_type: 'password', username: 'erin', password: 'Erin-pw-2', scope: 'internal_login' });
    expect((await call(a, 'GET', '/scim2/Me', undefined, fresh)).status).toBe(200);
    // A change that does not touch the password leaves the session alone.
    expect((await call(a, 'PATCH', `/scim2/Users/${erin}`, patchOp({ op: 'replace', path: 'title', value: 'still in' }))).status).toBe(200);
    expect((await call(a, 'GET', '/scim2/Me', undefined, fresh)).status).toBe(200);
  });

  it('deactivation ends the token, and reactivation does not bring it back', async () => {
    const t = await token(app, { grant_type: 'password', username: 'erin', password: 'Erin-pw-2', scope: 'internal_login' });
    expect((await call(a, 'PATCH', `/scim2/Users/${erin}`, patchOp({ op: 'replace', path: 'active', value: false }))).status).toBe(200);
    const refused = await call(a, 'GET', '/scim2/Me', undefined, t);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect((await call(a, 'PATCH', `/scim2/Users/${erin}`, patchOp({ op: 'replace', path: 'active', value: true }))).status).toBe(200);
    expect((await call(a, 'GET', '/scim2/Me', undefined, t)).status).toBe(401);
  });

  it('client-credentials tokens keep the application\'s scopes (the application acts for itself)', async () => {
    const service = await application({ name: 'sync-service', scopes: ['internal_user_mgt_update'] });
    const t = await token(service, { grant_type: 'client_credentials', scope: 'internal_user_mgt_update' });
    expect((await call(a, 'PATCH', `/scim2/Users/${victim}`, patchOp({ op: 'replace', path: 'title', value: 'by service' }), t)).status).toBe(200);
  });
});

describe('an application restricted to its user store domain', () => {
  it('regression: an application bound to a secondary domain cannot read, filter, PATCH or create PRIMARY users', async () => {
    expect((await admin('POST', '/userstores', { name: 'partners' })).status).toBe(201);
    const primaryUser = await createUser('pat', { password: 'Pat-pw-123' });
    const primaryGroup = await createGroup('primary-admins', [primaryUser]);
    const app = await application({
      name: 'partner-portal',
      grantTypes: ['client_credentials', 'password'],
      scopes: [...USER_SCOPES, ...GROUP_SCOPES, ...ROLE_SCOPES, 'internal_bulk_resource_create', 'internal_bulk_user_create', 'internal_login'],
      inboundProvisioning: { userStoreDomain: 'PARTNERS', restrictToDomain: true },
    });
    expect((await admin('GET', `/applications/${app.id}`)).body.inboundProvisioning).toEqual({ userStoreDomain: 'PARTNERS', restrictToDomain: true });
    const t = await token(app, { grant_type: 'client_credentials' });

    const own = await call(a, 'POST', '/scim2/Users', { userName: 'quinn', password: 'Quinn-pw-1' }, t);
    expect(own.status, JSON.stringify(own.body)).toBe(201);
    expect(own.body.userName).toBe('PARTNERS/quinn');
    const ownId = own.body.id as string;

    // Reads: another domain's user does not exist for it.
    expect((await call(a, 'GET', `/scim2/Users/${primaryUser}`, undefined, t)).status).toBe(404);
    expect((await call(a, 'GET', filter('userName eq "pat"'), undefined, t)).body.totalResults).toBe(0);
    const all = await call(a, 'GET', '/scim2/Users', undefined, t);
    expect((all.body.Resources as Json[]).map((r) => r.userName)).toEqual(['PARTNERS/quinn']);
    const search = await call(a, 'POST', '/scim2/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: 'userName pr' }, t);
    expect((search.body.Resources as Json[]).map((r) => r.userName ?? r.displayName)).toEqual(['PARTNERS/quinn']);
    expect((await call(a, 'GET', `/scim2/Groups/${primaryGroup}`, undefined, t)).status).toBe(404);

    // Writes: 404 for another domain's resources, 403 for a new one in another domain.
    const patch = await call(a, 'PATCH', `/scim2/Users/${primaryUser}`, patchOp({ op: 'replace', path: 'title', value: 'x' }), t);
    expect(patch).toMatchObject({ status: 404, body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '404' } });
    expect((await call(a, 'PUT', `/scim2/Users/${primaryUser}`, { userName: 'pat' }, t)).status).toBe(404);
    expect((await call(a, 'DELETE', `/scim2/Users/${primaryUser}`, undefined, t)).status).toBe(404);
    const foreign = await call(a, 'POST', '/scim2/Users', { userName: 'PRIMARY/intruder' }, t);
    expect(foreign.status).toBe(403);
    expect(foreign.body.detail).toMatch(/restricted to user store domain PARTNERS/);
    const foreignGroup = await call(a, 'POST', '/scim2/Groups', { displayName: 'PRIMARY/rogue' }, t);
    expect(foreignGroup.status).toBe(403);
    const smuggled = await call(a, 'POST', '/scim2/Groups', { displayName: 'partner-team', members: [{ value: primaryUser }] }, t);
    expect(smuggled).toMatchObject({ status: 400, body: { scimType: 'invalidValue' } });
    const team = await call(a, 'POST', '/scim2/Groups', { displayName: 'partner-team', members: [{ value: ownId }] }, t);
    expect(team.status, JSON.stringify(team.body)).toBe(201);
    const addForeign = await call(a, 'PATCH', `/scim2/Groups/${team.body.id as string}`, patchOp({ op: 'add', path: 'members', value: [{ value: primaryUser }] }), t);
    expect(addForeign.status).toBe(400);
    const bulk = await call(
      a,
      'POST',
      '/scim2/Bulk',
      {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
        Operations: [
          { method: 'POST', path: '/Users', bulkId: 'p', data: { userName: 'PRIMARY/bulk-intruder' } },
          { method: 'POST', path: '/Users', bulkId: 'q', data: { userName: 'bulk-partner' } },
        ],
      },
      t,
    );
    expect((bulk.body.Operations as Json[]).map((o) => o.status)).toEqual(['403', '201']);
    expect((await call(a, 'GET', filter('userName eq "intruder" or userName eq "bulk-intruder"'))).body.totalResults).toBe(0);
    expect((await call(a, 'GET', `/scim2/Users/${primaryUser}`)).body.title).toBeUndefined();
    // Roles span every domain: not for it.
    expect((await call(a, 'GET', '/scim2/Roles', undefined, t)).status).toBe(403);
    // Its password grant serves its own domain's users only.
    const login = await tokenRequest(app, { grant_type: 'password', username: 'PRIMARY/pat', password: 'Pat-pw-123', scope: 'internal_login' });
    expect(login.body.error).toBe('invalid_grant');

    // Off by default: an unrestricted application on the same domain still reaches every domain.
    const open = await application({ name: 'partner-sync', scopes: ['internal_user_mgt_view'], inboundProvisioning: { userStoreDomain: 'PARTNERS' } });
    const ot = await token(open, { grant_type: 'client_credentials' });
    expect((await call(a, 'GET', `/scim2/Users/${primaryUser}`, undefined, ot)).status).toBe(200);
  });
});

describe('role-based outbound provisioning', () => {
  it('assigning a user to a provisioning role provisions it to the target; unassigning deprovisions it; others are not sent', async () => {
    const { idpId } = await linkScim2Target(a, b, { blocking: false, idpName: 'IS2-roles' });
    const provisionRole = await admin('POST', '/roles', { name: 'provision' });
    expect(provisionRole.status).toBe(201);
    const roleId = provisionRole.body.id as string;
    const roles = await admin('PUT', `/identity-providers/${idpId}/roles`, { outboundProvisioningRoles: ['provision'] });
    expect(roles).toMatchObject({ status: 200, body: { outboundProvisioningRoles: ['provision'] } });
    // While it provisions by it, the role cannot be deleted.
    expect((await admin('DELETE', `/roles/${roleId}`)).status).toBe(409);

    const onB = async (userName: string) => (await call(b, 'GET', filter(`userName eq "${userName}"`))).body.totalResults as number;
    const audited = (userId: string, pred: (r: Json) => boolean) =>
      eventually(async () => {
        const rows = (await admin('GET', `/provisioning/audit?userId=${userId}`)).body as unknown as Json[];
        return rows.find(pred);
      }, 30_000, `an audit record of ${userId}`);

    // Outside the role: not sent (audited as skipped, saying why).
    const frank = await createUser('frank', { emails: [{ value: 'frank@example.org' }] });
    const skipped = await audited(frank, (r) => r.outcome === 'skipped');
    expect(skipped.error).toMatch(/outbound provisioning roles/);
    expect(await onB('frank')).toBe(0);

    // Assigned (SCIM /Roles PATCH, as WSO2's console does): provisioned.
    const assign = await call(a, 'PATCH', `/scim2/Roles/${roleId}`, patchOp({ op: 'add', path: 'users', value: [{ value: frank }] }));
    expect(assign.status, JSON.stringify(assign.body)).toBe(200);
    await eventually(async () => ((await onB('frank')) === 1 ? true : undefined), 30_000, 'frank on B');
    // Holding it, later changes follow.
    expect((await call(a, 'PATCH', `/scim2/Users/${frank}`, patchOp({ op: 'replace', path: 'displayName', value: 'Frank F.' }))).status).toBe(200);
    await eventually(async () => {
      const r = await call(b, 'GET', filter('userName eq "frank"'));
      return (r.body.Resources as Json[])[0]?.displayName === 'Frank F.' ? true : undefined;
    }, 30_000, "frank's update on B");

    // Through a group: members of a group assigned to the role are provisioned too.
    const gina = await createUser('gina');
    const crew = await createGroup('crew', [gina]);
    expect((await admin('POST', `/roles/${roleId}/groups`, { groups: [crew] })).status).toBe(200);
    await eventually(async () => ((await onB('gina')) === 1 ? true : undefined), 30_000, 'gina on B');

    // Joining or leaving a group that holds the role provisions or deprovisions, too.
    const hank = await createUser('hank');
    expect((await call(a, 'PATCH', `/scim2/Groups/${crew}`, patchOp({ op: 'add', path: 'members', value: [{ value: hank }] }))).status).toBe(200);
    await eventually(async () => ((await onB('hank')) === 1 ? true : undefined), 30_000, 'hank on B');
    expect((await call(a, 'PATCH', `/scim2/Groups/${crew}`, patchOp({ op: 'remove', path: `members[value eq "${hank}"]` }))).status).toBe(200);
    await eventually(async () => ((await onB('hank')) === 0 ? true : undefined), 30_000, 'hank gone from B');

    // Unassigned: deprovisioned (deleted at B, the connector's default), and a later change is not sent.
    expect((await admin('DELETE', `/roles/${roleId}/users/${frank}`)).status).toBe(204);
    await eventually(async () => ((await onB('frank')) === 0 ? true : undefined), 30_000, 'frank gone from B');
    const deprovisioned = await audited(frank, (r) => r.operation === 'delete' && r.outcome === 'delivered');
    expect(deprovisioned.connectorId).toBeDefined();
    expect((await call(a, 'PATCH', `/scim2/Users/${frank}`, patchOp({ op: 'replace', path: 'title', value: 'gone' }))).status).toBe(200);
    await audited(frank, (r) => r.outcome === 'skipped' && r.operation === 'update' && /outbound provisioning roles/.test(String(r.error)));
    expect(await onB('frank')).toBe(0);
    // gina still holds it through crew.
    expect(await onB('gina')).toBe(1);
  });
});
