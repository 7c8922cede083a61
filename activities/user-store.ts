/**
 * User store activities: the writes of InboundProvision. Each is idempotent by its workflow id (see the
 * store_request ledger in src/userstore/users.ts), so Temporal may retry them freely.
 */
import { Context } from '@temporalio/activity';
import type { PrismaClient } from '../src/db/client.js';
import type { UserInput } from '../src/provisioning/types.js';
import * as users from '../src/userstore/users.js';

export interface UserStoreDeps {
  db: PrismaClient;
}

/** The idempotency key of the current activity: one write per workflow and activity type. */
function requestId(): string {
  const info = Context.current().info;
  return `${info.workflowExecution?.workflowId ?? info.activityId}:${info.activityType}`;
}

export function createUserStoreActivities({ db }: UserStoreDeps) {
  return {
    async createUser(args: { id: string; input: UserInput }): Promise<users.StoreResult> {
      return users.createUser(db, requestId(), args.id, args.input);
    },
    async replaceUser(args: { id: string; input: UserInput; ifMatchVersion?: number | undefined }): Promise<users.StoreResult> {
      return users.replaceUser(db, requestId(), args.id, args.input, args.ifMatchVersion);
    },
    async deleteUser(args: { id: string; ifMatchVersion?: number | undefined }): Promise<users.StoreResult> {
      return users.deleteUser(db, requestId(), args.id, args.ifMatchVersion);
    },
  };
}
