/**
 * Users in the user store (PostgreSQL through Prisma). Writes are called by InboundProvision's
 * activities; reads are called by the SCIM handlers directly (reads need no workflow).
 *
 * Every write is idempotent by request id: its result is kept in the store_request ledger in the same
 * transaction, so a retried activity returns the first attempt's result instead of applying it twice.
 */
import { hashPassword } from '../crypto/password.js';
import { checkPassword, type PasswordPolicy } from '../crypto/password-policy.js';
import type { PrismaClient } from '../db/client.js';
import { isUniqueViolation, refusedValueRejection } from '../db/errors.js';
import { type Prisma } from '../generated/prisma/client.js';
import type { MultiValue, ScimRejection, UserInput, UserRecord } from '../provisioning/types.js';
import { revokeUserTokens } from '../http/oauth/adapter.js';
import { qualifiedUserName } from '../scim/user-resource.js';
import { checkUserName, USERNAME_PROFILE_VERSION } from './username.js';
import { isPlaceholderKey, keyChanged, keyForUpdate, keyFreed, placeholderKey } from './username-conflicts.js';

/**
 * A user as it was before a change, for compensation (saga) when a blocking target rejects the change: the
 * attributes, direct group memberships and password hash (the hash stays in the store's own ledger and in
 * encrypted workflow payloads; it is never returned by an API).
 */
export interface UserSnapshot {
  user: UserRecord;
  passwordHash: string | null;
}

export type StoreResult = { ok: true; user: UserRecord; previous?: UserSnapshot | undefined } | { ok: false; rejection: ScimRejection };

export type Tx = Prisma.TransactionClient;

const userInclude = {
  domain: true,
  emails: { orderBy: { position: 'asc' } },
  phoneNumbers: { orderBy: { position: 'asc' } },
  addresses: { orderBy: { position: 'asc' } },
  memberships: { include: { group: { include: { domain: true } } } },
} as const satisfies Prisma.UserInclude;

type UserRow = Prisma.UserGetPayload<{ include: typeof userInclude }>;

const opt = (v: string | null): string | undefined => v ?? undefined;

export function toUserRecord(row: UserRow): UserRecord {
  const name = {
    formatted: opt(row.nameFormatted),
    familyName: opt(row.nameFamilyName),
    givenName: opt(row.nameGivenName),
    middleName: opt(row.nameMiddleName),
    honorificPrefix: opt(row.nameHonorificPrefix),
    honorificSuffix: opt(row.nameHonorificSuffix),
  };
  const enterprise = {
    employeeNumber: opt(row.employeeNumber),
    costCenter: opt(row.costCenter),
    organization: opt(row.organization),
    division: opt(row.division),
    department: opt(row.department),
    manager:
      row.managerId || row.managerDisplayName
        ? { value: opt(row.managerId), displayName: opt(row.managerDisplayName) }
        : undefined,
  };
  const some = (o: object) => Object.values(o).some((v) => v !== undefined);
  const json = fromAttributesJson(row.attributes);
  return {
    id: row.id,
    domain: row.domain.name,
    userName: row.userName,
    externalId: opt(row.externalId),
    active: row.active ?? undefined,
    name: some(name) ? name : undefined,
    displayName: opt(row.displayName),
    nickName: opt(row.nickName),
    profileUrl: opt(row.profileUrl),
    title: opt(row.title),
    userType: opt(row.userType),
    preferredLanguage: opt(row.preferredLanguage),
    locale: opt(row.locale),
    timezone: opt(row.timezone),
    emails: row.emails.map((e) => ({ value: e.value, type: opt(e.type), primary: e.primary, display: opt(e.display) })),
    phoneNumbers: row.phoneNumbers.map((p) => ({ value: p.value, type: opt(p.type), primary: p.primary, display: opt(p.display) })),
    addresses: row.addresses.map((a) => ({
      type: opt(a.type),
      primary: a.primary,
      formatted: opt(a.formatted),
      streetAddress: opt(a.streetAddress),
      locality: opt(a.locality),
      region: opt(a.region),
      postalCode: opt(a.postalCode),
      country: opt(a.country),
    })),
    enterprise: some(enterprise) ? enterprise : undefined,
    ...json,
    groups: row.memberships.map((m) => ({
      value: m.groupId,
      display: qualifiedUserName(m.group.domain.name, m.group.displayName),
      type: 'direct' as const,
    })),
    version: row.version,
    created: row.createdAt.toISOString(),
    lastModified: row.updatedAt.toISOString(),
  };
}

