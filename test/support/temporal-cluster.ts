/**
 * A real Temporal cluster (the Go server, not the CLI's dev server) on PostgreSQL, for the production-mode end-to-end
 * test and the bench's production topology: production mode must be tested on the engine it will run on. The dev
 * server differs in ways a test can trip over: SQLite persistence, one process, and dynamic config defaults of its
 * own (search attributes visible the moment they are added).
 *
 * - acquireTemporalServer(): the `server` binary and its SQL schema tool (`sql`), built from the Go module proxy once
 *   per machine at the server version inside the pinned CLI (TEMPORAL_SERVER_DIR: binaries built elsewhere), and the
 *   module's development config and versioned PostgreSQL schema.
 * - startTemporalCluster(): databases of its own on a PostgreSQL server, schema set up and updated from the module's
 *   versioned schema, the server on free ports, namespace `default` and the project's search attributes registered.
 *
 * `npx tsx test/support/temporal-cluster.ts build` builds ahead (.ci/run) and prints the binaries' folder;
 * `npx tsx test/support/temporal-cluster.ts start postgresql://...` runs a cluster until Ctrl-C (by hand).
 */
import { execFile, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto';
import pg from 'pg';
import { startChild } from '../../src/process/child.js';
import { acquireTemporalCli, TEMPORAL_CLI_VERSION } from '../../src/temporal/cli-binary.js';
import { SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes.js';
import { freePort } from './ports.js';

const run = promisify(execFile);

/**
 * The Temporal server each pinned CLI release embeds (its `temporal --version` says "Server X"): the cluster runs the
 * same server as the dev server, so a test that passes on one and fails on the other points at the topology, not at
 * a version difference. Bumping TEMPORAL_CLI_VERSION without adding its server here fails every cluster start.
 */
const SERVER_OF_CLI: Record<string, string> = { 'v1.5.1': 'v1.29.1' };
export const TEMPORAL_SERVER_VERSION = serverVersionOf(TEMPORAL_CLI_VERSION);
const MODULE = 'go.temporal.io/server';

function serverVersionOf(cli: string): string {
  const v = SERVER_OF_CLI[cli];
  if (!v) throw new Error(`test/support/temporal-cluster.ts: no Temporal server version recorded for CLI ${cli}; add the one its \`temporal --version\` prints`);
  return v;
}

export type Log = (line: string) => void;
const stderrLog: Log = (line) => process.stderr.write(`${line}\n`);

export interface TemporalServerBinaries {
  /** The folder of both binaries. */
  dir: string;
  server: string;
  sql: string;
  /** go.temporal.io/server's version (v1.29.1). */
  version: string;
  /** The module's source files this file uses: config/development-postgres12.yaml and schema/postgresql/v12/. */
  moduleDir: string;
}

/** Where the binaries are built: ${XDG_CACHE_HOME:-~/.cache}/provisioning-server/temporal-server-<version>/. */
export function defaultServerDir(): string {
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'provisioning-server', `temporal-server-${TEMPORAL_SERVER_VERSION}`);
}

/** Written last by a build: a folder without it is an interrupted build, redone. */
const MARKER = '.built';
/** The module files a build copies next to the binaries, so a cluster starts without Go or the module cache. */
const MODULE_COPY = 'module';
const MODULE_FILES = ['config/development-postgres12.yaml', 'schema/postgresql/v12'];

async function versionLine(binary: string): Promise<string> {
  const { stdout } = await run(binary, ['--version'], { timeout: 30_000 });
  return stdout.trim();
}

/** `temporal --version` of the CLI in use must name the server this file builds. */
async function checkCliServerVersion(log: Log): Promise<void> {
  const cli = await acquireTemporalCli({ cliPath: process.env.TEMPORAL_CLI_PATH, log });
  const line = await versionLine(cli);
  const want = `Server ${TEMPORAL_SERVER_VERSION.replace(/^v/, '')}`;
  if (!line.includes(`${want},`) && !line.includes(`${want})`)) {
    throw new Error(`the Temporal CLI (${cli}) says "${line}", not "${want}": update SERVER_OF_CLI in test/support/temporal-cluster.ts with the CLI`);
  }
}

/** The binaries in `dir` answer --version with the expected server version. */
async function checkBinaries(dir: string): Promise<void> {
  const want = TEMPORAL_SERVER_VERSION.replace(/^v/, '');
  for (const name of ['server', 'sql']) {
    const line = await versionLine(path.join(dir, name)).catch((err: unknown) => {
      throw new Error(`${path.join(dir, name)} is not a working Temporal ${name} binary: ${String(err)}`, { cause: err });
    });
    if (!line.includes(want)) throw new Error(`${path.join(dir, name)} says "${line}", not version ${want}`);
  }
}

/**
 * The module's source folder, through the Go module cache (`go mod download` fetches it from the proxy when the cache
 * was cleaned, even if the build cache is still warm). Run outside any Go module so no go.mod of ours is involved.
 */
async function moduleSource(): Promise<string> {
  const { stdout } = await run('go', ['mod', 'download', '-json', `${MODULE}@${TEMPORAL_SERVER_VERSION}`], {
    cwd: os.tmpdir(),
    env: { ...process.env, GOFLAGS: '-mod=mod', GO111MODULE: 'on' },
    timeout: 600_000,
    maxBuffer: 1 << 20,
  });
  const info = JSON.parse(stdout) as { Dir?: string; Error?: string };
  if (!info.Dir) throw new Error(`go mod download ${MODULE}@${TEMPORAL_SERVER_VERSION}: ${info.Error ?? 'no Dir in its answer'}`);
  return info.Dir;
}

function hasModuleFiles(dir: string): boolean {
  return MODULE_FILES.every((f) => fs.existsSync(path.join(dir, f)));
}

/** Both binaries built with `go install` into `dir`, the module's files copied beside them, the marker last. */
async function build(dir: string, log: Log): Promise<void> {
  log(`Building the Temporal server ${TEMPORAL_SERVER_VERSION} (cmd/server, cmd/tools/sql) from the Go module proxy into ${dir} (first run only; minutes on 2 cores)...`);
  fs.rmSync(path.join(dir, MARKER), { force: true });
  fs.mkdirSync(dir, { recursive: true });
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(
      'go',
      ['install', '-v', '-trimpath', `${MODULE}/cmd/server@${TEMPORAL_SERVER_VERSION}`, `${MODULE}/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}`],
      { cwd: os.tmpdir(), env: { ...process.env, GOBIN: dir, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let packages = 0;
    let lastReport = 0;
    const tail: string[] = [];
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        tail.push(line);
        if (tail.length > 20) tail.shift();
        if (line.startsWith('go: downloading')) continue;
        packages += 1;
        if (Date.now() - lastReport > 10_000) {
          lastReport = Date.now();
          log(`  ... ${packages} packages, ${Math.round((Date.now() - started) / 1000)}s (last: ${line.trim()})`);
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`go install exited with ${code}:\n${tail.join('\n')}`))));
  });
  const source = await moduleSource();
  const copy = path.join(dir, MODULE_COPY);
  fs.rmSync(copy, { recursive: true, force: true });
  for (const f of MODULE_FILES) fs.cpSync(path.join(source, f), path.join(copy, f), { recursive: true });
  await checkBinaries(dir);
  fs.writeFileSync(path.join(dir, MARKER), `${MODULE}@${TEMPORAL_SERVER_VERSION} built ${new Date().toISOString()} in ${Math.round((Date.now() - started) / 1000)}s\n`);
  log(`Temporal server built in ${Math.round((Date.now() - started) / 1000)}s: ${dir}`);
}

