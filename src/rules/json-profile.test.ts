import { describe, expect, it } from 'vitest';
import { formatValue, parseValue } from './functions/datatypes.js';
import { Pdp, loadPolicy } from './pdp.js';
import { JSON_REQUEST_LIMITS, JsonProfileError, parseJsonRequest, parseJsonRequestValue, responseToJson } from './json-profile.js';
import type { XacmlResponse } from './response.js';
import { DataType, StatusCode } from './values.js';

const SUBJECT = 'urn:oasis:names:tc:xacml:1.0:subject-category:access-subject';
const RESOURCE = 'urn:oasis:names:tc:xacml:3.0:attribute-category:resource';
const SUBJECT_ID = 'urn:oasis:names:tc:xacml:1.0:subject:subject-id';

function errorOf(fn: () => unknown): JsonProfileError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(JsonProfileError);
    return err as JsonProfileError;
  }
  throw new Error('expected a JsonProfileError');
}

describe('parseJsonRequest', () => {
  it('reads shorthand categories, Category arrays, single and array values', () => {
    const req = parseJsonRequest(
      JSON.stringify({
        Request: {
          ReturnPolicyIdList: true,
          AccessSubject: { Attribute: [{ AttributeId: SUBJECT_ID, Value: 'ada', IncludeInResult: true, Issuer: 'me' }] },
          Action: [{ Attribute: [{ AttributeId: 'urn:oasis:names:tc:xacml:1.0:action:action-id', Value: ['read', 'write'] }] }],
          Category: [{ CategoryId: 'urn:example:cat', Id: 'c1', Attribute: [{ AttributeId: 'urn:example:n', Value: 5 }] }],
        },
      })
    );
    expect(req.returnPolicyIdList).toBe(true);
    expect(req.combinedDecision).toBe(false);
    expect(req.categories.map((c) => c.category)).toEqual([SUBJECT, 'urn:oasis:names:tc:xacml:3.0:attribute-category:action', 'urn:example:cat']);
    const subj = req.categories[0]!.attributes[0]!;
    expect(subj).toMatchObject({ attributeId: SUBJECT_ID, includeInResult: true, issuer: 'me' });
    expect(subj.values.map(formatValue)).toEqual(['ada']);
    expect(req.categories[1]!.attributes[0]!.values.map(formatValue)).toEqual(['read', 'write']);
    expect(req.categories[2]!.xmlId).toBe('c1');
    expect(req.categories[2]!.attributes[0]!.values[0]!.dataType).toBe(DataType.integer);
  });

  it('infers integer, double, boolean and string as §3.3.3 says, keeping how the number was written', () => {
    const req = parseJsonRequest(
      '{"Request":{"Resource":{"Attribute":[' +
        '{"AttributeId":"a","Value":1},{"AttributeId":"b","Value":1.0},{"AttributeId":"c","Value":[1,2.5]},' +
        '{"AttributeId":"d","Value":true},{"AttributeId":"e","Value":"x"},' +
        '{"AttributeId":"f","Value":123456789012345678901234567890}]}}}'
    );
    const types = req.categories[0]!.attributes.map((a) => a.values[0]!.dataType);
    expect(types).toEqual([DataType.integer, DataType.double, DataType.double, DataType.boolean, DataType.string, DataType.integer]);
    expect(formatValue(req.categories[0]!.attributes[5]!.values[0]!)).toBe('123456789012345678901234567890');
  });

  it('takes DataType as a shorthand or a URI, and lexical strings for any type', () => {
    const req = parseJsonRequest(
      JSON.stringify({
        Request: {
          Environment: {
            Attribute: [
              { AttributeId: 't', DataType: 'time', Value: '09:30:00' },
              { AttributeId: 'dt', DataType: DataType.dateTime, Value: '2026-12-02T10:00:00Z' },
              { AttributeId: 'n', DataType: 'integer', Value: '42' },
              { AttributeId: 'inf', DataType: 'double', Value: 'INF' },
            ],
          },
        },
      })
    );
    const values = req.categories[0]!.attributes.map((a) => a.values[0]!);
    expect(values.map((v) => v.dataType)).toEqual([DataType.time, DataType.dateTime, DataType.integer, DataType.double]);
    expect(formatValue(values[2]!)).toBe('42');
  });

  it('reads an xpathExpression object and Content', () => {
    const req = parseJsonRequest(
      JSON.stringify({
        Request: {
          Resource: {
            Content: '<?xml version="1.0"?><md:record xmlns:md="urn:example:med"><md:name>x</md:name></md:record>',
            Attribute: [
              {
                AttributeId: 'p',
                DataType: 'xpathExpression',
                Value: { XPathCategory: RESOURCE, Namespaces: [{ Prefix: 'md', Namespace: 'urn:example:med' }], XPath: 'md:record/md:name' },
              },
            ],
          },
        },
      })
    );
    const cat = req.categories[0]!;
    expect(cat.content).toBeDefined();
    const v = cat.attributes[0]!.values[0]!;
    expect(v.dataType).toBe(DataType.xpathExpression);
    expect(v.value).toMatchObject({ path: 'md:record/md:name', category: RESOURCE, namespaces: { md: 'urn:example:med' } });
  });

  it('keeps unprefixed Content elements in no namespace', () => {
    const req = parseJsonRequest(JSON.stringify({ Request: { Resource: { Content: '<record><name>x</name></record>' } } }));
    const content = req.categories[0]!.content as { localName: string; namespaceURI: string | null; getElementsByTagName(n: string): ArrayLike<{ namespaceURI: string | null }> };
    expect(content.localName).toBe('Content');
    expect(content.namespaceURI).toBe('urn:oasis:names:tc:xacml:3.0:core:schema:wd-17');
    expect(content.getElementsByTagName('record')[0]!.namespaceURI).toBeNull();
  });

  it('points at the bad member', () => {
    const cases: [string, string, RegExp][] = [
      ['{"Request":{"Resource":{"Attribute":[{"AttributeId":"a"}]}}}', '/Request/Resource/Attribute/0', /needs Value/],
      ['{"Request":{"Resource":{"Attribute":[{"AttributeId":"a","Value":[1,"x"]}]}}}', '/Request/Resource/Attribute/0/Value', /different types/],
      ['{"Request":{"Resource":{"Attribute":[{"AttributeId":"a","Value":"x","DataType":"nope"}]}}}', '/Request/Resource/Attribute/0/DataType', /unknown DataType/],
      ['{"Request":{"Resource":{"Attribute":[{"AttributeId":"a","Value":"x","DataType":"integer"}]}}}', '/Request/Resource/Attribute/0/Value', /integer/],
      ['{"Request":{"Resource":{"Attribute":[{"AttributeId":"a","Value":1.5,"DataType":"integer"}]}}}', '/Request/Resource/Attribute/0/Value', /not an integer/],
      ['{"Request":{"Category":[{"Attribute":[]}]}}', '/Request/Category/0', /needs CategoryId/],
      ['{"Request":{"Resource":{"CategoryId":"urn:x"}}}', '/Request/Resource/CategoryId', /contradicts/],
      ['{"Request":{"Subject":{}}}', '/Request/Subject', /no member "Subject"/],
      ['{"Request":{"Resource":{"Attribute":[{"AttributeId":"a","Value":null}]}}}', '/Request/Resource/Attribute/0/Value', /cannot be null/],
      ['{"Request":{"ReturnPolicyIdList":1,"Resource":{}}}', '/Request/ReturnPolicyIdList', /true or false/],
      ['{"Request":{}}', '/Request', /at least one category/],
      ['{"Request":{"MultiRequests":{},"Resource":{}}}', '/Request/MultiRequests', /not supported/],
      ['{"Request":{"Resource":{"a/b":1}}}', '/Request/Resource/a~1b', /no member/],
      ['{"Request":{"Resource":{"Content":"<a/><b/>"}}}', '/Request/Resource/Content', /exactly one/],
    ];
    for (const [text, pointer, message] of cases) {
      const err = errorOf(() => parseJsonRequest(text));
      expect(err.pointer, text).toBe(pointer);
      expect(err.message, text).toMatch(message);
    }
  });

  it('refuses malformed JSON and duplicate names', () => {
    expect(errorOf(() => parseJsonRequest('{"Request":{"Resource":{}},}')).code).toBe('syntax');
    expect(errorOf(() => parseJsonRequest('{"Request":{"Resource":{"Attribute":[{"AttributeId":"a","Value":01}]}}}')).code).toBe('syntax');
    expect(errorOf(() => parseJsonRequest('{"Request":{"Resource":{}}} x')).code).toBe('syntax');
    const dup = errorOf(() => parseJsonRequest('{"Request":{"Resource":{},"Resource":{}}}'));
    expect(dup.pointer).toBe('/Request/Resource');
    expect(dup.message).toMatch(/duplicate/);
  });

  it('enforces its bounds', () => {
    const deep = `${'['.repeat(JSON_REQUEST_LIMITS.maxDepth + 2)}${']'.repeat(JSON_REQUEST_LIMITS.maxDepth + 2)}`;
    expect(errorOf(() => parseJsonRequest(`{"Request":{"Resource":{"Attribute":[{"AttributeId":"a","Value":${deep}}]}}}`)).code).toBe('too_large');
    const many = Array.from({ length: JSON_REQUEST_LIMITS.maxArrayItems + 1 }, () => '"x"').join(',');
    const tooMany = errorOf(() => parseJsonRequest(`{"Request":{"Resource":{"Attribute":[{"AttributeId":"a","Value":[${many}]}]}}}`));
    expect(tooMany.code).toBe('too_large');
    expect(tooMany.pointer).toBe('/Request/Resource/Attribute/0/Value');
    const long = 'x'.repeat(JSON_REQUEST_LIMITS.maxStringLength + 1);
    expect(errorOf(() => parseJsonRequest(`{"Request":{"Resource":{"Attribute":[{"AttributeId":"a","Value":"${long}"}]}}}`)).code).toBe('too_large');
    expect(errorOf(() => parseJsonRequest(' '.repeat(JSON_REQUEST_LIMITS.maxBytes + 1))).code).toBe('too_large');
  });

  it('accepts an already-parsed body the same way', () => {
    const req = parseJsonRequestValue({ Request: { AccessSubject: { Attribute: [{ AttributeId: SUBJECT_ID, Value: [1, 2] }] } } });
    expect(req.categories[0]!.attributes[0]!.values.map((v) => v.dataType)).toEqual([DataType.integer, DataType.integer]);
    expect(errorOf(() => parseJsonRequestValue({ Request: { Resource: { Attribute: 'x' } } })).pointer).toBe('/Request/Resource/Attribute');
  });
});

