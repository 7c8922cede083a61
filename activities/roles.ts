/**
 * Role-based provisioning activities: the RoleChange workflow's role write (idempotent through the store_request
 * ledger, like every user-store write), and the hand-over, by RoleChange and by InboundProvision for group membership
 * changes, of the users whose outbound provisioning a change re-decides.
 *
 * Those users were recorded by the write itself, in its transaction (role_provisioning_pending), so they are known
 * however many they are (a group of 100,000 members assigned to a provisioning role) without passing through
 * workflow history, and a crash between the write and the hand-over loses none: the workflow runs this activity
 * until every row is handed over and deleted.
 */
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { PrismaClient } from '../src/db/client.js';
import { enqueueProvisioningEvent } from '../src/provisioning/enqueue.js';
import { roleProvisioningTargets } from '../src/provisioning/provisioning-roles.js';
import type { Initiator, OutboundTarget } from '../src/provisioning/types.js';
import * as roles from '../src/userstore/roles.js';
import { getUsersByIds } from '../src/userstore/users.js';
import { requestId, workflowId } from './user-store.js';

export interface RoleActivityDeps {
  db: PrismaClient;
  temporal: Client;
  taskQueue: string;
  outboundIdleMs: number;
}

/** Users handed over per page (one read, then one signal-with-start each, PARALLEL at a time). */
const PAGE = 200;
const PARALLEL = 8;

export function createRoleActivities(deps: RoleActivityDeps) {
  const { db, temporal } = deps;
  return {
    async writeRole(args: { id: string; change: roles.RoleChange }): Promise<roles.RoleStoreResult> {
      return roles.writeRole(db, requestId(), workflowId(), args.id, args.change);
    },

    /**
     * Hands every user the change recorded (a role assignment, or a membership change of a group holding an outbound
     * provisioning role) to its OutboundFanOut: a `roleChange` resync event to the resident service provider's
     * targets whose identity provider names the role. The event id names the workflow, the role and the user, so a
     * page handed over twice (a retry after a crash) is taken once by the fan-out.
     */
    async enqueueRoleProvisioning(args: { initiator: Initiator }): Promise<{ enqueued: number }> {
      const key = workflowId();
      const targetsOf = new Map<string, Promise<OutboundTarget[]>>();
      let enqueued = 0;
      for (;;) {
        const rows = await db.roleProvisioningPending.findMany({ where: { requestId: key }, orderBy: [{ userId: 'asc' }, { roleId: 'asc' }], take: PAGE });
        if (rows.length === 0) break;
        const users = new Map((await getUsersByIds(db, rows.map((r) => r.userId))).map((u) => [u.id, u]));
        const jobs = rows.map((row) => async () => {
          const user = users.get(row.userId);
          if (!targetsOf.has(row.roleId)) targetsOf.set(row.roleId, roleProvisioningTargets(db, row.roleId));
          const targets = await targetsOf.get(row.roleId)!;
          // Deleted since (its deletion goes to the targets on its own), or no target names the role any more.
          if (!user || targets.length === 0) return;
          await enqueueProvisioningEvent(temporal, deps, {
            eventId: `${key}:role:${row.roleId}:${user.id}`,
            resourceType: 'User',
            operation: 'update',
            localId: user.id,
            version: user.version,
            user,
            targets,
            initiator: args.initiator,
            resync: true,
            roleChange: true,
          });
          enqueued += 1;
        });
        for (let i = 0; i < jobs.length; i += PARALLEL) await Promise.all(jobs.slice(i, i + PARALLEL).map((job) => job()));
        await db.roleProvisioningPending.deleteMany({ where: { requestId: key, OR: rows.map((r) => ({ userId: r.userId, roleId: r.roleId })) } });
        Context.current().heartbeat(enqueued);
      }
      return { enqueued };
    },
  };
}