const JSON_MULTI_VALUED = ['ims', 'photos', 'entitlements', 'roles', 'x509Certificates'] as const;

/**
 * The `attributes` JSON column: the multi-valued attributes without a table of their own, under their SCIM
 * names, and operator extensions under their schema URN (src/userstore/filter-sql.ts queries both there).
 */
function toAttributesJson(input: UserInput): Prisma.InputJsonObject {
  const out: Record<string, unknown> = {};
  for (const key of JSON_MULTI_VALUED) {
    const values = input[key];
    if (values && values.length > 0) out[key] = values;
  }
  for (const [urn, value] of Object.entries(input.extensions ?? {})) out[urn] = value;
  return out as Prisma.InputJsonObject;
}

function fromAttributesJson(value: Prisma.JsonValue): Pick<UserInput, (typeof JSON_MULTI_VALUED)[number] | 'extensions'> {
  const obj = (typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {}) as Record<string, unknown>;
  const out: Pick<UserInput, (typeof JSON_MULTI_VALUED)[number] | 'extensions'> = {};
  for (const key of JSON_MULTI_VALUED) {
    const values = obj[key];
    if (Array.isArray(values) && values.length > 0) out[key] = values as MultiValue[];
  }
  const extensions = Object.fromEntries(Object.entries(obj).filter(([k]) => k.startsWith('urn:'))) as Record<string, Record<string, unknown>>;
  if (Object.keys(extensions).length > 0) out.extensions = extensions;
  return out;
}

/**
 * Scalar columns and child rows for a user's attributes (everything but identity and bookkeeping). `userNameKey`:
 * the userName's RFC 8265 comparison key (src/userstore/username.ts), or a waiting user's placeholder.
 */
function attributeColumns(input: UserInput, userNameKey: string) {
  return {
    userName: input.userName,
    userNameNormalized: userNameKey,
    externalId: input.externalId ?? null,
    active: input.active ?? null,
    displayName: input.displayName ?? null,
    nickName: input.nickName ?? null,
    profileUrl: input.profileUrl ?? null,
    title: input.title ?? null,
    userType: input.userType ?? null,
    preferredLanguage: input.preferredLanguage ?? null,
    locale: input.locale ?? null,
    timezone: input.timezone ?? null,
    nameFormatted: input.name?.formatted ?? null,
    nameFamilyName: input.name?.familyName ?? null,
    nameGivenName: input.name?.givenName ?? null,
    nameMiddleName: input.name?.middleName ?? null,
    nameHonorificPrefix: input.name?.honorificPrefix ?? null,
    nameHonorificSuffix: input.name?.honorificSuffix ?? null,
    employeeNumber: input.enterprise?.employeeNumber ?? null,
    costCenter: input.enterprise?.costCenter ?? null,
    organization: input.enterprise?.organization ?? null,
    division: input.enterprise?.division ?? null,
    department: input.enterprise?.department ?? null,
    managerId: input.enterprise?.manager?.value ?? null,
    managerDisplayName: input.enterprise?.manager?.displayName ?? null,
    attributes: toAttributesJson(input),
    emails: {
      create: input.emails.map((e, position) => ({
        value: e.value,
        valueNormalized: e.value.toLowerCase(),
        type: e.type ?? null,
        primary: e.primary ?? false,
        display: e.display ?? null,
        position,
      })),
    },
    phoneNumbers: {
      create: input.phoneNumbers.map((p, position) => ({
        value: p.value,
        type: p.type ?? null,
        primary: p.primary ?? false,
        display: p.display ?? null,
        position,
      })),
    },
    addresses: {
      create: input.addresses.map((a, position) => ({
        type: a.type ?? null,
        primary: a.primary ?? false,
        formatted: a.formatted ?? null,
        streetAddress: a.streetAddress ?? null,
        locality: a.locality ?? null,
        region: a.region ?? null,
        postalCode: a.postalCode ?? null,
        country: a.country ?? null,
        position,
      })),
    },
  };
}

