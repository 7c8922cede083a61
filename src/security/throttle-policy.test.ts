import { describe, expect, it } from 'vitest';
import { afterFailure, blockedFor, lockDuration, type ThrottlePolicy, type ThrottleState } from './throttle-policy.js';

const MIN = 60_000;
// WSO2's defaults: 5 attempts, 5 minutes, factor 2; capped at a day.
const account: ThrottlePolicy = { maxFailures: 5, windowMs: undefined, lockMs: 5 * MIN, factor: 2, maxLockMs: 1440 * MIN, forgetMs: 1440 * MIN };
const address: ThrottlePolicy = { maxFailures: 3, windowMs: 5 * MIN, lockMs: 5 * MIN, factor: 1, maxLockMs: 5 * MIN, forgetMs: 5 * MIN };

function fail(policy: ThrottlePolicy, times: number, start: ThrottleState | undefined, now: number) {
  let state = start;
  let locked = false;
  for (let i = 0; i < times; i++) ({ state, locked } = afterFailure(state, policy, now));
  return { state: state!, locked };
}

describe('account policy (WSO2 account locking)', () => {
  it('locks at the fifth consecutive failure, for the initial lock duration, and starts counting again', () => {
    const four = fail(account, 4, undefined, 0);
    expect(four.locked).toBe(false);
    expect(blockedFor(four.state, 0)).toBe(0);
    const { state, locked } = afterFailure(four.state, account, 1000);
    expect(locked).toBe(true);
    expect(blockedFor(state, 1000)).toBe(5 * MIN);
    expect(state).toMatchObject({ failures: 0, lockCount: 1 });
  });

  it('grows each lock by the factor (5, 10, 20 minutes) and caps it', () => {
    expect([0, 1, 2].map((n) => lockDuration(account, n))).toEqual([5 * MIN, 10 * MIN, 20 * MIN]);
    expect(lockDuration(account, 50)).toBe(1440 * MIN);
    expect(lockDuration(account, 5000)).toBe(1440 * MIN);
    const first = fail(account, 5, undefined, 0).state;
    const afterLock = first.lockedUntil!;
    const second = fail(account, 5, first, afterLock + 1);
    expect(second.locked).toBe(true);
    expect(blockedFor(second.state, afterLock + 1)).toBe(10 * MIN);
  });

  it('does not count failures while locked (nothing was checked)', () => {
    const locked = fail(account, 5, undefined, 0).state;
    expect(afterFailure(locked, account, 1000)).toEqual({ state: locked, locked: false });
  });

  it('keeps failures without a time window, and forgets a record quiet for forgetMs', () => {
    const three = fail(account, 3, undefined, 0).state;
    expect(afterFailure(three, account, 1000 * MIN).state.failures).toBe(4);
    expect(afterFailure(three, account, 1441 * MIN).state.failures).toBe(1);
    const locked = fail(account, 5, undefined, 0).state;
    expect(afterFailure(locked, account, locked.expiresAt + 1).state.lockCount).toBe(0);
  });
});

describe('address policy (rate limit)', () => {
  it('blocks for the window at the limit, and counts only failures within the window', () => {
    const two = fail(address, 2, undefined, 0).state;
    expect(afterFailure(two, address, 5 * MIN).state.failures).toBe(1); // the window is over: a new one
    const { state, locked } = afterFailure(two, address, MIN);
    expect(locked).toBe(true);
    expect(blockedFor(state, MIN)).toBe(5 * MIN);
    expect(blockedFor(state, 6 * MIN)).toBe(0);
    // after the block, a fresh window with the same lock length (factor 1)
    expect(fail(address, 3, state, 6 * MIN)).toMatchObject({ locked: true });
    expect(lockDuration(address, 7)).toBe(5 * MIN);
  });
});
