/**
 * S3, fan-out: the same creates as S2, with three non-blocking SCIM 2.0 targets (three instances) linked from the
 * resident service provider. Its figure is users provisioned everywhere per second: the level's users divided by the
 * time from its start until the last of them is on the last target. Its latency is create-to-all-targets: from the
 * create's answer to the user's delivery to the last of its three targets (the source's delivery audit,
 * bench/deliveries.ts), p50 at c=1 being the issue's target. Read against S2's no-target creates at the same level.
 */
import crypto from 'node:crypto';
import { createOp, setLinks, waitDelivered, checkClock, type Created } from './deliveries.js';
import { against, atLeast, atMost, fromLoad, type Row, type Scenario, type ScenarioContext, type Target } from './framework.js';
import { HttpClient, runLoad } from './load.js';
import { NO_TARGET } from './s2-creates.js';
import { pcts } from './stats.js';
import { bearerToken } from './topology.js';

export const s3: Scenario = {
  name: 's3',
  label: 'S3',
  title: 'S3 fan-out to three SCIM targets',
  topologies: ['embedded', 'production'],
  targets: 3,
  levels: (s) => s.levels ?? (s.quick ? [1] : [1, 4, 16]),
  estimateSeconds: (s) => 5 + s3.levels(s).length * (s.seconds * 3 + s.warmupSeconds + 1),
  async run(ctx: ScenarioContext): Promise<Row[]> {
    const { source, targets } = ctx.topology;
    const three = targets.slice(0, 3);
    const token = await bearerToken(source, `bench-s3-${crypto.randomBytes(3).toString('hex')}`);
    ctx.step('linking three targets');
    const connectorIds = await setLinks(
      source,
      three.map((target) => ({ target, blocking: false })),
    );
    ctx.note(
      'Figure: users on all three targets per second (level start to the last delivery). p50/p95/p99: create-to-all-targets, ' +
        "from the create's answer to its delivery to the last of its three targets (source's outbound audit). The create's own answer latency is in the extra column.",
    );
    const rows: Row[] = [];
    for (const c of s3.levels(ctx.settings)) {
      ctx.step(`3 targets c=${c}`);
      const http = new HttpClient(source.baseUrl, c, { Authorization: `Bearer ${token}` });
      const created: Created[] = [];
      const prefix = `s3-${crypto.randomBytes(3).toString('hex')}-c${c}`;
      const r = await runLoad({ concurrency: c, seconds: ctx.settings.seconds, warmupSeconds: ctx.settings.warmupSeconds, op: createOp(http, prefix, created) }).finally(() => http.close());
      ctx.step(`3 targets c=${c}: waiting for the deliveries`);
      const arrivals = await waitDelivered(source, created, connectorIds, three, ctx.settings.drainTimeoutSeconds * 1000);
      checkClock(arrivals, created);
      const measured = created.filter((u) => u.i >= r.firstMeasured);
      const toAll = measured.map((u) => arrivals.lastDelivery.get(u.id)! - u.answeredAt).sort((a, b) => a - b);
      const last = Math.max(...measured.map((u) => arrivals.lastDelivery.get(u.id)!));
      const seconds = (last - r.startedAt) / 1000;
      const throughput = measured.length / seconds;
      const latency = pcts(toAll);
      const s2Row = ctx.rows().find((x) => x.topology === ctx.topology.name && x.scenario === 'S2' && x.case === NO_TARGET && x.concurrency === c);
      const list = s2Row ? [against(throughput, s2Row)] : [];
      const targetsOf: Target[] = [atLeast(list[0], 0.5, `S2 ${NO_TARGET}`)];
      if (c === 1) targetsOf.push(atMost(latency.p50, 300, 'p50 create-to-all-targets'));
      const load = fromLoad(r);
      rows.push(
        ctx.record({
          scenario: 'S3',
          case: 'create, 3 non-blocking targets',
          unit: 'users/s on all targets',
          ...load,
          seconds,
          throughput,
          ...latency,
          against: list,
          targets: targetsOf,
          extra: { 'creates answered (creates/s)': Number(r.throughput.toFixed(2)), 'create answer p50 (ms)': Number(r.p50.toFixed(1)), 'create answer p99 (ms)': Number(r.p99.toFixed(1)) },
        }),
      );
    }
    return rows;
  },
};
