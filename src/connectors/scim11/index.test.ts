/**
 * The SCIM 1.1 connector against a local HTTP server that records each request and target.answers as told: the
 * bodies it sends (SCIM 1.1 form), the calls per operation, the ServiceProviderConfigs discovery that chooses
 * PATCH or PUT with the 1.1 PATCH bodies, and the error taxonomy of its one transport.
 */
import { startScriptedTarget, type ScriptedAnswer, type ScriptedTarget } from '../../../test/support/scripted-target.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { patchTo20 } from '../../http/scim11/patch.js';
import { applyGroupPatch, applyPatch } from '../../scim/patch.js';
import { groupResourceType, userResourceType } from '../../scim/schema-defs.js';
import { SCHEMA_ENTERPRISE_USER, SCHEMA_USER } from '../../scim/schemas.js';
import {
  ConnectorAlreadyExists,
  ConnectorMisconfigured,
  ConnectorNotFound,
  ConnectorRejected,
  ConnectorTransient,
} from '../errors.js';
import { clearTokenCache } from '../oauth-client.js';
import { clearDiscoveryCache, DISCOVERY_TTL_MS } from '../scim-discovery.js';
import type { OutboundUser } from '../types.js';
import scim11Default, { scim11Factory } from './index.js';
import { userPatchBody } from './patch-body.js';
import { resourceFrom11, SCIM11_CORE, SCIM11_ENTERPRISE } from '../../scim/scim11.js';

let target: ScriptedTarget;
let base: string;

beforeAll(async () => {
  target = await startScriptedTarget('application/json');
  base = target.base;
});
afterAll(async () => {
  await target.close();
});
beforeEach(() => {
  target.reset();
  // Tokens and discovery results are kept per worker process; each test starts without them.
  clearTokenCache();
  clearDiscoveryCache();
});
afterEach(() => {
  vi.restoreAllMocks();
});

function connector(settings: Record<string, unknown> = {}) {
  return scim11Factory.create({
    type: 'scim11',
    settings: { userEndpoint: `${base}/wso2/scim/Users`, groupEndpoint: `${base}/wso2/scim/Groups`, username: 'admin', ...settings },
    secrets: { password: 'secret' },
  });
}

const spc = (patch: boolean): ScriptedAnswer => ({ status: 200, body: { schemas: [SCIM11_CORE], patch: { supported: patch } } });
const calls = () => target.seen.map((s) => `${s.method} ${new URL(s.url, base).pathname}`);
/** Moves Date.now() forward by `ms` (cache expiry), leaving timers alone. */
function advanceClock(ms: number): void {
  const now = Date.now();
  vi.spyOn(Date, 'now').mockReturnValue(now + ms);
}

const user: OutboundUser = {
  id: 'local-1',
  domain: 'PRIMARY',
  userName: 'rashmini',
  active: true,
  name: { givenName: 'Rashmini', familyName: 'N' },
  emails: [{ value: 'rash@gmail.com', type: 'home', primary: true }],
  phoneNumbers: [],
  addresses: [],
  enterprise: { department: 'Sales', manager: { value: 'm1', displayName: 'Boss' } },
  groups: [{ value: 'g1', display: 'G', type: 'direct' }],
  version: 1,
  created: '2024-01-01T00:00:00.000Z',
  lastModified: '2024-01-01T00:00:00.000Z',
  password: 'abc123',
};

describe('scim11 factory', () => {
  it('is the default export, type scim11, with the secret fields of WSO2 settings and of the other authentication methods', () => {
    expect(scim11Default).toBe(scim11Factory);
    expect(scim11Factory.type).toBe('scim11');
    expect(scim11Factory.secretFields).toEqual(['password', 'clientSecret', 'bearerToken', 'defaultPassword']);
  });

  it('validates settings', () => {
    expect(scim11Factory.validate({ type: 'scim11', settings: { userEndpoint: `${base}/Users` }, secrets: {} })).toEqual([]);
    expect(scim11Factory.validate({ type: 'scim11', settings: { userEndpoint: 'ftp://x' }, secrets: {} })).toEqual(['userEndpoint: must be an http(s) URL']);
    expect(scim11Factory.validate({ type: 'scim11', settings: { userEndpoint: `${base}/Users`, username: 'a' }, secrets: {} })).toEqual([
      'password: required with username (basic authentication)',
    ]);
    expect(scim11Factory.validate({ type: 'scim11', settings: { userEndpoint: `${base}/Users`, deprovision: 'archive' }, secrets: {} })[0]).toMatch(/^deprovision:/);
    expect(() => scim11Factory.create({ type: 'scim11', settings: {}, secrets: {} })).toThrow(ConnectorMisconfigured);
  });
});

