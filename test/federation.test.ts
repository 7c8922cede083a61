/**
 * Federated login through a hostile identity provider (test/support/hostile-idp.ts), over real HTTP: a sample
 * relying-party application (test/support/sample-rp.ts) logs in at this server, whose application is federated to
 * the IdP; the IdP answers correctly, or with exactly one fault. Each fault must end on this server's clear error
 * page, with no user created and nothing of a token on the page (issue #9, "Negative tests").
 *
 * Redirects are followed by hand with a cookie jar (test/support/standalone-idp.ts CookieJar), as a browser would.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { json, startInstance, type Instance } from './harness.js';
import { startHostileIdp, type HostileFault, type HostileIdp } from './support/hostile-idp.js';
import { freePort } from './support/ports.js';
import { sampleRpUrls, startSampleRp, type SampleRp } from './support/sample-rp.js';
import { CookieJar } from './support/standalone-idp.js';

const IDP_SECRET = 'hostile-idp-client-secret-0123456789';

let is1: Instance;
let idp: HostileIdp;
let rp: SampleRp;
let idpId: string;

beforeAll(async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  [is1, idp] = await Promise.all([
    startInstance('federation', { port }),
    startHostileIdp({ clientId: 'is1', clientSecret: IDP_SECRET, redirectUri: `${base}/commonauth` }),
  ]);
  const created = await json(is1, 'POST', '/api/server/v1/identity-providers', {
    name: 'hostile',
    federatedAuthenticator: { issuer: idp.issuer, clientId: 'is1', clientSecret: IDP_SECRET, scopes: ['openid', 'profile', 'email'], clockToleranceSeconds: 5 },
    jit: { enabled: true },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  idpId = created.body.id as string;
  const rpPort = await freePort();
  const urls = sampleRpUrls(rpPort);
  const app = await json(is1, 'POST', '/api/server/v1/applications', {
    name: 'sample-app',
    grantTypes: ['authorization_code'],
    responseTypes: ['code'],
    redirectUris: [urls.redirectUri],
    postLogoutRedirectUris: [urls.postLogoutRedirectUri],
    skipConsent: true,
    loginMethod: { type: 'federated', identityProvider: 'hostile' },
  });
  expect(app.status, JSON.stringify(app.body)).toBe(201);
  rp = await startSampleRp({ issuer: `${base}/oauth2/token`, clientId: app.body.clientId as string, clientSecret: app.body.clientSecret as string, port: rpPort });
}, 120_000);

afterAll(async () => {
  await rp?.stop();
  await idp?.stop();
  await is1?.stop();
});

beforeEach(async () => {
  await idp.fault('none');
  idp.clearRequests();
});

interface Landing {
  status: number;
  url: URL;
  body: string;
  /** Every URL visited, in order. */
  visited: URL[];
}

/** Follows a login from `start` through every redirect, as a browser would, until a page answers. */
async function follow(start: string | URL, jar = new CookieJar()): Promise<Landing> {
  let url = new URL(start);
  const visited: URL[] = [];
  for (let hop = 0; hop < 20; hop += 1) {
    visited.push(url);
    const cookie = jar.header(url);
    const res = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    jar.store(url, res);
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      url = new URL(location, url);
      continue;
    }
    return { status: res.status, url, body: await res.text(), visited };
  }
  throw new Error(`more than 20 redirects from ${String(start)}`);
}

const userCount = async () => ((await json(is1, 'GET', '/scim2/Users?count=0')).body.totalResults as number);

/** What a page of this server must never show: a JWT, a stack trace, the IdP's client secret. */
function expectNothingLeaked(body: string) {
  expect(body).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
  expect(body).not.toMatch(/\bat [\w.<>]+ \(.*:\d+:\d+\)/);
  expect(body).not.toContain(IDP_SECRET);
}

