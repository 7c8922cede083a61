/**
 * The pages of federated login: its error pages and the JIT prompts (WSO2's "prompt for username, password and
 * consent", "prompt for password and consent", "prompt for consent"). In the sign-in pages' layout
 * (src/http/pages/layout.ts), every text from src/http/pages/texts.ts; nothing of a token, of an internal error, or
 * of a claim the person is not being asked about reaches a page.
 */
import type { Response } from 'express';
import type { JitFailureReason, JitOutcome } from '../../federation/jit-types.js';
import type { FederationFailure } from '../../federation/relying-party.js';
import { html } from '../pages/html.js';
import { errorBlock, sendPage } from '../pages/layout.js';
import { isTextKey, text } from '../pages/texts.js';

/** An attribute's name for people (the texts module's), or its SCIM path when it has none. */
function attributeLabel(attribute: string): string {
  const key = `jit.attribute.${attribute}`;
  return isTextKey(key) ? text(key) : attribute;
}

export type FederationErrorKey = FederationFailure | 'idp_unknown' | 'login_expired' | 'unavailable' | 'unexpected';

export interface FederationPages {
  error(res: Response, status: number, key: FederationErrorKey, details?: { idpName?: string; idpError?: { error: string; description?: string | undefined } | undefined }): void;
  /** The page of a JIT refusal: its text by reason (the workflow's own message goes to the log, not the page). */
  jitFailure(res: Response, reason: JitFailureReason): void;
  prompt(res: Response, args: { action: string; csrf: string; outcome: Extract<JitOutcome, { state: 'prompt' }> }, status?: number): void;
}

/** The HTTP status of a JIT refusal: the person's own doing or the rules (403), bad claims (400), a system (502). */
const jitStatus = (reason: JitFailureReason) =>
  reason === 'provisioning_failed' || reason === 'target_failed' ? 502 : reason === 'invalid_claims' ? 400 : 403;

export const federationPages: FederationPages = {
  error(res, status, key, details) {
    const idpError = details?.idpError;
    const said = idpError
      ? idpError.description
        ? text('federation.idpSaidMore', { error: idpError.error, description: idpError.description })
        : text('federation.idpSaid', { error: idpError.error })
      : undefined;
    const body = html`${errorBlock(text(`federation.${key}`, { idp: details?.idpName ?? text('federation.theIdp') }))}${said === undefined ? '' : html`<p class="hint">${said}</p>`}<p>${text('federation.whatNow')}</p>`;
    sendPage(res, status, text(`federation.${key}.title`), body);
  },

  jitFailure(res, reason) {
    const body = html`${errorBlock(text(`jit.${reason}`))}<p>${text('federation.whatNow')}</p>`;
    sendPage(res, jitStatus(reason), text(`jit.${reason}.title`), body);
  },

  prompt(res, { action, csrf, outcome }, status = 200) {
    const kind = outcome.prompt;
    const userName =
      kind === 'username_password_consent'
        ? html`<label for="userName">${text('jit.prompt.userName')}</label><input type="text" id="userName" name="userName" autocomplete="username" required maxlength="255" value="${outcome.suggestedUserName}">`
        : '';
    const password =
      kind === 'consent'
        ? ''
        : html`<label for="password">${text('jit.prompt.password')}</label><input type="password" id="password" name="password" autocomplete="new-password" required maxlength="1024">`;
    const attributes =
      outcome.attributes.length === 0
        ? ''
        : html`<p>${text('jit.prompt.attributes')}</p><ul>${outcome.attributes.map((a) => html`<li><strong>${attributeLabel(a.attribute)}</strong>: ${a.value}</li>`)}</ul>`;
    // The refusal in the texts module's words; the detail (the username rules', the password policy's) below it.
    const refusal =
      outcome.errorCode === undefined
        ? errorBlock(outcome.error)
        : html`${errorBlock(text(`jit.prompt.error.${outcome.errorCode}`))}${outcome.errorCode === 'username_taken' || outcome.error === undefined ? '' : html`<p class="hint">${text('jit.prompt.error.detail', { detail: outcome.error })}</p>`}`;
    const body = html`${refusal}<p>${text(`jit.prompt.${kind}`, { userName: outcome.suggestedUserName })}</p>${attributes}
<form method="post" action="${action}">
<input type="hidden" name="csrf" value="${csrf}">
<input type="hidden" name="consent" value="yes">
${userName}${password}
<p class="hint">${text('jit.prompt.agree')}</p>
<button type="submit">${text('jit.prompt.submit')}</button>
</form>
<form method="post" action="${action}">
<input type="hidden" name="csrf" value="${csrf}">
<input type="hidden" name="consent" value="no">
<button type="submit" class="secondary">${text('jit.prompt.decline')}</button>
</form>`;
    sendPage(res, status, text(`jit.prompt.${kind}.title`), body);
  },
};
