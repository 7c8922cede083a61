/**
 * scim2-tester (PyPI, https://scim2-tester.readthedocs.io): a third-party checker of SCIM 2.0 servers against
 * RFC 7643/7644, run against a started instance by test/scim2-tester.test.ts.
 *
 * The Python environment is found like the Temporal CLI (src/temporal/cli-binary.ts), in this order:
 *   1. SCIM2_TESTER_PATH: a virtual environment (its directory, or its python) with scim2-tester installed
 *      (.ci/run builds one in its cache and exports it);
 *   2. the project-local one in .tools/scim2-tester-venv, if it was built from the current requirements;
 *   3. otherwise it builds that one: `python3 -m venv` and `pip install -r scim2-tester-requirements.txt`
 *      (every package pinned) from the configured package index, printing pip's progress. Once per machine.
 *
 * The checks run in test/support/scim2_tester_run.py, which writes every check result as JSON.
 */
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/temporal/cli-binary.js';

export const SCIM2_TESTER_VERSION = '0.5.2';
const SUPPORT = path.join(PROJECT_ROOT, 'test', 'support');
export const SCIM2_TESTER_REQUIREMENTS = path.join(SUPPORT, 'scim2-tester-requirements.txt');
const RUNNER = path.join(SUPPORT, 'scim2_tester_run.py');
const LOCAL_VENV = path.join(PROJECT_ROOT, '.tools', 'scim2-tester-venv');
/** Written last when a venv is complete: the hash of the requirements it was built from. */
const STAMP = '.requirements.sha256';
const MIN_PYTHON: [number, number] = [3, 11];

type Log = (line: string) => void;
const stderrLog: Log = (line) => process.stderr.write(`${line}\n`);

function pythonOf(venvOrPython: string): string {
  return fs.existsSync(venvOrPython) && fs.statSync(venvOrPython).isDirectory() ? path.join(venvOrPython, 'bin', 'python') : venvOrPython;
}

/** The installed scim2-tester version, or undefined if this interpreter cannot run the checks. */
function testerVersion(python: string): string | undefined {
  const r = spawnSync(python, ['-c', 'import importlib.metadata, scim2_tester, scim2_client.engines.httpx2; print(importlib.metadata.version("scim2-tester"))'], {
    encoding: 'utf8',
  });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function requirementsHash(): string {
  return crypto.createHash('sha256').update(fs.readFileSync(SCIM2_TESTER_REQUIREMENTS)).digest('hex');
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
    `scim2-tester needs Python ${MIN_PYTHON.join('.')}+ with the venv module (Debian: apt-get install python3-venv python3-pip). ` +
      'Or set SCIM2_TESTER_PATH to a virtual environment where scim2-tester is installed.',
  );
}

/**
 * Creates (or recreates) a virtual environment at `dir` with the pinned requirements. Used by the tests and by
 * .ci/run (`tsx test/support/scim2-tester.ts <dir>`), so both build it the same way.
 */
export async function buildScim2TesterVenv(dir: string, log: Log = stderrLog): Promise<string> {
  const started = Date.now();
  log(`Installing scim2-tester ${SCIM2_TESTER_VERSION} into ${path.relative(PROJECT_ROOT, dir) || dir} (once; about half a minute)...`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  await run(systemPython(), ['-m', 'venv', dir], log, 'python3 -m venv');
  const python = path.join(dir, 'bin', 'python');
  await run(python, ['-m', 'pip', 'install', '--no-input', '-r', SCIM2_TESTER_REQUIREMENTS], log, 'pip install');
  const version = testerVersion(python);
  if (version !== SCIM2_TESTER_VERSION) throw new Error(`scim2-tester ${SCIM2_TESTER_VERSION} was installed, but ${python} reports ${version ?? 'nothing'}`);
  fs.writeFileSync(path.join(dir, STAMP), requirementsHash());
  log(`scim2-tester ready in ${Math.round((Date.now() - started) / 1000)}s: ${python}`);
  return python;
}

/** The python of a virtual environment where the pinned scim2-tester runs, building the local one if needed. */
export async function acquireScim2Tester(opts: { path?: string | undefined; log?: Log } = {}): Promise<string> {
  const log = opts.log ?? stderrLog;
  if (opts.path) {
    const python = pythonOf(opts.path);
    const version = testerVersion(python);
    if (!version) throw new Error(`SCIM2_TESTER_PATH=${opts.path} has no working scim2-tester (with scim2-client's httpx2 engine)`);
    if (version !== SCIM2_TESTER_VERSION) log(`note: SCIM2_TESTER_PATH has scim2-tester ${version}; this project pins ${SCIM2_TESTER_VERSION}`);
    return python;
  }
  const python = path.join(LOCAL_VENV, 'bin', 'python');
  const stamp = path.join(LOCAL_VENV, STAMP);
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === requirementsHash() && testerVersion(python) === SCIM2_TESTER_VERSION) return python;
  return buildScim2TesterVenv(LOCAL_VENV, log);
}