/** A userName the profile refuses (src/scim/user-resource.ts refuses it first; this guards the store itself). */
function invalidUserName(detail: string): ScimRejection {
  return { status: 400, scimType: 'invalidValue', detail };
}

function uniquenessRejection(input: UserInput): ScimRejection {
  return {
    status: 409,
    scimType: 'uniqueness',
    detail: `A user with userName '${input.userName}' already exists in user store domain ${input.domain}`,
  };
}

export async function domainId(tx: Tx, name: string): Promise<string | undefined> {
  const domain = await tx.userStoreDomain.findUnique({ where: { name } });
  return domain?.id;
}

/** What every store write returns: a result, or a rejection the workflow hands back to the caller. */
type StoreOutcome = { ok: true } | { ok: false; rejection: ScimRejection };

/**
 * Runs a write once per request id. The ledger row is inserted in the write's own transaction, so either
 * both exist or neither does. A value the database refuses (src/db/errors.ts) is refused on every attempt, so it
 * becomes a rejection result instead of an error the activity would retry without end; `values` (the input being
 * written) lets the rejection name the attribute.
 */
export async function once<R extends StoreOutcome>(db: PrismaClient, requestId: string, write: (tx: Tx) => Promise<R>, values?: () => unknown): Promise<R> {
  const attempt = () =>
    db.$transaction(async (tx) => {
      const done = await tx.storeRequest.findUnique({ where: { requestId } });
      if (done) return done.result as unknown as R;
      const result = await write(tx);
      await tx.storeRequest.create({ data: { requestId, result: result as unknown as Prisma.InputJsonValue } });
      return result;
    });
  try {
    return await attempt();
  } catch (err) {
    // Two attempts of one request racing (rare: a timed-out attempt still running): the loser reads the
    // winner's ledger row.
    if (isUniqueViolation(err)) {
      const done = await db.storeRequest.findUnique({ where: { requestId } });
      if (done) return done.result as unknown as R;
    }
    const refused = refusedValueRejection(err, values?.());
    if (refused) return { ok: false, rejection: refused } as R;
    throw err;
  }
}

/** Checks a new password against the policy; the rejection names the rule it breaks. */
function policyRejection(policy: PasswordPolicy | undefined, password: string | undefined): ScimRejection | undefined {
  if (password === undefined || !policy) return undefined;
  const problem = checkPassword(policy, password);
  return problem === undefined ? undefined : { status: 400, scimType: 'invalidValue', detail: `The password does not meet the password policy: ${problem}` };
}

export async function createUser(
  db: PrismaClient,
  requestId: string,
  id: string,
  input: UserInput,
  policy?: PasswordPolicy,
): Promise<StoreResult> {
  const enforced = checkUserName(input.userName);
  if (!enforced.ok) return { ok: false, rejection: invalidUserName(enforced.error.message) };
  const rejected = policyRejection(policy, input.password);
  if (rejected) return { ok: false, rejection: rejected };
  // Hash outside the transaction: scrypt is deliberately slow and must not hold a connection.
  const passwordHash = input.password === undefined ? null : await hashPassword(input.password);
  try {
    return await once(db, requestId, async (tx) => {
      const domain = await domainId(tx, input.domain);
      if (!domain) return { ok: false, rejection: { status: 400, scimType: 'invalidValue', detail: `Unknown user store domain '${input.domain}'` } };
      const taken = await tx.user.findUnique({
        where: { domainId_userNameNormalized: { domainId: domain, userNameNormalized: enforced.key } },
        select: { id: true },
      });
      if (taken) return { ok: false, rejection: uniquenessRejection(input) };
      const row = await tx.user.create({
        data: { id, domainId: domain, passwordHash, passwordChangedAt: passwordHash === null ? null : new Date(), version: 1, ...attributeColumns(input, enforced.key) },
        include: userInclude,
      });
      return { ok: true, user: toUserRecord(row) };
    }, () => input);
  } catch (err) {
    // A concurrent create of the same userName committed between our check and our insert.
    if (isUniqueViolation(err)) return { ok: false, rejection: uniquenessRejection(input) };
    throw err;
  }
}

