/**
 * SCIM 2.0 outbound connector (an RFC 7644 client), with the settings of WSO2's "SCIM 2.0 Provisioning
 * Configuration" and more:
 *
 * - endpoints: `userEndpoint`, optional `groupEndpoint` (without it, groups are not provisioned);
 * - authentication to the target (../scim-http.ts, shared with SCIM 1.1): basic (`username` + secret `password`),
 *   OAuth 2.0 client credentials (`tokenEndpoint`, `clientId`, optional `scope` and `tokenEndpointAuthMethod`,
 *   secret `clientSecret`; tokens cached, renewed once on a 401), or a static bearer token (secret `bearerToken`);
 * - `userStoreDomain` at the target (PRIMARY sends bare names), password provisioning with a `defaultPassword`;
 * - `updateMethod`: `auto` (default) reads the target's ServiceProviderConfig (`serviceProviderConfigEndpoint`,
 *   default `<base>/ServiceProviderConfig`) and PATCHes when it says `patch.supported`, else PUTs (../scim-discovery.ts);
 *   `patch` or `put` force one. PATCH bodies carry the whole state (./patch-body.ts), so the target ends as a PUT
 *   would leave it; a target that refuses PATCH (501, 405, or 400 invalidPath/noTarget for an attribute it lacks)
 *   gets PUT for the next 10 minutes;
 * - `deprovision`: `delete` (default, WSO2's behaviour) DELETEs the user; `deactivate` sets `active: false`
 *   (PATCH, or PUT of the user's state). A user already gone is not an error either way.
 *
 * Users: create POST, update PATCH or PUT, find by `filter=userName eq "..."`, list page by page for
 * reconciliation. Groups: the same over the group endpoint, members as the target's ids.
 *
 * @example
 * {
 *   "type": "scim2",
 *   "settings": { "userEndpoint": "https://is2.example.com/scim2/Users", "groupEndpoint": "https://is2.example.com/scim2/Groups",
 *                 "tokenEndpoint": "https://is2.example.com/oauth2/token", "clientId": "provisioner",
 *                 "scope": "internal_user_mgt_create internal_user_mgt_update", "deprovision": "deactivate" },
 *   "secrets": { "clientSecret": "..." }
 * }
 */
import { z } from 'zod';
import { SCIM_CONTENT_TYPE } from '../../scim/schemas.js';
import { qualifiedUserName, toScimUser } from '../../scim/user-resource.js';
import {
  ConnectorMisconfigured,
  ConnectorNotFound,
  ConnectorRejected,
  ConnectorTransient,
  type ConnectorError,
} from '../errors.js';
import { withMappedAttributes } from '../scim-mapping.js';
import { scimAuth, scimAuthIssues, scimAuthSecrets, scimAuthSettings, scimRequest, scimStatusError, SCIM_AUTH_SECRET_FIELDS, type ScimAuth } from '../scim-http.js';
import type { ConnectorConfig, ConnectorFactory, OutboundConnector, OutboundGroup, OutboundUser, RemoteGroup, RemoteUser } from '../types.js';
import { defineConnector } from '../define.js';
import { chooseUpdateMethod, DISCOVERY_TTL_MS, patchOrPut, serviceProviderConfigUrl, type UpdateMethod } from '../scim-discovery.js';
import { deactivatePatchBody, groupPatchBody, userPatchBody, type PatchOpBody } from './patch-body.js';

