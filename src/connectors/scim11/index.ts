/**
 * SCIM 1.1 outbound connector (a SCIM Protocol 1.1 client), with the settings of WSO2's "SCIM Provisioning
 * Configuration" for 1.1: user and group endpoints (WSO2: https://host:9443/wso2/scim/Users and /Groups),
 * authentication to the target as the SCIM 2.0 connector has it (../scim-http.ts: basic `username` + secret
 * `password`, OAuth 2.0 client credentials `tokenEndpoint` + `clientId` + secret `clientSecret`, or a secret
 * `bearerToken`), the user store domain to provision to, and password provisioning with a default password (the
 * delivery activity applies those two: a user arrives here with its password set only when the connector
 * provisions passwords).
 *
 * Updates go as PATCH or PUT, as the SCIM 2.0 connector's (`updateMethod`): `auto` (default) reads the target's
 * `<base>/ServiceProviderConfigs` (SCIM 1.1's name; `serviceProviderConfigEndpoint` overrides it) and PATCHes when
 * it says `patch.supported`, else PUTs; `patch` or `put` force one. The decision is shared with SCIM 2.0's
 * (../scim-discovery.ts: cached 10 minutes; a target that answers a PATCH 501 or 405 gets PUT from then on). PATCH
 * bodies are SCIM 1.1 partial resources carrying the whole state (./patch-body.ts): removals in `meta.attributes`,
 * multi-valued attributes listed there and sent again, so the target ends as a PUT would leave it.
 *
 * Users: create POST, update PATCH or PUT, delete DELETE (or, with `deprovision: 'deactivate'`, `active: false` by
 * PATCH `{active: false}` or PUT of the user), find by `filter=userName eq "..."`, list page by page for
 * reconciliation. Groups: the same over the group endpoint, members as `{value: <remote id>}`. Resources are sent
 * in SCIM 1.1 form (./schema.ts); HTTP outcomes become the connector error taxonomy in one place, `request`.
 *
 * Loadable as a plug-in until it joins the built-in connectors:
 * `CONNECTOR_PLUGINS=/abs/path/src/connectors/scim11/index.ts` (its default export is the factory).
 */
import { z } from 'zod';
import { qualifiedUserName, toScimUser } from '../../scim/user-resource.js';
import {
  ConnectorMisconfigured,
  ConnectorNotFound,
  ConnectorRejected,
} from '../errors.js';
import { scimAuth, scimAuthIssues, scimAuthSecrets, scimAuthSettings, scimRequest, SCIM_AUTH_SECRET_FIELDS, type ScimAuth } from '../scim-http.js';
import type { ConnectorConfig, ConnectorFactory, OutboundConnector, OutboundGroup, OutboundUser, RemoteUser } from '../types.js';
import { defineConnector } from '../define.js';
import { withMappedAttributes } from '../scim-mapping.js';
import { chooseUpdateMethod, patchOrPut, serviceProviderConfigUrl, type UpdateMethod } from '../scim-discovery.js';
import { deactivatePatchBody, groupPatchBody, userPatchBody, type Patch11Body } from './patch-body.js';
import { errorMessageOf, isObject, resourceTo11, SCIM11_CORE } from '../../scim/scim11.js';

const JSON_TYPE = 'application/json';

