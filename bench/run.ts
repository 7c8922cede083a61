/**
 * `npm run bench`: every scenario beside its ceiling, measured in the same run, on the embedded default and on the
 * production topology (PostgreSQL + a real Temporal server). It prints each figure as it is measured (stdout) and
 * its progress (stderr: the scenario, the step, the time spent, an estimate of what is left), and writes
 * bench/results/<UTC stamp>.json, <stamp>.md (tables: figure, ceiling, ratio, target, met; charts of throughput and
 * p99 against concurrency as SVG files beside it) and latest.md (git-ignored). It never fails on a number: it exits
 * 1 only when something broke (an error, a wrong seed, a delivery that never arrived), after writing the report.
 *
 *   npm run bench                      everything, both topologies (tens of minutes)
 *   npm run bench -- --quick           a look in one to two minutes: embedded only, S1 and S2, one or two levels, 2 s
 *                                      per level, 10,000 users for S1 (the report says so); add S3 with
 *                                      `--quick --scenarios s1,s2,s3` (three more instances to start: a minute more)
 *   npm run bench -- --scenarios s1,s2 --topologies embedded --seconds 5
 *
 * Flags (each also an environment variable; a flag wins, and --quick only changes the defaults):
 *   --quick             BENCH_QUICK=1
 *   --scenarios LIST    BENCH_SCENARIOS   s1 (reads at directory size), s2 (durable creates: no target, one
 *                                         non-blocking, one blocking SCIM target), s3 (fan-out to three targets),
 *                                         s4 (federated login), rules (XACML decision point; rule-check cost),
 *                                         s5 (a directory load through /Bulk, three targets), s6 (a burst with
 *                                         the worker killed); "scim" = s1,s2,s3. Default: all; --quick: s1,s2
 *   --topologies LIST   BENCH_TOPOLOGIES  embedded, production (BENCH_DATABASES=embedded,postgres still works).
 *                                         Default: both; --quick: embedded
 *   --seconds N         BENCH_SECONDS     measured seconds per level (default 10; --quick 2)
 *   --warmup N          BENCH_WARMUP      unmeasured seconds before each level (default 2; --quick 0.5)
 *   --levels LIST       BENCH_CONCURRENCY concurrency levels for every scenario (default: each scenario's own,
 *                                         1,4,16 for S1-S3; --quick: S1 16, S2 1,16, S3 1)
 *   --users N           BENCH_USERS       S1's directory (default 100,000; --quick 10,000)
 *   --bulk-users N      BENCH_BULK_USERS  S5's load (default 100,000; --quick 5,000); BENCH_BULK_SIZE creates per
 *                                         Bulk request (1,000), BENCH_BULK_CLIENTS clients sending them (4)
 *   --out DIR           BENCH_OUT         where results go (default bench/results)
 * Environment only:
 *   BENCH_DATABASE_URL    a PostgreSQL server for the production topology (default: a throwaway cluster of the
 *                         machine's PostgreSQL, test/support/postgres.ts)
 *   BENCH_DRAIN_TIMEOUT   seconds a level's deliveries may take to arrive before the bench calls it broken (600)
 *   BENCH_FED_SUBJECTS, BENCH_FED_CONCURRENCY   S4's subjects per level (40) and levels (1,4)
 *   BENCH_RULES_SECONDS, BENCH_RULES_REQUESTS   the rules' seconds per decision-point set (5) and blocking creates
 *                                               per side of the rule-check cost (60)
 *   TEMPORAL_CLI_PATH     the Temporal CLI (dev server) to use, as for `npm start`
 *
 * How it is put together: bench/framework.ts (rows, scenarios, progress), bench/scenarios.ts (the list), the
 * scenarios (bench/s1-reads.ts, s2-creates.ts, s3-fan-out.ts, federated-login.ts, rules.ts), bench/ceilings.ts (the
 * three ceilings), bench/load.ts (the load generator), bench/topology.ts (what each topology starts),
 * bench/report.ts and chart.ts (the files).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { PROJECT_ROOT } from '../src/temporal/cli-binary.js';
import { workflowsPath } from '../worker/main.js';
import { Ceilings } from './ceilings.js';
import { clock, Progress, type Row, type ScenarioContext, type TopologyName } from './framework.js';
import { parseSettings, USAGE, type Settings } from './options.js';
import { figure, writeReport, type RunResult } from './report.js';
import { SCENARIOS } from './scenarios.js';
import { machineLine } from './stats.js';
import { startTopology } from './topology.js';

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return '';
  }
}

/** BENCH_DATABASE_URL as the report may show it: without its password. */
function withoutPassword(url: string | undefined): string | undefined {
  if (!url) return url;
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(not a URL)';
  }
}

