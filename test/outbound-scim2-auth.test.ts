/**
 * Outbound SCIM 2.0 with OAuth 2.0 client credentials, for real: instance B registers an application (client
 * credentials, WSO2's user and group management scopes); A's scim2 connector to B gets its tokens from B's own
 * token endpoint (/oauth2/token), reads B's ServiceProviderConfig (B announces PATCH) and deprovisions by
 * deactivating. A recording proxy in front of B's SCIM API shows which calls A made, and how it authenticated.
 * A connector with a wrong client secret is quarantined, its delivery held, and delivered once the secret is fixed
 * (admin API) and the connector resumed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_SCOPES } from '../src/http/oauth/scopes.js';
import { eventually, startInstance, type Instance, json } from './harness.js';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.js';

interface ScimUser {
  id: string;
  userName: string;
  active?: boolean;
  title?: string;
  name?: { givenName?: string; familyName?: string };
  emails?: { value: string; type?: string; primary?: boolean }[];
}
interface ScimGroup {
  id: string;
  displayName: string;
  members?: { value: string }[];
}
interface AuditRow {
  connectorId: string;
  operation: string;
  outcome: string;
  attempts: number;
  error: string | null;
}

// What B's application may do: every user and group management scope (WSO2's names).
const SCOPES = API_SCOPES.filter((scope) => /^internal_(user|group)_mgt_/.test(scope));

let a: Instance;
let b: Instance;
let proxy: FaultProxy;
let app: { clientId: string; clientSecret: string };
let connectorId: string;


async function onB(userName: string): Promise<ScimUser[]> {
  const res = await json(b, 'GET', `/scim2/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`);
  return (res.body.Resources as ScimUser[] | undefined) ?? [];
}

/** The SCIM calls A made to B through the proxy since `from`, as `METHOD /path` (query strings left out). */
function callsToB(from = 0): string[] {
  return proxy.log.slice(from).map((e) => `${e.method} ${e.path.split('?')[0]}`);
}

/** Creates an identity provider on A with a scim2 connector to B over OAuth, and links it from the resident SP. */
async function linkOAuthConnector(name: string, clientSecret: string, blocking: boolean): Promise<{ idpId: string; connectorId: string }> {
  const idp = await json(a, 'POST', '/api/server/v1/identity-providers', {
    name,
    outboundConnectors: [
      {
        type: 'scim2',
        settings: {
          userEndpoint: `${proxy.url}/scim2/Users`,
          groupEndpoint: `${proxy.url}/scim2/Groups`,
          tokenEndpoint: `${b.baseUrl}/oauth2/token`,
          clientId: app.clientId,
          scope: SCOPES.join(' '),
          updateMethod: 'auto',
          deprovision: 'deactivate',
          timeoutMs: 20_000,
        },
        secrets: { clientSecret },
        passwordProvisioning: true,
        retry: { initialIntervalMs: 200, maximumIntervalMs: 1000 },
      },
    ],
  });
  expect(idp.status, JSON.stringify(idp.body)).toBe(201);
  const connector = (idp.body.outboundConnectors as { id: string; secrets: Record<string, string> }[])[0]!;
  // The admin API never shows the secret.
  expect(connector.secrets).toEqual({ clientSecret: '********' });
  expect(JSON.stringify(idp.body)).not.toContain(clientSecret);
  const link = await json(a, 'POST', '/api/server/v1/applications/resident/provisioning/outbound-connectors', { connectorId: connector.id, blocking });
  expect(link.status, JSON.stringify(link.body)).toBe(201);
  return { idpId: String(idp.body.id), connectorId: connector.id };
}

beforeAll(async () => {
  [a, b] = await Promise.all([startInstance('authA'), startInstance('authB')]);
  proxy = await startFaultProxy(b.baseUrl);
  const created = await json(b, 'POST', '/api/server/v1/applications', { name: 'IS1 provisioning', grantTypes: ['client_credentials'], scopes: SCOPES });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  app = { clientId: String(created.body.clientId), clientSecret: String(created.body.clientSecret) };
  ({ connectorId } = await linkOAuthConnector('IS2-oauth', app.clientSecret, true));
});
afterAll(async () => {
  await Promise.allSettled([a?.stop(), b?.stop(), proxy?.close()]);
});

