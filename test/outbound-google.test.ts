/**
 * Outbound provisioning to Google Workspace, for real: a server instance (api and worker processes) with
 * the Google connector (a built-in connector), an identity provider with a `google`
 * connector linked from the resident SP, and a local fake of Google's token endpoint and Directory API.
 * Users created, updated and deleted over SCIM arrive at "Google" through Google's own client libraries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startInstance, type Instance } from './harness.js';
import { generateServiceAccount, startGoogleDirectoryServer, type GoogleDirectoryServer, type ServiceAccount } from './support/google-directory-server.js';

const DOMAIN = 'example.com';
const ADMIN = 'admin@example.com';

interface ScimUser {
  id: string;
  userName: string;
}
interface RemoteLink {
  connectorId: string;
  remoteId: string | null;
  deleted: boolean;
}
interface AuditRow {
  operation: string;
  outcome: string;
  remoteId: string | null;
  attempts: number;
}

async function json<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

/** Configures `source` to provision to the fake Google, linked from the resident SP (like linkScim2Target). */
async function linkGoogleTarget(
  source: Instance,
  fake: GoogleDirectoryServer,
  sa: ServiceAccount,
  opts: { blocking: boolean; idpName?: string; settings?: Record<string, unknown> },
): Promise<{ idpId: string; connectorId: string }> {
  const res = await source.request('POST', '/api/server/v1/identity-providers', {
    name: opts.idpName ?? 'Google',
    description: 'Google Workspace (a local fake of the Directory API)',
    outboundConnectors: [
      {
        type: 'google',
        settings: {
          domain: DOMAIN,
          serviceAccountEmail: sa.email,
          adminEmail: ADMIN,
          tokenUrl: fake.tokenUrl,
          directoryUrl: fake.directoryUrl,
          timeoutMs: 10_000,
          ...opts.settings,
        },
        secrets: { privateKey: sa.privateKey, defaultPassword: 'Default-Passw0rd' },
        passwordProvisioning: true,
        retry: { initialIntervalMs: 200, maximumIntervalMs: 1000 },
      },
    ],
  });
  if (res.status !== 201) throw new Error(`creating the identity provider failed: ${res.status} ${await res.text()}`);
  const idp = (await res.json()) as { id: string; outboundConnectors: { id: string }[] };
  const connectorId = idp.outboundConnectors[0]!.id;
  const link = await source.request('POST', '/api/server/v1/applications/resident/provisioning/outbound-connectors', {
    connectorId,
    blocking: opts.blocking,
  });
  if (link.status !== 201) throw new Error(`linking the connector failed: ${link.status} ${await link.text()}`);
  return { idpId: idp.id, connectorId };
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

describe('outbound provisioning to Google Workspace (plug-in connector)', () => {
  let a: Instance;
  let fake: GoogleDirectoryServer;
  const sa = generateServiceAccount();

  beforeAll(async () => {
    fake = await startGoogleDirectoryServer({ serviceAccount: sa, domain: DOMAIN, admins: [ADMIN] });
    a = await startInstance('G');
  });
  afterAll(async () => {
    await Promise.allSettled([a?.stop(), fake?.close()]);
  });

  it('refuses a google connector with unusable settings', async () => {
    const res = await a.request('POST', '/api/server/v1/identity-providers', {
      name: 'Google-bad',
      outboundConnectors: [{ type: 'google', settings: { domain: DOMAIN }, secrets: { privateKey: 'not a key' } }],
    });
    expect(res.status).toBe(400);
    const body = await res.text();
    expect(body).toMatch(/serviceAccountEmail/);
    expect(body).toMatch(/privateKey/);
    expect(body).not.toContain('not a key');
  });

  it('creates, updates and deletes the user in Google', async () => {
    const { connectorId } = await linkGoogleTarget(a, fake, sa, { blocking: true });
    // The private key is a secret: never shown again.
    const idps = await (await a.request('GET', '/api/server/v1/identity-providers')).text();
    expect(idps).not.toContain('PRIVATE KEY');

    const created = await a.request('POST', '/scim2/Users', seedUser('rashmini'));
    expect(created.status).toBe(201);
    const user = await json<ScimUser>(created);

    // Blocking: answered after Google did.
    const g = fake.userByEmail('rashmini@example.com');
    expect(g).toBeDefined();
    expect(g!.name).toMatchObject({ givenName: 'Rashmini', familyName: 'N' });
    expect(g!.suspended).toBe(false);
    expect(g!.externalIds).toEqual([{ type: 'custom', customType: 'provisioning-server-id', value: user.id }]);
    expect(g!.emails).toEqual([{ address: 'rashmini@gmail.com', type: 'home', primary: true }]);
    expect(fake.passwords.get(g!.id)).toBe('abc123-Secret');

    const links = await eventually(async () => {
      const l = await json<RemoteLink[]>(await a.request('GET', `/api/server/v1/provisioning/users/${user.id}/remote-links`));
      return l[0]?.remoteId ? l : undefined;
    }, 10_000, 'the remote link');
    expect(links).toHaveLength(1);
    expect(links[0]).toMatchObject({ connectorId, remoteId: g!.id });

    // Update: new names reach Google; the default password does not overwrite the user's own.
    const updated = await a.request('PUT', `/scim2/Users/${user.id}`, {
      schemas: [],
      userName: 'rashmini',
      name: { familyName: 'Perera', givenName: 'Rashmini' },
      emails: [{ value: 'rashmini@example.org', type: 'work' }],
    });
    expect(updated.status).toBe(200);
    expect(fake.users.get(g!.id)!.name).toMatchObject({ givenName: 'Rashmini', familyName: 'Perera' });
    expect(fake.users.get(g!.id)!.emails).toEqual([{ address: 'rashmini@example.org', type: 'work' }]);
    expect(fake.passwords.get(g!.id)).toBe('abc123-Secret');

    // Deactivated locally: suspended at Google.
    const patched = await a.request('PATCH', `/scim2/Users/${user.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'active', value: false }],
    });
    expect(patched.status).toBe(200);
    expect(fake.users.get(g!.id)!.suspended).toBe(true);

    const deleted = await a.request('DELETE', `/scim2/Users/${user.id}`);
    expect(deleted.status).toBe(204);
    expect(fake.users.has(g!.id)).toBe(false);

    const audit = await eventually(async () => {
      const rows = await json<AuditRow[]>(await a.request('GET', `/api/server/v1/provisioning/audit?userId=${user.id}`));
      return rows.length >= 4 ? rows : undefined;
    }, 10_000, 'four audit records');
    expect(audit.map((r) => `${r.operation}:${r.outcome}`).sort()).toEqual(['create:delivered', 'delete:delivered', 'update:delivered', 'update:delivered']);
    // One token for the whole run: the worker shares it across deliveries.
    expect(fake.tokensIssued).toBe(1);

    const linksPath = '/api/server/v1/applications/resident/provisioning/outbound-connectors';
    for (const l of await json<{ id: string }[]>(await a.request('GET', linksPath))) {
      expect((await a.request('DELETE', `${linksPath}/${l.id}`)).status).toBe(204);
    }
  });

  it('waits out 429 rateLimitExceeded for Retry-After, then delivers the user once', async () => {
    await linkGoogleTarget(a, fake, sa, { blocking: false, idpName: 'Google-limited' });
    fake.inject({ fault: { kind: 'rateLimit', retryAfterSeconds: 2 }, method: 'POST', path: /\/admin\/directory\/v1\/users$/ });

    const created = await a.request('POST', '/scim2/Users', seedUser('limited'));
    expect(created.status).toBe(201);
    const user = await json<ScimUser>(created);

    const g = await eventually(() => Promise.resolve(fake.userByEmail('limited@example.com')), 30_000, 'the user at Google');
    const inserts = fake.requests.filter((r) => r.method === 'POST' && r.path === '/admin/directory/v1/users' && (r.body as { primaryEmail?: string }).primaryEmail === 'limited@example.com');
    expect(inserts.map((r) => r.status)).toEqual([429, 200]);
    // Temporal's next attempt came after Retry-After, not after the policy's 200 ms.
    expect(inserts[1]!.at - inserts[0]!.at).toBeGreaterThanOrEqual(1900);
    expect([...fake.users.values()].filter((u) => u.primaryEmail === 'limited@example.com')).toHaveLength(1);

    const audit = await eventually(async () => {
      const rows = await json<AuditRow[]>(await a.request('GET', `/api/server/v1/provisioning/audit?userId=${user.id}`));
      return rows.some((r) => r.outcome === 'delivered') ? rows : undefined;
    }, 10_000, 'the audit record');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ operation: 'create', outcome: 'delivered', remoteId: g.id, attempts: 2 });
  });
});
