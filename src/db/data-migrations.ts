/**
 * Data migrations: steps in TypeScript that run after the SQL migrations (prisma/migrations), for changes SQL
 * cannot compute, such as the RFC 8265 key of every userName (src/userstore/username-migration.ts).
 * src/db/schema-engine.ts's applyMigrations runs them, so they run wherever migrations are applied: `npm start`
 * (src/launcher.ts), `npm run db:migrate` (prisma/migrate.ts) and the tests (test/harness.ts).
 *
 * Each step runs once per database: the `data_migration` table records it by name (a step whose logic changes
 * gets a new name, e.g. the profile version in `username-key-v1`). A step must be safe to run again after a crash
 * midway (it is then run again from the start) and safe to run from two processes at once.
 */
import type { Logger } from '../log.js';
import { migrateUserNameKeys, USERNAME_MIGRATION_NAME } from '../userstore/username-migration.js';
import { createPrismaClient, type PrismaClient } from './client.js';

export interface DataMigrationStep {
  name: string;
  /** Does the work; returns a summary for the ledger and the log (counts). */
  run(db: PrismaClient, log: Logger): Promise<Record<string, number>>;
}

/** Every data migration, in the order they run. */
export const DATA_MIGRATIONS: readonly DataMigrationStep[] = [{ name: USERNAME_MIGRATION_NAME, run: (db, log) => migrateUserNameKeys(db, log) }];

/** Runs the data migrations the database has not recorded yet; returns their names. */
export async function applyDataMigrations(databaseUrl: string, log: Logger, steps: readonly DataMigrationStep[] = DATA_MIGRATIONS): Promise<string[]> {
  const db = createPrismaClient(databaseUrl, { poolSize: 2 });
  try {
    const done = new Set((await db.dataMigration.findMany({ select: { name: true } })).map((m) => m.name));
    const applied: string[] = [];
    for (const step of steps) {
      if (done.has(step.name)) continue;
      const summary = await step.run(db, log);
      // Two processes may both have run it; the first record stands.
      await db.dataMigration.upsert({ where: { name: step.name }, create: { name: step.name, summary }, update: {} });
      applied.push(step.name);
    }
    return applied;
  } finally {
    await db.$disconnect();
  }
}
