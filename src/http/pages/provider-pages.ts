/**
 * The pages oidc-provider renders itself (inside its Koa application), in the sign-in layout: the RP-initiated
 * logout confirmation (OpenID Connect RP-Initiated Logout 1.0 §2: the person confirms, so a link cannot sign anybody
 * out), the page after a logout without a post_logout_redirect_uri, and the error page of requests that cannot be
 * answered to the application (an unregistered redirect_uri or post_logout_redirect_uri: RFC 6749 §4.1.2.1 forbids
 * redirecting those). The logout form is oidc-provider's own (its action and its xsrf field), taken as it is.
 */
import type { KoaContextWithOIDC } from 'oidc-provider';
import { html, raw, type SafeHtml } from './html.js';
import { errorBody, PAGE_HEADERS, pageHtml } from './layout.js';
import { text } from './texts.js';

function send(ctx: KoaContextWithOIDC, title: string, body: SafeHtml): void {
  ctx.set(PAGE_HEADERS);
  ctx.type = 'html';
  ctx.body = pageHtml(title, body);
}

/** `features.rpInitiatedLogout.logoutSource`. */
export function logoutSource(ctx: KoaContextWithOIDC, form: string): void {
  const application = ctx.oidc.client?.clientName ?? ctx.oidc.client?.clientId;
  const question = application ? text('logout.question', { application }) : text('logout.questionNoApp');
  send(
    ctx,
    text('logout.title'),
    html`<p>${question}</p>${raw(form)}
<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>${text('logout.yes')}</button>
<button type="submit" form="op.logoutForm" class="secondary">${text('logout.no')}</button>`,
  );
}

/** `features.rpInitiatedLogout.postLogoutSuccessSource`. */
export function postLogoutSuccessSource(ctx: KoaContextWithOIDC): void {
  send(ctx, text('logout.done.title'), html`<p>${text('logout.done')}</p>`);
}

/**
 * `renderError`: the OAuth error code and its description (oidc-provider exposes a description only for client
 * errors; a server error is `server_error` with a generic text), escaped.
 */
export function renderProviderError(ctx: KoaContextWithOIDC, out: { error: string; error_description?: string }): void {
  const detail = out.error === 'server_error' ? undefined : out.error_description;
  send(
    ctx,
    text('error.title'),
    html`${errorBody(out.error === 'server_error' ? 'error.generic' : 'error.request', {}, out.error)}${
      detail === undefined ? '' : html`<p class="hint">${text('error.detail', { detail })}</p>`
    }`,
  );
}
