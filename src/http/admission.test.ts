import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from '../log.js';
import { AdmissionAborted, AdmissionLimiter, MAX_RETRY_AFTER_SECONDS, Overloaded, type AdmissionPermit } from './admission.js';

/** A logger that keeps what it was told. */
function recordingLog() {
  const lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => void lines.push({ level, msg, ...(fields && { fields }) });
  const log: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { log, lines };
}

const limiter = (limit: number, more: { queueTimeoutMs?: number; engineTimeoutMs?: number; log?: Logger } = {}) =>
  new AdmissionLimiter({ limit, queueTimeoutMs: more.queueTimeoutMs ?? 1000, engineTimeoutMs: more.engineTimeoutMs ?? 5000, log: more.log, random: () => 0 });

/** Whether a promise has settled yet (after the microtasks queued so far ran). */
async function state<T>(p: Promise<T>): Promise<'pending' | 'fulfilled' | 'rejected'> {
  let s: 'pending' | 'fulfilled' | 'rejected' = 'pending';
  p.then(
    () => (s = 'fulfilled'),
    () => (s = 'rejected'),
  );
  await Promise.resolve();
  await Promise.resolve();
  return s;
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('AdmissionLimiter', () => {
  it('admits up to the bound at once, queues the next writes in arrival order, and admits them as places free up', async () => {
    const l = limiter(2);
    const a = await l.acquire(1);
    const b = await l.acquire(1);
    const order: string[] = [];
    const c = l.acquire(1).then((p) => (order.push('c'), p));
    const d = l.acquire(1).then((p) => (order.push('d'), p));
    expect(l.snapshot()).toMatchObject({ inFlight: 2, queued: 2 });
    expect(await state(c)).toBe('pending');
    b.end();
    expect(await state(c)).toBe('fulfilled');
    expect(await state(d)).toBe('pending');
    a.end();
    await d;
    expect(order).toEqual(['c', 'd']);
    expect(l.snapshot()).toMatchObject({ inFlight: 2, queued: 0 });
  });

  it('refuses at once when the queue is as deep as the bound, with a Retry-After of at least a second', async () => {
    const l = limiter(2);
    await l.acquire(1);
    await l.acquire(1);
    const queued = [l.acquire(1), l.acquire(1)];
    const refused = await l.acquire(1).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Overloaded);
    expect((refused as Overloaded).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect((refused as Overloaded).message).toMatch(/nothing was applied/);
    for (const q of queued) expect(await state(q)).toBe('pending');
  });

  it('refuses a queued write when no place freed up within the queue timeout, and forgets it', async () => {
    const l = limiter(1, { queueTimeoutMs: 1000 });
    const first = await l.acquire(1);
    const waiting = l.acquire(1).catch((e: unknown) => e);
    vi.advanceTimersByTime(1000);
    expect(await waiting).toBeInstanceOf(Overloaded);
    expect(l.snapshot()).toMatchObject({ inFlight: 1, queued: 0 });
    first.end();
    expect(l.snapshot().inFlight).toBe(0);
  });

  it('with a queue timeout of 0, refuses at once instead of queueing', async () => {
    const l = limiter(1, { queueTimeoutMs: 0 });
    await l.acquire(1);
    await expect(l.acquire(1)).rejects.toBeInstanceOf(Overloaded);
  });

  it('refuses at once when, from how long writes hold their place, a place would not free up within the queue timeout', async () => {
    const l = limiter(1, { queueTimeoutMs: 1000 });
    const slow = await l.acquire(1);
    vi.advanceTimersByTime(10_000); // writes take 10 s here
    slow.end();
    await l.acquire(1);
    const t0 = Date.now();
    await expect(l.acquire(1)).rejects.toBeInstanceOf(Overloaded);
    expect(Date.now()).toBe(t0); // not after waiting the queue timeout out
  });

  it('forgets a queued write whose client went away', async () => {
    const l = limiter(1);
    const first = await l.acquire(1);
    const gone = new AbortController();
    const waiting = l.acquire(1, { signal: gone.signal }).catch((e: unknown) => e);
    gone.abort();
    expect(await waiting).toBeInstanceOf(AdmissionAborted);
    expect(l.snapshot().queued).toBe(0);
    first.end();
    expect(l.snapshot().inFlight).toBe(0);
  });

  it('weighs a write (a Bulk request by its operations): it waits until its weight fits, and nothing overtakes it', async () => {
    const l = limiter(4);
    const singles = [await l.acquire(1), await l.acquire(1), await l.acquire(1)];
    const bulk = l.acquire(3);
    const after = l.acquire(1);
    singles[0]!.end();
    expect(await state(bulk)).toBe('pending'); // 2 in flight + 3 > 4
    expect(await state(after)).toBe('pending'); // would fit, but arrived later
    singles[1]!.end();
    expect(await state(bulk)).toBe('fulfilled');
    expect(l.snapshot().inFlight).toBe(4);
    expect(await state(after)).toBe('pending');
  });

  it('admits a write heavier than the bound when nothing else is in flight (it would never run otherwise)', async () => {
    const l = limiter(2);
    const heavy = await l.acquire(50);
    expect(l.snapshot().inFlight).toBe(2);
    heavy.end();
    expect(l.snapshot().inFlight).toBe(0);
  });

  it('keeps a place until everything holding it settled (a workflow still running after its 202), then frees it', async () => {
    const l = limiter(1);
    const p = await l.acquire(1);
    let finish!: () => void;
    p.holdUntil(new Promise<void>((r) => (finish = r)));
    p.end();
    expect(l.snapshot().inFlight).toBe(1);
    const next = l.acquire(1);
    expect(await state(next)).toBe('pending');
    finish();
    expect(await state(next)).toBe('fulfilled');
  });

  it('a place held by a failing workflow is freed too', async () => {
    const l = limiter(1);
    const p = await l.acquire(1);
    p.holdUntil(Promise.reject(new Error('workflow failed')));
    p.end();
    await Promise.resolve();
    await Promise.resolve();
    expect(l.snapshot().inFlight).toBe(0);
  });

  it('halves the bound on a saturation signal (at most once a second) and grows it back by one per write that finishes', async () => {
    const l = limiter(8);
    l.noteOverload('engine', 'RESOURCE_EXHAUSTED');
    l.noteOverload('engine', 'RESOURCE_EXHAUSTED'); // the same burst
    expect(l.snapshot().limit).toBe(4);
    vi.advanceTimersByTime(1000);
    l.noteOverload('database', 'pool timeout');
    expect(l.snapshot().limit).toBe(2);
    const held = [await l.acquire(1), await l.acquire(1)];
    const third = l.acquire(1);
    expect(await state(third)).toBe('pending'); // the bound is 2 now
    // Recovery: each write that finishes without a signal adds one place.
    for (const p of held) p.end();
    (await third).end();
    for (let i = 0; i < 5; i++) (await l.acquire(1)).end();
    expect(l.snapshot().limit).toBe(8);
  });

  it('a write that met a saturation signal does not grow the bound when it finishes', async () => {
    const l = limiter(4);
    const p = await l.acquire(1);
    p.overloaded('engine', 'start not confirmed');
    expect(l.snapshot().limit).toBe(2);
    p.end();
    expect(l.snapshot().limit).toBe(2);
  });

  it('asks refused clients to wait longer the longer the backlog, within 1 s and its maximum', async () => {
    const l = limiter(2, { queueTimeoutMs: 60_000 });
    expect(l.retryAfterSeconds()).toBe(1); // nothing known yet
    const p = await l.acquire(1);
    vi.advanceTimersByTime(2000);
    p.end(); // a write holds its place ~2 s
    await l.acquire(1);
    await l.acquire(1);
    const short = l.retryAfterSeconds();
    for (let i = 0; i < 2; i++) void l.acquire(1).catch(() => undefined);
    const longer = l.retryAfterSeconds();
    expect(short).toBeGreaterThanOrEqual(1);
    expect(longer).toBeGreaterThan(short);
    // Writes that have been stuck for minutes (a stalled engine): capped.
    vi.advanceTimersByTime(600_000);
    expect(l.retryAfterSeconds()).toBe(MAX_RETRY_AFTER_SECONDS);
  });

  it('below the bound, nobody is told to stop waiting: a write with a blocking target gets the target\'s answer', async () => {
    const l = limiter(3, { engineTimeoutMs: 5000 });
    const single = await l.acquire(1);
    await l.acquire(1);
    vi.advanceTimersByTime(60_000);
    expect(await state(single.cut)).toBe('pending');
  });

  it('with the bound full, tells a write that waited the engine timeout to stop waiting (its place stays taken); never a Bulk request', async () => {
    const l = limiter(2, { engineTimeoutMs: 5000, queueTimeoutMs: 0 });
    const single = await l.acquire(1);
    const bulk = await l.acquire(1, { cut: false });
    vi.advanceTimersByTime(4000);
    expect(await state(single.cut)).toBe('pending');
    vi.advanceTimersByTime(1500);
    expect(await state(single.cut)).toBe('fulfilled');
    expect(await state(bulk.cut)).toBe('pending');
    expect(l.snapshot().inFlight).toBe(2);
  });

  it('a write admitted during an episode is cut loose once it waited the engine timeout', async () => {
    const l = limiter(1, { engineTimeoutMs: 5000, queueTimeoutMs: 0 });
    const first = await l.acquire(1);
    await expect(l.acquire(1)).rejects.toBeInstanceOf(Overloaded);
    first.end();
    const p: AdmissionPermit = await l.acquire(1);
    vi.advanceTimersByTime(1000);
    expect(await state(p.cut)).toBe('pending');
    // Still refusing (arrivals keep coming) until the write has waited the engine timeout.
    for (let i = 0; i < 4; i++) {
      await expect(l.acquire(1)).rejects.toBeInstanceOf(Overloaded);
      vi.advanceTimersByTime(1000);
    }
    expect(await state(p.cut)).toBe('fulfilled');
  });

  it('logs one line when an overload episode begins and one when it is over, whatever the number of refusals', async () => {
    const { log, lines } = recordingLog();
    const l = limiter(1, { queueTimeoutMs: 0, log });
    const p = await l.acquire(1);
    for (let i = 0; i < 50; i++) await l.acquire(1).catch(() => undefined);
    l.noteOverload('engine', 'RESOURCE_EXHAUSTED');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', msg: expect.stringMatching(/^overloaded/), fields: { source: 'admission' } });
    p.end();
    vi.advanceTimersByTime(10_000);
    expect(l.saturated).toBe(false);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ level: 'info', msg: 'no longer overloaded', fields: { refused: { admission: 50, engine: 1, database: 0 } } });
    // A new episode is a new line.
    await l.acquire(1);
    await l.acquire(1).catch(() => undefined);
    expect(lines).toHaveLength(3);
  });
});
