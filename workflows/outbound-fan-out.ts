/**
 * OutboundFanOut: the entity workflow of one user (id `outbound-<userId>`). It receives every accepted
 * change of that user by signal-with-start and delivers each to each of the change's targets, one
 * delivery at a time per target, in the order the changes arrived. Targets are independent: a target that
 * is down (its delivery retrying) holds back only its own queue.
 *
 * Deliveries are idempotent in the activity (the version already applied at a target is recorded with its
 * remote id), so a signal delivered twice, a replay, or a worker killed mid-call never applies a change
 * twice or an older change over a newer one.
 *
 * Updates that pile up for one target (it is slow, down, or retrying) are folded: the newest is delivered, the
 * older ones are audited as superseded by it (see foldableRun), so a burst of changes costs a target one call.
 *
 * A target with Enable Rules gets a rule check first (activities/rules.ts decideRules, on the newest state of a folded
 * run): Permit delivers (with the obligations the server understands), Deny skips that operation for that target only
 * (audited `denied`), NotApplicable does what the link says (skip by default, which is what WSO2 does; `provision` if
 * the link says so), and Indeterminate quarantines the connector and holds its queue like a failing target; after the
 * operator's resume, the held delivery is decided again. The verdict is the activity's result, in history. Whether a
 * target has Enable Rules follows the links as they are at delivery, both ways: decideRules delivers unchecked if the
 * link's rules were turned off since the change was accepted, and a delivery without a verdict asks deliverToTarget
 * to look (`rulesAtDelivery`), which answers `rulesRequired`, sending nothing, if they were turned on since (a backlog
 * queued behind a down or quarantined target is decided, never let out unchecked).
 *
 * When idle (all queues empty) it completes after `idleMs`; the next change starts a fresh run. A long
 * busy history continues as new once idle.
 */
