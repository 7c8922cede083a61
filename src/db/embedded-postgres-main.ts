// Runs the embedded PostgreSQL (PGlite behind a wire-protocol socket) as its own process:
//
//   node --import tsx src/db/embedded-postgres-main.ts --data-dir .data/pglite --port 5433 [--host 127.0.0.1]
//     [--database postgres]
//
// Prints exactly one line `ready <url>` on stdout once it accepts connections (everything else goes to stderr),
// and shuts PGlite down cleanly on SIGINT/SIGTERM so the data directory stays consistent. Exits 1 if PGlite
// itself fails, because the socket server cannot recover from that (see embedded-postgres.ts). The data directory
// is the owner's only: umask 077 for what is created, and an existing one brought to 0700/0600.
import { parseArgs } from 'node:util';
import { makePrivate, PRIVATE_UMASK } from '../runtime/data-dir.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js';

process.umask(PRIVATE_UMASK);

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    database: { type: 'string' },
  },
  strict: true,
});

const dataDir = values['data-dir'];
const port = Number(values.port);
if (!dataDir || values.port === undefined || !Number.isInteger(port) || port < 0 || port > 65535) {
  console.error('usage: embedded-postgres-main --data-dir <dir> --port <port> [--host 127.0.0.1] [--database name]');
  process.exit(2);
}

let pg: EmbeddedPostgres;
try {
  makePrivate(dataDir);
  pg = await startEmbeddedPostgres({
    dataDir,
    port,
    ...(values.host !== undefined ? { host: values.host } : {}),
    ...(values.database !== undefined ? { database: values.database } : {}),
    onFatalError: (error) => {
      console.error('embedded-postgres: PGlite failed, exiting:', error);
      process.exit(1);
    },
  });
} catch (error) {
  console.error(`embedded-postgres: could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
process.stdout.write(`ready ${pg.url}\n`);

let signals = 0;
const shutdown = (signal: NodeJS.Signals): void => {
  signals += 1;
  if (signals > 1) {
    console.error(`embedded-postgres: second ${signal}, exiting without a clean shutdown`);
    process.exit(130);
  }
  console.error(`embedded-postgres: ${signal}, stopping`);
  pg.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error('embedded-postgres: error while stopping:', error);
      process.exit(1);
    },
  );
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