/**
 * Many creates (a chunk of a Bulk load) in one transaction: the same checks and results as createUser one by one,
 * with one commit, one ledger lookup, one uniqueness query and one domain lookup per domain instead of one of each per
 * user. Each create keeps its own request id (its ledger entry), so a retried chunk answers what was done and does
 * the rest. Anything the shortcut cannot settle alone (a concurrent create of the same userName committing between
 * the check and the insert, a value the database refuses) rolls the chunk back and redoes it one create at a time,
 * where createUser sorts each case out. Results in the input's order.
 */
export async function createUsers(
  db: PrismaClient,
  items: { requestId: string; id: string; input: UserInput }[],
  policy?: PasswordPolicy,
): Promise<StoreResult[]> {
  const results: (StoreResult | undefined)[] = items.map((item) => {
    const enforced = checkUserName(item.input.userName);
    if (!enforced.ok) return { ok: false, rejection: invalidUserName(enforced.error.message) };
    const refused = policyRejection(policy, item.input.password);
    return refused ? { ok: false, rejection: refused } : undefined;
  });
  // Hash outside the transaction: scrypt is deliberately slow and must not hold a connection.
  const hashes = await Promise.all(items.map(async (item, i) => (results[i] || item.input.password === undefined ? null : hashPassword(item.input.password))));
  try {
    await db.$transaction(
      async (tx) => {
        const done = new Map(
          (await tx.storeRequest.findMany({ where: { requestId: { in: items.map((i) => i.requestId) } } })).map((r) => [r.requestId, r.result as unknown as StoreResult]),
        );
        const domains = new Map<string, string | undefined>();
        for (const name of new Set(items.map((i) => i.input.domain))) domains.set(name, await domainId(tx, name));
        const keyOf = (i: number) => {
          const enforced = checkUserName(items[i]!.input.userName);
          return enforced.ok ? enforced.key : '';
        };
        const wanted = items.flatMap((item, i) => (results[i] || done.has(item.requestId) || !domains.get(item.input.domain) ? [] : [{ domainId: domains.get(item.input.domain)!, userNameNormalized: keyOf(i) }]));
        const taken = new Set(
          (wanted.length === 0 ? [] : await tx.user.findMany({ where: { OR: wanted }, select: { domainId: true, userNameNormalized: true } })).map((u) => `${u.domainId} ${u.userNameNormalized}`),
        );
        const ledger: { requestId: string; result: Prisma.InputJsonValue }[] = [];
        /** The creates to insert, by their index in `items`. */
        const inserting: number[] = [];
        for (const [i, item] of items.entries()) {
          if (results[i]) continue;
          const earlier = done.get(item.requestId);
          if (earlier) {
            results[i] = earlier;
            continue;
          }
          const domain = domains.get(item.input.domain);
          if (!domain) results[i] = { ok: false, rejection: { status: 400, scimType: 'invalidValue', detail: `Unknown user store domain '${item.input.domain}'` } };
          else if (taken.has(`${domain} ${keyOf(i)}`)) results[i] = { ok: false, rejection: uniquenessRejection(item.input) };
          else {
            // A later create of the chunk with the same name meets this one, as it would one by one.
            taken.add(`${domain} ${keyOf(i)}`);
            inserting.push(i);
            continue;
          }
          ledger.push({ requestId: item.requestId, result: results[i] as unknown as Prisma.InputJsonValue });
        }
        if (inserting.length > 0) {
          // One statement per table for the whole chunk (the rows createUser's nested create writes), then one read.
          const now = new Date();
          const rows = inserting.map((i) => {
            const { emails, phoneNumbers, addresses, ...columns } = attributeColumns(items[i]!.input, keyOf(i));
            return { i, columns, emails: emails.create, phoneNumbers: phoneNumbers.create, addresses: addresses.create };
          });
          await tx.user.createMany({
            data: rows.map(({ i, columns }) => ({ id: items[i]!.id, domainId: domains.get(items[i]!.input.domain)!, passwordHash: hashes[i] ?? null, passwordChangedAt: hashes[i] ? now : null, version: 1, ...columns })),
          });
          const children = <T>(pick: (r: (typeof rows)[number]) => T[]) => rows.flatMap((r) => pick(r).map((c) => ({ ...c, userId: items[r.i]!.id })));
          const emails = children((r) => r.emails);
          const phones = children((r) => r.phoneNumbers);
          const addresses = children((r) => r.addresses);
          if (emails.length > 0) await tx.userEmail.createMany({ data: emails });
          if (phones.length > 0) await tx.userPhoneNumber.createMany({ data: phones });
          if (addresses.length > 0) await tx.userAddress.createMany({ data: addresses });
          const written = new Map((await tx.user.findMany({ where: { id: { in: inserting.map((i) => items[i]!.id) } }, include: userInclude })).map((u) => [u.id, u]));
          for (const i of inserting) {
            results[i] = { ok: true, user: toUserRecord(written.get(items[i]!.id)!) };
            ledger.push({ requestId: items[i]!.requestId, result: results[i] as unknown as Prisma.InputJsonValue });
          }
        }
        // (Rejections made before the transaction are not ledgered, as createUser's are not: a retry makes them again.)
        if (ledger.length > 0) await tx.storeRequest.createMany({ data: ledger });
      },
      { timeout: 60_000 },
    );
  } catch (err) {
    if (!isUniqueViolation(err) && !refusedValueRejection(err, undefined)) throw err;
    // Sorted out one by one (each createUser is idempotent by its request id; none of this chunk's writes stayed).
    const out: StoreResult[] = [];
    for (const item of items) out.push(await createUser(db, item.requestId, item.id, item.input, policy));
    return out;
  }
  return results.map((r) => r!);
}

