/**
 * Backpressure on writes: a bound on the writes one api process has in flight, a short bounded wait for a place,
 * and beyond it a refusal with a Retry-After the client can trust (src/http/write-admission.ts answers it as 429 in
 * each protocol's error body). Reads never come here.
 *
 * Why a bound on concurrency, not a request rate: what saturates is the engine (every write is a workflow) and the
 * database behind it, and what they can take depends on the write (a blocking target holds its write for seconds, a
 * bare create for milliseconds). A bound on writes in flight adapts to that by itself (Little's law: at a fixed
 * bound, the faster writes finish, the more are admitted), where a rate would have to be tuned to the slowest case.
 * Keycloak sheds load the same way (`http-max-queued-requests`: a bounded queue, then an immediate refusal); Okta
 * and Entra, as clients, wait as long as Retry-After says.
 *
 * Why the bound does not adapt to latency (Netflix concurrency-limits' Gradient2 or Vegas, Envoy's adaptive
 * concurrency filter all shrink the bound when latency rises): here latency is mostly someone else's. A write with a
 * blocking target lasts as long as that SaaS takes (up to BLOCKING_TIMEOUT_MS), so a latency gradient would read one
 * slow target as the server's overload and throttle every client. The bound shrinks only on signals that say so
 * unambiguously (AIMD): the engine refusing a start (RESOURCE_EXHAUSTED) or not confirming it in time, the database
 * pool running dry. It halves (at most once a second) and grows back by one per write that finishes, so it is back
 * at its ceiling within a few dozen writes once the signals stop.
 *
 * A write keeps its place until its workflow has finished, also when its client was answered 202 before
 * (`holdUntil`, bounded by the request's own deadline): the bound is then also a bound on what this api has queued
 * in the engine, so a stopped or killed worker fills it and later writes are refused at once, instead of piling up
 * workflows that all run when the worker is back.
 *
 * While the bound is full or writes are being refused (an overload episode), a write that has waited ENGINE_TIMEOUT_MS
 * is told to stop waiting (`cut`): its client gets 202 Accepted with where to read the outcome instead of hanging
 * until REQUEST_TIMEOUT_MS (a stopped worker, a target that holds every request), and its place stays taken. Below
 * the bound nobody is cut: a write with a blocking target gets the target's answer, as the link asks. One log line
 * when an episode begins, one when it ends: never one per request.
 */
import type { Logger } from '../log.js';

/** What said the server is saturated. */
export type OverloadSource = 'admission' | 'engine' | 'database';

/** A write refused for lack of a place: nothing of it was attempted. */
export class Overloaded extends Error {
  override name = 'Overloaded';
  readonly code = 'ERR_OVERLOADED';
  constructor(
    /** Seconds the client should wait before repeating the request. */
    readonly retryAfterSeconds: number,
    message: string,
  ) {
    super(message);
  }
}

/** The wait for a place ended because the client went away. */
export class AdmissionAborted extends Error {
  override name = 'AdmissionAborted';
  readonly code = 'ERR_ADMISSION_ABORTED';
}

export interface AdmissionOptions {
  /** The bound: the weight of writes in flight at once (WRITE_CONCURRENCY). */
  limit: number;
  /** The longest a write waits for a place (WRITE_QUEUE_TIMEOUT_MS). */
  queueTimeoutMs: number;
  /** While the bound is full or writes are refused, how long a write waits for the engine before its client is answered 202 (ENGINE_TIMEOUT_MS). */
  engineTimeoutMs: number;
  log?: Logger | undefined;
  /** Spreads the Retry-After of clients refused together (tests pass a constant). */
  random?: () => number;
}

/** What a client is asked to wait at most: past it, a sync job's own schedule is the better clock. */
export const MAX_RETRY_AFTER_SECONDS = 30;

/** How long after the last refusal an overload episode is over (plus the queue timeout: the last waiters' fate). */
const EPISODE_QUIET_MS = 2000;
/** The bound shrinks at most this often: one burst of refusals is one signal, not thirty. */
const DECREASE_INTERVAL_MS = 1000;
/** How often, while writes are in flight, those that waited ENGINE_TIMEOUT_MS are cut loose if the api is saturated, and an episode's end is looked for. */
const SWEEP_MS = 250;
/** Weight of the newest sample in the mean time a write holds its place. */
const EWMA_ALPHA = 0.2;

