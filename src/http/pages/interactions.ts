/**
 * The sign-in pages of the OpenID Provider (oidc-provider's interactions), at WSO2's paths (src/http/pages/paths.ts):
 *
 *   GET  /authenticationendpoint/login.do?sessionDataKey=<uid>   the login prompt, by the application's login method
 *                                                               (src/federation/config.ts): `local` the login form;
 *                                                               `federated` straight to the identity provider;
 *                                                               `choice` the allowed identity providers (and the form
 *                                                               when `local`). WSO2's `fidp=<home realm identifier>`
 *                                                               goes straight to that IdP when the method allows it.
 *   POST /authenticationendpoint/login.do?sessionDataKey=<uid>   username + password, or `idp` (a choice)
 *   GET  /authenticationendpoint/oauth2_consent.do?sessionDataKey=<uid>  the scopes asked for
 *   POST /authenticationendpoint/oauth2_consent.do?sessionDataKey=<uid>  allow (remembered in the grant) or deny
 *
 * The local login checks the user store as the password grant does (authenticateLocalUser, src/http/oauth/user-login.ts):
 * `DOMAIN/name`, inactive users refused, failed sign-ins counted per account and per address by the login guard (429
 * with Retry-After while refused). Every form carries a CSRF token (src/http/pages/csrf.ts); every page is the
 * layout's (src/http/pages/layout.ts) with the texts of src/http/pages/texts.ts. Nothing is ever redirected to but
 * oidc-provider's own resume URL (whose next hop is a registered redirect URI) or the federation hand-off, so there
 * is no open redirect here.
 *
 * The hand-off to an external identity provider is injected (`Federation`): the relying-party side redirects to the
 * IdP and, on its callback, calls finishInteractionLogin.
 */
import express, { Router, type Request, type Response } from 'express';
import type { Interaction } from 'oidc-provider';
import { allowedIdentityProviders, allowsLocalLogin, type LoginMethod } from '../../federation/config.js';
import { loginMethodOf } from '../../provisioning/applications.js';
import { clientAddress } from '../../security/client-address.js';
import { userAccess, excludingDomain } from '../../userstore/user-access.js';
import { createLogger } from '../../log.js';
import type { AppContext } from '../context.js';
import { stringProblem } from '../input.js';
import { forwardedFromPublicUrl, oauthServer } from '../oauth/provider.js';
import { rememberConsent } from '../oauth/consents.js';
import { authenticateLocalUser } from '../oauth/user-login.js';
import { CsrfTokens, CSRF_FIELD } from './csrf.js';
import { html } from './html.js';
import { errorBlock, renderErrorPage, sendPage } from './layout.js';
import { CONSENT_PATH, LOGIN_PATH, PAGES_ROOT, SESSION_KEY_PARAM } from './paths.js';
import { isTextKey, text, type TextKey } from './texts.js';

/**
 * The relying-party side of federated login, provided by src/federation (the lead's): `begin` answers the browser
 * (normally a redirect to the identity provider). `uid` is the sign-in to finish with finishInteractionLogin.
 */
export interface Federation {
  begin(req: Request, res: Response, args: { uid: string; idpName: string; applicationId: string }): Promise<void>;
}

/** oidc-provider's interaction uids (nanoid): anything else designates no sign-in. */
const UID = /^[A-Za-z0-9_-]{10,64}$/;

/** What a sign-in's page needs of its application. */
interface SignInApplication {
  id: string;
  name: string;
  loginMethod: LoginMethod;
  restrictToInboundDomain: boolean;
  proxyMode: boolean;
  inboundDomain: { name: string } | null;
}

async function applicationOf(ctx: AppContext, clientId: unknown): Promise<SignInApplication | undefined> {
  if (typeof clientId !== 'string') return undefined;
  const row = await ctx.db.application.findUnique({
    where: { clientId },
    select: { id: true, name: true, loginMethod: true, restrictToInboundDomain: true, proxyMode: true, inboundDomain: { select: { name: true } } },
  });
  return row ? { ...row, loginMethod: loginMethodOf(row.loginMethod) } : undefined;
}

