/**
 * The SCIM 2.0 operations (RFC 7644 §3), independent of HTTP framing so the resource endpoints, /Me and
 * /Bulk share one implementation. Reads go straight to the store; every write runs an InboundProvision
 * workflow, so outbound provisioning follows every inbound change.
 *
 * Each operation returns a ScimResult (status, body, headers); protocol errors are thrown as ScimError.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { KeyedDigest } from '../crypto/keyed-digest.js';
import type { SecretSealer } from '../crypto/sealed-secret.js';
import type { PrismaClient } from '../db/client.js';
import type { Logger } from '../log.js';
import type { GroupRecord, Initiator, UserInput, UserRecord } from '../provisioning/types.js';
import { boundedKeyword, ProvisioningOperationKey, UserIdKey, UserNameKey } from '../temporal/search-attributes.js';
import { getGroup, getGroupsByIds } from '../userstore/groups.js';
import { queryGroupIds, queryUserIds } from '../userstore/query.js';
import { getUser, getUsersByIds, isUuid } from '../userstore/users.js';
import type { InboundProvisionInput, InboundProvisionResult, UserBatchOperation } from '../../workflows/inbound-provision.js';
import { batchItemOutcome, SCHEMA_BULK_RESPONSE } from './bulk.js';
import type { CursorCodec } from './cursor.js';
import { ScimError, type ScimType } from './errors.js';
import { formatIdempotencyKey } from './idempotency-key.js';
import { InboundRequests, requestFingerprint, RETRY_AFTER_SECONDS, type InboundOutcome, type Pending, type WriteRequest } from './inbound-requests.js';
import { assertImmutableUnchanged } from './mutability.js';
import { isPathProblem, lookupAttrPath, parseAttrPath } from './attribute-path.js';
import { parseFilter, type FilterDialect, type FilterSyntax } from './filter.js';
import { parseGroupInput, toScimGroup } from './group-resource.js';
import { mapPatchPasswords } from './patch-password.js';
import { applyGroupPatch } from './patch.js';
import { project, projectionOf, type ProjectionRequest } from './projection.js';
import { validateExtensionValue, type SchemaRegistry } from './schema-registry.js';
import type { ResourceTypeDef, ResourceTypeName } from './schema-defs.js';
import { SCHEMA_LIST_RESPONSE } from './schemas.js';
import { SCIM_LIMITS, SCIM_PAGINATION } from './service-provider.js';
import { etagOf, extensionParsers, parseUserInput, PRIMARY_DOMAIN, splitDomain, toScimUser } from './user-resource.js';

export interface ScimResult {
  status: number;
  body?: Record<string, unknown>;
  headers?: Record<string, string>;
  /** The body is no SCIM resource (the status of a request still being applied): sent as application/json, as it is. */
  plain?: boolean;
}

/** Who is asking, as the SCIM layer needs it (src/http/auth.ts builds it from the credentials). */
export interface ScimCaller {
  initiator: Initiator;
  /** `restricted`: the caller reads and writes only users and groups of `domain` (see restrictedDomain). */
  inbound: { domain: string; restricted?: boolean | undefined } | { proxyMode: true };
  userId?: string | undefined;
  /**
   * The write request's Idempotency-Key and fingerprint (set by src/http/scim/write-request.ts); without it a write
   * runs under a key of its own that no retry can name.
   */
  request?: WriteRequest | undefined;
}

/**
 * The user store domain a caller is confined to (its application's `inboundProvisioning.restrictToDomain`), if
 * any. Such a caller finds nothing of other domains: a GET, PUT, PATCH or DELETE of another domain's user or
 * group is 404 (as if it did not exist, so nothing leaks), lists and filters never return them, a POST into
 * another domain is 403, and group members and user groups of other domains are neither shown nor accepted.
 */
export function restrictedDomain(caller: ScimCaller): string | undefined {
  return 'domain' in caller.inbound && caller.inbound.restricted ? caller.inbound.domain : undefined;
}

/** The domain of a name the server rendered as `DOMAIN/name` (bare in PRIMARY): how members and groups are shown. */
const domainOfDisplay = (display: string | undefined) => (display === undefined ? undefined : (splitDomain(display).domain ?? PRIMARY_DOMAIN));

/** Query parameters of a list or search (RFC 7644 §3.4.2), as strings from a URL or values from a body. */
export interface ListParams {
  filter?: unknown;
  startIndex?: unknown;
  count?: unknown;
  sortBy?: unknown;
  sortOrder?: unknown;
  attributes?: unknown;
  excludedAttributes?: unknown;
  cursor?: unknown;
}

/** HTTP preconditions of a request (RFC 7232), already read from the headers. */
export interface Preconditions {
  ifMatch?: string | undefined;
  ifNoneMatch?: string | undefined;
}

