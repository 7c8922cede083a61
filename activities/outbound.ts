/**
 * Outbound provisioning activities: resolving targets, handing events to OutboundFanOut, and delivering
 * one event to one target.
 *
 * deliverToTarget is where "effectively once" is made: the version applied at each target is recorded
 * with the remote id (remote_link), so a repeated delivery is skipped; a create whose answer was lost
 * (crash after the target committed) meets 409 on retry and links to the existing remote user instead of
 * creating a second one; an update whose remote object vanished re-creates it.
 *
 * On a link with Enable Rules the fan-out decides first (activities/rules.ts decideRules) and hands the verdict in:
 * a Deny (skip) is audited `denied` without calling the target, a Permit is delivered with its omit-attribute
 * obligations applied, and either way the decision, the deciding policy and the reason are in the audit record.
 * Whether a link has Enable Rules is read at delivery, not taken from when the change was accepted: a delivery without
 * a verdict (`rulesAtDelivery`) looks at the links first and, if one has Enable Rules now, sends nothing and answers
 * `rulesRequired`, so a backlog queued behind a down or quarantined target never goes out unchecked once an operator
 * turns Enable Rules on.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { ConnectorAlreadyExists, ConnectorError, ConnectorNotFound, ConnectorRejected, ConnectorTransient } from '../src/connectors/errors.js';
import { isDryRun, recordCalls } from '../src/connectors/dry-run.js';
import type { ConnectorRegistry } from '../src/connectors/registry.js';
import type { OutboundConnector, OutboundGroup, OutboundUser } from '../src/connectors/types.js';
import type { SecretSealer } from '../src/crypto/sealed-secret.js';
import type { SecretBox } from '../src/crypto/secret-box.js';
import type { PrismaClient } from '../src/db/client.js';
import { mapOutboundUser } from '../src/provisioning/attribute-mapping.js';
import { loadConnectorConfig } from '../src/provisioning/connectors.js';
import { provisioningRoleGate } from '../src/provisioning/provisioning-roles.js';
import { resolveOutboundTargets } from '../src/provisioning/targets.js';
import { eventSubject, type DeliveryOutcome, type DeliveryReport, type GroupEvent, type OutboundTarget, type ProvisioningEvent, type SupersededEvent, type UserEvent } from '../src/provisioning/types.js';
import { getGroup } from '../src/userstore/groups.js';
import { enqueueProvisioningEvent, outboundBatchWorkflowId } from '../src/provisioning/enqueue.js';
import { omitAttributes, rulesOfLinks, type RuleVerdict } from './rules.js';

/**
 * What deliverToTarget answers: a DeliveryReport, or (`rulesRequired`, asked for with `rulesAtDelivery`) that the link
 * has Enable Rules now although the change was accepted without: nothing was sent or audited, and the fan-out decides
 * (decideRules) and calls again with the verdict.
 */
export type DeliveryAttempt = DeliveryReport & { rulesRequired?: true | undefined };

/** A connector loaded once for a batch of deliveries: its configuration and one client (one keep-alive pool). */
interface LoadedConnector {
  config: Awaited<ReturnType<typeof loadConnectorConfig>>;
  connector: OutboundConnector | undefined;
}

/** What one deliverBatch call did, by outcome; `failed` were refused by the target (audited, the batch moves on). */
export interface BatchDeliveryResult {
  delivered: number;
  skipped: number;
  failed: number;
  /** Set when the connector is quarantined: nothing more was sent; the batch holds until it is resumed. */
  held?: string | undefined;
}

/**
 * How long a delivery's lease lasts (DeliveryLease): past the longest call a delivery makes (connectorCall's 60 s
 * start-to-close), so only a holder that died lets it run out; its own retry takes it back at once.
 */
const LEASE_MS = 120_000;
/** Deliveries one deliverBatch call has in flight to its target at once. */
const BATCH_CONCURRENCY = 8;

/** The activity failure that has Temporal retry a delivery the target could not take now, after its Retry-After. */
function retryLater(err: ConnectorTransient, message = err.message): ApplicationFailure {
  return ApplicationFailure.create({
    message,
    type: err.name,
    nonRetryable: false,
    // Retry-After is a lower bound. `0` ("now") must not become nextRetryDelay 0, which Temporal treats as
    // no further retry (the activity closes with RETRY_STATE_TIMEOUT); the policy's own backoff applies then.
    ...(err.retryAfterMs !== undefined && err.retryAfterMs > 0 && { nextRetryDelay: err.retryAfterMs }),
  });
}

/** The rule check's outcome as the audit record keeps it (activities/rules.ts). */
export interface AuditedDecision {
  decision?: string | undefined;
  decidedBy?: string | undefined;
  reason?: string | undefined;
}

function auditedDecision(rules: RuleVerdict | undefined): AuditedDecision | undefined {
  return rules?.decision ? { decision: rules.decision, decidedBy: rules.decidedBy, reason: rules.reason } : undefined;
}

