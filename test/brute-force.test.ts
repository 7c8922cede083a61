/**
 * Guessing is slowed and stopped (issue #8 "Hardening"), over real HTTP on real processes: the password grant
 * (WSO2's account locking: lock after N failures, the right password refused while locked, the lock growing by
 * the factor, audit, admin unlock; per-address 429), the admin credential (per-address 429, never a global lock:
 * the operator keeps access from elsewhere) and OAuth client authentication (429, the right secret refused while
 * throttled, client_secret_basic and client_secret_post).
 *
 * Distinct client addresses are real: Linux routes all of 127.0.0.0/8 to loopback, so requests leave from
 * 127.0.0.2, 127.0.0.3, ... (node:http `localAddress`) to the api on 127.0.0.1; no forwarded headers. The
 * harness's own admin requests come from 127.0.0.1, which no test makes fail. Limits are small (3 failures lock,
 * locks of 2 s growing by 2, 5 failures per address per minute) so the file runs in seconds.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startInstance, type Instance, type Json } from './harness.js';

const MAX_ATTEMPTS = 3;
/** Long enough that no lock lapses while a test is still counting on it, on a loaded machine; short enough to wait out. */
const LOCK_SECONDS = 6;
const ADDRESS_MAX = 5;

let is: Instance;

beforeAll(async () => {
  is = await startInstance('bruteforce', {
    env: {
      ACCOUNT_LOCK_ON_FAILURE_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      ACCOUNT_LOCK_TIME_SECONDS: String(LOCK_SECONDS),
      ACCOUNT_LOCK_LOGIN_FAIL_TIMEOUT_RATIO: '2',
      ACCOUNT_LOCK_MAX_TIME_SECONDS: '60',
      LOGIN_ADDRESS_MAX_FAILURES: String(ADDRESS_MAX),
      LOGIN_ADDRESS_WINDOW_SECONDS: '60',
    },
  });
});
afterAll(async () => {
  await is?.stop();
});

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Json;
}

