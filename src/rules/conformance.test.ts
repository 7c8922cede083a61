/**
 * The OASIS XACML 3.0 conformance tests (AT&T's upgrade of the 2.0 suite, as corrected by AuthzForce), run in
 * place from ../shared/conformance/xacml-3.0 (or CONFORMANCE_DIR). One test per folder:
 *
 * - `Request.xml.ignore`: the policy is invalid and must be refused at load (loadPolicy or the Pdp constructor).
 * - `Policy.xml.ignore`: the request is invalid and must be refused before evaluation (parseRequestXml).
 * - otherwise the response must equal Response.xml semantically: decision, status code, obligations and advice
 *   (ids and assignments, order-insensitive), IncludeInResult attributes and the PolicyIdentifierList. Both sides
 *   are normalised from XML, so responseToXml is under test too.
 * - `Policies/` (the IIE tests): the repository of referenced policies; its Policy.xml is the root.
 *
 * Every mandatory test must pass. Optional tests expected to fail are listed below with the reason, and the list is
 * checked both ways, so it cannot rot.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { formatValue, parseValue } from './functions/datatypes.js';
import { Pdp, PolicySyntaxError, loadPolicy, type LoadedPolicy } from './pdp.js';
import { RequestSyntaxError, parseRequestXml } from './request.js';
import { responseToXml } from './response.js';
import { XACML_NS, childElements, parseXml, textOf, type Element } from './xml.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const conformanceDir = process.env.CONFORMANCE_DIR ?? path.resolve(repoRoot, '../shared/conformance/xacml-3.0');

/** Optional tests this PDP does not pass, and why. */
const EXPECTED_OPTIONAL_FAILURES: Record<string, string> = {
  'xml/IIA002': 'needs the PDP to fetch an attribute the request lacks from elsewhere (an attribute finder); this PDP decides on the request alone',
};

const NOW = new Date('2026-12-02T10:00:00Z');
const ROOT_ALGORITHM = 'urn:oasis:names:tc:xacml:3.0:policy-combining-algorithm:deny-overrides';
const RESPONSE_LIMITS = { maxBytes: 1024 * 1024, maxDepth: 64, maxElements: 50_000 };

interface Case {
  name: string;
  dir: string;
  mandatory: boolean;
}

function listCases(): Case[] {
  const cases: Case[] = [];
  const add = (sub: string, prefix: string, mandatory: boolean) => {
    const base = path.join(conformanceDir, sub);
    for (const name of readdirSync(base).sort()) {
      const dir = path.join(base, name);
      if (existsSync(path.join(dir, 'Policy.xml')) || existsSync(path.join(dir, 'Policies')) || existsSync(path.join(dir, 'Policy.xml.ignore'))) {
        cases.push({ name: `${prefix}${name}`, dir, mandatory });
      }
    }
  };
  add('mandatory', '', true);
  add('optional/xml', 'xml/', false);
  add('optional/xml+json', 'xml+json/', false);
  return cases;
}

const read = (file: string) => readFileSync(file, 'utf8');

/** Loads the folder's policies: [root, ...every policy of Policies/]. Throws PolicySyntaxError. */
function loadPolicies(dir: string): { root: LoadedPolicy; all: LoadedPolicy[] } {
  const repo = path.join(dir, 'Policies');
  const all: LoadedPolicy[] = [];
  let root: LoadedPolicy | undefined;
  if (existsSync(path.join(dir, 'Policy.xml'))) {
    root = loadPolicy(read(path.join(dir, 'Policy.xml')));
    all.push(root);
  }
  if (existsSync(repo)) {
    for (const f of readdirSync(repo).sort()) {
      if (!f.endsWith('.xml')) continue;
      const p = loadPolicy(read(path.join(repo, f)));
      if (f === 'Policy.xml' && !root) root = p;
      if (!all.some((q) => q.kind === p.kind && q.id === p.id && q.version === p.version)) all.push(p);
    }
  }
  if (!root) throw new Error(`no Policy.xml in ${dir}`);
  return { root, all };
}

// --- semantic normalisation of a <Response> ---------------------------------------------------------------------

function xacmlKids(el: Element, name?: string): Element[] {
  return childElements(el).filter((k) => k.namespaceURI === XACML_NS && (name === undefined || k.localName === name));
}

function normValue(dataType: string, text: string): string {
  try {
    return formatValue(parseValue(dataType, text));
  } catch {
    return text.trim();
  }
}

function normItems(container: Element | undefined, kind: 'Obligation' | 'Advice'): string[] {
  if (!container) return [];
  return xacmlKids(container, kind)
    .map((o) => {
      const id = o.getAttribute(kind === 'Obligation' ? 'ObligationId' : 'AdviceId') ?? '';
      const assignments = xacmlKids(o, 'AttributeAssignment')
        .map((a) => {
          const dt = a.getAttribute('DataType') ?? '';
          return [a.getAttribute('AttributeId'), a.getAttribute('Category') ?? '', a.getAttribute('Issuer') ?? '', dt, normValue(dt, textOf(a))].join('|');
        })
        .sort();
      return `${id} {${assignments.join('; ')}}`;
    })
    .sort();
}

