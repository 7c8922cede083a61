/**
 * The seed's JIT scenario in a real browser (Chromium, driven by playwright-core; issue #9, "What must show it"):
 * a sample relying-party application (test/support/sample-rp.ts) signs in at this server (IS1), whose application
 * offers a choice of identity providers:
 *
 * - IS2, a second instance of this server, as the external OpenID Provider (seed 001: IS1 federates the login to IS2,
 *   and on IS2's positive answer provisions the user "silently" into PRIMARY); IS1 also provisions JIT users outbound
 *   to IS2 over SCIM 2.0 through a link with Enable JIT (seed 004), into a user store domain of their own there;
 * - a standalone OpenID Provider from the `oidc-provider` package with its own defaults and its development login
 *   pages (test/support/standalone-idp.ts), for the prompt schemes and association.
 *
 * Cookies: a browser scopes them by host, not port, and oidc-provider's cookie names are the same on every instance,
 * so IS1 and the sample application are on 127.0.0.1 and the providers on `localhost`; each journey runs in a fresh
 * browser context. Screenshots of each journey are kept in $SCREENSHOT_DIR (default: a temporary folder, printed).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, json, startInstance, type Instance } from './harness.js';
import { launchChromium } from './support/chromium.js';
import { freePort } from './support/ports.js';
import { sampleRpUrls, startSampleRp, type SampleRp } from './support/sample-rp.js';
import { startStandaloneIdp, type StandaloneIdp } from './support/standalone-idp.js';

const CAROL_PASSWORD = 'Carol-at-IS2-2026!';

let is1: Instance;
let is2: Instance;
let standalone: StandaloneIdp;
let rp: SampleRp;
let browser: Browser;
let shots: string;
let standaloneIdpId: string;
let is2IdpId: string;

const filter = (expr: string) => `/scim2/Users?filter=${encodeURIComponent(expr)}`;

async function userAt(instance: Instance, userName: string): Promise<Record<string, unknown> | undefined> {
  const found = await json(instance, 'GET', filter(`userName eq "${userName}"`));
  return (found.body.Resources as Array<Record<string, unknown>> | undefined)?.[0];
}

beforeAll(async () => {
  const [is1Port, is2Port, rpPort] = await Promise.all([freePort(), freePort(), freePort()]);
  const is1Base = `http://127.0.0.1:${is1Port}`;
  const urls = sampleRpUrls(rpPort);
  [is1, is2, standalone] = await Promise.all([
    startInstance('fed-is1', { port: is1Port }),
    startInstance('fed-is2', { port: is2Port, env: { PUBLIC_BASE_URL: `http://localhost:${is2Port}` } }),
    startStandaloneIdp({
      hostname: 'localhost',
      clients: [{ clientId: 'is1', clientSecret: 'standalone-secret-for-is1', redirectUris: [`${is1Base}/commonauth`] }],
    }),
  ]);

  // IS2: the user, her group, the application IS1 signs in with, and the user store domain IS1 provisions into.
  expect((await json(is2, 'POST', '/api/server/v1/userstores', { name: 'FROM-IS1' })).status).toBe(201);
  const carol = await json(is2, 'POST', '/scim2/Users', {
    userName: 'carol',
    password: CAROL_PASSWORD,
    displayName: 'Carol Seed',
    name: { givenName: 'Carol', familyName: 'Seed' },
    emails: [{ value: 'carol@is2.example', primary: true }],
  });
  expect(carol.status).toBe(201);
  const engineering = await json(is2, 'POST', '/scim2/Groups', { displayName: 'engineering', members: [{ value: carol.body.id }] });
  expect(engineering.status).toBe(201);
  const is1AtIs2 = await json(is2, 'POST', '/api/server/v1/applications', {
    name: 'IS1',
    grantTypes: ['authorization_code'],
    redirectUris: [`${is1Base}/commonauth`],
    skipConsent: true,
  });
  expect(is1AtIs2.status, JSON.stringify(is1AtIs2.body)).toBe(201);

  // IS1: the identity provider IS2 (federated authenticator, silent JIT into PRIMARY, groups mapped, a SCIM 2.0
  // outbound connector back to IS2), the standalone provider, and the sample application offering both.
  const eng = await json(is1, 'POST', '/scim2/Groups', { displayName: 'eng' });
  expect(eng.status).toBe(201);
  const idp = await json(is1, 'POST', '/api/server/v1/identity-providers', {
    name: 'IS2',
    federatedAuthenticator: {
      issuer: `http://localhost:${is2Port}/oauth2/token`,
      clientId: is1AtIs2.body.clientId,
      clientSecret: is1AtIs2.body.clientSecret,
      scopes: ['openid', 'profile', 'email', 'groups'],
    },
    jit: { enabled: true, scheme: 'provision_silently', userStoreDomain: 'PRIMARY', groups: { claim: 'groups', mappings: [{ value: 'engineering', group: 'eng' }] } },
    outboundConnectors: [
      {
        type: 'scim2',
        settings: { userEndpoint: `${is2.baseUrl}/scim2/Users`, groupEndpoint: `${is2.baseUrl}/scim2/Groups`, username: is2.admin.username, userStoreDomain: 'FROM-IS1' },
        secrets: { password: is2.admin.password },
        retry: { initialIntervalMs: 200, maximumIntervalMs: 1000 },
      },
    ],
  });
  expect(idp.status, JSON.stringify(idp.body)).toBe(201);
  is2IdpId = idp.body.id as string;
  const other = await json(is1, 'POST', '/api/server/v1/identity-providers', {
    name: 'standalone',
    federatedAuthenticator: { issuer: standalone.issuer, clientId: 'is1', clientSecret: 'standalone-secret-for-is1', scopes: ['openid', 'profile', 'email'] },
    jit: { enabled: true, scheme: 'prompt_username_password_consent' },
  });
  expect(other.status, JSON.stringify(other.body)).toBe(201);
  standaloneIdpId = other.body.id as string;
  const app = await json(is1, 'POST', '/api/server/v1/applications', {
    name: 'sample-app',
    grantTypes: ['authorization_code'],
    redirectUris: [urls.redirectUri],
    postLogoutRedirectUris: [urls.postLogoutRedirectUri],
    skipConsent: true,
    loginMethod: { type: 'choice', identityProviders: ['IS2', 'standalone'], local: true },
  });
  expect(app.status, JSON.stringify(app.body)).toBe(201);
  // Enable JIT on the application's link to IS2's connector: JIT-provisioned users are sent there too (seed 004).
  const connectorId = (idp.body.outboundConnectors as Array<{ id: string }>)[0]!.id;
  const link = await json(is1, 'POST', `/api/server/v1/applications/${app.body.id as string}/provisioning/outbound-connectors`, { connectorId, blocking: true, jitEnabled: true });
  expect(link.status, JSON.stringify(link.body)).toBe(201);

  rp = await startSampleRp({ issuer: `${is1Base}/oauth2/token`, clientId: app.body.clientId as string, clientSecret: app.body.clientSecret as string, port: rpPort, scope: 'openid profile email' });
  browser = await launchChromium();
  shots = process.env.SCREENSHOT_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'federation-browser-'));
  fs.mkdirSync(shots, { recursive: true });
  console.log(`federation-browser screenshots: ${shots}`);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await rp?.stop();
  await standalone?.stop();
  await Promise.all([is1?.stop(), is2?.stop()]);
});

/** A journey in a fresh browser context, with a screenshot of wherever it ends (pass or fail). */
async function journey(name: string, steps: (page: Page) => Promise<void>, device: 'laptop' | 'phone' = 'laptop'): Promise<void> {
  const context = await browser.newContext(device === 'phone' ? { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true } : {});
  const page = await context.newPage();
  try {
    await steps(page);
  } finally {
    await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true }).catch(() => undefined);
    await context.close();
  }
}

