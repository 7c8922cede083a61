/**
 * Every text of the sign-in pages, in one place so they can be translated (src/http/pages/): one flat table of
 * keys to English strings, grouped by page. `{name}` marks a value filled in by `text(key, { name })`; values are
 * HTML-escaped by the layout, never trusted as markup. To add texts (a new page, the JIT prompts), add keys here;
 * `TextKey` picks them up and every caller is checked against it.
 *
 * @example
 *   text('login.locked', { seconds: 300 }) // "This account is locked after too many failed sign-ins. ..."
 */
export const TEXTS = {
  'page.lang': 'en',
  'page.product': 'Identity Server',

  'login.title': 'Sign in',
  'login.intro': 'Sign in to continue to {application}.',
  'login.username': 'Username',
  'login.usernameHint': 'For a user of a secondary user store: DOMAIN/name',
  'login.password': 'Password',
  'login.submit': 'Sign in',
  'login.invalid': 'The username or password is not correct.',
  'login.missing': 'Enter your username and password.',
  'login.throttled': 'Too many failed sign-ins from this address. Try again in {seconds} seconds.',
  'login.locked': 'This account is locked after too many failed sign-ins. Try again in {seconds} seconds, or ask an administrator to unlock it.',
  'login.notPermitted': 'This account cannot sign in to this application.',

  'choice.title': 'Choose how to sign in',
  'choice.intro': 'Sign in to continue to {application} with:',
  'choice.idp': 'Continue with {idp}',
  'choice.or': 'Or sign in with a local account',

  'consent.title': 'Allow access',
  'consent.intro': '{application} asks for access to your account:',
  'consent.scope.openid': 'Your user identifier',
  'consent.scope.profile': 'Your profile: username, name, locale',
  'consent.scope.email': 'Your email address and whether it is verified',
  'consent.scope.groups': 'The names of your groups',
  'consent.scope.offline_access': 'Staying signed in to the application (refresh tokens)',
  'consent.scope.other': 'Access: {scope}',
  'consent.allow': 'Allow',
  'consent.deny': 'Deny',
  'consent.remembered': 'Your choice is remembered for this application while you stay signed in.',

  'logout.title': 'Sign out',
  'logout.question': 'Do you want to sign out of {application}?',
  'logout.questionNoApp': 'Do you want to sign out?',
  'logout.yes': 'Yes, sign me out',
  'logout.no': 'No, stay signed in',
  'logout.done.title': 'Signed out',
  'logout.done': 'You are signed out.',

  'error.title': 'Sign-in problem',
  'error.generic': 'Something went wrong. Go back to the application and try again.',
  'error.expired': 'This sign-in has expired or was already finished. Go back to the application and start again.',
  'error.csrf': 'This form was not sent from this sign-in page, or it has expired. Go back to the application and start again.',
  'error.methodUnavailable': 'This sign-in method is not available.',
  'error.unknownIdp': 'This identity provider is not allowed for this application.',
  'error.request': 'The application sent an invalid sign-in request.',
  'error.code': 'Error code: {code}',
  'error.detail': 'Detail: {detail}',
  'error.notFound': 'There is no page here.',
} as const satisfies Record<string, string>;

export type TextKey = keyof typeof TEXTS;

/** The text of `key`, with `{name}` placeholders filled in from `values` (unknown placeholders are left as they are). */
export function text(key: TextKey, values: Record<string, string | number> = {}): string {
  return TEXTS[key].replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));
}

/** Whether a string is a text key (for keys that come from data, e.g. a scope name). */
export function isTextKey(key: string): key is TextKey {
  return Object.hasOwn(TEXTS, key);
}
