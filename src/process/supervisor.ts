/**
 * Keeps one child process running: when it exits (crash, `kill -9`, out of memory) it is started again after
 * an exponential backoff, for as long as the supervisor runs. It never gives up on its own: a server that
 * stopped trying would need an operator for what is usually a passing fault (a port still held, a dependency
 * restarting), and the growing delay already keeps a child that cannot start from spinning.
 *
 * Every start, exit and failed start is one JSON log line naming the child, its pid, how it ended and the
 * delay before the next start, so an operator (and the end-to-end tests) can follow what happened.
 */
import type { Logger } from '../log.js';
import type { ChildExit } from './child.js';

/** What the supervisor needs of a running child. */
export interface SupervisedProcess {
  readonly pid: number | undefined;
  /** Settles once, when the process has ended. */
  readonly exit: Promise<ChildExit>;
  /** Stops the process (politely, then not); resolves once it has ended. */
  stop(): Promise<void>;
}

export interface RestartPolicy {
  /** Delay before the first restart after a crash. */
  initialDelayMs: number;
  /** The delay doubles (times `factor`) with every consecutive failure, up to this. */
  maxDelayMs: number;
  factor: number;
  /** A child that stayed up this long was healthy: its next crash starts the backoff from the beginning. */
  stableAfterMs: number;
}

/**
 * 0.5 s doubling to 30 s: a crash is repaired at once, a child that cannot start is retried about twice a
 * minute. One minute up counts as healthy (a worker bundles its workflows and connects within seconds).
 */
export const DEFAULT_RESTART_POLICY: RestartPolicy = { initialDelayMs: 500, maxDelayMs: 30_000, factor: 2, stableAfterMs: 60_000 };

/** The delay before the restart that follows `consecutiveFailures` failures in a row (0 = the first). */
export function restartDelay(policy: RestartPolicy, consecutiveFailures: number): number {
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** Math.max(0, consecutiveFailures));
}

/**
 * The restart policy as state: how many failures in a row so far, reset once a child stayed up for
 * `stableAfterMs`. Pure (no timers, no processes), so the policy is tested on its own.
 */
export class Backoff {
  #failures = 0;
  constructor(readonly policy: RestartPolicy = DEFAULT_RESTART_POLICY) {}

  /** The child ran `uptimeMs` and exited (or failed to start: uptime 0). Returns the delay before the next start. */
  next(uptimeMs: number): number {
    if (uptimeMs >= this.policy.stableAfterMs) this.#failures = 0;
    const delay = restartDelay(this.policy, this.#failures);
    this.#failures += 1;
    return delay;
  }

  get consecutiveFailures(): number {
    return this.#failures;
  }
}

export interface SuperviseOptions {
  /** Shown in every log line (`child` field). */
  name: string;
  /**
   * Starts the child and resolves once it is ready; rejects if it cannot start (then retried with backoff).
   * `signal` aborts when the supervisor stops: the start should then end the child it is starting and reject.
   */
  start: (signal: AbortSignal) => Promise<SupervisedProcess>;
  log: Logger;
  policy?: RestartPolicy;
  /** Clock, for tests of the uptime rule. */
  now?: () => number;
}

export interface Supervisor {
  readonly name: string;
  /** The running process, if one is up right now. */
  readonly current: SupervisedProcess | undefined;
  /** How many times the child was started after the first time. */
  readonly restarts: number;
  /**
   * The first start. A failure here is returned, not retried: a child that cannot start at all is a start-up
   * error the operator must see (a port in use, a bad setting), not something to retry quietly.
   */
  start(): Promise<void>;
  /** Stops supervising: no restart is scheduled any more, the running child is stopped. */
  stop(): Promise<void>;
}

export function supervise(opts: SuperviseOptions): Supervisor {
  const { name, log } = opts;
  const now = opts.now ?? Date.now;
  const backoff = new Backoff(opts.policy);
  let current: SupervisedProcess | undefined;
  let starting: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopping = false;
  let restarts = 0;
  const abort = new AbortController();

  const schedule = (delayMs: number) => {
    timer = setTimeout(() => {
      timer = undefined;
      restarts += 1;
      starting = launch().catch((err: unknown) => {
        if (stopping) return;
        const delay = backoff.next(0);
        log.error('child failed to start', { child: name, error: err instanceof Error ? err.message : String(err), restartInMs: delay, restarts });
        schedule(delay);
      });
    }, delayMs);
  };

  const watch = (proc: SupervisedProcess, startedAt: number) => {
    void proc.exit.then(({ code, signal }) => {
      if (current === proc) current = undefined;
      if (stopping) return;
      const uptimeMs = now() - startedAt;
      const delay = backoff.next(uptimeMs);
      log.error('child exited', { child: name, pid: proc.pid, code, signal, uptimeMs, restartInMs: delay, restarts });
      schedule(delay);
    });
  };

  const launch = async () => {
    const proc = await opts.start(abort.signal);
    if (stopping) {
      await proc.stop();
      return;
    }
    current = proc;
    log.info('child started', { child: name, pid: proc.pid, restarts });
    watch(proc, now());
  };

  return {
    name,
    get current() {
      return current;
    },
    get restarts() {
      return restarts;
    },
    start() {
      starting = launch();
      return starting;
    },
    async stop() {
      stopping = true;
      abort.abort();
      if (timer) clearTimeout(timer);
      timer = undefined;
      await starting?.catch(() => undefined);
      await current?.stop();
    },
  };
}
