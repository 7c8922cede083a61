/**
 * ReconcileTarget: compares the local store with one target and, if asked, repairs it (id
 * `reconcile-<connectorId>-<timestamp>` on demand; a scheduled run gets its id from the Temporal Schedule
 * `reconcile-<connectorId>`). The work is one heartbeating activity that pages through both sides and hands repairs
 * to each user's OutboundFanOut; only the bounded report comes back, so the history stays small.
 */
import { proxyActivities, upsertMemo } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import type { ReconcileInput, ReconcileReport } from '../activities/reconcile.js';
import { NON_RETRYABLE } from './activity-profiles.js';

type Activities = ReturnType<typeof createActivities>;

/**
 * One pass over a whole target: listing 100,000 users at 100 a page can take minutes, hence the long
 * start-to-close; it heartbeats every page, so a killed worker is noticed within a minute and the pass restarts
 * (it is read-only until the repairs, whose event ids make a repeat harmless). A target that is down is retried,
 * a few times: the next run (scheduled, or asked for again) picks it up.
 */
const reconcileRun = proxyActivities<Activities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
});

export async function reconcileTarget(input: ReconcileInput): Promise<ReconcileReport> {
  const report = await reconcileRun.reconcileConnector({
    connectorId: input.connectorId,
    repair: input.repair === true,
    recreateMissing: input.recreateMissing === true,
  });
  upsertMemo({
    summary: report.unsupported
      ? `reconcile ${input.connectorId}: unsupported (${report.unsupported})`
      : `reconcile ${input.connectorId}: ${report.local} local, ${report.remote} remote; ${report.counts.missing} missing, ${report.counts.orphans} orphans, ${report.counts.different} different` +
        (report.groups
          ? `; groups: ${report.groups.local} local, ${report.groups.remote} remote, ${report.groups.counts.missing} missing, ${report.groups.counts.orphans} orphans, ${report.groups.counts.different} different`
          : '') +
        `; ${report.repaired} repaired`,
  });
  return report;
}
