/**
 * Named timeout/retry profiles for activities. Every number says why it is what it is.
 */
import { ApplicationFailure, type ActivityFailure, type ActivityOptions, type LocalActivityOptions } from '@temporalio/workflow';
import type { RetrySettings } from '../src/provisioning/types.js';

/** Error types that are decisions, not accidents: retrying cannot change them. */
export const NON_RETRYABLE = ['ScimRejection', 'ConnectorRejected', 'ConnectorMisconfigured', 'InvalidInput'];

/**
 * The three short steps of InboundProvision (store write, target lookup, enqueue) are *local* activities:
 * they run in the worker inside the workflow task that schedules them, without a round trip through the
 * Temporal server for each (measured: ~60 ms saved per step on the dev server), which matters because a
 * SCIM client waits for them. They keep the guarantees of ordinary activities here: results are recorded
 * in history, failures are retried, and each step is idempotent, so a worker crash mid-step re-runs it
 * safely on replay.
 *
 * Writes to the user store. A write is a few statements in one transaction: 30 s is generous. Retried
 * without limit (capped at 10 s apart): the change was accepted, so a database outage delays it, never
 * drops it. Idempotent through the store_request ledger.
 */
export const userStoreWrite: LocalActivityOptions = {
  startToCloseTimeout: '30s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '10s', nonRetryableErrorTypes: NON_RETRYABLE },
};

/**
 * A chunk of a Bulk load written to the store (InboundProvision `createBatch`): up to BATCH_CHUNK creates, each
 * idempotent by its own request id, so a retried chunk finishes what the first attempt left.
 */
export const userStoreBatchWrite: LocalActivityOptions = { ...userStoreWrite, startToCloseTimeout: '2 minutes' };

/** Marking a connector quarantined (OutboundFanOut, OutboundBatch): one quick database write, retried without limit. */
export const quarantineWrite: ActivityOptions = { startToCloseTimeout: '30s', retry: { initialInterval: '1s', maximumInterval: '30s' } };

/** How often a delivery or batch held for a quarantined connector looks at it again without a resume signal. */
export const QUARANTINE_RECHECK = '5 minutes';

/**
 * What a failed activity says went wrong: the application error's type (undefined for a timeout or a cancellation)
 * and `Type: message` for the log, the audit and the quarantine reason.
 */
export function describeFailure(err: ActivityFailure): { type: string | undefined; reason: string } {
  const cause = err.cause instanceof ApplicationFailure ? err.cause : undefined;
  if (cause) return { type: cause.type ?? undefined, reason: `${cause.type ?? 'Error'}: ${cause.message}` };
  return { type: undefined, reason: err.cause?.message ?? err.message };
}

/** Configuration reads (outbound targets): quick, side-effect free, retried like store writes. */
export const configRead: LocalActivityOptions = {
  startToCloseTimeout: '15s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '10s', nonRetryableErrorTypes: NON_RETRYABLE },
};

/** Handing an event to OutboundFanOut (signal-with-start): one RPC to Temporal. */
export const outboundEnqueue: LocalActivityOptions = {
  startToCloseTimeout: '15s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5s', nonRetryableErrorTypes: NON_RETRYABLE },
};

/**
 * The rule check of one delivery (activities/rules.ts decideRules): a few reads and an in-memory decision, milliseconds,
 * so a *local* activity like the short steps above (its verdict is recorded in history as the local activity's
 * marker). As an ordinary activity its two extra round trips through the Temporal server added ~100 ms to a blocking
 * create; local, the rule check adds 17-38 ms (`BENCH_SCENARIOS=rules npm run bench`). 30 s covers a recompilation of
 * a large policy set after a change. Retried without limit (capped at 30 s apart): a database outage delays the
 * delivery, never decides it; policy problems are not errors here but an Indeterminate verdict, which the fan-out holds.
 */
export const policyCheck: LocalActivityOptions = {
  startToCloseTimeout: '30s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: NON_RETRYABLE },
};

/**
 * One call to an outbound target. 60 s covers a slow target plus the connector's own 30 s HTTP timeout.
 * Retry numbers come from the connector's settings (defaults in src/connectors/retry.ts); 4xx rejections
 * are non-retryable, network errors, 5xx and 429 (with Retry-After honoured) are retried.
 */
export function connectorCall(retry: RetrySettings): ActivityOptions {
  return {
    startToCloseTimeout: '60s',
    // The activity heartbeats every 2 s while it waits on the target: a killed worker is noticed in 10 s
    // and the delivery retried elsewhere, instead of after the full 60 s.
    heartbeatTimeout: '10s',
    retry: {
      initialInterval: retry.initialIntervalMs,
      maximumInterval: retry.maximumIntervalMs,
      backoffCoefficient: retry.backoffCoefficient,
      // Unset means unlimited (the SDK refuses 0).
      ...(retry.maximumAttempts > 0 && { maximumAttempts: retry.maximumAttempts }),
      nonRetryableErrorTypes: NON_RETRYABLE,
    },
  };
}

/**
 * A chunk of a Bulk load delivered to one target (OutboundBatch): up to a few hundred calls in one activity, so a
 * long start-to-close; the heartbeat (every 2 s) notices a killed worker in 10 s as for one delivery. The connector's
 * own retry settings: a batch retried is its deliveries retried (what was delivered is skipped then).
 */
export function connectorBatch(retry: RetrySettings): ActivityOptions {
  return { ...connectorCall(retry), startToCloseTimeout: '15 minutes' };
}

/**
 * Handing the users a role change (or a membership change of a group holding an outbound provisioning role)
 * recorded to their OutboundFanOut: one signal-with-start per user, paged. A role held through a group of 100,000
 * members takes minutes, hence the long start-to-close, with a heartbeat per page so a killed worker is noticed
 * within a minute. Retried without limit: the change was accepted, so its provisioning is owed.
 */
export const roleProvisioningHandOver: ActivityOptions = {
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: NON_RETRYABLE },
};
