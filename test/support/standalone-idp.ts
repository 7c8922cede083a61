/**
 * An external OpenID Provider for the federated-login tests (issue #9's "IS2, separately a standalone provider the
 * test starts from the `oidc-provider` package with its own defaults"): a plain `oidc-provider` v9 instance on a free
 * loopback port, with nothing of this server in it.
 *
 * What is its own default and what is set here:
 *  - devInteractions stay on (the package's default), so a browser (or `signInWithDevInteractions` below, over
 *    fetch) can log in on its pages. The default interaction policy runs two steps for a new grant: **login**, then
 *    **consent**.
 *  - Login page (GET /interaction/:uid): a form POSTing to /interaction/:uid with a hidden `prompt=login`, a text
 *    input `name="login"` (placeholder "Enter any login"), a password input `name="password"` (placeholder "and
 *    password") and a button "Sign-in". **Any login name is accepted and becomes the account id, i.e. the `sub`**;
 *    the password is ignored entirely (never checked, never stored). The sub is then looked up with `findAccount`
 *    over the accounts the test set. An unknown login name is not an account: the provider then answers its own
 *    error page (HTTP 500, "oops! something went wrong", `server_error`) at /auth/:uid and never redirects back, so
 *    a test must `setAccount` before it signs in.
 *  - Consent page (GET /interaction/:uid again, second step): a form with a hidden `prompt=consent` and one button
 *    "Continue"; submitting it grants every scope and claim asked for. An "abort" link (GET
 *    /interaction/:uid/abort) ends the request with `error=access_denied` back at the client.
 *    In Playwright: `page.fill('input[name=login]', sub); page.fill('input[name=password]', 'any');
 *    page.click('button[type=submit]'); page.click('button[type=submit]')` (Sign-in, then Continue).
 *  - The pages' stylesheet @imports a Google font: a browser without internet just renders without it.
 *  - Scopes: openid, offline_access (its defaults) plus profile, email and `groups`, whose claims are declared here
 *    (profile: name, given_name, family_name, preferred_username; email: email, email_verified; groups: groups).
 *  - ID tokens carry only the protocol claims and `sub` when an access token is issued too (its default
 *    `conformIdTokenClaims: true`): the profile, email and groups claims come from the **userinfo endpoint**. A
 *    relying party that reads only the ID token sees no email; that is this provider's (standard) behaviour.
 *  - PKCE: the package requires it only for public clients; `requirePkce` (default true) requires it for every
 *    client, S256 only (its default method list), so a relying party that forgot PKCE fails here.
 *  - Clients: client_secret_basic (its default token endpoint auth method), response type code, exact redirect URIs.
 *  - Signing keys: none configured, so the package makes an ephemeral development key (RS256) and warns once; cookie
 *    keys likewise. The issuer is `http://127.0.0.1:<port>`: a relying party on openid-client v6 must allow insecure
 *    requests for it (loopback only).
 *
 * @example
 *   const idp = await startStandaloneIdp({
 *     clients: [{ clientId: 'is1', clientSecret: 's3cret', redirectUris: ['http://127.0.0.1:8080/commonauth'] }],
 *     accounts: { alice: { preferred_username: 'alice', email: 'alice@example.com', email_verified: true } },
 *   });
 *   // ... idp.issuer for discovery; idp.setAccount('alice', { ...claims, groups: ['staff'] }) between logins
 *   await idp.stop();
 */
import http from 'node:http';
import Provider, { type Configuration } from 'oidc-provider';
import { freePort, loopbackServer } from './ports.js';

/** The claims of one account, as the provider releases them (the `sub` is the account's key, not one of these). */
export interface AccountClaims {
  preferred_username?: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
  given_name?: string;
  family_name?: string;
  groups?: string[];
  [claim: string]: unknown;
}

export interface StandaloneClient {
  clientId: string;
  clientSecret: string;
  /** Exact redirect URIs (the provider compares them as strings). */
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
}

export interface StandaloneIdpOptions {
  clients: StandaloneClient[];
  /** sub -> claims. Changed later with setAccount/removeAccount. */
  accounts?: Record<string, AccountClaims>;
  /** Require PKCE (S256) of every client, not only public ones (default true). */
  requirePkce?: boolean;
  /** Anything else to override in the provider's configuration (shallow merge, applied last). */
  configuration?: Configuration;
  /**
   * The host name in the issuer (default 127.0.0.1; it always listens on 127.0.0.1). `localhost` keeps a browser's
   * cookies for this provider apart from those of a server on 127.0.0.1: browsers scope cookies by host, not port,
   * and this provider's cookie names are oidc-provider's defaults, as the server's are.
   */
  hostname?: '127.0.0.1' | 'localhost';
}

export interface StandaloneIdp {
  /** `http://<hostname>:<port>`; discovery at `${issuer}/.well-known/openid-configuration`. */
  issuer: string;
  /** The oidc-provider instance, for tests that need its events or models. */
  provider: Provider;
  /** Adds or replaces an account: the next userinfo answer, ID token or login sees the new claims. */
  setAccount(sub: string, claims: AccountClaims): void;
  removeAccount(sub: string): void;
  stop(): Promise<void>;
}

