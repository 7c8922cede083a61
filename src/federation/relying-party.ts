/**
 * The relying-party side of federated login (issue #9): this server sends a person to an external OpenID Provider
 * (an identity provider's OIDC federated authenticator, src/federation/config.ts) and validates what comes back,
 * with `openid-client` (certified, by the author of oidc-provider) doing the protocol:
 *
 * - every authorization request carries `state`, `nonce` and a PKCE S256 challenge (src/federation/requests.ts keeps
 *   them, single-use);
 * - the code exchange validates the ID token fully: signature and `alg` against the IdP's JWKS and the configured
 *   algorithm (`none` never), `iss`, `aud`, `azp`, `exp`, `iat` (with the configured clock tolerance), `nonce`;
 * - userinfo is fetched with the `sub` check (a different subject is refused), and merged so that the ID token's
 *   `email_verified` is never applied to a different userinfo email (Keycloak CVE-2026-9087);
 * - every answer from the IdP is bounded in time (10 s) and size (1 MiB): a slow or hostile IdP cannot hold a
 *   login, or the api, forever.
 *
 * Discovery documents (and so the JWKS location) are cached per identity provider for five minutes, and dropped when
 * the IdP's settings change (the cache key includes its last modification) or a login fails on them.
 */
import * as oidc from 'openid-client';
import type { StoredFederatedAuthenticator } from './config.js';
import type { FederatedClaims } from './jit-types.js';

/** The longest any call to an identity provider may take. */
const IDP_TIMEOUT_SECONDS = 10;
/** The most bytes an identity provider's answer may have (discovery, JWKS, token, userinfo). */
const MAX_IDP_RESPONSE_BYTES = 1024 * 1024;
const DISCOVERY_TTL_MS = 5 * 60_000;
/** The claims of one login, serialized, at most: they travel into a workflow. */
export const MAX_CLAIMS_BYTES = 64 * 1024;

/**
 * Why a federated login failed, in the words the login's error page chooses its text by. The message is for logs
 * (never a token's content); what the person sees comes from the page texts.
 */
export type FederationFailure =
  | 'idp_unavailable' // the IdP (or its discovery, JWKS, token endpoint) did not answer, or answered garbage
  | 'idp_refused' // the IdP answered the login with an error (access_denied, login_required, ...)
  | 'invalid_response' // the IdP's answer failed validation (ID token, state, nonce, userinfo subject)
  | 'misconfigured'; // the IdP's settings here cannot work (no authenticator, disabled, discovery issuer differs)

export class FederationError extends Error {
  override name = 'FederationError';
  constructor(
    readonly failure: FederationFailure,
    message: string,
    /** The OAuth error the IdP answered with, when it did (bounded, for the page and the log). */
    readonly idpError?: { error: string; description?: string | undefined } | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** An identity provider's authenticator, as the relying party needs it: its secret opened. */
export interface RelyingPartyIdp {
  id: string;
  name: string;
  /** Changes whenever the IdP's settings do (its updatedAt): the configuration cache's key. */
  revision: string;
  authenticator: Omit<StoredFederatedAuthenticator, 'clientSecretSealed'> & { clientSecret?: string | undefined };
}

const isLoopbackHttp = (url: string) => new URL(url).protocol === 'http:';

/** fetch with the IdP bounds: a timeout, and a body read up to MAX_IDP_RESPONSE_BYTES. */
const boundedFetch: typeof fetch = async (input, init) => {
  const response = await fetch(input, { ...init, redirect: 'manual', signal: AbortSignal.timeout(IDP_TIMEOUT_SECONDS * 1000) });
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > MAX_IDP_RESPONSE_BYTES) throw new TypeError(`the identity provider's answer is too large (${declared} bytes)`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of (response.body ?? []) as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > MAX_IDP_RESPONSE_BYTES) {
      throw new TypeError(`the identity provider's answer is larger than ${MAX_IDP_RESPONSE_BYTES} bytes`);
    }
    chunks.push(Buffer.from(chunk));
  }
  return new Response(response.body ? Buffer.concat(chunks) : null, { status: response.status, statusText: response.statusText, headers: response.headers });
};

function clientAuth(a: RelyingPartyIdp['authenticator']): oidc.ClientAuth {
  if (a.clientAuthMethod === 'none') return oidc.None();
  if (a.clientAuthMethod === 'client_secret_post') return oidc.ClientSecretPost(a.clientSecret);
  return oidc.ClientSecretBasic(a.clientSecret);
}

