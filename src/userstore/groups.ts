/**
 * Groups and memberships in the user store. Writes are called by InboundProvision's activities (idempotent
 * by request id through the store_request ledger, like users); reads by the SCIM handlers.
 *
 * Memberships are rows (scim_group_member), so a PATCH that adds or removes members of a group with 100,000
 * members touches only the rows it names: see applyMemberDelta.
 */
import type { PrismaClient } from '../db/client.js';
import { isUniqueViolation } from '../db/errors.js';
import type { Prisma } from '../generated/prisma/client.js';
import { MAX_GROUP_SNAPSHOT_MEMBERS, type GroupInput, type GroupRecord, type GroupSnapshot, type MemberDelta, type MemberRef, type ScimRejection } from '../provisioning/types.js';
import { qualifiedUserName } from '../scim/user-resource.js';
import { recordGroupRoleProvisioning } from './roles.js';
import { domainId, isUuid, once, type Tx } from './users.js';

export type { GroupSnapshot };

export type GroupStoreResult =
  | {
      ok: true;
      group: GroupRecord;
      previous?: GroupSnapshot | undefined;
      /** Users who joined or left while the group holds an outbound provisioning role (recordGroupRoleProvisioning). */
      provisioningPending?: number | undefined;
    }
  | { ok: false; rejection: ScimRejection };

const groupInclude = { domain: true } as const satisfies Prisma.GroupInclude;
type GroupRow = Prisma.GroupGetPayload<{ include: typeof groupInclude }>;

export type MemberRecord = NonNullable<GroupRecord['members']>[number];

function extensionsOf(value: Prisma.JsonValue): Record<string, Record<string, unknown>> | undefined {
  const obj = (typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {}) as Record<string, unknown>;
  const ext = Object.fromEntries(Object.entries(obj).filter(([k]) => k.startsWith('urn:'))) as Record<string, Record<string, unknown>>;
  return Object.keys(ext).length > 0 ? ext : undefined;
}

function toGroupRecord(row: GroupRow, members: MemberRecord[] | undefined): GroupRecord {
  return {
    id: row.id,
    domain: row.domain.name,
    displayName: row.displayName,
    externalId: row.externalId ?? undefined,
    members,
    extensions: extensionsOf(row.attributes),
    version: row.version,
    created: row.createdAt.toISOString(),
    lastModified: row.updatedAt.toISOString(),
  };
}

/** A group's members with their display names, in the order they were added. */
export async function loadMembers(db: Tx | PrismaClient, groupId: string): Promise<MemberRecord[]> {
  const rows = await db.groupMember.findMany({
    where: { groupId },
    include: { user: { include: { domain: true } }, nestedGroup: { include: { domain: true } } },
    orderBy: [{ createdAt: 'asc' }, { memberId: 'asc' }],
  });
  return rows.map((m) =>
    m.memberType === 'User'
      ? { value: m.memberId, type: 'User' as const, display: m.user ? qualifiedUserName(m.user.domain.name, m.user.userName) : undefined }
      : { value: m.memberId, type: 'Group' as const, display: m.nestedGroup ? qualifiedUserName(m.nestedGroup.domain.name, m.nestedGroup.displayName) : undefined },
  );
}

/** A group's member ids and types only: what a snapshot needs, cheap even for large groups. */
async function memberRefs(tx: Tx, groupId: string, only?: readonly string[]): Promise<MemberRef[]> {
  const rows = await tx.groupMember.findMany({
    where: { groupId, ...(only && { memberId: { in: [...only] } }) },
    select: { memberId: true, memberType: true },
  });
  return rows.map((r) => ({ value: r.memberId, type: r.memberType as 'User' | 'Group' }));
}

