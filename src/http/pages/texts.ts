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
  'consent.remembered': 'Your choice is remembered for this application; an administrator can withdraw it.',

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
  // Federated sign-in (src/http/federation/): its error pages and the JIT prompts.
  'federation.theIdp': 'the identity provider',
  'federation.idpSaid': 'The identity provider said: {error}',
  'federation.idpSaidMore': 'The identity provider said: {error} ({description})',
  'federation.whatNow': 'Go back to the application and sign in again. If this keeps happening, tell your administrator.',
  'federation.idp_unknown.title': 'Sign-in method not available',
  'federation.idp_unknown': 'This sign-in method is not available.',
  'federation.login_expired.title': 'This sign-in has expired',
  'federation.login_expired': 'This sign-in link has expired, was already used, or was opened in another browser.',
  'federation.idp_unavailable.title': 'Identity provider unavailable',
  'federation.idp_unavailable': '{idp} could not be reached, or answered something this server cannot use.',
  'federation.idp_refused.title': 'Sign-in refused',
  'federation.idp_refused': '{idp} did not sign you in.',
  'federation.invalid_response.title': 'Sign-in could not be verified',
  'federation.invalid_response': 'The answer from {idp} could not be verified, so you were not signed in.',
  'federation.misconfigured.title': 'Sign-in method misconfigured',
  'federation.misconfigured': 'Signing in with {idp} is not set up correctly on this server.',
  'federation.unavailable.title': 'Temporarily unavailable',
  'federation.unavailable': 'Signing in is temporarily unavailable. Try again in a minute.',
  'federation.unexpected.title': 'Something went wrong',
  'federation.unexpected': 'Something went wrong while signing you in.',

  'jit.jit_disabled.title': 'No account here',
  'jit.jit_disabled': 'You signed in at your identity provider, but there is no account for you here, and accounts are not created automatically.',
  'jit.username_taken.title': 'Account name in use',
  'jit.username_taken': 'An account with your username already exists here and is not linked to your identity provider account. An administrator can link them.',
  'jit.invalid_claims.title': 'Account could not be created',
  'jit.invalid_claims': 'Your identity provider did not send what is needed to create your account here.',
  'jit.inactive.title': 'Account disabled',
  'jit.inactive': 'Your account here is disabled.',
  'jit.declined.title': 'Sign-in cancelled',
  'jit.declined': 'You declined, so no account was created and you were not signed in.',
  'jit.abandoned.title': 'Sign-in timed out',
  'jit.abandoned': 'The sign-in waited too long for your answer and was cancelled. Nothing was created.',
  'jit.target_failed.title': 'Account could not be set up',
  'jit.target_failed': 'Your account could not be set up in a connected system, so you were not signed in. Nothing was kept.',
  'jit.provisioning_failed.title': 'Account could not be created',
  'jit.provisioning_failed': 'Your account could not be created here.',

  'jit.prompt.username_password_consent.title': 'Create your account',
  'jit.prompt.username_password_consent': 'This is your first sign-in here. Choose a username and a password for your new account.',
  'jit.prompt.password_consent.title': 'Choose a password',
  'jit.prompt.password_consent': 'This is your first sign-in here. Choose a password for your new account, {userName}.',
  'jit.prompt.consent.title': 'Allow account creation',
  'jit.prompt.consent': 'This is your first sign-in here. An account {userName} will be created for you.',
  'jit.prompt.attributes': 'These details from your identity provider will be stored:',
  'jit.prompt.userName': 'Username',
  'jit.prompt.password': 'Password',
  'jit.prompt.agree': 'I agree that an account is created here with these details.',
  'jit.prompt.submit': 'Continue',
  'jit.prompt.decline': 'Decline',
  'jit.prompt.error.username_taken': 'That username is already taken here. Choose another.',
  'jit.prompt.error.username_invalid': 'That username cannot be used here. Choose another.',
  'jit.prompt.error.password_refused': 'That password is not accepted here. Choose another.',
  'jit.prompt.error.answer_refused': 'Your answer could not be used. Check it and try again.',
  'jit.prompt.error.detail': 'Detail: {detail}',
  // What the consent prompt calls each attribute JIT may store (src/federation/config.ts JIT_ATTRIBUTES).
  'jit.attribute.userName': 'Username',
  'jit.attribute.externalId': 'External identifier',
  'jit.attribute.displayName': 'Display name',
  'jit.attribute.nickName': 'Nickname',
  'jit.attribute.profileUrl': 'Profile page',
  'jit.attribute.title': 'Title',
  'jit.attribute.userType': 'User type',
  'jit.attribute.preferredLanguage': 'Preferred language',
  'jit.attribute.locale': 'Locale',
  'jit.attribute.timezone': 'Time zone',
  'jit.attribute.name.formatted': 'Full name',
  'jit.attribute.name.givenName': 'Given name',
  'jit.attribute.name.familyName': 'Family name',
  'jit.attribute.name.middleName': 'Middle name',
  'jit.attribute.emails': 'Email',
  'jit.attribute.phoneNumbers': 'Phone number',
  'jit.attribute.photos': 'Photo',
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
