/**
 * The real launcher (`node --import tsx src/main.ts start`, what `npm start` runs) on a data folder and ports of
 * its own (issue #8, hardening). What prompted it: `kill -9` of the worker made the launcher stop everything;
 * after the dev server was killed nothing restarted it and writes failed while `/health` said ok; the admin
 * password was printed at every start and sat, with the keyring, in every child's /proc/<pid>/environ; the
 * data folder was world-readable.
 *
 * One launcher, started once (it is slow), then in sequence: kill -9 the worker, the api and the Temporal dev
 * server, each coming back by itself while the others keep running; the children's environments; the data
 * folder's permissions; Ctrl-C; a second start that does not show the password; a third with ADMIN_PASSWORD
 * and ENCRYPTION_KEYS in the launcher's own environment, which its children still do not get.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PROJECT_ROOT } from '../src/temporal/cli-binary.js';
import { eventually } from './harness.js';
import { freePort } from './support/ports.js';

const MAIN = path.join(PROJECT_ROOT, 'src', 'main.ts');
const VERBOSE = process.env.TEST_VERBOSE === '1';
const CHILDREN = ['temporal', 'worker', 'api'] as const;
type ChildName = (typeof CHILDREN)[number];

interface LogLine {
  level: string;
  component: string;
  msg: string;
  child?: string;
  pid?: number;
  code?: number | null;
  signal?: string | null;
  restartInMs?: number;
  [k: string]: unknown;
}

interface Launcher {
  proc: ChildProcess;
  stdout: string[];
  log: LogLine[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The pid of the child's latest start, from the launcher's `child started` log line. */
  pid(child: ChildName): number | undefined;
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startLauncher(env: NodeJS.ProcessEnv): Launcher {
  const proc = spawn(process.execPath, ['--import', 'tsx', MAIN, 'start'], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: string[] = [];
  const log: LogLine[] = [];
  readline.createInterface({ input: proc.stdout }).on('line', (line) => {
    stdout.push(line);
    if (VERBOSE) process.stderr.write(`[launcher:out] ${line}\n`);
  });
  readline.createInterface({ input: proc.stderr }).on('line', (line) => {
    if (VERBOSE) process.stderr.write(`[launcher] ${line}\n`);
    if (!line.startsWith('{')) return;
    try {
      const parsed = JSON.parse(line) as LogLine;
      if (parsed.component === 'launcher') log.push(parsed);
    } catch {
      // a child's output, not the launcher's log
    }
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    proc,
    stdout,
    log,
    exit,
    pid: (child) => log.filter((l) => l.msg === 'child started' && l.child === child).at(-1)?.pid,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGINT');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 60_000);
      const e = await exit;
      clearTimeout(timer);
      return e;
    },
  };
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // a killed child stays a zombie until the launcher reaps it
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

const environOf = (pid: number) => fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');

/** Every folder and file under `dir` with its permission bits. */
function modes(dir: string): { path: string; dir: boolean; mode: number }[] {
  const out = [{ path: dir, dir: true, mode: fs.statSync(dir).mode & 0o777 }];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...modes(p));
    else if (!e.isSymbolicLink()) out.push({ path: p, dir: false, mode: fs.statSync(p).mode & 0o777 });
  }
  return out;
}

