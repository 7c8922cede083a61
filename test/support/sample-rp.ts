/**
 * A sample relying-party web application for the federated-login tests (issue #9's "a sample relying-party
 * application"): a small node:http app that logs its users in through an OpenID Provider with `openid-client` v6,
 * the way a real application would, so the browser test sees a whole login end to end and can assert on the ID
 * token the application received.
 *
 *  - GET /login: discovery was done at start (the issuer is a parameter: this server's is WSO2-like,
 *    `<base>/oauth2/token`); redirects to the authorization endpoint with PKCE S256, a fresh `state` and `nonce`,
 *    kept in memory keyed by state and bound to this browser by an HttpOnly cookie (`rp_state`), so a callback
 *    from another browser or with a forged state is refused. `?prompt=` and `?login_hint=` are passed on.
 *  - GET /callback: `authorizationCodeGrant` (state, PKCE, ID token validation incl. its signature:
 *    `enableNonRepudiationChecks`, since openid-client does not verify signatures of ID tokens received from the
 *    token endpoint by default), then `fetchUserInfo` with the ID token's `sub`; renders "Signed in as <sub>
 *    (<preferred_username>)" and the claims; a refusal renders a 400 page "Sign-in failed" with the error's class
 *    and code (and records it in lastError()).
 *  - GET /logout: RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) with `id_token_hint` and
 *    `post_logout_redirect_uri` = `${url}/logged-out`, which renders "Signed out".
 *  - GET /: "Not signed in" or the signed-in page.
 *
 * openid-client refuses http:// issuers unless told otherwise: allowInsecureRequests is applied only when the
 * issuer's host is loopback (127.0.0.1, ::1, localhost).
 *
 * @example
 *   const port = await freePort();
 *   const urls = sampleRpUrls(port);             // register urls.redirectUri / urls.postLogoutRedirectUri first
 *   const rp = await startSampleRp({ issuer: `${base}/oauth2/token`, clientId, clientSecret, port });
 *   await page.goto(`${rp.url}/login`);          // ... sign in ...
 *   expect(rp.lastLogin()?.claims.sub).toBe(userId);
 *   await rp.stop();
 */
import http from 'node:http';
import * as client from 'openid-client';
import { authorizationRequest } from './authorization-request.js';
import { freePort, loopbackServer } from './ports.js';

export interface SampleRpOptions {
  /** The OpenID Provider's issuer, exactly as its discovery document states it. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** A port chosen beforehand (sampleRpUrls(port) gives the URIs to register); a free one otherwise. */
  port?: number;
  /** Scopes asked for (default 'openid profile email'). */
  scope?: string;
  /** How the client authenticates at the token endpoint (default client_secret_basic, the server's default). */
  clientAuth?: 'client_secret_basic' | 'client_secret_post';
}

export interface SampleRpLogin {
  idToken: string;
  /** The validated ID token's claims. */
  claims: client.IDToken;
  userinfo: client.UserInfoResponse;
  accessToken: string;
  refreshToken: string | undefined;
}

export interface SampleRpError {
  /** The error's class name (ClientError, ResponseBodyError, AuthorizationResponseError, ...). */
  name: string;
  code: string | undefined;
  /** The OAuth `error` of the provider's answer, when there was one. */
  error: string | undefined;
  message: string;
}

export interface SampleRp {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  redirectUri: string;
  postLogoutRedirectUri: string;
  /** The last successful login, undefined before one. */
  lastLogin(): SampleRpLogin | undefined;
  /** The last refused callback, undefined before one. */
  lastError(): SampleRpError | undefined;
  /** The openid-client configuration (for tests that call the provider themselves, e.g. refreshTokenGrant). */
  config: client.Configuration;
  stop(): Promise<void>;
}

/** The URLs a sample RP on `port` uses, to register at the provider before the RP starts. */
export function sampleRpUrls(port: number): { url: string; redirectUri: string; postLogoutRedirectUri: string } {
  const url = `http://127.0.0.1:${port}`;
  return { url, redirectUri: `${url}/callback`, postLogoutRedirectUri: `${url}/logged-out` };
}

/** Pending logins are bounded: a test never has more than a handful open; the oldest is dropped first. */
const MAX_PENDING = 100;
const STATE_COOKIE = 'rp_state';

interface Pending {
  codeVerifier: string;
  nonce: string;
}

