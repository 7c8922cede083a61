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
