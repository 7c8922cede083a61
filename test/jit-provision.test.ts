/**
 * JIT provisioning (issue #9) end to end: the test process plays the federation callback, calling startJitLogin and
 * answerJitPrompt (src/federation/jit-client.ts) against a real instance (api, worker, Temporal), whose resident
 * service provider sends JIT users to a second instance over SCIM 2.0 through a blocking link with Enable JIT.
 */
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseKeyring } from '../src/config.js';
import { SecretSealer } from '../src/crypto/sealed-secret.js';
import { SecretBox } from '../src/crypto/secret-box.js';
import { jitInput } from '../src/federation/config.js';
import { answerJitPrompt, jitWorkflowId, startJitLogin } from '../src/federation/jit-client.js';
import type { JitOutcome, JitProvisionInput } from '../src/federation/jit-types.js';
import { RESIDENT_APPLICATION_ID } from '../src/provisioning/defaults.js';
import { EncryptionCodec } from '../src/temporal/codec.js';
import { createDataConverter } from '../src/temporal/connection.js';
import { json, startInstance, type Instance, type Json } from './harness.js';
import { startScriptedTarget, type ScriptedTarget } from './support/scripted-target.js';

let a: Instance;
let b: Instance;
let client: Client;
let sealer: SecretSealer;
let idpId: string;
let connectorId: string;
let refusing: ScriptedTarget;
let strictAppId: string;
const ISSUER = 'https://idp.example.test';
let n = 0;
/** A fresh federated subject per test, so tests do not meet each other's links. */
const subject = () => `sub-${Date.now().toString(36)}-${n++}`;

beforeAll(async () => {
  [a, b] = await Promise.all([startInstance('jitA'), startInstance('jitB')]);
  const keys = parseKeyring(a.encryptionKeys);
  sealer = new SecretSealer(keys);
  client = new Client({ connection: await Connection.connect({ address: a.temporalAddress }), dataConverter: createDataConverter(new SecretBox(keys)) });
  const idp = await json(a, 'POST', '/api/server/v1/identity-providers', {
    name: 'corp',
    outboundConnectors: [
      {
        type: 'scim2',
        settings: { userEndpoint: `${b.baseUrl}/scim2/Users`, groupEndpoint: `${b.baseUrl}/scim2/Groups`, username: b.admin.username, userStoreDomain: 'PRIMARY', timeoutMs: 20_000 },
        secrets: { password: b.admin.password },
        passwordProvisioning: true,
        retry: { initialIntervalMs: 200, maximumIntervalMs: 1000 },
      },
    ],
  });
  expect(idp.status).toBe(201);
  idpId = idp.body.id as string;
  connectorId = (idp.body.outboundConnectors as Json[])[0]!.id as string;
  const link = await json(a, 'POST', '/api/server/v1/applications/resident/provisioning/outbound-connectors', { connectorId, blocking: true, jitEnabled: true });
  expect(link.status).toBe(201);
  // A second target that refuses everything, linked (blocking, Enable JIT) from one application only.
  refusing = await startScriptedTarget('application/scim+json');
  const strict = await json(a, 'POST', '/api/server/v1/identity-providers', {
    name: 'refusing',
    outboundConnectors: [{ type: 'scim2', settings: { userEndpoint: `${refusing.base}/Users`, username: 'x', userStoreDomain: 'PRIMARY' }, secrets: { password: 'y' }, retry: { maximumAttempts: 1 } }],
  });
  expect(strict.status).toBe(201);
  const app = await json(a, 'POST', '/api/server/v1/applications', { name: 'strict-app' });
  expect(app.status).toBe(201);
  strictAppId = app.body.id as string;
  const strictLink = await json(a, 'POST', `/api/server/v1/applications/${strictAppId}/provisioning/outbound-connectors`, {
    connectorId: (strict.body.outboundConnectors as Json[])[0]!.id,
    blocking: true,
    jitEnabled: true,
  });
  expect(strictLink.status).toBe(201);
}, 180_000);
afterAll(async () => {
  await client?.connection.close();
  await refusing?.close();
  await Promise.allSettled([a?.stop(), b?.stop()]);
});

