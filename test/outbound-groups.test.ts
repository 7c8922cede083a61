/**
 * Groups and memberships provisioned outbound (A -> B over SCIM 2.0): each group reaches B with its members
 * translated to B's ids, membership changes and renames follow, a deleted group disappears, and a group whose
 * members reach B after it (one Bulk request creating both) still converges on the full membership.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, linkScim2Target, startInstance, type Instance, json, type Json } from './harness.js';

let a: Instance;
let b: Instance;

beforeAll(async () => {
  [a, b] = await Promise.all([startInstance('groupsA'), startInstance('groupsB')]);
  await linkScim2Target(a, b, { blocking: false });
});
afterAll(async () => {
  await Promise.allSettled([a?.stop(), b?.stop()]);
});


const q = (f: string) => encodeURIComponent(f);

async function userIdOnB(userName: string): Promise<string> {
  return eventually(async () => {
    const r = await json(b, 'GET', `/scim2/Users?filter=${q(`userName eq "${userName}"`)}`);
    return (r.body.Resources as Json[] | undefined)?.[0]?.id as string | undefined;
  }, 30_000, `${userName} on B`);
}

/** B's group by name once its member userNames are exactly `expected` (sorted). */
async function groupOnB(displayName: string, expected: string[]): Promise<Json> {
  return eventually(async () => {
    const r = await json(b, 'GET', `/scim2/Groups?filter=${q(`displayName eq "${displayName}"`)}&attributes=displayName,members.value,members.display`);
    const group = (r.body.Resources as Json[] | undefined)?.[0];
    if (!group) return undefined;
    const names = ((group.members as { display: string }[] | undefined) ?? []).map((m) => m.display).sort();
    return JSON.stringify(names) === JSON.stringify([...expected].sort()) ? group : undefined;
  }, 30_000, `group ${displayName} on B with ${expected.join(', ') || 'no members'}`);
}

describe('groups, outbound', () => {
  it('creates the group on B with translated members, follows membership changes and renames, and deletes it', async () => {
    const ids: Record<string, string> = {};
    for (const n of ['g-ann', 'g-ben', 'g-cy']) {
      const r = await json(a, 'POST', '/scim2/Users', { userName: n });
      expect(r.status).toBe(201);
      ids[n] = String(r.body.id);
    }
    const annOnB = await userIdOnB('g-ann');
    await userIdOnB('g-ben');

    const created = await json(a, 'POST', '/scim2/Groups', { displayName: 'Ops', members: [{ value: ids['g-ann'] }, { value: ids['g-ben'] }] });
    expect(created.status).toBe(201);
    const groupId = String(created.body.id);
    const onB = await groupOnB('Ops', ['g-ann', 'g-ben']);
    expect((onB.members as { value: string }[]).map((m) => m.value)).toContain(annOnB);

    // The audit record is written just after B answers.
    const audit = await eventually(async () => {
      const rows = (await json(a, 'GET', `/api/server/v1/provisioning/audit?userId=${groupId}`)).body as unknown as { outcome: string; remoteId: string }[];
      return rows.length > 0 ? rows : undefined;
    }, 10_000, 'the group delivery audit record');
    expect(audit[0]).toEqual(expect.objectContaining({ outcome: 'delivered', remoteId: onB.id }));

    await userIdOnB('g-cy');
    const patched = await json(a, 'PATCH', `/scim2/Groups/${groupId}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [
        { op: 'add', path: 'members', value: [{ value: ids['g-cy'] }] },
        { op: 'remove', path: `members[value eq "${ids['g-ann']!}"]` },
      ],
    });
    expect(patched.status).toBe(200);
    await groupOnB('Ops', ['g-ben', 'g-cy']);

    expect((await json(a, 'PATCH', `/scim2/Groups/${groupId}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'displayName', value: 'SRE' }] })).status).toBe(200);
    const renamed = await groupOnB('SRE', ['g-ben', 'g-cy']);
    expect(renamed.id).toBe(onB.id); // the same group at B, renamed through its recorded remote id

    expect((await json(a, 'DELETE', `/scim2/Groups/${groupId}`)).status).toBe(204);
    await eventually(async () => {
      const r = await json(b, 'GET', `/scim2/Groups/${String(onB.id)}`);
      return r.status === 404 ? true : undefined;
    }, 30_000, 'the group gone from B');
  });

  it('converges on the full membership when the group and its members are created in one Bulk request', async () => {
    // Four at once: the group's and its members' first deliveries race each other at B in every order.
    const names = ['Launch', 'Liftoff', 'Orbit', 'Landing'];
    const responses = await Promise.all(names.map((name) => json(a, 'POST', '/scim2/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [
        { method: 'POST', path: '/Groups', bulkId: 'g', data: { displayName: name, members: [{ value: 'bulkId:u1' }, { value: 'bulkId:u2' }] } },
        { method: 'POST', path: '/Users', bulkId: 'u1', data: { userName: `${name}-1` } },
        { method: 'POST', path: '/Users', bulkId: 'u2', data: { userName: `${name}-2` } },
      ],
    })));
    for (const res of responses) expect((res.body.Operations as { status: string }[]).map((o) => o.status)).toEqual(['201', '201', '201']);
    for (const name of names) await groupOnB(name, [`${name}-1`, `${name}-2`]);
  });

  it('re-sends a user on demand, re-creating it at a target that deleted it on its own', async () => {
    const created = await json(a, 'POST', '/scim2/Users', { userName: 'resend-rue', displayName: 'Rue' });
    const id = String(created.body.id);
    const first = await userIdOnB('resend-rue');
    const before = new Date().toISOString();
    expect((await json(b, 'DELETE', `/scim2/Users/${first}`)).status).toBe(204);

    const resend = await json(a, 'POST', `/api/server/v1/provisioning/users/${id}/resend`, {});
    expect(resend.status).toBe(202);
    expect(resend.body.targets).toEqual(['IS2/scim2']);
    const second = await userIdOnB('resend-rue');
    expect(second).not.toBe(first);
    const links = await eventually(async () => {
      const l = (await json(a, 'GET', `/api/server/v1/provisioning/users/${id}/remote-links`)).body as unknown as { remoteId: string }[];
      return l[0]?.remoteId === second ? l : undefined;
    }, 10_000, 'the remote link updated to the re-created user');
    expect(links).toHaveLength(1);
    const recent = await eventually(async () => {
      const rows = (await json(a, 'GET', `/api/server/v1/provisioning/audit?userId=${id}&from=${encodeURIComponent(before)}&outcome=delivered`)).body as unknown as { eventId: string; remoteId: string; operation: string }[];
      // The create's own (non-blocking) delivery may be audited after `before` too: look for the re-send's row.
      return rows.some((r) => r.eventId === resend.body.eventId) ? rows : undefined;
    }, 10_000, 'the re-send audit record');
    expect(recent.filter((r) => r.eventId === resend.body.eventId)).toEqual([expect.objectContaining({ remoteId: second })]);
    expect(recent.every((r) => r.eventId === resend.body.eventId || (r.eventId.startsWith('inbound-') && r.operation === 'create'))).toBe(true);

    expect((await json(a, 'GET', '/api/server/v1/provisioning/audit?from=yesterday')).status).toBe(400);
    expect((await json(a, 'POST', `/api/server/v1/provisioning/users/00000000-0000-4000-8000-000000000999/resend`, {})).status).toBe(404);
  });
});