describe('scim11 authentication (the transport shared with SCIM 2.0)', () => {
  it('sends a static bearer token', async () => {
    const c = scim11Factory.create({ type: 'scim11', settings: { userEndpoint: `${base}/wso2/scim/Users` }, secrets: { bearerToken: 'static-token' } });
    await c.updateUser('r1', user);
    expect(target.seen[0]!.authorization).toBe('Bearer static-token');
  });

  it('gets an OAuth 2.0 client credentials token and sends it', async () => {
    target.answers.push({ status: 200, body: { access_token: 'tok-11', token_type: 'Bearer', expires_in: 3600 } });
    const c = scim11Factory.create({
      type: 'scim11',
      settings: { userEndpoint: `${base}/wso2/scim/Users`, tokenEndpoint: `${base}/oauth2/token`, clientId: 'c11' },
      secrets: { clientSecret: 's11' },
    });
    await c.updateUser('r1', user);
    // The ServiceProviderConfigs discovery (answered {}: no PATCH) and the PUT share the token.
    expect(target.seen.map((s) => `${s.method} ${s.url}`)).toEqual(['POST /oauth2/token', 'GET /wso2/scim/ServiceProviderConfigs', 'PUT /wso2/scim/Users/r1']);
    expect(target.seen[0]!.authorization).toBe(`Basic ${Buffer.from('c11:s11').toString('base64')}`);
    expect(target.seen.slice(1).map((s) => s.authorization)).toEqual(['Bearer tok-11', 'Bearer tok-11']);
  });

  it('refuses two authentication methods at once', () => {
    expect(
      scim11Factory.validate({ type: 'scim11', settings: { userEndpoint: `${base}/Users`, username: 'a' }, secrets: { password: 'p', bearerToken: 't' } }),
    ).toEqual(['authentication: configure one method only, not basic (username + password) and bearer token (bearerToken)']);
  });
});

