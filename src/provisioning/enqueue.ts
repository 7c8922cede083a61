/**
 * Handing a provisioning event to its resource's OutboundFanOut: signal-with-start, so the entity workflow is
 * started if it is not running. Used by InboundProvision's enqueue activity, by the delivery activity (group
 * re-syncs) and by the admin API's on-demand re-send.
 */
import type { Client } from '@temporalio/client';
import type { outboundFanOut } from '../../workflows/outbound-fan-out.js';
import { provisioningEventSignal } from '../../workflows/messages.js';
import { eventSubject, type ProvisioningEvent } from './types.js';

export function outboundWorkflowId(localId: string): string {
  return `outbound-${localId}`;
}

/** The OutboundBatch workflow of one chunk of a Bulk load (workflows/outbound-batch.ts). */
export function outboundBatchWorkflowId(batchId: string): string {
  return `outbound-batch-${batchId}`;
}

export async function enqueueProvisioningEvent(
  temporal: Client,
  opts: { taskQueue: string; outboundIdleMs: number },
  event: ProvisioningEvent,
): Promise<void> {
  await temporal.workflow.signalWithStart<typeof outboundFanOut, [ProvisioningEvent]>('outboundFanOut', {
    workflowId: outboundWorkflowId(event.localId),
    taskQueue: opts.taskQueue,
    args: [{ resourceType: event.resourceType, localId: event.localId, idleMs: opts.outboundIdleMs }],
    signal: provisioningEventSignal,
    signalArgs: [event],
    memo: { summary: `outbound provisioning of ${event.resourceType === 'User' ? 'user' : 'group'} ${eventSubject(event)}` },
  });
}
