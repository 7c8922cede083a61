// The userName profile (RFC 8265 UsernameCaseMapped with full case folding): its examples, the look-alike twins
// of issue #8 and every rule that refuses a name, with the code point named.
import { describe, expect, it } from 'vitest';
import { caseFold, bidiClass, widthMapping } from './unicode.js';
import { checkUserName, foldUserName, InvalidUserNameError, MAX_USERNAME_LENGTH, userNameKey } from './username.js';

const key = (name: string) => userNameKey(name);
function refused(name: string): InvalidUserNameError {
  const result = checkUserName(name);
  if (result.ok) throw new Error(`expected ${JSON.stringify(name)} to be refused, got key ${JSON.stringify(result.key)}`);
  return result.error;
}

describe('RFC 8265 §3.6 examples', () => {
  it('accepts the legal userparts of Table 1', () => {
    expect(key('juliet@example.com')).toBe('juliet@example.com'); // 1: "@" is allowed
    expect(key('fussball')).toBe('fussball'); // 2
    expect(key('fußball')).toBe('fussball'); // 3: full case folding makes 2 and 3 one name (the registration policy of §3.6)
    expect(key('π')).toBe('π'); // 4
    expect(key('Σ')).toBe('σ'); // 5
    expect(key('σ')).toBe('σ'); // 6: the same name as 5
    expect(key('ς')).toBe('σ'); // 7: case folding maps final sigma to sigma (toLowerCase would not)
  });

  it('refuses the strings of Table 2 as userparts, and accepts 8 as a username of two userparts', () => {
    expect(key('foo bar')).toBe('foo bar'); // 8: a space-separated sequence of userparts
    expect(refused('').rule).toBe('empty'); // 9
    const henry = refused('henryⅣ'); // 10: ROMAN NUMERAL FOUR has a compatibility decomposition
    expect(henry.rule).toBe('compatibility');
    expect(henry.codePoint).toBe(0x2163);
    expect(henry.message).toBe("userName contains U+2163 'Ⅳ', a compatibility character (it stands for 'IV'), which RFC 8265 does not allow");
    const king = refused('♚'); // 11: symbols are not allowed
    expect(king.rule).toBe('symbol');
    expect(king.message).toContain('U+265A');
  });
});

describe('look-alike names are one name (issue #8)', () => {
  const twins: [string, string, string][] = [
    ['NFC and NFD', 'caf\u00e9', 'cafe\u0301'],
    ['fullwidth', 'ａｌｉｃｅ', 'alice'],
    ['fullwidth digits and punctuation', 'ｕｓｅｒ１！', 'user1!'],
    ['case', 'ALICE', 'alice'],
    ['ligature fi', 'ﬁle', 'file'],
    ['dotted capital I', 'İrem', 'irem'],
    ['i with a combining dot above', 'i\u0307rem', 'irem'],
    ['sharp s', 'straße', 'strasse'],
    ['capital sharp s', 'STRAẞE', 'strasse'],
    ['Kelvin sign', '\u212aate', 'kate'],
    ['micro sign', '\u00b5', '\u03bc'],
    ['long s', '\u017fam', 'sam'],
    ['Greek question mark (canonically a semicolon)', 'a\u037e', 'a;'],
    ['Cherokee small and capital letters', '\uab70\uab71', '\u13a0\u13a1'],
    ['halfwidth katakana', 'ｶﾀｶﾅ', 'カタカナ'],
    ['ideographic space between userparts', 'foo\u3000bar', 'foo bar'],
  ];
  it.each(twins)('%s', (_what, a, b) => {
    expect(key(a)).toBe(key(b));
  });

  it('keeps different names apart', () => {
    expect(key('ı')).not.toBe(key('i')); // dotless i is another letter (no Turkic folding)
    expect(key('alice')).not.toBe(key('alíce'));
    expect(key('foo bar')).not.toBe(key('foobar'));
  });

  it('keeps ASCII names as their lower case (the keys existing users already have)', () => {
    expect(key('Bob.Smith+test@Example.COM')).toBe('bob.smith+test@example.com');
    expect(key('a b c')).toBe('a b c');
  });
});

