/**
 * Roles in the user store (WSO2's role model): a role permits API scopes and is held by the users assigned to it
 * and by the direct user members of the groups assigned to it (src/userstore/user-access.ts reads what a user
 * holds). Writes are called by the RoleChange workflow's activity, idempotent by request id through the
 * store_request ledger like every user-store write; reads by the admin API and SCIM /Roles handlers.
 *
 * Assignments are rows (role_user, role_group), so assigning one user to a role held by 100,000 touches one row.
 *
 * A change to a role that an identity provider names as an outbound provisioning role also records, in the same
 * transaction, the users whose provisioning it must re-decide (role_provisioning_pending): the users it assigned
 * or unassigned and the members of the groups it assigned or unassigned. The RoleChange workflow then hands each
 * of them to its OutboundFanOut (activities/roles.ts); the rows make that survive any crash.
 */
import type { PrismaClient } from '../db/client.js';
import { isUniqueViolation } from '../db/errors.js';
import { Prisma } from '../generated/prisma/client.js';
import type { ScimRejection } from '../provisioning/types.js';
import { qualifiedUserName } from '../scim/user-resource.js';
import { isUuid, once, type Tx } from './users.js';

/** A role's full writable state (create, replace). */
export interface RoleInput {
  name: string;
  externalId?: string | undefined;
  description?: string | undefined;
  /** API scopes (validated by the caller against src/http/oauth/scopes.ts). */
  permissions: string[];
  /** User ids assigned directly. */
  users: string[];
  /** Group ids whose direct user members hold the role. */
  groups: string[];
}

/** One step of a role PATCH on a multi-valued attribute, applied in order (RFC 7644 §3.5.2). */
export interface RoleListOperation {
  attribute: 'users' | 'groups' | 'permissions';
  op: 'add' | 'remove' | 'replace';
  /** For remove: the values to remove; absent removes them all. */
  values?: string[] | undefined;
}

export interface RolePatch {
  name?: string | undefined;
  /** null clears it. */
  externalId?: string | null | undefined;
  /** null clears it. */
  description?: string | null | undefined;
  operations: RoleListOperation[];
}

export type RoleChange =
  | { operation: 'create'; input: RoleInput }
  | { operation: 'replace'; input: RoleInput; ifMatchVersion?: number | undefined }
  | { operation: 'patch'; patch: RolePatch; ifMatchVersion?: number | undefined }
  | { operation: 'delete'; ifMatchVersion?: number | undefined };

export interface RoleMember {
  value: string;
  /** `DOMAIN/name` as WSO2 shows it (bare in PRIMARY). */
  display: string;
}

export interface RoleRecord {
  id: string;
  name: string;
  externalId?: string | undefined;
  description?: string | undefined;
  permissions: string[];
  /** Absent when the read did not load assignments. */
  users?: RoleMember[] | undefined;
  groups?: RoleMember[] | undefined;
  version: number;
  created: string;
  lastModified: string;
}

export type RoleStoreResult =
  | {
      ok: true;
      role: RoleRecord;
      /** Users recorded for outbound re-provisioning (role_provisioning_pending) by this change. */
      provisioningPending: number;
    }
  | { ok: false; rejection: ScimRejection };

/** A user's role, and whether it holds it directly or through groups (named). */
export interface HeldRole {
  role: RoleRecord;
  direct: boolean;
  viaGroups: RoleMember[];
}

class Rejected extends Error {
  constructor(readonly rejection: ScimRejection) {
    super(rejection.detail);
  }
}

const { sql } = Prisma;

type RoleRow = Prisma.RoleGetPayload<object>;

function toRoleRecord(row: RoleRow, members?: { users: RoleMember[]; groups: RoleMember[] }): RoleRecord {
  return {
    id: row.id,
    name: row.name,
    externalId: row.externalId ?? undefined,
    description: row.description ?? undefined,
    permissions: row.permissions,
    ...(members && { users: members.users, groups: members.groups }),
    version: row.version,
    created: row.createdAt.toISOString(),
    lastModified: row.updatedAt.toISOString(),
  };
}

