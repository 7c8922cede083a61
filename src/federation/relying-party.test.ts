import { describe, expect, it } from 'vitest';
import { mergeUserinfo } from './relying-party.js';

describe('mergeUserinfo', () => {
  const idToken = { iss: 'https://idp', sub: 's1', aud: 'c', exp: 2, iat: 1, nonce: 'n', email: 'a@example.com', email_verified: true, name: 'A' };

  it('keeps the ID token claims and adds userinfo claims, without the token-only ones', () => {
    const claims = mergeUserinfo(idToken, { sub: 's1', groups: ['g'], name: 'A B' });
    expect(claims).toEqual({ iss: 'https://idp', sub: 's1', email: 'a@example.com', email_verified: true, name: 'A B', groups: ['g'] });
  });

  it("Keycloak CVE-2026-9087: never applies the ID token's email_verified to a different userinfo email", () => {
    expect(mergeUserinfo(idToken, { sub: 's1', email: 'b@example.com' })).toMatchObject({ email: 'b@example.com', email_verified: false });
    // userinfo's own assertion about its own email stands
    expect(mergeUserinfo(idToken, { sub: 's1', email: 'b@example.com', email_verified: true })).toMatchObject({ email: 'b@example.com', email_verified: true });
    // the same email: the ID token's verification stands
    expect(mergeUserinfo(idToken, { sub: 's1', email: 'a@example.com' })).toMatchObject({ email: 'a@example.com', email_verified: true });
  });

  it('never lets userinfo change the subject', () => {
    expect(mergeUserinfo(idToken, { sub: 'other' }).sub).toBe('s1');
  });
});
