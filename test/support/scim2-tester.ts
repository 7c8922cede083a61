/**
 * scim2-tester (PyPI, https://scim2-tester.readthedocs.io): a third-party checker of SCIM 2.0 servers against
 * RFC 7643/7644, run against a started instance by test/scim2-tester.test.ts.
 *
 * Its Python environment is acquired by test/support/python-tool.ts (SCIM2_TESTER_PATH, else .tools/, else built once).
 *
 * The checks run in test/support/scim2_tester_run.py, which writes every check result as JSON.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/temporal/cli-binary.js';
import { acquirePythonTool, buildPythonToolVenv, pythonToolMain, stderrLog, type Log, type PythonTool } from './python-tool.js';

export const SCIM2_TESTER_VERSION = '0.5.2';
const SUPPORT = path.join(PROJECT_ROOT, 'test', 'support');
export const SCIM2_TESTER_REQUIREMENTS = path.join(SUPPORT, 'scim2-tester-requirements.txt');
const RUNNER = path.join(SUPPORT, 'scim2_tester_run.py');
/** scim2-tester as a pinned Python tool (test/support/python-tool.ts). */
export const SCIM2_TESTER: PythonTool = {
  name: 'scim2-tester',
  version: SCIM2_TESTER_VERSION,
  requirements: SCIM2_TESTER_REQUIREMENTS,
  envVar: 'SCIM2_TESTER_PATH',
  probe: 'import importlib.metadata, scim2_tester, scim2_client.engines.httpx2; print(importlib.metadata.version("scim2-tester"))',
};

/** Builds a virtual environment at `dir` with the pinned requirements (.ci/run, for its cache). */
export function buildScim2TesterVenv(dir: string, log: Log = stderrLog): Promise<string> {
  return buildPythonToolVenv(SCIM2_TESTER, dir, log);
}

/** The python of a virtual environment where the pinned scim2-tester runs, building the local one if needed. */
export function acquireScim2Tester(opts: { path?: string | undefined; log?: Log } = {}): Promise<string> {
  return acquirePythonTool(SCIM2_TESTER, opts);
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
if (process.argv[1] && path.resolve(process.argv[1]) === path.join(SUPPORT, 'scim2-tester.ts')) pythonToolMain(SCIM2_TESTER, process.argv);
