import { describe, expect, it } from 'vitest';
import { livePollers, WORKER_POLL_STALE_MS } from './readiness-checks.js';
import { CheckFailure, ReadinessMonitor, type ReadinessCheck } from './readiness.js';

/** A check whose outcome the test sets: 'ok', a failure, or 'hang' (never settles). */
function check(name: string, timeoutMs = 100) {
  let outcome: 'ok' | 'hang' | Error = 'ok';
  let runs = 0;
  const c: ReadinessCheck & { set(o: typeof outcome): void; readonly runs: number } = {
    name,
    timeoutMs,
    run: () => {
      runs += 1;
      if (outcome === 'ok') return Promise.resolve();
      if (outcome === 'hang') return new Promise<void>(() => undefined);
      return Promise.reject(outcome);
    },
    set: (o) => (outcome = o),
    get runs() {
      return runs;
    },
  };
  return c;
}

describe('ReadinessMonitor', () => {
  it('is not ready before its first round, ready after a passing one', async () => {
    const m = new ReadinessMonitor([check('database'), check('temporal')]);
    expect(m.ready).toBe(false);
    expect(m.snapshot().checkedAt).toBeUndefined();
    await m.refresh();
    expect(m.ready).toBe(true);
    expect(m.snapshot().checks).toEqual({ database: { ok: true, latencyMs: expect.any(Number) }, temporal: { ok: true, latencyMs: expect.any(Number) } });
  });

  it('a first round that fails leaves it unready at once', async () => {
    const worker = check('worker');
    worker.set(new CheckFailure('no worker has polled the task queue in the last 90 s'));
    const m = new ReadinessMonitor([check('database'), worker]);
    await m.refresh();
    expect(m.ready).toBe(false);
    expect(m.snapshot().checks.worker).toEqual({ ok: false, latencyMs: expect.any(Number), error: 'no worker has polled the task queue in the last 90 s' });
  });

  it('turns unready on the third failed round in a row, and ready again on one good round', async () => {
    const temporal = check('temporal');
    const m = new ReadinessMonitor([check('database'), temporal]);
    await m.refresh();
    temporal.set(new CheckFailure('unreachable'));
    await m.refresh();
    await m.refresh();
    expect(m.ready).toBe(true); // one or two failures can be a hiccup on a loaded machine
    expect(m.snapshot().checks.temporal?.ok).toBe(false);
    temporal.set('ok');
    await m.refresh();
    temporal.set(new CheckFailure('unreachable'));
    await m.refresh();
    await m.refresh();
    expect(m.ready).toBe(true); // the count starts over after a good round
    await m.refresh();
    expect(m.ready).toBe(false);
    temporal.set('ok');
    await m.refresh();
    expect(m.ready).toBe(true);
  });

  it('bounds each check by its timeout, and does not pile up runs of a check that hangs', async () => {
    const database = check('database', 50);
    const m = new ReadinessMonitor([database], { failuresToTrip: 1 });
    database.set('hang');
    const t0 = Date.now();
    await m.refresh();
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(m.ready).toBe(false);
    expect(m.snapshot().checks.database?.error).toBe('timed out after 50 ms');
    await m.refresh();
    expect(database.runs).toBe(1); // the first run never ended: no second one
    expect(m.snapshot().checks.database?.error).toMatch(/still waiting/);
  });

  it('shows only its own failure messages: a driver error (it may name a host) becomes "failed"', async () => {
    const database = check('database');
    database.set(new Error('connect ECONNREFUSED 10.1.2.3:5432 user=provisioning'));
    const m = new ReadinessMonitor([database]);
    await m.refresh();
    expect(m.snapshot().checks.database?.error).toBe('failed');
    expect(JSON.stringify(m.snapshot())).not.toContain('10.1.2.3');
  });

  it('runs rounds in the background once started, faster while something fails', async () => {
    const temporal = check('temporal', 20);
    const m = new ReadinessMonitor([temporal], { intervalMs: 40, failingIntervalMs: 10 });
    await m.refresh();
    m.start();
    try {
      temporal.set(new CheckFailure('unreachable'));
      const deadline = Date.now() + 5000;
      while (m.ready && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      expect(m.ready).toBe(false);
      temporal.set('ok');
      while (!m.ready && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      expect(m.ready).toBe(true);
    } finally {
      m.stop();
    }
  });
});

describe('livePollers', () => {
  const at = (ms: number) => ({ lastAccessTime: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 } });
  const now = 1_800_000_000_000;

  it('keeps pollers seen within the staleness window: an idle long poll (up to a minute) is live', () => {
    const idle = at(now - 61_000);
    const fresh = at(now - 500);
    const dead = at(now - WORKER_POLL_STALE_MS - 1);
    expect(livePollers([idle, fresh, dead], now)).toEqual([idle, fresh]);
  });

  it('treats a poller without a time as not live, and accepts protobuf Long seconds', () => {
    const long = { lastAccessTime: { seconds: { toNumber: () => Math.floor(now / 1000) - 5 }, nanos: 0 } };
    expect(livePollers([{}, { lastAccessTime: null }, long], now)).toEqual([long]);
  });
});
