/**
 * Production mode on the engine it runs on (issue #11): a real Temporal server (test/support/temporal-cluster.ts, the
 * Go server on this project's PostgreSQL, not the CLI's dev server) and an instance in production mode on it
 * (DATABASE_URL and TEMPORAL_ADDRESS; the api and two workers as separate processes), provisioning non-blocking over
 * SCIM 2.0 to a second instance (on the shared dev server).
 *
 * A burst of creates from 16 concurrent clients that behave as Entra and Okta do (429 or 503 with Retry-After: wait,
 * then repeat with the same Idempotency-Key), with one worker killed (SIGKILL) in the middle and started again later.
 * A 202 (the api's wait for the engine ended while its write bound was full) is followed the same way: after its
 * Retry-After, the same request with the same key, which joins the accepted change and gets its 201.
 * Every answer is 201, 202 or a refusal with Retry-After, never a 5xx; every user exists exactly once on both instances;
 * the workflows are in the cluster's visibility store (SQL, with the project's search attributes).
 *
 * The postgres project only (vitest.config.ts): the cluster needs a PostgreSQL server.
 */
import crypto from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, linkScim2Target, startInstance, testStack, workflowCountIs, type Instance } from './harness.js';
import { startTemporalCluster, type TemporalCluster } from './support/temporal-cluster.js';

const USERS = 300;
const CLIENTS = 16;
/** A client gives up on a user after this many refusals (bounded: a server refusing forever fails the test). */
const MAX_ATTEMPTS = 40;
/** The longest Retry-After a client honours as given (Entra's own cap is unpublished; a minute is generous). */
const MAX_RETRY_AFTER_S = 60;
const VERBOSE = process.env.TEST_VERBOSE === '1';

interface ScimUser {
  id: string;
  userName: string;
}
interface ListResponse {
  totalResults: number;
  Resources?: ScimUser[];
}
interface AuditRow {
  outcome: string;
  operation: string;
}
/** An answer the clients did not expect: anything but 201, or 202/429/503 carrying Retry-After. */
interface Unexpected {
  userName: string;
  status: number;
  retryAfter: string | null;
  body: string;
}

async function listByFilter(instance: Instance, filter: string): Promise<ListResponse> {
  const res = await instance.request('GET', `/scim2/Users?count=2&filter=${encodeURIComponent(filter)}`);
  if (res.status !== 200) throw new Error(`GET /scim2/Users?filter=${filter}: ${res.status} ${await res.text()}`);
  return (await res.json()) as ListResponse;
}

/** `fn` over every item, `concurrency` at a time. */
async function eachLimited<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

