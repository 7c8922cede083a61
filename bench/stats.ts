/**
 * What the bench scenarios share: percentiles over sorted latencies, the machine line every table starts with, and a
 * fixed-width number for the tables. Kept apart from bench/run.ts, which runs when imported.
 */
import os from 'node:os';

/** The p-th percentile (nearest rank) of ascending `sorted`; NaN for none. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** p50, p95 and p99 of ascending `sorted`. */
export function pcts(sorted: number[]): { p50: number; p95: number; p99: number } {
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99) };
}

/** `Machine: 2 x <CPU>, 8 GiB, Node v20...`: figures mean little without it. */
export function machineLine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `Machine: ${os.cpus().length} x ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

/** A number of milliseconds (or requests per second), one decimal, right-aligned in 8 characters. */
export const fixed = (n: number): string => n.toFixed(1).padStart(8);
