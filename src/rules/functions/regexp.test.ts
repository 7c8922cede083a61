import { describe, expect, it } from 'vitest';
import { compileRegex, regexForTests } from './regexp.js';
import { a, indeterminate, result } from './test-support.js';

const matches = (pattern: string, input: string) => result('string-regexp-match', a('string', pattern), a('string', input));
const refused = (pattern: string) => () => compileRegex(pattern);

describe('regular expressions (XACML 3.0 §A.3.13: fn:matches on XML Schema Appendix F syntax)', () => {
  it('matches anywhere unless anchored, as fn:matches does', () => {
    expect(matches('read|write', 'do read')).toBe(true);
    expect(matches('^read$', 'do read')).toBe(false);
    expect(matches('^(read|write)$', 'write')).toBe(true);
    expect(matches('J.* Hibbert', 'Julius Hibbert')).toBe(true);
  });

  it('gives the escapes their XML Schema meaning', () => {
    expect(matches('^\\d+$', '١٢٣')).toBe(true); // Arabic-Indic digits are \p{Nd}
    expect(matches('^.$', '\u2028')).toBe(true); // . excludes only \n and \r
    expect(matches('^.$', '\n')).toBe(false);
    expect(matches('^\\w+$', 'é_x')).toBe(false); // "_" is punctuation (Pc)
    expect(matches('^\\w+$', 'éx9')).toBe(true);
    expect(matches('^\\s$', '\u00A0')).toBe(false); // \s is only space, tab, CR, LF
    expect(matches('^\\i\\c*$', 'xml:lang-1.0')).toBe(true);
    expect(matches('^\\i', '1abc')).toBe(false);
    expect(matches('^\\p{Lu}\\P{Lu}+$', 'Hello')).toBe(true);
    expect(matches('^\\p{IsBasicLatin}+$', 'abc')).toBe(true);
    expect(matches('^\\p{IsBasicLatin}+$', 'abç')).toBe(false);
    expect(matches('^a\\$\\^\\.\\-$', 'a$^.-')).toBe(true);
  });

  it('supports character class subtraction, negation, ranges and literal dashes', () => {
    expect(matches('^[a-z-[aeiou]]+$', 'xyz')).toBe(true);
    expect(matches('^[a-z-[aeiou]]+$', 'xaz')).toBe(false);
    expect(matches('^[^a-c]$', 'd')).toBe(true);
    expect(matches('^[-a]+$', '-a-')).toBe(true);
    expect(matches('^[a-]+$', '-a-')).toBe(true);
    expect(matches('^[\\d\\s]+$', '1 2')).toBe(true);
    expect(matches('^[&|(){}]+$', '&&|(){}')).toBe(true);
  });

  it('supports F&O additions: reluctant quantifiers, back-references, non-capturing groups', () => {
    expect(matches('^(a+?)(a*)$', 'aaa')).toBe(true);
    expect(matches('^(ab)\\1$', 'abab')).toBe(true);
    expect(matches('^(?:ab){2}$', 'abab')).toBe(true);
    expect(matches('^x{2,3}$', 'xxxx')).toBe(false);
  });

  it('refuses what XML Schema does not have, with the reason', () => {
    expect(refused('(?=a)')).toThrow(/"\?" must be escaped/);
    expect(refused('\\bword')).toThrow(/unknown escape \\b/);
    expect(refused('[a-z')).toThrow(/unterminated character class/);
    expect(refused('a{3,1}')).toThrow(/maximum below its minimum/);
    expect(refused('a{2000}')).toThrow(/above 1000/);
    expect(refused('(a)\\2')).toThrow(/back-reference/);
    expect(refused('[z-a]')).toThrow(/end is below its start/);
    expect(refused('[a-b-c]')).toThrow(/"-" must be escaped/);
    expect(refused('\\p{IsOldItalic}')).toThrow(/block escape .* not supported/);
    expect(refused('\\p{Latin}')).toThrow(/unknown character property/);
    expect(refused('a'.repeat(1025))).toThrow(/longer than 1024/);
  });

  it('matches in time linear in the input, whatever the pattern', () => {
    for (const pattern of ['^(a+)+$', '(a|aa)+', 'a*b', '^(\\w+\\.)com$']) expect(compileRegex(pattern).engine, pattern).toBe('automaton');
    const started = Date.now();
    const many = 'a'.repeat(60_000);
    expect(matches('^(a|aa)+$', `${many}!`)).toBe(false);
    expect(matches('^([a-z]+[a-z])+$', `${'a'.repeat(5000)}!`)).toBe(false);
    expect(matches('a*a*a*a*b', many)).toBe(false);
    expect(matches('a*b', many)).toBe(false);
    expect(matches('^(a+)+$', many)).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(refused('(((a{1000}){1000}){1000})+')).toThrow(/too large/);
  });

  it('back-references run on RegExp, on bounded inputs, and never with nested repetition', () => {
    expect(compileRegex('^(ab)\\1$').engine).toBe('regexp');
    expect(indeterminate('string-regexp-match', a('string', '(a)\\1'), a('string', 'a'.repeat(5000))).message).toMatch(/at most 4096/);
    expect(refused('^((a)+)+\\2$')).toThrow(/back-reference with nested repetition/);
  });

  it('the automaton and RegExp agree', () => {
    const patterns = ['read|write', '^(a|ab)(c|bcd)(d*)$', '^[a-z-[aeiou]]{2,3}$', 'x?y+z*', '^$', '(^a|b$)', '^\\d{2,}\\.?\\d*$', '^(?:\\p{Lu}\\P{Lu}*)+$', '[^\\s]+@[^\\s]+', 'a{2}b{0,2}$', '(ab|a)*c'];
    const inputs = ['', 'read', 'do write now', 'abcd', 'abcdd', 'abbcd', 'xyz', 'b', 'ab', 'a', '12.5', '1', 'HeLLo', 'Hello World', 'me@x.org', 'aei', 'aabb', 'aabbb', 'ababac', 'abx'];
    for (const p of patterns) {
      const automaton = compileRegex(p);
      const re = regexForTests(p);
      for (const s of inputs) expect(automaton.test(s), `${p} on "${s}"`).toBe(re.test(s));
    }
  });

  it('a bad pattern or an oversized input is Indeterminate at evaluation', () => {
    expect(indeterminate('string-regexp-match', a('string', '(a'), a('string', 'a')).message).toMatch(/missing "\)"/);
    expect(indeterminate('string-regexp-match', a('string', 'a'), a('string', 'a'.repeat(70_000))).message).toMatch(/longer than 65536/);
  });

  it('the typed variants match the value’s string form', () => {
    expect(result('anyURI-regexp-match', a('string', '^http://medico\\.com/'), a('anyURI', 'http://medico.com/record'))).toBe(true);
    expect(result('rfc822Name-regexp-match', a('string', '@MEDICO\\.COM$'), a('rfc822Name', 'j_hibbert@MEDICO.COM'))).toBe(true);
    expect(result('x500Name-regexp-match', a('string', 'o=Medi'), a('x500Name', 'cn=Julius Hibbert, o=Medi Corporation, c=US'))).toBe(true);
    expect(result('ipAddress-regexp-match', a('string', '^10\\.'), a('ipAddress', '10.0.0.1:80'))).toBe(true);
    expect(result('dnsName-regexp-match', a('string', '\\.example\\.com$'), a('dnsName', 'www.example.com'))).toBe(true);
  });
});
