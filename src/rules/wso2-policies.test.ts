/**
 * WSO2's rule-based provisioning policies, decided here as WSO2 Identity Server decides them: its sample policy and
 * its five templates (read in place from ../shared/conformance/wso2-provisioning, or WSO2_PROVISIONING_DIR), with
 * the templates' placeholders filled in as an operator fills them, on requests built the way WSO2's
 * XACMLBasedRuleHandler builds them (buildProvisioningRequest(..., 'wso2')), under WSO2's default root algorithm
 * (deny-overrides) and WSO2's reading of the decision (only Permit provisions).
 *
 * How WSO2 (Balana) decides, where it matters below:
 * - Every template is a Policy with first-applicable rules: the permit rule(s) for POST and PUT, then an
 *   unconditional `deny_others`. A rule whose condition is false is NotApplicable and the next rule is tried, so a
 *   user who does not qualify ends at `deny_others`: Deny. A DELETE matches no permit rule: Deny (quirk: with these
 *   templates a delete never reaches the target).
 * - A designator with MustBePresent="true" and no value makes its rule Indeterminate, and first-applicable stops
 *   there (XACML 3.0 §C.8): the policy is Indeterminate, which WSO2 does not provision.
 * - The policy targets match SP_NAME, IDP_NAME and the action "provisioning"; another application or another
 *   identity provider leaves the policy NotApplicable, which WSO2 does not provision either (provisioningAllowed).
 * - WSO2 sends current-time as an xs:string "HH:mm:ss"; the templates ask for an xs:time. Balana's designator looks
 *   for that id *and* data type (XACML3EvaluationCtx.getAttribute), finds none and asks its attribute finder, whose
 *   CurrentEnvModule answers with the PDP's clock (§10.2.5). Here the Pdp's `now` plays that part, in UTC.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Pdp, loadPolicy, type LoadedPolicy } from './pdp.js';
import {
  WSO2_ROOT_COMBINING_ALGORITHM,
  buildProvisioningRequest,
  provisioningAllowed,
  type ProvisioningDecisionInput,
} from './provisioning-request.js';
import type { Decision } from './response.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const policyDir =
  process.env.WSO2_PROVISIONING_DIR ??
  (process.env.CONFORMANCE_DIR
    ? path.resolve(process.env.CONFORMANCE_DIR, '../wso2-provisioning')
    : path.resolve(repoRoot, '../shared/conformance/wso2-provisioning'));

function readPolicy(file: string): string {
  const full = path.join(policyDir, file);
  // Fail, never skip: a missing folder must not pass as "nothing to check".
  if (!existsSync(full)) throw new Error(`WSO2 provisioning policy not found: ${full} (looked in ${policyDir}; set WSO2_PROVISIONING_DIR)`);
  return readFileSync(full, 'utf8');
}

/** What an operator types over the templates' placeholders (rule-based-provisioning.md, "Edit the placeholders"). */
const OPERATOR_VALUES: [RegExp, string][] = [
  [/PolicyId="(provisioning_[a-z_]+)_template"/, 'PolicyId="$1"'],
  [/>SP_NAME</g, '>HR Portal<'],
  [/>IDP_NAME</g, '>GoogleIdP<'],
  [/ROLE_1/g, 'finance'], // also Internal/ROLE_1 -> Internal/finance, as WSO2 writes roles in the roles claim
  [/ROLE_2/g, 'audit'],
  [/"CLAIM_URI_1"/g, '"http://wso2.org/claims/department"'],
  [/>CLAIM_VALUE_1</g, '>Finance<'],
  [/"CLAIM_URI_2"/g, '"http://wso2.org/claims/emailaddress"'],
  [/>CLAIM_VALUE_2</g, '>jane@abc.com<'],
];

function fillIn(xml: string): string {
  let out = xml;
  for (const [pattern, value] of OPERATOR_VALUES) out = out.replace(pattern, value);
  // every placeholder in a value or an AttributeId is filled (the Description may still name them)
  expect(out).not.toMatch(/[">](SP_NAME|IDP_NAME|CLAIM_(URI|VALUE)_\d)["<]|[">/]ROLE_\d<|_template"/);
  return out;
}

function load(file: string, template: boolean): LoadedPolicy {
  const xml = readPolicy(file);
  return loadPolicy(template ? fillIn(xml) : xml);
}

/** Office hours in the templates are 09:00:00-17:00:00 (no time zone: the PDP's, UTC here). */
const IN_HOURS = new Date('2026-12-02T10:30:00Z');
const AFTER_HOURS = new Date('2026-12-02T20:15:00Z');

function user(overrides: Partial<ProvisioningDecisionInput> = {}): ProvisioningDecisionInput {
  return {
    operation: 'create',
    resourceType: 'User',
    domain: 'PRIMARY',
    resource: {
      id: 'u-jane',
      userName: 'jane',
      name: { givenName: 'Jane', familyName: 'Doe' },
      emails: [{ value: 'jane@abc.com', primary: true }],
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'Finance' },
    },
    groups: ['finance'],
    roles: ['finance'],
    target: { idpName: 'GoogleIdP', connectorType: 'google', connectorId: 'c-google' },
    application: { id: 'app-hr', name: 'HR Portal' },
    now: IN_HOURS,
    ...overrides,
  };
}

