/**
 * The two topologies every scenario runs on:
 *
 *  - embedded: what `npm start` runs on its defaults. A Temporal dev server started by startDevServer with a SQLite
 *    file (dbFile, as src/launcher.ts starts it, so the bench follows whatever the launcher's start does, its SQLite
 *    pragmas included), and for each instance the embedded PostgreSQL (PGlite behind its socket, in a process of its
 *    own: src/db/embedded-postgres-main.ts via test/harness.ts).
 *  - production: a real PostgreSQL (BENCH_DATABASE_URL, or a throwaway cluster of the machine's PostgreSQL) holding
 *    each instance's database and the real Temporal server's (test/support/temporal-cluster.ts: the server built
 *    from its Go module, on that PostgreSQL).
 *
 * On both, each instance is an api process and a worker process (test/harness.ts startInstance), with the server's
 * defaults for what the harness would otherwise shrink for the test suite (pool size, outbound idle time). All
 * instances share the topology's one Temporal server, each on a task queue of its own.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config.js';
import { acquireTemporalCli, TEMPORAL_CLI_VERSION } from '../src/temporal/cli-binary.js';
import { startDevServer } from '../src/temporal/dev-server.js';
import { startInstance, type Instance, type Stack } from '../test/harness.js';
import { freePort } from '../test/support/ports.js';
import { startTempPostgres } from '../test/support/postgres.js';
import { startTemporalCluster, TEMPORAL_SERVER_VERSION } from '../test/support/temporal-cluster.js';
import type { TopologyContext, TopologyName } from './framework.js';
import type { Settings } from './options.js';

export interface RunningTopology {
  ctx: TopologyContext;
  stop(): Promise<void>;
}

/** The server's own defaults (src/config.ts) where test/harness.ts sets test values: the bench measures the defaults. */
function serverDefaults(): Record<string, string> {
  const d = loadConfig({});
  return { DATABASE_POOL_SIZE: String(d.database.poolSize), OUTBOUND_IDLE_MS: String(d.outboundIdleMs) };
}

/**
 * The Temporal server's error lines, counted and summed up once it stopped (on stderr) instead of printed as they
 * come: both servers log errors that are no fault of the run (a poll cancelled, hosts leaving while the server
 * stops), and a real fault shows in the figures as failed requests anyway.
 */
function serverErrors(topology: TopologyName) {
  let count = 0;
  let first: string | undefined;
  return {
    collect: (line: string) => {
      if (!/level=(ERROR|FATAL)|"level":"(error|fatal|dpanic|panic)"/i.test(line)) return;
      count += 1;
      first ??= line.slice(0, 400);
    },
    summary: () => {
      if (count > 0) process.stderr.write(`\nbench: the ${topology} topology's Temporal server logged ${count} error line(s); the first: ${first}\n`);
    },
  };
}

/** The `--sqlite-pragma` settings of a dev server's command line, for the report. */
function pragmas(args: readonly string[]): string {
  const set = args.flatMap((a, i) => (a === '--sqlite-pragma' && args[i + 1] ? [args[i + 1]!] : []));
  return set.length > 0 ? `SQLite pragmas ${set.join(', ')}` : "SQLite's default pragmas";
}

