/**
 * The token endpoint's scope policy (grantedScopes): what a client-credentials and a password-grant token get.
 */
import { describe, expect, it } from 'vitest';
import { grantedScopes } from './grants.js';

const APP = 'internal_login internal_user_mgt_update internal_user_mgt_view';

describe('grantedScopes', () => {
  it("gives a client-credentials request what it asks of the application's scopes, or all of them by default", () => {
    expect(grantedScopes(APP, 'internal_user_mgt_update')).toEqual(['internal_user_mgt_update']);
    expect(grantedScopes(APP, undefined)).toEqual(['internal_login', 'internal_user_mgt_update', 'internal_user_mgt_view']);
  });

  it('refuses unknown scopes and scopes the application is not authorised for with invalid_scope, whatever the user may do', () => {
    for (const requested of ['root', 'internal_group_mgt_view']) {
      expect(() => grantedScopes(APP, requested)).toThrow(expect.objectContaining({ error: 'invalid_scope' }));
      expect(() => grantedScopes(APP, requested, new Set(['internal_group_mgt_view']))).toThrow(expect.objectContaining({ error: 'invalid_scope' }));
    }
  });

  it('narrows a password-grant token to what the user may hold (RFC 6749 §3.3), refusing a request left with nothing', () => {
    const everyone = new Set(['internal_login']);
    expect(grantedScopes(APP, 'internal_user_mgt_update internal_login', everyone)).toEqual(['internal_login']);
    expect(grantedScopes(APP, undefined, everyone)).toEqual(['internal_login']);
    expect(() => grantedScopes(APP, 'internal_user_mgt_update', everyone)).toThrow(expect.objectContaining({ error: 'invalid_scope' }));
    expect(grantedScopes(APP, 'internal_user_mgt_update', new Set(['internal_login', 'internal_user_mgt_update']))).toEqual(['internal_user_mgt_update']);
    // An application without scopes asked for nothing: a token without scopes, as before.
    expect(grantedScopes(undefined, undefined, everyone)).toEqual([]);
  });
});
