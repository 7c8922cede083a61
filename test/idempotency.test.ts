/**
 * Answers tell the truth and retries are safe (issue #8, found by a reviewer: with Temporal down, creates answered
 * 503 "try again" had in fact been applied, so the retry got 409; requests could wait without bound).
 *
 * - Idempotency-Key (IETF httpapi draft): the same write with the same key is applied once and answered alike, also
 *   when sent concurrently, for POST, PATCH, DELETE, Bulk and SCIM 1.1; the key with another request is 422; a
 *   malformed key is 400.
 * - A write whose workflow does not finish within REQUEST_TIMEOUT_MS (the instance's worker stopped) is 202 Accepted
 *   with the location of its status and the key; the status and a retry with the key then give the final answer.
 * - With the Temporal server down mid-request, the answer is 503 + Retry-After + the Idempotency-Key the server
 *   generated; once it is back, a retry with that key is applied exactly once.
 *
 * Real processes: one instance on the shared Temporal dev server, one on a dev server of this file's own that is
 * stopped and started again on the same port and data (as test/outbound-temporal-restart.test.ts does).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startDevServer, type DevServer } from '../src/temporal/dev-server.js';
import { eventually, startInstance, testStack, type Instance, type Json } from './harness.js';
import { freePort } from './support/ports.js';

interface Answer {
  status: number;
  body: Json;
  headers: Headers;
}

async function call(instance: Instance, method: string, pathname: string, body?: unknown, key?: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await instance.request(method, pathname, body, { ...(key !== undefined && { 'Idempotency-Key': key }), ...headers });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {}, headers: res.headers };
}

async function count(instance: Instance, userName: string): Promise<number> {
  const list = await call(instance, 'GET', `/scim2/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`);
  return list.body.totalResults as number;
}

const newUser = (userName: string, extra: Json = {}) => ({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName, ...extra });
const patchOp = (op: Json) => ({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [op] });
const sf = (key: string) => `"${key}"`;

describe('Idempotency-Key on SCIM writes', () => {
  let a: Instance;
  beforeAll(async () => {
    a = await startInstance('idem');
  });
  afterAll(async () => {
    await a?.stop();
  });

  it('the same POST with the same key twice creates one user, and the second answer equals the first', async () => {
    const key = sf(randomUUID());
    const first = await call(a, 'POST', '/scim2/Users', newUser('idem-twice', { displayName: 'Twice' }), key);
    expect(first.status).toBe(201);
    const second = await call(a, 'POST', '/scim2/Users', newUser('idem-twice', { displayName: 'Twice' }), key);
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('location')).toBe(first.headers.get('location'));
    expect(second.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(await count(a, 'idem-twice')).toBe(1);
    // Without a key, the same body is a new request: the user exists now, so it is the usual 409.
    expect((await call(a, 'POST', '/scim2/Users', newUser('idem-twice', { displayName: 'Twice' }))).status).toBe(409);
  });

  it('concurrent requests with the same key create one user and all get its answer', async () => {
    const key = sf(`concurrent-${randomUUID()}`);
    const answers = await Promise.all(Array.from({ length: 5 }, () => call(a, 'POST', '/scim2/Users', newUser('idem-concurrent'), key)));
    expect(answers.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    expect(new Set(answers.map((r) => r.body.id)).size).toBe(1);
    expect(await count(a, 'idem-concurrent')).toBe(1);
  });

  it('the same key with another request is 422, and a malformed or too long key is 400; neither changes anything', async () => {
    const key = sf(randomUUID());
    const created = await call(a, 'POST', '/scim2/Users', newUser('idem-reused'), key);
    expect(created.status).toBe(201);
    const otherBody = await call(a, 'POST', '/scim2/Users', newUser('idem-reused-other'), key);
    expect(otherBody.status).toBe(422);
    expect(otherBody.body.detail).toMatch(/Idempotency-Key .* different request/);
    // Another method and path with the same key is another request too (the key, not the operation, names it).
    const otherMethod = await call(a, 'DELETE', `/scim2/Users/${String(created.body.id)}`, undefined, key);
    expect(otherMethod.status).toBe(422);
    expect(await count(a, 'idem-reused-other')).toBe(0);
    expect((await call(a, 'GET', `/scim2/Users/${String(created.body.id)}`)).status).toBe(200);

    for (const bad of ['not-a-string', '"unterminated', `"${'k'.repeat(256)}"`, '""']) {
      const res = await call(a, 'POST', '/scim2/Users', newUser('idem-bad-key'), bad);
      expect(res.status, bad).toBe(400);
      expect(res.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
      expect(String(res.body.detail)).toMatch(/Idempotency-Key/);
    }
    expect(await count(a, 'idem-bad-key')).toBe(0);
  });

  it('a PATCH and a DELETE retried with their key apply once', async () => {
    const user = await call(a, 'POST', '/scim2/Users', newUser('idem-patch', { emails: [{ value: 'one@example.org', type: 'work' }] }));
    expect(user.status).toBe(201);
    const id = String(user.body.id);
    // An add is not idempotent by itself: applied twice it would add the value twice (or bump the version twice).
    const add = patchOp({ op: 'add', path: 'emails', value: [{ value: 'two@example.org', type: 'home' }] });
    const patchKey = sf(randomUUID());
    const patched = await call(a, 'PATCH', `/scim2/Users/${id}`, add, patchKey, { 'If-Match': 'W/"1"' });
    expect(patched.status).toBe(200);
    // The retry's If-Match no longer matches (the first attempt moved the user to version 2): it still gets the first answer.
    const retried = await call(a, 'PATCH', `/scim2/Users/${id}`, add, patchKey, { 'If-Match': 'W/"1"' });
    expect(retried.status).toBe(200);
    expect(retried.body).toEqual(patched.body);
    const unconditional = patchOp({ op: 'add', path: 'emails', value: [{ value: 'three@example.org', type: 'other' }] });
    const keyB = sf(randomUUID());
    const p1 = await call(a, 'PATCH', `/scim2/Users/${id}`, unconditional, keyB);
    const p2 = await call(a, 'PATCH', `/scim2/Users/${id}`, unconditional, keyB);
    expect([p1.status, p2.status]).toEqual([200, 200]);
    expect(p2.body).toEqual(p1.body);
    const now = await call(a, 'GET', `/scim2/Users/${id}`);
    expect(now.headers.get('etag')).toBe('W/"3"');
    expect((now.body.emails as Json[]).map((e) => e.value)).toEqual(['one@example.org', 'two@example.org', 'three@example.org']);

    const deleteKey = sf(randomUUID());
    const deleted = await call(a, 'DELETE', `/scim2/Users/${id}`, undefined, deleteKey);
    expect(deleted.status).toBe(204);
    // The user is gone, yet the retry of the delete is answered as the delete was, not 404.
    const again = await call(a, 'DELETE', `/scim2/Users/${id}`, undefined, deleteKey);
    expect(again.status).toBe(204);
    expect((await call(a, 'DELETE', `/scim2/Users/${id}`)).status).toBe(404);
  });

  it('a Bulk request repeated with its key answers each operation as the first time, applying nothing twice', async () => {
    const key = sf(randomUUID());
    const bulk = {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'u', data: newUser('idem-bulk') },
        { method: 'PATCH', path: '/Users/bulkId:u', data: patchOp({ op: 'add', path: 'emails', value: [{ value: 'bulk@example.org' }] }) },
      ],
    };
    const first = await call(a, 'POST', '/scim2/Bulk', bulk, key);
    expect(first.status).toBe(200);
    expect((first.body.Operations as Json[]).map((o) => o.status)).toEqual(['201', '200']);
    const second = await call(a, 'POST', '/scim2/Bulk', bulk, key);
    expect(second.body).toEqual(first.body);
    expect(await count(a, 'idem-bulk')).toBe(1);
    const id = String((first.body.Operations as Json[])[0]!.location).split('/').pop()!;
    expect((await call(a, 'GET', `/scim2/Users/${id}`)).headers.get('etag')).toBe('W/"2"');
  });

  it('the SCIM 1.1 endpoint goes through the same keyed writes', async () => {
    const key = sf(randomUUID());
    const body = { schemas: ['urn:scim:schemas:core:1.0'], userName: 'idem-scim11' };
    const first = await call(a, 'POST', '/wso2/scim/Users', body, key, { 'Content-Type': 'application/json' });
    const second = await call(a, 'POST', '/wso2/scim/Users', body, key, { 'Content-Type': 'application/json' });
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.body.id).toBe(first.body.id);
    expect(await count(a, 'idem-scim11')).toBe(1);
  });
});

describe('bounded waits and an engine that goes away', () => {
  let temporal: DevServer | undefined;
  let tmp: string;
  let port: number;
  let uiPort: number;
  let b: Instance | undefined;
  const REQUEST_TIMEOUT_MS = 4000;
  const startTemporal = async () =>
    startDevServer({ cliPath: inject('temporalCliPath'), dbFile: path.join(tmp, 'temporal.db'), port, uiPort, output: null });

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'idempotency-temporal-'));
    [port, uiPort] = [await freePort(), await freePort()];
    temporal = await startTemporal();
    const stack = { ...(await testStack()), temporalAddress: temporal.address };
    b = await startInstance('bounded', { stack, env: { BLOCKING_TIMEOUT_MS: '1000', REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) } });
  });
  afterAll(async () => {
    await b?.stop();
    await temporal?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** An application with a client-credentials token that may create users; its writes and status reads use it. */
  async function applicationToken(name: string): Promise<string> {
    const app = await b!.request('POST', '/api/server/v1/applications', {
      name,
      grantTypes: ['client_credentials'],
      scopes: ['internal_user_mgt_create', 'internal_user_mgt_view'],
      inboundProvisioning: { userStoreDomain: 'PRIMARY' },
    }, { 'Content-Type': 'application/json' });
    expect(app.status).toBe(201);
    const { clientId, clientSecret } = (await app.json()) as { clientId: string; clientSecret: string };
    const res = await fetch(`${b!.baseUrl}/oauth2/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}` },
      body: 'grant_type=client_credentials',
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { access_token: string }).access_token;
  }

  async function bearer(token: string | undefined, method: string, url: string, body?: unknown, key?: string): Promise<Answer> {
    const res = await fetch(url.startsWith('http') ? url : `${b!.baseUrl}${url}`, {
      method,
      headers: {
        ...(token !== undefined && { Authorization: `Bearer ${token}` }),
        ...(body !== undefined && { 'Content-Type': 'application/scim+json' }),
        ...(key !== undefined && { 'Idempotency-Key': key }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Json) : {}, headers: res.headers };
  }

  it('a write that outlasts REQUEST_TIMEOUT_MS is 202 with its status location and key; the status and a retry then give the final answer', async () => {
    const token = await applicationToken('poller');
    const other = await applicationToken('someone-else');
    const key = sf(randomUUID());
    const body = newUser('idem-slow', { displayName: 'Slow' });
    await b!.stopWorker();
    let accepted: Answer;
    try {
      const t0 = Date.now();
      accepted = await bearer(token, 'POST', '/scim2/Users', body, key);
      expect(Date.now() - t0).toBeLessThan(REQUEST_TIMEOUT_MS + 3000);
      expect(accepted.status).toBe(202);
      const location = accepted.headers.get('location')!;
      expect(location).toMatch(new RegExp(`^${b!.baseUrl}/api/server/v1/provisioning/requests/inbound-idem-[0-9a-f]{64}$`));
      expect(accepted.headers.get('content-location')).toBe(location);
      expect(accepted.headers.get('idempotency-key')).toBe(key);
      expect(accepted.headers.get('retry-after')).toBeTruthy();
      expect(accepted.body).toMatchObject({ status: 'running', location, idempotencyKey: key.slice(1, -1) });
      expect(String(accepted.body.detail)).toMatch(/accepted and is still being applied/);

      // The status resource: the application that made the request reads it, another application cannot.
      expect((await bearer(token, 'GET', location)).body).toMatchObject({ status: 'running', operation: 'create', resourceType: 'User' });
      expect((await bearer(other, 'GET', location)).status).toBe(404);
      expect((await bearer(undefined, 'GET', location)).status).toBe(401);
      // A retry while it still runs waits again (within the bound) and is 202 again, starting nothing new.
      expect((await bearer(token, 'POST', '/scim2/Users', body, key)).status).toBe(202);
    } finally {
      await b!.startWorker();
    }
    const location = accepted.headers.get('location')!;
    const done = await eventually(
      async () => {
        const s = await call(b!, 'GET', location.slice(b!.baseUrl.length));
        return s.body.status === 'completed' ? s.body : undefined;
      },
      60_000,
      'the accepted create to complete',
    );
    const response = done.response as { status: number; body: Json; headers: Record<string, string> };
    expect(response.status).toBe(201);
    expect(response.body.userName).toBe('idem-slow');
    const retry = await bearer(token, 'POST', '/scim2/Users', body, key);
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(response.body);
    expect(retry.headers.get('location')).toBe(response.headers.Location);
    expect(await count(b!, 'idem-slow')).toBe(1);
  });

  it('with the Temporal server down, a create is 503 + Retry-After + Idempotency-Key; the retry with that key applies it once', async () => {
    await temporal!.stop();
    temporal = undefined;
    let unavailable: Answer;
    try {
      const t0 = Date.now();
      unavailable = await call(b!, 'POST', '/scim2/Users', newUser('idem-engine-down'));
      expect(Date.now() - t0).toBeLessThan(REQUEST_TIMEOUT_MS + 5000);
    } finally {
      temporal = await startTemporal();
    }
    expect(unavailable.status).toBe(503);
    expect(Number(unavailable.headers.get('retry-after'))).toBeGreaterThan(0);
    const key = unavailable.headers.get('idempotency-key')!;
    expect(key).toMatch(/^"[0-9a-f-]{36}"$/);
    // Either the attempt's answer (the engine did not confirm the start), or, once the api has seen the engine go, the
    // readiness gate's (nothing attempted): both give the key to repeat the request with.
    expect(String(unavailable.body.detail)).toMatch(/did not confirm the request; it may have been accepted\. Repeat it with the same Idempotency-Key|not ready .*nothing was applied/);

    // The engine is back (the api and worker reconnect by themselves): the retry with the key is applied, once.
    const created = await eventually(
      async () => {
        const r = await call(b!, 'POST', '/scim2/Users', newUser('idem-engine-down'), key);
        expect([201, 202, 503]).toContain(r.status);
        return r.status === 201 ? r : undefined;
      },
      120_000,
      'the retried create to be applied',
    );
    expect(await count(b!, 'idem-engine-down')).toBe(1);
    const again = await call(b!, 'POST', '/scim2/Users', newUser('idem-engine-down'), key);
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(created.body.id);
  });
});