/** From the sample application to IS1's choice page, and on through the chosen identity provider. */
async function chooseAtIs1(page: Page, idp: string, prompt?: 'login'): Promise<void> {
  await page.goto(`${rp.url}/login${prompt ? `?prompt=${prompt}` : ''}`);
  await page.getByRole('button', { name: `Continue with ${idp}` }).click();
}

async function signInAtIs2(page: Page): Promise<void> {
  await expectAccessibleForm(page);
  await page.getByLabel('Username').fill('carol');
  await page.getByLabel('Password').fill(CAROL_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** oidc-provider's development login and consent pages (any login name is the subject). */
async function signInAtStandalone(page: Page, sub: string): Promise<void> {
  await page.locator('input[name=login]').fill(sub);
  await page.locator('input[name=password]').fill('any');
  await page.locator('button[type=submit]').click();
  await page.locator('button[type=submit]').click(); // its consent page: Continue
}

/**
 * The page's form is usable without a mouse or sight: every visible field has a label, the page fits the viewport's
 * width (no sideways scrolling on a phone), and the first field or button takes the keyboard focus with Tab.
 */
async function expectAccessibleForm(page: Page): Promise<void> {
  // Evaluated in the page (a string: this project's TypeScript has no DOM library).
  const report = await page.evaluate<{ unlabelled: string[]; overflow: number; lang: string }>(`({
    unlabelled: [...document.querySelectorAll('input:not([type=hidden])')].filter((i) => i.labels.length === 0).map((i) => i.outerHTML),
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    lang: document.documentElement.lang,
  })`);
  expect(report.unlabelled).toEqual([]);
  expect(report.overflow).toBeLessThanOrEqual(0);
  expect(report.lang).toBe('en');
  await page.keyboard.press('Tab');
  expect(await page.evaluate<string>('document.activeElement ? document.activeElement.tagName : ""')).toMatch(/^(INPUT|BUTTON)$/);
}

/** A screenshot of a step on the way (the journey's end gets one anyway). */
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });

