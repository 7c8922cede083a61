/**
 * Rules on outbound links, end to end (issue #10): one instance (api + worker processes) provisioning over SCIM 2.0
 * to in-memory targets, every link with Enable Rules, the policies saved through the admin API:
 *   - Corp takes PRIMARY users only (a domain policy): a PARTNERS user is denied there, audited `denied` with the
 *     policy and its advice, while the other targets deliver it and Corp's queue goes on with the next change;
 *   - Archive never takes deletes (Deny on delete) and never gets phone numbers (an omit-attribute obligation);
 *   - Partner takes members of the group `contractors` only (the user's groups as the store has them now);
 *   - Clock takes changes within a time-of-day window: version 1's window holds now, version 2's does not, and the
 *     next decision of the worker follows the version the api saved, without a restart;
 *   - Legacy runs WSO2's user-claim template (profile `wso2`), its sample values filled in: the resident service
 *     provider is `wso2carbon-local-sp` there, and only the user with both claims is provisioned;
 *   - Hold's policy needs an attribute the user lacks (MustBePresent): Indeterminate holds Hold's queue (quarantine,
 *     with the policy and the status as the reason) until the operator fixes the policy and resumes the connector,
 *     after which everything arrives, in order, once; the other targets were never held.
 *   - Backlog was linked without Enable Rules and is down while changes queue up for it; the operator saves a policy
 *     that refuses everything there and turns Enable Rules on: the queued changes are decided at delivery and denied,
 *     none is sent (a backlog must not bypass a policy);
 *   - JitYes and JitNo are Enable JIT + Enable Rules targets of a federated application: a user JIT-provisioned by a
 *     real login (sample relying party -> this server -> an OpenID Provider, over HTTP) is decided as operation `jit`,
 *     permitted to JitYes and denied to JitNo by policies keyed on action-id `jit`.
 * Every target here has a policy that applies to it; NotApplicable (skipped by default, as WSO2 does) and the
 * policy administration are in test/rules-admin.test.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseKeyring } from '../src/config.js';
import { SecretBox } from '../src/crypto/secret-box.js';
import { EncryptionCodec } from '../src/temporal/codec.js';
import { PROJECT_ROOT } from '../src/temporal/cli-binary.js';
import { eventually, json, startInstance, type Instance, type Json } from './harness.js';
import { linkRuledTarget, putPolicy, startScimTarget, type ScimTarget } from './rules-target.js';
import { startHostileIdp, type HostileIdp } from './support/hostile-idp.js';
import { freePort } from './support/ports.js';
import { sampleRpUrls, startSampleRp, type SampleRp } from './support/sample-rp.js';
import { CookieJar } from './support/standalone-idp.js';

const NS = 'urn:oasis:names:tc:xacml:3.0:core:schema:wd-17';
const S = 'http://www.w3.org/2001/XMLSchema#string';
const TIME = 'http://www.w3.org/2001/XMLSchema#time';
const RECIPIENT = 'urn:oasis:names:tc:xacml:1.0:subject-category:recipient-subject';
const RESOURCE = 'urn:oasis:names:tc:xacml:3.0:attribute-category:resource';
const ACTION = 'urn:oasis:names:tc:xacml:3.0:attribute-category:action';
const ENV = 'urn:oasis:names:tc:xacml:3.0:attribute-category:environment';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** A Target naming the identity provider the delivery goes to (the clean profile's recipient-subject). */
const toIdp = (idp: string, extra = '') => `<Target><AnyOf><AllOf>
    <Match MatchId="urn:oasis:names:tc:xacml:1.0:function:string-equal">
      <AttributeValue DataType="${S}">${idp}</AttributeValue>
      <AttributeDesignator Category="${RECIPIENT}" AttributeId="urn:provisioning-server:target:idp-name" DataType="${S}" MustBePresent="false"/>
    </Match>${extra}</AllOf></AnyOf></Target>`;

