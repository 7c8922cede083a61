/**
 * Federated links (issue #9): which local user a federated identity (identity provider, `iss`, `sub`) logs in as.
 * The unique constraint on (idp, issuer, subject) is what makes one identity one link, even when two logins race to
 * record it: the loser reads the winner's row. Used by the JIT activities (activities/jit.ts) and the admin API
 * (src/http/admin/federation.ts).
 */
import type { PrismaClient } from '../db/client.js';
import { isUniqueViolation } from '../db/errors.js';

export type LinkedBy = 'jit' | 'email' | 'prompt' | 'admin';

export interface FederatedLinkRecord {
  id: string;
  userId: string;
  idpId: string;
  issuer: string;
  subject: string;
  linkedBy: string;
  /** Local groups this IdP's group claim put the user in (authoritative sync removes them when no longer asserted). */
  assertedGroupIds: string[];
  created: string;
  lastLoginAt: string | null;
}

type Row = Awaited<ReturnType<PrismaClient['federatedLink']['findUniqueOrThrow']>>;

function record(row: Row): FederatedLinkRecord {
  return {
    id: row.id,
    userId: row.userId,
    idpId: row.idpId,
    issuer: row.issuer,
    subject: row.subject,
    linkedBy: row.linkedBy,
    assertedGroupIds: row.assertedGroupIds,
    created: row.createdAt.toISOString(),
    lastLoginAt: row.lastLoginAt?.toISOString() ?? null,
  };
}

/** The link of a federated identity, if any. */
export async function findLink(db: PrismaClient, idpId: string, issuer: string, subject: string): Promise<FederatedLinkRecord | undefined> {
  const row = await db.federatedLink.findUnique({ where: { idpId_issuer_subject: { idpId, issuer, subject } } });
  return row ? record(row) : undefined;
}

/**
 * Records a link, or answers the one that exists for that identity (a repeated activity, or a racing login): the
 * caller compares `userId` and refuses a login whose identity is linked to someone else.
 */
export async function createLink(
  db: PrismaClient,
  link: { userId: string; idpId: string; issuer: string; subject: string; linkedBy: LinkedBy },
): Promise<FederatedLinkRecord> {
  try {
    return record(await db.federatedLink.create({ data: link }));
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    const existing = await findLink(db, link.idpId, link.issuer, link.subject);
    if (!existing) throw err;
    return existing;
  }
}

/** A user's links, oldest first, with the identity provider's name for the admin view. */
export async function listLinks(db: PrismaClient, userId: string): Promise<Array<FederatedLinkRecord & { identityProvider: string }>> {
  const rows = await db.federatedLink.findMany({ where: { userId }, include: { idp: { select: { name: true } } }, orderBy: { createdAt: 'asc' } });
  return rows.map((r) => ({ ...record(r), identityProvider: r.idp.name }));
}

/** Removes one of a user's links; false when the user has no such link. The next login of that identity is a first one. */
export async function deleteLink(db: PrismaClient, userId: string, linkId: string): Promise<boolean> {
  const { count } = await db.federatedLink.deleteMany({ where: { id: linkId, userId } });
  return count > 0;
}

/** Removes a link by id (a login that failed closed after it linked an existing user). */
export async function deleteLinkById(db: PrismaClient, linkId: string): Promise<void> {
  await db.federatedLink.deleteMany({ where: { id: linkId } });
}

/** Records a login through the link. */
export async function touchLink(db: PrismaClient, linkId: string, at: Date): Promise<void> {
  await db.federatedLink.updateMany({ where: { id: linkId }, data: { lastLoginAt: at } });
}

/** Replaces the groups this IdP is known to have given the user. */
export async function setAssertedGroupIds(db: PrismaClient, linkId: string, groupIds: readonly string[]): Promise<void> {
  await db.federatedLink.updateMany({ where: { id: linkId }, data: { assertedGroupIds: [...groupIds] } });
}
