import { describe, expect, it } from 'vitest';
import { escapeHtml, html, raw } from './html.js';
import { text } from './texts.js';

describe('html', () => {
  it('escapes every interpolated string, in content and attributes', () => {
    const evil = `"><script>alert('x')</script>&`;
    expect(html`<input value="${evil}"><p>${evil}</p>`.value).toBe(
      '<input value="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;"><p>&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;</p>',
    );
  });

  it('keeps nested html and raw markup, joins arrays, drops null, undefined and false', () => {
    const items = ['a<b', 'c'].map((s) => html`<li>${s}</li>`);
    expect(html`<ul>${items}</ul>${null}${undefined}${false}${raw('<hr>')}`.value).toBe('<ul><li>a&lt;b</li><li>c</li></ul><hr>');
  });

  it('escapeHtml leaves plain text alone', () => {
    expect(escapeHtml('PRIMARY/alice 42')).toBe('PRIMARY/alice 42');
  });
});

describe('text', () => {
  it('fills placeholders and leaves unknown ones', () => {
    expect(text('login.throttled', { seconds: 30 })).toBe('Too many failed sign-ins from this address. Try again in 30 seconds.');
    expect(text('login.intro')).toBe('Sign in to continue to {application}.');
  });
});