const httpUrl = z.string().refine((v) => /^https?:\/\//.test(v) && URL.canParse(v), 'must be an http(s) URL');

export const scim2Settings = scimAuthSettings.extend({
  userEndpoint: httpUrl,
  groupEndpoint: httpUrl.optional(),
  /** The user store domain at the target (WSO2: "Userstore Domain"); PRIMARY sends bare user names. */
  userStoreDomain: z.string().min(1).default('PRIMARY'),
  /** How changes are sent: `auto` asks the target's ServiceProviderConfig; `patch` or `put` force one. */
  updateMethod: z.enum(['auto', 'patch', 'put']).default('auto'),
  /** Where the target's ServiceProviderConfig is, when not beside the user endpoint. */
  serviceProviderConfigEndpoint: httpUrl.optional(),
  /** What deleting a user means at the target: DELETE it, or set `active: false`. */
  deprovision: z.enum(['delete', 'deactivate']).default('delete'),
  /** HTTP timeout of one call, in ms. */
  timeoutMs: z.number().int().positive().default(30_000),
  /**
   * Whether a Bulk load's new users go to the target's `/Bulk` (RFC 7644 §3.7): `auto` when its
   * ServiceProviderConfig says `bulk.supported` (within its maxOperations and maxPayloadSize), `never` one POST each.
   */
  bulk: z.enum(['auto', 'never']).default('auto'),
});
export type Scim2Settings = z.infer<typeof scim2Settings>;

export const scim2Secrets = scimAuthSecrets.extend({
  defaultPassword: z.string().optional(),
});

const SECRET_FIELDS = [...SCIM_AUTH_SECRET_FIELDS, 'defaultPassword'] as const;

/** Checks across fields, after the schemas (see defineConnector). */
function check(a: z.ZodSafeParseResult<z.output<typeof scim2Settings>>, _b: z.ZodSafeParseResult<z.output<typeof scim2Secrets>>, config: ConnectorConfig): string[] {
  const out: string[] = [];
  if (a.success) out.push(...scimAuthIssues(a.data, config.secrets));
  return out;
}

/** What a target's ServiceProviderConfig says of `/Bulk`; undefined: not supported (or not known). */
interface BulkSupport {
  maxOperations: number;
  maxPayloadSize: number;
}

/** What each target said of `/Bulk`, per ServiceProviderConfig URL and credential, for DISCOVERY_TTL_MS (as the update method). */
const bulkSupport = new Map<string, { support: BulkSupport | undefined; expiresAt: number }>();
/** Discoveries under way: concurrent batches to one target share one request. */
const bulkSupportAsked = new Map<string, Promise<BulkSupport | undefined>>();

/** The error createUser would have thrown for a Bulk operation's answer (its status and SCIM error body). */
function bulkOperationError(status: number, response: unknown): ConnectorError {
  const body = response as { detail?: unknown; scimType?: unknown } | undefined;
  const detail = typeof body?.detail === 'string' ? body.detail : `the target answered ${status}`;
  const scimType = typeof body?.scimType === 'string' ? body.scimType : undefined;
  return scimStatusError(status, `Bulk operation: ${status}${scimType ? ` ${scimType}` : ''}: ${detail}`.slice(0, 1000), scimType);
}

export class Scim2Connector implements OutboundConnector {
  // Group methods exist only with a group endpoint: without one the connector provisions users only, and group
  // deliveries to it are skipped (and audited as such), not failed.
  readonly createGroup?: (group: OutboundGroup) => Promise<{ remoteId: string }>;
  readonly updateGroup?: (remoteId: string, group: OutboundGroup) => Promise<void>;
  readonly deleteGroup?: (remoteId: string) => Promise<void>;
  readonly findGroupByDisplayName?: (displayName: string) => Promise<{ remoteId: string } | undefined>;

  private readonly auth: ScimAuth;
  /** The ServiceProviderConfig URL, and the key of what was learnt about this target with these credentials. */
  private readonly spcUrl: string;
  private readonly discoveryKey: string;

  constructor(
    private readonly settings: Scim2Settings,
    secrets: z.infer<typeof scim2Secrets>,
  ) {
    this.auth = scimAuth(settings, secrets, settings.timeoutMs);
    this.spcUrl = serviceProviderConfigUrl(settings.userEndpoint, settings.serviceProviderConfigEndpoint);
    this.discoveryKey = `${settings.updateMethod === 'patch' ? 'patch-forced ' : ''}${this.spcUrl} ${this.auth.fingerprint}`;
    const groupEndpoint = settings.groupEndpoint;
    if (groupEndpoint !== undefined) {
      const groupUrl = (remoteId: string) => `${groupEndpoint.replace(/\/+$/, '')}/${encodeURIComponent(remoteId)}`;
      this.createGroup = async (group) => {
        const created = await this.request('POST', groupEndpoint, this.groupBody(group));
        const id = (created as { id?: unknown } | undefined)?.id;
        if (typeof id !== 'string' || id === '') throw new ConnectorRejected('The target answered the group create without a resource id');
        return { remoteId: id };
      };
      // The whole membership is sent, as PUT or as a PATCH replacing `members`: the delivery sends state, not deltas.
      this.updateGroup = async (remoteId, group) => {
        const body = this.groupBody(group);
        await this.update(groupUrl(remoteId), () => groupPatchBody(body), () => body);
      };
      this.deleteGroup = async (remoteId) => {
        try {
          await this.request('DELETE', groupUrl(remoteId));
        } catch (err) {
          if (!(err instanceof ConnectorNotFound)) throw err;
        }
      };
      this.findGroupByDisplayName = async (displayName) => {
        const url = new URL(groupEndpoint);
        url.searchParams.set('filter', `displayName eq ${JSON.stringify(this.qualified(displayName))}`);
        url.searchParams.set('excludedAttributes', 'members');
        const list = (await this.request('GET', url.toString())) as { Resources?: { id?: unknown }[] } | undefined;
        const id = list?.Resources?.[0]?.id;
        return typeof id === 'string' ? { remoteId: id } : undefined;
      };
    }
  }

  /** The name at the target: the connector's user store domain prefixes names that have none (WSO2's convention). */
  private qualified(name: string): string {
    return name.includes('/') ? name : qualifiedUserName(this.settings.userStoreDomain.toUpperCase(), name);
  }

  private groupBody(group: OutboundGroup): Record<string, unknown> {
    return {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: this.qualified(group.displayName),
      ...(group.externalId !== undefined && { externalId: group.externalId }),
      members: group.members.map((m) => ({ value: m.remoteId, type: m.type })),
    };
  }

  async createUser(user: OutboundUser): Promise<{ remoteId: string }> {
    const created = await this.request('POST', this.settings.userEndpoint, this.toBody(user));
    const id = (created as { id?: unknown } | undefined)?.id;
    if (typeof id !== 'string' || id === '') throw new ConnectorRejected('The target answered the create without a resource id');
    return { remoteId: id };
  }

  /** What the target's ServiceProviderConfig says of `/Bulk` (cached per target and credential). */
  private async bulkSupport(): Promise<BulkSupport | undefined> {
    if (this.settings.bulk === 'never') return undefined;
    const cached = bulkSupport.get(this.discoveryKey);
    if (cached && Date.now() < cached.expiresAt) return cached.support;
    let asking = bulkSupportAsked.get(this.discoveryKey);
    if (!asking) {
      asking = (async () => {
        let support: BulkSupport | undefined;
        try {
          const spc = (await this.request('GET', this.spcUrl)) as { bulk?: { supported?: unknown; maxOperations?: unknown; maxPayloadSize?: unknown } } | undefined;
          const b = spc?.bulk;
          const positive = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v > 0;
          if (b?.supported === true && positive(b.maxOperations) && positive(b.maxPayloadSize)) {
            support = { maxOperations: b.maxOperations as number, maxPayloadSize: b.maxPayloadSize as number };
          }
        } catch (err) {
          // Down, slow or refusing our credentials: not an answer to remember (the batch is retried).
          if (err instanceof ConnectorTransient || err instanceof ConnectorMisconfigured) throw err;
          // No ServiceProviderConfig to read (404, ...): one POST per user, which every target takes.
        }
        bulkSupport.set(this.discoveryKey, { support, expiresAt: Date.now() + DISCOVERY_TTL_MS });
        return support;
      })().finally(() => bulkSupportAsked.delete(this.discoveryKey));
      bulkSupportAsked.set(this.discoveryKey, asking);
    }
    return asking;
  }

  /**
   * New users in as few `/Bulk` requests as the target's limits allow (RFC 7644 §3.7: each a POST with its own
   * bulkId, no failOnErrors, so every one is tried); undefined when the target does not take Bulk requests.
   */
  async createUsers(users: OutboundUser[]): Promise<({ remoteId: string } | { error: ConnectorError })[] | undefined> {
    const support = await this.bulkSupport();
    if (!support) return undefined;
    const bulkUrl = this.spcUrl.replace(/\/ServiceProviderConfigs?$/, '/Bulk');
    const out: ({ remoteId: string } | { error: ConnectorError })[] = [];
    const operations = users.map((user, i) => ({ method: 'POST', path: '/Users', bulkId: `u${i}`, data: this.toBody(user) }));
    // Requests within maxOperations and (with room for the envelope) maxPayloadSize.
    for (let from = 0; from < operations.length; ) {
      let size = 200;
      let to = from;
      while (to < operations.length && to - from < support.maxOperations) {
        const next = JSON.stringify(operations[to]).length + 1;
        if (to > from && size + next > support.maxPayloadSize * 0.9) break;
        size += next;
        to += 1;
      }
      const chunk = operations.slice(from, to);
      const answer = (await this.request('POST', bulkUrl, { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations: chunk })) as
        | { Operations?: { bulkId?: unknown; status?: unknown; location?: unknown; response?: unknown }[] }
        | undefined;
      const byBulkId = new Map((answer?.Operations ?? []).map((o) => [o.bulkId, o]));
      for (const op of chunk) {
        const o = byBulkId.get(op.bulkId);
        const status = Number(typeof o?.status === 'object' ? (o.status as { code?: unknown }).code : o?.status);
        if (!o || !Number.isInteger(status)) {
          out.push({ error: new ConnectorTransient(`The target's Bulk answer has no outcome for ${op.data.userName as string}`) });
          continue;
        }
        if (status === 202) {
          // Accepted but still being applied there: its id comes with the outcome, so the batch asks again later.
          out.push({ error: new ConnectorTransient(`The target is still applying the create of ${op.data.userName as string} (202)`, 202) });
          continue;
        }
        if (status >= 300) {
          out.push({ error: bulkOperationError(status, o.response) });
          continue;
        }
        const fromResponse = (o.response as { id?: unknown } | undefined)?.id;
        const fromLocation = typeof o.location === 'string' ? decodeURIComponent(o.location.replace(/\/+$/, '').split('/').pop() ?? '') : '';
        const remoteId = typeof fromResponse === 'string' && fromResponse !== '' ? fromResponse : fromLocation;
        out.push(remoteId ? { remoteId } : { error: new ConnectorRejected('The target answered a Bulk create without a location or resource id') });
      }
      from = to;
    }
    return out;
  }

  async updateUser(remoteId: string, user: OutboundUser): Promise<void> {
    const body = this.toBody(user);
    await this.update(this.userUrl(remoteId), () => userPatchBody(body), () => body);
  }

  async deleteUser(remoteId: string, user: OutboundUser): Promise<void> {
    try {
      if (this.settings.deprovision === 'deactivate') {
        // The user stays at the target, disabled; its password is not sent again.
        await this.update(this.userUrl(remoteId), deactivatePatchBody, () => ({ ...this.toBody({ ...user, password: undefined }), active: false }));
      } else {
        await this.request('DELETE', this.userUrl(remoteId));
      }
    } catch (err) {
      if (!(err instanceof ConnectorNotFound)) throw err;
    }
  }

  async findUserByUserName(userName: string): Promise<{ remoteId: string } | undefined> {
    const target = qualifiedUserName(this.settings.userStoreDomain.toUpperCase(), userName);
    const url = new URL(this.settings.userEndpoint);
    url.searchParams.set('filter', `userName eq ${JSON.stringify(target)}`);
    const list = (await this.request('GET', url.toString())) as { Resources?: { id?: unknown }[] } | undefined;
    const id = list?.Resources?.[0]?.id;
    return typeof id === 'string' ? { remoteId: id } : undefined;
  }

  /**
   * Every resource at an endpoint, for reconciliation: index-based paging (RFC 7644 §3.4.2.4), `count` a page, until a
   * page comes back short or `totalResults` is reached; `attributes` keeps the pages small.
   */
  private async *listAll(endpoint: string, attributes: string): AsyncIterable<Record<string, unknown>> {
    const pageSize = 100;
    for (let startIndex = 1; ; ) {
      const url = new URL(endpoint);
      url.searchParams.set('startIndex', String(startIndex));
      url.searchParams.set('count', String(pageSize));
      url.searchParams.set('attributes', attributes);
      const page = (await this.request('GET', url.toString())) as { totalResults?: unknown; Resources?: Record<string, unknown>[] } | undefined;
      const resources = page?.Resources ?? [];
      yield* resources;
      startIndex += resources.length;
      const total = typeof page?.totalResults === 'number' ? page.totalResults : undefined;
      if (resources.length === 0 || (total !== undefined && startIndex > total) || (total === undefined && resources.length < pageSize)) return;
    }
  }

  /** Every user at the target, for reconciliation. */
  async *listUsers(): AsyncIterable<RemoteUser> {
    for await (const r of this.listAll(this.settings.userEndpoint, 'userName,externalId,active')) {
      if (typeof r.id !== 'string' || typeof r.userName !== 'string') continue;
      yield {
        remoteId: r.id,
        userName: r.userName,
        externalId: typeof r.externalId === 'string' ? r.externalId : undefined,
        active: typeof r.active === 'boolean' ? r.active : undefined,
        raw: r,
      };
    }
  }

  /**
   * Every group at the target with its members' ids, for reconciliation (only with a group endpoint). Members are
   * asked for by `attributes`: a target that leaves them out of lists shows its groups as empty.
   */
  async *listGroups(): AsyncIterable<RemoteGroup> {
    if (this.settings.groupEndpoint === undefined) return;
    for await (const r of this.listAll(this.settings.groupEndpoint, 'displayName,externalId,members.value')) {
      if (typeof r.id !== 'string' || typeof r.displayName !== 'string') continue;
      const members = Array.isArray(r.members) ? (r.members as { value?: unknown }[]) : [];
      yield {
        remoteId: r.id,
        displayName: r.displayName,
        externalId: typeof r.externalId === 'string' ? r.externalId : undefined,
        memberRemoteIds: members.flatMap((m) => (typeof m.value === 'string' ? [m.value] : [])),
      };
    }
  }

  /** PATCH or PUT, as this target takes updates (../scim-discovery.ts). */
  async updateMethod(): Promise<UpdateMethod> {
    // `patch` is forced unless the target refused PATCH lately.
    return chooseUpdateMethod(this.settings.updateMethod, this.discoveryKey, () => this.request('GET', this.spcUrl));
  }

  /**
   * Sends a resource's state: as a PATCH when the target takes them, else (or when it refuses PATCH after all) as
   * a PUT. The bodies are built lazily, so only the one sent is.
   */
  private async update(url: string, patchBody: () => PatchOpBody, putBody: () => Record<string, unknown>): Promise<void> {
    // RFC 7644 §3.5.2: PATCH is OPTIONAL; a target that does not implement it (501), does not allow it here
    // (405), or whose PATCH cannot name an attribute it lacks (invalidPath/noTarget) still takes PUT.
    await patchOrPut(
      await this.updateMethod(),
      this.discoveryKey,
      () => this.request('PATCH', url, patchBody()),
      () => this.request('PUT', url, putBody()),
    );
  }

  private userUrl(remoteId: string): string {
    return `${this.settings.userEndpoint.replace(/\/+$/, '')}/${encodeURIComponent(remoteId)}`;
  }

  private toBody(user: OutboundUser): Record<string, unknown> {
    const { id: _id, meta: _meta, ...rendered } = toScimUser(user, '');
    rendered.userName = qualifiedUserName(this.settings.userStoreDomain.toUpperCase(), user.userName);
    // The connector's attribute mapping, by SCIM path; the PATCH body is built from this one, so it carries them too.
    const body = withMappedAttributes(rendered, user.mapped);
    if (user.password !== undefined) body.password = user.password;
    return body;
  }

  /** HTTP through the shared SCIM transport (src/connectors/scim-http.ts), which maps outcomes to the error taxonomy. */
  private request(method: string, url: string, body?: unknown): Promise<unknown> {
    return scimRequest(
      {
        contentType: SCIM_CONTENT_TYPE,
        auth: this.auth,
        timeoutMs: this.settings.timeoutMs,
        errorDetail: (json) => {
          const detail = (json as { detail?: unknown } | undefined)?.detail;
          return typeof detail === 'string' ? detail : undefined;
        },
        errorType: (json) => {
          const scimType = (json as { scimType?: unknown } | undefined)?.scimType;
          return typeof scimType === 'string' ? scimType : undefined;
        },
      },
      method,
      url,
      body,
    );
  }
}

export const scim2Factory: ConnectorFactory = defineConnector({
  type: 'scim2',
  label: 'SCIM 2.0',
  settings: scim2Settings,
  secrets: scim2Secrets,
  secretFields: SECRET_FIELDS,
  check,
  build: (settings, secrets) => new Scim2Connector(settings, secrets),
});
