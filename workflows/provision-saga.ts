/**
 * The outbound half of a user-store change, shared by InboundProvision and JitProvision: handing the change to the
 * resource's OutboundFanOut and waiting for the blocking targets (fanOut), and the saga when one of them refuses
 * (compensate). Moved here from workflows/inbound-provision.ts without changing a command, so InboundProvision's
 * recorded histories (workflows/histories/) still replay: the proxies below have the options they had there.
 */
import { condition, proxyLocalActivities, upsertMemo, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import type { DeliveryReport, Initiator, OutboundTarget, ProvisioningEvent, UserRecord } from '../src/provisioning/types.js';
import type { UserSnapshot } from '../src/userstore/users.js';
import { ProvisioningOutcomeKey } from '../src/temporal/search-attributes.js';
import { configRead, outboundEnqueue, userStoreWrite } from './activity-profiles.js';

type Activities = ReturnType<typeof createActivities>;

// Local activities: see workflows/activity-profiles.ts for why.
const store = proxyLocalActivities<Activities>(userStoreWrite);
const config = proxyLocalActivities<Activities>(configRead);
const outbound = proxyLocalActivities<Activities>(outboundEnqueue);

/**
 * Undoes a user change in the store (a create is deleted; a replace, patch or delete is restored from the
 * snapshot taken under the row lock) and sends the undoing change to every target, ordered after the refused one
 * by its higher version. Returns a sentence for the caller if undoing failed (the change then stays, and the
 * workflow's memo says so), else undefined. A failing compensation never hides the original refusal.
 */
export async function compensate(
  input: { operation: 'create' | 'replace' | 'patch' | 'delete'; initiator: Initiator },
  user: UserRecord,
  previous: UserSnapshot | undefined,
  targets: OutboundTarget[],
  /** The undoing event's id is `${eventIdBase}:compensation`: the workflow id, or a run's own (JitProvision's). */
  eventIdBase: string = workflowInfo().workflowId,
): Promise<string | undefined> {
  const undone =
    input.operation === 'create'
      ? await store.deleteUser({ id: user.id })
      : previous
        ? await store.restoreUser({ snapshot: previous, afterVersion: user.version })
        : undefined;
  if (!undone?.ok) {
    const why = undone ? `${undone.rejection.status} ${undone.rejection.detail}` : 'no snapshot of the previous state';
    upsertMemo({ summary: `${input.operation} ${user.domain}/${user.userName}: refused by a blocking target; compensation FAILED: ${why}` });
    return `Undoing the change here failed (${why}); it stays applied locally.`;
  }
  await outbound.enqueueOutboundEvent({
    eventId: `${eventIdBase}:compensation`,
    resourceType: 'User',
    operation: input.operation === 'create' ? 'delete' : input.operation === 'delete' ? 'create' : 'update',
    localId: undone.user.id,
    version: undone.user.version,
    user: undone.user,
    targets,
    initiator: input.initiator,
  });
  upsertMemo({ summary: `${input.operation} ${user.domain}/${user.userName}: refused by a blocking target; compensated (v${undone.user.version})` });
  return undefined;
}

/**
 * Hands the change to the resource's OutboundFanOut and, for blocking targets, waits for their reports (or the
 * blocking timeout). Shared by users and groups, InboundProvision and JitProvision; the command order (target lookup, enqueue, wait, search
 * attribute) is the one recorded histories replay.
 */
export async function fanOut(
  input: { initiator: Initiator; blockingTimeoutMs: number },
  eventFor: (targets: OutboundTarget[], replyTo: string | undefined) => ProvisioningEvent,
  reports: Map<string, DeliveryReport>,
  /** Which of the resolved targets get the change (JitProvision: those linked with Enable JIT); all by default. */
  select: (target: OutboundTarget) => boolean = () => true,
): Promise<{ targets: OutboundTarget[]; pendingTargets: string[]; failedTargets: DeliveryReport[]; outcome: string }> {
  const { workflowId } = workflowInfo();
  const resolved: OutboundTarget[] = await config.resolveOutboundTargets({ applicationId: input.initiator.applicationId });
  const targets = resolved.filter(select);
  const blocking = targets.filter((t) => t.blocking);
  if (targets.length > 0) await outbound.enqueueOutboundEvent(eventFor(targets, blocking.length > 0 ? workflowId : undefined));
  if (blocking.length > 0) {
    await condition(() => blocking.every((t) => reports.has(t.connectorId)), input.blockingTimeoutMs);
  }
  const pendingTargets = blocking.filter((t) => !reports.has(t.connectorId)).map((t) => t.label);
  const failedTargets = blocking.flatMap((t) => {
    const r = reports.get(t.connectorId);
    return r?.outcome === 'failed' ? [r] : [];
  });
  const outcome = failedTargets.length > 0 ? 'target-failed' : pendingTargets.length > 0 ? 'pending' : 'applied';
  upsertSearchAttributes([{ key: ProvisioningOutcomeKey, value: outcome }]);
  return { targets, pendingTargets, failedTargets, outcome };
}
