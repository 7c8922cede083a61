/**
 * The seeds' SCIM 1.1 outbound set-up (004: "SCIM 1.1 Provisioning Configuration", user endpoint
 * https://host:9443/wso2/scim/Users), for real: two server instances, A provisioning to B's SCIM 1.1 endpoint
 * through the scim11 connector (a built-in connector). B's /wso2/scim endpoint is also
 * exercised directly, as a SCIM 1.1 client would use it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startInstance, type Instance } from './harness.js';

const CORE = 'urn:scim:schemas:core:1.0';
const ENTERPRISE = 'urn:scim:schemas:extension:enterprise:1.0';

interface ScimUser {
  id: string;
  userName: string;
  schemas: string[];
  nickName?: string;
  emails?: { value: string; type?: string; primary?: boolean }[];
  name?: { givenName?: string; familyName?: string };
  meta: { version: string; location?: string };
  [key: string]: unknown;
}
interface ListResponse {
  schemas?: string[];
  totalResults: number;
  Resources: ScimUser[];
}
interface RemoteLink {
  connectorId: string;
  remoteId: string | null;
}
interface AuditRow {
  operation: string;
  outcome: string;
  initiator?: string | null;
}

async function json<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

async function findByUserName(instance: Instance, userName: string): Promise<ListResponse> {
  const res = await instance.request('GET', `/scim2/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`);
  expect(res.status).toBe(200);
  return json<ListResponse>(res);
}

async function remoteLinks(instance: Instance, userId: string): Promise<RemoteLink[]> {
  return json<RemoteLink[]>(await instance.request('GET', `/api/server/v1/provisioning/users/${userId}/remote-links`));
}

/** Configures `source` to provision to `target` over SCIM 1.1 (the scim11 plug-in), linked from the resident SP. */
async function linkScim11Target(source: Instance, target: Instance, opts: { blocking: boolean }): Promise<string> {
  const res = await source.request('POST', '/api/server/v1/identity-providers', {
    name: 'IS2-scim11',
    description: 'second instance, over SCIM 1.1',
    outboundConnectors: [
      {
        type: 'scim11',
        settings: {
          userEndpoint: `${target.baseUrl}/wso2/scim/Users`,
          groupEndpoint: `${target.baseUrl}/wso2/scim/Groups`,
          username: target.admin.username,
          userStoreDomain: 'PRIMARY',
          timeoutMs: 20_000,
        },
        secrets: { password: target.admin.password },
        passwordProvisioning: true,
        retry: { initialIntervalMs: 200, maximumIntervalMs: 1000 },
      },
    ],
  });
  if (res.status !== 201) throw new Error(`creating the identity provider failed: ${res.status} ${await res.text()}`);
  const idp = (await res.json()) as { outboundConnectors: { id: string }[] };
  const connectorId = idp.outboundConnectors[0]!.id;
  const link = await source.request('POST', '/api/server/v1/applications/resident/provisioning/outbound-connectors', {
    connectorId,
    blocking: opts.blocking,
  });
  if (link.status !== 201) throw new Error(`linking the connector failed: ${link.status} ${await link.text()}`);
  return connectorId;
}

