/**
 * A third-party SCIM 2.0 server as an outbound target: scim2-server (PyPI, https://scim2-server.readthedocs.io,
 * the python-scim project of Yaal Coop, authors of scim2-tester), whose `scim2-server` command serves the resources of
 * RFC 7643 from memory under /v2. Nobody here wrote it; test/outbound-third-party-scim.test.ts provisions to it.
 *
 * Its Python environment is acquired by test/support/python-tool.ts (SCIM2_SERVER_PATH, else .tools/, else built once).
 *
 * Authentication: the command accepts every request unless started with `--bearer-token TOKEN` (then only that
 * token, RFC 6750); it has no HTTP Basic. Our scim2 connector speaks Basic or nothing, so the test starts it open.
 */
import path from 'node:path';
import { startChild, type ManagedChild } from '../../src/process/child.js';
import { PROJECT_ROOT } from '../../src/temporal/cli-binary.js';
import { acquirePythonTool, buildPythonToolVenv, pythonToolMain, stderrLog, type Log, type PythonTool } from './python-tool.js';
import { freePort } from './ports.js';

export const SCIM2_SERVER_VERSION = '0.8.3';
const SUPPORT = path.join(PROJECT_ROOT, 'test', 'support');
export const SCIM2_SERVER_REQUIREMENTS = path.join(SUPPORT, 'scim2-server-requirements.txt');
/** scim2-server as a pinned Python tool (test/support/python-tool.ts). */
export const SCIM2_SERVER: PythonTool = {
  name: 'scim2-server',
  version: SCIM2_SERVER_VERSION,
  requirements: SCIM2_SERVER_REQUIREMENTS,
  envVar: 'SCIM2_SERVER_PATH',
  probe: 'import importlib.metadata, scim2_server.testserver.cli; print(importlib.metadata.version("scim2-server"))',
};

/** Builds a virtual environment at `dir` with the pinned requirements (.ci/run, for its cache). */
export function buildScim2ServerVenv(dir: string, log: Log = stderrLog): Promise<string> {
  return buildPythonToolVenv(SCIM2_SERVER, dir, log);
}

/** The python of a virtual environment where the pinned scim2-server runs, building the local one if needed. */
export function acquireScim2Server(opts: { path?: string | undefined; log?: Log } = {}): Promise<string> {
  return acquirePythonTool(SCIM2_SERVER, opts);
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
if (process.argv[1] && path.resolve(process.argv[1]) === path.join(SUPPORT, 'third-party-scim.ts')) pythonToolMain(SCIM2_SERVER, process.argv);
