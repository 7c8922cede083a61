/**
 * The embedded Temporal UI for operators, in a real browser (Chromium, driven by playwright-core): the UI is served
 * through the api at /temporal-ui/ to signed-in operators only, and decodes histories through the codec endpoint with
 * the operator's session, the passwords in them masked (issue #8: the codec decoded passwords for anybody, and the
 * embedded UI needed no credential). As `npm start` runs it: a dev server whose UI has the public path /temporal-ui
 * and the api's /codec as its codec endpoint, and an api that proxies it (TEMPORAL_UI_UPSTREAM).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { startDevServer, type DevServer } from '../src/temporal/dev-server.js';
import { TEMPORAL_UI_PATH } from '../src/http/temporal-ui.js';
import { eventually, json, startInstance, testStack, type Instance } from './harness.js';
import { launchChromium } from './support/chromium.js';
import { freePort } from './support/ports.js';

const PASSWORD = 'Ui-Visible-Secret-42';

let dev: DevServer;
let is: Instance;
let browser: Browser;
let shots: string;

beforeAll(async () => {
  const port = await freePort();
  const uiPort = await freePort();
  const base = `http://127.0.0.1:${port}`;
  dev = await startDevServer({
    cliPath: inject('temporalCliPath'),
    port: await freePort(),
    uiPort,
    codecEndpoint: `${base}/codec`,
    uiPublicPath: TEMPORAL_UI_PATH,
    output: null,
  });
  const stack = { ...(await testStack()), temporalAddress: dev.address };
  is = await startInstance('operator-ui', {
    stack,
    port,
    env: { TEMPORAL_UI_UPSTREAM: `http://127.0.0.1:${uiPort}`, TEMPORAL_UI_URL: `${base}${TEMPORAL_UI_PATH}/` },
  });
  browser = await launchChromium();
  shots = fs.mkdtempSync(path.join(os.tmpdir(), 'operator-ui-'));
});
afterAll(async () => {
  await browser?.close();
  await is?.stop();
  await dev?.stop();
});

it('serves the UI to signed-in operators only, and decodes histories with the passwords masked', async () => {
  const created = await json(is, 'POST', '/scim2/Users', { userName: 'ui-grace', password: PASSWORD, displayName: 'Grace H' });
  expect(created.status).toBe(201);
  const patched = await json(is, 'PATCH', `/scim2/Users/${created.body.id as string}`, {
    schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
    Operations: [{ op: 'replace', path: 'password', value: `${PASSWORD}-2` }],
  });
  expect(patched.status).toBe(200);

  // Without a session: the UI's pages send the browser to the sign-in page, its API answers 401.
  expect((await fetch(`${is.baseUrl}${TEMPORAL_UI_PATH}/api/v1/settings`)).status).toBe(401);
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${is.baseUrl}${TEMPORAL_UI_PATH}/namespaces/default/workflows`);
  expect(new URL(page.url()).pathname).toBe('/login');

  // A wrong password keeps the browser out.
  await page.fill('#username', is.admin.username);
  await page.fill('#password', 'not-the-password');
  await page.click('button[type=submit]');
  expect(await page.locator('[role=alert]').textContent()).toMatch(/not right/);
  expect(new URL(page.url()).pathname).toBe('/login');

  // Signed in: the UI, and the workflows of this instance.
  await page.fill('#username', is.admin.username);
  await page.fill('#password', is.admin.password);
  await page.click('button[type=submit]');
  await page.waitForURL(/\/temporal-ui\/namespaces\/default\/workflows/);
  // The PATCH that set a password, found as an operator would: by its search attributes.
  const query = 'WorkflowType="inboundProvision" AND ProvisioningOperation="patch"';
  const execution = await eventually(async () => {
    const list = (await (await context.request.get(`${is.baseUrl}${TEMPORAL_UI_PATH}/api/v1/namespaces/default/workflows?query=${encodeURIComponent(query)}`)).json()) as {
      executions?: { execution: { workflowId: string; runId: string } }[];
    };
    return list.executions?.[0]?.execution;
  }, 20_000, 'the PATCH workflow in the UI');

  // The history page: its input decoded through /codec with the session, the user's name readable, no password.
  await page.goto(`${is.baseUrl}${TEMPORAL_UI_PATH}/namespaces/default/workflows/${encodeURIComponent(execution.workflowId)}/${execution.runId}/history`);
  try {
    await page.waitForFunction("document.body.innerText.includes('PatchOp')", undefined, { timeout: 30_000 });
  } catch (err) {
    await page.screenshot({ path: path.join(shots, 'history-failed.png'), fullPage: true });
    throw new Error(`the history page never showed the decoded input (screenshot: ${shots}/history-failed.png)`, { cause: err });
  }
  await page.screenshot({ path: path.join(shots, 'history.png'), fullPage: true });
  const text = await page.innerText('body');
  expect(text).toContain('urn:ietf:params:scim:api:messages:2.0:PatchOp');
  expect(text).toContain('********');
  expect(text).not.toContain(PASSWORD);

  // The codec answered the browser because of the session: the same request without it is refused.
  const decodeWithSession = await context.request.post(`${is.baseUrl}/codec/decode`, { data: { payloads: [] }, headers: { 'Content-Type': 'application/json' } });
  expect(decodeWithSession.status()).toBe(200);
  expect((await fetch(`${is.baseUrl}/codec/decode`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"payloads":[]}' })).status).toBe(401);

  // Signing out ends the session everywhere: the UI's API is closed again.
  await page.goto(`${is.baseUrl}/login`);
  const signOut = await context.request.post(`${is.baseUrl}/logout`, { headers: { Origin: is.baseUrl }, maxRedirects: 0 });
  expect(signOut.status()).toBe(303);
  expect((await context.request.get(`${is.baseUrl}${TEMPORAL_UI_PATH}/api/v1/settings`)).status()).toBe(401);
  await context.close();
});