/**
 * Finishes the login prompt of sign-in `uid` for `accountId` (a local user's id) and sends the browser on
 * (303 to oidc-provider's resume URL, which goes on to consent, then back to the application). For the federation
 * callback: `idpName` is the identity provider the person signed in with, refused (error page) unless the
 * application's login method allows it. A sign-in that is unknown, expired or past its login prompt gets the
 * "expired" error page. The resume URL only works in the browser that started the sign-in (oidc-provider's resume
 * cookie), so a uid alone is worth nothing to anybody else.
 *
 * @example
 *   await finishInteractionLogin(ctx, req, res, uid, { accountId: user.id, amr: ['fed'], idpName: 'corp-idp' });
 */
export async function finishInteractionLogin(
  ctx: AppContext,
  _req: Request,
  res: Response,
  uid: string,
  login: { accountId: string; amr: string[]; idpName?: string | undefined },
): Promise<void> {
  const { provider } = await oauthServer(ctx);
  const interaction = UID.test(uid) ? await provider.Interaction.find(uid) : undefined;
  if (!interaction || interaction.prompt.name !== 'login' || interaction.result !== undefined) {
    renderErrorPage(res, 400, 'error.expired');
    return;
  }
  if (login.idpName !== undefined) {
    const app = await applicationOf(ctx, interaction.params.client_id);
    if (!app || !allowedIdentityProviders(app.loginMethod).includes(login.idpName)) {
      renderErrorPage(res, 403, 'error.unknownIdp');
      return;
    }
  }
  interaction.result = { login: { accountId: login.accountId, amr: login.amr } };
  await interaction.save(Math.max(1, interaction.exp - Math.floor(Date.now() / 1000)));
  res.redirect(303, interaction.returnTo);
}

/** The identity provider a `fidp` (home realm identifier) names, when the login method allows it. */
async function homeRealmIdp(ctx: AppContext, fidp: unknown, method: LoginMethod): Promise<string | undefined> {
  if (typeof fidp !== 'string' || fidp === '' || fidp.length > 255) return undefined;
  const idp = await ctx.db.identityProvider.findFirst({ where: { homeRealmId: fidp, enabled: true }, select: { name: true } });
  return idp && allowedIdentityProviders(method).includes(idp.name) ? idp.name : undefined;
}

type LoginError = { key: TextKey; values?: Record<string, string | number> };