/** The snapshot of a change from the member sets before and after it, or undefined when it is too large to keep. */
function snapshotOf(before: GroupRow, membersBefore: readonly MemberRef[], membersAfter: readonly MemberRef[]): GroupSnapshot | undefined {
  const had = new Set(membersBefore.map((m) => m.value));
  const has = new Set(membersAfter.map((m) => m.value));
  const added = membersAfter.filter((m) => !had.has(m.value));
  const removed = membersBefore.filter((m) => !has.has(m.value));
  if (added.length + removed.length > MAX_GROUP_SNAPSHOT_MEMBERS) return undefined;
  return { group: toGroupRecord(before, undefined), added, removed };
}

function uniqueness(input: GroupInput): ScimRejection {
  return { status: 409, scimType: 'uniqueness', detail: `A group with displayName '${input.displayName}' already exists in user store domain ${input.domain}` };
}

class Rejected extends Error {
  constructor(readonly rejection: ScimRejection) {
    super(rejection.detail);
  }
}

/**
 * Resolves member references to users or groups. A reference to nothing, or a type that contradicts what the
 * id is, is a 400 (RFC 7644 §3.5.2: invalid values are rejected, nothing is written).
 */
async function resolveMembers(tx: Tx, groupId: string, refs: readonly MemberRef[]): Promise<{ memberId: string; type: 'User' | 'Group' }[]> {
  if (refs.length === 0) return [];
  const bad = refs.find((r) => !isUuid(r.value));
  if (bad) throw new Rejected({ status: 400, scimType: 'invalidValue', detail: `Member '${bad.value}' does not exist` });
  const ids = [...new Set(refs.map((r) => r.value.toLowerCase()))];
  const [users, groups] = await Promise.all([
    tx.user.findMany({ where: { id: { in: ids } }, select: { id: true } }),
    tx.group.findMany({ where: { id: { in: ids } }, select: { id: true } }),
  ]);
  const userIds = new Set(users.map((u) => u.id));
  const groupIds = new Set(groups.map((g) => g.id));
  return ids.map((id) => {
    const type = userIds.has(id) ? 'User' : groupIds.has(id) ? 'Group' : undefined;
    const ref = refs.find((r) => r.value.toLowerCase() === id);
    if (!type) throw new Rejected({ status: 400, scimType: 'invalidValue', detail: `Member '${ref?.value ?? id}' does not exist` });
    if (ref?.type && ref.type !== type) {
      throw new Rejected({ status: 400, scimType: 'invalidValue', detail: `Member '${id}' is a ${type}, not a ${ref.type}` });
    }
    if (type === 'Group' && id === groupId) throw new Rejected({ status: 400, scimType: 'invalidValue', detail: 'A group cannot be a member of itself' });
    return { memberId: id, type };
  });
}

async function addMembers(tx: Tx, groupId: string, refs: readonly MemberRef[]): Promise<void> {
  const members = await resolveMembers(tx, groupId, refs);
  if (members.length === 0) return;
  await tx.groupMember.createMany({
    data: members.map((m) => ({
      groupId,
      memberId: m.memberId,
      memberType: m.type,
      userMemberId: m.type === 'User' ? m.memberId : null,
      groupMemberId: m.type === 'Group' ? m.memberId : null,
    })),
    skipDuplicates: true,
  });
}

function attributesJson(input: GroupInput): Prisma.InputJsonObject {
  return { ...input.extensions } as Prisma.InputJsonObject;
}

/**
 * Runs a write in the ledger, turning a Rejected thrown inside into a rejection result (nothing written), like a
 * value the database refuses (see once). `values` is what is being written, when it is known only inside `body`.
 */
async function write(
  db: PrismaClient,
  requestId: string,
  body: (tx: Tx) => Promise<GroupStoreResult>,
  input?: GroupInput,
  values: () => unknown = () => input,
): Promise<GroupStoreResult> {
  try {
    // A Rejected thrown by `body` rolls the transaction back (ledger row included) before it becomes a result.
    return await once(db, requestId, body, values);
  } catch (err) {
    if (err instanceof Rejected) return { ok: false, rejection: err.rejection };
    if (input && isUniqueViolation(err)) return { ok: false, rejection: uniqueness(input) };
    throw err;
  }
}