const loginInput = (sub: string, claims: Json, settings: Json = {}, applicationId = RESIDENT_APPLICATION_ID): JitProvisionInput => ({
  identity: { idpId, idpName: 'corp', issuer: ISSUER, subject: sub },
  claims: { sub, ...claims },
  applicationId,
  settings: jitInput.parse(settings),
  blockingTimeoutMs: 20_000,
});
const login = async (input: JitProvisionInput) => (await startJitLogin(client, a.taskQueue, input)).outcome;
const done = (o: JitOutcome) => {
  if (o.state !== 'done') throw new Error(`expected done, got ${JSON.stringify(o)}`);
  return o;
};
const usersNamed = async (instance: Instance, userName: string) =>
  (await json(instance, 'GET', `/scim2/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`)).body.Resources as Json[] | undefined ?? [];
const links = async (userId: string) => (await json(a, 'GET', `/api/server/v1/users/${userId}/federated-links`)).body as unknown as Json[];
const audit = async (userId: string, operation: string) => (await json(a, 'GET', `/api/server/v1/provisioning/audit?userId=${userId}&operation=${operation}`)).body as unknown as Json[];
const createLocal = async (user: Json) => {
  const res = await json(a, 'POST', '/scim2/Users', user);
  expect(res.status).toBe(201);
  return res.body.id as string;
};

describe('silent JIT', () => {
  it('creates the user in the configured domain, links it, sends it to the Enable JIT target once', async () => {
    const sub = subject();
    const outcome = done(await login(loginInput(sub, { preferred_username: 'jit-ann', name: 'Ann Smith', given_name: 'Ann', email: 'ann@example.test', email_verified: true })));
    expect(outcome).toMatchObject({ created: true, linkedBy: 'jit', userName: 'jit-ann', domain: 'PRIMARY' });
    const [user] = await usersNamed(a, 'jit-ann');
    expect(user).toMatchObject({ id: outcome.userId, displayName: 'Ann Smith', name: { givenName: 'Ann' }, emails: [{ value: 'ann@example.test', primary: true }] });
    const userLinks = await links(outcome.userId);
    expect(userLinks).toHaveLength(1);
    expect(userLinks[0]).toMatchObject({ issuer: ISSUER, subject: sub, linkedBy: 'jit', identityProvider: 'corp' });
    expect(await usersNamed(b, 'jit-ann')).toHaveLength(1); // the blocking target had it before the answer
    expect((await audit(outcome.userId, 'jit-create'))[0]).toMatchObject({ outcome: 'applied', initiator: 'jit:corp', connectorId: null });
    expect((await audit(outcome.userId, 'create')).filter((r) => r.connectorId === connectorId)).toHaveLength(1);
  });

  it('ten concurrent first logins of one person: one user, one link, one outbound create', async () => {
    const sub = subject();
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => login(loginInput(sub, { preferred_username: 'jit-ten', email: 'ten@example.test' }))));
    const ids = new Set(outcomes.map((o) => done(o).userId));
    expect(ids.size).toBe(1);
    const [userId] = [...ids];
    expect(await usersNamed(a, 'jit-ten')).toHaveLength(1);
    expect(await links(userId!)).toHaveLength(1);
    expect((await audit(userId!, 'create')).filter((r) => r.connectorId === connectorId)).toHaveLength(1);
    expect(await usersNamed(b, 'jit-ten')).toHaveLength(1);
  });

  it('WSO2-2024-3179: silent JIT never takes over an unlinked local user with the same username', async () => {
    const localId = await createLocal({ userName: 'jit-local', displayName: 'Local Person', emails: [{ value: 'local@example.test', primary: true }] });
    const outcome = await login(loginInput(subject(), { preferred_username: 'jit-local', name: 'Intruder' }));
    expect(outcome).toMatchObject({ state: 'failed', reason: 'username_taken' });
    if (outcome.state === 'failed') expect(outcome.message).toMatch(/already exists here and is not linked/);
    const local = await json(a, 'GET', `/scim2/Users/${localId}`);
    expect(local.body.displayName).toBe('Local Person');
    expect(await links(localId)).toHaveLength(0);
  });

  it('JIT off: an unknown user cannot log in, and nothing is created', async () => {
    const outcome = await login(loginInput(subject(), { preferred_username: 'jit-off-user' }, { enabled: false }));
    expect(outcome).toMatchObject({ state: 'failed', reason: 'jit_disabled' });
    expect(await usersNamed(a, 'jit-off-user')).toHaveLength(0);
  });

  it('claims the store cannot keep fail the login as invalid_claims', async () => {
    const outcome = await login(loginInput(subject(), { preferred_username: 'jit-long', name: 'x'.repeat(5000) }));
    expect(outcome).toMatchObject({ state: 'failed', reason: 'invalid_claims' });
    expect(await usersNamed(a, 'jit-long')).toHaveLength(0);
  });
});