function tune(config: oidc.Configuration, a: RelyingPartyIdp['authenticator']): oidc.Configuration {
  config.timeout = IDP_TIMEOUT_SECONDS;
  config[oidc.customFetch] = boundedFetch;
  // openid-client skips the ID token's signature check for tokens from the token endpoint (TLS vouches for them,
  // OIDC Core §3.1.3.7 item 6): issue #9 asks for the signature and its alg to be checked against the IdP's JWKS.
  oidc.enableNonRepudiationChecks(config);
  // http is accepted only for loopback issuers (src/federation/config.ts endpointUrl): development and tests.
  if (isLoopbackHttp(a.issuer)) oidc.allowInsecureRequests(config);
  return config;
}

async function configure(idp: RelyingPartyIdp): Promise<oidc.Configuration> {
  const a = idp.authenticator;
  const metadata: Partial<oidc.ClientMetadata> = { id_token_signed_response_alg: a.idTokenSignedResponseAlg, [oidc.clockTolerance]: a.clockToleranceSeconds };
  if (!a.discovery) {
    const server: oidc.ServerMetadata = {
      issuer: a.issuer,
      authorization_endpoint: a.authorizationEndpoint,
      token_endpoint: a.tokenEndpoint,
      jwks_uri: a.jwksUri,
      ...(a.userinfoEndpoint !== undefined && { userinfo_endpoint: a.userinfoEndpoint }),
      ...(a.endSessionEndpoint !== undefined && { end_session_endpoint: a.endSessionEndpoint }),
    };
    return tune(new oidc.Configuration(server, a.clientId, metadata, clientAuth(a)), a);
  }
  try {
    const config = await oidc.discovery(new URL(a.issuer), a.clientId, metadata, clientAuth(a), {
      timeout: IDP_TIMEOUT_SECONDS,
      [oidc.customFetch]: boundedFetch,
      ...(isLoopbackHttp(a.issuer) && { execute: [oidc.allowInsecureRequests] }),
    });
    return tune(config, a);
  } catch (err) {
    // openid-client checks that the document's issuer is the one asked for (OIDC Discovery §4.3).
    if (err instanceof oidc.ClientError && err.code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED') {
      throw new FederationError('misconfigured', `discovery at ${a.issuer} names another issuer`, undefined, { cause: err });
    }
    throw new FederationError('idp_unavailable', `discovery at ${a.issuer} failed: ${describe(err)}`, undefined, { cause: err });
  }
}

function describe(err: unknown): string {
  if (err instanceof oidc.ClientError) return `${err.code ?? 'client error'}: ${err.message}`;
  if (err instanceof Error) return err.name === 'TimeoutError' ? 'timed out' : err.message;
  return String(err);
}

const bounded = (value: unknown, max = 200): string | undefined =>
  // eslint-disable-next-line no-control-regex -- control characters are what this removes
  typeof value === 'string' && value !== '' ? value.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, max) : undefined;

/**
 * Merges userinfo into the ID token's claims. The ID token's `sub` stays (userinfo's was checked equal). Keycloak
 * CVE-2026-9087: when userinfo names another email than the ID token, the ID token's `email_verified` (which was
 * about the ID token's email) is not carried over: the email is verified only if userinfo itself says so.
 */
export function mergeUserinfo(idToken: Record<string, unknown>, userinfo: Record<string, unknown> | undefined): FederatedClaims {
  const claims: FederatedClaims = { ...idToken };
  if (!userinfo) return claims;
  for (const [name, value] of Object.entries(userinfo)) {
    if (name === 'sub') continue;
    claims[name] = value;
  }
  if (userinfo.email !== undefined && userinfo.email !== idToken.email) {
    claims.email_verified = userinfo.email_verified === true;
  }
  // Only the registered claims of the ID token itself mean nothing to JIT; dropped so they never reach a user.
  for (const name of ['aud', 'azp', 'exp', 'iat', 'nbf', 'nonce', 'at_hash', 'c_hash', 'auth_time', 'sid', 'jti']) delete claims[name];
  return claims;
}

export class RelyingParty {
  private readonly configs = new Map<string, { at: number; config: Promise<oidc.Configuration> }>();

  constructor(
    /** This server's callback: `${PUBLIC_BASE_URL}/commonauth`, as WSO2's. */
    readonly callbackUrl: string,
    private readonly now: () => number = Date.now,
  ) {}

  private config(idp: RelyingPartyIdp): Promise<oidc.Configuration> {
    const key = `${idp.id}@${idp.revision}`;
    const cached = this.configs.get(key);
    if (cached && this.now() - cached.at < DISCOVERY_TTL_MS) return cached.config;
    this.forget(idp);
    const config = configure(idp);
    this.configs.set(key, { at: this.now(), config });
    config.catch(() => this.configs.delete(key));
    return config;
  }