interface LockedUser {
  version: number;
  domain_id: string;
  user_name_normalized: string;
}

/** Locks the user's row (concurrent writes of one user serialize, so versions never collide). */
async function lockUser(tx: Tx, id: string, ifMatchVersion: number | undefined): Promise<LockedUser | ScimRejection> {
  const locked = await tx.$queryRaw<LockedUser[]>`
    SELECT version, domain_id, user_name_normalized FROM scim_user WHERE id = ${id}::uuid FOR UPDATE`;
  const current = locked[0];
  if (!current) return { status: 404, detail: `User ${id} not found` };
  if (ifMatchVersion !== undefined && ifMatchVersion !== current.version) {
    return { status: 412, detail: `Version mismatch: the user is at version ${current.version}` };
  }
  return current;
}

/** Writes a user's new attributes over the locked row: the common end of PUT and PATCH. */
async function writeReplacement(
  tx: Tx,
  id: string,
  current: LockedUser,
  input: UserInput,
  /** undefined: keep the stored hash; null: no password (a restore). */
  passwordHash: string | null | undefined,
): Promise<StoreResult> {
  const domain = await domainId(tx, input.domain);
  if (domain !== current.domain_id) {
    // The domain prefix is part of the user's identity: moving a user between domains is not a replace.
    return { ok: false, rejection: { status: 400, scimType: 'mutability', detail: 'The user store domain of a user cannot be changed' } };
  }
  const key = await keyForUpdate(tx, id, domain, input.userName, current.user_name_normalized);
  if ('taken' in key) return { ok: false, rejection: uniquenessRejection(input) };
  if ('invalid' in key) return { ok: false, rejection: invalidUserName(key.invalid) };
  // A new password, or a deactivation, ends the user's sessions: its stored tokens go now, and tokens issued
  // before password_changed_at are refused from now on (src/http/auth.ts).
  const before = passwordHash !== undefined || input.active === false ? await tx.user.findUnique({ where: { id }, select: { passwordHash: true, active: true } }) : null;
  const passwordChanged = passwordHash !== undefined && passwordHash !== before?.passwordHash;
  if (passwordChanged || (input.active === false && before?.active !== false)) await revokeUserTokens(tx, id);
  // A verified email is verified for that address only: a change of the primary email unverifies it (association by
  // verified email, src/federation/, must never reach an account through an address nobody verified).
  const primaryBefore = await tx.userEmail.findFirst({ where: { userId: id, primary: true }, select: { valueNormalized: true } });
  const primaryAfter = input.emails.find((e) => e.primary === true)?.value.toLowerCase();
  const emailUnverified = primaryBefore?.valueNormalized !== primaryAfter;
  await tx.userEmail.deleteMany({ where: { userId: id } });
  await tx.userPhoneNumber.deleteMany({ where: { userId: id } });
  await tx.userAddress.deleteMany({ where: { userId: id } });
  const row = await tx.user.update({
    where: { id },
    data: {
      ...attributeColumns(input, key.key),
      ...(passwordHash !== undefined && { passwordHash }),
      ...(passwordChanged && { passwordChangedAt: new Date() }),
      ...(emailUnverified && { emailVerified: false }),
      version: { increment: 1 },
    },
    include: userInclude,
  });
  await keyChanged(tx, id, domain, current.user_name_normalized, key.key);
  return { ok: true, user: toUserRecord(row) };
}