/** One check of scim2-tester (its CheckResult), as scim2_tester_run.py writes it. */
export interface Scim2Check {
  title: string | null;
  /** SUCCESS, COMPLIANT, ACCEPTABLE, DEVIATION, ERROR, CRITICAL or SKIPPED (scim2_tester.Status). */
  status: string;
  resourceType: string | null;
  tags: string[];
  reason: string | null;
  description: string | null;
  data: string | null;
}

export interface Scim2Report {
  versions: Record<string, string>;
  baseUrl: string;
  seconds: number;
  results: Scim2Check[];
}

/** Runs every check of scim2-tester against `scimBaseUrl` (`http://host:port/scim2`). */
export async function runScim2Tester(opts: {
  python: string;
  scimBaseUrl: string;
  authorization?: string;
  trace?: boolean;
  timeoutMs?: number;
  log?: Log;
}): Promise<Scim2Report> {
  const log = opts.log ?? stderrLog;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scim2-tester-'));
  const output = path.join(dir, 'results.json');
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(opts.python, [RUNNER, '--base-url', opts.scimBaseUrl, '--output', output], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          PYTHONUNBUFFERED: '1',
          ...(opts.authorization !== undefined && { SCIM2_TESTER_AUTHORIZATION: opts.authorization }),
          ...(opts.trace && { SCIM2_TESTER_TRACE: '1' }),
        },
      });
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => log(c.toString().trimEnd()));
      child.stderr.on('data', (c: Buffer) => {
        stderr = (stderr + c.toString()).slice(-20_000);
        if (opts.trace) log(c.toString().trimEnd());
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 900_000);
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new Error(`scim2-tester run failed (${signal ?? `exit ${code}`}):\n${stderr}`));
      });
    });
    return JSON.parse(fs.readFileSync(output, 'utf8')) as Scim2Report;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Statuses that mean the server did what the RFCs require or recommend (scim2_tester.Status). */
export const PASSING_STATUSES: ReadonlySet<string> = new Set(['SUCCESS', 'COMPLIANT', 'ACCEPTABLE']);

/** A fixed-width table of checks, for failure messages. */
export function formatChecks(checks: readonly Scim2Check[]): string {
  const rows = checks.map((c) => [c.status, c.resourceType ?? '-', c.title ?? '?', (c.reason ?? '').replace(/\s+/g, ' ').slice(0, 400)]);
  const header = ['status', 'resource', 'check', 'reason'];
  const widths = [0, 1, 2].map((i) => Math.max(header[i]!.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell)).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w)).concat('------')), ...rows.map(line)].join('\n');
}

// `tsx test/support/scim2-tester.ts <dir>`: builds a virtual environment at <dir> (used by .ci/run for its cache).
if (process.argv[1] && path.resolve(process.argv[1]) === path.join(SUPPORT, 'scim2-tester.ts')) {
  const dir = process.argv[2];
  const done = dir ? buildScim2TesterVenv(path.resolve(dir)) : acquireScim2Tester({ path: process.env.SCIM2_TESTER_PATH });
  done.then(
    (python) => console.log(python),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
