/**
 * Every scenario of `npm run bench`, in the order they run on each topology (S3 is read against S2's rows, so S2
 * comes first). S5 (/Bulk) and S6 (burst + worker kill) are to be added here with the same Scenario interface
 * (bench/framework.ts): a name, a label, its topologies and levels, the targets it needs, an estimate, a run.
 *
 * S4 (federated login, bench/federated-login.ts) and the rules (bench/rules.ts) are the earlier bench's sets, kept
 * as scenarios: S4 starts an instance of its own next to a standalone OpenID provider; the rules' decision point
 * runs in this process (no I/O, on the first topology only: it does not depend on one), and what a rule check adds
 * to a blocking create runs on the topology's source and first target.
 */
import { WSO2_ROOT_COMBINING_ALGORITHM } from '../src/rules/provisioning-request.js';
import { connectorTo } from './deliveries.js';
import { benchFederatedLogin, type FederatedLoginRow } from './federated-login.js';
import type { Row, Scenario } from './framework.js';
import { benchRuleDelivery, benchRules } from './rules.js';
import { s1 } from './s1-reads.js';
import { s2 } from './s2-creates.js';
import { s3 } from './s3-fan-out.js';
import { s5 } from './s5-bulk.js';
import { s6 } from './s6-burst.js';

const s4: Scenario = {
  name: 's4',
  label: 'S4',
  title: 'S4 federated login (time in this server at /commonauth)',
  topologies: ['embedded', 'production'],
  targets: 0,
  levels: (s) => s.fed.levels,
  estimateSeconds: (s) => 20 + s.fed.levels.length * s.fed.subjects * 1.2,
  async run(ctx) {
    ctx.step('federated logins');
    ctx.note(
      'Each login: the sample RP, this server, a standalone oidc-provider as the IdP, over HTTP. Latencies: /commonauth (callback to redirect); ' +
        '"ref" rows: the bare code exchange (and userinfo) at the same provider. Whole-login p50 in the extra column.',
    );
    // bench/federated-login.ts prints its own lines (and the ratios): the rows are recorded quietly.
    const fed = await benchFederatedLogin(ctx.topology.name, ctx.topology.stack, ctx.settings.fed);
    const vsExchange = (r: FederatedLoginRow): string | undefined => {
      const at = (scenario: string) => fed.find((x) => x.scenario === scenario && x.concurrency === r.concurrency);
      const ref = at('ref exchange');
      const info = at('ref userinfo');
      if (!ref || !info || !r.scenario.startsWith('S4')) return undefined;
      return `${(r.p50 / ref.p50).toFixed(1)}x the bare exchange; +${(r.p50 - ref.p50 - info.p50).toFixed(0)} ms over exchange + userinfo`;
    };
    return fed.map((r) => {
      const extra: Record<string, string | number> = {};
      const ratio = vsExchange(r);
      if (ratio) extra['p50 against'] = ratio;
      if (r.endToEnd) extra['whole login p50 (ms)'] = Number(r.endToEnd.p50.toFixed(1));
      if (r.extra) extra.note = r.extra;
      const row = { scenario: 'S4', case: r.scenario, concurrency: r.concurrency, requests: r.requests, errors: r.errors, throughput: NaN, unit: 'logins', p50: r.p50, p95: r.p95, p99: r.p99 };
      return ctx.record({ ...row, ...(Object.keys(extra).length > 0 && { extra }) }, { quiet: true });
    });
  },
};

const rules: Scenario = {
  name: 'rules',
  label: 'rules',
  title: 'Rules (XACML decision point; what a rule check adds to a blocking create)',
  topologies: ['embedded', 'production'],
  targets: 1,
  levels: () => [1],
  estimateSeconds: (s) => 2 * s.rules.seconds + 5 + s.rules.requests * 2 * 0.15,
  async run(ctx) {
    // bench/rules.ts prints its own lines: the rows are recorded quietly.
    const rows: Row[] = [];
    // Once per run: it does not depend on the topology.
    if (!ctx.rows().some((r) => r.scenario === 'rules' && r.case.startsWith('decision point'))) {
      ctx.step('decision point');
      for (const r of benchRules({ seconds: ctx.settings.rules.seconds, rootCombiningAlgorithm: WSO2_ROOT_COMBINING_ALGORITHM })) {
        const row = { scenario: 'rules', case: `decision point, ${r.set}`, concurrency: 1, requests: r.decisions, errors: 0, throughput: r.perSecond, unit: 'decisions/s (one core)', p50: NaN, p95: NaN, p99: NaN };
        rows.push(ctx.record({ ...row, extra: { 'load + compile (ms)': Number(r.compileMs.toFixed(1)), decisions: r.decisionsSeen } }, { quiet: true }));
      }
      ctx.note('The decision point runs in the bench process, on one core, WSO2-profile requests, root algorithm deny-overrides; measured once per run.');
    }
    ctx.step('rule check cost, blocking creates');
    const { source, targets } = ctx.topology;
    const connectorId = await connectorTo(source, targets[0]!);
    const delivery = await benchRuleDelivery(ctx.topology.name, { a: source, b: targets[0]!, connectorId }, ctx.settings.rules.requests);
    const off = delivery.find((d) => !d.rulesEnabled);
    for (const d of delivery) {
      const row = { scenario: 'rules', case: `blocking create, Enable Rules ${d.rulesEnabled ? 'on' : 'off'}`, concurrency: 1, requests: d.requests, errors: d.errors, throughput: NaN, unit: 'creates', p50: d.p50, p95: d.p95, p99: d.p99 };
      rows.push(ctx.record({ ...row, ...(d.rulesEnabled && off && { extra: { 'added to the median (ms)': Number((d.p50 - off.p50).toFixed(1)) } }) }, { quiet: true }));
    }
    return rows;
  },
};

export const SCENARIOS: readonly Scenario[] = [s1, s2, s3, s4, rules, s5, s6];
