/**
 * S4 of `npm run bench` (issue #9): the time a federated login spends in this server, from the identity provider's
 * answer arriving at `GET /commonauth?code&state` to this server's 303 back to its OpenID Provider's resume URL,
 * for a first login (silent JIT creates the user) and for a returning user (found by its federated link), next to
 * the bare `oidc-provider` code exchange measured in the same run as the reference.
 *
 * What runs: one instance (api + worker, startInstance of test/harness.ts) on the bench's database; a standalone
 * `oidc-provider` (test/support/standalone-idp.ts) as the external IdP, with an `is1` client for this server and a
 * `bench-ref` client for the reference; an IdP with silent JIT and an application federated to it; the sample
 * relying party (test/support/sample-rp.ts) as that application. Each login is one user agent with its own cookie
 * jar, driven over HTTP with manual redirects: the RP's /login, this server's authorize and login hand-off, the
 * IdP's devInteractions (login name = the subject, then consent), /commonauth, the resume, and the RP's callback
 * (code exchange and userinfo at this server), which must show "Signed in as". Only the /commonauth request is S4's
 * figure; the whole login is reported beside it for context.
 *
 * Why the standalone oidc-provider and not test/support/hostile-idp.ts (which needs no login form): the hostile
 * IdP asserts one set of claims at a time (its `claims()` applies to every token it issues next), so concurrent
 * logins of distinct subjects cannot be told apart; oidc-provider asserts whoever signed in. The login form's cost
 * lands in the end-to-end figure only. The reference then exchanges codes at the same provider, so the ratio
 * S4 / exchange reads as "what this server adds around the exchange it has to make anyway" (its /commonauth also
 * fetches userinfo, and the reference's second row adds that call too).
 *
 * Scenarios, at each concurrency level (N distinct subjects per level, new users each level):
 *  - ref: the bare exchange: openid-client authorizationCodeGrant against the provider (PKCE, state, nonce, the
 *    ID token's signature checked as this server does: enableNonRepudiationChecks), timing only code -> tokens;
 *    then, timed apart, fetchUserInfo;
 *  - S4a first login: the N subjects sign in for the first time (each creates a user: the user count is checked);
 *  - S4b returning user: the same N subjects again (each must be signed in as the same local user as in S4a).
 * A login that fails is counted as an error and left out of the percentiles; the first error's message is printed.
 */
import crypto from 'node:crypto';
import * as client from 'openid-client';
import { json, startInstance, type Instance, type Stack } from '../test/harness.js';
import { authorizationRequest } from '../test/support/authorization-request.js';
import { freePort } from '../test/support/ports.js';
import { sampleRpUrls, startSampleRp, type SampleRp } from '../test/support/sample-rp.js';
import { CookieJar, signInWithDevInteractions, startStandaloneIdp, type StandaloneIdp } from '../test/support/standalone-idp.js';
import { fixed, pcts } from './stats.js';

export interface FederatedLoginBenchSettings {
  /** Distinct subjects per concurrency level (each a new user in S4a, the same again in S4b). */
  subjects: number;
  /** Concurrency levels, e.g. [1, 4]. */
  levels: number[];
}

/** One row of the S4 table. */
export interface FederatedLoginRow {
  database: string;
  scenario: 'ref exchange' | 'ref userinfo' | 'S4a first login' | 'S4b returning user';
  concurrency: number;
  requests: number;
  errors: number;
  /** The measured step's latencies (ms): /commonauth for S4, the exchange (or userinfo) for ref. */
  p50: number;
  p95: number;
  p99: number;
  /** The whole login (S4 only): the RP's /login to its signed-in page. */
  endToEnd?: { p50: number; p95: number };
  extra?: string;
}

const IDP_NAME = 'bench-idp';
const SERVER_CLIENT = { id: 'is1', secret: `bench-is1-${crypto.randomBytes(12).toString('hex')}` };
const REF_CLIENT = { id: 'bench-ref', secret: `bench-ref-${crypto.randomBytes(12).toString('hex')}` };
const SCOPE = 'openid profile email';
const MAX_HOPS = 30;

interface Timed {
  ok: boolean;
  /** The measured step (ms). */
  step: number;
  /** The whole operation (ms). */
  total: number;
  error?: string;
}

