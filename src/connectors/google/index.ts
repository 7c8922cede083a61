/**
 * Google Workspace outbound connector: users and groups through the Admin SDK Directory API with Google's
 * official client (`@googleapis/admin`), authorised by a service account with domain-wide delegation
 * impersonating an admin. The settings are those of WSO2's "Google Provisioning Configuration": Google
 * domain, how the primary email is built, given/family name defaults, service account email and private
 * key, administrator's email, default password; plus `deprovision` and the endpoints.
 *
 * @example
 *   // admin API: POST /api/server/v1/identity-providers
 *   { "outboundConnectors": [{ "type": "google",
 *       "settings": { "domain": "example.com", "serviceAccountEmail": "prov@proj.iam.gserviceaccount.com",
 *                     "adminEmail": "admin@example.com", "deprovision": "deactivate" },
 *       "secrets": { "privateKey": "-----BEGIN PRIVATE KEY-----\n...", "defaultPassword": "..." } }] }
 *
 * Attribute mapping (settings.attributeMapping, src/provisioning/attribute-mapping.ts): a rule's target is a Directory
 * API user field path (`orgUnitPath`, `name.givenName`, `organizations[0].department`, `recoveryEmail`,
 * `customSchemas.Employment.costCenter`); its value is written into the users.insert / users.update body over what the
 * connector derives (mapping.ts applyMapped).
 *
 * Loadable as a plug-in (CONNECTOR_PLUGINS=<path of this file>) until it is one of the built-ins.
 */
import crypto from 'node:crypto';
import type { admin_directory_v1 } from '@googleapis/admin';
import { z } from 'zod';
import { ConnectorAlreadyExists, ConnectorNotFound, ConnectorRejected } from '../errors.js';
import type { ConnectorConfig, ConnectorFactory, OutboundConnector, OutboundGroup, OutboundUser, RemoteUser } from '../types.js';
import { defineConnector } from '../define.js';
import { attributeMappingTargets } from '../../provisioning/attribute-mapping.js';
import { applyMapped, fromGoogleUser, googleTargetProblem, groupEmailOf, primaryEmailOf, toGoogleGroup, toGoogleUser, type MappingSettings } from './mapping.js';
import { GOOGLE_DIRECTORY_URL, GOOGLE_TOKEN_URL, GoogleTransport, privateKeyProblem } from './transport.js';

