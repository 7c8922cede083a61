/**
 * S5, a directory load through /Bulk: `--bulk-users` new users (100,000; `--quick` 5,000) sent by BENCH_BULK_CLIENTS
 * clients (4) in Bulk requests of BENCH_BULK_SIZE creates (1,000, the advertised maxOperations), with three
 * non-blocking SCIM 2.0 targets linked (each an instance of this server, reached through its own /Bulk). Two figures:
 * the ingest (users answered 201 per second, first request to last answer), read against S2's creates with no target
 * (its best level) for the issue's "≥ 10x S2 (≥ 500 users/s)"; and the time until every user is delivered to every
 * target (the source's delivery audit) and each target holds them all, for "all targets in sync ≤ 15 min".
 */
import crypto from 'node:crypto';
import pg from 'pg';
import { connectorTo, setLinks } from './deliveries.js';
import { against, atLeast, atMost, type Row, type Scenario, type ScenarioContext, type Target } from './framework.js';
import { HttpClient } from './load.js';
import { NO_TARGET } from './s2-creates.js';
import { pcts } from './stats.js';
import { bearerToken, USER_SCOPES } from './topology.js';

const SYNC_TARGET_MS = 15 * 60_000;

interface BulkAnswer {
  Operations?: { status: string; location?: string }[];
}

/** Users of `prefix` at `target` (a count query: `count=0` answers totalResults only). */
async function countAt(target: { request(method: string, path: string): Promise<Response> }, prefix: string): Promise<number> {
  const res = await target.request('GET', `/scim2/Users?count=0&filter=${encodeURIComponent(`userName sw "${prefix}"`)}`);
  if (res.status !== 200) throw new Error(`counting users at a target answered ${res.status}`);
  return ((await res.json()) as { totalResults: number }).totalResults;
}

