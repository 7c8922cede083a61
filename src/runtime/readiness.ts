/**
 * Readiness of the api process: can it apply a write right now? Computed in the background (every
 * `intervalMs`, each check with its own timeout) so that `/ready` and the write gate only read a field: no
 * request pays for a database or Temporal round trip.
 *
 * One failed round does not make the process unready; three in a row do (after a failure, rounds come every
 * `failingIntervalMs`). A slow answer or two on a loaded machine (a `SELECT 1` queued behind transactions on
 * the one-session embedded PGlite, a dev server busy on two cores) must not turn writes away, while an engine
 * that is really gone (connection refused: each round fails at once) is seen as such within about
 * `intervalMs + 2 × failingIntervalMs`, 3 s by default. One successful round makes the process ready again.
 */
import type { Logger } from '../log.js';

/** One dependency's check. `run` throws (or rejects) when the dependency is not usable. */
export interface ReadinessCheck {
  name: string;
  timeoutMs: number;
  run(signal: AbortSignal): Promise<void>;
}

/**
 * A failure whose message may be shown to anyone (`/ready` needs no credential). Other errors are shown as
 * "failed" and logged: a driver's message can carry a host name, a port or a user.
 */
export class CheckFailure extends Error {
  override name = 'CheckFailure';
  readonly code = 'ERR_CHECK_FAILED';
}

export interface CheckResult {
  ok: boolean;
  latencyMs: number;
  error?: string;
}

export interface ReadinessSnapshot {
  ready: boolean;
  /** When the last round ended (ISO 8601); undefined before the first. */
  checkedAt: string | undefined;
  checks: Record<string, CheckResult>;
}

/** What the HTTP side reads: cheap, synchronous. */
export interface Readiness {
  readonly ready: boolean;
  snapshot(): ReadinessSnapshot;
}

export interface ReadinessMonitorOptions {
  /** Between rounds while everything passes. */
  intervalMs?: number;
  /** Between rounds while something fails: recovery (and the second failure) are seen sooner. */
  failingIntervalMs?: number;
  /** Consecutive failed rounds that make the process unready. */
  failuresToTrip?: number;
  log?: Logger;
}

export class ReadinessMonitor implements Readiness {
  readonly #checks: ReadinessCheck[];
  readonly #intervalMs: number;
  readonly #failingIntervalMs: number;
  readonly #failuresToTrip: number;
  readonly #log: Logger | undefined;
  // A check still running from an earlier round (its timeout expired, the query did not) is not started again.
  readonly #pending = new Map<string, Promise<void>>();
  #ready = false;
  #failedRounds = 0;
  #snapshot: ReadinessSnapshot = { ready: false, checkedAt: undefined, checks: {} };
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> | undefined;
  #stopped = false;

  constructor(checks: ReadinessCheck[], opts: ReadinessMonitorOptions = {}) {
    this.#checks = checks;
    this.#intervalMs = opts.intervalMs ?? 2000;
    this.#failingIntervalMs = opts.failingIntervalMs ?? 500;
    this.#failuresToTrip = opts.failuresToTrip ?? 3;
    this.#log = opts.log;
  }

  get ready(): boolean {
    return this.#ready;
  }

  snapshot(): ReadinessSnapshot {
    return this.#snapshot;
  }

  /** Runs one round now (the api runs the first before it listens, so it never starts with a guess). */
  refresh(): Promise<void> {
    this.#round ??= this.#runRound().finally(() => (this.#round = undefined));
    return this.#round;
  }

  /** Rounds from now on, until stop(). */
  start(): void {
    this.#stopped = false;
    const loop = () => {
      if (this.#stopped) return;
      this.#timer = setTimeout(() => {
        void this.refresh().then(loop);
      }, this.#ready && this.#failedRounds === 0 ? this.#intervalMs : this.#failingIntervalMs);
      this.#timer.unref();
    };
    loop();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
  }

  async #runRound(): Promise<void> {
    const results = await Promise.all(this.#checks.map(async (c) => [c.name, await this.#runCheck(c)] as const));
    const checks = Object.fromEntries(results);
    const allOk = results.every(([, r]) => r.ok);
    const wasReady = this.#ready;
    this.#failedRounds = allOk ? 0 : this.#failedRounds + 1;
    if (allOk) this.#ready = true;
    else if (this.#failedRounds >= this.#failuresToTrip || this.#snapshot.checkedAt === undefined) this.#ready = false;
    this.#snapshot = { ready: this.#ready, checkedAt: new Date().toISOString(), checks };
    if (wasReady !== this.#ready) {
      const failing = results.filter(([, r]) => !r.ok).map(([name, r]) => `${name}: ${r.error ?? 'failed'}`);
      if (this.#ready) this.#log?.info('ready', { checks: Object.keys(checks) });
      else this.#log?.warn('not ready: writes are refused with 503 until it recovers', { failing });
    }
  }

  async #runCheck(check: ReadinessCheck): Promise<CheckResult> {
    const started = performance.now();
    const latency = () => Math.round(performance.now() - started);
    if (this.#pending.has(check.name)) return { ok: false, latencyMs: 0, error: `still waiting for an earlier check (over ${check.timeoutMs} ms)` };
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const run = Promise.resolve()
      .then(() => check.run(abort.signal))
      .finally(() => this.#pending.delete(check.name));
    this.#pending.set(check.name, run.catch(() => undefined));
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        reject(new CheckFailure(`timed out after ${check.timeoutMs} ms`));
      }, check.timeoutMs);
    });
    try {
      await Promise.race([run, timeout]);
      return { ok: true, latencyMs: latency() };
    } catch (err) {
      if (err instanceof CheckFailure) return { ok: false, latencyMs: latency(), error: err.message };
      // The driver's own message, for the operator's log only; once per outage of this check, not every round.
      if (this.#snapshot.checks[check.name]?.ok !== false) {
        this.#log?.warn('readiness check failed', { check: check.name, error: err instanceof Error ? err.message : String(err) });
      }
      return { ok: false, latencyMs: latency(), error: 'failed' };
    } finally {
      clearTimeout(timer);
      run.catch(() => undefined); // settles after the timeout: nothing waits for it any more
    }
  }
}
