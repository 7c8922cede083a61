/**
 * InboundProvision: one per SCIM or admin write. Writes the user store, resolves the outbound targets
 * (resident service provider + the calling application), hands the change to the resource's
 * OutboundFanOut, and completes when the caller may be answered: at once when every target is
 * non-blocking, after the blocking targets have answered otherwise (or after the blocking timeout, when
 * the answer says which targets are still pending).
 *
 * SCIM rejections (uniqueness conflict, unknown id, failed precondition) are results, not failures: the
 * request was handled correctly and the workflow completes with a rejection the handler turns into a
 * SCIM error.
 */
import {
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import {
  MAX_GROUP_SNAPSHOT_MEMBERS,
  type DeliveryReport,
  type GroupInput,
  type GroupRecord,
  type GroupSnapshot,
  type Initiator,
  type OutboundTarget,
  type ProvisioningEvent,
  type ScimRejection,
  type UserInput,
  type UserRecord,
} from '../src/provisioning/types.js';
import { patchPassword } from '../src/scim/patch-password.js';
import type { UserSnapshot } from '../src/userstore/users.js';
import { ProvisioningOutcomeKey, UserIdKey, UserNameKey } from '../src/temporal/search-attributes.js';
import { configRead, outboundEnqueue, roleProvisioningHandOver, userStoreBatchWrite, userStoreWrite } from './activity-profiles.js';
import { keyword } from './keyword.js';
import { compensate, fanOut } from './provision-saga.js';
import { deliveryReportSignal } from './messages.js';

type Activities = ReturnType<typeof createActivities>;

// Local activities: see workflows/activity-profiles.ts for why.
const store = proxyLocalActivities<Activities>(userStoreWrite);
const batchStore = proxyLocalActivities<Activities>(userStoreBatchWrite);
const config = proxyLocalActivities<Activities>(configRead);
const outbound = proxyLocalActivities<Activities>(outboundEnqueue);
const handOver = proxyActivities<Activities>(roleProvisioningHandOver);

interface Common {
  initiator: Initiator;
  blockingTimeoutMs: number;
  /**
   * Proxy mode (the calling application's inbound config): nothing is stored locally; the change only goes
   * to the outbound targets.
   */
  proxy?: boolean | undefined;
}

/** A write to a user. `resourceType` is absent in histories recorded before groups existed: it means User. */
export type UserOperation =
  | { operation: 'create'; resourceType?: 'User'; user: UserInput }
  | { operation: 'replace'; resourceType?: 'User'; userId: string; user: UserInput; ifMatchVersion?: number | undefined }
  | { operation: 'patch'; resourceType?: 'User'; userId: string; patch: unknown; ifMatchVersion?: number | undefined }
  | { operation: 'delete'; resourceType?: 'User'; userId: string; ifMatchVersion?: number | undefined };

export type GroupOperation =
  | { operation: 'create'; resourceType: 'Group'; group: GroupInput }
  | { operation: 'replace'; resourceType: 'Group'; groupId: string; group: GroupInput; ifMatchVersion?: number | undefined }
  | { operation: 'patch'; resourceType: 'Group'; groupId: string; patch: unknown; ifMatchVersion?: number | undefined }
  | { operation: 'delete'; resourceType: 'Group'; groupId: string; ifMatchVersion?: number | undefined };

/**
 * A run of a Bulk request's user creates (src/scim/bulk.ts), as one workflow: written in chunks of BATCH_CHUNK, each
 * chunk's users sent on in one OutboundBatch per chunk (and one by one to targets with Enable Rules). `maxErrors`:
 * what is left of the request's failOnErrors; the creates after that many rejections are not run.
 */
export interface UserBatchOperation {
  operation: 'createBatch';
  resourceType: 'User';
  users: { index: number; user: UserInput }[];
  maxErrors?: number | undefined;
}

/** One create of a batch: the user, or the rejection; creates after failOnErrors ran out are absent. */
export type BatchItem = { index: number; user: UserRecord } | { index: number; rejection: ScimRejection };

export type InboundProvisionInput = (UserOperation | GroupOperation | UserBatchOperation) & Common;

export interface Delivery {
  /** Blocking targets that had not answered within the blocking timeout (delivery goes on). */
  pendingTargets: string[];
  /** Blocking targets that rejected the change. */
  failedTargets: DeliveryReport[];
}

export type InboundProvisionResult =
  | ({
      ok: true;
      user: UserRecord;
      /** True when the user was not stored locally (proxy mode): it exists only at the outbound targets. */
      proxied?: boolean | undefined;
    } & Delivery)
  | ({ ok: true; group: GroupRecord } & Delivery)
  /**
   * A batch's creates. `perOperation`: nothing was written, because a target is Blocking (its caller waits for it and
   * a refusal is undone, which only the one-write-per-workflow path does): the api runs the creates one by one.
   */
  | { ok: true; batch: BatchItem[]; perOperation?: string | undefined }
  | { ok: false; rejection: ScimRejection };

export async function inboundProvision(input: InboundProvisionInput): Promise<InboundProvisionResult> {
  const reports = new Map<string, DeliveryReport>();
  // Set before the first await: a fast target may report before the workflow reaches its wait.
  setHandler(deliveryReportSignal, (report) => {
    reports.set(report.connectorId, report);
  });
  if (input.operation === 'createBatch') return provisionUserBatch(input);
  if (input.resourceType === 'Group') return provisionGroup(input, reports);
  return provisionUser(input, reports);
}

/** Creates per store write and per OutboundBatch: 100 users of a few KB stay far below a payload's 2 MB. */
export const BATCH_CHUNK = 100;

/**
 * A Bulk request's run of user creates (UserBatchOperation). Targets are resolved once: Blocking ones send the run
 * back to the api to be done one create per workflow; Enable Rules ones get each user on its own OutboundFanOut (the
 * rule check is per user and target there); the others get each chunk in one OutboundBatch. Every create is its own
 * store write (its own request id), so the audit, the ledger and the events are those of single creates.
 */
async function provisionUserBatch(input: UserBatchOperation & Common): Promise<InboundProvisionResult> {
  const { workflowId } = workflowInfo();
  const resolved: OutboundTarget[] = await config.resolveOutboundTargets({ applicationId: input.initiator.applicationId });
  const blocking = resolved.filter((t) => t.blocking);
  if (blocking.length > 0) {
    upsertMemo({ summary: `bulk creates of ${input.users.length} users: sent back to run one by one (blocking target ${blocking.map((t) => t.label).join(', ')})` });
    return { ok: true, batch: [], perOperation: `blocking target ${blocking.map((t) => t.label).join(', ')}` };
  }
  const ruled = resolved.filter((t) => t.rulesEnabled);
  const batched = resolved.filter((t) => !t.rulesEnabled);
  const ids = input.users.map(() => uuid4());
  const passwords = new Map(input.users.map((u) => [u.index, u.user.password]));
  const batch: BatchItem[] = [];
  let errors = 0;
  let created = 0;
  for (let from = 0, chunk = 0; from < input.users.length; from += BATCH_CHUNK, chunk += 1) {
    const left = input.maxErrors === undefined ? undefined : input.maxErrors - errors;
    if (left !== undefined && left <= 0) break;
    const slice = input.users.slice(from, from + BATCH_CHUNK);
    const written = await batchStore.createUsers({ users: slice.map((u, k) => ({ index: u.index, id: ids[from + k]!, input: u.user })), maxErrors: left });
    const events: ProvisioningEvent[] = [];
    for (const { index, result } of written) {
      if (!result.ok) {
        errors += 1;
        batch.push({ index, rejection: result.rejection });
        continue;
      }
      created += 1;
      batch.push({ index, user: result.user });
      const password = passwords.get(index);
      events.push({
        eventId: `${workflowId}:${index}`,
        resourceType: 'User',
        operation: 'create',
        localId: result.user.id,
        version: result.user.version,
        user: { ...result.user, password },
        targets: [],
        initiator: input.initiator,
      });
    }
    if (events.length > 0 && batched.length > 0) await outbound.enqueueOutboundBatch({ batchId: `${workflowId}:${chunk}`, events, targets: batched });
    if (events.length > 0 && ruled.length > 0) await outbound.enqueueOutboundEvents({ events: events.map((e) => ({ ...e, targets: ruled })) });
  }
  upsertSearchAttributes([{ key: ProvisioningOutcomeKey, value: errors > 0 ? 'partial' : 'applied' }]);
  upsertMemo({
    summary:
      `bulk creates: ${created} of ${input.users.length} users created, ${errors} rejected; ` +
      `targets: ${resolved.map((t) => `${t.label}${t.rulesEnabled ? ' (rules, one by one)' : ''}`).join(', ') || 'none'}`,
  });
  return { ok: true, batch };
}

function rejected(operation: string, rejection: ScimRejection): InboundProvisionResult {
  upsertSearchAttributes([{ key: ProvisioningOutcomeKey, value: 'rejected' }]);
  upsertMemo({ summary: `${operation} rejected: ${rejection.status} ${rejection.detail}` });
  return { ok: false, rejection };
}

/** Groups: stored, then sent to the outbound targets like users (members are translated at delivery). */
async function provisionGroup(input: GroupOperation & Common, reports: Map<string, DeliveryReport>): Promise<InboundProvisionResult> {
  if (input.proxy) {
    return rejected(input.operation, {
      status: 501,
      detail: 'Groups cannot be written in proxy mode: a group is sent with its members translated to each target, which needs the local copy',
    });
  }
  const stored =
    input.operation === 'create'
      ? await store.createGroup({ id: uuid4(), input: input.group })
      : input.operation === 'replace'
        ? await store.replaceGroup({ id: input.groupId, input: input.group, ifMatchVersion: input.ifMatchVersion })
        : input.operation === 'patch'
          ? await store.patchGroup({ id: input.groupId, patch: input.patch, ifMatchVersion: input.ifMatchVersion })
          : await store.deleteGroup({ id: input.groupId, ifMatchVersion: input.ifMatchVersion });
  if (!stored.ok) return rejected(`group ${input.operation}`, stored.rejection);
  const group = stored.group;
  const previous = stored.previous;
  // Members who joined or left a group holding an outbound provisioning role are provisioned to, or deprovisioned
  // from, its identity providers (src/provisioning/provisioning-roles.ts): handed over after the change (and after
  // its compensation, if a blocking target refused it), so each delivery decides on the membership that stands.
  const provisionByRole = async () => {
    if ((stored.provisioningPending ?? 0) > 0 && patched('group-role-provisioning')) {
      await handOver.enqueueRoleProvisioning({ initiator: input.initiator });
    }
  };
  const { workflowId } = workflowInfo();
  const { targets, pendingTargets, failedTargets, outcome } = await fanOut(
    input,
    (targets, replyTo) => ({
      eventId: workflowId,
      resourceType: 'Group',
      operation: input.operation === 'create' ? 'create' : input.operation === 'delete' ? 'delete' : 'update',
      localId: group.id,
      version: group.version,
      group: { id: group.id, domain: group.domain, displayName: group.displayName, externalId: group.externalId },
      targets,
      initiator: input.initiator,
      replyTo,
    }),
    reports,
  );
  // Saga, as for users: a blocking target refused the change, so it is undone here and at the targets that took it.
  if (failedTargets.length > 0 && patched('blocking-rejection-compensation-groups')) {
    const undone = await compensateGroup(input, group, previous, targets);
    await provisionByRole();
    const reasons = failedTargets.map((f) => `${f.label}: ${f.error ?? 'rejected'}`).join('; ');
    return rejected(`group ${input.operation}`, {
      status: 400,
      scimType: 'invalidValue',
      detail: `Refused by blocking target ${reasons}. ${undone ?? 'The change was undone here and at the other targets.'}`,
    });
  }
  upsertMemo({
    summary:
      `group ${input.operation} ${group.domain}/${group.displayName} v${group.version}: ${outcome}; ` +
      `targets: ${targets.map((t) => `${t.label}${t.blocking ? ' (blocking)' : ''}`).join(', ') || 'none'}`,
  });
  await provisionByRole();
  return { ok: true, group, pendingTargets, failedTargets };
}

/**
 * Proxy mode keeps no local copy, so there is no stored version: the workflow's time orders the changes at
 * each target instead, in microseconds (ms * 1000 plus a deterministic random tie-breaker, so two writes in
 * the same millisecond get distinct versions and behave like any two concurrent writes: one wins, neither is
 * half-applied). Below 2^53 until the year 2255.
 */
function proxyVersion(): number {
  return Date.now() * 1000 + Math.floor(Math.random() * 1000);
}

function proxiedUser(input: UserOperation & Common, id: string): UserRecord {
  const now = new Date(Date.now()).toISOString();
  const user: UserInput =
    'user' in input ? input.user : { domain: 'PRIMARY', userName: '', active: false, emails: [], phoneNumbers: [], addresses: [] };
  const { password: _password, ...attributes } = user;
  return { ...attributes, id, version: proxyVersion(), created: now, lastModified: now };
}

async function provisionUser(input: UserOperation & Common, reports: Map<string, DeliveryReport>): Promise<InboundProvisionResult> {
  const { workflowId } = workflowInfo();
  let password: string | undefined;
  let user: UserRecord;
  let previous: UserSnapshot | undefined;
  if (input.proxy) {
    if (input.operation === 'patch') {
      return rejected('patch', { status: 501, detail: 'PATCH is not available in proxy mode: the server keeps no copy of the user to patch; use PUT' });
    }
    user = proxiedUser(input, input.operation === 'create' ? uuid4() : input.userId);
    password = input.operation === 'delete' ? undefined : input.user.password;
  } else {
    const stored =
      input.operation === 'create'
        ? await store.createUser({ id: uuid4(), input: input.user })
        : input.operation === 'replace'
          ? await store.replaceUser({ id: input.userId, input: input.user, ifMatchVersion: input.ifMatchVersion })
          : input.operation === 'patch'
            ? await store.patchUser({ id: input.userId, patch: input.patch, ifMatchVersion: input.ifMatchVersion })
            : await store.deleteUser({ id: input.userId, ifMatchVersion: input.ifMatchVersion });
    if (!stored.ok) return rejected(input.operation, stored.rejection);
    user = stored.user;
    previous = stored.previous;
    password =
      input.operation === 'create' || input.operation === 'replace'
        ? input.user.password
        : input.operation === 'patch' && 'passwordChanged' in stored && stored.passwordChanged
          ? patchPassword(input.patch)
          : undefined;
  }
  upsertSearchAttributes([
    { key: UserIdKey, value: keyword(user.id) },
    { key: UserNameKey, value: keyword(user.userName) },
  ]);

  const { targets, pendingTargets, failedTargets, outcome } = await fanOut(
    input,
    (targets, replyTo) => ({
      eventId: workflowId,
      resourceType: 'User',
      operation: input.operation === 'create' ? 'create' : input.operation === 'delete' ? 'delete' : 'update',
      localId: user.id,
      version: user.version,
      user: { ...user, password },
      targets,
      initiator: input.initiator,
      replyTo,
    }),
    reports,
  );
  // Saga: a blocking target refused the change, so it is undone here (and, through the same fan-out, at the
  // targets that took it), and the caller is told which target refused and why. Guarded by `patched`: histories
  // recorded before compensation existed answered with the failure in a header instead.
  if (failedTargets.length > 0 && !input.proxy && patched('blocking-rejection-compensation')) {
    const undone = await compensate(input, user, previous, targets);
    const reasons = failedTargets.map((f) => `${f.label}: ${f.error ?? 'rejected'}`).join('; ');
    return rejected(input.operation, {
      status: 400,
      scimType: 'invalidValue',
      detail: `Refused by blocking target ${reasons}. ${undone ?? 'The change was undone here and at the other targets.'}`,
    });
  }
  upsertMemo({
    summary:
      `${input.operation} ${user.domain}/${user.userName} v${user.version}${input.proxy ? ' (proxy mode, not stored)' : ''}: ${outcome}; ` +
      `targets: ${targets.map((t) => `${t.label}${t.blocking ? ' (blocking)' : ''}`).join(', ') || 'none'}`,
  });
  return { ok: true, user, pendingTargets, failedTargets, ...(input.proxy && { proxied: true }) };
}

/** compensate() for groups: a create is deleted; a replace, patch or delete is restored from its snapshot. */
async function compensateGroup(input: GroupOperation & Common, group: GroupRecord, previous: GroupSnapshot | undefined, targets: OutboundTarget[]): Promise<string | undefined> {
  const { workflowId } = workflowInfo();
  const undone =
    input.operation === 'create'
      ? await store.deleteGroup({ id: group.id })
      : previous
        ? await store.restoreGroup({ snapshot: previous, afterVersion: group.version })
        : undefined;
  const name = `${group.domain}/${group.displayName}`;
  if (!undone?.ok) {
    const why = undone
      ? `${undone.rejection.status} ${undone.rejection.detail}`
      : `the change touched more than ${MAX_GROUP_SNAPSHOT_MEMBERS} members, too many to keep a snapshot of`;
    upsertMemo({ summary: `group ${input.operation} ${name}: refused by a blocking target; compensation FAILED: ${why}` });
    return `Undoing the change here failed (${why}); it stays applied locally.`;
  }
  const restored = undone.group;
  await outbound.enqueueOutboundEvent({
    eventId: `${workflowId}:compensation`,
    resourceType: 'Group',
    operation: input.operation === 'create' ? 'delete' : input.operation === 'delete' ? 'create' : 'update',
    localId: restored.id,
    version: restored.version,
    group: { id: restored.id, domain: restored.domain, displayName: restored.displayName, externalId: restored.externalId },
    targets,
    initiator: input.initiator,
  });
  upsertMemo({ summary: `group ${input.operation} ${name}: refused by a blocking target; compensated (v${restored.version})` });
  return undefined;
}
