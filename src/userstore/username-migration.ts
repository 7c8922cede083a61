/**
 * The data migration that gives every stored user the key of the current userName profile
 * (src/userstore/username.ts, USERNAME_PROFILE_VERSION): SQL cannot compute RFC 8265 keys, so this runs in
 * TypeScript after the SQL migrations (src/db/data-migrations.ts), once per profile version.
 *
 * Users are taken in batches, oldest first (created_at, id), each batch in a transaction. Per user:
 * - its key is already right: nothing (every ASCII name keyed by the old toLowerCase());
 * - the key is free: the user gets it;
 * - an older user of the domain holds it: this user is a twin (`Café` NFC and NFD, `straße` and `strasse`). It keeps
 *   its id and its name but gets a placeholder key (src/userstore/username-conflicts.ts), a conflict row and a log
 *   line. It is never deleted or renamed here: an operator decides, by renaming or deleting one of the two;
 * - a younger user holds it (with an old key that happens to equal it): the younger one gives it up for a
 *   placeholder and is decided when its own turn comes;
 * - the name breaks the profile (a zero width space): placeholder, conflict row (`invalid`), log line.
 * It never fails because of the data; it is safe to run again (each decision is recomputed, the same way) and two
 * processes running it at once serialize on an advisory lock per batch.
 */
import type { PrismaClient } from '../db/client.js';
import { Prisma } from '../generated/prisma/client.js';
import type { Logger } from '../log.js';
import { qualifiedUserName } from '../scim/user-resource.js';
import { checkUserName, USERNAME_PROFILE_VERSION } from './username.js';
import { placeholderKey } from './username-conflicts.js';

export const USERNAME_MIGRATION_NAME = `username-key-v${USERNAME_PROFILE_VERSION}`;

/** Any constant: the advisory lock that serializes the batches of concurrent runs. */
const LOCK_KEY = 8265;

export interface UserNameMigrationSummary {
  [key: string]: number;
  checked: number;
  rekeyed: number;
  duplicates: number;
  invalid: number;
}

interface Row {
  id: string;
  domain_id: string;
  domain: string;
  user_name: string;
  user_name_normalized: string;
  created_at: Date;
}

const before = (a: { created_at: Date; id: string }, b: { created_at: Date; id: string }) =>
  a.created_at.getTime() < b.created_at.getTime() || (a.created_at.getTime() === b.created_at.getTime() && a.id < b.id);

/** Recomputes every user's key; see the module comment. */
export async function migrateUserNameKeys(db: PrismaClient, log: Logger, opts: { batchSize?: number } = {}): Promise<UserNameMigrationSummary> {
  const batchSize = opts.batchSize ?? 500;
  const summary: UserNameMigrationSummary = { checked: 0, rekeyed: 0, duplicates: 0, invalid: 0 };
  let after: Row | undefined;
  // Younger users that gave up their old key to an older twin in this run (their row in a batch already read is stale).
  const evicted = new Set<string>();
  for (;;) {
    const rows = await db.$transaction(
      async (tx) => {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(${LOCK_KEY}::bigint)`;
        const batch = await tx.$queryRaw<Row[]>`
          SELECT u.id, u.domain_id, d.name AS domain, u.user_name, u.user_name_normalized, u.created_at
          FROM scim_user u JOIN user_store_domain d ON d.id = u.domain_id
          WHERE ${after ? Prisma.sql`(u.created_at, u.id) > ((${after.created_at.toISOString()}::timestamptz AT TIME ZONE 'UTC'), ${after.id}::uuid)` : Prisma.sql`TRUE`}
          ORDER BY u.created_at, u.id LIMIT ${batchSize}`;
        if (batch.length === 0) return batch;
        // Decided again below, by this version of the profile.
        await tx.userNameConflict.deleteMany({ where: { userId: { in: batch.map((u) => u.id) } } });
        for (const u of batch) await migrateOne(tx, u, log, summary, evicted);
        return batch;
      },
      { timeout: 120_000, maxWait: 60_000 },
    );
    if (rows.length === 0) break;
    summary.checked += rows.length;
    after = rows[rows.length - 1];
  }
  if (summary.checked > 0) log.info('userName keys checked', { migration: USERNAME_MIGRATION_NAME, ...summary });
  return summary;
}

async function setKey(tx: Prisma.TransactionClient, id: string, key: string): Promise<void> {
  // Raw SQL: the resource did not change (same userName, same version), so updated_at stays.
  await tx.$executeRaw`UPDATE scim_user SET user_name_normalized = ${key} WHERE id = ${id}::uuid`;
}

async function migrateOne(tx: Prisma.TransactionClient, row: Row, log: Logger, summary: UserNameMigrationSummary, evicted: Set<string>): Promise<void> {
  const u = evicted.has(row.id) ? { ...row, user_name_normalized: placeholderKey(row.id) } : row;
  const name = qualifiedUserName(u.domain, u.user_name);
  const enforced = checkUserName(u.user_name);
  if (!enforced.ok) {
    summary.invalid += 1;
    await setKey(tx, u.id, placeholderKey(u.id));
    const detail = `${enforced.error.message}; rename the user to resolve`;
    await tx.userNameConflict.create({ data: { userId: u.id, domainId: u.domain_id, reason: 'invalid', detail, profileVersion: USERNAME_PROFILE_VERSION } });
    log.warn('userName conflict: the name breaks the userName profile; the user is found by id only until renamed', {
      userId: u.id,
      userName: name,
      rule: enforced.error.rule,
      detail: enforced.error.message,
    });
    return;
  }
  const key = enforced.key;
  if (key === u.user_name_normalized) return;
  const holders = await tx.$queryRaw<{ id: string; user_name: string; created_at: Date }[]>`
    SELECT id, user_name, created_at FROM scim_user WHERE domain_id = ${u.domain_id}::uuid AND user_name_normalized = ${key} AND id <> ${u.id}::uuid`;
  const holder = holders[0];
  if (holder && before(holder, u)) {
    summary.duplicates += 1;
    if (u.user_name_normalized !== placeholderKey(u.id)) await setKey(tx, u.id, placeholderKey(u.id));
    const detail = `userName '${name}' is the same name as '${qualifiedUserName(u.domain, holder.user_name)}' (user ${holder.id}, older) under RFC 8265; rename or delete one of them to resolve`;
    await tx.userNameConflict.create({
      data: { userId: u.id, domainId: u.domain_id, reason: 'duplicate', wantedKey: key, detail, profileVersion: USERNAME_PROFILE_VERSION },
    });
    log.warn('userName conflict: two users of one domain have the same name under RFC 8265; the younger is found by id only until one is renamed or deleted', {
      userId: u.id,
      userName: name,
      keptUserId: holder.id,
      keptUserName: qualifiedUserName(u.domain, holder.user_name),
    });
    return;
  }
  // A younger holder kept the key from the old keying: it waits until its own turn in this run.
  if (holder) {
    await setKey(tx, holder.id, placeholderKey(holder.id));
    evicted.add(holder.id);
  }
  await setKey(tx, u.id, key);
  summary.rekeyed += 1;
}
