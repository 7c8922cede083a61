/**
 * The bench's shape: a scenario is a name, the topologies it runs on, its concurrency levels, an estimate of its
 * time (for the progress line) and a run function that measures rows on one topology. bench/run.ts starts each
 * topology once, hands every selected scenario the same context (instances, ceilings, progress), and writes every row
 * to the JSON result and the Markdown report (bench/report.ts). S5 (/Bulk) and S6 (burst + worker kill) are meant to
 * be two more entries of bench/scenarios.ts with this same interface.
 *
 * A row is one figure: what was measured, at which concurrency, its throughput and latencies, and, where the issue
 * names one, the ceiling it is read against (the figure and the ratio) and the targets, each met or not. A target
 * never fails the run; only something that breaks does (an error, a wrong seed, a delivery that never arrives).
 */
import type { Instance, Stack } from '../test/harness.js';
import type { Ceilings } from './ceilings.js';
import type { LoadResult } from './load.js';
import type { Settings } from './options.js';

export type TopologyName = 'embedded' | 'production';

/** A target of the issue's table, judged on this row's figures. */
export interface Target {
  /** As the issue states it: "≥ 25 % of hello-world". */
  text: string;
  /** null: not judged in this run (what it is judged against was not measured). */
  met: boolean | null;
  /** What the figure was, when it is not the row's ratio or p99 (e.g. "p50 212 ms"). */
  value?: string;
}

/** A figure this row is read against (a ceiling, or another scenario's row), and the row's share of it. */
export interface Against {
  /** The other row's scenario and case: "ceiling: Express hello-world", "S1: GET /Users/{id}". */
  case: string;
  throughput: number;
  unit: string;
  p99: number;
  /** This row's throughput / that row's. */
  ratio: number;
}

/** This row's throughput read against `other`'s. */
export function against(throughput: number, other: Row): Against {
  return { case: `${other.scenario}: ${other.case}`, throughput: other.throughput, unit: other.unit, p99: other.p99, ratio: throughput / other.throughput };
}

export interface Row {
  topology: TopologyName;
  /** "S1", "S2", "ceiling", "S4", "rules"... */
  scenario: string;
  /** What was measured: "GET /Users/{id}", "create, no target". */
  case: string;
  concurrency: number;
  requests: number;
  errors: number;
  errorsByStatus?: Record<string, number>;
  /** Measured seconds. */
  seconds?: number;
  /** Per second, in `unit`; NaN when the row is latencies only. */
  throughput: number;
  unit: string;
  /** Milliseconds. */
  p50: number;
  p95: number;
  p99: number;
  /** The ceilings (and other rows) it is read against, first the one its targets name. */
  against?: Against[];
  targets?: Target[];
  /** Further figures of the row (named, with their unit in the name). */
  extra?: Record<string, number | string>;
  note?: string;
}

/** A row's fields from a load result. */
export function fromLoad(r: LoadResult): Pick<Row, 'concurrency' | 'requests' | 'errors' | 'errorsByStatus' | 'seconds' | 'throughput' | 'p50' | 'p95' | 'p99'> & { note?: string } {
  return {
    concurrency: r.concurrency,
    requests: r.requests,
    errors: r.errors,
    ...(r.errors > 0 && { errorsByStatus: r.errorsByStatus }),
    seconds: r.seconds,
    throughput: r.throughput,
    p50: r.p50,
    p95: r.p95,
    p99: r.p99,
    ...(r.firstError !== undefined && { note: `first error: ${r.firstError.replace(/\s+/g, ' ').slice(0, 200)}` }),
  };
}

/** A ratio target: `figure / other ≥ min`; not judged when there is no other. */
export function atLeast(a: Against | undefined, min: number, of: string): Target {
  const text = `≥ ${Math.round(min * 100)} % of ${of}`;
  if (!a) return { text, met: null, value: `${of} not measured in this run` };
  return { text, met: Number.isFinite(a.ratio) && a.ratio >= min, value: `${(a.ratio * 100).toFixed(0)} %` };
}

/** A latency target: `value ≤ max` ms; `text` says it as the issue does when it is not "<what> ≤ <max> ms". */
export function atMost(value: number, max: number, what: string, text = `${what} ≤ ${max} ms`): Target {
  return { text, met: Number.isFinite(value) && value <= max, value: `${what} ${duration(value)}` };
}

