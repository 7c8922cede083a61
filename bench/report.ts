/**
 * What a run leaves behind, under bench/results/ (git-ignored): `<UTC stamp>.json` (every row, the machine, the
 * commit, the settings), `<stamp>.md` (the targets first, then per topology the ceilings and each scenario's table:
 * figure, what it is read against and the ratio, its targets met or not, and a chart), the charts as
 * `<stamp>-<topology>-<scenario>.svg` beside it, and `latest.md`, a copy of the newest report.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chartSvg, type Series } from './chart.js';
import type { ExtraTable, Row, TopologyName } from './framework.js';
import type { Settings } from './options.js';

export interface RunResult {
  startedAt: string;
  finishedAt: string;
  machine: string;
  /** 1-, 5- and 15-minute load averages at the start and the end: the machine is shared. */
  load: { start: number[]; end: number[] };
  commit: string;
  /** Files changed but not committed when the run started. */
  uncommitted: number;
  command: string;
  settings: Settings;
  topologies: { name: TopologyName; description?: string; error?: string }[];
  /** Per topology, the scenarios in the order they ran. */
  scenarios: { name: string; label: string; title: string }[];
  rows: Row[];
  tables: ExtraTable[];
  notes: { topology: TopologyName; scenario: string; text: string }[];
  failures: { topology: TopologyName; scenario: string; error: string }[];
}

const CHARTED = ['S1', 'S2', 'S3'];

export function stampOf(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
}

/** 6912.3 -> "6,912"; 41.27 -> "41.3"; NaN -> "—". */
export function figure(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '—';
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString('en');
  return n.toFixed(1);
}