/**
 * One build at a time per folder: the test files and the bench may ask at once. A lock folder holding its owner's
 * pid; a lock whose owner is gone is taken over.
 */
async function withBuildLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${dir}.lock`;
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(fs.readFileSync(path.join(lock, 'pid'), { encoding: 'utf8', flag: 'a+' }) || 0);
      let alive = owner > 0;
      try {
        if (alive) process.kill(owner, 0);
      } catch {
        alive = false;
      }
      if (!alive) fs.rmSync(lock, { recursive: true, force: true });
      else await new Promise((r) => setTimeout(r, 2000));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * The server and sql binaries at TEMPORAL_SERVER_VERSION: from TEMPORAL_SERVER_DIR (or `opts.dir`) when set, which must
 * hold working binaries (like TEMPORAL_CLI_PATH: given, never built over), else the cached build, built on first use.
 * Checks that the CLI in use embeds the same server version.
 */
export async function acquireTemporalServer(opts: { dir?: string | undefined; log?: Log } = {}): Promise<TemporalServerBinaries> {
  const log = opts.log ?? stderrLog;
  await checkCliServerVersion(log);
  const given = opts.dir ?? (process.env.TEMPORAL_SERVER_DIR || undefined);
  const dir = given ?? defaultServerDir();
  if (given) {
    await checkBinaries(dir).catch((err: unknown) => {
      throw new Error(`TEMPORAL_SERVER_DIR=${dir}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    });
  } else if (!fs.existsSync(path.join(dir, MARKER))) {
    await withBuildLock(dir, async () => {
      if (!fs.existsSync(path.join(dir, MARKER))) await build(dir, log);
    });
  }
  const copy = path.join(dir, MODULE_COPY);
  const moduleDir = hasModuleFiles(copy) ? copy : await moduleSource();
  if (!hasModuleFiles(moduleDir)) throw new Error(`${moduleDir} lacks ${MODULE_FILES.join(' or ')}`);
  return { dir, server: path.join(dir, 'server'), sql: path.join(dir, 'sql'), version: TEMPORAL_SERVER_VERSION, moduleDir };
}

