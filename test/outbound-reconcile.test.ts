/**
 * Reconciliation per target (A -> B over SCIM 2.0) and dry run per connector: drift between A's store and B is
 * reported (missing, orphans, different) and, with repair, B gets A's users back through their OutboundFanOut;
 * a connector with `dryRun: true` records every call it would make in the audit trail and sends none.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, linkScim2Target, startInstance, type Instance } from './harness.js';

type Json = Record<string, unknown>;
let a: Instance;
let b: Instance;

beforeAll(async () => {
  [a, b] = await Promise.all([startInstance('reconcileA'), startInstance('reconcileB')]);
  await linkScim2Target(a, b, { blocking: false });
});
afterAll(async () => {
  await Promise.allSettled([a?.stop(), b?.stop()]);
});

async function json(instance: Instance, method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const res = await instance.request(method, path, body, body !== undefined ? { 'Content-Type': 'application/json' } : {});
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {} };
}

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