describe('a login through the identity provider', () => {
  it('provisions the user silently into PRIMARY, links the identity, and the application gets a valid ID token', async () => {
    idp.claims({ sub: 'hostile-sub-1', preferred_username: 'fed-alice', email: 'alice@idp.example', email_verified: true, name: 'Alice Fed' });
    const landing = await follow(`${rp.url}/login`);
    expect(landing.status, landing.body).toBe(200);
    expect(landing.body).toContain('Signed in as');
    const login = rp.lastLogin()!;
    const found = await json(is1, 'GET', `/scim2/Users?filter=${encodeURIComponent('userName eq "fed-alice"')}`);
    expect(found.body.totalResults).toBe(1);
    const user = (found.body.Resources as Array<Record<string, unknown>>)[0]!;
    expect(login.claims.sub).toBe(user.id);
    expect(user.displayName).toBe('Alice Fed');
    const links = await json(is1, 'GET', `/api/server/v1/users/${user.id as string}/federated-links`);
    expect(links.body).toMatchObject([{ identityProvider: 'hostile', issuer: idp.issuer, subject: 'hostile-sub-1' }]);
    // The server sent state, nonce and a PKCE S256 challenge, and authenticated at the token endpoint.
    const auth = idp.requests.authorization.at(-1)!;
    expect(auth.state).toMatch(/^[A-Za-z0-9_-]{32,}$/);
    expect(auth.nonce).toMatch(/^[A-Za-z0-9_-]{32,}$/);
    expect(auth.codeChallengeMethod).toBe('S256');
    expect(auth.redirectUri).toBe(`${is1.baseUrl}/commonauth`);
    expect(idp.requests.token.at(-1)).toMatchObject({ clientAuth: 'client_secret_basic', clientAuthenticated: true });
  });

  it('signs a returning user in as the same local user, without a second one', async () => {
    idp.claims({ sub: 'hostile-sub-2', preferred_username: 'fed-bob', email: 'bob@idp.example' });
    await follow(`${rp.url}/login`);
    const first = rp.lastLogin()!.claims.sub;
    const before = await userCount();
    await follow(`${rp.url}/login`);
    expect(rp.lastLogin()!.claims.sub).toBe(first);
    expect(await userCount()).toBe(before);
  });
});

describe('WSO2-2024-3179: silent JIT never overwrites or takes over an unlinked local user with the same username', () => {
  it('refuses the login with a clear page and leaves the local user as it was', async () => {
    const local = await json(is1, 'POST', '/scim2/Users', { userName: 'fed-taken', displayName: 'The Local One', password: 'Local-Only-Pass-1!' });
    expect(local.status).toBe(201);
    idp.claims({ sub: 'hostile-sub-taker', preferred_username: 'fed-taken', name: 'The Taker', email: 'taker@idp.example', email_verified: true });
    const before = await userCount();
    const landing = await follow(`${rp.url}/login`);
    expect(landing.status).toBe(403);
    expect(landing.body).toContain('Account name in use');
    expectNothingLeaked(landing.body);
    expect(await userCount()).toBe(before);
    const after = await json(is1, 'GET', `/scim2/Users/${local.body.id as string}`);
    expect(after.body).toMatchObject({ displayName: 'The Local One', meta: { version: (local.body.meta as { version: string }).version } });
    expect((await json(is1, 'GET', `/api/server/v1/users/${local.body.id as string}/federated-links`)).body).toEqual([]);
  });
});

describe('an authenticator without discovery', () => {
  it('uses the endpoints it was given and the client authentication method chosen', async () => {
    const authenticator = `/api/server/v1/identity-providers/${idpId}/federated-authenticator`;
    const explicit = await json(is1, 'PUT', authenticator, {
      issuer: idp.issuer,
      discovery: false,
      authorizationEndpoint: `${idp.issuer}/authorize`,
      tokenEndpoint: `${idp.issuer}/token`,
      userinfoEndpoint: `${idp.issuer}/userinfo`,
      jwksUri: `${idp.issuer}/jwks`,
      clientId: 'is1',
      clientAuthMethod: 'client_secret_post',
      scopes: ['openid', 'profile', 'email'],
      clockToleranceSeconds: 5,
    });
    expect(explicit.status, JSON.stringify(explicit.body)).toBe(200);
    expect(explicit.body).toMatchObject({ discovery: false, clientSecret: '********' }); // the stored secret was kept
    try {
      idp.claims({ sub: 'hostile-sub-explicit', preferred_username: 'fed-explicit' });
      const landing = await follow(`${rp.url}/login`);
      expect(landing.status, landing.body).toBe(200);
      expect(idp.requests.token.at(-1)).toMatchObject({ clientAuth: 'client_secret_post', clientAuthenticated: true });
    } finally {
      await json(is1, 'PUT', authenticator, { issuer: idp.issuer, clientId: 'is1', scopes: ['openid', 'profile', 'email'], clockToleranceSeconds: 5 });
    }
  });
});

describe('ten concurrent first logins of one person (Keycloak #49769 answers 500 there)', () => {
  it('all sign in, as one user with one link', async () => {
    idp.claims({ sub: 'hostile-sub-10x', preferred_username: 'fed-tenfold', email: 'ten@idp.example' });
    const before = await userCount();
    const landings = await Promise.all(Array.from({ length: 10 }, () => follow(`${rp.url}/login`)));
    expect(landings.map((l) => l.status)).toEqual(Array(10).fill(200));
    expect(await userCount()).toBe(before + 1);
    const found = await json(is1, 'GET', `/scim2/Users?filter=${encodeURIComponent('userName eq "fed-tenfold"')}`);
    expect(found.body.totalResults).toBe(1);
    const id = (found.body.Resources as Array<{ id: string }>)[0]!.id;
    expect((await json(is1, 'GET', `/api/server/v1/users/${id}/federated-links`)).body).toHaveLength(1);
  });
});