function pdpOf(...policies: LoadedPolicy[]): Pdp {
  return new Pdp({ policies, topLevel: policies.map((p) => ({ id: p.id, version: p.version })), rootCombiningAlgorithm: WSO2_ROOT_COMBINING_ALGORITHM });
}

function decide(pdp: Pdp, input: ProvisioningDecisionInput): Decision {
  const { results } = pdp.evaluate(buildProvisioningRequest(input, 'wso2'), { now: input.now });
  expect(results).toHaveLength(1);
  return results[0]!.decision;
}

/** The decision and whether WSO2 would send the operation to the target. */
function outcome(pdp: Pdp, input: ProvisioningDecisionInput): [Decision, boolean] {
  const d = decide(pdp, input);
  return [d, provisioningAllowed(d)];
}

describe('WSO2 sample-provisioning-policy.xml', () => {
  const pdp = pdpOf(load('sample-provisioning-policy.xml', false));

  it('permits a create for a user in the admin group of carbon.super', () => {
    expect(outcome(pdp, user({ groups: ['admin', 'finance'] }))).toEqual(['Permit', true]);
  });
  it('denies a create for a user outside the admin group', () => {
    expect(outcome(pdp, user({ groups: ['finance'] }))).toEqual(['Deny', false]);
  });
  it('is Indeterminate for a create without groups: claim-group is absent and MustBePresent', () => {
    // WSO2 drops the blank claim-group row, so string-at-least-one-member-of has no bag.
    expect(outcome(pdp, user({ groups: [] }))).toEqual(['Indeterminate', false]);
  });
  it('permits an update only towards a SCIM 1.1 ("scim") connector', () => {
    expect(outcome(pdp, user({ operation: 'update', target: { idpName: 'Other', connectorType: 'scim11', connectorId: 'c' } }))).toEqual(['Permit', true]);
    expect(outcome(pdp, user({ operation: 'update', target: { idpName: 'Other', connectorType: 'scim2', connectorId: 'c' } }))).toEqual(['Deny', false]);
  });
  it('denies a delete (deny-rule)', () => {
    expect(outcome(pdp, user({ operation: 'delete', groups: ['admin'] }))).toEqual(['Deny', false]);
  });
  it('treats JIT provisioning as the create it is in WSO2 (POST)', () => {
    expect(outcome(pdp, user({ operation: 'jit', groups: ['admin'] }))).toEqual(['Permit', true]);
  });
});

describe('WSO2 provisioning_role_based_policy_template.xml', () => {
  const pdp = pdpOf(load('provisioning_role_based_policy_template.xml', true));

  it('permits a create for a member of ROLE_1 or ROLE_2 (claim-group)', () => {
    expect(outcome(pdp, user({ groups: ['audit'] }))).toEqual(['Permit', true]);
    expect(outcome(pdp, user({ groups: ['sales', 'finance'] }))).toEqual(['Permit', true]);
  });
  it('denies a create for a user in neither', () => {
    expect(outcome(pdp, user({ groups: ['sales'] }))).toEqual(['Deny', false]);
  });
  it('permits an update for a holder of Internal/ROLE_1 (the roles claim) and denies others', () => {
    expect(outcome(pdp, user({ operation: 'update', roles: ['finance'], groups: [] }))).toEqual(['Permit', true]);
    expect(outcome(pdp, user({ operation: 'update', roles: ['sales'], groups: ['finance'] }))).toEqual(['Deny', false]);
  });
  it('is NotApplicable for another application or identity provider, which WSO2 does not provision', () => {
    expect(outcome(pdp, user({ application: { id: 'app-crm', name: 'CRM' } }))).toEqual(['NotApplicable', false]);
    expect(outcome(pdp, user({ target: { idpName: 'Salesforce', connectorType: 'salesforce', connectorId: 'c' } }))).toEqual([
      'NotApplicable',
      false,
    ]);
  });
  it('denies a delete', () => {
    expect(outcome(pdp, user({ operation: 'delete' }))).toEqual(['Deny', false]);
  });
});

describe('WSO2 provisioning_time_based_policy_template.xml', () => {
  const pdp = pdpOf(load('provisioning_time_based_policy_template.xml', true));

  it('permits any operation between 09:00:00 and 17:00:00', () => {
    for (const operation of ['create', 'update', 'delete'] as const) {
      expect(outcome(pdp, user({ operation, now: IN_HOURS })), operation).toEqual(['Permit', true]);
    }
  });
  it('denies outside those hours', () => {
    expect(outcome(pdp, user({ now: AFTER_HOURS }))).toEqual(['Deny', false]);
    expect(outcome(pdp, user({ now: new Date('2026-12-02T08:59:59Z') }))).toEqual(['Deny', false]);
  });
});