const corpPolicy = `<Policy xmlns="${NS}" PolicyId="urn:test:corp-primary-only" Version="1.0"
    RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-unless-permit">
  <Description>Only users of the PRIMARY user store go to Corp</Description>
  ${toIdp('Corp')}
  <Rule RuleId="primary" Effect="Permit">
    <Condition>
      <Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:string-is-in">
        <AttributeValue DataType="${S}">PRIMARY</AttributeValue>
        <AttributeDesignator Category="${RESOURCE}" AttributeId="urn:provisioning-server:resource:domain" DataType="${S}" MustBePresent="false"/>
      </Apply>
    </Condition>
  </Rule>
  <AdviceExpressions>
    <AdviceExpression AdviceId="urn:test:advice:why" AppliesTo="Deny">
      <AttributeAssignmentExpression AttributeId="urn:test:advice:text">
        <AttributeValue DataType="${S}">only PRIMARY users go to Corp</AttributeValue>
      </AttributeAssignmentExpression>
    </AdviceExpression>
  </AdviceExpressions>
</Policy>`;

const archivePolicy = `<Policy xmlns="${NS}" PolicyId="urn:test:archive-keeps" Version="1.0"
    RuleCombiningAlgId="urn:oasis:names:tc:xacml:1.0:rule-combining-algorithm:first-applicable">
  ${toIdp('Archive')}
  <Rule RuleId="no-deletes" Effect="Deny">
    <Target><AnyOf><AllOf>
      <Match MatchId="urn:oasis:names:tc:xacml:1.0:function:string-equal">
        <AttributeValue DataType="${S}">delete</AttributeValue>
        <AttributeDesignator Category="${ACTION}" AttributeId="urn:oasis:names:tc:xacml:1.0:action:action-id" DataType="${S}" MustBePresent="false"/>
      </Match>
    </AllOf></AnyOf></Target>
  </Rule>
  <Rule RuleId="the-rest" Effect="Permit"/>
  <ObligationExpressions>
    <ObligationExpression ObligationId="urn:provisioning-server:obligation:omit-attribute" FulfillOn="Permit">
      <AttributeAssignmentExpression AttributeId="urn:provisioning-server:obligation:omit-attribute:path">
        <AttributeValue DataType="${S}">phoneNumbers</AttributeValue>
      </AttributeAssignmentExpression>
    </ObligationExpression>
  </ObligationExpressions>
</Policy>`;

const partnerPolicy = `<Policy xmlns="${NS}" PolicyId="urn:test:partner-contractors" Version="1.0"
    RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-unless-permit">
  ${toIdp('Partner')}
  <Rule RuleId="contractors" Effect="Permit">
    <Condition>
      <Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:string-is-in">
        <AttributeValue DataType="${S}">contractors</AttributeValue>
        <AttributeDesignator Category="${RESOURCE}" AttributeId="urn:ietf:params:scim:schemas:core:2.0:User:groups" DataType="${S}" MustBePresent="false"/>
      </Apply>
    </Condition>
  </Rule>
</Policy>`;

/** A UTC time of day `hours` from now, as xs:time. */
const timeFromNow = (hours: number) => `${new Date(Date.now() + hours * 3_600_000).toISOString().slice(11, 19)}Z`;
const clockPolicy = (version: string, from: string, to: string) => `<Policy xmlns="${NS}" PolicyId="urn:test:clock-hours" Version="${version}"
    RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-unless-permit">
  ${toIdp('Clock')}
  <Rule RuleId="office-hours" Effect="Permit">
    <Condition>
      <Apply FunctionId="urn:oasis:names:tc:xacml:2.0:function:time-in-range">
        <Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:time-one-and-only">
          <AttributeDesignator Category="${ENV}" AttributeId="urn:oasis:names:tc:xacml:1.0:environment:current-time" DataType="${TIME}" MustBePresent="false"/>
        </Apply>
        <AttributeValue DataType="${TIME}">${from}</AttributeValue>
        <AttributeValue DataType="${TIME}">${to}</AttributeValue>
      </Apply>
    </Condition>
  </Rule>
</Policy>`;