describe('refused names name the rule and the code point', () => {
  const cases: [string, string, string, number | undefined][] = [
    ['trailing zero width space', 'bob\u200b', 'ignorable', 0x200b],
    ['zero width no-break space inside', 'b\ufeffob', 'ignorable', 0xfeff],
    ['soft hyphen', 'bo\u00adb', 'ignorable', 0x00ad],
    ['right-to-left override', 'bob\u202egnp', 'ignorable', 0x202e],
    ['variation selector', 'bob\ufe0f', 'ignorable', 0xfe0f],
    ['control character', 'bob\u0007', 'control', 0x0007],
    ['line feed', 'bob\nx', 'control', 0x000a],
    ['zero width joiner', 'bob\u200dx', 'join-control', 0x200d],
    ['zero width non-joiner', 'bob\u200cx', 'join-control', 0x200c],
    ['no-break space', 'bob\u00a0x', 'compatibility', 0x00a0],
    ['superscript digit', 'user\u00b9', 'compatibility', 0x00b9],
    ['circled letter', '\u24b6lice', 'compatibility', 0x24b6],
    ['unassigned code point', 'bob\u0378', 'unassigned', 0x0378],
    ['noncharacter', 'bob\ufdd0', 'ignorable', 0xfdd0],
    ['private use', 'bob\ue000', 'disallowed', 0xe000],
    ['lone surrogate', 'bob\ud800', 'disallowed', 0xd800],
    ['line separator', 'bob\u2028', 'disallowed', 0x2028],
    ['Arabic tatweel (an exception)', 'ب\u0640ب', 'disallowed', 0x0640],
    ['non-ASCII punctuation', 'bob\u3001', 'punctuation', 0x3001],
    ['non-ASCII symbol', 'bob\u2764', 'symbol', 0x2764],
    ['letter-like number', 'bob\u16ee', 'other-letter-digit', 0x16ee],
    ['lone conjoining jamo', '\u1100', 'old-hangul-jamo', 0x1100],
    ['middle dot outside l·l', 'a\u00b7b', 'context', 0x00b7],
    ['Greek keraia before a Latin letter', '\u0375a', 'context', 0x0375],
    ['Hebrew geresh after a Latin letter', 'a\u05f3', 'context', 0x05f3],
    ['katakana middle dot without kana', 'a\u30fbb', 'context', 0x30fb],
    ['Arabic-Indic and Extended Arabic-Indic digits together', 'ب\u0660\u06f0', 'context', 0x0660],
    ['Hebrew after Latin (Bidi Rule 5)', 'abcשלום', 'bidi', 0x05e9],
    ['digit first in a right-to-left name (Bidi Rule 1)', '1שלום', 'bidi', 0x31],
    ['left-to-right part ending in punctuation when the name has right-to-left text (Bidi Rule 6)', 'ab- שלום', 'bidi', 0x2d],
    ['two spaces in a row', 'foo  bar', 'spaces', undefined],
    ['a leading space', ' foo', 'spaces', undefined],
  ];
  it.each(cases)('%s', (_what, name, rule, codePoint) => {
    const error = refused(name);
    expect(error).toBeInstanceOf(InvalidUserNameError);
    expect(error.code).toBe('invalid_username');
    expect(error.rule).toBe(rule);
    expect(error.codePoint).toBe(codePoint);
    if (codePoint !== undefined) expect(error.message).toContain(`U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`);
  });

  it('words the message for a client', () => {
    expect(refused('bob\u200b').message).toBe(
      'userName contains U+200B ZERO WIDTH SPACE, an invisible (default-ignorable) code point, which RFC 8265 does not allow',
    );
    expect(refused('bob\u0007').message).toBe('userName contains U+0007, a control character, which RFC 8265 does not allow');
    expect(refused('a\u00b7b').message).toBe("userName contains U+00B7 '·', which is allowed only between two 'l' (RFC 5892 Appendix A.3)");
  });

  it('names the code point as the client sent it, not as width mapping made it', () => {
    expect(refused('bob\uffe3').codePoint).toBe(0xffe3); // FULLWIDTH MACRON -> MACRON, a compatibility character
  });
});

