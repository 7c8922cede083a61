/**
 * `/health`, `/ready` and the write gate on a real instance whose worker is not running (issue #8, hardening):
 * before, `/health` said ok while every write hung waiting for a workflow nobody ran. Now `/ready` names the
 * worker check, writes get 503 + Retry-After at once with nothing applied, reads are still served; once the
 * worker polls, the api becomes ready and writes are accepted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startInstance, type Instance } from './harness.js';

interface ReadyBody {
  status: string;
  checkedAt: string | null;
  checks: Record<string, { ok: boolean; latencyMs: number; error?: string }>;
}

let inst: Instance;

beforeAll(async () => {
  inst = await startInstance('gate', { worker: false });
});
afterAll(async () => {
  await inst?.stop();
});

const ready = async () => {
  const res = await fetch(`${inst.baseUrl}/ready`);
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as ReadyBody };
};

/** A request with the admin credential, timed. */
async function timed(method: string, path: string, body?: unknown, contentType = 'application/scim+json') {
  const t0 = Date.now();
  const res = await inst.request(method, path, body, body === undefined ? {} : { 'Content-Type': contentType });
  const text = await res.text();
  return { status: res.status, ms: Date.now() - t0, retryAfter: res.headers.get('retry-after'), type: res.headers.get('content-type') ?? '', body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

const userNamed = async (userName: string) =>
  (await (await inst.request('GET', `/scim2/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`)).json()) as { totalResults: number };

describe('an api whose worker is not running', () => {
  it('is alive (/health) but not ready (/ready names the worker check), without a credential and without addresses', async () => {
    const health = await fetch(`${inst.baseUrl}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });

    const r = await ready();
    expect(r.status).toBe(503);
    expect(Number(r.retryAfter)).toBeGreaterThan(0);
    expect(r.body.status).toBe('not_ready');
    expect(r.body.checks.database).toMatchObject({ ok: true });
    expect(r.body.checks.temporal).toMatchObject({ ok: true });
    expect(r.body.checks.worker).toMatchObject({ ok: false, error: expect.stringMatching(/no worker has polled/) });
    const text = JSON.stringify(r.body);
    const temporalPort = inst.temporalAddress.split(':').pop()!;
    expect(text).not.toContain('127.0.0.1');
    expect(text).not.toContain(temporalPort);
    expect(text).not.toContain(inst.taskQueue);
  });

  it('refuses SCIM 2.0, SCIM 1.1 and admin writes at once with 503 + Retry-After and the protocol\'s error body', async () => {
    const scim = await timed('POST', '/scim2/Users', { schemas: [], userName: 'gated-gina' });
    expect(scim.status).toBe(503);
    expect(scim.ms).toBeLessThan(5000); // at once: not the 30 s a blocked write would wait
    expect(Number(scim.retryAfter)).toBeGreaterThan(0);
    expect(scim.type).toMatch(/^application\/scim\+json/);
    expect(scim.body).toEqual({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '503',
      detail: expect.stringMatching(/not ready \(worker unavailable\): nothing was applied/),
    });
    for (const [method, path] of [
      ['PUT', '/scim2/Users/00000000-0000-0000-0000-000000000000'],
      ['PATCH', '/scim2/Groups/00000000-0000-0000-0000-000000000000'],
      ['DELETE', '/scim2/Users/00000000-0000-0000-0000-000000000000'],
      ['POST', '/scim2/Bulk'],
      ['POST', '/SCIM2/Users'], // express routes case-insensitively; so does the gate
    ] as const) {
      const r = await timed(method, path, { schemas: [] });
      expect(r.status, `${method} ${path}`).toBe(503);
      expect(r.retryAfter, `${method} ${path}`).not.toBeNull();
    }

    const scim11 = await timed('POST', '/wso2/scim/Users', { schemas: ['urn:scim:schemas:core:1.0'], userName: 'gated-gus' });
    expect(scim11.status).toBe(503);
    expect(scim11.retryAfter).not.toBeNull();
    expect(scim11.body).toEqual({ Errors: [{ code: '503', description: expect.stringMatching(/nothing was applied/) }] });

    const admin = await timed('POST', '/api/server/v1/userstores', { name: 'GATED', description: 'must not be created' }, 'application/json');
    expect(admin.status).toBe(503);
    expect(admin.retryAfter).not.toBeNull();
    expect(admin.body).toEqual({ code: 'not_ready', message: expect.stringMatching(/nothing was applied/) });

    // Nothing was applied.
    expect((await userNamed('gated-gina')).totalResults).toBe(0);
    expect((await userNamed('gated-gus')).totalResults).toBe(0);
    const stores = (await (await inst.request('GET', '/api/server/v1/userstores')).json()) as { name: string }[];
    expect(stores.map((s) => s.name)).not.toContain('GATED');
  });

  it('still serves reads, SCIM searches (POST .search) included', async () => {
    expect((await inst.request('GET', '/scim2/Users')).status).toBe(200);
    expect((await inst.request('GET', '/wso2/scim/Users')).status).toBe(200);
    expect((await inst.request('GET', '/api/server/v1/userstores')).status).toBe(200);
    const search = await timed('POST', '/scim2/Users/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: 'userName sw "gated"' });
    expect(search.status).toBe(200);
    expect(search.body.totalResults).toBe(0);
    expect((await timed('POST', '/scim2/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'] })).status).toBe(200);
  });

  it('becomes ready once the worker polls, and accepts writes', async () => {
    await inst.startWorker();
    const r = await eventually(async () => {
      const x = await ready();
      return x.status === 200 ? x : undefined;
    }, 60_000, '/ready 200 after the worker started');
    expect(r.retryAfter).toBeNull();
    expect(r.body.status).toBe('ready');
    for (const name of ['database', 'temporal', 'worker']) expect(r.body.checks[name], name).toMatchObject({ ok: true, latencyMs: expect.any(Number) });

    const created = await timed('POST', '/scim2/Users', { schemas: [], userName: 'gated-gina' });
    expect(created.status).toBe(201);
    expect((await userNamed('gated-gina')).totalResults).toBe(1);
    expect((await timed('POST', '/api/server/v1/userstores', { name: 'GATED' }, 'application/json')).status).toBe(201);
  });
});