import {
  ActivityFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import type { DeliveryAttempt } from '../activities/outbound.js';
import type { RuleVerdict } from '../activities/rules.js';
import type { DeliveryReport, OutboundTarget, ProvisioningEvent } from '../src/provisioning/types.js';
import { ConnectorKey, IdentityProviderKey, ProvisioningOperationKey, ProvisioningOutcomeKey, UserIdKey, UserNameKey } from '../src/temporal/search-attributes.js';
import { connectorCall, describeFailure, policyCheck, QUARANTINE_RECHECK, quarantineWrite } from './activity-profiles.js';
import { keyword } from './keyword.js';
import { deliveryReportSignal, provisioningEventSignal, resumeConnectorSignal } from './messages.js';

type Activities = ReturnType<typeof createActivities>;

const quarantine = proxyActivities<Activities>(quarantineWrite);

/** The rule check of a delivery (activities/rules.ts). */
const rulesCheck = proxyLocalActivities<Activities>(policyCheck);


export interface OutboundFanOutInput {
  resourceType: 'User' | 'Group';
  localId: string;
  idleMs: number;
  /** Event ids already taken, carried across continue-as-new to drop duplicate signals. */
  recentEventIds?: string[];
}

interface QueueItem {
  event: ProvisioningEvent;
  target: OutboundTarget;
}

const RECENT_EVENT_IDS = 500;
/** At most this many updates folded into one delivery (each is named in the activity's input, so in history). */
const MAX_FOLDED = 100;

export async function outboundFanOut(input: OutboundFanOutInput): Promise<void> {
  const queues = new Map<string, QueueItem[]>();
  const draining = new Set<string>();
  const recent = [...(input.recentEventIds ?? [])];
  const seen = new Set(recent);
  const labels = new Set<string>();
  const idps = new Set<string>();
  let delivered = 0;
  let failed = 0;
  /** Deliveries a rule refused (Deny, or NotApplicable on a `skip` link). */
  let denied = 0;
  const resumes = new Map<string, number>();
  /** Labels of the targets whose deliveries are held (quarantined). */
  const held = new Set<string>();
  const shown: { operation?: string; outcome?: string } = {};

  /**
   * The rule check of a delivery to an Enable Rules target, then the delivery: a Deny goes to deliverToTarget too, which
   * audits it `denied` (and the superseded updates with it) without calling the target; an Indeterminate quarantines
   * the connector, so the queue holds until an operator resumes it (then drain decides again). A target accepted
   * without Enable Rules is delivered straight away, unless its link has Enable Rules by then (`rulesRequired`).
   */
  async function decideAndDeliver(item: QueueItem, superseded: QueueItem[]): Promise<DeliveryReport> {
    // Guarded so histories recorded before the rule check replay as they ran (the delivery held them, then).
    if (!item.target.rulesEnabled || !patched('rules-decision')) {
      const report = await deliver(item, superseded);
      // Enable Rules was turned on after this change was accepted: the delivery sent nothing and asks for the check.
      if (!report.rulesRequired) return report;
    }
    const verdict = await rulesCheck.decideRules({ event: { ...item.event, targets: [] }, target: item.target });
    if (verdict.action === 'hold') {
      const reason = `rules: ${verdict.reason ?? 'Indeterminate'}`;
      log.warn('rule decision Indeterminate: holding the target', { target: item.target.label, eventId: item.event.eventId, reason });
      await quarantine.quarantineConnector({ connectorId: item.target.connectorId, reason, event: { ...item.event, targets: [] }, rules: verdict });
      return { eventId: item.event.eventId, connectorId: item.target.connectorId, label: item.target.label, outcome: 'held', error: `quarantined: ${reason}`, quarantined: true };
    }
    return deliver(item, superseded, verdict);
  }

  async function deliver(item: QueueItem, superseded: QueueItem[], rules?: RuleVerdict): Promise<DeliveryAttempt> {
    const acts = proxyActivities<Activities>(connectorCall(item.target.retry));
    // Not yet decided: the activity checks the links as they are now (decideAndDeliver handles its `rulesRequired`).
    // Guarded so histories recorded before it replay as they ran (their deliveries never asked).
    const rulesAtDelivery = rules === undefined && patched('rules-at-delivery');
    try {
      // The other targets are none of this delivery's business; leaving them out keeps history small.
      return await acts.deliverToTarget({
        event: { ...item.event, targets: [] },
        target: item.target,
        ...(superseded.length > 0 && { superseded: superseded.map(({ event: e }) => ({ eventId: e.eventId, version: e.version, initiator: e.initiator })) }),
        ...(rules?.decision !== undefined && { rules }),
        ...(rulesAtDelivery && { rulesAtDelivery }),
      });
    } catch (err) {
      // An activity failure here is final for this attempt series: the target rejected the change (audited by
      // the activity; the queue moves on), or the target/config is at fault (quarantine, below). Anything else
      // is a bug in this code: rethrown, it fails the workflow task, which Temporal retries, so a fixed
      // deployment resumes the delivery.
      if (!(err instanceof ActivityFailure)) throw err;
      const { type, reason: error } = describeFailure(err);
      log.warn('delivery failed', { target: item.target.label, eventId: item.event.eventId, error });
      const base = { eventId: item.event.eventId, connectorId: item.target.connectorId, label: item.target.label };
      // Only a decision (the target refused this change: a non-retryable failure) moves the queue on. Anything
      // else is the target's state, not this change's fault: its attempt limit ran out, retrying stopped for any
      // other reason (timeout), or our configuration of it is broken. Quarantine the connector and hold the
      // delivery, in order: never drop it.
      if (err.retryState !== 'NON_RETRYABLE_FAILURE' || type === 'ConnectorMisconfigured') {
        await quarantine.quarantineConnector({ connectorId: item.target.connectorId, reason: error, event: { ...item.event, targets: [] } });
        return { ...base, outcome: 'held', error: `quarantined: ${error}`, quarantined: true };
      }
      return { ...base, outcome: 'failed', error };
    }
  }

  async function drain(connectorId: string): Promise<void> {
    const queue = queues.get(connectorId)!;
    while (queue.length > 0) {
      const run = foldableRun(queue);
      const item = run.reduce((newest, x) => (x.event.version > newest.event.version ? x : newest), run[0]!);
      const superseded = run.filter((x) => x !== item);
      const report = await decideAndDeliver(item, superseded);
      if (report.quarantined) {
        // Hold this delivery (and everything behind it) until an operator resumes the connector; look again now
        // and then in case the resume signal went to a run of this workflow that has since continued as new.
        held.add(item.target.label);
        show(item.event.operation);
        const resumed = resumes.get(connectorId) ?? 0;
        await condition(() => (resumes.get(connectorId) ?? 0) > resumed, QUARANTINE_RECHECK);
        held.delete(item.target.label);
        continue;
      }
      if (report.outcome === 'failed') {
        // The target refused the newest state: only that change is done with. The older ones folded into it were
        // never sent; they stay at the head of the queue and go next (folded again, newest first).
        queue.splice(queue.indexOf(item), 1);
        failed += 1;
      } else if (report.outcome === 'denied') {
        // Decided on the newest state: none of the run goes to this target.
        queue.splice(0, run.length);
        denied += run.length;
      } else {
        queue.splice(0, run.length);
        delivered += run.length;
      }
      show(item.event.operation);
      if (item.event.replyTo && item.target.blocking) {
        try {
          await getExternalWorkflowHandle(item.event.replyTo).signal(deliveryReportSignal, report);
        } catch {
          // The request stopped waiting (blocking timeout) and its workflow has completed: nothing to tell.
        }
      }
    }
    draining.delete(connectorId);
    upsertMemo({ summary: `${input.resourceType === 'Group' ? 'group' : 'user'} ${input.localId}: ${delivered} delivered, ${failed} failed${deniedText()}; targets: ${[...labels].join(', ')}` });
  }

  /** Only when a rule refused something, so the summaries of histories without rules read as they did. */
  function deniedText(): string {
    return denied > 0 ? `, ${denied} denied by rules` : '';
  }

  /**
   * What an operator filters and reads in the Temporal UI: the last operation delivered, the outcome so far
   * (`held` while a quarantined target holds deliveries, then `failed` if a target refused a change, else
   * `delivered`) and a one-line summary. Search attributes are written only when they change.
   */
  function show(operation: string): void {
    if (!patched('fan-out-outcome-visibility')) return;
    const outcome = held.size > 0 ? 'held' : failed > 0 ? 'failed' : 'delivered';
    const attrs = [
      ...(operation !== shown.operation ? [{ key: ProvisioningOperationKey, value: operation }] : []),
      ...(outcome !== shown.outcome ? [{ key: ProvisioningOutcomeKey, value: outcome }] : []),
    ];
    if (attrs.length > 0) upsertSearchAttributes(attrs);
    shown.operation = operation;
    shown.outcome = outcome;
    if (held.size > 0 || attrs.length > 0) {
      const holding = held.size > 0 ? `; held for quarantined ${[...held].join(', ')}` : '';
      upsertMemo({ summary: `${input.resourceType === 'Group' ? 'group' : 'user'} ${input.localId}: ${delivered} delivered, ${failed} failed${deniedText()}${holding}; targets: ${[...labels].join(', ')}` });
    }
  }

  /**
   * The updates at the head of a target's queue that one delivery can serve: a delivery sends the resource's whole
   * state, so when updates pile up behind a slow or retrying target, only the newest needs to go; the others are
   * audited as superseded by it. Creates, deletes, updates carrying a password (a one-time value the newest state
   * may lack), updates whose request waits for this target (blocking) and role changes are always delivered on
   * their own.
   */
  function foldableRun(queue: QueueItem[]): QueueItem[] {
    if (!patched('fold-superseded-updates')) return [queue[0]!];
    // Role-change events (roleChange) deprovision when the user lost its provisioning role: folded into a plain
    // update, that would be lost. No patch needed: histories recorded before them have no such events.
    const foldable = ({ event, target }: QueueItem) =>
      event.operation === 'update' &&
      !(event.resourceType === 'User' && event.user.password !== undefined) &&
      !(event.replyTo && target.blocking) &&
      event.roleChange !== true;
    let n = 0;
    while (n < queue.length && n < MAX_FOLDED && foldable(queue[n]!)) n += 1;
    return queue.slice(0, Math.max(n, 1));
  }

  setHandler(resumeConnectorSignal, ({ connectorId }) => {
    resumes.set(connectorId, (resumes.get(connectorId) ?? 0) + 1);
  });

  setHandler(provisioningEventSignal, (event) => {
    if (seen.has(event.eventId)) return; // a retried enqueue
    seen.add(event.eventId);
    recent.push(event.eventId);
    if (recent.length > RECENT_EVENT_IDS) seen.delete(recent.shift()!);
    upsertSearchAttributes([
      { key: UserIdKey, value: keyword(event.localId) },
      { key: UserNameKey, value: keyword(event.resourceType === 'User' ? event.user.userName : event.group.displayName) },
    ]);
    for (const target of event.targets) {
      labels.add(target.label);
      let queue = queues.get(target.connectorId);
      if (!queue) queues.set(target.connectorId, (queue = []));
      queue.push({ event, target });
      if (!draining.has(target.connectorId)) {
        draining.add(target.connectorId);
        void drain(target.connectorId);
      }
    }
    for (const t of event.targets) idps.add(t.idpName);
    upsertSearchAttributes([
      { key: ConnectorKey, value: [...labels].map(keyword) },
      { key: IdentityProviderKey, value: [...idps].map(keyword) },
    ]);
  });

  for (;;) {
    await condition(() => draining.size === 0);
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      return await continueAsNew<typeof outboundFanOut>({ ...input, recentEventIds: recent });
    }
    const moreWork = await condition(() => draining.size > 0, input.idleMs);
    if (!moreWork) {
      await condition(allHandlersFinished);
      return;
    }
  }
}
