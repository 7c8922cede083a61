/**
 * A hand-made OpenID Provider for the federated-login negative tests (issue #9): it behaves like a real IdP until a
 * test tells it to misbehave in one named way, so each test shows the server refusing exactly that fault.
 *
 * Endpoints, at `http://127.0.0.1:<port>` (the issuer, no path):
 *  - GET /.well-known/openid-configuration: OIDC Discovery 1.0 §3 metadata (code flow, S256, client_secret_basic and
 *    client_secret_post, RS256, `authorization_response_iss_parameter_supported`).
 *  - GET /jwks: the one RS256 public key it signs with.
 *  - GET /authorize: checks client_id, the exact redirect_uri (a mismatch is a 400 page, never a redirect: RFC 6749
 *    §4.1.2.1), response_type=code and PKCE (S256 only, RFC 7636 §4.3), then redirects straight back (no login page)
 *    with `code`, `state` and `iss` (RFC 9207), or with an error when told to.
 *  - POST /token: the authorization_code grant with client authentication (client_secret_basic, RFC 6749 §2.3.1
 *    form-encoding, or client_secret_post), the code single-use and bound to client and redirect_uri, the
 *    code_verifier checked against the code_challenge; errors as RFC 6749 §5.2.
 *  - GET|POST /userinfo: Bearer access token (RFC 6750), the claims the ID token was issued with.
 *
 * Faults (`fault(name)`, one at a time; `fault('none')` or `fault()` clears) are listed in `HostileFault`. Every
 * request is recorded in `requests` (client secrets never: only which method was used and whether it matched).
 *
 * @example
 *   const idp = await startHostileIdp({ clientId: 'is1', clientSecret: 's3cret', redirectUri: `${base}/commonauth` });
 *   idp.claims({ sub: 'u-1', email: 'u1@example.com', email_verified: true });
 *   await idp.fault('wrongAudience');
 *   // ... log in through the server; expect its error page and no user
 *   expect(idp.requests.token[0]!.clientAuth).toBe('client_secret_basic');
 *   await idp.stop();
 */
import crypto from 'node:crypto';
import http from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { freePort, loopbackServer } from './ports.js';

/** One way to misbehave. Each names what a relying party must refuse (or, for the last two, what it must check itself). */
export type HostileFault =
  | 'none'
  /** ID token signed by another key under the JWKS key's `kid`: the signature does not verify. */
  | 'badSignature'
  /** ID token signed by a key whose `kid` is not in the JWKS at all. */
  | 'unknownKey'
  /** `aud` is another client. */
  | 'wrongAudience'
  /** `iss` is another issuer. */
  | 'wrongIssuer'
  /** `exp` an hour ago (and `iat` two hours ago). */
  | 'expired'
  /** `iat` an hour from now (and `exp` two hours from now). */
  | 'issuedInFuture'
  /** `nonce` is not the one of the authorization request. */
  | 'nonceMismatch'
  /** No `nonce` although the authorization request sent one. */
  | 'nonceMissing'
  /** An unsecured JWT (`alg: none`, empty signature). */
  | 'algNone'
  /** `aud` is [client, other] and `azp` is the other one. */
  | 'multipleAudiencesWrongAzp'
  /** `aud` is [client, other] and there is no `azp`. */
  | 'multipleAudiencesNoAzp'
  /** Userinfo answers for another `sub` than the ID token's. */
  | 'userinfoOtherSubject'
  /** Userinfo answers another `email` (with `email_verified: true`) than the ID token's. */
  | 'userinfoOtherEmail'
  /** The token endpoint answers 400 invalid_grant. */
  | 'tokenInvalidGrant'
  /** The token endpoint answers 500 with a JSON server_error. */
  | 'tokenServerError'
  /** The token endpoint accepts the request and never answers. */
  | 'tokenHang'
  /** The token endpoint answers 200 with an HTML page. */
  | 'tokenNotJson'
  /** The authorization endpoint redirects back with `error=access_denied` (state kept). */
  | 'accessDenied'
  /** The port is closed: nothing listens (any other fault, or none, opens it again on the same port). */
  | 'down'
  /** The token endpoint accepts the same code more than once (the relying party must refuse a replayed callback). */
  | 'codeReplayable';

export interface AuthorizationRequestRecord {
  /** Every query parameter as received. */
  params: Record<string, string>;
  clientId?: string;
  redirectUri?: string;
  responseType?: string;
  scope?: string;
  state?: string;
  nonce?: string;
  codeChallenge?: string;
  codeChallengeMethod?: string;
  /** What the endpoint did: redirected with a code, redirected with an error, or refused with a page. */
  outcome: 'code' | 'error' | 'refused';
}

