/**
 * The outbound connector contract. One implementation per target kind, each in its own folder, created
 * through the registry (src/connectors/registry.ts) from the connector's stored settings.
 *
 * Implementations translate vendor errors into src/connectors/errors.ts in one place and never decide
 * what a failure means for the provisioning run; the workflow does.
 *
 * @example
 * const connector = registry.create({ type: 'scim2', settings, secrets });
 * const { remoteId } = await connector.createUser(user);
 * await connector.updateUser(remoteId, changedUser);
 */
import type { ConnectorError } from './errors.js';
import type { UserRecord } from '../provisioning/types.js';

/** The user as a connector sends it: the stored record plus the password to provision, if any. */
export interface OutboundUser extends UserRecord {
  password?: string | undefined;
  /**
   * The values of the connector's attribute mapping (`settings.attributeMapping`, src/provisioning/attribute-mapping.ts),
   * computed by the delivery activity for this user and operation, in rule order. Each connector applies them to its
   * own payload by its own target naming, after (so overriding) what it derives itself: Google a Directory API field
   * path (`organizations[0].department`), Salesforce a User field (`Department`), SPML a DSML attribute, SCIM a SCIM
   * attribute path. A `null` value means "no value": clear the attribute, or keep the derived value where the target
   * requires one. Absent when the connector has no mapping (and on deletes).
   *
   * @example [{ target: 'Department', value: 'IAM' }, { target: 'Alias', value: 'rnadeesh' }]
   */
  mapped?: { target: string; value: unknown }[] | undefined;
}

/**
 * A group as a connector sends it. Members are already translated to this target's ids (remote_link);
 * members not (yet) provisioned to this target are left out and added by a later event.
 */
export interface OutboundGroup {
  id: string;
  displayName: string;
  externalId?: string | undefined;
  members: { remoteId: string; type: 'User' | 'Group'; localId: string }[];
}

/** A user as the target has it, for reconciliation. */
export interface RemoteUser {
  remoteId: string;
  userName: string;
  externalId?: string | undefined;
  active?: boolean | undefined;
  /** The target's representation, for drift reports. */
  raw: unknown;
}

/** A group as the target has it, for reconciliation: members as the target's ids. */
export interface RemoteGroup {
  remoteId: string;
  displayName: string;
  externalId?: string | undefined;
  memberRemoteIds: string[];
}

/**
 * What deleting a user means at a target (WSO2 connectors delete; many SaaS targets only deactivate). Each
 * connector's settings carry `deprovision: 'delete' | 'deactivate'` where the target supports both.
 */
export type DeprovisionMode = 'delete' | 'deactivate';

export interface OutboundConnector {
  /** Creates the user; throws ConnectorAlreadyExists when the target already has one by that name. */
  createUser(user: OutboundUser): Promise<{ remoteId: string }>;
  /** Replaces the user's attributes at the target; throws ConnectorNotFound when it is gone. */
  updateUser(remoteId: string, user: OutboundUser): Promise<void>;
  /** Deletes (or deactivates, per connector settings); a user already gone is not an error. */
  deleteUser(remoteId: string, user: OutboundUser): Promise<void>;
  /** Finds an existing user by userName, to link after ConnectorAlreadyExists. */
  findUserByUserName(userName: string): Promise<{ remoteId: string } | undefined>;

  /**
   * Creates many users in one call where the target can (SCIM 2.0 `/Bulk`, when its ServiceProviderConfig says
   * `bulk.supported`): one answer per user, in order, each the remote id or the error createUser would have thrown.
   * Answers undefined when the target cannot, and the users are then created one by one. Absent: never.
   */
  createUsers?(users: OutboundUser[]): Promise<({ remoteId: string } | { error: ConnectorError })[] | undefined>;

  /** Groups, for targets that have them (absent: the connector provisions users only). */
  createGroup?(group: OutboundGroup): Promise<{ remoteId: string }>;
  updateGroup?(remoteId: string, group: OutboundGroup): Promise<void>;
  deleteGroup?(remoteId: string, group: OutboundGroup): Promise<void>;
  findGroupByDisplayName?(displayName: string): Promise<{ remoteId: string } | undefined>;

  /** Every user at the target, page by page, for reconciliation (absent: reconciliation is not offered). */
  listUsers?(): AsyncIterable<RemoteUser>;
  /** Every group at the target with its members, for reconciliation (absent: groups are not reconciled). */
  listGroups?(): AsyncIterable<RemoteGroup>;
}

export interface ConnectorConfig {
  type: string;
  settings: Record<string, unknown>;
  secrets: Record<string, string>;
}

export interface ConnectorFactory {
  readonly type: string;
  /** Validates settings and secrets (throws ConnectorMisconfigured) and builds a connector. */
  create(config: ConnectorConfig): OutboundConnector;
  /** Validates settings and secrets for the admin API, without building anything. */
  validate(config: ConnectorConfig): string[];
  /** Names of the secret fields (encrypted at rest, masked in admin responses). */
  readonly secretFields: readonly string[];
}