const httpUrl = z.string().refine((v) => /^https?:\/\//.test(v) && URL.canParse(v), 'must be an http(s) URL');

export const scim11Settings = scimAuthSettings.extend({
  userEndpoint: httpUrl,
  groupEndpoint: httpUrl.optional(),
  /** The user store domain at the target (WSO2: "Userstore Domain"); PRIMARY sends bare names. */
  userStoreDomain: z.string().min(1).default('PRIMARY'),
  /** How changes are sent: `auto` asks the target's ServiceProviderConfigs; `patch` or `put` force one. */
  updateMethod: z.enum(['auto', 'patch', 'put']).default('auto'),
  /** Where the target's ServiceProviderConfigs is, when not beside the user endpoint (`<base>/ServiceProviderConfigs`). */
  serviceProviderConfigEndpoint: httpUrl.optional(),
  /** What deleting a user means at the target: DELETE it, or set `active: false`. */
  deprovision: z.enum(['delete', 'deactivate']).default('delete'),
  /** HTTP timeout of one call, in ms. */
  timeoutMs: z.number().int().positive().default(30_000),
  /** Page size when listing users for reconciliation. */
  pageSize: z.number().int().positive().max(1000).default(100),
});
export type Scim11Settings = z.infer<typeof scim11Settings>;

export const scim11Secrets = scimAuthSecrets.extend({
  defaultPassword: z.string().optional(),
});

const SECRET_FIELDS = [...SCIM_AUTH_SECRET_FIELDS, 'defaultPassword'] as const;

/** Checks across fields, after the schemas (see defineConnector). */
function check(a: z.ZodSafeParseResult<z.output<typeof scim11Settings>>, _b: z.ZodSafeParseResult<z.output<typeof scim11Secrets>>, config: ConnectorConfig): string[] {
  const out: string[] = [];
  if (a.success) out.push(...scimAuthIssues(a.data, config.secrets));
  return out;
}

interface ListBody {
  totalResults?: unknown;
  Resources?: unknown[];
}

export class Scim11Connector implements OutboundConnector {
  private readonly auth: ScimAuth;
  /** The ServiceProviderConfigs URL, and the key of what was learnt about this target with these credentials. */
  private readonly spcUrl: string;
  private readonly discoveryKey: string;

  constructor(
    private readonly settings: Scim11Settings,
    secrets: z.infer<typeof scim11Secrets>,
  ) {
    this.auth = scimAuth(settings, secrets, settings.timeoutMs);
    this.spcUrl = serviceProviderConfigUrl(settings.userEndpoint, settings.serviceProviderConfigEndpoint, 'ServiceProviderConfigs');
    this.discoveryKey = `scim11 ${settings.updateMethod === 'patch' ? 'patch-forced ' : ''}${this.spcUrl} ${this.auth.fingerprint}`;
  }

  private get domain(): string {
    return this.settings.userStoreDomain.toUpperCase();
  }

  // ---- Users ------------------------------------------------------------------------------------------

  async createUser(user: OutboundUser): Promise<{ remoteId: string }> {
    return { remoteId: this.idOf(await this.request('POST', this.settings.userEndpoint, this.userBody(user)), 'create') };
  }

  async updateUser(remoteId: string, user: OutboundUser): Promise<void> {
    const body = this.userBody(user);
    await this.update(this.itemUrl(this.settings.userEndpoint, remoteId), () => userPatchBody(body), () => body);
  }

  async deleteUser(remoteId: string, user: OutboundUser): Promise<void> {
    try {
      if (this.settings.deprovision === 'deactivate') {
        // The user stays at the target, disabled; its password is not sent again.
        await this.update(this.itemUrl(this.settings.userEndpoint, remoteId), deactivatePatchBody, () => ({
          ...this.userBody({ ...user, password: undefined }),
          active: false,
        }));
      } else {
        await this.request('DELETE', this.itemUrl(this.settings.userEndpoint, remoteId));
      }
    } catch (err) {
      if (!(err instanceof ConnectorNotFound)) throw err;
    }
  }

  async findUserByUserName(userName: string): Promise<{ remoteId: string } | undefined> {
    return this.findOne(this.settings.userEndpoint, 'userName', qualifiedUserName(this.domain, userName));
  }

  async *listUsers(): AsyncIterable<RemoteUser> {
    const count = this.settings.pageSize;
    for (let startIndex = 1; ; ) {
      const url = new URL(this.settings.userEndpoint);
      url.searchParams.set('startIndex', String(startIndex));
      url.searchParams.set('count', String(count));
      const page = (await this.request('GET', url.toString())) as ListBody | undefined;
      const resources = Array.isArray(page?.Resources) ? page.Resources : [];
      for (const r of resources) {
        if (!isObject(r) || typeof r.id !== 'string' || typeof r.userName !== 'string') continue;
        yield {
          remoteId: r.id,
          userName: r.userName,
          ...(typeof r.externalId === 'string' && { externalId: r.externalId }),
          ...(typeof r.active === 'boolean' && { active: r.active }),
          raw: r,
        };
      }
      startIndex += resources.length;
      const total = typeof page?.totalResults === 'number' ? page.totalResults : undefined;
      // Stop at the end, or on an empty page (a target whose totalResults is missing or wrong).
      if (resources.length === 0 || (total !== undefined && startIndex > total)) return;
    }
  }

  // ---- Groups -----------------------------------------------------------------------------------------

  async createGroup(group: OutboundGroup): Promise<{ remoteId: string }> {
    return { remoteId: this.idOf(await this.request('POST', this.groupEndpoint(), this.groupBody(group)), 'create') };
  }

  // The whole membership is sent, as PUT or as a PATCH replacing `members`: the delivery sends state, not deltas.
  async updateGroup(remoteId: string, group: OutboundGroup): Promise<void> {
    const body = this.groupBody(group);
    await this.update(this.itemUrl(this.groupEndpoint(), remoteId), () => groupPatchBody(body), () => body);
  }

  async deleteGroup(remoteId: string): Promise<void> {
    try {
      await this.request('DELETE', this.itemUrl(this.groupEndpoint(), remoteId));
    } catch (err) {
      if (!(err instanceof ConnectorNotFound)) throw err;
    }
  }

  async findGroupByDisplayName(displayName: string): Promise<{ remoteId: string } | undefined> {
    return this.findOne(this.groupEndpoint(), 'displayName', qualifiedUserName(this.domain, displayName));
  }

  // ---- PATCH or PUT -----------------------------------------------------------------------------------

  /** PATCH or PUT, as this target takes updates (../scim-discovery.ts). */
  async updateMethod(): Promise<UpdateMethod> {
    // `patch` is forced unless the target refused PATCH lately.
    return chooseUpdateMethod(this.settings.updateMethod, this.discoveryKey, () => this.request('GET', this.spcUrl));
  }

  /**
   * Sends a resource's state: as a PATCH when the target takes them, else (or when it refuses PATCH after all: 501,
   * 405) as a PUT, which every SCIM 1.1 service provider has. The bodies are built lazily, so only the one sent is.
   */
  private async update(url: string, patchBody: () => Patch11Body, putBody: () => Record<string, unknown>): Promise<void> {
    await patchOrPut(
      await this.updateMethod(),
      this.discoveryKey,
      () => this.request('PATCH', url, patchBody()),
      () => this.request('PUT', url, putBody()),
    );
  }

  // ---- Bodies and URLs --------------------------------------------------------------------------------

  private groupEndpoint(): string {
    if (this.settings.groupEndpoint === undefined) {
      throw new ConnectorMisconfigured('The SCIM 1.1 connector has no group endpoint: set groupEndpoint to provision groups');
    }
    return this.settings.groupEndpoint;
  }

  private itemUrl(endpoint: string, remoteId: string): string {
    return `${endpoint.replace(/\/+$/, '')}/${encodeURIComponent(remoteId)}`;
  }

  /** The user as a SCIM 1.1 User: the 2.0 rendering translated, without what the target assigns. */
  userBody(user: OutboundUser): Record<string, unknown> {
    const { id: _id, meta: _meta, groups: _groups, ...scim2 } = toScimUser(user, '');
    // The connector's attribute mapping targets SCIM 2.0 paths: applied before the translation to 1.1.
    const body = resourceTo11(withMappedAttributes(scim2, user.mapped), undefined);
    body.userName = qualifiedUserName(this.domain, user.userName);
    if (user.password !== undefined) body.password = user.password;
    return body;
  }

  groupBody(group: OutboundGroup): Record<string, unknown> {
    return {
      schemas: [SCIM11_CORE],
      displayName: qualifiedUserName(this.domain, group.displayName),
      ...(group.externalId !== undefined && { externalId: group.externalId }),
      members: group.members.map((m) => ({ value: m.remoteId })),
    };
  }

  private idOf(created: unknown, what: string): string {
    const id = isObject(created) ? created.id : undefined;
    if (typeof id !== 'string' || id === '') throw new ConnectorRejected(`The target answered the ${what} without a resource id`);
    return id;
  }

  private async findOne(endpoint: string, attribute: string, value: string): Promise<{ remoteId: string } | undefined> {
    const url = new URL(endpoint);
    url.searchParams.set('filter', `${attribute} eq ${JSON.stringify(value)}`);
    const list = (await this.request('GET', url.toString())) as ListBody | undefined;
    const first = list?.Resources?.[0];
    return isObject(first) && typeof first.id === 'string' ? { remoteId: first.id } : undefined;
  }

  /** HTTP through the shared SCIM transport (src/connectors/scim-http.ts), with SCIM 1.1's error bodies. */
  private request(method: string, url: string, body?: unknown): Promise<unknown> {
    return scimRequest(
      {
        contentType: JSON_TYPE,
        auth: this.auth,
        timeoutMs: this.settings.timeoutMs,
        errorDetail: errorMessageOf,
        // SCIM 1.1 errors have no type; a target answering in 2.0 form may give one (a PATCH path it refuses).
        errorType: (json) => {
          const scimType = isObject(json) ? json.scimType : undefined;
          return typeof scimType === 'string' ? scimType : undefined;
        },
      },
      method,
      url,
      body,
    );
  }
}

export const scim11Factory: ConnectorFactory = defineConnector({
  type: 'scim11',
  label: 'SCIM 1.1',
  settings: scim11Settings,
  secrets: scim11Secrets,
  secretFields: SECRET_FIELDS,
  check,
  build: (settings, secrets) => new Scim11Connector(settings, secrets),
});

export default scim11Factory;
