/**
 * Where the sign-in pages live, WSO2's paths so a WSO2-shaped reverse proxy or firewall rule fits:
 *
 *   /authenticationendpoint/login.do?sessionDataKey=<uid>         the login prompt: local form, IdP choice, or the
 *                                                                 hand-off to the application's identity provider
 *   /authenticationendpoint/oauth2_consent.do?sessionDataKey=<uid> the consent prompt
 *
 * `sessionDataKey` is WSO2's name for the sign-in's key (here oidc-provider's interaction uid). oidc-provider scopes
 * the interaction cookie to the page's path, so each prompt's page sees only its own interaction.
 */
export const PAGES_ROOT = '/authenticationendpoint';
export const LOGIN_PATH = `${PAGES_ROOT}/login.do`;
export const CONSENT_PATH = `${PAGES_ROOT}/oauth2_consent.do`;
/** The query parameter that names the sign-in (WSO2's). */
export const SESSION_KEY_PARAM = 'sessionDataKey';

/** The page of a prompt, for oidc-provider's `interactions.url`. */
export function promptPath(prompt: string, uid: string): string {
  const page = prompt === 'consent' ? CONSENT_PATH : LOGIN_PATH;
  return `${page}?${SESSION_KEY_PARAM}=${encodeURIComponent(uid)}`;
}
