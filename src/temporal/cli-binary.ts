/**
 * Finds the Temporal CLI (which contains the dev server), in this order:
 *   1. TEMPORAL_CLI_PATH, 2. `temporal` on PATH, 3. the project-local build in .tools/bin,
 *   4. otherwise builds that project-local copy from the Go module proxy at a pinned version.
 * (An existing server or cluster given by TEMPORAL_ADDRESS means none of this runs.)
 *
 * Why v1.5.1: from v1.6.0 the CLI's go.mod replaces its nested `cliext` module with a local path, which
 * `go install module@version` refuses, and the module proxy reachable here does not serve `cliext` on its
 * own, so no newer release can be built from module sources here. v1.5.1 embeds Temporal server 1.29.1
 * and the Web UI.
 *
 * Run directly (`npm run temporal:cli`) it prints the binary's path, building it if needed.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LOCAL_BIN = path.join(PROJECT_ROOT, '.tools', 'bin');
const LOCAL_CLI = path.join(LOCAL_BIN, 'temporal');

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function versionOf(binary: string): string | undefined {
  const r = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Returns the path of a usable Temporal CLI, building the pinned version if none is found. */
export async function acquireTemporalCli(
  opts: { cliPath?: string | undefined; log?: (line: string) => void } = {},
): Promise<string> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (opts.cliPath) {
    if (!versionOf(opts.cliPath)) throw new Error(`TEMPORAL_CLI_PATH=${opts.cliPath} is not a working temporal CLI`);
    return opts.cliPath;
  }
  const fromPath = onPath('temporal');
  if (fromPath && versionOf(fromPath)) return fromPath;
  if (fs.existsSync(LOCAL_CLI) && versionOf(LOCAL_CLI)) return LOCAL_CLI;

  const go = onPath('go');
  if (!go) {
    throw new Error(
      'No Temporal CLI found and Go is not installed to build one. Install the Temporal CLI ' +
        '(https://docs.temporal.io/cli), set TEMPORAL_CLI_PATH, or point TEMPORAL_ADDRESS at a running server.',
    );
  }
  log(`Building the Temporal CLI ${TEMPORAL_CLI_VERSION} from the Go module proxy into .tools/bin (first run only; several minutes on 2 cores)...`);
  fs.mkdirSync(LOCAL_BIN, { recursive: true });
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(go, ['install', '-v', '-trimpath', `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`], {
      env: { ...process.env, GOBIN: LOCAL_BIN, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let packages = 0;
    let lastReport = 0;
    const onLine = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        if (line.startsWith('go: downloading')) continue;
        packages += 1;
        const now = Date.now();
        if (now - lastReport > 5000) {
          lastReport = now;
          log(`  ... ${packages} packages compiled, ${Math.round((now - started) / 1000)}s (last: ${line.trim()})`);
        }
      }
    };
    child.stdout.on('data', onLine);
    child.stderr.on('data', onLine);
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`go install exited with ${code}`))));
  });
  log(`Temporal CLI built in ${Math.round((Date.now() - started) / 1000)}s: ${LOCAL_CLI}`);
  return LOCAL_CLI;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  acquireTemporalCli({ cliPath: process.env.TEMPORAL_CLI_PATH }).then(
    (p) => console.log(p),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
