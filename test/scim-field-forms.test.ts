/**
 * Issue #8 "Hardening", over real HTTP on a started instance: filters that cannot hurt the server (limits,
 * control characters), the forms SCIM clients in the field send (Microsoft Entra's value path with a
 * sub-attribute, unquoted values, legacy extension paths), 405 on read-only endpoints before any body is read,
 * SCIM 1.1 /Schemas, and group members' display after renames. A second instance runs with
 * SCIM_FILTER_LENIENT=false, to show the setting reaches both the /scim2 and the /wso2/scim parsers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInstance, type Instance } from './harness.js';

type Json = Record<string, unknown>;
const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const SEARCH = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';

let is: Instance;
let strict: Instance;
const ids: Record<string, string> = {};

beforeAll(async () => {
  [is, strict] = await Promise.all([startInstance('fieldforms'), startInstance('fieldstrict', { env: { SCIM_FILTER_LENIENT: 'false' } })]);
  const mk = async (userName: string, extra: Json) => {
    const res = await call('POST', '/scim2/Users', { schemas: [USER, ENT], userName, ...extra });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    ids[userName] = res.body.id as string;
  };
  await mk('ff-boss', { externalId: 'boss-1', emails: [{ value: 'boss@work.example', type: 'work' }] });
  await mk('ff-alice', {
    externalId: '12ab',
    title: 'Engineer',
    emails: [
      { value: 'alice@work.example', type: 'work', primary: true },
      { value: 'alice@home.example', type: 'home' },
    ],
    addresses: [{ type: 'work', postalCode: '1000' }],
    [ENT]: { employeeNumber: '701', manager: { value: ids['ff-boss'] } },
  });
  await mk('ff-bob', {
    externalId: '12AB',
    emails: [
      { value: 'bob@home.example', type: 'home' },
      { value: 'alice@work.example.org', type: 'work' },
    ],
    addresses: [{ type: 'home', postalCode: '1000' }],
    [ENT]: { employeeNumber: '702' },
  });
}, 180_000);
afterAll(async () => {
  await Promise.allSettled([is?.stop(), strict?.stop()]);
});

async function call(method: string, path: string, body?: unknown, on: Instance = is, headers: Record<string, string> = {}): Promise<{ status: number; body: Json; headers: Headers }> {
  const res = await on.request(method, path, body, headers);
  const text = await res.text();
  let parsed: Json;
  try {
    parsed = text ? (JSON.parse(text) as Json) : {};
  } catch {
    parsed = { text }; // not JSON: kept for the assertion message
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

const q = (filter: string) => encodeURIComponent(filter);

/** The userNames a /scim2/Users filter selects, among this file's users. */
async function usersOf(filter: string, on: Instance = is, extra = ''): Promise<string[]> {
  const res = await call('GET', `/scim2/Users?filter=${q(filter)}${extra}`, undefined, on);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return (res.body.Resources as { userName: string }[]).map((u) => u.userName).filter((n) => n.startsWith('ff-')).sort();
}

function expectInvalidFilter(res: { status: number; body: Json }, detail: RegExp): void {
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  expect(res.body.scimType).toBe('invalidFilter');
  expect(String(res.body.detail)).toMatch(detail);
}

