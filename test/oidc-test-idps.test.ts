/**
 * The identity providers and the sample application the federated-login tests (issue #9) are built on, shown to
 * really work before anything leans on them: openid-client v6, the relying-party library the server uses, runs the
 * whole code flow against the standalone oidc-provider (its devInteractions pages driven over fetch), the sample
 * application signs in and out there, and each fault of the hostile IdP is shown refused by openid-client, with the
 * exact error class and code it gives, or shown *not* refused, which is what the server must then check itself:
 *
 *  - the ID token's signature: openid-client checks it only with enableNonRepudiationChecks (it treats the token
 *    endpoint's TLS as proof of origin, OIDC Core §3.1.3.7 step 6);
 *  - an `iat` in the future (openid-client checks only that `iat` is a number, and not too old with maxAge);
 *  - a userinfo `email` different from the ID token's (a different `sub` it refuses);
 *  - a replayed callback: openid-client keeps no memory of codes or states, an IdP that accepts a code twice
 *    gets a second login.
 *
 * No Temporal, no database: these are plain HTTP servers in the test process.
 */
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHostileIdp, type HostileFault, type HostileIdp } from './support/hostile-idp.js';
import { authorizationRequest, type AuthorizationRequest } from './support/authorization-request.js';
import { freePort } from './support/ports.js';
import { startSampleRp } from './support/sample-rp.js';
import { CookieJar, signInWithDevInteractions, startStandaloneIdp, type StandaloneIdp } from './support/standalone-idp.js';

const insecure = { execute: [client.allowInsecureRequests] };
const verifying = { execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks] };

type Started = AuthorizationRequest;

/** An authorization request as the server's relying-party side sends it: PKCE S256, state and nonce. */
const startLogin = (config: client.Configuration, redirectUri: string, scope = 'openid profile email'): Promise<Started> =>
  authorizationRequest(config, { redirectUri, scope });

function grant(config: client.Configuration, callback: URL, started: Started) {
  return client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: started.codeVerifier,
    expectedState: started.state,
    expectedNonce: started.nonce,
    idTokenExpected: true,
  });
}

/** What an error looks like to whoever maps it to a page: its class, code, OAuth error and the cause's message. */
async function refusal(promise: Promise<unknown>) {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'openid-client accepted it').toBeInstanceOf(Error);
  const e = err as Error & { code?: string; error?: string; status?: number; cause?: unknown };
  return { name: e.name, code: e.code, error: e.error, status: e.status, message: e.message, cause: e.cause instanceof Error ? e.cause.message : undefined };
}

