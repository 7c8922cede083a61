/**
 * The JitProvision workflow's reads and writes other than the user itself (which goes through the same user-store
 * activities as InboundProvision: activities/user-store.ts, so validation, password hashing, uniqueness and the
 * version happen in one place): mapping the login's claims and finding who it is, checking a username, the link,
 * the authoritative group sync, and the audit trail.
 *
 * Each is safe to repeat: reads have no effect; the link is one row per identity by its unique constraint; group
 * changes go through the store_request ledger, one request per group; the audit row is written once per event id.
 */
import type { Client } from '@temporalio/client';
import type { PrismaClient } from '../src/db/client.js';
import { consentAttributes, mapClaims, newUserInput, syncedUserInput, userNameProblem } from '../src/federation/claims.js';
import type { JitProvisionInput } from '../src/federation/jit-types.js';
import { createLink, deleteLinkById, findLink, setAssertedGroupIds, touchLink, type LinkedBy } from '../src/federation/links.js';
import { enqueueProvisioningEvent } from '../src/provisioning/enqueue.js';
import { resolveOutboundTargets } from '../src/provisioning/targets.js';
import type { Initiator, UserInput, UserRecord } from '../src/provisioning/types.js';
import { splitDomain } from '../src/scim/user-resource.js';
import * as groups from '../src/userstore/groups.js';
import { checkUserName } from '../src/userstore/username.js';
import { getUser } from '../src/userstore/users.js';
import { requestId, workflowId } from './user-store.js';

export interface JitDeps {
  db: PrismaClient;
  temporal: Client;
  taskQueue: string;
  outboundIdleMs: number;
}

/** Who a login is, as far as the store knows. */
export type JitMatch =
  /** The identity's link: that user, and what the sync mode changes on it (undefined: nothing). */
  | { kind: 'linked'; linkId: string; user: UserRecord; update: UserInput | undefined }
  /** An unlinked local user this login may be associated with by verified email (every condition held). */
  | { kind: 'email'; user: UserRecord; update: UserInput | undefined }
  /** Nobody: `userNameTaken` says whether the suggested name is held by an (unlinked) local user. */
  | { kind: 'none'; userNameTaken: boolean };

export type JitPreparation =
  | { ok: false; message: string }
  | {
      ok: true;
      /** The username the claims suggest (the first valid of userNameClaims), if any. */
      userName: string | undefined;
      /** The new user JIT would create (mapped attributes, no password); its userName is '' when the claims gave none. */
      newUser: UserInput;
      /** What the consent prompt lists. */
      consent: Array<{ attribute: string; value: string }>;
      /** The IdP asserted email_verified for the email it gave. */
      emailVerified: boolean;
      /** Local group ids the group claim maps to (names that name no group are left out); undefined: groups not synced. */
      groupIds: string[] | undefined;
      match: JitMatch;
    };