async function expectSignedIn(page: Page): Promise<string> {
  await expect.poll(() => page.textContent('body'), { timeout: 30_000 }).toContain('Signed in as');
  return rp.lastLogin()!.claims.sub;
}

describe('the seed: IS1 federates to IS2 and provisions silently', () => {
  it('signs Carol in at IS2, creates her in IS1 PRIMARY with her group, gives the application a valid ID token, and provisions her to IS2 through the Enable JIT link', async () => {
    await journey('is2-silent-first-login', async (page) => {
      await chooseAtIs1(page, 'IS2');
      expect(new URL(page.url()).host).toBe(new URL(`http://localhost:${new URL(is2.baseUrl).port}`).host);
      await signInAtIs2(page);
      const sub = await expectSignedIn(page);
      const carol = await userAt(is1, 'carol');
      expect(carol).toMatchObject({ id: sub, displayName: 'Carol Seed', name: { givenName: 'Carol', familyName: 'Seed' } });
      expect(carol!.userName).toBe('carol'); // PRIMARY: no domain prefix
      expect(rp.lastLogin()!.claims).toMatchObject({ iss: `${is1.baseUrl}/oauth2/token`, preferred_username: 'carol' });
      const eng = await json(is1, 'GET', `/scim2/Groups?filter=${encodeURIComponent('displayName eq "eng"')}`);
      expect((eng.body.Resources as Array<{ members?: Array<{ value: string }> }>)[0]!.members?.map((m) => m.value)).toEqual([sub]);
      // Blocking Enable JIT link: she was at IS2's FROM-IS1 store before the application got its answer.
      expect(await userAt(is2, 'FROM-IS1/carol')).toMatchObject({ displayName: 'Carol Seed' });
    });
  });

  it('re-login syncs her attributes and withdraws a group IS2 no longer asserts (authoritative group claims)', async () => {
    const carolAtIs2 = (await userAt(is2, 'carol'))!;
    const groups = await json(is2, 'GET', `/scim2/Groups?filter=${encodeURIComponent('displayName eq "engineering"')}`);
    const engineeringId = (groups.body.Resources as Array<{ id: string }>)[0]!.id;
    expect((await json(is2, 'PATCH', `/scim2/Users/${carolAtIs2.id as string}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'displayName', value: 'Carol Renamed' }],
    })).status).toBe(200);
    expect((await json(is2, 'PATCH', `/scim2/Groups/${engineeringId}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'remove', path: `members[value eq "${carolAtIs2.id as string}"]` }],
    })).status).toBe(200);
    await journey('is2-relogin-sync', async (page) => {
      await chooseAtIs1(page, 'IS2');
      await signInAtIs2(page);
      const sub = await expectSignedIn(page);
      expect(await userAt(is1, 'carol')).toMatchObject({ id: sub, displayName: 'Carol Renamed' });
      const eng = await json(is1, 'GET', `/scim2/Groups?filter=${encodeURIComponent('displayName eq "eng"')}`);
      expect((eng.body.Resources as Array<{ members?: unknown[] }>)[0]!.members ?? []).toEqual([]);
    });
    await eventually(async () => ((await userAt(is2, 'FROM-IS1/carol'))?.displayName === 'Carol Renamed' ? true : undefined), 30_000, 'the update at IS2');
  });

  it('re-login under SYNC_NONE keeps the local attributes; under PRESERVE_LOCAL only empty ones are filled', async () => {
    const jitPath = `/api/server/v1/identity-providers/${is2IdpId}/provisioning/jit`;
    const jit = (attributeSync: string) =>
      json(is1, 'PUT', jitPath, { enabled: true, scheme: 'provision_silently', attributeSync, groups: { claim: 'groups', mappings: [{ value: 'engineering', group: 'eng' }] } });
    const carolAtIs2 = (await userAt(is2, 'carol'))!;
    const renameAtIs2 = (displayName: string, familyName: string) =>
      json(is2, 'PATCH', `/scim2/Users/${carolAtIs2.id as string}`, {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'replace', path: 'displayName', value: displayName }, { op: 'replace', path: 'name.familyName', value: familyName }],
      });
    const carolAtIs1 = (await userAt(is1, 'carol'))!;
    try {
      expect((await jit('SYNC_NONE')).status).toBe(200);
      expect((await renameAtIs2('Carol SyncNone', 'NoSync')).status).toBe(200);
      await journey('is2-relogin-sync-none', async (page) => {
        await chooseAtIs1(page, 'IS2');
        await signInAtIs2(page);
        await expectSignedIn(page);
      });
      expect(await userAt(is1, 'carol')).toMatchObject({ displayName: 'Carol Renamed', name: { familyName: 'Seed' }, meta: { version: (carolAtIs1.meta as { version: string }).version } });

      // PRESERVE_LOCAL: an operator emptied the family name here; the next login fills it, and keeps the display name.
      expect((await json(is1, 'PATCH', `/scim2/Users/${carolAtIs1.id as string}`, {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'remove', path: 'name.familyName' }],
      })).status).toBe(200);
      expect((await jit('PRESERVE_LOCAL')).status).toBe(200);
      expect((await renameAtIs2('Carol Preserve', 'Filled')).status).toBe(200);
      await journey('is2-relogin-preserve-local', async (page) => {
        await chooseAtIs1(page, 'IS2');
        await signInAtIs2(page);
        await expectSignedIn(page);
      });
      expect(await userAt(is1, 'carol')).toMatchObject({ displayName: 'Carol Renamed', name: { familyName: 'Filled' } });
    } finally {
      await jit('OVERRIDE_ALL');
    }
  });
});