/** One request from the loopback address `from`, on a connection of its own. */
function send(from: string, method: string, pathname: string, opts: { headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers = { ...opts.headers, ...(opts.body !== undefined && { 'Content-Length': String(Buffer.byteLength(opts.body)) }) };
    const req = http.request(`${is.baseUrl}${pathname}`, { method, headers, localAddress: from, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: Json;
        try {
          body = text ? (JSON.parse(text) as Json) : {};
        } catch {
          body = { text };
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Retry-After as a number of seconds (RFC 9110 §10.2.3 delay-seconds), within the limits configured above. */
function retryAfter(a: Answer): number {
  const v = Number(a.headers['retry-after']);
  expect(Number.isInteger(v), `Retry-After: ${String(a.headers['retry-after'])}`).toBe(true);
  expect(v).toBeGreaterThanOrEqual(1);
  expect(v).toBeLessThanOrEqual(60);
  return v;
}

interface App {
  id: string;
  clientId: string;
  clientSecret: string;
}
let app: App;

async function createUser(userName: string, password: string): Promise<string> {
  const res = await json(is, 'POST', '/scim2/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName, password });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

function passwordGrant(from: string, username: string, password: string, client: { clientId: string; clientSecret: string } = app): Promise<Answer> {
  return send(from, 'POST', '/oauth2/token', {
    headers: { Authorization: basic(client.clientId, client.clientSecret), 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username, password, scope: 'internal_login' }).toString(),
  });
}

function clientCredentials(from: string, clientId: string, clientSecret: string, auth: 'basic' | 'post' = 'basic'): Promise<Answer> {
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded' };
  if (auth === 'basic') headers.Authorization = basic(clientId, clientSecret);
  else {
    form.set('client_id', clientId);
    form.set('client_secret', clientSecret);
  }
  return send(from, 'POST', '/oauth2/token', { headers, body: form.toString() });
}

async function securityEvents(query: string): Promise<Json[]> {
  const res = await json(is, 'GET', `/api/server/v1/security/events?${query}`);
  expect(res.status).toBe(200);
  return res.body as unknown as Json[];
}

const lockMs = (e: Json) => new Date(e.lockedUntil as string).getTime() - new Date(e.createdAt as string).getTime();

beforeAll(async () => {
  const res = await json(is, 'POST', '/api/server/v1/applications', {
    name: 'bruteforce-app',
    grantTypes: ['client_credentials', 'password'],
    scopes: ['internal_login', 'internal_user_mgt_view'],
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  app = res.body as unknown as App;
});

describe('password grant', () => {
  it('locks the account after the maximum failed attempts and refuses the right password while locked (issue #8: 300 wrong passwords on the password grant in 20 s)', async () => {
    const userId = await createUser('alice', 'Alice-pass1');
    for (let i = 1; i < MAX_ATTEMPTS; i++) {
      const wrong = await passwordGrant('127.0.0.2', 'alice', `wrong-${i}`);
      expect(wrong.status).toBe(400);
      expect(wrong.body).toEqual({ error: 'invalid_grant', error_description: 'invalid username or password' });
    }
    const locking = await passwordGrant('127.0.0.2', 'alice', 'wrong-last');
    expect(locking.status).toBe(400);
    expect(locking.body.error).toBe('invalid_grant');
    expect(locking.body.error_description).toMatch(/^the account is locked/);

    // The right password, from the same address and from another: the account is locked for everyone.
    for (const from of ['127.0.0.2', '127.0.0.3']) {
      const right = await passwordGrant(from, 'alice', 'Alice-pass1');
      expect(right.status).toBe(400);
      expect(right.body.error).toBe('invalid_grant');
      expect(right.body.error_description).toMatch(/account is locked.*ask an operator to unlock it/);
      expect(right.body.access_token).toBeUndefined();
    }

    // Audited: who, from where, until when, why; never the password.
    const [locked, ...more] = await securityEvents(`type=account_locked&account=${userId}`);
    expect(more).toEqual([]);
    expect(locked).toMatchObject({ kind: 'user', account: userId, address: '127.0.0.2', actor: 'system' });
    expect(locked!.reason).toContain('PRIMARY/alice');
    expect(JSON.stringify(locked)).not.toMatch(/wrong-|Alice-pass1/);
    expect(lockMs(locked!)).toBe(LOCK_SECONDS * 1000);
    const locks = await json(is, 'GET', `/api/server/v1/security/locks?kind=user&blocked=true&account=${userId}`);
    expect(locks.body).toEqual([expect.objectContaining({ kind: 'user', scope: 'account', account: userId, blocked: true, lockCount: 1 })]);

    // An operator unlocks it: the right password works at once.
    const unlock = await json(is, 'POST', `/api/server/v1/users/${userId}/unlock`);
    expect(unlock).toEqual({ status: 200, body: { id: userId, userName: 'alice', wasLocked: true, locked: false } });
    const after = await passwordGrant('127.0.0.2', 'alice', 'Alice-pass1');
    expect(after.status, JSON.stringify(after.body)).toBe(200);
    expect(typeof after.body.access_token).toBe('string');
    expect(await securityEvents(`type=account_unlocked&account=${userId}`)).toEqual([
      expect.objectContaining({ kind: 'user', account: userId, actor: 'admin via admin-api', lockedUntil: null }),
    ]);
    expect((await json(is, 'POST', '/api/server/v1/users/not-a-user/unlock')).status).toBe(404);
  });

  it('grows the lock by the increment factor on a second lock; a lock ends by itself, and a success starts over', async () => {
    const userId = await createUser('bob', 'Bob-pass1');
    const lockOnce = async (from: string) => {
      let last: Answer | undefined;
      for (let i = 0; i < MAX_ATTEMPTS; i++) last = await passwordGrant(from, 'bob', `nope-${i}`);
      expect(last!.body.error_description).toMatch(/^the account is locked/);
    };
    await lockOnce('127.0.0.4');
    await sleep(LOCK_SECONDS * 1000 + 300); // the first lock ends, and no success resets the lock count
    await lockOnce('127.0.0.5');
    const [second, first] = await securityEvents(`type=account_locked&account=${userId}`);
    expect(lockMs(first!)).toBe(LOCK_SECONDS * 1000);
    expect(lockMs(second!)).toBe(2 * LOCK_SECONDS * 1000); // the first lock x 2

    // Longer than the first lock lasted, it still holds; after its end the right password works (WSO2's auto unlock).
    await sleep(LOCK_SECONDS * 1000 + 300);
    expect((await passwordGrant('127.0.0.6', 'bob', 'Bob-pass1')).body.error_description).toMatch(/^the account is locked/);
    await sleep(Math.max(0, new Date(second!.lockedUntil as string).getTime() - Date.now()) + 300);
    expect((await passwordGrant('127.0.0.6', 'bob', 'Bob-pass1')).status).toBe(200);

    // The success forgot the lock count (WSO2 resets failedLoginLockoutCount): the next lock is the initial one.
    await lockOnce('127.0.0.9');
    const [third] = await securityEvents(`type=account_locked&account=${userId}`);
    expect(lockMs(third!)).toBe(LOCK_SECONDS * 1000);
  });

  it('throttles an address after its failure limit with 429 and Retry-After, the right password included, while other addresses go on', async () => {
    await createUser('carol', 'Carol-pass1');
    for (let i = 1; i < ADDRESS_MAX; i++) {
      // Unknown users: nothing to lock, only the address counts.
      expect((await passwordGrant('127.0.0.7', `nobody-${i}`, 'whatever')).body.error_description).toBe('invalid username or password');
    }
    const tripping = await passwordGrant('127.0.0.7', 'nobody-last', 'whatever');
    expect(tripping.status).toBe(429);
    expect(tripping.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.stringMatching(/too many failed attempts/) as unknown });
    retryAfter(tripping);
    const right = await passwordGrant('127.0.0.7', 'carol', 'Carol-pass1');
    expect(right.status).toBe(429);
    expect(right.body.error).toBe('temporarily_unavailable');
    retryAfter(right);
    expect((await passwordGrant('127.0.0.8', 'carol', 'Carol-pass1')).status).toBe(200);
    expect(await securityEvents('type=address_throttled&address=127.0.0.7')).toEqual([
      expect.objectContaining({ kind: 'user', account: null, address: '127.0.0.7', actor: 'system' }),
    ]);
  });
});

describe('admin credential', () => {
  const scimUsers = (from: string, user: string, password: string) =>
    send(from, 'GET', '/scim2/Users?count=1', { headers: { Authorization: basic(user, password) } });

  it('throttles an address after the address limit (SCIM and admin API error shapes); the right credential is refused there and works from another address', async () => {
    for (let i = 1; i < ADDRESS_MAX; i++) expect((await scimUsers('127.0.0.20', `guess-${i}`, 'guess')).status).toBe(401);
    const tripping = await scimUsers('127.0.0.20', 'guess-last', 'guess');
    expect(tripping.status).toBe(429);
    expect(tripping.body).toEqual({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '429',
      detail: expect.stringMatching(/^Too many failed sign-in attempts from this address; try again in \d+ seconds$/) as unknown,
    });
    retryAfter(tripping);

    const rightScim = await scimUsers('127.0.0.20', is.admin.username, is.admin.password);
    expect(rightScim.status).toBe(429);
    const rightAdmin = await send('127.0.0.20', 'GET', '/api/server/v1/applications', { headers: { Authorization: basic(is.admin.username, is.admin.password) } });
    expect(rightAdmin.status).toBe(429);
    expect(rightAdmin.body).toEqual({ code: 'too_many_requests', message: expect.stringMatching(/^Too many failed sign-in attempts/) as unknown });
    retryAfter(rightAdmin);
    const scim11 = await send('127.0.0.20', 'GET', '/wso2/scim/Users', { headers: { Authorization: basic(is.admin.username, is.admin.password) } });
    expect(scim11.status).toBe(429);

    expect((await scimUsers('127.0.0.21', is.admin.username, is.admin.password)).status).toBe(200);
    expect(await securityEvents('type=address_throttled&address=127.0.0.20')).toEqual([expect.objectContaining({ kind: 'operator', account: null })]);
  });

  it('rejects the 301st wrong admin password (issue #8: 300 wrong admin Basic credentials in 0.2 s), never locking the operator out elsewhere', async () => {
    const statuses = new Map<number, number>();
    const count = (res: Answer) => statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    // The first attempts one by one, the rest 25 at a time (as fast as an attacker would), so the loop stays well
    // within the short lock this test configures even on a loaded machine.
    for (let i = 0; i < MAX_ATTEMPTS; i++) count(await scimUsers('127.0.0.22', is.admin.username, `wrong-${i}`));
    for (let i = MAX_ATTEMPTS; i < 300; i += 25) {
      const batch = Array.from({ length: Math.min(25, 300 - i) }, (_, j) => scimUsers('127.0.0.22', is.admin.username, `wrong-${i + j}`));
      for (const res of await Promise.all(batch)) count(res);
    }
    // Only the attempts before the per-(operator, address) lock were checked; on a loaded machine the short test lock
    // (LOCK_SECONDS) may lapse during the loop and let one more through, but never more than the address limit
    // (a 60-second window) allows.
    expect(statuses.get(401)).toBeGreaterThanOrEqual(MAX_ATTEMPTS - 1);
    expect(statuses.get(401)).toBeLessThanOrEqual(ADDRESS_MAX);
    expect(statuses.get(429)).toBe(300 - statuses.get(401)!);
    expect((await scimUsers('127.0.0.22', is.admin.username, 'wrong-301')).status).toBe(429);
    expect((await scimUsers('127.0.0.22', is.admin.username, is.admin.password)).status).toBe(429);
    // The operator is not locked globally: other addresses are unaffected.
    expect((await scimUsers('127.0.0.23', is.admin.username, is.admin.password)).status).toBe(200);

    const locks = await json(is, 'GET', '/api/server/v1/security/locks?address=127.0.0.22&blocked=true');
    expect(locks.body).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'operator', scope: 'account', account: 'admin', address: '127.0.0.22' })]));
    const locked = await securityEvents('type=account_locked&kind=operator&address=127.0.0.22');
    expect(locked[0]?.reason).toMatch(/locked for this address only/);

    // An operator clears the address: the right credential works from there again.
    const cleared = await json(is, 'DELETE', '/api/server/v1/security/locks?address=::ffff:127.0.0.22');
    expect(cleared.status).toBe(200);
    expect(cleared.body).toMatchObject({ address: '127.0.0.22' });
    expect(cleared.body.records).toBeGreaterThanOrEqual(1);
    expect((await scimUsers('127.0.0.22', is.admin.username, is.admin.password)).status).toBe(200);
    expect(await securityEvents('type=address_cleared&address=127.0.0.22')).toEqual([expect.objectContaining({ actor: 'admin via admin-api' })]);
    expect((await json(is, 'DELETE', '/api/server/v1/security/locks?address=not-an-ip')).status).toBe(400);
  });
});

describe('client secret', () => {
  it('throttles a client after wrong secrets from one address and refuses the right secret there (issue #8: 300 wrong client secrets in 0.5 s)', async () => {
    const statuses = new Map<number, number>();
    const count = (res: Answer) => statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      const res = await clientCredentials('127.0.0.30', app.clientId, `wrong-${i}`);
      count(res);
      if (i === MAX_ATTEMPTS - 2) expect(res.body.error).toBe('invalid_client');
      if (i === MAX_ATTEMPTS - 1) {
        expect(res.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.stringMatching(/too many failed attempts/) as unknown });
        expect(res.headers['www-authenticate']).toBeUndefined();
        retryAfter(res);
      }
    }
    // The rest 25 at a time, well within the short test lock.
    for (let i = MAX_ATTEMPTS; i < 300; i += 25) {
      const batch = Array.from({ length: Math.min(25, 300 - i) }, (_, j) => clientCredentials('127.0.0.30', app.clientId, `wrong-${i + j}`));
      for (const res of await Promise.all(batch)) count(res);
    }
    // As for the operator: the lock may lapse under load, the address limit never.
    expect(statuses.get(401)).toBeGreaterThanOrEqual(MAX_ATTEMPTS - 1);
    expect(statuses.get(401)).toBeLessThanOrEqual(ADDRESS_MAX);
    const right = await clientCredentials('127.0.0.30', app.clientId, app.clientSecret);
    expect(right.status).toBe(429);
    expect(right.body.error).toBe('temporarily_unavailable');
    expect(right.body.access_token).toBeUndefined();
    retryAfter(right);
    // The revocation endpoint authenticates clients too, under the same limits.
    const revocation = await send('127.0.0.30', 'POST', '/oauth2/token/revocation', {
      headers: { Authorization: basic(app.clientId, app.clientSecret), 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'token=abc',
    });
    expect(revocation.status).toBe(429);
    // The application is not locked out elsewhere.
    expect((await clientCredentials('127.0.0.31', app.clientId, app.clientSecret)).status).toBe(200);
  });

  it('does the same for client_secret_post, and throttles an address guessing client ids', async () => {
    for (let i = 1; i < MAX_ATTEMPTS; i++) expect((await clientCredentials('127.0.0.32', app.clientId, `bad-${i}`, 'post')).status).toBe(401);
    expect((await clientCredentials('127.0.0.32', app.clientId, 'bad-last', 'post')).status).toBe(429);
    const right = await clientCredentials('127.0.0.32', app.clientId, app.clientSecret, 'post');
    expect(right.status).toBe(429);
    retryAfter(right);

    for (let i = 1; i < ADDRESS_MAX; i++) expect((await clientCredentials('127.0.0.33', `no-such-client-${i}`, 'x')).status).toBe(401);
    expect((await clientCredentials('127.0.0.33', 'no-such-client-last', 'x')).status).toBe(429);
    expect((await clientCredentials('127.0.0.33', app.clientId, app.clientSecret)).status).toBe(429);
    expect(await securityEvents('type=address_throttled&address=127.0.0.33')).toEqual([expect.objectContaining({ kind: 'client', account: null })]);
  });
});
