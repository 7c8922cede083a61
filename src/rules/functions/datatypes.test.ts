import { describe, expect, it } from 'vitest';
import { DataType } from '../values.js';
import { formatValue, isKnownDataType, parseValue, valueEquals } from './datatypes.js';
import { a } from './test-support.js';

const roundTrip = (type: keyof typeof DataType, text: string) => formatValue(a(type, text));
const eq = (type: keyof typeof DataType, x: string, y: string) => valueEquals(a(type, x), a(type, y));

describe('data types (XACML 3.0 Appendix A.2)', () => {
  it('knows every standard type and the deprecated duration URIs', () => {
    for (const t of Object.values(DataType)) expect(isKnownDataType(t)).toBe(true);
    expect(isKnownDataType('http://www.w3.org/TR/2002/WD-xquery-operators-20020816#dayTimeDuration')).toBe(true);
    expect(isKnownDataType('http://www.w3.org/2001/XMLSchema#decimal')).toBe(false);
    expect(() => parseValue('urn:example:nope', 'x')).toThrow(/unknown data type/);
  });

  it('integer: arbitrary precision, XML Schema lexical form, bounded size', () => {
    expect(a('integer', ' +0012 ').value).toBe(12n);
    expect(a('integer', '123456789012345678901234567890').value).toBe(123456789012345678901234567890n);
    expect(() => a('integer', '1.0')).toThrow(/invalid integer/);
    expect(() => a('integer', '')).toThrow(/invalid integer/);
    expect(() => a('integer', '9'.repeat(5000))).toThrow(/digits/);
  });

  it('double: INF, -INF, NaN, exponents; equality per IEEE except NaN = NaN', () => {
    expect(a('double', 'INF').value).toBe(Infinity);
    expect(a('double', '-INF').value).toBe(-Infinity);
    expect(Number.isNaN(a('double', 'NaN').value)).toBe(true);
    expect(a('double', '.5e1').value).toBe(5);
    expect(() => a('double', 'inf')).toThrow();
    expect(() => a('double', '1.2.3')).toThrow();
    expect(() => a('double', 'Infinity')).toThrow();
    expect(roundTrip('double', '27.50')).toBe('2.75E1');
    expect(roundTrip('double', '-INF')).toBe('-INF');
    expect(roundTrip('double', '0')).toBe('0.0E0');
    expect(eq('double', '0', '-0')).toBe(true);
    expect(eq('double', 'NaN', 'NaN')).toBe(true);
    expect(eq('double', 'NaN', '0')).toBe(false);
  });

  it('boolean: true/false/1/0 only', () => {
    expect(a('boolean', '1').value).toBe(true);
    expect(roundTrip('boolean', '0')).toBe('false');
    expect(() => a('boolean', 'TRUE')).toThrow(/invalid boolean/);
  });

  it('hexBinary and base64Binary compare octets', () => {
    expect(eq('hexBinary', '0bf7', '0BF7')).toBe(true);
    expect(roundTrip('hexBinary', '0bf7a9')).toBe('0BF7A9');
    expect(() => a('hexBinary', 'ABC')).toThrow(/hexBinary/);
    expect(eq('base64Binary', 'c3Vy ZS4=', 'c3VyZS4=')).toBe(true);
    expect(eq('base64Binary', 'c3VyZS4=', 'YXN1cmUu')).toBe(false);
    expect(() => a('base64Binary', 'c3VyZS4')).toThrow(/base64Binary/);
    expect(() => a('base64Binary', 'c3=yZS4=')).toThrow(/base64Binary/);
  });

  it('dateTime: 24:00:00 is the next day, year 0000 and bad days are refused, the time zone is kept', () => {
    expect(roundTrip('dateTime', '1999-12-31T24:00:00Z')).toBe('2000-01-01T00:00:00Z');
    expect(roundTrip('dateTime', '2002-03-22T08:23:47.500-05:00')).toBe('2002-03-22T08:23:47.5-05:00');
    expect(roundTrip('dateTime', '2002-03-22T08:23:47+00:00')).toBe('2002-03-22T08:23:47Z');
    expect(roundTrip('dateTime', '-0001-01-01T00:00:00')).toBe('-0001-01-01T00:00:00');
    expect(() => a('dateTime', '0000-01-01T00:00:00')).toThrow(/0000/);
    expect(() => a('dateTime', '2001-02-29T00:00:00')).toThrow(/day out of range/);
    expect(() => a('dateTime', '1900-02-29T00:00:00')).toThrow(/day out of range/);
    expect(a('dateTime', '2000-02-29T00:00:00').value).toMatchObject({ month: 2, day: 29 });
    expect(() => a('dateTime', '2001-01-01T24:00:01')).toThrow(/out of range/);
    expect(() => a('dateTime', '2001-01-01T00:00:00+14:30')).toThrow(/time zone/);
    expect(() => a('dateTime', '2001-01-01T00:00:00.1234567891')).toThrow(/fractional/);
    expect(() => a('dateTime', '2001-01-01')).toThrow(/invalid dateTime/);
    expect(() => a('dateTime', '01-01-01T00:00:00')).toThrow(/invalid dateTime/);
  });

  it('date and time', () => {
    expect(roundTrip('date', '2002-03-22-05:00')).toBe('2002-03-22-05:00');
    expect(roundTrip('time', '24:00:00')).toBe('00:00:00');
    expect(() => a('time', '8:23:47')).toThrow(/invalid time/);
    expect(() => a('date', '2002-13-01')).toThrow(/month/);
  });

  it('equal instants in different time zones are equal; with and without a time zone never are', () => {
    expect(eq('dateTime', '2002-03-22T08:23:47-05:00', '2002-03-22T13:23:47Z')).toBe(true);
    expect(eq('dateTime', '2002-03-22T13:23:47', '2002-03-22T13:23:47Z')).toBe(false);
    // XPath F&O §10.4.12's examples: times compare on the reference date 1972-12-31.
    expect(eq('time', '21:30:00+10:30', '06:00:00-05:00')).toBe(true);
    expect(eq('time', '08:00:00+09:00', '17:00:00-06:00')).toBe(false);
    expect(eq('date', '2002-03-22', '2002-03-22')).toBe(true);
  });

  it('durations: XML Schema lexical forms, canonical output', () => {
    expect(roundTrip('dayTimeDuration', 'P12DT148H18M21S')).toBe('P18DT4H18M21S');
    expect(roundTrip('dayTimeDuration', '-PT0.5S')).toBe('-PT0.5S');
    expect(roundTrip('dayTimeDuration', '-P0D')).toBe('PT0S');
    expect(roundTrip('yearMonthDuration', 'P14M')).toBe('P1Y2M');
    expect(roundTrip('yearMonthDuration', '-P5Y3M')).toBe('-P5Y3M');
    expect(roundTrip('yearMonthDuration', 'P0Y')).toBe('P0M');
    for (const bad of ['P', 'PT', 'P1DT', 'P1Y', '1D', 'P-1D', 'PT1.S']) expect(() => a('dayTimeDuration', bad), bad).toThrow();
    for (const bad of ['P', 'P1D', 'P1M1Y', 'P1.5Y']) expect(() => a('yearMonthDuration', bad), bad).toThrow();
    expect(eq('dayTimeDuration', 'P1D', 'PT24H')).toBe(true);
    expect(eq('yearMonthDuration', 'P1Y', 'P12M')).toBe(true);
  });

  it('x500Name: RFC 2253 equality ignores case, spacing and the order inside a multi-valued RDN', () => {
    expect(eq('x500Name', 'cn=Julius Hibbert, o=Medi Corporation, c=US', 'CN=julius  hibbert,O=Medi Corporation,C=us')).toBe(true);
    expect(eq('x500Name', 'cn=A+uid=1,o=X', 'uid=1+cn=a, o=x')).toBe(true);
    expect(eq('x500Name', 'cn=A\\,B,o=X', 'cn=A\\2CB,o=X')).toBe(true);
    expect(eq('x500Name', 'cn=A,o=X', 'o=X,cn=A')).toBe(false);
    expect(eq('x500Name', '2.5.4.3=John, OID.2.5.4.10=Medico', 'cn=john,o=medico')).toBe(true);
    expect(roundTrip('x500Name', 'cn=Julius Hibbert, o=Medi Corporation, c=US')).toBe('cn=Julius Hibbert, o=Medi Corporation, c=US');
    expect(() => a('x500Name', 'cn')).toThrow(/type=value/);
    expect(() => a('x500Name', 'cn="open, o=X')).toThrow(/quote/);
  });

  it('rfc822Name: the local part keeps its case, the domain does not', () => {
    expect(eq('rfc822Name', 'j_hibbert@MEDICO.COM', 'j_hibbert@medico.com')).toBe(true);
    expect(eq('rfc822Name', 'J_hibbert@medico.com', 'j_hibbert@medico.com')).toBe(false);
    expect(() => a('rfc822Name', 'nobody')).toThrow(/rfc822Name/);
    expect(() => a('rfc822Name', 'c_clown@NOSE_MEDICO.COM')).toThrow(/domain/);
  });

  it('ipAddress: IPv4 and IPv6 with masks and port ranges', () => {
    expect(roundTrip('ipAddress', '122.45.38.245/255.255.255.64:8080')).toBe('122.45.38.245/255.255.255.64:8080');
    expect(eq('ipAddress', '[::1]', '[0:0:0:0:0:0:0:1]')).toBe(true);
    expect(eq('ipAddress', '[::ffff:10.0.0.1]:80-90', '[::ffff:a00:1]:80-90')).toBe(true);
    expect(a('ipAddress', '10.0.0.1:-45').value).toMatchObject({ ports: { high: 45 } });
    for (const bad of ['256.1.1.1', '1.2.3', '10.0.0.1:90-80', '[1::2::3]', '[::1', '10.0.0.1:70000']) expect(() => a('ipAddress', bad), bad).toThrow();
  });

  it('dnsName: host names, a leading wildcard, port ranges', () => {
    expect(roundTrip('dnsName', 'some.host.name:147-874')).toBe('some.host.name:147-874');
    expect(eq('dnsName', 'Some.Host', 'some.host')).toBe(true);
    expect(a('dnsName', '*.example.com').value).toMatchObject({ host: '*.example.com' });
    for (const bad of ['-bad.host', 'a..b', 'a.*.com', 'host:x', '*']) expect(() => a('dnsName', bad), bad).toThrow();
  });

  it('xpathExpression needs its XPathCategory', () => {
    const category = 'urn:oasis:names:tc:xacml:3.0:attribute-category:resource';
    const x = parseValue(DataType.xpathExpression, ' md:record ', { attributes: { XPathCategory: category }, namespaces: { md: 'urn:example:md' } });
    expect(x.value).toEqual({ path: 'md:record', category, namespaces: { md: 'urn:example:md' } });
    expect(() => parseValue(DataType.xpathExpression, 'md:record')).toThrow(/XPathCategory/);
  });

  it('values of different types are never equal', () => {
    expect(valueEquals(a('string', 'http://x'), a('anyURI', 'http://x'))).toBe(false);
  });
});
