/**
 * S1's directory: `count` users written straight into the source instance's database in set-based INSERTs (a
 * 100,000-user directory through the API would take the engine an hour), with the rows the store itself writes
 * for a user created with a userName, a name, a displayName, an externalId and emails (src/userstore/users.ts
 * attributeColumns): the userName's comparison key in user_name_normalized (RFC 8265: lower case for these ASCII
 * names, checked against the store's own checkUserName below), each email's lower-cased value_normalized, distinct
 * created_at for a stable list order, version 1. Every user has a work email, every second one a home email too.
 *
 * Then the seed is read back through the API (checkSeed): a seed that does not look like the store's rows to the
 * server's reads fails the run loudly instead of benchmarking the wrong thing.
 */
import crypto from 'node:crypto';
import pg from 'pg';
import { checkUserName } from '../src/userstore/username.js';
import { HttpClient } from './load.js';

export interface SeededUser {
  id: string;
  userName: string;
  /** The user's number in the seed (1..count). */
  n: number;
}

export interface Seed {
  count: number;
  seconds: number;
  /** The digits every number is padded to: `emails.value co "<n padded>@"` matches user n's work email only. */
  width: number;
  /** Random seeded users, for GETs by id and filters. */
  sample: SeededUser[];
  userName(n: number): string;
  workEmail(n: number): string;
}

const BATCH = 10_000;
const PREFIX = 'Seed.User';

export async function seedUsers(databaseUrl: string, count: number, onProgress: (done: number) => void): Promise<Seed> {
  const width = Math.max(6, String(count).length);
  const userName = (n: number) => `${PREFIX}${String(n).padStart(width, '0')}`;
  const workEmail = (n: number) => `${userName(n)}@Example.org`;
  for (const n of [1, count]) {
    const checked = checkUserName(userName(n));
    if (!checked.ok || checked.key !== userName(n).toLowerCase()) throw new Error(`the seed's userName ${userName(n)} is not keyed as lower(): the seed SQL must follow src/userstore/username.ts`);
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const started = performance.now();
  try {
    const domain = await client.query<{ id: string }>(`SELECT id FROM user_store_domain WHERE name = 'PRIMARY'`);
    if (!domain.rows[0]) throw new Error('the source instance has no PRIMARY user store domain');
    const existing = await client.query<{ n: string }>(`SELECT count(*) AS n FROM scim_user WHERE user_name_normalized LIKE $1`, [`${PREFIX.toLowerCase()}%`]);
    if (Number(existing.rows[0]!.n) > 0) throw new Error('the source instance already holds seeded users');
    // Created a second apart from an hour before now, in the past like a directory that grew.
    const base = new Date(Date.now() - 3_600_000 - count * 1000);
    for (let from = 1; from <= count; from += BATCH) {
      const to = Math.min(count, from + BATCH - 1);
      await client.query(
        `WITH u AS (
           INSERT INTO scim_user (id, domain_id, user_name, user_name_normalized, external_id, active, display_name,
                                  name_given_name, name_family_name, version, created_at, updated_at)
           SELECT gen_random_uuid(), $1::uuid, $2 || lpad(i::text, $3, '0'), lower($2 || lpad(i::text, $3, '0')), 'ext-' || i, TRUE,
                  'Seed User ' || i, 'Seed', 'User ' || i, 1, $4::timestamp + i * interval '1 second', $4::timestamp + i * interval '1 second'
           FROM generate_series($5::integer, $6::integer) AS i
           RETURNING id, user_name, user_name_normalized
         ), work AS (
           INSERT INTO scim_user_email (id, user_id, value, value_normalized, type, "primary", position)
           SELECT gen_random_uuid(), u.id, u.user_name || '@Example.org', u.user_name_normalized || '@example.org', 'work', TRUE, 0 FROM u
           RETURNING 1
         )
         INSERT INTO scim_user_email (id, user_id, value, value_normalized, type, "primary", position)
         SELECT gen_random_uuid(), u.id, u.user_name_normalized || '.home@mail.example', u.user_name_normalized || '.home@mail.example', 'home', FALSE, 1
         FROM u WHERE right(u.user_name_normalized, 1) IN ('0', '2', '4', '6', '8')`,
        [domain.rows[0].id, PREFIX, width, base.toISOString().replace('T', ' ').replace('Z', ''), from, to],
      );
      onProgress(to);
    }
    await client.query('ANALYZE scim_user');
    await client.query('ANALYZE scim_user_email');
    const picks = [...new Set(Array.from({ length: Math.min(2_000, count) }, () => 1 + crypto.randomInt(count)))];
    const found = await client.query<{ id: string; user_name: string }>(`SELECT id, user_name FROM scim_user WHERE user_name_normalized = ANY($1)`, [
      picks.map((n) => userName(n).toLowerCase()),
    ]);
    const byName = new Map(found.rows.map((r) => [r.user_name, r.id]));
    const sample = picks.map((n) => ({ n, userName: userName(n), id: byName.get(userName(n))! }));
    if (sample.some((u) => !u.id)) throw new Error('seeded users missing right after the seed');
    return { count, seconds: (performance.now() - started) / 1000, width, sample, userName, workEmail };
  } finally {
    await client.end();
  }
}

/** Reads a few seeded users back through the API as S1 will, and throws if the server does not see them as seeded. */
export async function checkSeed(baseUrl: string, token: string, seed: Seed): Promise<void> {
  const http = new HttpClient(baseUrl, 2, { Authorization: `Bearer ${token}` });
  const get = async (path: string): Promise<Record<string, unknown>> => {
    const res = await http.request('GET', path);
    if (res.status !== 200) throw new Error(`seed check: GET ${path} answered ${res.status}: ${res.body.toString().slice(0, 300)}`);
    return HttpClient.json<Record<string, unknown>>(res);
  };
  const fail = (what: string, got: unknown) => {
    throw new Error(`seed check: ${what}; the server answered ${JSON.stringify(got).slice(0, 400)}. The seed's rows (bench/seed.ts) no longer match what the store writes.`);
  };
  try {
    for (const u of seed.sample.slice(0, 5)) {
      const user = await get(`/scim2/Users/${u.id}`);
      const emails = (user.emails as { value: string; primary?: boolean }[] | undefined) ?? [];
      if (user.userName !== u.userName || user.externalId !== `ext-${u.n}` || emails[0]?.value !== seed.workEmail(u.n) || (user.name as { familyName?: string } | undefined)?.familyName !== `User ${u.n}`) {
        fail(`user ${u.n} by id is not as seeded`, user);
      }
      const padded = String(u.n).padStart(seed.width, '0');
      // Another case than stored: the filter must go through the comparison key.
      const byName = await get(`/scim2/Users?filter=${encodeURIComponent(`userName eq "${u.userName.toUpperCase()}"`)}`);
      if (byName.totalResults !== 1 || (byName.Resources as { id: string }[] | undefined)?.[0]?.id !== u.id) fail(`userName eq "${u.userName.toUpperCase()}" did not find user ${u.n} alone`, byName);
      const byEmail = await get(`/scim2/Users?filter=${encodeURIComponent(`emails.value co "${padded}@"`)}`);
      if (byEmail.totalResults !== 1 || (byEmail.Resources as { id: string }[] | undefined)?.[0]?.id !== u.id) fail(`emails.value co "${padded}@" did not find user ${u.n} alone`, byEmail);
    }
    const all = await get('/scim2/Users?count=0');
    if (typeof all.totalResults !== 'number' || all.totalResults < seed.count) fail(`the list counts fewer than the ${seed.count} seeded users`, all);
  } finally {
    http.close();
  }
}