async function loadAssignments(db: Tx | PrismaClient, roleId: string): Promise<{ users: RoleMember[]; groups: RoleMember[] }> {
  const [users, groups] = await Promise.all([
    db.roleUser.findMany({ where: { roleId }, include: { user: { include: { domain: true } } }, orderBy: [{ createdAt: 'asc' }, { userId: 'asc' }] }),
    db.roleGroup.findMany({ where: { roleId }, include: { group: { include: { domain: true } } }, orderBy: [{ createdAt: 'asc' }, { groupId: 'asc' }] }),
  ]);
  return {
    users: users.map((u) => ({ value: u.userId, display: qualifiedUserName(u.user.domain.name, u.user.userName) })),
    groups: groups.map((g) => ({ value: g.groupId, display: qualifiedUserName(g.group.domain.name, g.group.displayName) })),
  };
}

const distinctIds = (ids: readonly string[]) => [...new Set(ids.map((id) => id.toLowerCase()))];

/** Refuses ids that name no user (or group): a role assignment of nothing is a 400, and nothing is written. */
async function assertExist(tx: Tx, kind: 'users' | 'groups', ids: readonly string[]): Promise<string[]> {
  const wanted = distinctIds(ids);
  if (wanted.length === 0) return [];
  const bad = wanted.find((id) => !isUuid(id));
  const found =
    bad === undefined
      ? kind === 'users'
        ? await tx.user.findMany({ where: { id: { in: wanted } }, select: { id: true } })
        : await tx.group.findMany({ where: { id: { in: wanted } }, select: { id: true } })
      : [];
  const known = new Set(found.map((r) => r.id));
  const missing = bad ?? wanted.find((id) => !known.has(id));
  if (missing !== undefined) {
    throw new Rejected({ status: 400, scimType: 'invalidValue', detail: `No ${kind === 'users' ? 'user' : 'group'} with id '${missing}'` });
  }
  return wanted;
}

/**
 * Records users for outbound re-provisioning: the users named, and the direct user members of the groups named.
 * Called before a removal (the rows still say who was affected) and after an addition.
 */
async function recordPending(tx: Tx, pendingKey: string, roleId: string, users: readonly string[], groups: readonly string[]): Promise<void> {
  if (users.length > 0) {
    await tx.$executeRaw`
      INSERT INTO role_provisioning_pending (request_id, user_id, role_id)
      SELECT ${pendingKey}, u.id, ${roleId}::uuid FROM scim_user u WHERE u.id = ANY(${users}::uuid[])
      ON CONFLICT DO NOTHING`;
  }
  if (groups.length > 0) {
    await tx.$executeRaw`
      INSERT INTO role_provisioning_pending (request_id, user_id, role_id)
      SELECT DISTINCT ${pendingKey}, m.member_id, ${roleId}::uuid FROM scim_group_member m
      WHERE m.group_id = ANY(${groups}::uuid[]) AND m.member_type = 'User'
      ON CONFLICT DO NOTHING`;
  }
}

/** The role's current assignments of one kind, as ids (what a replace or remove-all takes away). */
async function assignedIds(tx: Tx, roleId: string, kind: 'users' | 'groups'): Promise<string[]> {
  if (kind === 'users') return (await tx.roleUser.findMany({ where: { roleId }, select: { userId: true } })).map((r) => r.userId);
  return (await tx.roleGroup.findMany({ where: { roleId }, select: { groupId: true } })).map((r) => r.groupId);
}

interface Writer {
  tx: Tx;
  roleId: string;
  /** Set when the role is an outbound provisioning role: where affected users are recorded. */
  pendingKey: string | undefined;
}

async function addAssignments(w: Writer, kind: 'users' | 'groups', ids: readonly string[]): Promise<void> {
  const wanted = await assertExist(w.tx, kind, ids);
  if (wanted.length === 0) return;
  if (kind === 'users') {
    await w.tx.roleUser.createMany({ data: wanted.map((userId) => ({ roleId: w.roleId, userId })), skipDuplicates: true });
    if (w.pendingKey) await recordPending(w.tx, w.pendingKey, w.roleId, wanted, []);
  } else {
    await w.tx.roleGroup.createMany({ data: wanted.map((groupId) => ({ roleId: w.roleId, groupId })), skipDuplicates: true });
    if (w.pendingKey) await recordPending(w.tx, w.pendingKey, w.roleId, [], wanted);
  }
}

