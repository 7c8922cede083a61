/**
 * The rules scenario ("rules"): decisions per second of the XACML decision point (src/rules/) on one core, for
 *   - a 100-rule policy: one Policy of 100 role-and-operation rules under deny-overrides, so every decision
 *     evaluates every rule's target and most conditions (the worst case of a single large policy);
 *   - a 1,000-policy set: 1,000 top-level policies, each with a Target naming one service provider and one identity
 *     provider as WSO2's provisioning templates do, combined by the root algorithm; a request is for one pair.
 * Requests are built the way WSO2's rule handler builds them (the `wso2` profile), for a user in 10 groups. Also the
 * time to load and compile each set (what a policy change costs every worker). One thread: Node runs the decision
 * point on the event loop, so this is one core's figure. WSO2 publishes >2,000 decisions/s for Balana with its
 * decision cache on, 4 vCPU and 1,000 policies; nothing is cached here.
 */
import { loadPolicy, Pdp, type LoadedPolicy } from '../src/rules/index.js';
import { buildProvisioningRequest, type ProvisioningDecisionInput } from '../src/rules/provisioning-request.js';
import type { Instance } from '../test/harness.js';
import { fixed, pcts } from './stats.js';

const NS = 'urn:oasis:names:tc:xacml:3.0:core:schema:wd-17';
const STRING = 'http://www.w3.org/2001/XMLSchema#string';
const FN = 'urn:oasis:names:tc:xacml:1.0:function';

const designator = (category: string, id: string, mustBePresent = true) =>
  `<AttributeDesignator AttributeId="${id}" Category="${category}" DataType="${STRING}" MustBePresent="${mustBePresent}"/>`;
const match = (value: string, category: string, id: string) =>
  `<Match MatchId="${FN}:string-equal"><AttributeValue DataType="${STRING}">${value}</AttributeValue>${designator(category, id, false)}</Match>`;
const operation = (op: string) => match(op, 'http://wso2.org/identity/provisioning', 'http://wso2.org/identity/provisioning/provision-operation');
/** The groups WSO2 sends: the role list given to addUser (`claim-group`) on POST, the user's groups claim on PUT. */
const groupIsIn = (group: string, op = 'POST') =>
  `<Apply FunctionId="${FN}:string-is-in"><AttributeValue DataType="${STRING}">${group}</AttributeValue>` +
  (op === 'POST'
    ? designator('http://wso2.org/identity/provisioning', 'http://wso2.org/identity/provisioning/claim-group')
    : designator('http://wso2.org/identity/user', 'http://wso2.org/claims/groups')) +
  `</Apply>`;
const spIs = (name: string) =>
  `<Apply FunctionId="${FN}:string-is-in"><AttributeValue DataType="${STRING}">${name}</AttributeValue>` +
  `${designator('http://wso2.org/identity/sp', 'http://wso2.org/identity/sp/sp-name')}</Apply>`;

/**
 * One Policy of `rules` rules: rule i is for operation POST, PUT or DELETE (i mod 3); creates and updates are
 * permitted (every tenth denied) to members of group-i, deletes when they come from application app-i.
 */
function hundredRulePolicy(rules: number): string {
  const ops = ['POST', 'PUT', 'DELETE'];
  const body = Array.from(
    { length: rules },
    (_, i) =>
      `<Rule RuleId="r${i}" Effect="${i % 10 === 9 ? 'Deny' : 'Permit'}"><Target><AnyOf><AllOf>${operation(ops[i % 3]!)}</AllOf></AnyOf></Target>` +
      `<Condition>${i % 3 === 2 ? spIs(`app-${i % 50}`) : groupIsIn(`group-${i}`, ops[i % 3])}</Condition></Rule>`,
  ).join('');
  return (
    `<Policy xmlns="${NS}" PolicyId="bench-100-rules" Version="1.0" RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-overrides">` +
    `<Target/>${body}</Policy>`
  );
}

