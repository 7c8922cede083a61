/**
 * OutboundBatch: the outbound half of one chunk of a Bulk load (id `outbound-batch-<InboundProvision id>:<chunk>`),
 * started by InboundProvision's `createBatch` once the chunk's users are stored. Each target gets the chunk in one
 * activity (activities/outbound.ts deliverBatch: each user as OutboundFanOut would deliver it, a few in flight at
 * once, through one client of the connector), instead of one OutboundFanOut per user and target: a 100,000-user
 * load is a thousand workflows, not a hundred thousand.
 *
 * What it keeps of OutboundFanOut's guarantees:
 * - Effectively once: every delivery goes through the same remote link and version check, so a retried batch skips
 *   what it delivered, and an older change never overwrites a newer one.
 * - Per-user order: the batch's users are new (creates), and a later change to one of them goes to its own
 *   OutboundFanOut; the two never deliver that user to a target at the same time (the DeliveryLease), and whichever
 *   comes second is checked against the version the first applied.
 * - The audit trail: one record per user and target, as for single writes (the event id is the Bulk operation's).
 * - Visibility: this workflow's memo counts what was delivered, skipped, refused and held; each user's deliveries are
 *   in the audit trail, which the admin API lists per user.
 * - A target that keeps failing is quarantined and the batch holds for it (other targets go on) until an operator
 *   resumes the connector (the resume signal, or a look every QUARANTINE_RECHECK); nothing is dropped.
 *
 * Targets with Enable Rules or Blocking never come here (InboundProvision sends those users one by one).
 */
import { ActivityFailure, condition, log, proxyActivities, setHandler, upsertMemo } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import type { BatchDeliveryResult } from '../activities/outbound.js';
import type { OutboundTarget, ProvisioningEvent } from '../src/provisioning/types.js';
import { connectorBatch, describeFailure, QUARANTINE_RECHECK, quarantineWrite } from './activity-profiles.js';
import { resumeConnectorSignal } from './messages.js';

type Activities = ReturnType<typeof createActivities>;

const quarantine = proxyActivities<Activities>(quarantineWrite);

export interface OutboundBatchInput {
  /** The chunk's events, without their targets (the batch's `targets` are theirs). */
  events: ProvisioningEvent[];
  targets: OutboundTarget[];
}

export async function outboundBatch(input: OutboundBatchInput): Promise<Record<string, BatchDeliveryResult>> {
  const resumes = new Map<string, number>();
  setHandler(resumeConnectorSignal, ({ connectorId }) => {
    resumes.set(connectorId, (resumes.get(connectorId) ?? 0) + 1);
  });
  const results: Record<string, BatchDeliveryResult> = {};
  const held = new Set<string>();
  const summary = () => {
    const parts = input.targets.map((t) => {
      const r = results[t.label];
      return r ? `${t.label}: ${r.delivered} delivered, ${r.skipped} skipped, ${r.failed} failed` : `${t.label}: ${held.has(t.label) ? 'held (quarantined)' : 'delivering'}`;
    });
    upsertMemo({ summary: `Bulk load chunk of ${input.events.length} users; ${parts.join('; ')}` });
  };

  /** Waits for the operator's resume of `connectorId` (or the periodic look), then lets the batch try again. */
  const hold = async (target: OutboundTarget, reason: string) => {
    held.add(target.label);
    summary();
    log.warn('batch held for a quarantined target', { target: target.label, reason });
    const resumed = resumes.get(target.connectorId) ?? 0;
    await condition(() => (resumes.get(target.connectorId) ?? 0) > resumed, QUARANTINE_RECHECK);
    held.delete(target.label);
  };

  const deliverTo = async (target: OutboundTarget) => {
    const acts = proxyActivities<Activities>(connectorBatch(target.retry));
    for (;;) {
      try {
        const r = await acts.deliverBatch({ events: input.events, target });
        if (r.held !== undefined) {
          await hold(target, r.held);
          continue;
        }
        results[target.label] = r;
        summary();
        return;
      } catch (err) {
        // As in OutboundFanOut: attempts ran out or the connector is misconfigured: quarantine it and hold, in order.
        if (!(err instanceof ActivityFailure)) throw err;
        const { reason } = describeFailure(err);
        await quarantine.quarantineConnector({ connectorId: target.connectorId, reason, event: input.events[0]! });
        await hold(target, reason);
      }
    }
  };

  summary();
  await Promise.all(input.targets.map(deliverTo));
  return results;
}