describe('a JSON request decided by the Pdp', () => {
  it('reaches designators and selectors, and comes back as JSON', () => {
    const policy = loadPolicy(`<Policy xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" PolicyId="json" Version="1.0"
        RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-unless-permit">
      <Target/>
      <Rule RuleId="r" Effect="Permit">
        <Condition><Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:and">
          <Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:integer-greater-than">
            <Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:integer-one-and-only">
              <AttributeDesignator Category="${SUBJECT}" AttributeId="urn:example:age" DataType="${DataType.integer}" MustBePresent="true"/>
            </Apply>
            <AttributeValue DataType="${DataType.integer}">17</AttributeValue>
          </Apply>
          <Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:string-is-in">
            <AttributeValue DataType="${DataType.string}">x</AttributeValue>
            <AttributeSelector Category="${RESOURCE}" Path="//name/text()" DataType="${DataType.string}" MustBePresent="true"/>
          </Apply>
        </Apply></Condition>
      </Rule>
    </Policy>`);
    const pdp = new Pdp({ policies: [policy], topLevel: [{ id: 'json' }], rootCombiningAlgorithm: 'urn:oasis:names:tc:xacml:3.0:policy-combining-algorithm:deny-overrides' });
    const ask = (age: number) =>
      JSON.parse(
        responseToJson(
          pdp.evaluate(
            parseJsonRequest(
              JSON.stringify({
                Request: {
                  AccessSubject: { Attribute: [{ AttributeId: 'urn:example:age', Value: age, IncludeInResult: true }] },
                  Resource: { Content: '<record><name>x</name></record>' },
                },
              })
            )
          )
        )
      ) as { Response: { Decision: string; Category?: unknown }[] };
    const adult = ask(30);
    expect(adult.Response[0]!.Decision).toBe('Permit');
    expect(adult.Response[0]!.Category).toEqual([{ CategoryId: SUBJECT, Attribute: [{ AttributeId: 'urn:example:age', Value: 30, IncludeInResult: true }] }]);
    expect(ask(12).Response[0]!.Decision).toBe('Deny');
  });
});