export async function startSampleRp(options: SampleRpOptions): Promise<SampleRp> {
  const port = options.port ?? (await freePort());
  const { url, redirectUri, postLogoutRedirectUri } = sampleRpUrls(port);
  const scope = options.scope ?? 'openid profile email';
  const issuerUrl = new URL(options.issuer);
  const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(issuerUrl.hostname);
  const auth = options.clientAuth === 'client_secret_post' ? client.ClientSecretPost(options.clientSecret) : client.ClientSecretBasic(options.clientSecret);
  const config = await client.discovery(issuerUrl, options.clientId, { client_secret: options.clientSecret }, auth, {
    execute: [...(loopback ? [client.allowInsecureRequests] : []), client.enableNonRepudiationChecks],
    timeout: 10,
  });

  const pending = new Map<string, Pending>();
  let last: SampleRpLogin | undefined;
  let lastError: SampleRpError | undefined;

  function page(res: http.ServerResponse, status: number, title: string, body: string, headers: Record<string, string | string[]> = {}): void {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...headers });
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`);
  }

  function signedInBody(login: SampleRpLogin): string {
    const fromIdToken = login.claims.preferred_username;
    const name = login.userinfo.preferred_username ?? (typeof fromIdToken === 'string' ? fromIdToken : '');
    return `<p id="signed-in">Signed in as ${escapeHtml(login.claims.sub)} (${escapeHtml(name)})</p>`
      + `<h2>ID token claims</h2><pre id="claims">${escapeHtml(JSON.stringify(login.claims, null, 2))}</pre>`
      + `<h2>Userinfo</h2><pre id="userinfo">${escapeHtml(JSON.stringify(login.userinfo, null, 2))}</pre>`
      + '<p><a href="/logout">Sign out</a></p>';
  }

  async function login(reqUrl: URL, res: http.ServerResponse): Promise<void> {
    const extra: Record<string, string> = {};
    for (const passed of ['prompt', 'login_hint']) {
      const value = reqUrl.searchParams.get(passed);
      if (value && value.length <= 256) extra[passed] = value;
    }
    const { url: target, state, nonce, codeVerifier } = await authorizationRequest(config, { redirectUri, scope, extra });
    if (pending.size >= MAX_PENDING) pending.delete(pending.keys().next().value!);
    pending.set(state, { codeVerifier, nonce });
    res.writeHead(302, {
      location: target.href,
      'set-cookie': `${STATE_COOKIE}=${state}; Path=/callback; HttpOnly; SameSite=Lax; Max-Age=600`,
      'cache-control': 'no-store',
    });
    res.end();
  }

  async function callback(req: http.IncomingMessage, reqUrl: URL, res: http.ServerResponse): Promise<void> {
    const state = reqUrl.searchParams.get('state') ?? '';
    const cookieState = cookieValue(req.headers.cookie, STATE_COOKIE);
    const clear = `${STATE_COOKIE}=; Path=/callback; HttpOnly; SameSite=Lax; Max-Age=0`;
    const flow = cookieState === state ? pending.get(state) : undefined;
    if (!flow) {
      lastError = { name: 'SampleRpError', code: 'STATE_UNKNOWN', error: undefined, message: 'no sign-in started in this browser with this state' };
      page(res, 400, 'Sign-in failed', '<p id="error">No sign-in was started here with this state.</p>', { 'set-cookie': clear });
      return;
    }
    pending.delete(state); // single use, whatever the outcome
    try {
      const tokens = await client.authorizationCodeGrant(config, reqUrl, { pkceCodeVerifier: flow.codeVerifier, expectedState: state, expectedNonce: flow.nonce, idTokenExpected: true });
      const claims = tokens.claims()!;
      const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
      last = { idToken: tokens.id_token!, claims, userinfo, accessToken: tokens.access_token, refreshToken: tokens.refresh_token };
      page(res, 200, 'Signed in', signedInBody(last), { 'set-cookie': clear });
    } catch (err) {
      const e = err as Error & { code?: string; error?: string };
      lastError = { name: e.name, code: e.code, error: e.error, message: e.message };
      page(res, 400, 'Sign-in failed', `<p id="error">${escapeHtml(e.name)} ${escapeHtml(e.code ?? '')} ${escapeHtml(e.error ?? '')}: ${escapeHtml(e.message)}</p>`, { 'set-cookie': clear });
    }
  }

  function logout(res: http.ServerResponse): void {
    const params: Record<string, string> = { post_logout_redirect_uri: postLogoutRedirectUri };
    if (last) params.id_token_hint = last.idToken;
    else params.client_id = options.clientId;
    const target = client.buildEndSessionUrl(config, params);
    res.writeHead(302, { location: target.href, 'cache-control': 'no-store' });
    res.end();
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const reqUrl = new URL(req.url ?? '/', url);
    if (req.method !== 'GET') return page(res, 405, 'Method not allowed', '');
    switch (reqUrl.pathname) {
      case '/': return page(res, 200, last ? 'Signed in' : 'Sample application', last ? signedInBody(last) : '<p id="signed-out">Not signed in. <a href="/login">Sign in</a></p>');
      case '/login': return login(reqUrl, res);
      case '/callback': return callback(req, reqUrl, res);
      case '/logout': return logout(res);
      case '/logged-out':
        last = undefined;
        return page(res, 200, 'Signed out', '<p id="signed-out">Signed out. <a href="/login">Sign in again</a></p>');
      default: return page(res, 404, 'Not found', '');
    }
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) page(res, 500, 'Error', `<p>${escapeHtml(err instanceof Error ? err.message : String(err))}</p>`);
      else res.destroy();
    });
  });
  const listening = loopbackServer(server, port);
  await listening.listen();

  return {
    url,
    redirectUri,
    postLogoutRedirectUri,
    lastLogin: () => last,
    lastError: () => lastError,
    config,
    stop: listening.close,
  };
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