/** Writes a group's own attributes and bumps its version: the common end of PUT and PATCH. */
function writeAttributes(tx: Tx, id: string, input: GroupInput): Promise<GroupRow> {
  return tx.group.update({
    where: { id },
    data: {
      displayName: input.displayName,
      displayNameNormalized: input.displayName.toLowerCase(),
      externalId: input.externalId ?? null,
      attributes: attributesJson(input),
      version: { increment: 1 },
    },
    include: groupInclude,
  });
}

async function lockGroup(tx: Tx, id: string, ifMatchVersion: number | undefined): Promise<{ version: number; domain_id: string }> {
  const locked = await tx.$queryRaw<{ version: number; domain_id: string }[]>`
    SELECT version, domain_id FROM scim_group WHERE id = ${id}::uuid FOR UPDATE`;
  const current = locked[0];
  if (!current) throw new Rejected({ status: 404, detail: `Group ${id} not found` });
  if (ifMatchVersion !== undefined && ifMatchVersion !== current.version) {
    throw new Rejected({ status: 412, detail: `Version mismatch: the group is at version ${current.version}` });
  }
  return current;
}

async function checkName(tx: Tx, domain: string, input: GroupInput, exceptId?: string): Promise<void> {
  const taken = await tx.group.findFirst({
    where: { domainId: domain, displayNameNormalized: input.displayName.toLowerCase(), ...(exceptId && { NOT: { id: exceptId } }) },
    select: { id: true },
  });
  if (taken) throw new Rejected(uniqueness(input));
}

export async function createGroup(db: PrismaClient, requestId: string, id: string, input: GroupInput): Promise<GroupStoreResult> {
  return write(
    db,
    requestId,
    async (tx) => {
      const domain = await domainId(tx, input.domain);
      if (!domain) throw new Rejected({ status: 400, scimType: 'invalidValue', detail: `Unknown user store domain '${input.domain}'` });
      await checkName(tx, domain, input);
      const row = await tx.group.create({
        data: {
          id,
          domainId: domain,
          displayName: input.displayName,
          displayNameNormalized: input.displayName.toLowerCase(),
          externalId: input.externalId ?? null,
          attributes: attributesJson(input),
          version: 1,
        },
        include: groupInclude,
      });
      await addMembers(tx, id, input.members);
      return { ok: true, group: toGroupRecord(row, await loadMembers(tx, id)) };
    },
    input,
  );
}

export async function replaceGroup(
  db: PrismaClient,
  requestId: string,
  id: string,
  input: GroupInput,
  ifMatchVersion?: number,
  /** The changing workflow's id, keying the users recorded for role-based provisioning. */
  pendingKey = requestId,
): Promise<GroupStoreResult> {
  return write(
    db,
    requestId,
    async (tx) => {
      const current = await lockGroup(tx, id, ifMatchVersion);
      const domain = await domainId(tx, input.domain);
      if (domain !== current.domain_id) {
        throw new Rejected({ status: 400, scimType: 'mutability', detail: 'The user store domain of a group cannot be changed' });
      }
      await checkName(tx, current.domain_id, input, id);
      const before = await tx.group.findUniqueOrThrow({ where: { id }, include: groupInclude });
      const membersBefore = await memberRefs(tx, id);
      await tx.groupMember.deleteMany({ where: { groupId: id } });
      await addMembers(tx, id, input.members);
      const row = await writeAttributes(tx, id, input);
      const members = await loadMembers(tx, id);
      const provisioningPending = await recordGroupRoleProvisioning(tx, pendingKey, id, membersBefore, members);
      return { ok: true, group: toGroupRecord(row, members), previous: snapshotOf(before, membersBefore, members), provisioningPending };
    },
    input,
  );
}

