/**
 * The engine ceiling's workflow: as little as a workflow can be and still be one of InboundProvision's kind, one
 * local activity (InboundProvision's store write is a local activity, with the same options) and a result. It is
 * registered under the name `inboundProvision` on a task queue of its own, so the bench starts it through the SCIM
 * handlers' own code (InboundRequests.run: the same client call, options, id policies, search attributes and
 * wait for the result); what a create costs beyond this is the server's, not the engine's.
 */
import { proxyLocalActivities } from '@temporalio/workflow';
import { userStoreWrite } from '../../workflows/activity-profiles.js';
import type { engineActivities } from './engine-activities.js';

const { echo } = proxyLocalActivities<typeof engineActivities>(userStoreWrite);

export async function inboundProvision(input: unknown): Promise<unknown> {
  return echo(input);
}
