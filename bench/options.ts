/**
 * The bench's settings, from flags first and the BENCH_* environment variables second (bench/run.ts's header lists
 * both). `--quick` changes the defaults only: whatever is given explicitly wins.
 */
import { parseArgs } from 'node:util';
import type { TopologyName } from './framework.js';

export interface Settings {
  quick: boolean;
  scenarios: string[];
  topologies: TopologyName[];
  /** Measured seconds per level (and per case) of the throughput scenarios. */
  seconds: number;
  /** Unmeasured seconds before each measured level. */
  warmupSeconds: number;
  /** Overrides every scenario's levels when set. */
  levels: number[] | undefined;
  /** S1's directory size. */
  users: number;
  /** S5: users loaded through /Bulk, operations per Bulk request, and concurrent clients sending them. */
  bulk: { users: number; size: number; clients: number };
  /** How long a delivery may take to arrive before the bench calls it broken. */
  drainTimeoutSeconds: number;
  /** A PostgreSQL server for the production topology; unset: a throwaway cluster from the machine's PostgreSQL. */
  databaseUrl: string | undefined;
  outDir: string;
  fed: { subjects: number; levels: number[] };
  rules: { seconds: number; requests: number };
}

export const ALL_SCENARIOS = ['s1', 's2', 's3', 's4', 'rules', 's5', 's6'];
/** S3 needs three more instances, which take a minute or more to start on two busy cores: asked for, not default. */
const QUICK_SCENARIOS = ['s1', 's2'];
const TOPOLOGIES: readonly TopologyName[] = ['embedded', 'production'];

export const USAGE = `npm run bench -- [--quick] [--scenarios s1,s2,s3,s4,rules,s5,s6] [--topologies embedded,production]
                 [--seconds N] [--warmup N] [--levels 1,4,16] [--users N] [--bulk-users N] [--out DIR]`;

function list(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  return value
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
}

function numbers(value: string | undefined, what: string): number[] | undefined {
  const l = list(value);
  if (!l) return undefined;
  const n = l.map(Number);
  if (n.some((x) => !Number.isInteger(x) || x < 1 || x > 1024)) throw new Error(`${what}: expected integers from 1 to 1024, got "${value}"`);
  return n;
}

function number(value: string | undefined, what: string, min: number, max: number): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`${what}: expected a number from ${min} to ${max}, got "${value}"`);
  return n;
}

/** BENCH_DATABASES of the earlier bench ("embedded,postgres") still selects topologies. */
function topologyNames(value: string | undefined): TopologyName[] | undefined {
  const l = list(value)?.map((t) => (t === 'postgres' ? 'production' : t));
  if (!l) return undefined;
  for (const t of l) if (!TOPOLOGIES.includes(t as TopologyName)) throw new Error(`unknown topology "${t}" (${TOPOLOGIES.join(', ')})`);
  return l as TopologyName[];
}

export function parseSettings(argv: string[], env: NodeJS.ProcessEnv): Settings | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      scenarios: { type: 'string' },
      topologies: { type: 'string' },
      seconds: { type: 'string' },
      warmup: { type: 'string' },
      levels: { type: 'string' },
      users: { type: 'string' },
      'bulk-users': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const quick = values.quick === true || env.BENCH_QUICK === '1';
  const scenarios = list(values.scenarios ?? env.BENCH_SCENARIOS) ?? (quick ? QUICK_SCENARIOS : ALL_SCENARIOS);
  // "scim" was the earlier bench's creates and reads: S1 to S3 now.
  const expanded = [...new Set(scenarios.flatMap((s) => (s === 'scim' ? ['s1', 's2', 's3'] : [s])))];
  for (const s of expanded) if (!ALL_SCENARIOS.includes(s)) throw new Error(`unknown scenario "${s}" (${ALL_SCENARIOS.join(', ')})`);
  return {
    quick,
    scenarios: ALL_SCENARIOS.filter((s) => expanded.includes(s)),
    topologies: topologyNames(values.topologies ?? env.BENCH_TOPOLOGIES ?? env.BENCH_DATABASES) ?? (quick ? ['embedded'] : [...TOPOLOGIES]),
    seconds: number(values.seconds ?? env.BENCH_SECONDS, 'seconds', 0.5, 3600) ?? (quick ? 2 : 10),
    warmupSeconds: number(values.warmup ?? env.BENCH_WARMUP, 'warmup', 0, 600) ?? (quick ? 0.5 : 2),
    levels: numbers(values.levels ?? env.BENCH_CONCURRENCY, 'levels'),
    users: number(values.users ?? env.BENCH_USERS, 'users', 100, 10_000_000) ?? (quick ? 10_000 : 100_000),
    bulk: {
      users: number(values['bulk-users'] ?? env.BENCH_BULK_USERS, 'bulk-users', 100, 10_000_000) ?? (quick ? 5_000 : 100_000),
      size: number(env.BENCH_BULK_SIZE, 'BENCH_BULK_SIZE', 1, 1000) ?? 1000,
      clients: number(env.BENCH_BULK_CLIENTS, 'BENCH_BULK_CLIENTS', 1, 64) ?? 4,
    },
    drainTimeoutSeconds: number(env.BENCH_DRAIN_TIMEOUT, 'BENCH_DRAIN_TIMEOUT', 10, 7200) ?? 600,
    databaseUrl: env.BENCH_DATABASE_URL || undefined,
    outDir: values.out ?? env.BENCH_OUT ?? 'bench/results',
    fed: {
      subjects: number(env.BENCH_FED_SUBJECTS, 'BENCH_FED_SUBJECTS', 1, 10_000) ?? 40,
      levels: numbers(env.BENCH_FED_CONCURRENCY, 'BENCH_FED_CONCURRENCY') ?? [1, 4],
    },
    rules: {
      seconds: number(env.BENCH_RULES_SECONDS, 'BENCH_RULES_SECONDS', 0.5, 600) ?? 5,
      requests: number(env.BENCH_RULES_REQUESTS, 'BENCH_RULES_REQUESTS', 1, 100_000) ?? 60,
    },
  };
}
