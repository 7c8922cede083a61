/**
 * Fault test from the outbound-provisioning issue: 200 rapid updates to one user spread across three targets,
 * one of them flapping, ending with identical state everywhere.
 *
 * A provisions (non-blocking, from the resident SP) to three targets, each an identity provider of its own with
 * its own SCIM 2.0 connector: B and C directly, D behind a proxy that fails ~40% of requests (seeded: 503 with
 * Retry-After: 0, connections dropped before forwarding, answers lost after forwarding). 200 updates (PUT and
 * PATCH, 20 at a time in parallel) change one user on A; every target must end with A's final state, exactly one
 * user by that name, every delivery audited as delivered or skipped (never failed), the applied version equal to
 * A's, and no target ever seen going back to an older version. (Updates that pile up behind a target are folded
 * into the newest, which is delivered in their place: their records say "superseded".)
 */
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, linkScim2Target, startInstance, writeFollowingAccepted, type Instance } from './harness.js';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.js';

interface ScimUser {
  id: string;
  userName: string;
  displayName?: string;
  title?: string;
  emails?: { value: string; type?: string; primary?: boolean }[];
  name?: { givenName?: string; familyName?: string };
  meta: { version: string };
}
interface ListResponse {
  totalResults: number;
  Resources: ScimUser[];
}
interface RemoteLink {
  connectorId: string;
  identityProvider: string;
  remoteId: string | null;
  appliedVersion: number;
}
interface AuditRow {
  eventId: string;
  connectorId: string;
  operation: string;
  outcome: string;
  error: string | null;
}

const UPDATES = 200;
const BATCH = 20;
const USER_NAME = 'rapid-user';

async function json<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

const versionOf = (u: ScimUser) => Number(/W\/"(\d+)"/.exec(u.meta.version)?.[1]);
const attrs = (u: ScimUser) => ({ displayName: u.displayName, title: u.title, emails: u.emails, name: u.name });

async function findByUserName(instance: Instance, userName: string): Promise<ListResponse> {
  const res = await instance.request('GET', `/scim2/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`);
  expect(res.status).toBe(200);
  return json<ListResponse>(res);
}

