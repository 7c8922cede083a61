/**
 * Users in the user store (PostgreSQL through Prisma). Writes are called by InboundProvision's
 * activities; reads are called by the SCIM handlers directly (reads need no workflow).
 *
 * Every write is idempotent by request id: its result is kept in the store_request ledger in the same
 * transaction, so a retried activity returns the first attempt's result instead of applying it twice.
 */
import { hashPassword } from '../crypto/password.js';
import type { PrismaClient } from '../db/client.js';
import { isUniqueViolation } from '../db/errors.js';
import { type Prisma } from '../generated/prisma/client.js';
import type { ScimRejection, UserInput, UserRecord } from '../provisioning/types.js';
import { splitDomain } from '../scim/user-resource.js';

export type StoreResult = { ok: true; user: UserRecord } | { ok: false; rejection: ScimRejection };

type Tx = Prisma.TransactionClient;

const userInclude = {
  domain: true,
  emails: { orderBy: { position: 'asc' } },
  phoneNumbers: { orderBy: { position: 'asc' } },
  addresses: { orderBy: { position: 'asc' } },
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
  return {
    id: row.id,
    domain: row.domain.name,
    userName: row.userName,
    externalId: opt(row.externalId),
    active: row.active,
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
    version: row.version,
    created: row.createdAt.toISOString(),
    lastModified: row.updatedAt.toISOString(),
  };
}

/** Scalar columns and child rows for a user's attributes (everything but identity and bookkeeping). */
function attributeColumns(input: UserInput) {
  return {
    userName: input.userName,
    userNameNormalized: input.userName.toLowerCase(),
    externalId: input.externalId ?? null,
    active: input.active,
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

function uniquenessRejection(input: UserInput): ScimRejection {
  return {
    status: 409,
    scimType: 'uniqueness',
    detail: `A user with userName '${input.userName}' already exists in user store domain ${input.domain}`,
  };
}

async function domainId(tx: Tx, name: string): Promise<string | undefined> {
  const domain = await tx.userStoreDomain.findUnique({ where: { name } });
  return domain?.id;
}

/**
 * Runs a write once per request id. The ledger row is inserted in the write's own transaction, so either
 * both exist or neither does.
 */
async function once(db: PrismaClient, requestId: string, write: (tx: Tx) => Promise<StoreResult>): Promise<StoreResult> {
  const attempt = () =>
    db.$transaction(async (tx) => {
      const done = await tx.storeRequest.findUnique({ where: { requestId } });
      if (done) return done.result as unknown as StoreResult;
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
      if (done) return done.result as unknown as StoreResult;
    }
    throw err;
  }
}

export async function createUser(db: PrismaClient, requestId: string, id: string, input: UserInput): Promise<StoreResult> {
  // Hash outside the transaction: scrypt is deliberately slow and must not hold a connection.
  const passwordHash = input.password === undefined ? null : await hashPassword(input.password);
  try {
    return await once(db, requestId, async (tx) => {
      const domain = await domainId(tx, input.domain);
      if (!domain) return { ok: false, rejection: { status: 400, scimType: 'invalidValue', detail: `Unknown user store domain '${input.domain}'` } };
      const taken = await tx.user.findUnique({
        where: { domainId_userNameNormalized: { domainId: domain, userNameNormalized: input.userName.toLowerCase() } },
        select: { id: true },
      });
      if (taken) return { ok: false, rejection: uniquenessRejection(input) };
      const row = await tx.user.create({
        data: { id, domainId: domain, passwordHash, version: 1, ...attributeColumns(input) },
        include: userInclude,
      });
      return { ok: true, user: toUserRecord(row) };
    });
  } catch (err) {
    // A concurrent create of the same userName committed between our check and our insert.
    if (isUniqueViolation(err)) return { ok: false, rejection: uniquenessRejection(input) };
    throw err;
  }
}

export async function replaceUser(
  db: PrismaClient,
  requestId: string,
  id: string,
  input: UserInput,
  ifMatchVersion?: number,
): Promise<StoreResult> {
  const passwordHash = input.password === undefined ? undefined : await hashPassword(input.password);
  try {
    return await once(db, requestId, async (tx) => {
      // FOR UPDATE: concurrent replaces of one user serialize, so versions never collide.
      const locked = await tx.$queryRaw<{ version: number; domain_id: string }[]>`
        SELECT version, domain_id FROM scim_user WHERE id = ${id}::uuid FOR UPDATE`;
      const current = locked[0];
      if (!current) return { ok: false, rejection: { status: 404, detail: `User ${id} not found` } };
      if (ifMatchVersion !== undefined && ifMatchVersion !== current.version) {
        return { ok: false, rejection: { status: 412, detail: `Version mismatch: the user is at version ${current.version}` } };
      }
      const domain = await domainId(tx, input.domain);
      if (domain !== current.domain_id) {
        // RFC 7644 §3.5.1: moving a user between domains is not a replace; the domain prefix is immutable.
        return { ok: false, rejection: { status: 400, scimType: 'mutability', detail: 'The user store domain of a user cannot be changed' } };
      }
      const taken = await tx.user.findFirst({
        where: { domainId: domain, userNameNormalized: input.userName.toLowerCase(), NOT: { id } },
        select: { id: true },
      });
      if (taken) return { ok: false, rejection: uniquenessRejection(input) };
      await tx.userEmail.deleteMany({ where: { userId: id } });
      await tx.userPhoneNumber.deleteMany({ where: { userId: id } });
      await tx.userAddress.deleteMany({ where: { userId: id } });
      const row = await tx.user.update({
        where: { id },
        data: {
          ...attributeColumns(input),
          ...(passwordHash !== undefined && { passwordHash }),
          version: { increment: 1 },
        },
        include: userInclude,
      });
      return { ok: true, user: toUserRecord(row) };
    });
  } catch (err) {
    if (isUniqueViolation(err)) return { ok: false, rejection: uniquenessRejection(input) };
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
    // The deletion is a change too: its version orders it after every update for the outbound targets.
    return { ok: true, user: { ...toUserRecord(row), version: row.version + 1 } };
  });
}

export async function getUser(db: PrismaClient, id: string): Promise<UserRecord | undefined> {
  if (!isUuid(id)) return undefined;
  const row = await db.user.findUnique({ where: { id }, include: userInclude });
  return row ? toUserRecord(row) : undefined;
}

/** Simple equality filters of this slice; the full RFC 7644 filter grammar replaces this (issue 3). */
export type UserFilter = { attribute: 'userName' | 'externalId' | 'id'; value: string };

export async function listUsers(
  db: PrismaClient,
  opts: { filter?: UserFilter | undefined; startIndex: number; count: number },
): Promise<{ total: number; users: UserRecord[] }> {
  let where: Prisma.UserWhereInput = {};
  const f = opts.filter;
  if (f?.attribute === 'userName') {
    const { domain, name } = splitDomain(f.value);
    where = { userNameNormalized: name.toLowerCase(), ...(domain && { domain: { name: domain } }) };
  } else if (f?.attribute === 'externalId') {
    where = { externalId: f.value };
  } else if (f?.attribute === 'id') {
    if (!isUuid(f.value)) return { total: 0, users: [] };
    where = { id: f.value };
  }
  const [total, rows] = await Promise.all([
    db.user.count({ where }),
    opts.count === 0
      ? Promise.resolve([])
      : db.user.findMany({ where, include: userInclude, orderBy: { createdAt: 'asc' }, skip: opts.startIndex - 1, take: opts.count }),
  ]);
  return { total, users: rows.map(toUserRecord) };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