export interface OutboundDeps {
  db: PrismaClient;
  temporal: Client;
  registry: ConnectorRegistry;
  box: SecretBox;
  /** Opens the password an event carries, sealed by the api (src/crypto/sealed-secret.ts), just before it is sent. */
  sealer: SecretSealer;
  taskQueue: string;
  outboundIdleMs: number;
}


export function createOutboundActivities(deps: OutboundDeps) {
  const { db, temporal, registry, box, sealer } = deps;

  /**
   * Writes the audit record of one event at one target (one row per event and connector: a retried delivery updates
   * its own). `rules` is the rule check that let it through, or refused it.
   */
  async function auditOne(
    event: ProvisioningEvent,
    target: Pick<OutboundTarget, 'connectorId'>,
    outcome: DeliveryOutcome,
    extra: { remoteId?: string | undefined; error?: string | undefined; rules?: AuditedDecision | undefined },
  ): Promise<void> {
    const data = auditData(event, outcome, extra);
    await db.provisioningAudit.upsert({
      where: { eventId_connectorId: { eventId: event.eventId, connectorId: target.connectorId } },
      create: { eventId: event.eventId, connectorId: target.connectorId, ...data },
      update: data,
    });
  }

  /** An audit record's fields, but for its event and connector ids: who delivered, what, with which outcome. */
  function auditData(
    event: ProvisioningEvent,
    outcome: DeliveryOutcome,
    extra: { remoteId?: string | undefined; error?: string | undefined; rules?: AuditedDecision | undefined },
  ) {
    const info = Context.current().info;
    return {
      workflowId: info.workflowExecution?.workflowId ?? info.activityId,
      resourceType: event.resourceType,
      localId: event.localId,
      userName: eventSubject(event),
      operation: event.operation,
      outcome,
      attempts: info.attempt,
      remoteId: extra.remoteId ?? null,
      error: extra.error ?? null,
      initiator: event.initiator.label,
      ...(extra.rules && { decision: extra.rules.decision ?? null, decidedBy: extra.rules.decidedBy ?? null, decisionReason: extra.rules.reason ?? null }),
    };
  }

  /** Creates the user, or links to the one the target already has by that userName. */
  async function createOrLink(connector: OutboundConnector, user: OutboundUser): Promise<string> {
    try {
      return (await connector.createUser(user)).remoteId;
    } catch (err) {
      if (!(err instanceof ConnectorAlreadyExists)) throw err;
      const found = await connector.findUserByUserName(user.userName);
      if (!found) throw new ConnectorRejected(`${err.message}, but no user '${user.userName}' could be found to link to`);
      await connector.updateUser(found.remoteId, user);
      return found.remoteId;
    }
  }

  /**
   * One delivery. `rules` is the rule check that let it through (a Permit, or NotApplicable under `provision`): kept
   * in its audit record, and its omit-attribute obligations applied to the user sent. `rulesAtDelivery` (no verdict
   * given): answer `rulesRequired` instead of delivering if a link has Enable Rules now.
   */
  async function deliver(
    original: ProvisioningEvent,
    target: OutboundTarget,
    rules?: RuleVerdict,
    rulesAtDelivery = false,
    /** A batch's connector, loaded once for all its deliveries (deliverBatch); loaded here otherwise. */
    preloaded?: LoadedConnector,
  ): Promise<DeliveryAttempt> {
    let event = original;
    const checked = auditedDecision(rules);
    const audit = (e: ProvisioningEvent, t: Pick<OutboundTarget, 'connectorId'>, outcome: DeliveryOutcome, extra: { remoteId?: string | undefined; error?: string | undefined } = {}) =>
      auditOne(e, t, outcome, { ...extra, rules: checked });
    const report = (outcome: DeliveryOutcome, extra: { remoteId?: string | undefined; error?: string | undefined } = {}) => ({
      eventId: event.eventId,
      connectorId: target.connectorId,
      label: target.label,
      outcome,
      ...extra,
    });
    const config = preloaded ? preloaded.config : await loadConnectorConfig(db, box, target.connectorId);
    if (!config || !config.enabled) {
      const error = config ? 'connector disabled' : 'connector deleted';
      await audit(event, target, 'skipped', { error });
      return report('skipped', { error });
    }
    if (config.quarantinedAt) {
      // The connector is quarantined: nothing goes to it until an operator resumes it; the fan-out holds this
      // delivery (and the ones behind it) in order.
      const error = `quarantined since ${config.quarantinedAt.toISOString()}: ${config.quarantineReason ?? 'the target kept failing'}`;
      await audit(event, target, 'held', { error });
      return { ...report('held', { error }), quarantined: true };
    }
    if (rulesAtDelivery && !rules && (await rulesOfLinks(db, event.initiator.applicationId, target.connectorId)).enabled) {
      // Enable Rules was turned on after the change was accepted (one indexed query of the links): nothing is sent
      // unchecked, nothing audited; the fan-out decides and calls again with the verdict.
      return { ...report('held'), rulesRequired: true };
    }
    if (rules?.omit?.length && event.resourceType === 'User') {
      // The Permit's omit-attribute obligations (activities/rules.ts): those attributes are not sent to this target.
      event = { ...event, user: omitAttributes(event.user, rules.omit) };
    }
    // One delivery of this resource to this connector at a time, from the link's read to its write (see DeliveryLease).
    const lease = await takeLease(target.connectorId, event);
    try {
      return await deliverLeased(event, target, config, checked, report, preloaded);
    } finally {
      await lease.release();
    }
  }

  /** deliver()'s part under the lease: the remote link read, the call, the link and audit written. */
  async function deliverLeased(
    event: ProvisioningEvent,
    target: OutboundTarget,
    config: NonNullable<Awaited<ReturnType<typeof loadConnectorConfig>>>,
    checked: AuditedDecision | undefined,
    report: (outcome: DeliveryOutcome, extra?: { remoteId?: string | undefined; error?: string | undefined }) => DeliveryReport,
    preloaded: LoadedConnector | undefined,
  ): Promise<DeliveryAttempt> {
    const audit = (e: ProvisioningEvent, t: Pick<OutboundTarget, 'connectorId'>, outcome: DeliveryOutcome, extra: { remoteId?: string | undefined; error?: string | undefined } = {}) =>
      auditOne(e, t, outcome, { ...extra, rules: checked });
    const where = { connectorId_resourceType_localId: { connectorId: target.connectorId, resourceType: event.resourceType, localId: event.localId } };
    const link = await db.remoteLink.findUnique({ where });
    if (event.resourceType === 'User' && event.operation !== 'delete') {
      // Role-based provisioning (src/provisioning/provisioning-roles.ts), decided on the store as it is now.
      const gate = await provisioningRoleGate(db, target.connectorId, event.localId);
      if (gate.restricted && !gate.holds) {
        const live = link?.remoteId && !link.deletedAt;
        if (!event.roleChange || !live) {
          const error = `not sent: the user holds none of identity provider ${gate.idpName ?? '?'}'s outbound provisioning roles`;
          await audit(event, target, 'skipped', { remoteId: link?.remoteId ?? undefined, error });
          return report('skipped', { error });
        }
        // It lost its last provisioning role of this identity provider: deprovisioned there (deleted, or deactivated
        // under `deprovision: deactivate`), its link kept as a tombstone, as for a deletion.
        event = { ...event, operation: 'delete' };
      }
    }
    const resync = event.resync === true;
    if (link && link.appliedVersion >= BigInt(event.version) && !resync) {
      // Already applied (a repeated delivery), or a newer change already reached this target. If this very
      // event was delivered (its completion was lost, e.g. in a Temporal restart), its record stays 'delivered'.
      const prior = await db.provisioningAudit.findUnique({
        where: { eventId_connectorId: { eventId: event.eventId, connectorId: target.connectorId } },
        select: { outcome: true },
      });
      if (prior?.outcome === 'delivered') return report('delivered', { remoteId: link.remoteId ?? undefined });
      if (!prior && event.resourceType === 'User' && link.appliedVersion === BigInt(event.version)) {
        // This very change is what the target has (a user's version names one change; re-sends and role changes are
        // resyncs, which never come here), and it has no record: an earlier attempt delivered it and was cut off
        // (a killed worker) between writing the link and its audit record. It was delivered, so it says so.
        await audit(event, target, 'delivered', { remoteId: link.remoteId ?? undefined });
        return report('delivered', { remoteId: link.remoteId ?? undefined });
      }
      const detail = `version ${event.version} not newer than applied version ${link.appliedVersion}`;
      await audit(event, target, 'skipped', { remoteId: link.remoteId ?? undefined, error: detail });
      return report('skipped', { remoteId: link.remoteId ?? undefined });
    }

    const real = preloaded?.connector ?? registry.create({ type: config.type, settings: config.settings, secrets: config.secrets });
    // Dry run (the connector's settings say `dryRun: true`): every call is recorded in the audit trail, none is sent.
    const dryRun = isDryRun(config.settings) ? recordCalls(real) : undefined;
    const connector = dryRun?.connector ?? real;
    let remoteId = link?.deletedAt ? undefined : (link?.remoteId ?? undefined);
    let appliedVersion = BigInt(event.version);
    if (event.resourceType === 'User') {
      remoteId = await deliverUser(connector, event, config, remoteId);
    } else {
      if (!link && !dryRun && event.operation !== 'delete') {
        // Mark the group as on its way to this target before reading its members. A member whose first delivery
        // finishes while this one is in flight then sees the mark and re-sends the group (resyncGroupsOf);
        // without it both could miss each other and the member would be left out at the target.
        await db.remoteLink.upsert({ where, create: { ...where.connectorId_resourceType_localId, remoteId: null, appliedVersion: 0n }, update: {} });
      }
      const delivered = await deliverGroup(connector, event, target, remoteId);
      if (delivered === 'unsupported') {
        const error = `the ${config.type} connector does not provision groups`;
        await audit(event, target, 'skipped', { error });
        return report('skipped', { error });
      }
      remoteId = delivered.remoteId;
      // The group's state was read at delivery: that version is what the target now has.
      if (delivered.version !== undefined && BigInt(delivered.version) > appliedVersion) appliedVersion = BigInt(delivered.version);
      if (link && link.appliedVersion > appliedVersion) appliedVersion = link.appliedVersion;
    }

    if (dryRun) {
      // Nothing reached the target: no remote_link is recorded, so turning dry run off delivers for real.
      const error = `dry run: ${dryRun.summary()}`;
      await audit(event, target, 'skipped', { remoteId, error });
      return report('skipped', { remoteId, error });
    }
    const deleted = event.operation === 'delete';
    await db.remoteLink.upsert({
      where,
      create: { ...where.connectorId_resourceType_localId, remoteId: remoteId ?? null, appliedVersion, deletedAt: deleted ? new Date() : null },
      update: { remoteId: remoteId ?? null, appliedVersion, deletedAt: deleted ? new Date() : null },
    });
    // A user reaching this target for the first time (created, or provisioned by a later update or role change):
    // the groups already there (or on their way) lack it. Only after its own link is recorded, so the group
    // deliveries this starts can translate it.
    if (event.resourceType === 'User' && event.operation !== 'delete' && (!link?.remoteId || link.deletedAt)) await resyncGroupsOf(event, target);
    await audit(event, target, 'delivered', { remoteId });
    return report('delivered', { remoteId });
  }

  /**
   * The user as it is created at a target: with the password the change set, or the connector's default password
   * (WSO2's "default password", only ever sent on a create), when the connector provisions passwords; the connector's
   * attribute mapping for a create.
   */
  function userForCreate(event: UserEvent, config: { passwordProvisioning: boolean; secrets: Record<string, string>; settings: Record<string, unknown> }): Promise<OutboundUser> {
    const password = config.passwordProvisioning ? (sealer.openIfSealed(event.user.password) ?? config.secrets.defaultPassword) : undefined;
    return mapOutboundUser({ ...event.user, password }, config.settings.attributeMapping, { operation: 'create' });
  }

  async function deliverUser(
    connector: OutboundConnector,
    event: UserEvent,
    config: { passwordProvisioning: boolean; secrets: Record<string, string>; settings: Record<string, unknown> },
    linkedRemoteId: string | undefined,
  ): Promise<string | undefined> {
    // The password the change set, if any; the connector's default password only when the user is created at the
    // target (WSO2's "default password"): sending it on updates would reset the user's password there each time.
    const password = config.passwordProvisioning ? sealer.openIfSealed(event.user.password) : undefined;
    // The connector's attribute mapping (settings.attributeMapping) for this operation; `when: create` rules only when
    // the user is created at the target (src/provisioning/attribute-mapping.ts).
    const rules = config.settings.attributeMapping;
    const user: OutboundUser = await mapOutboundUser({ ...event.user, password }, rules, { operation: event.operation === 'delete' ? 'delete' : 'update' });
    const forCreate = () => userForCreate(event, config);
    let remoteId = linkedRemoteId;
    if (event.operation === 'delete') {
      // Never linked (or the link was lost in a crash after the create): find it by name.
      remoteId ??= (await connector.findUserByUserName(user.userName))?.remoteId;
      if (remoteId) await connector.deleteUser(remoteId, user);
      return remoteId;
    }
    if (remoteId) {
      try {
        await connector.updateUser(remoteId, user);
        return remoteId;
      } catch (err) {
        if (!(err instanceof ConnectorNotFound)) throw err;
        // Deleted at the target behind our back: provision it again.
      }
    }
    return createOrLink(connector, await forCreate());
  }

  /**
   * Sends a group's current state: its attributes from the store and its members translated to this target's
   * remote ids. Members not provisioned to the target (yet) are left out; their own first delivery re-sends the
   * group (resyncGroupsOf), so the target converges on the full membership.
   */
  async function deliverGroup(
    connector: OutboundConnector,
    event: GroupEvent,
    target: OutboundTarget,
    linkedRemoteId: string | undefined,
  ): Promise<{ remoteId: string | undefined; version?: number } | 'unsupported'> {
    if (!connector.createGroup || !connector.updateGroup || !connector.deleteGroup) return 'unsupported';
    const current = event.operation === 'delete' ? undefined : await getGroup(db, event.localId, { members: false });
    let remoteId = linkedRemoteId;
    if (!current) {
      // Deleted (by this event, or by a later one this delivery overtakes): remove it at the target.
      const outbound: OutboundGroup = { id: event.group.id, displayName: event.group.displayName, externalId: event.group.externalId, members: [] };
      remoteId ??= (await connector.findGroupByDisplayName?.(outbound.displayName))?.remoteId;
      if (remoteId) await connector.deleteGroup(remoteId, outbound);
      return { remoteId };
    }
    const members = await db.$queryRaw<{ remote_id: string; member_type: 'User' | 'Group'; member_id: string }[]>`
      SELECT l.remote_id, m.member_type, m.member_id::text AS member_id
      FROM scim_group_member m
      JOIN remote_link l ON l.local_id = m.member_id AND l.resource_type = m.member_type
       AND l.connector_id = ${target.connectorId}::uuid AND l.deleted_at IS NULL AND l.remote_id IS NOT NULL
      WHERE m.group_id = ${event.localId}::uuid
      ORDER BY m.created_at, m.member_id`;
    const outbound: OutboundGroup = {
      id: current.id,
      displayName: current.displayName,
      externalId: current.externalId,
      members: members.map((m) => ({ remoteId: m.remote_id, type: m.member_type, localId: m.member_id })),
    };
    if (remoteId) {
      try {
        await connector.updateGroup(remoteId, outbound);
        return { remoteId, version: current.version };
      } catch (err) {
        if (!(err instanceof ConnectorNotFound)) throw err;
      }
    }
    try {
      return { remoteId: (await connector.createGroup(outbound)).remoteId, version: current.version };
    } catch (err) {
      if (!(err instanceof ConnectorAlreadyExists) || !connector.findGroupByDisplayName) throw err;
      const found = await connector.findGroupByDisplayName(outbound.displayName);
      if (!found) throw new ConnectorRejected(`${err.message}, but no group '${outbound.displayName}' could be found to link to`);
      await connector.updateGroup(found.remoteId, outbound);
      return { remoteId: found.remoteId, version: current.version };
    }
  }

  /**
   * A user just reached a target for the first time: the groups it belongs to that are already there lack it.
   * Each gets a resync event on its own OutboundFanOut, which keeps group deliveries in order.
   */
  async function resyncGroupsOf(event: UserEvent, target: OutboundTarget): Promise<void> {
    const groups = await db.$queryRaw<{ id: string; version: number; display_name: string; external_id: string | null; domain: string }[]>`
      SELECT g.id::text AS id, g.version, g.display_name, g.external_id, d.name AS domain
      FROM scim_group_member m
      JOIN scim_group g ON g.id = m.group_id
      JOIN user_store_domain d ON d.id = g.domain_id
      JOIN remote_link l ON l.local_id = g.id AND l.resource_type = 'Group' AND l.connector_id = ${target.connectorId}::uuid AND l.deleted_at IS NULL
      WHERE m.member_id = ${event.localId}::uuid`;
    for (const g of groups) {
      await enqueue({
        eventId: `${event.eventId}:resync:${g.id}:${target.connectorId}`,
        resourceType: 'Group',
        operation: 'update',
        localId: g.id,
        version: g.version,
        group: { id: g.id, domain: g.domain, displayName: g.display_name, externalId: g.external_id ?? undefined },
        resync: true,
        targets: [target],
        initiator: event.initiator,
      });
    }
  }

  const enqueue = (event: ProvisioningEvent) => enqueueProvisioningEvent(temporal, deps, event);

  /**
   * deliverBatch's fast path: the batch's new users (creates with no remote link yet) sent with the connector's
   * createUsers (SCIM 2.0 `/Bulk`), each under its lease, then linked and audited as deliver() would. Users it does
   * not settle (the target has them already, a lease is taken, the connector has no such call, dry run, role-based
   * provisioning on the identity provider) are left to the one-by-one path; a target that is down leaves them all.
   */
  async function createInBulk(
    events: ProvisioningEvent[],
    target: OutboundTarget,
    loaded: LoadedConnector,
    result: BatchDeliveryResult,
  ): Promise<{ settled: Set<string>; transient?: ConnectorTransient; misconfigured?: ConnectorError }> {
    const settled = new Set<string>();
    const { config, connector } = loaded;
    const creates = events.filter((e): e is UserEvent => e.resourceType === 'User' && e.operation === 'create');
    if (!config?.enabled || config.quarantinedAt || !connector?.createUsers || isDryRun(config.settings) || creates.length < 2) return { settled };
    // Role-based provisioning is decided per user by deliver(); the identity provider either has roles or not.
    if ((await provisioningRoleGate(db, target.connectorId, creates[0]!.localId)).restricted) return { settled };
    const leases = await takeLeases(target.connectorId, creates);
    try {
      const linked = new Set(
        (
          await db.remoteLink.findMany({
            where: { connectorId: target.connectorId, resourceType: 'User', localId: { in: leases.held.map((e) => e.localId) } },
            select: { localId: true },
          })
        ).map((l) => l.localId),
      );
      const fresh = leases.held.filter((e) => !linked.has(e.localId));
      if (fresh.length < 2) return { settled };
      const users = await Promise.all(fresh.map((e) => userForCreate(e, config)));
      let answers: Awaited<ReturnType<NonNullable<OutboundConnector['createUsers']>>>;
      try {
        answers = await connector.createUsers(users);
      } catch (err) {
        if (err instanceof ConnectorTransient) return { settled, transient: err };
        if (err instanceof ConnectorError && err.name === 'ConnectorMisconfigured') return { settled, misconfigured: err };
        if (err instanceof ConnectorError) return { settled }; // the whole request refused: each user alone says why
        throw err;
      }
      if (!answers) {
        Context.current().log.info('the target takes no Bulk requests: the batch goes one user per call', { target: target.label, users: fresh.length });
        return { settled };
      }
      let transient: ConnectorTransient | undefined;
      let misconfigured: ConnectorError | undefined;
      const created = fresh.flatMap((event, i) => {
        const answer = answers[i]!;
        return 'remoteId' in answer ? [{ event, remoteId: answer.remoteId }] : [];
      });
      if (created.length > 0) {
        // Linked and recorded as deliver() does, a statement per table for them all (the leases keep these rows ours).
        await db.remoteLink.createMany({
          data: created.map(({ event, remoteId }) => ({ connectorId: target.connectorId, resourceType: 'User', localId: event.localId, remoteId, appliedVersion: BigInt(event.version) })),
        });
        // Groups already at the target that these users joined meanwhile are sent again (one query finds them, if any).
        const inGroups = await db.$queryRaw<{ member_id: string }[]>`
          SELECT DISTINCT m.member_id::text AS member_id FROM scim_group_member m
          JOIN remote_link l ON l.local_id = m.group_id AND l.resource_type = 'Group' AND l.connector_id = ${target.connectorId}::uuid AND l.deleted_at IS NULL
          WHERE m.member_id = ANY(${created.map((c) => c.event.localId)}::uuid[])`;
        const members = new Set(inGroups.map((r) => r.member_id));
        for (const c of created) if (members.has(c.event.localId)) await resyncGroupsOf(c.event, target);
        await auditMany(created.map(({ event, remoteId }) => ({ event, remoteId })), target, 'delivered');
        result.delivered += created.length;
        for (const c of created) settled.add(c.event.eventId);
      }
      for (const [i, event] of fresh.entries()) {
        const answer = answers[i]!;
        if ('remoteId' in answer) continue;
        if (answer.error instanceof ConnectorTransient) transient = answer.error;
        else if (answer.error.name === 'ConnectorMisconfigured') misconfigured = answer.error;
        else if (!(answer.error instanceof ConnectorAlreadyExists)) {
          // Refused by the target: as deliverToTarget audits a refusal. (Already there: linked by name one by one.)
          await auditOne(event, target, 'failed', { error: `${answer.error.name}: ${answer.error.message}` });
          result.failed += 1;
          settled.add(event.eventId);
        }
      }
      return { settled, ...(transient && { transient }), ...(misconfigured && { misconfigured }) };
    } finally {
      await leases.release();
    }
  }

  /** Audit records of many events at one target (deliverBatch), as auditOne writes each, in two statements. */
  async function auditMany(rows: { event: ProvisioningEvent; remoteId?: string | undefined }[], target: Pick<OutboundTarget, 'connectorId'>, outcome: DeliveryOutcome): Promise<void> {
    await db.$transaction([
      db.provisioningAudit.deleteMany({ where: { connectorId: target.connectorId, eventId: { in: rows.map((r) => r.event.eventId) } } }),
      db.provisioningAudit.createMany({
        data: rows.map(({ event, remoteId }) => ({ eventId: event.eventId, connectorId: target.connectorId, ...auditData(event, outcome, { remoteId }) })),
      }),
    ]);
  }

  /**
   * Takes the (connector, resource) leases of `events` (one resource type) for the delivery running now, in one
   * statement: the events whose lease it now holds (those another delivery holds are left out), and how to release
   * them all. The holder names the activity and the event, so the same delivery retried after a crash takes its lease
   * back at once.
   */
  async function takeLeases<E extends ProvisioningEvent>(connectorId: string, events: E[]): Promise<{ held: E[]; release(): Promise<void> }> {
    if (events.length === 0) return { held: [], release: () => Promise.resolve() };
    const info = Context.current().info;
    const holderOf = (e: ProvisioningEvent) => `${info.workflowExecution?.workflowId ?? ''}/${info.activityId}/${e.eventId}`;
    const resourceType = events[0]!.resourceType;
    const taken = await db.$queryRaw<{ local_id: string }[]>`
      INSERT INTO delivery_lease (connector_id, resource_type, local_id, holder, expires_at)
      SELECT ${connectorId}::uuid, ${resourceType}, t.local_id, t.holder, now() + make_interval(secs => ${LEASE_MS / 1000})
      FROM unnest(${events.map((e) => e.localId)}::uuid[], ${events.map(holderOf)}::text[]) AS t(local_id, holder)
      ON CONFLICT (connector_id, resource_type, local_id) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
      WHERE delivery_lease.expires_at < now() OR delivery_lease.holder = EXCLUDED.holder
      RETURNING local_id::text AS local_id`;
    const mine = new Set(taken.map((r) => r.local_id));
    const held = events.filter((e) => mine.has(e.localId));
    return {
      held,
      release: async () => {
        if (held.length === 0) return;
        await db.$executeRaw`
          DELETE FROM delivery_lease d USING unnest(${held.map((e) => e.localId)}::uuid[], ${held.map(holderOf)}::text[]) AS t(local_id, holder)
          WHERE d.connector_id = ${connectorId}::uuid AND d.resource_type = ${resourceType} AND d.local_id = t.local_id AND d.holder = t.holder`;
      },
    };
  }

  /**
   * The lease of one delivery (takeLeases), or ConnectorTransient when another delivery of the same resource to the
   * same connector holds it (the activity's retry comes back shortly).
   */
  async function takeLease(connectorId: string, event: ProvisioningEvent): Promise<{ release(): Promise<void> }> {
    const lease = await takeLeases(connectorId, [event]);
    if (lease.held.length === 0) {
      throw new ConnectorTransient(`another delivery of ${eventSubject(event)} to this target is in flight; this one waits for it`, undefined, 250);
    }
    return lease;
  }

  return {
    async resolveOutboundTargets(args: { applicationId: string }): Promise<OutboundTarget[]> {
      return resolveOutboundTargets(db, args.applicationId);
    },

    /** Signal-with-start: starts the resource's OutboundFanOut if it is not running. */
    async enqueueOutboundEvent(event: ProvisioningEvent): Promise<void> {
      await enqueue(event);
    },

    /** Hands many events to their resources' OutboundFanOuts at once (a Bulk load's users for its Enable Rules targets). */
    async enqueueOutboundEvents(args: { events: ProvisioningEvent[] }): Promise<void> {
      const pending = [...args.events];
      await Promise.all(
        Array.from({ length: Math.min(BATCH_CONCURRENCY, pending.length) }, async () => {
          for (let e = pending.shift(); e; e = pending.shift()) await enqueue(e);
        }),
      );
    },

    /**
     * Starts the OutboundBatch workflow of a chunk of a Bulk load (workflows/outbound-batch.ts): its id is the chunk's,
     * so a retried start finds it already running (or done) and starts nothing twice.
     */
    async enqueueOutboundBatch(args: { batchId: string; events: ProvisioningEvent[]; targets: OutboundTarget[] }): Promise<void> {
      try {
        await temporal.workflow.start('outboundBatch', {
          workflowId: outboundBatchWorkflowId(args.batchId),
          taskQueue: deps.taskQueue,
          args: [{ events: args.events, targets: args.targets }],
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          memo: { summary: `outbound provisioning of ${args.events.length} users of a Bulk load to ${args.targets.map((t) => t.label).join(', ')}` },
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
    },

    /**
     * Delivers a chunk of a Bulk load to one target (OutboundBatch): each event as deliverToTarget would, under the
     * same lease, BATCH_CONCURRENCY at a time, through one client of the connector. A change the target refuses is
     * audited `failed` and the batch goes on; a target that is down makes the whole call retry (what was delivered is
     * skipped on the retry: its remote link has the version); a quarantined or misconfigured connector holds the
     * batch (`held`) until an operator resumes it.
     */
    async deliverBatch(args: { events: ProvisioningEvent[]; target: OutboundTarget }): Promise<BatchDeliveryResult> {
      const ctx = Context.current();
      const heartbeat = setInterval(() => ctx.heartbeat(), 2000);
      try {
        const config = await loadConnectorConfig(db, box, args.target.connectorId);
        const loaded: LoadedConnector = {
          config,
          connector: config?.enabled ? registry.create({ type: config.type, settings: config.settings, secrets: config.secrets }) : undefined,
        };
        const result: BatchDeliveryResult = { delivered: 0, skipped: 0, failed: 0 };
        let transient: ConnectorTransient | undefined;
        let misconfigured: ConnectorError | undefined;
        // New users first, in as few calls as the target takes (its /Bulk); what that does not settle goes one by one.
        const bulk = await createInBulk(args.events, args.target, loaded, result);
        if (bulk.transient) transient = bulk.transient;
        if (bulk.misconfigured) misconfigured = bulk.misconfigured;
        // The target is down or busy for the bulk call: the whole batch is retried (through its /Bulk again), not
        // sent one user at a time in the meantime.
        const pending = transient || misconfigured ? [] : args.events.filter((e) => !bulk.settled.has(e.eventId));
        const worker = async () => {
          for (let event = pending.shift(); event && !misconfigured && !result.held; event = pending.shift()) {
            try {
              const report = await deliver(event, args.target, undefined, false, loaded);
              if (report.quarantined) result.held = report.error ?? 'quarantined';
              else if (report.outcome === 'delivered') result.delivered += 1;
              else result.skipped += 1;
            } catch (err) {
              if (err instanceof ConnectorTransient) transient = err;
              else if (err instanceof ConnectorError && err.name === 'ConnectorMisconfigured') misconfigured = err;
              else if (err instanceof ConnectorError) {
                await auditOne(event, args.target, 'failed', { error: `${err.name}: ${err.message}` });
                result.failed += 1;
              } else throw err;
            }
          }
        };
        await Promise.all(Array.from({ length: Math.min(BATCH_CONCURRENCY, args.events.length) }, worker));
        if (misconfigured) throw ApplicationFailure.nonRetryable(misconfigured.message, misconfigured.name);
        if (transient && !result.held) throw retryLater(transient, `${transient.message} (the batch is retried; what was delivered is skipped then)`);
        return result;
      } finally {
        clearInterval(heartbeat);
      }
    },

    /**
     * Quarantines a connector whose target keeps failing (its attempt limit ran out) or whose configuration is
     * broken (401/403): deliveries to it are held, not dropped, until an operator resumes it
     * (POST /api/server/v1/provisioning/quarantine/{connectorId}/resume). The first reason is kept.
     */
    async quarantineConnector(args: { connectorId: string; reason: string; event: ProvisioningEvent; rules?: RuleVerdict }): Promise<void> {
      await db.outboundConnector.updateMany({
        where: { id: args.connectorId, quarantinedAt: null },
        data: { quarantinedAt: new Date(), quarantineReason: args.reason.slice(0, 1000) },
      });
      await auditOne(args.event, { connectorId: args.connectorId }, 'held', { error: `quarantined: ${args.reason}`, rules: auditedDecision(args.rules) });
    },

    /**
     * Delivers one event to one target. `superseded` are older updates of the same resource to this target that
     * the fan-out folded into this one (see OutboundFanOut): once this delivery is decided, each gets its own audit
     * record saying what happened in its place. `rulesAtDelivery` (sent by fan-outs that understand the answer; see
     * DeliveryAttempt): with no `rules` given, check the links for Enable Rules first.
     */
    async deliverToTarget(args: { event: ProvisioningEvent; target: OutboundTarget; superseded?: SupersededEvent[]; rules?: RuleVerdict; rulesAtDelivery?: boolean }): Promise<DeliveryAttempt> {
      const ctx = Context.current();
      const heartbeat = setInterval(() => ctx.heartbeat(), 2000);
      const rules = auditedDecision(args.rules);
      /** An older update folded into this delivery, audited in its own name. */
      const folded = (s: SupersededEvent): ProvisioningEvent => ({ ...args.event, eventId: s.eventId, version: s.version, initiator: s.initiator });
      try {
        if (args.rules?.action === 'skip') {
          // A rule refused this operation for this target (activities/rules.ts): nothing is sent, the queue moves on.
          const error = args.rules.reason ?? 'denied by the rules';
          await auditOne(args.event, args.target, 'denied', { error, rules });
          for (const s of args.superseded ?? []) {
            await auditOne(folded(s), args.target, 'denied', { error: `superseded by version ${args.event.version} (${args.event.eventId}), denied in its place: ${error}`, rules });
          }
          return { eventId: args.event.eventId, connectorId: args.target.connectorId, label: args.target.label, outcome: 'denied', error };
        }
        const report = await deliver(args.event, args.target, args.rules, args.rulesAtDelivery === true);
        if (args.superseded?.length && !report.quarantined && !report.rulesRequired) {
          const by = `version ${args.event.version} (${args.event.eventId})`;
          for (const s of args.superseded) {
            if (report.outcome === 'held') await auditOne(folded(s), args.target, 'held', { error: report.error, rules });
            else await auditOne(folded(s), args.target, 'skipped', { remoteId: report.remoteId, error: `superseded by ${by}, ${report.outcome} in its place`, rules });
          }
        }
        return report;
      } catch (err) {
        if (err instanceof ConnectorTransient) throw retryLater(err);
        if (err instanceof ConnectorError) {
          await auditOne(args.event, args.target, 'failed', { error: `${err.name}: ${err.message}`, rules });
          throw ApplicationFailure.nonRetryable(err.message, err.name);
        }
        throw err; // database or programming errors: retried by the activity's policy
      } finally {
        clearInterval(heartbeat);
      }
    },
  };
}