describe('the standalone IdP (oidc-provider with its own defaults)', () => {
  const redirectUri = 'http://127.0.0.1:9/callback';
  let idp: StandaloneIdp;
  let config: client.Configuration;

  beforeAll(async () => {
    idp = await startStandaloneIdp({
      clients: [{ clientId: 'rp-standalone', clientSecret: 'standalone-secret', redirectUris: [redirectUri] }],
      accounts: { alice: { preferred_username: 'alice', email: 'alice@example.com', email_verified: true, name: 'Alice Liddell', groups: ['staff'] } },
    });
    config = await client.discovery(new URL(idp.issuer), 'rp-standalone', 'standalone-secret', client.ClientSecretBasic('standalone-secret'), verifying);
  });
  afterAll(() => idp.stop());

  it('runs the code flow with openid-client through its login and consent pages; claims come from userinfo', async () => {
    const started = await startLogin(config, redirectUri, 'openid profile email groups');
    const callback = await signInWithDevInteractions(started.url, { login: 'alice' });
    expect(callback.origin + callback.pathname).toBe(redirectUri);
    expect(callback.searchParams.get('state')).toBe(started.state);

    const tokens = await grant(config, callback, started);
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({ sub: 'alice', iss: idp.issuer, aud: 'rp-standalone', nonce: started.nonce });
    // Its default conformIdTokenClaims: the ID token carries no profile or email claims when an access token is issued.
    expect(claims.email).toBeUndefined();
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    expect(userinfo).toEqual({ sub: 'alice', preferred_username: 'alice', email: 'alice@example.com', email_verified: true, name: 'Alice Liddell', groups: ['staff'] });

    // setAccount changes what the next login asserts (a group withdrawn), and the code is single-use there.
    idp.setAccount('alice', { preferred_username: 'alice', email: 'alice@example.com', email_verified: true, groups: [] });
    const again = await startLogin(config, redirectUri, 'openid groups');
    const tokens2 = await grant(config, await signInWithDevInteractions(again.url, { login: 'alice' }), again);
    expect(await client.fetchUserInfo(config, tokens2.access_token, 'alice')).toEqual({ sub: 'alice', groups: [] });
    expect(await refusal(grant(config, callback, started))).toMatchObject({ name: 'ResponseBodyError', error: 'invalid_grant' });
  });

  it('requires PKCE, answers an aborted consent with access_denied, and never lets an unknown login name through', async () => {
    const noPkce = client.buildAuthorizationUrl(config, { redirect_uri: redirectUri, scope: 'openid', state: 'st-1' });
    const refused = await signInWithDevInteractions(noPkce, { login: 'alice' });
    expect(Object.fromEntries(refused.searchParams)).toMatchObject({ error: 'invalid_request', state: 'st-1' });
    expect(refused.searchParams.get('error_description')).toMatch(/PKCE/);

    const started = await startLogin(config, redirectUri);
    const aborted = await signInWithDevInteractions(started.url, { login: 'alice', consent: 'abort' });
    expect(Object.fromEntries(aborted.searchParams)).toMatchObject({ error: 'access_denied', state: started.state });
    expect(await refusal(grant(config, aborted, started))).toMatchObject({ name: 'AuthorizationResponseError', code: 'OAUTH_AUTHORIZATION_RESPONSE_ERROR', error: 'access_denied' });

    await expect(signInWithDevInteractions((await startLogin(config, redirectUri)).url, { login: 'nobody' })).rejects.toThrow(/answered 500/);
  });

  it('signs the sample application in and out (RP-initiated logout back to its post-logout URI)', async () => {
    const port = await freePort();
    const rpIdp = await startStandaloneIdp({
      clients: [{
        clientId: 'sample-app',
        clientSecret: 'sample-secret',
        redirectUris: [`http://127.0.0.1:${port}/callback`],
        postLogoutRedirectUris: [`http://127.0.0.1:${port}/logged-out`],
      }],
      accounts: { bob: { preferred_username: 'bob.builder', email: 'bob@example.com', email_verified: false } },
    });
    const rp = await startSampleRp({ issuer: rpIdp.issuer, clientId: 'sample-app', clientSecret: 'sample-secret', port });
    try {
      const jar = new CookieJar();
      const get = async (url: URL) => {
        const cookie = jar.header(url);
        const res = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
        jar.store(url, res);
        return res;
      };
      const toIdp = await get(new URL(`${rp.url}/login`));
      expect(toIdp.status).toBe(302);
      const callback = await signInWithDevInteractions(toIdp.headers.get('location')!, { login: 'bob', jar });
      expect(callback.href.startsWith(rp.redirectUri)).toBe(true);
      const signedIn = await get(callback);
      const html = await signedIn.text();
      expect(signedIn.status, html).toBe(200);
      expect(html).toContain('Signed in as bob (bob.builder)');
      expect(rp.lastLogin()).toMatchObject({ claims: { sub: 'bob', aud: 'sample-app' }, userinfo: { sub: 'bob', email: 'bob@example.com', email_verified: false } });

      // The same callback again: its state was used, the application refuses it before asking the IdP.
      const replayed = await get(callback);
      expect(replayed.status).toBe(400);
      expect(rp.lastError()).toMatchObject({ code: 'STATE_UNKNOWN' });

      const toLogout = await get(new URL(`${rp.url}/logout`));
      const endSession = new URL(toLogout.headers.get('location')!);
      expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(rp.postLogoutRedirectUri);
      expect(endSession.searchParams.get('id_token_hint')).toBe(rp.lastLogin()!.idToken);
      const confirm = await (await get(endSession)).text();
      const action = /<form id="op.logoutForm" method="post" action="([^"]+)"/.exec(confirm)![1]!;
      const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm)![1]!;
      const actionUrl = new URL(action, endSession);
      const posted = await fetch(actionUrl, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: jar.header(actionUrl) ?? '', 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ xsrf, logout: 'yes' }),
      });
      jar.store(actionUrl, posted);
      let next = new URL(posted.headers.get('location')!, actionUrl);
      while (next.origin === rpIdp.issuer) next = new URL((await get(next)).headers.get('location')!, next);
      expect(next.origin + next.pathname).toBe(rp.postLogoutRedirectUri);
      expect(await (await get(next)).text()).toContain('Signed out');
      expect(rp.lastLogin()).toBeUndefined();
    } finally {
      await rp.stop();
      await rpIdp.stop();
    }
  });
});

