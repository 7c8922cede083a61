/**
 * The three ceilings every scenario is read against, measured on the same topology in the same run, at the
 * scenarios' own concurrency levels, by the same load generator (bench/load.ts):
 *
 *  - HTTP: Express's hello-world in a Node process of its own (bench/ceiling/hello-world.ts, same Node binary and
 *    loader as the api), over keep-alive connections, one per client.
 *  - database: `SELECT * FROM scim_user WHERE id = $1` through `pg`, a pool of as many connections as clients, on the
 *    database the source instance uses (its PGlite socket on the embedded topology), over the seeded users.
 *  - engine: a trivial workflow with one local activity (bench/ceiling/engine-workflow.ts), started exactly as the
 *    SCIM handlers start InboundProvision: through InboundRequests.run itself, with a Temporal client built by the
 *    api's own connectClient and the encrypting data converter, run by a worker in a process of its own
 *    (bench/ceiling/engine-worker.ts) on the topology's Temporal server.
 *
 * Each is measured once per topology and level, when a scenario first asks for it, and kept as a "ceiling" row.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { KeyedDigest } from '../src/crypto/keyed-digest.js';
import { SecretBox } from '../src/crypto/secret-box.js';
import { startChild, type ManagedChild } from '../src/process/child.js';
import { InboundRequests, requestFingerprint } from '../src/scim/inbound-requests.js';
import { PROJECT_ROOT } from '../src/temporal/cli-binary.js';
import { connectClient } from '../src/temporal/connection.js';
import { ProvisioningOperationKey, UserNameKey } from '../src/temporal/search-attributes.js';
import type { InboundProvisionInput } from '../workflows/inbound-provision.js';
import { fromLoad, type Row, type TopologyContext } from './framework.js';
import { HttpClient, runLoad } from './load.js';
import type { Settings } from './options.js';

export const CEILING = {
  http: 'Express hello-world',
  database: 'SELECT by primary key (pg)',
  engine: 'trivial workflow, 1 local activity',
} as const;

type Record_ = (row: Omit<Row, 'topology'>) => Row;

export class Ceilings {
  private readonly measured = new Map<string, Row>();
  private hello: { child: ManagedChild; url: string } | undefined;
  private engine: Awaited<ReturnType<typeof startEngineCeiling>> | undefined;

  constructor(
    private readonly topology: Pick<TopologyContext, 'temporalAddress'>,
    private readonly settings: Settings,
    private readonly record: Record_,
    private readonly step: (label: string) => void,
    /** The trivial workflow, bundled once for the run (bench/run.ts). */
    private readonly engineBundle: string,
  ) {}

  private async once(key: string, measure: () => Promise<Omit<Row, 'topology'>>): Promise<Row> {
    const known = this.measured.get(key);
    if (known) return known;
    const row = this.record(await measure());
    this.measured.set(key, row);
    return row;
  }

  /** Hello-world over HTTP at `c` clients. */
  http(c: number): Promise<Row> {
    return this.once(`http:${c}`, async () => {
      this.step(`ceiling: ${CEILING.http} c=${c}`);
      this.hello ??= await startHelloWorld();
      const client = new HttpClient(this.hello.url, c);
      try {
        const r = await runLoad({
          concurrency: c,
          seconds: this.settings.seconds,
          warmupSeconds: this.settings.warmupSeconds,
          op: async () => {
            const res = await client.request('GET', '/');
            return { ok: res.status === 200 && res.body.length > 0, status: String(res.status) };
          },
        });
        return { scenario: 'ceiling', case: CEILING.http, unit: 'req/s', ...fromLoad(r) };
      } finally {
        client.close();
      }
    });
  }

  /** A primary-key SELECT of one of `ids` (rows of scim_user) on `databaseUrl`, a pool of `c`. */
  database(databaseUrl: string, ids: readonly string[], c: number): Promise<Row> {
    return this.once(`db:${databaseUrl}:${c}`, async () => {
      this.step(`ceiling: ${CEILING.database} c=${c}`);
      const pool = new pg.Pool({ connectionString: databaseUrl, max: c });
      try {
        const r = await runLoad({
          concurrency: c,
          seconds: this.settings.seconds,
          warmupSeconds: this.settings.warmupSeconds,
          op: async (i) => {
            const res = await pool.query('SELECT * FROM scim_user WHERE id = $1', [ids[i % ids.length]]);
            return { ok: res.rowCount === 1, status: res.rowCount === 1 ? 'ok' : 'no row' };
          },
        });
        return { scenario: 'ceiling', case: CEILING.database, unit: 'queries/s', ...fromLoad(r) };
      } finally {
        await pool.end();
      }
    });
  }

  /** The trivial workflow at `c` concurrent starts (each waits for its result, as a create does). */
  engineAt(c: number): Promise<Row> {
    return this.once(`engine:${c}`, async () => {
      this.step(`ceiling: ${CEILING.engine} c=${c}`);
      this.engine ??= await startEngineCeiling(this.topology.temporalAddress, this.engineBundle);
      const { requests, requestTimeoutMs } = this.engine;
      const applicationId = crypto.randomUUID();
      const prefix = `ceiling-${crypto.randomBytes(3).toString('hex')}-c${c}`;
      const r = await runLoad({
        concurrency: c,
        seconds: this.settings.seconds,
        warmupSeconds: this.settings.warmupSeconds,
        op: async (i) => {
          const userName = `${prefix}-${i}`;
          const body = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName, name: { givenName: 'Bench', familyName: String(i) }, emails: [{ value: `${userName}@example.org`, type: 'work', primary: true }] };
          // What the SCIM create handler hands InboundRequests for this body (src/http/scim/write-request.ts,
          // src/scim/service.ts): a generated key, the request's fingerprint, the deadline, the search attributes.
          const input: InboundProvisionInput = {
            operation: 'create',
            resourceType: 'User',
            user: { domain: 'PRIMARY', userName, name: body.name, emails: body.emails, phoneNumbers: [], addresses: [], active: true },
            initiator: { applicationId, channel: 'scim2', label: 'bench via scim2' },
            blockingTimeoutMs: 30_000,
          };
          const outcome = await requests.run(
            input,
            { key: crypto.randomUUID(), keyFromClient: false, fingerprint: requestFingerprint('POST', '/scim2/users', body, null), deadline: Date.now() + requestTimeoutMs },
            { applicationId },
            [
              { key: ProvisioningOperationKey, value: 'create' },
              { key: UserNameKey, value: userName },
            ],
          );
          const ok = !('pending' in outcome) && outcome.ok;
          return { ok, status: ok ? 'ok' : 'pending' in outcome ? 'still running at the deadline' : 'rejected' };
        },
      });
      return { scenario: 'ceiling', case: CEILING.engine, unit: 'workflows/s', ...fromLoad(r) };
    });
  }

  /** The ceiling rows measured so far. */
  rows(): Row[] {
    return [...this.measured.values()];
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.hello?.child.stop(), this.engine?.close()]);
    this.hello = undefined;
    this.engine = undefined;
  }
}

