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
  condition,
  proxyLocalActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import type {
  DeliveryReport,
  Initiator,
  OutboundTarget,
  ProvisioningEvent,
  ScimRejection,
  UserInput,
  UserRecord,
} from '../src/provisioning/types.js';
import { ProvisioningOutcomeKey, UserIdKey, UserNameKey } from '../src/temporal/search-attributes.js';
import { configRead, outboundEnqueue, userStoreWrite } from './activity-profiles.js';
import { deliveryReportSignal } from './messages.js';

type Activities = ReturnType<typeof createActivities>;

// Local activities: see workflows/activity-profiles.ts for why.
const store = proxyLocalActivities<Activities>(userStoreWrite);
const config = proxyLocalActivities<Activities>(configRead);
const outbound = proxyLocalActivities<Activities>(outboundEnqueue);

export type InboundProvisionInput =
  | { operation: 'create'; user: UserInput; initiator: Initiator; blockingTimeoutMs: number }
  | {
      operation: 'replace';
      userId: string;
      user: UserInput;
      ifMatchVersion?: number | undefined;
      initiator: Initiator;
      blockingTimeoutMs: number;
    }
  | { operation: 'delete'; userId: string; ifMatchVersion?: number | undefined; initiator: Initiator; blockingTimeoutMs: number };

export type InboundProvisionResult =
  | {
      ok: true;
      user: UserRecord;
      /** Blocking targets that had not answered within the blocking timeout (delivery goes on). */
      pendingTargets: string[];
      /** Blocking targets that rejected the change. */
      failedTargets: DeliveryReport[];
    }
  | { ok: false; rejection: ScimRejection };

export async function inboundProvision(input: InboundProvisionInput): Promise<InboundProvisionResult> {
  const { workflowId } = workflowInfo();
  const reports = new Map<string, DeliveryReport>();
  // Set before the first await: a fast target may report before the workflow reaches its wait.
  setHandler(deliveryReportSignal, (report) => {
    reports.set(report.connectorId, report);
  });

  const stored =
    input.operation === 'create'
      ? await store.createUser({ id: uuid4(), input: input.user })
      : input.operation === 'replace'
        ? await store.replaceUser({ id: input.userId, input: input.user, ifMatchVersion: input.ifMatchVersion })
        : await store.deleteUser({ id: input.userId, ifMatchVersion: input.ifMatchVersion });

  if (!stored.ok) {
    upsertSearchAttributes([{ key: ProvisioningOutcomeKey, value: 'rejected' }]);
    upsertMemo({ summary: `${input.operation} rejected: ${stored.rejection.status} ${stored.rejection.detail}` });
    return { ok: false, rejection: stored.rejection };
  }
  const user = stored.user;
  upsertSearchAttributes([
    { key: UserIdKey, value: user.id },
    { key: UserNameKey, value: user.userName },
  ]);

  const targets: OutboundTarget[] = await config.resolveOutboundTargets({ applicationId: input.initiator.applicationId });
  const blocking = targets.filter((t) => t.blocking);
  if (targets.length > 0) {
    const event: ProvisioningEvent = {
      eventId: workflowId,
      resourceType: 'User',
      operation: input.operation === 'replace' ? 'update' : input.operation,
      localId: user.id,
      version: user.version,
      user: { ...user, password: input.operation === 'delete' ? undefined : input.user.password },
      targets,
      initiator: input.initiator,
      replyTo: blocking.length > 0 ? workflowId : undefined,
    };
    await outbound.enqueueOutboundEvent(event);
  }

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
  upsertMemo({
    summary:
      `${input.operation} ${user.domain}/${user.userName} v${user.version}: ${outcome}; ` +
      `targets: ${targets.map((t) => `${t.label}${t.blocking ? ' (blocking)' : ''}`).join(', ') || 'none'}`,
  });
  return { ok: true, user, pendingTargets, failedTargets };
}