describe('scim11 users', () => {
  it('creates with POST in SCIM 1.1 form, with basic auth, and returns the remote id', async () => {
    target.answers.push({ status: 201, body: { id: 'remote-1' } });
    await expect(connector().createUser(user)).resolves.toEqual({ remoteId: 'remote-1' });
    const [req] = target.seen;
    expect(req).toMatchObject({ method: 'POST', url: '/wso2/scim/Users', contentType: 'application/json' });
    expect(req!.authorization).toBe(`Basic ${Buffer.from('admin:secret').toString('base64')}`);
    expect(req!.body).toEqual({
      schemas: [SCIM11_CORE, SCIM11_ENTERPRISE],
      userName: 'rashmini',
      name: { givenName: 'Rashmini', familyName: 'N' },
      active: true,
      emails: [{ value: 'rash@gmail.com', type: 'home', primary: true }],
      [SCIM11_ENTERPRISE]: { department: 'Sales', manager: { managerId: 'm1', displayName: 'Boss' } },
      password: 'abc123',
    });
  });

  it('qualifies user names with a secondary user store domain', async () => {
    target.answers.push({ status: 201, body: { id: 'r' } }, { status: 200, body: { totalResults: 0, Resources: [] } });
    const c = connector({ userStoreDomain: 'secondary' });
    await c.createUser({ ...user, password: undefined });
    await c.findUserByUserName('rashmini');
    expect((target.seen[0]!.body as { userName: string; password?: string }).userName).toBe('SECONDARY/rashmini');
    expect(target.seen[0]!.body).not.toHaveProperty('password');
    expect(new URL(target.seen[1]!.url, base).searchParams.get('filter')).toBe('userName eq "SECONDARY/rashmini"');
  });

  it('a create answered without an id is rejected', async () => {
    target.answers.push({ status: 201, body: {} });
    await expect(connector().createUser(user)).rejects.toBeInstanceOf(ConnectorRejected);
  });

  it('updates with PUT on the remote id (updateMethod put)', async () => {
    await connector({ updateMethod: 'put' }).updateUser('remote/1', user);
    expect(target.seen[0]).toMatchObject({ method: 'PUT', url: '/wso2/scim/Users/remote%2F1' });
    expect((target.seen[0]!.body as { userName: string }).userName).toBe('rashmini');
  });

  it('deletes with DELETE; a user already gone is not an error', async () => {
    target.answers.push({ status: 200 }, { status: 404, body: { Errors: [{ description: 'User not found', code: '404' }] } });
    await connector().deleteUser('r1', user);
    await connector().deleteUser('r2', user);
    expect(target.seen.map((s) => `${s.method} ${s.url}`)).toEqual(['DELETE /wso2/scim/Users/r1', 'DELETE /wso2/scim/Users/r2']);
  });

  it('deprovision: deactivate puts the user back with active false and no password (updateMethod put)', async () => {
    await connector({ deprovision: 'deactivate', updateMethod: 'put' }).deleteUser('r1', user);
    expect(target.seen[0]).toMatchObject({ method: 'PUT', url: '/wso2/scim/Users/r1' });
    expect(target.seen[0]!.body).toMatchObject({ userName: 'rashmini', active: false });
    expect(target.seen[0]!.body).not.toHaveProperty('password');
  });

  it('finds by userName filter', async () => {
    target.answers.push({ status: 200, body: { schemas: [SCIM11_CORE], totalResults: 1, Resources: [{ id: 'r9', userName: 'rashmini' }] } });
    target.answers.push({ status: 200, body: { schemas: [SCIM11_CORE], totalResults: 0, Resources: [] } });
    await expect(connector().findUserByUserName('rashmini')).resolves.toEqual({ remoteId: 'r9' });
    await expect(connector().findUserByUserName('nobody')).resolves.toBeUndefined();
    expect(target.seen[0]!.url).toBe(`/wso2/scim/Users?filter=${encodeURIComponent('userName eq "rashmini"').replace(/%20/g, '+')}`);
  });

  it('lists users page by page (startIndex/count) until totalResults', async () => {
    const page = (start: number, n: number) => Array.from({ length: n }, (_, i) => ({ id: `r${start + i}`, userName: `u${start + i}`, active: true }));
    target.answers.push({ status: 200, body: { totalResults: 5, startIndex: 1, Resources: page(1, 2) } });
    target.answers.push({ status: 200, body: { totalResults: 5, startIndex: 3, Resources: page(3, 2) } });
    target.answers.push({ status: 200, body: { totalResults: 5, startIndex: 5, Resources: page(5, 1) } });
    const users = [];
    for await (const u of connector({ pageSize: 2 }).listUsers!()) users.push(u);
    expect(users.map((u) => u.remoteId)).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
    expect(users[0]).toMatchObject({ userName: 'u1', active: true, raw: { id: 'r1' } });
    expect(target.seen.map((s) => new URL(s.url, base).search)).toEqual(['?startIndex=1&count=2', '?startIndex=3&count=2', '?startIndex=5&count=2']);
  });

  it('stops listing on an empty page when totalResults is missing', async () => {
    target.answers.push({ status: 200, body: { Resources: [{ id: 'r1', userName: 'u1' }] } }, { status: 200, body: { Resources: [] } });
    const users = [];
    for await (const u of connector().listUsers!()) users.push(u);
    expect(users).toHaveLength(1);
    expect(target.seen).toHaveLength(2);
  });
});

