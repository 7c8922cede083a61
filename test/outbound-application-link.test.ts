/**
 * Outbound provisioning through an application's own outbound link (seed 004: "outbound provisioning configured
 * for a service provider" besides the resident one): A's application `hr-app` is linked to B (blocking), the
 * resident service provider to nothing. A change made with hr-app's token goes to B, waits for it, and is undone
 * when B refuses it; the same change made by an operator (the resident service provider) stays on A; a change to a
 * user hr-app created, made by the operator, does not follow hr-app's link either (links apply to the changes an
 * application makes, as in WSO2).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { json, linkScim2Target, startInstance, type Instance } from './harness.js';

let a: Instance;
let b: Instance;
let token: string;
let appId: string;

async function asApp(method: string, pathname: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${a.baseUrl}${pathname}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body !== undefined && { 'Content-Type': 'application/scim+json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: res.headers };
}

async function atB(userName: string): Promise<Record<string, unknown> | undefined> {
  const list = await json(b, 'GET', `/scim2/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`);
  return (list.body.Resources as Record<string, unknown>[] | undefined)?.[0];
}

beforeAll(async () => {
  [a, b] = await Promise.all([startInstance('applink-a'), startInstance('applink-b')]);
  const app = await a.request(
    'POST',
    '/api/server/v1/applications',
    { name: 'hr-app', scopes: ['internal_user_mgt_create', 'internal_user_mgt_update', 'internal_user_mgt_view', 'internal_user_mgt_delete'] },
    { 'Content-Type': 'application/json' },
  );
  expect(app.status).toBe(201);
  const { id, clientId, clientSecret } = (await app.json()) as { id: string; clientId: string; clientSecret: string };
  appId = id;
  await linkScim2Target(a, b, { blocking: true, application: appId });
  const res = await fetch(`${a.baseUrl}/oauth2/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}` },
    body: 'grant_type=client_credentials',
  });
  token = ((await res.json()) as { access_token: string }).access_token;
});
afterAll(async () => {
  await Promise.allSettled([a?.stop(), b?.stop()]);
});

it("lists the link under the application, not under the resident service provider", async () => {
  const own = await json(a, 'GET', `/api/server/v1/applications/${appId}/provisioning/outbound-connectors`);
  expect((own.body as unknown as unknown[]).length).toBe(1);
  const resident = await json(a, 'GET', '/api/server/v1/applications/resident/provisioning/outbound-connectors');
  expect(resident.body).toEqual([]);
});

it("delivers the application's changes through its own link, blocking, and only those", async () => {
  // Created by hr-app: blocking, so B has it when A answers.
  const created = await asApp('POST', '/scim2/Users', { userName: 'app-link-ann', name: { givenName: 'Ann' }, emails: [{ value: 'ann@hr.io' }] });
  expect(created.status).toBe(201);
  expect(created.headers.get('x-provisioning-pending')).toBeNull();
  expect((await atB('app-link-ann'))?.name).toEqual({ givenName: 'Ann' });

  // Changed by hr-app: B follows, at once.
  const id = created.body.id as string;
  const patched = await asApp('PATCH', `/scim2/Users/${id}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'title', value: 'Lead' }] });
  expect(patched.status).toBe(200);
  expect((await atB('app-link-ann'))?.title).toBe('Lead');

  // Created by the operator (the resident service provider, which has no link), and changed by the operator: its
  // InboundProvision resolves no target, so nothing is queued for it.
  const byOperator = await json(a, 'POST', '/scim2/Users', { userName: 'app-link-ops' });
  expect(byOperator.status).toBe(201);
  const opsId = byOperator.body.id as string;
  expect((await json(a, 'PATCH', `/scim2/Users/${opsId}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'title', value: 'x' }] })).status).toBe(200);

  // Deleted by hr-app: gone at B too (blocking, so at once).
  expect((await asApp('DELETE', `/scim2/Users/${id}`)).status).toBe(204);
  expect(await atB('app-link-ann')).toBeUndefined();

  // By now every delivery queued before the deletion has happened (one fan-out per user, but the operator's user has
  // none): the operator's user never reached B and has no audit record and no remote link.
  expect(await atB('app-link-ops')).toBeUndefined();
  expect((await json(a, 'GET', `/api/server/v1/provisioning/audit?userId=${opsId}`)).body).toEqual([]);
  expect((await json(a, 'GET', `/api/server/v1/provisioning/users/${opsId}/remote-links`)).body).toEqual([]);

  // The audit of hr-app's user names the application as the initiator of each delivery.
  const trail = (await json(a, 'GET', `/api/server/v1/provisioning/audit?userId=${id}`)).body as unknown as { operation: string; outcome: string; initiator: string }[];
  expect(trail.map((t) => `${t.operation}:${t.outcome}`).sort()).toEqual(['create:delivered', 'delete:delivered', 'update:delivered']);
  expect(trail.every((t) => t.initiator.startsWith('hr-app'))).toBe(true);
});

it("undoes an application's change that its blocking target refuses", async () => {
  // B already has this userName (created there directly): A's create through hr-app meets B's 409, links to it, and
  // succeeds; a rename to a name B's user store refuses is the refusal.
  const b1 = await json(b, 'POST', '/scim2/Users', { userName: 'app-link-taken' });
  expect(b1.status).toBe(201);
  const created = await asApp('POST', '/scim2/Users', { userName: 'app-link-bob' });
  expect(created.status).toBe(201);
  const renamed = await asApp('PATCH', `/scim2/Users/${created.body.id as string}`, {
    schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
    Operations: [{ op: 'replace', path: 'userName', value: 'app-link-taken' }],
  });
  expect(renamed.status).toBe(400);
  expect(String(renamed.body.detail)).toMatch(/Refused by blocking target IS2\/scim2/);
  // Undone here: A's user keeps its name.
  const back = await json(a, 'GET', `/scim2/Users/${created.body.id as string}`);
  expect(back.body.userName).toBe('app-link-bob');
});
