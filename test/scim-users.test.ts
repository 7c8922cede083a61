/**
 * The SCIM 2.0 Users slice on one instance: the seed's curl calls (001: POST, GET, PUT, DELETE with the
 * admin credential) and bad input, which must get a SCIM error body and change nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInstance, type Instance } from './harness.js';

let is: Instance;

beforeAll(async () => {
  is = await startInstance('scim');
});
afterAll(async () => {
  await is?.stop();
});

interface ScimError {
  schemas: string[];
  status: string;
  scimType?: string;
  detail: string;
}

async function total(): Promise<number> {
  const res = await is.request('GET', '/scim2/Users?count=0');
  return ((await res.json()) as { totalResults: number }).totalResults;
}

async function expectScimError(res: Response, status: number, scimType?: string): Promise<ScimError> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/scim\+json/);
  const body = (await res.json()) as ScimError;
  expect(body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
  expect(body.status).toBe(String(status));
  if (scimType) expect(body.scimType).toBe(scimType);
  else expect(body.scimType).toBeUndefined();
  expect(body.detail).toEqual(expect.any(String));
  return body;
}

describe('the seed walk-through (inbound provisioning with curl)', () => {
  it('creates, reads, replaces and deletes a user', async () => {
    const created = await is.request(
      'POST',
      '/scim2/Users',
      '{"schemas":[],"name":{"familyName":"N","givenName":"Rashmini"},"userName":"rashmini","password":"abc123","emails":[{"primary":true,"value":"rash@gmail.com","type":"home"}]}',
      { 'Content-Type': 'application/json' },
    );
    expect(created.status).toBe(201);
    const user = (await created.json()) as Record<string, unknown> & { id: string; meta: Record<string, string> };
    expect(created.headers.get('location')).toBe(`${is.baseUrl}/scim2/Users/${user.id}`);
    expect(created.headers.get('etag')).toBe('W/"1"');
    expect(user).toMatchObject({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'rashmini',
      name: { familyName: 'N', givenName: 'Rashmini' },
      emails: [{ primary: true, value: 'rash@gmail.com', type: 'home' }],
      active: true,
      meta: { resourceType: 'User', version: 'W/"1"', location: `${is.baseUrl}/scim2/Users/${user.id}` },
    });
    expect(user).not.toHaveProperty('password');

    const read = await is.request('GET', `/scim2/Users/${user.id}`);
    expect(read.status).toBe(200);
    expect(await read.json()).toEqual(user);

    const replaced = await is.request(
      'PUT',
      `/scim2/Users/${user.id}`,
      '{"schemas":[],"name":{"familyName":"N","givenName":"Rashmini"},"userName":"rashmini","emails":[{"value":"rashmini@gmail.com","type":"home"}]}',
      { 'Content-Type': 'application/json' },
    );
    expect(replaced.status).toBe(200);
    const after = (await replaced.json()) as { emails: unknown[]; meta: { version: string; created: string } };
    expect(after.emails).toEqual([{ value: 'rashmini@gmail.com', type: 'home', primary: false }]);
    expect(after.meta.version).toBe('W/"2"');
    expect(after.meta.created).toBe(user.meta.created);

    // A stale If-Match is refused and changes nothing.
    const stale = await is.request('PUT', `/scim2/Users/${user.id}`, { userName: 'renamed' }, { 'If-Match': 'W/"1"' });
    await expectScimError(stale, 412);
    expect(((await (await is.request('GET', `/scim2/Users/${user.id}`)).json()) as { userName: string }).userName).toBe('rashmini');

    const deleted = await is.request('DELETE', `/scim2/Users/${user.id}`, undefined, { Accept: 'application/scim+json' });
    expect(deleted.status).toBe(204);
    await expectScimError(await is.request('GET', `/scim2/Users/${user.id}`), 404);
    await expectScimError(await is.request('DELETE', `/scim2/Users/${user.id}`), 404);
  });
});

describe('bad input gets a SCIM error and changes nothing', () => {
  it('rejects malformed JSON', async () => {
    const before = await total();
    await expectScimError(await is.request('POST', '/scim2/Users', '{"userName": "broken",'), 400, 'invalidSyntax');
    expect(await total()).toBe(before);
  });

  it('rejects a body that is not an object', async () => {
    await expectScimError(await is.request('POST', '/scim2/Users', '[1,2]'), 400, 'invalidSyntax');
  });

  it('rejects a missing userName', async () => {
    const before = await total();
    const body = await expectScimError(await is.request('POST', '/scim2/Users', { name: { givenName: 'No' } }), 400, 'invalidValue');
    expect(body.detail).toMatch(/userName/);
    expect(await total()).toBe(before);
  });

  it('rejects wrongly typed attributes', async () => {
    await expectScimError(await is.request('POST', '/scim2/Users', { userName: 'typed', emails: 'x@y' }), 400, 'invalidValue');
    await expectScimError(await is.request('POST', '/scim2/Users', { userName: 'typed', active: 'maybe' }), 400, 'invalidValue');
  });

  it('rejects a duplicate userName, ignoring case, with 409 uniqueness', async () => {
    const first = await is.request('POST', '/scim2/Users', { userName: 'dup-user' });
    expect(first.status).toBe(201);
    const before = await total();
    await expectScimError(await is.request('POST', '/scim2/Users', { userName: 'dup-user' }), 409, 'uniqueness');
    await expectScimError(await is.request('POST', '/scim2/Users', { userName: 'DUP-User' }), 409, 'uniqueness');
    expect(await total()).toBe(before);
  });

  it('rejects a rename onto an existing userName', async () => {
    const x = (await (await is.request('POST', '/scim2/Users', { userName: 'rename-x' })).json()) as { id: string };
    expect((await is.request('POST', '/scim2/Users', { userName: 'rename-y' })).status).toBe(201);
    await expectScimError(await is.request('PUT', `/scim2/Users/${x.id}`, { userName: 'Rename-Y' }), 409, 'uniqueness');
  });

  it('answers 404 for unknown ids', async () => {
    await expectScimError(await is.request('GET', '/scim2/Users/00000000-0000-4000-8000-00000000abcd'), 404);
    await expectScimError(await is.request('GET', '/scim2/Users/not-a-uuid'), 404);
    await expectScimError(await is.request('PUT', '/scim2/Users/00000000-0000-4000-8000-00000000abcd', { userName: 'ghost' }), 404);
    await expectScimError(await is.request('DELETE', '/scim2/Users/00000000-0000-4000-8000-00000000abcd'), 404);
  });

  it('answers 401 to a wrong or missing credential, before reading the body', async () => {
    const before = await total();
    const wrong = await fetch(`${is.baseUrl}/scim2/Users`, {
      method: 'POST',
      headers: { Authorization: `Basic ${Buffer.from('admin:wrong').toString('base64')}`, 'Content-Type': 'application/scim+json' },
      body: JSON.stringify({ userName: 'intruder' }),
    });
    await expectScimError(wrong, 401);
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Basic/);
    await expectScimError(await fetch(`${is.baseUrl}/scim2/Users`), 401);
    expect(await total()).toBe(before);
  });

  it('rejects an unsupported filter with 400 invalidFilter', async () => {
    await expectScimError(await is.request('GET', `/scim2/Users?filter=${encodeURIComponent('userName eq')}`), 400, 'invalidFilter');
  });

  it('finds users by userName, case-insensitively', async () => {
    await is.request('POST', '/scim2/Users', { userName: 'Case.Tester' });
    const res = await is.request('GET', `/scim2/Users?filter=${encodeURIComponent('userName eq "case.tester"')}`);
    const list = (await res.json()) as { totalResults: number; Resources: { userName: string }[] };
    expect(list.totalResults).toBe(1);
    expect(list.Resources[0]!.userName).toBe('Case.Tester');
  });
});