describe('the hostile IdP', () => {
  const redirectUri = 'http://127.0.0.1:9/commonauth';
  const clientId = 'is1-client';
  const clientSecret = 'hostile secret+/=';
  let idp: HostileIdp;
  let plain: client.Configuration;
  let strict: client.Configuration;

  /** Starts a clean authorization request, then applies the fault, as a test of the server would. */
  async function callbackWith(config: client.Configuration, fault: HostileFault) {
    await idp.fault('none');
    const started = await startLogin(config, redirectUri);
    await idp.fault(fault);
    const res = await fetch(started.url, { redirect: 'manual' });
    expect(res.status).toBe(302);
    return { started, callback: new URL(res.headers.get('location')!) };
  }

  async function login(config: client.Configuration, fault: HostileFault) {
    const { started, callback } = await callbackWith(config, fault);
    const tokens = await grant(config, callback, started);
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
    return { started, callback, tokens, userinfo };
  }

  beforeAll(async () => {
    idp = await startHostileIdp({ clientId, clientSecret, redirectUri });
    idp.claims({ sub: 'fed-user-1', preferred_username: 'fed1', email: 'fed1@example.com', email_verified: true });
    plain = await client.discovery(new URL(idp.issuer), clientId, clientSecret, client.ClientSecretBasic(clientSecret), insecure);
    strict = await client.discovery(new URL(idp.issuer), clientId, clientSecret, client.ClientSecretBasic(clientSecret), verifying);
  });
  afterAll(() => idp.stop());

  it('serves a clean login and records what it received (state, nonce, PKCE, redirect URI, scope, client authentication)', async () => {
    idp.clearRequests();
    const { started, tokens, userinfo } = await login(strict, 'none');
    expect(tokens.claims()).toMatchObject({ sub: 'fed-user-1', iss: idp.issuer, aud: clientId, nonce: started.nonce, email: 'fed1@example.com' });
    expect(userinfo).toEqual({ sub: 'fed-user-1', preferred_username: 'fed1', email: 'fed1@example.com', email_verified: true });
    const [authz] = idp.requests.authorization;
    expect(authz).toMatchObject({
      clientId,
      redirectUri,
      responseType: 'code',
      scope: 'openid profile email',
      state: started.state,
      nonce: started.nonce,
      codeChallenge: await client.calculatePKCECodeChallenge(started.codeVerifier),
      codeChallengeMethod: 'S256',
      outcome: 'code',
    });
    expect(idp.requests.token).toEqual([expect.objectContaining({
      grantType: 'authorization_code',
      redirectUri,
      codeVerifier: started.codeVerifier,
      clientAuth: 'client_secret_basic',
      clientId,
      clientAuthenticated: true,
      status: 200,
    })]);
    expect(JSON.stringify(idp.requests)).not.toContain(clientSecret);
    expect(idp.requests.userinfo).toEqual([{ tokenValid: true, status: 200 }]);

    const post = await client.discovery(new URL(idp.issuer), clientId, clientSecret, client.ClientSecretPost(clientSecret), verifying);
    await login(post, 'none');
    expect(idp.requests.token.at(-1)).toMatchObject({ clientAuth: 'client_secret_post', clientAuthenticated: true, status: 200 });
  });

  it('checks PKCE, client authentication, the redirect URI and single use like a real IdP', async () => {
    const { started, callback } = await callbackWith(strict, 'none');
    // A wrong verifier.
    const wrongVerifier = { ...started, codeVerifier: client.randomPKCECodeVerifier() };
    expect(await refusal(grant(strict, callback, wrongVerifier))).toMatchObject({ name: 'ResponseBodyError', error: 'invalid_grant' });
    // A wrong secret.
    const impostor = await client.discovery(new URL(idp.issuer), clientId, 'not-the-secret', client.ClientSecretBasic('not-the-secret'), insecure);
    // 401 with WWW-Authenticate (RFC 6749 §5.2): openid-client throws the challenge, not the body's invalid_client.
    expect(await refusal(grant(impostor, callback, started))).toMatchObject({ name: 'WWWAuthenticateChallengeError', code: 'OAUTH_WWW_AUTHENTICATE_CHALLENGE', status: 401 });
    expect(idp.requests.token.at(-1)).toMatchObject({ clientAuth: 'client_secret_basic', clientAuthenticated: false, status: 401 });
    // The right request once, then the same code again.
    await grant(strict, callback, started);
    expect(await refusal(grant(strict, callback, started))).toMatchObject({ name: 'ResponseBodyError', error: 'invalid_grant' });
    // A redirect URI that is not the registered one is a page, never a redirect.
    const elsewhere = client.buildAuthorizationUrl(strict, { redirect_uri: 'http://127.0.0.1:9/evil', scope: 'openid', state: 's', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' });
    const page = await fetch(elsewhere, { redirect: 'manual' });
    expect(page.status).toBe(400);
    expect(page.headers.get('location')).toBeNull();
    // No PKCE at all.
    const noPkce = await fetch(client.buildAuthorizationUrl(strict, { redirect_uri: redirectUri, scope: 'openid', state: 's2' }), { redirect: 'manual' });
    expect(Object.fromEntries(new URL(noPkce.headers.get('location')!).searchParams)).toMatchObject({ error: 'invalid_request', state: 's2' });
  });

  // What openid-client v6.9 says for each fault, with enableNonRepudiationChecks (as the server must configure it).
  const refused: Array<[HostileFault, { name: string; code: string; error?: string; cause?: RegExp }]> = [
    ['badSignature', { name: 'ClientError', code: 'OAUTH_INVALID_RESPONSE', cause: /JWT signature verification failed/ }],
    ['unknownKey', { name: 'ClientError', code: 'OAUTH_KEY_SELECTION_FAILED', cause: /no applicable keys found/ }],
    ['wrongAudience', { name: 'ClientError', code: 'OAUTH_JWT_CLAIM_COMPARISON_FAILED', cause: /"aud" \(audience\) claim value/ }],
    ['wrongIssuer', { name: 'ClientError', code: 'OAUTH_JWT_CLAIM_COMPARISON_FAILED', cause: /"iss" \(issuer\) claim value/ }],
    ['expired', { name: 'ClientError', code: 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED', cause: /"exp" \(expiration time\)/ }],
    ['nonceMismatch', { name: 'ClientError', code: 'OAUTH_JWT_CLAIM_COMPARISON_FAILED', cause: /"nonce" claim value/ }],
    ['nonceMissing', { name: 'ClientError', code: 'OAUTH_INVALID_RESPONSE', cause: /"nonce" \(nonce\) claim missing/ }],
    ['algNone', { name: 'ClientError', code: 'OAUTH_INVALID_RESPONSE', cause: /unexpected JWT "alg" header parameter/ }],
    ['multipleAudiencesWrongAzp', { name: 'ClientError', code: 'OAUTH_JWT_CLAIM_COMPARISON_FAILED', cause: /"azp" \(authorized party\) claim value/ }],
    ['multipleAudiencesNoAzp', { name: 'ClientError', code: 'OAUTH_JWT_CLAIM_COMPARISON_FAILED', cause: /additional untrusted audiences/ }],
    ['userinfoOtherSubject', { name: 'ClientError', code: 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED', cause: /"sub" property value/ }],
    ['tokenInvalidGrant', { name: 'ResponseBodyError', code: 'OAUTH_RESPONSE_BODY_ERROR', error: 'invalid_grant' }],
    ['tokenServerError', { name: 'ClientError', code: 'OAUTH_RESPONSE_IS_NOT_CONFORM' }],
    ['tokenNotJson', { name: 'ClientError', code: 'OAUTH_RESPONSE_IS_NOT_JSON' }],
    ['accessDenied', { name: 'AuthorizationResponseError', code: 'OAUTH_AUTHORIZATION_RESPONSE_ERROR', error: 'access_denied' }],
  ];
  it.each(refused)('openid-client refuses %s', async (fault, expected) => {
    const got = await refusal(login(strict, fault));
    const { cause, ...rest } = expected;
    expect(got).toMatchObject(rest);
    if (cause) expect(got.cause).toMatch(cause);
  });

  it('a token endpoint that never answers: openid-client gives up after config.timeout (OAUTH_TIMEOUT)', async () => {
    const impatient = await client.discovery(new URL(idp.issuer), clientId, clientSecret, client.ClientSecretBasic(clientSecret), { ...verifying, timeout: 1 });
    const began = Date.now();
    expect(await refusal(login(impatient, 'tokenHang'))).toMatchObject({ name: 'ClientError', code: 'OAUTH_TIMEOUT', message: 'operation timed out' });
    expect(Date.now() - began).toBeLessThan(5_000);
    expect(idp.requests.token.at(-1)!.status).toBeUndefined();
  });

  it('the IdP down: a plain fetch TypeError, not an openid-client error; it comes back on the same port', async () => {
    const { started, callback } = await callbackWith(strict, 'none');
    await idp.fault('down');
    const got = await refusal(grant(strict, callback, started));
    expect(got).toMatchObject({ name: 'TypeError', message: 'fetch failed' });
    await expect(fetch(`${idp.issuer}/jwks`)).rejects.toThrow(/fetch failed/);
    await idp.fault('none');
    await login(strict, 'none');
  });

  it('what openid-client does NOT refuse, so the server must: an unverified signature, a future iat, another userinfo email, a replayed code', async () => {
    // Without enableNonRepudiationChecks a signature is not verified at all.
    for (const fault of ['badSignature', 'unknownKey'] as const) {
      const { tokens } = await login(plain, fault);
      expect(tokens.claims()!.sub).toBe('fed-user-1');
    }
    const future = await login(strict, 'issuedInFuture');
    expect(future.tokens.claims()!.iat).toBeGreaterThan(Date.now() / 1000 + 3000);

    const otherEmail = await login(strict, 'userinfoOtherEmail');
    expect(otherEmail.tokens.claims()!.email).toBe('fed1@example.com');
    expect(otherEmail.userinfo.email).not.toBe('fed1@example.com');
    expect(otherEmail.userinfo.email_verified).toBe(true);

    const first = await login(strict, 'codeReplayable');
    const second = await grant(strict, first.callback, first.started);
    expect(second.claims()!.sub).toBe('fed-user-1');
    const codes = idp.requests.token.slice(-2).map((r) => [r.code, r.status]);
    expect(codes).toEqual([[first.callback.searchParams.get('code'), 200], [first.callback.searchParams.get('code'), 200]]);
  });
});
