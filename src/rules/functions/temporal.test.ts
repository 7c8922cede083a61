import { describe, expect, it } from 'vitest';
import { formatValue } from './datatypes.js';
import { a, call, indeterminate, result } from './test-support.js';
import { single } from './define.js';

const dt = (t: string) => a('dateTime', t);
const date = (t: string) => a('date', t);
const time = (t: string) => a('time', t);
const dtd = (t: string) => a('dayTimeDuration', t);
const ymd = (t: string) => a('yearMonthDuration', t);
const text = (id: string, ...args: Parameters<typeof call>[1][]) => formatValue(single(call(id, ...args)));

describe('date and time arithmetic (XACML 3.0 §A.3.7, XML Schema Appendix E)', () => {
  it('adding months pins the day to the end of the resulting month', () => {
    expect(text('date-add-yearMonthDuration', date('2004-01-31'), ymd('P1M'))).toBe('2004-02-29');
    expect(text('date-add-yearMonthDuration', date('2003-01-31'), ymd('P1M'))).toBe('2003-02-28');
    expect(text('date-add-yearMonthDuration', date('2000-02-29'), ymd('P1Y'))).toBe('2001-02-28');
    expect(text('date-subtract-yearMonthDuration', date('2000-03-31'), ymd('P1M'))).toBe('2000-02-29');
    expect(text('dateTime-add-yearMonthDuration', dt('2001-11-30T10:00:00-05:00'), ymd('P2M'))).toBe('2002-01-30T10:00:00-05:00');
    expect(text('dateTime-subtract-yearMonthDuration', dt('2002-01-15T00:00:00'), ymd('-P1Y1M'))).toBe('2003-02-15T00:00:00');
  });

  it('adding days and times carries across month and year ends and leap days, keeping the time zone', () => {
    expect(text('dateTime-add-dayTimeDuration', dt('2004-02-28T23:30:00Z'), dtd('PT1H'))).toBe('2004-02-29T00:30:00Z');
    expect(text('dateTime-add-dayTimeDuration', dt('2003-02-28T23:30:00Z'), dtd('PT1H'))).toBe('2003-03-01T00:30:00Z');
    expect(text('dateTime-add-dayTimeDuration', dt('1999-12-31T23:59:59.5-05:00'), dtd('PT0.75S'))).toBe('2000-01-01T00:00:00.25-05:00');
    expect(text('dateTime-subtract-dayTimeDuration', dt('2000-03-01T00:00:00'), dtd('P1D'))).toBe('2000-02-29T00:00:00');
    expect(text('dateTime-subtract-dayTimeDuration', dt('2000-01-01T00:00:00Z'), dtd('-P366D'))).toBe('2001-01-01T00:00:00Z');
    expect(text('dateTime-add-dayTimeDuration', dt('0001-01-01T00:00:00'), dtd('-P1D'))).toBe('-0001-12-31T00:00:00');
  });

  it('the deprecated 1.0 ids work, on the new and the 2002 duration types', () => {
    const legacy = 'http://www.w3.org/TR/2002/WD-xquery-operators-20020816#dayTimeDuration';
    const d = { dataType: legacy, value: dtd('P1D').value };
    expect(text('urn:oasis:names:tc:xacml:1.0:function:dateTime-add-dayTimeDuration', dt('2002-03-22T08:23:47-05:00'), d)).toBe('2002-03-23T08:23:47-05:00');
    expect(text('urn:oasis:names:tc:xacml:1.0:function:dateTime-add-dayTimeDuration', dt('2002-03-22T08:23:47-05:00'), dtd('P1D'))).toBe('2002-03-23T08:23:47-05:00');
    expect(() => call('urn:oasis:names:tc:xacml:3.0:function:dateTime-add-dayTimeDuration', dt('2002-03-22T08:23:47-05:00'), d)).toThrow(/argument 2/);
  });

  it('a result beyond the supported years is Indeterminate', () => {
    expect(indeterminate('date-add-yearMonthDuration', date('9999999-01-01'), ymd('P1Y')).message).toMatch(/year range/);
  });
});

describe('date and time order (XACML 3.0 §A.3.8, XML Schema §3.2.7.4)', () => {
  it('compares instants across time zones', () => {
    expect(result('dateTime-less-than', dt('2002-03-22T08:23:47-05:00'), dt('2002-03-22T13:23:48Z'))).toBe(true);
    expect(result('dateTime-greater-than-or-equal', dt('2002-03-22T08:23:47-05:00'), dt('2002-03-22T13:23:47Z'))).toBe(true);
    expect(result('date-greater-than', date('2002-03-23+14:00'), date('2002-03-22-10:00'))).toBe(false);
    expect(result('time-less-than', time('23:00:00'), time('23:00:01'))).toBe(true);
  });

  it('a value without a time zone is ordered against one with only when 14 hours cannot change the answer', () => {
    expect(result('dateTime-less-than', dt('2002-03-22T00:00:00Z'), dt('2002-03-22T14:00:01'))).toBe(true);
    expect(result('dateTime-less-than', dt('2002-03-22T00:00:00Z'), dt('2002-03-22T13:00:00'))).toBe(false);
    expect(result('dateTime-greater-than-or-equal', dt('2002-03-22T00:00:00Z'), dt('2002-03-22T13:00:00'))).toBe(false);
    expect(result('dateTime-equal', dt('2002-03-22T00:00:00Z'), dt('2002-03-22T00:00:00'))).toBe(false);
    expect(result('dateTime-greater-than', dt('2002-03-23T04:00:01Z'), dt('2002-03-22T14:00:00'))).toBe(true);
  });
});

describe('time-in-range (XACML 3.0 §A.3.8)', () => {
  it('is inclusive at both ends', () => {
    expect(result('time-in-range', time('09:00:00Z'), time('09:00:00Z'), time('17:00:00Z'))).toBe(true);
    expect(result('time-in-range', time('17:00:00Z'), time('09:00:00Z'), time('17:00:00Z'))).toBe(true);
    expect(result('time-in-range', time('17:00:00.001Z'), time('09:00:00Z'), time('17:00:00Z'))).toBe(false);
  });

  it('a range may run over midnight', () => {
    expect(result('time-in-range', time('23:30:00Z'), time('22:00:00Z'), time('02:00:00Z'))).toBe(true);
    expect(result('time-in-range', time('01:00:00Z'), time('22:00:00Z'), time('02:00:00Z'))).toBe(true);
    expect(result('time-in-range', time('12:00:00Z'), time('22:00:00Z'), time('02:00:00Z'))).toBe(false);
  });

  it('bounds without a time zone take the first argument’s', () => {
    expect(result('time-in-range', time('08:30:00-05:00'), time('08:00:00'), time('09:00:00'))).toBe(true);
    expect(result('time-in-range', time('13:30:00Z'), time('08:00:00-05:00'), time('09:00:00-05:00'))).toBe(true);
    expect(result('time-in-range', time('08:30:00Z'), time('08:00:00-05:00'), time('09:00:00-05:00'))).toBe(false);
  });
});
