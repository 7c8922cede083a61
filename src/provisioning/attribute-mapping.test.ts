/**
 * Per-connector attribute mapping: sources (value paths, extension URNs), JSONata expressions, defaults, when:create,
 * validation messages naming the rule, and expression failures at delivery time.
 */
import { describe, expect, it } from 'vitest';
import { ConnectorMisconfigured, ConnectorRejected } from '../connectors/errors.js';
import type { ConnectorRegistry } from '../connectors/registry.js';
import { BUILTIN_CONNECTORS, ConnectorRegistry as Registry } from '../connectors/registry.js';
import type { OutboundUser } from '../connectors/types.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { PrismaClient } from '../db/client.js';
import { SCHEMA_ENTERPRISE_USER } from '../scim/schemas.js';
import {
  AttributeMappingError,
  attributeMappingTargets,
  compileAttributeMapping,
  mapOutboundUser,
  MAPPING_LIMITS,
  scalarValue,
  stringValues,
  validateAttributeMapping,
  type AttributeMappingRule,
} from './attribute-mapping.js';
import { AdminError, ProvisioningConfigService } from './connectors.js';

const ACME = 'urn:example:params:scim:schemas:extension:acme:2.0:User';

function user(extra: Partial<OutboundUser> = {}): OutboundUser {
  return {
    id: 'u-1',
    domain: 'PRIMARY',
    userName: 'rashmini',
    active: true,
    name: { givenName: 'Rashmini', familyName: 'Nadeesha' },
    emails: [
      { value: 'rash@home.example', type: 'home' },
      { value: 'rash@work.example', type: 'work', primary: true },
      { value: 'r.n@work.example', type: 'work' },
    ],
    phoneNumbers: [{ value: '+94 11 000 0000', type: 'mobile' }],
    addresses: [],
    enterprise: { department: 'IAM', costCenter: 'CC-7', manager: { value: 'm-1', displayName: 'Boss' } },
    extensions: { [ACME]: { badge: 42, tags: ['a', 'b'] } },
    version: 3,
    created: '2024-01-01T00:00:00.000Z',
    lastModified: '2024-02-01T00:00:00.000Z',
    password: 'secret-pass',
    ...extra,
  };
}