/**
 * Version 1 needs the user's department (MustBePresent): Indeterminate for a user without one (deny-overrides keeps
 * it; deny-unless-permit would make it a Deny, §C.10). Version 2 does not.
 */
const holdPolicy = (version: string) => `<Policy xmlns="${NS}" PolicyId="urn:test:hold-department" Version="${version}"
    RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-overrides">
  ${toIdp('Hold')}
  <Rule RuleId="engineering" Effect="Permit">
    <Condition>
      <Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:not">
        <Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:string-is-in">
          <AttributeValue DataType="${S}">Sales</AttributeValue>
          <AttributeDesignator Category="${RESOURCE}" AttributeId="urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"
            DataType="${S}" MustBePresent="${version === '1.0' ? 'true' : 'false'}"/>
        </Apply>
      </Apply>
    </Condition>
  </Rule>
</Policy>`;

/** Refuses everything to Backlog. */
const backlogPolicy = `<Policy xmlns="${NS}" PolicyId="urn:test:backlog-closed" Version="1.0"
    RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-unless-permit">
  <Description>Backlog takes nothing</Description>
  ${toIdp('Backlog')}
  <Rule RuleId="nothing" Effect="Deny"/>
</Policy>`;

/** A Target on the clean profile's operation (action-id: create, update, delete, jit). */
const actionIs = (operation: string) => `<Target><AnyOf><AllOf>
      <Match MatchId="urn:oasis:names:tc:xacml:1.0:function:string-equal">
        <AttributeValue DataType="${S}">${operation}</AttributeValue>
        <AttributeDesignator Category="${ACTION}" AttributeId="urn:oasis:names:tc:xacml:1.0:action:action-id" DataType="${S}" MustBePresent="false"/>
      </Match>
    </AllOf></AnyOf></Target>`;

/** JitYes takes JIT users only (deny-unless-permit: any other operation is a Deny). */
const jitYesPolicy = `<Policy xmlns="${NS}" PolicyId="urn:test:jit-yes" Version="1.0"
    RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-unless-permit">
  ${toIdp('JitYes')}
  <Rule RuleId="jit-users" Effect="Permit">${actionIs('jit')}</Rule>
</Policy>`;

/** JitNo refuses JIT users. */
const jitNoPolicy = `<Policy xmlns="${NS}" PolicyId="urn:test:jit-no" Version="1.0"
    RuleCombiningAlgId="urn:oasis:names:tc:xacml:1.0:rule-combining-algorithm:first-applicable">
  ${toIdp('JitNo')}
  <Rule RuleId="no-jit-users" Effect="Deny">${actionIs('jit')}</Rule>
  <AdviceExpressions>
    <AdviceExpression AdviceId="urn:test:advice:why" AppliesTo="Deny">
      <AttributeAssignmentExpression AttributeId="urn:test:advice:text">
        <AttributeValue DataType="${S}">no JIT users at JitNo</AttributeValue>
      </AttributeAssignmentExpression>
    </AdviceExpression>
  </AdviceExpressions>
</Policy>`;

const IDP_SECRET = 'rules-jit-idp-client-secret-0123456789';

interface AuditRow {
  connectorId: string;
  operation: string;
  outcome: string;
  error: string | null;
  decision: string | null;
  decidedBy: string | null;
  decisionReason: string | null;
  initiator: string;
  createdAt: string;
}

let a: Instance;
let client: Client;
let idp: HostileIdp;
let rp: SampleRp | undefined;
const TARGETS = ['Corp', 'Archive', 'Partner', 'Clock', 'Hold', 'Legacy', 'Backlog', 'JitYes', 'JitNo'] as const;
const targets: Record<(typeof TARGETS)[number], ScimTarget> = {} as never;
const connectors: Record<string, string> = {};