describe('SCIM 1.1', () => {
  let a: Instance;
  let b: Instance;

  beforeAll(async () => {
    [a, b] = await Promise.all([startInstance('A'), startInstance('B')]);
    await linkScim11Target(a, b, { blocking: true });
  });
  afterAll(async () => {
    await Promise.allSettled([a?.stop(), b?.stop()]);
  });

  it('A provisions a user created, updated and deleted over SCIM 2.0 to B over SCIM 1.1', async () => {
    const userName = 'rashmini-11';
    const created = await a.request('POST', '/scim2/Users', {
      schemas: [],
      name: { familyName: 'N', givenName: 'Rashmini' },
      userName,
      password: 'abc123-Secret',
      emails: [{ primary: true, value: `${userName}@gmail.com`, type: 'home' }],
    });
    expect(created.status).toBe(201);
    const user = await json<ScimUser>(created);

    // Blocking link: A answered after B did.
    const onB = await findByUserName(b, userName);
    expect(onB.totalResults).toBe(1);
    const remote = onB.Resources[0]!;
    expect(remote.emails).toEqual([{ value: `${userName}@gmail.com`, type: 'home', primary: true }]);
    expect(remote.name).toMatchObject({ givenName: 'Rashmini', familyName: 'N' });

    const links = await eventually(async () => {
      const l = await remoteLinks(a, user.id);
      return l[0]?.remoteId ? l : undefined;
    }, 10_000, 'the remote link on A');
    expect(links).toHaveLength(1);
    expect(links[0]!.remoteId).toBe(remote.id);

    const updated = await a.request('PUT', `/scim2/Users/${user.id}`, {
      schemas: [],
      name: { familyName: 'N', givenName: 'Rashmini' },
      userName,
      emails: [{ value: `${userName}@example.org`, type: 'work' }],
    });
    expect(updated.status).toBe(200);
    const afterUpdate = await json<ScimUser>(await b.request('GET', `/scim2/Users/${remote.id}`));
    expect(afterUpdate.emails).toEqual([{ value: `${userName}@example.org`, type: 'work', primary: false }]);

    expect((await a.request('DELETE', `/scim2/Users/${user.id}`)).status).toBe(204);
    expect((await b.request('GET', `/scim2/Users/${remote.id}`)).status).toBe(404);

    const audit = await eventually(async () => {
      const rows = await json<AuditRow[]>(await a.request('GET', `/api/server/v1/provisioning/audit?userId=${user.id}`));
      return rows.length >= 3 ? rows : undefined;
    }, 10_000, 'three audit records on A');
    expect(audit.map((r) => `${r.operation}:${r.outcome}`).sort()).toEqual(['create:delivered', 'delete:delivered', 'update:delivered']);
  });

  it('a write through the SCIM 1.1 endpoint runs the provisioning workflow: a user created over 1.1 on A reaches B', async () => {
    const res = await a.request('POST', '/wso2/scim/Users', { schemas: [CORE], userName: 'via-11', password: 'abc123-Secret', emails: [{ value: 'via-11@example.com' }] });
    expect(res.status).toBe(201);
    const user = await json<ScimUser>(res);
    expect((await findByUserName(b, 'via-11')).totalResults).toBe(1);
    const audit = await eventually(async () => {
      const rows = await json<AuditRow[]>(await a.request('GET', `/api/server/v1/provisioning/audit?userId=${user.id}`));
      return rows.length >= 1 ? rows : undefined;
    }, 10_000, 'the audit record on A');
    expect(audit[0]).toMatchObject({ operation: 'create', outcome: 'delivered', initiator: 'admin via scim11' });
  });

  it('B serves users over SCIM 1.1: POST, GET, filter, PATCH, PUT, DELETE, with 1.1 bodies and errors', async () => {
    const created = await b.request('POST', '/wso2/scim/Users', {
      schemas: [CORE, ENTERPRISE],
      userName: 'bjensen',
      nickName: 'Babs',
      name: { givenName: 'Barbara', familyName: 'Jensen' },
      emails: [{ value: 'bjensen@example.com', type: 'work', primary: true }],
      password: 'abc123-Secret',
      [ENTERPRISE]: { department: 'Tours', manager: { managerId: 'someone', displayName: 'Boss' } },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('content-type')).toMatch(/^application\/json/);
    const user = await json<ScimUser>(created);
    expect(user.schemas).toEqual([CORE, ENTERPRISE]);
    expect(user[ENTERPRISE]).toEqual({ department: 'Tours', manager: { managerId: 'someone', displayName: 'Boss' } });
    expect(user.meta.location).toBe(`${b.baseUrl}/wso2/scim/Users/${user.id}`);
    expect(created.headers.get('location')).toBe(`${b.baseUrl}/wso2/scim/Users/${user.id}`);
    expect(JSON.stringify(user)).not.toContain('abc123-Secret');

    // The same user through SCIM 2.0.
    const as20 = await json<ScimUser>(await b.request('GET', `/scim2/Users/${user.id}`));
    expect(as20['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User']).toMatchObject({ department: 'Tours', manager: { value: 'someone' } });

    const got = await b.request('GET', `/wso2/scim/Users/${user.id}`);
    expect(got.status).toBe(200);
    expect((await json<ScimUser>(got)).userName).toBe('bjensen');

    const list = await json<ListResponse>(await b.request('GET', `/wso2/scim/Users?filter=${encodeURIComponent('userName eq "bjensen"')}`));
    expect(list.schemas).toEqual([CORE]);
    expect(list.totalResults).toBe(1);
    expect(list.Resources[0]!.id).toBe(user.id);
    const byDept = await json<ListResponse>(
      await b.request('GET', `/wso2/scim/Users?filter=${encodeURIComponent(`${ENTERPRISE}:department eq "Tours"`)}`),
    );
    expect(byDept.Resources.map((r) => r.id)).toEqual([user.id]);

    const badFilter = await b.request('GET', `/wso2/scim/Users?filter=${encodeURIComponent('userName ne "x"')}`);
    expect(badFilter.status).toBe(400);
    expect((await json<{ Errors: { code: string; description: string }[] }>(badFilter)).Errors[0]).toMatchObject({ code: '400' });

    const duplicate = await b.request('POST', '/wso2/scim/Users', { schemas: [CORE], userName: 'bjensen' });
    expect(duplicate.status).toBe(409);
    const dupBody = await json<{ Errors: { code: string; description: string }[] }>(duplicate);
    expect(dupBody.Errors).toHaveLength(1);
    expect(dupBody.Errors[0]!.code).toBe('409');

    // SCIM 1.1 PATCH: add an email, remove nickName, delete the old email.
    const patched = await b.request('PATCH', `/wso2/scim/Users/${user.id}`, {
      schemas: [CORE],
      meta: { attributes: ['nickName'] },
      emails: [{ value: 'babs@jensen.org', type: 'home', primary: true }, { value: 'bjensen@example.com', operation: 'delete' }],
      title: 'Lead',
    });
    expect(patched.status).toBe(200);
    const afterPatch = await json<ScimUser>(patched);
    expect(afterPatch.nickName).toBeUndefined();
    expect(afterPatch.title).toBe('Lead');
    expect(afterPatch.emails).toEqual([{ value: 'babs@jensen.org', type: 'home', primary: true }]);
    expect(afterPatch.name).toEqual({ givenName: 'Barbara', familyName: 'Jensen' });
    expect(afterPatch.meta.version).toBe('W/"2"');

    const put = await b.request('PUT', `/wso2/scim/Users/${user.id}`, { schemas: [CORE], userName: 'bjensen', displayName: 'Babs Jensen' });
    expect(put.status).toBe(200);
    const afterPut = await json<ScimUser>(put);
    expect(afterPut.displayName).toBe('Babs Jensen');
    expect(afterPut.emails).toBeUndefined();

    const deleted = await b.request('DELETE', `/wso2/scim/Users/${user.id}`);
    expect(deleted.status).toBe(200); // SCIM 1.1: 200 OK on deletion
    const gone = await b.request('GET', `/wso2/scim/Users/${user.id}`);
    expect(gone.status).toBe(404);
    expect((await json<{ Errors: { code: string }[] }>(gone)).Errors[0]!.code).toBe('404');

    const anonymous = await fetch(`${b.baseUrl}/wso2/scim/Users`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({ Errors: [{ description: expect.stringMatching(/Authentication required/), code: '401' }] });
  });

  it('B serves groups over SCIM 1.1, with 1.1 PATCH of members', async () => {
    const u1 = await json<ScimUser>(await b.request('POST', '/wso2/scim/Users', { schemas: [CORE], userName: 'member-1' }));
    const u2 = await json<ScimUser>(await b.request('POST', '/wso2/scim/Users', { schemas: [CORE], userName: 'member-2' }));
    const created = await b.request('POST', '/wso2/scim/Groups', { schemas: [CORE], displayName: 'Tour Guides', members: [{ value: u1.id }] });
    expect(created.status).toBe(201);
    const group = await json<{ id: string; schemas: string[]; members?: { value: string }[]; meta: { location: string } }>(created);
    expect(group.schemas).toEqual([CORE]);
    expect(group.members?.map((m) => m.value)).toEqual([u1.id]);
    expect(group.members?.[0]).not.toHaveProperty('$ref');
    expect(group.meta.location).toBe(`${b.baseUrl}/wso2/scim/Groups/${group.id}`);

    const found = await json<ListResponse>(await b.request('GET', `/wso2/scim/Groups?filter=${encodeURIComponent('displayName eq "Tour Guides"')}`));
    expect(found.Resources.map((g) => g.id)).toEqual([group.id]);

    const patched = await b.request('PATCH', `/wso2/scim/Groups/${group.id}`, {
      schemas: [CORE],
      members: [{ value: u2.id }, { value: u1.id, operation: 'delete' }],
    });
    expect(patched.status).toBe(200);
    expect((await json<{ members?: { value: string }[] }>(patched)).members?.map((m) => m.value)).toEqual([u2.id]);

    const replaced = await b.request('PATCH', `/wso2/scim/Groups/${group.id}`, { schemas: [CORE], meta: { attributes: ['members'] } });
    expect(replaced.status).toBe(200);
    expect((await json<{ members?: unknown[] }>(replaced)).members).toBeUndefined();

    expect((await b.request('DELETE', `/wso2/scim/Groups/${group.id}`)).status).toBe(200);
    expect((await b.request('GET', `/wso2/scim/Groups/${group.id}`)).status).toBe(404);
  });
});
