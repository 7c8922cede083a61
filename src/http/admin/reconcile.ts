/**
 * Reconciliation of a target, mounted inside the admin API (/api/server/v1, after its authentication and JSON
 * body parser):
 *
 *   POST   /provisioning/reconcile/{connectorId}[?wait=true]   run now: { repair?, recreateMissing? } -> 202
 *                                                             { workflowId }, or with wait=true 200 and the report
 *   PUT    /provisioning/reconcile/{connectorId}/schedule      create or update the Temporal Schedule
 *                                                             `reconcile-<connectorId>`: { intervalMinutes | cron,
 *                                                             repair?, recreateMissing? } (missing fields default to
 *                                                             the connector's settings.reconcile)
 *   GET    /provisioning/reconcile/{connectorId}/schedule      the schedule (404 if none)
 *   DELETE /provisioning/reconcile/{connectorId}/schedule      remove it
 *
 * The report: { connectorId, checkedAt, local, remote, missing, orphans, different, counts, truncated, repaired,
 * unsupported? } (activities/reconcile.ts). Orphans are only reported; repair re-sends missing and differing users
 * through their OutboundFanOut, and users the target deleted on its own only with recreateMissing.
 *
 * @example
 *   curl -u admin:<pw> -X POST 'http://localhost:8080/api/server/v1/provisioning/reconcile/<connectorId>?wait=true' \
 *     -H 'Content-Type: application/json' -d '{ "repair": true }'
 *   curl -u admin:<pw> -X PUT http://localhost:8080/api/server/v1/provisioning/reconcile/<connectorId>/schedule \
 *     -H 'Content-Type: application/json' -d '{ "intervalMinutes": 60, "repair": true }'
 */
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, WorkflowFailedError, type ScheduleSpec } from '@temporalio/client';
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { ReconcileInput, ReconcileReport } from '../../../activities/reconcile.js';
import type { reconcileTarget } from '../../../workflows/reconcile.js';
import { AdminError, parseInput, settingsReconcile } from '../../provisioning/connectors.js';
import { isUuid } from '../../userstore/users.js';
import type { AppContext } from '../context.js';

const runInput = z.object({ repair: z.boolean().default(false), recreateMissing: z.boolean().default(false) }).strict();

/** A schedule asked for through the API: the same fields as a connector's settings.reconcile. */
const scheduleInput = settingsReconcile;

export function reconcileScheduleId(connectorId: string): string {
  return `reconcile-${connectorId}`;
}

type ConnectorWithIdp = { id: string; type: string; settings: unknown; idp: { name: string } };

