/**
 * Blocking targets and sagas: when a blocking target refuses a change, the request fails with an error naming
 * the target and its reason, and the change is undone here, so the two systems do not diverge. B refuses
 * passwords without a digit (its PASSWORD_PATTERN); A accepts them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, linkScim2Target, startInstance, type Instance, json, type Json } from './harness.js';

let a: Instance;
let b: Instance;

beforeAll(async () => {
  [a, b] = await Promise.all([
    startInstance('sagaA'),
    startInstance('sagaB', { env: { PASSWORD_PATTERN: '\\d', PASSWORD_PATTERN_DESCRIPTION: 'it must contain a digit' } }),
  ]);
  await linkScim2Target(a, b, { blocking: true });
});
afterAll(async () => {
  await Promise.allSettled([a?.stop(), b?.stop()]);
});


const byName = (instance: Instance, userName: string) =>
  json(instance, 'GET', `/scim2/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`);

describe('a blocking target that refuses', () => {
  it('fails the create, naming the target and its reason, and leaves the user nowhere', async () => {
    const res = await json(a, 'POST', '/scim2/Users', { userName: 'saga-sam', password: 'nodigits' });
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe('invalidValue');
    expect(String(res.body.detail)).toMatch(/^Refused by blocking target IS2\/scim2: .*password policy.*digit.*undone here/);
    expect((await byName(a, 'saga-sam')).body.totalResults).toBe(0);
    expect((await byName(b, 'saga-sam')).body.totalResults).toBe(0);
  });

  it('fails a replace and restores the previous state here, while the target keeps it too', async () => {
    const created = await json(a, 'POST', '/scim2/Users', { userName: 'saga-sue', displayName: 'Sue', password: 'digit-1' });
    expect(created.status).toBe(201);
    const id = String(created.body.id);
    expect((await byName(b, 'saga-sue')).body.totalResults).toBe(1);

    const refused = await json(a, 'PUT', `/scim2/Users/${id}`, { userName: 'saga-sue', displayName: 'Susan', password: 'nodigits' });
    expect(refused.status).toBe(400);
    expect(String(refused.body.detail)).toMatch(/IS2\/scim2/);
    const here = await json(a, 'GET', `/scim2/Users/${id}`);
    expect(here.body.displayName).toBe('Sue');
    // The restore is a change of its own (a higher version), sent to the targets after the refused one.
    expect(here.body.meta).toEqual(expect.objectContaining({ version: 'W/"3"' }));
    const there = await eventually(async () => {
      const r = await byName(b, 'saga-sue');
      const u = (r.body.Resources as Json[])[0];
      return u?.displayName === 'Sue' ? u : undefined;
    }, 20_000, 'B with the restored state');
    expect(there.displayName).toBe('Sue');

    // An accepted change still goes through.
    const ok = await json(a, 'PUT', `/scim2/Users/${id}`, { userName: 'saga-sue', displayName: 'Susan', password: 'digit-2' });
    expect(ok.status).toBe(200);
    expect((await byName(b, 'saga-sue')).body.Resources).toEqual([expect.objectContaining({ displayName: 'Susan' })]);
  });

  it('fails a group PATCH (rename and membership change) and restores the group and its members here and there', async () => {
    const ids: string[] = [];
    for (const userName of ['saga-gus', 'saga-gwen']) {
      const r = await json(a, 'POST', '/scim2/Users', { userName, password: 'digit-1' });
      expect(r.status).toBe(201);
      ids.push(String(r.body.id));
    }
    const [gus, gwen] = ids as [string, string];
    const created = await json(a, 'POST', '/scim2/Groups', { displayName: 'Saga Alpha', members: [{ value: gus }] });
    expect(created.status).toBe(201);
    const groupId = String(created.body.id);
    // B already has a group by the name A's group is about to take: B refuses the rename (409 uniqueness).
    expect((await json(b, 'POST', '/scim2/Groups', { displayName: 'Saga Beta' })).status).toBe(201);

    const refused = await json(a, 'PATCH', `/scim2/Groups/${groupId}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [
        { op: 'replace', path: 'displayName', value: 'Saga Beta' },
        { op: 'add', path: 'members', value: [{ value: gwen }] },
        { op: 'remove', path: `members[value eq "${gus}"]` },
      ],
    });
    expect(refused.status).toBe(400);
    expect(String(refused.body.detail)).toMatch(/^Refused by blocking target IS2\/scim2: .*409.*undone here/);

    // Here: the name and the members before the PATCH, at a new version (create 1, PATCH 2, restore 3).
    const here = await json(a, 'GET', `/scim2/Groups/${groupId}`);
    expect(here.body.displayName).toBe('Saga Alpha');
    expect((here.body.members as { value: string }[]).map((m) => m.value)).toEqual([gus]);
    expect(here.body.meta).toEqual(expect.objectContaining({ version: 'W/"3"' }));
    // There: still Saga Alpha with saga-gus only (the restore was sent after the refused change).
    const membersOnB = async () => {
      const r = await json(b, 'GET', `/scim2/Groups?filter=${encodeURIComponent('displayName eq "Saga Alpha"')}&attributes=members.display`);
      return (((r.body.Resources as Json[])[0]?.members as { display?: string }[] | undefined) ?? []).map((m) => m.display ?? '?').sort();
    };
    const settled = (want: string[]) =>
      eventually(async () => {
        const got = await membersOnB();
        return JSON.stringify(got) === JSON.stringify(want) ? got : undefined;
      }, 20_000, `Saga Alpha on B with ${want.join(', ')}`);
    await settled(['saga-gus']);

    // An accepted change still goes through.
    const ok = await json(a, 'PATCH', `/scim2/Groups/${groupId}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'add', path: 'members', value: [{ value: gwen }] }],
    });
    expect(ok.status).toBe(200);
    await settled(['saga-gus', 'saga-gwen']);
  });
});
