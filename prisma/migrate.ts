// Database migrations without Prisma's native schema engine (which cannot be downloaded on the project's
// machines; see src/db/schema-engine.ts for why and how).
//
//   npm run db:migrate                      (tsx prisma/migrate.ts deploy)
//     Applies prisma/migrations to DATABASE_URL, like `prisma migrate deploy`. Without DATABASE_URL it applies
//     them to the embedded PGlite in ${DATA_DIR:-.data}/pglite (the database `npm start` uses without
//     DATABASE_URL), started on a free loopback port for the duration. Stop `npm start` first: one PGlite data
//     directory can only be open in one process (a lock file enforces it).
//
//   npm run db:migration:create -- <name>   (tsx prisma/migrate.ts create <name>)
//     Writes prisma/migrations/<timestamp>_<name>/migration.sql with the SQL that takes the existing migrations to
//     prisma/schema.prisma (like `prisma migrate dev --create-only`), or says there is nothing to do.
//     Without DATABASE_URL the work happens in a throwaway PGlite in a temporary directory, so the developer's
//     data is never touched: the existing migrations are replayed there, the difference to the schema is taken,
//     and then every migration, the new one included, is applied to the emptied throwaway database as a check.
//     With DATABASE_URL the migrations are replayed in a temporary shadow database created (and dropped) on that
//     server, which needs the CREATEDB privilege; DATABASE_URL's own database is not changed.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { ConfigError, loadConfig } from '../src/config.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../src/db/embedded-postgres.js';
import { applyMigrations, createMigration } from '../src/db/schema-engine.js';

const prismaDir = dirname(fileURLToPath(import.meta.url));
const migrationsDir = join(prismaDir, 'migrations');
const schemaPath = join(prismaDir, 'schema.prisma');
const usage = 'usage: tsx prisma/migrate.ts deploy | create <name>';

// DATABASE_URL and DATA_DIR, validated like every other setting (src/config.ts).
const config = (() => {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
})();

function show(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

/** DATABASE_URL, or the embedded PGlite of the given data directory for the duration of `run`. */
async function withDatabase<T>(
  dataDir: string,
  run: (url: string, embedded: EmbeddedPostgres | null) => Promise<T>,
): Promise<T> {
  const databaseUrl = config.database.url;
  if (databaseUrl) return run(databaseUrl, null);
  const embedded = await startEmbeddedPostgres({ dataDir, port: 0 });
  try {
    return await run(embedded.url, embedded);
  } finally {
    await embedded.stop();
  }
}

async function deploy(): Promise<void> {
  const dataDir = resolve(config.dataDir, 'pglite');
  await withDatabase(dataDir, async (url, embedded) => {
    console.log(embedded ? `Embedded PGlite: ${show(dataDir)}` : 'Database: DATABASE_URL');
    const { applied, dataMigrations } = await applyMigrations({ databaseUrl: url, migrationsDir });
    if (applied.length === 0 && dataMigrations.length === 0) console.log('No pending migrations: the database is up to date.');
    for (const name of applied) console.log(`Applied ${name}`);
    for (const name of dataMigrations) console.log(`Applied data migration ${name}`);
  });
}

async function create(name: string): Promise<void> {
  if (config.database.url) {
    console.log('Shadow database: a temporary database on the DATABASE_URL server');
    const { directory } = await createMigration({ databaseUrl: config.database.url, schemaPath, migrationsDir, name });
    reportCreated(directory);
    return;
  }

  const scratch = await mkdtemp(join(tmpdir(), 'provisioning-migration-'));
  try {
    await withDatabase(join(scratch, 'pglite'), async (url) => {
      console.log('Shadow database: a throwaway PGlite in a temporary directory');
      const { directory } = await createMigration({ databaseUrl: url, schemaPath, migrationsDir, name });
      reportCreated(directory);
      if (directory === null) return;
      // Check the whole history, the new migration included, on an empty database. (The replay above left the
      // previous migrations' objects in this throwaway database, without _prisma_migrations rows.)
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
      } finally {
        await client.end();
      }
      const { applied } = await applyMigrations({ databaseUrl: url, migrationsDir });
      console.log(`Checked: all ${applied.length} migrations apply cleanly to an empty database.`);
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function reportCreated(directory: string | null): void {
  if (directory === null) {
    console.log('No changes: prisma/schema.prisma matches the migrations. Nothing created.');
  } else {
    console.log(`Created ${show(join(directory, 'migration.sql'))}`);
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === 'deploy' && rest.length === 0) return deploy();
  if (command === 'create' && rest.length === 1 && rest[0]) return create(rest[0]);
  console.error(usage);
  process.exitCode = 2;
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