describe('scim11 groups', () => {
  const group = {
    id: 'lg',
    displayName: 'Tour Guides',
    members: [
      { remoteId: 'r1', type: 'User' as const, localId: 'l1' },
      { remoteId: 'r2', type: 'User' as const, localId: 'l2' },
    ],
  };

  it('creates, updates, finds and deletes over the group endpoint, members as remote ids', async () => {
    const c = connector({ updateMethod: 'put' });
    target.answers.push({ status: 201, body: { id: 'rg' } });
    await expect(c.createGroup!(group)).resolves.toEqual({ remoteId: 'rg' });
    await c.updateGroup!('rg', { ...group, members: [] });
    target.answers.push({ status: 200, body: { totalResults: 1, Resources: [{ id: 'rg', displayName: 'Tour Guides' }] } });
    await expect(c.findGroupByDisplayName!('Tour Guides')).resolves.toEqual({ remoteId: 'rg' });
    target.answers.push({ status: 200 }, { status: 404 });
    await c.deleteGroup!('rg', group);
    await c.deleteGroup!('rg', group);
    expect(target.seen.map((s) => `${s.method} ${new URL(s.url, base).pathname}`)).toEqual([
      'POST /wso2/scim/Groups',
      'PUT /wso2/scim/Groups/rg',
      'GET /wso2/scim/Groups',
      'DELETE /wso2/scim/Groups/rg',
      'DELETE /wso2/scim/Groups/rg',
    ]);
    expect(target.seen[0]!.body).toEqual({ schemas: [SCIM11_CORE], displayName: 'Tour Guides', members: [{ value: 'r1' }, { value: 'r2' }] });
    expect(target.seen[1]!.body).toEqual({ schemas: [SCIM11_CORE], displayName: 'Tour Guides', members: [] });
    expect(new URL(target.seen[2]!.url, base).searchParams.get('filter')).toBe('displayName eq "Tour Guides"');
  });

  it('without a group endpoint, group operations are a configuration error', async () => {
    const c = scim11Factory.create({ type: 'scim11', settings: { userEndpoint: `${base}/wso2/scim/Users` }, secrets: {} });
    await expect(c.createGroup!(group)).rejects.toBeInstanceOf(ConnectorMisconfigured);
    expect(target.seen).toHaveLength(0);
  });
});

describe('scim11 error taxonomy', () => {
  const error11 = (code: number, description: string) => ({ Errors: [{ description, code: String(code) }] });

  it.each([
    [404, ConnectorNotFound],
    [409, ConnectorAlreadyExists],
    [408, ConnectorTransient],
    [429, ConnectorTransient],
    [500, ConnectorTransient],
    [503, ConnectorTransient],
    [401, ConnectorMisconfigured],
    [403, ConnectorMisconfigured],
    [400, ConnectorRejected],
    [422, ConnectorRejected],
  ])('%i -> %o', async (status, type) => {
    target.answers.push({ status, body: error11(status, 'told by the target') });
    const err = await connector({ updateMethod: 'put' }).updateUser('r1', user).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(type);
    expect((err as Error).message).toContain('PUT /wso2/scim/Users/r1 -> ');
    expect((err as Error).message).toContain('told by the target'); // the 1.1 description is kept
    expect((err as { status?: number }).status).toBe(status);
  });

  it('429 and 503 carry Retry-After', async () => {
    target.answers.push({ status: 429, body: error11(429, 'slow down'), headers: { 'retry-after': '7' } });
    const err = (await connector().createUser(user).catch((e: unknown) => e)) as ConnectorTransient;
    expect(err).toBeInstanceOf(ConnectorTransient);
    expect(err.retryAfterMs).toBe(7000);
  });

  it('a network failure is transient', async () => {
    const c = scim11Factory.create({ type: 'scim11', settings: { userEndpoint: 'http://127.0.0.1:1/wso2/scim/Users' }, secrets: {} });
    await expect(c.createUser(user)).rejects.toBeInstanceOf(ConnectorTransient);
  });

  it('a 409 on create lets the caller link: ConnectorAlreadyExists', async () => {
    target.answers.push({ status: 409, body: error11(409, 'User rashmini already exists') });
    await expect(connector().createUser(user)).rejects.toThrow(/409: User rashmini already exists/);
  });
});