export function interactionRouter(ctx: AppContext, deps: { federation: Federation }): Router {
  const router = Router();
  const log = createLogger('sign-in', ctx.config.logLevel);
  const origin = new URL(ctx.config.api.publicBaseUrl);
  const secure = origin.protocol === 'https:';
  const form = express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 10 });
  const csrfOf = async () => new CsrfTokens((await oauthServer(ctx)).csrfSecret, secure, PAGES_ROOT);

  /**
   * The sign-in of this page: the interaction named by the browser's interaction cookie, which must be the one the
   * URL names and be at this page's prompt. Sends the "expired" page and answers undefined otherwise.
   */
  async function current(req: Request, res: Response, prompt: 'login' | 'consent'): Promise<Interaction | undefined> {
    forwardedFromPublicUrl(req, origin);
    const uid = req.query[SESSION_KEY_PARAM];
    const { provider } = await oauthServer(ctx);
    let interaction: Interaction | undefined;
    try {
      interaction = await provider.interactionDetails(req, res);
    } catch {
      interaction = undefined;
    }
    if (!interaction || typeof uid !== 'string' || interaction.uid !== uid || interaction.prompt.name !== prompt) {
      renderErrorPage(res, 400, 'error.expired');
      return undefined;
    }
    return interaction;
  }

  async function loginPage(req: Request, res: Response, interaction: Interaction, app: SignInApplication, status = 200, error?: LoginError, headers: Record<string, string> = {}) {
    const token = (await csrfOf()).issue(req, res, interaction.uid);
    const action = `${LOGIN_PATH}?${SESSION_KEY_PARAM}=${encodeURIComponent(interaction.uid)}`;
    const idps = app.loginMethod.type === 'choice' ? app.loginMethod.identityProviders : [];
    const local = allowsLocalLogin(app.loginMethod);
    const choice = idps.length
      ? html`<p>${text('choice.intro', { application: app.name })}</p>
<form method="post" action="${action}">
<input type="hidden" name="${CSRF_FIELD}" value="${token}">
${idps.map((idp) => html`<button type="submit" name="idp" value="${idp}" class="secondary">${text('choice.idp', { idp })}</button>`)}
</form>${local ? html`<hr><p>${text('choice.or')}</p>` : ''}`
      : html``;
    const loginForm = local
      ? html`${idps.length ? '' : html`<p>${text('login.intro', { application: app.name })}</p>`}
<form method="post" action="${action}">
<input type="hidden" name="${CSRF_FIELD}" value="${token}">
<label for="username">${text('login.username')}</label>
<input type="text" id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required maxlength="1024" aria-describedby="username-hint" autofocus>
<p class="hint" id="username-hint">${text('login.usernameHint')}</p>
<label for="password">${text('login.password')}</label>
<input type="password" id="password" name="password" autocomplete="current-password" required maxlength="4096">
<button type="submit">${text('login.submit')}</button>
</form>`
      : html``;
    const title = idps.length ? text('choice.title') : text('login.title');
    sendPage(res, status, title, html`${errorBlock(error && text(error.key, error.values))}${choice}${loginForm}`, headers);
  }

  router.get(LOGIN_PATH, async (req, res) => {
    const interaction = await current(req, res, 'login');
    if (!interaction) return;
    const app = await applicationOf(ctx, interaction.params.client_id);
    if (!app) return renderErrorPage(res, 400, 'error.expired');
    const method = app.loginMethod;
    const fidp = await homeRealmIdp(ctx, interaction.params.fidp, method);
    if (fidp !== undefined) return deps.federation.begin(req, res, { uid: interaction.uid, idpName: fidp, applicationId: app.id });
    if (method.type === 'federated') return deps.federation.begin(req, res, { uid: interaction.uid, idpName: method.identityProvider, applicationId: app.id });
    return loginPage(req, res, interaction, app);
  });

  router.post(LOGIN_PATH, form, async (req, res) => {
    const interaction = await current(req, res, 'login');
    if (!interaction) return;
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!(await csrfOf()).verify(req, interaction.uid, body[CSRF_FIELD])) return renderErrorPage(res, 403, 'error.csrf');
    const app = await applicationOf(ctx, interaction.params.client_id);
    if (!app) return renderErrorPage(res, 400, 'error.expired');
    if (body.idp !== undefined) {
      const idp = body.idp;
      if (typeof idp !== 'string' || app.loginMethod.type !== 'choice' || !app.loginMethod.identityProviders.includes(idp)) {
        return renderErrorPage(res, 400, 'error.unknownIdp');
      }
      return deps.federation.begin(req, res, { uid: interaction.uid, idpName: idp, applicationId: app.id });
    }
    if (!allowsLocalLogin(app.loginMethod)) return renderErrorPage(res, 400, 'error.methodUnavailable');
    const { username, password } = body;
    if (typeof username !== 'string' || typeof password !== 'string' || username.trim() === '' || password === '') {
      return loginPage(req, res, interaction, app, 400, { key: 'login.missing' });
    }
    if (stringProblem(username, 'username', 1024) ?? stringProblem(password, 'password', 4096)) {
      return loginPage(req, res, interaction, app, 400, { key: 'login.invalid' });
    }
    const address = clientAddress(req, ctx.config.loginSecurity.trustProxyHops);
    const auth = await authenticateLocalUser(ctx.db, ctx.loginGuard, address, app, { username, password });
    if ('refused' in auth) {
      if (auth.refused === 'throttled' || auth.refused === 'locked') {
        const seconds = auth.refusal.retryAfterSeconds;
        return loginPage(req, res, interaction, app, 429, { key: auth.refused === 'locked' ? 'login.locked' : 'login.throttled', values: { seconds } }, { 'Retry-After': String(seconds) });
      }
      // Inactive is told as invalid: the page must not say which accounts exist.
      return loginPage(req, res, interaction, app, 401, { key: 'login.invalid' });
    }
    const access = await userAccess(ctx.db, auth.userId);
    if (!access || excludingDomain(app, access) !== undefined) return loginPage(req, res, interaction, app, 403, { key: 'login.notPermitted' });
    const { provider } = await oauthServer(ctx);
    await provider.interactionFinished(req, res, { login: { accountId: auth.userId, amr: ['pwd'] } }, { mergeWithLastSubmission: false });
  });

  router.get(CONSENT_PATH, async (req, res) => {
    const interaction = await current(req, res, 'consent');
    if (!interaction) return;
    const app = await applicationOf(ctx, interaction.params.client_id);
    if (!app) return renderErrorPage(res, 400, 'error.expired');
    const token = (await csrfOf()).issue(req, res, interaction.uid);
    const details = interaction.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
    const scopes = details.missingOIDCScope ?? [];
    const action = `${CONSENT_PATH}?${SESSION_KEY_PARAM}=${encodeURIComponent(interaction.uid)}`;
    const items = scopes.map((scope) => {
      const key = `consent.scope.${scope}`;
      return html`<li>${isTextKey(key) ? text(key) : text('consent.scope.other', { scope })}</li>`;
    });
    const claims = details.missingOIDCClaims ?? [];
    sendPage(
      res,
      200,
      text('consent.title'),
      html`<p>${text('consent.intro', { application: app.name })}</p>
<ul>${items}${claims.map((c) => html`<li>${text('consent.scope.other', { scope: c })}</li>`)}</ul>
<form method="post" action="${action}">
<input type="hidden" name="${CSRF_FIELD}" value="${token}">
<button type="submit" name="decision" value="allow" autofocus>${text('consent.allow')}</button>
<button type="submit" name="decision" value="deny" class="secondary">${text('consent.deny')}</button>
</form>
<p class="hint">${text('consent.remembered')}</p>`,
    );
  });

  router.post(CONSENT_PATH, form, async (req, res) => {
    const interaction = await current(req, res, 'consent');
    if (!interaction) return;
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!(await csrfOf()).verify(req, interaction.uid, body[CSRF_FIELD])) return renderErrorPage(res, 403, 'error.csrf');
    const { provider } = await oauthServer(ctx);
    if (body.decision !== 'allow') {
      await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'the user denied the request' }, { mergeWithLastSubmission: false });
      return;
    }
    const accountId = interaction.session?.accountId;
    const clientId = interaction.params.client_id;
    if (!accountId || typeof clientId !== 'string') return renderErrorPage(res, 400, 'error.expired');
    const details = interaction.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    const existing = interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined;
    const grant = existing ?? new provider.Grant({ accountId, clientId });
    if (details.missingOIDCScope?.length) grant.addOIDCScope(details.missingOIDCScope.join(' '));
    if (details.missingOIDCClaims?.length) grant.addOIDCClaims(details.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    // Remembered beyond this session, as WSO2 does, until an operator revokes it (src/http/oauth/consents.ts).
    await rememberConsent(ctx.db, accountId, clientId, { scopes: details.missingOIDCScope ?? [], claims: details.missingOIDCClaims ?? [] });
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  });

  // Any other page under the root: a page, not the API's JSON.
  router.use(PAGES_ROOT, (_req, res) => renderErrorPage(res, 404, 'error.notFound'));
  // A failure in a page handler: the generic page, nothing of the error shown.
  router.use((err: unknown, _req: Request, res: Response, next: (e?: unknown) => void) => {
    if (res.headersSent) return next(err);
    log.error('sign-in page failed', { error: err instanceof Error ? err.message : String(err) });
    renderErrorPage(res, 500, 'error.generic');
  });
  return router;
}