describe('cookies of the sign-in', () => {
  it('are HttpOnly and SameSite (Secure under an https PUBLIC_BASE_URL)', async () => {
    idp.claims({ sub: 'hostile-sub-cookies', preferred_username: 'fed-cookies' });
    const seen: string[] = [];
    let url = new URL(`${rp.url}/login`);
    const jar = new CookieJar();
    for (let hop = 0; hop < 20; hop += 1) {
      const cookie = jar.header(url);
      const res = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
      jar.store(url, res);
      if (url.origin === is1.baseUrl) seen.push(...res.headers.getSetCookie());
      const location = res.headers.get('location');
      if (!(res.status >= 300 && res.status < 400 && location)) break;
      url = new URL(location, url);
    }
    expect(seen.length).toBeGreaterThan(2);
    for (const c of seen.filter((c) => !/max-age=0|expires=Thu, 01 Jan 1970/i.test(c))) {
      expect(c, c).toMatch(/;\s*httponly/i);
      expect(c, c).toMatch(/;\s*samesite=(lax|strict)/i);
    }
  });
});

describe('what a hostile identity provider answers ends on a clear page, with no user created', () => {
  const cases: Array<[HostileFault, number, string]> = [
    ['badSignature', 400, 'Sign-in could not be verified'],
    ['unknownKey', 400, 'Sign-in could not be verified'],
    ['wrongAudience', 400, 'Sign-in could not be verified'],
    ['wrongIssuer', 400, 'Sign-in could not be verified'],
    ['expired', 400, 'Sign-in could not be verified'],
    ['issuedInFuture', 400, 'Sign-in could not be verified'],
    ['nonceMismatch', 400, 'Sign-in could not be verified'],
    ['nonceMissing', 400, 'Sign-in could not be verified'],
    ['algNone', 400, 'Sign-in could not be verified'],
    ['multipleAudiencesWrongAzp', 400, 'Sign-in could not be verified'],
    ['multipleAudiencesNoAzp', 400, 'Sign-in could not be verified'],
    ['userinfoOtherSubject', 400, 'Sign-in could not be verified'],
    ['tokenInvalidGrant', 400, 'Sign-in refused'],
    ['tokenServerError', 502, 'Identity provider unavailable'],
    ['tokenNotJson', 502, 'Identity provider unavailable'],
    ['accessDenied', 400, 'Sign-in refused'],
  ];
  for (const [fault, status, title] of cases) {
    it(`${fault}: ${status} "${title}"`, async () => {
      idp.claims({ sub: `fault-${fault}`, preferred_username: `fault-${fault.toLowerCase()}`, email: `${fault}@idp.example` });
      await idp.fault(fault);
      const before = await userCount();
      const landing = await follow(`${rp.url}/login`);
      expect(landing.url.pathname).toBe('/commonauth');
      expect(landing.status, landing.body).toBe(status);
      expect(landing.body).toContain(title);
      expectNothingLeaked(landing.body);
      expect(await userCount()).toBe(before);
    });
  }

  it('the IdP down: 502 "Identity provider unavailable", with no user created', async () => {
    idp.claims({ sub: 'down-1', preferred_username: 'down-one' });
    await idp.fault('down');
    try {
      // Saving the authenticator again drops the discovery the server had cached: the login must fetch it now.
      const saved = await json(is1, 'PUT', `/api/server/v1/identity-providers/${idpId}/federated-authenticator`, {
        issuer: idp.issuer,
        clientId: 'is1',
        scopes: ['openid', 'profile', 'email'],
        clockToleranceSeconds: 5,
      });
      expect(saved.status, JSON.stringify(saved.body)).toBe(200);
      const before = await userCount();
      const landing = await follow(`${rp.url}/login`);
      expect(landing.status).toBe(502);
      expect(landing.body).toContain('Identity provider unavailable');
      expectNothingLeaked(landing.body);
      expect(await userCount()).toBe(before);
    } finally {
      await idp.fault('none');
    }
  });

  it('a replayed callback (the same code and state again) is refused by this server itself, even where the IdP would accept the code', async () => {
    idp.claims({ sub: 'replay-1', preferred_username: 'replay-one' });
    await idp.fault('codeReplayable');
    const jar = new CookieJar();
    const first = await follow(`${rp.url}/login`, jar);
    expect(first.status).toBe(200);
    const callback = first.visited.find((u) => u.pathname === '/commonauth')!;
    const tokenRequests = idp.requests.token.length;
    const replay = await follow(callback, jar);
    expect(replay.status).toBe(400);
    expect(replay.body).toContain('This sign-in has expired');
    expect(idp.requests.token.length).toBe(tokenRequests); // the code never went back to the IdP
  });

  it('a callback with a wrong state is refused, and one from another browser (without the login cookie) too', async () => {
    idp.claims({ sub: 'state-1', preferred_username: 'state-one' });
    await idp.fault('codeReplayable');
    const before = await userCount();
    // Stop at the callback: take the IdP's redirect, but do not follow it.
    const jar = new CookieJar();
    let url = new URL(`${rp.url}/login`);
    for (;;) {
      const cookie = jar.header(url);
      const res = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
      jar.store(url, res);
      url = new URL(res.headers.get('location')!, url);
      if (url.pathname === '/commonauth') break;
    }
    const forged = new URL(url);
    forged.searchParams.set('state', 'x'.repeat(43));
    expect((await follow(forged, jar)).status).toBe(400);
    const otherBrowser = await follow(url, new CookieJar());
    expect(otherBrowser.status).toBe(400);
    expect(otherBrowser.body).toContain('This sign-in has expired');
    expect(await userCount()).toBe(before);
  });

  it('JIT off: an unknown user is not created, and is told so', async () => {
    expect((await json(is1, 'PUT', `/api/server/v1/identity-providers/${idpId}/provisioning/jit`, { enabled: false })).status).toBe(200);
    try {
      idp.claims({ sub: 'unknown-1', preferred_username: 'unknown-one' });
      const before = await userCount();
      const landing = await follow(`${rp.url}/login`);
      expect(landing.status).toBe(403);
      expect(landing.body).toContain('No account here');
      expect(await userCount()).toBe(before);
    } finally {
      await json(is1, 'PUT', `/api/server/v1/identity-providers/${idpId}/provisioning/jit`, { enabled: true });
    }
  });
});

