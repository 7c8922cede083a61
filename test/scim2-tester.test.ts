/**
 * Conformance: the third-party checker scim2-tester (RFC 7643/7644) against a started instance, with the admin
 * credential. It discovers the server (/ServiceProviderConfig, /ResourceTypes, /Schemas), builds models of
 * the resources from what it published, then creates, reads, lists (with attributes/excludedAttributes),
 * searches, replaces, deletes and PATCHes (add/remove/replace on every attribute) each resource type.
 *
 * Every check must pass: SUCCESS, COMPLIANT (a SHOULD followed) or ACCEPTABLE (a MAY used reasonably).
 * DEVIATION (a SHOULD not followed), ERROR, CRITICAL fail, and so does SKIPPED, except a check skipped because
 * ServiceProviderConfig declares unsupported a feature that the RFCs make optional (see `allowedSkip`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInstance, type Instance } from './harness.js';
import { acquireScim2Tester, formatChecks, PASSING_STATUSES, runScim2Tester, SCIM2_TESTER_VERSION, type Scim2Check, type Scim2Report } from './support/scim2-tester.js';

/** The checks scim2-tester 0.5.2 runs on each resource type (scim2_tester/checkers/resource.py). */
const RESOURCE_CHECKS = [
  'object_creation',
  'object_query',
  'object_query_without_id',
  'object_query_with_attributes',
  'object_list_with_attributes',
  'search_with_attributes',
  'object_replacement',
  'object_deletion',
  'check_add_attribute',
  'check_remove_attribute',
  'check_replace_attribute',
];

/** The discovery checks it runs before any resource check (scim2_tester/checker.py). */
const DISCOVERY_CHECKS = [
  'service_provider_config_endpoint',
  'service_provider_config_endpoint_methods',
  'query_all_resource_types',
  'query_resource_type_by_id',
  'resource_types_schema_validation',
  'access_invalid_resource_type',
  'resource_types_endpoint_methods',
  'query_all_schemas',
  'access_schema_by_id',
  'access_invalid_schema',
  'schemas_endpoint_methods',
  'random_url',
];

/**
 * Operator extensions registered before the run, so the checks cover them too (creation, PATCH on each of
 * their attributes, projection). Three attribute types are left out because scim2-tester 0.5.2 itself cannot
 * check them (seen, not server faults): dateTime and decimal get a UUID string as value (filling.py has no case
 * for them), and a single-valued binary is PATCHed as a base64 string but compared with the bytes the model
 * decodes from the answer, so it never matches.
 */
const USER_EXTENSION = {
  id: 'urn:example:params:scim:schemas:extension:conformance:2.0:User',
  name: 'ConformanceUser',
  description: 'Operator-defined attributes, registered through the admin API',
  resourceType: 'User',
  attributes: [
    { name: 'badge', type: 'integer', description: 'Badge number' },
    { name: 'level', type: 'string', canonicalValues: ['Bronze', 'Silver', 'Gold'] },
    { name: 'verified', type: 'boolean' },
    { name: 'homepage', type: 'reference', referenceTypes: ['external'] },
    { name: 'tags', type: 'string', multiValued: true },
    {
      name: 'office',
      type: 'complex',
      subAttributes: [
        { name: 'building', type: 'string' },
        { name: 'floor', type: 'integer' },
      ],
    },
  ],
};
const GROUP_EXTENSION = {
  id: 'urn:example:params:scim:schemas:extension:conformance:2.0:Group',
  name: 'ConformanceGroup',
  resourceType: 'Group',
  attributes: [
    { name: 'costCenter', type: 'string' },
    { name: 'owners', type: 'complex', multiValued: true, subAttributes: [{ name: 'value', type: 'string' }, { name: 'primary', type: 'boolean' }] },
  ],
};

interface ServiceProviderConfig {
  patch?: { supported?: boolean };
}

/**
 * A skip is acceptable only when the feature is optional in the RFCs and the server says, in
 * ServiceProviderConfig, that it does not support it. In scim2-tester 0.5.2 the only such skip is PATCH
 * (RFC 7644 §3.5.2 "Service providers MAY support PATCH", announced by patch.supported).
 */
