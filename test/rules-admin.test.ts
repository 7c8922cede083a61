/**
 * Rule policy administration over HTTP (src/http/admin/policies.ts), on one real instance: create (XML and JSON),
 * versions kept on update, enable/disable, validate with line-precise errors, the root combining algorithm, the
 * decision endpoint in the JSON Profile and XML (saved policies, one saved policy, a draft), a link's rules view,
 * references guarding deletes, and the bounds. Deliveries under these rules: test/rules-outbound.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, json, startInstance, type Instance, type Json } from './harness.js';
import { linkRuledTarget, startScimTarget, type ScimTarget } from './rules-target.js';

const NS = 'urn:oasis:names:tc:xacml:3.0:core:schema:wd-17';
const S = 'http://www.w3.org/2001/XMLSchema#string';
const SUBJECT = 'urn:oasis:names:tc:xacml:1.0:subject-category:access-subject';
const SUBJECT_ID = 'urn:oasis:names:tc:xacml:1.0:subject:subject-id';
const BASE = '/api/server/v1/rules';

/** Permits the subject named `who` (version `version`), NotApplicable for anyone else. */
const permitSubject = (id: string, who: string, version = '1.0') => `<Policy xmlns="${NS}" PolicyId="${id}" Version="${version}"
    RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-overrides">
  <Target><AnyOf><AllOf>
    <Match MatchId="urn:oasis:names:tc:xacml:1.0:function:string-equal">
      <AttributeValue DataType="${S}">${who}</AttributeValue>
      <AttributeDesignator Category="${SUBJECT}" AttributeId="${SUBJECT_ID}" DataType="${S}" MustBePresent="false"/>
    </Match>
  </AllOf></AnyOf></Target>
  <Rule RuleId="permit" Effect="Permit"/>
</Policy>`;

const jsonRequest = (who: string) => JSON.stringify({ Request: { AccessSubject: { Attribute: [{ AttributeId: SUBJECT_ID, Value: who }] } } });
const xmlRequest = (who: string) => `<Request xmlns="${NS}" CombinedDecision="false" ReturnPolicyIdList="false">
  <Attributes Category="${SUBJECT}">
    <Attribute AttributeId="${SUBJECT_ID}" IncludeInResult="false"><AttributeValue DataType="${S}">${who}</AttributeValue></Attribute>
  </Attributes>
</Request>`;

let a: Instance;
let target: ScimTarget;

async function send(method: string, path: string, body: string, type: string): Promise<{ status: number; text: string; body: Json }> {
  const res = await a.request(method, path, body, { 'Content-Type': type });
  const text = await res.text();
  let parsed: Json = {};
  try {
    parsed = JSON.parse(text) as Json;
  } catch {
    // an XML answer
  }
  return { status: res.status, text, body: parsed };
}
const post = (path: string, body: unknown) => send('POST', path, JSON.stringify(body), 'application/json');
const decisionOf = (text: string) => (JSON.parse(text) as { Response: { Decision: string }[] }).Response[0]!.Decision;

beforeAll(async () => {
  [a, target] = await Promise.all([startInstance('rules-admin'), startScimTarget()]);
});
afterAll(async () => {
  await Promise.allSettled([a?.stop(), target?.close()]);
});