describe('a JIT prompt left unanswered', () => {
  it('times out: the late answer gets a clear page, and nothing is created', async () => {
    const jitPath = `/api/server/v1/identity-providers/${idpId}/provisioning/jit`;
    expect((await json(is1, 'PUT', jitPath, { enabled: true, scheme: 'prompt_consent', promptTimeoutSeconds: 30 })).status).toBe(200);
    try {
      idp.claims({ sub: 'slow-1', preferred_username: 'slow-one' });
      const before = await userCount();
      const jar = new CookieJar();
      const prompt = await follow(`${rp.url}/login`, jar);
      expect(prompt.url.pathname).toMatch(/^\/commonauth\/prompt\//);
      expect(prompt.status).toBe(200);
      expect(prompt.body).toContain('Allow account creation');
      const csrf = /name="csrf" value="([^"]+)"/.exec(prompt.body)![1]!;
      await new Promise((resolve) => setTimeout(resolve, 32_000));
      const cookie = jar.header(prompt.url);
      const late = await fetch(prompt.url, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...(cookie && { cookie }) },
        body: new URLSearchParams({ csrf, consent: 'yes' }).toString(),
      });
      expect(late.status).toBe(403);
      expect(await late.text()).toContain('Sign-in timed out');
      expect(await userCount()).toBe(before);
    } finally {
      await json(is1, 'PUT', jitPath, { enabled: true });
    }
  }, 90_000);

  it('a prompt page without the browser that came back from the IdP, or a form without its token, is refused', async () => {
    const jitPath = `/api/server/v1/identity-providers/${idpId}/provisioning/jit`;
    expect((await json(is1, 'PUT', jitPath, { enabled: true, scheme: 'prompt_consent' })).status).toBe(200);
    try {
      idp.claims({ sub: 'csrf-1', preferred_username: 'csrf-one' });
      const before = await userCount();
      const jar = new CookieJar();
      const prompt = await follow(`${rp.url}/login`, jar);
      expect(prompt.status).toBe(200);
      expect((await follow(prompt.url, new CookieJar())).status).toBe(400); // another browser
      const cookie = jar.header(prompt.url)!;
      const forged = await fetch(prompt.url, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', cookie },
        body: new URLSearchParams({ csrf: 'x'.repeat(43), consent: 'yes' }).toString(),
      });
      expect(forged.status).toBe(400);
      expect(await userCount()).toBe(before);
    } finally {
      await json(is1, 'PUT', jitPath, { enabled: true });
    }
  });
});