export interface TemporalCluster {
  /** The frontend's gRPC address (TEMPORAL_ADDRESS). */
  address: string;
  namespace: string;
  /** The cluster's two databases on the PostgreSQL server it was given. */
  databases: { main: string; visibility: string };
  /** Stops the server and drops its databases. */
  stop(): Promise<void>;
}

export interface TemporalClusterOptions {
  /** A PostgreSQL server (any database on it): the cluster creates databases of its own there, dropped by stop(). */
  postgresUrl: string;
  /** Where the server's log lines go (default: this process's stderr, prefixed); null drops them. */
  output?: ((line: string) => void) | null;
  binaries?: TemporalServerBinaries;
  log?: Log;
}

const NAMESPACE = 'default';
/** gRPC status ALREADY_EXISTS. */
const ALREADY_EXISTS = 6;
/** How long a fresh cluster gets to serve (about 15 s here; the machine may be busy with other servers). */
const START_TIMEOUT_MS = 120_000;

/**
 * Dynamic config of the cluster (https://docs.temporal.io/references/dynamic-configuration). The project's features
 * need nothing beyond server 1.29.1's defaults: Update and update-with-start (frontend.enableUpdateWorkflowExecution,
 * frontend.enableExecuteMultiOperation: JIT's executeUpdateWithStart) and eager start are on by default there. What
 * the dev server adds on top is left out on purpose:
 * - system.forceSearchAttributesCacheRefreshOnRead (the dev server makes added search attributes visible at once by
 *   reading them from the database on every use): a production cluster leaves it off, so startTemporalCluster waits
 *   until the attributes are in use instead (see waitForSearchAttributes);
 * - frontend.namespaceRPS.visibility 100 (default 10 per frontend): the tests and the bench list workflows only a
 *   few times per second; a production cluster has the default too.
 * The file exists because the module's config names one; the server polls it, so a test could add a value later.
 */
const DYNAMIC_CONFIG = '# No values: server 1.29.1 defaults (see test/support/temporal-cluster.ts DYNAMIC_CONFIG).\n';