interface Waiter {
  weight: number;
  cut: boolean;
  resolve(permit: AdmissionPermit): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout | undefined;
  onAbort: (() => void) | undefined;
  signal: AbortSignal | undefined;
}

interface Episode {
  since: number;
  lastAt: number;
  refused: Record<OverloadSource, number>;
  peakQueued: number;
}

/** A write's place in the bound. */
export class AdmissionPermit {
  readonly acquiredAt = Date.now();
  #holds = 0;
  #ended = false;
  #released = false;
  #overloaded = false;
  #cutDone = false;
  #resolveCut!: () => void;
  /** Settles when the write should stop waiting for the engine (the bound is full or refusing, and it waited ENGINE_TIMEOUT_MS); never for a Bulk request. */
  readonly cut: Promise<void>;

  constructor(
    private readonly limiter: AdmissionLimiter,
    readonly weight: number,
    readonly cuttable: boolean,
  ) {
    this.cut = new Promise<void>((resolve) => (this.#resolveCut = resolve));
  }

  /** Keeps this place until `work` settles (a workflow still running after its client was answered). */
  holdUntil(work: Promise<unknown>): void {
    if (this.#released) return;
    this.#holds += 1;
    const done = () => {
      this.#holds -= 1;
      this.#maybeRelease();
    };
    work.then(done, done);
  }

  /** The engine or the database said it is saturated while this write ran. */
  overloaded(source: Exclude<OverloadSource, 'admission'>, detail: string): void {
    this.#overloaded = true;
    this.limiter.noteOverload(source, detail);
  }

  /** Seconds to ask this write's client to wait before repeating it. */
  retryAfterSeconds(): number {
    return this.limiter.retryAfterSeconds(this.weight);
  }

  /** The answer went out, or the client went away: the place is free once nothing holds it any more. */
  end(): void {
    this.#ended = true;
    this.#maybeRelease();
  }

  /** @internal the limiter's sweep */
  cutIfWaitedSince(before: number): void {
    if (!this.cuttable || this.#cutDone || this.acquiredAt > before) return;
    this.#cutDone = true;
    this.#resolveCut();
  }

  #maybeRelease(): void {
    if (this.#released || !this.#ended || this.#holds > 0) return;
    this.#released = true;
    this.limiter.release(this, !this.#overloaded);
  }
}

export class AdmissionLimiter {
  readonly max: number;
  readonly #opts: AdmissionOptions;
  readonly #random: () => number;
  /** The bound now: `max`, less after saturation signals (AIMD). */
  #limit: number;
  #inFlight = 0;
  #queued = 0;
  readonly #queue: Waiter[] = [];
  readonly #held = new Set<AdmissionPermit>();
  /** Mean time a write held its place (ms), once one has finished. */
  #holdMs: number | undefined;
  #lastDecreaseAt = Number.NEGATIVE_INFINITY;
  #episode: Episode | undefined;
  #sweep: NodeJS.Timeout | undefined;

  constructor(opts: AdmissionOptions) {
    if (!Number.isInteger(opts.limit) || opts.limit < 1) throw new RangeError('the admission limit must be a positive integer');
    this.#opts = opts;
    this.#random = opts.random ?? Math.random;
    this.max = opts.limit;
    this.#limit = opts.limit;
  }

  /** Whether writes are being refused (an overload episode is on). */
  get saturated(): boolean {
    return this.#episode !== undefined;
  }

  snapshot(): { limit: number; max: number; inFlight: number; queued: number; saturated: boolean } {
    return { limit: Math.floor(this.#limit), max: this.max, inFlight: this.#inFlight, queued: this.#queued, saturated: this.saturated };
  }

  /**
   * A place for a write of `weight` (1; a Bulk request its operations, capped by the caller): at once when the bound
   * has room, after a wait of at most `queueTimeoutMs` otherwise; rejects with Overloaded when the queue is full, when
   * the wait would outlast `queueTimeoutMs`, or when it did; with AdmissionAborted when `signal` fires first.
   * `cut: false` for writes that must wait for each of their workflows (a Bulk request: later operations need the
   * ids of earlier ones).
   */
  acquire(weight: number, opts: { signal?: AbortSignal | undefined; cut?: boolean } = {}): Promise<AdmissionPermit> {
    const w = Math.max(1, Math.min(Math.ceil(weight), this.max));
    const cut = opts.cut ?? true;
    if (opts.signal?.aborted) return Promise.reject(new AdmissionAborted('the client went away'));
    if (this.#queue.length === 0 && this.#fits(w)) return Promise.resolve(this.#admit(w, cut));
    // The queue is as deep as the bound: a flood waits in it no more than the bound's worth.
    if (this.#queued + w > this.max) return Promise.reject(this.#refuse(w, 'the queue for a place is full'));
    const drainMs = this.#drainMs(w);
    if (drainMs !== undefined && drainMs > this.#opts.queueTimeoutMs) return Promise.reject(this.#refuse(w, 'a place would not free up in time'));
    if (this.#opts.queueTimeoutMs === 0) return Promise.reject(this.#refuse(w, 'no place free'));
    return new Promise<AdmissionPermit>((resolve, reject) => {
      const waiter: Waiter = { weight: w, cut, resolve, reject, timer: undefined, onAbort: undefined, signal: opts.signal };
      waiter.timer = setTimeout(() => {
        this.#dequeue(waiter);
        reject(this.#refuse(w, 'no place freed up in time'));
      }, this.#opts.queueTimeoutMs);
      if (opts.signal) {
        waiter.onAbort = () => {
          this.#dequeue(waiter);
          reject(new AdmissionAborted('the client went away'));
        };
        opts.signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#queue.push(waiter);
      this.#queued += w;
      if (this.#episode) this.#episode.peakQueued = Math.max(this.#episode.peakQueued, this.#queued);
    });
  }

  /**
   * The engine or the database said it is saturated (RESOURCE_EXHAUSTED, a start not confirmed in time, no pooled
   * connection): the bound halves, at most once a second, and the overload episode begins (or goes on).
   */
  noteOverload(source: OverloadSource, detail: string): void {
    this.#mark(source, detail);
    if (source === 'admission') return;
    const now = Date.now();
    if (now - this.#lastDecreaseAt < DECREASE_INTERVAL_MS) return;
    this.#lastDecreaseAt = now;
    this.#limit = Math.max(1, this.#limit / 2);
  }

  /**
   * Seconds until a write of `weight` refused now would find a place: the writes ahead of it (in flight beyond the
   * bound, and queued) times the mean time a write holds its place, over the bound; at least as long as the writes in
   * flight have already waited on average (a stalled engine finishes none, so past means say nothing). Spread by up
   * to half, so clients refused together do not all come back in the same second; 1 to MAX_RETRY_AFTER_SECONDS.
   */
  retryAfterSeconds(weight = 1): number {
    const drainMs = this.#drainMs(weight) ?? 1000;
    const spread = 1 + this.#random() * 0.5;
    return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, Math.ceil((drainMs * spread) / 1000)));
  }

  /** @internal AdmissionPermit, once its answer went out and nothing holds it. */
  release(permit: AdmissionPermit, ok: boolean): void {
    if (!this.#held.delete(permit)) return;
    this.#inFlight -= permit.weight;
    const heldMs = Date.now() - permit.acquiredAt;
    this.#holdMs = this.#holdMs === undefined ? heldMs : this.#holdMs + EWMA_ALPHA * (heldMs - this.#holdMs);
    if (ok) this.#limit = Math.min(this.max, this.#limit + 1);
    this.#drain();
  }

  /** Stops the background sweep (the process is stopping). */
  close(): void {
    if (this.#sweep) clearInterval(this.#sweep);
    this.#sweep = undefined;
  }

  #fits(weight: number): boolean {
    // Nothing in flight: admit whatever the weight, or a write heavier than a shrunken bound would never run.
    return this.#inFlight === 0 || this.#inFlight + weight <= Math.floor(this.#limit);
  }

  #admit(weight: number, cut: boolean): AdmissionPermit {
    const permit = new AdmissionPermit(this, weight, cut);
    this.#inFlight += weight;
    this.#held.add(permit);
    this.#startSweep();
    return permit;
  }

  #startSweep(): void {
    if (this.#sweep) return;
    this.#sweep = setInterval(() => this.#sweepNow(), Math.min(SWEEP_MS, Math.max(1, this.#opts.engineTimeoutMs)));
    this.#sweep.unref();
  }

  #dequeue(waiter: Waiter): void {
    const i = this.#queue.indexOf(waiter);
    if (i === -1) return;
    this.#queue.splice(i, 1);
    this.#queued -= waiter.weight;
    this.#settled(waiter);
    // A heavy waiter at the head that gave up may have been all that kept lighter ones behind it waiting.
    this.#drain();
  }

  #settled(waiter: Waiter): void {
    clearTimeout(waiter.timer);
    if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
  }

  /** Admits queued writes in arrival order while the bound has room (no overtaking: a heavy write is not starved). */
  #drain(): void {
    while (this.#queue.length > 0 && this.#fits(this.#queue[0]!.weight)) {
      const waiter = this.#queue.shift()!;
      this.#queued -= waiter.weight;
      this.#settled(waiter);
      waiter.resolve(this.#admit(waiter.weight, waiter.cut));
    }
  }

  /** How long until a write of `weight` arriving now would be admitted; undefined before any write finished. */
  #drainMs(weight: number): number | undefined {
    const now = Date.now();
    let ageSum = 0;
    for (const p of this.#held) ageSum += now - p.acquiredAt;
    const meanAge = this.#held.size > 0 ? ageSum / this.#held.size : 0;
    const holdMs = Math.max(this.#holdMs ?? 0, meanAge);
    if (holdMs === 0) return undefined;
    const ahead = Math.max(1, this.#inFlight + this.#queued + weight - Math.floor(this.#limit));
    return (ahead * holdMs) / Math.max(1, Math.floor(this.#limit));
  }

  #refuse(weight: number, why: string): Overloaded {
    this.#mark('admission', why);
    const seconds = this.retryAfterSeconds(weight);
    return new Overloaded(seconds, `The server is saturated with writes (${why}): nothing was applied; retry in ${seconds} s`);
  }

  /** Counts a refusal in the current episode, starting one (and its one log line) if none is on. */
  #mark(source: OverloadSource, detail: string): void {
    const now = Date.now();
    if (!this.#episode) {
      this.#episode = { since: now, lastAt: now, refused: { admission: 0, engine: 0, database: 0 }, peakQueued: this.#queued };
      this.#opts.log?.warn('overloaded: writes are refused with 429 + Retry-After until it eases', {
        source,
        detail,
        limit: Math.floor(this.#limit),
        inFlight: this.#inFlight,
        queued: this.#queued,
      });
      this.#startSweep();
      this.#cutLongWaits(now);
    }
    this.#episode.lastAt = now;
    this.#episode.refused[source] += 1;
  }

  #cutLongWaits(now: number): void {
    const before = now - this.#opts.engineTimeoutMs;
    for (const p of this.#held) p.cutIfWaitedSince(before);
  }

  #sweepNow(): void {
    const now = Date.now();
    const episode = this.#episode;
    if (episode && this.#queue.length === 0 && now - episode.lastAt >= EPISODE_QUIET_MS + this.#opts.queueTimeoutMs) {
      this.#episode = undefined;
      this.#opts.log?.info('no longer overloaded', {
        seconds: Math.round((now - episode.since) / 100) / 10,
        refused: episode.refused,
        peakQueued: episode.peakQueued,
        limit: Math.floor(this.#limit),
      });
    }
    // Saturated: refusing writes, or full (the next write would have to wait). A write that has waited the engine
    // timeout then is told to stop waiting; below the bound, everyone waits for their answer.
    if (this.#episode || this.#inFlight >= Math.floor(this.#limit)) this.#cutLongWaits(now);
    if (!this.#episode && this.#held.size === 0) this.close();
  }
}