/** Starts what the topology's instances run on, then the instances (the source and `targets` targets) in parallel. */
export async function startTopology(
  name: TopologyName,
  settings: Settings,
  workflowBundle: string,
  targets: number,
  step: (label: string) => void,
): Promise<RunningTopology> {
  const errors = serverErrors(name);
  const stops: (() => Promise<void> | void)[] = [errors.summary];
  const stopAll = async () => {
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch (err) {
        process.stderr.write(`bench: could not stop cleanly: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    }
  };
  try {
    let temporalAddress: string;
    let postgresUrl: string | undefined;
    let description: string;
    if (name === 'embedded') {
      step('Temporal dev server (SQLite file)');
      const cli = await acquireTemporalCli({ cliPath: process.env.TEMPORAL_CLI_PATH });
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-temporal-'));
      stops.push(() => fs.rmSync(dir, { recursive: true, force: true }));
      const dev = await startDevServer({
        cliPath: cli,
        dbFile: path.join(dir, 'temporal.db'),
        port: await freePort(),
        uiPort: await freePort(),
        namespace: loadConfig({}).temporal.namespace,
        output: errors.collect,
      });
      stops.push(() => dev.stop());
      temporalAddress = dev.address;
      description =
        `Temporal dev server (CLI ${TEMPORAL_CLI_VERSION}) with a SQLite file, started as src/launcher.ts starts it ` +
        `(${pragmas(dev.child.process.spawnargs)}); ` +
        'each instance on its own embedded PostgreSQL (PGlite in a process of its own, over its socket)';
    } else {
      step('PostgreSQL');
      postgresUrl = settings.databaseUrl;
      let which = 'BENCH_DATABASE_URL';
      if (!postgresUrl) {
        const pg = await startTempPostgres();
        if (!pg) throw new Error('the production topology needs BENCH_DATABASE_URL or a PostgreSQL installation (/usr/lib/postgresql)');
        stops.push(() => pg.stop());
        postgresUrl = pg.url;
        which = 'a throwaway cluster of the machine\'s PostgreSQL (fsync on)';
      }
      step('Temporal server on PostgreSQL');
      const cluster = await startTemporalCluster({
        postgresUrl,
        output: errors.collect,
      });
      stops.push(() => cluster.stop());
      temporalAddress = cluster.address;
      description = `the real Temporal server ${TEMPORAL_SERVER_VERSION} (test/support/temporal-cluster.ts, built from its Go module) and each instance's database on one PostgreSQL (${which})`;
    }
    const stack: Stack = { temporalAddress, workflowBundle, postgresUrl };
    step(`instances: source and ${targets} target${targets === 1 ? '' : 's'}`);
    const tag = crypto.randomBytes(2).toString('hex');
    const names = [`bench-${tag}-src`, ...Array.from({ length: targets }, (_, i) => `bench-${tag}-t${i + 1}`)];
    const started = await Promise.allSettled(names.map((n) => startInstance(n, { stack, env: serverDefaults() })));
    for (const s of started) if (s.status === 'fulfilled') stops.push(() => s.value.stop());
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    const [source, ...rest] = started.map((s) => (s as PromiseFulfilledResult<Instance>).value);
    description += `; ${names.length} instances (api and worker processes each, test/harness.ts), the server's default pool size and outbound idle time`;
    return { ctx: { name, description, temporalAddress, stack, source: source!, targets: rest }, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** The body the admin API takes for an application whose client-credentials tokens may read and write users. */
export const USER_SCOPES = ['internal_user_mgt_create', 'internal_user_mgt_view', 'internal_user_mgt_list', 'internal_user_mgt_update', 'internal_user_mgt_delete'];

/**
 * A bearer token of a new application of `instance`, from its /oauth2/token (client credentials), as an Entra or
 * Okta provisioning job gets one.
 */
export async function bearerToken(instance: Instance, name: string, scopes: readonly string[] = USER_SCOPES): Promise<string> {
  const created = await instance.request('POST', '/api/server/v1/applications', { name, grantTypes: ['client_credentials'], scopes }, { 'Content-Type': 'application/json' });
  if (created.status !== 201) throw new Error(`creating the bench application failed: ${created.status} ${await created.text()}`);
  const app = (await created.json()) as { clientId: string; clientSecret: string };
  const res = await fetch(`${instance.baseUrl}/oauth2/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${Buffer.from(`${app.clientId}:${app.clientSecret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: scopes.join(' ') }).toString(),
  });
  const body = (await res.json()) as { access_token?: string };
  if (res.status !== 200 || !body.access_token) throw new Error(`/oauth2/token answered ${res.status}`);
  return body.access_token;
}
