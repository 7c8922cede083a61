/**
 * The secrets test (issue #8, "Critical: passwords readable in clear"): distinct passwords and secrets are planted
 * through every channel a client has — SCIM 2.0 POST, PUT, PATCH with and without `path`, Bulk, /Me, SCIM 1.1, the
 * password grant, outbound deliveries with password provisioning (PATCH bodies to a SCIM 2.0 target), connector
 * secrets and client secrets of the admin API, access tokens — and none of them is found:
 * - in the codec endpoint's output, with or without an operator credential (it decodes for operators, masked);
 * - in the Temporal UI's history API (what anybody who reaches the UI can read);
 * - in any log line of the api and worker processes (at debug level);
 * - in any answer but the one meant to carry it (a new client secret, a new token);
 * - in the database: any table, and (embedded PostgreSQL) any file of its data folder.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { inject } from 'vitest';
import { afterAll, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import { parseKeyring } from '../src/config.js';
import { SecretBox } from '../src/crypto/secret-box.js';
import { EncryptionCodec } from '../src/temporal/codec.js';
import { eventually, json, linkScim2Target, startInstance, type Instance } from './harness.js';

const marker = (channel: string) => `Sx-${channel}-${crypto.randomBytes(6).toString('hex')}`;
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

let a: Instance;
let b: Instance;
/** Every planted secret, by channel. */
const planted = new Map<string, string>();
/** The answers that are allowed to carry a secret (their bodies are left out of the answer check). */
const answers: { what: string; text: string }[] = [];

function plant(channel: string): string {
  const value = marker(channel);
  planted.set(channel, value);
  return value;
}

