/**
 * The SCIM 2.0 connector against a local HTTP server that records each request and target.answers as told: its
 * authentication to the target (basic, OAuth 2.0 client credentials with a cached token renewed on 401, a static
 * bearer token), the ServiceProviderConfig discovery that chooses PATCH or PUT, the PATCH bodies (a full-state
 * replace that leaves the target as a PUT would), the fallbacks to PUT, and deprovisioning by delete or deactivate.
 */
import { startScriptedTarget, type ScriptedAnswer, type ScriptedTarget } from '../../../test/support/scripted-target.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { applyGroupPatch, applyPatch } from '../../scim/patch.js';
import { groupResourceType, userResourceType } from '../../scim/schema-defs.js';
import { SCHEMA_ENTERPRISE_USER, SCHEMA_PATCH_OP, SCHEMA_USER } from '../../scim/schemas.js';
import { ConnectorMisconfigured, ConnectorNotFound, ConnectorRejected, ConnectorTransient } from '../errors.js';
import { clearTokenCache } from '../oauth-client.js';
import type { OutboundConnector, OutboundUser } from '../types.js';
import { clearDiscoveryCache, DISCOVERY_TTL_MS, serviceProviderConfigUrl } from './discovery.js';
import { scim2Factory } from './index.js';
import { userPatchBody } from './patch-body.js';

let target: ScriptedTarget;
let base: string;

