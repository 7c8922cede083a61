/**
 * Starting a role change: every role write (admin API or SCIM /Roles) runs a RoleChange workflow
 * (workflows/role-change.ts, which says why) and waits for its result, as SCIM writes wait for InboundProvision.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ProvisioningOperationKey } from '../temporal/search-attributes.js';
import type { RoleChange } from '../userstore/roles.js';
import type { RoleChangeResult, roleChange } from '../../workflows/role-change.js';
import type { Initiator } from './types.js';

export class RoleChangeFailed extends Error {
  override name = 'RoleChangeFailed';
}

/**
 * Runs one role change to its end (`inbound-role-<op>-<uuid>`). Rejections (400, 404, 409, 412) are in the
 * result; a failed workflow throws RoleChangeFailed.
 *
 * @example
 *   const r = await runRoleChange(ctx.temporal, taskQueue, { change: { operation: 'patch', patch }, roleId, initiator });
 *   if (!r.ok) throw new ScimError(r.rejection.status, r.rejection.detail);
 */
export async function runRoleChange(
  temporal: Client,
  taskQueue: string,
  input: { roleId?: string | undefined; change: RoleChange; initiator: Initiator },
): Promise<RoleChangeResult> {
  const op = input.change.operation;
  try {
    return await temporal.workflow.execute<typeof roleChange>('roleChange', {
      workflowId: `inbound-role-${op}-${randomUUID()}`,
      taskQueue,
      args: [input],
      typedSearchAttributes: [{ key: ProvisioningOperationKey, value: `role-${op}` }],
    });
  } catch (err) {
    if (err instanceof WorkflowFailedError) throw new RoleChangeFailed(`The role change failed: ${err.cause?.message ?? err.message}`, { cause: err });
    throw err;
  }
}
