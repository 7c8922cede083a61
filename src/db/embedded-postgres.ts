// An embedded PostgreSQL for the default run: PGlite (PostgreSQL 18 compiled to WebAssembly, data in a local
// folder) served over the PostgreSQL wire protocol by @electric-sql/pglite-socket, so the application, Prisma's
// adapter-pg and the WebAssembly schema engine talk to it exactly as they talk to a real server. Production and
// CI use a real PostgreSQL through DATABASE_URL; this exists so `npm start` needs no database service.
//
// PGlite is ONE PostgreSQL session. Every socket connection shares it: the unnamed prepared statement and portal,
// transaction state, SET parameters, named prepared statements, temp tables, advisory locks. The socket server
// therefore has to give one connection exclusive use of that session for as long as the connection has
// session state "in flight", otherwise two connections corrupt each other. pglite-socket 0.2.17 gets this only
// half right (see SessionSerializingPGlite below for what it does, what goes wrong and how we fix it).
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { makePrivate } from '../runtime/data-dir.js';

export interface EmbeddedPostgresOptions {
  /** Folder of the PGlite data directory (a PostgreSQL PGDATA); created and initialised if missing. */
  dataDir: string;
  /** Interface to listen on; default 127.0.0.1. Keep it on loopback: the server performs no authentication. */
  host?: string;
  /** TCP port; 0 picks a free port (the returned url carries the real one). */
  port: number;
  /**
   * Database to serve; default "postgres". PGlite serves a single database per process and ignores the database
   * name a client sends, so a different name is created on first start and then opened instead of "postgres".
   */
  database?: string;
  /** Maximum simultaneous client connections; default 64. Connections are serialised, not parallel. */
  maxConnections?: number;
  /**
   * Called when PGlite itself fails (not an SQL error: those go back to the client). pglite-socket's query queue
   * stops processing for good after such a failure, so every later query would hang; the caller should exit.
   * Default: log to stderr.
   */
  onFatalError?: (error: unknown) => void;
}

export interface EmbeddedPostgres {
  /** postgresql:// URL for pg / Prisma, on the actual port. */
  url: string;
  host: string;
  port: number;
  database: string;
  /** Stop accepting connections, roll back any open transaction and close PGlite (its data stays on disk). */
  stop(): Promise<void>;
}

// Frontend messages of the extended query protocol that leave state behind in the session (the unnamed
// statement/portal, or a pending error that makes the backend skip everything until Sync) until the client's Sync.
const EXTENDED_PROTOCOL_MESSAGES = new Set(['P', 'B', 'D', 'E', 'C', 'H'].map((c) => c.charCodeAt(0)));
const SYNC = 'S'.charCodeAt(0);
const SYNC_MESSAGE = new Uint8Array([SYNC, 0, 0, 0, 4]);

type RawStreamOptions = Parameters<PGlite['execProtocolRawStream']>[1];

/**
 * PGlite whose isInTransaction() also reports "a connection is in the middle of an extended-protocol batch".
 *
 * How pglite-socket 0.2.17 schedules (node_modules/@electric-sql/pglite-socket/src/index.ts, QueryQueueManager):
 * it splits each connection's byte stream into protocol messages and runs them one message at a time through a
 * single global queue. While `db.isInTransaction()` is true (PostgreSQL's IsTransactionBlock(): after BEGIN,
 * including a failed transaction) it only takes messages from the connection that ran the last message, so a
 * whole BEGIN..COMMIT of one connection is never interleaved with another connection's statements: transactions
 * ARE serialised per connection. But outside BEGIN it is plain FIFO per message, and the extended protocol
 * (Parse/Bind/Describe/Execute/Sync, which pg and therefore Prisma use for every parameterised query) is not a
 * "transaction block" between Parse and Sync. Connection B's Parse can land between A's Parse and A's Bind and
 * replace the shared unnamed statement; A then binds its parameters to B's statement. Seen here: with a pg Pool
 * of 6 in another process and a 300 kB parameter (its Bind spans several TCP reads, so A's batch arrives in
 * pieces), 3-5 of 120 queries silently ran the other connection's SQL with their own parameters (wrong rows, no
 * error); a deterministic repro is in schema-engine.test.ts. Upstream: electric-sql/pglite#1046 (open), PR #977. Errors are worse: after an error the backend ignores every message until a Sync, including other
 * connections' messages.
 *
 * The fix: report "in transaction" from the first extended-protocol message until the Sync that ends the batch.
 * The queue's own affinity rule then keeps the whole batch on one connection, exactly as it already does for
 * BEGIN..COMMIT. Consequences, both intended: a pg cursor (Execute with a row limit + Flush) holds the session
 * until its Sync, and an idle-in-transaction connection makes every other connection wait until it commits or
 * disconnects (Prisma's interactive-transaction timeout, 5 s by default, bounds that).
 *
 * When a connection disconnects while it owns the session, the queue calls `exec('ROLLBACK')`; we first send a
 * Sync so that a half-sent batch (or its pending error) cannot swallow that ROLLBACK or the next connection's
 * messages. A thrown PGlite error leaves the 0.2.17 queue stuck (its `processing` flag is never reset), so such
 * errors are reported through onFatalError.
 */
class SessionSerializingPGlite extends PGlite {
  #inExtendedBatch = false;
  #closing = false;
  #onFatalError: (error: unknown) => void;

