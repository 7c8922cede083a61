/**
 * Starts real server instances for end-to-end tests: each instance is its own database (a PGlite child
 * process, or a fresh database on the PostgreSQL of TEST_DATABASE_URL), its own worker process (or several:
 * StartInstanceOptions.workers) and api process, on the shared Temporal dev server (or the stack's server) with a
 * task queue of its own. Processes can be stopped, killed and restarted independently, on the same port and data.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Client } from '@temporalio/client';
import { applyMigrations } from '../src/db/schema-engine.js';
import { startChild, type ManagedChild } from '../src/process/child.js';
import { PROJECT_ROOT } from '../src/temporal/cli-binary.js';
import { freePort } from './support/ports.js';

const MAIN = path.join(PROJECT_ROOT, 'src', 'main.ts');
const VERBOSE = process.env.TEST_VERBOSE === '1';

export interface Instance {
  name: string;
  baseUrl: string;
  admin: { username: string; password: string };
  databaseUrl: string;
  /** The embedded database's data folder (undefined on a PostgreSQL server). */
  databaseDir: string | undefined;
  /** The instance's ENCRYPTION_KEYS (`kid:base64`), for tests that decode what an operator with the key could. */
  encryptionKeys: string;
  /** What the api and worker printed so far (with StartInstanceOptions.captureOutput). */
  output(): string[];
  taskQueue: string;
  temporalAddress: string;
  startApi(): Promise<void>;
  stopApi(): Promise<void>;
  /** Starts every worker process of the instance that is not running (one unless StartInstanceOptions.workers). */
  startWorker(): Promise<void>;
  /** Stops every worker process: no worker polls the instance's task queue until one starts again. */
  stopWorker(): Promise<void>;
  /** SIGKILL to every worker process: no graceful shutdown, in-flight activities are simply lost to the worker. */
  killWorker(): Promise<void>;
  /** How many worker processes the instance runs (StartInstanceOptions.workers). */
  workerCount: number;
  /** Starts worker process `index` (0-based) if it is not running. */
  startWorkerAt(index: number): Promise<void>;
  /** Stops worker process `index` gracefully (SIGTERM: it drains its in-flight tasks). */
  stopWorkerAt(index: number): Promise<void>;
  /** SIGKILL to worker process `index` alone, while the others keep polling. */
  killWorkerAt(index: number): Promise<void>;
  /** Waits until the api's `/ready` answers 200 (its worker polls, Temporal and the database answer). */
  waitReady(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
  /** fetch against the instance with the admin credential. */
  request(method: string, pathname: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
}

/** Where instances run: the shared Temporal server, the prebuilt workflow bundle, and which database. */
export interface Stack {
  temporalAddress: string;
  workflowBundle: string;
  /** A PostgreSQL server URL to create databases on; unset = an embedded PGlite per instance. */
  postgresUrl?: string | undefined;
}

/** The stack of the current vitest project (see test/global-setup.ts and vitest.config.ts). */
export async function testStack(): Promise<Stack> {
  const { inject } = await import('vitest');
  return {
    temporalAddress: inject('temporalAddress'),
    workflowBundle: inject('workflowBundle'),
    postgresUrl: process.env.TEST_DATABASE === 'postgres' ? process.env.TEST_DATABASE_URL : undefined,
  };
}

async function createDatabase(name: string, serverUrl: string | undefined): Promise<{ url: string; dir?: string; drop(): Promise<void> }> {
  if (serverUrl) {
    const dbName = `prov_${name.toLowerCase().replace(/[^a-z0-9]/g, '_')}_${crypto.randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
    const url = new URL(serverUrl);
    url.pathname = `/${dbName}`;
    return {
      url: url.toString(),
      async drop() {
        const c = new pg.Client({ connectionString: serverUrl });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
        await c.end();
      },
    };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pglite-${name}-`));
  const child = startChild({
    name: `${name}:pglite`,
    command: process.execPath,
    args: ['--import', 'tsx', path.join(PROJECT_ROOT, 'src', 'db', 'embedded-postgres-main.ts'), '--data-dir', dir, '--port', '0'],
    cwd: PROJECT_ROOT,
    ready: /^ready (\S+)/,
    output: VERBOSE ? undefined : null,
  });
  const m = await child.ready;
  return {
    url: m[1]!,
    dir,
    async drop() {
      await child.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface StartInstanceOptions {
  env?: Record<string, string>;
  stack?: Stack;
  /** Start the worker too (default). Without it the api is up but not ready: writes are refused with 503. */
  worker?: boolean;
  /**
   * Worker processes on the instance's task queue (default 1), as a scaled deployment runs them: separate processes
   * sharing the database and the task queue, each stopped, killed and restarted on its own (startWorkerAt...).
   */
  workers?: number;
  /** Keep every line the api and worker processes print, for Instance.output() (tests that inspect logs). */
  captureOutput?: boolean;
  /** The api's port (default: a free one), for tests that must name the api's URL before it starts. */
  port?: number;
}

/**
 * CPU_PROFILE_DIR=dir (tests and the bench): every api and worker process runs with V8's CPU profiler and writes its
 * threads' profiles (the main thread's is the largest; tsx's loader thread has one too) to `dir/<instance>-<role>/`
 * when it exits: open one in Chrome DevTools' Performance panel or speedscope. A process killed with SIGKILL writes none.
 */
function cpuProfileArgs(label: string): string[] {
  const dir = process.env.CPU_PROFILE_DIR;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(dir, label)}`] : [];
}

/**
 * Starts an instance and, when its worker runs, waits until the api is ready, so a test's first write is
 * never refused by the write gate while the api has not yet seen the worker poll.
 */
export async function startInstance(name: string, opts: StartInstanceOptions = {}): Promise<Instance> {
  const workerCount = opts.workers ?? 1;
  if (!Number.isInteger(workerCount) || workerCount < 1) throw new Error(`workers: ${workerCount} (at least 1)`);
  const stack = opts.stack ?? (await testStack());
  const db = await createDatabase(name, stack.postgresUrl);
  await applyMigrations({ databaseUrl: db.url, migrationsDir: path.join(PROJECT_ROOT, 'prisma', 'migrations') });
  const port = opts.port ?? (await freePort());
  const admin = { username: 'admin', password: `pw-${crypto.randomBytes(9).toString('base64url')}` };
  const taskQueue = `provisioning-${name}-${crypto.randomBytes(4).toString('hex')}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `data-${name}-`));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    DATABASE_URL: db.url,
    DATABASE_POOL_SIZE: '5',
    TEMPORAL_ADDRESS: stack.temporalAddress,
    TEMPORAL_TASK_QUEUE: taskQueue,
    WORKFLOW_BUNDLE: stack.workflowBundle,
    API_PORT: String(port),
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    ADMIN_USERNAME: admin.username,
    ADMIN_PASSWORD: admin.password,
    ENCRYPTION_KEYS: `k1:${crypto.randomBytes(32).toString('base64')}`,
    OUTBOUND_IDLE_MS: '2000',
    LOG_LEVEL: 'warn',
    // Cheaper password hashes than production's (OWASP's 2^17): the suite hashes hundreds of passwords on 2 cores.
    // src/crypto/password.test.ts checks the default; a test that needs it sets PASSWORD_HASH_COST itself.
    PASSWORD_HASH_COST: '12',
    ...opts.env,
  };
  const captured: string[] = [];
  let api: ManagedChild | undefined;
  const workers: (ManagedChild | undefined)[] = Array.from({ length: workerCount }, () => undefined);
  // Worker 0 keeps the names a single worker always had ("A:worker", "[worker]" lines); the others are numbered.
  const workerLabel = (index: number) => (index === 0 ? 'worker' : `worker${index}`);
  const spawnRole = (role: 'api' | 'worker', label: string = role) =>
    startChild({
      name: `${name}:${label}`,
      command: process.execPath,
      args: [...cpuProfileArgs(`${name}-${label}`), '--import', 'tsx', MAIN, role],
      env,
      cwd: PROJECT_ROOT,
      ready: role === 'api' ? /^api ready/ : /^worker ready/,
      output: opts.captureOutput ? (line) => captured.push(`[${label}] ${line}`) : VERBOSE ? undefined : null,
    });
  const workerAt = (index: number) => {
    if (!Number.isInteger(index) || index < 0 || index >= workerCount) throw new Error(`${name} has no worker ${index} (workers: ${workerCount})`);
    return index;
  };
  const startWorkerAt = async (index: number) => {
    if (workers[workerAt(index)]) return;
    const child = spawnRole('worker', workerLabel(index));
    workers[index] = child;
    try {
      await child.ready;
    } catch (err) {
      if (workers[index] === child) workers[index] = undefined;
      throw err;
    }
  };
  const stopWorkerAt = async (index: number, signal?: NodeJS.Signals) => {
    const child = workers[workerAt(index)];
    workers[index] = undefined;
    await child?.stop(signal);
  };
  const everyWorker = (fn: (index: number) => Promise<void>) => Promise.all(workers.map((_, i) => fn(i))).then(() => undefined);

  const instance: Instance = {
    name,
    baseUrl: `http://127.0.0.1:${port}`,
    admin,
    databaseUrl: db.url,
    databaseDir: db.dir,
    encryptionKeys: env.ENCRYPTION_KEYS!,
    output: () => [...captured],
    taskQueue,
    temporalAddress: stack.temporalAddress,
    async startApi() {
      api = spawnRole('api');
      await api.ready;
    },
    async stopApi() {
      await api?.stop();
      api = undefined;
    },
    startWorker: () => everyWorker((i) => startWorkerAt(i)),
    stopWorker: () => everyWorker((i) => stopWorkerAt(i)),
    killWorker: () => everyWorker((i) => stopWorkerAt(i, 'SIGKILL')),
    workerCount,
    startWorkerAt,
    stopWorkerAt: (index) => stopWorkerAt(index),
    killWorkerAt: (index) => stopWorkerAt(index, 'SIGKILL'),
    async waitReady(timeoutMs = 60_000) {
      await eventually(async () => ((await fetch(`${instance.baseUrl}/ready`)).status === 200 ? true : undefined), timeoutMs, `${name} ready`);
    },
    async stop() {
      await Promise.allSettled([instance.stopApi(), instance.stopWorker()]);
      await db.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
    request(method, pathname, body, headers = {}) {
      return fetch(`${instance.baseUrl}${pathname}`, {
        method,
        headers: {
          Authorization: `Basic ${Buffer.from(`${admin.username}:${admin.password}`).toString('base64')}`,
          ...(body !== undefined && { 'Content-Type': 'application/scim+json' }),
          ...headers,
        },
        ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
    },
  };
  const withWorker = opts.worker ?? true;
  try {
    await Promise.all([withWorker ? instance.startWorker() : undefined, instance.startApi()]);
    if (withWorker) await instance.waitReady();
  } catch (err) {
    await instance.stop(); // the caller never got the instance: leave no process behind
    throw err;
  }
  return instance;
}

export type Json = Record<string, unknown>;

/** A request with the admin credential whose answer is JSON (or empty): status and parsed body. */
export async function json(instance: Instance, method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const res = await instance.request(method, path, body);
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {} };
}

/**
 * A SCIM write as a careful client makes it: a 202 Accepted (the server's wait for the engine ended first, as it does
 * while its write bound is full, src/http/admission.ts) is followed by the same request with the Idempotency-Key the
 * 202 names, after its Retry-After, until the change's own answer comes; that answer is returned. The repeat joins
 * the first attempt's workflow, so it can never apply the change twice.
 */
export async function writeFollowingAccepted(
  instance: Instance,
  method: string,
  pathname: string,
  body: unknown,
  headers: Record<string, string> = {},
  maxRepeats = 20,
): Promise<Response> {
  let res = await instance.request(method, pathname, body, headers);
  for (let i = 0; res.status === 202 && i < maxRepeats; i++) {
    const key = res.headers.get('idempotency-key');
    const seconds = Number(res.headers.get('retry-after') ?? '1');
    await res.arrayBuffer();
    if (!key) throw new Error(`${method} ${pathname}: 202 without an Idempotency-Key to repeat the request with`);
    await new Promise((r) => setTimeout(r, Math.min(Number.isFinite(seconds) ? seconds : 1, 5) * 1000));
    res = await instance.request(method, pathname, body, { ...headers, 'Idempotency-Key': key });
  }
  return res;
}

/** Waits until Temporal's visibility counts exactly `want` workflows for `query` (visibility is eventually consistent). */
export function workflowCountIs(client: Client, query: string, want: number, timeoutMs = 60_000): Promise<true> {
  return eventually(
    async () => {
      const n = Number((await client.workflow.count(query)).count);
      if (n !== want) throw new Error(`${n} of ${want} so far`);
      return true as const;
    },
    timeoutMs,
    query,
  );
}

/** Polls until `check` returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: Error | undefined;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err instanceof Error ? err : new Error(String(err));
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Configures `source` to provision to `target` over SCIM 2.0, linked from the resident SP (every operation) or, with
 * `application`, from that application only (the changes its tokens make).
 */
export async function linkScim2Target(
  source: Instance,
  target: { baseUrl: string; admin: { username: string; password: string } },
  opts: { blocking: boolean; idpName?: string; userEndpoint?: string; retry?: Record<string, number>; application?: string; settings?: Record<string, unknown> },
): Promise<{ idpId: string; connectorId: string }> {
  const res = await source.request('POST', '/api/server/v1/identity-providers', {
    name: opts.idpName ?? 'IS2',
    description: 'second instance, over SCIM 2.0',
    outboundConnectors: [
      {
        type: 'scim2',
        settings: {
          userEndpoint: opts.userEndpoint ?? `${target.baseUrl}/scim2/Users`,
          groupEndpoint: `${target.baseUrl}/scim2/Groups`,
          username: target.admin.username,
          userStoreDomain: 'PRIMARY',
          timeoutMs: 20_000,
          ...opts.settings,
        },
        secrets: { password: target.admin.password },
        passwordProvisioning: true,
        retry: { initialIntervalMs: 200, maximumIntervalMs: 1000, ...opts.retry },
      },
    ],
  });
  if (res.status !== 201) throw new Error(`creating the identity provider failed: ${res.status} ${await res.text()}`);
  const idp = (await res.json()) as { id: string; outboundConnectors: { id: string }[] };
  const connectorId = idp.outboundConnectors[0]!.id;
  const link = await source.request('POST', `/api/server/v1/applications/${opts.application ?? 'resident'}/provisioning/outbound-connectors`, {
    connectorId,
    blocking: opts.blocking,
  });
  if (link.status !== 201) throw new Error(`linking the connector failed: ${link.status} ${await link.text()}`);
  return { idpId: idp.id, connectorId };
}