async function createUser(body: Json): Promise<string> {
  const res = await json(a, 'POST', '/scim2/Users', body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return String(res.body.id);
}

async function patchUser(id: string, path: string, value: unknown): Promise<void> {
  const res = await json(a, 'PATCH', `/scim2/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path, value }] });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

async function auditAt(userId: string, idp: string): Promise<AuditRow[]> {
  return (await json(a, 'GET', `/api/server/v1/provisioning/audit?userId=${userId}&connectorId=${connectors[idp]}`)).body as unknown as AuditRow[];
}

/** Waits for the audit record of `operation` at `idp` with one of `outcomes`. */
async function decided(userId: string, idp: string, operation: string, outcomes: string[]): Promise<AuditRow> {
  return eventually(async () => (await auditAt(userId, idp)).find((r) => r.operation === operation && outcomes.includes(r.outcome)), 60_000, `${operation} ${outcomes.join('/')} at ${idp}`);
}

const at = (idp: keyof typeof targets, userName: string) => targets[idp].byUserName(userName);
const arrives = (idp: keyof typeof targets, userName: string, check: (u: Record<string, unknown>) => boolean = () => true) =>
  eventually(() => {
    const u = at(idp, userName);
    return Promise.resolve(u && check(u) ? u : undefined);
  }, 60_000, `${userName} at ${idp}`);

/** Every payload of a workflow's history, decoded with the instance's keyring (what an operator with the key reads). */
async function historyText(workflowId: string): Promise<string> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const payloads: Array<{ metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null }> = [];
  const collect = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(collect);
    else if (v && typeof v === 'object' && !(v instanceof Uint8Array)) {
      const o = v as Record<string, unknown>;
      if (o.data instanceof Uint8Array && o.metadata && typeof o.metadata === 'object') payloads.push(o);
      else Object.values(o).forEach(collect);
    }
  };
  collect(history.events);
  const decoded = await new EncryptionCodec(new SecretBox(parseKeyring(a.encryptionKeys))).decode(payloads);
  return [JSON.stringify(history.events?.map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter((n) => n)), ...decoded.map((p) => Buffer.from(p.data ?? new Uint8Array()).toString('utf8'))].join('\n');
}

/** Follows a login from `start` through every redirect, as a browser would (cookies kept), until a page answers. */
async function follow(start: string): Promise<{ status: number; body: string }> {
  const jar = new CookieJar();
  let url = new URL(start);
  for (let hop = 0; hop < 20; hop += 1) {
    const cookie = jar.header(url);
    const res = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    jar.store(url, res);
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      url = new URL(location, url);
      continue;
    }
    return { status: res.status, body: await res.text() };
  }
  throw new Error(`more than 20 redirects from ${start}`);
}

beforeAll(async () => {
  // The api's port is chosen first: the OpenID Provider of the JIT test registers this server's callback.
  const port = await freePort();
  const [instance, provider, ...fakes] = await Promise.all([
    startInstance('rules-out', { port }),
    startHostileIdp({ clientId: 'rules-is', clientSecret: IDP_SECRET, redirectUri: `http://127.0.0.1:${port}/commonauth` }),
    ...TARGETS.map(() => startScimTarget()),
  ]);
  a = instance;
  idp = provider;
  client = new Client({ connection: await Connection.connect({ address: a.temporalAddress }) });
  TARGETS.forEach((name, i) => (targets[name] = fakes[i]!));
  expect((await a.request('POST', '/api/server/v1/userstores', { name: 'PARTNERS' }, { 'Content-Type': 'application/json' })).status).toBe(201);
  // Hold is linked in its own test, so the users of the others never meet its policy.
  for (const idp of ['Corp', 'Archive', 'Partner', 'Clock'] as const) connectors[idp] = (await linkRuledTarget(a, idp, targets[idp])).connectorId;
  await putPolicy(a, corpPolicy);
  await putPolicy(a, archivePolicy);
  await putPolicy(a, partnerPolicy);
  await putPolicy(a, clockPolicy('1.0', timeFromNow(-2), timeFromNow(2)));
});
afterAll(async () => {
  await client?.connection.close();
  await Promise.allSettled([a?.stop(), rp?.stop(), idp?.stop(), ...Object.values(targets).map((t) => t.close())]);
});

