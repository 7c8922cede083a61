/**
 * The decision point's own rules beside the conformance suite: bounds and refusals (XXE, sizes, depth), line-precise
 * policy errors, the combining algorithms' Indeterminate tables (Appendix C), references and versions (§5.13), the
 * target index's soundness, variables, obligations (§7.18), MDP repeated categories, ReturnPolicyIdList and `now`.
 */
import { describe, expect, it, vi } from 'vitest';
import { RequestContext } from './context.js';
import { Pdp, PolicySyntaxError, loadPolicy, type LoadedPolicy } from './pdp.js';
import { RequestSyntaxError, parseRequestXml, type XacmlRequest } from './request.js';
import { responseToXml } from './response.js';
import { ChildIndex, evaluateTarget, indexEntryOf } from './target.js';
import { parseValue } from './functions/datatypes.js';
import { DataType } from './values.js';

const NS = 'urn:oasis:names:tc:xacml:3.0:core:schema:wd-17';
const S = DataType.string;
const SUBJECT = 'urn:oasis:names:tc:xacml:1.0:subject-category:access-subject';
const RESOURCE = 'urn:oasis:names:tc:xacml:3.0:attribute-category:resource';
const ENV = 'urn:oasis:names:tc:xacml:3.0:attribute-category:environment';
const RCA = 'urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:';
const PCA = 'urn:oasis:names:tc:xacml:3.0:policy-combining-algorithm:';

const designator = (id: string, mbp = false, cat = SUBJECT, dt: string = S) => `<AttributeDesignator Category="${cat}" AttributeId="${id}" DataType="${dt}" MustBePresent="${mbp}"/>`;
const match = (id: string, value: string, mbp = false) =>
  `<Match MatchId="urn:oasis:names:tc:xacml:1.0:function:string-equal"><AttributeValue DataType="${S}">${value}</AttributeValue>${designator(id, mbp)}</Match>`;
const target = (...anyOfs: string[][][]) => `<Target>${anyOfs.map((a) => `<AnyOf>${a.map((all) => `<AllOf>${all.join('')}</AllOf>`).join('')}</AnyOf>`).join('')}</Target>`;

/** Rules by what they evaluate to when the request has subject "x" = "on" and lacks "missing". */
const RULES = {
  Permit: (n: string) => `<Rule RuleId="${n}" Effect="Permit">${target([[match('x', 'on')]])}</Rule>`,
  Deny: (n: string) => `<Rule RuleId="${n}" Effect="Deny">${target([[match('x', 'on')]])}</Rule>`,
  NA: (n: string) => `<Rule RuleId="${n}" Effect="Permit">${target([[match('x', 'off')]])}</Rule>`,
  'Indeterminate{P}': (n: string) => `<Rule RuleId="${n}" Effect="Permit">${target([[match('missing', 'on', true)]])}</Rule>`,
  'Indeterminate{D}': (n: string) => `<Rule RuleId="${n}" Effect="Deny">${target([[match('missing', 'on', true)]])}</Rule>`,
} as const;
type RuleKind = keyof typeof RULES;

const policyXml = (id: string, alg: string, body: string, extra = '', version = '1.0') =>
  `<Policy xmlns="${NS}" PolicyId="${id}" Version="${version}" RuleCombiningAlgId="${alg}"${extra}><Target/>${body}</Policy>`;

function request(attrs: Record<string, string[]>, extra: { returnPolicyIdList?: boolean } = {}): XacmlRequest {
  return {
    returnPolicyIdList: extra.returnPolicyIdList ?? false,
    combinedDecision: false,
    categories: [
      {
        category: SUBJECT,
        attributes: Object.entries(attrs).map(([attributeId, values]) => ({ attributeId, includeInResult: false, values: values.map((v) => parseValue(S, v)) })),
      },
    ],
  };
}

function pdpOf(policies: LoadedPolicy[], top = policies[0]!, alg = `${PCA}deny-overrides`): Pdp {
  return new Pdp({ policies, topLevel: [{ id: top.id }], rootCombiningAlgorithm: alg });
}

function decide(alg: string, kinds: RuleKind[]): string {
  const p = loadPolicy(policyXml('p', alg, kinds.map((k, i) => RULES[k](`r${i}`)).join('')));
  const r = pdpOf([p]).evaluate(request({ x: ['on'] })).results[0]!;
  return r.decision === 'Indeterminate' ? `Indeterminate{${r.extendedIndeterminate}}` : r.decision;
}