/**
 * Applies a group PATCH: `patch` turns the current group (without members) into the new attributes and a
 * membership delta (src/scim/patch.ts applyGroupPatch); only the named member rows are touched. The result
 * carries no members (the caller renders them only if asked; RFC 7644 §3.5.2 lets a PATCH answer 204).
 */
export async function patchGroup(
  db: PrismaClient,
  requestId: string,
  id: string,
  patch: (current: GroupRecord) => { input: GroupInput; delta: MemberDelta; matchesMember?: (m: MemberRecord) => boolean },
  ifMatchVersion?: number,
  pendingKey = requestId,
): Promise<GroupStoreResult> {
  let attempted: ReturnType<typeof patch> | undefined;
  return write(db, requestId, async (tx) => {
    const current = await lockGroup(tx, id, ifMatchVersion);
    const row = await tx.group.findUniqueOrThrow({ where: { id }, include: groupInclude });
    let result: ReturnType<typeof patch>;
    try {
      result = patch(toGroupRecord(row, undefined));
    } catch (err) {
      const e = err as { status?: number; detail?: string; scimType?: string };
      if (typeof e.status === 'number' && typeof e.detail === 'string') throw new Rejected({ status: e.status, detail: e.detail, scimType: e.scimType });
      throw err;
    }
    attempted = result;
    const input = result.input;
    const domain = await domainId(tx, input.domain);
    if (domain !== current.domain_id) {
      throw new Rejected({ status: 400, scimType: 'mutability', detail: 'The user store domain of a group cannot be changed' });
    }
    await checkName(tx, current.domain_id, input, id);
    // Snapshot: a delta that names its members reads only those rows before and after; one that replaces or
    // filters the membership reads the whole set (ids only).
    const { delta } = result;
    const whole = delta.replaceAll !== undefined || delta.removeAll === true || (delta.removeWhere?.length ?? 0) > 0;
    const named = whole ? undefined : [...new Set([...delta.remove, ...delta.add.map((m) => m.value)].filter(isUuid).map((v) => v.toLowerCase()))];
    const membersBefore = await memberRefs(tx, id, named);
    await applyMemberDelta(tx, id, delta, result.matchesMember);
    const membersAfter = await memberRefs(tx, id, named);
    const updated = await writeAttributes(tx, id, input);
    const provisioningPending = await recordGroupRoleProvisioning(tx, pendingKey, id, membersBefore, membersAfter);
    return { ok: true, group: toGroupRecord(updated, undefined), previous: snapshotOf(row, membersBefore, membersAfter), provisioningPending };
  }, undefined, () => attempted && { ...attempted.input, members: attempted.delta });
}

/** Applies membership changes in order: replace/remove-all first, then removals, then additions. */
async function applyMemberDelta(tx: Tx, groupId: string, delta: MemberDelta, matchesMember?: (m: MemberRecord) => boolean): Promise<void> {
  if (delta.replaceAll !== undefined || delta.removeAll) {
    await tx.groupMember.deleteMany({ where: { groupId } });
    if (delta.replaceAll) await addMembers(tx, groupId, delta.replaceAll);
  }
  const remove = delta.remove.filter(isUuid).map((v) => v.toLowerCase());
  if (remove.length > 0) await tx.groupMember.deleteMany({ where: { groupId, memberId: { in: remove } } });
  if (delta.removeWhere && delta.removeWhere.length > 0 && matchesMember) {
    // Filters other than `value eq` (rare: `members[display co "x"]`) need the member rows: load only then.
    const members = await loadMembers(tx, groupId);
    const ids = members.filter(matchesMember).map((m) => m.value);
    if (ids.length > 0) await tx.groupMember.deleteMany({ where: { groupId, memberId: { in: ids } } });
  }
  if (delta.add.length > 0) await addMembers(tx, groupId, delta.add);
}

