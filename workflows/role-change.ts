/**
 * RoleChange: one per role write (create, replace, patch, delete; id `inbound-role-<op>-<uuid>`), from the admin
 * API or SCIM /Roles. It writes the role in one idempotent store activity and then, if the role is an outbound
 * provisioning role of an identity provider, hands each user whose holding of it changed to that user's
 * OutboundFanOut, which provisions the user to those targets or deprovisions it there.
 *
 * Why a workflow and not a direct write in the api, like the admin API's configuration writes: a role assignment
 * is a user-management write with outbound effects, as a group membership is. Written directly, an api process
 * dying between the commit and the hand-over to the fan-outs would leave the role assigned and the user never
 * provisioned, with nobody to notice. Here the write records the affected users in its own transaction and the
 * workflow, once started, runs the hand-over until it is done: an accepted assignment is always followed by its
 * provisioning. It also gives every role change a history an operator can find in the Temporal UI, as for users.
 */
import { proxyActivities, proxyLocalActivities, upsertMemo, upsertSearchAttributes, uuid4, workflowInfo } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import type { Initiator, ScimRejection } from '../src/provisioning/types.js';
import type { RoleChange, RoleRecord } from '../src/userstore/roles.js';
import { ProvisioningOutcomeKey } from '../src/temporal/search-attributes.js';
import { roleProvisioningHandOver, userStoreWrite } from './activity-profiles.js';

type Activities = ReturnType<typeof createActivities>;

const store = proxyLocalActivities<Activities>(userStoreWrite);

const handOver = proxyActivities<Activities>(roleProvisioningHandOver);

export interface RoleChangeInput {
  /** The role; absent for a create (the workflow picks its id, so a retried create finds its own row). */
  roleId?: string | undefined;
  change: RoleChange;
  initiator: Initiator;
}

export type RoleChangeResult =
  | {
      ok: true;
      role: RoleRecord;
      /** Users handed to their OutboundFanOut to be provisioned or deprovisioned by role. */
      provisioning: number;
    }
  | { ok: false; rejection: ScimRejection };

export async function roleChange(input: RoleChangeInput): Promise<RoleChangeResult> {
  const { operation } = input.change;
  const id = operation === 'create' ? uuid4() : input.roleId;
  if (id === undefined) throw new TypeError(`a role ${operation} needs roleId`);
  const stored = await store.writeRole({ id, change: input.change });
  if (!stored.ok) {
    upsertSearchAttributes([{ key: ProvisioningOutcomeKey, value: 'rejected' }]);
    upsertMemo({ summary: `role ${operation} rejected: ${stored.rejection.status} ${stored.rejection.detail}` });
    return stored;
  }
  const provisioning = stored.provisioningPending > 0 ? (await handOver.enqueueRoleProvisioning({ initiator: input.initiator })).enqueued : 0;
  upsertSearchAttributes([{ key: ProvisioningOutcomeKey, value: 'applied' }]);
  upsertMemo({
    summary: `role ${operation} '${stored.role.name}' v${stored.role.version} by ${input.initiator.label}` +
      (provisioning > 0 ? `; ${provisioning} users re-provisioned by role (${workflowInfo().workflowId})` : ''),
  });
  return { ok: true, role: stored.role, provisioning };
}
