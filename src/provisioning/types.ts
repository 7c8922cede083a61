/**
 * The vocabulary shared by handlers, workflows and activities. Workflows import these as types only.
 */

export type ResourceType = 'User' | 'Group';
export type Operation = 'create' | 'update' | 'delete';

/** A multi-valued SCIM attribute entry (emails, phoneNumbers). */
export interface MultiValue {
  value: string;
  type?: string | undefined;
  primary?: boolean | undefined;
  display?: string | undefined;
}

export interface Address {
  type?: string | undefined;
  primary?: boolean | undefined;
  formatted?: string | undefined;
  streetAddress?: string | undefined;
  locality?: string | undefined;
  region?: string | undefined;
  postalCode?: string | undefined;
  country?: string | undefined;
}

export interface Name {
  formatted?: string | undefined;
  familyName?: string | undefined;
  givenName?: string | undefined;
  middleName?: string | undefined;
  honorificPrefix?: string | undefined;
  honorificSuffix?: string | undefined;
}

export interface EnterpriseUser {
  employeeNumber?: string | undefined;
  costCenter?: string | undefined;
  organization?: string | undefined;
  division?: string | undefined;
  department?: string | undefined;
  manager?: { value?: string | undefined; displayName?: string | undefined } | undefined;
}

/**
 * A user's writable attributes as accepted from a client (validated by src/scim/user-resource.ts).
 * `password` is plaintext only on its way to being hashed or provisioned; it crosses Temporal only inside
 * encrypted payloads (src/temporal/codec.ts).
 */
export interface UserInput {
  /** User store domain (upper case), from the `DOMAIN/name` prefix or the application's inbound config. */
  domain: string;
  userName: string;
  externalId?: string | undefined;
  /** Unassigned (undefined) after a PATCH removed it; new users default to active. */
  active?: boolean | undefined;
  name?: Name | undefined;
  displayName?: string | undefined;
  nickName?: string | undefined;
  profileUrl?: string | undefined;
  title?: string | undefined;
  userType?: string | undefined;
  preferredLanguage?: string | undefined;
  locale?: string | undefined;
  timezone?: string | undefined;
  emails: MultiValue[];
  phoneNumbers: MultiValue[];
  addresses: Address[];
  enterprise?: EnterpriseUser | undefined;
  /** Multi-valued attributes kept as JSON in the user row (RFC 7643 §4.1.2). */
  ims?: MultiValue[] | undefined;
  photos?: MultiValue[] | undefined;
  entitlements?: MultiValue[] | undefined;
  roles?: MultiValue[] | undefined;
  x509Certificates?: MultiValue[] | undefined;
  /** Operator-defined extension schemas: schema URN -> the validated extension object. */
  extensions?: Record<string, Record<string, unknown>> | undefined;
  password?: string | undefined;
}

/** A stored user, as the store returns it (never with a password hash). */
export interface UserRecord extends Omit<UserInput, 'password'> {
  id: string;
  /** The groups the user is a direct member of (readOnly in SCIM), when the read asked for them. */
  groups?: { value: string; display: string; type: 'direct' | 'indirect' }[] | undefined;
  version: number;
  created: string;
  lastModified: string;
}

/** A group member as a client names it (RFC 7643 §4.2). */
export interface MemberRef {
  value: string;
  type?: 'User' | 'Group' | undefined;
}

/** A group's writable attributes as accepted from a client (validated by src/scim/group-resource.ts). */
export interface GroupInput {
  domain: string;
  displayName: string;
  externalId?: string | undefined;
  members: MemberRef[];
  extensions?: Record<string, Record<string, unknown>> | undefined;
}

/**
 * The membership changes of a group PATCH, applied row by row so a change to a group with 100,000
 * members touches only the rows it names (src/scim/patch.ts builds it).
 */
export interface MemberDelta {
  replaceAll?: MemberRef[] | undefined;
  add: MemberRef[];
  remove: string[];
  removeAll?: boolean | undefined;
  /** Member value filters that are not plain `value eq` terms, evaluated by the store. */
  removeWhere?: unknown[] | undefined;
}

/**
 * What a group change can be undone from (the saga of a blocking target's refusal): the group's attributes before
 * the change and the members it added and removed. Only the membership *delta* is kept, so undoing a PATCH of a
 * 100,000-member group carries just the rows it touched; a change touching more than MAX_GROUP_SNAPSHOT_MEMBERS
 * members keeps no snapshot (it is then not undone, and the caller is told).
 */
