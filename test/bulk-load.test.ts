/**
 * Bulk loads (issue #11, S5): a Bulk request's run of user creates is one InboundProvision (`createBatch`) writing in
 * chunks, its users sent on in one OutboundBatch per chunk; a target whose ServiceProviderConfig supports Bulk gets
 * them through its own /Bulk. What a single create guarantees must still hold: each create's own answer, bulkId
 * references, uniqueness, failOnErrors, per-user order against a later single change, exactly once at every target
 * through a worker kill, the audit trail, and a repeated request (same Idempotency-Key) applying nothing twice.
 *
 * A provisions (non-blocking, from the resident SP) to B, through B's /Bulk (the connector's default `bulk: auto`; B is
 * an instance of this server, whose ServiceProviderConfig says bulk.supported), and to C one user per call
 * (`bulk: never`).
 *
 * The delivery lease (activities/outbound.ts takeLeases) that keeps a batch and a single change of one user from
 * crossing at a target is forced in the last test: a lease row held by "another delivery" in A's database.
 */
import crypto from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, linkScim2Target, startInstance, workflowCountIs, type Instance } from './harness.js';

interface BulkOp {
  method: string;
  bulkId?: string;
  location?: string;
  version?: string;
  status: string;
  response?: { detail?: string; scimType?: string };
}
interface ScimUser {
  id: string;
  userName: string;
  title?: string;
  meta: { version: string };
}
interface AuditRow {
  eventId: string;
  connectorId: string;
  operation: string;
  outcome: string;
  localId: string;
  error: string | null;
}

const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';

const userOp = (prefix: string, i: number, extra: Record<string, unknown> = {}) => ({
  method: 'POST',
  path: '/Users',
  bulkId: `u${i}`,
  data: {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName: `${prefix}-${i}`,
    displayName: `Bulk ${prefix} ${i}`,
    title: 'loaded',
    emails: [{ value: `${prefix}-${i}@example.org`, type: 'work', primary: true }],
    ...extra,
  },
});

async function bulk(instance: Instance, body: unknown, key: string): Promise<{ status: number; ops: BulkOp[]; text: string }> {
  const res = await instance.request('POST', '/scim2/Bulk', body, { 'Idempotency-Key': `"${key}"` });
  const text = await res.text();
  return { status: res.status, ops: res.status === 200 ? ((JSON.parse(text) as { Operations: BulkOp[] }).Operations ?? []) : [], text };
}

/** Users at `instance` whose userName starts with `prefix`: every one, with how many times each name occurs. */
async function usersWithPrefix(instance: Instance, prefix: string): Promise<ScimUser[]> {
  const out: ScimUser[] = [];
  for (let startIndex = 1; ; ) {
    const res = await instance.request('GET', `/scim2/Users?count=1000&startIndex=${startIndex}&attributes=userName,title&filter=${encodeURIComponent(`userName sw "${prefix}-"`)}`);
    expect(res.status).toBe(200);
    const page = (await res.json()) as { Resources?: ScimUser[]; totalResults: number };
    out.push(...(page.Resources ?? []));
    startIndex += page.Resources?.length ?? 0;
    if (!page.Resources?.length || startIndex > page.totalResults) return out;
  }
}