function printRow(r: Row): void {
  const against = (r.against ?? []).map((a) => `${(a.ratio * 100).toFixed(1)}% of ${a.case}`).join('; ');
  const targets = (r.targets ?? []).map((t) => `${t.text}: ${t.met === null ? 'not judged' : t.met ? 'met' : 'NOT MET'}`).join('; ');
  process.stdout.write(
    `${r.topology.padEnd(10)} ${r.scenario.padEnd(7)} ${r.case.padEnd(40)} c=${String(r.concurrency).padEnd(3)} n=${String(r.requests).padEnd(6)} err=${String(r.errors).padEnd(4)} ` +
      `${Number.isFinite(r.throughput) ? `${figure(r.throughput)} ${r.unit}` : ''}  p50 ${figure(r.p50)} ms  p99 ${figure(r.p99)} ms` +
      `${against ? `  [${against}]` : ''}${targets ? `  {${targets}}` : ''}\n`,
  );
}

/** Seconds a topology takes to start (for the estimate). */
const startEstimate = (t: TopologyName, targets: number) => (t === 'embedded' ? 15 : 45) + 5 * (targets + 1);

async function bundle(workflows: string, dir: string, name: string): Promise<string> {
  const file = path.join(dir, name);
  fs.writeFileSync(file, (await bundleWorkflowCode({ workflowsPath: workflows, logger: new DefaultLogger('WARN') })).code);
  return file;
}