/** A duration for people: milliseconds below 10 s, then seconds, then minutes and seconds. */
function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 10_000) return `${ms.toFixed(1)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

export interface ExtraTable {
  topology: TopologyName;
  scenario: string;
  title: string;
  headers: string[];
  rows: string[][];
}

/** Where a topology's processes run, for the scenarios. */
export interface TopologyContext {
  name: TopologyName;
  /** For the report: what this topology is made of. */
  description: string;
  temporalAddress: string;
  stack: Stack;
  /** The source instance every scenario writes to and reads from (api + worker + its database). */
  source: Instance;
  /** Target instances (SCIM 2.0 over HTTP), as many as the selected scenarios need. */
  targets: Instance[];
}

export interface ScenarioContext {
  topology: TopologyContext;
  settings: Settings;
  ceilings: Ceilings;
  /**
   * Keeps a row (and prints it, unless `quiet`: a scenario that prints its own lines): what the report and the JSON
   * get, even if the scenario breaks later.
   */
  record(row: Omit<Row, 'topology'>, opts?: { quiet?: boolean }): Row;
  /** Says what is being measured now, for the progress line ("GET /Users/{id} c=16"). */
  step(label: string): void;
  /** Rows recorded so far in this run (a scenario may read another's: S3 is judged against S2). */
  rows(): readonly Row[];
  /** A line for the report under the scenario's table (how it was measured, what the seed was). */
  note(text: string): void;
  /** A table of its own for the report (EXPLAIN's verdicts...), kept in the JSON too. */
  table(table: Omit<ExtraTable, 'topology' | 'scenario'>): void;
}

export interface Scenario {
  /** As selected with --scenarios: "s1". */
  name: string;
  /** Its rows' `scenario`: "S1". */
  label: string;
  /** The report's heading. */
  title: string;
  topologies: readonly TopologyName[];
  /** Target instances it needs beside the source. */
  targets: number;
  levels(settings: Settings): number[];
  /** Seconds it should take on `topology`, for the progress line's estimate. */
  estimateSeconds(settings: Settings, topology: TopologyName): number;
  run(ctx: ScenarioContext): Promise<Row[]>;
}

/**
 * Progress on stderr: the scenario, its step, the time spent and an estimate of what is left (the remaining
 * scenarios' estimates, scaled by how the finished ones compared to theirs). A line at each step; on a terminal it
 * also ticks in place.
 */
export class Progress {
  private readonly started = performance.now();
  private remainingEstimate: number;
  private current: { label: string; estimate: number; started: number } | undefined;
  private step = '';
  private estimatedDone = 0;
  private actualDone = 0;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly tty = process.stderr.isTTY === true;

  constructor(totalEstimateSeconds: number) {
    this.remainingEstimate = totalEstimateSeconds;
    if (this.tty) {
      this.timer = setInterval(() => this.print(true), 1000);
      this.timer.unref();
    }
  }

  /** Starts a part of the plan with its own estimate (a topology's start, a scenario). */
  begin(label: string, estimateSeconds: number): void {
    this.end();
    this.current = { label, estimate: estimateSeconds, started: performance.now() };
    this.remainingEstimate -= estimateSeconds;
    this.step = '';
    this.print(false);
  }

  at(step: string): void {
    this.step = step;
    this.print(false);
  }

  end(): void {
    if (!this.current) return;
    this.estimatedDone += this.current.estimate;
    this.actualDone += (performance.now() - this.current.started) / 1000;
    this.current = undefined;
  }

  /** A plan part that will not run after all (a topology that could not start). */
  skip(estimateSeconds: number): void {
    this.remainingEstimate -= estimateSeconds;
  }

  stop(): void {
    this.end();
    if (this.timer) clearInterval(this.timer);
    if (this.tty) process.stderr.write('\n');
  }

  private print(tick: boolean): void {
    const elapsed = (performance.now() - this.started) / 1000;
    const pace = this.estimatedDone > 30 ? Math.min(3, Math.max(0.5, this.actualDone / this.estimatedDone)) : 1;
    const inCurrent = this.current ? Math.max(0, this.current.estimate * pace - (performance.now() - this.current.started) / 1000) : 0;
    const left = Math.max(0, this.remainingEstimate) * pace + inCurrent;
    const line = `[bench ${clock(elapsed)} elapsed, ~${clock(left)} left] ${this.current?.label ?? ''}${this.step ? `: ${this.step}` : ''}`;
    if (this.tty) process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns || 120) - 1)}`);
    else if (!tick) process.stderr.write(`${line}\n`);
  }
}

/** 75 -> "1m15s". */
export function clock(seconds: number): string {
  const s = Math.round(seconds);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
