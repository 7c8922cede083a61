/**
 * User store activities: the writes of InboundProvision. Each is idempotent by its workflow id (see the
 * store_request ledger in src/userstore/users.ts), so Temporal may retry them freely.
 *
 * PATCH is applied here, under the row lock, to the stored resource (not in the api against a copy read
 * earlier), so two concurrent PATCHes of one resource both apply, one after the other.
 */
import { Context } from '@temporalio/activity';
import type { PasswordPolicy } from '../src/crypto/password-policy.js';
import type { PrismaClient } from '../src/db/client.js';
import type { GroupInput, UserInput } from '../src/provisioning/types.js';
import { parseGroupInput, toScimGroup } from '../src/scim/group-resource.js';
import { applyGroupPatch, applyPatch } from '../src/scim/patch.js';
import { validateExtensionValue, type SchemaRegistry } from '../src/scim/schema-registry.js';
import { findAttribute, type ResourceTypeDef } from '../src/scim/schema-defs.js';
import { evaluateElementFilter } from '../src/scim/filter.js';
import { extensionParsers, parseUserInput, toScimUser } from '../src/scim/user-resource.js';
import * as groups from '../src/userstore/groups.js';
import * as users from '../src/userstore/users.js';

export interface UserStoreDeps {
  db: PrismaClient;
  schemas: SchemaRegistry;
  passwordPolicy: PasswordPolicy;
}

/** The id of the workflow running the current activity. */
export function workflowId(): string {
  const info = Context.current().info;
  return info.workflowExecution?.workflowId ?? info.activityId;
}

/** The idempotency key of the current activity: one write per workflow and activity type. */
export function requestId(): string {
  return `${workflowId()}:${Context.current().info.activityType}`;
}

/** PATCH works on the rendered resource; its links are irrelevant there. */
const NO_BASE_URL = '';

function parsersOf(rt: ResourceTypeDef) {
  return extensionParsers(rt, (id, value) => {
    const ext = rt.extensions.find((e) => e.schema.id === id);
    return ext ? validateExtensionValue(ext.schema, value) : {};
  });
}

export function createUserStoreActivities({ db, schemas, passwordPolicy }: UserStoreDeps) {
  /**
   * The schemas as they are now. The api validated the request against its own (cached) view; a PATCH path
   * may name an extension an operator added a moment ago through another api process, and this worker's
   * cache must not refuse it. One small read of the extension table per PATCH.
   */
  const freshSchemas = () => {
    schemas.invalidate();
    return schemas;
  };
  return {
    async createUser(args: { id: string; input: UserInput }): Promise<users.StoreResult> {
      return users.createUser(db, requestId(), args.id, args.input, passwordPolicy);
    },
    async replaceUser(args: { id: string; input: UserInput; ifMatchVersion?: number | undefined }): Promise<users.StoreResult> {
      return users.replaceUser(db, requestId(), args.id, args.input, args.ifMatchVersion, passwordPolicy);
    },
    async patchUser(args: { id: string; patch: unknown; ifMatchVersion?: number | undefined }): Promise<users.StoreResult & { passwordChanged?: boolean }> {
      const rt = await freshSchemas().user();
      const extensions = parsersOf(rt);
      return users.patchUser(
        db,
        requestId(),
        args.id,
        (current) => {
          const { resource } = applyPatch(toScimUser(current, NO_BASE_URL), args.patch, rt);
          return parseUserInput(resource, { defaultDomain: current.domain, extensions });
        },
        args.ifMatchVersion,
        passwordPolicy,
      );
    },
    async deleteUser(args: { id: string; ifMatchVersion?: number | undefined }): Promise<users.StoreResult> {
      return users.deleteUser(db, requestId(), args.id, args.ifMatchVersion);
    },
    /** Saga compensation: puts the user back as it was before a change a blocking target rejected. */
    async restoreUser(args: { snapshot: users.UserSnapshot; afterVersion: number }): Promise<users.StoreResult> {
      return users.restoreUser(db, requestId(), args.snapshot, args.afterVersion);
    },

    async createGroup(args: { id: string; input: GroupInput }): Promise<groups.GroupStoreResult> {
      return groups.createGroup(db, requestId(), args.id, args.input);
    },
    async replaceGroup(args: { id: string; input: GroupInput; ifMatchVersion?: number | undefined }): Promise<groups.GroupStoreResult> {
      return groups.replaceGroup(db, requestId(), args.id, args.input, args.ifMatchVersion, workflowId());
    },
    async patchGroup(args: { id: string; patch: unknown; ifMatchVersion?: number | undefined }): Promise<groups.GroupStoreResult> {
      const rt = await freshSchemas().group();
      const extensions = parsersOf(rt);
      return groups.patchGroup(
        db,
        requestId(),
        args.id,
        (current) => {
          const { resource, members } = applyGroupPatch(toScimGroup(current, NO_BASE_URL), args.patch, rt);
          const { members: _ignored, ...withoutMembers } = resource;
          const membersDef = findAttribute(rt.schema.attributes, 'members')!;
          return {
            input: parseGroupInput(withoutMembers, { defaultDomain: current.domain, extensions }),
            delta: members,
            // Member filters other than `value eq` (e.g. `members[display sw "ops-"]`), evaluated on the rows.
            matchesMember: (m) => (members.removeWhere ?? []).some((f) => evaluateElementFilter(f, m, membersDef)),
          };
        },
        args.ifMatchVersion,
        workflowId(),
      );
    },
    async restoreGroup(args: { snapshot: groups.GroupSnapshot; afterVersion: number }): Promise<groups.GroupStoreResult> {
      return groups.restoreGroup(db, requestId(), args.snapshot, args.afterVersion);
    },
    async deleteGroup(args: { id: string; ifMatchVersion?: number | undefined }): Promise<groups.GroupStoreResult> {
      return groups.deleteGroup(db, requestId(), args.id, args.ifMatchVersion, workflowId());
    },
  };
}