export interface GroupSnapshot {
  group: Omit<GroupRecord, 'members'>;
  added: MemberRef[];
  removed: MemberRef[];
}

export const MAX_GROUP_SNAPSHOT_MEMBERS = 10_000;

export interface GroupRecord {
  id: string;
  domain: string;
  displayName: string;
  externalId?: string | undefined;
  /** Absent when the read did not load members (excludedAttributes=members). */
  members?: { value: string; type: 'User' | 'Group'; display?: string | undefined }[] | undefined;
  extensions?: Record<string, Record<string, unknown>> | undefined;
  version: number;
  created: string;
  lastModified: string;
}

/** What the caller's credentials say about who started a change. */
export interface Initiator {
  /** The application (service provider) id; the resident SP for operators using the admin credential. */
  applicationId: string;
  /** e.g. "scim2", "admin-api", "jit" */
  channel: string;
  /** Human-readable, for audit records: "admin via scim2". */
  label: string;
}

export interface RetrySettings {
  initialIntervalMs: number;
  maximumIntervalMs: number;
  backoffCoefficient: number;
  /** 0 = unlimited: a target that is down gets the change when it comes back. */
  maximumAttempts: number;
}

/** One outbound destination of a change, resolved when the change is accepted. */
export interface OutboundTarget {
  connectorId: string;
  connectorType: string;
  /** "<idp name>/<connector type>", for audit records, search attributes and error messages. */
  label: string;
  idpName: string;
  blocking: boolean;
  rulesEnabled: boolean;
  jitEnabled: boolean;
  retry: RetrySettings;
}

/**
 * One accepted change of one resource, on its way to the outbound targets. `version` is the resource's
 * version after the change: the per-target order key (a target never gets an older version after a newer
 * one) and, with `eventId`, the idempotency key of a delivery.
 */
interface EventBase {
  eventId: string;
  operation: Operation;
  localId: string;
  version: number;
  targets: OutboundTarget[];
  initiator: Initiator;
  /** The InboundProvision workflow waiting for this event's blocking targets. */
  replyTo?: string | undefined;
  /**
   * Deliver even if this version was applied: a group whose member reached the target later, or an operator's
   * on-demand re-send.
   */
  resync?: boolean | undefined;
  /**
   * The user gained or lost a role that a target's identity provider names as an outbound provisioning role
   * (src/provisioning/provisioning-roles.ts): the delivery provisions the user there if it holds one of them now,
   * and deprovisions it there otherwise. Never folded into another update: that one would not deprovision.
   */
  roleChange?: boolean | undefined;
}

/** A change of a user: the user after it (for delete: as it was before), with the password if the change set one. */
export interface UserEvent extends EventBase {
  resourceType: 'User';
  user: UserRecord & { password?: string | undefined };
}

/**
 * A change of a group. Only the group's identity travels: its members (possibly 100,000) are read from the store
 * when it is delivered, translated to each target's remote ids, so the target gets the group's current state.
 * `resync` re-sends that state even if this version was applied (a member was provisioned to the target later).
 */
export interface GroupEvent extends EventBase {
  resourceType: 'Group';
  group: { id: string; domain: string; displayName: string; externalId?: string | undefined };
}

export type ProvisioningEvent = UserEvent | GroupEvent;

/**
 * An update to one target that a newer update of the same resource, delivered in its place, made unnecessary:
 * its state is contained in the newer one (deliveries send the whole state). Audited as skipped, never sent.
 */
export interface SupersededEvent {
  eventId: string;
  version: number;
  initiator: Initiator;
}

/** What an operator reads for an event: the user name or group display name. */
export function eventSubject(event: ProvisioningEvent): string {
  return event.resourceType === 'User' ? event.user.userName : event.group.displayName;
}

/** `denied`: a rule refused this operation for this target (Enable Rules, activities/rules.ts); nothing was sent. */
export type DeliveryOutcome = 'delivered' | 'skipped' | 'failed' | 'held' | 'denied';

export interface DeliveryReport {
  eventId: string;
  connectorId: string;
  label: string;
  outcome: DeliveryOutcome;
  remoteId?: string | undefined;
  error?: string | undefined;
  /** Held because the connector is quarantined: the delivery waits, in order, until an operator resumes it. */
  quarantined?: boolean | undefined;
}

/** A SCIM-level rejection decided inside a workflow (conflict, not found, precondition failed). */
export interface ScimRejection {
  status: number;
  scimType?: string | undefined;
  detail: string;
}