/** A request whose answer is recorded for the check that no answer leaks a secret. */
async function call(is: Instance, method: string, pathname: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await is.request(method, pathname, body, headers);
  const text = await res.text();
  answers.push({ what: `${method} ${pathname}`, text: text + JSON.stringify([...res.headers]) });
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

beforeAll(async () => {
  const env = { LOG_LEVEL: 'debug' };
  [a, b] = await Promise.all([startInstance('secrets-a', { env, captureOutput: true }), startInstance('secrets-b', { env, captureOutput: true })]);
});
afterAll(async () => {
  await Promise.allSettled([a?.stop(), b?.stop()]);
});

it('plants a secret through every channel and finds none where it must not be (issue #8)', async () => {
  // Outbound: A provisions to B with password provisioning on; the connector's own credential is a secret too.
  const link = await linkScim2Target(a, b, { blocking: true });
  const connectorSecret = plant('connector-default-password');
  const patched = await call(a, 'PATCH', `/api/server/v1/identity-providers/${link.idpId}/provisioning/outbound-connectors/${link.connectorId}`, { secrets: { defaultPassword: connectorSecret } }, { 'Content-Type': 'application/json' });
  expect(patched.status).toBe(200);
  planted.set('connector-password', b.admin.password);

  // SCIM 2.0: POST, PUT, PATCH with and without path.
  const created = await call(a, 'POST', '/scim2/Users', { userName: 'sec-alice', password: plant('post'), emails: [{ value: 'alice@sec.io' }] });
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  expect((await call(a, 'PUT', `/scim2/Users/${id}`, { userName: 'sec-alice', password: plant('put'), emails: [{ value: 'alice@sec.io' }] })).status).toBe(200);
  expect((await call(a, 'PATCH', `/scim2/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'password', value: plant('patch-path') }] })).status).toBe(200);
  expect((await call(a, 'PATCH', `/scim2/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { password: plant('patch-no-path') } }] })).status).toBe(200);
  expect(
    (await call(a, 'PATCH', `/scim2/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'urn:ietf:params:scim:schemas:core:2.0:User:password', value: plant('patch-urn') }] })).status,
  ).toBe(200);

  // Bulk: a create and a PATCH.
  const bulk = await call(a, 'POST', '/scim2/Bulk', {
    schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
    Operations: [
      { method: 'POST', path: '/Users', bulkId: 'u1', data: { userName: 'sec-bulk', password: plant('bulk-post') } },
      { method: 'PATCH', path: '/Users/bulkId:u1', data: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'password', value: plant('bulk-patch') }] } },
    ],
  });
  expect((bulk.body.Operations as { status: string }[]).map((o) => o.status)).toEqual(['201', '200']);

  // SCIM 1.1.
  const v11 = await call(a, 'POST', '/wso2/scim/Users', { schemas: ['urn:scim:schemas:core:1.0'], userName: 'sec-v11', password: plant('scim11-post') }, { 'Content-Type': 'application/json' });
  expect(v11.status).toBe(201);

  // An application (its client secret is in its creation answer only), the password grant, and /Me.
  const appRes = await a.request('POST', '/api/server/v1/applications', { name: 'sec-app', grantTypes: ['password', 'client_credentials'], scopes: ['internal_login', 'internal_user_mgt_view'] }, { 'Content-Type': 'application/json' });
  expect(appRes.status).toBe(201);
  const app = (await appRes.json()) as { id: string; clientId: string; clientSecret: string };
  planted.set('client-secret', app.clientSecret);
  expect((await call(a, 'GET', `/api/server/v1/applications/${app.id}`)).status).toBe(200);
  const passwordNow = planted.get('patch-urn')!;
  const tokenRes = await fetch(`${a.baseUrl}/oauth2/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${Buffer.from(`${app.clientId}:${app.clientSecret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'password', username: 'sec-alice', password: passwordNow, scope: 'internal_login' }).toString(),
  });
  expect(tokenRes.status).toBe(200);
  const token = ((await tokenRes.json()) as { access_token: string }).access_token;
  planted.set('access-token', token);
  const me = await fetch(`${a.baseUrl}/scim2/Me`, {
    method: 'PATCH',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' },
    body: JSON.stringify({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'password', value: plant('me-patch') }] }),
  });
  expect(me.status, await me.clone().text()).toBe(200);
  answers.push({ what: 'PATCH /scim2/Me', text: await me.text() });
  expect((await call(a, 'GET', `/api/server/v1/identity-providers/${link.idpId}`)).status).toBe(200);

  // The user reached B (blocking link, password provisioning on): the deliveries carried its passwords.
  await eventually(async () => {
    const atB = await json(b, 'GET', '/scim2/Users?filter=userName%20eq%20%22sec-alice%22');
    return atB.body.totalResults === 1 ? true : undefined;
  }, 30_000, 'sec-alice at B');

  const secrets = [...planted.entries()];
  const leaks = (where: string, text: string) => secrets.filter(([, s]) => text.includes(s) || text.includes(Buffer.from(s).toString('base64'))).map(([c]) => `${c} in ${where}`);
  const found: string[] = [];

  // 1. Workflow histories: through the UI's own HTTP API (what anybody reaching the UI reads), then decoded by the
  //    codec endpoint with and without a credential.
  const ui = inject('temporalUiUrl');
  for (const is of [a, b]) {
    const list = (await (await fetch(`${ui}/api/v1/namespaces/default/workflows?query=${encodeURIComponent(`TaskQueue = "${is.taskQueue}"`)}`)).json()) as {
      executions: { execution: { workflowId: string; runId: string } }[];
    };
    expect(list.executions.length).toBeGreaterThan(is === a ? 5 : 2);
    const payloads: unknown[] = [];
    for (const { execution } of list.executions) {
      const history = await (await fetch(`${ui}/api/v1/namespaces/default/workflows/${encodeURIComponent(execution.workflowId)}/history?execution.runId=${execution.runId}`)).text();
      found.push(...leaks(`the UI's history of ${execution.workflowId}`, history));
      const collect = (v: unknown): void => {
        if (Array.isArray(v)) v.forEach(collect);
        else if (v && typeof v === 'object') {
          const o = v as Record<string, unknown>;
          if (typeof o.data === 'string' && o.metadata && typeof o.metadata === 'object') payloads.push(o);
          else Object.values(o).forEach(collect);
        }
      };
      collect(JSON.parse(history));
    }
    expect(payloads.length).toBeGreaterThan(10);
    const decoded = await is.request('POST', '/codec/decode', JSON.stringify({ payloads }), { 'Content-Type': 'application/json' });
    expect(decoded.status).toBe(200);
    const text = ((await decoded.json()) as { payloads: { data: string }[] }).payloads.map((p) => Buffer.from(p.data, 'base64').toString('utf8')).join('\n');
    expect(text).toContain('sec-alice'); // it did decode
    found.push(...leaks(`the codec's output at ${is.name}`, text));
    const anonymous = await fetch(`${is.baseUrl}/codec/decode`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ payloads }) });
    expect(anonymous.status).toBe(401);
    found.push(...leaks(`the codec's anonymous answer at ${is.name}`, await anonymous.text()));
    // Sealing: even decoded with the keyring itself, unmasked (what an operator holding the key could do), no payload
    // holds a password: they entered workflows sealed and only activities opened them.
    const raw = await new EncryptionCodec(new SecretBox(parseKeyring(is.encryptionKeys))).decode(
      payloads.map((p) => {
        const o = p as { metadata: Record<string, string>; data: string };
        return { metadata: Object.fromEntries(Object.entries(o.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])), data: Buffer.from(o.data, 'base64') };
      }),
    );
    const clear = raw.map((p) => Buffer.from(p.data ?? new Uint8Array()).toString('utf8')).join('\n');
    expect(clear).toContain('sec-alice');
    found.push(...leaks(`the payloads of ${is.name} decoded with its key, unmasked`, clear));
  }

  // 2. Answers (but the application's creation answer and the token answer, which exist to carry theirs).
  for (const { what, text } of answers) found.push(...leaks(`the answer to ${what}`, text));

  // 3. Logs of both instances' api and worker processes.
  for (const is of [a, b]) found.push(...leaks(`${is.name}'s logs`, is.output().join('\n')));
  expect(a.output().length, 'the logs were captured').toBeGreaterThan(10);

  // 4. The databases: every table's rows as text, and the embedded database's files.
  for (const is of [a, b]) {
    const db = new pg.Client({ connectionString: is.databaseUrl });
    await db.connect();
    try {
      const { rows: tables } = await db.query<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`);
      for (const { tablename } of tables) {
        const { rows } = await db.query<{ t: string }>(`SELECT t::text AS t FROM "${tablename}" t`);
        found.push(...leaks(`${is.name}'s table ${tablename}`, rows.map((r) => r.t).join('\n')));
      }
      await db.query('CHECKPOINT');
    } finally {
      await db.end();
    }
    if (is.databaseDir) {
      const files: string[] = [];
      const walk = (dir: string) => {
        for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
          const p = path.join(dir, e.name);
          if (e.isDirectory()) walk(p);
          else files.push(p);
        }
      };
      walk(is.databaseDir);
      expect(files.length).toBeGreaterThan(10);
      for (const file of files) {
        const bytes = fs.readFileSync(file);
        for (const [channel, s] of secrets) if (bytes.includes(Buffer.from(s))) found.push(`${channel} in ${is.name}'s database file ${path.relative(is.databaseDir, file)}`);
      }
    }
  }

  expect(found).toEqual([]);
});
