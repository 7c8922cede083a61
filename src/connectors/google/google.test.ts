/**
 * The Google connector against a local fake of Google's token endpoint and Directory API over real HTTP,
 * so every call goes through Google's own client libraries (@googleapis/admin, google-auth-library).
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  generateServiceAccount,
  startGoogleDirectoryServer,
  type GoogleDirectoryServer,
  type GoogleDirectoryServerOptions,
  type ServiceAccount,
} from '../../../test/support/google-directory-server.js';
import { ConnectorAlreadyExists, ConnectorMisconfigured, ConnectorNotFound, ConnectorRejected, ConnectorTransient } from '../errors.js';
import type { OutboundConnector, OutboundUser, RemoteUser } from '../types.js';
import { mapOutboundUser } from '../../provisioning/attribute-mapping.js';
import { googleFactory } from './index.js';
import { groupEmailOf, LOCAL_ID_TYPE } from './mapping.js';

const DOMAIN = 'example.com';
const ADMIN = 'admin@example.com';
const sa: ServiceAccount = generateServiceAccount();

let fakes: GoogleDirectoryServer[] = [];
afterEach(async () => {
  await Promise.all(fakes.map((f) => f.close()));
  fakes = [];
});

async function setup(
  settings: Record<string, unknown> = {},
  opts: Partial<GoogleDirectoryServerOptions> & { privateKey?: string; defaultPassword?: string | null } = {},
): Promise<{ fake: GoogleDirectoryServer; connector: OutboundConnector; make: (s?: Record<string, unknown>) => OutboundConnector }> {
  const fake = await startGoogleDirectoryServer({ serviceAccount: sa, domain: DOMAIN, admins: [ADMIN], ...opts });
  fakes.push(fake);
  const make = (extra: Record<string, unknown> = {}) =>
    googleFactory.create({
      type: 'google',
      settings: {
        domain: DOMAIN,
        serviceAccountEmail: sa.email,
        adminEmail: ADMIN,
        tokenUrl: fake.tokenUrl,
        directoryUrl: fake.directoryUrl,
        timeoutMs: 5000,
        ...settings,
        ...extra,
      },
      secrets: {
        privateKey: opts.privateKey ?? sa.privateKey,
        ...(opts.defaultPassword !== null && { defaultPassword: opts.defaultPassword ?? 'Default-Passw0rd' }),
      },
    });
  return { fake, connector: make(), make };
}

function user(userName: string, extra: Partial<OutboundUser> = {}): OutboundUser {
  return {
    id: `local-${userName}`,
    domain: 'PRIMARY',
    userName,
    active: true,
    name: { givenName: 'Rashmini', familyName: 'N' },
    emails: [{ value: `${userName}@gmail.com`, type: 'home', primary: true }],
    phoneNumbers: [{ value: '+94 11 000 0000', type: 'mobile' }],
    addresses: [],
    version: 1,
    created: '2024-01-01T00:00:00.000Z',
    lastModified: '2024-01-01T00:00:00.000Z',
    password: 'Rashmini-Secret1',
    ...extra,
  };
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('settings', () => {
  it('names every problem, and checks the private key', () => {
    expect(googleFactory.type).toBe('google');
    expect(googleFactory.secretFields).toEqual(['privateKey', 'defaultPassword']);
    const issues = googleFactory.validate({ type: 'google', settings: { domain: 'not a domain', deprovision: 'archive' }, secrets: { privateKey: 'nope' } });
    expect(issues.join('\n')).toMatch(/domain:/);
    expect(issues.join('\n')).toMatch(/serviceAccountEmail:/);
    expect(issues.join('\n')).toMatch(/adminEmail:/);
    expect(issues.join('\n')).toMatch(/deprovision:/);
    expect(issues.join('\n')).toMatch(/privateKey: is not a PEM private key/);
    expect(() => googleFactory.create({ type: 'google', settings: {}, secrets: {} })).toThrow(ConnectorMisconfigured);
    const ok = googleFactory.validate({
      type: 'google',
      settings: { domain: DOMAIN, serviceAccountEmail: sa.email, adminEmail: ADMIN },
      // As pasted from a JSON key: escaped newlines.
      secrets: { privateKey: sa.privateKey.replace(/\n/g, '\\n'), defaultPassword: 'long-enough' },
    });
    expect(ok).toEqual([]);
    expect(googleFactory.validate({ type: 'google', settings: { domain: DOMAIN, serviceAccountEmail: sa.email, adminEmail: ADMIN }, secrets: { privateKey: sa.privateKey, defaultPassword: 'short' } })).toEqual([
      expect.stringMatching(/^defaultPassword:/),
    ]);
  });
});

describe('users', () => {
  it('creates a user as Google wants it: primary email at the domain, names, password, external id, emails, phones', async () => {
    const { fake, connector } = await setup();
    const { remoteId } = await connector.createUser(user('rashmini', { externalId: 'ext-7', title: 'Engineer', enterprise: { department: 'IAM' } }));
    const u = fake.users.get(remoteId)!;
    expect(u.primaryEmail).toBe('rashmini@example.com');
    expect(u.name).toMatchObject({ givenName: 'Rashmini', familyName: 'N' });
    expect(u.suspended).toBe(false);
    expect(u.externalIds).toEqual([
      { type: 'custom', customType: LOCAL_ID_TYPE, value: 'local-rashmini' },
      { type: 'organization', value: 'ext-7' },
    ]);
    expect(u.emails).toEqual([{ address: 'rashmini@gmail.com', type: 'home', primary: true }]);
    expect(u.phones).toEqual([{ value: '+94 11 000 0000', type: 'mobile' }]);
    expect(u.organizations).toEqual([{ primary: true, title: 'Engineer', department: 'IAM' }]);
    expect(fake.passwords.get(remoteId)).toBe('Rashmini-Secret1');
  });

  it('falls back to the default password, and to the user name for missing names', async () => {
    const { fake, connector } = await setup();
    const { remoteId } = await connector.createUser(user('noname', { name: undefined, password: undefined }));
    expect(fake.users.get(remoteId)!.name).toMatchObject({ givenName: 'noname', familyName: 'noname' });
    expect(fake.passwords.get(remoteId)).toBe('Default-Passw0rd');

    const { fake: fake2, connector: withDefaults } = await setup({ defaultGivenName: 'Given', defaultFamilyName: 'Family' }, { defaultPassword: null });
    const second = await withDefaults.createUser(user('x@elsewhere.org', { name: { givenName: '' }, password: undefined }));
    const u = fake2.users.get(second.remoteId)!;
    expect(u.primaryEmail).toBe('x@example.com'); // the local part, at the connector's domain
    expect(u.name).toMatchObject({ givenName: 'Given', familyName: 'Family' });
    expect(fake2.passwords.get(second.remoteId)).toHaveLength(32); // random: Google requires one
  });

  it('updates, suspends with active=false, and sends a password only when it is not the default one', async () => {
    const { fake, connector } = await setup();
    const { remoteId } = await connector.createUser(user('upd'));
    await connector.updateUser(remoteId, user('upd', { name: { givenName: 'R', familyName: 'Changed' }, active: false, password: 'Default-Passw0rd', phoneNumbers: [] }));
    const u = fake.users.get(remoteId)!;
    expect(u.name).toMatchObject({ givenName: 'R', familyName: 'Changed' });
    expect(u.suspended).toBe(true);
    expect(u.phones).toEqual([]);
    expect(fake.passwords.get(remoteId)).toBe('Rashmini-Secret1');
    expect(fake.requests.at(-1)!.body).not.toHaveProperty('password');

    await connector.updateUser(remoteId, user('upd', { password: 'A-new-passw0rd' }));
    expect(fake.passwords.get(remoteId)).toBe('A-new-passw0rd');
    expect(fake.users.get(remoteId)!.suspended).toBe(false);
  });

  it('deletes, and a user already gone is not an error', async () => {
    const { fake, connector } = await setup();
    const { remoteId } = await connector.createUser(user('del'));
    await connector.deleteUser(remoteId, user('del'));
    expect(fake.users.has(remoteId)).toBe(false);
    await connector.deleteUser(remoteId, user('del'));
    expect(fake.requests.at(-1)).toMatchObject({ method: 'DELETE', status: 404 });
  });

  it("deprovision 'deactivate' suspends instead of deleting", async () => {
    const { fake, connector } = await setup({ deprovision: 'deactivate' });
    const { remoteId } = await connector.createUser(user('deact'));
    await connector.deleteUser(remoteId, user('deact'));
    expect(fake.users.get(remoteId)!.suspended).toBe(true);
    expect(fake.requests.at(-1)).toMatchObject({ method: 'PATCH', body: { suspended: true } });
  });

  it('finds a user by user name (users.get by primary email)', async () => {
    const { connector } = await setup();
    const { remoteId } = await connector.createUser(user('findme'));
    expect(await connector.findUserByUserName('findme')).toEqual({ remoteId });
    expect(await connector.findUserByUserName('FindMe')).toEqual({ remoteId });
    expect(await connector.findUserByUserName('nobody')).toBeUndefined();
  });

  it("primaryEmail 'userName' takes the user name as the address", async () => {
    const { fake, connector } = await setup({ primaryEmail: 'userName' });
    const { remoteId } = await connector.createUser(user('full@example.com'));
    expect(fake.users.get(remoteId)!.primaryEmail).toBe('full@example.com');
    expect(await connector.findUserByUserName('full@example.com')).toEqual({ remoteId });
    // Another domain: Google refuses it (400), which is final.
    await expect(connector.createUser(user('full@other.org'))).rejects.toBeInstanceOf(ConnectorRejected);
    await expect(connector.createUser(user('no-at-sign'))).rejects.toBeInstanceOf(ConnectorRejected);
  });

  it('writes attribute-mapping values into the Directory API body, over the derived ones (settings.attributeMapping)', async () => {
    const attributeMapping = [
      { target: 'primaryEmail', expression: '$lowercase(name.givenName) & "." & $lowercase(name.familyName) & "@example.com"' },
      { target: 'orgUnitPath', source: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:division', default: '/Staff', when: 'create' },
      { target: 'organizations[0].department', expression: '$uppercase($enterprise.department)' },
      { target: 'customSchemas.Employment.costCenter', source: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter' },
      // No value and Google requires it: the connector's own (the user's family name) stays.
      { target: 'name.familyName', source: 'nickName' },
    ];
    const { fake, connector, make } = await setup({ attributeMapping });
    const local = user('rashmini', { name: { givenName: 'Rashmini', familyName: 'Nadeesha' }, enterprise: { department: 'iam', costCenter: 'CC-7' } });
    const { remoteId } = await connector.createUser(await mapOutboundUser(local, attributeMapping, { operation: 'create' }));
    const u = fake.users.get(remoteId)!;
    expect(u.primaryEmail).toBe('rashmini.nadeesha@example.com');
    expect(u.orgUnitPath).toBe('/Staff');
    expect(u.organizations).toEqual([{ primary: true, department: 'IAM', costCenter: 'CC-7' }]);
    expect(u.name).toMatchObject({ givenName: 'Rashmini', familyName: 'Nadeesha' });
    expect(fake.requests.at(-1)!.body).toMatchObject({ customSchemas: { Employment: { costCenter: 'CC-7' } } });

    // On update the create-only rule is not applied, and a mapped value that is gone is cleared (null).
    const changed = { ...local, enterprise: { department: 'sales' } };
    await connector.updateUser(remoteId, await mapOutboundUser(changed, attributeMapping, { operation: 'update' }));
    const sent = fake.requests.at(-1)!.body as Record<string, unknown>;
    expect(sent).not.toHaveProperty('orgUnitPath');
    expect(sent).toMatchObject({ organizations: [{ primary: true, department: 'SALES' }], customSchemas: { Employment: { costCenter: null } } });

    // A second create meets 409: the user is found again under the address the mapping built, not rashmini@example.com.
    const again = make(); // a new delivery: a new connector instance
    await expect(again.createUser(await mapOutboundUser(local, attributeMapping, { operation: 'create' }))).rejects.toBeInstanceOf(ConnectorAlreadyExists);
    expect(await again.findUserByUserName('rashmini')).toEqual({ remoteId });

    // Targets are checked when saved: field paths only, never the password.
    const base = { domain: DOMAIN, serviceAccountEmail: sa.email, adminEmail: ADMIN };
    expect(
      googleFactory.validate({
        type: 'google',
        settings: { ...base, attributeMapping: [{ target: 'password', source: 'userName' }, { target: 'organizations[x]', source: 'title' }, ...attributeMapping] },
        secrets: { privateKey: sa.privateKey },
      }),
    ).toEqual([
      "attributeMapping[0] (target 'password'): 'password' cannot be written by a mapping rule",
      expect.stringMatching(/^attributeMapping\[1\] \(target 'organizations\[x\]'\): is not a Directory API field path/),
    ]);
    // A value that cannot be an address is this user's rejection, naming the target.
    await expect(connector.createUser({ ...user('bad'), mapped: [{ target: 'primaryEmail', value: 'no address' }] })).rejects.toThrow(
      /The value mapped to 'primaryEmail' is not an email address/,
    );
  });

  it('lists every user page by page (nextPageToken), for reconciliation', async () => {
    const { fake, connector } = await setup();
    for (let i = 0; i < 450; i++) {
      const id = `9${String(i).padStart(20, '0')}`;
      fake.users.set(id, {
        kind: 'admin#directory#user',
        id,
        etag: '"e"',
        primaryEmail: `u${String(i).padStart(3, '0')}@example.com`,
        name: { givenName: 'U', familyName: String(i), fullName: '' },
        suspended: i % 2 === 0,
        orgUnitPath: '/',
        isAdmin: false,
        creationTime: '',
        externalIds: [{ type: 'custom', customType: LOCAL_ID_TYPE, value: `local-${i}` }],
      });
    }
    const all: RemoteUser[] = [];
    for await (const u of connector.listUsers!()) all.push(u);
    expect(all).toHaveLength(450);
    expect(new Set(all.map((u) => u.remoteId)).size).toBe(450);
    expect(all[0]).toMatchObject({ userName: 'u000', externalId: 'local-0', active: false });
    expect(all[1]).toMatchObject({ userName: 'u001', externalId: 'local-1', active: true });
    expect(fake.requests.filter((r) => r.method === 'GET' && r.path === '/admin/directory/v1/users')).toHaveLength(3);
  });
});

describe('groups', () => {
  it('creates a group with members, syncs the member list on update, finds and deletes it', async () => {
    const { fake, connector } = await setup();
    const a = (await connector.createUser(user('ga'))).remoteId;
    const b = (await connector.createUser(user('gb'))).remoteId;
    const c = (await connector.createUser(user('gc'))).remoteId;
    const member = (remoteId: string) => ({ remoteId, type: 'User' as const, localId: `l-${remoteId}` });

    const { remoteId } = await connector.createGroup!({ id: 'g1', displayName: 'Identity Engineers', members: [member(a), member(b)] });
    const g = fake.groups.get(remoteId)!;
    expect(g).toMatchObject({ email: 'identity-engineers@example.com', name: 'Identity Engineers' });
    expect([...fake.members.get(remoteId)!.keys()].sort()).toEqual([a, b].sort());

    // b leaves, c joins; a stays untouched.
    const before = fake.requests.length;
    await connector.updateGroup!(remoteId, { id: 'g1', displayName: 'Identity Engineers', members: [member(a), member(c)] });
    expect([...fake.members.get(remoteId)!.keys()].sort()).toEqual([a, c].sort());
    const calls = fake.requests.slice(before).map((r) => `${r.method} ${r.path.replace(remoteId, '{g}')}`);
    expect(calls).toEqual([
      'PUT /admin/directory/v1/groups/{g}',
      'GET /admin/directory/v1/groups/{g}/members',
      'POST /admin/directory/v1/groups/{g}/members',
      `DELETE /admin/directory/v1/groups/{g}/members/${b}`,
    ]);

    // Renamed: the address follows the display name.
    await connector.updateGroup!(remoteId, { id: 'g1', displayName: 'IAM Team', members: [] });
    expect(fake.groups.get(remoteId)).toMatchObject({ email: 'iam-team@example.com', name: 'IAM Team' });
    expect(fake.members.get(remoteId)!.size).toBe(0);

    expect(await connector.findGroupByDisplayName!('IAM Team')).toEqual({ remoteId });
    expect(await connector.findGroupByDisplayName!('Identity Engineers')).toBeUndefined();

    await expect(connector.createGroup!({ id: 'g2', displayName: 'IAM Team', members: [] })).rejects.toBeInstanceOf(ConnectorAlreadyExists);
    await connector.deleteGroup!(remoteId, { id: 'g1', displayName: 'IAM Team', members: [] });
    expect(fake.groups.has(remoteId)).toBe(false);
    await connector.deleteGroup!(remoteId, { id: 'g1', displayName: 'IAM Team', members: [] });
    await expect(connector.updateGroup!(remoteId, { id: 'g1', displayName: 'IAM Team', members: [] })).rejects.toBeInstanceOf(ConnectorNotFound);
  });

  it('builds group addresses from display names', () => {
    expect(groupEmailOf('Identity Engineers', 'example.com')).toBe('identity-engineers@example.com');
    expect(groupEmailOf('Ünïcode & Co.', 'example.com')).toBe('unicode-co@example.com');
    expect(groupEmailOf('team@example.com', 'example.com')).toBe('team@example.com');
    expect(() => groupEmailOf('!!!', 'example.com')).toThrow(ConnectorRejected);
  });
});

describe('errors', () => {
  it('409 duplicate -> ConnectorAlreadyExists; 404 notFound -> ConnectorNotFound', async () => {
    const { connector } = await setup();
    await connector.createUser(user('twice'));
    const dup = await rejection(connector.createUser(user('twice')));
    expect(dup).toBeInstanceOf(ConnectorAlreadyExists);
    expect(dup.message).toMatch(/409 duplicate: Entity already exists/);
    await expect(connector.updateUser('123', user('gone'))).rejects.toBeInstanceOf(ConnectorNotFound);
  });

  it('429 rateLimitExceeded -> ConnectorTransient with Retry-After, and no retry by the library', async () => {
    const { fake, connector } = await setup();
    fake.inject({ fault: { kind: 'rateLimit', retryAfterSeconds: 7 }, path: /\/users$/ });
    const err = await rejection(connector.createUser(user('limited')));
    expect(err).toBeInstanceOf(ConnectorTransient);
    expect((err as ConnectorTransient).retryAfterMs).toBe(7000);
    expect((err as ConnectorTransient).status).toBe(429);
    expect(fake.requests.filter((r) => r.path.endsWith('/users'))).toHaveLength(1);
    // The next attempt (Temporal's) goes through.
    await connector.createUser(user('limited'));
    expect(fake.userByEmail('limited@example.com')).toBeDefined();
  });

  it('403 userRateLimitExceeded -> ConnectorTransient; other 403 -> ConnectorRejected', async () => {
    const { fake, connector } = await setup();
    fake.inject({ fault: { kind: 'userRateLimit' } });
    await expect(connector.findUserByUserName('x')).rejects.toBeInstanceOf(ConnectorTransient);
    fake.inject({ fault: { kind: 'forbidden' } });
    const err = await rejection(connector.findUserByUserName('x'));
    expect(err).toBeInstanceOf(ConnectorRejected);
    expect(err.message).toMatch(/403 forbidden: Not Authorized/);
  });

  it('token endpoint unauthorized_client (scopes not delegated) -> ConnectorMisconfigured', async () => {
    const { connector } = await setup({}, { delegatedScopes: ['https://www.googleapis.com/auth/admin.directory.user'] });
    const err = await rejection(connector.findUserByUserName('x'));
    expect(err).toBeInstanceOf(ConnectorMisconfigured);
    expect(err.message).toMatch(/unauthorized_client/);
  });

  it('5xx, a dropped connection, and a server that is down -> ConnectorTransient, each tried once', async () => {
    const { fake, connector } = await setup();
    await connector.findUserByUserName('warm-up'); // a token first
    fake.inject({ fault: { kind: 'unavailable', retryAfterSeconds: 2 } });
    const unavailable = await rejection(connector.findUserByUserName('a'));
    expect(unavailable).toBeInstanceOf(ConnectorTransient);
    expect((unavailable as ConnectorTransient).retryAfterMs).toBe(2000);
    fake.inject({ fault: { kind: 'reset' } });
    await expect(connector.findUserByUserName('b')).rejects.toBeInstanceOf(ConnectorTransient);
    fake.down = true;
    await expect(connector.findUserByUserName('c')).rejects.toBeInstanceOf(ConnectorTransient);
    fake.down = false;
    expect(fake.requests.filter((r) => r.method === 'GET')).toHaveLength(3); // warm-up, 503, reset (down: never recorded)

    const closed = await setup();
    await closed.fake.close();
    fakes = fakes.filter((f) => f !== closed.fake);
    await expect(closed.connector.findUserByUserName('d')).rejects.toBeInstanceOf(ConnectorTransient);
  });

  it('400 required/invalid -> ConnectorRejected', async () => {
    const { connector } = await setup({ primaryEmail: 'userName' });
    const err = await rejection(connector.createUser(user('someone@not-our-domain.org')));
    expect(err).toBeInstanceOf(ConnectorRejected);
    expect(err.message).toMatch(/400 invalid: Domain not found/);
    const short = await rejection(connector.createUser(user('pw@example.com', { password: 'short' })));
    expect(short).toBeInstanceOf(ConnectorRejected);
    expect((short as ConnectorRejected).status).toBe(400);
  });

  it('token endpoint invalid_grant (unknown admin, foreign key) -> ConnectorMisconfigured', async () => {
    const { connector: wrongAdmin } = await setup({ adminEmail: 'someone@example.com' });
    const err = await rejection(wrongAdmin.findUserByUserName('x'));
    expect(err).toBeInstanceOf(ConnectorMisconfigured);
    expect(err.message).toMatch(/invalid_grant: Invalid email or User ID/);

    const other = generateServiceAccount();
    const { fake, connector: wrongKey } = await setup({}, { privateKey: other.privateKey });
    const bad = await rejection(wrongKey.findUserByUserName('x'));
    expect(bad).toBeInstanceOf(ConnectorMisconfigured);
    expect(bad.message).toMatch(/Invalid JWT Signature/);
    expect(fake.requests.filter((r) => r.path === '/token')).toHaveLength(1); // not retried by the library
  });

  it('token endpoint 503 -> ConnectorTransient', async () => {
    const { fake, connector } = await setup();
    fake.inject({ fault: { kind: 'unavailable' }, path: /^\/token$/ });
    await expect(connector.findUserByUserName('x')).rejects.toBeInstanceOf(ConnectorTransient);
    expect(fake.requests.filter((r) => r.path === '/token')).toHaveLength(1);
  });

  it('401 that a fresh token does not cure -> ConnectorMisconfigured', async () => {
    const { fake, connector } = await setup();
    fake.inject({ fault: { kind: 'unauthorized' }, times: 2 });
    const err = await rejection(connector.findUserByUserName('x'));
    expect(err).toBeInstanceOf(ConnectorMisconfigured);
    expect((err as ConnectorMisconfigured).status).toBe(401);
  });
});

describe('tokens', () => {
  it('mints one token for many calls and many connector instances, with the claims Google checks', async () => {
    const { fake, connector, make } = await setup();
    await connector.findUserByUserName('a');
    await connector.findUserByUserName('b');
    await make().findUserByUserName('c'); // a connector per delivery shares the token
    expect(fake.tokensIssued).toBe(1);
  });

  it('gets a new token when the old one expires, and when Google revokes it', async () => {
    const { fake, connector } = await setup();
    fake.tokenLifetimeSeconds = 1; // within the client's eager-refresh window: refreshed before each call
    await connector.findUserByUserName('a');
    await connector.findUserByUserName('b');
    expect(fake.tokensIssued).toBe(2);

    fake.tokenLifetimeSeconds = 3600;
    await connector.findUserByUserName('c');
    expect(fake.tokensIssued).toBe(3);
    fake.revokeTokens();
    // 401 with the revoked token, then the same call with a new one.
    expect(await connector.findUserByUserName('d')).toBeUndefined();
    expect(fake.tokensIssued).toBe(4);
    expect(fake.requests.slice(-3).map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      'GET /admin/directory/v1/users/d%40example.com 401',
      'POST /token 200',
      'GET /admin/directory/v1/users/d%40example.com 404',
    ]);
  });
});
