/**
 * SCIM 2.0 outbound connector (RFC 7644 client): the settings WSO2's "SCIM 2.0 Provisioning Configuration"
 * has: user and group endpoints, basic-auth username and password, the user store domain to provision to,
 * and password provisioning with a default password.
 */
import { z } from 'zod';
import { SCIM_CONTENT_TYPE } from '../../scim/schemas.js';
import { qualifiedUserName, toScimUser } from '../../scim/user-resource.js';
import {
  ConnectorMisconfigured,
  ConnectorNotFound,
  ConnectorRejected,
} from '../errors.js';
import { scimRequest } from '../scim-http.js';
import type { ConnectorConfig, ConnectorFactory, OutboundConnector, OutboundGroup, OutboundUser, RemoteUser } from '../types.js';

const httpUrl = z.string().refine((v) => /^https?:\/\//.test(v) && URL.canParse(v), 'must be an http(s) URL');

export const scim2Settings = z.object({
  userEndpoint: httpUrl,
  groupEndpoint: httpUrl.optional(),
  username: z.string().min(1).optional(),
  /** The user store domain at the target (WSO2: "Userstore Domain"); PRIMARY sends bare user names. */
  userStoreDomain: z.string().min(1).default('PRIMARY'),
  /** HTTP timeout of one call, in ms. */
  timeoutMs: z.number().int().positive().default(30_000),
});
export type Scim2Settings = z.infer<typeof scim2Settings>;

export const scim2Secrets = z.object({
  password: z.string().optional(),
  defaultPassword: z.string().optional(),
});

const SECRET_FIELDS = ['password', 'defaultPassword'] as const;

function issuesOf(config: ConnectorConfig): string[] {
  const a = scim2Settings.safeParse(config.settings);
  const b = scim2Secrets.safeParse(config.secrets);
  const issues = [...(a.success ? [] : a.error.issues), ...(b.success ? [] : b.error.issues)];
  const out = issues.map((i) => `${i.path.join('.') || 'settings'}: ${i.message}`);
  if (a.success && a.data.username !== undefined && !config.secrets.password) {
    out.push('password: required with username (basic authentication)');
  }
  return out;
}

export class Scim2Connector implements OutboundConnector {
  // Group methods exist only with a group endpoint: without one the connector provisions users only, and group
  // deliveries to it are skipped (and audited as such), not failed.
  readonly createGroup?: (group: OutboundGroup) => Promise<{ remoteId: string }>;
  readonly updateGroup?: (remoteId: string, group: OutboundGroup) => Promise<void>;
  readonly deleteGroup?: (remoteId: string) => Promise<void>;
  readonly findGroupByDisplayName?: (displayName: string) => Promise<{ remoteId: string } | undefined>;

  constructor(
    private readonly settings: Scim2Settings,
    private readonly secrets: z.infer<typeof scim2Secrets>,
  ) {
    const groupEndpoint = settings.groupEndpoint;
    if (groupEndpoint !== undefined) {
      const groupUrl = (remoteId: string) => `${groupEndpoint.replace(/\/+$/, '')}/${encodeURIComponent(remoteId)}`;
      this.createGroup = async (group) => {
        const created = await this.request('POST', groupEndpoint, this.groupBody(group));
        const id = (created as { id?: unknown } | undefined)?.id;
        if (typeof id !== 'string' || id === '') throw new ConnectorRejected('The target answered the group create without a resource id');
        return { remoteId: id };
      };
      // PUT replaces the whole membership with the group's current state: the delivery sends state, not deltas.
      this.updateGroup = async (remoteId, group) => {
        await this.request('PUT', groupUrl(remoteId), this.groupBody(group));
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

  async updateUser(remoteId: string, user: OutboundUser): Promise<void> {
    await this.request('PUT', this.userUrl(remoteId), this.toBody(user));
  }

  async deleteUser(remoteId: string): Promise<void> {
    try {
      await this.request('DELETE', this.userUrl(remoteId));
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
   * Every user at the target, for reconciliation: index-based paging (RFC 7644 §3.4.2.4), `count` users a page,
   * until a page comes back short or `totalResults` is reached.
   */
  async *listUsers(): AsyncIterable<RemoteUser> {
    const pageSize = 100;
    for (let startIndex = 1; ; ) {
      const url = new URL(this.settings.userEndpoint);
      url.searchParams.set('startIndex', String(startIndex));
      url.searchParams.set('count', String(pageSize));
      url.searchParams.set('attributes', 'userName,externalId,active');
      const page = (await this.request('GET', url.toString())) as { totalResults?: unknown; Resources?: Record<string, unknown>[] } | undefined;
      const resources = page?.Resources ?? [];
      for (const r of resources) {
        if (typeof r.id !== 'string' || typeof r.userName !== 'string') continue;
        yield {
          remoteId: r.id,
          userName: r.userName,
          externalId: typeof r.externalId === 'string' ? r.externalId : undefined,
          active: typeof r.active === 'boolean' ? r.active : undefined,
          raw: r,
        };
      }
      startIndex += resources.length;
      const total = typeof page?.totalResults === 'number' ? page.totalResults : undefined;
      if (resources.length === 0 || (total !== undefined && startIndex > total) || (total === undefined && resources.length < pageSize)) return;
    }
  }

  private userUrl(remoteId: string): string {
    return `${this.settings.userEndpoint.replace(/\/+$/, '')}/${encodeURIComponent(remoteId)}`;
  }

  private toBody(user: OutboundUser): Record<string, unknown> {
    const { id: _id, meta: _meta, ...body } = toScimUser(user, '');
    body.userName = qualifiedUserName(this.settings.userStoreDomain.toUpperCase(), user.userName);
    if (user.password !== undefined) body.password = user.password;
    return body;
  }

  /** HTTP through the shared SCIM transport (src/connectors/scim-http.ts), which maps outcomes to the error taxonomy. */
  private request(method: string, url: string, body?: unknown): Promise<unknown> {
    return scimRequest(
      {
        contentType: SCIM_CONTENT_TYPE,
        username: this.settings.username,
        password: this.secrets.password,
        timeoutMs: this.settings.timeoutMs,
        errorDetail: (json) => {
          const detail = (json as { detail?: unknown } | undefined)?.detail;
          return typeof detail === 'string' ? detail : undefined;
        },
      },
      method,
      url,
      body,
    );
  }
}

export const scim2Factory: ConnectorFactory = {
  type: 'scim2',
  secretFields: SECRET_FIELDS,
  validate: issuesOf,
  create(config) {
    const issues = issuesOf(config);
    if (issues.length > 0) throw new ConnectorMisconfigured(`SCIM 2.0 connector settings: ${issues.join('; ')}`);
    return new Scim2Connector(scim2Settings.parse(config.settings), scim2Secrets.parse(config.secrets));
  },
};