function sqlStore(pgUrl: URL, database: string, maxConns: number) {
  return {
    sql: {
      pluginName: 'postgres12',
      databaseName: database,
      connectAddr: `${pgUrl.hostname}:${pgUrl.port || '5432'}`,
      connectProtocol: 'tcp',
      user: decodeURIComponent(pgUrl.username || 'postgres'),
      password: decodeURIComponent(pgUrl.password),
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  };
}

/**
 * A free port for a service's membership (ringpop) listener. Not freePort(): the server records it in the
 * cluster_membership table, whose PostgreSQL schema types it SMALLINT, and Linux hands out ephemeral ports from 32768
 * up, which the server fails to record ("value out of range for type smallint") and exits. So a port below 32768,
 * picked at random and checked by binding it.
 */
async function freeMembershipPort(): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const port = 20_000 + crypto.randomInt(12_767);
    const free = await new Promise<boolean>((resolve) => {
      const srv = net.createServer();
      srv.unref();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return port;
    if (attempt > 100) throw new Error('no free port below 32768 for the Temporal server\'s membership listeners');
  }
}

/**
 * The server's config folder: the module's config/development-postgres12.yaml as base.yaml, unchanged, and
 * development.yaml over it with what differs here (the server's loader reads base.yaml, then <env>.yaml, each key of
 * the later file replacing the earlier one's): the databases, user and password; free ports for every service's gRPC
 * and membership port (several clusters and dev servers share a machine); no pprof and no Prometheus listener (fixed
 * ports in the module's file); the frontend address the worker service dials; warn-level logs. JSON, which is YAML.
 * The folder is private (0700): the file holds the database password when the URL has one.
 */
async function writeConfig(root: string, moduleDir: string, pgUrl: URL, databases: { main: string; visibility: string }) {
  const port = async () => freePort();
  const member = async () => freeMembershipPort();
  const services = {
    frontend: { rpc: { grpcPort: await port(), membershipPort: await member(), httpPort: await port(), bindOnLocalHost: true } },
    history: { rpc: { grpcPort: await port(), membershipPort: await member(), bindOnLocalHost: true } },
    matching: { rpc: { grpcPort: await port(), membershipPort: await member(), bindOnLocalHost: true } },
    worker: { rpc: { grpcPort: await port(), membershipPort: await member(), bindOnLocalHost: true } },
  };
  const address = `127.0.0.1:${services.frontend.rpc.grpcPort}`;
  const overrides = {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: 4,
      datastores: {
        // The module's pool sizes: 20 for the main store, 2 for visibility, per service (4 services).
        'postgres-default': sqlStore(pgUrl, databases.main, 20),
        'postgres-visibility': sqlStore(pgUrl, databases.visibility, 2),
      },
    },
    global: { membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' }, pprof: { port: 0 }, metrics: null },
    services,
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: { active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: address } },
    },
    dynamicConfigClient: { filepath: path.join(root, 'config', 'dynamicconfig.yaml'), pollInterval: '10s' },
  };
  const dir = path.join(root, 'config');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.copyFileSync(path.join(moduleDir, 'config', 'development-postgres12.yaml'), path.join(dir, 'base.yaml'));
  fs.writeFileSync(path.join(dir, 'development.yaml'), `${JSON.stringify(overrides, null, 2)}\n`, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'dynamicconfig.yaml'), DYNAMIC_CONFIG);
  return address;
}

/** Runs the sql tool against one database; the password goes in its environment (SQL_PASSWORD), not the arguments. */
async function sqlTool(binaries: TemporalServerBinaries, pgUrl: URL, database: string, args: string[]): Promise<void> {
  const common = ['--plugin', 'postgres12', '--ep', pgUrl.hostname, '-p', pgUrl.port || '5432', '-u', decodeURIComponent(pgUrl.username || 'postgres'), '--db', database];
  try {
    await run(binaries.sql, [...common, ...args], {
      env: { ...process.env, SQL_PASSWORD: decodeURIComponent(pgUrl.password) },
      timeout: 300_000,
      maxBuffer: 16 << 20,
    });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`sql ${args[0]} on ${database} failed: ${(e.stderr || e.stdout || e.message).trim().split('\n').slice(-5).join('\n')}`, { cause: err });
  }
}

