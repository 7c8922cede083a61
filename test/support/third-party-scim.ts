/**
 * A third-party SCIM 2.0 server as an outbound target: scim2-server (PyPI, https://scim2-server.readthedocs.io,
 * the python-scim project of Yaal Coop, authors of scim2-tester), whose `scim2-server` command serves the resources of
 * RFC 7643 from memory under /v2. Nobody here wrote it; test/outbound-third-party-scim.test.ts provisions to it.
 *
 * The Python environment is found like scim2-tester's (test/support/scim2-tester.ts), in this order:
 *   1. SCIM2_SERVER_PATH: a virtual environment (its directory, or its python) with scim2-server installed
 *      (.ci/run builds one in its cache and exports it);
 *   2. the project-local one in .tools/scim2-server-venv, if it was built from the current requirements;
 *   3. otherwise it builds that one: `python3 -m venv` and `pip install -r scim2-server-requirements.txt`
 *      (every package pinned) from the configured package index, printing pip's progress. Once per machine.
 *
 * Authentication: the command accepts every request unless started with `--bearer-token TOKEN` (then only that
 * token, RFC 6750); it has no HTTP Basic. Our scim2 connector speaks Basic or nothing, so the test starts it open.
 */
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startChild, type ManagedChild } from '../../src/process/child.js';
import { PROJECT_ROOT } from '../../src/temporal/cli-binary.js';
import { freePort } from './ports.js';

export const SCIM2_SERVER_VERSION = '0.8.3';
const SUPPORT = path.join(PROJECT_ROOT, 'test', 'support');
export const SCIM2_SERVER_REQUIREMENTS = path.join(SUPPORT, 'scim2-server-requirements.txt');
const LOCAL_VENV = path.join(PROJECT_ROOT, '.tools', 'scim2-server-venv');
/** Written last when a venv is complete: the hash of the requirements it was built from. */
const STAMP = '.requirements.sha256';
const MIN_PYTHON: [number, number] = [3, 11];

type Log = (line: string) => void;
const stderrLog: Log = (line) => process.stderr.write(`${line}\n`);

function pythonOf(venvOrPython: string): string {
  return fs.existsSync(venvOrPython) && fs.statSync(venvOrPython).isDirectory() ? path.join(venvOrPython, 'bin', 'python') : venvOrPython;
}