/** Creates or updates the Temporal Schedule `reconcile-<connectorId>`. */
export async function upsertReconcileSchedule(
  ctx: AppContext,
  row: ConnectorWithIdp,
  opts: { intervalMinutes?: number | undefined; cron?: string | undefined; repair: boolean; recreateMissing: boolean },
): Promise<{ created: boolean; view: Record<string, unknown> }> {
  const spec: ScheduleSpec = opts.intervalMinutes !== undefined ? { intervals: [{ every: `${opts.intervalMinutes}m` }] } : { cronExpressions: [opts.cron!] };
  const input: ReconcileInput = { connectorId: row.id, repair: opts.repair, recreateMissing: opts.recreateMissing };
  const scheduleId = reconcileScheduleId(row.id);
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'reconcileTarget',
    args: [input],
    taskQueue: ctx.config.temporal.taskQueue,
    workflowId: scheduleId,
    memo: { summary: `scheduled reconcile ${row.idp.name}/${row.type}${input.repair ? ' (repair)' : ''}` },
  };
  let created = true;
  try {
    await ctx.temporal.schedule.create({
      scheduleId,
      spec,
      action,
      // A pass still running when the next is due: skip the new one, the running one is as fresh.
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    created = false;
    await ctx.temporal.schedule.getHandle(scheduleId).update((prev) => ({ ...prev, spec, action }));
  }
  const when = opts.intervalMinutes !== undefined ? { intervalMinutes: opts.intervalMinutes } : { cron: opts.cron };
  return { created, view: { scheduleId, connectorId: row.id, ...when, repair: input.repair, recreateMissing: input.recreateMissing } };
}

/**
 * Keeps a connector's schedule in step with its settings.reconcile after the connector is saved: with intervalMinutes
 * or cron the schedule is created or updated; without, a schedule made through the schedule API is left alone. The
 * connector is saved either way: a Temporal error is reported in the answer, not thrown.
 */
export async function syncReconcileSchedule(ctx: AppContext, row: ConnectorWithIdp): Promise<Record<string, unknown> | undefined> {
  const parsed = settingsReconcile.safeParse((row.settings as Record<string, unknown> | null)?.reconcile ?? {});
  if (!parsed.success || (parsed.data.intervalMinutes === undefined && parsed.data.cron === undefined)) return undefined;
  try {
    const { view } = await upsertReconcileSchedule(ctx, row, { ...parsed.data, repair: parsed.data.repair ?? false, recreateMissing: parsed.data.recreateMissing ?? false });
    return view;
  } catch (err) {
    return { scheduleId: reconcileScheduleId(row.id), error: `the reconciliation schedule could not be saved: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** Removes a deleted connector's schedule, if it had one. */
export async function removeReconcileSchedule(ctx: AppContext, connectorId: string): Promise<void> {
  try {
    await ctx.temporal.schedule.getHandle(reconcileScheduleId(connectorId)).delete();
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
  }
}

export function reconcileAdminRouter(ctx: AppContext): Router {
  const router = Router();
  const taskQueue = ctx.config.temporal.taskQueue;

  async function connector(req: Request) {
    const id = String(req.params.connectorId);
    const row = isUuid(id) ? await ctx.db.outboundConnector.findUnique({ where: { id }, include: { idp: true } }) : null;
    if (!row) throw new AdminError(404, 'not_found', `No outbound connector '${id}'`);
    return row;
  }

  router.post('/provisioning/reconcile/:connectorId', async (req, res) => {
    const row = await connector(req);
    const body = parseInput(runInput, req.body ?? {});
    const input: ReconcileInput = { connectorId: row.id, repair: body.repair, recreateMissing: body.recreateMissing };
    const workflowId = `reconcile-${row.id}-${Date.now()}`;
    const handle = await ctx.temporal.workflow.start<typeof reconcileTarget>('reconcileTarget', {
      workflowId,
      taskQueue,
      args: [input],
      memo: { summary: `reconcile ${row.idp.name}/${row.type}${input.repair ? ' (repair)' : ''}` },
    });
    if (req.query.wait !== 'true') {
      res.status(202).json({ workflowId });
      return;
    }
    let report: ReconcileReport;
    try {
      report = await handle.result();
    } catch (err) {
      const cause = err instanceof WorkflowFailedError ? (err.cause?.message ?? err.message) : String(err);
      throw new AdminError(502, 'reconcile_failed', `Reconciliation ${workflowId} failed: ${cause}`);
    }
    res.json({ workflowId, ...report });
  });

  const schedulePath = '/provisioning/reconcile/:connectorId/schedule';

  router.put(schedulePath, async (req, res) => {
    const row = await connector(req);
    const body = parseInput(scheduleInput, req.body ?? {});
    const fromSettings = settingsReconcile.safeParse((row.settings as Record<string, unknown> | null)?.reconcile ?? {});
    const defaults = fromSettings.success ? fromSettings.data : {};
    const every = body.intervalMinutes ?? (body.cron === undefined && defaults.cron === undefined ? defaults.intervalMinutes : undefined);
    const cron = body.cron ?? (body.intervalMinutes === undefined ? defaults.cron : undefined);
    if (every === undefined && cron === undefined) {
      throw new AdminError(400, 'invalid_request', 'The request body is invalid', [
        'body: give intervalMinutes or cron (or set reconcile.intervalMinutes or reconcile.cron in the connector settings)',
      ]);
    }
    const result = await upsertReconcileSchedule(ctx, row, {
      intervalMinutes: every,
      cron,
      repair: body.repair ?? defaults.repair ?? false,
      recreateMissing: body.recreateMissing ?? defaults.recreateMissing ?? false,
    });
    res.status(result.created ? 201 : 200).json(result.view);
  });

  router.get(schedulePath, async (req, res) => {
    const row = await connector(req);
    const scheduleId = reconcileScheduleId(row.id);
    try {
      const d = await ctx.temporal.schedule.getHandle(scheduleId).describe();
      const args = d.action.type === 'startWorkflow' ? (d.action.args as ReconcileInput[] | undefined) : undefined;
      const interval = d.spec.intervals?.[0]?.every;
      res.json({
        scheduleId,
        connectorId: row.id,
        ...(interval !== undefined && { intervalMinutes: Math.round(Number(interval) / 60_000) }),
        // A cron expression comes back as the calendar specs Temporal parsed it into.
        ...(d.spec.calendars !== undefined && d.spec.calendars.length > 0 && { calendars: d.spec.calendars }),
        repair: args?.[0]?.repair ?? false,
        recreateMissing: args?.[0]?.recreateMissing ?? false,
        paused: d.state.paused,
        nextRuns: d.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString()),
        recentRuns: d.info.recentActions.map((a) => ({ at: a.takenAt.toISOString(), workflowId: a.action.workflow.workflowId })),
      });
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) throw new AdminError(404, 'not_found', `Connector '${row.id}' has no reconciliation schedule`);
      throw err;
    }
  });

  router.delete(schedulePath, async (req, res) => {
    const row = await connector(req);
    try {
      await ctx.temporal.schedule.getHandle(reconcileScheduleId(row.id)).delete();
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) throw new AdminError(404, 'not_found', `Connector '${row.id}' has no reconciliation schedule`);
      throw err;
    }
    res.status(204).end();
  });

  return router;
}
