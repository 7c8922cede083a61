/**
 * Starts the Temporal dev server (from the Temporal CLI) for the embedded default run and for tests:
 * SQLite persistence in the data folder (so workflows survive restarts), the Web UI on, and the project's
 * custom search attributes registered up front.
 */
import { Connection } from '@temporalio/client';
import { startChild, type ManagedChild } from '../process/child.js';
import { SEARCH_ATTRIBUTES } from './search-attributes.js';

export interface DevServerOptions {
  cliPath: string;
  /** SQLite file; omitted = in-memory (tests). A file runs with DURABLE_FAST_PRAGMAS unless `sqlitePragmas` says otherwise. */
  dbFile?: string;
  /** `--sqlite-pragma` settings for the file (default DURABLE_FAST_PRAGMAS; `{}` = SQLite's own defaults). */
  sqlitePragmas?: Readonly<Record<string, string>>;
  port: number;
  uiPort: number;
  namespace?: string;
  /** Extra namespaces to create (tests give each instance its own). */
  namespaces?: string[];
  /** Lets the Web UI decode encrypted payloads through the API's codec endpoint. */
  codecEndpoint?: string;
  /** Serve the Web UI under this path (e.g. /temporal-ui), as the api's reverse proxy does (src/http/temporal-ui.ts). */
  uiPublicPath?: string;
  output?: ((line: string) => void) | null;
  /** Environment of the server process (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Aborts the start: the server is stopped and startDevServer rejects. */
  signal?: AbortSignal;
}

export interface DevServer {
  address: string;
  uiUrl: string;
  child: ManagedChild;
  stop(): Promise<void>;
}

/**
 * The embedded default's SQLite settings: write-ahead logging with `synchronous=normal`, the setting SQLite's own
 * documentation recommends for WAL. Measured on the project's 2-core machines (trivial workflow, 16 clients), SQLite's
 * defaults (a rollback journal, `synchronous=full`: two fsyncs per commit) gave 9-27 workflows/s and these 39-74/s.
 * What they risk: a crash of any process (kill -9 of the dev server included) loses nothing committed, since the WAL
 * is written before the commit returns; a power loss or an OS crash can roll back the last transactions committed
 * since the WAL was last synced (at a checkpoint), and never corrupts the file. Those transactions are Temporal's: a
 * workflow whose change was already applied and answered could have its completion forgotten and run again (the
 * activities are idempotent), or an outbound event it signalled could be lost (the outbound reconciliation, README
 * "Reconciliation", repairs the targets' copies). `synchronous=off` (Temporal's own SDK benchmarks) would be a little
 * faster again but can corrupt the file on power loss, so it is not the default. Production runs a real Temporal cluster.
 */
export const DURABLE_FAST_PRAGMAS: Readonly<Record<string, string>> = { journal_mode: 'wal', synchronous: 'normal' };

const SA_TYPE = { KEYWORD: 'Keyword', KEYWORD_LIST: 'KeywordList' } as const;

export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(opts.port),
    '--ui-port',
    String(opts.uiPort),
    '--log-level',
    'warn',
    '--namespace',
    opts.namespace ?? 'default',
    ...(opts.namespaces ?? []).flatMap((ns) => ['--namespace', ns]),
    ...(opts.dbFile ? ['--db-filename', opts.dbFile] : []),
    ...(opts.dbFile ? Object.entries(opts.sqlitePragmas ?? DURABLE_FAST_PRAGMAS).flatMap(([k, v]) => ['--sqlite-pragma', `${k}=${v}`]) : []),
    ...(opts.codecEndpoint ? ['--ui-codec-endpoint', opts.codecEndpoint] : []),
    ...(opts.uiPublicPath ? ['--ui-public-path', opts.uiPublicPath] : []),
    ...SEARCH_ATTRIBUTES.flatMap((k) => ['--search-attribute', `${k.name}=${SA_TYPE[k.type]}`]),
  ];
  const address = `127.0.0.1:${opts.port}`;
  // The dev server prints no reliable "ready" line; readiness is polled over gRPC below.
  const child = startChild({
    name: 'temporal',
    command: opts.cliPath,
    args,
    ready: /(?!)/, // never matches
    output: opts.output,
    ...(opts.env && { env: opts.env }),
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const exited = await Promise.race([child.exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 250))]);
    if (exited) throw new Error('the Temporal dev server exited during start-up (is the port in use?)');
    if (opts.signal?.aborted) {
      await child.stop();
      throw new Error('the Temporal dev server start was cancelled');
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.describeNamespace({ namespace: opts.namespace ?? 'default' });
        break;
      } finally {
        await connection.close();
      }
    } catch (err) {
      if (Date.now() > deadline) {
        await child.stop('SIGKILL');
        throw new Error(`the Temporal dev server did not become ready: ${String(err)}`, { cause: err });
      }
    }
  }
  return {
    address,
    uiUrl: `http://localhost:${opts.uiPort}`,
    child,
    stop: () => child.stop('SIGTERM', 15_000),
  };
}
