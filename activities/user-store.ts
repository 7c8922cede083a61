/**
 * User store activities: the writes of InboundProvision. Each is idempotent by its workflow id (see the
 * store_request ledger in src/userstore/users.ts), so Temporal may retry them freely.
 *
 * PATCH is applied here, under the row lock, to the stored resource (not in the api against a copy read
 * earlier), so two concurrent PATCHes of one resource both apply, one after the other.
 */
import { Context } from '@temporalio/activity';
import type { PasswordPolicy } from '../src/crypto/password-policy.js';
import type { SecretSealer } from '../src/crypto/sealed-secret.js';
import type { PrismaClient } from '../src/db/client.js';
import type { GroupInput, UserInput } from '../src/provisioning/types.js';
import { parseGroupInput, toScimGroup } from '../src/scim/group-resource.js';
import { applyGroupPatch, applyPatch } from '../src/scim/patch.js';
import { mapPatchPasswords } from '../src/scim/patch-password.js';
import { validateExtensionValue, type SchemaRegistry } from '../src/scim/schema-registry.js';
import { findAttribute, type ResourceTypeDef } from '../src/scim/schema-defs.js';
import { evaluateElementFilter } from '../src/scim/filter.js';
import { INBOUND_REQUEST_PREFIX } from '../src/scim/inbound-requests.js';
import { JIT_WORKFLOW_PREFIX } from '../src/federation/jit-types.js';
import { extensionParsers, parseUserInput, toScimUser } from '../src/scim/user-resource.js';
import * as groups from '../src/userstore/groups.js';
import * as users from '../src/userstore/users.js';

export interface UserStoreDeps {
  db: PrismaClient;
  schemas: SchemaRegistry;
  passwordPolicy: PasswordPolicy;
  /** Opens the passwords the api sealed, and seals the password hash of a snapshot (src/crypto/sealed-secret.ts). */
  sealer: SecretSealer;
}

/** The id of the workflow running the current activity. */
export function workflowId(): string {
  const info = Context.current().info;
  return info.workflowExecution?.workflowId ?? info.activityId;
}

/**
 * The idempotency key of the current activity: one write per workflow and activity type. For a keyed request's
 * workflow (its id derived from the client's Idempotency-Key, src/scim/inbound-requests.ts) the run id is part of it:
 * once the namespace's retention has dropped the closed workflow, the same key starts a new workflow with the same id,
 * and that is a new request, not one the ledger may answer from an old result. (An operator's reset of such a workflow
 * to before its write runs the write again.) The same for a JitProvision (its id is the federated identity's, so every
 * login of one person is a new run of one workflow id). Other workflows keep the form their histories were recorded
 * with. `attempt` tells apart the writes one run repeats on purpose (a JIT prompt answered again after a refusal).
 */
export function requestId(attempt?: number): string {
  const info = Context.current().info;
  const execution = info.workflowExecution;
  const suffix = attempt === undefined ? '' : `:${attempt}`;
  if (execution?.workflowId.startsWith(INBOUND_REQUEST_PREFIX) || execution?.workflowId.startsWith(JIT_WORKFLOW_PREFIX)) {
    return `${execution.workflowId}:${execution.runId}:${info.activityType}${suffix}`;
  }
  return `${workflowId()}:${info.activityType}${suffix}`;
}

/** PATCH works on the rendered resource; its links are irrelevant there. */
const NO_BASE_URL = '';

function parsersOf(rt: ResourceTypeDef) {
  return extensionParsers(rt, (id, value) => {
    const ext = rt.extensions.find((e) => e.schema.id === id);
    return ext ? validateExtensionValue(ext.schema, value) : {};
  });
}

export function createUserStoreActivities({ db, schemas, passwordPolicy, sealer }: UserStoreDeps) {
  /** The input with its password opened: this activity hashes it. */
  const opened = (input: UserInput): UserInput => (input.password === undefined ? input : { ...input, password: sealer.openIfSealed(input.password) });
  /**
   * The result with the snapshot's password hash sealed: it goes into workflow history (the saga restores it), where
   * nobody may read it, not even an operator decoding the history.
   */
  const sealed = <R extends users.StoreResult>(result: R): R =>
    result.ok && result.previous ? { ...result, previous: { ...result.previous, passwordHash: sealer.sealNullable(result.previous.passwordHash) } } : result;
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
    /** `attempt`: see requestId (absent in every InboundProvision history). */
    async createUser(args: { id: string; input: UserInput; attempt?: number | undefined }): Promise<users.StoreResult> {
      return users.createUser(db, requestId(args.attempt), args.id, opened(args.input), passwordPolicy);
    },
    /**
     * A chunk of a Bulk load's creates (InboundProvision `createBatch`), in order, each under its own request id (the
     * operation's index), so a retried chunk answers what was done from the ledger and does the rest. Stops after
     * `maxErrors` rejections (failOnErrors): the operations after that are not in the answer.
     */
    async createUsers(args: { users: { index: number; id: string; input: UserInput }[]; maxErrors?: number | undefined }): Promise<{ index: number; result: users.StoreResult }[]> {
      if (args.maxErrors === undefined) {
        // All of them in one transaction (users.createUsers).
        const results = await users.createUsers(db, args.users.map((u) => ({ requestId: requestId(u.index), id: u.id, input: opened(u.input) })), passwordPolicy);
        return args.users.map((u, i) => ({ index: u.index, result: results[i]! }));
      }
      // failOnErrors: one by one, to stop right after the error that uses it up.
      const out: { index: number; result: users.StoreResult }[] = [];
      let errors = 0;
      for (const u of args.users) {
        const result = await users.createUser(db, requestId(u.index), u.id, opened(u.input), passwordPolicy);
        out.push({ index: u.index, result });
        if (!result.ok && ++errors >= args.maxErrors) break;
      }
      return out;
    },
    async replaceUser(args: { id: string; input: UserInput; ifMatchVersion?: number | undefined }): Promise<users.StoreResult> {
      return sealed(await users.replaceUser(db, requestId(), args.id, opened(args.input), args.ifMatchVersion, passwordPolicy));
    },
    async patchUser(args: { id: string; patch: unknown; ifMatchVersion?: number | undefined }): Promise<users.StoreResult & { passwordChanged?: boolean }> {
      const rt = await freshSchemas().user();
      const extensions = parsersOf(rt);
      const patch = mapPatchPasswords(args.patch, (p) => sealer.openIfSealed(p));
      const result = await users.patchUser(
        db,
        requestId(),
        args.id,
        (current) => {
          const { resource } = applyPatch(toScimUser(current, NO_BASE_URL), patch, rt);
          return parseUserInput(resource, { defaultDomain: current.domain, extensions });
        },
        args.ifMatchVersion,
        passwordPolicy,
      );
      return sealed(result);
    },
    async deleteUser(args: { id: string; ifMatchVersion?: number | undefined }): Promise<users.StoreResult> {
      return sealed(await users.deleteUser(db, requestId(), args.id, args.ifMatchVersion));
    },
    /** Saga compensation: puts the user back as it was before a change a blocking target rejected. */
    async restoreUser(args: { snapshot: users.UserSnapshot; afterVersion: number }): Promise<users.StoreResult> {
      const snapshot = { ...args.snapshot, passwordHash: sealer.openIfSealed(args.snapshot.passwordHash) };
      return users.restoreUser(db, requestId(), snapshot, args.afterVersion);
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
