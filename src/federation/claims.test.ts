import { describe, expect, it } from 'vitest';
import type { UserRecord } from '../provisioning/types.js';
import { consentAttributes, mapClaims, MAX_GROUP_VALUES, newUserInput, syncedUserInput, type MappedClaims } from './claims.js';
import { jitInput } from './config.js';

const settings = (over: Record<string, unknown> = {}) => jitInput.parse(over);
const mapped = (claims: Record<string, unknown>, over: Record<string, unknown> = {}): MappedClaims => {
  const r = mapClaims(claims, settings(over));
  if (!r.ok) throw new Error(r.message);
  return r.value;
};
const refusal = (claims: Record<string, unknown>, over: Record<string, unknown> = {}): string => {
  const r = mapClaims(claims, settings(over));
  if (r.ok) throw new Error('expected a refusal');
  return r.message;
};

const stored = (over: Partial<UserRecord> = {}): UserRecord => ({
  id: '6f1c4f0e-6d39-4c86-9d2b-5b8b0f3f8f11',
  domain: 'PRIMARY',
  userName: 'alice',
  active: true,
  emails: [{ value: 'old@example.com', primary: true, type: 'work' }, { value: 'home@example.com', primary: false }],
  phoneNumbers: [],
  addresses: [],
  version: 3,
  created: '2026-12-01T00:00:00.000Z',
  lastModified: '2026-12-01T00:00:00.000Z',
  ...over,
});

describe('mapClaims with the default mappings', () => {
  it('maps the standard OIDC claims to SCIM attributes', () => {
    const m = mapped({ sub: 's1', preferred_username: 'alice', name: 'Alice Liddell', given_name: 'Alice', family_name: 'Liddell', email: 'alice@example.com', email_verified: true, locale: 'en-GB', picture: 'https://p.example/a.png' });
    expect(m.userName).toBe('alice');
    expect(m.attributes).toMatchObject({ displayName: 'Alice Liddell', 'name.formatted': 'Alice Liddell', 'name.givenName': 'Alice', 'name.familyName': 'Liddell', emails: 'alice@example.com', locale: 'en-GB', photos: 'https://p.example/a.png' });
    expect(m.email).toBe('alice@example.com');
    expect(m.emailVerified).toBe(true);
    expect(m.groupNames).toBeUndefined();
    const input = newUserInput('PRIMARY', m.userName!, m);
    expect(input).toMatchObject({ domain: 'PRIMARY', userName: 'alice', active: true, displayName: 'Alice Liddell', name: { givenName: 'Alice', familyName: 'Liddell', formatted: 'Alice Liddell' } });
    expect(input.emails).toEqual([{ value: 'alice@example.com', primary: true }]);
    expect(input.photos).toEqual([{ value: 'https://p.example/a.png', primary: true }]);
    expect(input.password).toBeUndefined();
  });

  it('verifies an email only on email_verified === true', () => {
    expect(mapped({ sub: 's', email: 'a@example.com', email_verified: 'true' }).emailVerified).toBe(false);
    expect(mapped({ sub: 's', email: 'a@example.com' }).emailVerified).toBe(false);
    expect(mapped({ sub: 's', email_verified: true }).emailVerified).toBe(false);
  });

  it('takes the username from the first userNameClaims value the store accepts', () => {
    expect(mapped({ sub: 'sub-1', email: 'bob@example.com' }).userName).toBe('bob@example.com');
    expect(mapped({ sub: 'sub-1' }).userName).toBe('sub-1');
    // A control character is refused by RFC 8265: the next claim is used.
    expect(mapped({ sub: 'sub-2', preferred_username: 'bad\u0007name' }).userName).toBe('sub-2');
    expect(mapped({ sub: 'x', nick: 'carol' }, { userNameClaims: ['nick', 'sub'] }).userName).toBe('carol');
  });

  it('refuses a login whose username claims are all unusable, naming them', () => {
    expect(refusal({ sub: 'a/b' }, { userNameClaims: ['sub'] })).toMatch(/'sub'.*"\/"/);
    expect(refusal({ sub: 'x'.repeat(300) }, { userNameClaims: ['sub'] })).toMatch(/'sub'/);
    expect(mapClaims({}, settings({ userNameClaims: ['sub'] }))).toEqual({ ok: true, value: expect.objectContaining({ userName: undefined }) });
  });

  it('bounds every mapped value: too long, NUL, not a single value, not an email', () => {
    expect(refusal({ sub: 's', name: 'n'.repeat(2049) })).toMatch(/'name' is longer than 2048/);
    expect(refusal({ sub: 's', nickname: 'a\u0000b' })).toMatch(/'nickname' contains a NUL/);
    expect(refusal({ sub: 's', name: { first: 'x' } })).toMatch(/'name' is not a single value/);
    expect(refusal({ sub: 's', email: 'not-an-email' })).toMatch(/not an email address/);
    expect(refusal({ sub: 's', email: `${'a'.repeat(320)}@x` })).toMatch(/longer than 320/);
  });

  it("uses the operator's mappings instead of the defaults", () => {
    const m = mapped({ sub: 's', upn: 'dave@corp', dept_title: 'Engineer', name: 'ignored' }, { claimMappings: [{ claim: 'upn', attribute: 'emails' }, { claim: 'dept_title', attribute: 'title' }] });
    expect(m.attributes).toEqual({ emails: 'dave@corp', title: 'Engineer' });
    expect(m.mappedAttributes).toEqual(['emails', 'title']);
  });
});

