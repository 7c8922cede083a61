/**
 * Quarantine: a target that keeps failing (its connector's attempt limit runs out) is quarantined, its deliveries
 * are held (not dropped) and visible in the admin API, and an operator's resume delivers everything held, in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, linkScim2Target, startInstance, type Instance, json, type Json } from './harness.js';

let a: Instance;
let b: Instance;
let connectorId: string;

beforeAll(async () => {
  [a, b] = await Promise.all([startInstance('quarA'), startInstance('quarB')]);
  ({ connectorId } = await linkScim2Target(a, b, { blocking: false, retry: { maximumAttempts: 3, initialIntervalMs: 200, maximumIntervalMs: 400 } }));
});
afterAll(async () => {
  await Promise.allSettled([a?.stop(), b?.stop()]);
});


const onB = async (userName: string) =>
  ((await json(b, 'GET', `/scim2/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`)).body as { Resources: Json[] }).Resources;

describe('quarantine', () => {
  it('holds deliveries to a target that keeps failing, shows it, and delivers everything in order on resume', async () => {
    await b.stopApi();
    const created = await json(a, 'POST', '/scim2/Users', { userName: 'quar-quinn', displayName: 'v1' });
    expect(created.status).toBe(201);
    const id = String((created.body).id);
    for (const v of ['v2', 'v3']) expect((await json(a, 'PUT', `/scim2/Users/${id}`, { userName: 'quar-quinn', displayName: v })).status).toBe(200);

    const quarantined = await eventually(async () => {
      const list = (await json(a, 'GET', '/api/server/v1/provisioning/quarantine')).body as unknown as { connectorId: string; reason: string }[];
      return list.find((q) => q.connectorId === connectorId);
    }, 60_000, 'the connector quarantined');
    // Why B failed: connection refused (ConnectorTransient), or, on a loaded machine, an activity timeout.
    expect(quarantined.reason).toMatch(/ConnectorTransient|timeout/i);

    // A change for another user is held at once, without calling the target.
    const other = await json(a, 'POST', '/scim2/Users', { userName: 'quar-quill' });
    const otherId = String((other.body).id);
    await eventually(async () => {
      const rows = (await json(a, 'GET', `/api/server/v1/provisioning/audit?userId=${otherId}&outcome=held`)).body as unknown as unknown[];
      return rows.length > 0 ? rows : undefined;
    }, 60_000, 'the held audit record');

    // The target is back, but nothing moves until an operator resumes the connector.
    await b.startApi();
    await new Promise((r) => setTimeout(r, 3000));
    expect(await onB('quar-quinn')).toEqual([]);

    const resumed = await json(a, 'POST', `/api/server/v1/provisioning/quarantine/${connectorId}/resume`);
    expect(resumed.status).toBe(200);
    expect((resumed.body as { fanOutsSignalled: number }).fanOutsSignalled).toBeGreaterThanOrEqual(2);
    const user = await eventually(async () => {
      const users = await onB('quar-quinn');
      return users[0]?.displayName === 'v3' ? users : undefined;
    }, 60_000, 'the final state on B');
    expect(user).toHaveLength(1);
    await eventually(async () => ((await onB('quar-quill')).length === 1 ? true : undefined), 60_000, 'the other user on B');
    // The remote link is written just after B answers.
    await eventually(async () => {
      const links = (await json(a, 'GET', `/api/server/v1/provisioning/users/${id}/remote-links`)).body as unknown as { appliedVersion: number }[];
      return links[0]?.appliedVersion === 3 ? true : undefined;
    }, 10_000, 'version 3 recorded as applied at B');
    expect((await json(a, 'GET', '/api/server/v1/provisioning/quarantine')).body).toEqual([]);
    expect((await json(a, 'POST', `/api/server/v1/provisioning/quarantine/${connectorId}/resume`)).status).toBe(409);
  });
});