describe('allowed in context and by the Bidi Rule', () => {
  it('accepts what the contextual rules allow', () => {
    expect(key('l\u00b7l')).toBe('l\u00b7l'); // Catalan ela geminada
    expect(key('\u0375\u03b1')).toBe('\u0375\u03b1');
    expect(key('\u05d0\u05f3')).toBe('\u05d0\u05f3');
    expect(key('\u30ab\u30fb\u30ab')).toBe('\u30ab\u30fb\u30ab');
    expect(key('ب\u0660\u0661')).toBe('ب\u0660\u0661');
    expect(key('\u1100\u1161')).toBe('\uac00'); // conjoining jamo that compose to a syllable are that syllable
  });

  it('accepts right-to-left names the Bidi Rule allows, with digits and marks', () => {
    expect(key('שלום')).toBe('שלום');
    expect(key('שלום1')).toBe('שלום1');
    expect(key('سلام')).toBe('سلام');
    expect(key('שלום abc')).toBe('שלום abc'); // each userpart is checked on its own, as labels of a domain name are
  });
});

describe('bounds and stability', () => {
  it(`allows ${MAX_USERNAME_LENGTH} characters once enforced, and no more`, () => {
    expect(key('a'.repeat(MAX_USERNAME_LENGTH))).toHaveLength(MAX_USERNAME_LENGTH);
    expect(refused('a'.repeat(MAX_USERNAME_LENGTH + 1)).rule).toBe('length');
    expect(refused('ß'.repeat(200)).rule).toBe('length'); // folds to 400 characters
    expect(key('e\u0301'.repeat(MAX_USERNAME_LENGTH))).toHaveLength(MAX_USERNAME_LENGTH); // NFC composes
    expect(refused('x'.repeat(100_000)).rule).toBe('length'); // refused before any work
  });

  it('gives every accepted code point a key that is its own key (enforcement is idempotent)', () => {
    let accepted = 0;
    for (let cp = 0; cp <= 0x1ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const result = checkUserName(String.fromCodePoint(cp));
      if (!result.ok) continue;
      accepted += 1;
      expect(checkUserName(result.key)).toEqual(result);
      expect(foldUserName(result.key)).toBe(result.key);
    }
    expect(accepted).toBeGreaterThan(50_000);
  });

  it('maps substring filter values like whole names', () => {
    expect(foldUserName('ＳＳ')).toBe('ss');
    expect(foldUserName('Straße')).toBe('strasse');
    expect(foldUserName('caf')).toBe('caf');
    expect(foldUserName('e\u0301')).toBe('\u00e9');
  });
});

describe('the Unicode operations (src/userstore/unicode.ts)', () => {
  it('folds with the full (C+F) foldings of CaseFolding.txt', () => {
    expect(caseFold('ß')).toBe('ss');
    expect(caseFold('ẞ')).toBe('ss');
    expect(caseFold('ﬃ')).toBe('ffi');
    expect(caseFold('ŉ')).toBe('\u02bcn');
    expect(caseFold('ς')).toBe('σ');
    expect(caseFold('ΣΑΣ')).toBe('σασ'); // no final-sigma context
    expect(caseFold('\u1e9b')).toBe('\u1e61');
    expect(caseFold('\u0345')).toBe('\u03b9');
    expect(caseFold('\u1fb3')).toBe('\u03b1\u03b9');
    expect(caseFold('\uab70')).toBe('\u13a0'); // Cherokee folds to capitals
    expect(caseFold('\u13a0')).toBe('\u13a0');
    expect(caseFold('ı')).toBe('ı');
    expect(caseFold('İ')).toBe('i\u0307');
  });

  it('knows the Bidi classes the Bidi Rule reads', () => {
    expect(bidiClass(0x41)).toBe('L');
    expect(bidiClass(0x05d0)).toBe('R');
    expect(bidiClass(0x0627)).toBe('AL');
    expect(bidiClass(0x0660)).toBe('AN');
    expect(bidiClass(0x06f0)).toBe('EN');
    expect(bidiClass(0x31)).toBe('EN');
    expect(bidiClass(0x2d)).toBe('ES');
    expect(bidiClass(0x2e)).toBe('CS');
    expect(bidiClass(0x23)).toBe('ET');
    expect(bidiClass(0x40)).toBe('ON');
    expect(bidiClass(0x0301)).toBe('NSM');
    expect(bidiClass(0x1e900)).toBe('R'); // Adlam
  });

  it('maps fullwidth and halfwidth forms to their decompositions', () => {
    expect(widthMapping(0xff21)).toBe(0x41);
    expect(widthMapping(0x3000)).toBe(0x20);
    expect(widthMapping(0xff76)).toBe(0x30ab);
    expect(widthMapping(0xffe3)).toBe(0x00af);
    expect(widthMapping(0x41)).toBe(0x41);
  });
});
