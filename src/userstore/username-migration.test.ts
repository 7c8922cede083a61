// The userName data migration on an embedded PGlite, one user per batch so every decision crosses a batch
// boundary: the oldest twin keeps the name (even when a younger one holds it under the old keying), the others
// wait with a placeholder, and running it again changes nothing.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type PrismaClient } from '../db/client.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../db/embedded-postgres.js';
import { applyMigrations } from '../db/schema-engine.js';
import type { Logger } from '../log.js';
import { placeholderKey } from './username-conflicts.js';
import { migrateUserNameKeys } from './username-migration.js';

const migrationsDir = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));
const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

let scratch: string;
let server: EmbeddedPostgres;
let db: PrismaClient;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'username-migration-'));
  server = await startEmbeddedPostgres({ dataDir: join(scratch, 'pglite'), port: 0 });
  await applyMigrations({ databaseUrl: server.url, migrationsDir, log: quiet });
  db = createPrismaClient(server.url, { poolSize: 1 });
}, 60_000);

afterAll(async () => {
  await db?.$disconnect();
  await server?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('migrateUserNameKeys', () => {
  it('keys the oldest twin, parks the others, and is idempotent', async () => {
    const primary = await db.userStoreDomain.upsert({ where: { name: 'PRIMARY' }, create: { name: 'PRIMARY' }, update: {} });
    const other = await db.userStoreDomain.create({ data: { name: 'OTHER' } });
    const users: [string, string, string, string][] = [
      // id, domain, userName, created_at: the old keying was lower(userName)
      ['00000000-0000-4000-8000-000000000001', primary.id, 'ＫＡＴＥ', '2020-01-01T00:00:01Z'],
      ['00000000-0000-4000-8000-000000000002', primary.id, 'Kate', '2020-01-01T00:00:02Z'],
      ['00000000-0000-4000-8000-000000000003', primary.id, 'Groß', '2020-01-01T00:00:03Z'],
      ['00000000-0000-4000-8000-000000000004', primary.id, 'GROSS', '2020-01-01T00:00:04Z'], // holds 'gross' under the old keying
      ['00000000-0000-4000-8000-000000000005', primary.id, 'gross', '2020-01-01T00:00:04Z'], // same instant: the id decides
      ['00000000-0000-4000-8000-000000000006', other.id, 'kate', '2020-01-01T00:00:05Z'], // another domain: no twin
      ['00000000-0000-4000-8000-000000000007', primary.id, 'bad\u0007name', '2020-01-01T00:00:06Z'],
    ];
    // GROSS and gross share lower() too, which the unique index forbids: the second is seeded with another old key.
    for (const [id, domainId, userName, createdAt] of users) {
      const oldKey = id.endsWith('5') ? `legacy-${id}` : userName.toLowerCase();
      await db.$executeRaw`INSERT INTO scim_user (id, domain_id, user_name, user_name_normalized, created_at, updated_at)
        VALUES (${id}::uuid, ${domainId}::uuid, ${userName}, ${oldKey}, ${createdAt}::timestamptz AT TIME ZONE 'UTC', now())`;
    }

    const first = await migrateUserNameKeys(db, quiet, { batchSize: 1 });
    expect(first).toEqual({ checked: 7, rekeyed: 2, duplicates: 3, invalid: 1 });
    const keys = async () =>
      Object.fromEntries((await db.user.findMany({ select: { id: true, userNameNormalized: true } })).map((u) => [u.id.slice(-1), u.userNameNormalized]));
    const after = await keys();
    expect(after).toEqual({
      '1': 'kate',
      '2': placeholderKey('00000000-0000-4000-8000-000000000002'),
      '3': 'gross',
      '4': placeholderKey('00000000-0000-4000-8000-000000000004'),
      '5': placeholderKey('00000000-0000-4000-8000-000000000005'),
      '6': 'kate',
      '7': placeholderKey('00000000-0000-4000-8000-000000000007'),
    });
    const conflicts = await db.userNameConflict.findMany({ orderBy: { userId: 'asc' } });
    expect(conflicts.map((c) => [c.userId.slice(-1), c.reason, c.wantedKey])).toEqual([
      ['2', 'duplicate', 'kate'],
      ['4', 'duplicate', 'gross'],
      ['5', 'duplicate', 'gross'],
      ['7', 'invalid', null],
    ]);
    expect(conflicts[3]!.detail).toContain('U+0007, a control character');

    const second = await migrateUserNameKeys(db, quiet, { batchSize: 3 });
    expect(second).toEqual({ checked: 7, rekeyed: 0, duplicates: 3, invalid: 1 });
    expect(await keys()).toEqual(after);
    expect(await db.userNameConflict.count()).toBe(4);
  });
});