describe('group claims', () => {
  const groups = { groups: { claim: 'groups', mappings: [{ value: 'eng', group: 'Engineers' }, { value: 'eng', group: 'SECONDARY/Staff' }], matchByName: false } };

  it('maps values by the mappings and ignores unmapped ones', () => {
    expect(mapped({ sub: 's', groups: ['eng', 'sales'] }, groups).groupNames).toEqual(['Engineers', 'SECONDARY/Staff']);
    expect(mapped({ sub: 's' }, groups).groupNames).toEqual([]);
    expect(mapped({ sub: 's', groups: 'eng' }, groups).groupNames).toEqual(['Engineers', 'SECONDARY/Staff']);
  });

  it('matches by name when asked', () => {
    expect(mapped({ sub: 's', roles: ['Ops', 'eng'] }, { groups: { ...groups.groups, claim: 'roles', matchByName: true } }).groupNames).toEqual(['Ops', 'Engineers', 'SECONDARY/Staff']);
  });

  it('bounds the claim: values, their length and type', () => {
    expect(refusal({ sub: 's', groups: Array.from({ length: MAX_GROUP_VALUES + 1 }, (_, i) => `g${i}`) }, groups)).toMatch(/at most 100/);
    expect(refusal({ sub: 's', groups: ['g'.repeat(256)] }, groups)).toMatch(/longer than 255/);
    expect(refusal({ sub: 's', groups: [42] }, groups)).toMatch(/not a string/);
  });
});

describe('syncedUserInput on re-login', () => {
  const claims = { sub: 's', preferred_username: 'renamed', name: 'Alice New', email: 'new@example.com', given_name: 'Alice' };

  it('OVERRIDE_ALL sets every asserted mapped attribute, keeps the username and other emails', () => {
    const next = syncedUserInput(stored({ displayName: 'Alice Old' }), mapped(claims), { attributeSync: 'OVERRIDE_ALL', idpOwnedAttributes: [] })!;
    expect(next.userName).toBe('alice');
    expect(next.displayName).toBe('Alice New');
    expect(next.name?.givenName).toBe('Alice');
    expect(next.emails).toEqual([{ value: 'new@example.com', primary: true, type: 'work' }, { value: 'home@example.com', primary: false }]);
  });

  it('SYNC_NONE changes nothing', () => {
    expect(syncedUserInput(stored({ displayName: 'Alice Old' }), mapped(claims), { attributeSync: 'SYNC_NONE', idpOwnedAttributes: [] })).toBeUndefined();
  });

  it('PRESERVE_LOCAL fills only what is empty locally', () => {
    const next = syncedUserInput(stored({ displayName: 'Alice Old' }), mapped(claims), { attributeSync: 'PRESERVE_LOCAL', idpOwnedAttributes: [] })!;
    expect(next.displayName).toBe('Alice Old');
    expect(next.name?.givenName).toBe('Alice');
    expect(next.emails[0]!.value).toBe('old@example.com');
  });

  it('idpOwnedAttributes follow the IdP whatever the mode, removed when no longer asserted', () => {
    const next = syncedUserInput(stored({ displayName: 'Alice Old', title: 'Boss' }), mapped(claims), { attributeSync: 'SYNC_NONE', idpOwnedAttributes: ['displayName', 'title'] })!;
    expect(next.displayName).toBe('Alice New');
    expect(next.title).toBeUndefined();
    expect(next.name).toBeUndefined();
  });

  it('answers undefined when the claims match the local user', () => {
    const user = stored({ displayName: 'Alice New', name: { formatted: 'Alice New', givenName: 'Alice' }, emails: [{ value: 'new@example.com', primary: true }] });
    expect(syncedUserInput(user, mapped(claims), { attributeSync: 'OVERRIDE_ALL', idpOwnedAttributes: [] })).toBeUndefined();
  });
});

it('lists what consent shows: the username, then the asserted attributes in mapping order', () => {
  expect(consentAttributes('alice', mapped({ sub: 's', name: 'A', email: 'a@example.com' }))).toEqual([
    { attribute: 'userName', value: 'alice' },
    { attribute: 'displayName', value: 'A' },
    { attribute: 'name.formatted', value: 'A' },
    { attribute: 'emails', value: 'a@example.com' },
  ]);
});