async function main(settings: Settings): Promise<number> {
  const selected = SCENARIOS.filter((s) => settings.scenarios.includes(s.name));
  const plan = settings.topologies.map((t) => ({ topology: t, scenarios: selected.filter((s) => s.topologies.includes(t)) }));
  const targetsOf = (p: (typeof plan)[number]) => Math.max(0, ...p.scenarios.map((s) => s.targets));
  const total = 20 + plan.reduce((sum, p) => sum + startEstimate(p.topology, targetsOf(p)) + p.scenarios.reduce((n, s) => n + s.estimateSeconds(settings, p.topology), 0), 0);
  const progress = new Progress(total);
  const result: RunResult = {
    startedAt: new Date().toISOString(),
    finishedAt: '',
    machine: machineLine(),
    load: { start: os.loadavg(), end: [] },
    commit: git(['rev-parse', '--short=12', 'HEAD']) || 'unknown',
    uncommitted: git(['status', '--porcelain']).split('\n').filter(Boolean).length,
    command: ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' '),
    settings: { ...settings, databaseUrl: withoutPassword(settings.databaseUrl) },
    topologies: [],
    scenarios: selected.map((s) => ({ name: s.name, label: s.label, title: s.title })),
    rows: [],
    tables: [],
    notes: [],
    failures: [],
  };
  process.stdout.write(`${result.machine}\nscenarios ${settings.scenarios.join(', ')} on ${settings.topologies.join(', ')}; estimate ${clock(total)}\n`);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'provisioning-bench-'));
  const finish = () => {
    result.finishedAt = new Date().toISOString();
    result.load.end = os.loadavg();
    return writeReport(result, path.resolve(PROJECT_ROOT, settings.outDir));
  };
  // Ctrl-C: what was measured is kept (the report, marked interrupted), and what the run started is stopped. A second
  // Ctrl-C exits at once.
  let stopRunning: (() => Promise<void>) | undefined;
  process.once('SIGINT', () => {
    progress.stop();
    result.failures.push({ topology: result.topologies.at(-1)?.name ?? settings.topologies[0]!, scenario: 'run', error: 'interrupted (Ctrl-C)' });
    process.stdout.write(`\nInterrupted. Report so far: ${path.relative(process.cwd(), finish())}; stopping what the bench started...\n`);
    void (stopRunning?.() ?? Promise.resolve()).finally(() => {
      fs.rmSync(tmp, { recursive: true, force: true });
      process.exit(130);
    });
  });
  try {
    progress.begin('bundling the workflows', 20);
    const [workflowBundle, engineBundle] = await Promise.all([
      bundle(workflowsPath(), tmp, 'workflow-bundle.js'),
      bundle(path.join(PROJECT_ROOT, 'bench', 'ceiling', 'engine-workflow.ts'), tmp, 'engine-ceiling-bundle.js'),
    ]);
    for (const p of plan) {
      const entry: RunResult['topologies'][number] = { name: p.topology };
      result.topologies.push(entry);
      progress.begin(`${p.topology}: starting`, startEstimate(p.topology, targetsOf(p)));
      let running;
      try {
        running = await startTopology(p.topology, settings, workflowBundle, targetsOf(p), (label) => progress.at(label));
      } catch (err) {
        entry.error = err instanceof Error ? err.message : String(err);
        result.failures.push({ topology: p.topology, scenario: 'start', error: entry.error });
        process.stderr.write(`\nbench: ${p.topology} did not start: ${entry.error}\n`);
        progress.skip(p.scenarios.reduce((n, s) => n + s.estimateSeconds(settings, p.topology), 0));
        continue;
      }
      entry.description = running.ctx.description;
      let label = '';
      const record = (row: Omit<Row, 'topology'>, opts: { quiet?: boolean } = {}): Row => {
        const full: Row = { topology: p.topology, ...row };
        result.rows.push(full);
        if (!opts.quiet) printRow(full);
        return full;
      };
      const ceilings = new Ceilings(running.ctx, settings, record, (step) => progress.at(step), engineBundle);
      const topology = running;
      stopRunning = async () => {
        await ceilings.close();
        await topology.stop();
      };
      try {
        for (const scenario of p.scenarios) {
          label = scenario.label;
          progress.begin(`${p.topology}: ${scenario.title}`, scenario.estimateSeconds(settings, p.topology));
          const ctx: ScenarioContext = {
            topology: running.ctx,
            settings,
            ceilings,
            record,
            step: (s) => progress.at(s),
            rows: () => result.rows,
            note: (text) => result.notes.push({ topology: p.topology, scenario: label, text }),
            table: (t) => result.tables.push({ topology: p.topology, scenario: label, ...t }),
          };
          try {
            await scenario.run(ctx);
          } catch (err) {
            const error = err instanceof Error ? err.message : String(err);
            result.failures.push({ topology: p.topology, scenario: scenario.label, error });
            process.stderr.write(`\nbench: ${p.topology} ${scenario.label} broke: ${err instanceof Error ? (err.stack ?? error) : error}\n`);
          }
        }
      } finally {
        progress.at('stopping');
        stopRunning = undefined;
        await ceilings.close();
        await running.stop();
      }
    }
  } catch (err) {
    result.failures.push({ topology: settings.topologies[0]!, scenario: 'run', error: err instanceof Error ? err.message : String(err) });
    process.stderr.write(`\nbench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  } finally {
    progress.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const report = finish();
  process.stdout.write(`\nReport: ${path.relative(process.cwd(), report)} (and ${path.relative(process.cwd(), path.join(path.dirname(report), 'latest.md'))})\n`);
  if (result.failures.length > 0) process.stdout.write(`${result.failures.length} part(s) broke; see "What broke" in the report.\n`);
  return result.failures.length > 0 ? 1 : 0;
}

let settings: Settings | 'help';
try {
  settings = parseSettings(process.argv.slice(2), process.env);
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
  process.exit(2);
}
if (settings === 'help') {
  process.stdout.write(`${USAGE}\nSee the header of bench/run.ts for every setting.\n`);
  process.exit(0);
}
main(settings).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
