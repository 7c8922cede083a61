/**
 * Outbound SCIM 2.0 under faults the target itself causes, on real instances A -> B (non-blocking link, fast retries):
 *   - B's SCIM API answers 500 twice, the second time after it applied the create (the answer is lost): the user
 *     arrives exactly once (the retry meets 409 and links), and A's audit says delivered after more than one attempt;
 *   - B refuses a change with 400 (its password policy is stricter than A's): A has answered 201, A's audit record for
 *     B is `failed` with B's reason, nothing is quarantined, and later changes (of that user and of another) get through.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, linkScim2Target, startInstance, type Instance, json } from './harness.js';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.js';

type Json = Record<string, unknown>;
interface AuditRow {
  connectorId: string;
  operation: string;
  outcome: string;
  attempts: number;
  error: string | null;
  remoteId: string | null;
}

let a: Instance;
let b: Instance;
let proxy: FaultProxy;
let connectorId: string;

const isCreate = (req: { method: string; path: string }) => req.method === 'POST' && req.path === '/scim2/Users';


async function onB(userName: string): Promise<Json[]> {
  const res = await json(b, 'GET', `/scim2/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`);
  return ((res.body as { Resources?: Json[] }).Resources ?? []);
}

async function auditOf(userId: string): Promise<AuditRow[]> {
  return (await json(a, 'GET', `/api/server/v1/provisioning/audit?userId=${userId}&connectorId=${connectorId}`)).body as unknown as AuditRow[];
}

beforeAll(async () => {
  // B's password policy is stricter than A's (5, WSO2's default): a password A accepts, B refuses with 400.
  [a, b] = await Promise.all([startInstance('faultA'), startInstance('faultB', { env: { PASSWORD_MIN_LENGTH: '12' } })]);
  proxy = await startFaultProxy(b.baseUrl, {
    scripted: [
      { match: isCreate, status: 500 }, // not forwarded: B never saw it
      { match: isCreate, status: 500, afterForwarding: true }, // B created the user; A hears 500
    ],
  });
  ({ connectorId } = await linkScim2Target(a, { baseUrl: proxy.url, admin: b.admin }, { blocking: false, retry: { initialIntervalMs: 200, maximumIntervalMs: 500 } }));
});
afterAll(async () => {
  await Promise.allSettled([a?.stop(), b?.stop(), proxy?.close()]);
});

describe('outbound faults at the SCIM 2.0 target', () => {
  it('500, then 500 after B applied the create, then success: the user arrives exactly once, audited after several attempts', async () => {
    const created = await json(a, 'POST', '/scim2/Users', { userName: 'flaky-fiona', password: 'a-long-enough-password', emails: [{ value: 'fiona@example.org' }] });
    expect(created.status).toBe(201);
    const localId = String((created.body).id);

    const delivered = await eventually(async () => {
      const rows = await auditOf(localId);
      return rows.find((r) => r.operation === 'create' && r.outcome === 'delivered');
    }, 60_000, 'the create delivered');
    expect(proxy.stats.scripted).toBe(2);
    // Attempt 1 got the first 500, attempt 2 the second, attempt 3 met 409 and linked to the user attempt 2 created.
    expect(delivered.attempts).toBeGreaterThan(1);
    const users = await onB('flaky-fiona');
    expect(users).toHaveLength(1);
    expect(delivered.remoteId).toBe(users[0]!.id);
    expect(users[0]).toMatchObject({ emails: [{ value: 'fiona@example.org' }] });
    const creates = proxy.log.filter(isCreate).map((e) => e.status);
    expect(creates).toEqual([500, 500, 409]);
    expect((await json(a, 'GET', '/api/server/v1/provisioning/quarantine')).body).toEqual([]);
  });

  it('a 400 from B on a non-blocking link: A answered 201, the audit says failed with B\'s reason, nothing quarantined, the queue moves on', async () => {
    const created = await json(a, 'POST', '/scim2/Users', { userName: 'short-pw-sam', password: 'short-pw1' });
    expect(created.status).toBe(201);
    const localId = String((created.body).id);

    const failed = await eventually(async () => (await auditOf(localId)).find((r) => r.operation === 'create' && r.outcome === 'failed'), 60_000, 'the failed audit record');
    expect(failed.error).toMatch(/^ConnectorRejected: POST \/scim2\/Users -> 400: .*at least 12 characters/);
    expect(failed.attempts).toBe(1); // a refusal is not retried
    expect(await onB('short-pw-sam')).toEqual([]);
    expect((await json(a, 'GET', '/api/server/v1/provisioning/quarantine')).body).toEqual([]);

    // The same user's next change goes through (its queue moved on): with a password B accepts, it is created there.
    const replaced = await json(a, 'PUT', `/scim2/Users/${localId}`, { userName: 'short-pw-sam', password: 'now-long-enough-pw', title: 'fixed' });
    expect(replaced.status).toBe(200);
    await eventually(async () => ((await onB('short-pw-sam'))[0]?.title === 'fixed' ? true : undefined), 60_000, 'the next change of the user on B');

    // And another user's change too.
    expect((await json(a, 'POST', '/scim2/Users', { userName: 'after-sam', password: 'a-long-enough-password' })).status).toBe(201);
    await eventually(async () => ((await onB('after-sam')).length === 1 ? true : undefined), 60_000, 'another user on B');
    expect((await json(a, 'GET', '/api/server/v1/provisioning/quarantine')).body).toEqual([]);
  });
});
