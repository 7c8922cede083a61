/**
 * Users whose userName has no key of its own (prisma/schema.prisma UserNameConflict): the data migration
 * (src/userstore/username-migration.ts) found an older user of the same domain with the same RFC 8265 form, or a
 * name the profile refuses. Such a user keeps its id and its userName, but its key is a placeholder that no name
 * enforces to, so nothing finds it by name (uniqueness, filters, the password grant), until it resolves:
 *
 * - it is renamed (PUT or PATCH): it gets its new name's key and the conflict row goes;
 * - it is deleted: the row goes with it (ON DELETE CASCADE);
 * - its older twin is renamed or deleted: the oldest user waiting for the key the twin held gets it.
 *
 * A waiting user stays writable without a rename: a change that keeps its name keeps its placeholder.
 */
import type { PrismaClient } from '../db/client.js';
import type { Prisma } from '../generated/prisma/client.js';
import { checkUserName } from './username.js';

type Tx = Prisma.TransactionClient;

/**
 * Keys of waiting users: U+0001 and the user's id. Unique (ids are), never the key of a name (the profile refuses
 * control characters, and every key it gives is the key of its own key) and never a filter value's mapping either
 * (src/userstore/filter-sql.ts leaves them out of substring and ordering comparisons).
 */
const PLACEHOLDER_PREFIX = '\u0001';

export function placeholderKey(userId: string): string {
  return `${PLACEHOLDER_PREFIX}${userId}`;
}

export function isPlaceholderKey(key: string): boolean {
  return key.startsWith(PLACEHOLDER_PREFIX);
}

/** The LIKE pattern of every placeholder (the prefix has no LIKE metacharacter). */
export const PLACEHOLDER_PATTERN = `${PLACEHOLDER_PREFIX}%`;

export type KeyForUpdate = { key: string } | { taken: true } | { invalid: string };

/**
 * The key a replace, patch or restore gives the locked user `userId`, currently keyed `currentKey`: its name's
 * key when no other user of the domain holds it; its placeholder when it is waiting for exactly that key (its name
 * unchanged) or, for a restore, when the stored name is one the profile refuses.
 */
export async function keyForUpdate(tx: Tx, userId: string, domainId: string, userName: string, currentKey: string): Promise<KeyForUpdate> {
  const enforced = checkUserName(userName);
  if (!enforced.ok) return isPlaceholderKey(currentKey) ? { key: currentKey } : { invalid: enforced.error.message };
  if (enforced.key === currentKey) return { key: currentKey };
  const holder = await tx.user.findFirst({ where: { domainId, userNameNormalized: enforced.key, NOT: { id: userId } }, select: { id: true } });
  if (!holder) return { key: enforced.key };
  if (isPlaceholderKey(currentKey)) {
    const waiting = await tx.userNameConflict.findUnique({ where: { userId }, select: { wantedKey: true } });
    if (waiting?.wantedKey === enforced.key) return { key: currentKey };
  }
  return { taken: true };
}

/**
 * After a user's key changed from `previousKey` to `newKey` (in the same transaction): a user with a key of its
 * own has no conflict any more, and the key it gave up goes to the oldest user waiting for it.
 */
export async function keyChanged(tx: Tx, userId: string, domainId: string, previousKey: string, newKey: string): Promise<void> {
  if (previousKey === newKey) return;
  if (!isPlaceholderKey(newKey)) await tx.userNameConflict.deleteMany({ where: { userId } });
  if (!isPlaceholderKey(previousKey)) await keyFreed(tx, domainId, previousKey);
}

/**
 * A key nobody holds any more (its holder was renamed or deleted): the oldest user waiting for it gets it. Raw SQL so
 * the promoted user's updated_at stays (its resource did not change: same userName, same version), and only while it
 * still has its placeholder (a concurrent rename of it may have given it another key).
 */
export async function keyFreed(tx: Tx, domainId: string, key: string): Promise<void> {
  const waiting = await tx.$queryRaw<{ user_id: string }[]>`
    SELECT c.user_id FROM username_conflict c JOIN scim_user u ON u.id = c.user_id
    WHERE c.domain_id = ${domainId}::uuid AND c.wanted_key = ${key}
    ORDER BY u.created_at, u.id LIMIT 10`;
  for (const { user_id: userId } of waiting) {
    const promoted = await tx.$executeRaw`
      UPDATE scim_user SET user_name_normalized = ${key} WHERE id = ${userId}::uuid AND user_name_normalized = ${placeholderKey(userId)}`;
    if (promoted === 1) {
      await tx.userNameConflict.delete({ where: { userId } });
      return;
    }
  }
}

/** One entry of the conflict report (GET /api/server/v1/userstores/username-conflicts). */
export interface UserNameConflictEntry {
  userId: string;
  domain: string;
  userName: string;
  reason: 'duplicate' | 'invalid';
  /** The RFC 8265 form the user would have (duplicate). */
  wantedKey?: string;
  /** The user holding that form now (duplicate; absent when nobody does, e.g. right after the holder was deleted). */
  heldBy?: { id: string; userName: string };
  detail: string;
  profileVersion: number;
  detectedAt: string;
}

/** The conflicts still open, oldest user first; at most `limit` (the total count comes with them). */
export async function listUserNameConflicts(db: PrismaClient, limit: number): Promise<{ total: number; conflicts: UserNameConflictEntry[] }> {
  const [total, rows] = await Promise.all([
    db.userNameConflict.count(),
    db.$queryRaw<
      {
        user_id: string;
        domain: string;
        user_name: string;
        reason: string;
        wanted_key: string | null;
        holder_id: string | null;
        holder_name: string | null;
        detail: string;
        profile_version: number;
        detected_at: Date;
      }[]
    >`
      SELECT c.user_id, d.name AS domain, u.user_name, c.reason, c.wanted_key, h.id AS holder_id, h.user_name AS holder_name,
             c.detail, c.profile_version, c.detected_at
      FROM username_conflict c
      JOIN scim_user u ON u.id = c.user_id
      JOIN user_store_domain d ON d.id = c.domain_id
      LEFT JOIN scim_user h ON c.wanted_key IS NOT NULL AND h.domain_id = c.domain_id AND h.user_name_normalized = c.wanted_key
      ORDER BY u.created_at, u.id
      LIMIT ${limit}`,
  ]);
  return {
    total,
    conflicts: rows.map((r) => ({
      userId: r.user_id,
      domain: r.domain,
      userName: r.user_name,
      reason: r.reason === 'invalid' ? 'invalid' : 'duplicate',
      ...(r.wanted_key !== null && { wantedKey: r.wanted_key }),
      ...(r.holder_id !== null && r.holder_name !== null && { heldBy: { id: r.holder_id, userName: r.holder_name } }),
      detail: r.detail,
      profileVersion: r.profile_version,
      detectedAt: r.detected_at.toISOString(),
    })),
  };
}
