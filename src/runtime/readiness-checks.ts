/**
 * What the api needs to apply a write: its database, the Temporal frontend, and a worker polling this
 * deployment's task queue (a write is a workflow: without a worker it would wait, not run). Each is a cheap
 * call with a short timeout, run by the ReadinessMonitor in the background.
 */
import type { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { PrismaClient } from '../db/client.js';
import { CheckFailure, type ReadinessCheck } from './readiness.js';

/**
 * How old the newest poll of a live worker can be. The Temporal server records a poller's `lastAccessTime`
 * when each poll request starts and again when it ends (matching service, `updatePollerInfo`), and holds an
 * idle long poll for up to a minute (`matching.longPollExpirationInterval`, default 1 min), after which the
 * worker polls again at once. So a live, idle worker is at most ~60 s stale; Temporal's
 * CLI documentation says the same ("Poll requests can last up to a minute, so a LastAccessTime under a minute
 * is normal"). 90 s adds room for a loaded machine. A worker killed outright shows as live for up to that long
 * (its poll ended, and was recorded, when it died): the launcher restarts it well before then.
 */
export const WORKER_POLL_STALE_MS = 90_000;

const DEFAULT_TIMEOUT_MS = 3000;

export function databaseCheck(db: PrismaClient, timeoutMs = DEFAULT_TIMEOUT_MS): ReadinessCheck {
  return {
    name: 'database',
    timeoutMs,
    run: async () => {
      await db.$queryRaw`SELECT 1`;
    },
  };
}

/** gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html) worth naming in `/ready`. */
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAVAILABLE = 14;

function grpcCode(err: unknown): number | undefined {
  for (let e: unknown = err; e !== null && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

/** Runs a Temporal RPC with a deadline; an unreachable or slow server becomes a CheckFailure fit to show. */
async function rpc<T>(connection: Connection, timeoutMs: number, call: () => Promise<T>): Promise<T> {
  try {
    return await connection.withDeadline(Date.now() + timeoutMs, call);
  } catch (err) {
    const code = grpcCode(err);
    if (code === GRPC_UNAVAILABLE) throw new CheckFailure('unreachable', { cause: err });
    if (code === GRPC_DEADLINE_EXCEEDED) throw new CheckFailure(`timed out after ${timeoutMs} ms`, { cause: err });
    throw err;
  }
}

/**
 * `connection` should be one of the checks' own, made without the client's retry interceptor
 * (`interceptors: []`): through it an unreachable server is reported at once, instead of after the RPC
 * retried until its deadline.
 */
export function temporalCheck(connection: Connection, timeoutMs = DEFAULT_TIMEOUT_MS): ReadinessCheck {
  return {
    name: 'temporal',
    timeoutMs,
    run: async () => {
      await rpc(connection, timeoutMs, () => connection.workflowService.getSystemInfo({}));
    },
  };
}

type Timestamp = { seconds?: number | { toNumber(): number } | null; nanos?: number | null } | null | undefined;

function timestampMs(ts: Timestamp): number | undefined {
  if (!ts) return undefined;
  const s = ts.seconds;
  const seconds = s === null || s === undefined ? 0 : typeof s === 'number' ? s : s.toNumber();
  return seconds * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
}

/** Pollers whose last poll is at most `staleMs` old at `nowMs`. */
export function livePollers<P extends { lastAccessTime?: Timestamp }>(pollers: P[], nowMs: number, staleMs = WORKER_POLL_STALE_MS): P[] {
  return pollers.filter((p) => {
    const at = timestampMs(p.lastAccessTime);
    return at !== undefined && nowMs - at <= staleMs;
  });
}

export function workerCheck(connection: Connection, namespace: string, taskQueue: string, timeoutMs = DEFAULT_TIMEOUT_MS): ReadinessCheck {
  const { TaskQueueKind, TaskQueueType } = proto.temporal.api.enums.v1;
  return {
    name: 'worker',
    timeoutMs,
    run: async () => {
      // Workflow-task pollers: every write starts with a workflow task. (The worker polls activities too.)
      const res = await rpc(connection, timeoutMs, () =>
        connection.workflowService.describeTaskQueue({
          namespace,
          taskQueue: { name: taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
          taskQueueType: TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        }),
      );
      if (livePollers(res.pollers ?? [], Date.now()).length === 0) {
        throw new CheckFailure(`no worker has polled the task queue in the last ${WORKER_POLL_STALE_MS / 1000} s`);
      }
    },
  };
}
