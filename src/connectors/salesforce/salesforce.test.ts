/**
 * The Salesforce connector (and so jsforce) against the local fake of Salesforce's REST API and OAuth token
 * endpoint (test/support/salesforce-server.ts), over real HTTP.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSalesforce, type FakeSalesforce } from '../../../test/support/salesforce-server.js';
import {
  ConnectorAlreadyExists,
  ConnectorMisconfigured,
  ConnectorNotFound,
  ConnectorRejected,
  ConnectorTransient,
  type ConnectorError,
} from '../errors.js';
import type { OutboundConnector, OutboundUser, RemoteUser } from '../types.js';
import { mapOutboundUser } from '../../provisioning/attribute-mapping.js';
import { salesforceFactory, soqlString } from './index.js';

const PROFILE_ID = '00e5g000001AbCdAAK';
let fake: FakeSalesforce;

function settings(overrides: Record<string, unknown> = {}) {
  return {
    loginUrl: fake.baseUrl,
    apiVersion: '60.0',
    clientId: fake.options.clientId,
    username: fake.options.username,
    domain: 'acme.example',
    profileId: PROFILE_ID,
    timeoutMs: 3000,
    ...overrides,
  };
}
const secrets = (overrides: Record<string, string> = {}) => ({
  clientSecret: fake.options.clientSecret,
  password: 'Passw0rd!',
  securityToken: 'TOKEN123',
  ...overrides,
});
function connector(s: Record<string, unknown> = {}, sec: Record<string, string> = {}): OutboundConnector {
  return salesforceFactory.create({ type: 'salesforce', settings: settings(s), secrets: secrets(sec) });
}

function user(userName: string, extra: Partial<OutboundUser> = {}): OutboundUser {
  return {
    id: `local-${userName}`,
    domain: 'PRIMARY',
    userName,
    active: true,
    name: { givenName: 'Alice', familyName: 'Liddell' },
    emails: [{ value: `${userName}@mail.example`, primary: true, type: 'work' }],
    phoneNumbers: [],
    addresses: [],
    version: 1,
    created: '2024-01-01T00:00:00Z',
    lastModified: '2024-01-01T00:00:00Z',
    ...extra,
  };
}

async function failure(p: Promise<unknown>): Promise<ConnectorError> {
  try {
    await p;
  } catch (err) {
    return err as ConnectorError;
  }
  throw new Error('expected a failure');
}

beforeAll(async () => {
  fake = await startFakeSalesforce({ pageSize: 2 });
});
afterAll(async () => {
  await fake?.stop();
});
afterEach(() => {
  fake.up();
});

describe('settings', () => {
  it('requires a profile, client credentials and, for the password grant, a username and password', () => {
    const issues = salesforceFactory.validate({ type: 'salesforce', settings: { clientId: 'x' }, secrets: {} });
    expect(issues.join('\n')).toMatch(/profileId/);
    expect(issues.join('\n')).toMatch(/clientSecret/);
    const pw = salesforceFactory.validate({ type: 'salesforce', settings: { clientId: 'x', profileId: PROFILE_ID }, secrets: { clientSecret: 's' } });
    expect(pw).toEqual(['username: required with the password grant', 'password: required with the password grant']);
    expect(salesforceFactory.validate({ type: 'salesforce', settings: settings({ grantType: 'client_credentials', username: undefined }), secrets: { clientSecret: 's' } })).toEqual([]);
  });

  it("accepts only deprovision 'deactivate': Salesforce does not delete users", () => {
    const issues = salesforceFactory.validate({ type: 'salesforce', settings: settings({ deprovision: 'delete' }), secrets: secrets() });
    expect(issues).toEqual([expect.stringMatching(/^deprovision: Salesforce users cannot be deleted/)]);
    expect(() => connector({ deprovision: 'delete' })).toThrow(ConnectorMisconfigured);
  });

  it('keeps secrets apart and is a plug-in', async () => {
    expect(salesforceFactory.type).toBe('salesforce');
    expect(salesforceFactory.secretFields).toEqual(['clientSecret', 'password', 'securityToken', 'defaultPassword']);
    const mod = (await import('./index.js')) as { default: unknown };
    expect(mod.default).toBe(salesforceFactory);
  });
});

describe('users', () => {
  it('creates a user with the fields Salesforce requires, and its password', async () => {
    const c = connector();
    const { remoteId } = await c.createUser({ ...user('alice'), password: 'Secret-123' });
    expect(remoteId).toMatch(/^005[a-zA-Z0-9]{15}$/);
    expect(fake.users.get(remoteId)).toMatchObject({
      Username: 'alice@acme.example',
      FirstName: 'Alice',
      LastName: 'Liddell',
      Email: 'alice@mail.example',
      Alias: 'ALiddell',
      IsActive: true,
      ProfileId: PROFILE_ID,
      TimeZoneSidKey: 'America/Los_Angeles',
      LocaleSidKey: 'en_US',
      EmailEncodingKey: 'UTF-8',
      LanguageLocaleKey: 'en_US',
    });
    expect(fake.passwords.get(remoteId)).toBe('Secret-123');
    // The password grant sent password + security token.
    const login = fake.requests.find((r) => r.path === '/services/oauth2/token')!;
    expect(new URLSearchParams(login.body).get('password')).toBe('Passw0rd!TOKEN123');
    expect(fake.requests.some((r) => r.path === '/services/data/v60.0/sobjects/User' && r.method === 'POST')).toBe(true);
  });

  it('keeps user names that already look like email addresses, and clips Alias to 8 characters', async () => {
    const { remoteId } = await connector().createUser(user('bartholomew.longname@other.example', { name: { familyName: 'Longfamilyname' } }));
    expect(fake.users.get(remoteId)).toMatchObject({ Username: 'bartholomew.longname@other.example', Alias: 'Longfami', LastName: 'Longfamilyname' });
  });

  it('updates names, email and active without touching the profile', async () => {
    const c = connector();
    const { remoteId } = await c.createUser(user('carol'));
    fake.users.get(remoteId)!.ProfileId = '00e5g000009ZzZzAAK'; // changed by a Salesforce admin
    await c.updateUser(remoteId, user('carol', { name: { givenName: 'Caroline', familyName: 'Smith' }, emails: [{ value: 'carol@new.example' }], active: false }));
    expect(fake.users.get(remoteId)).toMatchObject({ FirstName: 'Caroline', LastName: 'Smith', Email: 'carol@new.example', IsActive: false, ProfileId: '00e5g000009ZzZzAAK' });
    const patch = fake.requests.filter((r) => r.method === 'PATCH').at(-1)!;
    expect(patch.path).toBe(`/services/data/v60.0/sobjects/User/${remoteId}`);
    expect(Object.keys(JSON.parse(patch.body) as object)).not.toContain('ProfileId');
  });

  it('writes attribute-mapping values over the derived fields (settings.attributeMapping)', async () => {
    const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
    const attributeMapping = [
      { target: 'Department', source: `${ENT}:department`, default: 'Unassigned' },
      { target: 'Alias', expression: '$substring($lowercase(name.givenName), 0, 1) & $substring($lowercase(name.familyName), 0, 7)' },
      { target: 'Username', expression: '$lowercase(name.givenName) & "." & $lowercase(name.familyName) & "@sf.acme.example"' },
      { target: 'ProfileId', expression: `$enterprise.division = "Support" ? "00e5g000002SuPpAAK" : "${PROFILE_ID}"`, when: 'create' },
      { target: 'FederationIdentifier', source: 'externalId' },
      // No value, and Salesforce requires an email: the derived one stays.
      { target: 'Email', source: 'emails[type eq "other"].value' },
    ];
    expect(salesforceFactory.validate({ type: 'salesforce', settings: settings({ attributeMapping }), secrets: secrets() })).toEqual([]);
    const c = connector({ attributeMapping });
    const frank = user('frank', { name: { givenName: 'Frank', familyName: 'Underwood' }, externalId: 'E-1', enterprise: { department: 'Politics', division: 'Support' } });
    const { remoteId } = await c.createUser(await mapOutboundUser(frank, attributeMapping, { operation: 'create' }));
    const created = fake.users.get(remoteId)!;
    expect(created).toMatchObject({
      Username: 'frank.underwood@sf.acme.example',
      Alias: 'funderwo',
      Department: 'Politics',
      ProfileId: '00e5g000002SuPpAAK',
      FederationIdentifier: 'E-1',
      Email: 'frank@mail.example',
    });

    // Update: the create-only ProfileId is not sent; a department that is gone takes the rule's default.
    await c.updateUser(remoteId, await mapOutboundUser({ ...frank, enterprise: undefined }, attributeMapping, { operation: 'update' }));
    const patch = JSON.parse(fake.requests.filter((r) => r.method === 'PATCH').at(-1)!.body) as Record<string, unknown>;
    expect(patch).not.toHaveProperty('ProfileId');
    expect(fake.users.get(remoteId)).toMatchObject({ Department: 'Unassigned', ProfileId: '00e5g000002SuPpAAK' });

    // Linking after DUPLICATE_USERNAME finds the user under the mapped Username.
    const again = connector({ attributeMapping });
    await expect(again.createUser(await mapOutboundUser(frank, attributeMapping, { operation: 'create' }))).rejects.toBeInstanceOf(ConnectorAlreadyExists);
    expect(await again.findUserByUserName('frank')).toEqual({ remoteId });

    // Targets are User field names.
    expect(
      salesforceFactory.validate({ type: 'salesforce', settings: settings({ attributeMapping: [{ target: 'Manager.Email', source: 'userName' }, { target: 'Id', source: 'id' }] }), secrets: secrets() }),
    ).toEqual([
      "attributeMapping[0] (target 'Manager.Email'): is not a User field name such as Department or Badge__c",
      "attributeMapping[1] (target 'Id'): the record id cannot be written",
    ]);
    await expect(c.createUser({ ...user('gina'), mapped: [{ target: 'Title', value: { a: 1 } }] })).rejects.toThrow(
      "The value mapped to 'Title' is an object; this target takes a string, number or boolean",
    );
  });

  it('deprovisions by deactivating; a user already gone is not an error', async () => {
    const c = connector();
    const { remoteId } = await c.createUser(user('dave'));
    await c.deleteUser(remoteId, user('dave'));
    expect(fake.users.get(remoteId)).toMatchObject({ Username: 'dave@acme.example', IsActive: false });
    expect(fake.requests.some((r) => r.method === 'DELETE')).toBe(false);
    await expect(c.deleteUser('005000000000000AAA', user('nobody'))).resolves.toBeUndefined();
    await expect(c.deleteUser('../../query', user('nobody'))).resolves.toBeUndefined();
  });

  it('finds a user by userName', async () => {
    const c = connector();
    const { remoteId } = await c.createUser(user('erin'));
    expect(await c.findUserByUserName('erin')).toEqual({ remoteId });
    expect(await c.findUserByUserName('ERIN')).toEqual({ remoteId }); // Salesforce compares case-insensitively
    expect(await c.findUserByUserName('nobody')).toBeUndefined();
  });

  it('keeps quotes and backslashes in a userName inside the SOQL literal (no injection)', async () => {
    const c = connector();
    const { remoteId } = await c.createUser(user("o'brien"));
    expect(await c.findUserByUserName("o'brien")).toEqual({ remoteId });
    // Each of these would match every user if it escaped the literal; jsforce's builder escapes only the quote.
    for (const attack of ["x' OR Username != '", "x\\' OR Username != \\'", "x\\\\' OR Username LIKE '%", "x'--"]) {
      expect(await c.findUserByUserName(attack)).toBeUndefined();
    }
    const soql = fake.requests.filter((r) => r.path.endsWith('/query')).map((r) => new URLSearchParams(r.query).get('q'));
    expect(soql).toContain("SELECT Id FROM User WHERE Username = 'x\\\\\\' OR Username != \\\\\\'@acme.example' LIMIT 1");
    expect(soqlString("a\\'b\n")).toBe("'a\\\\\\'b\\n'");
  });

  it('lists the users of the configured domain, page by page (queryMore)', async () => {
    const f = await startFakeSalesforce({ pageSize: 2 });
    try {
      for (const n of ['u1', 'u2', 'u3', 'u4', 'u5']) f.seed({ Username: `${n}@acme.example`, IsActive: n !== 'u3' });
      f.seed({ Username: 'someone@elsewhere.example' });
      f.seed({ Username: 'acme.example@elsewhereXacme.example' }); // '.' and '_' are literal in the LIKE pattern
      const c = salesforceFactory.create({ type: 'salesforce', settings: { ...settings(), loginUrl: f.baseUrl }, secrets: secrets() });
      const seen: RemoteUser[] = [];
      for await (const u of c.listUsers!()) seen.push(u);
      expect(seen.map((u) => u.userName).sort()).toEqual(['u1', 'u2', 'u3', 'u4', 'u5']);
      expect(seen.find((u) => u.userName === 'u3')).toMatchObject({ active: false, raw: { Username: 'u3@acme.example' } });
      expect(seen.every((u) => /^005/.test(u.remoteId))).toBe(true);
      const pages = f.requests.filter((r) => r.path.includes('/query'));
      expect(pages.map((r) => r.path.replace(/\/query\/.*$/, '/query/<locator>'))).toEqual([
        '/services/data/v60.0/query',
        '/services/data/v60.0/query/<locator>',
        '/services/data/v60.0/query/<locator>',
      ]);
    } finally {
      await f.stop();
    }
  });

  it('logs in with client credentials when so configured', async () => {
    const c = connector({ grantType: 'client_credentials', username: undefined, domain: 'cc.example' }, { password: '' });
    const { remoteId } = await c.createUser(user('frank'));
    expect(fake.users.get(remoteId)?.Username).toBe('frank@cc.example');
    expect(fake.requests.some((r) => r.path === '/services/oauth2/token' && new URLSearchParams(r.body).get('grant_type') === 'client_credentials')).toBe(true);
  });
});

describe('sessions', () => {
  it('logs in once for many calls, and again once when the session expired', async () => {
    const c = connector({ domain: 'sessions.example' });
    const before = fake.loginCount;
    const { remoteId } = await c.createUser(user('gina'));
    await c.updateUser(remoteId, user('gina', { title: 'Engineer' }));
    await connector({ domain: 'sessions.example' }).findUserByUserName('gina'); // another connector, same login
    const afterFirst = fake.loginCount;
    expect(afterFirst - before).toBeLessThanOrEqual(1);

    fake.expireSessions();
    await c.updateUser(remoteId, user('gina', { title: 'Manager' }));
    expect(fake.users.get(remoteId)?.Title).toBe('Manager');
    expect(fake.loginCount).toBe(afterFirst + 1);
    const last = fake.requests.slice(-3).map((r) => `${r.method} ${r.path}`);
    expect(last).toEqual([`PATCH /services/data/v60.0/sobjects/User/${remoteId}`, 'POST /services/oauth2/token', `PATCH /services/data/v60.0/sobjects/User/${remoteId}`]);
  });

  it('re-authenticates only once: a session refused again is misconfigured', async () => {
    const c = connector();
    const { remoteId } = await c.createUser(user('hank'));
    const body = [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }];
    fake.inject({ method: 'PATCH', path: /\/sobjects\/User\//, status: 401, body, times: 2 });
    const logins = fake.loginCount;
    const err = await failure(c.updateUser(remoteId, user('hank')));
    expect(err).toBeInstanceOf(ConnectorMisconfigured);
    expect(err.message).toMatch(/INVALID_SESSION_ID/);
    expect(fake.loginCount).toBe(logins + 1);
  });
});

describe('error mapping', () => {
  it('DUPLICATE_USERNAME and DUPLICATE_VALUE -> ConnectorAlreadyExists', async () => {
    const c = connector();
    await c.createUser(user('ivy'));
    const err = await failure(c.createUser(user('ivy')));
    expect(err).toBeInstanceOf(ConnectorAlreadyExists);
    expect(err.message).toMatch(/DUPLICATE_USERNAME/);
    fake.inject({ method: 'POST', path: /\/sobjects\/User$/, status: 400, body: [{ message: 'duplicate value found: FederationIdentifier', errorCode: 'DUPLICATE_VALUE', fields: [] }] });
    expect(await failure(c.createUser(user('ivy2')))).toBeInstanceOf(ConnectorAlreadyExists);
  });

  it('NOT_FOUND and ENTITY_IS_DELETED -> ConnectorNotFound', async () => {
    const c = connector();
    expect(await failure(c.updateUser('005000000000000AAA', user('jack')))).toBeInstanceOf(ConnectorNotFound);
    const { remoteId } = await c.createUser(user('jack'));
    fake.inject({ method: 'PATCH', status: 404, body: [{ message: 'entity is deleted', errorCode: 'ENTITY_IS_DELETED', fields: [] }] });
    expect(await failure(c.updateUser(remoteId, user('jack')))).toBeInstanceOf(ConnectorNotFound);
  });

  it('REQUIRED_FIELD_MISSING, INVALID_FIELD, FIELD_CUSTOM_VALIDATION_EXCEPTION and other 4xx -> ConnectorRejected', async () => {
    const c = connector();
    const missing = await failure(c.createUser(user('kate', { emails: [] })));
    expect(missing).toBeInstanceOf(ConnectorRejected);
    expect(missing.status).toBe(400);
    expect(missing.message).toMatch(/REQUIRED_FIELD_MISSING: Required fields are missing: \[Email\] \[Email\]/);
    for (const errorCode of ['INVALID_FIELD', 'FIELD_CUSTOM_VALIDATION_EXCEPTION', 'INSUFFICIENT_ACCESS_OR_READONLY']) {
      fake.inject({ method: 'POST', path: /\/sobjects\/User$/, status: errorCode === 'INSUFFICIENT_ACCESS_OR_READONLY' ? 403 : 400, body: [{ message: 'no', errorCode, fields: [] }] });
      const err = await failure(c.createUser(user(`kate-${errorCode.toLowerCase()}`)));
      expect(err).toBeInstanceOf(ConnectorRejected);
      expect(err.message).toContain(errorCode);
    }
    // A user name that is no email address and no domain to make it one: refused before any call.
    expect(await failure(connector({ domain: undefined }).createUser(user('plain')))).toBeInstanceOf(ConnectorRejected);
  });

  it('REQUEST_LIMIT_EXCEEDED, SERVER_UNAVAILABLE, 5xx with Retry-After and network errors -> ConnectorTransient', async () => {
    const c = connector();
    await c.findUserByUserName('warm-up'); // logged in
    fake.inject({ status: 403, body: [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }] });
    const limit = await failure(c.createUser(user('leo')));
    expect(limit).toBeInstanceOf(ConnectorTransient);
    expect(limit.status).toBe(403);

    fake.inject({ status: 503, body: [{ message: 'Server unavailable', errorCode: 'SERVER_UNAVAILABLE' }], headers: { 'Retry-After': '7' } });
    const unavailable = (await failure(c.createUser(user('leo')))) as ConnectorTransient;
    expect(unavailable).toBeInstanceOf(ConnectorTransient);
    expect(unavailable.retryAfterMs).toBe(7000);
    expect(unavailable.status).toBe(503);

    fake.inject({ method: 'GET', status: 502, body: '<html>Bad Gateway</html>', headers: { 'content-type': 'text/html' } });
    const before = fake.requests.length;
    expect(await failure(c.findUserByUserName('leo'))).toBeInstanceOf(ConnectorTransient);
    expect(fake.requests.length - before).toBe(1); // jsforce's own retries are off: Temporal retries

    fake.down();
    const network = await failure(c.createUser(user('leo')));
    expect(network).toBeInstanceOf(ConnectorTransient);
    expect(network.status).toBeUndefined();
    fake.up();
    await expect(c.createUser(user('leo'))).resolves.toMatchObject({ remoteId: expect.stringMatching(/^005/) });
    expect([...fake.users.values()].filter((u) => u.Username === 'leo@acme.example')).toHaveLength(1);
  });

  it('times out a call that does not answer -> ConnectorTransient', async () => {
    const hang = http.createServer(() => undefined); // accepts, never answers
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', () => r()));
    try {
      const c = connector({ loginUrl: `http://127.0.0.1:${(hang.address() as AddressInfo).port}`, timeoutMs: 300 });
      const started = Date.now();
      expect(await failure(c.findUserByUserName('x'))).toBeInstanceOf(ConnectorTransient);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      hang.closeAllConnections();
      hang.close();
    }
  });

  it('invalid_grant and invalid_client at login -> ConnectorMisconfigured; a token endpoint 503 -> ConnectorTransient', async () => {
    const wrongPassword = await failure(connector({ domain: 'pw.example' }, { password: 'wrong' }).createUser(user('mia')));
    expect(wrongPassword).toBeInstanceOf(ConnectorMisconfigured);
    expect(wrongPassword.message).toMatch(/invalid_grant: authentication failure/);
    const wrongSecret = await failure(connector({ domain: 'secret.example' }, { clientSecret: 'wrong' }).createUser(user('mia')));
    expect(wrongSecret).toBeInstanceOf(ConnectorMisconfigured);
    expect(wrongSecret.message).toMatch(/invalid_client/);
    const wrongClient = await failure(connector({ clientId: 'nope', domain: 'client.example' }).createUser(user('mia')));
    expect(wrongClient).toBeInstanceOf(ConnectorMisconfigured);

    fake.expireSessions(); // the cached session goes, the login meets the fault
    fake.inject({ path: /\/services\/oauth2\/token$/, status: 503, body: { error: 'temporarily_unavailable', error_description: 'try later' }, headers: { 'Retry-After': '2' } });
    const down = (await failure(connector({ domain: 'tokendown.example' }).createUser(user('mia')))) as ConnectorTransient;
    expect(down).toBeInstanceOf(ConnectorTransient);
    expect(down.retryAfterMs).toBe(2000);
    expect(fake.users.size).toBeGreaterThan(0);
    expect([...fake.users.values()].some((u) => u.Username.startsWith('mia@'))).toBe(false);
  });
});
