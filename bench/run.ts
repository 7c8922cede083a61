/**
 * `npm run bench`: SCIM creates through the whole path (HTTP -> InboundProvision -> user store ->
 * OutboundFanOut -> SCIM 2.0 connector -> a second instance), on the embedded PostgreSQL and on a real
 * PostgreSQL, for non-blocking and blocking links, at several concurrency levels; then GET by id and a
 * filtered list ("scim"). Then S4 ("s4", bench/federated-login.ts): the time a federated login spends in this
 * server (/commonauth, callback to redirect back), first login and returning user, next to the bare
 * `oidc-provider` code exchange measured in the same run. Then the rules ("rules", bench/rules.ts): decisions per
 * second of the XACML decision point on one core for a 100-rule policy and a 1,000-policy set, and what a rule check
 * adds to one blocking delivery. It reports; it never fails on a number.
 *
 * Settings (environment): BENCH_SCENARIOS (which to run, default "scim,s4,rules"; `BENCH_SCENARIOS=s4 npm run bench`
 * is S4 alone, about a minute per database), BENCH_RULES_SECONDS (how long each decision-point set runs, default 5),
 * BENCH_RULES_REQUESTS (blocking creates per side of the rule-check cost, default 60), BENCH_REQUESTS (creates per level, default 120), BENCH_CONCURRENCY
 * (default "1,4,16"), BENCH_READS (default 400), BENCH_FED_SUBJECTS (S4's distinct subjects per level, default 40),
 * BENCH_FED_CONCURRENCY (S4's levels, default "1,4"), BENCH_DATABASES ("embedded,postgres"; both scenario sets run
 * on each), BENCH_DATABASE_URL (a PostgreSQL server to create databases on; default: a throwaway cluster from the
 * machine's PostgreSQL).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { acquireTemporalCli } from '../src/temporal/cli-binary.js';
import { startDevServer } from '../src/temporal/dev-server.js';
import { workflowsPath } from '../worker/main.js';
import { eventually, linkScim2Target, startInstance, type Stack } from '../test/harness.js';
import { freePort } from '../test/support/ports.js';
import { startTempPostgres } from '../test/support/postgres.js';
import { benchFederatedLogin } from './federated-login.js';
import { benchRuleDelivery, benchRules } from './rules.js';
import { WSO2_ROOT_COMBINING_ALGORITHM } from '../src/rules/provisioning-request.js';
import { fixed, machineLine, pcts, percentile } from './stats.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 120);
const LEVELS = (process.env.BENCH_CONCURRENCY ?? '1,4,16').split(',').map(Number);
const READS = Number(process.env.BENCH_READS ?? 400);
const DATABASES = (process.env.BENCH_DATABASES ?? 'embedded,postgres').split(',');
const SCENARIOS = new Set((process.env.BENCH_SCENARIOS ?? 'scim,s4,rules').split(',').map((s) => s.trim().toLowerCase()));
const FED_SUBJECTS = Number(process.env.BENCH_FED_SUBJECTS ?? 40);
const FED_LEVELS = (process.env.BENCH_FED_CONCURRENCY ?? '1,4').split(',').map(Number);
const RULES_SECONDS = Number(process.env.BENCH_RULES_SECONDS ?? 5);
const RULES_REQUESTS = Number(process.env.BENCH_RULES_REQUESTS ?? 60);

interface Row {
  database: string;
  scenario: string;
  concurrency: number;
  requests: number;
  errors: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  extra?: string;
}

/** Runs `total` calls of `op` with `concurrency` in flight; returns latencies (ms) and errors. */
async function load(total: number, concurrency: number, op: (i: number) => Promise<boolean>) {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t0 = performance.now();
        const ok = await op(i).catch(() => false);
        latencies.push(performance.now() - t0);
        if (!ok) errors += 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((x, y) => x - y);
  return { latencies, errors, rps: total / seconds };
}

async function benchDatabase(database: string, stack: Stack, rows: Row[]): Promise<void> {
  const [a, b] = await Promise.all([startInstance('bench-A', { stack }), startInstance('bench-B', { stack })]);
  try {
    const { connectorId } = await linkScim2Target(a, b, { blocking: false });
    const linksPath = '/api/server/v1/applications/resident/provisioning/outbound-connectors';
    const ids: string[] = [];
    const names: string[] = [];
    for (const blocking of [false, true]) {
      // Re-link with the blocking flag of this round.
      for (const l of (await (await a.request('GET', linksPath)).json()) as { id: string }[]) await a.request('DELETE', `${linksPath}/${l.id}`);
      await a.request('POST', linksPath, { connectorId, blocking });
      for (const concurrency of LEVELS) {
        const prefix = `${blocking ? 'b' : 'nb'}-c${concurrency}-${Date.now()}`;
        const batchStart = performance.now();
        const r = await load(REQUESTS, concurrency, async (i) => {
          const userName = `${prefix}-${i}`;
          const res = await a.request('POST', '/scim2/Users', {
            userName,
            name: { givenName: 'Bench', familyName: String(i) },
            emails: [{ value: `${userName}@example.org`, type: 'work', primary: true }],
          });
          if (res.status !== 201) return false;
          const body = (await res.json()) as { id: string };
          ids.push(body.id);
          names.push(userName);
          return true;
        });
        // Non-blocking: how long until the last user of the batch has reached B.
        let extra: string | undefined;
        if (!blocking) {
          await eventually(async () => {
            const res = await b.request('GET', `/scim2/Users?count=0&filter=${encodeURIComponent(`userName eq "${prefix}-${REQUESTS - 1}"`)}`);
            return ((await res.json()) as { totalResults: number }).totalResults === 1 ? true : undefined;
          }, 300_000, 'the last user on B');
          extra = `all on B after ${((performance.now() - batchStart) / 1000).toFixed(1)} s`;
        }
        rows.push({
          database,
          scenario: `POST /Users, ${blocking ? 'blocking' : 'non-blocking'} link`,
          concurrency,
          requests: REQUESTS,
          errors: r.errors,
          rps: r.rps,
          p50: percentile(r.latencies, 50),
          p95: percentile(r.latencies, 95),
          p99: percentile(r.latencies, 99),
          ...(extra && { extra }),
        });
        printRow(rows.at(-1)!);
      }
    }
    for (const concurrency of [1, 16]) {
      const byId = await load(READS, concurrency, async (i) => (await a.request('GET', `/scim2/Users/${ids[i % ids.length]!}`)).status === 200);
      rows.push({ database, scenario: 'GET /Users/{id}', concurrency, requests: READS, errors: byId.errors, rps: byId.rps, ...pcts(byId.latencies) });
      printRow(rows.at(-1)!);
      const filtered = await load(READS, concurrency, async (i) => {
        const res = await a.request('GET', `/scim2/Users?filter=${encodeURIComponent(`userName eq "${names[i % names.length]!}"`)}`);
        return res.status === 200 && ((await res.json()) as { totalResults: number }).totalResults === 1;
      });
      rows.push({ database, scenario: 'GET /Users?filter=userName eq', concurrency, requests: READS, errors: filtered.errors, rps: filtered.rps, ...pcts(filtered.latencies) });
      printRow(rows.at(-1)!);
    }
  } finally {
    await Promise.allSettled([a.stop(), b.stop()]);
  }
}