/** Holds a TCP port: accepts and drops every connection, as a port taken by something else would. */
async function holdPort(port: number, timeoutMs = 10_000): Promise<net.Server> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const server = net.createServer((socket) => socket.destroy());
    const bound = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (bound) return server;
    if (Date.now() > deadline) throw new Error(`could not hold port ${port}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('the launcher supervises its children', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'launcher-'));
  const dataDir = path.join(tmp, 'data');
  let ports: { api: number; temporal: number; ui: number; pg: number };
  let baseEnv: NodeJS.ProcessEnv;
  let launcher: Launcher | undefined;
  let base: string;
  let password = '';
  const users: Record<string, string> = {};

  const request = (method: string, pathname: string, body?: unknown) =>
    fetch(`${base}${pathname}`, {
      method,
      headers: {
        Authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`,
        ...(body !== undefined && { 'Content-Type': 'application/scim+json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  const createUser = async (userName: string) => {
    const res = await request('POST', '/scim2/Users', { schemas: [], userName });
    const body = (await res.json()) as { id?: string };
    if (res.status === 201) users[userName] = body.id!;
    return { status: res.status, body, retryAfter: res.headers.get('retry-after') };
  };
  const ready = async () => {
    const res = await fetch(`${base}/ready`);
    return { status: res.status, body: (await res.json()) as { checks: Record<string, { ok: boolean }> } };
  };
  const upAndReady = async (l: Launcher) => {
    let up = false;
    await Promise.race([
      eventually(() => Promise.resolve(l.stdout.includes('Provisioning server is up.') ? true : undefined), 240_000, 'the launcher up').finally(() => (up = true)),
      l.exit.then((e) => {
        if (!up) throw new Error(`the launcher exited during start-up (${JSON.stringify(e)}): ${l.log.map((x) => x.msg).join('; ')}`);
      }),
    ]);
    await eventually(async () => ((await ready()).status === 200 ? true : undefined), 60_000, '/ready 200');
  };
  const nextStart = (l: Launcher, child: ChildName, after: number) =>
    eventually(() => {
      const pid = l.pid(child);
      return Promise.resolve(pid !== undefined && pid !== after ? pid : undefined);
    }, 120_000, `${child} restarted`);

  beforeAll(async () => {
    ports = { api: await freePort(), temporal: await freePort(), ui: await freePort(), pg: await freePort() };
    base = `http://127.0.0.1:${ports.api}`;
    // A data folder from before this change: world-readable, as the reviewer found it.
    fs.mkdirSync(path.join(dataDir, 'old'), { recursive: true, mode: 0o755 });
    fs.writeFileSync(path.join(dataDir, 'old', 'notes.txt'), 'from an older version', { mode: 0o644 });
    fs.chmodSync(dataDir, 0o755);
    fs.chmodSync(path.join(dataDir, 'old'), 0o755);
    fs.chmodSync(path.join(dataDir, 'old', 'notes.txt'), 0o644);
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of ['ADMIN_PASSWORD', 'ENCRYPTION_KEYS', 'DATABASE_URL', 'TEMPORAL_ADDRESS', 'DEPLOYMENT_MODE', 'TEMPORAL_UI_URL', 'PUBLIC_BASE_URL']) delete env[k];
    baseEnv = {
      ...env,
      DATA_DIR: dataDir,
      API_PORT: String(ports.api),
      PUBLIC_BASE_URL: base,
      TEMPORAL_DEV_PORT: String(ports.temporal),
      TEMPORAL_UI_PORT: String(ports.ui),
      EMBEDDED_PG_PORT: String(ports.pg),
      TEMPORAL_CLI_PATH: inject('temporalCliPath'),
      WORKFLOW_BUNDLE: inject('workflowBundle'), // as container images do: no bundling at each worker start
      LOG_LEVEL: 'info',
    };
    launcher = startLauncher(baseEnv);
    await upAndReady(launcher);
    password = (JSON.parse(fs.readFileSync(path.join(dataDir, 'secrets.json'), 'utf8')) as { adminPassword: string }).adminPassword;
  }, 300_000);

  afterAll(async () => {
    await launcher?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('shows the generated admin password on the first start, and logs each child\'s pid', async () => {
    expect(launcher!.stdout.join('\n')).toContain(password);
    for (const child of CHILDREN) expect(isAlive(launcher!.pid(child)!), child).toBe(true);
    expect((await createUser('before-kills')).status).toBe(201);
  });

  it('kill -9 of the worker: reads go on, the worker is restarted, a write then succeeds', async () => {
    const l = launcher!;
    const [apiPid, temporalPid, workerPid] = [l.pid('api')!, l.pid('temporal')!, l.pid('worker')!];
    process.kill(workerPid, 'SIGKILL');
    expect((await request('GET', `/scim2/Users/${users['before-kills']}`)).status).toBe(200);
    const newPid = await nextStart(l, 'worker', workerPid);
    expect(newPid).not.toBe(workerPid);
    const exited = l.log.find((x) => x.msg === 'child exited' && x.pid === workerPid);
    expect(exited).toMatchObject({ child: 'worker', signal: 'SIGKILL', code: null, restartInMs: 500 });
    expect([l.pid('api'), l.pid('temporal')]).toEqual([apiPid, temporalPid]); // the others kept running
    expect(isAlive(apiPid) && isAlive(temporalPid)).toBe(true);
    // The killed worker's last poll is recent, so the api stays ready; the write waits for the new worker.
    expect((await createUser('after-worker-kill')).status).toBe(201);
  });

  it('kill -9 of the api: it comes back on the same port and serves', async () => {
    const l = launcher!;
    const apiPid = l.pid('api')!;
    const workerPid = l.pid('worker')!;
    process.kill(apiPid, 'SIGKILL');
    await nextStart(l, 'api', apiPid);
    expect(l.log.find((x) => x.msg === 'child exited' && x.pid === apiPid)).toMatchObject({ child: 'api', signal: 'SIGKILL' });
    const res = await eventually(async () => {
      const r = await request('GET', `/scim2/Users/${users['after-worker-kill']}`);
      return r.status === 200 ? r : undefined;
    }, 60_000, 'the api serving again');
    expect(((await res.json()) as { userName: string }).userName).toBe('after-worker-kill');
    expect(l.pid('worker')).toBe(workerPid);
    expect((await createUser('after-api-kill')).status).toBe(201);
  });

  it('kill -9 of the Temporal dev server: not ready and writes refused at once while it is down, then it comes back with its data', async () => {
    const l = launcher!;
    const temporalPid = l.pid('temporal')!;
    const temporalAddress = `127.0.0.1:${ports.temporal}`;
    const countWorkflows = async () => {
      const connection = await Connection.connect({ address: temporalAddress, connectTimeout: 5000 });
      try {
        return (await new Client({ connection }).workflow.count()).count;
      } finally {
        await connection.close();
      }
    };
    const workflowsBefore = await countWorkflows();
    expect(workflowsBefore).toBeGreaterThan(0);

    process.kill(temporalPid, 'SIGKILL');
    // Keep it from coming back for a while (its port is taken), so the outage is certain to be seen and the
    // launcher's retries with growing delays are too.
    const held = await holdPort(ports.temporal);
    try {
      const notReady = await eventually(async () => {
        const r = await ready();
        return r.status === 503 ? r : undefined;
      }, 30_000, '/ready 503 while Temporal is down');
      expect(notReady.body.checks.temporal).toMatchObject({ ok: false });
      const t0 = Date.now();
      const refused = await createUser('while-temporal-down');
      expect(refused.status).toBe(503);
      expect(Date.now() - t0).toBeLessThan(5000); // at once: not after waiting for the engine
      expect(Number(refused.retryAfter)).toBeGreaterThan(0);
      expect(refused.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '503' });
      // Reads need no Temporal.
      expect((await request('GET', `/scim2/Users/${users['before-kills']}`)).status).toBe(200);
      const failedStarts = await eventually(() => {
        const f = l.log.filter((x) => x.msg === 'child failed to start' && x.child === 'temporal');
        return Promise.resolve(f.length >= 2 ? f : undefined);
      }, 60_000, 'two failed restarts of the dev server');
      expect(failedStarts[1]!.restartInMs).toBeGreaterThan(failedStarts[0]!.restartInMs!);
    } finally {
      await new Promise<void>((r) => held.close(() => r()));
    }

    const newPid = await nextStart(l, 'temporal', temporalPid);
    expect(isAlive(newPid)).toBe(true);
    await eventually(async () => ((await ready()).status === 200 ? true : undefined), 180_000, '/ready 200 after the dev server came back');
    expect((await createUser('after-temporal-kill')).status).toBe(201);
    // Nothing written while it was down; everything written before is there; the same SQLite file.
    const list = (await (await request('GET', '/scim2/Users?count=100')).json()) as { Resources: { userName: string }[] };
    expect(list.Resources.map((u) => u.userName).sort()).toEqual(['after-api-kill', 'after-temporal-kill', 'after-worker-kill', 'before-kills']);
    // The workflows recorded before the kill are still known (visibility is updated asynchronously: poll).
    await eventually(async () => ((await countWorkflows()) > workflowsBefore ? true : undefined), 60_000, 'the workflows of before and the new one');
  });

  it('keeps ADMIN_PASSWORD and ENCRYPTION_KEYS out of every child\'s environment and command line', () => {
    const key = (JSON.parse(fs.readFileSync(path.join(dataDir, 'secrets.json'), 'utf8')) as { encryptionKey: { key: string } }).encryptionKey.key;
    for (const child of CHILDREN) {
      const pid = launcher!.pid(child)!;
      const environ = environOf(pid);
      expect(environ.length, child).toBeGreaterThan(3);
      expect(environ.filter((e) => /^(ADMIN_PASSWORD|ENCRYPTION_KEYS)=/.test(e)), child).toEqual([]);
      const all = environ.join('\n') + fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      expect(all.includes(password), `${child}: password`).toBe(false);
      expect(all.includes(key), `${child}: key`).toBe(false);
    }
  });

  it('keeps the data folder private: 0700 folders, 0600 files, the older content included', () => {
    const entries = modes(dataDir);
    const names = entries.map((e) => path.relative(dataDir, e.path));
    for (const expected of ['pglite', 'temporal.db', 'secrets.json', path.join('old', 'notes.txt')]) expect(names).toContain(expected);
    expect(entries.filter((e) => e.mode !== (e.dir ? 0o700 : 0o600)).map((e) => `${e.path} ${e.mode.toString(8)}`)).toEqual([]);
  });

  it('stops every child on Ctrl-C, and a second start does not show the password', async () => {
    const first = launcher!;
    const pids = CHILDREN.map((c) => first.pid(c)!);
    const exit = await first.stop();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(pids.filter(isAlive)).toEqual([]);
    // Nothing was restarted while it stopped: the latest start of each child is the one that was stopped.
    const startsBeforeStop = first.log.filter((x) => x.msg === 'child started');
    expect(CHILDREN.map((c) => startsBeforeStop.filter((x) => x.child === c).at(-1)!.pid)).toEqual(pids);

    launcher = startLauncher(baseEnv);
    await upAndReady(launcher);
    const out = launcher.stdout.join('\n');
    expect(out).toContain('Provisioning server is up.');
    expect(out).not.toContain(password);
    expect(out).toMatch(/Admin credential\s+admin \/ \(the adminPassword in .*secrets\.json\)/);
    expect((await request('GET', `/scim2/Users/${users['after-temporal-kill']}`)).status).toBe(200);
    expect((await launcher.stop()).code).toBe(0);
  });

  it('hands ADMIN_PASSWORD and ENCRYPTION_KEYS given to the launcher to no child\'s environment', async () => {
    const stored = JSON.parse(fs.readFileSync(path.join(dataDir, 'secrets.json'), 'utf8')) as { encryptionKey: { id: string; key: string } };
    const keys = `${stored.encryptionKey.id}:${stored.encryptionKey.key}`;
    launcher = startLauncher({ ...baseEnv, ADMIN_PASSWORD: password, ENCRYPTION_KEYS: keys });
    await upAndReady(launcher);
    expect(launcher.stdout.join('\n')).not.toContain(password);
    for (const child of CHILDREN) {
      const environ = environOf(launcher.pid(child)!);
      expect(environ.filter((e) => /^(ADMIN_PASSWORD|ENCRYPTION_KEYS)=/.test(e)), child).toEqual([]);
      expect(environ.join('\n').includes(password) || environ.join('\n').includes(stored.encryptionKey.key), child).toBe(false);
    }
    // The api got them all the same: the credential works, and what was encrypted before still decrypts.
    expect((await request('GET', `/scim2/Users/${users['before-kills']}`)).status).toBe(200);
    expect((await createUser('with-launcher-env')).status).toBe(201);
  });
});