function normResponse(xml: string): unknown[] {
  const root = parseXml(xml, RESPONSE_LIMITS, 'the response').documentElement!;
  return xacmlKids(root, 'Result')
    .map((r) => {
      const status = xacmlKids(r, 'Status')[0];
      const code = status ? (xacmlKids(status, 'StatusCode')[0]?.getAttribute('Value') ?? '') : 'urn:oasis:names:tc:xacml:1.0:status:ok';
      const attributes = xacmlKids(r, 'Attributes')
        .map((c) => {
          const attrs = xacmlKids(c, 'Attribute')
            .map((a) => {
              const values = xacmlKids(a, 'AttributeValue')
                .map((v) => `${v.getAttribute('DataType')}:${normValue(v.getAttribute('DataType') ?? '', textOf(v))}`)
                .sort();
              return `${a.getAttribute('AttributeId')}|${a.getAttribute('Issuer') ?? ''}|${values.join(',')}`;
            })
            .sort();
          return `${c.getAttribute('Category')} [${attrs.join('; ')}]`;
        })
        .sort();
      const list = xacmlKids(r, 'PolicyIdentifierList')[0];
      const policyIds = list
        ? childElements(list)
            .map((p) => `${p.localName}|${textOf(p).trim()}|${p.getAttribute('Version') ?? ''}`)
            .sort()
        : undefined;
      return {
        decision: textOf(xacmlKids(r, 'Decision')[0]!).trim(),
        status: code,
        obligations: normItems(xacmlKids(r, 'Obligations')[0], 'Obligation'),
        advice: normItems(xacmlKids(r, 'AssociatedAdvice')[0], 'Advice'),
        attributes,
        ...(policyIds ? { policyIds } : {}),
      };
    })
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

/** Runs one folder; returns undefined when it passes, else what went wrong. */
function runCase(c: Case): string | undefined {
  const has = (f: string) => existsSync(path.join(c.dir, f));
  if (has('Request.xml.ignore')) {
    try {
      const { root, all } = loadPolicies(c.dir);
      new Pdp({ policies: all, topLevel: [{ id: root.id, version: root.version }], rootCombiningAlgorithm: ROOT_ALGORITHM });
    } catch (err) {
      if (err instanceof PolicySyntaxError) return undefined;
      return `expected a PolicySyntaxError, got ${String(err)}`;
    }
    return 'the invalid policy was accepted';
  }
  if (has('Policy.xml.ignore')) {
    try {
      parseRequestXml(read(path.join(c.dir, 'Request.xml')));
    } catch (err) {
      if (err instanceof RequestSyntaxError) return undefined;
      return `expected a RequestSyntaxError, got ${String(err)}`;
    }
    return 'the invalid request was accepted';
  }
  let xml: string;
  try {
    const { root, all } = loadPolicies(c.dir);
    const pdp = new Pdp({ policies: all, topLevel: [{ id: root.id, version: root.version }], rootCombiningAlgorithm: ROOT_ALGORITHM });
    xml = responseToXml(pdp.evaluate(parseRequestXml(read(path.join(c.dir, 'Request.xml'))), { now: NOW }));
  } catch (err) {
    return `threw ${(err as Error).stack ?? String(err)}`;
  }
  const actual = normResponse(xml);
  const expected = normResponse(read(path.join(c.dir, 'Response.xml')));
  const a = JSON.stringify(actual, null, 1);
  const e = JSON.stringify(expected, null, 1);
  return a === e ? undefined : `response differs\nexpected: ${e}\nactual:   ${a}`;
}

const tally = { mandatory: { run: 0, passed: 0 }, optional: { run: 0, passed: 0 } };

describe('XACML 3.0 conformance', () => {
  if (!existsSync(path.join(conformanceDir, 'mandatory'))) {
    it('finds the conformance tests', () => {
      throw new Error(`the XACML 3.0 conformance tests are not in ${conformanceDir} (set CONFORMANCE_DIR to their folder)`);
    });
    return;
  }
  const cases = listCases();
  it('has the whole suite', () => {
    expect(cases.filter((c) => c.mandatory).length).toBeGreaterThanOrEqual(450);
    for (const name of Object.keys(EXPECTED_OPTIONAL_FAILURES)) expect(cases.some((c) => c.name === name && !c.mandatory), `${name} is listed but not an optional test`).toBe(true);
  });
  for (const c of cases) {
    it(c.name, () => {
      const failure = runCase(c);
      const t = c.mandatory ? tally.mandatory : tally.optional;
      t.run++;
      if (!failure) t.passed++;
      if (c.mandatory) {
        expect(failure, failure).toBeUndefined();
      } else if (c.name in EXPECTED_OPTIONAL_FAILURES) {
        expect(failure, `${c.name} passes now: remove it from EXPECTED_OPTIONAL_FAILURES`).toBeDefined();
      } else {
        expect(failure, failure).toBeUndefined();
      }
    });
  }
  afterAll(() => {
    const pct = (t: { run: number; passed: number }) => (t.run === 0 ? 'n/a' : `${((100 * t.passed) / t.run).toFixed(1)}%`);
    console.log(
      `XACML 3.0 conformance: mandatory ${tally.mandatory.passed}/${tally.mandatory.run} (${pct(tally.mandatory)}), optional ${tally.optional.passed}/${tally.optional.run} (${pct(tally.optional)})`,
    );
  });
});
