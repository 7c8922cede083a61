/**
 * Outbound provisioning activities: resolving targets, handing events to OutboundFanOut, and delivering
 * one event to one target.
 *
 * deliverToTarget is where "effectively once" is made: the version applied at each target is recorded
 * with the remote id (remote_link), so a repeated delivery is skipped; a create whose answer was lost
 * (crash after the target committed) meets 409 on retry and links to the existing remote user instead of
 * creating a second one; an update whose remote object vanished re-creates it.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ConnectorAlreadyExists, ConnectorError, ConnectorNotFound, ConnectorRejected, ConnectorTransient } from '../src/connectors/errors.js';
import type { ConnectorRegistry } from '../src/connectors/registry.js';
import type { OutboundConnector, OutboundUser } from '../src/connectors/types.js';
import type { SecretBox } from '../src/crypto/secret-box.js';
import type { PrismaClient } from '../src/db/client.js';
import { loadConnectorConfig } from '../src/provisioning/connectors.js';
import { resolveOutboundTargets } from '../src/provisioning/targets.js';
import type { DeliveryOutcome, DeliveryReport, OutboundTarget, ProvisioningEvent } from '../src/provisioning/types.js';
import type { outboundFanOut } from '../workflows/outbound-fan-out.js';
import { provisioningEventSignal } from '../workflows/messages.js';

export interface OutboundDeps {
  db: PrismaClient;
  temporal: Client;
  registry: ConnectorRegistry;
  box: SecretBox;
  taskQueue: string;
  outboundIdleMs: number;
}

export function outboundWorkflowId(localId: string): string {
  return `outbound-${localId}`;
}

export function createOutboundActivities(deps: OutboundDeps) {
  const { db, temporal, registry, box } = deps;

  async function audit(
    event: ProvisioningEvent,
    target: OutboundTarget,
    outcome: DeliveryOutcome,
    extra: { remoteId?: string | undefined; error?: string | undefined },
  ): Promise<void> {
    const info = Context.current().info;
    const data = {
      workflowId: info.workflowExecution?.workflowId ?? info.activityId,
      resourceType: event.resourceType,
      localId: event.localId,
      userName: event.user.userName,
      operation: event.operation,
      outcome,
      attempts: info.attempt,
      remoteId: extra.remoteId ?? null,
      error: extra.error ?? null,
      initiator: event.initiator.label,
    };
    await db.provisioningAudit.upsert({
      where: { eventId_connectorId: { eventId: event.eventId, connectorId: target.connectorId } },
      create: { eventId: event.eventId, connectorId: target.connectorId, ...data },
      update: data,
    });
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

  async function deliver(event: ProvisioningEvent, target: OutboundTarget): Promise<DeliveryReport> {
    const report = (outcome: DeliveryOutcome, extra: { remoteId?: string | undefined; error?: string | undefined } = {}) => ({
      eventId: event.eventId,
      connectorId: target.connectorId,
      label: target.label,
      outcome,
      ...extra,
    });
    const config = await loadConnectorConfig(db, box, target.connectorId);
    if (!config || !config.enabled) {
      const error = config ? 'connector disabled' : 'connector deleted';
      await audit(event, target, 'skipped', { error });
      return report('skipped', { error });
    }
    if (target.rulesEnabled) {
      // Rule evaluation (XACML-style policies) is not built yet: never send as if permitted, never drop.
      const error = 'held: Enable Rules is set on this link and no policy decision point is configured yet';
      await audit(event, target, 'held', { error });
      return report('held', { error });
    }
    const where = { connectorId_resourceType_localId: { connectorId: target.connectorId, resourceType: event.resourceType, localId: event.localId } };
    const link = await db.remoteLink.findUnique({ where });
    if (link && link.appliedVersion >= BigInt(event.version)) {
      // Already applied (a repeated delivery), or a newer change already reached this target.
      const detail = `version ${event.version} not newer than applied version ${link.appliedVersion}`;
      await audit(event, target, 'skipped', { remoteId: link.remoteId ?? undefined, error: detail });
      return report('skipped', { remoteId: link.remoteId ?? undefined });
    }

    const connector = registry.create({ type: config.type, settings: config.settings, secrets: config.secrets });
    const password = config.passwordProvisioning ? (event.user.password ?? config.secrets.defaultPassword) : undefined;
    const user: OutboundUser = { ...event.user, password };
    let remoteId = link?.deletedAt ? undefined : (link?.remoteId ?? undefined);

    if (event.operation === 'delete') {
      // Never linked (or the link was lost in a crash after the create): find it by name.
      remoteId ??= (await connector.findUserByUserName(user.userName))?.remoteId;
      if (remoteId) await connector.deleteUser(remoteId, user);
    } else if (remoteId) {
      try {
        await connector.updateUser(remoteId, user);
      } catch (err) {
        if (!(err instanceof ConnectorNotFound)) throw err;
        // Deleted at the target behind our back: provision it again.
        remoteId = await createOrLink(connector, user);
      }
    } else {
      remoteId = await createOrLink(connector, user);
    }

    const deleted = event.operation === 'delete';
    await db.remoteLink.upsert({
      where,
      create: { ...where.connectorId_resourceType_localId, remoteId: remoteId ?? null, appliedVersion: BigInt(event.version), deletedAt: deleted ? new Date() : null },
      update: { remoteId: remoteId ?? null, appliedVersion: BigInt(event.version), deletedAt: deleted ? new Date() : null },
    });
    await audit(event, target, 'delivered', { remoteId });
    return report('delivered', { remoteId });
  }

  return {
    async resolveOutboundTargets(args: { applicationId: string }): Promise<OutboundTarget[]> {
      return resolveOutboundTargets(db, args.applicationId);
    },

    /** Signal-with-start: starts the resource's OutboundFanOut if it is not running. */
    async enqueueOutboundEvent(event: ProvisioningEvent): Promise<void> {
      await temporal.workflow.signalWithStart<typeof outboundFanOut, [ProvisioningEvent]>('outboundFanOut', {
        workflowId: outboundWorkflowId(event.localId),
        taskQueue: deps.taskQueue,
        args: [{ resourceType: event.resourceType, localId: event.localId, idleMs: deps.outboundIdleMs }],
        signal: provisioningEventSignal,
        signalArgs: [event],
        memo: { summary: `outbound provisioning of user ${event.user.userName}` },
      });
    },

    async deliverToTarget(args: { event: ProvisioningEvent; target: OutboundTarget }): Promise<DeliveryReport> {
      const ctx = Context.current();
      const heartbeat = setInterval(() => ctx.heartbeat(), 2000);
      try {
        return await deliver(args.event, args.target);
      } catch (err) {
        if (err instanceof ConnectorTransient) {
          throw ApplicationFailure.create({
            message: err.message,
            type: err.name,
            nonRetryable: false,
            ...(err.retryAfterMs !== undefined && { nextRetryDelay: err.retryAfterMs }),
          });
        }
        if (err instanceof ConnectorError) {
          await audit(args.event, args.target, 'failed', { error: `${err.name}: ${err.message}` });
          throw ApplicationFailure.nonRetryable(err.message, err.name);
        }
        throw err; // database or programming errors: retried by the activity's policy
      } finally {
        clearInterval(heartbeat);
      }
    },
  };
}