/** What a rule check adds to one blocking delivery, A to B (bench/rules.ts). */
async function ruleCheckCost(database: string, stack: Stack): Promise<void> {
  const [a, b] = await Promise.all([startInstance('bench-rules-A', { stack }), startInstance('bench-rules-B', { stack })]);
  try {
    const { connectorId } = await linkScim2Target(a, b, { blocking: true });
    await benchRuleDelivery(database, { a, b, connectorId }, RULES_REQUESTS);
  } finally {
    await Promise.allSettled([a.stop(), b.stop()]);
  }
}

function printRow(r: Row): void {
  const f = fixed;
  process.stdout.write(
    `${r.database.padEnd(9)} ${r.scenario.padEnd(34)} c=${String(r.concurrency).padEnd(3)} n=${String(r.requests).padEnd(4)} err=${String(r.errors).padEnd(3)} ` +
      `${f(r.rps)} req/s  p50 ${f(r.p50)} ms  p95 ${f(r.p95)} ms  p99 ${f(r.p99)} ms${r.extra ? `  (${r.extra})` : ''}\n`,
  );
}

async function main(): Promise<void> {
  for (const s of SCENARIOS) if (!['scim', 's4', 'rules'].includes(s)) throw new Error(`BENCH_SCENARIOS: unknown scenario set "${s}" (scim, s4, rules)`);
  process.stdout.write(`${machineLine()}\n`);
  if (SCENARIOS.has('scim')) process.stdout.write(`scim: two instances (api + worker processes each) on one Temporal dev server; A provisions to B over SCIM 2.0.\n`);
  if (SCENARIOS.has('s4')) {
    process.stdout.write(
      `s4: one instance federated to a standalone oidc-provider (silent JIT) and the sample RP; ${FED_SUBJECTS} subjects per level; ` +
        `S4 times /commonauth (callback to 303), ref times openid-client's code exchange at the same provider.\n`,
    );
  }
  if (SCENARIOS.has('rules')) {
    process.stdout.write(`rules: the decision point in this process (no I/O), WSO2-profile requests, root algorithm deny-overrides (WSO2's default); ${RULES_SECONDS} s per set.\n`);
    benchRules({ seconds: RULES_SECONDS, rootCombiningAlgorithm: WSO2_ROOT_COMBINING_ALGORITHM });
  }
  process.stdout.write('\n');
  const cli = await acquireTemporalCli({ cliPath: process.env.TEMPORAL_CLI_PATH });
  const temporal = await startDevServer({ cliPath: cli, port: await freePort(), uiPort: await freePort(), output: null });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'provisioning-bench-'));
  const bundlePath = path.join(tmp, 'workflow-bundle.js');
  fs.writeFileSync(bundlePath, (await bundleWorkflowCode({ workflowsPath: workflowsPath(), logger: new DefaultLogger('WARN') })).code);
  const rows: Row[] = [];
  let pg: Awaited<ReturnType<typeof startTempPostgres>>;
  try {
    for (const database of DATABASES) {
      let postgresUrl: string | undefined;
      if (database === 'postgres') {
        postgresUrl = process.env.BENCH_DATABASE_URL;
        if (!postgresUrl) {
          pg = await startTempPostgres();
          postgresUrl = pg?.url;
        }
        if (!postgresUrl) {
          process.stdout.write('postgres: skipped (no BENCH_DATABASE_URL and no local PostgreSQL installation)\n');
          continue;
        }
      }
      const stack: Stack = { temporalAddress: temporal.address, workflowBundle: bundlePath, postgresUrl };
      if (SCENARIOS.has('scim')) await benchDatabase(database, stack, rows);
      if (SCENARIOS.has('s4')) await benchFederatedLogin(database, stack, { subjects: FED_SUBJECTS, levels: FED_LEVELS });
      if (SCENARIOS.has('rules')) await ruleCheckCost(database, stack);
    }
  } finally {
    pg?.stop();
    await temporal.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  process.stdout.write('\nFigures are from a shared machine; compare them as ratios within one run.\n');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
