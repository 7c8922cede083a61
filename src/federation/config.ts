/**
 * Federated login settings (issue #9), in WSO2's vocabulary, validated in one place:
 *
 * - an identity provider's **OIDC federated authenticator** (WSO2: "Federated Authenticators > OAuth2/OpenID Connect
 *   Configuration"), stored in `identity_provider.federated_auth` with the client secret sealed by the keyring;
 * - its **JIT provisioning** settings (WSO2: "Just-in-Time Provisioning"), stored in `identity_provider.jit`;
 * - an application's **login method** (local, one identity provider, or a choice page), in `application.login_method`.
 *
 * Pure: no I/O, so workflows may import the types and the defaults.
 */
import { z } from 'zod';

/** Every list a client can send here has a bound (issue #8). */
const MAX_LIST = 100;
const shortText = z.string().trim().min(1).max(255);

/**
 * An endpoint of an identity provider: https, or http on a loopback host (development and tests only; an IdP on
 * plain http anywhere else would hand its codes and tokens to anyone on the path).
 */
export const endpointUrl = z
  .string()
  .max(2048)
  .url()
  .refine(
    (value) => {
      const url = new URL(value);
      if (url.protocol === 'https:') return true;
      return url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
    },
    { message: 'expected an https URL (http only on localhost, 127.0.0.1 or [::1])' },
  )
  .refine((value) => new URL(value).hash === '', { message: 'an endpoint URL has no #fragment' });

/** Client authentication at the IdP's token endpoint (RFC 7591 names, as openid-client calls them). */
export const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'none'] as const;

/** ID token signature algorithms an IdP may be configured to use; `none` and HMAC with a guessable key never. */
export const ID_TOKEN_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

/** Query parameters the server sets itself: an operator's `additionalQueryParameters` may not override them. */
const RESERVED_PARAMS = new Set([
  'client_id',
  'redirect_uri',
  'response_type',
  'scope',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'response_mode',
  'request',
  'request_uri',
]);

/**
 * `identityProvider.federatedAuthenticator` in the admin API. Either `issuer` alone (its discovery document gives
 * the endpoints, and its `issuer` must equal this value), or `discovery: false` with the endpoints given.
 *
 * @example
 *   { "issuer": "https://is2.example.com/oauth2/token", "clientId": "is1", "clientSecret": "…",
 *     "scopes": ["openid", "profile", "email", "groups"] }
 */
export const federatedAuthenticatorInput = z
  .object({
    enabled: z.boolean().default(true),
    clientId: shortText,
    /** Write-only: answered masked; on PATCH, absent keeps the stored one. */
    clientSecret: z.string().min(1).max(1024).optional(),
    clientAuthMethod: z.enum(CLIENT_AUTH_METHODS).default('client_secret_basic'),
    issuer: endpointUrl,
    discovery: z.boolean().default(true),
    authorizationEndpoint: endpointUrl.optional(),
    tokenEndpoint: endpointUrl.optional(),
    userinfoEndpoint: endpointUrl.optional(),
    jwksUri: endpointUrl.optional(),
    endSessionEndpoint: endpointUrl.optional(),
    scopes: z
      .array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/, { message: 'a scope is 1 to 128 printable ASCII characters, no space, quote or backslash' }))
      .max(MAX_LIST)
      .default(['openid', 'profile', 'email'])
      .refine((s) => s.includes('openid'), { message: 'scopes must include openid' })
      .transform((s) => [...new Set(s)]),
    idTokenSignedResponseAlg: z.enum(ID_TOKEN_ALGS).default('RS256'),
    /** Call the userinfo endpoint after the code exchange (its `sub` must equal the ID token's). */
    useUserinfo: z.boolean().default(true),
    /** WSO2's "Additional Query Parameters" (e.g. `prompt=login`), never one the server sets itself. */
    additionalQueryParameters: z
      .record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/), z.string().max(512))
      .default({})
      .refine((p) => Object.keys(p).length <= 20, { message: 'at most 20 additional query parameters' })
      .refine((p) => Object.keys(p).every((k) => !RESERVED_PARAMS.has(k)), { message: `these are set by the server: ${[...RESERVED_PARAMS].join(', ')}` }),
    /** The most seconds an ID token's `iat` may be ahead of this server's clock. */
    clockToleranceSeconds: z.number().int().min(0).max(300).default(30),
  })
  .strict()
  .refine((v) => v.discovery || (v.authorizationEndpoint !== undefined && v.tokenEndpoint !== undefined && v.jwksUri !== undefined), {
    message: 'without discovery, give authorizationEndpoint, tokenEndpoint and jwksUri',
  })
  .refine((v) => v.clientAuthMethod === 'none' || v.clientSecret !== undefined, {
    message: 'clientSecret is required unless clientAuthMethod is none',
    path: ['clientSecret'],
  });
