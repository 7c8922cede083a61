/**
 * The rules for an application's redirect URIs and post-logout redirect URIs (admin API), checked once when they
 * are written, so the authorization server only ever compares exactly (RFC 9700 §4.1.3: exact string matching):
 * absolute; https, or http on a loopback address (RFC 8252 §7.3, native applications and development); no fragment
 * (RFC 6749 §3.1.2); no user:password part; bounded in length and in number.
 */
export const MAX_REDIRECT_URIS = 20;
export const MAX_REDIRECT_URI_CHARS = 2048;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** What is wrong with a redirect URI, or undefined when it is acceptable. */
export function redirectUriProblem(value: string): string | undefined {
  if (value.length > MAX_REDIRECT_URI_CHARS) return `at most ${MAX_REDIRECT_URI_CHARS} characters`;
  if (value.includes('#')) return 'must not have a fragment (#...)';
  // Control characters and spaces would be normalised away by URL parsing, so two strings could mean one URI.
  // eslint-disable-next-line no-control-regex -- control characters are exactly what this refuses
  if (/[\s\u0000-\u001f\u007f]/.test(value)) return 'must not contain spaces or control characters';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.username !== '' || url.password !== '') return 'must not carry a user name or password';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) return undefined;
  return 'must use https (http only on a loopback address: 127.0.0.1, [::1], localhost)';
}
