// The application's Prisma client. Prisma 7's generated client (src/generated/prisma, written by
// `prisma generate` in npm's postinstall) has no query engine binary: it talks to PostgreSQL through a driver
// adapter, here @prisma/adapter-pg on a node-postgres pool.
//
// The same client serves a real PostgreSQL (DATABASE_URL) and the embedded PGlite (src/db/embedded-postgres.ts),
// which speaks the wire protocol. Two things to know about the embedded one:
// - PGlite is one database session. The socket server hands it to one connection at a time, for a whole
//   transaction (and for a whole parameterised statement), so a bigger pool adds waiting, not throughput, and an
//   interactive `$transaction` blocks every other connection until it ends. Inside a `$transaction` callback use
//   only the transaction client `tx`: a query on the outer client would wait for the transaction, which waits
//   for it, until Prisma's transaction timeout (5 s by default) rolls the transaction back.
// - Do not configure adapter-pg's `statementNameGenerator` (named prepared statements): names are per connection
//   on a real server but would collide in PGlite's single shared session.
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';

export { PrismaClient, Prisma } from '../generated/prisma/client.js';

export interface PrismaClientOptions {
  /** Maximum connections of the pg pool (node-postgres default: 10). */
  poolSize?: number;
  /**
   * How long a query waits for a free connection (or for a new one to open) before it fails (DATABASE_POOL_TIMEOUT_MS);
   * node-postgres' default is to wait without end. The api answers that failure 503 + Retry-After (src/http/saturation.ts).
   */
  connectionTimeoutMs?: number;
}

export function createPrismaClient(databaseUrl: string, opts: PrismaClientOptions = {}): PrismaClient {
  const adapter = new PrismaPg(
    {
      connectionString: databaseUrl,
      ...(opts.poolSize !== undefined ? { max: opts.poolSize } : {}),
      ...(opts.connectionTimeoutMs !== undefined ? { connectionTimeoutMillis: opts.connectionTimeoutMs } : {}),
    },
    {
      onPoolError: (error) => {
        // An idle pooled connection failed (server restart, network). adapter-pg already keeps this from
        // crashing the process and the pool opens a new connection on demand; log it so it is not invisible.
        console.error('database: idle connection error:', error.message);
      },
    },
  );
  return new PrismaClient({ adapter });
}
