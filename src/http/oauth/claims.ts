/**
 * The OpenID Connect claims of a local user (OpenID Connect Core §5.1), by scope (§5.4), as the ID token and the
 * userinfo endpoint give them. `sub` is the user's id (stable across renames and unique across user store
 * domains); `preferred_username` is written as WSO2 writes user names: `DOMAIN/name` for a secondary user store,
 * the plain name in PRIMARY. The `groups` scope (WSO2's `groups` claim) gives the display names of the groups the
 * user is a direct member of.
 */
import type { PrismaClient } from '../../db/client.js';
import { qualifiedUserName } from '../../scim/user-resource.js';

/** The OIDC scopes an application with the authorization-code grant may ask for, beside its API scopes. */
export const OIDC_SCOPES = ['openid', 'offline_access', 'profile', 'email', 'groups'] as const;

/** Which claims each scope releases (oidc-provider's `claims` configuration). */
export const SCOPE_CLAIMS = {
  openid: ['sub'],
  profile: ['preferred_username', 'name', 'given_name', 'family_name', 'middle_name', 'nickname', 'profile', 'locale', 'zoneinfo', 'updated_at'],
  email: ['email', 'email_verified'],
  groups: ['groups'],
} as const;

export type Claims = { sub: string } & Record<string, unknown>;

/** Every claim of the user (the provider releases only those of the granted scopes); undefined for an inactive or unknown user. */
export async function userClaims(db: PrismaClient, userId: string): Promise<Claims | undefined> {
  const user = await db.user.findUnique({
    where: { id: userId },
    include: {
      domain: { select: { name: true } },
      emails: { orderBy: [{ primary: 'desc' }, { position: 'asc' }], take: 1 },
      memberships: { select: { group: { select: { displayName: true } } } },
    },
  });
  if (!user || user.active === false) return undefined;
  const email = user.emails[0]?.value;
  const name = user.displayName ?? user.nameFormatted ?? ([user.nameGivenName, user.nameFamilyName].filter(Boolean).join(' ') || undefined);
  const claims: Claims = {
    sub: user.id,
    preferred_username: qualifiedUserName(user.domain.name, user.userName),
    name,
    given_name: user.nameGivenName ?? undefined,
    family_name: user.nameFamilyName ?? undefined,
    middle_name: user.nameMiddleName ?? undefined,
    nickname: user.nickName ?? undefined,
    profile: user.profileUrl ?? undefined,
    locale: user.locale ?? user.preferredLanguage ?? undefined,
    zoneinfo: user.timezone ?? undefined,
    updated_at: Math.floor(user.updatedAt.getTime() / 1000),
    groups: user.memberships.map((m) => m.group.displayName).sort(),
  };
  if (email !== undefined) {
    claims.email = email;
    claims.email_verified = user.emailVerified;
  }
  return Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined)) as Claims;
}