export function createJitActivities({ db, temporal, taskQueue, outboundIdleMs }: JitDeps) {
  /** The ids of local groups by name (`DOMAIN/name`, or bare in `domain`), ignoring case as the store does. */
  async function groupIdsByName(names: readonly string[], domain: string): Promise<string[]> {
    const ids: string[] = [];
    for (const name of names) {
      const { domain: prefix, name: displayName } = splitDomain(name);
      const row = await db.group.findFirst({ where: { domain: { name: prefix ?? domain }, displayNameNormalized: displayName.toLowerCase() }, select: { id: true } });
      if (row && !ids.includes(row.id)) ids.push(row.id);
    }
    return ids;
  }

  /**
   * The one local user association by verified email may pick: the IdP asserted email_verified for this email, the
   * local user's primary email is it and is verified here, exactly one such user exists in any domain, and the user
   * is not linked to another identity of this IdP already (an IdP that reassigns an address must not reach the
   * account of the person who had it before). Otherwise none.
   */
  async function associable(email: string, idpId: string): Promise<string | undefined> {
    const candidates = await db.user.findMany({
      where: { emailVerified: true, emails: { some: { valueNormalized: email.toLowerCase(), primary: true } } },
      select: { id: true, federatedLinks: { where: { idpId }, select: { id: true } } },
      take: 2,
    });
    if (candidates.length !== 1 || candidates[0]!.federatedLinks.length > 0) return undefined;
    return candidates[0]!.id;
  }

  /** Whether a username is valid and free in a domain (a prompt's choice is checked here before the create). */
  async function checkJitUserName(args: { domain: string; userName: string }): Promise<{ ok: true } | { ok: false; taken: boolean; message: string }> {
    const problem = userNameProblem(args.userName);
    if (problem) return { ok: false, taken: false, message: `That username cannot be used: ${problem}` };
    const checked = checkUserName(args.userName);
    if (!checked.ok) return { ok: false, taken: false, message: `That username cannot be used: ${checked.error.message}` };
    const row = await db.user.findFirst({ where: { domain: { name: args.domain }, userNameNormalized: checked.key }, select: { id: true } });
    return row ? { ok: false, taken: true, message: `The username '${args.userName}' is already taken here; choose another` } : { ok: true };
  }

  return {
    /**
     * Maps the claims (src/federation/claims.ts) and finds who the login is: an existing link always wins; else
     * association by verified email when the IdP allows it; else nobody. Read-only.
     */
    async prepareJitLogin(input: JitProvisionInput): Promise<JitPreparation> {
      const { identity, claims, settings } = input;
      const mapped = mapClaims(claims, settings);
      if (!mapped.ok) return { ok: false, message: mapped.message };
      const m = mapped.value;
      const groupIds = m.groupNames === undefined ? undefined : await groupIdsByName(m.groupNames, settings.userStoreDomain);
      const base = {
        ok: true as const,
        userName: m.userName,
        newUser: newUserInput(settings.userStoreDomain, m.userName ?? '', m),
        consent: consentAttributes(m.userName ?? '', m),
        emailVerified: m.emailVerified,
        groupIds,
      };
      const link = await findLink(db, identity.idpId, identity.issuer, identity.subject);
      const linkedUser = link && (await getUser(db, link.userId));
      if (link && linkedUser) return { ...base, match: { kind: 'linked', linkId: link.id, user: linkedUser, update: syncedUserInput(linkedUser, m, settings) } };
      if (settings.associateByVerifiedEmail && m.emailVerified && m.email !== undefined) {
        const id = await associable(m.email, identity.idpId);
        const user = id && (await getUser(db, id));
        if (user) return { ...base, match: { kind: 'email', user, update: syncedUserInput(user, m, settings) } };
      }
      const taken = m.userName === undefined ? false : !(await checkJitUserName({ domain: settings.userStoreDomain, userName: m.userName })).ok;
      return { ...base, match: { kind: 'none', userNameTaken: taken } };
    },

    checkJitUserName,

    /**
     * Records the identity's link to a user. Natural idempotency: the link that exists for the identity is answered;
     * if it links another user (an operator linked it meanwhile), that is said, and nothing changes.
     */
    async recordJitLink(args: { userId: string; idpId: string; issuer: string; subject: string; linkedBy: LinkedBy }): Promise<{ ok: true; linkId: string } | { ok: false; message: string }> {
      const link = await createLink(db, args);
      if (link.userId !== args.userId) return { ok: false, message: 'This identity was linked to another local user meanwhile' };
      return { ok: true, linkId: link.id };
    },

    /** Undoes a link this run made (a login that failed closed after associating an existing user). */
    async removeJitLink(args: { linkId: string }): Promise<void> {
      await deleteLinkById(db, args.linkId);
    },

    /**
     * Authoritative group sync: the user joins the groups the IdP asserts, and leaves only those this IdP gave before
     * and no longer asserts; memberships given locally are never touched (a group the user was already in locally
     * when the IdP first asserted it stays local). Each change is a group PATCH through the store (version, role
     * provisioning bookkeeping) and goes to the group's outbound targets like one.
     */
    async syncJitGroups(args: { linkId: string; userId: string; groupIds: string[]; initiator: Initiator }): Promise<{ added: string[]; removed: string[]; provisioningPending: number }> {
      const link = await db.federatedLink.findUnique({ where: { id: args.linkId }, select: { assertedGroupIds: true } });
      if (!link) return { added: [], removed: [], provisioningPending: 0 };
      const previous = link.assertedGroupIds;
      const wanted = args.groupIds;
      const memberOf = new Set(
        (await db.groupMember.findMany({ where: { userMemberId: args.userId, groupId: { in: [...new Set([...wanted, ...previous])] } }, select: { groupId: true } })).map((m) => m.groupId),
      );
      const toAdd = wanted.filter((g) => !memberOf.has(g));
      const toRemove = previous.filter((g) => !wanted.includes(g) && memberOf.has(g));
      const targets = await resolveOutboundTargets(db, args.initiator.applicationId);
      const added: string[] = [];
      const removed: string[] = [];
      let provisioningPending = 0;
      for (const groupId of [...toAdd, ...toRemove]) {
        const adding = toAdd.includes(groupId);
        const key = `${requestId()}:${groupId}`;
        const result = await groups.patchGroup(db, key, groupId, (current) => ({
          input: { domain: current.domain, displayName: current.displayName, externalId: current.externalId, members: [], extensions: current.extensions },
          delta: { add: adding ? [{ value: args.userId, type: 'User' }] : [], remove: adding ? [] : [args.userId] },
        }));
        if (!result.ok) continue; // the group was deleted meanwhile: nothing to join or leave
        (adding ? added : removed).push(groupId);
        provisioningPending += result.provisioningPending ?? 0;
        const g = result.group;
        if (targets.length > 0) {
          await enqueueProvisioningEvent(temporal, { taskQueue, outboundIdleMs }, {
            eventId: key,
            resourceType: 'Group',
            operation: 'update',
            localId: g.id,
            version: g.version,
            group: { id: g.id, domain: g.domain, displayName: g.displayName, externalId: g.externalId },
            targets,
            initiator: args.initiator,
          });
        }
      }
      // What this IdP gave: what it asserts and either gave before or added now (not what the user had locally).
      await setAssertedGroupIds(db, args.linkId, wanted.filter((g) => previous.includes(g) || added.includes(g)));
      return { added, removed, provisioningPending };
    },

    /** The login went through: the link's last login, and whether the user's email is verified (when JIT set it). */
    async finishJitLogin(args: { linkId: string; userId: string; emailVerified?: boolean | undefined; at: string }): Promise<void> {
      await touchLink(db, args.linkId, new Date(args.at));
      if (args.emailVerified !== undefined) await db.user.updateMany({ where: { id: args.userId }, data: { emailVerified: args.emailVerified } });
    },

    /**
     * The audit trail of a JIT login (GET /api/server/v1/provisioning/audit): one row per operation of the run,
     * connectorId null (it is not a delivery), initiator `jit:<idp name>`.
     */
    async auditJit(args: { userId: string; userName: string; operation: 'jit-create' | 'jit-update' | 'jit-link'; outcome: string; error?: string | undefined; initiator: Initiator }): Promise<void> {
      const eventId = `${requestId()}:${args.operation}`;
      const existing = await db.provisioningAudit.findFirst({ where: { eventId, connectorId: null }, select: { id: true } });
      const data = { resourceType: 'User', localId: args.userId, userName: args.userName, operation: args.operation, outcome: args.outcome, error: args.error ?? null, initiator: args.initiator.label };
      if (existing) await db.provisioningAudit.update({ where: { id: existing.id }, data });
      else await db.provisioningAudit.create({ data: { eventId, workflowId: workflowId(), connectorId: null, ...data } });
    },
  };
}