  /** Forgets an IdP's discovered configuration (after a login failed on it: its keys may have rotated). */
  forget(idp: RelyingPartyIdp): void {
    for (const k of this.configs.keys()) if (k.startsWith(`${idp.id}@`)) this.configs.delete(k);
  }

  /** The URL to send the person to: the IdP's authorization endpoint with state, nonce and PKCE. */
  async authorizationUrl(idp: RelyingPartyIdp, binding: { state: string; nonce: string; codeChallenge: string }): Promise<URL> {
    const config = await this.config(idp);
    const a = idp.authenticator;
    return oidc.buildAuthorizationUrl(config, {
      ...a.additionalQueryParameters,
      redirect_uri: this.callbackUrl,
      response_type: 'code',
      scope: a.scopes.join(' '),
      state: binding.state,
      nonce: binding.nonce,
      code_challenge: binding.codeChallenge,
      code_challenge_method: 'S256',
    });
  }

  /**
   * Validates a callback and exchanges its code: the ID token's claims merged with userinfo's. `query` is the
   * callback's query string as received. Throws FederationError.
   */
  async complete(
    idp: RelyingPartyIdp,
    query: URLSearchParams,
    binding: { state: string; nonce: string; codeVerifier: string },
  ): Promise<{ claims: FederatedClaims; issuer: string; subject: string }> {
    const error = query.get('error');
    if (error !== null) {
      throw new FederationError('idp_refused', `${idp.name} answered ${bounded(error, 64)}`, {
        error: bounded(error, 64) ?? 'error',
        description: bounded(query.get('error_description')),
      });
    }
    const config = await this.config(idp);
    const currentUrl = new URL(this.callbackUrl);
    currentUrl.search = query.toString();
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(config, currentUrl, {
        pkceCodeVerifier: binding.codeVerifier,
        expectedState: binding.state,
        expectedNonce: binding.nonce,
        idTokenExpected: true,
      });
    } catch (err) {
      this.forget(idp);
      throw failureOf(idp, 'code exchange', err);
    }
    const idClaims = tokens.claims();
    if (!idClaims) throw new FederationError('invalid_response', `${idp.name} answered without an ID token`);
    // openid-client checks exp and nbf, and that iat is a number; an ID token issued in the future is refused here
    // (OIDC Core §3.1.3.7 item 10: iat limits how long nonces must be kept; one from the future breaks that bound).
    if (idClaims.iat > this.now() / 1000 + idp.authenticator.clockToleranceSeconds) {
      throw new FederationError('invalid_response', `${idp.name}'s ID token was issued ${Math.round(idClaims.iat - this.now() / 1000)} s in the future`);
    }
    let userinfo: Record<string, unknown> | undefined;
    if (idp.authenticator.useUserinfo && config.serverMetadata().userinfo_endpoint) {
      try {
        userinfo = await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub);
      } catch (err) {
        throw failureOf(idp, 'userinfo', err);
      }
    }
    const claims = mergeUserinfo(idClaims, userinfo);
    const size = Buffer.byteLength(JSON.stringify(claims));
    if (size > MAX_CLAIMS_BYTES) throw new FederationError('invalid_response', `${idp.name} asserted ${size} bytes of claims (at most ${MAX_CLAIMS_BYTES})`);
    return { claims, issuer: idClaims.iss, subject: idClaims.sub };
  }
}

function failureOf(idp: RelyingPartyIdp, step: string, err: unknown): FederationError {
  if (err instanceof FederationError) return err;
  // The IdP answered with an OAuth error body (invalid_grant for a used code, invalid_client, ...).
  if (err instanceof oidc.ResponseBodyError) {
    return new FederationError('idp_refused', `${idp.name} refused the ${step}: ${err.error}`, { error: bounded(err.error, 64) ?? 'error', description: bounded(err.error_description) }, { cause: err });
  }
  if (err instanceof oidc.AuthorizationResponseError) {
    return new FederationError('idp_refused', `${idp.name} answered ${err.error}`, { error: bounded(err.error, 64) ?? 'error', description: bounded(err.error_description) }, { cause: err });
  }
  // openid-client's own checks (signature, alg, iss, aud, azp, exp, iat, nonce, state, userinfo sub, JSON shape).
  if (err instanceof oidc.ClientError) {
    const network = err.code === 'OAUTH_RESPONSE_IS_NOT_JSON' || err.code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' || err.code === 'OAUTH_HTTP_REQUEST_FORBIDDEN';
    return new FederationError(network ? 'idp_unavailable' : 'invalid_response', `${step} with ${idp.name}: ${describe(err)}`, undefined, { cause: err });
  }
  return new FederationError('idp_unavailable', `${step} with ${idp.name}: ${describe(err)}`, undefined, { cause: err });
}
