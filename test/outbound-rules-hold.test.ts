/**
 * A link with Enable Rules while no policy decision point exists (issue #10 builds it): a change on such a link used
 * to be audited `held` by the delivery and then counted as delivered by the fan-out, which dropped it. Now it is held
 * in order, like a quarantined connector's deliveries, and goes out once the link no longer has Enable Rules: nothing
 * accepted is lost.
 */
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseKeyring } from '../src/config.js';
import { SecretBox } from '../src/crypto/secret-box.js';
import { createDataConverter } from '../src/temporal/connection.js';
import { resumeConnectorSignal } from '../workflows/messages.js';
import { eventually, json, linkScim2Target, startInstance, type Instance } from './harness.js';

let a: Instance;
let b: Instance;
let client: Client;

beforeAll(async () => {
  [a, b] = await Promise.all([startInstance('rules-hold-a'), startInstance('rules-hold-b')]);
  client = new Client({ connection: await Connection.connect({ address: a.temporalAddress }), dataConverter: createDataConverter(new SecretBox(parseKeyring(a.encryptionKeys))) });
});
afterAll(async () => {
  await client?.connection.close();
  await Promise.all([a?.stop(), b?.stop()]);
});

const atB = async (userName: string) =>
  ((await json(b, 'GET', `/scim2/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`)).body.totalResults as number);

it('holds a change on an Enable Rules link instead of dropping it, and delivers it once the link has no rules', async () => {
  const linksPath = '/api/server/v1/applications/resident/provisioning/outbound-connectors';
  const { connectorId } = await linkScim2Target(a, b, { blocking: false });
  // The same connector, linked with Enable Rules instead.
  for (const l of (await json(a, 'GET', linksPath)).body as unknown as Array<{ id: string }>) await a.request('DELETE', `${linksPath}/${l.id}`);
  expect((await json(a, 'POST', linksPath, { connectorId, rulesEnabled: true })).status).toBe(201);

  const created = await json(a, 'POST', '/scim2/Users', { userName: 'ruled-ursula' });
  expect(created.status).toBe(201);
  const userId = created.body.id as string;
  const audit = async () => (await json(a, 'GET', `/api/server/v1/provisioning/audit?userId=${userId}`)).body as unknown as Array<{ outcome: string; error?: string }>;
  const held = await eventually(async () => (await audit()).find((r) => r.outcome === 'held'), 30_000, 'the held delivery');
  expect(held.error).toMatch(/Enable Rules/);
  // Held, not dropped: the user's fan-out still runs with the change in its queue, and nothing reached B.
  const fanOut = client.workflow.getHandle(`outbound-${userId}`);
  expect((await fanOut.describe()).status.name).toBe('RUNNING');
  await new Promise((r) => setTimeout(r, 3000)); // longer than the fan-out's idle time (OUTBOUND_IDLE_MS=2000)
  expect((await fanOut.describe()).status.name).toBe('RUNNING');
  expect(await atB('ruled-ursula')).toBe(0);

  // The operator takes Enable Rules off the link: the held change goes out at the fan-out's next look (a resume
  // signal here; without one, within its recheck interval), and once only.
  for (const l of (await json(a, 'GET', linksPath)).body as unknown as Array<{ id: string }>) await a.request('DELETE', `${linksPath}/${l.id}`);
  expect((await json(a, 'POST', linksPath, { connectorId })).status).toBe(201);
  await fanOut.signal(resumeConnectorSignal, { connectorId });
  await eventually(async () => ((await atB('ruled-ursula')) === 1 ? true : undefined), 30_000, 'the user at B');
  await eventually(async () => ((await audit()).some((r) => r.outcome === 'delivered') ? true : undefined), 30_000, 'the delivered audit');
});
