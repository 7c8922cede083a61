/**
 * S2, durable creates: POST /scim2/Users (each one an InboundProvision workflow, answered once it is recorded and
 * applied) with a client-credentials bearer token, at each level, in three cases:
 *   - no target: no outbound link at all, read against the engine ceiling (the trivial workflow at the same level);
 *   - one non-blocking SCIM 2.0 target: answered once stored here, delivered after; also the time from the level's
 *     start until the last of its users is on the target (the source's delivery audit, bench/deliveries.ts);
 *   - one blocking SCIM 2.0 target: answered once the target has it.
 * Each case's levels run one after the other, each after its predecessor's deliveries all arrived, so a level is
 * never measured while the last one's backlog drains.
 */
import crypto from 'node:crypto';
import { CEILING } from './ceilings.js';
import { createOp, setLinks, waitDelivered, checkClock, type Created } from './deliveries.js';
import { against, atLeast, atMost, fromLoad, type Row, type Scenario, type ScenarioContext, type Target } from './framework.js';
import { HttpClient, runLoad } from './load.js';
import { bearerToken } from './topology.js';

export const NO_TARGET = 'create, no target';
const CASES = [
  { name: NO_TARGET, link: undefined },
  { name: 'create, 1 non-blocking target', link: { blocking: false } },
  { name: 'create, 1 blocking target', link: { blocking: true } },
] as const;

export const s2: Scenario = {
  name: 's2',
  label: 'S2',
  title: 'S2 durable creates',
  topologies: ['embedded', 'production'],
  targets: 1,
  levels: (s) => s.levels ?? (s.quick ? [1, 16] : [1, 4, 16]),
  estimateSeconds: (s) => 5 + s2.levels(s).length * (CASES.length + 1) * (s.seconds * 1.5 + s.warmupSeconds + 1),
  async run(ctx: ScenarioContext): Promise<Row[]> {
    const { source, targets } = ctx.topology;
    const target = targets[0]!;
    const token = await bearerToken(source, `bench-s2-${crypto.randomBytes(3).toString('hex')}`);
    const rows: Row[] = [];
    ctx.note(
      'POST /scim2/Users with a client-credentials bearer token; each user new (userName, externalId, name, displayName, one email). ' +
        'Latencies are the create\'s answer. "on target after" is from the level\'s start to the last of its users delivered (source\'s outbound audit).',
    );
    for (const k of CASES) {
      ctx.step(`${k.name}: linking`);
      const connectorIds = await setLinks(source, k.link ? [{ target, blocking: k.link.blocking }] : []);
      for (const c of s2.levels(ctx.settings)) {
        const engine = k.link ? undefined : await ctx.ceilings.engineAt(c);
        ctx.step(`${k.name} c=${c}`);
        const http = new HttpClient(source.baseUrl, c, { Authorization: `Bearer ${token}` });
        const created: Created[] = [];
        const prefix = `s2-${crypto.randomBytes(3).toString('hex')}-c${c}`;
        const r = await runLoad({ concurrency: c, seconds: ctx.settings.seconds, warmupSeconds: ctx.settings.warmupSeconds, op: createOp(http, prefix, created) }).finally(() => http.close());
        const measured = created.filter((u) => u.i >= r.firstMeasured);
        const extra: Record<string, number | string> = {};
        if (k.link) {
          ctx.step(`${k.name} c=${c}: waiting for the deliveries`);
          const arrivals = await waitDelivered(source, created, connectorIds, [target], ctx.settings.drainTimeoutSeconds * 1000);
          checkClock(arrivals, created);
          const last = Math.max(...measured.map((u) => arrivals.lastDelivery.get(u.id)!));
          if (!k.link.blocking) {
            extra['on target after (s)'] = Number(((last - r.startedAt) / 1000).toFixed(2));
            extra['reaching the target (users/s)'] = Number((measured.length / ((last - r.startedAt) / 1000)).toFixed(2));
          } else {
            const pending = measured.filter((u) => u.pending).length;
            if (pending > 0) extra['answered before the target (pending)'] = pending;
          }
        }
        const targetsOf: Target[] = [];
        const list = engine ? [against(r.throughput, engine)] : [];
        if (engine) {
          targetsOf.push(atLeast(list[0], 0.8, CEILING.engine));
          targetsOf.push(atMost(r.p99, 3 * engine.p99, 'p99', `p99 ≤ 3x the ceiling's p99 (${Math.round(3 * engine.p99)} ms)`));
        } else {
          const noTarget = ctx.rows().find((x) => x.topology === ctx.topology.name && x.scenario === 'S2' && x.case === NO_TARGET && x.concurrency === c);
          if (noTarget) list.push(against(r.throughput, noTarget));
        }
        rows.push(ctx.record({ scenario: 'S2', case: k.name, unit: 'creates/s', ...fromLoad(r), against: list, ...(targetsOf.length > 0 && { targets: targetsOf }), ...(Object.keys(extra).length > 0 && { extra }) }));
      }
    }
    return rows;
  },
};
