/**
 * Pinned Python tools the tests run (scim2-tester, the scim2-server target), each in a virtual environment of its
 * own, found like the Temporal CLI (src/temporal/cli-binary.ts), in this order:
 *   1. an environment variable naming a virtual environment (its directory, or its python) with the tool
 *      installed (.ci/run builds one in its cache and exports it);
 *   2. the project-local one in .tools/<name>-venv, if it was built from the current requirements file;
 *   3. otherwise it builds that one: `python3 -m venv` and `pip install -r <requirements>` (every package pinned)
 *      from the configured package index, printing pip's progress. Once per machine.
 */
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/temporal/cli-binary.js';

export type Log = (line: string) => void;
export const stderrLog: Log = (line) => process.stderr.write(`${line}\n`);

export interface PythonTool {
  /** The PyPI distribution, e.g. scim2-tester. */
  name: string;
  /** The pinned version (also pinned in the requirements file). */
  version: string;
  requirements: string;
  /** The environment variable that may name a ready virtual environment. */
  envVar: string;
  /** Python that prints the installed version and fails if the tool cannot run (imports its entry points). */
  probe: string;
}

/** Written last when a venv is complete: the hash of the requirements it was built from. */
const STAMP = '.requirements.sha256';
const MIN_PYTHON: [number, number] = [3, 11];

function pythonOf(venvOrPython: string): string {
  return fs.existsSync(venvOrPython) && fs.statSync(venvOrPython).isDirectory() ? path.join(venvOrPython, 'bin', 'python') : venvOrPython;
}

function installedVersion(tool: PythonTool, python: string): string | undefined {
  const r = spawnSync(python, ['-c', tool.probe], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function requirementsHash(tool: PythonTool): string {
  return crypto.createHash('sha256').update(fs.readFileSync(tool.requirements)).digest('hex');
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

function systemPython(tool: PythonTool): string {
  for (const candidate of ['python3', 'python']) {
    const r = spawnSync(candidate, ['-c', 'import sys, venv; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' });
    if (r.status !== 0) continue;
    const [major = 0, minor = 0] = r.stdout.trim().split('.').map(Number);
    if (major > MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor >= MIN_PYTHON[1])) return candidate;
  }
  throw new Error(
    `${tool.name} needs Python ${MIN_PYTHON.join('.')}+ with the venv module (Debian: apt-get install python3-venv python3-pip). ` +
      `Or set ${tool.envVar} to a virtual environment where ${tool.name} is installed.`,
  );
}

/** Creates (or recreates) a virtual environment at `dir` with the tool's pinned requirements. */
export async function buildPythonToolVenv(tool: PythonTool, dir: string, log: Log = stderrLog): Promise<string> {
  const started = Date.now();
  log(`Installing ${tool.name} ${tool.version} into ${path.relative(PROJECT_ROOT, dir) || dir} (once; under a minute)...`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  await run(systemPython(tool), ['-m', 'venv', dir], log, 'python3 -m venv');
  const python = path.join(dir, 'bin', 'python');
  await run(python, ['-m', 'pip', 'install', '--no-input', '-r', tool.requirements], log, 'pip install');
  const version = installedVersion(tool, python);
  if (version !== tool.version) throw new Error(`${tool.name} ${tool.version} was installed, but ${python} reports ${version ?? 'nothing'}`);
  fs.writeFileSync(path.join(dir, STAMP), requirementsHash(tool));
  log(`${tool.name} ready in ${Math.round((Date.now() - started) / 1000)}s: ${python}`);
  return python;
}

/** The python of a virtual environment where the pinned tool runs, building the project-local one if needed. */
export async function acquirePythonTool(tool: PythonTool, opts: { path?: string | undefined; log?: Log } = {}): Promise<string> {
  const log = opts.log ?? stderrLog;
  if (opts.path) {
    const python = pythonOf(opts.path);
    const version = installedVersion(tool, python);
    if (!version) throw new Error(`${tool.envVar}=${opts.path} has no working ${tool.name}`);
    if (version !== tool.version) log(`note: ${tool.envVar} has ${tool.name} ${version}; this project pins ${tool.version}`);
    return python;
  }
  const localVenv = path.join(PROJECT_ROOT, '.tools', `${tool.name}-venv`);
  const python = path.join(localVenv, 'bin', 'python');
  const stamp = path.join(localVenv, STAMP);
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === requirementsHash(tool) && installedVersion(tool, python) === tool.version) return python;
  return buildPythonToolVenv(tool, localVenv, log);
}

/**
 * `tsx test/support/<tool>.ts <dir>` builds a virtual environment at <dir> (.ci/run does, for its cache); without
 * <dir> it acquires the tool as the tests do. Call from the tool module's own main check.
 */
export function pythonToolMain(tool: PythonTool, argv: string[]): void {
  const dir = argv[2];
  const done = dir ? buildPythonToolVenv(tool, path.resolve(dir)) : acquirePythonTool(tool, { path: process.env[tool.envVar] });
  done.then(
    (python) => console.log(python),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