/** Waits until `instance` has exactly the `names` (bare userNames) of `prefix`, each once. */
async function inSync(instance: Instance, prefix: string, names: string[], what: string): Promise<ScimUser[]> {
  const want = new Set(names.map((n) => n.toLowerCase()));
  return eventually(
    async () => {
      const users = await usersWithPrefix(instance, prefix);
      const seen = users.map((u) => u.userName.replace(/^PRIMARY\//i, '').toLowerCase());
      // Never more than one of a name, even before the rest arrived.
      expect(seen.length, `${what}: a user arrived twice`).toBe(new Set(seen).size);
      expect(seen.filter((n) => !want.has(n)), `${what}: users that should not be there`).toEqual([]);
      return seen.length === want.size ? users : undefined;
    },
    180_000,
    what,
  );
}

describe('Bulk loads: one workflow per run of creates, batched deliveries, the target\'s own /Bulk', () => {
  let a: Instance;
  let b: Instance;
  let c: Instance;
  let bConnector: string;
  let cConnector: string;
  let connection: Connection;
  let temporal: Client;
  const instances: Instance[] = [];

  beforeAll(async () => {
    [a, b, c] = await Promise.all([startInstance('A'), startInstance('B'), startInstance('C')]);
    instances.push(a, b, c);
    bConnector = (await linkScim2Target(a, b, { blocking: false, idpName: 'B-bulk' })).connectorId;
    cConnector = (await linkScim2Target(a, c, { blocking: false, idpName: 'C-one-by-one', settings: { bulk: 'never' } })).connectorId;
    connection = await Connection.connect({ address: a.temporalAddress });
    temporal = new Client({ connection });
  });
  afterAll(async () => {
    await connection?.close();
    await Promise.allSettled(instances.map((i) => i.stop()));
  });

  const count = async (query: string) => Number((await temporal.workflow.count(query)).count);
  const countIs = (query: string, want: number) => workflowCountIs(temporal, query, want);

  it('answers each operation as alone, in a few workflows, and every user reaches both targets once, in order with a later change', async () => {
    const prefix = `load-${crypto.randomBytes(3).toString('hex')}`;
    const N = 250;
    const DUPLICATE = 120; // this create repeats user 3's userName: 409 uniqueness, the rest go on
    const operations: unknown[] = [];
    for (let i = 0; i < N; i++) operations.push(i === DUPLICATE ? { ...userOp(prefix, i), data: { ...userOp(prefix, 3).data } } : userOp(prefix, i));
    operations.push(
      { method: 'PATCH', path: '/Users/bulkId:u5', data: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'title', value: 'patched in the bulk' }] } },
      { method: 'POST', path: '/Groups', bulkId: 'g', data: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: `${prefix}-group`, members: [{ value: 'bulkId:u1' }, { value: 'bulkId:u2' }] } },
    );
    const key = crypto.randomUUID();
    const t0 = new Date();
    const answer = await bulk(a, { schemas: [BULK_REQUEST], Operations: operations }, key);
    expect(answer.status, answer.text.slice(0, 500)).toBe(200);
    expect(answer.ops).toHaveLength(N + 2);

    // Each create answers as POST /Users would: 201, its location and version; the duplicate 409 uniqueness.
    const creates = answer.ops.slice(0, N);
    creates.forEach((op, i) => {
      expect(op.bulkId).toBe(`u${i}`);
      if (i === DUPLICATE) {
        expect(op.status).toBe('409');
        expect(op.response?.scimType).toBe('uniqueness');
      } else {
        expect(op.status, JSON.stringify(op)).toBe('201');
        expect(op.location).toMatch(new RegExp(`^${a.baseUrl}/scim2/Users/[0-9a-f-]{36}$`));
        expect(op.version).toBe('W/"1"');
      }
    });
    // bulkId references to the batch's users resolve: the PATCH and the group's members.
    expect(answer.ops[N]).toMatchObject({ method: 'PATCH', status: '200' });
    expect(answer.ops[N + 1]).toMatchObject({ method: 'POST', bulkId: 'g', status: '201' });
    const idOf = (i: number) => creates[i]!.location!.split('/').pop()!;
    const groupPath = new URL(answer.ops[N + 1]!.location!).pathname;
    const group = (await (await a.request('GET', groupPath)).json()) as { members: { value: string }[] };
    expect(group.members.map((m) => m.value).sort()).toEqual([idOf(1), idOf(2)].sort());

    // A single change right after the answer, while the batches deliver: the targets end with it, not with the create.
    const later = await a.request('PATCH', `/scim2/Users/${idOf(7)}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'title', value: 'changed after the load' }],
    });
    expect(later.status).toBe(200);

    // A: the 249 users once each.
    const names = Array.from({ length: N }, (_, i) => `${prefix}-${i}`).filter((_, i) => i !== DUPLICATE);
    expect((await usersWithPrefix(a, prefix)).length).toBe(N - 1);

    // Both targets: every user once, the later change and the bulk's own PATCH applied over the create.
    for (const [target, what] of [
      [b, 'B (its /Bulk)'],
      [c, 'C (one call per user)'],
    ] as const) {
      await inSync(target, prefix, names, what);
      await eventually(
        async () => {
          const users = await usersWithPrefix(target, prefix);
          const title = (n: number) => users.find((u) => u.userName.replace(/^PRIMARY\//i, '') === `${prefix}-${n}`)?.title;
          return title(7) === 'changed after the load' && title(5) === 'patched in the bulk' && title(8) === 'loaded' ? true : undefined;
        },
        60_000,
        `${what}: the changes after the creates`,
      );
    }

    // A few workflows, not one per user: one InboundProvision for the creates (and one each for the PATCH, the group
    // and the single change), one OutboundBatch per chunk of 100 created users.
    const since = `StartTime >= '${t0.toISOString()}'`;
    await countIs(`WorkflowType = 'inboundProvision' AND TaskQueue = '${a.taskQueue}' AND ${since} AND ProvisioningOperation = 'createBatch'`, 1);
    await countIs(`WorkflowType = 'outboundBatch' AND TaskQueue = '${a.taskQueue}' AND ${since}`, 3);
    // B took them through its own Bulk endpoint, itself in a few workflows.
    expect(await count(`WorkflowType = 'inboundProvision' AND TaskQueue = '${b.taskQueue}' AND ${since} AND ProvisioningOperation = 'createBatch'`)).toBeGreaterThanOrEqual(1);
    const singles = await count(`WorkflowType = 'inboundProvision' AND TaskQueue = '${b.taskQueue}' AND ${since} AND ProvisioningOperation = 'create'`);
    if (singles > 0) console.log(a.output().filter((l) => /bulk|transient|delivery failed|retry|one user per call/i.test(l)).slice(-30).join('\n'));
    expect(singles).toBe(0);

    // The audit trail: one create record per user and target, under the Bulk operation's own event id, delivered. User
    // 7's single change may have reached a target before its batch did (its delivery then created it there, with the
    // newer state): the batch's create of it is then recorded as skipped, older than what the target has.
    for (const connectorId of [bConnector, cConnector]) {
      const res = await a.request('GET', `/api/server/v1/provisioning/audit?connectorId=${connectorId}&resourceType=User&operation=create&from=${t0.toISOString()}&limit=1000`);
      const rows = (await res.json()) as AuditRow[];
      expect(rows).toHaveLength(N - 1);
      expect(new Set(rows.map((r) => r.localId)).size).toBe(N - 1);
      expect(rows.every((r) => /:\d+$/.test(r.eventId))).toBe(true);
      expect(rows.filter((r) => r.outcome !== 'delivered' && r.localId !== idOf(7))).toEqual([]);
      const seventh = rows.find((r) => r.localId === idOf(7))!;
      if (seventh.outcome !== 'delivered') expect(seventh).toMatchObject({ outcome: 'skipped', error: 'version 1 not newer than applied version 2' });
    }

    // The same request again with its key: the same answers, nothing applied twice.
    const again = await bulk(a, { schemas: [BULK_REQUEST], Operations: operations }, key);
    expect(again.status).toBe(200);
    expect(again.ops.slice(0, N).map((o) => [o.status, o.location])).toEqual(creates.map((o) => [o.status, o.location]));
    expect((await usersWithPrefix(a, prefix)).length).toBe(N - 1);
  }, 400_000);

  it('failOnErrors stops the run after that many rejections: the creates after it are neither applied nor answered', async () => {
    const prefix = `fail-${crypto.randomBytes(3).toString('hex')}`;
    const operations = Array.from({ length: 20 }, (_, i) => (i === 4 || i === 9 ? { ...userOp(prefix, i), data: { ...userOp(prefix, 0).data } } : userOp(prefix, i)));
    const answer = await bulk(a, { schemas: [BULK_REQUEST], failOnErrors: 2, Operations: operations }, crypto.randomUUID());
    expect(answer.status, answer.text.slice(0, 500)).toBe(200);
    expect(answer.ops.map((o) => o.status)).toEqual(['201', '201', '201', '201', '409', '201', '201', '201', '201', '409']);
    expect((await usersWithPrefix(a, prefix)).map((u) => u.userName).sort()).toEqual(
      [0, 1, 2, 3, 5, 6, 7, 8].map((i) => `${prefix}-${i}`).sort(),
    );
  });

  it('a worker killed while the batches deliver: every user reaches both targets exactly once', async () => {
    const prefix = `kill-${crypto.randomBytes(3).toString('hex')}`;
    const N = 300;
    const operations = Array.from({ length: N }, (_, i) => userOp(prefix, i));
    const answer = await bulk(a, { schemas: [BULK_REQUEST], Operations: operations }, crypto.randomUUID());
    expect(answer.status, answer.text.slice(0, 500)).toBe(200);
    expect(answer.ops.filter((o) => o.status === '201')).toHaveLength(N);
    // The deliveries are under way (the answer came when the users were stored): kill -9 the worker, start it again.
    await a.killWorker();
    await new Promise((r) => setTimeout(r, 1000));
    await a.startWorker();
    const names = Array.from({ length: N }, (_, i) => `${prefix}-${i}`);
    const t0 = Date.now();
    await inSync(b, prefix, names, 'B after the kill');
    await inSync(c, prefix, names, 'C after the kill');
    console.log(`[bulk-load] ${N} users at both targets ${Date.now() - t0} ms after the worker's restart`);
    // At A, each delivery is recorded once it is linked (after the kill, the retried batch finds them at the targets
    // and links them by name): one delivered create per user and target, and nothing failed.
    const ids = new Set(answer.ops.map((o) => o.location!.split('/').pop()!));
    for (const connectorId of [bConnector, cConnector]) {
      await eventually(
        async () => {
          const res = await a.request('GET', `/api/server/v1/provisioning/audit?connectorId=${connectorId}&resourceType=User&operation=create&limit=1000`);
          const rows = ((await res.json()) as AuditRow[]).filter((r) => ids.has(r.localId));
          expect(rows.filter((r) => r.outcome === 'failed')).toEqual([]);
          const delivered = rows.filter((r) => r.outcome === 'delivered');
          expect(delivered.length).toBe(new Set(delivered.map((r) => r.localId)).size);
          if (delivered.length !== N) {
            const by = [...new Set(rows.map((r) => r.outcome))].map((o) => `${o} ${rows.filter((r) => r.outcome === o).length}`);
            throw new Error(`${by.join(', ')} of ${N}; e.g. ${JSON.stringify(rows.find((r) => r.outcome !== 'delivered'))}`);
          }
          return true;
        },
        120_000,
        `A's audit of ${connectorId}`,
      );
    }
  }, 400_000);

  it("a delivery waits while another delivery of the same user to the same target holds the lease, and goes once it lapses", async () => {
    const userName = `leased-${crypto.randomBytes(3).toString('hex')}`;
    const titleAt = async (target: Instance) => {
      const res = await target.request('GET', `/scim2/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}&attributes=title`);
      return ((await res.json()) as { Resources?: { title?: string }[] }).Resources?.[0]?.title;
    };
    const created = await a.request('POST', '/scim2/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName, title: 'before' });
    expect(created.status).toBe(201);
    const id = ((await created.json()) as ScimUser).id;
    for (const target of [b, c]) await eventually(async () => ((await titleAt(target)) === 'before' ? true : undefined), 60_000, 'the create at both targets');

    // Another delivery of this user to C holds the lease (as a batch would, mid-call), for a minute.
    const db = new pg.Client({ connectionString: a.databaseUrl });
    await db.connect();
    try {
      await db.query(
        `INSERT INTO delivery_lease (connector_id, resource_type, local_id, holder, expires_at) VALUES ($1, 'User', $2, 'test/another-delivery', now() + interval '1 minute')`,
        [cConnector, id],
      );
      const changed = await a.request('PATCH', `/scim2/Users/${id}`, {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'replace', path: 'title', value: 'after' }],
      });
      expect(changed.status).toBe(200);
      // B (no lease held) gets the change; C's delivery of it keeps waiting for the lease: a second after B has it,
      // and after several of the waiting delivery's retries (250 ms apart), C still has the create's state.
      await eventually(async () => ((await titleAt(b)) === 'after' ? true : undefined), 60_000, 'the change at B');
      await new Promise((r) => setTimeout(r, 1500));
      expect(await titleAt(c)).toBe('before');
      const waiting = await db.query(`SELECT holder FROM delivery_lease WHERE connector_id = $1 AND local_id = $2`, [cConnector, id]);
      expect(waiting.rows).toEqual([{ holder: 'test/another-delivery' }]);

      // The holder's lease lapses (its worker died, say): the waiting delivery takes it over and delivers, once.
      await db.query(`UPDATE delivery_lease SET expires_at = now() - interval '1 second' WHERE connector_id = $1 AND local_id = $2`, [cConnector, id]);
      await eventually(async () => ((await titleAt(c)) === 'after' ? true : undefined), 60_000, 'the change at C after the lease lapsed');
      // Released when it finished: no lease left behind.
      await eventually(async () => ((await db.query(`SELECT 1 FROM delivery_lease WHERE local_id = $1`, [id])).rowCount === 0 ? true : undefined), 30_000, 'the lease released');
    } finally {
      await db.end();
    }
    const res = await a.request('GET', `/api/server/v1/provisioning/audit?connectorId=${cConnector}&resourceType=User&limit=100`);
    const rows = ((await res.json()) as AuditRow[]).filter((r) => r.localId === id);
    expect(rows.map((r) => [r.operation, r.outcome]).sort()).toEqual([
      ['create', 'delivered'],
      ['update', 'delivered'],
    ]);
  }, 200_000);
});