export type FederatedAuthenticatorInput = z.infer<typeof federatedAuthenticatorInput>;

/** What `identity_provider.federated_auth` holds: the input with the client secret sealed (never in clear). */
export type StoredFederatedAuthenticator = Omit<FederatedAuthenticatorInput, 'clientSecret'> & { clientSecretSealed?: string | undefined };

/** WSO2's four JIT provisioning schemes (its radio buttons), in this server's API spelling. */
export const JIT_SCHEMES = ['provision_silently', 'prompt_username_password_consent', 'prompt_password_consent', 'prompt_consent'] as const;
export type JitScheme = (typeof JIT_SCHEMES)[number];

/** Attribute sync on re-login (WSO2's "Attribute sync method"). */
export const ATTRIBUTE_SYNC_MODES = ['OVERRIDE_ALL', 'SYNC_NONE', 'PRESERVE_LOCAL'] as const;
export type AttributeSyncMode = (typeof ATTRIBUTE_SYNC_MODES)[number];

/**
 * Local SCIM attributes a claim may be mapped to: the core User attributes JIT can set (multi-valued ones take the
 * claim as their primary value). Kept to what a login can reasonably assert; extensions are left to outbound mapping.
 */
export const JIT_ATTRIBUTES = [
  'userName',
  'externalId',
  'displayName',
  'nickName',
  'profileUrl',
  'title',
  'userType',
  'preferredLanguage',
  'locale',
  'timezone',
  'name.formatted',
  'name.givenName',
  'name.familyName',
  'name.middleName',
  'emails',
  'phoneNumbers',
  'photos',
] as const;
export type JitAttribute = (typeof JIT_ATTRIBUTES)[number];

/** The standard OIDC claims (OIDC Core §5.1) and where they go when the operator maps nothing. */
export const DEFAULT_CLAIM_MAPPINGS: ReadonlyArray<{ claim: string; attribute: JitAttribute }> = [
  { claim: 'preferred_username', attribute: 'userName' },
  { claim: 'name', attribute: 'displayName' },
  { claim: 'name', attribute: 'name.formatted' },
  { claim: 'given_name', attribute: 'name.givenName' },
  { claim: 'family_name', attribute: 'name.familyName' },
  { claim: 'middle_name', attribute: 'name.middleName' },
  { claim: 'nickname', attribute: 'nickName' },
  { claim: 'profile', attribute: 'profileUrl' },
  { claim: 'picture', attribute: 'photos' },
  { claim: 'email', attribute: 'emails' },
  { claim: 'phone_number', attribute: 'phoneNumbers' },
  { claim: 'locale', attribute: 'locale' },
  { claim: 'zoneinfo', attribute: 'timezone' },
];

const claimName = z.string().regex(/^[A-Za-z0-9_:./-]{1,128}$/, { message: 'a claim name is 1 to 128 characters among A-Z a-z 0-9 _ : . / -' });