describe('WSO2 provisioning_time_and_role_based_policy_template.xml', () => {
  const pdp = pdpOf(load('provisioning_time_and_role_based_policy_template.xml', true));

  it('permits a create for a ROLE_1 member in office hours', () => {
    expect(outcome(pdp, user({ groups: ['finance'], now: IN_HOURS }))).toEqual(['Permit', true]);
  });
  it('denies the same create after hours, and a non-member in hours', () => {
    expect(outcome(pdp, user({ groups: ['finance'], now: AFTER_HOURS }))).toEqual(['Deny', false]);
    expect(outcome(pdp, user({ groups: ['sales'], now: IN_HOURS }))).toEqual(['Deny', false]);
  });
  it('permits an update for a holder of Internal/ROLE_2 in hours only', () => {
    expect(outcome(pdp, user({ operation: 'update', roles: ['audit'], now: IN_HOURS }))).toEqual(['Permit', true]);
    expect(outcome(pdp, user({ operation: 'update', roles: ['audit'], now: AFTER_HOURS }))).toEqual(['Deny', false]);
  });
});

describe('WSO2 provisioning_user_claim_based_policy_template.xml', () => {
  const pdp = pdpOf(load('provisioning_user_claim_based_policy_template.xml', true));

  it('permits a create when both claims have the configured values', () => {
    expect(outcome(pdp, user())).toEqual(['Permit', true]);
  });
  it('denies a create when a claim differs', () => {
    expect(
      outcome(pdp, user({ resource: { userName: 'joe', emails: [{ value: 'joe@abc.com' }], 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'Finance' } } }))
    ).toEqual(['Deny', false]);
  });
  it('is Indeterminate when a claim the policy needs is missing (MustBePresent)', () => {
    expect(outcome(pdp, user({ resource: { userName: 'jane', emails: [{ value: 'jane@abc.com' }] } }))).toEqual(['Indeterminate', false]);
  });
  it('decides an update on the same claims', () => {
    expect(outcome(pdp, user({ operation: 'update' }))).toEqual(['Permit', true]);
    expect(
      outcome(pdp, user({ operation: 'update', resource: { userName: 'jane', emails: [{ value: 'jane@abc.com' }], 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'Sales' } } }))
    ).toEqual(['Deny', false]);
  });
});

describe('WSO2 provisioning_time_and_user_claim_based_policy_template.xml', () => {
  const pdp = pdpOf(load('provisioning_time_and_user_claim_based_policy_template.xml', true));

  it('permits a create with the claims in office hours', () => {
    expect(outcome(pdp, user({ now: IN_HOURS }))).toEqual(['Permit', true]);
  });
  it('denies it after hours, or with another claim value', () => {
    expect(outcome(pdp, user({ now: AFTER_HOURS }))).toEqual(['Deny', false]);
    expect(
      outcome(pdp, user({ resource: { userName: 'jane', emails: [{ value: 'jane@xyz.com' }], 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'Finance' } } }))
    ).toEqual(['Deny', false]);
  });
});

describe('WSO2 rule-based-provisioning.md, the guide\'s email-domain policy', () => {
  /** The guide's finished policy: the ```xml block after "the policy should be similar to the following". */
  function guidePolicy(): LoadedPolicy {
    const md = readPolicy('rule-based-provisioning.md');
    const start = md.indexOf('```xml', md.indexOf('the policy should be similar to the following'));
    const body = md.slice(start + '```xml'.length, md.indexOf('```', start + 6));
    expect(body).toContain('PolicyId="provisioning_user_claim_based_policy"');
    return loadPolicy(body.trim());
  }
  const pdp = pdpOf(guidePolicy());
  const to = { idpName: 'WSO2IDP', connectorType: 'scim2', connectorId: 'c-is' };

  it('provisions jane@abc.com on create, as its "Try it out" says, and not a user of another domain', () => {
    expect(outcome(pdp, user({ target: to }))).toEqual(['Permit', true]);
    expect(outcome(pdp, user({ target: to, resource: { userName: 'bob', emails: [{ value: 'bob@xyz.com' }] } }))).toEqual(['Deny', false]);
  });
  it('provisions an update only for test@abc.com', () => {
    expect(outcome(pdp, user({ target: to, operation: 'update', resource: { userName: 't', emails: [{ value: 'test@abc.com' }] } }))).toEqual(['Permit', true]);
    expect(outcome(pdp, user({ target: to, operation: 'update' }))).toEqual(['Deny', false]);
  });
});

describe('WSO2 policies published together', () => {
  it('combine by deny-overrides, WSO2’s default: one Deny outweighs a Permit', () => {
    const pdp = pdpOf(
      load('sample-provisioning-policy.xml', false),
      load('provisioning_role_based_policy_template.xml', true),
      load('provisioning_time_based_policy_template.xml', true)
    );
    // role-based and time-based permit; the sample policy denies (no admin group)
    expect(outcome(pdp, user({ groups: ['finance'], now: IN_HOURS }))).toEqual(['Deny', false]);
    // with the admin group all three permit
    expect(outcome(pdp, user({ groups: ['finance', 'admin'], now: IN_HOURS }))).toEqual(['Permit', true]);
  });
});