/** Runs `total` calls of `op` with `concurrency` in flight; failures (thrown or not ok) are counted, not timed. */
async function load(total: number, concurrency: number, op: (i: number) => Promise<Timed>) {
  const steps: number[] = [];
  const totals: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const r = await op(i).catch((err: unknown): Timed => ({ ok: false, step: NaN, total: NaN, error: err instanceof Error ? err.message : String(err) }));
        if (r.ok) {
          steps.push(r.step);
          totals.push(r.total);
        } else {
          errors += 1;
          firstError ??= r.error ?? 'not ok';
        }
      }
    }),
  );
  steps.sort((x, y) => x - y);
  totals.sort((x, y) => x - y);
  return { steps, totals, errors, firstError };
}

/** The account the provider releases for `sub` (the server's JIT maps preferred_username to the username). */
function accountOf(sub: string) {
  return { preferred_username: sub, email: `${sub}@idp.example`, email_verified: true, name: `Bench ${sub}`, given_name: 'Bench', family_name: sub };
}

/**
 * One federated login as a browser makes it, with its own cookie jar: from the RP's /login through this server and
 * the IdP (signing in as `sub`) back to the RP's signed-in page. Times the /commonauth request alone (sending it to
 * receiving its 303) and the whole. Returns the local user id the RP was signed in as.
 */
async function federatedLogin(rp: SampleRp, server: Instance, idp: StandaloneIdp, sub: string): Promise<Timed & { signedInAs?: string }> {
  const jar = new CookieJar();
  const idpOrigin = new URL(idp.issuer).origin;
  const started = performance.now();
  let callbackMs: number | undefined;
  let url = new URL(`${rp.url}/login`);
  for (let hop = 0; hop < MAX_HOPS; hop += 1) {
    if (url.origin === idpOrigin) {
      url = await signInWithDevInteractions(url, { login: sub, jar });
      continue;
    }
    const isCallback = url.origin === server.baseUrl && url.pathname === '/commonauth';
    const cookie = jar.header(url);
    const t0 = performance.now();
    const res = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    if (isCallback) {
      callbackMs = performance.now() - t0;
      if (res.status !== 303) return { ok: false, step: NaN, total: NaN, error: `/commonauth answered ${res.status}: ${(await res.text()).slice(0, 300)}` };
    }
    jar.store(url, res);
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      url = new URL(location, url);
      continue;
    }
    const body = await res.text();
    const signedInAs = /id="signed-in">Signed in as (\S+) /.exec(body)?.[1];
    const total = performance.now() - started;
    if (res.status !== 200 || !signedInAs) return { ok: false, step: NaN, total, error: `${url.pathname} answered ${res.status}: ${body.slice(0, 300)}` };
    if (callbackMs === undefined) return { ok: false, step: NaN, total, error: 'signed in without passing /commonauth' };
    return { ok: true, step: callbackMs, total, signedInAs };
  }
  return { ok: false, step: NaN, total: NaN, error: `more than ${MAX_HOPS} redirects` };
}

/** The reference: sign in at the provider as `sub`, then time the code exchange (and, apart, userinfo) alone. */
async function bareExchange(config: client.Configuration, redirectUri: string, sub: string): Promise<{ exchange: Timed; userinfo: Timed }> {
  const started = performance.now();
  const { url: authorizationUrl, state, nonce, codeVerifier } = await authorizationRequest(config, { redirectUri, scope: SCOPE });
  const callback = await signInWithDevInteractions(authorizationUrl, { login: sub });
  const t0 = performance.now();
  const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
  const t1 = performance.now();
  const claims = tokens.claims();
  const exchange: Timed = claims?.sub === sub ? { ok: true, step: t1 - t0, total: t1 - started } : { ok: false, step: NaN, total: NaN, error: `the ID token names ${claims?.sub}` };
  const info = await client.fetchUserInfo(config, tokens.access_token, sub);
  const t2 = performance.now();
  const userinfo: Timed = info.email === accountOf(sub).email ? { ok: true, step: t2 - t1, total: t2 - started } : { ok: false, step: NaN, total: NaN, error: 'userinfo without the email' };
  return { exchange, userinfo };
}

