/**
 * What a user may do right now, read in one statement: whether the account is active, its user store domain,
 * when its password last changed, and the API scopes its roles permit (roles assigned to it, and roles of the
 * groups it is a direct member of). The token check (src/http/auth.ts) runs it on every request authenticated
 * with a password-grant token, so a role removal, a deactivation or a password change applies at once; the
 * password grant (src/http/oauth/grants.ts) runs it to decide a new token's scopes.
 */
import { PRIMARY_DOMAIN } from '../scim/user-resource.js';
import type { RawQueryClient } from './query.js';
import { isUuid } from './users.js';

export interface UserAccess {
  /** Null when unassigned (a PATCH removed it): only `false` locks the account. */
  active: boolean | null;
  domain: string;
  /** Milliseconds since the epoch; null when the password never changed after the account was created. */
  passwordChangedAt: number | null;
  /** API scopes the user's roles permit, without those every user has (EVERYONE_SCOPES). */
  permissions: string[];
}

/** The user's access, or undefined when there is no such user. */
export async function userAccess(db: RawQueryClient, userId: string): Promise<UserAccess | undefined> {
  if (!isUuid(userId)) return undefined;
  // password_changed_at is a timestamp without time zone holding UTC (Prisma DateTime): extract(epoch) reads it so.
  const rows = await db.$queryRaw<{ active: boolean | null; domain: string; password_changed_ms: number | null; permissions: string[] }[]>`
    SELECT u.active, d.name AS domain,
           (extract(epoch FROM u.password_changed_at) * 1000)::float8 AS password_changed_ms,
           COALESCE((
             SELECT array_agg(DISTINCT p.scope)
             FROM role r CROSS JOIN LATERAL unnest(r.permissions) AS p(scope)
             WHERE r.id IN (
               SELECT ru.role_id FROM role_user ru WHERE ru.user_id = u.id
               UNION
               SELECT rg.role_id FROM role_group rg
               JOIN scim_group_member m ON m.group_id = rg.group_id AND m.member_id = u.id AND m.member_type = 'User')
           ), '{}') AS permissions
    FROM scim_user u JOIN user_store_domain d ON d.id = u.domain_id
    WHERE u.id = ${userId}::uuid`;
  const row = rows[0];
  if (!row) return undefined;
  return { active: row.active, domain: row.domain, passwordChangedAt: row.password_changed_ms, permissions: row.permissions };
}

/**
 * The user store domain an application is restricted to (`restrictToInboundDomain`) when this user lives outside it,
 * so the application may not act for the user; undefined when it may. Applications in proxy mode or without the
 * restriction serve every user; one whose domain was deleted is PRIMARY's.
 */
export function excludingDomain(
  app: { restrictToInboundDomain: boolean; proxyMode: boolean; inboundDomain: { name: string } | null },
  access: Pick<UserAccess, 'domain'>,
): string | undefined {
  const domain = app.inboundDomain?.name ?? PRIMARY_DOMAIN;
  return app.restrictToInboundDomain && !app.proxyMode && access.domain !== domain ? domain : undefined;
}