export interface ScimServiceDeps {
  db: PrismaClient;
  temporal: Client;
  taskQueue: string;
  schemas: SchemaRegistry;
  baseUrl: string;
  blockingTimeoutMs: number;
  /** Seals every password before it enters a workflow (src/crypto/sealed-secret.ts). */
  sealer: SecretSealer;
  /** Signs and checks the cursors of cursor pagination (RFC 9865). */
  cursors: CursorCodec;
  /** Keys the fingerprints of keyed requests kept in workflow memos (src/scim/inbound-requests.ts). */
  requestFingerprints: KeyedDigest;
  /** How long a write waits for its workflow before answering 202 Accepted (REQUEST_TIMEOUT_MS). */
  requestTimeoutMs: number;
  /** How long the engine may take to confirm a write's start (ENGINE_TIMEOUT_MS); unset: the request's deadline. */
  engineTimeoutMs?: number | undefined;
  log?: Logger | undefined;
  /**
   * How `filter` parameters are read: `lenient` accepts unquoted values (config SCIM_FILTER_LENIENT); `dialect`
   * gives another grammar per resource type (the SCIM 1.1 endpoint's). Default: strict RFC 7644.
   */
  filters?: { lenient: boolean; dialect?: ((type: ResourceTypeName) => FilterDialect) | undefined } | undefined;
}

/**
 * Versions named by an If-Match / If-None-Match header; `*` is any. This server's ETags are weak (`W/"<version>"`,
 * RFC 7644 §3.14). If-None-Match compares weakly (RFC 9110 §13.1.2), so `"3"` and `W/"3"` both name version 3.
 * If-Match compares as SCIM does it (RFC 7644 §3.14 sends `If-Match: W/"..."` and expects it to match), which is
 * weakly for weak tags; a strong tag (`"3"`) can never match a weak ETag (RFC 9110 §8.8.3.2), so it names nothing.
 */
function etagVersions(header: string, comparison: 'if-match' | 'if-none-match'): number[] | '*' {
  if (header.trim() === '*') return '*';
  return header.split(',').flatMap((tag) => {
    const m = /^\s*(W\/)?"(\d{1,15})"\s*$/.exec(tag);
    if (!m || (comparison === 'if-match' && m[1] === undefined)) return [];
    return [Number(m[2])];
  });
}

/**
 * The version a write must find (If-Match, RFC 7644 §3.14): checked again under the row lock in the store,
 * so a change in between still gives 412. An If-Match naming several versions is checked here against the
 * current version and the matching one is passed on.
 */
export function requiredVersion(pre: Preconditions, current: { version: number } | undefined): number | undefined {
  if (pre.ifNoneMatch !== undefined && current && etagVersions(pre.ifNoneMatch, 'if-none-match') === '*') {
    throw new ScimError(412, 'If-None-Match: * failed: the resource exists');
  }
  if (pre.ifMatch === undefined) return undefined;
  const versions = etagVersions(pre.ifMatch, 'if-match');
  if (versions === '*') return undefined;
  if (!current || !versions.includes(current.version)) {
    throw new ScimError(412, `If-Match ${pre.ifMatch} does not match the resource's version${current ? ` ${etagOf(current.version)}` : ''}`);
  }
  return current.version;
}

/** 304 for a GET whose If-None-Match names the current version (RFC 7232 §3.2). */
export function notModified(pre: Preconditions, version: number): ScimResult | undefined {
  if (pre.ifNoneMatch === undefined) return undefined;
  const versions = etagVersions(pre.ifNoneMatch, 'if-none-match');
  return versions === '*' || versions.includes(version) ? { status: 304, headers: { ETag: etagOf(version) } } : undefined;
}

/** The largest startIndex accepted: far beyond any result set, and safe as a database offset. */
const MAX_START_INDEX = 2_147_483_647;

export function intParam(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*-?\d{1,15}\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw ScimError.badRequest(`${name} must be an integer of at most 15 digits`);
  return n;
}

/** RFC 7644 §3.4.2.4: startIndex is 1-based (smaller values mean 1); bounded so no query can overflow. */
function startIndexParam(value: unknown): number {
  const n = Math.max(intParam(value, 'startIndex') ?? 1, 1);
  if (n > MAX_START_INDEX) throw ScimError.badRequest(`startIndex must be at most ${MAX_START_INDEX}`);
  return n;
}

export function stringParam(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw ScimError.badRequest(`${name} must be a string`);
  return value;
}

/** Where the outcome of a request still being applied can be read (src/http/admin/requests.ts). */
export function requestStatusUrl(baseUrl: string, workflowId: string): string {
  return `${baseUrl}/api/server/v1/provisioning/requests/${workflowId}`;
}

function rejection(result: Extract<InboundProvisionResult, { ok: false }>): ScimError {
  return new ScimError(result.rejection.status, result.rejection.detail, result.rejection.scimType as ScimType | undefined);
}

