/**
 * What S2 and S3 need around creates: the source's outbound links to its target instances (one SCIM 2.0 connector
 * per target, created once, linked from the resident service provider as each case needs), the create request
 * itself, and when each created user reached each target.
 *
 * Delivery times come from the source's own outbound audit (provisioning_audit: one row per event and connector,
 * written by the delivery activity once the target answered), read straight from its database: exact to the
 * millisecond whatever the polling interval, and no load on the targets while they are being measured. The last
 * user is also looked up on the target itself, so an audit that says "delivered" is checked against the copy.
 */
import crypto from 'node:crypto';
import pg from 'pg';
import { linkScim2Target, type Instance } from '../test/harness.js';
import { HttpClient, type Outcome } from './load.js';

const LINKS = '/api/server/v1/applications/resident/provisioning/outbound-connectors';
const connectors = new WeakMap<Instance, Map<Instance, string>>();

/** The connector of `source` to `target` (created on first use, with no link left behind). */
export async function connectorTo(source: Instance, target: Instance): Promise<string> {
  let known = connectors.get(source);
  if (!known) connectors.set(source, (known = new Map()));
  const id = known.get(target);
  if (id) return id;
  const { connectorId } = await linkScim2Target(source, target, { blocking: false, idpName: `bench-${target.name}` });
  known.set(target, connectorId);
  return connectorId;
}

/** Makes the resident service provider's links exactly `links` (every other link removed); returns the connector ids. */
export async function setLinks(source: Instance, links: { target: Instance; blocking: boolean }[]): Promise<string[]> {
  const ids = [];
  for (const l of links) ids.push(await connectorTo(source, l.target));
  const existing = (await (await source.request('GET', LINKS)).json()) as { id: string }[];
  for (const l of existing) {
    const res = await source.request('DELETE', `${LINKS}/${l.id}`);
    if (res.status >= 300) throw new Error(`removing an outbound link failed: ${res.status} ${await res.text()}`);
  }
  for (const [i, l] of links.entries()) {
    const res = await source.request('POST', LINKS, { connectorId: ids[i], blocking: l.blocking });
    if (res.status !== 201) throw new Error(`linking the connector failed: ${res.status} ${await res.text()}`);
  }
  return ids;
}

export interface Created {
  id: string;
  userName: string;
  /** Wall clock (ms) when the create's answer arrived, comparable to the audit's times. */
  answeredAt: number;
  /** The load's operation number: those below the load's first measured one were its warm-up. */
  i: number;
  /** Blocking targets the answer said were still pending (X-Provisioning-Pending). */
  pending: boolean;
}

/** A SCIM create of a new user named `${prefix}-${i}`, as an Entra-like client sends it; records it in `created`. */
export function createOp(http: HttpClient, prefix: string, created: Created[]): (i: number) => Promise<Outcome> {
  return async (i) => {
    const userName = `${prefix}-${i}`;
    const res = await http.request('POST', '/scim2/Users', {
      body: {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName,
        externalId: crypto.randomUUID(),
        active: true,
        displayName: `Bench ${i}`,
        name: { givenName: 'Bench', familyName: String(i) },
        emails: [{ value: `${userName}@example.org`, type: 'work', primary: true }],
      },
    });
    const answeredAt = Date.now();
    if (res.status !== 201) return { ok: false, status: String(res.status) };
    const body = HttpClient.json<{ id?: string; userName?: string }>(res);
    if (!body.id || body.userName !== userName) return { ok: false, status: 'wrong answer' };
    created.push({ id: body.id, userName, answeredAt, i, pending: res.headers['x-provisioning-pending'] !== undefined });
    return { ok: true, status: '201' };
  };
}

export interface Arrivals {
  /** Per user id: the time (ms, wall clock) it was delivered to its last target. */
  lastDelivery: Map<string, number>;
  /** The latest of them. */
  last: number;
}

/**
 * Waits until every user in `users` is delivered to every connector of `connectorIds` (per the source's audit),
 * then checks the last one on `targets`; throws when a delivery fails or does not arrive within `timeoutMs`.
 */
export async function waitDelivered(source: Instance, users: Created[], connectorIds: string[], targets: Instance[], timeoutMs: number): Promise<Arrivals> {
  const client = new pg.Client({ connectionString: source.databaseUrl });
  await client.connect();
  const ids = users.map((u) => u.id);
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      // created_at is a timestamp without time zone holding UTC (Prisma DateTime).
      const { rows } = await client.query<{ local_id: string; delivered: string; other: string; at: string | null; outcomes: string | null }>(
        `SELECT local_id, count(*) FILTER (WHERE outcome = 'delivered') AS delivered, count(*) FILTER (WHERE outcome <> 'delivered') AS other,
                max(extract(epoch FROM created_at) * 1000) FILTER (WHERE outcome = 'delivered') AS at,
                string_agg(DISTINCT outcome || coalesce(': ' || error, ''), '; ') FILTER (WHERE outcome <> 'delivered') AS outcomes
         FROM provisioning_audit WHERE operation = 'create' AND local_id = ANY($1::uuid[]) AND connector_id = ANY($2::uuid[]) GROUP BY local_id`,
        [ids, connectorIds],
      );
      const broken = rows.find((r) => Number(r.other) > 0);
      if (broken) throw new Error(`a create was not delivered: user ${broken.local_id}: ${broken.outcomes ?? ''}`);
      const done = rows.filter((r) => Number(r.delivered) === connectorIds.length);
      if (done.length === ids.length) {
        const lastDelivery = new Map(done.map((r) => [r.local_id, Number(r.at)]));
        const last = Math.max(...lastDelivery.values());
        const latest = users.reduce((a, b) => (lastDelivery.get(a.id)! >= lastDelivery.get(b.id)! ? a : b));
        for (const t of targets) {
          const res = await t.request('GET', `/scim2/Users?count=0&filter=${encodeURIComponent(`userName eq "${latest.userName}"`)}`);
          const body = (await res.json()) as { totalResults?: number };
          if (body.totalResults !== 1) throw new Error(`the audit says ${latest.userName} was delivered, but ${t.name} does not have it (${res.status})`);
        }
        return { lastDelivery, last };
      }
      if (Date.now() > deadline) throw new Error(`deliveries did not arrive in ${Math.round(timeoutMs / 1000)} s: ${done.length} of ${ids.length} users on all ${connectorIds.length} targets`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await client.end();
  }
}

/** The audit's clock against ours: throws when they disagree by more than a second (a time zone taken wrongly). */
export function checkClock(arrivals: Arrivals, users: Created[]): void {
  for (const u of users) {
    const at = arrivals.lastDelivery.get(u.id);
    if (at !== undefined && (at < u.answeredAt - 60_000 || at > Date.now() + 1000)) {
      throw new Error(`the audit's delivery time of ${u.userName} (${new Date(at).toISOString()}) is not near its answer (${new Date(u.answeredAt).toISOString()}): the bench reads created_at wrongly`);
    }
  }
}
