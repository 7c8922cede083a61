import { describe, expect, it } from 'vitest';
import { formatValue } from './functions/datatypes.js';
import {
  CleanAttribute,
  CleanCategory,
  PROVISIONING_REQUEST_LIMITS,
  ProvisioningRequestError,
  Wso2Attribute,
  Wso2Category,
  Wso2Claim,
  buildProvisioningRequest,
  type ProvisioningDecisionInput,
} from './provisioning-request.js';
import type { XacmlRequest } from './request.js';
import { DataType } from './values.js';

const NOW = new Date('2026-12-02T14:05:09.250Z');

function input(overrides: Partial<ProvisioningDecisionInput> = {}): ProvisioningDecisionInput {
  return {
    operation: 'create',
    resourceType: 'User',
    domain: 'PRIMARY',
    resource: {
      id: 'u-1',
      userName: 'ada',
      name: { givenName: 'Ada', familyName: 'Lovelace' },
      active: true,
      emails: [
        { value: 'ada@home.example', type: 'home' },
        { value: 'ada@abc.com', type: 'work', primary: true },
      ],
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'Engineering' },
    },
    groups: ['engineering', 'SECONDARY/ops'],
    roles: ['admin'],
    target: { idpName: 'GoogleIdP', connectorType: 'google', connectorId: 'c-1' },
    application: { id: 'app-1', name: 'wso2carbon-local-sp' },
    now: NOW,
    ...overrides,
  };
}

/** category -> attributeId -> [dataType, lexical][] */
function table(req: XacmlRequest): Record<string, Record<string, [string, string][]>> {
  const out: Record<string, Record<string, [string, string][]>> = {};
  for (const c of req.categories) {
    const cat = (out[c.category] ??= {});
    for (const a of c.attributes) {
      expect(a.includeInResult).toBe(false);
      (cat[a.attributeId] ??= []).push(...a.values.map((v): [string, string] => [v.dataType, formatValue(v)]));
    }
  }
  return out;
}

const S = DataType.string;

