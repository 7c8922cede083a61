import { describe, expect, it } from 'vitest';
import type { Logger } from '../log.js';
import type { ChildExit } from './child.js';
import { Backoff, DEFAULT_RESTART_POLICY, restartDelay, supervise, type RestartPolicy, type SupervisedProcess } from './supervisor.js';

describe('restart policy', () => {
  it('doubles from 0.5 s to a 30 s cap', () => {
    const delays = Array.from({ length: 10 }, (_, i) => restartDelay(DEFAULT_RESTART_POLICY, i));
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000]);
  });

  it('keeps growing while the child keeps dying young, and starts over once it stayed up long enough', () => {
    const b = new Backoff(DEFAULT_RESTART_POLICY);
    expect([b.next(100), b.next(2000), b.next(0), b.next(59_999)]).toEqual([500, 1000, 2000, 4000]);
    expect(b.next(60_000)).toBe(500); // a minute up: healthy, so this crash is a first one
    expect(b.next(10)).toBe(1000);
  });

  it('never gives up: after any number of failures the delay is the cap, not a refusal', () => {
    const b = new Backoff(DEFAULT_RESTART_POLICY);
    let last = 0;
    for (let i = 0; i < 1000; i++) last = b.next(0);
    expect(last).toBe(30_000);
    expect(b.consecutiveFailures).toBe(1000);
  });
});

/** A stand-in for a process: it "exits" when the test says so. */
class FakeProcess implements SupervisedProcess {
  static next = 1000;
  readonly pid = FakeProcess.next++;
  stopped = false;
  #exit!: (e: ChildExit) => void;
  readonly exit = new Promise<ChildExit>((r) => (this.#exit = r));
  crash(signal: NodeJS.Signals = 'SIGKILL') {
    this.#exit({ code: null, signal });
  }
  stop() {
    this.stopped = true;
    this.#exit({ code: 0, signal: null });
    return this.exit.then(() => undefined);
  }
}

function recordingLogger() {
  const lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  const at = (level: string) => (msg: string, fields: Record<string, unknown> = {}) => void lines.push({ level, msg, fields });
  const log: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { log, lines };
}

const FAST: RestartPolicy = { initialDelayMs: 5, maxDelayMs: 40, factor: 2, stableAfterMs: 1000 };

async function until<T>(check: () => T | undefined, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('supervise', () => {
  it('restarts a child that dies, logging its pid, signal and the delay, with the backoff growing', async () => {
    const procs: FakeProcess[] = [];
    const { log, lines } = recordingLogger();
    const s = supervise({ name: 'worker', log, policy: FAST, start: () => Promise.resolve(procs[procs.push(new FakeProcess()) - 1]!) });
    await s.start();
    for (let i = 1; i <= 4; i++) {
      procs[i - 1]!.crash();
      await until(() => (procs.length > i && s.current === procs[i] ? true : undefined), `start ${i + 1}`);
    }
    const exits = lines.filter((l) => l.msg === 'child exited');
    expect(exits.map((l) => l.fields.restartInMs)).toEqual([5, 10, 20, 40]);
    expect(exits[0]!.fields).toMatchObject({ child: 'worker', pid: procs[0]!.pid, code: null, signal: 'SIGKILL' });
    const starts = lines.filter((l) => l.msg === 'child started');
    expect(starts.map((l) => l.fields.pid)).toEqual(procs.map((p) => p.pid));
    expect(starts.map((l) => l.fields.restarts)).toEqual([0, 1, 2, 3, 4]);
    expect(s.restarts).toBe(4);
    await s.stop();
    expect(procs.at(-1)!.stopped).toBe(true);
  });

  it('starts the backoff over after the child stayed up for stableAfterMs', async () => {
    let clock = 0;
    const procs: FakeProcess[] = [];
    const { log, lines } = recordingLogger();
    const s = supervise({ name: 'api', log, policy: FAST, now: () => clock, start: () => Promise.resolve(procs[procs.push(new FakeProcess()) - 1]!) });
    await s.start();
    procs[0]!.crash();
    await until(() => (procs.length === 2 && s.current ? true : undefined), 'the second start');
    procs[1]!.crash();
    await until(() => (procs.length === 3 && s.current ? true : undefined), 'the third start');
    clock += FAST.stableAfterMs; // the third one stays up long enough
    procs[2]!.crash();
    await until(() => (procs.length === 4 && s.current ? true : undefined), 'the fourth start');
    expect(lines.filter((l) => l.msg === 'child exited').map((l) => l.fields.restartInMs)).toEqual([5, 10, 5]);
    await s.stop();
  });

  it('retries a start that fails, with backoff, until it succeeds', async () => {
    const procs: FakeProcess[] = [];
    let failuresLeft = 0;
    const { log, lines } = recordingLogger();
    const s = supervise({
      name: 'temporal',
      log,
      policy: FAST,
      start: () => {
        if (failuresLeft > 0) {
          failuresLeft -= 1;
          return Promise.reject(new Error('the Temporal dev server exited during start-up (is the port in use?)'));
        }
        return Promise.resolve(procs[procs.push(new FakeProcess()) - 1]!);
      },
    });
    await s.start();
    failuresLeft = 5;
    procs[0]!.crash();
    await until(() => (procs.length === 2 && s.current === procs[1] ? true : undefined), 'the start after five failures');
    const failed = lines.filter((l) => l.msg === 'child failed to start');
    expect(failed).toHaveLength(5);
    expect(failed[0]!.fields.error).toMatch(/port in use/);
    // exit -> 5 ms, then each failed start doubles, capped at 40 ms
    expect([lines.find((l) => l.msg === 'child exited')!.fields.restartInMs, ...failed.map((l) => l.fields.restartInMs)]).toEqual([5, 10, 20, 40, 40, 40]);
    await s.stop();
  });

  it('does not restart a child that exits while the supervisor stops, nor one whose restart was pending', async () => {
    const procs: FakeProcess[] = [];
    const { log, lines } = recordingLogger();
    const slow: RestartPolicy = { ...FAST, initialDelayMs: 200 };
    const s = supervise({ name: 'worker', log, policy: slow, start: () => Promise.resolve(procs[procs.push(new FakeProcess()) - 1]!) });
    await s.start();
    procs[0]!.crash(); // a restart is now 200 ms away
    await until(() => (lines.some((l) => l.msg === 'child exited') ? true : undefined), 'the exit');
    await s.stop();
    await new Promise((r) => setTimeout(r, 400));
    expect(procs).toHaveLength(1);

    const again: FakeProcess[] = [];
    const t = supervise({ name: 'api', log, policy: FAST, start: () => Promise.resolve(again[again.push(new FakeProcess()) - 1]!) });
    await t.start();
    await t.stop(); // the child exits because it is stopped: not a crash
    await new Promise((r) => setTimeout(r, 100));
    expect(again).toHaveLength(1);
    expect(again[0]!.stopped).toBe(true);
  });

  it('aborts a start in progress when it stops, and the first start failing is the caller\'s error', async () => {
    const { log } = recordingLogger();
    let aborted = false;
    const s = supervise({
      name: 'worker',
      log,
      policy: FAST,
      start: (signal) =>
        new Promise<SupervisedProcess>((_, reject) => {
          signal.addEventListener('abort', () => {
            aborted = true;
            reject(new Error('cancelled'));
          });
        }),
    });
    const first = s.start();
    await s.stop();
    expect(aborted).toBe(true);
    await expect(first).rejects.toThrow('cancelled');
  });
});
