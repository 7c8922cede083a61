/**
 * Custom search attributes, so an operator can filter provisioning workflows in the Temporal UI
 * (e.g. `UserName = "alice"`, `ProvisioningOutcome = "failed"`). Registered by the dev server's
 * `--search-attribute` flags in embedded mode and by ensureSearchAttributes() against a cluster.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const UserNameKey = defineSearchAttributeKey('UserName', SearchAttributeType.KEYWORD);
export const UserIdKey = defineSearchAttributeKey('UserId', SearchAttributeType.KEYWORD);
export const ProvisioningOperationKey = defineSearchAttributeKey('ProvisioningOperation', SearchAttributeType.KEYWORD);
export const ProvisioningOutcomeKey = defineSearchAttributeKey('ProvisioningOutcome', SearchAttributeType.KEYWORD);
export const IdentityProviderKey = defineSearchAttributeKey('IdentityProvider', SearchAttributeType.KEYWORD_LIST);
export const ConnectorKey = defineSearchAttributeKey('Connector', SearchAttributeType.KEYWORD_LIST);

export const SEARCH_ATTRIBUTES = [
  UserNameKey,
  UserIdKey,
  ProvisioningOperationKey,
  ProvisioningOutcomeKey,
  IdentityProviderKey,
  ConnectorKey,
] as const;

/**
 * The most bytes of UTF-8 a keyword search attribute set from client data may carry. Temporal refuses a larger
 * value (2 KiB per value, 40 KiB in all, by default) and the refusal would fail the start or the workflow task,
 * never the request's own fault made visible: 256 bytes keep every value well inside, and still identify it.
 */
export const MAX_KEYWORD_BYTES = 256;

/**
 * `value` cut to at most `maxBytes` bytes of UTF-8, never splitting a character (a lone surrogate counts as the
 * 3-byte replacement character it is encoded as). Pure, so workflow code uses it too.
 *
 * @example boundedKeyword('é'.repeat(200)) // 128 characters: 256 bytes
 */
export function boundedKeyword(value: string, maxBytes = MAX_KEYWORD_BYTES): string {
  let bytes = 0;
  let end = 0;
  for (const ch of value) {
    const cp = ch.codePointAt(0)!;
    const size = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + size > maxBytes) return value.slice(0, end);
    bytes += size;
    end += ch.length;
  }
  return value;
}