const httpUrl = z.string().refine((v) => /^https?:\/\//.test(v) && URL.canParse(v), 'must be an http(s) URL');
const hostname = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

export const googleSettings = z.object({
  /** The Google Workspace domain users and groups are created in (WSO2: "Google Domain"). */
  domain: z.string().regex(hostname, 'must be a domain name such as example.com'),
  /** How the primary email is built (WSO2: "Primary Email"): 'userName@domain' or the user name itself. */
  primaryEmail: z.enum(['userName@domain', 'userName']).default('userName@domain'),
  /** Stand-ins when a user has no given / family name (Google requires both); the user name otherwise. */
  defaultGivenName: z.string().min(1).max(60).optional(),
  defaultFamilyName: z.string().min(1).max(60).optional(),
  /** The organizational unit new users go to; unset: the domain's root ('/'). */
  orgUnitPath: z.string().startsWith('/').optional(),
  /** The service account's client email (WSO2: "Service Account Email"). */
  serviceAccountEmail: z.email(),
  /** The admin the service account impersonates (WSO2: "Administrator's Email"; the JWT `sub`). */
  adminEmail: z.email(),
  /** What deleting a user does: 'delete' (WSO2's behaviour) or 'deactivate' (suspended: true). */
  deprovision: z.enum(['delete', 'deactivate']).default('delete'),
  /** The Directory API base URL (the client's rootUrl). */
  directoryUrl: httpUrl.default(GOOGLE_DIRECTORY_URL),
  /** The OAuth 2.0 token endpoint. */
  tokenUrl: httpUrl.default(GOOGLE_TOKEN_URL),
  /** HTTP timeout of one call, in ms. */
  timeoutMs: z.number().int().positive().default(30_000),
});
export type GoogleSettings = z.infer<typeof googleSettings>;

export const googleSecrets = z.object({
  /** The service account's private key (PEM, the `private_key` of its JSON key). */
  privateKey: z.string().min(1),
  /** The password of created users when none is provisioned (Google requires one; 8 to 100 characters). */
  defaultPassword: z.string().min(8).max(100).optional(),
});
export type GoogleSecrets = z.infer<typeof googleSecrets>;

const SECRET_FIELDS = ['privateKey', 'defaultPassword'] as const;

/** Checks across fields, after the schemas (see defineConnector). */
function check(_a: z.ZodSafeParseResult<z.output<typeof googleSettings>>, b: z.ZodSafeParseResult<z.output<typeof googleSecrets>>, config: ConnectorConfig): string[] {
  const out: string[] = [];
  if (b.success) {
    const problem = privateKeyProblem(b.data.privateKey);
    if (problem) out.push(`privateKey: ${problem}`);
  }
  // The rules themselves are checked for every connector type (src/provisioning/connectors.ts); their targets here.
  for (const { index, target } of attributeMappingTargets(config.settings)) {
    const problem = googleTargetProblem(target);
    if (problem) out.push(`attributeMapping[${index}] (target '${target}'): ${problem}`);
  }
  return out;
}

const PAGE_SIZE = 200;

export class GoogleConnector implements OutboundConnector {
  private readonly transport: GoogleTransport;
  private readonly mapping: MappingSettings;
  /**
   * The primary email each create of this delivery sent, by user name: with an attribute-mapping rule on
   * primaryEmail it is not the one primaryEmailOf derives, and findUserByUserName (linking after a 409) looks there.
   */
  private readonly sentPrimaryEmails = new Map<string, string>();

  constructor(
    private readonly settings: GoogleSettings,
    private readonly secrets: GoogleSecrets,
  ) {
    this.transport = new GoogleTransport({
      serviceAccountEmail: settings.serviceAccountEmail,
      privateKey: secrets.privateKey,
      subject: settings.adminEmail,
      tokenUrl: settings.tokenUrl,
      directoryUrl: settings.directoryUrl,
      timeoutMs: settings.timeoutMs,
    });
    this.mapping = settings;
  }

  async createUser(user: OutboundUser): Promise<{ remoteId: string }> {
    // Google requires a password on insert; with none provisioned and no default, a random one nobody
    // knows (the user signs in through SSO, or an admin resets it).
    const password = user.password ?? this.secrets.defaultPassword ?? crypto.randomBytes(24).toString('base64url');
    const body = applyMapped(toGoogleUser(user, this.mapping, password), user.mapped);
    if (body.primaryEmail) this.sentPrimaryEmails.set(user.userName, body.primaryEmail);
    const created = await this.transport.call(`users.insert ${body.primaryEmail}`, (d) => d.users.insert({ requestBody: body }));
    if (!created.id) throw new ConnectorRejected('Google answered users.insert without a user id');
    return { remoteId: created.id };
  }

  async updateUser(remoteId: string, user: OutboundUser): Promise<void> {
    // The default password is for creation: sending it on every update would reset the user's own.
    const password = user.password !== undefined && user.password !== this.secrets.defaultPassword ? user.password : undefined;
    const body = applyMapped(toGoogleUser(user, this.mapping, password), user.mapped);
    await this.transport.call(`users.update ${remoteId}`, (d) => d.users.update({ userKey: remoteId, requestBody: body }));
  }

  async deleteUser(remoteId: string): Promise<void> {
    try {
      if (this.settings.deprovision === 'deactivate') {
        await this.transport.call(`users.patch ${remoteId} suspended`, (d) => d.users.patch({ userKey: remoteId, requestBody: { suspended: true } }));
      } else {
        await this.transport.call(`users.delete ${remoteId}`, (d) => d.users.delete({ userKey: remoteId }));
      }
    } catch (err) {
      if (!(err instanceof ConnectorNotFound)) throw err;
    }
  }

  async findUserByUserName(userName: string): Promise<{ remoteId: string } | undefined> {
    const derived = primaryEmailOf(userName, this.mapping);
    const sent = this.sentPrimaryEmails.get(userName);
    for (const email of sent !== undefined && sent !== derived ? [sent, derived] : [derived]) {
      try {
        const u = await this.transport.call(`users.get ${email}`, (d) => d.users.get({ userKey: email }));
        if (u.id) return { remoteId: u.id };
      } catch (err) {
        if (!(err instanceof ConnectorNotFound)) throw err;
      }
    }
    return undefined;
  }

  async *listUsers(): AsyncIterable<RemoteUser> {
    let pageToken: string | undefined;
    do {
      const page: admin_directory_v1.Schema$Users = await this.transport.call('users.list', (d) =>
        d.users.list({ domain: this.settings.domain, maxResults: PAGE_SIZE, orderBy: 'email', ...(pageToken && { pageToken }) }),
      );
      for (const u of page.users ?? []) yield fromGoogleUser(u, this.mapping);
      pageToken = page.nextPageToken ?? undefined;
    } while (pageToken);
  }

  async createGroup(group: OutboundGroup): Promise<{ remoteId: string }> {
    const body = toGoogleGroup(group, this.settings.domain);
    const created = await this.transport.call(`groups.insert ${body.email}`, (d) => d.groups.insert({ requestBody: body }));
    if (!created.id) throw new ConnectorRejected('Google answered groups.insert without a group id');
    await this.syncMembers(created.id, group);
    return { remoteId: created.id };
  }

  async updateGroup(remoteId: string, group: OutboundGroup): Promise<void> {
    const body = toGoogleGroup(group, this.settings.domain);
    await this.transport.call(`groups.update ${remoteId}`, (d) => d.groups.update({ groupKey: remoteId, requestBody: body }));
    await this.syncMembers(remoteId, group);
  }

  async deleteGroup(remoteId: string): Promise<void> {
    try {
      await this.transport.call(`groups.delete ${remoteId}`, (d) => d.groups.delete({ groupKey: remoteId }));
    } catch (err) {
      if (!(err instanceof ConnectorNotFound)) throw err;
    }
  }

  async findGroupByDisplayName(displayName: string): Promise<{ remoteId: string } | undefined> {
    const email = groupEmailOf(displayName, this.settings.domain);
    try {
      const g = await this.transport.call(`groups.get ${email}`, (d) => d.groups.get({ groupKey: email }));
      return g.id ? { remoteId: g.id } : undefined;
    } catch (err) {
      if (err instanceof ConnectorNotFound) return undefined;
      throw err;
    }
  }

  /**
   * Makes the group's members at Google those of the local group: lists them, inserts the missing, deletes
   * the extra. Safe to repeat: a member added or removed meanwhile (409 / 404) is already as wanted.
   */
  private async syncMembers(groupKey: string, group: OutboundGroup): Promise<void> {
    const current = new Set<string>();
    let pageToken: string | undefined;
    do {
      const page: admin_directory_v1.Schema$Members = await this.transport.call(`members.list ${groupKey}`, (d) =>
        d.members.list({ groupKey, maxResults: PAGE_SIZE, ...(pageToken && { pageToken }) }),
      );
      for (const m of page.members ?? []) if (m.id) current.add(m.id);
      pageToken = page.nextPageToken ?? undefined;
    } while (pageToken);

    const wanted = new Map(group.members.map((m) => [m.remoteId, m]));
    for (const [id] of wanted) {
      if (current.has(id)) continue;
      try {
        await this.transport.call(`members.insert ${groupKey} ${id}`, (d) => d.members.insert({ groupKey, requestBody: { id, role: 'MEMBER' } }));
      } catch (err) {
        if (!(err instanceof ConnectorAlreadyExists)) throw err;
      }
    }
    for (const id of current) {
      if (wanted.has(id)) continue;
      try {
        await this.transport.call(`members.delete ${groupKey} ${id}`, (d) => d.members.delete({ groupKey, memberKey: id }));
      } catch (err) {
        if (!(err instanceof ConnectorNotFound)) throw err;
      }
    }
  }
}

export const googleFactory: ConnectorFactory = defineConnector({
  type: 'google',
  label: 'Google',
  settings: googleSettings,
  secrets: googleSecrets,
  secretFields: SECRET_FIELDS,
  check,
  build: (settings, secrets) => new GoogleConnector(settings, secrets),
});

export default googleFactory;