/** Both databases created, set up at schema version 0.0 and updated to the module's latest versioned schema. */
async function createSchemas(binaries: TemporalServerBinaries, pgUrl: URL, databases: { main: string; visibility: string }): Promise<void> {
  const defaultDb = pgUrl.pathname.replace(/^\//, '') || 'postgres';
  const schema = path.join(binaries.moduleDir, 'schema', 'postgresql', 'v12');
  await Promise.all(
    (
      [
        [databases.main, 'temporal'],
        [databases.visibility, 'visibility'],
      ] as const
    ).map(async ([db, kind]) => {
      await sqlTool(binaries, pgUrl, db, ['create-database', '--defaultdb', defaultDb]);
      await sqlTool(binaries, pgUrl, db, ['setup-schema', '-v', '0.0']);
      await sqlTool(binaries, pgUrl, db, ['update-schema', '-d', path.join(schema, kind, 'versioned')]);
    }),
  );
}

async function dropDatabases(pgUrl: string, names: string[]): Promise<void> {
  const c = new pg.Client({ connectionString: pgUrl });
  await c.connect();
  try {
    for (const name of names) await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await c.end();
  }
}

/** Retries `fn` every 500 ms until it resolves, `exited` says the server is gone, or the deadline passes. */
async function retrying<T>(what: string, deadline: number, exited: () => boolean, fn: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (exited()) throw new Error(`the Temporal server exited while waiting for ${what}`, { cause: err });
      if (Date.now() > deadline) throw new Error(`the Temporal server: ${what} not done in time: ${String(err)}`, { cause: err });
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

const { temporal } = proto;
const INDEXED_TYPE = {
  KEYWORD: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  KEYWORD_LIST: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
} as const;

/** A search attribute value as the frontend takes it: a JSON payload typed by metadata. */
function searchAttributePayload(type: keyof typeof INDEXED_TYPE, value: unknown) {
  const encode = (s: string) => new TextEncoder().encode(s);
  return { metadata: { encoding: encode('json/plain'), type: encode(type === 'KEYWORD' ? 'Keyword' : 'KeywordList') }, data: encode(JSON.stringify(value)) };
}

/**
 * Waits until the project's search attributes work end to end. On a SQL visibility store adding one maps its name to
 * a pre-allocated column in the namespace's config; every service reads that config from its namespace cache
 * (refreshed every few seconds), so a workflow started at once could be refused ("not defined") by one service and a
 * visibility record fail in another. A probe workflow (on a task queue no worker polls) carrying every attribute, then
 * found by a visibility query on all of them, proves frontend, history and the store agree; it is then terminated
 * and deleted.
 */
async function waitForSearchAttributes(connection: Connection, deadline: number, exited: () => boolean): Promise<void> {
  const probeId = `cluster-search-attribute-probe-${crypto.randomBytes(4).toString('hex')}`;
  const value = 'cluster-probe';
  const fields = Object.fromEntries(SEARCH_ATTRIBUTES.map((k) => [k.name, searchAttributePayload(k.type, k.type === 'KEYWORD' ? value : [value])]));
  const query = SEARCH_ATTRIBUTES.map((k) => `${k.name} = '${value}'`).join(' AND ');
  await retrying('a workflow start carrying the search attributes', deadline, exited, async () => {
    try {
      await connection.workflowService.startWorkflowExecution({
        namespace: NAMESPACE,
        workflowId: probeId,
        workflowType: { name: 'clusterSearchAttributeProbe' },
        taskQueue: { name: probeId },
        requestId: crypto.randomUUID(),
        searchAttributes: { indexedFields: fields },
      });
    } catch (err) {
      if ((err as { code?: number }).code !== ALREADY_EXISTS) throw err; // an earlier attempt's answer was lost
    }
  });
  await retrying('the probe workflow in the visibility store', deadline, exited, async () => {
    const { count } = await connection.workflowService.countWorkflowExecutions({ namespace: NAMESPACE, query });
    if (Number(count ?? 0) < 1) throw new Error('not visible yet');
  });
  await connection.workflowService.terminateWorkflowExecution({ namespace: NAMESPACE, workflowExecution: { workflowId: probeId }, reason: 'readiness probe' });
  await connection.workflowService.deleteWorkflowExecution({ namespace: NAMESPACE, workflowExecution: { workflowId: probeId } });
}

/**
 * Starts a Temporal server on `postgresUrl`'s PostgreSQL with databases of its own (temporal_<suffix>,
 * temporal_visibility_<suffix>), and returns once namespace `default` serves with the project's search attributes
 * registered. stop() stops the server and drops both databases.
 */
export async function startTemporalCluster(opts: TemporalClusterOptions): Promise<TemporalCluster> {
  const log = opts.log ?? stderrLog;
  const binaries = opts.binaries ?? (await acquireTemporalServer({ log }));
  const pgUrl = new URL(opts.postgresUrl);
  const suffix = crypto.randomBytes(4).toString('hex');
  const databases = { main: `temporal_${suffix}`, visibility: `temporal_visibility_${suffix}` };
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'temporal-cluster-'));
  fs.chmodSync(root, 0o700);
  const tail: string[] = [];
  let child: ReturnType<typeof startChild> | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try {
      await child?.stop('SIGTERM', 15_000);
    } finally {
      try {
        await dropDatabases(opts.postgresUrl, [databases.main, databases.visibility]);
      } finally {
        fs.rmSync(root, { recursive: true, force: true });
      }
    }
  };
  try {
    await createSchemas(binaries, pgUrl, databases);
    const address = await writeConfig(root, binaries.moduleDir, pgUrl, databases);
    const userOutput = opts.output === undefined ? (line: string) => process.stderr.write(`[temporal-server] ${line}\n`) : opts.output;
    child = startChild({
      name: 'temporal-server',
      command: binaries.server,
      args: ['--root', root, '--config', 'config', '--env', 'development', '--allow-no-auth', 'start'],
      cwd: root,
      ready: /(?!)/, // readiness is polled over gRPC below
      output: (line) => {
        tail.push(line.length > 600 ? `${line.slice(0, 600)}...` : line); // its errors carry whole stack traces
        if (tail.length > 30) tail.shift();
        userOutput?.(line);
      },
    });
    let exited = false;
    void child.exited.then(() => (exited = true));
    const hasExited = () => exited;
    const deadline = Date.now() + START_TIMEOUT_MS;
    const connection = await retrying('the frontend to accept connections', deadline, hasExited, () => Connection.connect({ address, connectTimeout: 2000 }));
    try {
      await retrying('the frontend to serve', deadline, hasExited, async () => {
        const res = await connection.healthService.check({ service: 'temporal.api.workflowservice.v1.WorkflowService' });
        if (res.status !== proto.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING) throw new Error(`health: ${res.status}`);
      });
      await retrying(`namespace ${NAMESPACE} registered`, deadline, hasExited, async () => {
        try {
          await connection.workflowService.registerNamespace({ namespace: NAMESPACE, workflowExecutionRetentionPeriod: msToTs('1 day') });
        } catch (err) {
          if ((err as { code?: number }).code !== ALREADY_EXISTS) throw err; // an earlier attempt's answer was lost
        }
      });
      await retrying(`namespace ${NAMESPACE} served`, deadline, hasExited, () => connection.workflowService.describeNamespace({ namespace: NAMESPACE }));
      // The dev server takes them on its command line (--search-attribute); a cluster through the operator service, as
      // the worker's ensureSearchAttributes does. Here first, so two workers starting at once never race to add them.
      await retrying('search attributes added', deadline, hasExited, () =>
        connection.operatorService.addSearchAttributes({
          namespace: NAMESPACE,
          searchAttributes: Object.fromEntries(SEARCH_ATTRIBUTES.map((k) => [k.name, INDEXED_TYPE[k.type]])),
        }),
      );
      await waitForSearchAttributes(connection, deadline, hasExited);
    } finally {
      await connection.close();
    }
    return { address, namespace: NAMESPACE, databases, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    const lines = tail.length ? `\nlast server output:\n${tail.join('\n')}` : '';
    throw new Error(`${err instanceof Error ? err.message : String(err)}${lines}`, { cause: err });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const [command] = process.argv.slice(2);
  if (command === 'build') {
    acquireTemporalServer().then(
      (b) => console.log(b.dir),
      (err: unknown) => {
        console.error(err instanceof Error ? err.message : err);
        process.exit(1);
      },
    );
  } else if (command === 'start' && process.argv[3]) {
    // By hand: a cluster on the given PostgreSQL until Ctrl-C (its databases dropped on the way out).
    startTemporalCluster({ postgresUrl: process.argv[3] }).then(
      (cluster) => {
        console.log(`TEMPORAL_ADDRESS=${cluster.address}`);
        const end = () => void cluster.stop().then(() => process.exit(0));
        process.once('SIGINT', end);
        process.once('SIGTERM', end);
      },
      (err: unknown) => {
        console.error(err instanceof Error ? err.message : err);
        process.exit(1);
      },
    );
  } else {
    console.error('usage: temporal-cluster.ts build | start <postgresql-url>');
    process.exit(2);
  }
}