export async function deleteGroup(db: PrismaClient, requestId: string, id: string, ifMatchVersion?: number, pendingKey = requestId): Promise<GroupStoreResult> {
  return write(db, requestId, async (tx) => {
    await lockGroup(tx, id, ifMatchVersion);
    const row = await tx.group.findUniqueOrThrow({ where: { id }, include: groupInclude });
    const members = await memberRefs(tx, id);
    // Before the deletion takes the group's role assignments with it: its members lose those roles.
    const provisioningPending = await recordGroupRoleProvisioning(tx, pendingKey, id, members, []);
    await tx.group.delete({ where: { id } });
    return { ok: true, group: { ...toGroupRecord(row, undefined), version: row.version + 1 }, previous: snapshotOf(row, members, []), provisioningPending };
  });
}

/**
 * Undoes a group change from its snapshot (the saga of a blocking target's refusal): the attributes come back, the
 * members the change added go, the ones it removed return (those that still exist); a deleted group is created
 * again with its id. Like every change it gets a new, higher version, so the targets apply it after the refused one.
 */
export async function restoreGroup(db: PrismaClient, requestId: string, snapshot: GroupSnapshot, afterVersion: number): Promise<GroupStoreResult> {
  const { id, domain, displayName, externalId, extensions } = snapshot.group;
  const input: GroupInput = { domain, displayName, externalId, extensions, members: [] };
  return write(
    db,
    requestId,
    async (tx) => {
      const exists = await tx.group.findUnique({ where: { id }, select: { id: true } });
      const domainRow = await domainId(tx, domain);
      if (!domainRow) throw new Rejected({ status: 400, detail: `Unknown user store domain '${domain}'` });
      await checkName(tx, domainRow, input, id);
      if (exists) {
        await lockGroup(tx, id, undefined);
        const added = snapshot.added.map((m) => m.value);
        if (added.length > 0) await tx.groupMember.deleteMany({ where: { groupId: id, memberId: { in: added } } });
      } else {
        await tx.group.create({
          data: { id, domainId: domainRow, displayName, displayNameNormalized: displayName.toLowerCase(), externalId: externalId ?? null, attributes: attributesJson(input), version: afterVersion },
        });
      }
      // Members removed by the change come back if they still exist; one deleted since is left out, not an error.
      const ids = snapshot.removed.map((m) => m.value);
      const [users, groups] = await Promise.all([
        tx.user.findMany({ where: { id: { in: ids } }, select: { id: true } }),
        tx.group.findMany({ where: { id: { in: ids } }, select: { id: true } }),
      ]);
      const alive = new Set([...users, ...groups].map((r) => r.id));
      await addMembers(tx, id, snapshot.removed.filter((m) => alive.has(m.value)));
      const row = await writeAttributes(tx, id, input);
      return { ok: true, group: toGroupRecord(row, undefined) };
    },
    input,
  );
}

export async function getGroup(db: PrismaClient, id: string, opts: { members: boolean } = { members: true }): Promise<GroupRecord | undefined> {
  if (!isUuid(id)) return undefined;
  const row = await db.group.findUnique({ where: { id }, include: groupInclude });
  if (!row) return undefined;
  return toGroupRecord(row, opts.members ? await loadMembers(db, id) : undefined);
}

/** Loads groups by id, keeping the order of `ids` (the order a filtered, sorted query chose). */
export async function getGroupsByIds(db: PrismaClient, ids: readonly string[], opts: { members: boolean }): Promise<GroupRecord[]> {
  if (ids.length === 0) return [];
  const rows = await db.group.findMany({ where: { id: { in: [...ids] } }, include: groupInclude });
  const byId = new Map(rows.map((r) => [r.id, r]));
  const out: GroupRecord[] = [];
  for (const id of ids) {
    const row = byId.get(id);
    if (row) out.push(toGroupRecord(row, opts.members ? await loadMembers(db, id) : undefined));
  }
  return out;
}