describe('rules on outbound links', () => {
  it('a domain policy: Corp gets PRIMARY users only; the Deny skips Corp alone, the others deliver, Corp goes on', async () => {
    const ada = await createUser({ userName: 'ada', displayName: 'Ada', phoneNumbers: [{ value: '+41 44 000 00 00', type: 'work' }] });
    const bob = await createUser({ userName: 'PARTNERS/bob', displayName: 'Bob' });
    const cy = await createUser({ userName: 'cy', displayName: 'Cy' });

    expect((await arrives('Corp', 'ada')).displayName).toBe('Ada');
    const denied = await decided(bob, 'Corp', 'create', ['denied']);
    expect(denied).toMatchObject({ decision: 'Deny', decidedBy: 'urn:test:corp-primary-only@1.0' });
    expect(denied.decisionReason).toContain('only PRIMARY users go to Corp');
    // The decision is in the fan-out's history, as the rule check activity's result.
    const history = await historyText(`outbound-${bob}`);
    expect(history).toContain('"decideRules"');
    expect(history).toMatch(/"action":"skip","decision":"Deny","decidedBy":"urn:test:corp-primary-only@1.0","reason":"only PRIMARY users go to Corp"/);
    // Only Corp: Archive and Clock have Bob (as `bob`: the connector writes names for the target's PRIMARY domain), and
    // Corp moved on to Cy.
    await arrives('Archive', 'bob');
    await arrives('Clock', 'bob');
    await arrives('Corp', 'cy');
    expect(targets.Corp.writesFor('bob')).toEqual([]);
    expect((await decided(cy, 'Corp', 'create', ['delivered'])).decision).toBe('Permit');

    // The obligation: Archive got Ada without her phone number; Corp with it.
    const archived = await arrives('Archive', 'ada');
    expect(archived.phoneNumbers).toBeUndefined();
    expect(at('Corp', 'ada')!.phoneNumbers).toEqual([expect.objectContaining({ value: '+41 44 000 00 00' })]);
    expect((await decided(ada, 'Archive', 'create', ['delivered'])).decisionReason).toMatch(/left out: phoneNumbers/);
  });

  it('a policy that denies deletes to Archive: the delete reaches Corp, Archive keeps the user', async () => {
    const id = await createUser({ userName: 'del-dora' });
    await arrives('Corp', 'del-dora');
    await arrives('Archive', 'del-dora');
    expect((await a.request('DELETE', `/scim2/Users/${id}`)).status).toBe(204);
    await eventually(() => Promise.resolve(at('Corp', 'del-dora') ? undefined : true), 60_000, 'del-dora deleted at Corp');
    const denied = await decided(id, 'Archive', 'delete', ['denied']);
    expect(denied).toMatchObject({ decision: 'Deny', decidedBy: 'urn:test:archive-keeps@1.0' });
    expect(at('Archive', 'del-dora')).toBeDefined();
    expect(targets.Archive.writesFor('del-dora').map((c) => c.method)).toEqual(['POST']);
  });

  it('a policy keyed on a group membership: Partner gets the user once it is a member of contractors', async () => {
    const group = await json(a, 'POST', '/scim2/Groups', { displayName: 'contractors' });
    expect(group.status).toBe(201);
    const id = await createUser({ userName: 'gus', displayName: 'Gus' });
    expect((await decided(id, 'Partner', 'create', ['denied'])).decision).toBe('Deny');
    expect(at('Partner', 'gus')).toBeUndefined();

    const added = await json(a, 'PATCH', `/scim2/Groups/${String(group.body.id)}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: id }] }] });
    expect(added.status).toBe(200);
    await patchUser(id, 'displayName', 'Gus the contractor');
    expect((await arrives('Partner', 'gus')).displayName).toBe('Gus the contractor');
    expect((await decided(id, 'Partner', 'update', ['delivered'])).decision).toBe('Permit');
  });

  it('a time-of-day condition: inside the window it provisions; the next version (outside) is what the worker decides next', async () => {
    const id = await createUser({ userName: 'tia', displayName: 'Tia' });
    await arrives('Clock', 'tia');
    expect((await decided(id, 'Clock', 'create', ['delivered'])).decidedBy).toBe('urn:test:clock-hours@1.0');

    // Saved through the api process; the worker's next decision uses it (no restart, no cache time).
    await putPolicy(a, clockPolicy('2.0', timeFromNow(6), timeFromNow(8)), { update: true });
    await patchUser(id, 'displayName', 'Tia after hours');
    const denied = await decided(id, 'Clock', 'update', ['denied']);
    expect(denied).toMatchObject({ decision: 'Deny', decidedBy: 'urn:test:clock-hours@2.0' });
    expect(at('Clock', 'tia')!.displayName).toBe('Tia');
    // The other targets took the update.
    await arrives('Corp', 'tia', (u) => u.displayName === 'Tia after hours');
  });

  it("WSO2's user-claim template, unchanged but for its sample values, decides on the wso2 request profile", async () => {
    // Read in place (CONFORMANCE_DIR or ../shared/conformance beside the repository), never copied: missing is a failure.
    const dir = path.join(process.env.CONFORMANCE_DIR ?? path.resolve(PROJECT_ROOT, '../shared/conformance'), 'wso2-provisioning');
    const file = path.join(dir, 'provisioning_user_claim_based_policy_template.xml');
    expect(fs.existsSync(file), `WSO2's provisioning templates are not at ${dir}`).toBe(true);
    const template = fs
      .readFileSync(file, 'utf8')
      .replaceAll('>SP_NAME<', '>wso2carbon-local-sp<') // the resident service provider's name in WSO2
      .replaceAll('>IDP_NAME<', '>Legacy<')
      .replaceAll('"CLAIM_URI_1"', '"http://wso2.org/claims/emailaddress"')
      .replaceAll('>CLAIM_VALUE_1<', '>lee@legacy.example<')
      .replaceAll('"CLAIM_URI_2"', '"http://wso2.org/claims/givenname"')
      .replaceAll('>CLAIM_VALUE_2<', '>Lee<');
    connectors.Legacy = (await linkRuledTarget(a, 'Legacy', targets.Legacy)).connectorId;
    await putPolicy(a, template, { profile: 'wso2' });

    const lee = await createUser({ userName: 'lee', name: { givenName: 'Lee' }, emails: [{ value: 'lee@legacy.example', primary: true }] });
    const lou = await createUser({ userName: 'lou', name: { givenName: 'Lee' }, emails: [{ value: 'lou@legacy.example', primary: true }] });
    await arrives('Legacy', 'lee');
    expect((await decided(lee, 'Legacy', 'create', ['delivered'])).decidedBy).toBe('provisioning_user_claim_based_policy_template@1.0');
    expect((await decided(lou, 'Legacy', 'create', ['denied'])).decision).toBe('Deny');
    expect(at('Legacy', 'lou')).toBeUndefined();
  });

  it('an Indeterminate holds that target until the policy is fixed and the connector resumed; then everything arrives in order, once', async () => {
    connectors.Hold = (await linkRuledTarget(a, 'Hold', targets.Hold)).connectorId;
    await putPolicy(a, holdPolicy('1.0'));
    const id = await createUser({ userName: 'hal', displayName: 'v1' });

    const held = await decided(id, 'Hold', 'create', ['held']);
    expect(held.decision).toBe('Indeterminate');
    expect(held.decisionReason).toMatch(/urn:test:hold-department@1\.0/);
    expect(held.decisionReason).toMatch(/missing-attribute/);
    const quarantine = (await json(a, 'GET', '/api/server/v1/provisioning/quarantine')).body as unknown as { connectorId: string; reason: string }[];
    expect(quarantine.find((q) => q.connectorId === connectors.Hold)?.reason).toMatch(/rules: Indeterminate.*urn:test:hold-department/);

    // Later changes queue up behind it; the other targets are not held back.
    await patchUser(id, 'displayName', 'v2');
    await patchUser(id, 'displayName', 'v3');
    await arrives('Corp', 'hal', (u) => u.displayName === 'v3');
    await new Promise((r) => setTimeout(r, 3000)); // longer than the fan-out's idle time: it must still hold them
    expect(targets.Hold.writesFor('hal')).toEqual([]);

    // The operator fixes the policy, then resumes the connector through the quarantine route.
    await putPolicy(a, holdPolicy('2.0'), { update: true });
    expect((await json(a, 'POST', `/api/server/v1/provisioning/quarantine/${connectors.Hold}/resume`)).status).toBe(200);
    const final = await arrives('Hold', 'hal', (u) => u.displayName === 'v3');
    expect(targets.Hold.users.size).toBe(1);
    const writes = targets.Hold.writesFor('hal');
    expect(writes[0]!.method).toBe('POST');
    expect(writes.filter((w) => w.method === 'POST')).toHaveLength(1);
    // In order: each write carries a newer state than the one before (folded updates may be one PUT).
    const states = writes.map((w) => String(w.body?.displayName));
    expect(states).toEqual([...states].sort());
    expect(final.displayName).toBe('v3');
    expect((await decided(id, 'Hold', 'create', ['delivered', 'skipped'])).decision).toBe('Permit');
  });
  it('a backlog accepted before Enable Rules is decided at delivery', async () => {
    // Linked without Enable Rules, and down: the create retries, the updates queue up behind it.
    const { connectorId, linkId } = await linkRuledTarget(a, 'Backlog', targets.Backlog, { rulesEnabled: false });
    connectors.Backlog = connectorId;
    targets.Backlog.down = true;
    const id = await createUser({ userName: 'bea', displayName: 'v1' });
    await patchUser(id, 'displayName', 'v2');
    await patchUser(id, 'displayName', 'v3');
    await eventually(() => Promise.resolve(targets.Backlog.refusedWhileDown >= 2 ? true : undefined), 60_000, 'Backlog refusing while down');
    // The other targets are not held back.
    await arrives('Corp', 'bea', (u) => u.displayName === 'v3');

    // The operator saves a policy refusing everything to Backlog, turns Enable Rules on, and the target comes back.
    await putPolicy(a, backlogPolicy);
    const enabled = await json(a, 'PATCH', `/api/server/v1/applications/resident/provisioning/outbound-connectors/${linkId}`, { rulesEnabled: true });
    expect(enabled.status, JSON.stringify(enabled.body)).toBe(200);
    targets.Backlog.down = false;

    const denied = await decided(id, 'Backlog', 'create', ['denied', 'delivered']);
    expect(denied).toMatchObject({ outcome: 'denied', decision: 'Deny', decidedBy: 'urn:test:backlog-closed@1.0' });
    // The updates queued behind it: decided too (on the newest state), denied, never sent.
    const rows = await eventually(async () => {
      const all = await auditAt(id, 'Backlog');
      return all.filter((r) => r.operation === 'update' && r.outcome === 'denied').length === 2 ? all : undefined;
    }, 60_000, 'both updates denied at Backlog');
    expect(rows.filter((r) => r.outcome === 'delivered')).toEqual([]);
    await new Promise((r) => setTimeout(r, 1500)); // a retry that slipped through would have reached it by now
    expect(targets.Backlog.writesFor('bea')).toEqual([]);
    expect(targets.Backlog.byUserName('bea')).toBeUndefined();
    // The check at delivery is in the fan-out's history: the delivery asked for it, then the rule check ran.
    const history = await historyText(`outbound-${id}`);
    expect(history).toContain('"rulesRequired":true');
    expect(history).toContain('"decidedBy":"urn:test:backlog-closed@1.0"');
  });

  it('a user JIT-provisioned by a real login is decided as operation jit: permitted to JitYes, denied to JitNo', async () => {
    // A federated application: its users log in at the OpenID Provider, and JIT creates them here.
    const fed = await json(a, 'POST', '/api/server/v1/identity-providers', {
      name: 'rules-oidc',
      federatedAuthenticator: { issuer: idp.issuer, clientId: 'rules-is', clientSecret: IDP_SECRET, scopes: ['openid', 'profile', 'email'], clockToleranceSeconds: 5 },
      jit: { enabled: true },
    });
    expect(fed.status, JSON.stringify(fed.body)).toBe(201);
    const rpPort = await freePort();
    const urls = sampleRpUrls(rpPort);
    const app = await json(a, 'POST', '/api/server/v1/applications', {
      name: 'rules-jit-app',
      grantTypes: ['authorization_code'],
      responseTypes: ['code'],
      redirectUris: [urls.redirectUri],
      postLogoutRedirectUris: [urls.postLogoutRedirectUri],
      skipConsent: true,
      loginMethod: { type: 'federated', identityProvider: 'rules-oidc' },
    });
    expect(app.status, JSON.stringify(app.body)).toBe(201);
    const appId = String(app.body.id);
    // Enable JIT + Enable Rules links of that application only (the other tests' SCIM changes never reach them).
    for (const name of ['JitYes', 'JitNo'] as const) connectors[name] = (await linkRuledTarget(a, name, targets[name], { jitEnabled: true }, appId)).connectorId;
    await putPolicy(a, jitYesPolicy);
    await putPolicy(a, jitNoPolicy);
    rp = await startSampleRp({ issuer: `${a.baseUrl}/oauth2/token`, clientId: String(app.body.clientId), clientSecret: String(app.body.clientSecret), port: rpPort });

    idp.claims({ sub: 'rules-jit-sub-1', preferred_username: 'jit-jo', email: 'jo@idp.example', email_verified: true, name: 'Jo Jit' });
    const landing = await follow(`${rp.url}/login`);
    expect(landing.status, landing.body).toBe(200);
    expect(landing.body).toContain('Signed in as');
    const found = await json(a, 'GET', `/scim2/Users?filter=${encodeURIComponent('userName eq "jit-jo"')}`);
    expect(found.body.totalResults).toBe(1);
    const id = String((found.body.Resources as Json[])[0]!.id);

    expect((await arrives('JitYes', 'jit-jo')).displayName).toBe('Jo Jit');
    const permitted = await decided(id, 'JitYes', 'create', ['delivered']);
    // deny-unless-permit: only action-id `jit` is permitted there, so the Permit shows the operation the policy saw.
    expect(permitted).toMatchObject({ decision: 'Permit', decidedBy: 'urn:test:jit-yes@1.0' });
    const denied = await decided(id, 'JitNo', 'create', ['denied', 'delivered']);
    expect(denied).toMatchObject({ outcome: 'denied', decision: 'Deny', decidedBy: 'urn:test:jit-no@1.0' });
    expect(denied.decisionReason).toContain('no JIT users at JitNo');
    expect(targets.JitNo.writesFor('jit-jo')).toEqual([]);
    const rows = await auditAt(id, 'JitNo');
    expect(rows.map((r) => r.initiator)).toEqual(['jit:rules-oidc']);
  });
});
