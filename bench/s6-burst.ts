/**
 * S6, a burst of creates with the worker killed in the middle (issue #11: "0 lost, 0 duplicated; no 5xx; 429 +
 * Retry-After while saturated; back to steady ≤ 10 s after restart").
 *
 * Offered load: 5,000 distinct creates (POST /scim2/Users, each with its own quoted Idempotency-Key and its own
 * externalId) on an open-loop schedule, evenly over 10 s (--quick: 500 over 5 s): each create starts at its
 * scheduled time whatever the server answered the others, as a provisioning job's batch arrives, not as a fixed
 * number of polite clients would send it. At most IN_FLIGHT requests are on the wire at once (a client's connection
 * pool); a create whose first request left more than LATE_MS after its scheduled time is counted as late (the
 * schedule could not be kept: the pool was full or this process was starved of CPU).
 *
 * Each create then behaves as Entra and Okta do: on 429 or 503 it waits Retry-After (at most MAX_RETRY_AFTER_S) and
 * repeats the same request with the same key; on 202 it polls the status resource the answer names (honouring its
 * Retry-After) until the outcome is known; on another 5xx or a broken connection it repeats with its key after a
 * pause; it gives up only after GIVE_UP_MS (counted). Every answer is counted by status, with whether a 429/503
 * carried Retry-After, and timed.
 *
 * The fault: half-way through the burst the instance's worker processes get SIGKILL (kill -9: no drain, in-flight
 * workflow tasks and local activities are lost to the worker and retried by the engine), and they are started again
 * RESTART_AFTER_MS after the kill. Embedded: the one worker `npm start` runs. Production: an api and two workers as a
 * scaled deployment runs them, in two bursts on the same instance: one of the two workers killed (the other keeps
 * polling: what a rolling crash looks like), then both (the harsher case: nothing polls until the restart). Both are
 * reported; the harsher one is the one the target is read on.
 *
 * S6 runs on an instance of its own on the topology's Temporal server and database server (the topology's source
 * is shared by the other scenarios: a kill there would disturb them, and its store would hold their users too), with
 * the server's defaults as bench/topology.ts starts every instance.
 *
 * What is judged once every create has its outcome and the engine has nothing running for the instance:
 *  - lost: creates the server accepted (answered 201 or 202 at least once) that are not in the store, read from the
 *    instance's database through pg (and the API's count checked against it);
 *  - duplicated: rows beyond one per userName or per externalId (each create has its own externalId), and creates
 *    whose own request was answered 409 (the change applied twice); also counted apart, answers whose id is not the
 *    stored user's;
 *  - 5xx: answers 500-599 other than a 503 with Retry-After (that one is backpressure: the issue's "429 (or 503)");
 *  - 429 + Retry-After: refusals while saturated, each with Retry-After;
 *  - back to steady, from the restart (the moment the worker processes were started again; the figures also say how
 *    long the worker's own start took, and the same times counted from when it was ready), two ways:
 *    rate: until the creates applied per second (the store's created_at, a sliding 1 s window) are back to at least
 *      STEADY_SHARE of the pre-kill rate (PRE_KILL_FROM_MS into the burst to the kill), and the mean rate from that
 *      window over the next STEADY_HOLD_MS is too (or everything is in). When the pre-kill window applied almost
 *      nothing (a cold or starved instance), the reference is the warm-up's rate: before each burst, WARM_CLIENTS
 *      closed-loop clients create users for a few seconds, as S2 does, which also warms the instance;
 *    backlog: until every create the engine had accepted before the restart (an InboundProvision workflow started
 *      before it, from the engine's visibility) has finished.
 * None of them fails the run (a target is a figure); the scenario breaks only when something could not be done (the
 * instance or a worker did not start, the database or the engine could not be read).
 */
import crypto from 'node:crypto';
import { setMaxListeners } from 'node:events';
import os from 'node:os';
import { Connection } from '@temporalio/client';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { startInstance, type Instance } from '../test/harness.js';
import type { ExtraTable, Row, Scenario, ScenarioContext, Target, TopologyName } from './framework.js';
import { createOp, type Created } from './deliveries.js';
import { HttpClient, runLoad, type HttpAnswer } from './load.js';
import { figure } from './report.js';
import { pcts } from './stats.js';
import { bearerToken } from './topology.js';

const FULL = { creates: 5000, seconds: 10 };
const QUICK = { creates: 500, seconds: 5 };
/** Requests on the wire at once, at most (a client's connection pool; Entra's concurrency is unpublished). */
const IN_FLIGHT = 256;
/** A first request this late after its scheduled time counts as a schedule not kept. */
const LATE_MS = 100;
/** The workers are started again this long after they were killed. */
const RESTART_AFTER_MS = 5000;
/** The longest Retry-After honoured as given (the server asks for at most 30 s: src/http/admission.ts). */
const MAX_RETRY_AFTER_S = 60;
/** A create's client gives up this long after its scheduled time: generous, far beyond any Retry-After. */
const GIVE_UP_MS = 600_000;
/** Pause before repeating after an answer that gave no Retry-After (a 5xx, a broken connection). */
const BACKOFF_MS = 2000;
/** How long an answer may take before the client calls it a hang (the issue: "never a 30 s hang"). */
const HANG_MS = 30_000;
/** A request with no answer by then is abandoned (counted as ETIMEDOUT) and repeated with its key. */
const REQUEST_TIMEOUT_MS = 120_000;
/** Before each burst: closed-loop creates at this many clients, for WARM_S (--quick: WARM_QUICK_S), as S2 runs them. */
const WARM_CLIENTS = 16;
const WARM_S = 5;
const WARM_QUICK_S = 3;
/** The pre-kill rate is read from this long after the burst's start to the kill. */
const PRE_KILL_FROM_MS = 500;
/** Fewer applied creates than this in the pre-kill window: the warm-up's rate is the reference instead. */
const PRE_KILL_MIN = 5;
/** "Steady": the 1 s rate back to this share of the pre-kill rate... */
const STEADY_SHARE = 0.8;
/** ...and held for this long. */
const STEADY_HOLD_MS = 2000;
const WINDOW_MS = 1000;
/** The issue's target: back to steady within this many seconds of the restart. */
const TARGET_STEADY_S = 10;
/** After the last client, how long the engine may take to finish what it still runs before the scenario breaks. */
const SETTLE_TIMEOUT_MS = 180_000;

