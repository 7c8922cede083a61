/**
 * Custom connectors as plug-ins (src/connectors/registry.ts): the example plug-in in
 * src/connectors/example-plugin is loaded by CONNECTOR_PLUGINS into a real api and worker, configured through the
 * admin API like a built-in connector, and receives the user's create, update and delete; broken plug-ins stop
 * start-up with a message naming them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConnectorRegistry } from '../src/connectors/registry.js';
import { PROJECT_ROOT } from '../src/temporal/cli-binary.js';
import { eventually, startInstance, type Instance } from './harness.js';

const PLUGIN = path.join(PROJECT_ROOT, 'src', 'connectors', 'example-plugin', 'index.ts');

describe('loadConnectorRegistry', () => {
  it('adds a plug-in beside the built-ins and refuses what is not a connector factory', async () => {
    const registry = await loadConnectorRegistry([PLUGIN]);
    expect(registry.types()).toEqual(expect.arrayContaining(['scim2', 'custom:jsonl']));
    expect(registry.factory('custom:jsonl')?.validate({ type: 'custom:jsonl', settings: { file: 'relative.jsonl' }, secrets: {} })).toEqual([
      'file: must be an absolute path',
    ]);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plugin-'));
    const notAFactory = path.join(dir, 'not-a-factory.mjs');
    fs.writeFileSync(notAFactory, 'export default { type: "custom:x" };\n');
    await expect(loadConnectorRegistry([notAFactory])).rejects.toThrow(/exports no connector factory/);
    await expect(loadConnectorRegistry([path.join(dir, 'missing.mjs')])).rejects.toThrow(/cannot load/);
    await expect(loadConnectorRegistry([PLUGIN, PLUGIN])).rejects.toThrow(/registered twice/);
  });
});

describe('a plug-in connector in a running server', () => {
  let is: Instance;
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'jsonl-')), 'users.jsonl');
  const lines = () =>
    fs.existsSync(file)
      ? fs
          .readFileSync(file, 'utf8')
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as { op: string; remoteId: string; user?: { userName: string; displayName?: string; password?: string } })
      : [];

  beforeAll(async () => {
    is = await startInstance('plugin', { env: { CONNECTOR_PLUGINS: PLUGIN } });
    const idp = await is.request('POST', '/api/server/v1/identity-providers', {
      name: 'export-file',
      outboundConnectors: [{ type: 'custom:jsonl', settings: { file }, passwordProvisioning: true, retry: { initialIntervalMs: 200, maximumIntervalMs: 1000 } }],
    });
    expect(idp.status, await idp.clone().text()).toBe(201);
    const connectorId = ((await idp.json()) as { outboundConnectors: { id: string }[] }).outboundConnectors[0]!.id;
    const link = await is.request('POST', '/api/server/v1/applications/resident/provisioning/outbound-connectors', { connectorId, blocking: true });
    expect(link.status).toBe(201);
  });
  afterAll(async () => {
    await is?.stop();
  });

  it('receives create, update and delete in order, with the remote id recorded and no password written', async () => {
    const created = await is.request('POST', '/scim2/Users', { userName: 'plugged', password: 'plug-secret-1' });
    expect(created.status).toBe(201);
    const id = ((await created.json()) as { id: string }).id;
    expect((await is.request('PUT', `/scim2/Users/${id}`, { userName: 'plugged', displayName: 'Plugged In' })).status).toBe(200);
    expect((await is.request('DELETE', `/scim2/Users/${id}`)).status).toBe(204);

    const all = await eventually(() => {
      const l = lines();
      return Promise.resolve(l.length >= 3 ? l : undefined);
    }, 30_000, 'three lines in the export file');
    expect(all.map((l) => l.op)).toEqual(['create', 'update', 'delete']);
    expect(new Set(all.map((l) => l.remoteId)).size).toBe(1);
    expect(all[1]!.user).toEqual(expect.objectContaining({ userName: 'plugged', displayName: 'Plugged In' }));
    expect(fs.readFileSync(file, 'utf8')).not.toContain('plug-secret-1');

    const links = (await (await is.request('GET', `/api/server/v1/provisioning/users/${id}/remote-links`)).json()) as { remoteId: string; deleted: boolean }[];
    expect(links).toEqual([expect.objectContaining({ remoteId: all[0]!.remoteId, deleted: true })]);
  });
});
