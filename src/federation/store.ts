/**
 * Reading and writing an identity provider's federation settings (src/federation/config.ts) in its row: the OIDC
 * authenticator's client secret sealed with the keyring on the way in and opened only where it is used (the code
 * exchange), masked in every view.
 */
import type { SecretBox } from '../crypto/secret-box.js';
import {
  JIT_OFF,
  federatedAuthenticatorInput,
  jitInput,
  type FederatedAuthenticatorInput,
  type JitSettings,
  type StoredFederatedAuthenticator,
} from './config.js';

/** What a view shows for a secret that is set. */
export const SECRET_MASK = '********';

/**
 * The stored form of an authenticator: its secret sealed. On an update without `clientSecret`, the stored one is
 * kept (write-only secrets: the admin API never shows it, so a client cannot send it back).
 */
export function sealFederatedAuthenticator(box: SecretBox, input: FederatedAuthenticatorInput, previous?: StoredFederatedAuthenticator | null): StoredFederatedAuthenticator {
  const { clientSecret, ...rest } = input;
  const clientSecretSealed = clientSecret !== undefined ? box.sealString(clientSecret) : previous?.clientSecretSealed;
  return { ...rest, ...(clientSecretSealed !== undefined && { clientSecretSealed }) };
}

/** The stored authenticator of a row (`identity_provider.federated_auth`), or undefined when it has none. */
export function storedFederatedAuthenticator(json: unknown): StoredFederatedAuthenticator | undefined {
  if (json === null || json === undefined || typeof json !== 'object') return undefined;
  const { clientSecretSealed, ...rest } = json as StoredFederatedAuthenticator;
  // Parsed again so a row written by an older version gets today's defaults; the secret is checked apart.
  const parsed = federatedAuthenticatorInput.safeParse({ ...rest, ...(clientSecretSealed !== undefined && { clientSecret: 'sealed' }) });
  if (!parsed.success) return undefined;
  const { clientSecret: _placeholder, ...settings } = parsed.data;
  return { ...settings, ...(clientSecretSealed !== undefined && { clientSecretSealed }) };
}

/** The authenticator with its client secret opened: for the relying party only, never for a view or a log. */
export function openFederatedAuthenticator(box: SecretBox, stored: StoredFederatedAuthenticator): Omit<StoredFederatedAuthenticator, 'clientSecretSealed'> & { clientSecret?: string } {
  const { clientSecretSealed, ...rest } = stored;
  return { ...rest, ...(clientSecretSealed !== undefined && { clientSecret: box.openString(clientSecretSealed) }) };
}

/** The admin API's view of an authenticator: everything but the secret, which shows as a mask when set. */
export function federatedAuthenticatorView(stored: StoredFederatedAuthenticator | undefined) {
  if (!stored) return null;
  const { clientSecretSealed, ...rest } = stored;
  return { ...rest, clientSecret: clientSecretSealed !== undefined ? SECRET_MASK : null };
}

/** The JIT settings of a row (`identity_provider.jit`); null or unreadable is JIT off. */
export function jitSettingsOf(json: unknown): JitSettings {
  if (json === null || json === undefined) return JIT_OFF;
  const parsed = jitInput.safeParse(json);
  return parsed.success ? parsed.data : JIT_OFF;
}