export const s5: Scenario = {
  name: 's5',
  label: 'S5',
  title: 'S5 a directory load through /Bulk, three targets',
  topologies: ['embedded', 'production'],
  targets: 3,
  levels: (s) => [s.bulk.clients],
  // Ingest at a few hundred users/s, then the targets' copies.
  estimateSeconds: (s) => 10 + s.bulk.users / 150,
  async run(ctx: ScenarioContext): Promise<Row[]> {
    const { source, targets } = ctx.topology;
    const three = targets.slice(0, 3);
    const { users: total, size, clients } = ctx.settings.bulk;
    ctx.step('linking three targets');
    for (const t of three) await connectorTo(source, t);
    const connectorIds = await setLinks(source, three.map((target) => ({ target, blocking: false })));
    const token = await bearerToken(source, `bench-s5-${crypto.randomBytes(3).toString('hex')}`, [...USER_SCOPES, 'internal_bulk_resource_create', 'internal_bulk_user_create']);
    const http = new HttpClient(source.baseUrl, clients, { Authorization: `Bearer ${token}` });
    const prefix = `s5-${crypto.randomBytes(3).toString('hex')}-`;
    ctx.note(
      `${total.toLocaleString('en')} users in Bulk requests of ${size} creates from ${clients} clients (a 429 or 503 is waited out as its Retry-After says and the request repeated with its key). ` +
        'Ingest: users answered 201 per second, first request to last answer; p50/p99: one Bulk request. In sync: from the first request until every user is delivered to all three targets (source audit) and counted at each.',
    );

    let next = 0;
    let created = 0;
    let refused = 0;
    const latencies: number[] = [];
    const failures: string[] = [];
    const started = Date.now();
    ctx.step(`ingest 0 of ${total}`);
    await Promise.all(
      Array.from({ length: clients }, async () => {
        for (;;) {
          const from = next;
          if (from >= total) return;
          next = Math.min(total, from + size);
          const body = {
            schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
            Operations: Array.from({ length: next - from }, (_, k) => ({
              method: 'POST',
              path: '/Users',
              bulkId: `u${from + k}`,
              data: {
                schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
                userName: `${prefix}${from + k}`,
                name: { givenName: 'Bulk', familyName: `User ${from + k}` },
                displayName: `Bulk User ${from + k}`,
                emails: [{ value: `${prefix}${from + k}@example.org`, type: 'work', primary: true }],
              },
            })),
          };
          const key = `"${crypto.randomUUID()}"`;
          for (let attempt = 1; ; attempt++) {
            const t0 = performance.now();
            let answer: Awaited<ReturnType<HttpClient['request']>>;
            try {
              answer = await http.request('POST', '/scim2/Bulk', { body, headers: { 'Idempotency-Key': key }, timeoutMs: 300_000 });
            } catch (err) {
              // A pooled connection the server closed while it sat idle (its keep-alive timeout, during a Retry-After
              // wait): repeated at once, as Node's documentation says (bench/load.ts); anything else is a failure.
              if ((err as { reused?: boolean }).reused && attempt < 20) continue;
              throw err;
            }
            latencies.push(performance.now() - t0);
            const retryAfter = Number(answer.headers['retry-after']);
            if ((answer.status === 429 || answer.status === 503) && Number.isFinite(retryAfter) && attempt < 20) {
              refused += 1;
              await new Promise((r) => setTimeout(r, Math.min(retryAfter, 30) * 1000));
              continue;
            }
            if (answer.status !== 200) {
              failures.push(`${answer.status} ${answer.body.toString('utf8').slice(0, 200)}`);
              break;
            }
            const ops = HttpClient.json<BulkAnswer>(answer).Operations ?? [];
            // Operations still being applied (202) or refused for now (429/503): the whole request again, same key.
            const again = ops.filter((o) => o.status === '202' || o.status === '429' || o.status === '503').length;
            if (again > 0 && attempt < 20) {
              refused += 1;
              await new Promise((r) => setTimeout(r, (Number.isFinite(retryAfter) ? retryAfter : 1) * 1000));
              continue;
            }
            created += ops.filter((o) => o.status === '201').length;
            const other = ops.filter((o) => o.status !== '201');
            if (other.length > 0) failures.push(`${other.length} operations answered ${[...new Set(other.map((o) => o.status))].join(', ')}`);
            break;
          }
          ctx.step(`ingest ${created} of ${total}`);
        }
      }),
    ).finally(() => http.close());
    const ingestMs = Date.now() - started;
    if (failures.length > 0) throw new Error(`the Bulk load was not accepted whole: ${failures.slice(0, 3).join('; ')}`);
    const ingest = created / (ingestMs / 1000);

    // Until every user is delivered to all three targets (the source's audit), then counted at each target.
    const client = new pg.Client({ connectionString: source.databaseUrl });
    await client.connect();
    let syncedAt: number;
    try {
      for (;;) {
        const { rows } = await client.query<{ delivered: string; other: string }>(
          `SELECT count(*) FILTER (WHERE outcome = 'delivered') AS delivered, count(*) FILTER (WHERE outcome NOT IN ('delivered', 'held')) AS other
           FROM provisioning_audit WHERE operation = 'create' AND resource_type = 'User' AND user_name LIKE $1 AND connector_id = ANY($2::uuid[])`,
          [`${prefix}%`, connectorIds],
        );
        const delivered = Number(rows[0]!.delivered);
        if (Number(rows[0]!.other) > 0) throw new Error(`${rows[0]!.other} deliveries of the load were not delivered (failed or skipped)`);
        ctx.step(`in sync: ${delivered} of ${created * 3} deliveries`);
        if (delivered >= created * 3) break;
        if (Date.now() - started > ctx.settings.drainTimeoutSeconds * 1000 + SYNC_TARGET_MS) throw new Error(`the targets were not in sync after ${Math.round((Date.now() - started) / 1000)} s: ${delivered} of ${created * 3} deliveries`);
        await new Promise((r) => setTimeout(r, 2000));
      }
      syncedAt = Date.now();
    } finally {
      await client.end();
    }
    for (const t of three) {
      const n = await countAt(t, prefix);
      if (n !== created) throw new Error(`the audit says every user was delivered, but ${t.name} holds ${n} of ${created}`);
    }
    const syncMs = syncedAt - started;

    const s2Rows = ctx.rows().filter((x) => x.topology === ctx.topology.name && x.scenario === 'S2' && x.case === NO_TARGET);
    const best = s2Rows.reduce<Row | undefined>((a, b) => (a && a.throughput >= b.throughput ? a : b), undefined);
    const list = best ? [against(ingest, best)] : [];
    const lat = pcts(latencies.sort((a, b) => a - b));
    const targetsOf: Target[] = [
      atLeast(list[0], 10, `S2 ${NO_TARGET} (best level)`),
      { text: 'ingest ≥ 500 users/s', met: ingest >= 500, value: `${ingest.toFixed(0)} users/s` },
      atMost(syncMs, SYNC_TARGET_MS, 'all targets in sync', 'all targets in sync ≤ 15 min'),
    ];
    return [
      ctx.record({
        scenario: 'S5',
        case: `Bulk load of ${created.toLocaleString('en')} users, 3 targets`,
        unit: 'users/s ingested',
        concurrency: clients,
        requests: latencies.length,
        errors: 0,
        seconds: ingestMs / 1000,
        throughput: ingest,
        ...lat,
        against: list,
        targets: targetsOf,
        extra: {
          'in sync after (s)': Number((syncMs / 1000).toFixed(1)),
          'in sync after ingest (s)': Number(((syncMs - ingestMs) / 1000).toFixed(1)),
          'deliveries/s': Number(((created * 3) / (syncMs / 1000)).toFixed(1)),
          'Bulk requests repeated (429/503/202)': refused,
        },
      }),
    ];
  },
};
