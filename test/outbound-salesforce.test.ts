/**
 * Outbound provisioning to Salesforce, end to end: a server instance (api and worker processes) loads the
 * Salesforce connector as a plug-in (CONNECTOR_PLUGINS), an identity provider with a `salesforce` connector is
 * linked from the resident application, and SCIM writes reach the local fake of Salesforce's API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startInstance, type Instance } from './harness.js';
import { startFakeSalesforce, type FakeSalesforce } from './support/salesforce-server.js';

const PROFILE_ID = '00e5g000001AbCdAAK';

interface ScimUser {
  id: string;
  userName: string;
}
interface RemoteLink {
  connectorId: string;
  remoteId: string | null;
  appliedVersion: number;
  deleted: boolean;
}
interface AuditRow {
  operation: string;
  outcome: string;
  remoteId: string | null;
}

async function json<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

function seedUser(userName: string) {
  return {
    schemas: [],
    name: { familyName: 'N', givenName: 'Rashmini' },
    userName,
    password: 'abc123-Secret',
    emails: [{ primary: true, value: `${userName}@gmail.com`, type: 'home' }],
  };
}

/** An identity provider with a Salesforce connector, linked from the resident application (blocking). */
async function linkSalesforce(instance: Instance, fake: FakeSalesforce): Promise<string> {
  const res = await instance.request('POST', '/api/server/v1/identity-providers', {
    name: 'Salesforce',
    description: 'a Salesforce org (local fake)',
    outboundConnectors: [
      {
        type: 'salesforce',
        settings: {
          loginUrl: fake.baseUrl,
          apiVersion: '60.0',
          clientId: fake.options.clientId,
          username: fake.options.username,
          domain: 'acme.example',
          profileId: PROFILE_ID,
          timeoutMs: 10_000,
          // Per-connector attribute mapping: a source with a default, and an expression applied only on create.
          attributeMapping: [
            { target: 'Department', source: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department', default: 'Unassigned' },
            { target: 'Title', expression: "'Joined as ' & $uppercase(userName)", when: 'create' },
          ],
        },
        secrets: { clientSecret: fake.options.clientSecret, password: 'Passw0rd!', securityToken: 'TOKEN123' },
        passwordProvisioning: true,
        retry: { initialIntervalMs: 200, maximumIntervalMs: 1000 },
      },
    ],
  });
  if (res.status !== 201) throw new Error(`creating the identity provider failed: ${res.status} ${await res.text()}`);
  const idp = await json<{ outboundConnectors: { id: string; secrets?: Record<string, unknown> }[] }>(res);
  expect(JSON.stringify(idp)).not.toContain(fake.options.clientSecret);
  const connectorId = idp.outboundConnectors[0]!.id;
  const link = await instance.request('POST', '/api/server/v1/applications/resident/provisioning/outbound-connectors', { connectorId, blocking: true });
  if (link.status !== 201) throw new Error(`linking the connector failed: ${link.status} ${await link.text()}`);
  return connectorId;
}

async function remoteLinks(instance: Instance, userId: string): Promise<RemoteLink[]> {
  return json<RemoteLink[]>(await instance.request('GET', `/api/server/v1/provisioning/users/${userId}/remote-links`));
}

describe('outbound provisioning to Salesforce (connector plug-in)', () => {
  let fake: FakeSalesforce;
  let a: Instance;
  let connectorId: string;

  beforeAll(async () => {
    fake = await startFakeSalesforce();
    a = await startInstance('SF');
    connectorId = await linkSalesforce(a, fake);
  });
  afterAll(async () => {
    await Promise.allSettled([a?.stop(), fake?.stop()]);
  });

  it('creates, updates and deactivates the user in Salesforce', async () => {
    const created = await a.request('POST', '/scim2/Users', seedUser('rashmini'));
    expect(created.status).toBe(201);
    const user = await json<ScimUser>(created);

    // Blocking: the answer came after Salesforce's.
    const remote = fake.findByUsername('rashmini@acme.example');
    expect(remote).toMatchObject({
      FirstName: 'Rashmini',
      LastName: 'N',
      Email: 'rashmini@gmail.com',
      Alias: 'RN',
      IsActive: true,
      ProfileId: PROFILE_ID,
      TimeZoneSidKey: 'America/Los_Angeles',
      LocaleSidKey: 'en_US',
      EmailEncodingKey: 'UTF-8',
      LanguageLocaleKey: 'en_US',
      Department: 'Unassigned',
      Title: 'Joined as RASHMINI',
    });
    expect(fake.passwords.get(remote!.Id)).toBe('abc123-Secret');

    const links = await eventually(async () => {
      const l = await remoteLinks(a, user.id);
      return l[0]?.remoteId ? l : undefined;
    }, 10_000, 'the remote link');
    expect(links).toEqual([expect.objectContaining({ connectorId, remoteId: remote!.Id })]);

    const updated = await a.request('PUT', `/scim2/Users/${user.id}`, {
      schemas: [],
      name: { familyName: 'Perera', givenName: 'Rashmini' },
      userName: 'rashmini',
      emails: [{ value: 'rashmini@example.org', type: 'work' }],
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'Platform' },
    });
    expect(updated.status).toBe(200);
    // The mapped Department follows; the create-only Title is left as it was.
    expect(fake.users.get(remote!.Id)).toMatchObject({ LastName: 'Perera', Email: 'rashmini@example.org', IsActive: true, Department: 'Platform', Title: 'Joined as RASHMINI' });
    // The update did not reset the password to anything.
    expect(fake.passwords.get(remote!.Id)).toBe('abc123-Secret');

    const deleted = await a.request('DELETE', `/scim2/Users/${user.id}`);
    expect(deleted.status).toBe(204);
    // Salesforce does not delete users: deactivated, still there.
    expect(fake.users.get(remote!.Id)).toMatchObject({ Username: 'rashmini@acme.example', IsActive: false });
    expect(fake.requests.some((r) => r.method === 'DELETE')).toBe(false);

    const audit = await eventually(async () => {
      const rows = await json<AuditRow[]>(await a.request('GET', `/api/server/v1/provisioning/audit?userId=${user.id}`));
      return rows.length >= 3 ? rows : undefined;
    }, 10_000, 'three audit records');
    expect(audit.map((r) => `${r.operation}:${r.outcome}`).sort()).toEqual(['create:delivered', 'delete:delivered', 'update:delivered']);
    expect(audit.every((r) => r.remoteId === remote!.Id)).toBe(true);
  });

  it('retries a create that met 503 with Retry-After, and creates exactly one user', async () => {
    fake.inject({
      method: 'POST',
      path: /\/sobjects\/User$/,
      status: 503,
      body: [{ message: 'Server is temporarily unavailable', errorCode: 'SERVER_UNAVAILABLE' }],
      headers: { 'Retry-After': '1' },
    });
    const started = Date.now();
    const created = await a.request('POST', '/scim2/Users', seedUser('after-503'));
    expect(created.status).toBe(201);
    const user = await json<ScimUser>(created);

    const remote = await eventually(() => Promise.resolve(fake.findByUsername('after-503@acme.example')), 30_000, 'the user in Salesforce');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000); // waited as Retry-After asked
    expect([...fake.users.values()].filter((u) => u.Username === 'after-503@acme.example')).toHaveLength(1);
    const creates = fake.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/sobjects/User') && r.body.includes('after-503@acme.example'));
    expect(creates).toHaveLength(2);

    const links = await eventually(async () => {
      const l = await remoteLinks(a, user.id);
      return l[0]?.remoteId ? l : undefined;
    }, 10_000, 'the remote link');
    expect(links[0]!.remoteId).toBe(remote.Id);
  });
});