export async function startStandaloneIdp(options: StandaloneIdpOptions): Promise<StandaloneIdp> {
  const accounts = new Map<string, AccountClaims>(Object.entries(options.accounts ?? {}));
  const port = await freePort();
  const issuer = `http://${options.hostname ?? '127.0.0.1'}:${port}`;
  const requirePkce = options.requirePkce ?? true;

  const configuration: Configuration = {
    clients: options.clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      redirect_uris: c.redirectUris,
      post_logout_redirect_uris: c.postLogoutRedirectUris ?? [],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    })),
    claims: {
      profile: ['name', 'given_name', 'family_name', 'preferred_username'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
    },
    ...(requirePkce ? { pkce: { required: () => true } } : {}),
    findAccount(_ctx, sub) {
      const claims = accounts.get(sub);
      if (!claims) return undefined;
      return {
        accountId: sub,
        // Read at release time, so setAccount between two logins changes what the next one asserts.
        claims: () => ({ ...(accounts.get(sub) ?? claims), sub }),
      };
    },
    ...options.configuration,
  };
  const provider = new Provider(issuer, configuration);

  const server = loopbackServer(http.createServer(provider.callback()), port);
  await server.listen();

  return {
    issuer,
    provider,
    setAccount(sub, claims) {
      accounts.set(sub, { ...claims });
    },
    removeAccount(sub) {
      accounts.delete(sub);
    },
    stop: server.close,
  };
}

/** A minimal cookie jar for one user agent: name/value per origin, honouring Path (and nothing fancier). */
export class CookieJar {
  private readonly cookies = new Map<string, { value: string; path: string; origin: string }>();

  /** Stores the Set-Cookie headers of a response from `url`; an expired or empty cookie is removed. */
  store(url: URL, response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair, ...attributes] = header.split(';');
      const eq = pair!.indexOf('=');
      if (eq < 1) continue;
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      let path = '/';
      let expired = value === '';
      for (const attribute of attributes) {
        const [k, v = ''] = attribute.split('=').map((s) => s.trim());
        if (k!.toLowerCase() === 'path' && v.startsWith('/')) path = v;
        if (k!.toLowerCase() === 'expires' && Date.parse(v) <= Date.now()) expired = true;
        if (k!.toLowerCase() === 'max-age' && Number(v) <= 0) expired = true;
      }
      const key = `${url.origin} ${path} ${name}`;
      if (expired) this.cookies.delete(key);
      else this.cookies.set(key, { value, path, origin: url.origin });
    }
  }

  /** The Cookie header for a request to `url` (undefined when there is none). */
  header(url: URL): string | undefined {
    const pairs: string[] = [];
    for (const [key, cookie] of this.cookies) {
      const pathMatches = url.pathname === cookie.path || url.pathname.startsWith(cookie.path.endsWith('/') ? cookie.path : `${cookie.path}/`);
      if (cookie.origin === url.origin && pathMatches) pairs.push(`${key.split(' ')[2]}=${cookie.value}`);
    }
    return pairs.length ? pairs.join('; ') : undefined;
  }
}

export interface DevInteractionsSignIn {
  /** The login name typed into the form: it becomes the `sub`. */
  login: string;
  /** Typed into the password field; the dev interactions ignore it (default "any"). */
  password?: string;
  /** Answer the consent page with Continue (default) or with its abort link (-> error=access_denied). */
  consent?: 'continue' | 'abort';
  /** The user agent's cookies, to keep the provider's session across sign-ins (a fresh jar by default). */
  jar?: CookieJar;
}

/**
 * Plays a browser through oidc-provider's devInteractions, over plain fetch: follows the redirects from
 * `authorizationUrl` (an authorization request of any relying party), fills the login form, answers the consent page,
 * and returns the URL the provider finally redirects to outside itself (the relying party's redirect URI with `code`
 * and `state`, or with `error`). It stops at the first redirect that leaves the provider's origin and does not follow
 * it, so the caller decides what to do with the callback (hand it to its own relying party, replay it, ...).
 * Throws when the provider answers something else (an error page, a loop).
 */
export async function signInWithDevInteractions(authorizationUrl: string | URL, signIn: DevInteractionsSignIn): Promise<URL> {
  const jar = signIn.jar ?? new CookieJar();
  let url = new URL(authorizationUrl);
  const origin = url.origin;
  let body: URLSearchParams | undefined;
  for (let step = 0; step < 20; step++) {
    const cookie = jar.header(url);
    const response = await fetch(url, {
      method: body ? 'POST' : 'GET',
      redirect: 'manual',
      headers: { ...(cookie ? { cookie } : {}), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      ...(body ? { body } : {}),
    });
    jar.store(url, response);
    body = undefined;
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      const next = new URL(location, url);
      if (next.origin !== origin) {
        await response.body?.cancel();
        return next;
      }
      url = next;
      await response.body?.cancel();
      continue;
    }
    const html = await response.text();
    if (response.status !== 200) throw new Error(`the provider answered ${response.status} at ${url.pathname}: ${html.slice(0, 500)}`);
    const prompt = /name="prompt" value="(login|consent)"/.exec(html)?.[1];
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    if (!prompt || !action) throw new Error(`no devInteractions form at ${url.pathname}: ${html.slice(0, 500)}`);
    if (prompt === 'consent' && signIn.consent === 'abort') {
      url = new URL(`${new URL(action.replaceAll('&amp;', '&'), url).pathname}/abort`, url);
      continue;
    }
    body = prompt === 'login' ? new URLSearchParams({ prompt, login: signIn.login, password: signIn.password ?? 'any' }) : new URLSearchParams({ prompt });
    url = new URL(action.replaceAll('&amp;', '&'), url);
  }
  throw new Error('the devInteractions sign-in did not finish within 20 steps');
}
