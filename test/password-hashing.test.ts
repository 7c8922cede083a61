/**
 * Password hashes (issue #8: "scrypt N=2^15 is below OWASP's current minimum"): a hash made with weaker parameters
 * than the server's is replaced at the user's next sign-in, since only then is the password at hand; that is no
 * password change (the user's tokens live on) and nothing a SCIM client sees changes.
 */
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hashPassword, setPasswordHashCost, DEFAULT_PASSWORD_HASH_COST } from '../src/crypto/password.js';
import { json, startInstance, type Instance } from './harness.js';

let is: Instance;

beforeAll(async () => {
  is = await startInstance('rehash', { env: { PASSWORD_HASH_COST: '12' } });
});
afterAll(async () => {
  await is?.stop();
});

async function storedHash(userId: string): Promise<string> {
  const db = new pg.Client({ connectionString: is.databaseUrl });
  await db.connect();
  try {
    return (await db.query<{ h: string }>('SELECT password_hash AS h FROM scim_user WHERE id = $1', [userId])).rows[0]!.h;
  } finally {
    await db.end();
  }
}

it('replaces a weaker hash at the next sign-in, without ending tokens or changing the resource', async () => {
  const user = await json(is, 'POST', '/scim2/Users', { userName: 'rehash-rita', password: 'Rita-Pa55word' });
  expect(user.status).toBe(201);
  const id = user.body.id as string;
  expect(await storedHash(id)).toMatch(/^scrypt\$4096\$/);

  // A hash from an older, weaker setting (N = 2^10), as a database upgraded from an earlier release has.
  setPasswordHashCost(10);
  const weak = await hashPassword('Rita-Pa55word');
  setPasswordHashCost(DEFAULT_PASSWORD_HASH_COST);
  const db = new pg.Client({ connectionString: is.databaseUrl });
  await db.connect();
  await db.query('UPDATE scim_user SET password_hash = $1 WHERE id = $2', [weak, id]);
  await db.end();

  const appRes = await is.request('POST', '/api/server/v1/applications', { name: 'rehash-app', grantTypes: ['password'], scopes: ['internal_login'] }, { 'Content-Type': 'application/json' });
  const app = (await appRes.json()) as { clientId: string; clientSecret: string };
  const signIn = () =>
    fetch(`${is.baseUrl}/oauth2/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${Buffer.from(`${app.clientId}:${app.clientSecret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'password', username: 'rehash-rita', password: 'Rita-Pa55word', scope: 'internal_login' }).toString(),
    });
  const before = await json(is, 'GET', `/scim2/Users/${id}`);
  const first = await signIn();
  expect(first.status).toBe(200);
  const { access_token: token } = (await first.json()) as { access_token: string };

  const replaced = await storedHash(id);
  expect(replaced).toMatch(/^scrypt\$4096\$8\$1\$/);
  expect(replaced).not.toBe(weak);
  // The same password still signs in, the token from before the rehash still works, and the resource is as it was.
  expect((await signIn()).status).toBe(200);
  const me = await fetch(`${is.baseUrl}/scim2/Me`, { headers: { Authorization: `Bearer ${token}` } });
  expect(me.status).toBe(200);
  const after = await json(is, 'GET', `/scim2/Users/${id}`);
  expect(after.body.meta).toEqual(before.body.meta);
});