describe('production mode on a real Temporal cluster', () => {
  const postgresUrl = process.env.TEST_DATABASE_URL;
  let cluster: TemporalCluster | undefined;
  let a: Instance | undefined;
  let b: Instance | undefined;
  let connection: Connection | undefined;

  beforeAll(async () => {
    if (!postgresUrl) throw new Error('TEST_DATABASE_URL is not set: this file runs in the postgres project (vitest.config.ts)');
    const started = Date.now();
    cluster = await startTemporalCluster({ postgresUrl, output: VERBOSE ? undefined : null });
    console.log(`[production-mode] Temporal server ${cluster.address} serving in ${Date.now() - started} ms`);
    const shared = await testStack();
    const production = { ...shared, temporalAddress: cluster.address, postgresUrl };
    [a, b] = await Promise.all([
      // DEPLOYMENT_MODE spelled out: the mode DATABASE_URL + TEMPORAL_ADDRESS select by default.
      startInstance('A', { stack: production, workers: 2, env: { DEPLOYMENT_MODE: 'production' } }),
      startInstance('B'),
    ]);
    await linkScim2Target(a, b, { blocking: false });
    connection = await Connection.connect({ address: cluster.address });
  });
  afterAll(async () => {
    await connection?.close();
    await Promise.allSettled([a?.stop(), b?.stop()]);
    await cluster?.stop();
  });

  it('answers a burst with 201 or Retry-After through a worker kill, and every user arrives once on both sides', async () => {
    const run = crypto.randomBytes(3).toString('hex');
    const userNames = Array.from({ length: USERS }, (_, i) => `pm-${run}-${String(i).padStart(4, '0')}`);
    const created = new Map<string, string>(); // userName -> id
    const unexpected: Unexpected[] = [];
    const repeated: Record<number, number> = {}; // answers followed by a repeat of the request, by status
    let answered = 0;
    let fault: Promise<void> = Promise.resolve();
    let killedAt: number | undefined;
    let restartedAt: number | undefined;

    // The kill and the restart follow the burst's own progress (a third and two thirds of the users answered), so
    // they land in its middle however fast this machine is; the clients never wait for them.
    const progressed = () => {
      answered += 1;
      if (answered === Math.floor(USERS / 3)) {
        killedAt = answered;
        fault = fault.then(() => a!.killWorkerAt(1));
      } else if (answered === Math.floor((2 * USERS) / 3)) {
        restartedAt = answered;
        fault = fault.then(() => a!.startWorkerAt(1));
      }
    };

    const createOne = async (userName: string) => {
      // A Structured Field String (the IETF httpapi idempotency-key draft), as the server asks.
      const key = `"${crypto.randomUUID()}"`;
      const body = JSON.stringify({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName,
        displayName: `Production ${userName}`,
        emails: [{ value: `${userName}@example.org`, type: 'work', primary: true }],
      });
      for (let attempt = 1; ; attempt++) {
        const res = await a!.request('POST', '/scim2/Users', body, { 'Idempotency-Key': key });
        const text = await res.text();
        const retryAfter = res.headers.get('retry-after');
        if (res.status === 201) {
          created.set(userName, (JSON.parse(text) as ScimUser).id);
          progressed();
          return;
        }
        const seconds = retryAfter !== null && /^\d+$/.test(retryAfter) ? Number(retryAfter) : undefined;
        if ((res.status === 202 || res.status === 429 || res.status === 503) && seconds !== undefined && attempt < MAX_ATTEMPTS) {
          repeated[res.status] = (repeated[res.status] ?? 0) + 1;
          await new Promise((r) => setTimeout(r, Math.min(seconds, MAX_RETRY_AFTER_S) * 1000));
          continue;
        }
        unexpected.push({ userName, status: res.status, retryAfter, body: text.slice(0, 500) });
        progressed();
        return;
      }
    };

    const t0 = Date.now();
    await eachLimited(userNames, CLIENTS, createOne);
    await fault;
    console.log(
      `[production-mode] ${USERS} creates by ${CLIENTS} clients in ${Date.now() - t0} ms; worker 1 killed after ${killedAt} answers, ` +
        `restarted after ${restartedAt}; repeated after ${JSON.stringify(repeated)}; unexpected ${unexpected.length}`,
    );

    expect(unexpected).toEqual([]);
    expect(created.size).toBe(USERS);
    expect(killedAt).toBeDefined();
    expect(restartedAt).toBeDefined();

    // On the source: each name once, the user the 201 named, and no other user of this run.
    await eachLimited(userNames, 8, async (userName) => {
      const list = await listByFilter(a!, `userName eq "${userName}"`);
      expect(list.totalResults, `users named ${userName} on A`).toBe(1);
      expect(list.Resources?.[0]?.id).toBe(created.get(userName));
    });
    expect((await listByFilter(a!, `userName sw "pm-${run}-"`)).totalResults).toBe(USERS);

    // On the target, once delivery settles: the whole run there, each name exactly once.
    const settleStart = Date.now();
    await eventually(
      async () => ((await listByFilter(b!, `userName sw "pm-${run}-"`)).totalResults === USERS ? true : undefined),
      // Generous: 300 deliveries to an instance on the shared dev server, beside other suites on two cores.
      300_000,
      `all ${USERS} users on B`,
    );
    console.log(`[production-mode] every user on B ${Date.now() - settleStart} ms after the burst`);
    await eachLimited(userNames, 8, async (userName) => {
      expect((await listByFilter(b!, `userName eq "${userName}"`)).totalResults, `users named ${userName} on B`).toBe(1);
    });
    // And A delivered each create once: nothing failed or held (a create delivered twice would be a 409 from B).
    await eachLimited(userNames, 8, async (userName) => {
      const id = created.get(userName)!;
      const rows = await eventually(
        async () => {
          const res = await a!.request('GET', `/api/server/v1/provisioning/audit?userId=${id}&limit=100`);
          const r = (await res.json()) as AuditRow[];
          return r.length > 0 ? r : undefined;
        },
        60_000,
        `the delivery audit of ${userName}`,
      );
      expect(rows.filter((r) => r.outcome !== 'delivered' && r.outcome !== 'skipped'), `failed deliveries of ${userName}`).toEqual([]);
      expect(rows.filter((r) => r.operation === 'create' && r.outcome === 'delivered'), `creates of ${userName} delivered`).toHaveLength(1);
    });

    // In the cluster's visibility store: one completed InboundProvision per user (a repeated request joined its first
    // attempt's workflow), one OutboundFanOut per user, and the custom search attributes queryable.
    const client = new Client({ connection: connection!, namespace: cluster!.namespace });
    const count = async (query: string) => Number((await client.workflow.count(query)).count);
    const countIs = (query: string, want: number) => workflowCountIs(client, query, want);
    const inbound = `WorkflowType = 'inboundProvision' AND TaskQueue = '${a!.taskQueue}'`;
    await countIs(`${inbound} AND ExecutionStatus = 'Completed'`, USERS);
    expect(await count(inbound)).toBe(USERS);
    // An OutboundFanOut per user, under the user's workflow id. Not one execution each: a fan-out that went idle
    // completes and the next event starts a new run, and a worker killed after handing an event over but before its
    // workflow task completed hands it over again on replay (effectively once: the delivery audit below shows it).
    const fanOutRuns = await eventually(
      async () => {
        const ids = new Set<string>();
        let runs = 0;
        let nextPageToken: Uint8Array | undefined;
        do {
          const page = await client.workflowService.listWorkflowExecutions({
            namespace: cluster!.namespace,
            query: `WorkflowType = 'outboundFanOut' AND TaskQueue = '${a!.taskQueue}'`,
            pageSize: 1000,
            ...(nextPageToken && { nextPageToken }),
          });
          for (const e of page.executions) ids.add(e.execution!.workflowId!);
          runs += page.executions.length;
          nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
        } while (nextPageToken);
        if (ids.size !== USERS) throw new Error(`${ids.size} of ${USERS} so far`);
        return runs;
      },
      60_000,
      `an OutboundFanOut of each of the ${USERS} users in visibility`,
    );
    console.log(`[production-mode] visibility: ${USERS} InboundProvision, ${fanOutRuns} OutboundFanOut runs for ${USERS} users`);
    for (const userName of [userNames[0]!, userNames[Math.floor(USERS / 3)]!, userNames[USERS - 1]!]) {
      const page = await client.workflowService.listWorkflowExecutions({
        namespace: cluster!.namespace,
        query: `${inbound} AND UserName = '${userName}'`,
        pageSize: 10,
      });
      expect(page.executions.map((e) => e.type?.name), `InboundProvision of ${userName}`).toEqual(['inboundProvision']);
    }
  }, 600_000);
});