/** Policy i of the 1,000: for service provider app-(i mod 50) to identity provider idp-(i div 50), as WSO2's templates. */
function targetedPolicy(i: number): string {
  const sp = `app-${i % 50}`;
  const idp = `idp-${Math.floor(i / 50)}`;
  return (
    `<Policy xmlns="${NS}" PolicyId="bench-policy-${i}" Version="1.0" RuleCombiningAlgId="urn:oasis:names:tc:xacml:1.0:rule-combining-algorithm:first-applicable">` +
    `<Target><AnyOf><AllOf>${match(sp, 'http://wso2.org/identity/sp', 'http://wso2.org/identity/sp/sp-name')}` +
    `${match(idp, 'http://wso2.org/identity/idp', 'http://wso2.org/identity/idp/idp-name')}` +
    `${match('provisioning', 'http://wso2.org/identity/identity-action', 'http://wso2.org/identity/identity-action/action-name')}</AllOf></AnyOf></Target>` +
    ['POST', 'PUT']
      .map(
        (op) =>
          `<Rule RuleId="permit-members-${op}" Effect="Permit"><Target><AnyOf><AllOf>${operation(op)}</AllOf></AnyOf></Target>` +
          `<Condition><Apply FunctionId="${FN}:or">${groupIsIn(`group-${i % 7}`, op)}${groupIsIn('admins', op)}</Apply></Condition></Rule>`,
      )
      .join('') +
    `<Rule RuleId="deny-others" Effect="Deny"/></Policy>`
  );
}

function input(i: number, op: ProvisioningDecisionInput['operation']): ProvisioningDecisionInput {
  return {
    operation: op,
    resourceType: 'User',
    resource: {
      userName: `bench-user-${i}`,
      name: { givenName: 'Bench', familyName: String(i) },
      emails: [{ value: `bench-user-${i}@example.org`, primary: true }],
      active: true,
    },
    domain: 'PRIMARY',
    groups: Array.from({ length: 10 }, (_, g) => `group-${(i + g * 11) % 100}`),
    roles: ['Internal/everyone'],
    target: { idpName: `idp-${i % 20}`, connectorType: 'scim2', connectorId: '00000000-0000-4000-8000-000000000001' },
    application: { id: '00000000-0000-4000-8000-000000000002', name: `app-${i % 50}` },
    now: new Date(Date.UTC(2026, 11, 2, 10, 30, 0)),
  };
}

interface RulesRow {
  set: string;
  compileMs: number;
  decisions: number;
  perSecond: number;
  decisionsSeen: string;
}

/** Runs decisions for about `seconds`, after a warm-up; returns decisions/s and how the decisions came out. */
function measure(pdp: Pdp, requests: ReturnType<typeof buildProvisioningRequest>[], seconds: number) {
  for (let i = 0; i < 2_000; i++) pdp.evaluate(requests[i % requests.length]!);
  const counts = new Map<string, number>();
  let n = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  while (performance.now() < until) {
    for (let k = 0; k < 200; k++, n++) {
      const decision = pdp.evaluate(requests[n % requests.length]!).results[0]!.decision;
      counts.set(decision, (counts.get(decision) ?? 0) + 1);
    }
  }
  const elapsed = (performance.now() - started) / 1000;
  return { n, perSecond: n / elapsed, seen: [...counts].map(([d, c]) => `${d} ${Math.round((100 * c) / n)}%`).join(', ') };
}

export function benchRules(options: { seconds: number; rootCombiningAlgorithm: string }): RulesRow[] {
  const rows: RulesRow[] = [];
  const ops: ProvisioningDecisionInput['operation'][] = ['create', 'update', 'delete'];
  const requests = Array.from({ length: 600 }, (_, i) => buildProvisioningRequest(input(i, ops[i % 3]!), 'wso2'));

  const sets: { name: string; xml: string[] }[] = [
    { name: '100-rule policy', xml: [hundredRulePolicy(100)] },
    { name: '1,000-policy set with targets', xml: Array.from({ length: 1_000 }, (_, i) => targetedPolicy(i)) },
  ];
  for (const set of sets) {
    const t0 = performance.now();
    const policies: LoadedPolicy[] = set.xml.map((xml) => loadPolicy(xml));
    const pdp = new Pdp({ policies, topLevel: policies.map((p) => ({ id: p.id })), rootCombiningAlgorithm: options.rootCombiningAlgorithm });
    const compileMs = performance.now() - t0;
    const r = measure(pdp, requests, options.seconds);
    rows.push({ set: set.name, compileMs, decisions: r.n, perSecond: r.perSecond, decisionsSeen: r.seen });
    process.stdout.write(
      `rules     ${set.name.padEnd(30)} load+compile ${fixed(compileMs)} ms   ${fixed(r.perSecond)} decisions/s on one core  (n=${r.n}; ${r.seen})\n`,
    );
  }
  return rows;
}

