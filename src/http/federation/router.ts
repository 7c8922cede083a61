/**
 * Federated login over HTTP (issue #9): the hand-off to an identity provider, its callback at `/commonauth` (WSO2's
 * callback path, as in the seed), and the JIT prompt pages.
 *
 *   begin()                          from the login pages (src/http/oauth/interactions.ts): records the login
 *                                    (state, nonce, PKCE verifier; src/federation/requests.ts), binds it to this
 *                                    browser with a cookie, and redirects to the IdP
 *   GET  /commonauth                 the IdP's answer: the login taken once by its state and checked against the
 *                                    browser's cookie, the code exchanged and the ID token validated
 *                                    (src/federation/relying-party.ts), then the person's JitProvision workflow
 *                                    (workflows/jit-provision.ts) started or joined; its outcome decides: signed in,
 *                                    a prompt, or a page saying why not
 *   GET  /commonauth/prompt/{uid}    the JIT prompt of that login (username, password, consent, as the scheme says)
 *   POST /commonauth/prompt/{uid}    the person's answer, sent to the workflow as an Update
 *
 * Nothing here trusts the URL for who is logging in: the callback's state must match the cookie set when the login
 * left, and a prompt page acts on the workflow recorded for the browser's own login.
 */
import express, { Router, type Request, type Response } from 'express';
import { KeyedDigest } from '../../crypto/keyed-digest.js';
import { safeEqual } from '../../crypto/password.js';
import { jitSettingsOf, openFederatedAuthenticator, storedFederatedAuthenticator } from '../../federation/store.js';
import { answerJitPrompt, progressJitLogin, startJitLogin } from '../../federation/jit-client.js';
import type { JitOutcome } from '../../federation/jit-types.js';
import { FederationError, RelyingParty, type RelyingPartyIdp } from '../../federation/relying-party.js';
import { FederationRequests, REQUEST_TTL_MS, type PendingFederation } from '../../federation/requests.js';
import type { Logger } from '../../log.js';
import type { AppContext } from '../context.js';
import { cookieOf } from '../cookies.js';
import { finishInteractionLogin } from '../pages/interactions.js';
import { federationPages, type FederationPages } from './pages.js';

/** WSO2's callback path for federated authenticators. */
export const CALLBACK_PATH = '/commonauth';
const PROMPT_PATH = `${CALLBACK_PATH}/prompt`;
/** oidc-provider's interaction ids (nanoid): anything else is no login of ours. */
const UID = /^[A-Za-z0-9_-]{10,64}$/;
/** Prompt answers are a username, a password and a box: 4 KiB is plenty. */
const FORM_LIMIT = '4kb';

/** What the login pages call to send a person to an identity provider. */
export type BeginFederatedLogin = (req: Request, res: Response, args: { uid: string; idpName: string; applicationId: string }) => Promise<void>;


const cookieName = (uid: string) => `fedauth.${uid}`;