describe('re-login', () => {
  const first = { preferred_username: 'jit-sync', name: 'Sam Original', title: 'Engineer' };
  const mappings = { claimMappings: [{ claim: 'name', attribute: 'displayName' }, { claim: 'title', attribute: 'title' }, { claim: 'nickname', attribute: 'nickName' }] };
  it('OVERRIDE_ALL, SYNC_NONE, PRESERVE_LOCAL and idpOwnedAttributes', async () => {
    const sub = subject();
    const created = done(await login(loginInput(sub, first, mappings)));
    // An operator empties the title and sets a nickname locally.
    const patched = await json(a, 'PATCH', `/scim2/Users/${created.userId}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'remove', path: 'title' }, { op: 'replace', path: 'nickName', value: 'local-nick' }],
    });
    expect(patched.status).toBe(200);
    const get = async () => (await json(a, 'GET', `/scim2/Users/${created.userId}`)).body;

    done(await login(loginInput(sub, { ...first, name: 'Sam None', title: 'None', nickname: 'idp-nick' }, { ...mappings, attributeSync: 'SYNC_NONE' })));
    expect(await get()).toMatchObject({ displayName: 'Sam Original', nickName: 'local-nick' });
    expect((await get()).title).toBeUndefined();

    const preserved = done(await login(loginInput(sub, { ...first, name: 'Sam Preserve', title: 'Filled', nickname: 'idp-nick' }, { ...mappings, attributeSync: 'PRESERVE_LOCAL' })));
    expect(preserved).toMatchObject({ created: false, linkedBy: 'existing' });
    expect(await get()).toMatchObject({ displayName: 'Sam Original', title: 'Filled', nickName: 'local-nick' });

    done(await login(loginInput(sub, { ...first, name: 'Sam Override', title: 'Lead', nickname: 'idp-nick' }, mappings)));
    expect(await get()).toMatchObject({ displayName: 'Sam Override', title: 'Lead', nickName: 'idp-nick' });

    // SYNC_NONE, but the IdP owns the title: it follows the IdP, and goes when no longer asserted.
    done(await login(loginInput(sub, { preferred_username: 'jit-sync', name: 'Ignored' }, { ...mappings, attributeSync: 'SYNC_NONE', idpOwnedAttributes: ['title'] })));
    const owned = await get();
    expect(owned.displayName).toBe('Sam Override');
    expect(owned.title).toBeUndefined();
    expect((await audit(created.userId, 'jit-update')).length).toBeGreaterThanOrEqual(3);
    // The updates reached the target too (the last one as it stands).
    const [remote] = await usersNamed(b, 'jit-sync');
    expect(remote).toMatchObject({ displayName: 'Sam Override' });
  });

  it('an inactive linked user is refused', async () => {
    const sub = subject();
    const created = done(await login(loginInput(sub, { preferred_username: 'jit-inactive' })));
    const patched = await json(a, 'PATCH', `/scim2/Users/${created.userId}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'active', value: false }] });
    expect(patched.status).toBe(200);
    expect(await login(loginInput(sub, { preferred_username: 'jit-inactive' }))).toMatchObject({ state: 'failed', reason: 'inactive' });
  });
});

