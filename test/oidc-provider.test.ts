/**
 * The server as OpenID Provider for its applications, over real HTTP on one real instance: openid-client (the
 * relying party, from this process) runs the code flow with PKCE S256 against discovery, and plain fetch with a
 * small path-aware cookie jar fills the sign-in pages as a browser would. Covers the pages (login of a `DOMAIN/name`
 * user, inactive users, throttling, consent remembered and skipped, CSRF), the tokens (ID token, userinfo, refresh
 * rotation), key rotation, RP-initiated logout and discovery at both of WSO2's addresses.
 */
import * as client from 'openid-client';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizationRequest } from './support/authorization-request.js';
import { CookieJar } from './support/standalone-idp.js';
import { json, startInstance, type Instance } from './harness.js';

/** Failures that lock a user here (ACCOUNT_LOCK_ON_FAILURE_MAX_ATTEMPTS); the address limit is kept far away. */
const LOCK_AFTER = 3;

let is: Instance;
let issuer: string;
const CALLBACK = 'http://127.0.0.1:9/callback';
const LOGOUT_TO = 'http://127.0.0.1:9/signed-out';

interface App {
  id: string;
  clientId: string;
  clientSecret?: string;
}

async function createApp(body: Record<string, unknown>): Promise<App> {
  const res = await is.request('POST', '/api/server/v1/applications', body, { 'Content-Type': 'application/json' });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as App;
}