  constructor(options: PGliteOptions, onFatalError: (error: unknown) => void) {
    // pg_trgm serves SCIM `co`/`sw`/`ew` filters from GIN indexes, as on a real PostgreSQL server.
    super({ ...options, extensions: { ...options.extensions, pg_trgm } });
    this.#onFatalError = onFatalError;
  }

  override isInTransaction(): boolean {
    return this.#inExtendedBatch || super.isInTransaction();
  }

  override async execProtocolRawStream(message: Uint8Array, options: RawStreamOptions): Promise<void> {
    const type = message[0];
    try {
      await super.execProtocolRawStream(message, options);
    } catch (error) {
      if (!this.#closing) this.#onFatalError(error);
      throw error;
    }
    if (type === SYNC) this.#inExtendedBatch = false;
    else if (type !== undefined && EXTENDED_PROTOCOL_MESSAGES.has(type)) this.#inExtendedBatch = true;
  }

  override async exec(query: string, options?: Parameters<PGlite['exec']>[1]): ReturnType<PGlite['exec']> {
    // Only pglite-socket's disconnect clean-up ('ROLLBACK') reaches this once the server runs.
    if (this.#closing) return [];
    if (this.#inExtendedBatch) {
      await this.runExclusive(() => this.execProtocolRaw(SYNC_MESSAGE));
      this.#inExtendedBatch = false;
    }
    return super.exec(query, options);
  }

  markClosing(): void {
    this.#closing = true;
  }
}

/**
 * A lock file next to the data directory. Two processes opening the same PGlite data directory corrupt it, and
 * nothing in PGlite prevents it (no postmaster.pid); the likely mistake is running `npm run db:migrate` without
 * DATABASE_URL while `npm start` is running.
 */
function acquireDataDirLock(dataDir: string): () => void {
  const lockPath = `${dataDir}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    if (tryCreateLockFile(lockPath)) {
      return () => {
        try {
          unlinkSync(lockPath);
        } catch {
          // already gone
        }
      };
    }
    const pid = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
      throw new Error(`PGlite data directory ${dataDir} is in use by process ${pid} (lock file ${lockPath})`);
    }
    unlinkSync(lockPath); // stale: its process is gone
  }
  throw new Error(`could not take the lock ${lockPath}`);
}

/** Create the lock file with our pid; false if it exists already. */
function tryCreateLockFile(lockPath: string): boolean {
  let fd: number;
  try {
    fd = openSync(lockPath, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, String(process.pid));
  } finally {
    closeSync(fd);
  }
  return true;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // A killed process stays a zombie until its parent reaps it; it holds nothing any more.
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true; // no /proc (macOS, Windows): trust kill(0)
  }
}

async function openPGlite(
  dataDir: string,
  database: string,
  onFatalError: (error: unknown) => void,
): Promise<SessionSerializingPGlite> {
  if (database !== 'postgres') {
    // PGlite can only open a database that exists; create it through the always-present "postgres" database.
    const bootstrap = await PGlite.create({ dataDir });
    try {
      const existing = await bootstrap.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (existing.rows.length === 0) {
        await bootstrap.exec(`CREATE DATABASE "${database.replaceAll('"', '""')}"`);
      }
    } finally {
      await bootstrap.close();
    }
  }
  const db = new SessionSerializingPGlite({ dataDir, database }, onFatalError);
  await db.waitReady;
  // PGlite's file system sets the modes of the files it unpacks for a new database itself (0666, whatever the
  // umask), and writes pg_internal.init 0644 when it opens one; what PostgreSQL creates later honours the umask.
  makePrivate(dataDir);
  return db;
}

export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dataDir = resolve(opts.dataDir);
  const host = opts.host ?? '127.0.0.1';
  const database = opts.database ?? 'postgres';
  const onFatalError =
    opts.onFatalError ??
    ((error: unknown) => {
      console.error('embedded-postgres: PGlite failed; the server cannot continue:', error);
    });

  await mkdir(dirname(dataDir), { recursive: true });
  const releaseLock = acquireDataDirLock(dataDir);
  let db: SessionSerializingPGlite;
  try {
    await mkdir(dataDir, { recursive: true });
    db = await openPGlite(dataDir, database, onFatalError);
  } catch (error) {
    releaseLock();
    throw error;
  }

  const server = new PGLiteSocketServer({
    db,
    host,
    port: opts.port,
    // The default is 1, which makes a pg Pool's second connection fail. Several connections are safe with
    // SessionSerializingPGlite; they are served one at a time, so more connections add waiting, not throughput.
    maxConnections: opts.maxConnections ?? 64,
  });
  try {
    await server.start();
  } catch (error) {
    await db.close();
    releaseLock();
    throw error;
  }
  const port = Number(server.getServerConn().split(':').pop());

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      db.markClosing();
      try {
        // Closes every client socket and the listener. Its per-connection clean-up runs asynchronously; let it
        // settle before closing the database underneath it.
        await server.stop();
        await new Promise((done) => setTimeout(done, 20));
      } finally {
        // close() ends the PostgreSQL backend cleanly (shutdown checkpoint), so the data directory is consistent.
        await db.close();
        releaseLock();
      }
    })();
    return stopping;
  };

  return {
    url: `postgresql://postgres:postgres@${host.includes(':') ? `[${host}]` : host}:${port}/${encodeURIComponent(database)}`,
    host,
    port,
    database,
    stop,
  };
}