export interface TokenRequestRecord {
  grantType?: string;
  code?: string;
  redirectUri?: string;
  codeVerifier?: string;
  /** How the client authenticated ('none' when it sent no credentials; 'both' is refused as RFC 6749 §2.3 says). */
  clientAuth: 'client_secret_basic' | 'client_secret_post' | 'none' | 'both';
  clientId?: string;
  /** Whether the client id and secret matched. */
  clientAuthenticated: boolean;
  /** The status answered (undefined while hanging). */
  status?: number;
  /** The OAuth error answered, if any. */
  error?: string;
}

export interface UserinfoRequestRecord {
  /** Whether a Bearer token was sent and was one this IdP issued. */
  tokenValid: boolean;
  status: number;
}

export interface HostileIdpOptions {
  clientId: string;
  clientSecret: string;
  /** The one registered redirect URI (exact match). */
  redirectUri: string;
  /** Require PKCE S256 on every authorization request (default true). */
  requirePkce?: boolean;
}

export interface HostileIdp {
  /** `http://127.0.0.1:<port>`; discovery at `${issuer}/.well-known/openid-configuration`. */
  issuer: string;
  /** Sets the misbehaviour (one at a time; 'none' or nothing clears it). Async because 'down' closes the port. */
  fault(setting?: HostileFault): Promise<void>;
  /** Sets the claims of the next ID tokens and their userinfo (`sub` required; protocol claims are added). */
  claims(claims: { sub: string; [claim: string]: unknown }): void;
  /** Everything received, oldest first. */
  requests: { authorization: AuthorizationRequestRecord[]; token: TokenRequestRecord[]; userinfo: UserinfoRequestRecord[] };
  /** Forgets the recorded requests. */
  clearRequests(): void;
  stop(): Promise<void>;
}

const MAX_BODY = 64 * 1024;
const CODE_TTL_MS = 60_000;
const ID_TOKEN_TTL_S = 300;

interface IssuedCode {
  clientId: string;
  redirectUri: string;
  nonce: string | undefined;
  codeChallenge: string | undefined;
  expiresAt: number;
  used: boolean;
  scope: string;
}