/** The installed scim2-server version, or undefined if this interpreter cannot run its command. */
function serverVersion(python: string): string | undefined {
  const r = spawnSync(python, ['-c', 'import importlib.metadata, scim2_server.testserver.cli; print(importlib.metadata.version("scim2-server"))'], {
    encoding: 'utf8',
  });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function requirementsHash(): string {
  return crypto.createHash('sha256').update(fs.readFileSync(SCIM2_SERVER_REQUIREMENTS)).digest('hex');
}

function run(command: string, args: string[], log: Log, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1' } });
    let tail: string[] = [];
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').map((l) => l.trimEnd()).filter(Boolean)) {
        tail = [...tail.slice(-20), line];
        // pip's progress, without its progress bars: what it fetches and installs.
        if (/^(Collecting|Downloading|Installing|Successfully|ERROR|WARNING)/.test(line.trim())) log(`  ${line.trim()}`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${what} failed (exit ${code}):\n${tail.join('\n')}`))));
  });
}

function systemPython(): string {
  for (const candidate of ['python3', 'python']) {
    const r = spawnSync(candidate, ['-c', 'import sys, venv; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' });
    if (r.status !== 0) continue;
    const [major = 0, minor = 0] = r.stdout.trim().split('.').map(Number);
    if (major > MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor >= MIN_PYTHON[1])) return candidate;
  }
  throw new Error(
    `scim2-server needs Python ${MIN_PYTHON.join('.')}+ with the venv module (Debian: apt-get install python3-venv python3-pip). ` +
      'Or set SCIM2_SERVER_PATH to a virtual environment where scim2-server is installed.',
  );
}

/**
 * Creates (or recreates) a virtual environment at `dir` with the pinned requirements. Used by the tests and by
 * .ci/run (`tsx test/support/third-party-scim.ts <dir>`), so both build it the same way.
 */
export async function buildScim2ServerVenv(dir: string, log: Log = stderrLog): Promise<string> {
  const started = Date.now();
  log(`Installing scim2-server ${SCIM2_SERVER_VERSION} into ${path.relative(PROJECT_ROOT, dir) || dir} (once; under a minute)...`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  await run(systemPython(), ['-m', 'venv', dir], log, 'python3 -m venv');
  const python = path.join(dir, 'bin', 'python');
  await run(python, ['-m', 'pip', 'install', '--no-input', '-r', SCIM2_SERVER_REQUIREMENTS], log, 'pip install');
  const version = serverVersion(python);
  if (version !== SCIM2_SERVER_VERSION) throw new Error(`scim2-server ${SCIM2_SERVER_VERSION} was installed, but ${python} reports ${version ?? 'nothing'}`);
  fs.writeFileSync(path.join(dir, STAMP), requirementsHash());
  log(`scim2-server ready in ${Math.round((Date.now() - started) / 1000)}s: ${python}`);
  return python;
}

/** The python of a virtual environment where the pinned scim2-server runs, building the local one if needed. */
export async function acquireScim2Server(opts: { path?: string | undefined; log?: Log } = {}): Promise<string> {
  const log = opts.log ?? stderrLog;
  if (opts.path) {
    const python = pythonOf(opts.path);
    const version = serverVersion(python);
    if (!version) throw new Error(`SCIM2_SERVER_PATH=${opts.path} has no working scim2-server`);
    if (version !== SCIM2_SERVER_VERSION) log(`note: SCIM2_SERVER_PATH has scim2-server ${version}; this project pins ${SCIM2_SERVER_VERSION}`);
    return python;
  }
  const python = path.join(LOCAL_VENV, 'bin', 'python');
  const stamp = path.join(LOCAL_VENV, STAMP);
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === requirementsHash() && serverVersion(python) === SCIM2_SERVER_VERSION) return python;
  return buildScim2ServerVenv(LOCAL_VENV, log);
}

export interface ThirdPartyScim {
  /** The SCIM base URL, `http://127.0.0.1:<port>/v2` (Users at `${baseUrl}/Users`, Groups at `${baseUrl}/Groups`). */
  baseUrl: string;
  /** The bearer token it requires, or undefined when it accepts every request. */
  bearerToken: string | undefined;
  /** Headers for calling it directly (Accept, and Authorization when it has a token). */
  headers: Record<string, string>;
  child: ManagedChild;
  stop(): Promise<void>;
}

/**
 * Starts scim2-server on a free loopback port with an empty in-memory store, and resolves once it answers
 * GET /v2/ServiceProviderConfig. With `bearerToken`, it accepts only that token.
 */
export async function startThirdPartyScim(opts: { python?: string; bearerToken?: string; log?: Log; verbose?: boolean } = {}): Promise<ThirdPartyScim> {
  const python = opts.python ?? (await acquireScim2Server({ path: process.env.SCIM2_SERVER_PATH, log: opts.log }));
  const headers: Record<string, string> = { Accept: 'application/scim+json' };
  if (opts.bearerToken !== undefined) headers.Authorization = `Bearer ${opts.bearerToken}`;
  let lastError: unknown;
  // freePort gives a port that is free now; another process may take it before the server binds it: try again.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = startChild({
      name: 'scim2-server',
      command: python,
      args: ['-m', 'scim2_server.testserver.cli', '--hostname', '127.0.0.1', '--port', String(port), ...(opts.bearerToken !== undefined ? ['--bearer-token', opts.bearerToken] : [])],
      env: { ...process.env, PYTHONUNBUFFERED: '1' },
      ready: /^Serving SCIM on (http:\/\/\S+)/,
      readyTimeoutMs: 30_000,
      // Its request log goes to stderr; shown with TEST_VERBOSE=1.
      output: (opts.verbose ?? process.env.TEST_VERBOSE === '1') ? undefined : null,
    });
    try {
      const baseUrl = (await child.ready)[1]!.replace(/\/+$/, '');
      const deadline = Date.now() + 15_000;
      for (;;) {
        try {
          const res = await fetch(`${baseUrl}/ServiceProviderConfig`, { headers, signal: AbortSignal.timeout(2_000) });
          if (res.ok) break;
          lastError = new Error(`GET ${baseUrl}/ServiceProviderConfig -> ${res.status}`);
        } catch (err) {
          lastError = err;
        }
        if (Date.now() > deadline) throw new Error(`scim2-server at ${baseUrl} does not answer: ${String(lastError)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      return { baseUrl, bearerToken: opts.bearerToken, headers, child, stop: () => child.stop() };
    } catch (err) {
      lastError = err;
      await child.stop('SIGKILL');
    }
  }
  throw new Error(`scim2-server did not start: ${lastError instanceof Error ? lastError.message : String(lastError)}`);
}

// `tsx test/support/third-party-scim.ts <dir>`: builds a virtual environment at <dir> (used by .ci/run for its cache).
if (process.argv[1] && path.resolve(process.argv[1]) === path.join(SUPPORT, 'third-party-scim.ts')) {
  const dir = process.argv[2];
  const done = dir ? buildScim2ServerVenv(path.resolve(dir)) : acquireScim2Server({ path: process.env.SCIM2_SERVER_PATH });
  done.then(
    (python) => console.log(python),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
