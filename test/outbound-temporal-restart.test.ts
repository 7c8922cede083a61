/**
 * Fault test from the outbound-provisioning issue: the Temporal server restarted mid-fan-out. Every accepted
 * change arrives exactly once, in order, or is visibly quarantined; nothing is lost.
 *
 * A Temporal dev server of this file's own (SQLite file, free ports) so it can be stopped and started again on
 * the same port and data; A and B run on it. A provisions to B (non-blocking) through a proxy that holds each
 * answer ~1 s, so deliveries are in flight when the server goes away. The test never restarts A or B: their
 * api and worker processes must reconnect by themselves.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startDevServer, type DevServer } from '../src/temporal/dev-server.js';
import { eventually, linkScim2Target, startInstance, testStack, type Instance } from './harness.js';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.js';
import { freePort } from './support/ports.js';

interface ScimUser {
  id: string;
  userName: string;
  displayName?: string;
  emails?: { value: string; type?: string; primary?: boolean }[];
  meta: { version: string };
}
interface ListResponse {
  totalResults: number;
  Resources: ScimUser[];
}
interface RemoteLink {
  remoteId: string | null;
  appliedVersion: number;
}
interface AuditRow {
  outcome: string;
  operation: string;
  error: string | null;
}

const USERS = 10;
const VERBOSE = process.env.TEST_VERBOSE === '1';

async function json<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}
const versionOf = (u: ScimUser) => Number(/W\/"(\d+)"/.exec(u.meta.version)?.[1]);

describe('Temporal server restarted mid-fan-out', () => {
  let temporal: DevServer | undefined;
  let tmp: string;
  let port: number;
  let uiPort: number;
  let a: Instance | undefined;
  let b: Instance | undefined;
  let proxy: FaultProxy | undefined;
  const cliPath = inject('temporalCliPath');
  const temporalLog: string[] = [];
  const startTemporal = async () =>
    startDevServer({
      cliPath,
      dbFile: path.join(tmp, 'temporal.db'),
      port,
      uiPort,
      output: (line) => {
        temporalLog.push(line);
        if (VERBOSE) process.stderr.write(`[temporal] ${line}\n`);
      },
    });

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'temporal-restart-'));
    [port, uiPort] = [await freePort(), await freePort()];
    temporal = await startTemporal();
    const stack = { ...(await testStack()), temporalAddress: temporal.address };
    [a, b] = await Promise.all([startInstance('A', { stack }), startInstance('B', { stack })]);
    proxy = await startFaultProxy(b.baseUrl, { delayMs: 1000 });
    await linkScim2Target(a, { baseUrl: proxy.url, admin: b.admin }, { blocking: false, idpName: 'B-slow' });
  });
  afterAll(async () => {
    await proxy?.close();
    await Promise.allSettled([a?.stop(), b?.stop()]);
    await temporal?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('delivers every accepted change exactly once, with A and B recovering on their own', async () => {
    const t0 = Date.now();
    const userName = (i: number) => `restart-${i}`;
    const created = await Promise.all(
      Array.from({ length: USERS }, async (_, i) => {
        const res = await a!.request('POST', '/scim2/Users', {
          schemas: [],
          userName: userName(i),
          displayName: `created ${i}`,
          emails: [{ value: `${userName(i)}@example.org`, type: 'work', primary: true }],
        });
        expect(res.status).toBe(201);
        return json<ScimUser>(res);
      }),
    );
    // A few users changed twice more, while their creates are still on their way to B.
    const changed = [0, 3, 7];
    for (const round of [1, 2]) {
      await Promise.all(
        changed.map(async (i) => {
          const res = await a!.request('PATCH', `/scim2/Users/${created[i]!.id}`, {
            schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
            Operations: [{ op: 'replace', path: 'displayName', value: `changed ${i} round ${round}` }],
          });
          expect(res.status).toBe(200);
        }),
      );
    }
    const forwardedBefore = proxy!.stats.forwarded;
    // The last round's deliveries cannot have been acknowledged yet (the proxy holds each answer ~1 s).
    let auditedBefore = 0;
    for (const u of created) {
      auditedBefore += (await json<AuditRow[]>(await a!.request('GET', `/api/server/v1/provisioning/audit?userId=${u.id}&limit=1000`))).length;
    }
    expect(auditedBefore).toBeLessThan(USERS + changed.length * 2);
    console.log(`[temporal-restart] ${USERS} creates and ${changed.length * 2} updates accepted in ${Date.now() - t0} ms; ${forwardedBefore} requests had reached B, ${auditedBefore} deliveries were recorded by A`);

    // Mid-fan-out: stop the Temporal server, keep it down, start it again on the same port and data.
    const stopAt = Date.now();
    await temporal!.stop();
    temporal = undefined;
    await new Promise((r) => setTimeout(r, 5000));
    temporal = await startTemporal();
    console.log(`[temporal-restart] Temporal server down for ${Date.now() - stopAt} ms (${forwardedBefore} forwarded before, ${proxy!.stats.forwarded} by now)`);
    const restarted = Date.now();

    // Every user on B exactly once with A's final state; A's links at A's versions.
    const finals = await Promise.all(created.map(async (u) => json<ScimUser>(await a!.request('GET', `/scim2/Users/${u.id}`))));
    for (const [i, u] of finals.entries()) expect(versionOf(u)).toBe(changed.includes(i) ? 3 : 1);
    await eventually(
      async () => {
        for (const u of finals) {
          const list = await json<ListResponse>(await b!.request('GET', `/scim2/Users?filter=${encodeURIComponent(`userName eq "${u.userName}"`)}`));
          if (list.totalResults !== 1 || list.Resources[0]!.displayName !== u.displayName) return undefined;
          const links = await json<RemoteLink[]>(await a!.request('GET', `/api/server/v1/provisioning/users/${u.id}/remote-links`));
          if (links.length !== 1 || links[0]!.appliedVersion !== versionOf(u) || links[0]!.remoteId !== list.Resources[0]!.id) return undefined;
        }
        return true;
      },
      // Generous: CI runs this beside other end-to-end suites on two cores (locally it takes ~10 s).
      240_000,
      'every user on B with its final state after the Temporal restart',
    );
    console.log(`[temporal-restart] every change on B ${Date.now() - restarted} ms after the restart`);

    for (const u of finals) {
      const list = await json<ListResponse>(await b!.request('GET', `/scim2/Users?filter=${encodeURIComponent(`userName eq "${u.userName}"`)}`));
      expect(list.totalResults, `users named ${u.userName} on B`).toBe(1);
      expect(list.Resources[0]!.emails).toEqual(u.emails);
      const rows = await eventually(
        async () => {
          const r = await json<AuditRow[]>(await a!.request('GET', `/api/server/v1/provisioning/audit?userId=${u.id}&limit=1000`));
          return r.length === versionOf(u) ? r : undefined;
        },
        30_000,
        `an audit record per change of ${u.userName}`,
      );
      // Nothing failed; nothing is held (quarantined) either, since B never rejected anything.
      expect(rows.filter((r) => r.outcome !== 'delivered' && r.outcome !== 'skipped')).toEqual([]);
      expect(rows.filter((r) => r.operation === 'create' && r.outcome === 'delivered')).toHaveLength(1);
    }

    // The processes that lived through the restart still work: a new write on A is answered and reaches B.
    const after = await a!.request('POST', '/scim2/Users', { schemas: [], userName: 'after-restart', displayName: 'after' });
    expect(after.status).toBe(201);
    await eventually(
      async () => {
        const list = await json<ListResponse>(await b!.request('GET', `/scim2/Users?filter=${encodeURIComponent('userName eq "after-restart"')}`));
        return list.totalResults === 1 ? true : undefined;
      },
      60_000,
      'a user created after the restart on B',
    );
    console.log(`[temporal-restart] total ${Date.now() - t0} ms; proxy ${JSON.stringify(proxy!.stats)}`);
  }, 420_000);
});