async function createUser(userName: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await json(is, 'POST', '/scim2/Users', {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName,
    password: 'Secret-pass-1',
    name: { givenName: 'Bob', familyName: 'Builder' },
    emails: [{ value: `${userName.replace('/', '.')}@example.com`, primary: true }],
    ...extra,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

interface Step {
  status: number;
  url: URL;
  body: string;
  headers: Headers;
  /** Where the browser was sent outside the server (the application's callback), when it was. */
  left?: URL;
}

/** Goes to `url` and follows redirects within the server, as a browser does. */
async function browse(jar: CookieJar, url: string | URL, init: { method?: string; form?: Record<string, string> } = {}): Promise<Step> {
  let target = new URL(url);
  let method = init.method ?? 'GET';
  let body: string | undefined = init.form ? new URLSearchParams(init.form).toString() : undefined;
  for (let hop = 0; hop < 10; hop++) {
    const headers: Record<string, string> = { Accept: 'text/html' };
    const cookie = jar.header(target);
    if (cookie) headers.Cookie = cookie;
    if (body !== undefined) headers['Content-Type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(target, { method, headers, body, redirect: 'manual' });
    jar.store(target, res);
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      const next = new URL(location, target);
      await res.arrayBuffer();
      if (next.origin !== new URL(is.baseUrl).origin || next.port === '9') return { status: res.status, url: target, body: '', headers: res.headers, left: next };
      target = next;
      method = 'GET';
      body = undefined;
      continue;
    }
    return { status: res.status, url: target, body: await res.text(), headers: res.headers };
  }
  throw new Error('too many redirects');
}

const csrfOf = (page: string): string => /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
const actionOf = (page: string): string => (/<form method="post" action="([^"]+)"/.exec(page)?.[1] ?? '').replace(/&amp;/g, '&');

/** Fills the login form of a page. */
async function login(jar: CookieJar, page: Step, username: string, password: string, opts: { csrf?: string } = {}): Promise<Step> {
  return browse(jar, new URL(actionOf(page.body), is.baseUrl), { method: 'POST', form: { csrf: opts.csrf ?? csrfOf(page.body), username, password } });
}

async function consent(jar: CookieJar, page: Step, decision: 'allow' | 'deny' = 'allow'): Promise<Step> {
  return browse(jar, new URL(actionOf(page.body), is.baseUrl), { method: 'POST', form: { csrf: csrfOf(page.body), decision } });
}

async function rp(app: App): Promise<client.Configuration> {
  return client.discovery(new URL(issuer), app.clientId, app.clientSecret, undefined, { execute: [client.allowInsecureRequests] });
}

/** An authorization request with PKCE S256, state and nonce. */
function start(config: client.Configuration, scope = 'openid profile email groups', extra: Record<string, string> = {}) {
  return authorizationRequest(config, { redirectUri: CALLBACK, scope, extra });
}

/** The whole flow for one user in a fresh browser: tokens, and the jar (its session). */
async function signIn(config: client.Configuration, username: string, opts: { jar?: CookieJar; expectConsent?: boolean } = {}) {
  const jar = opts.jar ?? new CookieJar();
  const req = await start(config);
  let step = await browse(jar, req.url);
  if (!step.left && step.url.pathname.endsWith('/login.do')) step = await login(jar, step, username, 'Secret-pass-1');
  if (opts.expectConsent !== undefined) expect(!step.left && step.url.pathname.endsWith('/oauth2_consent.do')).toBe(opts.expectConsent);
  if (!step.left) step = await consent(jar, step);
  expect(step.left?.href.startsWith(CALLBACK), step.body).toBe(true);
  const tokens = await client.authorizationCodeGrant(config, step.left!, { pkceCodeVerifier: req.codeVerifier, expectedState: req.state, expectedNonce: req.nonce });
  return { tokens, jar };
}

let web: App;
let skip: App;
let bobId: string;

beforeAll(async () => {
  is = await startInstance('oidc-op', {
    env: { ACCOUNT_LOCK_ON_FAILURE_MAX_ATTEMPTS: String(LOCK_AFTER), LOGIN_ADDRESS_MAX_FAILURES: '10000' },
  });
  issuer = `${is.baseUrl}/oauth2/token`;
  expect((await json(is, 'POST', '/api/server/v1/userstores', { name: 'CORP' })).status).toBe(201);
  bobId = await createUser('CORP/bob');
  const group = await json(is, 'POST', '/scim2/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'builders', members: [{ value: bobId }] });
  expect(group.status).toBe(201);
  const oidc = { grantTypes: ['authorization_code', 'refresh_token'], redirectUris: [CALLBACK], postLogoutRedirectUris: [LOGOUT_TO] };
  web = await createApp({ name: 'web', ...oidc });
  skip = await createApp({ name: 'first-party', ...oidc, skipConsent: true });
});
afterAll(async () => {
  await is?.stop();
});

describe('discovery', () => {
  it('is published under the issuer and at the root, and openid-client accepts both', async () => {
    const atIssuer = await rp(web);
    expect(atIssuer.serverMetadata().issuer).toBe(issuer);
    const atRoot = await client.discovery(new URL(`${is.baseUrl}/.well-known/openid-configuration`), web.clientId, web.clientSecret, undefined, {
      execute: [client.allowInsecureRequests],
    });
    const meta = atRoot.serverMetadata();
    expect(meta.issuer).toBe(issuer);
    expect(meta.authorization_endpoint).toBe(`${is.baseUrl}/oauth2/authorize`);
    expect(meta.token_endpoint).toBe(`${is.baseUrl}/oauth2/token`);
    expect(meta.userinfo_endpoint).toBe(`${is.baseUrl}/oauth2/userinfo`);
    expect(meta.jwks_uri).toBe(`${is.baseUrl}/oauth2/jwks`);
    expect(meta.end_session_endpoint).toBe(`${is.baseUrl}/oauth2/logout`);
    expect(meta.code_challenge_methods_supported).toEqual(['S256']);
    expect(meta.scopes_supported).toEqual(expect.arrayContaining(['openid', 'profile', 'email', 'groups', 'offline_access']));
  });
});

describe('authorization code with PKCE', () => {
  it('signs a DOMAIN/name user in, asks consent once, and gives a valid ID token, userinfo and rotating refresh tokens', async () => {
    const config = await rp(web);
    const { tokens, jar } = await signIn(config, 'CORP/bob', { expectConsent: true });
    const claims = tokens.claims()!;
    expect(claims.sub).toBe(bobId);
    expect(claims.iss).toBe(issuer);
    expect(claims.aud).toBe(web.clientId);
    expect(claims.preferred_username).toBe('CORP/bob');
    expect(claims.given_name).toBe('Bob');
    expect(claims.family_name).toBe('Builder');
    expect(claims.email).toBe('CORP.bob@example.com');
    expect(claims.email_verified).toBe(false);
    expect(claims.groups).toEqual(['builders']);

    const info = await client.fetchUserInfo(config, tokens.access_token, bobId);
    expect(info).toMatchObject({ sub: bobId, preferred_username: 'CORP/bob', email: 'CORP.bob@example.com', groups: ['builders'] });

    // Consent remembered: the same browser signs in again without a page at all.
    const again = await start(config);
    const step = await browse(jar, again.url);
    expect(step.left?.searchParams.get('code')).toBeTruthy();

    // Refresh rotation: the new refresh token works, the used one is refused.
    expect(tokens.refresh_token).toBeTruthy();
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.refresh_token).toBeTruthy();
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    await expect(client.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('remembers consent across sessions (a new browser is not asked again) until an operator revokes it', async () => {
    const app = await createApp({ name: 'remembering', grantTypes: ['authorization_code'], redirectUris: [CALLBACK] });
    const config = await rp(app);
    await signIn(config, 'CORP/bob', { expectConsent: true });
    await signIn(config, 'CORP/bob', { expectConsent: false }); // a fresh jar: a new session
    const consents = await json(is, 'GET', `/api/server/v1/users/${bobId}/consents`);
    expect(consents.body).toEqual(expect.arrayContaining([expect.objectContaining({ applicationId: app.id, application: 'remembering', scopes: expect.arrayContaining(['openid', 'profile', 'email', 'groups']) })]));
    expect((await is.request('DELETE', `/api/server/v1/users/${bobId}/consents/${app.id}`)).status).toBe(204);
    expect((await is.request('DELETE', `/api/server/v1/users/${bobId}/consents/${app.id}`)).status).toBe(404);
    await signIn(config, 'CORP/bob', { expectConsent: true });
  });

  it('skips consent for an application with skipConsent', async () => {
    const { tokens } = await signIn(await rp(skip), 'CORP/bob', { expectConsent: false });
    expect(tokens.claims()!.sub).toBe(bobId);
  });

  it('refuses a request without code_challenge, with plain, and a redirect_uri one character off', async () => {
    const config = await rp(web);
    const jar = new CookieJar();
    const missing = client.buildAuthorizationUrl(config, { redirect_uri: CALLBACK, scope: 'openid', state: 's1' });
    let step = await browse(jar, missing);
    expect(step.left?.searchParams.get('error')).toBe('invalid_request');
    expect(step.left?.searchParams.get('error_description')).toMatch(/PKCE/);

    const plain = client.buildAuthorizationUrl(config, { redirect_uri: CALLBACK, scope: 'openid', code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' });
    step = await browse(jar, plain);
    expect(step.left?.searchParams.get('error')).toBe('invalid_request');
    expect(step.left?.searchParams.get('error_description')).toMatch(/code_challenge_method/);

    const req = await start(config);
    req.url.searchParams.set('redirect_uri', `${CALLBACK}x`);
    step = await browse(jar, req.url);
    expect(step.left).toBeUndefined();
    expect(step.status).toBe(400);
    expect(step.body).toContain('invalid_redirect_uri');
    expect(step.headers.get('content-security-policy')).toContain("default-src 'none'");
  });
});

describe('the login page', () => {
  it('needs its CSRF token', async () => {
    const jar = new CookieJar();
    const page = await browse(jar, (await start(await rp(web))).url);
    expect(page.url.pathname).toBe('/authenticationendpoint/login.do');
    expect(page.body).toContain('<label for="username">');
    expect(page.body).toContain('name="viewport"');
    expect(page.headers.getSetCookie().some((c) => /^op_csrf=.*HttpOnly/i.test(c) && /SameSite=Lax/i.test(c))).toBe(true);
    const without = await browse(jar, new URL(actionOf(page.body), is.baseUrl), { method: 'POST', form: { username: 'CORP/bob', password: 'Secret-pass-1' } });
    expect(without.status).toBe(403);
    expect(without.left).toBeUndefined();
    const wrong = await login(jar, page, 'CORP/bob', 'Secret-pass-1', { csrf: 'x'.repeat(43) });
    expect(wrong.status).toBe(403);
    // The right token still works afterwards (and Bob allowed `web` in the first test: remembered, no consent page).
    const ok = await login(jar, page, 'CORP/bob', 'Secret-pass-1');
    expect(ok.left?.href.startsWith(CALLBACK), ok.body).toBe(true);
  });

  it('refuses an inactive user with the same message as a wrong password', async () => {
    await createUser('sleepy', { active: false });
    const jar = new CookieJar();
    const page = await browse(jar, (await start(await rp(web))).url);
    const step = await login(jar, page, 'sleepy', 'Secret-pass-1');
    expect(step.status).toBe(401);
    expect(step.left).toBeUndefined();
    expect(step.body).toContain('The username or password is not correct.');
  });

  it('counts wrong passwords and throttles the account (429 page) at the guard limit, right password included', async () => {
    const id = await createUser('guessed');
    const jar = new CookieJar();
    let page = await browse(jar, (await start(await rp(web))).url);
    for (let i = 1; i < LOCK_AFTER; i++) {
      page = await login(jar, page, 'guessed', `wrong-${i}`);
      expect(page.status).toBe(401);
    }
    page = await login(jar, page, 'guessed', 'wrong-last');
    expect(page.status).toBe(429);
    expect(Number(page.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(page.body).toContain('This account is locked');
    const right = await login(jar, page, 'guessed', 'Secret-pass-1');
    expect(right.status).toBe(429);
    const locks = await json(is, 'GET', `/api/server/v1/security/locks?kind=user&account=${id}&blocked=true`);
    expect(locks.status).toBe(200);
    expect(JSON.stringify(locks.body)).toContain(id);
  });
});

describe('keys', () => {
  it('rotates: the new kid signs, the old one stays published, an old ID token still verifies', async () => {
    const before = await signIn(await rp(skip), 'CORP/bob');
    const oldToken = before.tokens.id_token!;
    const oldKid = decodeProtectedHeader(oldToken).kid;
    const rotate = await json(is, 'POST', '/api/server/v1/keys/rotate');
    expect(rotate.status).toBe(200);
    expect(rotate.body.signingKid).not.toBe(oldKid);
    expect(rotate.body.publishedKids).toEqual([rotate.body.signingKid, oldKid]);

    const after = await signIn(await rp(skip), 'CORP/bob');
    expect(decodeProtectedHeader(after.tokens.id_token!).kid).toBe(rotate.body.signingKid);
    const jwks = await (await fetch(`${is.baseUrl}/oauth2/jwks`)).json();
    expect((jwks as { keys: { kid: string; d?: string }[] }).keys.map((k) => k.kid)).toEqual([rotate.body.signingKid, oldKid]);
    expect((jwks as { keys: { d?: string }[] }).keys.every((k) => k.d === undefined)).toBe(true);
    const verified = await jwtVerify(oldToken, createRemoteJWKSet(new URL(`${is.baseUrl}/oauth2/jwks`)), { issuer, audience: skip.clientId });
    expect(verified.payload.sub).toBe(bobId);
  });
});

describe('RP-initiated logout', () => {
  it('confirms and returns to a registered post_logout_redirect_uri; refuses an unregistered one', async () => {
    const config = await rp(web);
    const { tokens, jar } = await signIn(config, 'CORP/bob');
    const refused = await browse(jar, client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: 'https://evil.example/' }));
    expect(refused.left).toBeUndefined();
    expect(refused.status).toBe(400);
    expect(refused.body).toContain('post_logout_redirect_uri');

    // WSO2's address, /oidc/logout, is the same endpoint.
    const url = client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: LOGOUT_TO, state: 'bye' });
    const page = await browse(jar, `${is.baseUrl}/oidc/logout${url.search}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Yes, sign me out');
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(page.body)?.[1];
    const action = /action="([^"]+)"/.exec(page.body)?.[1];
    const done = await browse(jar, new URL(action!, is.baseUrl), { method: 'POST', form: { xsrf: xsrf!, logout: 'yes' } });
    expect(done.left?.href).toBe(`${LOGOUT_TO}?state=bye`);

    // Signed out: the next authorization asks for the login again.
    const next = await browse(jar, (await start(config)).url);
    expect(next.url.pathname).toBe('/authenticationendpoint/login.do');
  });
});

describe('applications through the admin API', () => {
  it('validate redirect URIs, the OIDC settings and the login method with clear 400s, and show them', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ name: 'bad1', grantTypes: ['authorization_code'], redirectUris: ['http://app.example/cb'] }, /redirectUris\[0\] must use https/],
      [{ name: 'bad2', grantTypes: ['authorization_code'], redirectUris: ['https://app.example/cb#frag'] }, /fragment/],
      [{ name: 'bad3', grantTypes: ['authorization_code'] }, /at least one redirect URI/],
      [{ name: 'bad4', grantTypes: ['refresh_token'] }, /refresh_token/],
      [{ name: 'bad5', grantTypes: ['client_credentials'], publicClient: true }, /public client/],
      [{ name: 'bad6', grantTypes: ['authorization_code'], redirectUris: Array.from({ length: 21 }, (_, i) => `https://a.example/${i}`) }, /at most 20/],
      [{ name: 'bad7', grantTypes: ['authorization_code'], redirectUris: [CALLBACK], loginMethod: { type: 'federated', identityProvider: 'nope-idp' } }, /'nope-idp'/],
    ];
    for (const [body, message] of cases) {
      const res = await json(is, 'POST', '/api/server/v1/applications', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(JSON.stringify(res.body), JSON.stringify(body)).toMatch(message);
    }
    const names = (await json(is, 'GET', '/api/server/v1/applications')).body as unknown as { name: string }[];
    expect(names.some((a) => a.name.startsWith('bad'))).toBe(false);

    const spa = await json(is, 'POST', '/api/server/v1/applications', { name: 'spa', grantTypes: ['authorization_code'], redirectUris: [CALLBACK], publicClient: true });
    expect(spa.status).toBe(201);
    expect(spa.body.clientSecret).toBeUndefined();
    expect(spa.body).toMatchObject({ publicClient: true, responseTypes: ['code'], redirectUris: [CALLBACK], skipConsent: false, loginMethod: { type: 'local' } });
  });

  it('a public client signs in with PKCE alone', async () => {
    const spa = await createApp({ name: 'spa-2', grantTypes: ['authorization_code'], redirectUris: [CALLBACK], publicClient: true, skipConsent: true });
    const config = await client.discovery(new URL(issuer), spa.clientId, { token_endpoint_auth_method: 'none' }, client.None(), { execute: [client.allowInsecureRequests] });
    const { tokens } = await signIn(config, 'CORP/bob');
    expect(tokens.claims()!.sub).toBe(bobId);
    expect(tokens.refresh_token).toBeUndefined();
  });
});

describe('login methods', () => {
  it('lists the allowed identity providers with the local form, and hands a choice or fidp to the federation', async () => {
    expect((await json(is, 'POST', '/api/server/v1/identity-providers', { name: 'corp-idp', homeRealmIdentifier: 'corp-realm' })).status).toBe(201);
    const app = await createApp({
      name: 'choosy',
      grantTypes: ['authorization_code'],
      redirectUris: [CALLBACK],
      loginMethod: { type: 'choice', identityProviders: ['corp-idp'], local: true },
    });
    const config = await rp(app);
    const jar = new CookieJar();
    const page = await browse(jar, (await start(config)).url);
    expect(page.body).toContain('Continue with corp-idp');
    expect(page.body).toContain('<label for="password">');
    // corp-idp has no federated authenticator: the hand-off reaches the federation, which says it cannot be used
    // (test/federation.test.ts signs in through one that has).
    const chosen = await browse(jar, new URL(actionOf(page.body), is.baseUrl), { method: 'POST', form: { csrf: csrfOf(page.body), idp: 'corp-idp' } });
    expect(chosen.status).toBe(404);
    expect(chosen.body).toContain('This sign-in method is not available.');
    const notAllowed = await browse(jar, new URL(actionOf(page.body), is.baseUrl), { method: 'POST', form: { csrf: csrfOf(page.body), idp: 'other' } });
    expect(notAllowed.status).toBe(400);

    const byRealm = await browse(new CookieJar(), (await start(config, 'openid', { fidp: 'corp-realm' })).url);
    expect(byRealm.status).toBe(404);
    expect(byRealm.body).toContain('This sign-in method is not available.');
    // An unknown realm is ignored: the usual page.
    const unknownRealm = await browse(new CookieJar(), (await start(config, 'openid', { fidp: 'elsewhere' })).url);
    expect(unknownRealm.body).toContain('Continue with corp-idp');
  });
});
