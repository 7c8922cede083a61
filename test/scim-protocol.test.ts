/**
 * RFC 7644 beyond the Users slice, on one instance over real HTTP: Groups and memberships, PATCH through
 * InboundProvision, ETags, Bulk with bulkId references, .search, cursor and index paging, sorting,
 * attribute projection and the password policy.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRIMARY_DOMAIN_ID } from '../src/provisioning/defaults.js';
import { startInstance, type Instance } from './harness.js';

let is: Instance;

beforeAll(async () => {
  is = await startInstance('scimproto');
});
afterAll(async () => {
  await is?.stop();
});

type Json = Record<string, unknown>;
const SCIM_JSON = { 'Content-Type': 'application/scim+json' };
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Json; headers: Headers }> {
  const res = await is.request(method, path, body === undefined ? undefined : JSON.stringify(body), { ...SCIM_JSON, ...headers });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {}, headers: res.headers };
}

async function createUser(userName: string, extra: Json = {}): Promise<Json> {
  const res = await call('POST', '/scim2/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

function patch(...operations: Json[]): Json {
  return { schemas: [PATCH_OP], Operations: operations };
}

describe('Groups', () => {
  it('creates a group with members, shows memberships on users, patches members and deletes it', async () => {
    const alice = await createUser('grp-alice');
    const bob = await createUser('grp-bob');
    const carol = await createUser('grp-carol');

    const created = await call('POST', '/scim2/Groups', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: 'Engineering',
      members: [{ value: alice.id }, { value: bob.id, type: 'User' }],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const group = created.body as { id: string; members: { value: string; display: string; type: string }[]; meta: { version: string } };
    expect(created.headers.get('location')).toBe(`${is.baseUrl}/scim2/Groups/${group.id}`);
    // Each member's display is its userName (RFC 7643 §4.2, as WSO2 shows members), computed by the server.
    expect(group.members.map((m) => `${m.type}:${m.display}`).sort()).toEqual(['User:grp-alice', 'User:grp-bob']);
    const withDisplay = await call('GET', `/scim2/Groups/${group.id}?attributes=members.value,members.display`);
    expect((withDisplay.body.members as { display: string }[]).map((m) => m.display).sort()).toEqual(['grp-alice', 'grp-bob']);

    const aliceNow = await call('GET', `/scim2/Users/${String(alice.id)}`);
    expect(aliceNow.body.groups).toEqual([expect.objectContaining({ value: group.id, display: 'Engineering', type: 'direct' })]);

    // A duplicate displayName, ignoring case, is a uniqueness conflict.
    const dup = await call('POST', '/scim2/Groups', { displayName: 'ENGINEERING' });
    expect(dup.status).toBe(409);
    expect(dup.body.scimType).toBe('uniqueness');

    // A member that does not exist is refused and nothing changes.
    const bad = await call('PATCH', `/scim2/Groups/${group.id}`, patch({ op: 'add', path: 'members', value: [{ value: '00000000-0000-4000-8000-0000000000ff' }] }));
    expect(bad.status).toBe(400);
    expect(bad.body.scimType).toBe('invalidValue');

    // Entra's forms: capitalised op, remove with a value array; RFC form: remove by value filter.
    const patched = await call(
      'PATCH',
      `/scim2/Groups/${group.id}`,
      patch(
        { op: 'Add', path: 'members', value: [{ value: carol.id }] },
        { op: 'Remove', path: 'members', value: [{ value: alice.id }] },
        { op: 'remove', path: `members[value eq "${String(bob.id)}"]` },
      ),
    );
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect((patched.body.members as { value: string }[]).map((m) => m.value)).toEqual([carol.id]);
    expect(patched.headers.get('etag')).toBe('W/"2"');

    // Filters on groups: by displayName and by member.
    const byName = await call('GET', `/scim2/Groups?filter=${encodeURIComponent('displayName eq "engineering"')}`);
    expect(byName.body.totalResults).toBe(1);
    const byMember = await call('GET', `/scim2/Groups?filter=${encodeURIComponent(`members.value eq "${String(carol.id)}"`)}&excludedAttributes=members`);
    expect(byMember.body.totalResults).toBe(1);
    expect((byMember.body.Resources as Json[])[0]!.members).toBeUndefined();

    const renamed = await call('PUT', `/scim2/Groups/${group.id}`, { displayName: 'Platform', members: [{ value: alice.id }] });
    expect(renamed.status).toBe(200);
    expect(renamed.body.displayName).toBe('Platform');
    expect((renamed.body.members as { value: string }[]).map((m) => m.value)).toEqual([alice.id]);

    expect((await call('DELETE', `/scim2/Groups/${group.id}`)).status).toBe(204);
    expect((await call('GET', `/scim2/Groups/${group.id}`)).status).toBe(404);
    expect((await call('GET', `/scim2/Users/${String(alice.id)}`)).body.groups).toBeUndefined();
  });
});

describe('PATCH on users', () => {
  it("applies RFC and Microsoft Entra forms through the workflow, bumping the version", async () => {
    const u = await createUser('patch-dana', { name: { givenName: 'Dana' }, emails: [{ value: 'dana@work.example', type: 'work', primary: true }] });
    const res = await call(
      'PATCH',
      `/scim2/Users/${String(u.id)}`,
      patch(
        { op: 'Replace', path: 'active', value: 'False' },
        { op: 'replace', path: 'name.familyName', value: 'Scully' },
        { op: 'add', path: 'emails', value: [{ value: 'dana@home.example', type: 'home' }] },
        { op: 'Replace', value: { 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department': 'X-Files' } },
        { op: 'replace', path: 'addresses[type eq "work"].locality', value: 'Washington' },
      ),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.active).toBe(false);
    expect(res.body.name).toEqual({ givenName: 'Dana', familyName: 'Scully' });
    expect((res.body.emails as Json[]).map((e) => e.value)).toEqual(['dana@work.example', 'dana@home.example']);
    expect(res.body['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User']).toEqual({ department: 'X-Files' });
    expect(res.body.addresses).toEqual([expect.objectContaining({ type: 'work', locality: 'Washington' })]);
    expect(res.headers.get('etag')).toBe('W/"2"');

    // A readOnly path is refused (400 mutability) and nothing changes.
    const ro = await call('PATCH', `/scim2/Users/${String(u.id)}`, patch({ op: 'replace', path: 'id', value: 'x' }));
    expect(ro.status).toBe(400);
    expect(ro.body.scimType).toBe('mutability');
    const bodyless = await call('PATCH', `/scim2/Users/${String(u.id)}`, { Operations: [] });
    expect(bodyless.status).toBe(400);
    expect((await call('GET', `/scim2/Users/${String(u.id)}`)).headers.get('etag')).toBe('W/"2"');
  });
});

describe('ETags (RFC 7644 §3.14)', () => {
  it('answers 304 to a matching If-None-Match and 412 to a stale If-Match, changing nothing', async () => {
    const u = await createUser('etag-erin');
    const id = String(u.id);
    const got = await call('GET', `/scim2/Users/${id}`);
    expect(got.headers.get('etag')).toBe('W/"1"');
    expect((await call('GET', `/scim2/Users/${id}`, undefined, { 'If-None-Match': 'W/"1"' })).status).toBe(304);
    expect((await call('GET', `/scim2/Users/${id}`, undefined, { 'If-None-Match': 'W/"7"' })).status).toBe(200);

    const stale = await call('PUT', `/scim2/Users/${id}`, { userName: 'etag-erin', displayName: 'Stale' }, { 'If-Match': 'W/"0"' });
    expect(stale.status).toBe(412);
    const ok = await call('PATCH', `/scim2/Users/${id}`, patch({ op: 'add', path: 'displayName', value: 'Erin' }), { 'If-Match': 'W/"1"' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('etag')).toBe('W/"2"');
    expect((await call('DELETE', `/scim2/Users/${id}`, undefined, { 'If-Match': 'W/"1"' })).status).toBe(412);
    // A strong tag never matches the weak ETag (RFC 9110 §8.8.3.2; issue #8: If-Match "2" matched W/"2"), while
    // If-None-Match compares weakly, so "2" names the current version there.
    expect((await call('DELETE', `/scim2/Users/${id}`, undefined, { 'If-Match': '"2"' })).status).toBe(412);
    expect((await call('GET', `/scim2/Users/${id}`, undefined, { 'If-None-Match': '"2"' })).status).toBe(304);
    expect((await call('GET', `/scim2/Users/${id}`)).body.displayName).toBe('Erin');
    expect((await call('DELETE', `/scim2/Users/${id}`, undefined, { 'If-Match': 'W/"2"' })).status).toBe(204);
  });
});

describe('Bulk (RFC 7644 §3.7)', () => {
  it('resolves bulkId references, even forward ones, and reports each operation', async () => {
    const res = await call('POST', '/scim2/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [
        { method: 'POST', path: '/Groups', bulkId: 'g1', data: { displayName: 'Bulk Group', members: [{ type: 'User', value: 'bulkId:u1' }] } },
        { method: 'POST', path: '/Users', bulkId: 'u1', data: { userName: 'bulk-frank' } },
        { method: 'PATCH', path: '/Users/bulkId:u1', data: patch({ op: 'add', path: 'title', value: 'Agent' }) },
        { method: 'DELETE', path: '/Users/00000000-0000-4000-8000-0000000000aa' },
      ],
    });
    expect(res.status).toBe(200);
    const ops = res.body.Operations as { method: string; bulkId?: string; status: string; location?: string; response?: Json }[];
    expect(ops.map((o) => [o.method, o.status])).toEqual([
      ['POST', '201'],
      ['POST', '201'],
      ['PATCH', '200'],
      ['DELETE', '404'],
    ]);
    const userId = ops[1]!.location!.split('/').pop()!;
    const group = await call('GET', ops[0]!.location!.replace(is.baseUrl, ''));
    expect((group.body.members as { value: string }[]).map((m) => m.value)).toEqual([userId]);
    expect((await call('GET', `/scim2/Users/${userId}`)).body.title).toBe('Agent');
    expect(ops[3]!.response).toEqual(expect.objectContaining({ status: '404' }));
  });

  it('stops after failOnErrors errors and refuses more than maxOperations with 413 tooLarge', async () => {
    await createUser('bulk-taken');
    const res = await call('POST', '/scim2/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      failOnErrors: 1,
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'a', data: { userName: 'bulk-taken' } },
        { method: 'POST', path: '/Users', bulkId: 'b', data: { userName: 'bulk-never' } },
      ],
    });
    expect(res.status).toBe(200);
    expect((res.body.Operations as { status: string }[]).map((o) => o.status)).toEqual(['409']);
    expect((await call('GET', `/scim2/Users?filter=${encodeURIComponent('userName eq "bulk-never"')}`)).body.totalResults).toBe(0);

    const tooMany = await call('POST', '/scim2/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: Array.from({ length: 1001 }, (_, i) => ({ method: 'DELETE', path: `/Users/${i}` })),
    });
    expect(tooMany.status).toBe(413);
    expect(tooMany.body.scimType).toBe('tooLarge');

    // maxPayloadSize (1 MiB) is enforced before anything runs.
    const big = await call('POST', '/scim2/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [{ method: 'POST', path: '/Users', bulkId: 'big', data: { userName: 'bulk-big', displayName: 'x'.repeat(1_100_000) } }],
    });
    expect(big.status).toBe(413);
    expect(big.body.scimType).toBe('tooLarge');
    expect((await call('GET', `/scim2/Users?filter=${encodeURIComponent('userName eq "bulk-big"')}`)).body.totalResults).toBe(0);
  });
});

describe('lists', () => {
  it('pages with cursors (RFC 9865) and with startIndex, sorts, projects and searches', async () => {
    const names = ['page-a', 'page-b', 'page-c', 'page-d', 'page-e'];
    for (const n of names) await createUser(n, { displayName: n.toUpperCase() });
    const filter = encodeURIComponent('userName sw "page-"');

    const seen: string[] = [];
    let cursor = '';
    for (let guard = 0; guard < 5; guard++) {
      const page = await call('GET', `/scim2/Users?filter=${filter}&count=2&cursor=${encodeURIComponent(cursor)}`);
      expect(page.status).toBe(200);
      expect(page.body.totalResults).toBe(5);
      seen.push(...(page.body.Resources as { userName: string }[]).map((r) => r.userName));
      if (typeof page.body.nextCursor !== 'string') break;
      cursor = page.body.nextCursor;
    }
    expect(seen).toEqual(names);
    const wrong = await call('GET', `/scim2/Users?count=2&cursor=not-a-cursor`);
    expect(wrong.status).toBe(400);
    expect(wrong.body.scimType).toBe('invalidCursor');

    const sorted = await call('GET', `/scim2/Users?filter=${filter}&sortBy=userName&sortOrder=descending&startIndex=2&count=2&attributes=userName`);
    expect(sorted.body).toEqual(
      expect.objectContaining({ totalResults: 5, startIndex: 2, itemsPerPage: 2 }),
    );
    const resources = sorted.body.Resources as Json[];
    expect(resources.map((r) => r.userName)).toEqual(['page-d', 'page-c']);
    expect(Object.keys(resources[0]!).sort()).toEqual(['id', 'schemas', 'userName']);

    const search = await call('POST', '/scim2/Users/.search', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
      filter: 'userName sw "page-" and displayName eq "PAGE-C"',
      attributes: ['displayName'],
    });
    expect(search.status).toBe(200);
    expect((search.body.Resources as Json[]).map((r) => r.displayName)).toEqual(['PAGE-C']);

    const root = await call('POST', '/scim2/.search', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
      filter: 'userName eq "page-e"',
    });
    expect(root.status).toBe(200);
    expect(root.body.totalResults).toBe(1);

    const invalid = await call('GET', `/scim2/Users?filter=${encodeURIComponent('userName eq')}`);
    expect(invalid.status).toBe(400);
    expect(invalid.body.scimType).toBe('invalidFilter');
  });
});

describe('passwords', () => {
  it('refuses a password that breaks the policy with 400 and writes nothing; never returns one', async () => {
    const res = await call('POST', '/scim2/Users', { userName: 'pw-short', password: 'abc' });
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe('invalidValue');
    expect(String(res.body.detail)).toMatch(/password policy/);
    expect((await call('GET', `/scim2/Users?filter=${encodeURIComponent('userName eq "pw-short"')}`)).body.totalResults).toBe(0);

    const ok = await createUser('pw-ok', { password: 'correct horse' });
    expect(ok.password).toBeUndefined();
    const asked = await call('GET', `/scim2/Users/${String(ok.id)}?attributes=password,userName`);
    expect(asked.body.password).toBeUndefined();
  });
});

describe('large groups', () => {
  it('changes the membership of a 5,000-member group by PATCH without rewriting the other member rows', async () => {
    const group = await call('POST', '/scim2/Groups', { displayName: 'Everyone' });
    expect(group.status).toBe(201);
    const groupId = String(group.body.id);
    // 5,000 users and memberships written straight to the store (set-based SQL): the subject is the PATCH.
    const db = new pg.Client({ connectionString: is.databaseUrl });
    await db.connect();
    try {
      await db.query(`
        INSERT INTO scim_user (id, domain_id, user_name, user_name_normalized, updated_at)
        SELECT gen_random_uuid(), '${PRIMARY_DOMAIN_ID}', 'member' || i, 'member' || i, now()
        FROM generate_series(1, 5000) AS i`);
      await db.query(
        `INSERT INTO scim_group_member (group_id, member_id, member_type, user_member_id, created_at)
         SELECT $1, id, 'User', id, timestamp '2020-01-01' FROM scim_user WHERE user_name LIKE 'member%'`,
        [groupId],
      );
      const { rows } = await db.query<{ id: string }>(`SELECT id FROM scim_user WHERE user_name IN ('member1', 'member2') ORDER BY user_name`);
      const [first, second] = rows.map((r) => r.id);
      const extra = await createUser('large-new');

      const res = await call(
        'PATCH',
        `/scim2/Groups/${groupId}?excludedAttributes=members`,
        patch({ op: 'add', path: 'members', value: [{ value: extra.id }] }, { op: 'remove', path: `members[value eq "${first!}"]` }),
      );
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.members).toBeUndefined();

      const after = await db.query<{ n: string; untouched: string; has_first: boolean; has_new: boolean }>(
        `SELECT count(*) AS n,
                count(*) FILTER (WHERE created_at = timestamp '2020-01-01') AS untouched,
                bool_or(member_id = $2) AS has_first,
                bool_or(member_id = $3) AS has_new
         FROM scim_group_member WHERE group_id = $1`,
        [groupId, first, extra.id],
      );
      const r = after.rows[0]!;
      expect(Number(r.n)).toBe(5000);
      // 4,999 original rows kept as they were (not deleted and re-inserted), one removed, one added.
      expect(Number(r.untouched)).toBe(4999);
      expect(r.has_first).toBe(false);
      expect(r.has_new).toBe(true);
      const count = await call('GET', `/scim2/Groups?filter=${encodeURIComponent(`members.value eq "${second!}"`)}&attributes=displayName`);
      expect(count.body.totalResults).toBe(1);
    } finally {
      await db.end();
    }
  });
});