describe('buildProvisioningRequest, WSO2 profile', () => {
  it('sends what XACMLBasedRuleHandler sends for a POST: every value an xs:string', () => {
    const t = table(buildProvisioningRequest(input(), 'wso2'));
    expect(t[Wso2Category.user]![Wso2Attribute.userTenantDomain]).toEqual([[S, 'carbon.super']]);
    expect(t[Wso2Category.user]![Wso2Attribute.username]).toEqual([[S, 'ada']]);
    expect(t[Wso2Category.serviceProvider]).toEqual({
      [Wso2Attribute.spName]: [[S, 'wso2carbon-local-sp']],
      [Wso2Attribute.spTenantDomain]: [[S, 'carbon.super']],
    });
    expect(t[Wso2Category.identityProvider]).toEqual({
      [Wso2Attribute.idpName]: [[S, 'GoogleIdP']],
      [Wso2Attribute.connectorType]: [[S, 'googleapps']],
    });
    expect(t[Wso2Category.identityAction]).toEqual({ [Wso2Attribute.actionName]: [[S, 'provisioning']] });
    expect(t[Wso2Category.provisioning]).toEqual({
      // List.toString "[engineering, SECONDARY/ops]" between [ and ], split on "," and trimmed
      [Wso2Attribute.claimGroup]: [
        [S, 'engineering'],
        [S, 'SECONDARY/ops'],
      ],
      [Wso2Attribute.operation]: [[S, 'POST']],
    });
    expect(t[Wso2Category.environment]).toEqual({
      [Wso2Attribute.environmentId]: [[S, 'carbon.super']],
      [Wso2Attribute.currentDate]: [[S, '2026/12/02']],
      [Wso2Attribute.currentTime]: [[S, '14:05:09']],
      [Wso2Attribute.currentDateTime]: [[S, '2026/12/02 14:05:09']],
    });
  });

  it('names the resident service provider as WSO2 does', () => {
    const t = table(buildProvisioningRequest(input({ application: { id: 'r', name: 'resident', resident: true } }), 'wso2'));
    expect(t[Wso2Category.serviceProvider]![Wso2Attribute.spName]).toEqual([[S, 'wso2carbon-local-sp']]);
    const clean = table(buildProvisioningRequest(input({ application: { id: 'r', name: 'resident', resident: true } }), 'clean'));
    expect(clean[CleanCategory.application]![CleanAttribute.applicationName]).toEqual([[S, 'resident']]);
  });

  it('maps SCIM attributes to local claims as the SCIM 2.0 dialect does', () => {
    const user = table(buildProvisioningRequest(input(), 'wso2'))[Wso2Category.user]!;
    expect(user[Wso2Claim.givenName]).toEqual([[S, 'Ada']]);
    expect(user[Wso2Claim.lastName]).toEqual([[S, 'Lovelace']]);
    expect(user[Wso2Claim.emailAddress]).toEqual([[S, 'ada@abc.com']]);
    expect(user[Wso2Claim.emailsWork]).toEqual([[S, 'ada@abc.com']]);
    expect(user[Wso2Claim.emailsHome]).toEqual([[S, 'ada@home.example']]);
    expect(user[Wso2Claim.active]).toEqual([[S, 'true']]);
    expect(user[Wso2Claim.department]).toEqual([[S, 'Engineering']]);
    expect(user[Wso2Claim.userId]).toEqual([[S, 'u-1']]);
    // memberships are not claims given to addUser
    expect(user[Wso2Claim.roles]).toBeUndefined();
  });

  it('sends PUT with the role and group claims and without claim-group', () => {
    const t = table(buildProvisioningRequest(input({ operation: 'update' }), 'wso2'));
    expect(t[Wso2Category.provisioning]).toEqual({ [Wso2Attribute.operation]: [[S, 'PUT']] });
    expect(t[Wso2Category.user]![Wso2Claim.roles]).toEqual([
      [S, 'Internal/admin'],
      [S, 'Internal/everyone'],
    ]);
    expect(t[Wso2Category.user]![Wso2Claim.groups]).toEqual([
      [S, 'engineering'],
      [S, 'SECONDARY/ops'],
    ]);
  });

  it('sends DELETE without claims, and JIT as POST', () => {
    const del = table(buildProvisioningRequest(input({ operation: 'delete' }), 'wso2'));
    expect(Object.keys(del[Wso2Category.user]!).sort()).toEqual([Wso2Attribute.userTenantDomain, Wso2Attribute.username].sort());
    expect(del[Wso2Category.provisioning]).toEqual({ [Wso2Attribute.operation]: [[S, 'DELETE']] });
    const jit = table(buildProvisioningRequest(input({ operation: 'jit' }), 'wso2'));
    expect(jit[Wso2Category.provisioning]![Wso2Attribute.operation]).toEqual([[S, 'POST']]);
  });

  it('qualifies names outside PRIMARY and drops an empty claim-group as WSO2 drops blank rows', () => {
    const t = table(buildProvisioningRequest(input({ domain: 'SECONDARY', groups: [] }), 'wso2'));
    expect(t[Wso2Category.user]![Wso2Attribute.username]).toEqual([[S, 'SECONDARY/ada']]);
    expect(t[Wso2Category.provisioning]![Wso2Attribute.claimGroup]).toBeUndefined();
  });

  it('keeps the split and bracket quirks: a comma splits a value, a "]" ends the group list', () => {
    const t = table(buildProvisioningRequest(input({ groups: ['a]b', 'c'], resource: { userName: 'x', title: 'Dr, PhD' } }), 'wso2'));
    expect(t[Wso2Category.provisioning]![Wso2Attribute.claimGroup]).toEqual([[S, 'a']]);
    expect(t[Wso2Category.user]![Wso2Claim.title]).toEqual([
      [S, 'Dr'],
      [S, 'PhD'],
    ]);
  });

  it('sends a group under user/username with its own name as claim-group on POST', () => {
    const t = table(
      buildProvisioningRequest(input({ resourceType: 'Group', domain: 'SECONDARY', resource: { displayName: 'ops', members: [] } }), 'wso2')
    );
    expect(t[Wso2Category.user]![Wso2Attribute.username]).toEqual([[S, 'SECONDARY/ops']]);
    expect(t[Wso2Category.provisioning]![Wso2Attribute.claimGroup]).toEqual([[S, 'SECONDARY/ops']]);
  });
});