describe('groups, authoritatively', () => {
  it('adds the asserted groups, removes the withdrawn ones, never a local membership', async () => {
    const group = async (displayName: string) => {
      const res = await json(a, 'POST', '/scim2/Groups', { displayName });
      expect(res.status).toBe(201);
      return res.body.id as string;
    };
    const [eng, ops, local] = [await group('jit-eng'), await group('jit-ops'), await group('jit-local-group')];
    const settings = { groups: { claim: 'groups', mappings: [{ value: 'eng', group: 'jit-eng' }, { value: 'ops', group: 'jit-ops' }, { value: 'loc', group: 'jit-local-group' }] } };
    const sub = subject();
    const created = done(await login(loginInput(sub, { preferred_username: 'jit-grouped', groups: ['eng', 'ops'] }, settings)));
    const groupsOf = async () => (((await json(a, 'GET', `/scim2/Users/${created.userId}`)).body.groups as Json[] | undefined) ?? []).map((g) => g.value).sort();
    expect(await groupsOf()).toEqual([eng, ops].sort());
    // Locally given: the user joins jit-local-group by an operator.
    const add = await json(a, 'PATCH', `/scim2/Groups/${local}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'add', path: 'members', value: [{ value: created.userId }] }] });
    expect(add.status).toBe(200);
    // The IdP withdraws ops, asserts loc (which the user has locally already), and later withdraws loc too.
    done(await login(loginInput(sub, { preferred_username: 'jit-grouped', groups: ['eng', 'loc'] }, settings)));
    expect(await groupsOf()).toEqual([eng, local].sort());
    done(await login(loginInput(sub, { preferred_username: 'jit-grouped', groups: [] }, settings)));
    expect(await groupsOf()).toEqual([local]);
    expect((await links(created.userId))[0]!.assertedGroupIds).toEqual([]);
  });
});

describe('association by verified email', () => {
  const settings = { associateByVerifiedEmail: true };
  it('links the one local user whose verified email the IdP verified too', async () => {
    const localId = await createLocal({ userName: 'jit-assoc', emails: [{ value: 'assoc@example.test', primary: true }] });
    expect((await json(a, 'PUT', `/api/server/v1/users/${localId}/email-verified`, { verified: true })).status).toBe(200);
    const outcome = done(await login(loginInput(subject(), { preferred_username: 'someone-else', email: 'assoc@example.test', email_verified: true }, { ...settings, scheme: 'prompt_consent' })));
    expect(outcome).toMatchObject({ userId: localId, linkedBy: 'email', created: false });
    expect((await links(localId))[0]).toMatchObject({ linkedBy: 'email' });
    expect((await audit(localId, 'jit-link'))[0]).toMatchObject({ outcome: 'applied' });
  });

  it('a primary email changed through SCIM is no longer verified: the account cannot be reached through the new address', async () => {
    const localId = await createLocal({ userName: 'jit-email-moved', emails: [{ value: 'before@example.test', primary: true }] });
    expect((await json(a, 'PUT', `/api/server/v1/users/${localId}/email-verified`, { verified: true })).status).toBe(200);
    const patched = await json(a, 'PATCH', `/scim2/Users/${localId}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'emails', value: [{ value: 'victim@example.test', primary: true }] }],
    });
    expect(patched.status).toBe(200);
    const outcome = await login(loginInput(subject(), { preferred_username: 'jit-email-moved-new', email: 'victim@example.test', email_verified: true }, settings));
    expect(outcome).toMatchObject({ state: 'done', created: true });
    expect(await links(localId)).toHaveLength(0);
  });

  it('Keycloak CVE-2026-14781/#53041: no auto-link on an unverified email', async () => {
    const localId = await createLocal({ userName: 'jit-unverified-idp', emails: [{ value: 'unv@example.test', primary: true }] });
    await json(a, 'PUT', `/api/server/v1/users/${localId}/email-verified`, { verified: true });
    // The IdP does not say email_verified (or says it as a string): JIT creates a user of its own, no link to the local one.
    const outcome = done(await login(loginInput(subject(), { preferred_username: 'jit-unverified-new', email: 'unv@example.test', email_verified: 'true' }, settings)));
    expect(outcome.userId).not.toBe(localId);
    expect(await links(localId)).toHaveLength(0);
  });

  it('no link when the local email is not verified, or when the operator did not enable association', async () => {
    const localId = await createLocal({ userName: 'jit-unverified-local', emails: [{ value: 'unvlocal@example.test', primary: true }] });
    const notVerified = await login(loginInput(subject(), { preferred_username: 'jit-unverified-local', email: 'unvlocal@example.test', email_verified: true }, settings));
    expect(notVerified).toMatchObject({ state: 'failed', reason: 'username_taken' });
    await json(a, 'PUT', `/api/server/v1/users/${localId}/email-verified`, { verified: true });
    const notEnabled = await login(loginInput(subject(), { preferred_username: 'jit-unverified-local', email: 'unvlocal@example.test', email_verified: true }));
    expect(notEnabled).toMatchObject({ state: 'failed', reason: 'username_taken' });
    expect(await links(localId)).toHaveLength(0);
  });

  it('no link when two local users have that verified email', async () => {
    const one = await createLocal({ userName: 'jit-twin-1', emails: [{ value: 'twin@example.test', primary: true }] });
    const two = await createLocal({ userName: 'jit-twin-2', emails: [{ value: 'twin@example.test', primary: true }] });
    for (const id of [one, two]) await json(a, 'PUT', `/api/server/v1/users/${id}/email-verified`, { verified: true });
    const outcome = done(await login(loginInput(subject(), { preferred_username: 'jit-twin-new', email: 'twin@example.test', email_verified: true }, settings)));
    expect([one, two]).not.toContain(outcome.userId);
  });
});

