/**
 * Outbound provisioning over SPML 2.0, end to end: a server instance (api and worker processes) with the SPML
 * connector (a built-in connector), an identity provider with an `spml` connector linked from
 * the resident application, and a real SPML provider over HTTP (test/support/spml-server.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startInstance, type Instance } from './harness.js';
import { startSpmlServer, type SpmlServer } from './support/spml-server.js';

const AUTH = { username: 'spmladmin', password: 'spml-secret' };
const TARGET = 'idm-target';

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

async function json<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

async function remoteLinks(instance: Instance, userId: string): Promise<RemoteLink[]> {
  return json<RemoteLink[]>(await instance.request('GET', `/api/server/v1/provisioning/users/${userId}/remote-links`));
}

/** Mirrors linkScim2Target (test/harness.ts) for an `spml` connector. */
async function linkSpmlTarget(source: Instance, spml: SpmlServer, opts: { blocking: boolean; idpName: string }): Promise<{ connectorId: string }> {
  const res = await source.request('POST', '/api/server/v1/identity-providers', {
    name: opts.idpName,
    description: 'an SPML 2.0 provider',
    outboundConnectors: [
      {
        type: 'spml',
        settings: { endpoint: spml.url, username: AUTH.username, targetId: TARGET, objectClass: 'spml2Person', timeoutMs: 5000 },
        secrets: { password: AUTH.password },
        passwordProvisioning: true,
        retry: { initialIntervalMs: 200, maximumIntervalMs: 1000 },
      },
    ],
  });
  if (res.status !== 201) throw new Error(`creating the identity provider failed: ${res.status} ${await res.text()}`);
  const idp = (await res.json()) as { outboundConnectors: { id: string }[] };
  const connectorId = idp.outboundConnectors[0]!.id;
  const link = await source.request('POST', '/api/server/v1/applications/resident/provisioning/outbound-connectors', { connectorId, blocking: opts.blocking });
  if (link.status !== 201) throw new Error(`linking the connector failed: ${link.status} ${await link.text()}`);
  return { connectorId };
}

async function unlinkAll(instance: Instance): Promise<void> {
  const linksPath = '/api/server/v1/applications/resident/provisioning/outbound-connectors';
  for (const l of await json<{ id: string }[]>(await instance.request('GET', linksPath))) {
    expect((await instance.request('DELETE', `${linksPath}/${l.id}`)).status).toBe(204);
  }
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

describe('outbound SPML 2.0', () => {
  let a: Instance;
  let spml: SpmlServer;

  beforeAll(async () => {
    spml = await startSpmlServer({ ...AUTH, targetId: TARGET });
    a = await startInstance('SPML');
  });
  afterAll(async () => {
    await Promise.allSettled([a?.stop(), spml?.stop()]);
  });

  it('creates, updates and deletes the user as a PSO at the SPML provider', async () => {
    const { connectorId } = await linkSpmlTarget(a, spml, { blocking: true, idpName: 'SPML-IdM' });
    const created = await a.request('POST', '/scim2/Users', seedUser('rashmini-spml'));
    expect(created.status).toBe(201);
    const user = await json<ScimUser>(created);

    // Blocking: the provider has the PSO by the time A answered.
    const pso = spml.findByAttr('accountId', 'rashmini-spml');
    expect(pso).toBeDefined();
    expect(Object.fromEntries(pso!.attrs)).toEqual({
      objectclass: ['spml2Person'],
      accountId: ['rashmini-spml'],
      firstname: ['Rashmini'],
      lastname: ['N'],
      emailAddress: ['rashmini-spml@gmail.com'],
      disabled: ['false'],
      credentials: ['abc123-Secret'],
    });
    expect(pso!.targetId).toBe(TARGET);

    // A recorded the psoID as the remote id.
    const links = await eventually(async () => {
      const l = await remoteLinks(a, user.id);
      return l[0]?.remoteId ? l : undefined;
    }, 10_000, 'the remote link');
    expect(links).toHaveLength(1);
    expect(links[0]).toMatchObject({ connectorId, remoteId: pso!.id, deleted: false });

    const updated = await a.request('PUT', `/scim2/Users/${user.id}`, {
      schemas: [],
      name: { familyName: 'Perera', givenName: 'Rashmini' },
      userName: 'rashmini-spml',
      emails: [{ value: 'rashmini@example.org', type: 'work' }],
    });
    expect(updated.status).toBe(200);
    const afterUpdate = await eventually(() => {
      const p = spml.psos.get(pso!.id);
      return Promise.resolve(p?.attrs.get('emailAddress')?.[0] === 'rashmini@example.org' ? p : undefined);
    }, 10_000, 'the update at the provider');
    expect(afterUpdate.attrs.get('lastname')).toEqual(['Perera']);
    expect(afterUpdate.attrs.get('credentials')).toEqual(['abc123-Secret']); // no password in the PUT: unchanged
    expect(spml.requests).toContain('modifyRequest');

    const deleted = await a.request('DELETE', `/scim2/Users/${user.id}`);
    expect(deleted.status).toBe(204);
    await eventually(() => Promise.resolve(spml.psos.has(pso!.id) ? undefined : true), 10_000, 'the PSO deleted');
    expect(spml.requests).toContain('deleteRequest');
    const final = await eventually(async () => {
      const l = await remoteLinks(a, user.id);
      return l[0]?.deleted ? l : undefined;
    }, 10_000, 'the remote link marked deleted');
    expect(final[0]!.remoteId).toBe(pso!.id);
  });

  it('delivers a user created while the provider is failing and down once it is back, with no operator action', async () => {
    await unlinkAll(a);
    await linkSpmlTarget(a, spml, { blocking: false, idpName: 'SPML-down' });
    spml.setFault({ kind: 'status', status: 503, retryAfter: '1' });

    const created = await a.request('POST', '/scim2/Users', seedUser('while-spml-down'));
    expect(created.status).toBe(201);
    const user = await json<ScimUser>(created);

    // A keeps retrying against the failing provider; nothing has arrived.
    await eventually(() => Promise.resolve(spml.requests.filter((r) => r === 'addRequest').length >= 2 ? true : undefined), 20_000, 'retries');
    spml.setFault({ kind: 'reset' }); // then connections break mid-request
    await new Promise((r) => setTimeout(r, 1500));
    await spml.down(); // then the provider is gone altogether (connection refused)
    await new Promise((r) => setTimeout(r, 2000));
    expect(spml.findByAttr('accountId', 'while-spml-down')).toBeUndefined();
    expect((await remoteLinks(a, user.id)).filter((l) => l.remoteId)).toHaveLength(0);

    spml.setFault(undefined);
    await spml.up();
    const pso = await eventually(() => Promise.resolve(spml.findByAttr('accountId', 'while-spml-down')), 60_000, 'the PSO after the provider is back');
    const links = await eventually(async () => {
      const l = await remoteLinks(a, user.id);
      return l[0]?.remoteId ? l : undefined;
    }, 10_000, 'the remote link');
    expect(links[0]!.remoteId).toBe(pso.id);
    expect([...spml.psos.values()].filter((p) => p.attrs.get('accountId')?.includes('while-spml-down'))).toHaveLength(1);
  });
});
