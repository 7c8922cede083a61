/**
 * Reconciliation of one target: the local users compared with the users the target has (connector.listUsers),
 * matched by the recorded remote id (remote_link), then by userName or externalId. Drift is reported; with
 * `repair`, each missing or differing local user is re-sent through its own OutboundFanOut (a UserEvent with
 * `resync: true`), so the repair is ordered with the changes already on their way. Orphans (users only the
 * target has) are reported, never deleted.
 *
 * One activity pages through both sides and heartbeats; only counts and at most MAX_ENTRIES drift entries go
 * back to the workflow, so its history stays small whatever the size of the target.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { OutboundDeps } from './outbound.js';
import { ConnectorError } from '../src/connectors/errors.js';
import type { RemoteGroup } from '../src/connectors/types.js';
import { loadConnectorConfig } from '../src/provisioning/connectors.js';
import { RESIDENT_APPLICATION_ID } from '../src/provisioning/defaults.js';
import { enqueueProvisioningEvent } from '../src/provisioning/enqueue.js';
import { targetForConnector } from '../src/provisioning/targets.js';
import type { OutboundTarget } from '../src/provisioning/types.js';
import { qualifiedUserName } from '../src/scim/user-resource.js';
import { getGroup } from '../src/userstore/groups.js';
import { getUser } from '../src/userstore/users.js';
import { foldUserName } from '../src/userstore/username.js';

/** Reconciliation repairs through the same fan-out as deliveries, so it needs exactly what they need. */
export type ReconcileDeps = OutboundDeps;

export interface ReconcileInput {
  connectorId: string;
  /** Re-send missing and differing users to the target. */
  repair: boolean;
  /** With repair: also re-create users the target deleted on its own (linked, but gone there). */
  recreateMissing: boolean;
}

export interface MissingEntry {
  localId: string;
  userName: string;
  /** never-provisioned: no link and no match by name; deleted-at-target: linked, but the target no longer has it. */
  reason: 'never-provisioned' | 'deleted-at-target';
  repaired: boolean;
}
export interface OrphanEntry {
  remoteId: string;
  userName: string;
  externalId?: string | undefined;
}
export interface DifferentEntry {
  localId: string;
  remoteId: string;
  fields: { field: 'userName' | 'active' | 'remoteId'; local: unknown; remote: unknown }[];
  repaired: boolean;
}

/** Group drift: the same three kinds, for connectors that can list their target's groups (listGroups). */
export interface GroupReport {
  local: number;
  remote: number;
  missing: { localId: string; displayName: string; reason: MissingEntry['reason']; repaired: boolean }[];
  orphans: { remoteId: string; displayName: string }[];
  /**
   * Linked groups whose name or members differ. Members are compared as the target's ids of the local members that
   * are provisioned there (members not provisioned there yet are the users' drift, not the group's).
   */
  different: {
    localId: string;
    remoteId: string;
    fields: { field: 'displayName' | 'remoteId' | 'members'; local: unknown; remote: unknown }[];
    repaired: boolean;
  }[];
  counts: { missing: number; orphans: number; different: number };
}

/** The reconciliation report: the workflow's result. Lists hold at most MAX_ENTRIES entries; counts are exact. */
export interface ReconcileReport {
  connectorId: string;
  checkedAt: string;
  /** Users in the local store, and at the target. */
  local: number;
  remote: number;
  missing: MissingEntry[];
  orphans: OrphanEntry[];
  different: DifferentEntry[];
  counts: { missing: number; orphans: number; different: number };
  /** True when a list was cut at MAX_ENTRIES. */
  truncated: boolean;
  repaired: number;
  /** Set when the target cannot be reconciled (its connector cannot list users): nothing else was checked. */
  unsupported?: string | undefined;
  /** Groups, when the connector can list them. */
  groups?: GroupReport | undefined;
}

export const MAX_ENTRIES = 1000;
const LOCAL_PAGE = 500;

interface RemoteLite {
  remoteId: string;
  userName: string;
  externalId?: string | undefined;
  active?: boolean | undefined;
}