describe('filters that cannot hurt the server (issue #8)', () => {
  it('a 20,000-term or-filter is refused, not a stack overflow (issue #8)', async () => {
    const filter = Array.from({ length: 20_000 }, (_, i) => `userName eq "u${i}"`).join(' or ');
    const started = Date.now();
    const res = await call('POST', '/scim2/Users/.search', { schemas: [SEARCH], filter });
    // Over the longest string any body may hold (src/http/input.ts), the door refuses it before the parser sees it.
    expectInvalidFilter(res, /filter is longer than 65536 characters|characters long; this server's limit is 16384 characters$/);
    expect(Date.now() - started).toBeLessThan(2000);
    // The same through the root search, and the server is still serving.
    expectInvalidFilter(await call('POST', '/scim2/.search', { schemas: [SEARCH], filter }), /filter is longer than 65536 characters|this server's limit is 16384 characters/);
    // Within what a body may hold, the parser's own limit refuses it.
    const long = Array.from({ length: 2_000 }, (_, i) => `userName eq "u${i}"`).join(' or ');
    expectInvalidFilter(await call('POST', '/scim2/Users/.search', { schemas: [SEARCH], filter: long }), /characters long; this server's limit is 16384 characters$/);
    expect((await call('GET', '/scim2/Users?count=1')).status).toBe(200);
  });

  it('a 20,000-deep parenthesized filter is refused, not a stack overflow (issue #8)', async () => {
    const filter = `${'('.repeat(20_000)}userName eq "x"${')'.repeat(20_000)}`;
    const started = Date.now();
    expectInvalidFilter(await call('POST', '/scim2/Users/.search', { schemas: [SEARCH], filter }), /this server's limit is 16384 characters/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('filters within the length limit but over the term or depth limits are refused, naming the limit', async () => {
    const terms = Array.from({ length: 201 }, (_, i) => `id eq "${i}"`).join(' or ');
    expectInvalidFilter(await call('GET', `/scim2/Users?filter=${q(terms)}`), /more than 200 comparisons, this server's limit/);
    const deep = `${'('.repeat(65)}title pr${')'.repeat(65)}`;
    expectInvalidFilter(await call('GET', `/scim2/Groups?filter=${q(deep)}`), /nesting deeper than 64 levels \(parentheses, not, value filters\), this server's limit/);
    // 200 terms are fine.
    const ok = [`userName eq "ff-alice"`, ...Array.from({ length: 199 }, (_, i) => `userName eq "none-${i}"`)].join(' or ');
    expect(await usersOf(ok)).toEqual(['ff-alice']);
  });

  it('a NUL in a filter is 400 invalidFilter, never a 500 from the database (issue #8)', async () => {
    // A raw NUL never gets past the door (it refuses NUL anywhere in a URL), a \u0000 escape not past the parser.
    expectInvalidFilter(await call('GET', `/scim2/Users?filter=${q('userName eq "a\u0000b"')}`), /NUL character|control character U\+0000/);
    expectInvalidFilter(await call('GET', `/scim2/Users?filter=${q('userName eq "a\\u0000b"')}`), /the escape '\\u0000' is a control character/);
    expectInvalidFilter(await call('POST', '/scim2/Groups/.search', { schemas: [SEARCH], filter: 'displayName co "\u0001"' }), /U\+0001/);
    const res11 = await call('GET', `/wso2/scim/Users?filter=${q('userName eq "\\u0000"')}`);
    expect(res11.status).toBe(400);
    expect(res11.body).toEqual({ Errors: [{ description: expect.stringMatching(/^Invalid SCIM 1\.1 filter: .*control character/), code: '400' }] });
  });

  it('keeps ServiceProviderConfig to RFC 7643 §5, which strict clients validate (the other limits are in each refusal)', async () => {
    expect((await call('GET', '/scim2/ServiceProviderConfig')).body.filter).toEqual({ supported: true, maxResults: 1000 });
    expect((await call('GET', '/wso2/scim/ServiceProviderConfigs')).body.filter).toEqual({ supported: true, maxResults: 1000 });
  });
});

describe('forms clients send', () => {
  it("Microsoft Entra's emails[type eq \"work\"].value eq \"...\" finds the user whose work email it is", async () => {
    expect(await usersOf('emails[type eq "work"].value eq "alice@work.example"')).toEqual(['ff-alice']);
    // Without the value filter, any email matches: bob's home one does not decide it, but the operator does.
    expect(await usersOf('emails[type eq "work"].value co "alice@work"')).toEqual(['ff-alice', 'ff-bob']);
    expect(await usersOf('emails[type eq "home"].value sw "alice@"')).toEqual(['ff-alice']);
    expect(await usersOf('emails[type eq "work"].value ew ".org"')).toEqual(['ff-bob']);
    expect(await usersOf('emails[type eq "home"].value pr')).toEqual(['ff-alice', 'ff-bob']);
    expect(await usersOf('addresses[type eq "work"].postalCode eq "1000"')).toEqual(['ff-alice']);
    expect(await usersOf('userName sw "ff-" and not (emails[type eq "work"].value eq "alice@work.example")')).toEqual(['ff-bob', 'ff-boss']);
  });

  it('unquoted values are read in lenient mode (the default)', async () => {
    expect(await usersOf('userName eq ff-alice')).toEqual(['ff-alice']);
    expect(await usersOf('userName sw ff- and meta.lastModified gt 2011-05-13T04:42:34Z')).toEqual(['ff-alice', 'ff-bob', 'ff-boss']);
    expect(await usersOf('externalId eq 12ab')).toEqual(['ff-alice']); // externalId is caseExact
    expect(await usersOf('emails[type eq work].value eq alice@work.example')).toEqual(['ff-alice']);
    const res11 = await call('GET', `/wso2/scim/Users?filter=${q('userName eq ff-bob')}`);
    expect(res11.status, JSON.stringify(res11.body)).toBe(200);
    expect((res11.body.Resources as Json[]).map((u) => u.userName)).toEqual(['ff-bob']);
  });

  it('with SCIM_FILTER_LENIENT=false, unquoted values are 400 invalidFilter on /scim2 and on /wso2/scim', async () => {
    expectInvalidFilter(await call('GET', `/scim2/Users?filter=${q('userName eq alice')}`, undefined, strict), /strings must be in double quotes/);
    expectInvalidFilter(await call('GET', `/scim2/Users?filter=${q('meta.lastModified gt 2011-05-13T04:42:34Z')}`, undefined, strict), /invalid number/);
    const res11 = await call('GET', `/wso2/scim/Users?filter=${q('userName eq alice')}`, undefined, strict);
    expect(res11.status).toBe(400);
    expect(JSON.stringify(res11.body)).toMatch(/strings must be in double quotes/);
    expect((await call('GET', `/scim2/Users?filter=${q('userName eq "alice"')}`, undefined, strict)).status).toBe(200);
  });

  it('legacy extension paths in filters, sortBy and attributes', async () => {
    const boss = ids['ff-boss']!;
    expect(await usersOf(`${ENT}.manager.value eq "${boss}"`)).toEqual(['ff-alice']);
    expect(await usersOf(`manager.value eq "${boss}"`)).toEqual(['ff-alice']);
    expect(await usersOf('employeeNumber eq "702"')).toEqual(['ff-bob']);
    const sorted = await call('GET', `/scim2/Users?filter=${q('userName sw "ff-"')}&sortBy=${q(`${ENT}.employeeNumber`)}&attributes=userName,manager`);
    expect(sorted.status, JSON.stringify(sorted.body)).toBe(200);
    const resources = sorted.body.Resources as Json[];
    expect(resources.map((u) => u.userName)).toEqual(['ff-alice', 'ff-bob', 'ff-boss']); // no employeeNumber sorts last
    expect(resources[0]).toEqual({ schemas: expect.any(Array), id: ids['ff-alice'], userName: 'ff-alice', [ENT]: { manager: { value: boss, $ref: `${is.baseUrl}/scim2/Users/${boss}` } } });
  });

  it('legacy extension paths in PATCH', async () => {
    const bob = ids['ff-bob']!;
    const patched = await call('PATCH', `/scim2/Users/${bob}`, {
      schemas: [PATCH_OP],
      Operations: [
        { op: 'replace', path: `${ENT}.manager`, value: { value: ids['ff-boss'] } },
        { op: 'replace', path: 'department', value: 'Sales' },
      ],
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body[ENT]).toMatchObject({ employeeNumber: '702', department: 'Sales', manager: { value: ids['ff-boss'] } });
    const cleared = await call('PATCH', `/scim2/Users/${bob}`, { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: 'manager' }] });
    expect(cleared.status, JSON.stringify(cleared.body)).toBe(200);
    expect(cleared.body[ENT]).toEqual({ employeeNumber: '702', department: 'Sales' });
  });
});

describe('read-only endpoints answer 405 before the body is parsed', () => {
  const SCIM_JSON = { 'Content-Type': 'application/scim+json' };
  it.each([
    ['POST', '/scim2/Schemas', '{"schemas": [', SCIM_JSON],
    ['PUT', '/scim2/ServiceProviderConfig', 'x'.repeat(2_000_000), SCIM_JSON],
    ['PATCH', `/scim2/Schemas/${USER}`, 'not json', { 'Content-Type': 'text/plain' }],
    ['DELETE', '/scim2/ResourceTypes/User', undefined, {}],
    ['POST', '/scim2/ResourceTypes', '{', { 'Content-Type': 'application/json' }],
  ])('%s %s', async (method, path, body, headers) => {
    const res = await call(method, path, body, is, headers);
    expect(res.status, JSON.stringify(res.body)).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    expect(res.body).toMatchObject({ status: '405', detail: expect.stringContaining('read-only') });
  });

  it.each([
    ['POST', '/wso2/scim/Schemas/Users', '{"schemas": ['],
    ['PUT', '/wso2/scim/ServiceProviderConfigs', 'x'.repeat(2_000_000)],
    ['DELETE', '/wso2/scim/Schemas', undefined],
  ])('SCIM 1.1: %s %s', async (method, path, body) => {
    const res = await call(method, path, body, is, SCIM_JSON);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    expect(res.body).toEqual({ Errors: [{ description: expect.stringContaining('read-only'), code: '405' }] });
  });

  it('authentication still comes first', async () => {
    const res = await fetch(`${is.baseUrl}/scim2/Schemas`, { method: 'POST', headers: SCIM_JSON, body: '{' });
    expect(res.status).toBe(401);
  });
});

describe('SCIM 1.1 /Schemas', () => {
  it('GET /Schemas/Users and /Schemas/Groups in the SCIM 1.1 representation', async () => {
    const users = await call('GET', '/wso2/scim/Schemas/Users');
    expect(users.status).toBe(200);
    expect(users.body).toMatchObject({
      id: 'urn:scim:schemas:core:1.0:User',
      name: 'User',
      schema: 'urn:scim:schemas:core:1.0',
      endpoint: '/Users',
      meta: { location: `${is.baseUrl}/wso2/scim/Schemas/Users` },
    });
    const attrs = users.body.attributes as Json[];
    expect(attrs.find((a) => a.name === 'emails')).toMatchObject({ multiValued: true, multiValuedAttributeChildName: 'email', readOnly: false, schema: 'urn:scim:schemas:core:1.0' });
    expect(attrs.find((a) => a.name === 'manager')).toMatchObject({ schema: 'urn:scim:schemas:extension:enterprise:1.0' });
    const groups = await call('GET', '/wso2/scim/Schemas/Groups');
    expect(groups.body).toMatchObject({ id: 'urn:scim:schemas:core:1.0:Group', endpoint: '/Groups' });
    const list = await call('GET', '/wso2/scim/Schemas');
    expect((list.body.Resources as Json[]).map((s) => s.id)).toEqual(['urn:scim:schemas:core:1.0:User', 'urn:scim:schemas:core:1.0:Group']);
    const none = await call('GET', '/wso2/scim/Schemas/Devices');
    expect(none.status).toBe(404);
    expect(none.body).toEqual({ Errors: [{ description: expect.stringContaining('/Schemas/Users'), code: '404' }] });
  });
});

describe("members' display", () => {
  it('is the member userName, and follows renames of users and groups at once, also in filters', async () => {
    const carol = await call('POST', '/scim2/Users', { schemas: [USER], userName: 'ff-carol' });
    const inner = await call('POST', '/scim2/Groups', { schemas: [GROUP], displayName: 'ff-inner' });
    const outer = await call('POST', '/scim2/Groups', {
      schemas: [GROUP],
      displayName: 'ff-outer',
      members: [{ value: carol.body.id }, { value: inner.body.id, type: 'Group' }],
    });
    expect(outer.status, JSON.stringify(outer.body)).toBe(201);
    const displays = (g: Json) => ((g.members as { display?: string }[] | undefined) ?? []).map((m) => m.display).sort();
    const outerPath = `/scim2/Groups/${String(outer.body.id)}?attributes=members`;
    // Returned by default, in the creation answer too.
    expect(displays(outer.body)).toEqual(['ff-carol', 'ff-inner']);
    expect(displays((await call('GET', outerPath)).body)).toEqual(['ff-carol', 'ff-inner']);

    const renamed = await call('PATCH', `/scim2/Users/${String(carol.body.id)}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'userName', value: 'ff-caroline' }] });
    expect(renamed.status).toBe(200);
    await call('PUT', `/scim2/Groups/${String(inner.body.id)}`, { schemas: [GROUP], displayName: 'ff-inner-renamed', externalId: 'x' });
    const read = await call('GET', outerPath);
    expect(displays(read.body)).toEqual(['ff-caroline', 'ff-inner-renamed']);
    const listed = await call('GET', `/scim2/Groups?filter=${q('members.display eq "ff-caroline"')}`);
    expect((listed.body.Resources as Json[]).map((g) => g.displayName)).toEqual(['ff-outer']);
    expect((await call('GET', `/scim2/Groups?filter=${q('members.display eq "ff-carol"')}`)).body.totalResults).toBe(0);
    const res11 = await call('GET', `/wso2/scim/Groups/${String(outer.body.id)}?attributes=members.display`);
    expect(displays(res11.body)).toEqual(['ff-caroline', 'ff-inner-renamed']);

    // A user's groups[].display after its group is renamed.
    await call('PATCH', `/scim2/Groups/${String(outer.body.id)}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'ff-outer-renamed' }] });
    const user = await call('GET', `/scim2/Users/${String(carol.body.id)}`);
    expect(user.body.groups).toEqual([expect.objectContaining({ value: outer.body.id, display: 'ff-outer-renamed' })]);
  });
});
