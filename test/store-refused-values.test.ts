/**
 * Regression test for "a NUL character made a request retry forever": the database refuses such a value
 * (SQLSTATE 22021 in text, 22P05 in JSON, 22P02 for a malformed uuid in raw SQL), and the store activity, retried
 * without limit, never answered. Now every store write turns a value the database refuses into a 400 invalidValue
 * result at once (src/db/errors.ts), for users and groups, model queries and raw SQL alike; the admin API answers
 * 400 invalid_request.
 *
 * The store functions are called directly on the instance's real database (the door's validation would refuse NUL
 * over HTTP before it reaches the store); the HTTP checks show the request then ends with a 400 instead of hanging.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type PrismaClient } from '../src/db/client.js';
import type { GroupInput, UserInput } from '../src/provisioning/types.js';
import * as groups from '../src/userstore/groups.js';
import * as users from '../src/userstore/users.js';
import { json, startInstance, type Instance } from './harness.js';

const user = (over: Partial<UserInput>): UserInput => ({
  domain: 'PRIMARY',
  userName: `u-${randomUUID().slice(0, 8)}`,
  active: true,
  emails: [],
  phoneNumbers: [],
  addresses: [],
  ...over,
});
const group = (over: Partial<GroupInput>): GroupInput => ({ domain: 'PRIMARY', displayName: `g-${randomUUID().slice(0, 8)}`, members: [], ...over });

describe('values the database refuses end the write with a 400 (they used to be retried forever)', () => {
  let instance: Instance;
  let db: PrismaClient;

  beforeAll(async () => {
    instance = await startInstance('refused');
    db = createPrismaClient(instance.databaseUrl, { poolSize: 2 });
  });
  afterAll(async () => {
    await db?.$disconnect();
    await instance?.stop();
  });

  /** Runs a store write and checks it came back at once as a rejection naming `path` (never the value) with nothing recorded. */
  async function expectRefused(requestId: string, write: () => Promise<{ ok: boolean; rejection?: { status: number; scimType?: string | undefined; detail: string } }>, path: string | undefined, sqlState: string) {
    const t0 = Date.now();
    const result = await write();
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(result.ok).toBe(false);
    expect(result.rejection).toMatchObject({ status: 400, scimType: 'invalidValue' });
    expect(result.rejection!.detail).toContain(`SQLSTATE ${sqlState}`);
    if (path !== undefined) expect(result.rejection!.detail).toContain(`the value of ${path}:`);
    expect(result.rejection!.detail).not.toContain('\u0000');
    expect(result.rejection!.detail).not.toContain('secret-part');
    // Nothing was written, not even the ledger row: the transaction was rolled back.
    expect(await db.storeRequest.findUnique({ where: { requestId } })).toBeNull();
    // A retry of the same request (the activity retried) gives the same answer.
    expect(await write()).toEqual(result);
  }

  it('users: a NUL in a text column, in a JSON extension, in a PUT and in a PATCH', async () => {
    const id = randomUUID();
    // A NUL in a userName is refused by the userName profile (src/userstore/username.ts) before the database sees it.
    const byProfile = await users.createUser(db, 'r-create-username', id, user({ userName: 'secret-part\u0000x' }));
    expect(byProfile).toMatchObject({ ok: false, rejection: { status: 400, scimType: 'invalidValue' } });
    expect(await db.storeRequest.findUnique({ where: { requestId: 'r-create-username' } })).toBeNull();
    await expectRefused('r-create-display', () => users.createUser(db, 'r-create-display', id, user({ displayName: 'secret-part\u0000x' })), 'displayName', '22021');
    await expectRefused(
      'r-create-email',
      () => users.createUser(db, 'r-create-email', id, user({ emails: [{ value: 'a@example.org' }, { value: 'secret-part\u0000@example.org' }] })),
      'emails[1].value',
      '22021',
    );
    await expectRefused(
      'r-create-ext',
      () => users.createUser(db, 'r-create-ext', id, user({ extensions: { 'urn:example:params:scim:schemas:extension:x:2.0:User': { badge: 'secret-part\u0000x' } } })),
      'urn:example:params:scim:schemas:extension:x:2.0:User.badge',
      '22P05',
    );
    expect(await db.user.count({ where: { id } })).toBe(0);

    // An existing user: a replace and a patch carrying a NUL leave it as it was.
    const created = await users.createUser(db, 'r-create-ok', id, user({ userName: 'refused-target' }));
    expect(created.ok).toBe(true);
    await expectRefused('r-replace', () => users.replaceUser(db, 'r-replace', id, user({ userName: 'refused-target', title: 'secret-part\u0000x' })), 'title', '22021');
    await expectRefused(
      'r-patch',
      () => users.patchUser(db, 'r-patch', id, (current) => ({ ...current, nickName: 'secret-part\u0000x' })),
      'nickName',
      '22021',
    );
    const after = await users.getUser(db, id);
    expect(after).toMatchObject({ userName: 'refused-target', version: 1 });
    expect(after?.title).toBeUndefined();
  });

  it('raw SQL paths: the row lock with an id the database cannot read', async () => {
    // lockUser / lockGroup run `... WHERE id = $1::uuid FOR UPDATE` through $queryRaw (Prisma P2010).
    await expectRefused('r-raw-user', () => users.replaceUser(db, 'r-raw-user', 'not-a-uuid', user({})), undefined, '22P02');
    await expectRefused('r-raw-user-nul', () => users.deleteUser(db, 'r-raw-user-nul', 'nul\u0000id'), undefined, '22021');
    await expectRefused('r-raw-group', () => groups.replaceGroup(db, 'r-raw-group', 'not-a-uuid', group({})), undefined, '22P02');
  });

  it('groups: a NUL in the displayName of a create and a PATCH', async () => {
    const id = randomUUID();
    await expectRefused('g-create', () => groups.createGroup(db, 'g-create', id, group({ displayName: 'secret-part\u0000x' })), 'displayName', '22021');
    expect((await groups.createGroup(db, 'g-create-ok', id, group({ displayName: 'refused-group' }))).ok).toBe(true);
    await expectRefused(
      'g-patch',
      () => groups.patchGroup(db, 'g-patch', id, (current) => ({ input: { ...current, members: [], externalId: 'secret-part\u0000x' }, delta: { add: [], remove: [] } })),
      'externalId',
      '22021',
    );
    expect(await groups.getGroup(db, id)).toMatchObject({ displayName: 'refused-group', version: 1 });
  });

  it('over HTTP the request ends with 400 at once, whatever the door lets through', async () => {
    const t0 = Date.now();
    const res = await json(instance, 'POST', '/scim2/Users', { schemas: [], userName: 'nul-over-http', displayName: 'a\u0000b' });
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe('invalidValue');
    const list = await json(instance, 'GET', `/scim2/Users?filter=${encodeURIComponent('userName eq "nul-over-http"')}`);
    expect(list.body.totalResults).toBe(0);
  });

  it('admin API: a value the database refuses is 400 invalid_request, not 500', async () => {
    const res = await json(instance, 'POST', '/api/server/v1/applications', {
      name: 'nul\u0000app',
      grantTypes: ['client_credentials'],
      scopes: [],
      inboundProvisioning: { userStoreDomain: 'PRIMARY' },
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'invalid_request' });
    // Over HTTP the door (src/http/input.ts) refuses it first; the store's own refusal is the defence behind it.
    expect(String(res.body.message)).toMatch(/NUL character|SQLSTATE 22021/);
  });
});