describe('XML safety and bounds', () => {
  it('refuses a DOCTYPE (XXE, billion laughs) in policies and requests, with its position', () => {
    const laughs = `<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>\n<Policy xmlns="${NS}">&lol2;</Policy>`;
    expect(() => loadPolicy(laughs)).toThrow(PolicySyntaxError);
    try {
      loadPolicy(laughs);
    } catch (err) {
      expect((err as PolicySyntaxError).line).toBe(2);
      expect((err as Error).message).toMatch(/DOCTYPE/);
    }
    const xxe = `<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><Request xmlns="${NS}" ReturnPolicyIdList="false" CombinedDecision="false"/>`;
    expect(() => parseRequestXml(xxe)).toThrow(RequestSyntaxError);
  });

  it('bounds document size, nesting depth and element count', () => {
    const big = policyXml('p', `${RCA}deny-overrides`, `<Description>${'x'.repeat(1024 * 1024)}</Description>`);
    expect(() => loadPolicy(big)).toThrow(/larger than/);
    let deep = `<AttributeValue DataType="${DataType.boolean}">true</AttributeValue>`;
    for (let i = 0; i < 100; i++) deep = `<Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:not">${deep}</Apply>`;
    expect(() => loadPolicy(policyXml('p', `${RCA}deny-overrides`, `<Rule RuleId="r" Effect="Permit"><Condition>${deep}</Condition></Rule>`))).toThrow(/deeper than/);
    const many = Array.from({ length: 10_001 }, () => `<Attribute AttributeId="a" IncludeInResult="false"><AttributeValue DataType="${S}">v</AttributeValue></Attribute>`).join('');
    expect(() => parseRequestXml(`<Request xmlns="${NS}" ReturnPolicyIdList="false" CombinedDecision="false"><Attributes Category="${SUBJECT}">${many}</Attributes></Request>`)).toThrow(RequestSyntaxError);
  });

  it('refuses malformed XML with a position', () => {
    expect(() => loadPolicy(`<Policy xmlns="${NS}">\n<Target>\n</Policy>`)).toThrow(PolicySyntaxError);
  });

  // Regression (issue #10 review): xmldom accepted a bare `&` in an attribute and reported a mismatched end tag at the
  // start tag it left open. Each case: the document, the line and column of the fault, what the message says.
  // Line 1 is `<Policy ...>` / `<Request ...>`; the fault sits on line 2 or later so that a wrong line shows.
  // saxes reports where it noticed the fault: on it, on the character after it, or (an attribute or namespace fault)
  // at the end of its start tag; references, mismatched end tags and unclosed elements are placed at their start.
  const POLICY_HEAD = `<Policy xmlns="${NS}" PolicyId="p" Version="1.0" RuleCombiningAlgId="${RCA}deny-overrides">\n`;
  const REQUEST_HEAD = `<Request xmlns="${NS}" ReturnPolicyIdList="false" CombinedDecision="false">\n`;
  const value = (text: string, attrs = '') => `<AttributeValue DataType="${S}"${attrs}>${text}</AttributeValue>`;
  const MALFORMED: [name: string, body: string, line: number, column: number, message: RegExp][] = [
    ['unescaped & in an attribute value', '<Description x="a & b"/>', 2, 19, /'&' that does not start a reference/],
    ['unescaped & in text', '<Description>a & b</Description>', 2, 16, /'&' that does not start a reference/],
    ['& without its semicolon', '<Description>a &amp b</Description>', 2, 16, /'&' that does not start a reference/],
    ['an undefined entity', '<Description>&nbsp;</Description>', 2, 14, /undefined entity &nbsp;/],
    ['unescaped < in an attribute value', '<Description x="a < b"/>', 2, 19, /disallowed character at "<"/],
    ['unescaped < in text', '<Description>a < b</Description>', 2, 17, /disallowed character in tag name at " "/],
    ['a mismatched end tag', '<Target>\n<AnyOf>\n</Target>\n</AnyOf>', 4, 1, /end tag <\/Target> does not match the start tag <AnyOf> \(line 3, column 1\)/],
    ['an end tag without a start tag', '</Target>', 2, 1, /does not match the start tag <Policy>/],
    ['an unclosed element', '<Target>\n<Rule RuleId="r" Effect="Permit">\n</Target>', 4, 1, /end tag <\/Target> does not match the start tag <Rule>/],
    ['an unclosed start tag', '<Target', 3, 1, /disallowed character in attribute name at "<"/],
    ['a duplicate attribute', '<Rule RuleId="r"\n  RuleId="s" Effect="Permit"/>', 3, 30, /duplicate attribute: RuleId/],
    ['a duplicate attribute through two prefixes', '<Rule xmlns:a="urn:x" xmlns:b="urn:x" a:z="1" b:z="2" RuleId="r" Effect="Permit"/>', 2, 82, /duplicate attribute: \{urn:x\}z/],
    ['an undeclared element prefix', '<Target>\n  <x:AnyOf/></Target>', 3, 12, /unbound namespace prefix: "x"/],
    ['an undeclared attribute prefix', '<Rule RuleId="r" x:Effect="Permit"/>', 2, 36, /unbound namespace prefix: "x"/],
    ['an invalid character reference', '<Description>&#0;</Description>', 2, 14, /character reference &#0; is not a legal XML character/],
    ['a surrogate character reference', '<Description>&#xD800;</Description>', 2, 14, /&#xD800; is not a legal XML character/],
    ['a control character', '<Description>\u0001</Description>', 2, 14, /disallowed character at "\\u0001"/],
    ['an attribute without quotes', '<Rule RuleId=r Effect="Permit"/>', 2, 14, /unquoted attribute value/],
    ['an attribute without a value', '<Rule RuleId Effect="Permit"/>', 2, 14, /attribute without value/],
    ['attributes without whitespace between them', '<Rule RuleId="r"Effect="Permit"/>', 2, 17, /no whitespace between attributes/],
    [']]> in text', '<Description>a ]]> b</Description>', 2, 18, /the string "]]>" is disallowed in char data/],
    ['-- in a comment', '<!-- a -- b -->', 2, 10, /malformed comment/],
    ['an XML declaration inside the document', '<?xml version="1.0"?>', 2, 6, /XML declaration must be at the start of the document/],
    ['an undeclared prefix (xmlns:p="")', '<Target xmlns:p=""/>', 2, 18, /invalid attempt to undefine prefix in XML 1.0/],
  ];
  for (const [name, body, line, column, message] of MALFORMED) {
    it(`refuses ${name} at the fault's line and column`, () => {
      const policy = `${POLICY_HEAD}${body}\n</Policy>`;
      let error: unknown;
      try {
        loadPolicy(policy);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(PolicySyntaxError);
      expect((error as PolicySyntaxError).message).toMatch(message);
      expect([(error as PolicySyntaxError).line, (error as PolicySyntaxError).column]).toEqual([line, column]);
      // The same fault in a request (its first line is <Request ...> too): the same line.
      const requestBody = body.replace(/<Description/g, '<Attributes').replace(/<\/Description>/g, '</Attributes>');
      error = undefined;
      try {
        parseRequestXml(`${REQUEST_HEAD}${requestBody}\n</Request>`);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(RequestSyntaxError);
      expect((error as RequestSyntaxError).line).toBe(line);
    });
  }

  it("places a bad reference at its '&' however far the next ';' is (saxes reads a reference up to it)", () => {
    const at = (body: string) => {
      try {
        loadPolicy(`${POLICY_HEAD}${body}\n</Policy>`);
      } catch (err) {
        return [(err as PolicySyntaxError).line, (err as PolicySyntaxError).column, (err as Error).message];
      }
      return undefined;
    };
    const reference = expect.stringMatching(/'&' that does not start a reference/);
    // A valid reference and a comment holding an '&' before it, the next ';' two lines further.
    expect(at('<Description>x &amp; y</Description><!-- & -->\n<Description>a & b\n</Description>\n<Description>c;</Description>')).toEqual([3, 16, reference]);
    expect(at('<Description x="&amp;" y="a &b c;"/>')).toEqual([2, 29, reference]);
    expect(at('<Description>a &#x110000; b</Description>')).toEqual([2, 16, expect.stringMatching(/&#x110000; is not a legal XML character/)]);
  });

  it('applies XML 1.0 even to a document declaring version 1.1, and refuses a DOCTYPE at its start', () => {
    expect(() => loadPolicy(`<?xml version="1.1"?>\n${POLICY_HEAD}<Target xmlns:p=""/></Policy>`)).toThrow(/^line 3, column 18: .*undefine prefix in XML 1\.0/);
    expect(() => loadPolicy(`<!-- a -->\n<!DOCTYPE Policy\n  [<!ELEMENT Policy ANY>]>\n${POLICY_HEAD}</Policy>`)).toThrow(/^line 2, column 1: .*<!DOCTYPE> declaration/);
  });

  it('refuses two root elements, text outside the root, no root, an unclosed element, at the fault', () => {
    const policy = `${POLICY_HEAD}<Target/><Rule RuleId="r" Effect="Permit"/></Policy>`;
    const at = (xml: string) => {
      try {
        loadPolicy(xml);
      } catch (err) {
        return [(err as PolicySyntaxError).line, (err as PolicySyntaxError).column, (err as Error).message];
      }
      return undefined;
    };
    expect(at(`${policy}\n<Policy/>`)).toEqual([3, 8, expect.stringMatching(/documents may contain only one root/)]);
    expect(at(`${policy}\n  text`)).toEqual([3, 7, expect.stringMatching(/text data outside of root node/)]);
    expect(at(`x${policy}`)).toEqual([1, 2, expect.stringMatching(/text data outside of root node/)]);
    expect(at('')).toEqual([1, 1, expect.stringMatching(/document must contain a root element/)]);
    expect(at(`${POLICY_HEAD}<Target>\n<AnyOf>`)).toEqual([3, 1, expect.stringMatching(/the element <AnyOf> is never closed \(the document ends first\)/)]);
  });

  it('accepts what well-formed XML allows: a BOM and declaration, CRLF, references, CDATA, comments, prefixes', () => {
    const xml =
      `\uFEFF<?xml version="1.0" encoding="UTF-8"?>\r\n<!-- policy -->\r\n<x:Policy xmlns:x="${NS}" xmlns:e="urn:e" e:note="a &amp; b &#x3c; &#60;" ` +
      `PolicyId="p" Version="1.0" RuleCombiningAlgId="${RCA}deny-overrides"><?app data?><x:Target/>` +
      `<x:Rule RuleId='r' Effect="Permit"><x:Condition><x:Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:string-equal">` +
      `<x:AttributeValue DataType="${S}">a &lt;&gt;&amp;&apos;&quot; &#x1F600;<![CDATA[ & < ]]></x:AttributeValue>` +
      `<x:AttributeValue DataType="${S}">a &lt;&gt;&amp;'" \u{1F600} &amp; &lt; </x:AttributeValue>` +
      `</x:Apply></x:Condition></x:Rule></x:Policy>\r\n`;
    const p = loadPolicy(xml);
    const pdp = new Pdp({ policies: [p], topLevel: [{ id: 'p' }], rootCombiningAlgorithm: `${PCA}deny-overrides` });
    expect(pdp.evaluate({ returnPolicyIdList: false, combinedDecision: false, categories: [] }).results[0]!.decision).toBe('Permit');
    // Line numbers count CRLF as one line break (XML 1.0 §2.11).
    expect(() => loadPolicy(`\uFEFF<?xml version="1.0"?>\r\n${POLICY_HEAD.replace('\n', '\r\n')}<Target>\r\n</Rule></Policy>`)).toThrow(/^line 4, column 1: .*start tag <Target> \(line 3, column 1\)/);
    expect(parseRequestXml(`\uFEFF<?xml version="1.0" encoding="UTF-8"?>\n${REQUEST_HEAD}<Attributes Category="${SUBJECT}"><Attribute AttributeId="a" IncludeInResult="false">${value('x &amp; y')}</Attribute></Attributes></Request>`).categories[0]!.attributes[0]!.values[0]!.value).toBe('x & y');
  });
});

describe('policy validation', () => {
  const bad = (body: string, pattern: RegExp, line?: number) => {
    let error: PolicySyntaxError | undefined;
    try {
      loadPolicy(policyXml('urn:p', `${RCA}deny-overrides`, body));
    } catch (err) {
      error = err as PolicySyntaxError;
    }
    expect(error).toBeInstanceOf(PolicySyntaxError);
    expect(error!.message).toMatch(pattern);
    if (line !== undefined) expect(error!.line).toBe(line);
    expect(error!.policyId).toBe('urn:p');
  };

  it('names the element, line and column of an unknown function', () => {
    bad(`<Rule RuleId="r" Effect="Permit">\n<Condition>\n<Apply FunctionId="urn:example:nope"/></Condition></Rule>`, /<Apply>: unknown function "urn:example:nope"/, 3);
  });
  it('type-checks at load (a string-equal on an integer, a non-boolean condition)', () => {
    bad(
      `<Rule RuleId="r" Effect="Permit"><Target><AnyOf><AllOf><Match MatchId="urn:oasis:names:tc:xacml:1.0:function:string-equal"><AttributeValue DataType="${DataType.integer}">4</AttributeValue>${designator('x')}</Match></AllOf></AnyOf></Target></Rule>`,
      /<Match>: MatchId/,
    );
    bad(`<Rule RuleId="r" Effect="Permit"><Condition>${designator('x')}</Condition></Rule>`, /must evaluate to one boolean/);
  });
  it('refuses bad lexical forms, unknown data types and algorithms, duplicate rule ids, misplaced elements', () => {
    bad(`<Rule RuleId="r" Effect="Permit"><Condition><AttributeValue DataType="${DataType.boolean}">yes</AttributeValue></Condition></Rule>`, /AttributeValue/);
    bad(`<Rule RuleId="r" Effect="Permit"><Condition>${designator('x', false, SUBJECT, 'urn:example:type')}</Condition></Rule>`, /unknown DataType/);
    bad(`<Rule RuleId="r" Effect="Permit"/><Rule RuleId="r" Effect="Deny"/>`, /RuleId "r" is used twice/);
    bad(`<Rule RuleId="r" Effect="Maybe"/>`, /Effect="Maybe"/);
    bad(`<Rule RuleId="r" Effect="Permit"><Condition/><Target/></Rule>`, /<Target>: unexpected element in <Rule> \(misplaced/);
    expect(() => loadPolicy(policyXml('p', 'urn:example:alg', ''))).toThrow(/unknown rule-combining algorithm/);
  });
  it('checks variables: unique ids, no cycle, forward references allowed', () => {
    const v = (id: string, body: string) => `<VariableDefinition VariableId="${id}">${body}</VariableDefinition>`;
    const ref = (id: string) => `<VariableReference VariableId="${id}"/>`;
    const not = (e: string) => `<Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:not">${e}</Apply>`;
    const t = `<AttributeValue DataType="${DataType.boolean}">true</AttributeValue>`;
    bad(v('a', t) + v('a', t), /defined twice/);
    bad(v('a', not(ref('b'))) + v('b', not(ref('a'))), /refers to itself/);
    bad(`<Rule RuleId="r" Effect="Permit"><Condition>${ref('nope')}</Condition></Rule>`, /no VariableDefinition "nope"/);
    const p = loadPolicy(policyXml('p', `${RCA}deny-overrides`, `<Rule RuleId="r" Effect="Permit"><Condition>${ref('a')}</Condition></Rule>${v('a', not(ref('b')))}${v('b', not(t))}`));
    expect(pdpOf([p]).evaluate(request({})).results[0]!.decision).toBe('Permit');
  });
  it('refuses a call on constants that can only fail', () => {
    bad(
      `<Rule RuleId="r" Effect="Permit"><Condition><Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:integer-equal"><Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:integer-divide"><AttributeValue DataType="${DataType.integer}">1</AttributeValue><AttributeValue DataType="${DataType.integer}">0</AttributeValue></Apply><AttributeValue DataType="${DataType.integer}">1</AttributeValue></Apply></Condition></Rule>`,
      /fails on these constant arguments/,
    );
  });

  // Regression (issue #10 review): a bad literal pattern was an Indeterminate at every evaluation, not a load error.
  describe('compiles literal regular expressions at load (§A.3.13)', () => {
    const F = 'urn:oasis:names:tc:xacml:1.0:function:';
    const F3 = 'urn:oasis:names:tc:xacml:3.0:function:';
    const lit = (p: string) => `<AttributeValue DataType="${S}">${p}</AttributeValue>`;
    const rule = (condition: string) => `<Rule RuleId="r" Effect="Permit">\n<Condition>\n${condition}</Condition></Rule>`;
    const oneOf = `<Apply FunctionId="${F}string-one-and-only">${designator('name')}</Apply>`;

    it('in an Apply whose input comes from the request', () => {
      bad(rule(`<Apply FunctionId="${F}string-regexp-match">\n${lit('a[')}${oneOf}</Apply>`), /<AttributeValue>: .*string-regexp-match: .*/, 4);
    });
    it('in the other types\' regexp-match functions', () => {
      bad(
        rule(`<Apply FunctionId="urn:oasis:names:tc:xacml:2.0:function:anyURI-regexp-match">\n${lit('(')}<Apply FunctionId="${F}anyURI-one-and-only">${designator('u', false, SUBJECT, DataType.anyURI)}</Apply></Apply>`),
        /anyURI-regexp-match/,
        4,
      );
    });
    it('in a Match', () => {
      bad(`<Rule RuleId="r" Effect="Permit"><Target><AnyOf><AllOf><Match MatchId="${F}string-regexp-match">\n${lit('x{2,1}')}${designator('name')}</Match></AllOf></AnyOf></Target></Rule>`, /<AttributeValue>: .*string-regexp-match/, 2);
    });
    it('passed to a higher-order function, as a value or a bag', () => {
      bad(rule(`<Apply FunctionId="${F3}any-of"><Function FunctionId="${F}string-regexp-match"/>\n${lit('[z-a]')}${designator('name')}</Apply>`), /any-of of .*string-regexp-match/, 4);
      const bag = `<Apply FunctionId="${F}string-bag">${lit('ok')}${lit('\\p{Nope}')}</Apply>`;
      bad(rule(`<Apply FunctionId="${F}any-of-any"><Function FunctionId="${F}string-regexp-match"/>\n${bag}${designator('name')}</Apply>`), /any-of-any of .*string-regexp-match/, 4);
    });
    it('accepts good patterns and keeps evaluating them per request', () => {
      const p = loadPolicy(policyXml('p', `${RCA}deny-overrides`, rule(`<Apply FunctionId="${F}string-regexp-match">${lit('b.*z')}${oneOf}</Apply>`)));
      const pdp = pdpOf([p]);
      expect(pdp.evaluate(request({ name: ['abcz'] })).results[0]!.decision).toBe('Permit');
      expect(pdp.evaluate(request({ name: ['abc'] })).results[0]!.decision).toBe('NotApplicable');
      // A pattern computed from the request cannot be checked at load: its error stays an Indeterminate (§A.3.13).
      const dynamic = loadPolicy(policyXml('p', `${RCA}deny-overrides`, rule(`<Apply FunctionId="${F}string-regexp-match">${oneOf}${lit('x')}</Apply>`)));
      expect(pdpOf([dynamic]).evaluate(request({ name: ['a['] })).results[0]!.decision).toBe('Indeterminate');
    });
  });
});

describe('combining algorithms (Appendix C, extended Indeterminate §7.10)', () => {
  const cases: [string, RuleKind[], string][] = [
    ['deny-overrides', ['Permit', 'Deny'], 'Deny'],
    ['deny-overrides', ['Permit', 'NA'], 'Permit'],
    ['deny-overrides', ['Permit', 'Indeterminate{D}'], 'Indeterminate{DP}'],
    ['deny-overrides', ['Indeterminate{D}', 'NA'], 'Indeterminate{D}'],
    ['deny-overrides', ['Indeterminate{P}', 'Permit'], 'Permit'],
    ['deny-overrides', ['Indeterminate{P}', 'NA'], 'Indeterminate{P}'],
    ['deny-overrides', ['Indeterminate{P}', 'Indeterminate{D}'], 'Indeterminate{DP}'],
    ['deny-overrides', ['NA'], 'NotApplicable'],
    ['permit-overrides', ['Deny', 'Permit'], 'Permit'],
    ['permit-overrides', ['Deny', 'Indeterminate{P}'], 'Indeterminate{DP}'],
    ['permit-overrides', ['Indeterminate{D}', 'Deny'], 'Deny'],
    ['permit-overrides', ['Indeterminate{D}'], 'Indeterminate{D}'],
    ['ordered-permit-overrides', ['Indeterminate{P}'], 'Indeterminate{P}'],
    ['deny-unless-permit', ['Indeterminate{P}', 'NA'], 'Deny'],
    ['deny-unless-permit', ['Deny', 'Permit'], 'Permit'],
    ['permit-unless-deny', ['Indeterminate{D}'], 'Permit'],
    ['permit-unless-deny', ['Permit', 'Deny'], 'Deny'],
  ];
  for (const [alg, kinds, expected] of cases) {
    it(`${alg}(${kinds.join(', ')}) = ${expected}`, () => expect(decide(`${RCA}${alg}`, kinds)).toBe(expected));
  }
  it('first-applicable (1.0): the first that is not NotApplicable, Indeterminate included', () => {
    const fa = 'urn:oasis:names:tc:xacml:1.0:rule-combining-algorithm:first-applicable';
    expect(decide(fa, ['NA', 'Deny', 'Permit'])).toBe('Deny');
    expect(decide(fa, ['Indeterminate{P}', 'Deny'])).toBe('Indeterminate{P}');
  });
  it('legacy 1.0 deny-overrides: an Indeterminate Deny rule makes the result Indeterminate even beside a Permit', () => {
    const legacy = 'urn:oasis:names:tc:xacml:1.0:rule-combining-algorithm:deny-overrides';
    expect(decide(legacy, ['Permit', 'Indeterminate{D}'])).toMatch(/^Indeterminate/);
    expect(decide(legacy, ['Permit', 'Indeterminate{P}'])).toBe('Permit');
    expect(decide('urn:oasis:names:tc:xacml:1.1:rule-combining-algorithm:ordered-permit-overrides', ['Deny', 'Indeterminate{P}'])).toMatch(/^Indeterminate/);
  });
  it('legacy 1.0 deny-overrides for policies: an Indeterminate policy counts as Deny', () => {
    const a = loadPolicy(policyXml('a', `${RCA}deny-overrides`, RULES['Indeterminate{P}']('r')));
    const b = loadPolicy(policyXml('b', `${RCA}deny-overrides`, RULES.Permit('r')));
    const set = loadPolicy(`<PolicySet xmlns="${NS}" PolicySetId="s" Version="1.0" PolicyCombiningAlgId="urn:oasis:names:tc:xacml:1.0:policy-combining-algorithm:deny-overrides"><Target/><PolicyIdReference>a</PolicyIdReference><PolicyIdReference>b</PolicyIdReference></PolicySet>`);
    expect(pdpOf([a, b, set], set).evaluate(request({ x: ['on'] })).results[0]!.decision).toBe('Deny');
  });
  it('only-one-applicable: Indeterminate when two policies apply, else the one that does', () => {
    const a = loadPolicy(policyXml('a', `${RCA}deny-overrides`, RULES.Permit('r')));
    const b = loadPolicy(`<Policy xmlns="${NS}" PolicyId="b" Version="1.0" RuleCombiningAlgId="${RCA}deny-overrides">${target([[match('y', 'on')]])}${RULES.Deny('r')}</Policy>`);
    const root = new Pdp({ policies: [a, b], topLevel: [{ id: 'a' }, { id: 'b' }], rootCombiningAlgorithm: 'urn:oasis:names:tc:xacml:1.0:policy-combining-algorithm:only-one-applicable' });
    expect(root.evaluate(request({ x: ['on'] })).results[0]!.decision).toBe('Permit');
    const both = root.evaluate(request({ x: ['on'], y: ['on'] })).results[0]!;
    expect(both.decision).toBe('Indeterminate');
    expect(both.status?.code).toBe('urn:oasis:names:tc:xacml:1.0:status:processing-error');
  });
});

describe('Policy(Set)IdReference (§5.10-5.13)', () => {
  const versions = ['1.0', '1.5.2', '2.1'].map((v) => loadPolicy(policyXml('urn:p', `${RCA}deny-overrides`, `<Rule RuleId="r" Effect="Permit"/>`, '', v)));
  const setWith = (attrs: string) =>
    loadPolicy(`<PolicySet xmlns="${NS}" PolicySetId="s" Version="1.0" PolicyCombiningAlgId="${PCA}deny-overrides"><Target/><PolicyIdReference${attrs}>urn:p</PolicyIdReference></PolicySet>`);
  const chosen = (attrs: string) => {
    const set = setWith(attrs);
    const r = pdpOf([...versions, set], set).evaluate(request({}, { returnPolicyIdList: true })).results[0]!;
    return r.policyIdentifiers!.policies.map((p) => p.version).join();
  };
  it('picks the latest version that satisfies Version, EarliestVersion and LatestVersion', () => {
    expect(chosen('')).toBe('2.1');
    expect(chosen(' Version="1.*"')).toBe('1.0');
    expect(chosen(' Version="1.+"')).toBe('1.5.2');
    expect(chosen(' LatestVersion="1.9"')).toBe('1.5.2');
    expect(chosen(' EarliestVersion="1.1" LatestVersion="2.0"')).toBe('1.5.2');
    expect(chosen(' EarliestVersion="2"')).toBe('2.1');
  });
  it('refuses unresolved references and cycles when the Pdp is built', () => {
    const set = setWith(' Version="3.*"');
    expect(() => pdpOf([...versions, set], set)).toThrow(/unresolved PolicyIdReference urn:p \(Version 3\.\*\)/);
    const a = loadPolicy(`<PolicySet xmlns="${NS}" PolicySetId="a" Version="1.0" PolicyCombiningAlgId="${PCA}deny-overrides"><Target/><PolicySetIdReference>b</PolicySetIdReference></PolicySet>`);
    const b = loadPolicy(`<PolicySet xmlns="${NS}" PolicySetId="b" Version="1.0" PolicyCombiningAlgId="${PCA}deny-overrides"><Target/><PolicySetIdReference>a</PolicySetIdReference></PolicySet>`);
    expect(() => pdpOf([a, b], a)).toThrow(/reference cycle/);
    expect(() => new Pdp({ policies: [a], topLevel: [{ id: 'a' }], rootCombiningAlgorithm: 'urn:example' })).toThrow(/unknown root/);
  });
});

describe('target index', () => {
  it('keeps every child whose target can match (random targets and requests)', () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const ids = ['a', 'b', 'c'];
    const vals = ['1', '2', '3'];
    const randomMatch = () => match(ids[rnd(3)]!, vals[rnd(3)]!, rnd(2) === 0);
    const policies = Array.from({ length: 200 }, (_, i) => {
      const anyOfs = Array.from({ length: 1 + rnd(2) }, () => Array.from({ length: 1 + rnd(2) }, () => Array.from({ length: 1 + rnd(2) }, randomMatch)));
      return loadPolicy(`<Policy xmlns="${NS}" PolicyId="p${i}" Version="1.0" RuleCombiningAlgId="${RCA}deny-overrides">${target(...anyOfs)}<Rule RuleId="r" Effect="Permit"/></Policy>`);
    });
    const index = new ChildIndex(policies, (p) => indexEntryOf(p.compiled.target));
    expect(index.indexed).toBe(200);
    const missed: string[] = [];
    for (let k = 0; k < 300; k++) {
      const attrs: Record<string, string[]> = {};
      for (const id of ids) if (rnd(3) > 0) attrs[id] = vals.filter(() => rnd(2) === 0);
      for (const id of Object.keys(attrs)) if (attrs[id]!.length === 0) delete attrs[id];
      const ctx = new RequestContext(request(attrs).categories, { applied: undefined, references: new Map(), now: undefined });
      const candidates = new Set(index.candidates(ctx));
      for (const p of policies) if (evaluateTarget(p.compiled.target, ctx) !== false && !candidates.has(p)) missed.push(`${p.id} with ${JSON.stringify(attrs)}`);
    }
    expect(missed).toEqual([]);
  });
  it('keeps the configured order of the top-level policies, one request profile or several', () => {
    const ps = ['1', '2', '3'].map((v, i) =>
      loadPolicy(`<Policy xmlns="${NS}" PolicyId="p${i}" Version="1.0" RuleCombiningAlgId="${RCA}deny-overrides">${target([[match('a', v)]])}<Rule RuleId="r" Effect="${i % 2 ? 'Deny' : 'Permit'}"/></Policy>`),
    );
    const pdp = new Pdp({ policies: ps, topLevel: ps.map((p) => ({ id: p.id })), rootCombiningAlgorithm: 'urn:oasis:names:tc:xacml:1.0:policy-combining-algorithm:first-applicable' });
    // One profile per policy: each index holds one policy, and the merge must restore the configured order.
    const perProfile = new Pdp({ policies: ps, topLevel: ps.map((p, i) => ({ id: p.id, profile: String(i) })), rootCombiningAlgorithm: 'urn:oasis:names:tc:xacml:1.0:policy-combining-algorithm:first-applicable' });
    const decidedBy = (a: string[]) => pdp.evaluate(request({ a })).results[0]!.decidedBy?.id;
    expect([['1'], ['2'], ['3', '2'], ['2', '1'], ['4'], []].map(decidedBy)).toEqual(['p0', 'p1', 'p1', 'p0', undefined, undefined]);
    for (const a of [['1'], ['2'], ['3', '2'], ['2', '1'], ['4'], []]) {
      expect(perProfile.evaluate(() => request({ a })).results[0]!.decidedBy?.id, a.join()).toEqual(decidedBy(a));
    }
    // A profile's policies see that profile's request.
    const split = perProfile.evaluate((profile) => request({ a: profile === '2' ? ['3'] : [] })).results[0]!;
    expect(split.decidedBy?.id).toBe('p2');
  });
});

describe('evaluation', () => {
  it('collects obligations and advice of the matching decision only (§7.18), from every permitting rule', () => {
    const ob = (id: string, on: string) =>
      `<ObligationExpression ObligationId="${id}" FulfillOn="${on}"><AttributeAssignmentExpression AttributeId="v">${designator('x')}</AttributeAssignmentExpression></ObligationExpression>`;
    const rule = (id: string, effect: string) => `<Rule RuleId="${id}" Effect="${effect}"><ObligationExpressions>${ob(`${id}-p`, 'Permit')}${ob(`${id}-d`, 'Deny')}</ObligationExpressions></Rule>`;
    const p = loadPolicy(
      policyXml('p', `${RCA}deny-overrides`, rule('r1', 'Permit') + rule('r2', 'Permit') + `<AdviceExpressions><AdviceExpression AdviceId="adv" AppliesTo="Deny"/></AdviceExpressions>`),
    );
    const r = pdpOf([p]).evaluate(request({ x: ['a', 'b'] })).results[0]!;
    expect(r.decision).toBe('Permit');
    expect(r.obligations.map((o) => o.id)).toEqual(['r1-p', 'r2-p']);
    expect(r.obligations[0]!.assignments.map((a) => a.value.value)).toEqual(['a', 'b']);
    expect(r.advice).toEqual([]);
    const xml = responseToXml({ results: [r] });
    expect(xml).toContain('<Obligation ObligationId="r1-p"><AttributeAssignment AttributeId="v" DataType="http://www.w3.org/2001/XMLSchema#string">a</AttributeAssignment>');
  });
  it('makes a rule Indeterminate when an obligation cannot be evaluated', () => {
    const p = loadPolicy(
      policyXml(
        'p',
        `${RCA}deny-overrides`,
        `<Rule RuleId="r" Effect="Deny"><ObligationExpressions><ObligationExpression ObligationId="o" FulfillOn="Deny"><AttributeAssignmentExpression AttributeId="v">${designator('missing', true)}</AttributeAssignmentExpression></ObligationExpression></ObligationExpressions></Rule>`,
      ),
    );
    const r = pdpOf([p]).evaluate(request({})).results[0]!;
    expect([r.decision, r.extendedIndeterminate, r.status?.code]).toEqual(['Indeterminate', 'D', 'urn:oasis:names:tc:xacml:1.0:status:missing-attribute']);
    expect(r.status?.missingAttributes?.[0]?.attributeId).toBe('missing');
  });
  it('fills current-dateTime from `now` unless the request has it; without `now` it is missing', () => {
    const p = loadPolicy(
      policyXml(
        'p',
        `${RCA}deny-overrides`,
        `<Rule RuleId="r" Effect="Permit"><Condition><Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:dateTime-greater-than"><Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:dateTime-one-and-only">${designator('urn:oasis:names:tc:xacml:1.0:environment:current-dateTime', true, ENV, DataType.dateTime)}</Apply><AttributeValue DataType="${DataType.dateTime}">2026-01-01T00:00:00Z</AttributeValue></Apply></Condition></Rule>`,
      ),
    );
    const pdp = pdpOf([p]);
    expect(pdp.evaluate(request({}), { now: new Date('2026-06-01T00:00:00Z') }).results[0]!.decision).toBe('Permit');
    expect(pdp.evaluate(request({}), { now: new Date('2025-06-01T00:00:00Z') }).results[0]!.decision).toBe('NotApplicable');
    expect(pdp.evaluate(request({})).results[0]!.decision).toBe('Indeterminate');
    const given = request({});
    given.categories.push({ category: ENV, attributes: [{ attributeId: 'urn:oasis:names:tc:xacml:1.0:environment:current-dateTime', issuer: 'pep', includeInResult: false, values: [parseValue(DataType.dateTime, '2025-01-01T00:00:00Z')] }] });
    expect(pdp.evaluate(given, { now: new Date('2026-06-01T00:00:00Z') }).results[0]!.decision).toBe('NotApplicable');
  });
  it('answers each combination of repeated categories (MDP §2.3) with its IncludeInResult attributes', () => {
    const p = loadPolicy(`<Policy xmlns="${NS}" PolicyId="p" Version="1.0" RuleCombiningAlgId="${RCA}deny-overrides">${target([[match('x', 'on')]])}<Rule RuleId="r" Effect="Permit"/></Policy>`);
    const xml = `<Request xmlns="${NS}" ReturnPolicyIdList="true" CombinedDecision="false">${['on', 'off']
      .map((v) => `<Attributes Category="${SUBJECT}"><Attribute AttributeId="x" IncludeInResult="true"><AttributeValue DataType="${S}">${v}</AttributeValue></Attribute></Attributes>`)
      .join('')}<Attributes Category="${RESOURCE}"><Attribute AttributeId="r" IncludeInResult="false"><AttributeValue DataType="${S}">1</AttributeValue></Attribute></Attributes></Request>`;
    const results = pdpOf([p]).evaluate(parseRequestXml(xml)).results;
    expect(results.map((r) => [r.decision, r.attributes[0]!.attributes[0]!.values[0]!.value, r.policyIdentifiers!.policies.length])).toEqual([
      ['Permit', 'on', 1],
      ['NotApplicable', 'off', 0],
    ]);
    expect(results[0]!.decidedBy).toEqual({ kind: 'Policy', id: 'p', version: '1.0' });
  });
});

describe('attributes', () => {
  const rule = (cond: string) => loadPolicy(policyXml('p', `${RCA}deny-overrides`, `<Rule RuleId="r" Effect="Permit"><Condition>${cond}</Condition></Rule>`));
  const isIn = (value: string, source: string) => `<Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:string-is-in"><AttributeValue DataType="${S}">${value}</AttributeValue>${source}</Apply>`;
  const withIssuer = (issuer: string | undefined) => {
    const r = request({});
    r.categories[0]!.attributes.push({ attributeId: 'x', includeInResult: false, values: [parseValue(S, 'on')], ...(issuer === undefined ? {} : { issuer }) });
    return r;
  };
  it('matches the Issuer only when the designator names one (§7.3.5)', () => {
    const any = pdpOf([rule(isIn('on', designator('x', true)))]);
    const only = pdpOf([rule(isIn('on', `<AttributeDesignator Category="${SUBJECT}" AttributeId="x" DataType="${S}" Issuer="idp" MustBePresent="true"/>`))]);
    expect([withIssuer(undefined), withIssuer('idp'), withIssuer('other')].map((r) => any.evaluate(r).results[0]!.decision)).toEqual(['Permit', 'Permit', 'Permit']);
    const results = [withIssuer(undefined), withIssuer('idp'), withIssuer('other')].map((r) => only.evaluate(r).results[0]!);
    expect(results.map((r) => r.decision)).toEqual(['Indeterminate', 'Permit', 'Indeterminate']);
    expect(results[0]!.status?.missingAttributes).toEqual([{ category: SUBJECT, attributeId: 'x', dataType: S, issuer: 'idp' }]);
  });
  it('selects from <Content> with a Path, and from a context node given by ContextSelectorId (§7.3.7)', () => {
    const xml = `<Request xmlns="${NS}" ReturnPolicyIdList="false" CombinedDecision="false"><Attributes Category="${RESOURCE}"><Content><r:record xmlns:r="urn:rec"><r:patient><r:name>Bart</r:name></r:patient><r:doctor><r:name>Julius</r:name></r:doctor></r:record></Content>
      <Attribute AttributeId="ctx" IncludeInResult="false"><AttributeValue xmlns:r="urn:rec" DataType="${DataType.xpathExpression}" XPathCategory="${RESOURCE}">/r:record/r:doctor</AttributeValue></Attribute></Attributes></Request>`;
    const req = parseRequestXml(xml);
    const selector = (path: string, extra = '', mbp = true) => `<AttributeSelector xmlns:r="urn:rec" Category="${RESOURCE}" Path="${path}" DataType="${S}" MustBePresent="${mbp}"${extra}/>`;
    const decision = (cond: string) => pdpOf([rule(cond)]).evaluate(req).results[0]!;
    expect(decision(isIn('Bart', selector('r:record/r:patient/r:name/text()'))).decision).toBe('Permit');
    expect(decision(isIn('Julius', selector('r:name/text()', ' ContextSelectorId="ctx"'))).decision).toBe('Permit');
    expect(decision(isIn('Bart', selector('r:name/text()', ' ContextSelectorId="ctx"'))).decision).toBe('NotApplicable');
    const missing = decision(isIn('Bart', selector('r:record/r:nobody/text()')));
    expect([missing.decision, missing.status?.code]).toEqual(['Indeterminate', 'urn:oasis:names:tc:xacml:1.0:status:missing-attribute']);
    expect(decision(isIn('Bart', selector('r:record/r:nobody/text()', '', false))).decision).toBe('NotApplicable');
    expect(() => loadPolicy(policyXml('p', `${RCA}deny-overrides`, `<Rule RuleId="r" Effect="Permit"><Condition>${isIn('x', selector('r:record[?]'))}</Condition></Rule>`))).toThrow(/not an XPath 1.0 expression/);
  });
  it('evaluates a variable once per request however many rules use it (§5.24)', () => {
    const body =
      `<VariableDefinition VariableId="on">${isIn('on', designator('x', true))}</VariableDefinition>` +
      ['a', 'b', 'c'].map((id) => `<Rule RuleId="${id}" Effect="Permit"><Condition><Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:not"><VariableReference VariableId="on"/></Apply></Condition></Rule>`).join('');
    const pdp = pdpOf([loadPolicy(policyXml('p', `${RCA}deny-overrides`, body))]);
    const spy = vi.spyOn(RequestContext.prototype, 'designateSlot');
    try {
      expect(pdp.evaluate(request({ x: ['on'] })).results[0]!.decision).toBe('NotApplicable');
      expect(spy).toHaveBeenCalledTimes(1);
      spy.mockClear();
      // Its Indeterminate is remembered too.
      expect(pdp.evaluate(request({})).results[0]!.decision).toBe('Indeterminate');
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('responseToXml', () => {
  it('writes status detail, escaped values and the policy identifiers, and parses back', () => {
    const xml = responseToXml({
      results: [
        {
          decision: 'Indeterminate',
          extendedIndeterminate: 'P',
          status: { code: 'urn:oasis:names:tc:xacml:1.0:status:missing-attribute', message: 'a < b & "c"', missingAttributes: [{ category: SUBJECT, attributeId: 'x', dataType: S }] },
          obligations: [],
          advice: [{ id: 'adv', assignments: [{ attributeId: 'v', category: SUBJECT, value: parseValue(S, '<tag> & "q"') }] }],
          attributes: [{ category: SUBJECT, xmlId: 's1', attributes: [{ attributeId: 'x', includeInResult: true, values: [parseValue(DataType.integer, '007')] }] }],
          policyIdentifiers: { policies: [{ id: 'p&1', version: '1.0' }], policySets: [{ id: 's', version: '2' }] },
        },
      ],
    });
    expect(xml).toContain('<StatusMessage>a &lt; b &amp; &quot;c&quot;</StatusMessage>');
    expect(xml).toContain(`<StatusDetail><MissingAttributeDetail Category="${SUBJECT}" AttributeId="x" DataType="${S}"/></StatusDetail>`);
    expect(xml).toContain('<AttributeValue DataType="http://www.w3.org/2001/XMLSchema#integer">7</AttributeValue>');
    expect(xml).toContain('<PolicyIdReference Version="1.0">p&amp;1</PolicyIdReference><PolicySetIdReference Version="2">s</PolicySetIdReference>');
    // Well-formed: the request parser's XML layer reads it back.
    expect(() => parseRequestXml(xml)).toThrow(/root element must be <Request>/);
  });
});

describe('request validation', () => {
  const req = (attrs: string, root = 'ReturnPolicyIdList="false" CombinedDecision="false"') => `<Request xmlns="${NS}" ${root}><Attributes Category="${SUBJECT}">${attrs}</Attributes></Request>`;
  it('refuses what the schema refuses, before evaluation', () => {
    const value = (dt: string, v: string) => `<Attribute AttributeId="a" IncludeInResult="false"><AttributeValue DataType="${dt}">${v}</AttributeValue></Attribute>`;
    expect(() => parseRequestXml(req(value(S, 'x'), 'CombinedDecision="false"'))).toThrow(/ReturnPolicyIdList/);
    expect(() => parseRequestXml(req(`<Attribute AttributeId="a"><AttributeValue DataType="${S}">x</AttributeValue></Attribute>`))).toThrow(/IncludeInResult/);
    expect(() => parseRequestXml(req(value('urn:example:t', 'x')))).toThrow(/unknown DataType/);
    expect(() => parseRequestXml(req(value(DataType.integer, 'twelve')))).toThrow(RequestSyntaxError);
    expect(() => parseRequestXml(req(`<Attribute AttributeId="a" IncludeInResult="false"/>`))).toThrow(/at least one <AttributeValue>/);
    expect(() => parseRequestXml(`<Request xmlns="urn:other" ReturnPolicyIdList="false" CombinedDecision="false"/>`)).toThrow(/root element/);
    expect(parseRequestXml(req(value(DataType.integer, ' 12 '))).categories[0]!.attributes[0]!.values[0]!.value).toBe(12n);
  });
});