/** One side of the rule-check cost: blocking creates at c=1 with Enable Rules off or on. */
export interface RuleDeliveryRow {
  rulesEnabled: boolean;
  requests: number;
  errors: number;
  p50: number;
  p95: number;
  p99: number;
}

/**
 * The cost a rule check adds to one delivery: POST /Users on A with a blocking SCIM 2.0 link to B (the request waits
 * for B), once with Enable Rules off and once on with a clean-profile policy that permits creates, c=1. The difference
 * of the medians is the decision activity (store reads, request building, evaluation) and its Temporal round trip.
 */
export async function benchRuleDelivery(
  database: string,
  pair: { a: Instance; b: Instance; connectorId: string },
  requests: number,
): Promise<RuleDeliveryRow[]> {
  const { a, connectorId } = pair;
  const linksPath = '/api/server/v1/applications/resident/provisioning/outbound-connectors';
  const permitCreates =
    `<Policy xmlns="${NS}" PolicyId="bench-permit-creates" Version="1" RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-unless-permit">` +
    `<Target/><Rule RuleId="creates" Effect="Permit"><Target><AnyOf><AllOf><Match MatchId="${FN}:string-equal">` +
    `<AttributeValue DataType="${STRING}">create</AttributeValue>` +
    `<AttributeDesignator AttributeId="urn:oasis:names:tc:xacml:1.0:action:action-id" Category="urn:oasis:names:tc:xacml:3.0:attribute-category:action" DataType="${STRING}" MustBePresent="true"/>` +
    `</Match></AllOf></AnyOf></Target></Rule></Policy>`;
  const saved = await a.request('POST', '/api/server/v1/rules/policies', { policy: permitCreates, profile: 'clean', enabled: true }, { 'Content-Type': 'application/json' });
  if (saved.status !== 201) throw new Error(`saving the bench policy failed: ${saved.status} ${await saved.text()}`);
  const medians: Record<'off' | 'on', number> = { off: NaN, on: NaN };
  const rows: RuleDeliveryRow[] = [];
  for (const rulesEnabled of [false, true]) {
    for (const l of (await (await a.request('GET', linksPath)).json()) as { id: string }[]) await a.request('DELETE', `${linksPath}/${l.id}`);
    const link = await a.request('POST', linksPath, { connectorId, blocking: true, rulesEnabled });
    if (link.status !== 201) throw new Error(`linking failed: ${link.status} ${await link.text()}`);
    const prefix = `rules-${rulesEnabled ? 'on' : 'off'}-${Date.now()}`;
    const latencies: number[] = [];
    let errors = 0;
    for (let i = 0; i < requests; i++) {
      const t0 = performance.now();
      const res = await a.request('POST', '/scim2/Users', { userName: `${prefix}-${i}`, emails: [{ value: `${prefix}-${i}@example.org`, primary: true }] });
      latencies.push(performance.now() - t0);
      if (res.status !== 201) errors += 1;
    }
    // The policy must have permitted: a skipped create also answers 201, and would time nothing but the decision.
    const last = await pair.b.request('GET', `/scim2/Users?count=0&filter=${encodeURIComponent(`userName eq "${prefix}-${requests - 1}"`)}`);
    if (((await last.json()) as { totalResults: number }).totalResults !== 1) throw new Error(`the rule check did not let ${prefix}-${requests - 1} through to B`);
    latencies.sort((x, y) => x - y);
    const { p50, p95, p99 } = pcts(latencies);
    medians[rulesEnabled ? 'on' : 'off'] = p50;
    rows.push({ rulesEnabled, requests, errors, p50, p95, p99 });
    process.stdout.write(
      `${database.padEnd(9)} ${`POST /Users, blocking, rules ${rulesEnabled ? 'on ' : 'off'}`.padEnd(34)} c=1   n=${String(requests).padEnd(4)} err=${String(errors).padEnd(3)} ` +
        `p50 ${fixed(p50)} ms  p95 ${fixed(p95)} ms  p99 ${fixed(p99)} ms\n`,
    );
  }
  await a.request('DELETE', '/api/server/v1/rules/policies/bench-permit-creates');
  process.stdout.write(`${database.padEnd(9)} a rule check adds ${fixed(medians.on - medians.off)} ms to a blocking create's median (${(medians.on / medians.off).toFixed(2)}x)\n`);
  return rows;
}