export function printFederatedRow(r: FederatedLoginRow): void {
  const e2e = r.endToEnd ? `  (whole login p50 ${fixed(r.endToEnd.p50)} ms p95 ${fixed(r.endToEnd.p95)} ms)` : '';
  process.stdout.write(
    `${r.database.padEnd(9)} ${r.scenario.padEnd(19)} c=${String(r.concurrency).padEnd(3)} n=${String(r.requests).padEnd(4)} err=${String(r.errors).padEnd(3)} ` +
      `p50 ${fixed(r.p50)} ms  p95 ${fixed(r.p95)} ms  p99 ${fixed(r.p99)} ms${e2e}${r.extra ? `  ${r.extra}` : ''}\n`,
  );
}

/**
 * Runs S4 and its reference on `database` (the stack's), printing each row as it is measured and the ratios at
 * the end; returns the rows. It never fails on a number: a failed login is an error in its row.
 */
export async function benchFederatedLogin(database: string, stack: Stack, settings: FederatedLoginBenchSettings): Promise<FederatedLoginRow[]> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // Nothing listens at the reference's redirect URI: the sign-in stops at the redirect to it and keeps the URL.
  const refRedirect = `http://127.0.0.1:${await freePort()}/callback`;
  const started = await Promise.allSettled([
    startInstance(`bench-fed-${database}`, { stack, port }),
    startStandaloneIdp({
      clients: [
        { clientId: SERVER_CLIENT.id, clientSecret: SERVER_CLIENT.secret, redirectUris: [`${base}/commonauth`] },
        { clientId: REF_CLIENT.id, clientSecret: REF_CLIENT.secret, redirectUris: [refRedirect] },
      ],
    }),
  ] as const);
  if (started[0].status === 'rejected' || started[1].status === 'rejected') {
    // Leave nothing running of the half that did start.
    await Promise.allSettled(started.flatMap((s) => (s.status === 'fulfilled' ? [s.value.stop()] : [])));
    throw started[0].status === 'rejected' ? started[0].reason : (started[1] as PromiseRejectedResult).reason;
  }
  const [server, idp] = [started[0].value, started[1].value];
  let rp: SampleRp | undefined;
  const rows: FederatedLoginRow[] = [];
  try {
    const created = await json(server, 'POST', '/api/server/v1/identity-providers', {
      name: IDP_NAME,
      federatedAuthenticator: { issuer: idp.issuer, clientId: SERVER_CLIENT.id, clientSecret: SERVER_CLIENT.secret, scopes: SCOPE.split(' ') },
      jit: { enabled: true, scheme: 'provision_silently' },
    });
    if (created.status !== 201) throw new Error(`creating the identity provider failed: ${created.status} ${JSON.stringify(created.body)}`);
    const rpPort = await freePort();
    const urls = sampleRpUrls(rpPort);
    const app = await json(server, 'POST', '/api/server/v1/applications', {
      name: 'bench-app',
      grantTypes: ['authorization_code'],
      responseTypes: ['code'],
      redirectUris: [urls.redirectUri],
      postLogoutRedirectUris: [urls.postLogoutRedirectUri],
      skipConsent: true,
      loginMethod: { type: 'federated', identityProvider: IDP_NAME },
    });
    if (app.status !== 201) throw new Error(`creating the application failed: ${app.status} ${JSON.stringify(app.body)}`);
    const sampleRp = await startSampleRp({ issuer: `${base}/oauth2/token`, clientId: app.body.clientId as string, clientSecret: app.body.clientSecret as string, port: rpPort });
    rp = sampleRp;
    const refConfig = await client.discovery(new URL(idp.issuer), REF_CLIENT.id, { client_secret: REF_CLIENT.secret }, client.ClientSecretBasic(REF_CLIENT.secret), {
      execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks],
    });
    const userCount = async () => (await json(server, 'GET', '/scim2/Users?count=0')).body.totalResults as number;

    // Warm-up, not measured: discovery and JWKS caches on both sides, the JIT workflow's first run, JIT's code paths.
    for (const sub of ['warmup-a', 'warmup-b']) {
      idp.setAccount(sub, accountOf(sub));
      idp.setAccount(`${sub}-ref`, accountOf(`${sub}-ref`));
      for (const r of [await federatedLogin(sampleRp, server, idp, sub), await federatedLogin(sampleRp, server, idp, sub)]) {
        if (!r.ok) process.stdout.write(`${database.padEnd(9)} warm-up login failed: ${r.error ?? 'not ok'}\n`);
      }
      await bareExchange(refConfig, refRedirect, `${sub}-ref`);
    }

    const push = (row: FederatedLoginRow) => {
      rows.push(row);
      printFederatedRow(row);
    };
    const note = (firstError: string | undefined) => (firstError ? `first error: ${firstError.replace(/\s+/g, ' ').slice(0, 200)}` : undefined);

    for (const concurrency of settings.levels) {
      const n = settings.subjects;
      const subjects = Array.from({ length: n }, (_, i) => `fed-c${concurrency}-${i}`);
      for (const sub of subjects) {
        idp.setAccount(sub, accountOf(sub));
        idp.setAccount(`${sub}-ref`, accountOf(`${sub}-ref`));
      }

      // The reference first, on a quiet server.
      const userinfoTimes: Timed[] = [];
      const ref = await load(n, concurrency, async (i) => {
        const r = await bareExchange(refConfig, refRedirect, `${subjects[i]!}-ref`);
        userinfoTimes.push(r.userinfo);
        return r.exchange;
      });
      push({ database, scenario: 'ref exchange', concurrency, requests: n, errors: ref.errors, ...pcts(ref.steps), extra: note(ref.firstError) });
      const infoOk = userinfoTimes.filter((t) => t.ok).map((t) => t.step).sort((x, y) => x - y);
      push({ database, scenario: 'ref userinfo', concurrency, requests: n, errors: n - infoOk.length, ...pcts(infoOk) });

      const firstSub = new Map<string, string>();
      const before = await userCount();
      const first = await load(n, concurrency, async (i) => {
        const r = await federatedLogin(sampleRp, server, idp, subjects[i]!);
        if (r.ok) firstSub.set(subjects[i]!, r.signedInAs!);
        return r;
      });
      const created = (await userCount()) - before;
      push({
        database, scenario: 'S4a first login', concurrency, requests: n, errors: first.errors, ...pcts(first.steps),
        endToEnd: pcts(first.totals), extra: [`users +${created}`, note(first.firstError)].filter(Boolean).join('; '),
      });

      const beforeReturn = await userCount();
      const again = await load(n, concurrency, async (i) => {
        const r = await federatedLogin(sampleRp, server, idp, subjects[i]!);
        const expected = firstSub.get(subjects[i]!);
        if (r.ok && r.signedInAs !== expected) return { ...r, ok: false, error: `signed in as ${r.signedInAs}, not the first login's ${expected ?? '(none)'}` };
        return r;
      });
      const added = (await userCount()) - beforeReturn;
      push({
        database, scenario: 'S4b returning user', concurrency, requests: n, errors: again.errors, ...pcts(again.steps),
        endToEnd: pcts(again.totals), extra: [`users +${added}`, note(again.firstError)].filter(Boolean).join('; '),
      });
    }

    for (const concurrency of settings.levels) {
      const at = (scenario: FederatedLoginRow['scenario']) => rows.find((r) => r.scenario === scenario && r.concurrency === concurrency)!;
      const ref = at('ref exchange');
      const refWithInfo = ref.p50 + at('ref userinfo').p50;
      // The ratio asked for (S4 p50 / exchange p50), the ratio to what any relying party must do (exchange and
      // userinfo), and what this server adds to that in milliseconds.
      const ratio = (r: FederatedLoginRow) =>
        `${(r.p50 / ref.p50).toFixed(1)}x (${(r.p50 / refWithInfo).toFixed(1)}x exchange + userinfo; +${(r.p50 - refWithInfo).toFixed(0)} ms)`;
      process.stdout.write(
        `${database.padEnd(9)} c=${concurrency}: /commonauth p50 / bare exchange p50: first login ${ratio(at('S4a first login'))}, returning user ${ratio(at('S4b returning user'))}\n`,
      );
    }
    return rows;
  } finally {
    await rp?.stop();
    await idp.stop();
    await server.stop();
  }
}