/** Removes the listed assignments, or all of them (`ids` undefined). Unknown ids are nothing to remove. */
async function removeAssignments(w: Writer, kind: 'users' | 'groups', ids: readonly string[] | undefined): Promise<void> {
  const gone = ids === undefined ? await assignedIds(w.tx, w.roleId, kind) : distinctIds(ids).filter(isUuid);
  if (gone.length === 0) return;
  if (w.pendingKey) await recordPending(w.tx, w.pendingKey, w.roleId, kind === 'users' ? gone : [], kind === 'groups' ? gone : []);
  if (kind === 'users') await w.tx.roleUser.deleteMany({ where: { roleId: w.roleId, userId: { in: gone } } });
  else await w.tx.roleGroup.deleteMany({ where: { roleId: w.roleId, groupId: { in: gone } } });
}

async function replaceAssignments(w: Writer, kind: 'users' | 'groups', ids: readonly string[]): Promise<void> {
  const wanted = await assertExist(w.tx, kind, ids);
  const current = await assignedIds(w.tx, w.roleId, kind);
  const keep = new Set(wanted);
  await removeAssignments(w, kind, current.filter((id) => !keep.has(id)));
  const had = new Set(current);
  await addAssignments(w, kind, wanted.filter((id) => !had.has(id)));
}

function applyPermissions(current: string[], op: RoleListOperation): string[] {
  const values = op.values ?? [];
  if (op.op === 'replace') return [...new Set(values)];
  if (op.op === 'add') return [...new Set([...current, ...values])];
  if (op.values === undefined) return [];
  const gone = new Set(values);
  return current.filter((p) => !gone.has(p));
}

function nameTaken(name: string): ScimRejection {
  return { status: 409, scimType: 'uniqueness', detail: `A role named '${name}' already exists` };
}

async function assertNameFree(tx: Tx, name: string, exceptId: string): Promise<void> {
  const taken = await tx.role.findFirst({ where: { nameNormalized: name.toLowerCase(), NOT: { id: exceptId } }, select: { id: true } });
  if (taken) throw new Rejected(nameTaken(name));
}