beforeAll(async () => {
  target = await startScriptedTarget('application/scim+json');
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

const BASIC = { username: 'admin' };
function connector(settings: Record<string, unknown> = {}, secrets: Record<string, string> = { password: 'secret' }): OutboundConnector {
  return scim2Factory.create({
    type: 'scim2',
    settings: { userEndpoint: `${base}/scim2/Users`, groupEndpoint: `${base}/scim2/Groups`, ...(secrets.password !== undefined && BASIC), ...settings },
    secrets,
  });
}
const OAUTH = () => ({ tokenEndpoint: `${base}/oauth2/token`, clientId: 'prov client', scope: 'internal_user_mgt_update internal_user_mgt_view' });
const OAUTH_SECRET = { clientSecret: 's3cr:et&+' };
const token = (accessToken: string, expiresIn: number | undefined = 3600): ScriptedAnswer => ({
  status: 200,
  body: { access_token: accessToken, token_type: 'Bearer', ...(expiresIn !== undefined && { expires_in: expiresIn }) },
});
const spc = (patch: boolean): ScriptedAnswer => ({ status: 200, body: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'], patch: { supported: patch } } });
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
  displayName: 'Rashmini N',
  title: 'Guide',
  emails: [{ value: 'rash@gmail.com', type: 'home', primary: true }],
  phoneNumbers: [{ value: '+94 11 123', type: 'work' }],
  addresses: [],
  enterprise: { department: 'Sales', manager: { value: 'm1', displayName: 'Boss' } },
  groups: [{ value: 'g1', display: 'G', type: 'direct' }],
  version: 2,
  created: '2024-01-01T00:00:00.000Z',
  lastModified: '2024-01-02T00:00:00.000Z',
  password: 'abc123-Secret',
};

describe('scim2 factory', () => {
  it('has the secret fields of every authentication method', () => {
    expect(scim2Factory.type).toBe('scim2');
    expect(scim2Factory.secretFields).toEqual(['password', 'clientSecret', 'bearerToken', 'defaultPassword']);
  });

  const issues = (settings: Record<string, unknown>, secrets: Record<string, string> = {}) =>
    scim2Factory.validate({ type: 'scim2', settings: { userEndpoint: `${base}/scim2/Users`, ...settings }, secrets });

  it('accepts each authentication method alone, and none', () => {
    expect(issues({})).toEqual([]);
    expect(issues({ username: 'admin' }, { password: 'pw' })).toEqual([]);
    expect(issues(OAUTH(), OAUTH_SECRET)).toEqual([]);
    expect(issues({ ...OAUTH(), tokenEndpointAuthMethod: 'client_secret_post' }, OAUTH_SECRET)).toEqual([]);
    expect(issues({}, { bearerToken: 't' })).toEqual([]);
  });

  it('refuses two methods at once, and incomplete ones, with messages naming the fields', () => {
    expect(issues({ username: 'admin', ...OAUTH() }, { password: 'pw', ...OAUTH_SECRET })).toEqual([
      'authentication: configure one method only, not basic (username + password) and OAuth 2.0 client credentials (tokenEndpoint + clientId + clientSecret)',
    ]);
    expect(issues({}, { ...OAUTH_SECRET, bearerToken: 't' })[0]).toMatch(/^authentication: configure one method only/);
    expect(issues({ username: 'admin' })).toEqual(['password: required with username (basic authentication)']);
    expect(issues({}, { password: 'pw' })).toEqual(['username: required with password (basic authentication)']);
    expect(issues({ tokenEndpoint: `${base}/oauth2/token` })).toEqual([
      'clientId: required for OAuth 2.0 client credentials',
      'clientSecret: required for OAuth 2.0 client credentials',
    ]);
    expect(issues({ scope: 'x' })).toEqual(['scope, tokenEndpointAuthMethod: only with OAuth 2.0 client credentials (tokenEndpoint + clientId + clientSecret)']);
    expect(issues({ ...OAUTH(), tokenEndpoint: 'ftp://x' }, OAUTH_SECRET)[0]).toBe('tokenEndpoint: must be an http(s) URL');
    expect(issues({ ...OAUTH(), tokenEndpointAuthMethod: 'private_key_jwt' }, OAUTH_SECRET)[0]).toMatch(/^tokenEndpointAuthMethod:/);
  });

  it('validates updateMethod and deprovision', () => {
    expect(issues({ updateMethod: 'merge' })[0]).toMatch(/^updateMethod:/);
    expect(issues({ deprovision: 'archive' })[0]).toMatch(/^deprovision:/);
    expect(issues({ serviceProviderConfigEndpoint: 'nope' })[0]).toBe('serviceProviderConfigEndpoint: must be an http(s) URL');
    expect(() => scim2Factory.create({ type: 'scim2', settings: { userEndpoint: `${base}/scim2/Users`, username: 'a' }, secrets: {} })).toThrow(ConnectorMisconfigured);
  });

  it('finds the ServiceProviderConfig beside the Users endpoint', () => {
    expect(serviceProviderConfigUrl('https://is2.example.com/scim2/Users')).toBe('https://is2.example.com/scim2/ServiceProviderConfig');
    expect(serviceProviderConfigUrl('https://is2.example.com/scim2/Users/?x=1')).toBe('https://is2.example.com/scim2/ServiceProviderConfig');
    expect(serviceProviderConfigUrl('https://h/v2/people')).toBe('https://h/v2/ServiceProviderConfig');
    expect(serviceProviderConfigUrl('https://h/v2/Users', 'https://h/spc')).toBe('https://h/spc');
  });
});

describe('scim2 authentication', () => {
  it('basic: the username and password on every call', async () => {
    await connector({ updateMethod: 'put' }).updateUser('r1', user);
    expect(target.seen[0]!.authorization).toBe(`Basic ${Buffer.from('admin:secret').toString('base64')}`);
  });

  it('a static bearer token', async () => {
    await connector({ updateMethod: 'put' }, { bearerToken: 'static-token' }).updateUser('r1', user);
    expect(target.seen[0]!.authorization).toBe('Bearer static-token');
  });

  it('no method: no Authorization header', async () => {
    await connector({ updateMethod: 'put' }, {}).updateUser('r1', user);
    expect(target.seen[0]!.authorization).toBeUndefined();
  });

  it('OAuth client_secret_basic: one token request (form-encoded credentials, scope), then Bearer calls', async () => {
    target.answers.push(token('tok-1'));
    await connector({ ...OAUTH(), updateMethod: 'put' }, OAUTH_SECRET).updateUser('r1', user);
    expect(calls()).toEqual(['POST /oauth2/token', 'PUT /scim2/Users/r1']);
    const [tokenReq, put] = target.seen;
    // RFC 6749 §2.3.1: client id and secret are form-urlencoded before Base64.
    expect(tokenReq!.authorization).toBe(`Basic ${Buffer.from('prov+client:s3cr%3Aet%26%2B').toString('base64')}`);
    expect(tokenReq!.contentType).toMatch(/^application\/x-www-form-urlencoded/);
    expect(Object.fromEntries(tokenReq!.form!)).toEqual({ grant_type: 'client_credentials', scope: 'internal_user_mgt_update internal_user_mgt_view' });
    expect(put!.authorization).toBe('Bearer tok-1');
  });

  it('OAuth client_secret_post: the credentials in the form, no Authorization header', async () => {
    target.answers.push(token('tok-post'));
    await connector({ ...OAUTH(), tokenEndpointAuthMethod: 'client_secret_post', updateMethod: 'put' }, OAUTH_SECRET).updateUser('r1', user);
    const [tokenReq, put] = target.seen;
    expect(tokenReq!.authorization).toBeUndefined();
    expect(Object.fromEntries(tokenReq!.form!)).toEqual({
      grant_type: 'client_credentials',
      scope: 'internal_user_mgt_update internal_user_mgt_view',
      client_id: 'prov client',
      client_secret: 's3cr:et&+',
    });
    expect(put!.authorization).toBe('Bearer tok-post');
  });

  it('caches the token across connector instances (one per delivery) until shortly before expires_in', async () => {
    target.answers.push(token('tok-a', 600));
    await connector({ ...OAUTH(), updateMethod: 'put' }, OAUTH_SECRET).updateUser('r1', user);
    await connector({ ...OAUTH(), updateMethod: 'put' }, OAUTH_SECRET).updateUser('r2', user);
    expect(calls()).toEqual(['POST /oauth2/token', 'PUT /scim2/Users/r1', 'PUT /scim2/Users/r2']);
    expect(target.seen[2]!.authorization).toBe('Bearer tok-a');

    // 600 s lifetime, renewed a minute early: still good at +530 s, replaced at +545 s.
    advanceClock(530_000);
    await connector({ ...OAUTH(), updateMethod: 'put' }, OAUTH_SECRET).updateUser('r3', user);
    expect(target.seen.at(-1)!.authorization).toBe('Bearer tok-a');
    vi.restoreAllMocks();
    advanceClock(545_000);
    target.answers.push(token('tok-b', 600));
    await connector({ ...OAUTH(), updateMethod: 'put' }, OAUTH_SECRET).updateUser('r4', user);
    expect(calls().slice(-2)).toEqual(['POST /oauth2/token', 'PUT /scim2/Users/r4']);
    expect(target.seen.at(-1)!.authorization).toBe('Bearer tok-b');
  });

  it('another client (another secret) gets its own token', async () => {
    target.answers.push(token('tok-1'), {status: 200}, token('tok-2'));
    await connector({ ...OAUTH(), updateMethod: 'put' }, OAUTH_SECRET).updateUser('r1', user);
    await connector({ ...OAUTH(), updateMethod: 'put' }, { clientSecret: 'rotated' }).updateUser('r1', user);
    expect(calls()).toEqual(['POST /oauth2/token', 'PUT /scim2/Users/r1', 'POST /oauth2/token', 'PUT /scim2/Users/r1']);
    expect(target.seen[3]!.authorization).toBe('Bearer tok-2');
  });

  it('a 401 from the target drops the token, gets a new one and repeats the call once', async () => {
    target.answers.push(token('tok-old'), { status: 401, body: { detail: 'token expired' } }, token('tok-new'), { status: 200 });
    await connector({ ...OAUTH(), updateMethod: 'put' }, OAUTH_SECRET).updateUser('r1', user);
    expect(calls()).toEqual(['POST /oauth2/token', 'PUT /scim2/Users/r1', 'POST /oauth2/token', 'PUT /scim2/Users/r1']);
    expect(target.seen[3]!.authorization).toBe('Bearer tok-new');
    expect(target.seen[3]!.body).toEqual(target.seen[1]!.body);
    // The new token is the cached one now.
    await connector({ ...OAUTH(), updateMethod: 'put' }, OAUTH_SECRET).updateUser('r2', user);
    expect(target.seen.at(-1)!.authorization).toBe('Bearer tok-new');
    expect(calls()).toHaveLength(5);
  });

  it('a second 401 with a fresh token is a configuration error, after one retry only', async () => {
    target.answers.push(token('t1'), { status: 401, body: { detail: 'no' } }, token('t2'), { status: 401, body: { detail: 'still no' } });
    const err = await connector({ ...OAUTH(), updateMethod: 'put' }, OAUTH_SECRET).updateUser('r1', user).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectorMisconfigured);
    expect((err as Error).message).toBe("PUT /scim2/Users/r1 -> 401: still no (check the connector's credentials)");
    expect(calls()).toHaveLength(4);
  });

  it('basic credentials refused (401) are not retried', async () => {
    target.answers.push({ status: 401 });
    await expect(connector({ updateMethod: 'put' }).updateUser('r1', user)).rejects.toBeInstanceOf(ConnectorMisconfigured);
    expect(calls()).toEqual(['PUT /scim2/Users/r1']);
  });

  describe('token endpoint errors', () => {
    const update = () => connector({ ...OAUTH(), updateMethod: 'put' }, OAUTH_SECRET).updateUser('r1', user).catch((e: unknown) => e);

    it.each([
      [401, 'invalid_client', 'client authentication failed'],
      [400, 'invalid_client', 'client authentication failed'],
      [400, 'invalid_scope', 'the client is not authorised for scope internal_user_mgt_update'],
      [400, 'unauthorized_client', 'the client is not authorized to use client_credentials'],
    ])('%i %s: ConnectorMisconfigured with error and error_description, never the secret', async (status, error, description) => {
      target.answers.push({ status, body: { error, error_description: description } });
      const err = await update();
      expect(err).toBeInstanceOf(ConnectorMisconfigured);
      const message = (err as Error).message;
      expect(message).toContain(`/oauth2/token -> ${status}: ${error}: ${description}`);
      expect(message).not.toContain('s3cr');
      expect(calls()).toEqual(['POST /oauth2/token']); // the SCIM target is not called
    });

    it.each([500, 502, 503])('%i: ConnectorTransient', async (status) => {
      target.answers.push({ status, body: { error: 'server_error' } });
      const err = await update();
      expect(err).toBeInstanceOf(ConnectorTransient);
      expect((err as ConnectorTransient).status).toBe(status);
    });

    it('503 with Retry-After carries it', async () => {
      target.answers.push({ status: 503, headers: { 'retry-after': '9' } });
      const err = (await update()) as ConnectorTransient;
      expect(err).toBeInstanceOf(ConnectorTransient);
      expect(err.retryAfterMs).toBe(9000);
    });

    it('a network failure is transient', async () => {
      const c = connector({ ...OAUTH(), tokenEndpoint: 'http://127.0.0.1:1/oauth2/token', updateMethod: 'put' }, OAUTH_SECRET);
      const err = await c.updateUser('r1', user).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectorTransient);
      expect((err as Error).message).toMatch(/^OAuth token endpoint http:\/\/127\.0\.0\.1:1\/oauth2\/token failed/);
    });

    it('an answer without an access token, or not a Bearer token, is a configuration error', async () => {
      target.answers.push({ status: 200, body: { token_type: 'Bearer' } });
      expect(await update()).toBeInstanceOf(ConnectorMisconfigured);
      target.answers.push({ status: 200, body: { access_token: 'x', token_type: 'DPoP' } });
      const err = await update();
      expect(err).toBeInstanceOf(ConnectorMisconfigured);
      expect((err as Error).message).toMatch(/only Bearer tokens are supported/);
    });
  });
});

describe('scim2 updates: ServiceProviderConfig decides PATCH or PUT', () => {
  it('auto + patch.supported: GET ServiceProviderConfig once, then PATCH with the full state', async () => {
    target.answers.push(spc(true));
    await connector().updateUser('r1', user);
    expect(calls()).toEqual(['GET /scim2/ServiceProviderConfig', 'PATCH /scim2/Users/r1']);
    expect(target.seen[0]!.authorization).toBe(`Basic ${Buffer.from('admin:secret').toString('base64')}`);
    expect(target.seen[1]!.contentType).toBe('application/scim+json');
    const ops = (target.seen[1]!.body as { schemas: string[]; Operations: { op: string; path: string; value?: unknown }[] });
    expect(ops.schemas).toEqual([SCHEMA_PATCH_OP]);
    const byPath = Object.fromEntries(ops.Operations.map((o) => [o.path, o]));
    expect(byPath.userName).toEqual({ op: 'replace', path: 'userName', value: 'rashmini' });
    expect(byPath.name).toEqual({ op: 'replace', path: 'name', value: { givenName: 'Rashmini', familyName: 'N' } });
    expect(byPath['name.middleName']).toEqual({ op: 'remove', path: 'name.middleName' });
    expect(byPath.emails).toEqual({ op: 'replace', path: 'emails', value: [{ value: 'rash@gmail.com', type: 'home', primary: true }] });
    expect(byPath.active).toEqual({ op: 'replace', path: 'active', value: true });
    expect(byPath.password).toEqual({ op: 'replace', path: 'password', value: 'abc123-Secret' });
    expect(byPath.addresses).toEqual({ op: 'remove', path: 'addresses' });
    expect(byPath.nickName).toEqual({ op: 'remove', path: 'nickName' });
    expect(byPath.externalId).toEqual({ op: 'remove', path: 'externalId' });
    expect(byPath[`${SCHEMA_ENTERPRISE_USER}:department`]).toEqual({ op: 'replace', path: `${SCHEMA_ENTERPRISE_USER}:department`, value: 'Sales' });
    expect(byPath[`${SCHEMA_ENTERPRISE_USER}:manager`]).toEqual({ op: 'replace', path: `${SCHEMA_ENTERPRISE_USER}:manager`, value: { value: 'm1' } });
    expect(byPath[`${SCHEMA_ENTERPRISE_USER}:costCenter`]).toEqual({ op: 'remove', path: `${SCHEMA_ENTERPRISE_USER}:costCenter` });
    expect(byPath.groups).toBeUndefined(); // readOnly: never sent
    expect(byPath.id).toBeUndefined();

    // The decision is kept for the next deliveries (a new connector instance each).
    await connector().updateUser('r2', user);
    expect(calls().slice(2)).toEqual(['PATCH /scim2/Users/r2']);
  });

  it('a PATCH leaves the target exactly as the PUT would (this server PATCH implementation as the target)', async () => {
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
      emails: [{ value: 'old@example.org', primary: true }, { value: 'other@example.org' }],
      addresses: [{ locality: 'Colombo' }],
      [SCHEMA_ENTERPRISE_USER]: { department: 'Old', costCenter: '42', manager: { value: 'm0' } },
    };
    // The two bodies as sent.
    await connector({ updateMethod: 'put' }).updateUser('r1', { ...user, password: undefined });
    await connector({ updateMethod: 'patch' }).updateUser('r1', { ...user, password: undefined });
    const put = target.seen[0]!.body as Record<string, unknown>;
    expect(target.seen[1]!.body).toEqual(userPatchBody(put));
    const { resource } = applyPatch(before, target.seen[1]!.body, userResourceType());
    const { groups: _readOnly, ...expected } = put;
    expect({ ...resource, schemas: undefined, id: undefined }).toEqual({
      ...expected,
      schemas: undefined,
      id: undefined,
      [SCHEMA_ENTERPRISE_USER]: { department: 'Sales', manager: { value: 'm1' } }, // manager.displayName is readOnly
    });
  });

  it('auto + patch not supported: PUT, and the ServiceProviderConfig is not asked again', async () => {
    target.answers.push(spc(false));
    await connector().updateUser('r1', user);
    await connector().updateUser('r2', user);
    expect(calls()).toEqual(['GET /scim2/ServiceProviderConfig', 'PUT /scim2/Users/r1', 'PUT /scim2/Users/r2']);
    expect(target.seen[1]!.body).toMatchObject({ schemas: [SCHEMA_USER, SCHEMA_ENTERPRISE_USER], userName: 'rashmini', password: 'abc123-Secret' });
  });

  it('a failed discovery (404) falls back to PUT, and is tried again after the TTL', async () => {
    target.answers.push({ status: 404, body: { detail: 'no such endpoint' } });
    await connector().updateUser('r1', user);
    await connector().updateUser('r2', user);
    expect(calls()).toEqual(['GET /scim2/ServiceProviderConfig', 'PUT /scim2/Users/r1', 'PUT /scim2/Users/r2']);
    advanceClock(DISCOVERY_TTL_MS + 1000);
    target.answers.push(spc(true));
    await connector().updateUser('r3', user);
    expect(calls().slice(3)).toEqual(['GET /scim2/ServiceProviderConfig', 'PATCH /scim2/Users/r3']);
  });

  it('a discovery that cannot connect falls back to PUT (the PUT then fails on its own)', async () => {
    const c = scim2Factory.create({ type: 'scim2', settings: { userEndpoint: 'http://127.0.0.1:1/scim2/Users' }, secrets: {} });
    const err = await c.updateUser('r1', user).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectorTransient);
    expect((err as Error).message).toMatch(/^PUT http:\/\/127\.0\.0\.1:1\/scim2\/Users\/r1 failed/);
  });

  it('serviceProviderConfigEndpoint overrides where it is read', async () => {
    target.answers.push(spc(true));
    await connector({ serviceProviderConfigEndpoint: `${base}/custom/spc` }).updateUser('r1', user);
    expect(calls()).toEqual(['GET /custom/spc', 'PATCH /scim2/Users/r1']);
  });

  it.each([501, 405])('a target answering PATCH with %i gets the PUT, and PUTs for the TTL', async (status) => {
    target.answers.push(spc(true), { status, body: { detail: 'PATCH not implemented' } });
    await connector().updateUser('r1', user);
    await connector().updateUser('r2', user);
    expect(calls()).toEqual(['GET /scim2/ServiceProviderConfig', 'PATCH /scim2/Users/r1', 'PUT /scim2/Users/r1', 'PUT /scim2/Users/r2']);
    advanceClock(DISCOVERY_TTL_MS + 1000);
    target.answers.push(spc(true));
    await connector().updateUser('r3', user);
    expect(calls().slice(4)).toEqual(['GET /scim2/ServiceProviderConfig', 'PATCH /scim2/Users/r3']);
  });

  it('a PATCH refused for an attribute the target lacks (400 invalidPath) gets the PUT', async () => {
    target.answers.push(spc(true), { status: 400, body: { scimType: 'invalidPath', detail: "Unknown schema 'urn:...:enterprise:2.0:User'" } });
    await connector().updateUser('r1', user);
    expect(calls()).toEqual(['GET /scim2/ServiceProviderConfig', 'PATCH /scim2/Users/r1', 'PUT /scim2/Users/r1']);
  });

  it('a PATCH refused for the change itself (400 invalidValue) is a rejection, not retried as PUT', async () => {
    target.answers.push(spc(true), { status: 400, body: { scimType: 'invalidValue', detail: 'Password too short' } });
    const err = await connector().updateUser('r1', user).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectorRejected);
    expect((err as Error).message).toBe('PATCH /scim2/Users/r1 -> 400: Password too short');
    expect(calls()).toEqual(['GET /scim2/ServiceProviderConfig', 'PATCH /scim2/Users/r1']);
  });

  it('a user gone at the target (404 on PATCH) is ConnectorNotFound, for the caller to re-create', async () => {
    target.answers.push(spc(true), { status: 404 });
    await expect(connector().updateUser('r1', user)).rejects.toBeInstanceOf(ConnectorNotFound);
  });

  it('updateMethod put never asks; updateMethod patch PATCHes without asking', async () => {
    await connector({ updateMethod: 'put' }).updateUser('r1', user);
    await connector({ updateMethod: 'patch' }).updateUser('r2', user);
    expect(calls()).toEqual(['PUT /scim2/Users/r1', 'PATCH /scim2/Users/r2']);
  });

  it('groups: PATCH replaces displayName, externalId and the whole member list', async () => {
    const group = {
      id: 'lg',
      displayName: 'Tour Guides',
      members: [
        { remoteId: 'r1', type: 'User' as const, localId: 'l1' },
        { remoteId: 'r2', type: 'User' as const, localId: 'l2' },
      ],
    };
    target.answers.push(spc(true));
    const c = connector({ userStoreDomain: 'secondary' });
    await c.updateGroup!('rg', group);
    await c.updateGroup!('rg', { ...group, externalId: 'x-1', members: [] });
    expect(calls()).toEqual(['GET /scim2/ServiceProviderConfig', 'PATCH /scim2/Groups/rg', 'PATCH /scim2/Groups/rg']);
    expect(target.seen[1]!.body).toEqual({
      schemas: [SCHEMA_PATCH_OP],
      Operations: [
        { op: 'replace', path: 'displayName', value: 'SECONDARY/Tour Guides' },
        { op: 'remove', path: 'externalId' },
        { op: 'replace', path: 'members', value: [{ value: 'r1', type: 'User' }, { value: 'r2', type: 'User' }] },
      ],
    });
    expect((target.seen[2]!.body as { Operations: unknown[] }).Operations).toEqual([
      { op: 'replace', path: 'displayName', value: 'SECONDARY/Tour Guides' },
      { op: 'replace', path: 'externalId', value: 'x-1' },
      { op: 'replace', path: 'members', value: [] },
    ]);
    // As this server applies it: the membership is replaced as a whole.
    const { members } = applyGroupPatch({ schemas: [], id: 'rg', displayName: 'Old' }, target.seen[2]!.body, groupResourceType());
    expect(members.replaceAll).toEqual([]);
  });

  it('groups: PUT when the target has no PATCH', async () => {
    target.answers.push(spc(false));
    await connector().updateGroup!('rg', { id: 'lg', displayName: 'G', members: [{ remoteId: 'r1', type: 'User', localId: 'l1' }] });
    expect(calls()).toEqual(['GET /scim2/ServiceProviderConfig', 'PUT /scim2/Groups/rg']);
    expect(target.seen[1]!.body).toEqual({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'G', members: [{ value: 'r1', type: 'User' }] });
  });

  it('OAuth: discovery and PATCH share one token', async () => {
    target.answers.push(token('tok-d'), spc(true));
    await connector(OAUTH(), OAUTH_SECRET).updateUser('r1', user);
    expect(calls()).toEqual(['POST /oauth2/token', 'GET /scim2/ServiceProviderConfig', 'PATCH /scim2/Users/r1']);
    expect(target.seen.slice(1).map((s) => s.authorization)).toEqual(['Bearer tok-d', 'Bearer tok-d']);
  });
});

