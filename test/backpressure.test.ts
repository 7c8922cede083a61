/**
 * Backpressure on writes (issue #11), through real processes: an instance whose admission bound is 2 writes, linked
 * to a blocking SCIM target that holds every create until the test lets it answer (a local HTTP server).
 *
 * Before: a flood of creates against a held target all hung for the blocking timeout (200 creates: 35-41 s each) and
 * with a stopped worker every write hung 40 s and was answered 202; nobody was ever told to come back later. Now:
 * two writes take the bound; the rest are refused at once with 429, Retry-After, their protocol's error body and
 * the Idempotency-Key to repeat them with, and nothing of them is applied; with the bound full, the two held writes
 * are answered 202 (accepted, still running) after ENGINE_TIMEOUT_MS instead of hanging, and keep their places until
 * their workflows end. Reads are served throughout. After the release the store holds exactly the accepted writes, and a
 * refused create repeated with its key is applied, once.
 *
 * Order and state only: no assertion on how long anything took.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startInstance, type Instance, type Json } from './harness.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** A SCIM 2.0 target that holds every POST until `release()`, and answers the ones after it at once. */
async function startHoldingTarget() {
  const held: http.ServerResponse[] = [];
  let released = false;
  let next = 0;
  const created = (res: http.ServerResponse) => {
    res.writeHead(201, { 'content-type': 'application/scim+json' });
    res.end(JSON.stringify({ schemas: [USER], id: `remote-${++next}` }));
  };
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.method !== 'POST') {
        res.writeHead(200, { 'content-type': 'application/scim+json' });
        res.end(JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 0, Resources: [] }));
      } else if (released) created(res);
      else held.push(res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    held: () => held.length,
    release() {
      released = true;
      for (const res of held.splice(0)) created(res);
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

interface Answer {
  status: number;
  body: Json;
  headers: Headers;
}

async function call(inst: Instance, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await inst.request(method, path, body, headers);
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {}, headers: res.headers };
}

const create = (inst: Instance, userName: string, headers: Record<string, string> = {}) => call(inst, 'POST', '/scim2/Users', { schemas: [USER], userName }, headers);

async function userNames(inst: Instance, prefix: string): Promise<string[]> {
  const list = await call(inst, 'GET', `/scim2/Users?count=200&filter=${encodeURIComponent(`userName sw "${prefix}"`)}`);
  expect(list.status).toBe(200);
  return ((list.body.Resources as Json[] | undefined) ?? []).map((r) => String(r.userName)).sort();
}

/** A 429 as every protocol gives it: Retry-After of at least a second. */
function expectRefused(a: Answer, what: string): void {
  expect(a.status, what).toBe(429);
  expect(Number(a.headers.get('retry-after')), what).toBeGreaterThanOrEqual(1);
}

let inst: Instance;
let target: Awaited<ReturnType<typeof startHoldingTarget>>;

beforeAll(async () => {
  target = await startHoldingTarget();
  inst = await startInstance('backpressure', {
    captureOutput: true,
    env: {
      WRITE_CONCURRENCY: '2',
      WRITE_QUEUE_TIMEOUT_MS: '200',
      ENGINE_TIMEOUT_MS: '3000',
      // The held writes wait for their blocking target far longer than this test holds them: what they get is the
      // bound's doing, not a timeout's.
      BLOCKING_TIMEOUT_MS: '300000',
      REQUEST_TIMEOUT_MS: '310000',
      LOG_LEVEL: 'info',
    },
  });
  const idp = await call(inst, 'POST', '/api/server/v1/identity-providers', {
    name: 'HOLDING',
    outboundConnectors: [
      { type: 'scim2', settings: { userEndpoint: `${target.base}/scim2/Users`, username: 'u', userStoreDomain: 'PRIMARY', timeoutMs: 300_000 }, secrets: { password: 'p' } },
    ],
  });
  expect(idp.status).toBe(201);
  const connectorId = (idp.body.outboundConnectors as Json[])[0]!.id;
  const link = await call(inst, 'POST', '/api/server/v1/applications/resident/provisioning/outbound-connectors', { connectorId, blocking: true });
  expect(link.status).toBe(201);
});

afterAll(async () => {
  target?.release();
  await inst?.stop();
  await target?.close();
});

describe('a flood of creates against a saturated instance', () => {
  const accepted: Answer[] = [];
  const refused: { userName: string; answer: Answer }[] = [];
  const held: { userName: string; answer: Answer }[] = [];

  it('two take the bound and are held at the target; the others are refused at once with 429, Retry-After and a key, nothing applied', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `bp-flood-${String(i).padStart(2, '0')}`);
    // Every answer comes while the target still holds what it got: the refusals at once, and the two held creates
    // after ENGINE_TIMEOUT_MS (3 s here), long before their blocking timeout (300 s) or the test's.
    const answers = await Promise.all(names.map(async (userName) => ({ userName, answer: await create(inst, userName) })));
    for (const { userName, answer } of answers) {
      expect(answer.status, userName).toBeLessThan(500);
      if (answer.status === 429) refused.push({ userName, answer });
      else held.push({ userName, answer });
    }
    expect(refused).toHaveLength(10);
    // On a loaded machine the two may be answered before their deliveries reach the target: they get there, and stay.
    await eventually(() => Promise.resolve(target.held() >= 2 ? true : undefined), 60_000, 'the two accepted creates held at the target');
    expect(target.held()).toBe(2);
    for (const { userName, answer } of refused) {
      expectRefused(answer, userName);
      expect(answer.headers.get('content-type')).toMatch(/^application\/scim\+json/);
      expect(answer.body).toEqual({ schemas: [ERROR], status: '429', detail: expect.stringMatching(/saturated[\s\S]*nothing was applied[\s\S]*Idempotency-Key/) });
      expect(answer.headers.get('idempotency-key')).toMatch(/^"[^"]+"$/);
    }
    // Nothing of a refused write was applied; the two held ones were (the store is written before the target waits).
    expect(await userNames(inst, 'bp-flood-')).toEqual(held.map((h) => h.userName).sort());
  });

  it('with the bound full, the held creates are answered 202 (accepted, where to read the outcome) instead of hanging, and keep their places', async () => {
    expect(held).toHaveLength(2);
    for (const { answer } of held) {
      expect(answer.status).toBe(202);
      expect(answer.body).toMatchObject({ status: 'running', location: expect.stringContaining('/api/server/v1/provisioning/requests/') });
      expect(answer.headers.get('idempotency-key')).not.toBeNull();
      accepted.push(answer);
    }
    // Their places are still taken while their workflows wait on the target: the next write is refused too.
    const next = await create(inst, 'bp-still-full');
    expectRefused(next, 'bp-still-full');
    refused.push({ userName: 'bp-still-full', answer: next });
    expect(target.held()).toBe(2);
  });

  it('SCIM 1.1, /Bulk and the admin API refuse in their own error bodies; reads are served', async () => {
    const scim11 = await call(inst, 'POST', '/wso2/scim/Users', { schemas: ['urn:scim:schemas:core:1.0'], userName: 'bp-scim11' });
    expectRefused(scim11, 'SCIM 1.1');
    expect(scim11.body).toEqual({ Errors: [{ code: '429', description: expect.stringMatching(/nothing was applied/) }] });
    expect(scim11.headers.get('idempotency-key')).not.toBeNull();

    const bulk = await call(inst, 'POST', '/scim2/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [{ method: 'POST', path: '/Users', bulkId: 'b1', data: { schemas: [USER], userName: 'bp-bulk' } }],
    });
    expectRefused(bulk, 'Bulk');
    expect(bulk.body).toEqual({ schemas: [ERROR], status: '429', detail: expect.stringMatching(/nothing was applied/) });

    const role = await call(inst, 'POST', '/api/server/v1/roles', { name: 'bp-role' }, { 'Content-Type': 'application/json' });
    expectRefused(role, 'admin');
    expect(role.body).toEqual({ code: 'too_many_requests', message: expect.stringMatching(/nothing was applied/) });
    // The admin API's configuration writes are not workflows: not counted.
    expect((await call(inst, 'POST', '/api/server/v1/userstores', { name: 'BPSTORE' }, { 'Content-Type': 'application/json' })).status).toBe(201);

    expect((await call(inst, 'GET', '/scim2/Users?count=1')).status).toBe(200);
    expect((await call(inst, 'POST', '/scim2/Users/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], count: 1 })).status).toBe(200);
    expect((await call(inst, 'GET', '/wso2/scim/Users')).status).toBe(200);
    expect((await call(inst, 'GET', '/api/server/v1/roles')).status).toBe(200);
  });

  it('after the release: the store holds exactly the accepted creates, and their status says 201', async () => {
    target.release();
    for (const a of accepted) {
      const location = String(a.body.location).replace(inst.baseUrl, '');
      const done = await eventually(async () => {
        const s = await call(inst, 'GET', location);
        return s.body.status === 'completed' ? s : undefined;
      }, 60_000, 'the accepted creates completed');
      expect((done.body.response as Json).status).toBe(201);
    }
    const names = await userNames(inst, 'bp-');
    const acceptedNames = held.map((h) => h.userName).sort();
    expect(names).toEqual(acceptedNames);
    for (const r of refused) expect(names).not.toContain(r.userName);
  });

  it('a refused create repeated with the key its 429 gave is applied, once', async () => {
    const { userName, answer } = refused[0]!;
    const key = answer.headers.get('idempotency-key')!;
    const again = await eventually(async () => {
      const a = await create(inst, userName, { 'Idempotency-Key': key });
      return a.status === 429 ? undefined : a; // the bound frees up as the held workflows finish
    }, 60_000, 'the repeated create admitted');
    expect(again.status).toBe(201);
    expect(again.body.userName).toBe(userName);
    const twice = await create(inst, userName, { 'Idempotency-Key': key });
    expect(twice.status).toBe(201);
    expect(twice.body.id).toBe(again.body.id);
    expect(await userNames(inst, userName)).toEqual([userName]);
  });

  it('logged the overload once per episode, not once per refused request', () => {
    const lines = inst.output().filter((l) => l.startsWith('[api]') && l.includes('"component":"admission"'));
    const began = lines.filter((l) => l.includes('"msg":"overloaded'));
    expect(refused.length).toBeGreaterThan(10);
    expect(began.length).toBeGreaterThanOrEqual(1);
    expect(began.length).toBeLessThanOrEqual(3);
  });
});