/** Locks the role's row: concurrent changes of one role serialize, so versions never collide. */
async function lockRole(tx: Tx, id: string, ifMatchVersion: number | undefined): Promise<RoleRow> {
  const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM role WHERE id = ${id}::uuid FOR UPDATE`;
  if (locked.length === 0) throw new Rejected({ status: 404, detail: `Role ${id} not found` });
  const row = await tx.role.findUniqueOrThrow({ where: { id } });
  if (ifMatchVersion !== undefined && ifMatchVersion !== row.version) {
    throw new Rejected({ status: 412, detail: `Version mismatch: the role is at version ${row.version}` });
  }
  return row;
}

async function isProvisioningRole(tx: Tx, roleId: string): Promise<boolean> {
  return (await tx.identityProviderProvisioningRole.count({ where: { roleId } })) > 0;
}

/**
 * Applies one role change, once per request id. `pendingKey` (the workflow id) keys the users recorded for
 * outbound re-provisioning. Rejections (400 unknown user or group, 404, 409 name taken or role in use as an
 * outbound provisioning role, 412) are results, not failures.
 */
export async function writeRole(db: PrismaClient, requestId: string, pendingKey: string, id: string, change: RoleChange): Promise<RoleStoreResult> {
  try {
    // A rejection is thrown, not returned, so the transaction rolls back whatever the change had written before
    // it (an operation of a PATCH failing after an earlier one applied): all of it applies or none does.
    return await once<RoleStoreResult>(db, requestId, (tx) => applyChange(tx, pendingKey, id, change));
  } catch (err) {
    if (err instanceof Rejected) return { ok: false, rejection: err.rejection };
    if (isUniqueViolation(err) && change.operation !== 'delete') {
      const name = change.operation === 'patch' ? (change.patch.name ?? '') : change.input.name;
      return { ok: false, rejection: nameTaken(name) };
    }
    throw err;
  }
}

async function applyChange(tx: Tx, pendingKey: string, id: string, change: RoleChange): Promise<RoleStoreResult> {
  if (change.operation === 'create') {
    const { input } = change;
    await assertNameFree(tx, input.name, id);
    const row = await tx.role.create({
      data: {
        id,
        name: input.name,
        nameNormalized: input.name.toLowerCase(),
        externalId: input.externalId ?? null,
        description: input.description ?? null,
        permissions: [...new Set(input.permissions)],
      },
    });
    // A new role is nobody's outbound provisioning role yet: nothing to re-provision.
    const w: Writer = { tx, roleId: id, pendingKey: undefined };
    await addAssignments(w, 'users', input.users);
    await addAssignments(w, 'groups', input.groups);
    return { ok: true, role: toRoleRecord(row), provisioningPending: 0 };
  }

  const current = await lockRole(tx, id, change.ifMatchVersion);
  const provisioning = await isProvisioningRole(tx, id);
  const w: Writer = { tx, roleId: id, pendingKey: provisioning ? pendingKey : undefined };

  if (change.operation === 'delete') {
    if (provisioning) {
      const idps = await tx.identityProviderProvisioningRole.findMany({ where: { roleId: id }, include: { idp: true } });
      throw new Rejected({
        status: 409,
        detail: `Role '${current.name}' is an outbound provisioning role of ${idps.map((p) => `identity provider '${p.idp.name}'`).join(', ')}: remove it there first (PUT /api/server/v1/identity-providers/{id}/roles)`,
      });
    }
    await tx.role.delete({ where: { id } });
    return { ok: true, role: { ...toRoleRecord(current), version: current.version + 1 }, provisioningPending: 0 };
  }

  let permissions = current.permissions;
  let name = current.name;
  let description: string | null = current.description;
  let externalId: string | null = current.externalId;
  if (change.operation === 'replace') {
    const { input } = change;
    name = input.name;
    externalId = input.externalId ?? null;
    description = input.description ?? null;
    permissions = [...new Set(input.permissions)];
    await replaceAssignments(w, 'users', input.users);
    await replaceAssignments(w, 'groups', input.groups);
  } else {
    const { patch } = change;
    if (patch.name !== undefined) name = patch.name;
    if (patch.description !== undefined) description = patch.description;
    if (patch.externalId !== undefined) externalId = patch.externalId;
    for (const op of patch.operations) {
      if (op.attribute === 'permissions') {
        permissions = applyPermissions(permissions, op);
      } else if (op.op === 'add') {
        await addAssignments(w, op.attribute, op.values ?? []);
      } else if (op.op === 'remove') {
        await removeAssignments(w, op.attribute, op.values);
      } else {
        await replaceAssignments(w, op.attribute, op.values ?? []);
      }
    }
  }
  if (name !== current.name) await assertNameFree(tx, name, id);
  const row = await tx.role.update({
    where: { id },
    data: { name, nameNormalized: name.toLowerCase(), externalId, description, permissions, version: { increment: 1 } },
  });
  const provisioningPending = provisioning ? await tx.roleProvisioningPending.count({ where: { requestId: pendingKey } }) : 0;
  return { ok: true, role: toRoleRecord(row), provisioningPending };
}

/**
 * For a membership change of a group: records (role_provisioning_pending, keyed by the changing workflow) the users
 * who joined or left it, once per outbound provisioning role the group holds, so they are provisioned to, or
 * deprovisioned from, those roles' identity providers. Nothing when the group holds no such role (the usual case:
 * one indexed lookup). Returns how many were recorded.
 */
export async function recordGroupRoleProvisioning(tx: Tx, pendingKey: string, groupId: string, before: readonly MemberRefLike[], after: readonly MemberRefLike[]): Promise<number> {
  const provisioning = await tx.$queryRaw<{ n: number }[]>`
    SELECT count(*)::int AS n FROM role_group rg JOIN identity_provider_provisioning_role p ON p.role_id = rg.role_id
    WHERE rg.group_id = ${groupId}::uuid`;
  if ((provisioning[0]?.n ?? 0) === 0) return 0;
  const users = (refs: readonly MemberRefLike[]) => new Set(refs.filter((m) => m.type === 'User').map((m) => m.value.toLowerCase()));
  const had = users(before);
  const has = users(after);
  const changed = [...[...had].filter((id) => !has.has(id)), ...[...has].filter((id) => !had.has(id))].filter(isUuid);
  if (changed.length === 0) return 0;
  return tx.$executeRaw`
    INSERT INTO role_provisioning_pending (request_id, user_id, role_id)
    SELECT DISTINCT ${pendingKey}, u.id, rg.role_id
    FROM scim_user u
    JOIN role_group rg ON rg.group_id = ${groupId}::uuid
    JOIN identity_provider_provisioning_role p ON p.role_id = rg.role_id
    WHERE u.id = ANY(${changed}::uuid[])
    ON CONFLICT DO NOTHING`;
}

/** A group member reference as the group store keeps it (src/provisioning/types.ts MemberRef). */
interface MemberRefLike {
  value: string;
  type?: 'User' | 'Group' | undefined;
}

export async function getRole(db: PrismaClient, id: string, opts: { assignments?: boolean } = {}): Promise<RoleRecord | undefined> {
  if (!isUuid(id)) return undefined;
  const row = await db.role.findUnique({ where: { id } });
  if (!row) return undefined;
  return toRoleRecord(row, opts.assignments === false ? undefined : await loadAssignments(db, id));
}

/** A filter on the role name, as WSO2's Roles API offers it: eq, co, sw, ew (case-insensitive). */
export interface RoleNameFilter {
  op: 'eq' | 'co' | 'sw' | 'ew';
  value: string;
}

/** Roles in creation order (or by name), a page of them, with the total; assignments are not loaded. */
export async function listRoles(
  db: PrismaClient,
  q: { name?: RoleNameFilter | undefined; startIndex: number; count: number; byName?: 'asc' | 'desc' | undefined },
): Promise<{ total: number; roles: RoleRecord[] }> {
  const value = q.name?.value.toLowerCase();
  const where: Prisma.RoleWhereInput =
    q.name === undefined || value === undefined
      ? {}
      : q.name.op === 'eq'
        ? { nameNormalized: value }
        : { nameNormalized: q.name.op === 'co' ? { contains: value } : q.name.op === 'sw' ? { startsWith: value } : { endsWith: value } };
  const [total, rows] = await Promise.all([
    db.role.count({ where }),
    q.count > 0
      ? db.role.findMany({
          where,
          orderBy: q.byName ? [{ nameNormalized: q.byName }] : [{ createdAt: 'asc' }, { id: 'asc' }],
          skip: Math.max(q.startIndex, 1) - 1,
          take: q.count,
        })
      : Promise.resolve([]),
  ]);
  return { total, roles: rows.map((r) => toRoleRecord(r)) };
}

/** The roles a user holds: assigned directly, or through the groups it is a direct member of (named). */
export async function rolesOfUser(db: PrismaClient, userId: string): Promise<HeldRole[]> {
  if (!isUuid(userId)) return [];
  const [direct, viaGroups] = await Promise.all([
    db.roleUser.findMany({ where: { userId }, include: { role: true } }),
    db.$queryRaw<{ role_id: string; group_id: string; group_name: string; domain: string }[]>(sql`
      SELECT rg.role_id::text AS role_id, g.id::text AS group_id, g.display_name AS group_name, d.name AS domain
      FROM scim_group_member m
      JOIN role_group rg ON rg.group_id = m.group_id
      JOIN scim_group g ON g.id = m.group_id
      JOIN user_store_domain d ON d.id = g.domain_id
      WHERE m.member_id = ${userId}::uuid AND m.member_type = 'User'`),
  ]);
  const held = new Map<string, HeldRole>();
  for (const r of direct) held.set(r.roleId, { role: toRoleRecord(r.role), direct: true, viaGroups: [] });
  const missing = [...new Set(viaGroups.map((g) => g.role_id).filter((id) => !held.has(id)))];
  const rows = missing.length > 0 ? await db.role.findMany({ where: { id: { in: missing } } }) : [];
  for (const row of rows) held.set(row.id, { role: toRoleRecord(row), direct: false, viaGroups: [] });
  for (const g of viaGroups) held.get(g.role_id)?.viaGroups.push({ value: g.group_id, display: qualifiedUserName(g.domain, g.group_name) });
  return [...held.values()].sort((a, b) => a.role.name.localeCompare(b.role.name));
}
