/**
 * The seeds' outbound walk-through (a user added on IS1 appears on IS2), for real: two server instances
 * (separate processes and databases) on one Temporal dev server; A provisions to B over SCIM 2.0.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, linkScim2Target, startInstance, type Instance } from './harness.js';

interface ScimUser {
  id: string;
  userName: string;
  emails?: { value: string; type?: string; primary?: boolean }[];
  name?: { givenName?: string; familyName?: string };
  meta: { version: string };
}
interface ListResponse {
  totalResults: number;
  Resources: ScimUser[];
}
interface RemoteLink {
  connectorId: string;
  remoteId: string | null;
  appliedVersion: number;
  deleted: boolean;
}
interface AuditRow {
  eventId: string;
  operation: string;
  outcome: string;
  remoteId: string | null;
}

async function json<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

async function findByUserName(instance: Instance, userName: string): Promise<ListResponse> {
  const res = await instance.request('GET', `/scim2/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`);
  expect(res.status).toBe(200);
  return json<ListResponse>(res);
}

async function remoteLinks(instance: Instance, userId: string): Promise<RemoteLink[]> {
  return json<RemoteLink[]>(await instance.request('GET', `/api/server/v1/provisioning/users/${userId}/remote-links`));
}

function seedUser(userName: string) {
  // The seed's curl body (001: inbound provisioning with SCIM 2.0).
  return {
    schemas: [],
    name: { familyName: 'N', givenName: 'Rashmini' },
    userName,
    password: 'abc123-Secret',
    emails: [{ primary: true, value: `${userName}@gmail.com`, type: 'home' }],
  };
}

describe.each([
  { blocking: true, label: 'blocking link' },
  { blocking: false, label: 'non-blocking link' },
])('outbound SCIM 2.0 from A to B, $label', ({ blocking }) => {
  let a: Instance;
  let b: Instance;

  beforeAll(async () => {
    [a, b] = await Promise.all([startInstance('A'), startInstance('B')]);
    await linkScim2Target(a, b, { blocking });
  });
  afterAll(async () => {
    await Promise.allSettled([a?.stop(), b?.stop()]);
  });

  it('creates, updates and deletes the user on B', async () => {
    const userName = `rashmini-${blocking ? 'b' : 'nb'}`;
    const created = await a.request('POST', '/scim2/Users', seedUser(userName));
    expect(created.status).toBe(201);
    expect(created.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    const user = await json<ScimUser>(created);
    expect(user.userName).toBe(userName);
    expect(JSON.stringify(user)).not.toContain('abc123-Secret');

    // Blocking: A answered after B did, so B has the user now. Non-blocking: it arrives shortly.
    const onB = blocking
      ? await findByUserName(b, userName)
      : await eventually(async () => {
          const list = await findByUserName(b, userName);
          return list.totalResults === 1 ? list : undefined;
        }, 30_000, 'the user on B');
    expect(onB.totalResults).toBe(1);
    const remote = onB.Resources[0]!;
    expect(remote.userName).toBe(userName);
    expect(remote.emails).toEqual([{ value: `${userName}@gmail.com`, type: 'home', primary: true }]);
    expect(remote.name).toMatchObject({ givenName: 'Rashmini', familyName: 'N' });

    // A recorded B's id for the user.
    const links = await eventually(async () => {
      const l = await remoteLinks(a, user.id);
      return l[0]?.remoteId ? l : undefined;
    }, 10_000, 'the remote link on A');
    expect(links).toHaveLength(1);
    expect(links[0]!.remoteId).toBe(remote.id);
    expect(links[0]!.remoteId).not.toBe(user.id); // B chose its own id

    // Update on A reaches B (PUT with the seed's changed email).
    const updated = await a.request('PUT', `/scim2/Users/${user.id}`, {
      schemas: [],
      name: { familyName: 'N', givenName: 'Rashmini' },
      userName,
      emails: [{ value: `${userName}@example.org`, type: 'work' }],
    });
    expect(updated.status).toBe(200);
    expect((await json<ScimUser>(updated)).meta.version).toBe('W/"2"');
    await eventually(async () => {
      const res = await b.request('GET', `/scim2/Users/${remote.id}`);
      const u = await json<ScimUser>(res);
      return u.emails?.[0]?.value === `${userName}@example.org` ? u : undefined;
    }, blocking ? 1 : 30_000, 'the update on B');

    // Delete on A removes it from B.
    const deleted = await a.request('DELETE', `/scim2/Users/${user.id}`);
    expect(deleted.status).toBe(204);
    await eventually(async () => {
      const res = await b.request('GET', `/scim2/Users/${remote.id}`);
      return res.status === 404 ? true : undefined;
    }, blocking ? 1 : 30_000, 'the deletion on B');
    expect((await findByUserName(b, userName)).totalResults).toBe(0);

    // A writes its audit record just after B has answered: wait for the third.
    const audit = await eventually(async () => {
      const rows = await json<AuditRow[]>(await a.request('GET', `/api/server/v1/provisioning/audit?userId=${user.id}`));
      return rows.length >= 3 ? rows : undefined;
    }, 10_000, 'three audit records on A');
    expect(audit.map((r) => `${r.operation}:${r.outcome}`).sort()).toEqual(['create:delivered', 'delete:delivered', 'update:delivered']);
  });
});

describe('outbound delivery survives failures', () => {
  let a: Instance;
  let b: Instance;

  beforeAll(async () => {
    [a, b] = await Promise.all([startInstance('A'), startInstance('B')]);
  });
  afterAll(async () => {
    await Promise.allSettled([a?.stop(), b?.stop()]);
  });

  it('delivers a user created while B is down once B is back, with no operator action', async () => {
    await linkScim2Target(a, b, { blocking: false, idpName: 'IS2-down' });
    await Promise.all([b.stopApi(), b.stopWorker()]);

    const created = await a.request('POST', '/scim2/Users', seedUser('while-b-down'));
    expect(created.status).toBe(201);
    const user = await json<ScimUser>(created);

    // A keeps retrying; nothing has arrived anywhere yet.
    await new Promise((r) => setTimeout(r, 3000));
    expect((await remoteLinks(a, user.id)).filter((l) => l.remoteId)).toHaveLength(0);

    await Promise.all([b.startWorker(), b.startApi()]);
    const onB = await eventually(async () => {
      const list = await findByUserName(b, 'while-b-down');
      return list.totalResults === 1 ? list : undefined;
    }, 60_000, 'the user on B after its restart');
    const links = await eventually(async () => {
      const l = await remoteLinks(a, user.id);
      return l[0]?.remoteId ? l : undefined;
    }, 10_000, 'the remote link on A');
    expect(links[0]!.remoteId).toBe(onB.Resources[0]!.id);
  });

  it("arrives exactly once when A's worker is killed in the middle of the fan-out", async () => {
    // A proxy in front of B that forwards each request at once but holds B's answer, so A's worker can
    // be killed while B has already created the user and A has not yet heard of it.
    let requests = 0;
    let createsForwarded = 0;
    let hold = true;
    let sawCreate!: () => void;
    const createSeen = new Promise<void>((r) => (sawCreate = r));
    const proxy = http.createServer((req, res) => {
      requests += 1;
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void (async () => {
          const upstream = await fetch(`${b.baseUrl}${req.url}`, {
            method: req.method,
            headers: Object.fromEntries(Object.entries(req.headers).filter(([k]) => ['authorization', 'content-type', 'accept'].includes(k))) as Record<string, string>,
            ...(chunks.length > 0 && { body: Buffer.concat(chunks) }),
          });
          const body = await upstream.text();
          if (req.method === 'POST') {
            createsForwarded += 1;
            sawCreate();
          }
          while (hold && req.method === 'POST') await new Promise((r) => setTimeout(r, 100));
          if (!res.destroyed) {
            res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
            res.end(body);
          }
        })();
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
      // Only the proxied connector: unlink what the previous test linked.
      const linksPath = '/api/server/v1/applications/resident/provisioning/outbound-connectors';
      for (const l of await json<{ id: string }[]>(await a.request('GET', linksPath))) {
        expect((await a.request('DELETE', `${linksPath}/${l.id}`)).status).toBe(204);
      }
      await linkScim2Target(a, b, { blocking: false, idpName: 'IS2-proxied', userEndpoint: `${proxyUrl}/scim2/Users` });

      const created = await a.request('POST', '/scim2/Users', seedUser('kill-mid-fan-out'));
      expect(created.status).toBe(201);
      const user = await json<ScimUser>(created);

      await createSeen; // B has created the user; A's activity is waiting for the answer
      const onBBefore = await findByUserName(b, 'kill-mid-fan-out');
      expect(onBBefore.totalResults).toBe(1);
      await a.killWorker();
      hold = false;
      await a.startWorker();

      const links = await eventually(async () => {
        const l = (await remoteLinks(a, user.id)).filter((x) => x.remoteId);
        return l.length > 0 ? l : undefined;
      }, 90_000, 'the remote link on A after the worker restart');

      const onB = await findByUserName(b, 'kill-mid-fan-out');
      expect(onB.totalResults).toBe(1);
      expect(links[0]!.remoteId).toBe(onB.Resources[0]!.id);
      expect(onBBefore.Resources[0]!.id).toBe(onB.Resources[0]!.id); // the same user, not a re-creation
      // The retried create met B's 409 and linked to the existing user: two POSTs, one user.
      expect(createsForwarded).toBe(2);
      expect(requests).toBeGreaterThanOrEqual(2);
      const audit = await eventually(async () => {
        const rows = await json<AuditRow[]>(await a.request('GET', `/api/server/v1/provisioning/audit?userId=${user.id}`));
        return rows.some((r) => r.outcome === 'delivered') ? rows : undefined;
      }, 10_000, 'the audit record on A');
      expect(audit.filter((r) => r.outcome === 'delivered')).toHaveLength(1);
      expect(audit.filter((r) => r.operation === 'create')).toHaveLength(1);
    } finally {
      proxy.closeAllConnections();
      proxy.close();
    }
  });
});