function allowedSkip(check: Scim2Check, spc: ServiceProviderConfig): boolean {
  return check.status === 'SKIPPED' && /PATCH operations not supported/i.test(check.reason ?? '') && spc.patch?.supported === false;
}

/**
 * scim2-tester 0.5.2's check_add_attribute PATCH-adds, to one resource, first a whole extension (path = its URN)
 * and then each attribute of it, and expects the add on a multi-valued attribute to return only the value it
 * added. RFC 7644 §3.5.2.1 says the opposite: "If the target location specifies a multi-valued attribute, a new
 * value is added to the attribute", so the value added a moment before is rightly still there, first. The server
 * follows the RFC; this recognises exactly that case (the returned list is the earlier values followed by the
 * patched ones, on an extension attribute) so it is reported apart, and any other failure still fails.
 */
export function isRfcAppendOnExtension(check: Scim2Check): boolean {
  if (check.title !== 'check_add_attribute' || check.status !== 'ERROR') return false;
  const m = /^PATCH modify\(\) returned unexpected value for '(urn:[^']+:[^':]+)'\.\s*Patched value: \[(.*)\]\s*Returned value: \[(.*)\]\s*$/s.exec(check.reason ?? '');
  if (!m) return false;
  const [, urn, patched, returned] = m as unknown as [string, string, string, string];
  const core = /^urn:ietf:params:scim:schemas:core:/i.test(urn);
  return !core && patched !== '' && returned.length > patched.length && returned.endsWith(`, ${patched}`);
}

/**
 * scim2-tester 0.5.2 compares a group's members after a PATCH with what it sent, whole. The server adds each member's
 * `display` (readOnly, computed from the member's current name: RFC 7643 §4.2 and §8.4's example, WSO2's behaviour,
 * issue #8), which the checker sent as None, so the lists differ in that alone. Recognized exactly: the returned
 * members equal the patched ones once their `display` is set back to None.
 */