export const jitInput = z
  .object({
    enabled: z.boolean().default(true),
    scheme: z.enum(JIT_SCHEMES).default('provision_silently'),
    /** WSO2's "Provisioning User Store Domain": every JIT user goes here. */
    userStoreDomain: z
      .string()
      .trim()
      .min(1)
      .max(64)
      .transform((v) => v.toUpperCase())
      .default('PRIMARY'),
    /** Claims to local attributes; replaces the defaults when given (an empty list maps only the username). */
    claimMappings: z
      .array(z.object({ claim: claimName, attribute: z.enum(JIT_ATTRIBUTES) }).strict())
      .max(MAX_LIST)
      .optional(),
    /**
     * Claims tried in order for the local username; the first present wins. `sub` last by default: always present,
     * never pretty. Under prompt_username_password_consent the person chooses, this is only the suggestion.
     */
    userNameClaims: z.array(claimName).min(1).max(10).default(['preferred_username', 'email', 'sub']),
    attributeSync: z.enum(ATTRIBUTE_SYNC_MODES).default('OVERRIDE_ALL'),
    /**
     * Attributes the IdP owns: set from its claims at every login whatever attributeSync says (and removed when it
     * stops asserting them). What neither WSO2 nor Keycloak offers: e.g. OVERRIDE_ALL for nothing but the name.
     */
    idpOwnedAttributes: z.array(z.enum(JIT_ATTRIBUTES)).max(JIT_ATTRIBUTES.length).default([]),
    /**
     * Group claims to local groups, authoritatively: a membership this IdP gave and no longer asserts is removed at the
     * next login; memberships given locally are never touched. `mappings` names a local group per claim value;
     * values without a mapping are ignored unless `matchByName` (then a local group of that display name, in the JIT
     * user store domain, is used if it exists; none is ever created by a login).
     */
    groups: z
      .object({
        claim: claimName.default('groups'),
        mappings: z
          .array(z.object({ value: z.string().min(1).max(255), group: z.string().min(1).max(255) }).strict())
          .max(MAX_LIST)
          .default([]),
        matchByName: z.boolean().default(false),
      })
      .strict()
      .optional(),
    /**
     * Associate an existing local user whose email matches: only when the IdP says `email_verified` for that very
     * email, the local user's email is verified too, and this is on. Off by default.
     */
    associateByVerifiedEmail: z.boolean().default(false),
    /**
     * Fail closed: when JIT provisioning or a blocking outbound target fails, the login fails with a page saying so
     * (on by default; WSO2 lets such logins through). Off: the person logs in with the local user as it stands.
     */
    failClosed: z.boolean().default(true),
    /** How long a prompt waits for the person's answer before the login is abandoned (and nothing is created). */
    promptTimeoutSeconds: z.number().int().min(30).max(3600).default(600),
  })
  .strict();
export type JitSettings = z.infer<typeof jitInput>;

/** The settings in force when `identity_provider.jit` is null: JIT off (an unknown user cannot log in). */
export const JIT_OFF: JitSettings = jitInput.parse({ enabled: false });

/** The claim mappings in force: the operator's, or the defaults. */
export function claimMappingsOf(settings: JitSettings): ReadonlyArray<{ claim: string; attribute: JitAttribute }> {
  return settings.claimMappings ?? DEFAULT_CLAIM_MAPPINGS;
}

/**
 * An application's login method. `local`: this server's login page (its user store). `federated`: straight to one
 * identity provider. `choice`: a page listing the allowed identity providers (and the local login when `local`).
 * Whatever the method, an authorization request with WSO2's `fidp=<home realm identifier>` goes straight to that
 * IdP if the method allows it.
 */
export const loginMethodInput = z.discriminatedUnion('type', [
  z.object({ type: z.literal('local') }).strict(),
  z.object({ type: z.literal('federated'), identityProvider: shortText }).strict(),
  z
    .object({
      type: z.literal('choice'),
      identityProviders: z.array(shortText).min(1).max(20),
      local: z.boolean().default(true),
    })
    .strict(),
]);
export type LoginMethod = z.infer<typeof loginMethodInput>;

export const LOCAL_LOGIN: LoginMethod = { type: 'local' };

/** The identity provider names a login method allows (empty for local). */
export function allowedIdentityProviders(method: LoginMethod): string[] {
  return method.type === 'federated' ? [method.identityProvider] : method.type === 'choice' ? method.identityProviders : [];
}

/** Whether a login method offers this server's own login form. */
export function allowsLocalLogin(method: LoginMethod): boolean {
  return method.type === 'local' || (method.type === 'choice' && method.local);
}