async function startHelloWorld(): Promise<{ child: ManagedChild; url: string }> {
  const child = startChild({
    name: 'hello-world',
    command: process.execPath,
    args: ['--import', 'tsx', path.join(PROJECT_ROOT, 'bench', 'ceiling', 'hello-world.ts')],
    cwd: PROJECT_ROOT,
    ready: /^ready (\d+)/,
    output: null,
  });
  const m = await child.ready;
  return { child, url: `http://127.0.0.1:${m[1]!}` };
}

async function startEngineCeiling(temporalAddress: string, bundle: string) {
  const keyring = `bench:${crypto.randomBytes(32).toString('base64')}`;
  const box = new SecretBox([{ id: 'bench', key: Buffer.from(keyring.slice('bench:'.length), 'base64') }]);
  const taskQueue = `bench-engine-ceiling-${crypto.randomBytes(4).toString('hex')}`;
  if (!fs.existsSync(bundle)) throw new Error(`the engine ceiling's workflow bundle is missing: ${bundle}`);
  const child = startChild({
    name: 'engine-ceiling-worker',
    command: process.execPath,
    args: ['--import', 'tsx', path.join(PROJECT_ROOT, 'bench', 'ceiling', 'engine-worker.ts')],
    cwd: PROJECT_ROOT,
    env: { ...process.env, TEMPORAL_ADDRESS: temporalAddress, TASK_QUEUE: taskQueue, WORKFLOW_BUNDLE: bundle },
    ready: /^ceiling worker ready/,
    privateInput: keyring,
    output: (line) => {
      if (/error|fatal/i.test(line)) process.stderr.write(`[engine-ceiling-worker] ${line}\n`);
    },
  });
  await child.ready;
  const config = loadConfig({ TEMPORAL_ADDRESS: temporalAddress });
  const client = await connectClient(config, box);
  // As src/http/scim/router.ts builds it for ScimService, with the server's default settings.
  const requests = new InboundRequests({
    temporal: client,
    taskQueue,
    requestTimeoutMs: config.requestTimeoutMs,
    engineTimeoutMs: config.writes.engineTimeoutMs,
    fingerprints: new KeyedDigest(box.keyring, 'request-fingerprint'),
  });
  return {
    child,
    requests,
    requestTimeoutMs: config.requestTimeoutMs,
    async close() {
      await client.connection.close();
      await child.stop();
    },
  };
}