describe('buildProvisioningRequest, clean profile', () => {
  it('uses typed values and this server’s identifiers', () => {
    const t = table(buildProvisioningRequest(input(), 'clean'));
    expect(t[CleanCategory.action]).toEqual({ [CleanAttribute.operation]: [[S, 'create']] });
    expect(t[CleanCategory.application]).toEqual({
      [CleanAttribute.applicationId]: [[S, 'app-1']],
      [CleanAttribute.applicationName]: [[S, 'wso2carbon-local-sp']],
    });
    expect(t[CleanCategory.target]).toEqual({
      [CleanAttribute.targetIdpName]: [[S, 'GoogleIdP']],
      [CleanAttribute.targetConnectorType]: [[S, 'google']],
      [CleanAttribute.targetConnectorId]: [[S, 'c-1']],
    });
    const res = t[CleanCategory.resource]!;
    expect(res[CleanAttribute.active]).toEqual([[DataType.boolean, 'true']]);
    expect(res[CleanAttribute.emails]!.map((v) => v[1]).sort()).toEqual(['ada@abc.com', 'ada@home.example']);
    expect(res[CleanAttribute.groups]!.map((v) => v[1])).toEqual(['engineering', 'SECONDARY/ops']);
    expect(res[CleanAttribute.roles]).toEqual([[S, 'admin']]);
    expect(res[CleanAttribute.givenName]).toEqual([[S, 'Ada']]);
    expect(res[CleanAttribute.department]).toEqual([[S, 'Engineering']]);
    expect(res[CleanAttribute.qualifiedName]).toEqual([[S, 'ada']]);
    const env = t[CleanCategory.environment]!;
    expect(env[CleanAttribute.currentDateTime]![0]![0]).toBe(DataType.dateTime);
    expect(env[CleanAttribute.currentDate]![0]![0]).toBe(DataType.date);
    expect(env[CleanAttribute.currentTime]![0]![0]).toBe(DataType.time);
    expect(env[CleanAttribute.currentDate]![0]![1]).toMatch(/^2026-12-02/);
    expect(env[CleanAttribute.currentTime]![0]![1]).toMatch(/^14:05:09/);
  });
});

describe('buildProvisioningRequest, bad input', () => {
  it('refuses more groups than the bound, and names the bound', () => {
    const groups = Array.from({ length: PROVISIONING_REQUEST_LIMITS.maxBagSize + 1 }, (_, i) => `g${i}`);
    expect(() => buildProvisioningRequest(input({ groups }), 'clean')).toThrow(ProvisioningRequestError);
    expect(() => buildProvisioningRequest(input({ groups }), 'clean')).toThrow(/more than 1000/);
  });
  it('refuses an over-long string and a wrongly typed attribute', () => {
    const long = 'x'.repeat(PROVISIONING_REQUEST_LIMITS.maxStringLength + 1);
    expect(() => buildProvisioningRequest(input({ resource: { userName: long } }), 'wso2')).toThrow(/longer than/);
    expect(() => buildProvisioningRequest(input({ resource: { userName: 'a', emails: 'a@b' } }), 'wso2')).toThrow(/must be an array/);
    expect(() => buildProvisioningRequest(input({ now: new Date(Number.NaN) }), 'wso2')).toThrow(/valid Date/);
    expect(() => buildProvisioningRequest(input(), 'other' as never)).toThrow(/unknown request profile/);
  });
});