describe('outbound SCIM 2.0 with OAuth 2.0 client credentials from B\'s own token endpoint', () => {
  it('creates, updates by PATCH (B announces it) and deactivates on delete, every call with a Bearer token', async () => {
    const from = proxy.log.length;
    const created = await json(a, 'POST', '/scim2/Users', {
      userName: 'oauth-olga',
      name: { givenName: 'Olga', familyName: 'O' },
      title: 'Guide',
      password: 'abc123-Secret',
      emails: [{ value: 'olga@example.org', type: 'work', primary: true }],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const localId = String(created.body.id);
    // Blocking link: A answered after B did.
    const [remote] = await onB('oauth-olga');
    expect(remote).toMatchObject({ userName: 'oauth-olga', title: 'Guide', active: true, name: { givenName: 'Olga', familyName: 'O' } });

    // A replace on A: a new email and given name, no title any more. B advertises PATCH, so A PATCHes the state.
    const replaced = await json(a, 'PUT', `/scim2/Users/${localId}`, {
      userName: 'oauth-olga',
      name: { givenName: 'Olgica' },
      emails: [{ value: 'olga@example.com', type: 'home' }],
    });
    expect(replaced.status, JSON.stringify(replaced.body)).toBe(200);
    const afterPatch = (await json(b, 'GET', `/scim2/Users/${remote!.id}`)).body as unknown as ScimUser;
    // B ends with A's state, as a PUT would have left it.
    expect(afterPatch.emails).toEqual((replaced.body as unknown as ScimUser).emails);
    expect(afterPatch.emails?.map((e) => e.value)).toEqual(['olga@example.com']);
    expect(afterPatch.name).toEqual({ givenName: 'Olgica' }); // familyName removed, as a PUT would have
    expect(afterPatch.title).toBeUndefined();
    expect(afterPatch.active).toBe((replaced.body as unknown as ScimUser).active); // a PUT without `active` leaves it unassigned

    // Deprovisioning by deactivation: the user stays on B, inactive.
    expect((await json(a, 'DELETE', `/scim2/Users/${localId}`)).status).toBe(204);
    const afterDelete = (await json(b, 'GET', `/scim2/Users/${remote!.id}`)).body as unknown as ScimUser;
    expect(afterDelete).toMatchObject({ id: remote!.id, userName: 'oauth-olga', active: false });
    expect(await onB('oauth-olga')).toHaveLength(1);

    // What went over the wire: discovery once, the create, two PATCHes (update, deactivation), no PUT, no DELETE.
    const calls = callsToB(from);
    expect(calls.filter((c) => !c.startsWith('GET /scim2/Users'))).toEqual([
      'POST /scim2/Users',
      'GET /scim2/ServiceProviderConfig',
      `PATCH /scim2/Users/${remote!.id}`,
      `PATCH /scim2/Users/${remote!.id}`,
    ]);
    expect(new Set(proxy.log.slice(from).map((e) => e.auth))).toEqual(new Set(['Bearer']));

    const audit = await eventually(async () => {
      const rows = (await json(a, 'GET', `/api/server/v1/provisioning/audit?userId=${localId}&connectorId=${connectorId}`)).body as unknown as AuditRow[];
      return rows.length >= 3 ? rows : undefined;
    }, 10_000, 'three audit records on A');
    expect(audit.map((r) => `${r.operation}:${r.outcome}`).sort()).toEqual(['create:delivered', 'delete:delivered', 'update:delivered']);
  });

  it('sends groups with PATCH: the whole member list replaced', async () => {
    const u = await json(a, 'POST', '/scim2/Users', { userName: 'oauth-gus' });
    expect(u.status).toBe(201);
    const [gusOnB] = await onB('oauth-gus');
    const from = proxy.log.length;
    const g = await json(a, 'POST', '/scim2/Groups', { displayName: 'oauth-guides', members: [{ value: u.body.id }] });
    expect(g.status, JSON.stringify(g.body)).toBe(201);
    const groupOnB = await eventually(async () => {
      const list = (await json(b, 'GET', `/scim2/Groups?filter=${encodeURIComponent('displayName eq "oauth-guides"')}`)).body.Resources as ScimGroup[] | undefined;
      return list?.[0]?.members?.length === 1 ? list[0] : undefined;
    }, 30_000, 'the group with its member on B');
    expect(groupOnB.members!.map((m) => m.value)).toEqual([gusOnB!.id]);

    const emptied = await json(a, 'PATCH', `/scim2/Groups/${String(g.body.id)}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'remove', path: 'members' }],
    });
    expect(emptied.status, JSON.stringify(emptied.body)).toBeLessThan(300);
    await eventually(async () => {
      const res = (await json(b, 'GET', `/scim2/Groups/${groupOnB.id}`)).body as unknown as ScimGroup;
      return (res.members ?? []).length === 0 ? true : undefined;
    }, 30_000, 'the group emptied on B');
    expect(callsToB(from)).toContain(`PATCH /scim2/Groups/${groupOnB.id}`);
    expect(callsToB(from).filter((c) => c.startsWith('PUT '))).toEqual([]);
  });

  it('a wrong client secret quarantines the connector and holds the change, which arrives once the secret is fixed', async () => {
    const wrongSecret = 'not-the-client-secret';
    const { idpId: wrongIdp, connectorId: wrongId } = await linkOAuthConnector('IS2-wrong-secret', wrongSecret, false);
    const created = await json(a, 'POST', '/scim2/Users', { userName: 'oauth-quentin', password: 'abc123-Secret' });
    expect(created.status).toBe(201); // the other (blocking) connector delivered; this one is not blocking
    const localId = String(created.body.id);

    const quarantined = await eventually(async () => {
      const list = (await json(a, 'GET', '/api/server/v1/provisioning/quarantine')).body as unknown as { connectorId: string; reason: string; heldDeliveries: number }[];
      return list.find((q) => q.connectorId === wrongId);
    }, 60_000, 'the connector with the wrong secret quarantined');
    // B's token endpoint said why (RFC 6749 §5.2 invalid_client); the secret itself is nowhere.
    expect(quarantined.reason).toMatch(/ConnectorMisconfigured: OAuth token endpoint .*\/oauth2\/token -> 401: invalid_client/);
    expect(quarantined.reason).not.toContain(wrongSecret);
    expect(quarantined.heldDeliveries).toBeGreaterThanOrEqual(1);
    const held = (await json(a, 'GET', `/api/server/v1/provisioning/audit?userId=${localId}&connectorId=${wrongId}`)).body as unknown as AuditRow[];
    expect(held.map((r) => `${r.operation}:${r.outcome}`)).toEqual(['create:held']);
    const links = (await json(a, 'GET', `/api/server/v1/provisioning/users/${localId}/remote-links`)).body as unknown as { connectorId: string }[];
    expect(links.map((l) => l.connectorId)).toEqual([connectorId]); // nothing recorded for the quarantined one

    // The operator corrects the secret and resumes the connector: the held create goes through (B has the user
    // already, from the other connector, so it links to it).
    const fixed = await json(a, 'PATCH', `/api/server/v1/identity-providers/${wrongIdp}/provisioning/outbound-connectors/${wrongId}`, {
      secrets: { clientSecret: app.clientSecret },
    });
    expect(fixed.status, JSON.stringify(fixed.body)).toBe(200);
    expect(JSON.stringify(fixed.body)).not.toContain(app.clientSecret);
    expect((await json(a, 'POST', `/api/server/v1/provisioning/quarantine/${wrongId}/resume`)).status).toBe(200);
    const [onBNow] = await onB('oauth-quentin');
    await eventually(async () => {
      const l = (await json(a, 'GET', `/api/server/v1/provisioning/users/${localId}/remote-links`)).body as unknown as { connectorId: string; remoteId: string | null }[];
      return l.find((x) => x.connectorId === wrongId && x.remoteId === onBNow!.id) ? true : undefined;
    }, 60_000, 'the held create delivered after the fix');
    const audit = (await json(a, 'GET', `/api/server/v1/provisioning/audit?userId=${localId}&connectorId=${wrongId}`)).body as unknown as AuditRow[];
    expect(audit.map((r) => `${r.operation}:${r.outcome}`)).toEqual(['create:delivered']);
    expect((await json(a, 'GET', '/api/server/v1/provisioning/quarantine')).body).toEqual([]);
  });
});