async function map(rules: AttributeMappingRule[], operation: 'create' | 'update' = 'update', u: OutboundUser = user()) {
  return (await mapOutboundUser(u, rules, { operation })).mapped;
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('sources', () => {
  it('reads attributes, sub-attributes, value paths (primary first) and extension URNs', async () => {
    const mapped = await map([
      { target: 'a', source: 'userName' },
      { target: 'b', source: 'name.givenName' },
      { target: 'c', source: 'emails[type eq "work"].value' },
      { target: 'd', source: 'emails[type eq "home"].value' },
      { target: 'e', source: 'emails.value' },
      { target: 'f', source: `${SCHEMA_ENTERPRISE_USER}:department` },
      { target: 'g', source: `${SCHEMA_ENTERPRISE_USER}:manager.displayName` },
      { target: 'h', source: 'costCenter' },
      { target: 'i', source: `${ACME}:badge` },
      { target: 'j', source: `${ACME}:tags` },
      { target: 'k', source: 'NAME.FAMILYNAME' },
      { target: 'l', source: 'active' },
      { target: 'm', source: 'phoneNumbers[type eq "work"].value' },
      { target: 'n', source: 'meta.version' },
    ]);
    expect(mapped).toEqual([
      { target: 'a', value: 'rashmini' },
      { target: 'b', value: 'Rashmini' },
      { target: 'c', value: 'rash@work.example' },
      { target: 'd', value: 'rash@home.example' },
      { target: 'e', value: 'rash@work.example' },
      { target: 'f', value: 'IAM' },
      { target: 'g', value: 'Boss' },
      // An enterprise attribute resolves without its URN (no core attribute has that name).
      { target: 'h', value: 'CC-7' },
      { target: 'i', value: 42 },
      { target: 'j', value: 'a' },
      { target: 'k', value: 'Nadeesha' },
      { target: 'l', value: true },
      { target: 'm', value: null },
      { target: 'n', value: 'W/"3"' },
    ]);
  });

  it('renders the user name of a secondary domain as DOMAIN/name, as SCIM does', async () => {
    expect(await map([{ target: 'u', source: 'userName' }], 'update', user({ domain: 'EXT' }))).toEqual([{ target: 'u', value: 'EXT/rashmini' }]);
  });
});

describe('expressions', () => {
  it('evaluates JSONata against the SCIM representation, with $enterprise and $operation', async () => {
    const mapped = await map(
      [
        { target: 'primaryEmail', expression: '$lowercase(name.givenName) & "." & $lowercase(name.familyName) & "@example.com"' },
        { target: 'dept', expression: '$enterprise.department' },
        { target: 'dept2', expression: '`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`.costCenter' },
        { target: 'op', expression: '$operation' },
        { target: 'all', expression: 'emails[type = "work"].value' },
        { target: 'obj', expression: '{ "first": name.givenName, "n": $count(emails) }' },
        { target: 'alias', expression: '$substring($lowercase(name.givenName), 0, 1) & $substring($lowercase(name.familyName), 0, 7)' },
        { target: 'noPassword', expression: 'password' },
      ],
      'create',
    );
    expect(mapped).toEqual([
      { target: 'primaryEmail', value: 'rashmini.nadeesha@example.com' },
      { target: 'dept', value: 'IAM' },
      { target: 'dept2', value: 'CC-7' },
      { target: 'op', value: 'create' },
      // A JSONata sequence arrives as a plain list.
      { target: 'all', value: ['rash@work.example', 'r.n@work.example'] },
      { target: 'obj', value: { first: 'Rashmini', n: 3 } },
      { target: 'alias', value: 'rnadeesh' },
      // The password is never part of the representation.
      { target: 'noPassword', value: null },
    ]);
    const all = (await map([{ target: 'all', expression: 'emails[type = "work"].value' }]))![0]!.value;
    expect(Array.isArray(all) && !('sequence' in all)).toBe(true);
  });
});

describe('defaults and when', () => {
  it('uses the default for a missing or empty value, null without one', async () => {
    const u = user({ title: '  ', nickName: undefined });
    expect(
      await map(
        [
          { target: 'a', source: 'nickName', default: 'nobody' },
          { target: 'b', source: 'title', default: 7 },
          { target: 'c', expression: '[]', default: false },
          { target: 'd', source: 'nickName' },
          { target: 'e', source: 'userName', default: 'unused' },
        ],
        'update',
        u,
      ),
    ).toEqual([
      { target: 'a', value: 'nobody' },
      { target: 'b', value: 7 },
      { target: 'c', value: false },
      { target: 'd', value: null },
      { target: 'e', value: 'rashmini' },
    ]);
  });

  it("applies 'when: create' rules only on create, and nothing on delete", async () => {
    const rules: AttributeMappingRule[] = [
      { target: 'orgUnitPath', expression: '"/New"', when: 'create' },
      { target: 'title', source: 'userName' },
    ];
    expect(await map(rules, 'create')).toEqual([
      { target: 'orgUnitPath', value: '/New' },
      { target: 'title', value: 'rashmini' },
    ]);
    expect(await map(rules, 'update')).toEqual([{ target: 'title', value: 'rashmini' }]);
    const deleted = await mapOutboundUser(user(), rules, { operation: 'delete' });
    expect(deleted.mapped).toBeUndefined();
    expect((await mapOutboundUser(user(), undefined, { operation: 'create' })).mapped).toBeUndefined();
  });
});

describe('validation', () => {
  it('accepts a good mapping', async () => {
    expect(
      await validateAttributeMapping([
        { target: 'x', source: 'emails[type eq "work" and primary eq true].value' },
        { target: 'y', expression: '( $f := function($s){ $uppercase($s) }; $f(userName) )' },
        { target: 'z', expression: 'emails.value ~> $join(",")' },
        { target: 'x', source: 'userName', when: 'create' },
        { target: 'w', source: `${ACME}:badge`, default: 0 },
      ]),
    ).toEqual([]);
    expect(await validateAttributeMapping(undefined)).toEqual([]);
  });

  it('names the rule and the problem', async () => {
    const issues = await validateAttributeMapping([
      { target: 'a', source: 'userName', expression: 'userName' },
      { target: 'b' },
      { target: 'c', source: 'name.nope' },
      { target: 'd', source: 'emails[type eq "work"' },
      { target: 'e', expression: '$lowercase(name.givenName' },
      { target: 'f', expression: '$lowercas(userName) & $nope2()' },
      { target: 'g', source: 'password' },
      { target: 'h', source: 'userName', when: 'sometimes' },
      { target: '', source: 'userName' },
      { target: 'i', source: 'userName', extra: 1 },
      { target: 'j', source: 'userName', default: { x: 1 } },
      { target: 'k', source: 'title[value eq "x"]' },
      { target: 'l', source: 'emails[nope eq "x"].value' },
      { target: 'm', source: 'badge' },
      { target: 'n', source: `${ACME}:tags[value eq "a"]` },
      'not a rule',
      { target: 'ok', source: 'userName' },
      { target: 'ok', expression: 'userName' },
    ]);
    expect(issues).toEqual([
      "attributeMapping[0] (target 'a'): give exactly one of 'source' (a SCIM attribute path) and 'expression' (JSONata)",
      "attributeMapping[1] (target 'b'): give exactly one of 'source' (a SCIM attribute path) and 'expression' (JSONata)",
      expect.stringMatching(/^attributeMapping\[2\] \(target 'c'\): source: Unknown attribute 'name.nope': 'name' has no sub-attribute 'nope'$/),
      expect.stringMatching(/^attributeMapping\[3\] \(target 'd'\): source: Invalid path: /),
      expect.stringMatching(/^attributeMapping\[4\] \(target 'e'\): expression: syntax error: S0203 Expected "\)" before end of expression/),
      "attributeMapping[5] (target 'f'): expression: unknown function $lowercas (at position 9), $nope2 (at position 28)",
      expect.stringMatching(/^attributeMapping\[6\] \(target 'g'\): source: Attribute 'password' cannot be used .*never returned/),
      expect.stringMatching(/^attributeMapping\[7\] \(target 'h'\): when: /),
      expect.stringMatching(/^attributeMapping\[8\]: target: is empty/),
      expect.stringMatching(/^attributeMapping\[9\] \(target 'i'\): .*extra.*\(a rule has target, source or expression, default, when\)/),
      "attributeMapping[10] (target 'j'): default: must be a string, number or boolean",
      expect.stringMatching(/^attributeMapping\[11\] \(target 'k'\): source: 'title' is single-valued/),
      expect.stringMatching(/^attributeMapping\[12\] \(target 'l'\): source: Unknown attribute 'nope'/),
      expect.stringMatching(/^attributeMapping\[13\] \(target 'm'\): source: Unknown attribute 'badge'.*operator-defined extension schemas with their schema URN/),
      expect.stringMatching(/^attributeMapping\[14\] \(target 'n'\): source: value filters work on core and enterprise attributes/),
      expect.stringMatching(/^attributeMapping\[15\]: Invalid input: expected object/),
      "attributeMapping[17] (target 'ok'): the target is already mapped by attributeMapping[16]",
    ]);
    expect(await validateAttributeMapping({ target: 'x' })).toEqual([expect.stringMatching(/^attributeMapping: must be a list of rules/)]);
    const many = Array.from({ length: MAPPING_LIMITS.rules + 1 }, (_, i) => ({ target: `t${i}`, source: 'userName' }));
    expect(await validateAttributeMapping(many)).toEqual([`attributeMapping: at most ${MAPPING_LIMITS.rules} rules (got ${MAPPING_LIMITS.rules + 1})`]);
  });

  it('lists the targets of well-formed rules for the connectors own checks', () => {
    expect(attributeMappingTargets({ attributeMapping: [{ target: ' A ' }, 'x', { target: 3 }, { target: 'B', source: 'userName' }] })).toEqual([
      { index: 0, target: 'A' },
      { index: 3, target: 'B' },
    ]);
    expect(attributeMappingTargets({})).toEqual([]);
  });

  it('a stored mapping that no longer validates is the connector misconfigured', async () => {
    const err = await rejection(compileAttributeMapping([{ target: 'x', expression: '$(' }]));
    expect(err).toBeInstanceOf(ConnectorMisconfigured);
    expect(err.message).toMatch(/^Invalid attribute mapping: attributeMapping\[0\] \(target 'x'\): expression: syntax error/);
  });
});

describe('runtime failures', () => {
  it('an expression failing on the data is a rejection naming the rule', async () => {
    const err = await rejection(map([{ target: 'ok', source: 'userName' }, { target: 'n', expression: 'name.givenName + 1' }]));
    expect(err).toBeInstanceOf(AttributeMappingError);
    expect(err).toBeInstanceOf(ConnectorRejected);
    expect(err.message).toMatch(/^attributeMapping\[1\] \(target 'n'\): the expression failed: T2001 The left side of the "\+" operator must evaluate to a number/);
  });

  it('guards time, depth, size and kind of the result', async () => {
    const loop = await rejection(map([{ target: 'x', expression: '( $f := function($n){ $f($n + 1) }; $f(0) )' }]));
    expect(loop).toBeInstanceOf(AttributeMappingError);
    expect(loop.message).toMatch(/^attributeMapping\[0\] \(target 'x'\): the expression failed: D10(11|12) /);
    const big = await rejection(map([{ target: 'x', expression: '[1..100000]' }]));
    expect(big.message).toMatch(/the expression failed: D2015 /);
    const huge = await rejection(map([{ target: 'x', expression: '$join([1..5000].("' + 'x'.repeat(20) + '"))' }]));
    expect(huge.message).toMatch(/^attributeMapping\[0\] \(target 'x'\): the value of the expression is larger than 65536 bytes/);
    const fn = await rejection(map([{ target: 'x', expression: 'function($a){ $a }' }]));
    expect(fn.message).toMatch(/the value of the expression is a function, not a value/);
  });
});

describe('value shapes for connectors', () => {
  it('scalarValue takes the first of a list and refuses objects; stringValues makes DSML-like lists', () => {
    expect(scalarValue({ target: 't', value: ['a', 'b'] })).toBe('a');
    expect(scalarValue({ target: 't', value: [] })).toBeNull();
    expect(scalarValue({ target: 't', value: false })).toBe(false);
    expect(() => scalarValue({ target: 't', value: { a: 1 } })).toThrow(AttributeMappingError);
    expect(stringValues({ target: 't', value: ['a', 2, true, null] })).toEqual(['a', '2', 'true']);
    expect(stringValues({ target: 't', value: null })).toEqual([]);
    expect(() => stringValues({ target: 't', value: [{ a: 1 }] })).toThrow(/holds an object/);
  });
});

describe('admin API validation', () => {
  // The service validates before it touches the database: a stub that fails on use proves nothing was written.
  const db = new Proxy({}, { get: () => { throw new Error('the database must not be reached'); } }) as unknown as PrismaClient;
  const box = {} as SecretBox;
  const registry: ConnectorRegistry = new Registry(BUILTIN_CONNECTORS);
  const service = new ProvisioningConfigService(db, box, registry);

  it('a bad expression is a 400 naming the rule', async () => {
    const err = await rejection(
      service.createIdentityProvider({
        name: 'IS2',
        outboundConnectors: [
          {
            type: 'spml',
            settings: {
              endpoint: 'http://idm.example.com/spml',
              attributeMapping: [
                { target: 'mail', source: 'emails[type eq "work"].value' },
                { target: 'uid', expression: '$lowercase(userName' },
              ],
            },
          },
        ],
      }),
    );
    expect(err).toBeInstanceOf(AdminError);
    expect((err as AdminError).status).toBe(400);
    expect((err as AdminError).message).toBe('Invalid spml connector settings');
    expect((err as AdminError).details).toEqual([expect.stringMatching(/^attributeMapping\[1\] \(target 'uid'\): expression: syntax error: S0203 /)]);
  });

  it('the old connector-level attributeMapping points to settings.attributeMapping', async () => {
    const err = await rejection(service.addConnector('idp-1', { type: 'spml', settings: { endpoint: 'http://x/spml' }, attributeMapping: { userName: 'uid' } }));
    expect((err as AdminError).status).toBe(400);
    expect((err as AdminError).details).toEqual([expect.stringMatching(/^attributeMapping: .*settings\.attributeMapping/)]);
  });
});