export async function startHostileIdp(options: HostileIdpOptions): Promise<HostileIdp> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const requirePkce = options.requirePkce ?? true;
  const kid = crypto.randomUUID();
  const signing = await generateKeyPair('RS256', { extractable: true });
  const rogue = await generateKeyPair('RS256');
  const publicJwk: JWK = { ...(await exportJWK(signing.publicKey)), kid, alg: 'RS256', use: 'sig' };

  let current: HostileFault = 'none';
  let subjectClaims: { sub: string; [claim: string]: unknown } = { sub: 'hostile-user' };
  const codes = new Map<string, IssuedCode>();
  const accessTokens = new Map<string, { claims: Record<string, unknown>; expiresAt: number }>();
  const requests: HostileIdp['requests'] = { authorization: [], token: [], userinfo: [] };
  const hanging = new Set<http.ServerResponse>();

  function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      'content-type': typeof body === 'string' ? 'text/html; charset=utf-8' : 'application/json',
      'cache-control': 'no-store',
      ...headers,
    });
    res.end(text);
  }

  function discovery() {
    return {
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      userinfo_endpoint: `${issuer}/userinfo`,
      jwks_uri: `${issuer}/jwks`,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      code_challenge_methods_supported: ['S256'],
      scopes_supported: ['openid', 'profile', 'email', 'groups'],
      claims_supported: ['sub', 'name', 'given_name', 'family_name', 'preferred_username', 'email', 'email_verified', 'groups'],
      authorization_response_iss_parameter_supported: true,
    };
  }

  function authorize(url: URL, res: http.ServerResponse): void {
    const params = Object.fromEntries(url.searchParams);
    const record: AuthorizationRequestRecord = {
      params,
      clientId: params.client_id,
      redirectUri: params.redirect_uri,
      responseType: params.response_type,
      scope: params.scope,
      state: params.state,
      nonce: params.nonce,
      codeChallenge: params.code_challenge,
      codeChallengeMethod: params.code_challenge_method,
      outcome: 'refused',
    };
    requests.authorization.push(record);
    // Without a known client and its exact redirect URI nothing may be redirected (RFC 6749 §4.1.2.1).
    if (params.client_id !== options.clientId || params.redirect_uri !== options.redirectUri) {
      send(res, 400, '<!doctype html><title>Bad request</title><p>unknown client or redirect_uri</p>');
      return;
    }
    const back = new URL(options.redirectUri);
    const error = (code: string, description: string) => {
      record.outcome = 'error';
      back.searchParams.set('error', code);
      back.searchParams.set('error_description', description);
    };
    if (current === 'accessDenied') error('access_denied', 'The user refused the request');
    else if (params.response_type !== 'code') error('unsupported_response_type', 'only response_type=code');
    else if (!(params.scope ?? '').split(' ').includes('openid')) error('invalid_scope', 'the openid scope is required');
    else if (requirePkce && !params.code_challenge) error('invalid_request', 'PKCE is required (code_challenge)');
    else if (params.code_challenge && params.code_challenge_method !== 'S256') error('invalid_request', 'code_challenge_method must be S256');
    else {
      const code = crypto.randomBytes(32).toString('base64url');
      codes.set(code, {
        clientId: params.client_id,
        redirectUri: params.redirect_uri,
        nonce: params.nonce,
        codeChallenge: params.code_challenge,
        expiresAt: Date.now() + CODE_TTL_MS,
        used: false,
        scope: params.scope ?? 'openid',
      });
      back.searchParams.set('code', code);
      record.outcome = 'code';
    }
    if (params.state !== undefined) back.searchParams.set('state', params.state);
    back.searchParams.set('iss', issuer);
    res.writeHead(302, { location: back.href, 'cache-control': 'no-store' });
    res.end();
  }

  /** Client authentication as RFC 6749 §2.3.1: Basic with form-encoded id and secret, or both in the body. */
  function authenticate(req: http.IncomingMessage, form: URLSearchParams): Pick<TokenRequestRecord, 'clientAuth' | 'clientId' | 'clientAuthenticated'> {
    const header = req.headers.authorization;
    const posted = form.has('client_secret');
    const formDecode = (s: string) => decodeURIComponent(s.replaceAll('+', ' '));
    if (header?.toLowerCase().startsWith('basic ')) {
      const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      let id: string | undefined;
      let secret: string | undefined;
      try {
        id = colon < 0 ? undefined : formDecode(decoded.slice(0, colon));
        secret = colon < 0 ? undefined : formDecode(decoded.slice(colon + 1));
      } catch {
        id = undefined;
      }
      if (posted) return { clientAuth: 'both', clientId: id, clientAuthenticated: false };
      return { clientAuth: 'client_secret_basic', clientId: id, clientAuthenticated: id === options.clientId && secret !== undefined && safeEqual(secret, options.clientSecret) };
    }
    if (posted) {
      const id = form.get('client_id') ?? undefined;
      const secret = form.get('client_secret') ?? '';
      return { clientAuth: 'client_secret_post', clientId: id, clientAuthenticated: id === options.clientId && safeEqual(secret, options.clientSecret) };
    }
    return { clientAuth: 'none', clientId: form.get('client_id') ?? undefined, clientAuthenticated: false };
  }

  async function idToken(claims: Record<string, unknown>, clientId: string, nonce: string | undefined): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const payload: JWTPayload & Record<string, unknown> = { ...claims, iss: issuer, aud: clientId, iat: now, exp: now + ID_TOKEN_TTL_S, auth_time: now };
    if (nonce !== undefined) payload.nonce = nonce;
    let key: CryptoKey = signing.privateKey;
    let headerKid = kid;
    switch (current) {
      case 'badSignature': key = rogue.privateKey; break;
      case 'unknownKey': key = rogue.privateKey; headerKid = crypto.randomUUID(); break;
      case 'wrongAudience': payload.aud = `${clientId}-other`; break;
      case 'wrongIssuer': payload.iss = 'https://impostor.example'; break;
      case 'expired': payload.iat = now - 7200; payload.exp = now - 3600; payload.auth_time = now - 7200; break;
      case 'issuedInFuture': payload.iat = now + 3600; payload.exp = now + 7200; break;
      case 'nonceMismatch': payload.nonce = crypto.randomBytes(16).toString('base64url'); break;
      case 'nonceMissing': delete payload.nonce; break;
      case 'multipleAudiencesWrongAzp': payload.aud = [clientId, 'another-client']; payload.azp = 'another-client'; break;
      case 'multipleAudiencesNoAzp': payload.aud = [clientId, 'another-client']; break;
      default: break;
    }
    if (current === 'algNone') return new UnsecuredJWT(payload).encode();
    return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: headerKid, typ: 'JWT' }).sign(key);
  }

  async function token(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const form = new URLSearchParams(await readBody(req));
    const auth = authenticate(req, form);
    const record: TokenRequestRecord = {
      grantType: form.get('grant_type') ?? undefined,
      code: form.get('code') ?? undefined,
      redirectUri: form.get('redirect_uri') ?? undefined,
      codeVerifier: form.get('code_verifier') ?? undefined,
      ...auth,
    };
    requests.token.push(record);
    const answer = (status: number, body: unknown, headers?: Record<string, string>) => {
      record.status = status;
      if (typeof body === 'object' && body !== null && 'error' in body) record.error = String(body.error);
      send(res, status, body, headers);
    };
    if (current === 'tokenHang') {
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return;
    }
    if (current === 'tokenServerError') return answer(500, { error: 'server_error', error_description: 'the IdP failed' });
    if (current === 'tokenNotJson') return answer(200, '<!doctype html><title>Maintenance</title><p>Back soon.</p>');
    if (!auth.clientAuthenticated) {
      return answer(401, { error: 'invalid_client', error_description: 'client authentication failed' }, { 'www-authenticate': 'Basic realm="token"' });
    }
    if (record.grantType !== 'authorization_code') return answer(400, { error: 'unsupported_grant_type' });
    if (current === 'tokenInvalidGrant') return answer(400, { error: 'invalid_grant', error_description: 'the code is invalid or expired' });
    const issued = record.code ? codes.get(record.code) : undefined;
    if (!issued || issued.clientId !== auth.clientId || issued.expiresAt < Date.now() || (issued.used && current !== 'codeReplayable')) {
      return answer(400, { error: 'invalid_grant', error_description: 'unknown, expired or used code' });
    }
    if (record.redirectUri !== issued.redirectUri) return answer(400, { error: 'invalid_grant', error_description: 'redirect_uri does not match' });
    if (issued.codeChallenge !== undefined || record.codeVerifier !== undefined) {
      const verifier = record.codeVerifier ?? '';
      // RFC 7636 §4.1: 43..128 characters of the unreserved set; §4.6: BASE64URL(SHA256(verifier)) == challenge.
      const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
      if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || issued.codeChallenge === undefined || !safeEqual(challenge, issued.codeChallenge)) {
        return answer(400, { error: 'invalid_grant', error_description: 'PKCE verification failed' });
      }
    }
    issued.used = true;
    const claims = { ...subjectClaims };
    const accessToken = crypto.randomBytes(32).toString('base64url');
    accessTokens.set(accessToken, { claims, expiresAt: Date.now() + 3_600_000 });
    return answer(200, {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: 3600,
      scope: issued.scope,
      id_token: await idToken(claims, issued.clientId, issued.nonce),
    });
  }

  function userinfo(req: http.IncomingMessage, res: http.ServerResponse): void {
    const header = req.headers.authorization ?? '';
    const value = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header)?.[1];
    const known = value ? accessTokens.get(value) : undefined;
    if (!known || known.expiresAt < Date.now()) {
      requests.userinfo.push({ tokenValid: false, status: 401 });
      send(res, 401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' });
      return;
    }
    const claims = { ...known.claims };
    if (current === 'userinfoOtherSubject') claims.sub = `${String(claims.sub)}-other`;
    if (current === 'userinfoOtherEmail') {
      claims.email = `other-${crypto.randomBytes(4).toString('hex')}@elsewhere.example`;
      claims.email_verified = true;
    }
    requests.userinfo.push({ tokenValid: true, status: 200 });
    send(res, 200, claims);
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', issuer);
    const route = `${req.method} ${url.pathname}`;
    switch (route) {
      case 'GET /.well-known/openid-configuration': return send(res, 200, discovery());
      case 'GET /jwks': return send(res, 200, { keys: [publicJwk] });
      case 'GET /authorize': return authorize(url, res);
      case 'POST /token': return token(req, res);
      case 'GET /userinfo':
      case 'POST /userinfo': return userinfo(req, res);
      default: return send(res, 404, { error: 'not_found' });
    }
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, err instanceof BodyTooLarge ? 413 : 500, { error: err instanceof BodyTooLarge ? 'invalid_request' : 'server_error' });
      else res.destroy();
    });
  });
  const listening = loopbackServer(server, port);
  const listen = listening.listen;
  const close = () => {
    for (const res of hanging) res.destroy();
    return listening.close();
  };
  await listen();

  return {
    issuer,
    async fault(setting = 'none') {
      current = setting;
      if (setting === 'down') await close();
      else if (!server.listening) await listen();
    },
    claims(claims) {
      subjectClaims = { ...claims };
    },
    requests,
    clearRequests() {
      requests.authorization.length = 0;
      requests.token.length = 0;
      requests.userinfo.length = 0;
    },
    stop: close,
  };
}

class BodyTooLarge extends Error {}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Past the bound the rest is read and dropped, so the 413 still reaches the client.
      if (size > MAX_BODY) reject(new BodyTooLarge('request body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}