describe('responseToJson', () => {
  it('writes Decision, Status, Obligations, AssociatedAdvice, Category and PolicyIdentifierList', () => {
    const response: XacmlResponse = {
      results: [
        {
          decision: 'Permit',
          obligations: [
            {
              id: 'urn:example:obligation:log',
              assignments: [
                { attributeId: 'urn:example:n', value: parseValue(DataType.integer, '12345678901234567890') },
                { attributeId: 'urn:example:when', category: RESOURCE, value: parseValue(DataType.date, '2026-12-02') },
              ],
            },
          ],
          advice: [{ id: 'urn:example:advice', assignments: [] }],
          attributes: [
            { category: SUBJECT, attributes: [{ attributeId: SUBJECT_ID, includeInResult: true, values: [parseValue(DataType.string, 'ada')] }] },
          ],
          policyIdentifiers: { policies: [{ id: 'p1', version: '1.0' }], policySets: [] },
          decidedBy: { id: 'p1', version: '1.0', kind: 'Policy' },
        },
        {
          decision: 'Indeterminate',
          status: {
            code: StatusCode.missingAttribute,
            message: 'no role',
            missingAttributes: [{ category: SUBJECT, attributeId: 'urn:example:role', dataType: DataType.string }],
          },
          obligations: [],
          advice: [],
          attributes: [],
        },
      ],
    };
    const text = responseToJson(response);
    expect(text).toContain('"Value":12345678901234567890'); // exact, not rounded through a double
    // JSON.parse reads the big integer through a double; compare the rest through it
    const json = JSON.parse(text.replace('12345678901234567890', '"big"')) as { Response: Record<string, unknown>[] };
    expect(json.Response).toHaveLength(2);
    const [permit, indeterminate] = json.Response as [Record<string, unknown>, Record<string, unknown>];
    expect(permit.Decision).toBe('Permit');
    expect(permit).not.toHaveProperty('decidedBy');
    expect(permit.Obligations).toEqual([
      {
        Id: 'urn:example:obligation:log',
        AttributeAssignment: [
          { AttributeId: 'urn:example:n', Value: 'big' },
          { AttributeId: 'urn:example:when', Value: '2026-12-02', Category: RESOURCE, DataType: 'date' },
        ],
      },
    ]);
    expect(permit.AssociatedAdvice).toEqual([{ Id: 'urn:example:advice' }]);
    expect(permit.Category).toEqual([{ CategoryId: SUBJECT, Attribute: [{ AttributeId: SUBJECT_ID, Value: 'ada', IncludeInResult: true }] }]);
    expect(permit.PolicyIdentifierList).toEqual({ PolicyIdReference: [{ Id: 'p1', Version: '1.0' }] });
    expect(indeterminate.Status).toEqual({
      StatusCode: { Value: StatusCode.missingAttribute },
      StatusMessage: 'no role',
      StatusDetail: [{ Category: SUBJECT, AttributeId: 'urn:example:role', DataType: DataType.string }],
    });
    expect(indeterminate).not.toHaveProperty('Obligations');
  });

  it('round-trips IncludeInResult attributes through parseJsonRequest', () => {
    const req = parseJsonRequest(
      JSON.stringify({ Request: { Resource: { Attribute: [{ AttributeId: 'x', Value: [1.5, 2], IncludeInResult: true }, { AttributeId: 'b', Value: false, IncludeInResult: true }] } } })
    );
    const text = responseToJson({ results: [{ decision: 'NotApplicable', obligations: [], advice: [], attributes: req.categories }] });
    const back = parseJsonRequest(text.replace('{"Response":[', '{"Request":').replace(/"Decision":"NotApplicable",/, '').replace(/\]\}$/, '}'));
    expect(back.categories[0]!.attributes.map((a) => a.values.map((v) => [v.dataType, formatValue(v)]))).toEqual(
      req.categories[0]!.attributes.map((a) => a.values.map((v) => [v.dataType, formatValue(v)]))
    );
  });
});
