/**
 * Reconciliation per target (A -> B over SCIM 2.0) and dry run per connector: drift between A's store and B is
 * reported (missing, orphans, different) and, with repair, B gets A's users back through their OutboundFanOut;
 * a connector with `dryRun: true` records every call it would make in the audit trail and sends none.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, linkScim2Target, startInstance, type Instance, json, type Json } from './harness.js';

let a: Instance;
let b: Instance;
let connectorId: string;

beforeAll(async () => {
  [a, b] = await Promise.all([startInstance('reconcileA'), startInstance('reconcileB')]);
  ({ connectorId } = await linkScim2Target(a, b, { blocking: false }));
});
afterAll(async () => {
  await Promise.allSettled([a?.stop(), b?.stop()]);
});


const q = (f: string) => encodeURIComponent(f);

async function userOnB(userName: string, check: (u: Json) => boolean = () => true): Promise<Json> {
  return eventually(async () => {
    const r = await json(b, 'GET', `/scim2/Users?filter=${q(`userName eq "${userName}"`)}`);
    const u = (r.body.Resources as Json[] | undefined)?.[0];
    return u && check(u) ? u : undefined;
  }, 30_000, `${userName} on B`);
}

interface Report {
  connectorId: string;
  local: number;
  remote: number;
  missing: { userName: string; reason: string; repaired: boolean }[];
  orphans: { userName: string }[];
  different: { localId: string; fields: { field: string; local: unknown; remote: unknown }[] }[];
  repaired: number;
  unsupported?: string;
  groups?: {
    local: number;
    remote: number;
    counts: { missing: number; orphans: number; different: number };
    missing: { displayName: string; reason: string; repaired: boolean }[];
    orphans: { displayName: string }[];
    different: { localId: string; fields: { field: string; local: unknown; remote: unknown }[] }[];
  };
}

async function reconcile(body: Json): Promise<Report> {
  const r = await json(a, 'POST', `/api/server/v1/provisioning/reconcile/${connectorId}?wait=true`, body);
  expect(r.status).toBe(200);
  expect(String(r.body.workflowId)).toMatch(new RegExp(`^reconcile-${connectorId}-\\d+$`));
  return r.body as unknown as Report;
}

describe('reconciliation', () => {
  it('reports drift without repairing, then repairs it (re-creating users the target deleted), leaving orphans alone', async () => {
    const ids: Record<string, string> = {};
    for (const n of ['rc-ann', 'rc-ben', 'rc-cy', 'rc-dan']) {
      const r = await json(a, 'POST', '/scim2/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: n });
      expect(r.status).toBe(201);
      ids[n] = String(r.body.id);
    }
    const onB: Record<string, Json> = {};
    for (const n of Object.keys(ids)) onB[n] = await userOnB(n);
    // Wait for the remote links too: the audit row comes just after B answers.
    await eventually(async () => {
      const links = (await json(a, 'GET', `/api/server/v1/provisioning/users/${ids['rc-dan']!}/remote-links`)).body as unknown as Json[];
      return links.length > 0 ? true : undefined;
    }, 10_000, 'the remote link of rc-dan');

    // Drift made behind A's back, at B directly.
    expect((await json(b, 'DELETE', `/scim2/Users/${String(onB['rc-ben']!.id)}`)).status).toBe(204);
    expect((await json(b, 'POST', '/scim2/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'rc-orphan' })).status).toBe(201);
    const patched = await json(b, 'PATCH', `/scim2/Users/${String(onB['rc-cy']!.id)}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'active', value: false }],
    });
    expect(patched.status).toBe(200);

    const report = await reconcile({});
    expect(report).toEqual(expect.objectContaining({ connectorId, local: 4, remote: 4, repaired: 0 }));
    expect(report.missing).toEqual([expect.objectContaining({ userName: 'rc-ben', reason: 'deleted-at-target', repaired: false })]);
    expect(report.orphans).toEqual([expect.objectContaining({ userName: 'rc-orphan' })]);
    expect(report.different).toEqual([
      expect.objectContaining({ localId: ids['rc-cy'], fields: [{ field: 'active', local: true, remote: false }] }),
    ]);

    // Repair without recreateMissing: the changed user is sent again, the deleted one only reported.
    const partial = await reconcile({ repair: true });
    expect(partial.repaired).toBe(1);
    expect(partial.missing).toEqual([expect.objectContaining({ userName: 'rc-ben', repaired: false })]);
    await userOnB('rc-cy', (u) => u.active === true);

    const repaired = await reconcile({ repair: true, recreateMissing: true });
    expect(repaired.missing).toEqual([expect.objectContaining({ userName: 'rc-ben', repaired: true })]);
    expect(repaired.repaired).toBe(1);
    const ben = await userOnB('rc-ben');
    expect(ben.id).not.toBe(onB['rc-ben']!.id);
    await userOnB('rc-orphan'); // orphans are never deleted

    const after = await eventually(async () => {
      const r = await reconcile({});
      return r.missing.length === 0 && r.different.length === 0 ? r : undefined;
    }, 30_000, 'a clean reconciliation');
    expect(after).toEqual(expect.objectContaining({ local: 4, remote: 5, orphans: [expect.objectContaining({ userName: 'rc-orphan' })] }));
  });

  it('reconciles groups too: a group deleted at the target, a member removed there, a group only the target has', async () => {
    const userId = async (userName: string) =>
      String(((await json(a, 'GET', `/scim2/Users?filter=${q(`userName eq "${userName}"`)}`)).body.Resources as Json[])[0]!.id);
    const [ann, dan] = [await userId('rc-ann'), await userId('rc-dan')];
    const team = await json(a, 'POST', '/scim2/Groups', { displayName: 'rc-team', members: [{ value: ann }, { value: dan }] });
    expect(team.status).toBe(201);
    expect((await json(a, 'POST', '/scim2/Groups', { displayName: 'rc-gone' })).status).toBe(201);
    const groupOnB = (name: string, members: number) =>
      eventually(async () => {
        const r = await json(b, 'GET', `/scim2/Groups?filter=${q(`displayName eq "${name}"`)}`);
        const g = (r.body.Resources as Json[] | undefined)?.[0];
        return g && ((g.members as unknown[] | undefined) ?? []).length === members ? g : undefined;
      }, 30_000, `${name} on B with ${members} members`);
    const teamOnB = await groupOnB('rc-team', 2);
    const goneOnB = await groupOnB('rc-gone', 0);
    await eventually(async () => {
      const links = (await json(a, 'GET', `/api/server/v1/provisioning/groups/${String(team.body.id)}/remote-links`)).body as unknown as Json[];
      return links[0]?.remoteId ? true : undefined;
    }, 10_000, 'the remote link of rc-team');

    // Drift made at B directly.
    const danOnB = String((await userOnB('rc-dan')).id);
    expect((await json(b, 'PATCH', `/scim2/Groups/${String(teamOnB.id)}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'remove', path: `members[value eq "${danOnB}"]` }],
    })).status).toBe(200);
    expect((await json(b, 'DELETE', `/scim2/Groups/${String(goneOnB.id)}`)).status).toBe(204);
    expect((await json(b, 'POST', '/scim2/Groups', { displayName: 'rc-orphan-group' })).status).toBe(201);

    const report = await reconcile({});
    expect(report.groups).toEqual(expect.objectContaining({ local: 2, remote: 2, counts: { missing: 1, orphans: 1, different: 1 } }));
    expect(report.groups!.missing).toEqual([expect.objectContaining({ displayName: 'rc-gone', reason: 'deleted-at-target', repaired: false })]);
    expect(report.groups!.orphans).toEqual([expect.objectContaining({ displayName: 'rc-orphan-group' })]);
    expect(report.groups!.different).toEqual([
      expect.objectContaining({
        localId: team.body.id,
        fields: [{ field: 'members', local: { count: 2, missingThere: [danOnB] }, remote: { count: 1, extraThere: [] } }],
      }),
    ]);

    const repaired = await reconcile({ repair: true, recreateMissing: true });
    expect(repaired.repaired).toBe(2);
    await groupOnB('rc-team', 2);
    await groupOnB('rc-gone', 0);
    const clean = await eventually(async () => {
      const r = await reconcile({});
      return r.groups?.counts.missing === 0 && r.groups.counts.different === 0 ? r : undefined;
    }, 30_000, 'a clean group reconciliation');
    expect(clean.groups!.orphans).toEqual([expect.objectContaining({ displayName: 'rc-orphan-group' })]); // never deleted
  });

  it('validates requests and answers 404 for unknown connectors', async () => {
    expect((await json(a, 'POST', `/api/server/v1/provisioning/reconcile/${connectorId}`, { repair: 'yes' })).status).toBe(400);
    expect((await json(a, 'POST', '/api/server/v1/provisioning/reconcile/00000000-0000-4000-8000-000000000000', {})).status).toBe(404);
    expect((await json(a, 'POST', '/api/server/v1/provisioning/reconcile/not-a-uuid', {})).status).toBe(404);
    const started = await json(a, 'POST', `/api/server/v1/provisioning/reconcile/${connectorId}`, {});
    expect(started.status).toBe(202);
    expect(String(started.body.workflowId)).toContain(`reconcile-${connectorId}-`);
  });

  it('creates, shows, updates and deletes the reconciliation schedule', async () => {
    const path = `/api/server/v1/provisioning/reconcile/${connectorId}/schedule`;
    expect((await json(a, 'GET', path)).status).toBe(404);
    expect((await json(a, 'PUT', path, {})).status).toBe(400); // no interval, none in the connector settings
    expect((await json(a, 'PUT', path, { intervalMinutes: 60, cron: '0 * * * *' })).status).toBe(400);
    expect((await json(a, 'PUT', path, { intervalMinutes: 0 })).status).toBe(400);
    expect((await json(a, 'PUT', '/api/server/v1/provisioning/reconcile/00000000-0000-4000-8000-000000000000/schedule', { intervalMinutes: 5 })).status).toBe(404);

    const created = await json(a, 'PUT', path, { intervalMinutes: 60, repair: true });
    expect(created.status).toBe(201);
    expect(created.body).toEqual(expect.objectContaining({ scheduleId: `reconcile-${connectorId}`, intervalMinutes: 60, repair: true }));
    const shown = await json(a, 'GET', path);
    expect(shown.status).toBe(200);
    expect(shown.body).toEqual(expect.objectContaining({ scheduleId: `reconcile-${connectorId}`, intervalMinutes: 60, repair: true, recreateMissing: false }));
    expect((shown.body.nextRuns as string[]).length).toBeGreaterThan(0);

    const updated = await json(a, 'PUT', path, { intervalMinutes: 15 });
    expect(updated.status).toBe(200);
    expect((await json(a, 'GET', path)).body).toEqual(expect.objectContaining({ intervalMinutes: 15, repair: false }));

    expect((await json(a, 'DELETE', path)).status).toBe(204);
    expect((await json(a, 'GET', path)).status).toBe(404);
    expect((await json(a, 'DELETE', path)).status).toBe(404);
  });

  it("keeps a connector's schedule in step with its settings.reconcile, and removes it with the connector", async () => {
    const base = {
      userEndpoint: `${b.baseUrl}/scim2/Users`,
      username: b.admin.username,
    };
    const bad = await json(a, 'POST', '/api/server/v1/identity-providers', {
      name: 'scheduled-bad',
      outboundConnectors: [{ type: 'scim2', settings: { ...base, reconcile: { intervalMinutes: 0 } }, secrets: { password: b.admin.password } }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.details).toEqual([expect.stringMatching(/^reconcile\.intervalMinutes: /)]);

    const idp = await json(a, 'POST', '/api/server/v1/identity-providers', {
      name: 'scheduled',
      outboundConnectors: [{ type: 'scim2', settings: { ...base, reconcile: { intervalMinutes: 30, repair: true } }, secrets: { password: b.admin.password } }],
    });
    expect(idp.status).toBe(201);
    const connector = (idp.body.outboundConnectors as Json[])[0]!;
    const id = String(connector.id);
    expect(connector.reconcileSchedule).toEqual(expect.objectContaining({ scheduleId: `reconcile-${id}`, intervalMinutes: 30, repair: true }));
    const path = `/api/server/v1/provisioning/reconcile/${id}/schedule`;
    expect((await json(a, 'GET', path)).body).toEqual(expect.objectContaining({ intervalMinutes: 30, repair: true }));

    // A change of the connector: its schedule follows; secrets merge by name (one rotated, one added, one removed).
    const connectorPath = `/api/server/v1/identity-providers/${String(idp.body.id)}/provisioning/outbound-connectors/${id}`;
    const patched = await json(a, 'PATCH', connectorPath, {
      settings: { ...base, reconcile: { cron: '0 3 * * *' } },
      secrets: { password: b.admin.password, defaultPassword: 'Initial-1' },
      enabled: false,
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toEqual(expect.objectContaining({ enabled: false, secrets: { password: '********', defaultPassword: '********' } }));
    const shown = (await json(a, 'GET', path)).body;
    expect(shown.intervalMinutes).toBeUndefined();
    expect(shown.calendars).toBeDefined();
    expect(shown.repair).toBe(false);
    const removed = await json(a, 'PATCH', connectorPath, { secrets: { defaultPassword: null } });
    expect(removed.body.secrets).toEqual({ password: '********' });
    // The merged configuration is validated like a new one: nothing is saved.
    const invalid = await json(a, 'PATCH', connectorPath, { settings: { userEndpoint: 'not a url' } });
    expect(invalid.status).toBe(400);
    expect((await json(a, 'GET', `/api/server/v1/identity-providers/${String(idp.body.id)}`)).body.outboundConnectors).toEqual([
      expect.objectContaining({ settings: expect.objectContaining({ userEndpoint: base.userEndpoint }) as unknown }),
    ]);
    expect((await json(a, 'PATCH', connectorPath, { type: 'scim11' })).status).toBe(400);

    expect((await json(a, 'DELETE', connectorPath)).status).toBe(204);
    expect((await json(a, 'GET', path)).status).toBe(404);
    expect((await json(a, 'DELETE', connectorPath)).status).toBe(404);
  });
});

describe('dry run per connector', () => {
  it('records the calls a dryRun connector would make in the audit trail and sends none', async () => {
    const received: string[] = [];
    const target = http.createServer((req, res) => {
      received.push(`${req.method} ${req.url}`);
      res.writeHead(500).end();
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(target.address() as AddressInfo).port}/scim2/Users`;
      const idp = await json(a, 'POST', '/api/server/v1/identity-providers', {
        name: 'dry',
        outboundConnectors: [
          { type: 'scim2', settings: { userEndpoint: url, username: 'admin', dryRun: true }, secrets: { password: 'pw' }, passwordProvisioning: true },
        ],
      });
      expect(idp.status).toBe(201);
      const dryId = String((idp.body.outboundConnectors as Json[])[0]!.id);
      expect((idp.body.outboundConnectors as Json[])[0]!.settings).toEqual(expect.objectContaining({ dryRun: true }));
      expect((await json(a, 'POST', '/api/server/v1/applications/resident/provisioning/outbound-connectors', { connectorId: dryId })).status).toBe(201);

      const created = await json(a, 'POST', '/scim2/Users', { userName: 'dry-dora', password: 'Secret-123' });
      expect(created.status).toBe(201);
      const id = String(created.body.id);
      const rows = await eventually(async () => {
        const r = (await json(a, 'GET', `/api/server/v1/provisioning/audit?userId=${id}&connectorId=${dryId}`)).body as unknown as Json[];
        return r.length > 0 ? r : undefined;
      }, 30_000, 'the dry-run audit record');
      expect(rows[0]).toEqual(expect.objectContaining({ outcome: 'skipped', operation: 'create' }));
      expect(String(rows[0]!.error)).toMatch(/^dry run: createUser\(\{.*"userName":"dry-dora".*"password":"\*{8}"/);
      expect(String(rows[0]!.error)).not.toContain('Secret-123');
      // No remote link is recorded for a dry run: turning it off delivers for real.
      const links = (await json(a, 'GET', `/api/server/v1/provisioning/users/${id}/remote-links`)).body as unknown as Json[];
      expect(links.filter((l) => l.connectorId === dryId)).toEqual([]);
      expect(received).toEqual([]);
    } finally {
      await new Promise((r) => target.close(r));
    }
  });
});
