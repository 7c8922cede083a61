/**
 * An OpenID Connect authorization request as a careful relying party sends it (openid-client): fresh state and nonce,
 * PKCE S256. Shared by the tests' and the bench's relying parties.
 */
import * as client from 'openid-client';

export interface AuthorizationRequest {
  url: URL;
  state: string;
  nonce: string;
  codeVerifier: string;
}

export async function authorizationRequest(
  config: client.Configuration,
  args: { redirectUri: string; scope: string; extra?: Record<string, string> },
): Promise<AuthorizationRequest> {
  const state = client.randomState();
  const nonce = client.randomNonce();
  const codeVerifier = client.randomPKCECodeVerifier();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: args.redirectUri,
    scope: args.scope,
    state,
    nonce,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    ...args.extra,
  });
  return { url, state, nonce, codeVerifier };
}