describe('prompts', () => {
  it('CVE-2023-6837: a username typed at a prompt is never asserted as an existing local user', async () => {
    const localId = await createLocal({ userName: 'jit-victim', password: 'Victim-pass-1' });
    const input = loginInput(subject(), { preferred_username: 'jit-chooser' }, { scheme: 'prompt_username_password_consent' });
    const started = await startJitLogin(client, a.taskQueue, input);
    expect(started.outcome).toMatchObject({ state: 'prompt', prompt: 'username_password_consent', suggestedUserName: 'jit-chooser' });
    expect(started.workflowId).toBe(jitWorkflowId('corp', ISSUER, input.identity.subject));
    const refused = await answerJitPrompt(client, started.workflowId, { consent: true, userName: 'JIT-Victim', password: 'Chosen-pass-1' }, sealer);
    expect(refused).toMatchObject({ state: 'prompt', error: expect.stringMatching(/already taken/) });
    expect(await links(localId)).toHaveLength(0);
    // A password the policy refuses is shown on the prompt too; then a good answer creates the person's own user.
    const weak = await answerJitPrompt(client, started.workflowId, { consent: true, userName: 'jit-chosen', password: 'x' }, sealer);
    expect(weak).toMatchObject({ state: 'prompt', error: expect.stringMatching(/password/i) });
    const created = done(await answerJitPrompt(client, started.workflowId, { consent: true, userName: 'jit-chosen', password: 'Chosen-pass-1' }, sealer));
    expect(created).toMatchObject({ userName: 'jit-chosen', created: true });
    expect(created.userId).not.toBe(localId);
    // The chosen password was hashed by the store: the password grant takes it for the new user, and the victim's
    // password is still the victim's.
    const app = await a.request('POST', '/api/server/v1/applications', { name: 'jit-password-app', grantTypes: ['password'], scopes: ['internal_login'] }, { 'Content-Type': 'application/json' });
    expect(app.status).toBe(201);
    const { clientId, clientSecret } = (await app.json()) as { clientId: string; clientSecret: string };
    const grant = (username: string, password: string) =>
      fetch(`${a.baseUrl}/oauth2/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'password', username, password, scope: 'internal_login' }).toString(),
      });
    expect((await grant('jit-chosen', 'Chosen-pass-1')).status).toBe(200);
    expect((await grant('jit-victim', 'Chosen-pass-1')).status).toBe(400);
    expect((await grant('jit-victim', 'Victim-pass-1')).status).toBe(200);
    // Neither password is readable in the login's workflow history, even decoded with the keyring itself, unmasked
    // (what an operator holding the key could do): the chosen one entered the workflow sealed.
    const history = await client.workflow.getHandle(started.workflowId).fetchHistory();
    const payloads: Array<{ metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null }> = [];
    const collect = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(collect);
      else if (v && typeof v === 'object' && !(v instanceof Uint8Array)) {
        const o = v as Record<string, unknown>;
        if (o.data instanceof Uint8Array && o.metadata && typeof o.metadata === 'object') payloads.push(o);
        else Object.values(o).forEach(collect);
      }
    };
    collect(history.events);
    const clear = (await new EncryptionCodec(new SecretBox(parseKeyring(a.encryptionKeys))).decode(payloads))
      .map((p) => Buffer.from(p.data ?? new Uint8Array()).toString('utf8'))
      .join('\n');
    expect(clear).toContain('jit-chosen'); // it did decode
    expect(clear).not.toContain('Chosen-pass-1');
    expect(clear).not.toContain('Victim-pass-1');
  });

  it('validator: no prompt pending, or answers of the wrong shape, answer the prompt again with the error', async () => {
    const started = await startJitLogin(client, a.taskQueue, loginInput(subject(), { preferred_username: 'jit-shape' }, { scheme: 'prompt_password_consent' }));
    expect(started.outcome).toMatchObject({ state: 'prompt', prompt: 'password_consent' });
    const noPassword = await answerJitPrompt(client, started.workflowId, { consent: true }, sealer);
    expect(noPassword).toMatchObject({ state: 'prompt', error: 'Choose a password' });
    const withName = await answerJitPrompt(client, started.workflowId, { consent: true, userName: 'other', password: 'Good-pass-1' }, sealer);
    expect(withName).toMatchObject({ state: 'prompt', error: expect.stringMatching(/does not let you choose a username/) });
    const tooLong = await answerJitPrompt(client, started.workflowId, { consent: true, password: 'p'.repeat(2000) }, sealer);
    expect(tooLong).toMatchObject({ state: 'prompt', error: expect.stringMatching(/longer than 1024/) });
    // An unsealed password sent straight to the workflow is refused by its validator.
    await expect(client.workflow.getHandle(started.workflowId).executeUpdate('jitAnswer', { args: [{ consent: true, password: 'clear-text-1A' }] })).rejects.toMatchObject({
      cause: { message: expect.stringMatching(/must be sealed/) },
    });
    done(await answerJitPrompt(client, started.workflowId, { consent: true, password: 'Good-pass-1' }, sealer));
    // Nothing waits now.
    expect(await answerJitPrompt(client, started.workflowId, { consent: true, password: 'Good-pass-1' }, sealer)).toMatchObject({ state: 'failed', reason: 'abandoned' });
  });

  it('prompt_consent declined: nothing is created', async () => {
    const started = await startJitLogin(client, a.taskQueue, loginInput(subject(), { preferred_username: 'jit-decliner' }, { scheme: 'prompt_consent' }));
    expect(started.outcome).toMatchObject({ state: 'prompt', prompt: 'consent', attributes: [{ attribute: 'userName', value: 'jit-decliner' }] });
    expect(await answerJitPrompt(client, started.workflowId, { consent: false }, sealer)).toMatchObject({ state: 'failed', reason: 'declined' });
    expect(await usersNamed(a, 'jit-decliner')).toHaveLength(0);
  });

  it('a prompt abandoned after the timeout creates nothing', async () => {
    const started = await startJitLogin(client, a.taskQueue, loginInput(subject(), { preferred_username: 'jit-abandoner' }, { scheme: 'prompt_consent', promptTimeoutSeconds: 30 }));
    expect(started.outcome.state).toBe('prompt');
    const final = await client.workflow.getHandle(started.workflowId).result();
    expect(final).toMatchObject({ state: 'failed', reason: 'abandoned' });
    expect(await usersNamed(a, 'jit-abandoner')).toHaveLength(0);
  }, 60_000);
});

describe('fail closed', () => {
  it('a blocking Enable JIT target that refuses: failed target_failed, and no user left', async () => {
    refusing.answers = Array.from({ length: 5 }, () => ({ status: 400, body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '400', detail: 'refused by policy' } }));
    const outcome = await login(loginInput(subject(), { preferred_username: 'jit-refused' }, {}, strictAppId));
    expect(outcome).toMatchObject({ state: 'failed', reason: 'target_failed' });
    expect(await usersNamed(a, 'jit-refused')).toHaveLength(0);
  });
});

describe('admin API', () => {
  it('links: list and delete (the next login is a first login again)', async () => {
    const sub = subject();
    const created = done(await login(loginInput(sub, { preferred_username: 'jit-unlinked' })));
    const [link] = await links(created.userId);
    expect((await a.request('DELETE', `/api/server/v1/users/${created.userId}/federated-links/${link!.id as string}`)).status).toBe(204);
    expect(await links(created.userId)).toHaveLength(0);
    expect((await a.request('DELETE', `/api/server/v1/users/${created.userId}/federated-links/${link!.id as string}`)).status).toBe(404);
    // Unlinked, the same identity meets a local user of that name: never taken over.
    expect(await login(loginInput(sub, { preferred_username: 'jit-unlinked' }))).toMatchObject({ state: 'failed', reason: 'username_taken' });
  });

  it('federated authenticator: masked, secret kept when left out, validated, removable', async () => {
    const path = `/api/server/v1/identity-providers/${idpId}/federated-authenticator`;
    expect((await json(a, 'GET', path)).status).toBe(404);
    const put = await json(a, 'PUT', path, { issuer: 'https://idp.example.test', clientId: 'is1', clientSecret: 'top-secret-value' });
    expect(put.status).toBe(200);
    expect(put.body.clientSecret).toBe('********');
    expect(JSON.stringify(put.body)).not.toContain('top-secret-value');
    const kept = await json(a, 'PUT', path, { issuer: 'https://idp.example.test', clientId: 'is1-renamed' });
    expect(kept.status).toBe(200);
    expect(kept.body).toMatchObject({ clientId: 'is1-renamed', clientSecret: '********' });
    const bad = await json(a, 'PUT', path, { issuer: 'http://idp.example.test', clientId: 'is1', scopes: ['profile'] });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.details)).toMatch(/https/);
    const view = await json(a, 'GET', `/api/server/v1/identity-providers/${idpId}`);
    expect(view.body.federatedAuthenticator).toMatchObject({ clientId: 'is1-renamed', clientSecret: '********' });
    expect(JSON.stringify(view.body)).not.toContain('top-secret-value');
    expect((await a.request('DELETE', path)).status).toBe(204);
    expect((await json(a, 'GET', path)).status).toBe(404);
  });

  it('JIT settings: the domain and mapped groups must exist; PATCH of the IdP', async () => {
    const path = `/api/server/v1/identity-providers/${idpId}/provisioning/jit`;
    expect((await json(a, 'GET', path)).body).toMatchObject({ enabled: false });
    const unknown = await json(a, 'PUT', path, { userStoreDomain: 'NOPE', groups: { mappings: [{ value: 'x', group: 'no-such-group' }] } });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body.details)).toMatch(/NOPE.*no-such-group|no-such-group.*NOPE/s);
    expect((await json(a, 'PUT', path, { scheme: 'loud' })).status).toBe(400);
    const ok = await json(a, 'PUT', path, { scheme: 'prompt_consent', attributeSync: 'PRESERVE_LOCAL' });
    expect(ok.status).toBe(200);
    expect((await json(a, 'GET', path)).body).toMatchObject({ enabled: true, scheme: 'prompt_consent', attributeSync: 'PRESERVE_LOCAL', userStoreDomain: 'PRIMARY' });
    const patched = await json(a, 'PATCH', `/api/server/v1/identity-providers/${idpId}`, { homeRealmIdentifier: 'corp-realm', description: 'the corporate IdP' });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ homeRealmIdentifier: 'corp-realm', description: 'the corporate IdP', jit: { scheme: 'prompt_consent' } });
    expect((await json(a, 'PUT', `/api/server/v1/users/${idpId}/email-verified`, { verified: true })).status).toBe(404);
    expect((await json(a, 'PUT', `/api/server/v1/users/${idpId}/email-verified`, { verified: 'yes' })).status).toBe(400);
  });
});
