/**
 * The check of a local user's credentials, shared by the password grant (src/http/oauth/grants.ts) and the sign-in
 * page (src/http/pages/interactions.ts), so both refuse and count the same way under the login guard
 * (src/security/login-guard.ts): a throttled address or a locked user is refused before the password is checked, a
 * wrong password is counted for the address and, when the user exists, for the user; an unknown name costs as much
 * time as a wrong password. User names are WSO2's: `DOMAIN/name` for a secondary user store, a plain name for the
 * application's inbound domain (PRIMARY in proxy mode).
 */
import { hashPassword, needsRehash, verifyPassword } from '../../crypto/password.js';
import type { PrismaClient } from '../../db/client.js';
import { PRIMARY_DOMAIN, splitDomain } from '../../scim/user-resource.js';
import type { LoginGuard, LoginRefusal } from '../../security/login-guard.js';
import { checkUserName } from '../../userstore/username.js';

/** What the check reads of the application the user signs in to (for the domain of an unprefixed name). */
export type LoginApplication = { restrictToInboundDomain: boolean; proxyMode: boolean; inboundDomain: { name: string } | null };

/**
 * Who the credentials designate, or why not. `inactive`: the right password of an inactive user (not counted as a
 * guess); callers show it as `invalid` so nobody learns an account exists and is disabled.
 */
export type UserAuthentication =
  | { userId: string }
  | { refused: 'invalid' | 'inactive' }
  | { refused: 'locked' | 'throttled'; refusal: LoginRefusal };

/** A well-formed hash of nothing anybody knows, so an unknown user costs as much time as a wrong password. */
let decoyHash: Promise<string> | undefined;

/**
 * Finds the user a user name designates and checks the password, under the login guard: a
 * throttled address or a locked user is refused before the password is checked, a wrong password is counted.
 */
export async function authenticateLocalUser(
  db: PrismaClient,
  guard: LoginGuard,
  address: string,
  app: LoginApplication | null,
  credentials: { username: string; password: string },
): Promise<UserAuthentication> {
  const fromAddress = await guard.check({ kind: 'user', address });
  if (!fromAddress.allowed) return { refused: 'throttled', refusal: fromAddress };
  const { domain: prefix, name } = splitDomain(credentials.username.trim());
  let domain = prefix;
  // Unprefixed names live in the application's inbound provisioning domain (PRIMARY in proxy mode).
  if (domain === undefined) domain = app && !app.proxyMode && app.inboundDomain ? app.inboundDomain.name : PRIMARY_DOMAIN;
  // The name is compared as RFC 8265 says (src/userstore/username.ts): `ＡＬＩＣＥ` and `Alice` are alice; a name the
  // profile refuses designates nobody (and still costs a hash, below).
  const enforced = checkUserName(name);
  const user = enforced.ok
    ? await db.user.findFirst({
        where: { userNameNormalized: enforced.key, domain: { name: domain } },
        select: { id: true, active: true, passwordHash: true, userName: true },
      })
    : null;
  // The account is the user (a user id is per user store domain); an unknown name counts for the address only.
  const attempt = { kind: 'user' as const, address, ...(user && { account: user.id, label: `${domain}/${user.userName}` }) };
  if (user) {
    const before = await guard.check(attempt);
    if (!before.allowed) return { refused: before.reason === 'account_locked' ? 'locked' : 'throttled', refusal: before };
  }
  const hash = user?.passwordHash ?? (await (decoyHash ??= hashPassword('decoy')));
  const ok = (await verifyPassword(credentials.password, hash)) && user?.passwordHash != null;
  if (ok) {
    await guard.recordSuccess(attempt);
    if (needsRehash(user.passwordHash!)) await rehash(db, user.id, user.passwordHash!, credentials.password);
    // The right password of an inactive user is refused, but it was no guess: nothing is counted.
    return user.active !== false ? { userId: user.id } : { refused: 'inactive' };
  }
  const after = await guard.recordFailure(attempt);
  if (after.allowed) return { refused: 'invalid' };
  return { refused: after.reason === 'account_locked' ? 'locked' : 'throttled', refusal: after };
}

/**
 * Replaces a hash made with weaker parameters than the current ones (src/crypto/password.ts), now that the password
 * is at hand: the same password, so it is no password change (password_changed_at stays, tokens live on) and no
 * user-management event. Conditional on the hash read, so a change made meanwhile always wins. Best effort: a
 * failure leaves the old hash, which still verifies.
 */
async function rehash(db: PrismaClient, userId: string, oldHash: string, password: string): Promise<void> {
  try {
    const next = await hashPassword(password);
    // Raw, so lastModified stays: nothing a SCIM client can see changed.
    await db.$executeRaw`UPDATE scim_user SET password_hash = ${next} WHERE id = ${userId}::uuid AND password_hash = ${oldHash}`;
  } catch {
    // the next sign-in tries again
  }
}
