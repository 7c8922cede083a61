/**
 * Outbound SCIM 2.0 to a target nobody here wrote: scim2-server (PyPI, pinned in test/support/third-party-scim.ts),
 * started by the test with an empty in-memory store. Instance A provisions a user and a group to it through its
 * `scim2` connector; every assertion about the target goes through the target's own SCIM API (plain fetch).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startInstance, type Instance } from './harness.js';
import { startThirdPartyScim, SCIM2_SERVER_VERSION, type ThirdPartyScim } from './support/third-party-scim.js';

type Json = Record<string, unknown>;
interface ScimUser {
  id: string;
  userName: string;
  name?: { givenName?: string; familyName?: string };
  emails?: { value: string; type?: string; primary?: boolean }[];
  password?: string;
  meta: { resourceType: string; version?: string };
}
interface ScimGroup {
  id: string;
  displayName: string;
  members?: { value: string; type?: string; display?: string; $ref?: string }[];
  meta: { resourceType: string };
}
interface ListResponse<T> {
  totalResults: number;
  Resources?: T[];
}

let a: Instance;
let target: ThirdPartyScim;
let connectorId: string;

async function onA(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const res = await a.request(method, path, body);
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {} };
}

/** A GET on the third-party server's own SCIM API. */
async function onTarget<T>(path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${target.baseUrl}${path}`, { headers: target.headers });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
}

const q = (f: string) => encodeURIComponent(f);

beforeAll(async () => {
  [target, a] = await Promise.all([startThirdPartyScim(), startInstance('tpA')]);
  // As linkScim2Target (test/harness.ts) does, with the third-party server's endpoints. scim2-server started without
  // --bearer-token accepts every request, so the connector has no username (no Authorization header).
  const idp = await onA('POST', '/api/server/v1/identity-providers', {
    name: 'scim2-server',
    description: `scim2-server ${SCIM2_SERVER_VERSION} (PyPI), over SCIM 2.0`,
    outboundConnectors: [
      {
        type: 'scim2',
        settings: { userEndpoint: `${target.baseUrl}/Users`, groupEndpoint: `${target.baseUrl}/Groups`, userStoreDomain: 'PRIMARY', timeoutMs: 20_000 },
        secrets: {},
        passwordProvisioning: true,
        retry: { initialIntervalMs: 200, maximumIntervalMs: 1000 },
      },
    ],
  });
  expect(idp.status, JSON.stringify(idp.body)).toBe(201);
  connectorId = (idp.body.outboundConnectors as { id: string }[])[0]!.id;
  const link = await onA('POST', '/api/server/v1/applications/resident/provisioning/outbound-connectors', { connectorId, blocking: true });
  expect(link.status, JSON.stringify(link.body)).toBe(201);
});
afterAll(async () => {
  await Promise.allSettled([a?.stop(), target?.stop()]);
});

describe(`outbound SCIM 2.0 to a third-party server (scim2-server ${SCIM2_SERVER_VERSION})`, () => {
  it('creates, updates and deletes a user and a group there, members as its ids', async () => {
    // The target starts empty.
    expect((await onTarget<ListResponse<ScimUser>>('/Users')).body.totalResults).toBe(0);

    // Create the user on A.
    const userName = 'tp-rashmini';
    const created = await onA('POST', '/scim2/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName,
      name: { givenName: 'Rashmini', familyName: 'N' },
      password: 'abc123-Secret',
      emails: [{ primary: true, value: 'rash@gmail.com', type: 'home' }],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const localUserId = String(created.body.id);

    // It is at the target, found by its own filter, with the attributes A sent.
    const found = await eventually(async () => {
      const r = await onTarget<ListResponse<ScimUser>>(`/Users?filter=${q(`userName eq "${userName}"`)}`);
      return r.body.totalResults === 1 ? r.body.Resources![0]! : undefined;
    }, 10_000, 'the user at the target');
    expect(found.userName).toBe(userName);
    expect(found.name).toMatchObject({ givenName: 'Rashmini', familyName: 'N' });
    expect(found.emails).toEqual([{ value: 'rash@gmail.com', type: 'home', primary: true }]);
    expect(found.password).toBeUndefined(); // writeOnly at the target too
    expect(found.id).not.toBe(localUserId); // the target chose its own id
    const remoteUserId = found.id;
    const direct = await onTarget<ScimUser>(`/Users/${remoteUserId}`);
    expect(direct.status).toBe(200);
    expect(direct.body.meta.resourceType).toBe('User');

    // A recorded the target's id for the user.
    const links = await eventually(async () => {
      const l = (await onA('GET', `/api/server/v1/provisioning/users/${localUserId}/remote-links`)).body as unknown as { connectorId: string; remoteId: string | null }[];
      return l[0]?.remoteId ? l : undefined;
    }, 10_000, 'the remote link on A');
    expect(links).toEqual([expect.objectContaining({ connectorId, remoteId: remoteUserId })]);

    // Update on A (PUT): the new name and email reach the target, on the same resource.
    const updated = await onA('PUT', `/scim2/Users/${localUserId}`, {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName,
      name: { givenName: 'Rash', familyName: 'N' },
      emails: [{ value: 'rash@example.org', type: 'work', primary: true }],
    });
    expect(updated.status, JSON.stringify(updated.body)).toBe(200);
    const changed = await eventually(async () => {
      const r = await onTarget<ScimUser>(`/Users/${remoteUserId}`);
      return r.body.emails?.[0]?.value === 'rash@example.org' ? r.body : undefined;
    }, 10_000, 'the update at the target');
    expect(changed.name).toMatchObject({ givenName: 'Rash', familyName: 'N' });
    expect(changed.emails).toEqual([{ value: 'rash@example.org', type: 'work', primary: true }]);
    expect((await onTarget<ListResponse<ScimUser>>('/Users')).body.totalResults).toBe(1);

    // A group with the user as member: at the target its member is the target's id of the user.
    const group = await onA('POST', '/scim2/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'tp-ops', members: [{ value: localUserId }] });
    expect(group.status, JSON.stringify(group.body)).toBe(201);
    const localGroupId = String(group.body.id);
    const remoteGroup = await eventually(async () => {
      const r = await onTarget<ListResponse<ScimGroup>>(`/Groups?filter=${q('displayName eq "tp-ops"')}`);
      return r.body.totalResults === 1 ? r.body.Resources![0]! : undefined;
    }, 10_000, 'the group at the target');
    expect(remoteGroup.displayName).toBe('tp-ops');
    expect(remoteGroup.members?.map((m) => m.value)).toEqual([remoteUserId]);
    expect(remoteGroup.id).not.toBe(localGroupId);

    // A recorded the target's id for the group (in its delivery audit).
    const audit = await eventually(async () => {
      const rows = (await onA('GET', `/api/server/v1/provisioning/audit?userId=${localGroupId}`)).body as unknown as { outcome: string; remoteId: string | null }[];
      return rows.length > 0 ? rows : undefined;
    }, 10_000, 'the group delivery audit record');
    expect(audit[0]).toEqual(expect.objectContaining({ outcome: 'delivered', remoteId: remoteGroup.id }));

    // A rename on A reaches the same group at the target, with its member kept.
    const renamed = await onA('PATCH', `/scim2/Groups/${localGroupId}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'displayName', value: 'tp-sre' }],
    });
    expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);
    const sre = await eventually(async () => {
      const r = await onTarget<ScimGroup>(`/Groups/${remoteGroup.id}`);
      return r.body.displayName === 'tp-sre' ? r.body : undefined;
    }, 10_000, 'the rename at the target');
    expect(sre.members?.map((m) => m.value)).toEqual([remoteUserId]);

    // Deletes on A remove both from the target.
    expect((await onA('DELETE', `/scim2/Groups/${localGroupId}`)).status).toBe(204);
    await eventually(async () => ((await onTarget(`/Groups/${remoteGroup.id}`)).status === 404 ? true : undefined), 10_000, 'the group gone from the target');
    expect((await onA('DELETE', `/scim2/Users/${localUserId}`)).status).toBe(204);
    await eventually(async () => ((await onTarget(`/Users/${remoteUserId}`)).status === 404 ? true : undefined), 10_000, 'the user gone from the target');
    expect((await onTarget<ListResponse<ScimUser>>(`/Users?filter=${q(`userName eq "${userName}"`)}`)).body.totalResults).toBe(0);
    expect((await onTarget<ListResponse<ScimGroup>>('/Groups')).body.totalResults).toBe(0);

    const deletedLinks = await eventually(async () => {
      const l = (await onA('GET', `/api/server/v1/provisioning/users/${localUserId}/remote-links`)).body as unknown as { remoteId: string; deleted: boolean }[];
      return l[0]?.deleted ? l : undefined;
    }, 10_000, 'the remote link marked deleted on A');
    expect(deletedLinks[0]!.remoteId).toBe(remoteUserId);
  });
});