export async function replaceUser(
  db: PrismaClient,
  requestId: string,
  id: string,
  input: UserInput,
  ifMatchVersion?: number,
  policy?: PasswordPolicy,
): Promise<StoreResult> {
  const rejected = policyRejection(policy, input.password);
  if (rejected) return { ok: false, rejection: rejected };
  const passwordHash = input.password === undefined ? undefined : await hashPassword(input.password);
  try {
    return await once(db, requestId, async (tx): Promise<StoreResult> => {
      const current = await lockUser(tx, id, ifMatchVersion);
      if ('status' in current) return { ok: false, rejection: current };
      const row = await tx.user.findUniqueOrThrow({ where: { id }, include: userInclude });
      const result = await writeReplacement(tx, id, current, input, passwordHash);
      return result.ok ? { ...result, previous: { user: toUserRecord(row), passwordHash: row.passwordHash } } : result;
    }, () => input);
  } catch (err) {
    if (isUniqueViolation(err)) return { ok: false, rejection: uniquenessRejection(input) };
    throw err;
  }
}

/**
 * Applies a PATCH (RFC 7644 §3.5.2) under the row lock: `patch` turns the current user into the new
 * attributes (src/scim/patch.ts over the rendered resource, then the same validation as PUT) and throws a
 * ScimError-like `{ status, detail, scimType }` to reject. The result carries the new password, if the patch
 * set one, as a flag only: the ledger never holds a password; the workflow takes the new password from the
 * PATCH body it already has (src/scim/patch-password.ts).
 */
export async function patchUser(
  db: PrismaClient,
  requestId: string,
  id: string,
  patch: (current: UserRecord) => UserInput,
  ifMatchVersion?: number,
  policy?: PasswordPolicy,
): Promise<StoreResult & { passwordChanged?: boolean }> {
  let attempted: UserInput | undefined;
  try {
    return await once<StoreResult & { passwordChanged?: boolean }>(db, requestId, async (tx) => {
      const current = await lockUser(tx, id, ifMatchVersion);
      if ('status' in current) return { ok: false, rejection: current };
      const row = await tx.user.findUniqueOrThrow({ where: { id }, include: userInclude });
      let input: UserInput;
      try {
        input = patch(toUserRecord(row));
      } catch (err) {
        const e = err as { status?: unknown; detail?: unknown; scimType?: unknown };
        if (typeof e.status === 'number' && typeof e.detail === 'string') {
          return { ok: false, rejection: { status: e.status, detail: e.detail, scimType: typeof e.scimType === 'string' ? e.scimType : undefined } };
        }
        throw err;
      }
      attempted = input;
      const rejected = policyRejection(policy, input.password);
      if (rejected) return { ok: false, rejection: rejected };
      // Hashing here holds the row lock for the hash's duration; only a PATCH that sets a password pays it.
      const passwordHash = input.password === undefined ? undefined : await hashPassword(input.password);
      const result = await writeReplacement(tx, id, current, input, passwordHash);
      // The ledger keeps results for retries: never the password itself.
      return result.ok
        ? { ...result, passwordChanged: input.password !== undefined, previous: { user: toUserRecord(row), passwordHash: row.passwordHash } }
        : result;
    }, () => attempted);
  } catch (err) {
    if (isUniqueViolation(err)) return { ok: false, rejection: { status: 409, scimType: 'uniqueness', detail: 'A user with that userName already exists' } };
    throw err;
  }
}