export function isServerComputedMemberDisplay(check: Scim2Check): boolean {
  if ((check.title !== 'check_add_attribute' && check.title !== 'check_replace_attribute') || check.status !== 'ERROR') return false;
  const m = /^PATCH modify\(\) returned unexpected value for 'members'\.\s*Patched value: (\[.*\])\s*Returned value: (\[.*\])\s*$/s.exec(check.reason ?? '');
  if (!m) return false;
  const [, patched, returned] = m as unknown as [string, string, string];
  const withoutDisplay = returned.replace(/display=(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")/g, 'display=None');
  return returned !== patched && withoutDisplay === patched && /display=None/.test(patched);
}

const VERBOSE = process.env.TEST_VERBOSE === '1';

describe('scim2-tester', () => {
  let instance: Instance;
  let report: Scim2Report;
  let spc: ServiceProviderConfig = {};
  const extensionSetup: string[] = [];

  beforeAll(async () => {
    const python = await acquireScim2Tester({ path: process.env.SCIM2_TESTER_PATH });
    instance = await startInstance('scim2tester');
    for (const ext of [USER_EXTENSION, GROUP_EXTENSION]) {
      const r = await instance.request('POST', '/api/server/v1/scim2/schemas', ext, { 'Content-Type': 'application/json' });
      extensionSetup.push(`${ext.id}: ${r.status}${r.status === 201 ? '' : ` ${await r.text()}`}`);
    }
    const res = await instance.request('GET', '/scim2/ServiceProviderConfig');
    if (res.ok) spc = (await res.json()) as ServiceProviderConfig;
    report = await runScim2Tester({
      python,
      scimBaseUrl: `${instance.baseUrl}/scim2`,
      authorization: `Basic ${Buffer.from(`${instance.admin.username}:${instance.admin.password}`).toString('base64')}`,
      trace: VERBOSE,
    });
    const byStatus = new Map<string, number>();
    for (const c of report.results) byStatus.set(c.status, (byStatus.get(c.status) ?? 0) + 1);
    process.stderr.write(
      `scim2-tester ${report.versions['scim2-tester']}: ${report.results.length} checks in ${report.seconds}s (` +
        `${[...byStatus].map(([s, n]) => `${n} ${s}`).join(', ')})\n`,
    );
  }, 20 * 60_000);

  afterAll(async () => {
    await instance?.stop();
  });

  const failing = (checks: Scim2Check[]) =>
    checks.filter((c) => !PASSING_STATUSES.has(c.status) && !allowedSkip(c, spc) && !isRfcAppendOnExtension(c) && !isServerComputedMemberDisplay(c));
  const expectAllPass = (checks: Scim2Check[], what: string) => {
    const failures = failing(checks);
    expect(failures.length, `${failures.length} of ${checks.length} ${what} checks fail:\n${formatChecks(failures)}\n`).toBe(0);
  };

  it(`runs the pinned scim2-tester ${SCIM2_TESTER_VERSION}`, () => {
    if (process.env.SCIM2_TESTER_PATH === undefined) expect(report.versions['scim2-tester']).toBe(SCIM2_TESTER_VERSION);
    expect(report.results.length).toBeGreaterThan(0);
  });

  it('passes every discovery and protocol check', () => {
    const checks = report.results.filter((c) => c.resourceType === null);
    const titles = new Set(checks.map((c) => c.title));
    // Discovery that fails early stops the run before later checks: name what did not run.
    expect(DISCOVERY_CHECKS.filter((t) => !titles.has(t)), 'discovery checks that did not run').toEqual([]);
    expectAllPass(checks, 'discovery and protocol');
  });

  for (const resourceType of ['User', 'Group']) {
    it(`passes every ${resourceType} check`, () => {
      const checks = report.results.filter((c) => c.resourceType === resourceType);
      const titles = new Set(checks.map((c) => c.title));
      // No checks at all would pass vacuously: each checker must have run (it runs only once discovery works).
      expect(RESOURCE_CHECKS.filter((t) => !titles.has(t)), `${resourceType} checks that did not run`).toEqual([]);
      expectAllPass(checks, resourceType);
    });
  }

  it('covers operator extensions registered through the admin API', () => {
    expect(extensionSetup, 'POST /api/server/v1/scim2/schemas').toEqual([`${USER_EXTENSION.id}: 201`, `${GROUP_EXTENSION.id}: 201`]);
    for (const ext of [USER_EXTENSION, GROUP_EXTENSION]) {
      const checks = report.results.filter((c) => c.resourceType === ext.resourceType && (c.reason ?? '').includes(ext.id));
      expect(checks.length, `checks naming ${ext.id}`).toBeGreaterThan(0);
    }
  });

  it('departs from the checker only where it contradicts RFC 7644 §3.5.2.1 (add appends to multi-valued attributes)', () => {
    const departures = report.results.filter(isRfcAppendOnExtension);
    process.stderr.write(`scim2-tester: ${departures.length} check(s) expecting add to replace a multi-valued extension attribute:\n${formatChecks(departures)}\n`);
    // At most one per multi-valued extension attribute registered above (User: tags; Group: owners).
    expect(departures.length).toBeLessThanOrEqual(2);
  });

  it("departs from the checker only where it takes the members' server-computed display for a change (RFC 7643 §4.2)", () => {
    const departures = report.results.filter(isServerComputedMemberDisplay);
    process.stderr.write(`scim2-tester: ${departures.length} check(s) comparing members without their display:\n${formatChecks(departures)}\n`);
    // At most the add and the replace of a Group's members.
    expect(departures.length).toBeLessThanOrEqual(2);
    expect(departures.every((c) => c.resourceType === 'Group')).toBe(true);
  });

  it('passes the checks of any other resource type the server publishes', () => {
    expectAllPass(
      report.results.filter((c) => c.resourceType !== null && c.resourceType !== 'User' && c.resourceType !== 'Group'),
      'other resource type',
    );
  });
});