export class ScimService {
  private readonly requests: InboundRequests;

  constructor(private readonly deps: ScimServiceDeps) {
    this.requests = new InboundRequests({
      temporal: deps.temporal,
      taskQueue: deps.taskQueue,
      requestTimeoutMs: deps.requestTimeoutMs,
      engineTimeoutMs: deps.engineTimeoutMs,
      log: deps.log,
      fingerprints: deps.requestFingerprints,
    });
  }

  private get base(): string {
    return this.deps.baseUrl;
  }

  /** The SCIM base URL (`https://host/scim2`), for locations. */
  get scimBaseUrl(): string {
    return `${this.deps.baseUrl}/scim2`;
  }

  /**
   * Runs a write's InboundProvision workflow under the request's Idempotency-Key (src/scim/inbound-requests.ts): a
   * retry joins the first attempt; the wait is bounded, and a workflow still running then is answered as Pending.
   */
  private async run(caller: ScimCaller, input: InboundProvisionInput, labels: { userName?: string; userId?: string }): Promise<InboundOutcome> {
    const kind = input.resourceType === 'Group' ? 'group-' : '';
    // Client data: bounded, or Temporal would refuse the start (src/temporal/search-attributes.ts).
    return this.requests.run(input, this.writeRequest(caller), this.keyScope(caller), [
      { key: ProvisioningOperationKey, value: `${kind}${input.operation}` },
      ...(labels.userName !== undefined ? [{ key: UserNameKey, value: boundedKeyword(labels.userName) }] : []),
      ...(labels.userId !== undefined ? [{ key: UserIdKey, value: boundedKeyword(labels.userId) }] : []),
    ]);
  }

  private writeRequest(caller: ScimCaller): WriteRequest {
    return caller.request ?? { key: randomUUID(), keyFromClient: false, fingerprint: requestFingerprint(randomUUID()) };
  }

  private keyScope(caller: ScimCaller) {
    return { applicationId: caller.initiator.applicationId, userId: caller.userId };
  }

