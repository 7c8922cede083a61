/**
 * The bench's one load generator, for the scenarios and for their ceilings alike, so a ratio compares two figures
 * measured the same way: `concurrency` clients, each sending its next operation as soon as the last one answered
 * (closed loop), for a fixed duration (or a fixed number of operations), latencies of the successful ones to
 * percentiles, failures counted by what they were (an HTTP status, a network error code, "wrong answer").
 *
 * HTTP goes through node:http with a keep-alive agent of `concurrency` sockets (HttpClient): a connection per client,
 * opened once, as a SCIM client or a load balancer keeps them. Not fetch: on Node 20 it costs the load generator
 * about three times the CPU per request (seen against hello-world at c=16: ~290 µs a request against ~95 µs), and on
 * two cores the generator's CPU is taken from the server being measured.
 */
import http from 'node:http';
import { pcts } from './stats.js';

/** What one operation came to: ok, or what went wrong (`"503"`, `"ECONNRESET"`, `"wrong answer"`). */
export interface Outcome {
  ok: boolean;
  status: string;
}

export interface LoadOptions {
  concurrency: number;
  /** Run for this long (the measured part)... */
  seconds?: number;
  /** ...or this many operations in all. */
  total?: number;
  /** Unmeasured operations for this long first (connections opened, code paths warm). */
  warmupSeconds?: number;
  /** One operation; `i` counts from 0 over the warm-up and the measured part, so it can name unique resources. */
  op: (i: number) => Promise<Outcome>;
}

export interface LoadResult {
  concurrency: number;
  /** Operations measured, ok or not. */
  requests: number;
  ok: number;
  errors: number;
  /** Failures by status (HTTP status, error code, or what the check found). */
  errorsByStatus: Record<string, number>;
  /** The first failure's detail, to say what broke. */
  firstError?: string | undefined;
  seconds: number;
  /** The operation number (`i`) of the first measured operation: those below it were the warm-up. */
  firstMeasured: number;
  /** Wall clock (epoch ms) when the measured part began. */
  startedAt: number;
  /** Successful operations per second. */
  throughput: number;
  /** Percentiles (ms) of the successful operations. */
  p50: number;
  p95: number;
  p99: number;
  /** Ascending latencies (ms) of the successful operations. */
  latencies: number[];
}

/** An operation that threw: its error code (ECONNRESET, ETIMEDOUT) or status (a ScimError's 429) if it has one. */
function thrownStatus(err: unknown): { status: string; detail: string } {
  const code = (err as { code?: unknown; status?: unknown }).code ?? (err as { status?: unknown }).status;
  const detail = err instanceof Error ? err.message : String(err);
  return { status: typeof code === 'string' ? code : typeof code === 'number' ? String(code) : 'exception', detail };
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  if (opts.seconds === undefined && opts.total === undefined) throw new Error('runLoad: a duration or a total');
  let next = 0;
  const phase = async (until: number | undefined, total: number | undefined, measure: boolean) => {
    const latencies: number[] = [];
    const errorsByStatus: Record<string, number> = {};
    let errors = 0;
    let firstError: string | undefined;
    let issued = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: opts.concurrency }, async () => {
        for (;;) {
          if (until !== undefined && performance.now() >= until) return;
          if (total !== undefined && issued >= total) return;
          issued += 1;
          const i = next++;
          const t0 = performance.now();
          let outcome: Outcome;
          try {
            outcome = await opts.op(i);
          } catch (err) {
            const t = thrownStatus(err);
            outcome = { ok: false, status: t.status };
            firstError ??= t.detail;
          }
          if (!measure) continue;
          if (outcome.ok) latencies.push(performance.now() - t0);
          else {
            errors += 1;
            errorsByStatus[outcome.status] = (errorsByStatus[outcome.status] ?? 0) + 1;
            firstError ??= outcome.status;
          }
        }
      }),
    );
    return { latencies, errorsByStatus, errors, firstError, seconds: (performance.now() - started) / 1000 };
  };
  if (opts.warmupSeconds) await phase(performance.now() + opts.warmupSeconds * 1000, undefined, false);
  const firstMeasured = next;
  const startedAt = Date.now();
  const until = opts.seconds === undefined ? undefined : performance.now() + opts.seconds * 1000;
  const r = await phase(until, opts.total, true);
  r.latencies.sort((a, b) => a - b);
  return {
    concurrency: opts.concurrency,
    requests: r.latencies.length + r.errors,
    ok: r.latencies.length,
    errors: r.errors,
    errorsByStatus: r.errorsByStatus,
    firstError: r.firstError,
    seconds: r.seconds,
    firstMeasured,
    startedAt,
    throughput: r.latencies.length / r.seconds,
    ...pcts(r.latencies),
    latencies: r.latencies,
  };
}

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * Keep-alive HTTP/1.1 to one origin, at most `sockets` connections (one per concurrent client). A broken connection
 * rejects with an error whose `reused` says whether it came from the pool (bench/s6-burst.ts repeats those).
 */
export class HttpClient {
  private readonly agent: http.Agent;
  private readonly origin: URL;

  constructor(
    baseUrl: string,
    sockets: number,
    private readonly defaultHeaders: Record<string, string> = {},
  ) {
    this.origin = new URL(baseUrl);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
  }

  request(method: string, path: string, opts: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<HttpAnswer> {
    const payload = opts.body === undefined ? undefined : Buffer.from(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body));
    return new Promise<HttpAnswer>((resolve, reject) => {
      const req = http.request(
        {
          host: this.origin.hostname,
          port: this.origin.port,
          method,
          path,
          agent: this.agent,
          headers: {
            ...this.defaultHeaders,
            ...(payload && { 'Content-Type': 'application/scim+json', 'Content-Length': String(payload.length) }),
            ...opts.headers,
          },
          timeout: opts.timeoutMs ?? 120_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error(`${method} ${path}: no answer in time`), { code: 'ETIMEDOUT' })));
      // `reused`: the connection came from the keep-alive pool. The server may close an idle one just as a request
      // goes out on it (its keepAliveTimeout); Node's documentation says to repeat such a request at once.
      req.on('error', (err) => reject(Object.assign(err, { reused: req.reusedSocket })));
      req.end(payload);
    });
  }

  /** The answer's JSON body (throws on a body that is not JSON). */
  static json<T>(answer: HttpAnswer): T {
    return JSON.parse(answer.body.toString('utf8')) as T;
  }

  close(): void {
    this.agent.destroy();
  }
}