export function federationRouter(ctx: AppContext, log: Logger, pages: FederationPages = federationPages) {
  const router = Router();
  const requests = new FederationRequests(ctx.db, ctx.box);
  const rp = new RelyingParty(`${ctx.config.api.publicBaseUrl}${CALLBACK_PATH}`);
  const csrf = new KeyedDigest(ctx.box.keyring, 'federation-prompt-csrf');
  const secure = ctx.config.api.publicBaseUrl.startsWith('https:');

  const idpRow = (where: { name: string } | { id: string }) => ctx.db.identityProvider.findUnique({ where });
  /** An IdP as the relying party needs it, or undefined when it cannot be used for logins. */
  const relyingPartyIdp = (row: Awaited<ReturnType<typeof idpRow>>): RelyingPartyIdp | undefined => {
    if (!row || !row.enabled) return undefined;
    const stored = storedFederatedAuthenticator(row.federatedAuth);
    if (!stored || !stored.enabled) return undefined;
    return { id: row.id, name: row.name, revision: row.updatedAt.toISOString(), authenticator: openFederatedAuthenticator(ctx.box, stored) };
  };

  const begin: BeginFederatedLogin = async (_req, res, { uid, idpName, applicationId }) => {
    const idp = relyingPartyIdp(await idpRow({ name: idpName }));
    if (!idp) {
      pages.error(res, 404, 'idp_unknown');
      return;
    }
    const binding = await requests.create({ interactionUid: uid, idpId: idp.id, applicationId });
    let url: URL;
    try {
      url = await rp.authorizationUrl(idp, binding);
    } catch (err) {
      fail(res, err, idp.name);
      return;
    }
    // The state, bound to this browser: only the browser the login left from can bring its answer back. Lax, so the
    // IdP's top-level redirect back carries it; scoped to the callback path.
    res.cookie(cookieName(uid), binding.state, { httpOnly: true, sameSite: 'lax', secure, path: CALLBACK_PATH, maxAge: REQUEST_TTL_MS });
    res.redirect(303, url.href);
  };

  /** A failure page for an error of the relying party; the details go to the log, never to the page. */
  const fail = (res: Response, err: unknown, idpName: string) => {
    if (err instanceof FederationError) {
      log.info('federated login failed', { idp: idpName, failure: err.failure, error: err.message, idpError: err.idpError?.error });
      pages.error(res, err.failure === 'idp_unavailable' ? 502 : err.failure === 'misconfigured' ? 500 : 400, err.failure, { idpName, idpError: err.idpError });
      return;
    }
    log.error('federated login failed unexpectedly', { idp: idpName, error: err instanceof Error ? err.message : String(err) });
    pages.error(res, 500, 'unexpected');
  };

  /**
   * The prompt pages' cookie: set on the redirect to the prompt, a keyed digest of the consumed login's id, so the
   * prompt pages act only for the browser that came back from the IdP.
   */
  const withPromptCookie = (res: Response, pending: PendingFederation) =>
    res.cookie(`${cookieName(pending.interactionUid)}.prompt`, csrf.digest(`cookie:${pending.id}`), {
      httpOnly: true,
      sameSite: 'lax',
      secure,
      path: `${PROMPT_PATH}/${pending.interactionUid}`,
      maxAge: 60 * 60_000,
    });

  /** Acts on a JitProvision outcome: signed in, on to the prompt, or the page saying why not. */
  const follow = async (req: Request, res: Response, pending: PendingFederation, idpName: string, outcome: JitOutcome) => {
    if (outcome.state === 'done') {
      // The login pages' own completion: consent comes next, then the application (src/http/pages/interactions.ts).
      await finishInteractionLogin(ctx, req, res, pending.interactionUid, { accountId: outcome.userId, amr: ['fed'], idpName });
      return;
    }
    if (outcome.state === 'prompt') {
      withPromptCookie(res, pending);
      res.redirect(303, `${PROMPT_PATH}/${pending.interactionUid}`);
      return;
    }
    log.info('federated login refused by JIT provisioning', { idp: idpName, reason: outcome.reason, message: outcome.message });
    pages.jitFailure(res, outcome.reason);
  };

  router.get(CALLBACK_PATH, async (req, res) => {
    const query = new URLSearchParams(req.url.slice(req.url.indexOf('?') + 1 || req.url.length));
    const state = query.get('state') ?? '';
    const pending = await requests.consume(state);
    // Unknown, expired, or already used: a replayed callback (or one forged for someone else) is acted on never.
    const cookie = pending ? cookieOf(req, cookieName(pending.interactionUid)) : undefined;
    if (!pending || typeof cookie !== 'string' || !safeEqual(cookie, state)) {
      pages.error(res, 400, 'login_expired');
      return;
    }
    res.clearCookie(cookieName(pending.interactionUid), { path: CALLBACK_PATH });
    const row = await idpRow({ id: pending.idpId });
    const idp = relyingPartyIdp(row);
    if (!row || !idp) {
      pages.error(res, 404, 'idp_unknown');
      return;
    }
    let result: Awaited<ReturnType<RelyingParty['complete']>>;
    try {
      result = await rp.complete(idp, query, { state, nonce: pending.nonce, codeVerifier: pending.codeVerifier });
    } catch (err) {
      fail(res, err, idp.name);
      return;
    }
    let started: { workflowId: string; outcome: JitOutcome };
    try {
      started = await startJitLogin(ctx.temporal, ctx.config.temporal.taskQueue, {
        identity: { idpId: idp.id, idpName: idp.name, issuer: result.issuer, subject: result.subject },
        claims: result.claims,
        applicationId: pending.applicationId,
        settings: jitSettingsOf(row.jit),
        blockingTimeoutMs: ctx.config.blockingTimeoutMs,
      });
    } catch (err) {
      log.error('JIT provisioning could not start', { idp: idp.name, error: err instanceof Error ? err.message : String(err) });
      pages.error(res, 503, 'unavailable');
      return;
    }
    await requests.attachWorkflow(pending, started.workflowId);
    await follow(req, res, { ...pending, workflowId: started.workflowId }, idp.name, started.outcome);
  });

  /** The login a prompt page belongs to: the browser's own, or none. */
  const promptLogin = async (req: Request): Promise<PendingFederation | undefined> => {
    const uid = req.params.uid;
    if (typeof uid !== 'string' || !UID.test(uid)) return undefined;
    const pending = await requests.forInteraction(uid);
    const cookie = cookieOf(req, `${cookieName(uid)}.prompt`);
    if (!pending?.workflowId || typeof cookie !== 'string' || !safeEqual(cookie, csrf.digest(`cookie:${pending.id}`))) return undefined;
    return pending;
  };

  router.get(`${PROMPT_PATH}/:uid`, async (req, res) => {
    const pending = await promptLogin(req);
    if (!pending) {
      pages.error(res, 400, 'login_expired');
      return;
    }
    const outcome = await progressJitLogin(ctx.temporal, pending.workflowId!);
    if (outcome.state !== 'prompt') {
      const row = await idpRow({ id: pending.idpId });
      await follow(req, res, pending, row?.name ?? '', outcome);
      return;
    }
    pages.prompt(res, { action: `${PROMPT_PATH}/${pending.interactionUid}`, csrf: csrf.digest(`form:${pending.id}`), outcome });
  });

  router.post(`${PROMPT_PATH}/:uid`, express.urlencoded({ extended: false, limit: FORM_LIMIT, parameterLimit: 10 }), async (req, res) => {
    const pending = await promptLogin(req);
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!pending || typeof body.csrf !== 'string' || !safeEqual(body.csrf, csrf.digest(`form:${pending.id}`))) {
      pages.error(res, 400, 'login_expired');
      return;
    }
    const text = (name: string) => (typeof body[name] === 'string' ? body[name] : undefined);
    const password = text('password');
    // The password goes to the workflow sealed (answerJitPrompt seals it); the consent box is the submit's own.
    const outcome = await answerJitPrompt(
      ctx.temporal,
      pending.workflowId!,
      {
        consent: text('consent') === 'yes',
        ...(text('userName') !== undefined && { userName: text('userName') }),
        ...(password !== undefined && password !== '' && { password }),
      },
      ctx.sealer,
    );
    if (outcome.state === 'prompt') {
      pages.prompt(res, { action: `${PROMPT_PATH}/${pending.interactionUid}`, csrf: csrf.digest(`form:${pending.id}`), outcome }, 400);
      return;
    }
    const row = await idpRow({ id: pending.idpId });
    await follow(req, res, pending, row?.name ?? '', outcome);
  });

  return { router, begin };
}