/** Deletes a user; the result carries the user as it was, with the version the deletion gave it. */
export async function deleteUser(db: PrismaClient, requestId: string, id: string, ifMatchVersion?: number): Promise<StoreResult> {
  return once(db, requestId, async (tx) => {
    const row = await tx.user.findUnique({ where: { id }, include: userInclude });
    if (!row) return { ok: false, rejection: { status: 404, detail: `User ${id} not found` } };
    if (ifMatchVersion !== undefined && ifMatchVersion !== row.version) {
      return { ok: false, rejection: { status: 412, detail: `Version mismatch: the user is at version ${row.version}` } };
    }
    await tx.user.delete({ where: { id } });
    // The name's key is free now: a user waiting for it (src/userstore/username-conflicts.ts) gets it.
    if (!isPlaceholderKey(row.userNameNormalized)) await keyFreed(tx, row.domainId, row.userNameNormalized);
    // The deletion is a change too: its version orders it after every update for the outbound targets.
    return {
      ok: true,
      user: { ...toUserRecord(row), version: row.version + 1 },
      previous: { user: toUserRecord(row), passwordHash: row.passwordHash },
    };
  });
}

/**
 * Puts a user back as a snapshot had it (saga compensation of a change a blocking target rejected): over the
 * current row, or re-created with its id if the change deleted it, with its direct memberships of groups that
 * still exist. Like every change it gets a new, higher version, so the targets apply it after the rejected one.
 */
export async function restoreUser(db: PrismaClient, requestId: string, snapshot: UserSnapshot, afterVersion: number): Promise<StoreResult> {
  const { id, version: _v, created: _c, lastModified: _l, groups, ...attributes } = snapshot.user;
  const input: UserInput = attributes;
  try {
    return await once(db, requestId, async (tx): Promise<StoreResult> => {
      const current = await lockUser(tx, id, undefined);
      if (!('status' in current)) return writeReplacement(tx, id, current, input, snapshot.passwordHash);
      const domain = await domainId(tx, input.domain);
      if (!domain) return { ok: false, rejection: { status: 400, detail: `Unknown user store domain '${input.domain}'` } };
      // A stored name the profile refuses (kept by the data migration) comes back as it was: findable by id only.
      const enforced = checkUserName(input.userName);
      const key = enforced.ok ? enforced.key : placeholderKey(id);
      // Re-created: tokens it had before its deletion must not come back to life with it.
      await tx.user.create({
        data: { id, domainId: domain, passwordHash: snapshot.passwordHash, passwordChangedAt: new Date(), version: afterVersion + 1, ...attributeColumns(input, key) },
      });
      if (!enforced.ok) {
        await tx.userNameConflict.create({
          data: { userId: id, domainId: domain, reason: 'invalid', detail: enforced.error.message, profileVersion: USERNAME_PROFILE_VERSION },
        });
      }
      const groupIds = (groups ?? []).map((g) => g.value);
      const existing = await tx.group.findMany({ where: { id: { in: groupIds } }, select: { id: true } });
      if (existing.length > 0) {
        await tx.groupMember.createMany({
          data: existing.map((g) => ({ groupId: g.id, memberId: id, memberType: 'User', userMemberId: id })),
          skipDuplicates: true,
        });
      }
      const row = await tx.user.findUniqueOrThrow({ where: { id }, include: userInclude });
      return { ok: true, user: toUserRecord(row) };
    }, () => input);
  } catch (err) {
    if (isUniqueViolation(err)) return { ok: false, rejection: uniquenessRejection(input) };
    throw err;
  }
}

export async function getUser(db: PrismaClient, id: string): Promise<UserRecord | undefined> {
  if (!isUuid(id)) return undefined;
  const row = await db.user.findUnique({ where: { id }, include: userInclude });
  return row ? toUserRecord(row) : undefined;
}

/** Loads users by id, keeping the order of `ids` (the order a filtered, sorted query chose). */
export async function getUsersByIds(db: PrismaClient, ids: readonly string[]): Promise<UserRecord[]> {
  if (ids.length === 0) return [];
  const rows = await db.user.findMany({ where: { id: { in: [...ids] } }, include: userInclude });
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.flatMap((id) => {
    const row = byId.get(id);
    return row ? [toUserRecord(row)] : [];
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
