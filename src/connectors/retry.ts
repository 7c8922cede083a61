import type { RetrySettings } from '../provisioning/types.js';

/**
 * Default retry settings of a connector call: first retry after 1 s, doubling up to 60 s apart, without
 * limit, so a target that is down receives the change when it is back. Each connector may override them.
 */
export const DEFAULT_RETRY: RetrySettings = {
  initialIntervalMs: 1000,
  maximumIntervalMs: 60_000,
  backoffCoefficient: 2,
  maximumAttempts: 0,
};

export function retrySettings(stored: unknown): RetrySettings {
  const s = (typeof stored === 'object' && stored !== null ? stored : {}) as Partial<Record<keyof RetrySettings, unknown>>;
  const num = (v: unknown, fallback: number) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : fallback);
  return {
    initialIntervalMs: num(s.initialIntervalMs, DEFAULT_RETRY.initialIntervalMs),
    maximumIntervalMs: num(s.maximumIntervalMs, DEFAULT_RETRY.maximumIntervalMs),
    backoffCoefficient: Math.max(1, num(s.backoffCoefficient, DEFAULT_RETRY.backoffCoefficient)),
    maximumAttempts: Math.trunc(num(s.maximumAttempts, DEFAULT_RETRY.maximumAttempts)),
  };
}
