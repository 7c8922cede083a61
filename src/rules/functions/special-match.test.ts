import { describe, expect, it } from 'vitest';
import { DataType, IndeterminateError, constantArgument, type AttributeValue } from '../values.js';
import { parseValue } from './datatypes.js';
import { a, fn, result } from './test-support.js';

describe('x500Name-match (XACML 3.0 §A.3.14)', () => {
  const x = (t: string) => a('x500Name', t);
  it('matches a terminal sequence of RDNs', () => {
    expect(result('x500Name-match', x('o=Medico Corp, c=US'), x('cn=John Smith, o=Medico Corp, c=US'))).toBe(true);
    expect(result('x500Name-match', x('O=medico  corp,C=us'), x('cn=John Smith, o=Medico Corp, c=US'))).toBe(true);
    expect(result('x500Name-match', x('cn=John Smith, o=Medico Corp'), x('cn=John Smith, o=Medico Corp, c=US'))).toBe(false);
    expect(result('x500Name-match', x('cn=John Smith, o=Medico Corp, c=US'), x('o=Medico Corp, c=US'))).toBe(false);
    expect(result('x500Name-match', x('c=US'), x('c=US'))).toBe(true);
  });
});

describe('rfc822Name-match (XACML 3.0 §A.3.14)', () => {
  const m = (pattern: string, name: string) => result('rfc822Name-match', a('string', pattern), a('rfc822Name', name));
  it('a full address: the local part with case, the domain without', () => {
    expect(m('Anderson@sun.com', 'Anderson@SUN.COM')).toBe(true);
    expect(m('Anderson@sun.com', 'anderson@sun.com')).toBe(false);
  });
  it('a domain: every address at that host', () => {
    expect(m('sun.com', 'Anderson@SUN.COM')).toBe(true);
    expect(m('sun.com', 'Anderson@east.sun.com')).toBe(false);
  });
  it('a domain with a leading ".": every address in a sub-domain, not the domain itself', () => {
    expect(m('.east.sun.com', 'x@isrg.EAST.sun.com')).toBe(true);
    expect(m('.east.sun.com', 'x@east.sun.com')).toBe(false);
    expect(m('.sun.com', 'x@notsun.com')).toBe(false);
  });
});

describe('xpath functions (XACML 3.0 §A.3.15)', () => {
  const category = 'urn:oasis:names:tc:xacml:3.0:attribute-category:resource';
  const xp = (path: string) => parseValue(DataType.xpathExpression, path, { attributes: { XPathCategory: category }, namespaces: {} });
  const leaf = { name: 'leaf' };
  const attr = { name: '@id' };
  const root = { name: 'root', childNodes: [{ name: 'mid', childNodes: [leaf] }], attributes: [attr] };
  const nodes: Record<string, unknown[]> = { '/root': [root], '//leaf': [leaf], '//@id': [attr], '//none': [] };
  const context = {
    selectNodes: (e: AttributeValue) => {
      const found = nodes[(e.value as { path: string }).path];
      if (!found) throw new IndeterminateError('urn:oasis:names:tc:xacml:1.0:status:syntax-error', 'bad path');
      return found;
    },
  };
  const run = (id: string, ...paths: string[]) => fn(id).call(paths.map((p) => constantArgument(xp(p))), context);

  it('xpath-node-count', () => {
    expect(run('xpath-node-count', '/root')).toMatchObject({ value: 1n });
    expect(run('xpath-node-count', '//none')).toMatchObject({ value: 0n });
    expect(() => run('xpath-node-count', 'bad(')).toThrow(/bad path/);
  });
  it('xpath-node-equal compares node identity', () => {
    expect(run('xpath-node-equal', '//leaf', '//leaf')).toMatchObject({ value: true });
    expect(run('xpath-node-equal', '//leaf', '/root')).toMatchObject({ value: false });
  });
  it('xpath-node-match also looks below the second argument’s nodes, attributes included', () => {
    expect(run('xpath-node-match', '//leaf', '/root')).toMatchObject({ value: true });
    expect(run('xpath-node-match', '//@id', '/root')).toMatchObject({ value: true });
    expect(run('xpath-node-match', '/root', '//leaf')).toMatchObject({ value: false });
  });
});