describe('scim11 PATCH or PUT (ServiceProviderConfigs discovery)', () => {
  const group = { id: 'lg', displayName: 'Tour Guides', members: [{ remoteId: 'r1', type: 'User' as const, localId: 'l1' }] };

  it('auto + patch supported: GET <base>/ServiceProviderConfigs, then a full-state 1.1 PATCH; the decision is kept', async () => {
    target.answers.push(spc(true));
    await connector().updateUser('r1', { ...user, title: 'Guide', phoneNumbers: [{ value: '+94 11', type: 'work' }] });
    expect(calls()).toEqual(['GET /wso2/scim/ServiceProviderConfigs', 'PATCH /wso2/scim/Users/r1']);
    expect(target.seen[1]!.contentType).toBe('application/json');
    expect(target.seen[1]!.body).toEqual({
      schemas: [SCIM11_CORE, SCIM11_ENTERPRISE],
      // Set: every attribute the user has (the manager by its id only: displayName is readOnly), the password.
      userName: 'rashmini',
      name: { givenName: 'Rashmini', familyName: 'N' },
      title: 'Guide',
      active: true,
      emails: [{ value: 'rash@gmail.com', type: 'home', primary: true }],
      phoneNumbers: [{ value: '+94 11', type: 'work' }],
      [SCIM11_ENTERPRISE]: { department: 'Sales', manager: { managerId: 'm1' } },
      password: 'abc123',
      meta: {
        attributes: [
          // Removed: what the user lacks...
          'externalId',
          'displayName',
          'nickName',
          'profileUrl',
          'userType',
          'preferredLanguage',
          'locale',
          'timezone',
          'name.formatted',
          'name.middleName',
          'name.honorificPrefix',
          'name.honorificSuffix',
          'ims',
          'photos',
          'addresses',
          'entitlements',
          'roles',
          'x509Certificates',
          // ...and the multi-valued attributes it has, sent again: replaced, not merged.
          'emails',
          'phoneNumbers',
          `${SCIM11_ENTERPRISE}:employeeNumber`,
          `${SCIM11_ENTERPRISE}:costCenter`,
          `${SCIM11_ENTERPRISE}:organization`,
          `${SCIM11_ENTERPRISE}:division`,
        ],
      },
    });
    expect(target.seen[1]!.body).not.toHaveProperty('groups'); // readOnly: never sent

    // The next delivery (a new connector instance) does not ask again.
    await connector().updateUser('r2', user);
    expect(calls().slice(2)).toEqual(['PATCH /wso2/scim/Users/r2']);
  });

  it('without name, enterprise extension or password: name and every enterprise attribute removed, the password never', async () => {
    target.answers.push(spc(true));
    await connector().updateUser('r1', { ...user, name: undefined, enterprise: undefined, emails: [], password: undefined });
    const body = target.seen[1]!.body as { meta: { attributes: string[] } };
    expect(body).not.toHaveProperty('password');
    expect(body).not.toHaveProperty('emails');
    expect(body).not.toHaveProperty(SCIM11_ENTERPRISE);
    expect(body.meta.attributes).toEqual(expect.arrayContaining(['name', 'emails', `${SCIM11_ENTERPRISE}:department`, `${SCIM11_ENTERPRISE}:manager`]));
    expect(body.meta.attributes).not.toContain('password');
    expect(body.meta.attributes).not.toContain('userName');
  });

  it('a PATCH leaves the target as the PUT would (this server SCIM 1.1 PATCH implementation as the target)', async () => {
    // What the target had before: attributes the user since lost, and others it changed.
    const before = {
      schemas: [SCHEMA_USER, SCHEMA_ENTERPRISE_USER],
      id: 'r1',
      userName: 'old-name',
      externalId: 'ext-1',
      name: { givenName: 'Old', familyName: 'N', middleName: 'Mid', honorificPrefix: 'Dr' },
      nickName: 'Nick',
      title: 'Old title',
      active: false,
      emails: [{ value: 'old@example.org', primary: true }, { value: 'rash@gmail.com', type: 'work' }],
      addresses: [{ locality: 'Colombo' }],
      [SCHEMA_ENTERPRISE_USER]: { department: 'Old', costCenter: '42', manager: { value: 'm0' } },
    };
    await connector({ updateMethod: 'put' }).updateUser('r1', { ...user, password: undefined });
    await connector({ updateMethod: 'patch' }).updateUser('r1', { ...user, password: undefined });
    expect(calls()).toEqual(['PUT /wso2/scim/Users/r1', 'PATCH /wso2/scim/Users/r1']);
    const put = target.seen[0]!.body as Record<string, unknown>;
    expect(target.seen[1]!.body).toEqual(userPatchBody(put));
    const { resource } = applyPatch(before, patchTo20(target.seen[1]!.body, 'User'), userResourceType());
    expect({ ...resource, schemas: undefined, id: undefined }).toEqual({
      ...(resourceFrom11(put, 'User') as Record<string, unknown>),
      schemas: undefined,
      id: undefined,
      [SCHEMA_ENTERPRISE_USER]: { department: 'Sales', manager: { value: 'm1' } }, // manager.displayName is readOnly
    });
  });

  it('auto + patch not supported: PUT, and the ServiceProviderConfigs is not asked again', async () => {
    target.answers.push(spc(false));
    await connector().updateUser('r1', user);
    await connector().updateUser('r2', user);
    expect(calls()).toEqual(['GET /wso2/scim/ServiceProviderConfigs', 'PUT /wso2/scim/Users/r1', 'PUT /wso2/scim/Users/r2']);
    expect(target.seen[1]!.body).toMatchObject({ schemas: [SCIM11_CORE, SCIM11_ENTERPRISE], userName: 'rashmini', password: 'abc123' });
    expect(target.seen[1]!.body).not.toHaveProperty('meta');
  });

  it('a failed discovery (404) falls back to PUT, and is tried again after the TTL', async () => {
    target.answers.push({ status: 404, body: { Errors: [{ description: 'no such endpoint', code: '404' }] } });
    await connector().updateUser('r1', user);
    expect(calls()).toEqual(['GET /wso2/scim/ServiceProviderConfigs', 'PUT /wso2/scim/Users/r1']);
    advanceClock(DISCOVERY_TTL_MS + 1000);
    target.answers.push(spc(true));
    await connector().updateUser('r2', user);
    expect(calls().slice(2)).toEqual(['GET /wso2/scim/ServiceProviderConfigs', 'PATCH /wso2/scim/Users/r2']);
  });

  it('a PATCH answered 501 is sent again as PUT, and PUT is remembered (405 alike)', async () => {
    target.answers.push(spc(true), { status: 501, body: { Errors: [{ description: 'PATCH not implemented', code: '501' }] } });
    await connector().updateUser('r1', user);
    await connector().updateUser('r2', user);
    expect(calls()).toEqual(['GET /wso2/scim/ServiceProviderConfigs', 'PATCH /wso2/scim/Users/r1', 'PUT /wso2/scim/Users/r1', 'PUT /wso2/scim/Users/r2']);
    expect(target.seen[2]!.body).toMatchObject({ userName: 'rashmini', password: 'abc123' });

    target.reset();
    clearDiscoveryCache();
    target.answers.push({ status: 405 });
    await connector({ updateMethod: 'patch' }).updateUser('r3', user);
    await connector({ updateMethod: 'patch' }).updateUser('r4', user);
    expect(calls()).toEqual(['PATCH /wso2/scim/Users/r3', 'PUT /wso2/scim/Users/r3', 'PUT /wso2/scim/Users/r4']);
  });

  it('other PATCH failures stand: no PUT', async () => {
    target.answers.push(spc(true), { status: 400, body: { Errors: [{ description: 'bad email', code: '400' }] } });
    await expect(connector().updateUser('r1', user)).rejects.toThrow(/PATCH \/wso2\/scim\/Users\/r1 -> 400: bad email/);
    expect(calls()).toEqual(['GET /wso2/scim/ServiceProviderConfigs', 'PATCH /wso2/scim/Users/r1']);
  });

  it('updateMethod put: PUT without discovery; patch: PATCH without discovery', async () => {
    await connector({ updateMethod: 'put' }).updateUser('r1', user);
    await connector({ updateMethod: 'patch' }).updateUser('r2', user);
    expect(calls()).toEqual(['PUT /wso2/scim/Users/r1', 'PATCH /wso2/scim/Users/r2']);
  });

  it('serviceProviderConfigEndpoint overrides where the configuration is read', async () => {
    target.answers.push(spc(true));
    await connector({ serviceProviderConfigEndpoint: `${base}/elsewhere/ServiceProviderConfigs` }).updateUser('r1', user);
    expect(calls()).toEqual(['GET /elsewhere/ServiceProviderConfigs', 'PATCH /wso2/scim/Users/r1']);
    expect(scim11Factory.validate({ type: 'scim11', settings: { userEndpoint: `${base}/Users`, updateMethod: 'merge' }, secrets: {} })[0]).toMatch(/^updateMethod:/);
  });

  it('a refused credential on discovery is a configuration error, not a PUT', async () => {
    target.answers.push({ status: 401, body: { Errors: [{ description: 'Authentication required', code: '401' }] } });
    await expect(connector().updateUser('r1', user)).rejects.toBeInstanceOf(ConnectorMisconfigured);
    expect(calls()).toEqual(['GET /wso2/scim/ServiceProviderConfigs']);
  });

  it('groups: PATCH with members listed in meta.attributes and sent in full; externalId set or removed', async () => {
    target.answers.push(spc(true));
    const c = connector();
    await c.updateGroup!('rg', group);
    await c.updateGroup!('rg', { ...group, externalId: 'ext-g', members: [] });
    expect(calls()).toEqual(['GET /wso2/scim/ServiceProviderConfigs', 'PATCH /wso2/scim/Groups/rg', 'PATCH /wso2/scim/Groups/rg']);
    expect(target.seen[1]!.body).toEqual({
      schemas: [SCIM11_CORE],
      displayName: 'Tour Guides',
      members: [{ value: 'r1' }],
      meta: { attributes: ['externalId', 'members'] },
    });
    expect(target.seen[2]!.body).toEqual({ schemas: [SCIM11_CORE], displayName: 'Tour Guides', externalId: 'ext-g', members: [], meta: { attributes: ['members'] } });
    // As this server applies it: every current member goes first, then the full list is added.
    const { members } = applyGroupPatch({ schemas: [], id: 'rg', displayName: 'Old' }, patchTo20(target.seen[1]!.body, 'Group'), groupResourceType());
    expect(members).toMatchObject({ removeAll: true, add: [{ value: 'r1' }], remove: [] });
  });

  it('groups: PUT when the target has no PATCH', async () => {
    target.answers.push(spc(false));
    await connector().updateGroup!('rg', group);
    expect(calls()).toEqual(['GET /wso2/scim/ServiceProviderConfigs', 'PUT /wso2/scim/Groups/rg']);
    expect(target.seen[1]!.body).toEqual({ schemas: [SCIM11_CORE], displayName: 'Tour Guides', members: [{ value: 'r1' }] });
  });

  it('deprovision: deactivate is a PATCH of active false alone when the target takes PATCH', async () => {
    target.answers.push(spc(true));
    await connector({ deprovision: 'deactivate' }).deleteUser('r1', user);
    expect(calls()).toEqual(['GET /wso2/scim/ServiceProviderConfigs', 'PATCH /wso2/scim/Users/r1']);
    expect(target.seen[1]!.body).toEqual({ schemas: [SCIM11_CORE], active: false });
  });

  it('deprovision: deactivate of a user already gone (404 on the PATCH) is not an error', async () => {
    target.answers.push(spc(true), { status: 404, body: { Errors: [{ description: 'User not found', code: '404' }] } });
    await connector({ deprovision: 'deactivate' }).deleteUser('r1', user);
    expect(calls()).toEqual(['GET /wso2/scim/ServiceProviderConfigs', 'PATCH /wso2/scim/Users/r1']);
  });
});
