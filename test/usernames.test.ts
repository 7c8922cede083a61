/**
 * userNames compared as people read them (issue #8, "look-alike userNames are distinct users"), over real HTTP on
 * real processes: RFC 8265 twins are one user (409 uniqueness), names the profile refuses are 400 invalidValue at
 * the door (POST, PUT, PATCH, SCIM 1.1), a twin spelling finds the user through filters and the password grant,
 * and the data migration rekeys a database seeded with the old lower-cased keys: it does not fail, it reports
 * the twins through the admin API, and a rename or a delete resolves them.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations } from '../src/db/schema-engine.js';
import type { Logger } from '../src/log.js';
import { PROJECT_ROOT } from '../src/temporal/cli-binary.js';
import { startInstance, type Instance } from './harness.js';

let is: Instance;

beforeAll(async () => {
  is = await startInstance('usernames');
});
afterAll(async () => {
  await is?.stop();
});

interface ScimUser {
  id: string;
  userName: string;
  active?: boolean;
}

async function create(userName: string, extra: Record<string, unknown> = {}): Promise<Response> {
  return is.request('POST', '/scim2/Users', { schemas: [], userName, ...extra });
}

async function created(userName: string, extra: Record<string, unknown> = {}): Promise<ScimUser> {
  const res = await create(userName, extra);
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as ScimUser;
}

async function scimError(res: Response, status: number, scimType: string): Promise<string> {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { status: string; scimType?: string; detail: string };
  expect(body.status).toBe(String(status));
  expect(body.scimType).toBe(scimType);
  return body.detail;
}

async function filter(expression: string): Promise<ScimUser[]> {
  const res = await is.request('GET', `/scim2/Users?filter=${encodeURIComponent(expression)}`);
  expect(res.status, await res.clone().text()).toBe(200);
  return ((await res.json()) as { Resources?: ScimUser[] }).Resources ?? [];
}

async function total(): Promise<number> {
  const res = await is.request('GET', '/scim2/Users?count=0');
  return ((await res.json()) as { totalResults: number }).totalResults;
}

const rename = (id: string, userName: string) =>
  is.request('PATCH', `/scim2/Users/${id}`, {
    schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
    Operations: [{ op: 'replace', path: 'userName', value: userName }],
  });

describe('RFC 8265 twins are one user', () => {
  const twins: [string, string, string][] = [
    ['NFC and NFD café', 'caf\u00e9', 'cafe\u0301'],
    ['fullwidth letters', 'ａｌｉｃｅ', 'alice'],
    ['the ﬁ ligature', 'ﬁona', 'fiona'],
    ['dotted capital I', 'İpek', 'ipek'],
    ['sharp s', 'straße', 'STRASSE'],
    ['case', 'Bjensen', 'bJENSEN'],
  ];
  it.each(twins)('%s: the second spelling is 409 uniqueness, on create, replace and rename', async (_what, first, second) => {
    const user = await created(first);
    expect(user.userName).toBe(first); // stored and returned as the client sent it
    const detail = await scimError(await create(second), 409, 'uniqueness');
    expect(detail).toContain('already exists');

    const other = await created(`other-${crypto.randomBytes(3).toString('hex')}`);
    await scimError(await is.request('PUT', `/scim2/Users/${other.id}`, { schemas: [], userName: second }), 409, 'uniqueness');
    await scimError(await rename(other.id, second), 409, 'uniqueness');
    // The user itself may be written with any spelling of its own name.
    const self = await is.request('PUT', `/scim2/Users/${user.id}`, { schemas: [], userName: second });
    expect(self.status, await self.clone().text()).toBe(200);
  });
});

describe('names the profile refuses are 400 invalidValue before any workflow', () => {
  it('refuses a trailing zero width space and a control character, naming the code point', async () => {
    const before = await total();
    expect(await scimError(await create('mallory\u200b'), 400, 'invalidValue')).toBe(
      'userName contains U+200B ZERO WIDTH SPACE, an invisible (default-ignorable) code point, which RFC 8265 does not allow',
    );
    expect(await scimError(await create('mallory\u0007'), 400, 'invalidValue')).toContain('U+0007, a control character');
    expect(await scimError(await create('henryⅣ'), 400, 'invalidValue')).toContain('U+2163');
    expect(await scimError(await create('x'.repeat(256)), 400, 'invalidValue')).toContain('longer than 255 characters');
    expect(await total()).toBe(before);
  });

  it('refuses them in PUT, PATCH (applied in the store activity) and SCIM 1.1 as well', async () => {
    const user = await created('trudy');
    await scimError(await is.request('PUT', `/scim2/Users/${user.id}`, { schemas: [], userName: 'trudy\u200b' }), 400, 'invalidValue');
    expect(await scimError(await rename(user.id, 'trudy\u2063'), 400, 'invalidValue')).toContain('U+2063');
    const unchanged = (await (await is.request('GET', `/scim2/Users/${user.id}`)).json()) as ScimUser & { meta: { version: string } };
    expect(unchanged).toMatchObject({ userName: 'trudy', meta: { version: 'W/"1"' } });

    const res11 = await is.request('POST', '/wso2/scim/Users', { schemas: ['urn:scim:schemas:core:1.0'], userName: 'trudy11\u200b' });
    expect(res11.status).toBe(400);
    const body11 = (await res11.json()) as { Errors: { description: string; code: string }[] };
    expect(body11.Errors[0]!.description).toContain('U+200B ZERO WIDTH SPACE');
  });
});

describe('a twin spelling finds the user', () => {
  let user: ScimUser;
  beforeAll(async () => {
    user = await created('Gauß', { password: 'Gauss-pw-1777' });
  });

  it('through userName filters: eq with the whole profile, sw/co/ew with its mappings', async () => {
    for (const spelling of ['gauss', 'GAUSS', 'ｇａｕｓｓ', 'GAUẞ']) {
      expect((await filter(`userName eq "${spelling}"`)).map((u) => u.id)).toEqual([user.id]);
    }
    expect((await filter('userName sw "GAUS"')).map((u) => u.id)).toEqual([user.id]);
    expect((await filter('userName ew "ß"')).map((u) => u.id)).toContain(user.id);
    expect((await filter('userName co "ＡＵ"')).map((u) => u.id)).toContain(user.id);
    expect(await filter('userName ne "gauss" and userName sw "gau"')).toEqual([]);
    // A name the profile refuses designates nobody, even if it contains the user's name.
    expect(await filter('userName eq "gauss\u200b"')).toEqual([]);
  });

  it('through the password grant', async () => {
    const app = await is.request('POST', '/api/server/v1/applications', { name: 'usernames-app', grantTypes: ['password'], scopes: ['internal_login'] }, { 'Content-Type': 'application/json' });
    expect(app.status, await app.clone().text()).toBe(201);
    const { clientId, clientSecret } = (await app.json()) as { clientId: string; clientSecret: string };
    const token = async (username: string) => {
      const res = await fetch(`${is.baseUrl}/oauth2/token`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          Authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'password', username, password: 'Gauss-pw-1777', scope: 'internal_login' }).toString(),
      });
      return { status: res.status, body: (await res.json()) as { access_token?: string; error?: string } };
    };
    for (const spelling of ['Gauß', 'GAUSS', 'ｇａｕｓｓ']) {
      const { status, body } = await token(spelling);
      expect(status, JSON.stringify(body)).toBe(200);
      const me = await fetch(`${is.baseUrl}/scim2/Me`, { headers: { Authorization: `Bearer ${body.access_token}` } });
      expect(((await me.json()) as ScimUser).id).toBe(user.id);
    }
    expect(await token('gauss\u200b')).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });
});

describe('the data migration on a database with the old lower-cased keys', () => {
  const migrationsDir = path.join(PROJECT_ROOT, 'prisma', 'migrations');
  const ids = {
    cafeNfc: crypto.randomUUID(),
    cafeNfd: crypto.randomUUID(),
    sharpS: crypto.randomUUID(),
    doubleS: crypto.randomUUID(),
    invisible: crypto.randomUUID(),
    plain: crypto.randomUUID(),
  };
  const warnings: Record<string, unknown>[] = [];
  const log: Logger = {
    debug: () => {},
    info: () => {},
    warn: (msg, fields) => warnings.push({ msg, ...fields }),
    error: (msg, fields) => warnings.push({ msg, ...fields }),
  };
  interface Conflict {
    userId: string;
    domain: string;
    userName: string;
    reason: string;
    wantedKey?: string;
    heldBy?: { id: string; userName: string };
    detail: string;
  }
  const conflicts = async () => {
    const res = await is.request('GET', '/api/server/v1/userstores/username-conflicts');
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as { total: number; conflicts: Conflict[] };
  };

  beforeAll(async () => {
    // Users as the previous release stored them: user_name_normalized = lower(user_name), so these twins (and a
    // name the profile now refuses) all went in. The older of two twins keeps the name.
    const client = new pg.Client({ connectionString: is.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ id: string }>(`SELECT id FROM user_store_domain WHERE name = 'PRIMARY'`);
      const seed: [string, string, string][] = [
        [ids.cafeNfc, 'Cr\u00e8me', '2020-01-01T00:00:01Z'],
        [ids.cafeNfd, 'cre\u0300me', '2020-01-01T00:00:02Z'],
        [ids.sharpS, 'Maße', '2020-01-01T00:00:03Z'], // older, but 'masse' is held by the younger one's old key
        [ids.doubleS, 'masse', '2020-01-01T00:00:04Z'],
        [ids.invisible, 'zed\u200b', '2020-01-01T00:00:05Z'],
        [ids.plain, 'Plain.User', '2020-01-01T00:00:06Z'],
      ];
      for (const [id, userName, createdAt] of seed) {
        await client.query(
          `INSERT INTO scim_user (id, domain_id, user_name, user_name_normalized, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)`,
          [id, rows[0]!.id, userName, userName.toLowerCase(), createdAt],
        );
      }
      // As if this database had never seen this release's data migration.
      await client.query('DELETE FROM data_migration');
    } finally {
      await client.end();
    }
  });

  it('runs without failing, logs each conflict and lists them through the admin API', async () => {
    const result = await applyMigrations({ databaseUrl: is.databaseUrl, migrationsDir, log });
    expect(result).toEqual({ applied: [], dataMigrations: ['username-key-v1'] });
    expect(warnings.map((w) => w.userId).sort()).toEqual([ids.cafeNfd, ids.doubleS, ids.invisible].sort());

    const report = await conflicts();
    expect(report.total).toBe(3);
    const byUser = new Map(report.conflicts.map((c) => [c.userId, c]));
    expect(byUser.get(ids.cafeNfd)).toMatchObject({ domain: 'PRIMARY', userName: 'cre\u0300me', reason: 'duplicate', wantedKey: 'cr\u00e8me', heldBy: { id: ids.cafeNfc, userName: 'Cr\u00e8me' } });
    expect(byUser.get(ids.doubleS)).toMatchObject({ reason: 'duplicate', wantedKey: 'masse', heldBy: { id: ids.sharpS, userName: 'Maße' } });
    expect(byUser.get(ids.invisible)).toMatchObject({ reason: 'invalid', userName: 'zed\u200b' });
    expect(byUser.get(ids.invisible)!.detail).toContain('U+200B ZERO WIDTH SPACE');

    // The older twin keeps the name; the younger is found by id only.
    expect((await filter('userName eq "CRÈME"')).map((u) => u.id)).toEqual([ids.cafeNfc]);
    expect((await filter('userName eq "masse"')).map((u) => u.id)).toEqual([ids.sharpS]);
    expect((await filter('userName sw "mas"')).map((u) => u.id)).toEqual([ids.sharpS]);
    expect((await filter('userName eq "plain.user"')).map((u) => u.id)).toEqual([ids.plain]);
    for (const id of [ids.cafeNfd, ids.doubleS, ids.invisible]) expect((await is.request('GET', `/scim2/Users/${id}`)).status).toBe(200);

    // Recorded: a second run does nothing.
    expect(await applyMigrations({ databaseUrl: is.databaseUrl, migrationsDir, log })).toEqual({ applied: [], dataMigrations: [] });
  });

  it('lets a waiting twin be changed without a rename, and resolves each conflict by a rename or a delete', async () => {
    // A change that keeps the name keeps the user waiting.
    const deactivate = await is.request('PATCH', `/scim2/Users/${ids.doubleS}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'active', value: false }],
    });
    expect(deactivate.status, await deactivate.clone().text()).toBe(200);
    expect((await conflicts()).total).toBe(3);

    // Renaming the younger twin gives it its own key.
    const renamed = await rename(ids.cafeNfd, 'creme-two');
    expect(renamed.status, await renamed.clone().text()).toBe(200);
    expect((await filter('userName eq "Creme-Two"')).map((u) => u.id)).toEqual([ids.cafeNfd]);
    expect((await conflicts()).conflicts.map((c) => c.userId)).not.toContain(ids.cafeNfd);

    // Deleting the older twin hands its key to the one waiting for it.
    expect((await is.request('DELETE', `/scim2/Users/${ids.sharpS}`)).status).toBe(204);
    expect((await filter('userName eq "MASSE"')).map((u) => u.id)).toEqual([ids.doubleS]);

    // A name the profile refuses is resolved by a valid one.
    const fixed = await is.request('PUT', `/scim2/Users/${ids.invisible}`, { schemas: [], userName: 'zed' });
    expect(fixed.status, await fixed.clone().text()).toBe(200);
    expect((await filter('userName eq "ZED"')).map((u) => u.id)).toEqual([ids.invisible]);

    expect(await conflicts()).toEqual({ total: 0, conflicts: [] });
  });
});