const pct = (r: number) => (Number.isFinite(r) ? `${(r * 100).toFixed(r < 0.1 ? 1 : 0)} %` : '—');
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function table(headers: string[], rows: string[][]): string {
  return [`| ${headers.join(' | ')} |`, `| ${headers.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}

function errorsCell(r: Row): string {
  if (r.errors === 0) return '0';
  const by = Object.entries(r.errorsByStatus ?? {})
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
  return by ? `${r.errors} (${by})` : String(r.errors);
}

function againstCell(r: Row): string {
  return (r.against ?? []).map((a) => `${pct(a.ratio)} of ${a.case} (${figure(a.throughput)} ${a.unit}, p99 ${figure(a.p99)} ms)`).join('<br>');
}

function targetsCell(r: Row): string {
  return (r.targets ?? []).map((t) => `${t.text}: ${t.met === null ? 'not judged' : t.met ? '**met**' : '**not met**'}${t.value ? ` (${t.value})` : ''}`).join('<br>');
}

function extraCell(r: Row): string {
  return Object.entries(r.extra ?? {})
    .map(([k, v]) => `${k}: ${typeof v === 'number' ? figure(v) : v}`)
    .join('<br>');
}

function rowsTable(rows: Row[], first: string): string {
  const hasAgainst = rows.some((r) => r.against?.length);
  const hasTargets = rows.some((r) => r.targets?.length);
  const hasExtra = rows.some((r) => r.extra && Object.keys(r.extra).length > 0);
  const headers = [first, 'c', 'figure', 'p50 ms', 'p95 ms', 'p99 ms', 'n', 'errors', ...(hasAgainst ? ['read against'] : []), ...(hasTargets ? ['targets'] : []), ...(hasExtra ? ['also'] : [])];
  return table(
    headers,
    rows.map((r) => [
      r.case,
      String(r.concurrency),
      Number.isFinite(r.throughput) ? `${figure(r.throughput)} ${r.unit}` : '—',
      figure(r.p50),
      figure(r.p95),
      figure(r.p99),
      String(r.requests),
      errorsCell(r),
      ...(hasAgainst ? [againstCell(r)] : []),
      ...(hasTargets ? [targetsCell(r)] : []),
      ...(hasExtra ? [extraCell(r)] : []),
    ]),
  );
}

/** Throughput and p99 against concurrency: the scenario's cases, and the ceilings they are read against, dashed. */
function chartOf(result: RunResult, topology: TopologyName, label: string): string | undefined {
  const rows = result.rows.filter((r) => r.topology === topology && r.scenario === label && Number.isFinite(r.throughput));
  if (rows.length === 0) return undefined;
  const ceilingCases = new Set(rows.flatMap((r) => (r.against ?? []).map((a) => a.case)).filter((c) => c.startsWith('ceiling: ')));
  const ceilingRows = result.rows.filter((r) => r.topology === topology && r.scenario === 'ceiling' && ceilingCases.has(`ceiling: ${r.case}`));
  const seriesOf = (pick: (r: Row) => number): Series[] => {
    const by = new Map<string, Series>();
    for (const r of [...rows, ...ceilingRows]) {
      const name = r.scenario === 'ceiling' ? `ceiling: ${r.case} (${r.unit})` : `${r.case} (${r.unit})`;
      const s = by.get(name) ?? { name, points: [], dashed: r.scenario === 'ceiling' };
      s.points.push({ x: r.concurrency, y: pick(r) });
      by.set(name, s);
    }
    return [...by.values()];
  };
  return chartSvg(`${label} on ${topology}, ${result.startedAt}`, [
    { title: 'Throughput (per second, log scale)', yLabel: 'per second', series: seriesOf((r) => r.throughput) },
    { title: 'p99 latency (ms, log scale)', yLabel: 'ms', series: seriesOf((r) => r.p99) },
  ]);
}

export function renderMarkdown(result: RunResult, stamp: string, charts: Map<string, string>): string {
  const out: string[] = [];
  const s = result.settings;
  out.push(`# Bench ${result.startedAt}`, '');
  out.push(
    `${result.machine}; load average ${result.load.start.map((l) => l.toFixed(2)).join(' ')} at the start, ${result.load.end.map((l) => l.toFixed(2)).join(' ')} at the end. ` +
      `Commit ${result.commit}${result.uncommitted > 0 ? ` (+${result.uncommitted} uncommitted files)` : ''}.`,
    '',
    `\`${result.command}\`: ${s.quick ? '**--quick**, ' : ''}scenarios ${s.scenarios.join(', ')}; topologies ${s.topologies.join(', ')}; ` +
      `${s.seconds} s measured per level after ${s.warmupSeconds} s of warm-up; ${s.users.toLocaleString('en')} users for S1.`,
    '',
    'Figures from one shared machine: read them as ratios to the ceilings measured in the same run. No target fails the run.',
    '',
  );
  if (result.failures.length > 0) {
    out.push('## What broke', '', ...result.failures.map((f) => `- ${f.topology}, ${f.scenario}: ${f.error}`), '');
  }
  const judged = result.rows.filter((r) => r.targets?.length);
  if (judged.length > 0) {
    out.push('## Targets', '');
    out.push(
      table(
        ['topology', 'scenario', 'case', 'c', 'figure', 'target', 'met'],
        judged.flatMap((r) =>
          r.targets!.map((t) => [r.topology, r.scenario, r.case, String(r.concurrency), `${figure(r.throughput)} ${r.unit}${t.value ? `; ${t.value}` : ''}`, t.text, t.met === null ? 'not judged' : t.met ? 'met' : '**not met**']),
        ),
      ),
      '',
    );
  }
  for (const t of result.topologies) {
    out.push(`## ${t.name}`, '');
    if (t.description) out.push(t.description, '');
    if (t.error) out.push(`**Not run**: ${t.error}`, '');
    const ceilings = result.rows.filter((r) => r.topology === t.name && r.scenario === 'ceiling').sort((a, b) => a.case.localeCompare(b.case) || a.concurrency - b.concurrency);
    if (ceilings.length > 0) out.push('### Ceilings', '', rowsTable(ceilings, 'ceiling'), '');
    for (const sc of result.scenarios) {
      const rows = result.rows.filter((r) => r.topology === t.name && r.scenario === sc.label);
      const notes = result.notes.filter((n) => n.topology === t.name && n.scenario === sc.label);
      const tables = result.tables.filter((x) => x.topology === t.name && x.scenario === sc.label);
      const failure = result.failures.find((f) => f.topology === t.name && f.scenario === sc.label);
      if (rows.length === 0 && notes.length === 0 && !failure) continue;
      out.push(`### ${sc.title}`, '');
      for (const n of notes) out.push(n.text, '');
      if (failure) out.push(`**Broke**: ${failure.error}`, '');
      if (rows.length > 0) out.push(rowsTable(rows, 'case'), '');
      const chart = charts.get(`${t.name}:${sc.label}`);
      if (chart) out.push(`![${sc.label} on ${t.name}: throughput and p99 against concurrency](${chart})`, '');
      for (const x of tables) out.push(`#### ${x.title}`, '', table(x.headers, x.rows), '');
    }
  }
  out.push(`JSON: [${stamp}.json](${stamp}.json)`, '');
  return out.join('\n');
}

/** Writes the JSON, the charts, the report and latest.md; returns the report's path. */
export function writeReport(result: RunResult, outDir: string): string {
  fs.mkdirSync(outDir, { recursive: true });
  const stamp = stampOf(new Date(result.startedAt));
  fs.writeFileSync(path.join(outDir, `${stamp}.json`), `${JSON.stringify(result, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
  const charts = new Map<string, string>();
  for (const t of result.topologies) {
    for (const label of CHARTED) {
      const svg = chartOf(result, t.name, label);
      if (!svg) continue;
      const file = `${stamp}-${t.name}-${label.toLowerCase()}.svg`;
      fs.writeFileSync(path.join(outDir, file), svg);
      charts.set(`${t.name}:${label}`, file);
    }
  }
  const md = renderMarkdown(result, stamp, charts);
  const report = path.join(outDir, `${stamp}.md`);
  fs.writeFileSync(report, md);
  fs.writeFileSync(path.join(outDir, 'latest.md'), `<!-- A copy of ${stamp}.md, the newest report. -->\nNewest report: [${stamp}.md](${stamp}.md)\n\n${md}`);
  return report;
}