describe('the standalone oidc-provider, with the prompt schemes', () => {
  it('prompt for username, password and consent: filled in the browser, the chosen password then works at IS1', async () => {
    standalone.setAccount('dave-sub', { email: 'dave@standalone.example', email_verified: true, name: 'Dave Prompt', preferred_username: 'carol' });
    await journey('standalone-prompt-username-password', async (page) => {
      await chooseAtIs1(page, 'standalone');
      await signInAtStandalone(page, 'dave-sub');
      await expect.poll(() => page.textContent('h1')).toBe('Create your account');
      await expectAccessibleForm(page);
      // The IdP suggests "carol", a local user here: refused and asked again (CVE-2023-6837: never asserted as her).
      expect(await page.getByLabel('Username').inputValue()).toBe('carol');
      await page.getByLabel('Password').fill('Dave-Chosen-Pass-1!');
      await page.getByRole('button', { name: 'Continue' }).click();
      await expect.poll(() => page.textContent('[role=alert]')).toMatch(/taken|exists|in use/i);
      await shot(page, 'standalone-prompt-username-taken');
      await page.getByLabel('Username').fill('dave');
      await page.getByLabel('Password').fill('Dave-Chosen-Pass-1!');
      await page.getByRole('button', { name: 'Continue' }).click();
      const sub = await expectSignedIn(page);
      expect(await userAt(is1, 'dave')).toMatchObject({ id: sub, displayName: 'Dave Prompt' });
      expect(sub).not.toBe((await userAt(is1, 'carol'))!.id);
    }, 'phone');
    // Dave's chosen password signs him in locally at IS1 (the sample application's local form).
    await journey('standalone-prompt-password-local-login', async (page) => {
      await page.goto(`${rp.url}/login?prompt=login`);
      await page.getByLabel('Username').fill('dave');
      await page.getByLabel('Password').fill('Dave-Chosen-Pass-1!');
      await page.getByRole('button', { name: 'Sign in' }).click();
      expect(await expectSignedIn(page)).toBe((await userAt(is1, 'dave'))!.id);
    });
  });

  it('prompt for consent: accepted creates the account, declined creates nothing', async () => {
    expect((await json(is1, 'PUT', `/api/server/v1/identity-providers/${standaloneIdpId}/provisioning/jit`, { enabled: true, scheme: 'prompt_consent' })).status).toBe(200);
    standalone.setAccount('erin-sub', { preferred_username: 'erin', email: 'erin@standalone.example', name: 'Erin Consent' });
    standalone.setAccount('fred-sub', { preferred_username: 'fred', name: 'Fred Declines' });
    await journey('standalone-prompt-consent', async (page) => {
      await chooseAtIs1(page, 'standalone');
      await signInAtStandalone(page, 'erin-sub');
      await expect.poll(() => page.textContent('h1')).toBe('Allow account creation');
      expect(await page.textContent('body')).toContain('Email: erin@standalone.example');
      await shot(page, 'standalone-prompt-consent-page');
      await page.getByRole('button', { name: 'Continue' }).click();
      expect(await expectSignedIn(page)).toBe((await userAt(is1, 'erin'))!.id);
    });
    await journey('standalone-prompt-consent-declined', async (page) => {
      await chooseAtIs1(page, 'standalone');
      await signInAtStandalone(page, 'fred-sub');
      await page.getByRole('button', { name: 'Decline' }).click();
      await expect.poll(() => page.textContent('h1')).toBe('Sign-in cancelled');
    });
    expect(await userAt(is1, 'fred')).toBeUndefined();
  });

  it('associates an existing local user by a verified email, under a prompt scheme too (WSO2 #19493)', async () => {
    const local = await json(is1, 'POST', '/scim2/Users', { userName: 'grace', emails: [{ value: 'grace@corp.example', primary: true }] });
    expect(local.status).toBe(201);
    expect((await json(is1, 'PUT', `/api/server/v1/users/${local.body.id as string}/email-verified`, { verified: true })).status).toBe(200);
    expect((await json(is1, 'PUT', `/api/server/v1/identity-providers/${standaloneIdpId}/provisioning/jit`, { enabled: true, scheme: 'prompt_consent', associateByVerifiedEmail: true })).status).toBe(200);
    standalone.setAccount('grace-sub', { email: 'grace@corp.example', email_verified: true });
    await journey('standalone-association', async (page) => {
      await chooseAtIs1(page, 'standalone');
      await signInAtStandalone(page, 'grace-sub');
      expect(await expectSignedIn(page)).toBe(local.body.id);
    });
    const links = await json(is1, 'GET', `/api/server/v1/users/${local.body.id as string}/federated-links`);
    expect(links.body).toMatchObject([{ identityProvider: 'standalone', linkedBy: 'email' }]);
  });
});

it('the IS2 identity provider is listed with its masked client secret', async () => {
  const idp = await json(is1, 'GET', `/api/server/v1/identity-providers/${is2IdpId}`);
  expect((idp.body.federatedAuthenticator as { clientSecret: string }).clientSecret).toBe('********');
});