const norm = (s: string) => s.toLowerCase();
/**
 * User names are matched as the store compares them (RFC 8265's mappings, src/userstore/username.ts): the target
 * may hold `ＡＬＩＣＥ` or the NFD spelling of a name we hold in NFC. Only the mappings: a remote name need not be
 * one this server would accept.
 */
const userNorm = foldUserName;

export function createReconcileActivities(deps: ReconcileDeps) {
  const { db, registry, box } = deps;

  async function reconcile(input: ReconcileInput): Promise<ReconcileReport> {
    const ctx = Context.current();
    const workflowId = ctx.info.workflowExecution?.workflowId ?? ctx.info.activityId;
    const report: ReconcileReport = {
      connectorId: input.connectorId,
      checkedAt: new Date().toISOString(),
      local: 0,
      remote: 0,
      missing: [],
      orphans: [],
      different: [],
      counts: { missing: 0, orphans: 0, different: 0 },
      truncated: false,
      repaired: 0,
    };
    const config = await loadConnectorConfig(db, box, input.connectorId);
    if (!config) return { ...report, unsupported: 'connector deleted' };
    const connector = registry.create({ type: config.type, settings: config.settings, secrets: config.secrets });
    if (!connector.listUsers) return { ...report, unsupported: `the ${config.type} connector cannot list its target's users` };
    const target = await targetForConnector(db, input.connectorId);
    if (!target) return { ...report, unsupported: 'connector deleted' };

    // The target's side, page by page (the connector pages); only the fields compared are kept.
    const byRemoteId = new Map<string, RemoteLite>();
    const byName = new Map<string, RemoteLite>();
    const byExternalId = new Map<string, RemoteLite>();
    for await (const r of connector.listUsers()) {
      const lite: RemoteLite = { remoteId: r.remoteId, userName: r.userName, externalId: r.externalId, active: r.active };
      byRemoteId.set(r.remoteId, lite);
      byName.set(userNorm(r.userName), lite);
      if (r.externalId !== undefined) byExternalId.set(r.externalId, lite);
      if (byRemoteId.size % 100 === 0) ctx.heartbeat({ phase: 'remote', seen: byRemoteId.size });
    }
    report.remote = byRemoteId.size;
    const matched = new Set<string>();

    const repairs: string[] = [];
    const push = <T>(list: T[], entry: T) => {
      if (list.length < MAX_ENTRIES) list.push(entry);
      else report.truncated = true;
    };

    // The local side, page by page, with this connector's links.
    for (let cursor: string | undefined; ; ) {
      const users = await db.user.findMany({
        where: cursor ? { id: { gt: cursor } } : {},
        orderBy: { id: 'asc' },
        take: LOCAL_PAGE,
        select: { id: true, userName: true, externalId: true, active: true, domain: { select: { name: true } } },
      });
      if (users.length === 0) break;
      cursor = users[users.length - 1]!.id;
      const links = await db.remoteLink.findMany({
        where: { connectorId: input.connectorId, resourceType: 'User', localId: { in: users.map((u) => u.id) } },
      });
      const linkOf = new Map(links.map((l) => [l.localId, l]));
      for (const u of users) {
        report.local += 1;
        const link = linkOf.get(u.id);
        const qualified = qualifiedUserName(u.domain.name.toUpperCase(), u.userName);
        const linked = link?.remoteId && !link.deletedAt ? link.remoteId : undefined;
        const byLink = linked ? byRemoteId.get(linked) : undefined;
        const byIdentity = byName.get(userNorm(qualified)) ?? byName.get(userNorm(u.userName)) ?? (u.externalId ? byExternalId.get(u.externalId) : undefined);
        const remote = byLink ?? (byIdentity && !matched.has(byIdentity.remoteId) ? byIdentity : undefined);
        if (!remote && linked) {
          // Linked, but the target no longer has it: deleted there behind our back.
          report.counts.missing += 1;
          const repair = input.repair && input.recreateMissing;
          if (repair) repairs.push(u.id);
          push(report.missing, { localId: u.id, userName: u.userName, reason: 'deleted-at-target', repaired: repair });
          continue;
        }
        if (!remote) {
          report.counts.missing += 1;
          if (input.repair) repairs.push(u.id);
          push(report.missing, { localId: u.id, userName: u.userName, reason: 'never-provisioned', repaired: input.repair });
          continue;
        }
        matched.add(remote.remoteId);
        const fields: DifferentEntry['fields'] = [];
        // Linked, but the target has it under another id now (deleted and re-created there): repair re-links it.
        if (linked && !byLink) fields.push({ field: 'remoteId', local: linked, remote: remote.remoteId });
        if (userNorm(remote.userName) !== userNorm(qualified) && userNorm(remote.userName) !== userNorm(u.userName)) {
          fields.push({ field: 'userName', local: qualified, remote: remote.userName });
        }
        // An unassigned `active` means active (new users are active unless told otherwise).
        if ((u.active ?? true) !== (remote.active ?? true)) fields.push({ field: 'active', local: u.active ?? true, remote: remote.active ?? true });
        if (fields.length > 0) {
          report.counts.different += 1;
          if (input.repair) repairs.push(u.id);
          push(report.different, { localId: u.id, remoteId: remote.remoteId, fields, repaired: input.repair });
        }
      }
      ctx.heartbeat({ phase: 'local', seen: report.local });
    }
    for (const r of byRemoteId.values()) {
      if (matched.has(r.remoteId)) continue;
      report.counts.orphans += 1;
      push(report.orphans, { remoteId: r.remoteId, userName: r.userName, ...(r.externalId !== undefined && { externalId: r.externalId }) });
    }

    // Repairs go through each user's OutboundFanOut, so they are ordered with the changes already queued there. The
    // event id is derived from this run, so a retried activity re-sends nothing twice (the fan-out drops duplicates).
    const initiator = { applicationId: RESIDENT_APPLICATION_ID, channel: 'reconcile', label: `reconciliation ${workflowId}` };
    for (const id of repairs) {
      const user = await getUser(db, id);
      if (!user) continue; // deleted meanwhile: its delete is on its way
      await enqueueProvisioningEvent(deps.temporal, deps, {
        eventId: `${workflowId}:${id}`,
        resourceType: 'User',
        operation: 'update',
        localId: id,
        version: user.version,
        user,
        targets: [target],
        initiator,
        resync: true,
      });
      report.repaired += 1;
      if (report.repaired % 50 === 0) ctx.heartbeat({ phase: 'repair', repaired: report.repaired });
    }
    if (connector.listGroups) report.groups = await reconcileGroups(input, connector.listGroups(), target, workflowId, report, push);
    return report;
  }

  /**
   * Groups: matched by the recorded remote id, then by displayName (bare or with the domain prefix the connectors
   * send) or externalId; compared by name and by members. Repairs are group re-sends (resync events) through each
   * group's own OutboundFanOut, which translates the current members at delivery.
   */
  async function reconcileGroups(
    input: ReconcileInput,
    remoteGroups: AsyncIterable<RemoteGroup>,
    target: OutboundTarget,
    workflowId: string,
    report: ReconcileReport,
    push: <T>(list: T[], entry: T) => void,
  ): Promise<GroupReport> {
    const ctx = Context.current();
    const groups: GroupReport = { local: 0, remote: 0, missing: [], orphans: [], different: [], counts: { missing: 0, orphans: 0, different: 0 } };
    const byRemoteId = new Map<string, RemoteGroup>();
    const byName = new Map<string, RemoteGroup>();
    const byExternalId = new Map<string, RemoteGroup>();
    for await (const g of remoteGroups) {
      byRemoteId.set(g.remoteId, g);
      byName.set(norm(g.displayName), g);
      if (g.externalId !== undefined) byExternalId.set(g.externalId, g);
      if (byRemoteId.size % 100 === 0) ctx.heartbeat({ phase: 'remote-groups', seen: byRemoteId.size });
    }
    groups.remote = byRemoteId.size;
    const matched = new Set<string>();
    const repairs: string[] = [];
    for (let cursor: string | undefined; ; ) {
      const page = await db.group.findMany({
        where: cursor ? { id: { gt: cursor } } : {},
        orderBy: { id: 'asc' },
        take: LOCAL_PAGE,
        select: { id: true, displayName: true, externalId: true, domain: { select: { name: true } } },
      });
      if (page.length === 0) break;
      cursor = page[page.length - 1]!.id;
      const links = await db.remoteLink.findMany({
        where: { connectorId: input.connectorId, resourceType: 'Group', localId: { in: page.map((g) => g.id) } },
      });
      const linkOf = new Map(links.map((l) => [l.localId, l]));
      for (const g of page) {
        groups.local += 1;
        const link = linkOf.get(g.id);
        const qualified = qualifiedUserName(g.domain.name.toUpperCase(), g.displayName);
        const linked = link?.remoteId && !link.deletedAt ? link.remoteId : undefined;
        const byLink = linked ? byRemoteId.get(linked) : undefined;
        const byIdentity = byName.get(norm(qualified)) ?? byName.get(norm(g.displayName)) ?? (g.externalId ? byExternalId.get(g.externalId) : undefined);
        const remote = byLink ?? (byIdentity && !matched.has(byIdentity.remoteId) ? byIdentity : undefined);
        if (!remote) {
          const reason = linked ? 'deleted-at-target' : 'never-provisioned';
          const repair = input.repair && (reason === 'never-provisioned' || input.recreateMissing);
          groups.counts.missing += 1;
          if (repair) repairs.push(g.id);
          push(groups.missing, { localId: g.id, displayName: g.displayName, reason, repaired: repair });
          continue;
        }
        matched.add(remote.remoteId);
        const fields: GroupReport['different'][number]['fields'] = [];
        if (linked && !byLink) fields.push({ field: 'remoteId', local: linked, remote: remote.remoteId });
        if (norm(remote.displayName) !== norm(qualified) && norm(remote.displayName) !== norm(g.displayName)) {
          fields.push({ field: 'displayName', local: qualified, remote: remote.displayName });
        }
        const members = await db.$queryRaw<{ remote_id: string }[]>`
          SELECT l.remote_id FROM scim_group_member m
          JOIN remote_link l ON l.local_id = m.member_id AND l.resource_type = m.member_type
           AND l.connector_id = ${input.connectorId}::uuid AND l.deleted_at IS NULL AND l.remote_id IS NOT NULL
          WHERE m.group_id = ${g.id}::uuid`;
        const want = new Set(members.map((m) => m.remote_id));
        const have = new Set(remote.memberRemoteIds);
        const lacking = [...want].filter((id) => !have.has(id));
        const extra = [...have].filter((id) => !want.has(id));
        if (lacking.length > 0 || extra.length > 0) {
          fields.push({ field: 'members', local: { count: want.size, missingThere: lacking.slice(0, 20) }, remote: { count: have.size, extraThere: extra.slice(0, 20) } });
        }
        if (fields.length > 0) {
          groups.counts.different += 1;
          if (input.repair) repairs.push(g.id);
          push(groups.different, { localId: g.id, remoteId: remote.remoteId, fields, repaired: input.repair });
        }
      }
      ctx.heartbeat({ phase: 'local-groups', seen: groups.local });
    }
    for (const g of byRemoteId.values()) {
      if (matched.has(g.remoteId)) continue;
      groups.counts.orphans += 1;
      push(groups.orphans, { remoteId: g.remoteId, displayName: g.displayName });
    }
    const initiator = { applicationId: RESIDENT_APPLICATION_ID, channel: 'reconcile', label: `reconciliation ${workflowId}` };
    for (const id of repairs) {
      const group = await getGroup(db, id, { members: false });
      if (!group) continue; // deleted meanwhile: its delete is on its way
      await enqueueProvisioningEvent(deps.temporal, deps, {
        eventId: `${workflowId}:${id}`,
        resourceType: 'Group',
        operation: 'update',
        localId: id,
        version: group.version,
        group: { id, domain: group.domain, displayName: group.displayName, externalId: group.externalId },
        targets: [target],
        initiator,
        resync: true,
      });
      report.repaired += 1;
    }
    return groups;
  }

  return {
    /** Compares the local store with one target and, if asked, repairs it. */
    async reconcileConnector(input: ReconcileInput): Promise<ReconcileReport> {
      try {
        return await reconcile(input);
      } catch (err) {
        if (err instanceof ConnectorError && err.name !== 'ConnectorTransient') {
          throw ApplicationFailure.nonRetryable(err.message, err.name);
        }
        throw err;
      }
    },
  };
}