describe('scim2 deprovisioning', () => {
  it('delete (the default): DELETE; a user already gone is not an error', async () => {
    target.answers.push({ status: 204 }, { status: 404, body: { detail: 'User not found' } });
    await connector().deleteUser('r1', user);
    await connector().deleteUser('r2', user);
    expect(calls()).toEqual(['DELETE /scim2/Users/r1', 'DELETE /scim2/Users/r2']);
  });

  it('deactivate with PATCH: only active set to false', async () => {
    target.answers.push(spc(true));
    await connector({ deprovision: 'deactivate' }).deleteUser('r1', user);
    expect(calls()).toEqual(['GET /scim2/ServiceProviderConfig', 'PATCH /scim2/Users/r1']);
    expect(target.seen[1]!.body).toEqual({ schemas: [SCHEMA_PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] });
  });

  it('deactivate with PUT: the user state with active false, and no password', async () => {
    target.answers.push(spc(false));
    await connector({ deprovision: 'deactivate' }).deleteUser('r1', user);
    expect(calls()).toEqual(['GET /scim2/ServiceProviderConfig', 'PUT /scim2/Users/r1']);
    expect(target.seen[1]!.body).toMatchObject({ userName: 'rashmini', active: false, emails: user.emails });
    expect(target.seen[1]!.body).not.toHaveProperty('password');
  });

  it('deactivate falls back to PUT on 501, and a user already gone is not an error', async () => {
    target.answers.push(spc(true), { status: 501 }, { status: 200 }, { status: 404 });
    await connector({ deprovision: 'deactivate' }).deleteUser('r1', user);
    await connector({ deprovision: 'deactivate' }).deleteUser('r2', user);
    expect(calls()).toEqual(['GET /scim2/ServiceProviderConfig', 'PATCH /scim2/Users/r1', 'PUT /scim2/Users/r1', 'PUT /scim2/Users/r2']);
    expect(target.seen[2]!.body).toMatchObject({ active: false });
  });
});
