/**
 * Consent remembered across sessions (table `oauth_consent`), as WSO2 remembers it: what a user allowed an
 * application on the consent page stands until an operator revokes it (admin API, src/http/admin/consents.ts) or the
 * user or the application is deleted. oidc-provider keeps consent in a grant found through the browser's session;
 * a new session makes its grant from this row (src/http/oauth/provider.ts loadExistingGrant), so a person is asked
 * again only for what they have not allowed yet.
 */
import type { PrismaClient } from '../../db/client.js';

export interface RememberedConsent {
  scopes: string[];
  claims: string[];
}

const union = (a: readonly string[], b: readonly string[]) => [...new Set([...a, ...b])];

/** Adds what the user just allowed to what they allowed this application before. */
export async function rememberConsent(db: PrismaClient, userId: string, clientId: string, allowed: RememberedConsent): Promise<void> {
  const app = await db.application.findUnique({ where: { clientId }, select: { id: true } });
  const user = await db.user.findUnique({ where: { id: userId }, select: { id: true } });
  if (!app || !user) return;
  await db.$transaction(async (tx) => {
    const current = await tx.oAuthConsent.findUnique({ where: { userId_applicationId: { userId, applicationId: app.id } } });
    const next = { scopes: union(current?.scopes ?? [], allowed.scopes), claims: union(current?.claims ?? [], allowed.claims) };
    await tx.oAuthConsent.upsert({
      where: { userId_applicationId: { userId, applicationId: app.id } },
      create: { userId, applicationId: app.id, ...next },
      update: next,
    });
  });
}

/** What the user allowed this application (by its client id), or undefined when nothing is remembered. */
export async function rememberedConsent(db: PrismaClient, userId: string, clientId: string): Promise<RememberedConsent | undefined> {
  const row = await db.oAuthConsent.findFirst({ where: { userId, application: { clientId } }, select: { scopes: true, claims: true } });
  return row ?? undefined;
}

/** A user's remembered consents, for the admin API. */
export async function listConsents(db: PrismaClient, userId: string) {
  const rows = await db.oAuthConsent.findMany({ where: { userId }, include: { application: { select: { name: true } } }, orderBy: { createdAt: 'asc' } });
  return rows.map((r) => ({
    applicationId: r.applicationId,
    application: r.application.name,
    scopes: r.scopes,
    claims: r.claims,
    created: r.createdAt.toISOString(),
    lastModified: r.updatedAt.toISOString(),
  }));
}

/** Forgets a consent: the user's next sign-in to that application asks again. False when there was none. */
export async function revokeConsent(db: PrismaClient, userId: string, applicationId: string): Promise<boolean> {
  const { count } = await db.oAuthConsent.deleteMany({ where: { userId, applicationId } });
  return count > 0;
}