interface Variant {
  label: string;
  /** Which worker processes get SIGKILL: all of them, or these indexes. */
  kill: 'all' | number[];
}

function shape(topology: TopologyName): { workers: number; variants: Variant[] } {
  if (topology === 'embedded') return { workers: 1, variants: [{ label: 'the worker killed', kill: 'all' }] };
  return {
    workers: 2,
    variants: [
      { label: '1 of 2 workers killed', kill: [1] },
      { label: 'both workers killed', kill: 'all' },
    ],
  };
}

/** A FIFO bound on requests in flight. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(n: number) {
    this.free = n;
  }
  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free -= 1;
    else await new Promise<void>((r) => this.waiting.push(r));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free += 1;
    };
  }
}

interface Create {
  userName: string;
  key: string;
  externalId: string;
  body: string;
  /** Epoch ms. */
  scheduledAt: number;
  firstSentAt?: number;
  /** The first 201 or 202. */
  acceptedAt?: number;
  acceptedWith?: 201 | 202;
  /** When the client knew the outcome (a 201, or the status resource's completed answer). */
  knownAt?: number;
  /** The user id the server answered with. */
  id?: string;
  outcome?: 'created' | 'gave up' | 'rejected' | 'aborted';
  rejection?: string;
}

/** One answer the clients got: to a create (POST) or to a status poll. */
interface Answer {
  kind: 'post' | 'poll';
  /** HTTP status, or the network error's code. */
  status: string;
  retryAfter: boolean;
  retryAfterS?: number;
  /** Epoch ms when it arrived. */
  at: number;
  ms: number;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/** Retry-After in seconds (delta-seconds or an HTTP date), undefined when absent or unreadable. */
function retryAfterOf(h: HttpAnswer['headers']): number | undefined {
  const v = h['retry-after'];
  if (typeof v !== 'string' || v.trim() === '') return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim());
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, (at - Date.now()) / 1000) : undefined;
}