  /**
   * A retry whose first attempt already changed the resource fails the checks made before the workflow starts (404
   * once a delete applied, 412 once an If-Match change did): with the client's key, it gets the first attempt's
   * answer instead. Costs nothing unless such a check fails.
   */
  private async orEarlierAttempt(caller: ScimCaller, attempt: () => Promise<InboundOutcome>): Promise<InboundOutcome> {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof ScimError) || (err.status !== 404 && err.status !== 412) || !caller.request?.keyFromClient) throw err;
      const earlier = await this.requests.earlier(caller.request, this.keyScope(caller));
      if (!earlier) throw err;
      return earlier;
    }
  }

  /** A keyed write's workflow, for the status resource (src/http/admin/requests.ts); undefined when there is none. */
  requestStatus(workflowId: string) {
    return this.requests.status(workflowId);
  }

  /** 202 Accepted for a write still being applied when the wait ended (RFC 9110 §15.3.3): where to read its outcome. */
  private pendingAnswer({ pending }: Pending): ScimResult {
    const location = requestStatusUrl(this.base, pending.workflowId);
    const key = formatIdempotencyKey(pending.key);
    return {
      status: 202,
      plain: true,
      body: {
        id: pending.workflowId,
        status: 'running',
        detail: `The change was accepted and is still being applied. Read its outcome at ${location}, or repeat the request with the same Idempotency-Key (${key}) to wait for its answer.`,
        location,
        idempotencyKey: pending.key,
      },
      headers: { Location: location, 'Content-Location': location, 'Idempotency-Key': key, 'Retry-After': String(RETRY_AFTER_SECONDS) },
    };
  }

  /**
   * The answer a finished write gets (the status resource shows the same for a request answered 202): a resource,
   * 204, or the SCIM error of its rejection (thrown).
   */
  async answer(
    op: { operation: InboundProvisionInput['operation']; resourceType: 'User' | 'Group'; proxy?: boolean },
    outcome: InboundOutcome,
    projection: ProjectionRequest = {},
  ): Promise<ScimResult> {
    if ('pending' in outcome) return this.pendingAnswer(outcome);
    const { operation, resourceType } = op;
    if (operation === 'createBatch') return this.batchAnswer(outcome);
    if (operation === 'delete') return resourceType === 'Group' ? this.deleteAnswer(outcome, false) : this.deleteAnswer(outcome, op.proxy === true || ('proxied' in outcome && outcome.proxied === true));
    const rt = await this.rt(resourceType);
    if (resourceType === 'User') return this.userAnswer(outcome, rt, projection, operation === 'create');
    if (operation === 'patch') return this.patchedGroupAnswer(outcome, rt, projection);
    return this.groupAnswer(outcome, rt, projection, operation === 'create');
  }

  private common(caller: ScimCaller) {
    return {
      initiator: caller.initiator,
      blockingTimeoutMs: this.deps.blockingTimeoutMs,
      ...('proxyMode' in caller.inbound && { proxy: true }),
    };
  }

  private async rt(type: ResourceTypeName): Promise<ResourceTypeDef> {
    return type === 'User' ? this.deps.schemas.user() : this.deps.schemas.group();
  }

  private parsers(rt: ResourceTypeDef) {
    return extensionParsers(rt, (id, value) => {
      const ext = rt.extensions.find((e) => e.schema.id === id);
      return ext ? validateExtensionValue(ext.schema, value) : {};
    });
  }

  /** Renders a user as the caller asked (attributes / excludedAttributes), serving only known extensions. */
  renderUser(user: UserRecord, rt: ResourceTypeDef, projection: ProjectionRequest, opts: { proxied?: boolean } = {}): Record<string, unknown> {
    const known = new Set(rt.extensions.map((e) => e.schema.id));
    const extensions = user.extensions && Object.fromEntries(Object.entries(user.extensions).filter(([k]) => known.has(k)));
    const resource = toScimUser({ ...user, extensions }, this.base);
    if (opts.proxied) {
      // Not stored here: there is no location to read it back from.
      const meta = resource.meta as Record<string, unknown>;
      delete meta.location;
    }
    return project(resource, rt, projection);
  }

  renderGroup(group: GroupRecord, rt: ResourceTypeDef, projection: ProjectionRequest): Record<string, unknown> {
    const known = new Set(rt.extensions.map((e) => e.schema.id));
    const extensions = group.extensions && Object.fromEntries(Object.entries(group.extensions).filter(([k]) => known.has(k)));
    return project(toScimGroup({ ...group, extensions }, this.base), rt, projection);
  }

  private delivery(result: { pendingTargets: string[]; failedTargets: { label: string; error?: string | undefined }[] }): Record<string, string> {
    const headers: Record<string, string> = {};
    if (result.pendingTargets.length > 0) headers['X-Provisioning-Pending'] = result.pendingTargets.join(', ');
    if (result.failedTargets.length > 0) {
      headers['X-Provisioning-Failed'] = result.failedTargets
        .map((f) => `${f.label}: ${f.error ?? 'failed'}`)
        .join('; ')
        .replace(/[\r\n]/g, ' ');
    }
    return headers;
  }

  private userAnswer(result: InboundOutcome, rt: ResourceTypeDef, projection: ProjectionRequest, created: boolean): ScimResult {
    if ('pending' in result) return this.pendingAnswer(result);
    if (!result.ok) throw rejection(result);
    if (!('user' in result)) throw new ScimError(500, 'Unexpected workflow result');
    const headers = { ...this.delivery(result), ETag: etagOf(result.user.version) };
    if (result.proxied) {
      // Proxy mode: accepted and sent on to the outbound targets, not stored here (RFC 7231 §6.3.3: 202).
      return {
        status: 202,
        body: this.renderUser(result.user, rt, projection, { proxied: true }),
        headers: { ...headers, 'X-Provisioning-Mode': 'proxy; not stored locally, provisioned to the outbound targets only' },
      };
    }
    return {
      status: created ? 201 : 200,
      body: this.renderUser(result.user, rt, projection),
      headers: { ...headers, ...(created && { Location: `${this.base}/scim2/Users/${result.user.id}` }) },
    };
  }

  private groupAnswer(result: InboundOutcome, rt: ResourceTypeDef, projection: ProjectionRequest, created: boolean): ScimResult {
    if ('pending' in result) return this.pendingAnswer(result);
    if (!result.ok) throw rejection(result);
    if (!('group' in result)) throw new ScimError(500, 'Unexpected workflow result');
    return {
      status: created ? 201 : 200,
      body: this.renderGroup(result.group, rt, projection),
      headers: {
        ...this.delivery(result),
        ETag: etagOf(result.group.version),
        ...(created && { Location: `${this.base}/scim2/Groups/${result.group.id}` }),
      },
    };
  }

  /** A group PATCH's answer: the store did not load the members (a PATCH on a big group touches only the rows it names). */
  private async patchedGroupAnswer(result: InboundOutcome, rt: ResourceTypeDef, projection: ProjectionRequest, caller?: ScimCaller): Promise<ScimResult> {
    if ('pending' in result) return this.pendingAnswer(result);
    if (!result.ok) throw rejection(result);
    if (!('group' in result)) throw new ScimError(500, 'Unexpected workflow result');
    // A domain-restricted caller sees only its domain's members (the status resource's reader sees them all).
    const confined = (g: GroupRecord) => (caller ? this.confineGroup(caller, g) : g);
    // Load them now only if the answer shows them.
    const group = this.wantsMembers(projection, rt) ? ((await getGroup(this.deps.db, result.group.id)) ?? result.group) : result.group;
    return {
      status: 200,
      body: this.renderGroup(confined(group.version >= result.group.version ? group : result.group), rt, projection),
      headers: { ETag: etagOf(result.group.version) },
    };
  }

  private deleteAnswer(result: InboundOutcome, proxy: boolean): ScimResult {
    if ('pending' in result) return this.pendingAnswer(result);
    if (!result.ok) throw rejection(result);
    return { status: proxy ? 202 : 204, headers: 'pendingTargets' in result ? this.delivery(result) : {} };
  }

  private defaultDomain(caller: ScimCaller): string {
    return 'domain' in caller.inbound ? caller.inbound.domain : 'PRIMARY';
  }

  /** The resource if the caller may see it (restrictedDomain); otherwise it does not exist for the caller. */
  private visible<T extends { domain: string }>(caller: ScimCaller, record: T | undefined): T | undefined {
    const only = restrictedDomain(caller);
    return record && (only === undefined || record.domain === only) ? record : undefined;
  }

  /** A restricted caller writes into its own domain only: anything else is 403, with the domain named. */
  private assertWritable(caller: ScimCaller, domain: string, what: string): void {
    const only = restrictedDomain(caller);
    if (only !== undefined && domain !== only) {
      throw new ScimError(403, `This application is restricted to user store domain ${only}: it cannot write ${what} in ${domain}`);
    }
  }

  /** For a restricted caller: a user without the groups, a group without the members, of other domains. */
  private confineUser(caller: ScimCaller, user: UserRecord): UserRecord {
    const only = restrictedDomain(caller);
    return only === undefined || !user.groups ? user : { ...user, groups: user.groups.filter((g) => domainOfDisplay(g.display) === only) };
  }

  private confineGroup(caller: ScimCaller, group: GroupRecord): GroupRecord {
    const only = restrictedDomain(caller);
    return only === undefined || !group.members ? group : { ...group, members: group.members.filter((m) => domainOfDisplay(m.display) === only) };
  }

  /** Group members a restricted caller names must be users or groups of its domain (others do not exist for it). */
  private async assertMembersVisible(caller: ScimCaller, members: readonly { value: string }[]): Promise<void> {
    const only = restrictedDomain(caller);
    const ids = [...new Set(members.map((m) => m.value.toLowerCase()).filter(isUuid))];
    if (only === undefined || ids.length === 0) return;
    const [users, groups] = await Promise.all([
      this.deps.db.user.findMany({ where: { id: { in: ids }, domain: { name: { not: only } } }, select: { id: true } }),
      this.deps.db.group.findMany({ where: { id: { in: ids }, domain: { name: { not: only } } }, select: { id: true } }),
    ]);
    const outside = users[0]?.id ?? groups[0]?.id;
    if (outside !== undefined) throw ScimError.badRequest(`Member '${outside}' does not exist in user store domain ${only}`);
  }

  // ---- Users ------------------------------------------------------------------------------------------

  async createUser(caller: ScimCaller, body: unknown, query: ListParams = {}): Promise<ScimResult> {
    const rt = await this.rt('User');
    const projection = projectionOf(query);
    const user = await this.prepareUserCreate(caller, body);
    const result = await this.run(caller, { operation: 'create', user, ...this.common(caller) }, { userName: user.userName });
    return this.userAnswer(result, rt, projection, true);
  }

  /**
   * A new user as POST /Users reads it (parsed, domain checked, password sealed), for POST /Users and for a Bulk run
   * of creates written by one workflow (createUsers); throws the ScimError POST /Users answers.
   */
  async prepareUserCreate(caller: ScimCaller, body: unknown): Promise<UserInput> {
    const rt = await this.rt('User');
    const parsed = parseUserInput(body, { defaultDomain: this.defaultDomain(caller), extensions: this.parsers(rt) });
    this.assertWritable(caller, parsed.domain, 'users');
    // New accounts are active unless the client says otherwise (as in WSO2).
    return { ...parsed, active: parsed.active ?? true, password: this.deps.sealer.sealOptional(parsed.password) };
  }

  /**
   * A Bulk request's run of user creates as one InboundProvision (`createBatch`, workflows/inbound-provision.ts),
   * under the request's key and the run's name (`caller.request.operation`): what it created or rejected, per
   * operation index, or Pending when it was still running at the request's deadline.
   */
  async createUsers(caller: ScimCaller, users: UserBatchOperation['users'], maxErrors: number | undefined): Promise<InboundOutcome> {
    return this.run(caller, { operation: 'createBatch', resourceType: 'User', users, maxErrors, ...this.common(caller) }, {});
  }

  /** A batch's answer as the status resource shows it: a BulkResponse of its operations, as src/scim/bulk.ts answers each. */
  private batchAnswer(result: InboundOutcome): ScimResult {
    if ('pending' in result) return this.pendingAnswer(result);
    if (!result.ok) throw rejection(result);
    if (!('batch' in result)) throw new ScimError(500, 'Unexpected workflow result');
    return { status: 200, body: { schemas: [SCHEMA_BULK_RESPONSE], Operations: result.batch.map((item) => batchItemOutcome(item, this.scimBaseUrl)) } };
  }

  async getUser(caller: ScimCaller, id: string, query: ListParams = {}, pre: Preconditions = {}): Promise<ScimResult> {
    const rt = await this.rt('User');
    const projection = projectionOf(query);
    const user = this.visible(caller, await getUser(this.deps.db, id));
    if (!user) throw ScimError.notFound('User', id);
    return notModified(pre, user.version) ?? { status: 200, body: this.renderUser(this.confineUser(caller, user), rt, projection), headers: { ETag: etagOf(user.version) } };
  }

  async replaceUser(caller: ScimCaller, id: string, body: unknown, pre: Preconditions = {}, query: ListParams = {}): Promise<ScimResult> {
    const rt = await this.rt('User');
    const projection = projectionOf(query);
    const proxy = 'proxyMode' in caller.inbound;
    const result = await this.orEarlierAttempt(caller, async () => {
      const current = isUuid(id) ? this.visible(caller, await getUser(this.deps.db, id)) : undefined;
      if (!current && !(proxy && isUuid(id))) throw ScimError.notFound('User', id);
      if (current) assertImmutableUnchanged(rt, this.renderUser(current, rt, {}), body);
      // A PUT without a domain prefix keeps the user in its domain.
      const parsed = parseUserInput(body, { defaultDomain: current?.domain ?? this.defaultDomain(caller), extensions: this.parsers(rt) });
      const user = { ...parsed, password: this.deps.sealer.sealOptional(parsed.password) };
      return this.run(
        caller,
        { operation: 'replace', userId: id, user, ifMatchVersion: requiredVersion(pre, current), ...this.common(caller) },
        { userName: user.userName, userId: id },
      );
    });
    return this.userAnswer(result, rt, projection, false);
  }

  async patchUser(caller: ScimCaller, id: string, body: unknown, pre: Preconditions = {}, query: ListParams = {}): Promise<ScimResult> {
    const rt = await this.rt('User');
    const projection = projectionOf(query);
    const result = await this.orEarlierAttempt(caller, async () => {
      const current = isUuid(id) ? this.visible(caller, await getUser(this.deps.db, id)) : undefined;
      if (!current && !('proxyMode' in caller.inbound)) throw ScimError.notFound('User', id);
      return this.run(
        caller,
        { operation: 'patch', userId: id, patch: mapPatchPasswords(body, (p) => this.deps.sealer.seal(p)), ifMatchVersion: requiredVersion(pre, current), ...this.common(caller) },
        { userId: id, ...(current && { userName: current.userName }) },
      );
    });
    return this.userAnswer(result, rt, projection, false);
  }

  async deleteUser(caller: ScimCaller, id: string, pre: Preconditions = {}): Promise<ScimResult> {
    const proxy = 'proxyMode' in caller.inbound;
    const result = await this.orEarlierAttempt(caller, async () => {
      const current = isUuid(id) ? this.visible(caller, await getUser(this.deps.db, id)) : undefined;
      if (!current && !(proxy && isUuid(id))) throw ScimError.notFound('User', id);
      return this.run(
        caller,
        { operation: 'delete', userId: id, ifMatchVersion: requiredVersion(pre, current), ...this.common(caller) },
        { userId: id, ...(current && { userName: current.userName }) },
      );
    });
    return this.deleteAnswer(result, proxy);
  }

  // ---- Groups -----------------------------------------------------------------------------------------

  /** The syntax `filter` parameters of `type` are read with. */
  private filterSyntax(type: ResourceTypeName): FilterSyntax {
    const f = this.deps.filters;
    return { lenient: f?.lenient === true, dialect: f?.dialect?.(type) };
  }

  /** Whether a group response needs its members (they may be many: load them only when they are shown). */
  private wantsMembers(projection: ProjectionRequest, rt: ResourceTypeDef): boolean {
    // Names resolve as projection resolves them (`members`, `members.display`, a URN-qualified form).
    const isMembers = (name: string): boolean => {
      if (name.toLowerCase() === rt.schema.id.toLowerCase()) return true;
      try {
        const r = lookupAttrPath(rt, parseAttrPath(name));
        return !isPathProblem(r) && r.schema === rt.schema && r.attribute.name === 'members';
      } catch (err) {
        if (err instanceof ScimError) return false; // not attribute notation: projection ignores it too
        throw err;
      }
    };
    const named = (list: string[] | undefined) => list?.some(isMembers) ?? false;
    if (projection.excludedAttributes && named(projection.excludedAttributes)) return false;
    if (projection.attributes && !named(projection.attributes)) return false;
    return true;
  }

  async createGroup(caller: ScimCaller, body: unknown, query: ListParams = {}): Promise<ScimResult> {
    const rt = await this.rt('Group');
    const projection = projectionOf(query);
    const group = parseGroupInput(body, { defaultDomain: this.defaultDomain(caller), extensions: this.parsers(rt) });
    this.assertWritable(caller, group.domain, 'groups');
    await this.assertMembersVisible(caller, group.members);
    const result = await this.run(caller, { operation: 'create', resourceType: 'Group', group, ...this.common(caller) }, {});
    return this.groupAnswer(result, rt, projection, true);
  }

  async getGroup(caller: ScimCaller, id: string, query: ListParams = {}, pre: Preconditions = {}): Promise<ScimResult> {
    const rt = await this.rt('Group');
    const projection = projectionOf(query);
    const group = this.visible(caller, await getGroup(this.deps.db, id, { members: this.wantsMembers(projection, rt) }));
    if (!group) throw ScimError.notFound('Group', id);
    return notModified(pre, group.version) ?? { status: 200, body: this.renderGroup(this.confineGroup(caller, group), rt, projection), headers: { ETag: etagOf(group.version) } };
  }

  async replaceGroup(caller: ScimCaller, id: string, body: unknown, pre: Preconditions = {}, query: ListParams = {}): Promise<ScimResult> {
    const rt = await this.rt('Group');
    const projection = projectionOf(query);
    const result = await this.orEarlierAttempt(caller, async () => {
      const current = this.visible(caller, await getGroup(this.deps.db, id, { members: false }));
      if (!current) throw ScimError.notFound('Group', id);
      assertImmutableUnchanged(rt, this.renderGroup(current, rt, {}), body);
      const group = parseGroupInput(body, { defaultDomain: current.domain, extensions: this.parsers(rt) });
      await this.assertMembersVisible(caller, group.members);
      return this.run(
        caller,
        { operation: 'replace', resourceType: 'Group', groupId: id, group, ifMatchVersion: requiredVersion(pre, current), ...this.common(caller) },
        {},
      );
    });
    return this.groupAnswer(result, rt, projection, false);
  }

  async patchGroup(caller: ScimCaller, id: string, body: unknown, pre: Preconditions = {}, query: ListParams = {}): Promise<ScimResult> {
    const rt = await this.rt('Group');
    const projection = projectionOf(query);
    const result = await this.orEarlierAttempt(caller, async () => {
      const current = this.visible(caller, await getGroup(this.deps.db, id, { members: false }));
      if (!current) throw ScimError.notFound('Group', id);
      if (restrictedDomain(caller) !== undefined) {
        // The members the PATCH adds, read as the store will (it applies the PATCH itself, under the row lock).
        const { members } = applyGroupPatch(toScimGroup(current, this.base), body, rt);
        await this.assertMembersVisible(caller, [...members.add, ...(members.replaceAll ?? [])]);
      }
      return this.run(
        caller,
        { operation: 'patch', resourceType: 'Group', groupId: id, patch: body, ifMatchVersion: requiredVersion(pre, current), ...this.common(caller) },
        {},
      );
    });
    return this.patchedGroupAnswer(result, rt, projection, caller);
  }

  async deleteGroup(caller: ScimCaller, id: string, pre: Preconditions = {}): Promise<ScimResult> {
    const result = await this.orEarlierAttempt(caller, async () => {
      const current = this.visible(caller, await getGroup(this.deps.db, id, { members: false }));
      if (!current) throw ScimError.notFound('Group', id);
      return this.run(
        caller,
        { operation: 'delete', resourceType: 'Group', groupId: id, ifMatchVersion: requiredVersion(pre, current), ...this.common(caller) },
        {},
      );
    });
    return this.deleteAnswer(result, false);
  }

  // ---- Lists and searches (RFC 7644 §3.4.2, §3.4.3; cursors: RFC 9865) -------------------------------

  async list(caller: ScimCaller, type: ResourceTypeName, params: ListParams): Promise<ScimResult> {
    const rt = await this.rt(type);
    const projection = projectionOf(params);
    const filterText = stringParam(params.filter, 'filter');
    const filter = filterText === undefined ? undefined : parseFilter(filterText, this.filterSyntax(type));
    const sortBy = stringParam(params.sortBy, 'sortBy');
    const sortOrderText = stringParam(params.sortOrder, 'sortOrder');
    if (sortOrderText !== undefined && !/^(ascending|descending)$/i.test(sortOrderText)) {
      throw ScimError.badRequest("sortOrder must be 'ascending' or 'descending'");
    }
    const sortOrder = sortOrderText?.toLowerCase() as 'ascending' | 'descending' | undefined;
    const requestedCount = intParam(params.count, 'count');
    const count = Math.min(Math.max(requestedCount ?? SCIM_PAGINATION.defaultPageSize, 0), SCIM_LIMITS.filterMaxResults);

    const cursorText = stringParam(params.cursor, 'cursor');
    const useCursor = cursorText !== undefined;
    if (useCursor && params.startIndex !== undefined) throw ScimError.badRequest('startIndex and cursor cannot be combined (RFC 9865 §2)');
    // A cursor is bound to the query it pages through; another query with it is a client error.
    const queryKey = JSON.stringify([type, filterText ?? '', sortBy ?? '', sortOrder ?? '']);
    const cursor = useCursor && cursorText !== '' ? this.deps.cursors.decode(cursorText, queryKey) : undefined;
    const startIndex = useCursor ? (cursor?.offset ?? 0) + 1 : startIndexParam(params.startIndex);

    const query = {
      rt,
      filter,
      sortBy,
      sortOrder,
      startIndex,
      count,
      domain: restrictedDomain(caller),
      ...(cursor?.after && { after: { created: new Date(cursor.after.created), id: cursor.after.id }, startIndex: 1 }),
    };
    const { total, ids } = type === 'User' ? await queryUserIds(this.deps.db, query) : await queryGroupIds(this.deps.db, query);
    const records: (UserRecord | GroupRecord)[] =
      type === 'User' ? await getUsersByIds(this.deps.db, ids) : await getGroupsByIds(this.deps.db, ids, { members: this.wantsMembers(projection, rt) });
    const resources = records.map((r) =>
      'userName' in r ? this.renderUser(this.confineUser(caller, r), rt, projection) : this.renderGroup(this.confineGroup(caller, r), rt, projection),
    );

    const body: Record<string, unknown> = {
      schemas: [SCHEMA_LIST_RESPONSE],
      totalResults: total,
      itemsPerPage: resources.length,
    };
    if (useCursor) {
      const consumed = startIndex - 1 + records.length;
      const last = records[records.length - 1];
      if (last && records.length === count && consumed < total) {
        // Keyset cursors for the default order (stable when resources are added or removed meanwhile);
        // offsets when sorted by an attribute.
        body.nextCursor =
          sortBy === undefined
            ? this.deps.cursors.encode({ offset: consumed, after: { created: last.created, id: last.id } }, queryKey)
            : this.deps.cursors.encode({ offset: consumed }, queryKey);
      }
    } else {
      body.startIndex = startIndex;
    }
    body.Resources = resources;
    return { status: 200, body };
  }

  /**
   * A search from the service provider's root (RFC 7644 §3.4.3): the filter applies to every resource type
   * it can (a type whose schema lacks a filter attribute contributes nothing); the pages run through Users,
   * then Groups. Cursors are not offered here.
   */
  async searchAll(
    caller: ScimCaller,
    params: ListParams,
    types: readonly ResourceTypeName[],
    /** Listings of resource types served elsewhere (Roles), searched after these, in the same way. */
    others: readonly ((params: ListParams) => Promise<ScimResult>)[] = [],
  ): Promise<ScimResult> {
    if (params.cursor !== undefined) throw ScimError.badRequest('Cursor pagination is offered on /Users and /Groups, not on the root search');
    const startIndex = startIndexParam(params.startIndex);
    const count = Math.min(Math.max(intParam(params.count, 'count') ?? SCIM_PAGINATION.defaultPageSize, 0), SCIM_LIMITS.filterMaxResults);
    const listers = [...types.map((type) => (p: ListParams) => this.list(caller, type, p)), ...others];
    const totals: { list: (p: ListParams) => Promise<ScimResult>; total: number }[] = [];
    let lastError: ScimError | undefined;
    for (const list of listers) {
      try {
        const r = await list({ ...params, startIndex: 1, count: 0 });
        totals.push({ list, total: r.body?.totalResults as number });
      } catch (err) {
        if (!(err instanceof ScimError) || err.scimType !== 'invalidFilter') throw err;
        lastError = err;
      }
    }
    if (totals.length === 0 && lastError) throw lastError;
    const resources: unknown[] = [];
    let skip = startIndex - 1;
    for (const { list, total } of totals) {
      if (resources.length >= count) break;
      if (skip >= total) {
        skip -= total;
        continue;
      }
      const page = await list({ ...params, startIndex: skip + 1, count: count - resources.length });
      resources.push(...(page.body?.Resources as unknown[]));
      skip = 0;
    }
    return {
      status: 200,
      body: {
        schemas: [SCHEMA_LIST_RESPONSE],
        totalResults: totals.reduce((n, t) => n + t.total, 0),
        startIndex,
        itemsPerPage: resources.length,
        Resources: resources,
      },
    };
  }
}