describe('200 rapid updates to one user, three targets, one flapping', () => {
  let a: Instance;
  const targets: { name: string; instance: Instance; userName: string }[] = [];
  let proxy: FaultProxy;
  const instances: Instance[] = [];

  beforeAll(async () => {
    const started = Date.now();
    // Three processes-sets, three targets: B and C over SCIM 2.0 to their PRIMARY store, and a third connector
    // (an identity provider of its own) to B's secondary user store FLAP, through the flapping proxy. B's two
    // user stores are separate targets: 'rapid-user' and 'FLAP/rapid-user' are different users there.
    const [ia, ib, ic] = await Promise.all([startInstance('A'), startInstance('B'), startInstance('C')]);
    instances.push(ia, ib, ic);
    a = ia;
    proxy = await startFaultProxy(ib.baseUrl, { failureRate: 0.4, seed: 20261140, retryAfter: process.env.TEST_RETRY_AFTER ?? '0' });
    expect((await ib.request('POST', '/api/server/v1/userstores', { name: 'FLAP', description: 'the flapping target' })).status).toBe(201);
    await linkScim2Target(a, ib, { blocking: false, idpName: 'B' });
    await linkScim2Target(a, ic, { blocking: false, idpName: 'C' });
    const idp = await a.request('POST', '/api/server/v1/identity-providers', {
      name: 'B-FLAP-flapping',
      outboundConnectors: [
        {
          type: 'scim2',
          settings: {
            userEndpoint: `${proxy.url}/scim2/Users`,
            groupEndpoint: `${proxy.url}/scim2/Groups`,
            username: ib.admin.username,
            userStoreDomain: 'FLAP',
            timeoutMs: 20_000,
          },
          secrets: { password: ib.admin.password },
          passwordProvisioning: true,
          retry: { initialIntervalMs: 200, maximumIntervalMs: 1000 },
        },
      ],
    });
    expect(idp.status).toBe(201);
    const connectorId = (await json<{ outboundConnectors: { id: string }[] }>(idp)).outboundConnectors[0]!.id;
    const link = await a.request('POST', '/api/server/v1/applications/resident/provisioning/outbound-connectors', { connectorId, blocking: false });
    expect(link.status).toBe(201);
    targets.push({ name: 'B', instance: ib, userName: `PRIMARY/${USER_NAME}` }, { name: 'C', instance: ic, userName: `PRIMARY/${USER_NAME}` }, { name: 'B/FLAP (flapping)', instance: ib, userName: `FLAP/${USER_NAME}` });
    console.log(`[rapid-updates] 3 instances started and 3 targets linked in ${Date.now() - started} ms`);
  });
  afterAll(async () => {
    await proxy?.close();
    await Promise.allSettled(instances.map((i) => i.stop()));
  });

  it('ends with identical state everywhere, in order, exactly once', async () => {
    const t0 = Date.now();
    const created = await a.request('POST', '/scim2/Users', {
      schemas: [],
      userName: USER_NAME,
      name: { givenName: 'Rapid', familyName: 'User' },
      displayName: 'v0',
      title: 'v0',
      emails: [{ value: 'v0@example.org', type: 'work', primary: true }],
    });
    expect(created.status).toBe(201);
    const user = await json<ScimUser>(created);

    // Which title each version of the user carries, from A's own answers: lets the watcher below tell, from a
    // target's title alone, which version of A the target holds.
    const titleVersion = new Map<string, number>([['v0', 1]]);
    const regressions: string[] = [];
    const lastSeen = new Map<string, number>();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        await Promise.all(
          targets.map(async (t) => {
            const list = await findByUserName(t.instance, t.userName).catch(() => undefined);
            const title = list?.Resources[0]?.title;
            const v = title === undefined ? undefined : titleVersion.get(title);
            if (v === undefined) return;
            const before = lastSeen.get(t.name) ?? 0;
            if (v < before) regressions.push(`${t.name}: version ${v} seen after ${before}`);
            lastSeen.set(t.name, Math.max(before, v));
          }),
        );
        await new Promise((r) => setTimeout(r, 250));
      }
    })();

    // 200 updates, 20 at a time in parallel; odd ones PUT, even ones PATCH.
    for (let from = 1; from <= UPDATES; from += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, UPDATES - from + 1) }, (_, k) => from + k);
      const answers = await Promise.all(
        batch.map(async (i) => {
          const v = `v${i}`;
          const email = [{ value: `${v}@example.org`, type: 'work', primary: true }];
          const res =
            i % 2 === 1
              ? await writeFollowingAccepted(a, 'PUT', `/scim2/Users/${user.id}`, {
                  schemas: [],
                  userName: USER_NAME,
                  name: { givenName: 'Rapid', familyName: 'User' },
                  displayName: v,
                  title: v,
                  emails: email,
                })
              : await writeFollowingAccepted(a, 'PATCH', `/scim2/Users/${user.id}`, {
                  schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
                  Operations: [
                    { op: 'replace', path: 'displayName', value: v },
                    { op: 'replace', path: 'title', value: v },
                    { op: 'replace', path: 'emails', value: email },
                  ],
                });
          return { i, status: res.status, body: await json<ScimUser>(res) };
        }),
      );
      for (const r of answers) {
        expect(r.status, `update ${r.i}: ${JSON.stringify(r.body)}`).toBe(200);
        titleVersion.set(r.body.title!, versionOf(r.body));
      }
    }
    const accepted = Date.now();
    console.log(`[rapid-updates] ${UPDATES} updates accepted by A in ${accepted - t0} ms`);

    const onA = await json<ScimUser>(await a.request('GET', `/scim2/Users/${user.id}`));
    expect(versionOf(onA)).toBe(UPDATES + 1); // the create, then every update applied exactly once
    // A's state is the one its highest version carries.
    expect(titleVersion.get(onA.title!)).toBe(UPDATES + 1);
    expect(new Set(titleVersion.values()).size).toBe(UPDATES + 1);

    // Every target converges on A's final state.
    const diagnose = async () => {
      const seen = await Promise.all(
        targets.map(async (t) => {
          const r = (await findByUserName(t.instance, t.userName)).Resources[0];
          return `${t.name}: ${r?.title} (A's version ${r?.title === undefined ? '-' : titleVersion.get(r.title)})`;
        }),
      );
      const l = await json<RemoteLink[]>(await a.request('GET', `/api/server/v1/provisioning/users/${user.id}/remote-links`));
      const rows = await json<AuditRow[]>(await a.request('GET', `/api/server/v1/provisioning/audit?userId=${user.id}&limit=1000`));
      const counts: Record<string, number> = {};
      for (const r of rows) {
        const k = `${l.find((x) => x.connectorId === r.connectorId)?.identityProvider ?? r.connectorId}:${r.outcome}`;
        counts[k] = (counts[k] ?? 0) + 1;
      }
      console.log(
        `[rapid-updates] A holds ${onA.title} (version ${versionOf(onA)}); targets: ${seen.join('; ')}; links: ${l.map((x) => `${x.identityProvider}@${x.appliedVersion}`).join(', ')}; audit: ${JSON.stringify(counts)}; proxy: ${JSON.stringify(proxy.stats)}`,
      );
    };
    const progress = setInterval(() => void diagnose().catch(() => undefined), 20_000);
    try {
      await Promise.all(
        targets.map((t) =>
          eventually(
            async () => {
              const list = await findByUserName(t.instance, t.userName);
              return list.totalResults === 1 && list.Resources[0]!.title === onA.title ? list : undefined;
            },
            150_000,
            `A's final state on ${t.name}`,
          ),
        ),
      );
    } finally {
      clearInterval(progress);
    }
    const converged = Date.now();
    console.log(`[rapid-updates] all three targets converged ${converged - accepted} ms after the last update was accepted`);

    // A's links: each target holds A's version, and every event was audited at every target.
    const links = await eventually(
      async () => {
        const l = await json<RemoteLink[]>(await a.request('GET', `/api/server/v1/provisioning/users/${user.id}/remote-links`));
        return l.length === 3 && l.every((x) => x.appliedVersion === UPDATES + 1) ? l : undefined;
      },
      30_000,
      'every remote link at the final version',
    );
    const auditRows = async () => json<AuditRow[]>(await a.request('GET', `/api/server/v1/provisioning/audit?userId=${user.id}&limit=1000`));
    const audit = await eventually(
      async () => {
        const rows = await auditRows();
        return rows.length >= 3 * (UPDATES + 1) ? rows : undefined;
      },
      60_000,
      'an audit record of every event at every target',
    ).catch(async (err: unknown) => {
      const rows = await auditRows();
      const counts: Record<string, number> = {};
      for (const r of rows) counts[`${r.connectorId.slice(0, 8)}:${r.operation}:${r.outcome}`] = (counts[`${r.connectorId.slice(0, 8)}:${r.operation}:${r.outcome}`] ?? 0) + 1;
      console.log(`[rapid-updates] audit: ${rows.length} rows ${JSON.stringify(counts)}`);
      const connection = await Connection.connect({ address: a.temporalAddress });
      try {
        const d = await new Client({ connection }).workflow.getHandle(`outbound-${user.id}`).describe();
        const raw = d.raw.pendingActivities ?? [];
        console.log(
          `[rapid-updates] outbound-${user.id}: ${d.status.name}, history ${d.historyLength}; pending activities: ${JSON.stringify(
            raw.map((p) => ({ type: p.activityType?.name, state: p.state, attempt: p.attempt, lastFailure: p.lastFailure?.message, cause: p.lastFailure?.cause?.message, stack: p.lastFailure?.stackTrace?.slice(0, 600) })),
          )}`,
        );
      } finally {
        await connection.close();
      }
      throw err;
    });
    watching = false;
    await watcher;

    for (const t of targets) {
      const list = await findByUserName(t.instance, t.userName);
      expect(list.totalResults, `users named ${t.userName} on ${t.name}`).toBe(1);
      const remote = list.Resources[0]!;
      expect(attrs(remote), `state on ${t.name}`).toEqual(attrs(onA));
      const link = links.find((l) => l.remoteId === remote.id);
      expect(link, `A's link to ${t.name}`).toBeDefined();
    }
    expect(new Set(links.map((l) => l.connectorId)).size).toBe(3);

    expect(audit).toHaveLength(3 * (UPDATES + 1));
    const bad = audit.filter((r) => r.outcome !== 'delivered' && r.outcome !== 'skipped');
    expect(bad, 'deliveries that failed for good').toEqual([]);
    for (const l of links) {
      const rows = audit.filter((r) => r.connectorId === l.connectorId);
      expect(rows, `audit records for ${l.identityProvider}`).toHaveLength(UPDATES + 1);
      expect(rows.filter((r) => r.operation === 'create' && r.outcome === 'delivered')).toHaveLength(1);
      // Skips are only ever "already applied / older than applied" or "folded into a newer update sent in its place".
      for (const r of rows.filter((x) => x.outcome === 'skipped')) {
        expect(r.error).toMatch(/not newer than applied version|^superseded by version \d+ \(.+\), (delivered|skipped) in its place$/);
      }
    }
    expect(regressions, 'a target went back to an older version').toEqual([]);
    expect(lastSeen.size).toBe(3);

    const summary = links.map((l) => {
      const rows = audit.filter((r) => r.connectorId === l.connectorId);
      return `${l.identityProvider}: ${rows.filter((r) => r.outcome === 'delivered').length} delivered, ${rows.filter((r) => r.outcome === 'skipped').length} skipped`;
    });
    console.log(`[rapid-updates] ${summary.join('; ')}; proxy: ${JSON.stringify(proxy.stats)}; total ${Date.now() - t0} ms`);
    // The flapping target really flapped: the seed makes its first three requests fail, one of each kind, and ~40 %
    // of the rest. (Folding keeps the number of requests small, so the count of faults varies with timing.)
    expect(proxy.stats.faults['503']).toBeGreaterThanOrEqual(1);
    expect(proxy.stats.faults['drop-before']).toBeGreaterThanOrEqual(1);
    expect(proxy.stats.faults['drop-after']).toBeGreaterThanOrEqual(1);
  }, 240_000);
});