function jsonOf(a: HttpAnswer): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(a.body.toString('utf8'));
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A reused keep-alive connection the server had closed (HttpClient's `reused`): the server may close an idle
 * connection just as a request goes out on it while the clients wait out Retry-After, a race of the client's pool,
 * not an answer of the server. Repeated at once, as a browser or an HTTP library does unasked; counted apart.
 */
const IDLE_RESET = 'ECONNRESET on a reused idle connection';

const networkCode = (err: unknown) => {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'network error';
};

/** Protobuf Timestamp -> epoch ms. */
const tsMs = (ts: { seconds?: { toString(): string } | number | null; nanos?: number | null } | null | undefined): number | undefined =>
  ts?.seconds === undefined || ts.seconds === null ? undefined : Number(ts.seconds.toString()) * 1000 + (ts.nanos ?? 0) / 1e6;

/** How many of ascending `sorted` lie in (from, to]. */
function countIn(sorted: number[], from: number, to: number): number {
  const upper = (x: number) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return upper(to) - upper(from);
}

interface Burst {
  creates: Create[];
  answers: Answer[];
  /** Answers the clients did not expect (a 5xx other than 503 + Retry-After, a 429/503 without it, a 4xx, a broken connection): the first few. */
  surprises: string[];
  /** The first body of each refusal the clients honoured (429, 503), to say which part of the server refused. */
  refusals: Record<string, string>;
  t0: number;
  killIssued: number;
  killed: number;
  restartIssued: number;
  workerReady: number;
  lastClientDone: number;
}

/** Runs one burst against `instance` with the fault of `variant`; resolves once every create has its outcome. */
async function burst(ctx: ScenarioContext, instance: Instance, token: string, variant: Variant, n: number, seconds: number, prefix: string): Promise<Burst> {
  const requests = new HttpClient(instance.baseUrl, IN_FLIGHT, { Authorization: `Bearer ${token}` });
  const slots = new Slots(IN_FLIGHT);
  const stop = new AbortController();
  // Every waiting client listens for the stop: thousands at once.
  setMaxListeners(0, stop.signal);
  const answers: Answer[] = [];
  const surprises: string[] = [];
  const refusals: Record<string, string> = {};
  const surprise = (c: Create, what: string) => {
    if (surprises.length < 20) surprises.push(`${c.userName}: ${what.replace(/\s+/g, ' ').slice(0, 300)}`);
  };

  const send = async (c: Create, kind: Answer['kind'], method: string, path: string, body?: string) => {
    const release = await slots.acquire();
    const sentAt = Date.now();
    c.firstSentAt ??= sentAt;
    const t = performance.now();
    try {
      const a = await requests.request(method, path, { body, headers: kind === 'post' ? { 'Idempotency-Key': c.key } : {}, timeoutMs: REQUEST_TIMEOUT_MS });
      const retryAfter = retryAfterOf(a.headers);
      answers.push({ kind, status: String(a.status), retryAfter: retryAfter !== undefined, ...(retryAfter !== undefined && { retryAfterS: retryAfter }), at: Date.now(), ms: performance.now() - t });
      if (a.status === 429 || a.status === 503) {
        // One sample per status and kind of refusal (the detail's first words: the admission bound, the write gate,
        // the engine, the database each say theirs).
        const detail = String((jsonOf(a)?.detail as string | undefined) ?? a.body.toString('utf8')).replace(/\s+/g, ' ');
        const kindOf = `${kind} ${a.status} ${detail.slice(0, 40)}`;
        if (Object.keys(refusals).length < 12) refusals[kindOf] ??= `${a.status} at ${((Date.now() - t0) / 1000).toFixed(1)} s: ${detail.slice(0, 240)}`;
      }
      return { a, retryAfter };
    } catch (err) {
      const reused = (err as { reused?: boolean }).reused === true && networkCode(err) === 'ECONNRESET';
      answers.push({ kind, status: reused ? IDLE_RESET : networkCode(err), retryAfter: false, at: Date.now(), ms: performance.now() - t });
      return { error: `${networkCode(err)}: ${err instanceof Error ? err.message : String(err)}`, reused };
    } finally {
      release();
    }
  };
  /** Waits what the answer asked for (bounded), or `fallbackMs`. */
  const wait = (retryAfter: number | undefined, fallbackMs: number) => sleep(retryAfter === undefined ? fallbackMs : Math.min(retryAfter, MAX_RETRY_AFTER_S) * 1000, stop.signal);

  const client = async (c: Create) => {
    const deadline = c.scheduledAt + GIVE_UP_MS;
    /** Set by a 202: where the outcome is read (a path on the instance). */
    let location: string | undefined;
    const accepted = (status: 201 | 202) => {
      if (c.acceptedAt !== undefined) return;
      c.acceptedAt = Date.now();
      c.acceptedWith = status;
    };
    const created = (id: unknown, userName: unknown) => {
      c.knownAt = Date.now();
      c.outcome = 'created';
      if (typeof id === 'string') c.id = id;
      if (userName !== c.userName) surprise(c, `answered with userName ${String(userName)}`);
    };
    for (;;) {
      if (stop.signal.aborted) return void (c.outcome = 'aborted');
      if (Date.now() > deadline) return void (c.outcome = 'gave up');
      if (location === undefined) {
        const r = await send(c, 'post', 'POST', '/scim2/Users', c.body);
        if (!r.a) {
          if (r.reused) continue;
          surprise(c, r.error);
          await sleep(BACKOFF_MS, stop.signal);
          continue;
        }
        const { a, retryAfter } = r;
        const body = jsonOf(a);
        if (a.status === 201) {
          accepted(201);
          return created(body?.id, body?.userName);
        }
        if (a.status === 202) {
          accepted(202);
          const where = typeof body?.location === 'string' ? body.location : typeof a.headers.location === 'string' ? a.headers.location : undefined;
          if (where) location = new URL(where, instance.baseUrl).pathname;
          else surprise(c, '202 without a status location; repeating the request with its key');
          await wait(retryAfter, 1000);
          continue;
        }
        if (a.status === 429 || a.status === 503) {
          if (retryAfter === undefined) surprise(c, `${a.status} without Retry-After: ${a.body.toString('utf8')}`);
          await wait(retryAfter, BACKOFF_MS);
          continue;
        }
        if (a.status >= 500) {
          surprise(c, `${a.status}: ${a.body.toString('utf8')}`);
          await wait(retryAfter, BACKOFF_MS);
          continue;
        }
        // A 4xx is the server's final word on this request (a 409 would be this very create applied before).
        c.outcome = 'rejected';
        c.rejection = String(a.status);
        c.knownAt = Date.now();
        return surprise(c, `${a.status}: ${a.body.toString('utf8')}`);
      }
      const r = await send(c, 'poll', 'GET', location);
      if (!r.a) {
        if (r.reused) continue;
        surprise(c, `status: ${r.error}`);
        await sleep(BACKOFF_MS, stop.signal);
        continue;
      }
      const { a, retryAfter } = r;
      const body = jsonOf(a);
      if (a.status === 200 && body?.status === 'running') {
        await wait(retryAfter, 1000);
        continue;
      }
      if (a.status === 200 && (body?.status === 'completed' || body?.status === 'failed')) {
        const response = body.response as { status?: number; body?: { id?: unknown; userName?: unknown } } | undefined;
        if (response?.status === 201) return created(response.body?.id, response.body?.userName);
        c.outcome = 'rejected';
        c.rejection = `${String(response?.status)} (status resource)`;
        c.knownAt = Date.now();
        return surprise(c, `status resource: ${a.body.toString('utf8')}`);
      }
      if ((a.status === 429 || a.status === 503) && retryAfter !== undefined) {
        await wait(retryAfter, BACKOFF_MS);
        continue;
      }
      // Anything else (a 404 would be a status resource that lost the request): repeat the create with its key,
      // which joins its workflow or answers from its result.
      surprise(c, `status resource answered ${a.status}: ${a.body.toString('utf8')}`);
      location = undefined;
      await wait(retryAfter, BACKOFF_MS);
    }
  };

  const spacing = (seconds * 1000) / n;
  const t0 = Date.now() + 250;
  const creates: Create[] = Array.from({ length: n }, (_, i) => {
    const userName = `${prefix}${String(i).padStart(5, '0')}`;
    return {
      userName,
      // A Structured Field String (IETF httpapi idempotency-key draft), as the server asks for it.
      key: `"${crypto.randomUUID()}"`,
      externalId: crypto.randomUUID(),
      scheduledAt: t0 + i * spacing,
      body: '',
    };
  });
  for (const [i, c] of creates.entries()) {
    c.body = JSON.stringify({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: c.userName,
      externalId: c.externalId,
      active: true,
      displayName: `Burst ${i}`,
      name: { givenName: 'Burst', familyName: String(i) },
      emails: [{ value: `${c.userName}@example.org`, type: 'work', primary: true }],
    });
  }

  const times = { killIssued: NaN, killed: NaN, restartIssued: NaN, workerReady: NaN };
  const killAt = t0 + (seconds * 1000) / 2;
  const fault = (async () => {
    await sleep(killAt - Date.now(), stop.signal);
    if (stop.signal.aborted) return;
    ctx.step(`${variant.label}: kill -9`);
    times.killIssued = Date.now();
    if (variant.kill === 'all') await instance.killWorker();
    else await Promise.all(variant.kill.map((i) => instance.killWorkerAt(i)));
    times.killed = Date.now();
    await sleep(times.killIssued + RESTART_AFTER_MS - Date.now(), stop.signal);
    ctx.step(`${variant.label}: restarting the worker${variant.kill === 'all' && instance.workerCount > 1 ? 's' : ''}`);
    times.restartIssued = Date.now();
    if (variant.kill === 'all') await instance.startWorker();
    else await Promise.all(variant.kill.map((i) => instance.startWorkerAt(i)));
    times.workerReady = Date.now();
  })();
  // A fault that cannot be done (a worker that does not start again) stops the clients: the scenario broke (the
  // rejection is rethrown below, once the clients have returned).
  void fault.catch(() => stop.abort());

  const progress = setInterval(() => {
    const known = creates.filter((c) => c.outcome !== undefined).length;
    const accepted = creates.filter((c) => c.acceptedAt !== undefined).length;
    ctx.step(`${variant.label}: ${accepted.toLocaleString('en')} accepted, ${known.toLocaleString('en')} of ${n.toLocaleString('en')} known`);
  }, 10_000);
  const clients: Promise<void>[] = [];
  try {
    ctx.step(`${variant.label}: burst of ${n.toLocaleString('en')} creates over ${seconds} s`);
    // The open-loop schedule: each create is started at its time, whatever became of the others.
    let next = 0;
    while (next < n && !stop.signal.aborted) {
      const now = Date.now();
      while (next < n && creates[next]!.scheduledAt <= now) clients.push(client(creates[next++]!));
      if (next < n) await sleep(Math.min(5, creates[next]!.scheduledAt - Date.now()), stop.signal);
    }
    await Promise.all(clients);
    const lastClientDone = Date.now();
    await fault;
    return { creates, answers, surprises, refusals, t0, ...times, lastClientDone };
  } finally {
    clearInterval(progress);
    stop.abort();
    await Promise.allSettled([fault, ...clients]);
    requests.close();
  }
}

interface Stored {
  id: string;
  userName: string;
  externalId: string | null;
  at: number;
}

/** Waits until the engine runs nothing more for the instance's task queue; returns its InboundProvision workflows started since `since`. */
async function settle(instance: Instance, since: number): Promise<{ start: number; close: number | undefined }[]> {
  const namespace = loadConfig({}).temporal.namespace;
  const connection = await Connection.connect({ address: instance.temporalAddress });
  try {
    const base = `WorkflowType = 'inboundProvision' AND TaskQueue = '${instance.taskQueue}' AND StartTime >= '${new Date(since).toISOString()}'`;
    const deadline = Date.now() + SETTLE_TIMEOUT_MS;
    for (;;) {
      const { count } = await connection.workflowService.countWorkflowExecutions({ namespace, query: `${base} AND ExecutionStatus = 'Running'` });
      if (Number(count?.toString() ?? 0) === 0) break;
      if (Date.now() > deadline) throw new Error(`the engine still runs ${String(count)} InboundProvision workflows of the burst ${SETTLE_TIMEOUT_MS / 1000} s after its last client`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const out: { start: number; close: number | undefined }[] = [];
    let nextPageToken: Uint8Array | undefined;
    do {
      const page = await connection.workflowService.listWorkflowExecutions({ namespace, query: base, pageSize: 1000, ...(nextPageToken && { nextPageToken }) });
      for (const e of page.executions) out.push({ start: tsMs(e.startTime) ?? NaN, close: tsMs(e.closeTime) });
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (nextPageToken);
    return out;
  } finally {
    await connection.close();
  }
}

/** The burst's users as the store holds them (the instance's database, through pg). */
async function stored(instance: Instance, prefix: string): Promise<Stored[]> {
  const client = new pg.Client({ connectionString: instance.databaseUrl });
  await client.connect();
  try {
    // created_at is a timestamp without time zone holding UTC (Prisma DateTime), as bench/deliveries.ts reads it.
    const { rows } = await client.query<{ id: string; user_name: string; external_id: string | null; at: string }>(
      'SELECT id::text AS id, user_name, external_id, extract(epoch FROM created_at) * 1000 AS at FROM scim_user WHERE starts_with(user_name, $1)',
      [prefix],
    );
    return rows.map((r) => ({ id: r.id, userName: r.user_name, externalId: r.external_id, at: Number(r.at) }));
  } finally {
    await client.end();
  }
}

/** The API's count of the burst's users, to check the store's against. */
async function apiCount(instance: Instance, token: string, prefix: string): Promise<number | undefined> {
  const res = await fetch(`${instance.baseUrl}/scim2/Users?count=0&filter=${encodeURIComponent(`userName sw "${prefix}"`)}`, { headers: { Authorization: `Bearer ${token}` } });
  if (res.status !== 200) return undefined;
  return ((await res.json()) as { totalResults?: number }).totalResults;
}

interface Figures {
  n: number;
  accepted: number;
  accepted202: number;
  lost: number;
  duplicated: number;
  conflicts409: number;
  idMismatch: number;
  notAccepted: number;
  gaveUp: number;
  rejected: number;
  serverErrors: number;
  n503: number;
  n503Without: number;
  n429: number;
  n429Without: number;
  network: number;
  hangs: number;
  late: number;
  maxLagMs: number;
  preKillRate: number;
  warmRate: number;
  /** What "steady" is read against: the pre-kill rate, or the warm-up's when the pre-kill window applied too little. */
  reference: { rate: number; what: 'pre-kill' | 'warm-up' };
  lowestRate: number;
  steadyRateS: number;
  /** The same two, from the moment the restarted worker said it was ready (its own start on this machine excluded). */
  steadyRateFromReadyS: number;
  steadyBacklogFromReadyS: number;
  workerStartS: number;
  idleResets: number;
  retryAfter429: { p50: number; max: number };
  steadyBacklogS: number;
  backlog: number;
  allInS: number;
  workflows: number;
  apiTotal: number | undefined;
  storedTotal: number;
  answerMs: { p50: number; p95: number; p99: number };
  created201Ms: { p50: number; p99: number };
  refusal429Ms: { p99: number };
  slowestS: number;
  knownS: { p50: number; p99: number };
  posts: number;
  polls: number;
  byStatus: Record<string, number>;
}

function analyse(b: Burst, rows: Stored[], workflows: { start: number; close: number | undefined }[], apiTotal: number | undefined, warmRate: number): Figures {
  const byName = new Map<string, Stored[]>();
  for (const r of rows) byName.set(r.userName, [...(byName.get(r.userName) ?? []), r]);
  const externalIds = new Set(rows.map((r) => r.externalId));
  const accepted = b.creates.filter((c) => c.acceptedAt !== undefined);
  const lost = accepted.filter((c) => !byName.has(c.userName)).length;
  const duplicated = rows.length - byName.size + (rows.length - externalIds.size) + b.creates.filter((c) => c.rejection?.startsWith('409')).length;
  const idMismatch = b.creates.filter((c) => c.id !== undefined && byName.get(c.userName)?.[0]?.id !== c.id).length;
  const posts = b.answers.filter((a) => a.kind === 'post');
  const count = (pick: (a: Answer) => boolean) => b.answers.filter(pick).length;
  const is5xx = (a: Answer) => /^5\d\d$/.test(a.status);
  const byStatus: Record<string, number> = {};
  for (const a of b.answers) {
    const k = `${a.kind === 'poll' ? 'status ' : ''}${a.status}${(a.status === '429' || a.status === '503') && !a.retryAfter ? ' without Retry-After' : ''}`;
    byStatus[k] = (byStatus[k] ?? 0) + 1;
  }

  const applied = rows.map((r) => r.at).sort((x, y) => x - y);
  const rate = (end: number) => countIn(applied, end - WINDOW_MS, end) / (WINDOW_MS / 1000);
  const preFrom = b.t0 + PRE_KILL_FROM_MS;
  const preKillApplied = countIn(applied, preFrom, b.killIssued);
  const preKillRate = b.killIssued > preFrom ? preKillApplied / ((b.killIssued - preFrom) / 1000) : NaN;
  const reference =
    preKillApplied >= PRE_KILL_MIN || !(warmRate > 0) ? { rate: preKillRate, what: 'pre-kill' as const } : { rate: warmRate, what: 'warm-up' as const };
  const last = applied.at(-1) ?? NaN;
  // Rate: the first window end after the restart where the 1 s rate is back to STEADY_SHARE of the reference and
  // the mean rate from that window's start over the next STEADY_HOLD_MS is too: a lone second (the backlog's flush
  // when the worker comes back) is not steady, and one slow second among good ones (the 1 s counts vary by a third
  // before the kill as well) does not undo it. Near the end the burst runs out of creates, not the server of pace:
  // a window reaching past the last applied create is cut there.
  let steadyRateS = NaN;
  let lowestRate = Infinity;
  if (Number.isFinite(reference.rate) && reference.rate > 0 && Number.isFinite(last)) {
    const want = STEADY_SHARE * reference.rate;
    for (let t = b.killIssued + WINDOW_MS; t <= b.restartIssued; t += 100) lowestRate = Math.min(lowestRate, rate(t));
    for (let t = b.restartIssued; t <= last + 100; t += 100) {
      if (rate(t) < want && t <= last) continue;
      const until = Math.min(t + STEADY_HOLD_MS, last);
      const span = until - (t - WINDOW_MS);
      if (span > WINDOW_MS && countIn(applied, t - WINDOW_MS, until) / (span / 1000) < want) continue;
      steadyRateS = (t - b.restartIssued) / 1000;
      break;
    }
  }
  // Backlog: every workflow the engine had started before the restart, finished.
  const before = workflows.filter((w) => w.start < b.restartIssued);
  const closes = before.map((w) => w.close ?? NaN);
  const steadyBacklogS = closes.some((c) => !Number.isFinite(c)) ? NaN : Math.max(0, ...closes.map((c) => (c - b.restartIssued) / 1000));

  const lags = b.creates.filter((c) => c.firstSentAt !== undefined).map((c) => c.firstSentAt! - c.scheduledAt);
  const sortedMs = (xs: number[]) => xs.sort((x, y) => x - y);
  const allMs = sortedMs(posts.map((a) => a.ms));
  const known = sortedMs(b.creates.filter((c) => c.knownAt !== undefined && c.outcome === 'created').map((c) => (c.knownAt! - c.scheduledAt) / 1000));
  const created201 = pcts(sortedMs(posts.filter((a) => a.status === '201').map((a) => a.ms)));
  return {
    n: b.creates.length,
    accepted: accepted.length,
    accepted202: accepted.filter((c) => c.acceptedWith === 202).length,
    lost,
    duplicated,
    conflicts409: b.creates.filter((c) => c.rejection?.startsWith('409')).length,
    idMismatch,
    notAccepted: b.creates.length - accepted.length,
    gaveUp: b.creates.filter((c) => c.outcome === 'gave up').length,
    rejected: b.creates.filter((c) => c.outcome === 'rejected').length,
    serverErrors: count((a) => is5xx(a) && !(a.status === '503' && a.retryAfter)),
    n503: count((a) => a.status === '503' && a.retryAfter),
    n503Without: count((a) => a.status === '503' && !a.retryAfter),
    n429: count((a) => a.status === '429'),
    n429Without: count((a) => a.status === '429' && !a.retryAfter),
    network: count((a) => !/^\d+$/.test(a.status) && a.status !== IDLE_RESET),
    idleResets: count((a) => a.status === IDLE_RESET),
    hangs: count((a) => a.ms >= HANG_MS),
    late: lags.filter((l) => l > LATE_MS).length,
    maxLagMs: Math.max(0, ...lags),
    preKillRate,
    warmRate,
    reference,
    steadyRateFromReadyS: steadyRateS - (b.workerReady - b.restartIssued) / 1000,
    steadyBacklogFromReadyS: steadyBacklogS - (b.workerReady - b.restartIssued) / 1000,
    workerStartS: (b.workerReady - b.restartIssued) / 1000,
    retryAfter429: (() => {
      const ra = sortedMs(posts.filter((a) => a.status === '429' && a.retryAfterS !== undefined).map((a) => a.retryAfterS!));
      return { p50: pcts(ra).p50, max: ra.at(-1) ?? NaN };
    })(),
    lowestRate: Number.isFinite(lowestRate) ? lowestRate : NaN,
    steadyRateS,
    steadyBacklogS,
    backlog: before.filter((w) => w.close === undefined || w.close > b.restartIssued).length,
    allInS: (last - b.t0) / 1000,
    workflows: workflows.length,
    apiTotal,
    storedTotal: rows.length,
    answerMs: pcts(allMs),
    created201Ms: { p50: created201.p50, p99: created201.p99 },
    refusal429Ms: { p99: pcts(sortedMs(posts.filter((a) => a.status === '429').map((a) => a.ms))).p99 },
    slowestS: (allMs.at(-1) ?? NaN) / 1000,
    knownS: { p50: pcts(known).p50, p99: pcts(known).p99 },
    posts: posts.length,
    polls: b.answers.length - posts.length,
    byStatus,
  };
}

const s = (x: number, digits = 1) => (Number.isFinite(x) ? `${x.toFixed(digits)} s` : '—');
/** A time counted from the restarted worker's ready line; steady before it means the surviving worker carried the load. */
const fromReady = (x: number) => (Number.isFinite(x) && x < 0 ? `${s(-x)} before the restarted worker was ready` : `${s(x)} after the worker was ready`);
const int = (x: number) => x.toLocaleString('en');

function targetsOf(f: Figures): Target[] {
  const steadyText = (how: string) => `back to steady ≤ ${TARGET_STEADY_S} s after restart (${how})`;
  return [
    { text: '0 lost', met: f.lost === 0, value: `lost ${int(f.lost)} of ${int(f.accepted)} accepted` },
    { text: '0 duplicated', met: f.duplicated === 0, value: `duplicated ${int(f.duplicated)}` },
    { text: 'no 5xx (a 503 with Retry-After counted apart)', met: f.serverErrors === 0, value: `5xx ${int(f.serverErrors)}; 503 + Retry-After ${int(f.n503)}` },
    {
      text: '429 + Retry-After while saturated',
      met: f.n429 > 0 && f.n429Without === 0 && f.n503Without === 0,
      value: `${int(f.n429)} × 429, ${int(f.n429 - f.n429Without)} with Retry-After; 429 p99 ${figure(f.refusal429Ms.p99)} ms`,
    },
    {
      text: steadyText(`rate: 1 s window ≥ ${Math.round(STEADY_SHARE * 100)} % of the pre-kill rate, and on average the ${STEADY_HOLD_MS / 1000} s after it`),
      met: Number.isFinite(f.reference.rate) && f.reference.rate > 0 ? Number.isFinite(f.steadyRateS) && f.steadyRateS <= TARGET_STEADY_S : null,
      value:
        `${s(f.steadyRateS)}, ${fromReady(f.steadyRateFromReadyS)} (its start took ${s(f.workerStartS)}); ` +
        `${f.reference.what} rate ${figure(f.reference.rate)}/s${f.reference.what === 'warm-up' ? ` (the pre-kill window applied too little: ${figure(f.preKillRate)}/s)` : ''}`,
    },
    {
      text: steadyText('backlog: every create the engine held at the restart applied'),
      met: Number.isFinite(f.steadyBacklogS) && f.steadyBacklogS <= TARGET_STEADY_S,
      value: `${s(f.steadyBacklogS)}, ${fromReady(f.steadyBacklogFromReadyS)}; ${int(f.backlog)} open at the restart`,
    },
  ];
}

/** Per second (then per 10 s): what was sent and answered, and what the store applied. */
function timeline(b: Burst, rows: Stored[]): string[][] {
  const fine = b.restartIssued + 12_000 - b.t0;
  const end = Math.max(b.lastClientDone, ...rows.map((r) => r.at)) - b.t0;
  const edges: number[] = [];
  for (let t = 0; t < Math.min(fine, end + 1000); t += 1000) edges.push(t);
  for (let t = edges.at(-1)! + 1000; t < end + 10_000; t += 10_000) edges.push(t);
  const out: string[][] = [];
  const events: [number, string][] = [
    [b.killIssued, 'kill -9'],
    [b.restartIssued, 'restart'],
    [b.workerReady, 'worker ready'],
  ];
  for (const [i, from] of edges.entries()) {
    const to = edges[i + 1] ?? end + 1;
    if (from > end) break;
    const inside = (at: number) => at - b.t0 >= from && at - b.t0 < to;
    const posts = b.answers.filter((a) => a.kind === 'post' && inside(a.at));
    const st = (pred: (a: Answer) => boolean) => String(posts.filter(pred).length);
    out.push([
      `${(from / 1000).toFixed(0)}–${(to / 1000).toFixed(0)}`,
      String(b.creates.filter((c) => c.firstSentAt !== undefined && inside(c.firstSentAt)).length),
      st((a) => a.status === '201'),
      st((a) => a.status === '202'),
      st((a) => a.status === '429'),
      st((a) => a.status === '503'),
      st((a) => !['201', '202', '429', '503'].includes(a.status)),
      String(rows.filter((r) => inside(r.at)).length),
      events
        .filter(([at]) => inside(at))
        .map(([at, what]) => `${what} at ${((at - b.t0) / 1000).toFixed(1)} s`)
        .join(', '),
    ]);
  }
  return out;
}

/** The fault figures of one burst, as the report's "S6 fault figures" table shows them (one column per fault). */
function summaryOf(f: Figures, b: Burst, load: number[]): [string, string][] {
  const at = (ms: number) => s((ms - b.t0) / 1000);
  return [
    // Late: the first request of a create waits for a place among IN_FLIGHT like every repetition (one pool, as a
    // provisioning client has), or this process had no CPU at its time.
    ['creates offered (open loop)', `${int(f.n)}; ${int(f.late)} first sent > ${LATE_MS} ms late (max ${figure(f.maxLagMs)} ms)`],
    ['accepted (201 or 202)', `${int(f.accepted)} (${int(f.accepted202)} first as 202)`],
    ['lost (accepted, not in the store)', int(f.lost)],
    ['duplicated', `${int(f.duplicated)}${f.idMismatch > 0 ? ` (and ${int(f.idMismatch)} answers naming another id than the store's)` : ''}`],
    ['5xx (other than 503 + Retry-After)', int(f.serverErrors)],
    ['503 with Retry-After', `${int(f.n503)}${f.n503Without > 0 ? ` (and ${int(f.n503Without)} without)` : ''}`],
    ['429', `${int(f.n429)}, ${f.n429Without === 0 ? 'all' : int(f.n429 - f.n429Without)} with Retry-After (asked p50 ${figure(f.retryAfter429.p50)} s, max ${figure(f.retryAfter429.max)} s)`],
    ['gave up / other final answers', `${int(f.gaveUp)} / ${int(f.rejected)}`],
    ['broken connections (idle keep-alive resets, repeated at once)', `${int(f.network)} (${int(f.idleResets)})`],
    ['answers ≥ 30 s (hangs)', int(f.hangs)],
    ['kill -9 / restart / worker ready', `${at(b.killIssued)} / ${at(b.restartIssued)} / ${at(b.workerReady)} (worker start ${s(f.workerStartS)})`],
    ['rate: warm-up / pre-kill / lowest 1 s, kill→restart', `${figure(f.warmRate)} / ${figure(f.preKillRate)} / ${figure(f.lowestRate)} creates/s`],
    ['back to steady after restart: rate', `${s(f.steadyRateS)} (${fromReady(f.steadyRateFromReadyS)}; against the ${f.reference.what} rate)`],
    ['back to steady after restart: backlog', `${s(f.steadyBacklogS)} (${fromReady(f.steadyBacklogFromReadyS)}; ${int(f.backlog)} open at the restart)`],
    ['all in after (burst start → last applied)', s(f.allInS)],
    ['create answer p50 / p99 (all answers)', `${figure(f.answerMs.p50)} / ${figure(f.answerMs.p99)} ms (slowest ${s(f.slowestS)})`],
    ['201 answer p50 / p99; 429 answer p99', `${figure(f.created201Ms.p50)} / ${figure(f.created201Ms.p99)} ms; ${figure(f.refusal429Ms.p99)} ms`],
    ['outcome known p50 / p99 (from the scheduled time)', `${s(f.knownS.p50)} / ${s(f.knownS.p99)}`],
    ['requests sent', `${int(f.posts)} creates (${figure(f.posts / f.n)} a create) + ${int(f.polls)} status polls`],
    ['store (pg) / API count / InboundProvision workflows', `${int(f.storedTotal)} / ${String(f.apiTotal)} / ${int(f.workflows)}`],
    ['load average at the start', load.map((l) => l.toFixed(2)).join(' ')],
  ];
}

export const s6: Scenario = {
  name: 's6',
  label: 'S6',
  title: 'S6 burst of creates with the worker killed (kill -9) in the middle',
  topologies: ['embedded', 'production'],
  targets: 0,
  levels: () => [IN_FLIGHT],
  // An instance to start, then per burst a warm-up, its creates at ~12/s (what this loaded machine applied during a
  // burst) and the settling.
  estimateSeconds: (settings, topology) =>
    30 + shape(topology).variants.length * (25 + (settings.quick ? WARM_QUICK_S : WARM_S) + (settings.quick ? QUICK : FULL).creates / 12),
  async run(ctx: ScenarioContext): Promise<Row[]> {
    const { creates: n, seconds } = ctx.settings.quick ? QUICK : FULL;
    const { workers, variants } = shape(ctx.topology.name);
    ctx.step(`starting an instance with ${workers} worker${workers > 1 ? 's' : ''}`);
    const defaults = loadConfig({});
    const tag = crypto.randomBytes(2).toString('hex');
    // The server's defaults where the harness sets test values, as bench/topology.ts starts every instance.
    const instance = await startInstance(`bench-${tag}-s6`, {
      stack: ctx.topology.stack,
      workers,
      env: { DATABASE_POOL_SIZE: String(defaults.database.poolSize), OUTBOUND_IDLE_MS: String(defaults.outboundIdleMs) },
    });
    const rows: Row[] = [];
    const summary: { label: string; values: [string, string][] }[] = [];
    const timelines: Omit<ExtraTable, 'topology' | 'scenario'>[] = [];
    try {
      const token = await bearerToken(instance, `bench-s6-${tag}`);
      ctx.note(
        `Before each burst, a warm-up: ${WARM_CLIENTS} closed-loop clients creating users for ${ctx.settings.quick ? WARM_QUICK_S : WARM_S} s (as S2), its rate the instance's unfaulted pace. ` +
        `${int(n)} creates (POST /scim2/Users, a bearer token, each with its own quoted Idempotency-Key and externalId) on an open-loop schedule evenly over ${seconds} s, ` +
          `at most ${IN_FLIGHT} requests in flight; each client honours Retry-After on 429/503 (at most ${MAX_RETRY_AFTER_S} s) and repeats with its key, polls the status location of a 202, ` +
          `repeats after ${BACKOFF_MS / 1000} s on another 5xx or a broken connection, gives up after ${GIVE_UP_MS / 60_000} min. The worker processes get SIGKILL at ${seconds / 2} s and are started ` +
          `again ${RESTART_AFTER_MS / 1000} s after the kill. S6's own instance (${workers} worker process${workers > 1 ? 'es' : ''}, the server's defaults) on this topology's servers` +
          `${variants.length > 1 ? '; one burst per fault, on the same instance, each with its own users' : ''}.`,
      );
      ctx.note(
        'Figures: lost = accepted (201/202) but not in the store (the instance\'s database via pg; the API\'s count checked against it); duplicated = rows beyond one per userName or ' +
          'per externalId, plus creates answered 409; 5xx = 500-599 other than a 503 with Retry-After. Time to steady from the restart (the worker processes started again): ' +
          `"rate": the applied creates per second (store's created_at, 1 s sliding window) back to ≥ ${Math.round(STEADY_SHARE * 100)} % of the pre-kill rate ` +
          `(${PRE_KILL_FROM_MS / 1000} s into the burst to the kill; the warm-up's rate instead when that window applied fewer than ${PRE_KILL_MIN}), ` +
          `and the mean rate from that window over the next ${STEADY_HOLD_MS / 1000} s too; "backlog": every InboundProvision the engine had started before the restart finished (engine visibility). Latency: every create answer; ` +
          '"outcome known" from the scheduled time to the 201 (or the completed status). No figure fails the run.',
      );
      for (const variant of variants) {
        const load = os.loadavg();
        const prefix = `s6-${crypto.randomBytes(3).toString('hex')}-`;
        if (variant !== variants[0]) {
          ctx.step(`${variant.label}: waiting for the instance to be ready`);
          await instance.waitReady(120_000);
        }
        // Warm first (connections, the worker's caches, the database's), and measure the rate the instance sustains
        // without a fault, as S2 does: the reference when the burst's own pre-kill window applied too little.
        const warmS = ctx.settings.quick ? WARM_QUICK_S : WARM_S;
        ctx.step(`${variant.label}: warm-up, ${WARM_CLIENTS} clients for ${warmS} s`);
        const warmHttp = new HttpClient(instance.baseUrl, WARM_CLIENTS, { Authorization: `Bearer ${token}` });
        const warmCreated: Created[] = [];
        const warm = await runLoad({
          concurrency: WARM_CLIENTS,
          seconds: warmS,
          warmupSeconds: 1,
          op: createOp(warmHttp, `s6w-${crypto.randomBytes(3).toString('hex')}`, warmCreated),
        }).finally(() => warmHttp.close());
        const b = await burst(ctx, instance, token, variant, n, seconds, prefix);
        ctx.step(`${variant.label}: settling (the engine finishing what it holds)`);
        // From the burst's first scheduled create (the warm-up's last workflows started a quarter second before it).
        const workflows = await settle(instance, b.t0 - 100);
        ctx.step(`${variant.label}: reading the store`);
        const [users, total] = await Promise.all([stored(instance, prefix), apiCount(instance, token, prefix)]);
        for (const u of users.slice(0, 50)) {
          const c = b.creates.find((x) => x.userName === u.userName);
          if (c?.acceptedAt !== undefined && (u.at < c.scheduledAt - 60_000 || u.at > Date.now() + 1000)) {
            throw new Error(`the store's created_at of ${u.userName} (${new Date(u.at).toISOString()}) is not near its create: the bench reads created_at wrongly`);
          }
        }
        const f = analyse(b, users, workflows, total, warm.throughput);
        const errorsByStatus: Record<string, number> = {};
        for (const [k, v] of Object.entries(f.byStatus)) if (!/(^|\s)(200|201|202)$/.test(k) && !/^(status )?(429|503)$/.test(k) && k !== IDLE_RESET) errorsByStatus[k] = v;
        const errors = Object.values(errorsByStatus).reduce((x, y) => x + y, 0);
        const extra: Record<string, number | string> = {
          accepted: `${int(f.accepted)} of ${int(f.n)} (${int(f.accepted202)} first as 202)`,
          'lost / duplicated': `${int(f.lost)} / ${int(f.duplicated)}`,
          '5xx / 503 + Retry-After / 429': `${int(f.serverErrors)} / ${int(f.n503)} / ${int(f.n429)}`,
          'back to steady (rate / backlog)': `${s(f.steadyRateS)} / ${s(f.steadyBacklogS)}`,
          'all in after': s(f.allInS),
          'outcome known p50 / p99': `${s(f.knownS.p50)} / ${s(f.knownS.p99)}`,
          'warm-up (no fault)': `${figure(warm.throughput)} creates/s at c=${WARM_CLIENTS}`,
          'load average': load.map((l) => l.toFixed(2)).join(' '),
        };
        if (f.gaveUp > 0) extra['gave up'] = f.gaveUp;
        if (f.idMismatch > 0) extra['answers naming another id than the store'] = f.idMismatch;
        if (f.apiTotal !== f.storedTotal) extra['API count / store'] = `${String(f.apiTotal)} / ${f.storedTotal}`;
        const row = ctx.record({
          scenario: 'S6',
          case: `${int(n)} creates in ${seconds} s, ${variant.label}`,
          concurrency: IN_FLIGHT,
          requests: f.posts,
          errors,
          ...(errors > 0 && { errorsByStatus }),
          seconds: f.allInS,
          throughput: f.storedTotal / f.allInS,
          unit: 'creates/s applied',
          ...f.answerMs,
          targets: targetsOf(f),
          extra,
          ...(b.surprises.length > 0 && { note: `first unexpected answers: ${b.surprises.slice(0, 3).join(' | ')}` }),
        });
        rows.push(row);
        summary.push({ label: variant.label, values: summaryOf(f, b, load) });
        timelines.push({
          title: `S6 timeline, ${variant.label} (seconds from the burst's start; answers to creates as they arrived, "applied" from the store's created_at)`,
          headers: ['s', 'first sent', '201', '202', '429', '503', 'other', 'applied', 'fault'],
          rows: timeline(b, users),
        });
        if (b.surprises.length > 0) ctx.note(`${variant.label}: unexpected answers (first ${b.surprises.length}): ${b.surprises.join(' | ')}`);
        ctx.note(`${variant.label}: the refusals, the first of each kind: ${Object.values(b.refusals).join(' | ') || 'none'}`);
        const by = Object.entries(f.byStatus)
          .sort(([x], [y]) => x.localeCompare(y))
          .map(([k, v]) => `${k}: ${int(v)}`)
          .join(', ');
        ctx.note(
          `${variant.label}: kill -9 at ${s((b.killIssued - b.t0) / 1000)} (done in ${figure(b.killed - b.killIssued)} ms), restart at ${s((b.restartIssued - b.t0) / 1000)}, ` +
            `worker ready ${s((b.workerReady - b.restartIssued) / 1000)} after it; answers ${by}; load average ${load.map((l) => l.toFixed(2)).join(' ')} at the start.`,
        );
      }
    } finally {
      if (summary.length > 0) {
        ctx.table({
          title: 'S6 fault figures',
          headers: ['figure', ...summary.map((x) => x.label)],
          rows: summary[0]!.values.map(([what], i) => [what, ...summary.map((x) => x.values[i]![1])]),
        });
      }
      for (const t of timelines) ctx.table(t);
      ctx.step('stopping the S6 instance');
      await instance.stop();
    }
    return rows;
  },
};