describe('rule policy administration', () => {
  it('creates from XML and JSON, keeps versions on update, enables and disables, and decides with what is enabled', async () => {
    const created = await send('POST', `${BASE}/policies`, permitSubject('urn:test:alice', 'alice'), 'application/xml');
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ policyId: 'urn:test:alice', kind: 'Policy', version: '1.0', currentVersion: 1, profile: 'clean', enabled: true });
    expect((await send('POST', `${BASE}/policies`, permitSubject('urn:test:alice', 'alice'), 'application/xml')).status).toBe(409);
    const fromJson = await post(`${BASE}/policies`, { policy: permitSubject('urn:test:bob', 'bob'), profile: 'wso2', enabled: false });
    expect(fromJson.status, fromJson.text).toBe(201);
    expect(fromJson.body).toMatchObject({ policyId: 'urn:test:bob', profile: 'wso2', enabled: false });
    // JSON under any application/*+json type, as the rest of the admin API takes it (here validated, not saved).
    const scimJson = await send('POST', `${BASE}/policies/validate`, JSON.stringify({ policy: permitSubject('urn:test:scim-json', 'x') }), 'application/scim+json');
    expect(scimJson.status, scimJson.text).toBe(200);
    expect(scimJson.body).toMatchObject({ valid: true, policyId: 'urn:test:scim-json' });
    const list = (await json(a, 'GET', `${BASE}/policies`)).body as unknown as Json[];
    expect(list.map((p) => p.policyId)).toEqual(['urn:test:alice', 'urn:test:bob']);

    // The decision endpoint: enabled policies only (bob's is disabled), JSON Profile in and out.
    const alice = await send('POST', `${BASE}/decision`, jsonRequest('alice'), 'application/xacml+json');
    expect(alice.status, alice.text).toBe(200);
    expect(decisionOf(alice.text)).toBe('Permit');
    expect(decisionOf((await send('POST', `${BASE}/decision`, jsonRequest('bob'), 'application/json')).text)).toBe('NotApplicable');
    // One saved policy alone, even disabled: testing it before enabling it.
    expect(decisionOf((await send('POST', `${BASE}/decision?policy=${encodeURIComponent('urn:test:bob')}`, jsonRequest('bob'), 'application/xacml+json')).text)).toBe('Permit');

    // Update: a new version; the old one stays readable.
    const updated = await send('PUT', `${BASE}/policies/${encodeURIComponent('urn:test:alice')}`, permitSubject('urn:test:alice', 'alicia', '2.0'), 'application/xml');
    expect(updated.status, updated.text).toBe(200);
    expect(updated.body).toMatchObject({ version: '2.0', currentVersion: 2, versions: 2 });
    const again = await send('PUT', `${BASE}/policies/${encodeURIComponent('urn:test:alice')}`, permitSubject('urn:test:alice', 'alicia', '2.0'), 'application/xml');
    expect(again.body).toMatchObject({ currentVersion: 2, versions: 2 }); // the same text again is no new version
    const versions = (await json(a, 'GET', `${BASE}/policies/${encodeURIComponent('urn:test:alice')}/versions`)).body as unknown as Json[];
    expect(versions.map((v) => [v.number, v.version, v.current, v.createdBy])).toEqual([
      [2, '2.0', true, 'admin'],
      [1, '1.0', false, 'admin'],
    ]);
    const v1 = (await json(a, 'GET', `${BASE}/policies/${encodeURIComponent('urn:test:alice')}/versions/1`)).body;
    expect(v1.xml).toContain('>alice<');
    expect(((await json(a, 'GET', `${BASE}/policies/${encodeURIComponent('urn:test:alice')}`)).body).xml).toContain('>alicia<');
    expect((await json(a, 'GET', `${BASE}/policies/${encodeURIComponent('urn:test:alice')}/versions/3`)).status).toBe(404);
    const wrongId = await send('PUT', `${BASE}/policies/${encodeURIComponent('urn:test:alice')}`, permitSubject('urn:test:other', 'x'), 'application/xml');
    expect(wrongId.status).toBe(400);
    expect(decisionOf((await send('POST', `${BASE}/decision`, jsonRequest('alice'), 'application/xacml+json')).text)).toBe('NotApplicable');
    expect(decisionOf((await send('POST', `${BASE}/decision`, jsonRequest('alicia'), 'application/xacml+json')).text)).toBe('Permit');

    // Enable bob's, disable alice's: the next decision follows.
    expect((await send('PATCH', `${BASE}/policies/${encodeURIComponent('urn:test:bob')}`, JSON.stringify({ enabled: true }), 'application/json')).body.enabled).toBe(true);
    expect((await send('PATCH', `${BASE}/policies/${encodeURIComponent('urn:test:alice')}`, JSON.stringify({ enabled: false }), 'application/json')).body.enabled).toBe(false);
    expect(decisionOf((await send('POST', `${BASE}/decision`, jsonRequest('bob'), 'application/xacml+json')).text)).toBe('Permit');
    expect(decisionOf((await send('POST', `${BASE}/decision`, jsonRequest('alicia'), 'application/xacml+json')).text)).toBe('NotApplicable');
    expect((await send('PATCH', `${BASE}/policies/${encodeURIComponent('urn:test:bob')}`, JSON.stringify({ enabled: 'yes' }), 'application/json')).status).toBe(400);
  });

  it('answers XML requests in XML, and a draft policy given with the request', async () => {
    const xml = await send('POST', `${BASE}/decision`, xmlRequest('bob'), 'application/xacml+xml');
    expect(xml.status, xml.text).toBe(200);
    expect(xml.text).toMatch(/<Decision>Permit<\/Decision>/);
    expect((await send('POST', `${BASE}/decision`, xmlRequest('nobody'), 'application/xml')).text).toMatch(/<Decision>NotApplicable<\/Decision>/);

    const draft = await post(`${BASE}/decision`, { policy: permitSubject('urn:test:draft', 'dana'), request: JSON.parse(jsonRequest('dana')) as unknown });
    expect(draft.status, draft.text).toBe(200);
    expect(decisionOf(draft.text)).toBe('Permit');
    const draftXml = await post(`${BASE}/decision`, { policy: permitSubject('urn:test:draft', 'dana'), request: xmlRequest('dana') });
    expect(draftXml.text).toMatch(/<Decision>Permit<\/Decision>/);
    // Nothing was saved.
    expect((await json(a, 'GET', `${BASE}/policies/${encodeURIComponent('urn:test:draft')}`)).status).toBe(404);

    const badRequest = await send('POST', `${BASE}/decision`, '<Request xmlns="nope"/>', 'application/xml');
    expect(badRequest.status).toBe(400);
    const badJson = await send('POST', `${BASE}/decision`, JSON.stringify({ Request: { AccessSubject: { Attribute: [{ Value: 'x' }] } } }), 'application/xacml+json');
    expect(badJson.status).toBe(400);
    expect(badJson.body.code).toBe('invalid_request');
  });

  it('validates without saving, with the line and column of what is wrong', async () => {
    const unknownFunction = [
      `<Policy xmlns="${NS}" PolicyId="urn:test:bad" Version="1.0"`,
      '    RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-overrides">',
      '  <Target/>',
      '  <Rule RuleId="r" Effect="Permit">',
      `    <Condition><Apply FunctionId="urn:example:no-such-function"><AttributeValue DataType="${S}">x</AttributeValue></Apply></Condition>`,
      '  </Rule>',
      '</Policy>',
    ].join('\n');
    const refused = await send('POST', `${BASE}/policies/validate`, unknownFunction, 'application/xml');
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ code: 'invalid_policy', line: 5 });
    expect(refused.body.column).toEqual(expect.any(Number));
    expect(String(refused.body.message)).toMatch(/urn:example:no-such-function/);

    // Not well-formed XML (an attribute given twice on line 3), sent as JSON.
    const malformed = await post(`${BASE}/policies/validate`, {
      policy: `<Policy xmlns="${NS}" PolicyId="urn:test:bad" Version="1.0"\n    RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-overrides">\n  <Rule RuleId="r" Effect="Permit" Effect="Deny"/>\n</Policy>`,
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ code: 'invalid_policy', line: 3 });

    // A reference to nothing saved: it would not form a decision point.
    const dangling = `<PolicySet xmlns="${NS}" PolicySetId="urn:test:set" Version="1.0" PolicyCombiningAlgId="urn:oasis:names:tc:xacml:3.0:policy-combining-algorithm:deny-overrides">
  <Target/><PolicyIdReference>urn:test:missing</PolicyIdReference></PolicySet>`;
    expect((await send('POST', `${BASE}/policies/validate`, dangling, 'application/xml')).status).toBe(400);
    expect((await send('POST', `${BASE}/policies`, dangling, 'application/xml')).status).toBe(409);

    const fine = await send('POST', `${BASE}/policies/validate`, permitSubject('urn:test:fine', 'x'), 'application/xml');
    expect(fine.status, fine.text).toBe(200);
    expect(fine.body).toMatchObject({ valid: true, kind: 'Policy', policyId: 'urn:test:fine', version: '1.0' });
    expect((await json(a, 'GET', `${BASE}/policies/${encodeURIComponent('urn:test:fine')}`)).status).toBe(404);
    // Creating refuses the same errors, with nothing saved.
    expect((await send('POST', `${BASE}/policies`, unknownFunction, 'application/xml')).body).toMatchObject({ code: 'invalid_policy', line: 5 });
    expect((await json(a, 'GET', `${BASE}/policies/${encodeURIComponent('urn:test:bad')}`)).status).toBe(404);
  });

  it('keeps referenced policies, sets the root combining algorithm, and bounds bodies', async () => {
    const set = `<PolicySet xmlns="${NS}" PolicySetId="urn:test:set" Version="1.0" PolicyCombiningAlgId="urn:oasis:names:tc:xacml:3.0:policy-combining-algorithm:deny-overrides">
  <Target/><PolicyIdReference>urn:test:alice</PolicyIdReference></PolicySet>`;
    expect((await send('POST', `${BASE}/policies`, set, 'application/xml')).status).toBe(201);
    // alice's policy is disabled, yet the set finds it by reference.
    expect(decisionOf((await send('POST', `${BASE}/decision`, jsonRequest('alicia'), 'application/xacml+json')).text)).toBe('Permit');
    const refused = await json(a, 'DELETE', `${BASE}/policies/${encodeURIComponent('urn:test:alice')}`);
    expect(refused.status).toBe(409);
    expect(String(refused.body.message)).toMatch(/urn:test:alice/);
    expect((await json(a, 'DELETE', `${BASE}/policies/${encodeURIComponent('urn:test:set')}`)).status).toBe(204);
    expect((await json(a, 'DELETE', `${BASE}/policies/${encodeURIComponent('urn:test:alice')}`)).status).toBe(204);
    expect((await json(a, 'GET', `${BASE}/policies/${encodeURIComponent('urn:test:alice')}`)).status).toBe(404);

    const settings = (await json(a, 'GET', `${BASE}/settings`)).body;
    expect(settings.rootCombiningAlgorithm).toBe('urn:oasis:names:tc:xacml:3.0:policy-combining-algorithm:deny-overrides');
    expect((await send('PUT', `${BASE}/settings`, JSON.stringify({ rootCombiningAlgorithm: 'urn:example:no-such-algorithm' }), 'application/json')).status).toBe(400);
    const changed = await send('PUT', `${BASE}/settings`, JSON.stringify({ rootCombiningAlgorithm: 'urn:oasis:names:tc:xacml:3.0:policy-combining-algorithm:permit-unless-deny' }), 'application/json');
    expect(changed.status, changed.text).toBe(200);
    expect(Number(changed.body.revision)).toBeGreaterThan(Number(settings.revision));
    // permit-unless-deny at the root: no applicable policy is a Permit now.
    expect(decisionOf((await send('POST', `${BASE}/decision`, jsonRequest('nobody'), 'application/xacml+json')).text)).toBe('Permit');
    await send('PUT', `${BASE}/settings`, JSON.stringify({ rootCombiningAlgorithm: 'urn:oasis:names:tc:xacml:3.0:policy-combining-algorithm:deny-overrides' }), 'application/json');

    const huge = `<Policy xmlns="${NS}" PolicyId="urn:test:huge" Version="1.0" RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-overrides"><Description>${'x'.repeat(1_200_000)}</Description><Target/></Policy>`;
    expect((await send('POST', `${BASE}/policies`, huge, 'application/xml')).status).toBe(413);
    expect((await send('POST', `${BASE}/policies`, 'no policy', 'text/plain')).status).toBe(400);
  });

  it("shows which policies apply to a link, per operation, for a user, and the link's NotApplicable setting", async () => {
    // No rulesNotApplicable given: WSO2's behaviour, skip (docs/rules.md).
    const { linkId } = await linkRuledTarget(a, 'Viewed', target);
    const noDeletes = `<Policy xmlns="${NS}" PolicyId="urn:test:viewed-no-deletes" Version="3.1"
        RuleCombiningAlgId="urn:oasis:names:tc:xacml:1.0:rule-combining-algorithm:first-applicable">
      <Target><AnyOf><AllOf><Match MatchId="urn:oasis:names:tc:xacml:1.0:function:string-equal">
        <AttributeValue DataType="${S}">Viewed</AttributeValue>
        <AttributeDesignator Category="urn:oasis:names:tc:xacml:1.0:subject-category:recipient-subject" AttributeId="urn:provisioning-server:target:idp-name" DataType="${S}" MustBePresent="false"/>
      </Match></AllOf></AnyOf></Target>
      <Rule RuleId="no-deletes" Effect="Deny"><Target><AnyOf><AllOf><Match MatchId="urn:oasis:names:tc:xacml:1.0:function:string-equal">
        <AttributeValue DataType="${S}">delete</AttributeValue>
        <AttributeDesignator Category="urn:oasis:names:tc:xacml:3.0:attribute-category:action" AttributeId="urn:oasis:names:tc:xacml:1.0:action:action-id" DataType="${S}" MustBePresent="false"/>
      </Match></AllOf></AnyOf></Target></Rule>
      <Rule RuleId="creates" Effect="Permit"><Target><AnyOf><AllOf><Match MatchId="urn:oasis:names:tc:xacml:1.0:function:string-equal">
        <AttributeValue DataType="${S}">create</AttributeValue>
        <AttributeDesignator Category="urn:oasis:names:tc:xacml:3.0:attribute-category:action" AttributeId="urn:oasis:names:tc:xacml:1.0:action:action-id" DataType="${S}" MustBePresent="false"/>
      </Match></AllOf></AnyOf></Target></Rule>
    </Policy>`;
    expect((await send('POST', `${BASE}/policies`, noDeletes, 'application/xml')).status).toBe(201);
    const user = await json(a, 'POST', '/scim2/Users', { userName: 'viewed-vic' });
    const links = (await json(a, 'GET', '/api/server/v1/applications/resident/provisioning/outbound-connectors')).body as unknown as Json[];
    expect(links.find((l) => l.id === linkId)).toMatchObject({ rulesEnabled: true, rulesNotApplicable: 'skip' });

    const view = await json(a, 'GET', `/api/server/v1/applications/resident/provisioning/outbound-connectors/${linkId}/rules?userId=${String(user.body.id)}`);
    expect(view.status, JSON.stringify(view.body)).toBe(200);
    expect(view.body.user).toMatchObject({ userName: 'viewed-vic' });
    const ops = view.body.operations as Record<string, { decision: string; action: string; decidedBy?: string; policies: Json[] }>;
    expect(ops.create).toMatchObject({ decision: 'Permit', action: 'deliver', decidedBy: 'urn:test:viewed-no-deletes@3.1' });
    expect(ops.delete).toMatchObject({ decision: 'Deny', action: 'skip' });
    // update and jit: no rule applies; this link skips on NotApplicable.
    expect(ops.update).toMatchObject({ decision: 'NotApplicable', action: 'skip' });
    expect(ops.jit).toMatchObject({ decision: 'NotApplicable', action: 'skip' });
    expect(ops.delete!.policies.find((p) => p.policyId === 'urn:test:viewed-no-deletes')).toMatchObject({ decision: 'Deny', version: '3.1' });
    expect(ops.delete!.policies.find((p) => p.policyId === 'urn:test:bob')).toMatchObject({ decision: 'NotApplicable' });

    // The fan-out decided the user's create the same way: it reached the target.
    await eventually(() => Promise.resolve(target.byUserName('viewed-vic')), 60_000, 'viewed-vic at Viewed');
    const patched = await json(a, 'PATCH', `/api/server/v1/applications/resident/provisioning/outbound-connectors/${linkId}`, { rulesNotApplicable: 'provision' });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.rulesNotApplicable).toBe('provision');
    expect((await json(a, 'PATCH', `/api/server/v1/applications/resident/provisioning/outbound-connectors/${linkId}`, { rulesNotApplicable: 'maybe' })).status).toBe(400);
    const after = (await json(a, 'GET', `/api/server/v1/applications/resident/provisioning/outbound-connectors/${linkId}/rules`)).body;
    expect((after.operations as Record<string, { action: string }>).update!.action).toBe('deliver');
    expect((await json(a, 'GET', `/api/server/v1/applications/resident/provisioning/outbound-connectors/00000000-0000-4000-8000-00000000abcd/rules`)).status).toBe(404);
  });
});
