/**
 * The rule check's verdicts (activities/rules.ts): what the fan-out does with each XACML decision, the obligations the
 * server discharges (and the Permits it must refuse, XACML 3.0 §7.18), and what an omit-attribute obligation leaves out.
 */
import { describe, expect, it } from 'vitest';
import type { UserRecord } from '../src/provisioning/types.js';
import { parseValue } from '../src/rules/functions/datatypes.js';
import type { XacmlResult } from '../src/rules/response.js';
import { OBLIGATION_OMIT_ATTRIBUTE, OBLIGATION_OMIT_ATTRIBUTE_PATH, omitAttributes, ruleOperation, verdictOf } from './rules.js';

const S = 'http://www.w3.org/2001/XMLSchema#string';
const str = (v: string) => parseValue(S, v);
const by = { id: 'urn:p', version: '1.2', kind: 'Policy' as const };
const result = (r: Partial<XacmlResult>): XacmlResult => ({ decision: 'Permit', obligations: [], advice: [], attributes: [], ...r });
const omit = (...paths: string[]) => ({ id: OBLIGATION_OMIT_ATTRIBUTE, assignments: paths.map((p) => ({ attributeId: OBLIGATION_OMIT_ATTRIBUTE_PATH, value: str(p) })) });

describe('verdictOf', () => {
  it('Permit delivers, naming the policy; with omit-attribute obligations the paths travel with it', () => {
    expect(verdictOf(result({ decidedBy: by }), 'provision')).toEqual({ action: 'deliver', decision: 'Permit', decidedBy: 'urn:p@1.2' });
    expect(verdictOf(result({ decidedBy: by, obligations: [omit('phoneNumbers', 'name.givenName', 'phoneNumbers')] }), 'provision')).toMatchObject({
      action: 'deliver',
      omit: ['phoneNumbers', 'name.givenName'],
    });
  });

  it('a Permit with an obligation the server does not understand, or cannot discharge, is a Deny (§7.18)', () => {
    const unknown = verdictOf(result({ obligations: [{ id: 'urn:example:email-the-auditor', assignments: [] }] }), 'provision');
    expect(unknown).toMatchObject({ action: 'skip', decision: 'Deny' });
    expect(unknown.reason).toMatch(/urn:example:email-the-auditor/);
    expect(verdictOf(result({ obligations: [omit('userName')] }), 'provision')).toMatchObject({ action: 'skip', decision: 'Deny' });
    expect(verdictOf(result({ obligations: [omit('not a path')] }), 'provision')).toMatchObject({ action: 'skip' });
    const wrongId = { id: OBLIGATION_OMIT_ATTRIBUTE, assignments: [{ attributeId: 'urn:example:other', value: str('emails') }] };
    expect(verdictOf(result({ obligations: [wrongId] }), 'provision')).toMatchObject({ action: 'skip' });
  });

  it('Deny skips with the advice as the reason, else the status, else the policy', () => {
    const advice = [{ id: 'urn:a', assignments: [{ attributeId: 'urn:a:text', value: str('contractors only') }] }];
    expect(verdictOf(result({ decision: 'Deny', decidedBy: by, advice }), 'provision')).toEqual({ action: 'skip', decision: 'Deny', decidedBy: 'urn:p@1.2', reason: 'contractors only' });
    expect(verdictOf(result({ decision: 'Deny', decidedBy: by }), 'provision').reason).toBe('denied by urn:p@1.2');
  });

  it("NotApplicable follows the link's setting", () => {
    expect(verdictOf(result({ decision: 'NotApplicable' }), 'provision')).toMatchObject({ action: 'deliver', decision: 'NotApplicable' });
    expect(verdictOf(result({ decision: 'NotApplicable' }), 'skip')).toMatchObject({ action: 'skip', decision: 'NotApplicable' });
  });

  it('Indeterminate holds, naming the policy, the status and the missing attributes', () => {
    const v = verdictOf(
      result({
        decision: 'Indeterminate',
        extendedIndeterminate: 'P',
        decidedBy: by,
        status: {
          code: 'urn:oasis:names:tc:xacml:1.0:status:missing-attribute',
          message: 'department is required',
          missingAttributes: [{ category: 'urn:oasis:names:tc:xacml:3.0:attribute-category:resource', attributeId: 'urn:x:department', dataType: S }],
        },
      }),
      'provision',
    );
    expect(v.action).toBe('hold');
    expect(v.reason).toBe('Indeterminate{P} from urn:p@1.2: missing-attribute: department is required: missing urn:x:department (resource)');
  });
});

describe('omitAttributes', () => {
  const user: UserRecord & { password?: string } = {
    id: 'u1',
    domain: 'PRIMARY',
    userName: 'ada',
    name: { givenName: 'Ada', familyName: 'Lovelace' },
    emails: [{ value: 'ada@example.org', type: 'work' }],
    phoneNumbers: [{ value: '+1' }],
    addresses: [],
    enterprise: { department: 'Analytics', costCenter: '42' },
    extensions: { 'urn:example:acme:User': { badge: 7, level: 'Gold' } },
    version: 3,
    created: '',
    lastModified: '',
  };

  it('leaves out top-level, sub- and extension attributes, case-insensitively, and changes nothing else', () => {
    const out = omitAttributes(user, ['PHONENUMBERS', 'name.givenName', 'emails.type', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department', 'urn:example:acme:User:badge']);
    expect(out.phoneNumbers).toEqual([]);
    expect(out.name).toEqual({ familyName: 'Lovelace' });
    expect(out.emails).toEqual([{ value: 'ada@example.org' }]);
    expect(out.enterprise).toEqual({ costCenter: '42' });
    expect(out.extensions).toEqual({ 'urn:example:acme:User': { level: 'Gold' } });
    expect(out.userName).toBe('ada');
    expect(user.phoneNumbers).toHaveLength(1); // the event's own copy is untouched
    expect(omitAttributes(user, ['urn:example:acme:User']).extensions).toEqual({});
  });
});

describe('ruleOperation', () => {
  it('names JIT changes jit, except deletions', () => {
    const jit = { applicationId: 'a', channel: 'jit', label: 'jit:idp' };
    expect(ruleOperation({ operation: 'create', initiator: jit })).toBe('jit');
    expect(ruleOperation({ operation: 'update', initiator: jit })).toBe('jit');
    expect(ruleOperation({ operation: 'delete', initiator: jit })).toBe('delete');
    expect(ruleOperation({ operation: 'update', initiator: { ...jit, channel: 'scim2' } })).toBe('update');
  });
});
