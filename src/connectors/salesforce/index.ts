/**
 * Salesforce outbound connector, through jsforce (3.x): OAuth 2.0 username-password flow (or client
 * credentials) at a configurable login URL, then the REST sObject API at a configurable API version.
 *
 * It has the settings WSO2's "Salesforce Provisioning Configuration" has (API version, domain name, client id,
 * client secret, username, password, OAuth2 token endpoint via `loginUrl`, provisioning domain) and fills the
 * fields Salesforce requires of every User from settings. Salesforce never deletes users: deprovisioning
 * deactivates (`IsActive: false`), and `deprovision` accepts only 'deactivate' to say so. No groups.
 *
 * Attribute mapping (settings.attributeMapping, src/provisioning/attribute-mapping.ts): a rule's target is a User field
 * name (`Department`, `Alias`, `CommunityNickname`, `FederationIdentifier`, `ProfileId`, a custom `Badge__c`); mapped
 * values override the fields the connector derives, on create and on update (`when: 'create'` for fields such as
 * ProfileId that Salesforce admins may change later). A rule without a value clears its field (null), except the
 * fields Salesforce requires, which keep the derived value.
 *
 * Loadable as a plug-in: CONNECTOR_PLUGINS=/abs/path/src/connectors/salesforce/index.ts
 *
 * @example
 * const connector = salesforceFactory.create({
 *   type: 'salesforce',
 *   settings: { loginUrl: 'https://login.salesforce.com', clientId: '3MVG9...', username: 'integration@acme.example',
 *     domain: 'acme.example', profileId: '00e5g000001AbCdAAK' },
 *   secrets: { clientSecret: '...', password: '...', securityToken: '...' },
 * });
 * const { remoteId } = await connector.createUser(user); // Username alice@acme.example
 */
import crypto from 'node:crypto';
import { Connection } from 'jsforce';
import { z } from 'zod';
import { AttributeMappingError, attributeMappingTargets, scalarValue } from '../../provisioning/attribute-mapping.js';
import { ConnectorMisconfigured, ConnectorNotFound, ConnectorRejected } from '../errors.js';
import { setJsonPath } from '../json-path.js';
import type { ConnectorConfig, ConnectorFactory, OutboundConnector, OutboundUser, RemoteUser } from '../types.js';
import { defineConnector } from '../define.js';
import { SalesforceSessionExpired, SalesforceTransport } from './transport.js';

const httpUrl = z.string().refine((v) => /^https?:\/\//.test(v) && URL.canParse(v), 'must be an http(s) URL');

export const salesforceSettings = z.object({
  /** Where to log in: https://login.salesforce.com, https://test.salesforce.com or a My Domain URL. */
  loginUrl: httpUrl.default('https://login.salesforce.com'),
  /** REST API version, as in /services/data/v60.0. */
  apiVersion: z.string().regex(/^\d+\.\d$/, 'must look like 60.0').default('60.0'),
  /** OAuth 2.0 grant: 'password' (WSO2's connector: username + password + security token) or 'client_credentials'. */
  grantType: z.enum(['password', 'client_credentials']).default('password'),
  /** Consumer key of the connected app. */
  clientId: z.string().min(1),
  /** The integration user (password grant). */
  username: z.string().min(1).optional(),
  /** Appended to user names that have no '@' (WSO2: "Provisioning Domain"): alice -> alice@acme.example. */
  domain: z.string().regex(/^[^@\s]+\.[^@\s]+$/, 'must be a domain name like acme.example').optional(),
  /** The Profile every created user gets (Salesforce requires one). */
  profileId: z.string().regex(/^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/, 'must be a Salesforce id (15 or 18 characters)'),
  timeZoneSidKey: z.string().min(1).default('America/Los_Angeles'),
  localeSidKey: z.string().min(1).default('en_US'),
  emailEncodingKey: z.string().min(1).default('UTF-8'),
  languageLocaleKey: z.string().min(1).default('en_US'),
  /** Salesforce does not delete users; deprovisioning sets IsActive false. Only 'deactivate' is accepted. */
  deprovision: z.literal('deactivate', { error: "Salesforce users cannot be deleted: only 'deactivate' is supported" }).default('deactivate'),
  /** HTTP timeout of one call, in ms. */
  timeoutMs: z.number().int().positive().default(30_000),
});
export type SalesforceSettings = z.infer<typeof salesforceSettings>;

export const salesforceSecrets = z.object({
  clientSecret: z.string().min(1),
  password: z.string().optional(),
  /** Appended to the password in the password grant, as Salesforce asks from outside trusted IP ranges. */
  securityToken: z.string().optional(),
  /** Used by the delivery activity when password provisioning is on and the change carries no password. */
  defaultPassword: z.string().optional(),
});
export type SalesforceSecrets = z.infer<typeof salesforceSecrets>;

const SECRET_FIELDS = ['clientSecret', 'password', 'securityToken', 'defaultPassword'] as const;

/** Checks across fields, after the schemas (see defineConnector). */
function check(a: z.ZodSafeParseResult<z.output<typeof salesforceSettings>>, _b: z.ZodSafeParseResult<z.output<typeof salesforceSecrets>>, config: ConnectorConfig): string[] {
  const out: string[] = [];
  if (a.success && a.data.grantType === 'password') {
    if (a.data.username === undefined) out.push('username: required with the password grant');
    if (!config.secrets.password) out.push('password: required with the password grant');
  }
  // The rules themselves are checked for every connector type (src/provisioning/connectors.ts); their targets here.
  for (const { index, target } of attributeMappingTargets(config.settings)) {
    if (!FIELD_NAME.test(target)) out.push(`attributeMapping[${index}] (target '${target}'): is not a User field name such as Department or Badge__c`);
    else if (target.toLowerCase() === 'id') out.push(`attributeMapping[${index}] (target '${target}'): the record id cannot be written`);
  }
  return out;
}

/** A field's API name (standard, or custom with its __c suffix). */
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]{0,79}$/;

/** Fields every Salesforce User needs: a mapping rule without a value leaves the derived one instead of clearing it. */
const REQUIRED_FIELDS = new Set(
  ['Username', 'LastName', 'Alias', 'Email', 'ProfileId', 'TimeZoneSidKey', 'LocaleSidKey', 'EmailEncodingKey', 'LanguageLocaleKey'].map((f) => f.toLowerCase()),
);

/**
 * Writes the attribute-mapping values (OutboundUser.mapped) over the derived fields. Field names are
 * case-insensitive in Salesforce: a mapped `department` replaces the derived `Department`, under the derived
 * spelling, rather than sending both.
 */
export function applyMapped(record: Record<string, unknown>, mapped: OutboundUser['mapped']): Record<string, unknown> {
  for (const m of mapped ?? []) {
    const value = scalarValue(m);
    if (value === null && REQUIRED_FIELDS.has(m.target.toLowerCase())) continue;
    if (!FIELD_NAME.test(m.target)) throw new AttributeMappingError(`'${m.target}' is not a Salesforce User field name`);
    const field = Object.keys(record).find((k) => k.toLowerCase() === m.target.toLowerCase()) ?? m.target;
    setJsonPath(record, field, value);
  }
  return record;
}

/** A Salesforce record id (15 characters, or 18 with the case-safe suffix). */
const SALESFORCE_ID = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/;

/**
 * A SOQL string literal. SOQL escapes with backslashes (SOQL and SOSL Reference, "Quoted String Escape
 * Sequences"); jsforce's query builder escapes only the quote, so a user name ending in a backslash would
 * still close the literal. Escaping the backslash first keeps any value inside it.
 */
export function soqlString(value: string): string {
  const escaped = value.replace(/[\\'"\n\r\t\f\b]/g, (c) => {
    switch (c) {
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      case '\t':
        return '\\t';
      case '\f':
        return '\\f';
      case '\b':
        return '\\b';
      default:
        return `\\${c}`;
    }
  });
  return `'${escaped}'`;
}

interface Session {
  accessToken: string;
  instanceUrl: string;
}

/**
 * Access tokens by login (URL, client, user, credentials hash), shared by the connectors of one process: the
 * activity builds a connector per delivery, and logging in per delivery would meet Salesforce's login limits.
 */
const sessions = new Map<string, Session>();

interface UserRow {
  Id: string;
  Username: string;
  IsActive?: boolean;
  Email?: string | null;
  FirstName?: string | null;
  LastName?: string | null;
}

export class SalesforceConnector implements OutboundConnector {
  private readonly conn: Connection;
  private readonly sessionKey: string;
  /**
   * The Username each create of this delivery sent, by local user name: with a mapping rule on Username it is not the
   * one salesforceUsername derives, and findUserByUserName (linking after DUPLICATE_USERNAME) looks for it.
   */
  private readonly sentUsernames = new Map<string, string>();

  constructor(
    private readonly settings: SalesforceSettings,
    private readonly secrets: SalesforceSecrets,
  ) {
    this.conn = new Connection({
      loginUrl: settings.loginUrl,
      version: settings.apiVersion,
      oauth2: { loginUrl: settings.loginUrl, clientId: settings.clientId, clientSecret: secrets.clientSecret },
    });
    // Every request, the token request included, goes through the one transport that translates errors.
    const transport = new SalesforceTransport(settings.timeoutMs);
    this.conn._transport = transport;
    this.conn.oauth2._transport = transport;
    this.sessionKey = crypto
      .createHash('sha256')
      .update(JSON.stringify([settings.loginUrl, settings.grantType, settings.clientId, settings.username ?? '', secrets.clientSecret, secrets.password ?? '', secrets.securityToken ?? '']))
      .digest('hex');
  }

  async createUser(user: OutboundUser): Promise<{ remoteId: string }> {
    const record = applyMapped({ ...this.toRecord(user), ...this.createOnlyFields() }, user.mapped);
    if (typeof record.Username === 'string') this.sentUsernames.set(user.userName, record.Username);
    const result = await this.call(() => this.conn.sobject('User').create(record));
    if (!result.success || !result.id) {
      throw new ConnectorRejected(`Salesforce did not create the user: ${result.errors.map((e) => `${e.errorCode}: ${e.message}`).join('; ')}`);
    }
    if (user.password !== undefined) {
      // Only on create: the activity hands every update the default password, which must not reset a user's own.
      const id = result.id;
      await this.call(() => this.conn.requestPost(`/sobjects/User/${id}/password`, { NewPassword: user.password }));
    }
    return { remoteId: result.id };
  }

  async updateUser(remoteId: string, user: OutboundUser): Promise<void> {
    const Id = this.checkId(remoteId);
    await this.call(() => this.conn.sobject('User').update({ ...applyMapped(this.toRecord(user), user.mapped), Id }));
  }

  /** Salesforce does not delete users: deactivates. A user already gone is not an error. */
  async deleteUser(remoteId: string): Promise<void> {
    try {
      const Id = this.checkId(remoteId);
      await this.call(() => this.conn.sobject('User').update({ Id, IsActive: false }));
    } catch (err) {
      if (!(err instanceof ConnectorNotFound)) throw err;
    }
  }

  async findUserByUserName(userName: string): Promise<{ remoteId: string } | undefined> {
    const derived = this.salesforceUsername(userName);
    const sent = this.sentUsernames.get(userName);
    for (const name of sent !== undefined && sent !== derived ? [sent, derived] : [derived]) {
      const soql = `SELECT Id FROM User WHERE Username = ${soqlString(name)} LIMIT 1`;
      const result = await this.call(() => this.conn.query<{ Id: string }>(soql));
      const id = result.records[0]?.Id;
      if (id) return { remoteId: id };
    }
    return undefined;
  }

  /** Every user of the org (in the configured domain, when there is one), page by page with queryMore. */
  async *listUsers(): AsyncIterable<RemoteUser> {
    // LIKE's own escapes (\% and \_) go in after the string escapes, which would double their backslash.
    const where = this.settings.domain ? ` WHERE Username LIKE '%${soqlString(`@${this.settings.domain}`).slice(1, -1).replace(/[%_]/g, '\\$&')}'` : '';
    const soql = `SELECT Id, Username, IsActive, Email, FirstName, LastName FROM User${where} ORDER BY Id`;
    let page = await this.call(() => this.conn.query<UserRow>(soql));
    for (;;) {
      for (const row of page.records) {
        yield { remoteId: row.Id, userName: this.localUserName(row.Username), active: row.IsActive, raw: row };
      }
      const next = page.nextRecordsUrl;
      if (page.done || !next) return;
      page = await this.call(() => this.conn.queryMore<UserRow>(next));
    }
  }

  /** The Salesforce Username: an email-like name unique across all orgs. */
  salesforceUsername(userName: string): string {
    if (userName.includes('@')) return userName;
    if (!this.settings.domain) {
      throw new ConnectorRejected(`Salesforce user names look like email addresses: '${userName}' has no '@' and the connector has no domain`);
    }
    return `${userName}@${this.settings.domain}`;
  }

  private localUserName(username: string): string {
    const suffix = this.settings.domain ? `@${this.settings.domain}` : undefined;
    return suffix && username.toLowerCase().endsWith(suffix.toLowerCase()) ? username.slice(0, -suffix.length) : username;
  }

  /** The attributes sent on create and on update (WSO2's Salesforce claim mapping). */
  private toRecord(user: OutboundUser): Record<string, unknown> {
    const email = (user.emails.find((e) => e.primary) ?? user.emails[0])?.value;
    const lastName = user.name?.familyName || user.displayName || user.userName;
    const record: Record<string, unknown> = {
      Username: this.salesforceUsername(user.userName),
      FirstName: user.name?.givenName ?? null,
      LastName: lastName,
      Alias: alias(user),
      IsActive: user.active !== false,
    };
    // Without an email Salesforce answers REQUIRED_FIELD_MISSING: a rejection the operator should see.
    if (email !== undefined) record.Email = email;
    if (user.title !== undefined) record.Title = user.title;
    if (user.enterprise?.department !== undefined) record.Department = user.enterprise.department;
    if (user.enterprise?.employeeNumber !== undefined) record.EmployeeNumber = user.enterprise.employeeNumber;
    return record;
  }

  /** Required on create; left alone on update so changes made by Salesforce admins stay. */
  private createOnlyFields(): Record<string, unknown> {
    return {
      ProfileId: this.settings.profileId,
      TimeZoneSidKey: this.settings.timeZoneSidKey,
      LocaleSidKey: this.settings.localeSidKey,
      EmailEncodingKey: this.settings.emailEncodingKey,
      LanguageLocaleKey: this.settings.languageLocaleKey,
    };
  }

  private checkId(remoteId: string): string {
    // The id goes into a URL path unencoded by jsforce: never let anything but an id get there.
    if (!SALESFORCE_ID.test(remoteId)) throw new ConnectorNotFound(`'${remoteId}' is not a Salesforce record id`);
    return remoteId;
  }

  /** Runs one API call in a session; on INVALID_SESSION_ID logs in again, once, and repeats it. */
  private async call<T>(op: () => PromiseLike<T>): Promise<T> {
    await this.ensureSession(false);
    try {
      return await op();
    } catch (err) {
      if (!(err instanceof SalesforceSessionExpired)) throw err;
    }
    await this.ensureSession(true);
    return await op();
  }

  private async ensureSession(renew: boolean): Promise<void> {
    const cached = renew ? undefined : sessions.get(this.sessionKey);
    if (cached) {
      if (this.conn.accessToken !== cached.accessToken) this.conn._establish({ accessToken: cached.accessToken, instanceUrl: cached.instanceUrl });
      return;
    }
    sessions.delete(this.sessionKey);
    if (this.settings.grantType === 'client_credentials') {
      await this.conn.authorize({ grant_type: 'client_credentials' });
    } else {
      await this.conn.loginByOAuth2(this.settings.username ?? '', `${this.secrets.password ?? ''}${this.secrets.securityToken ?? ''}`);
    }
    if (!this.conn.accessToken) throw new ConnectorMisconfigured('The Salesforce token endpoint answered without an access token');
    sessions.set(this.sessionKey, { accessToken: this.conn.accessToken, instanceUrl: this.conn.instanceUrl });
  }
}

/** Salesforce's Alias: at most 8 characters, from the names (first initial + last name) or the user name. */
function alias(user: OutboundUser): string {
  const given = user.name?.givenName ?? '';
  const family = user.name?.familyName ?? '';
  const base = family ? `${given.slice(0, 1)}${family}` : (user.userName.split('@')[0] ?? user.userName);
  const cleaned = base.normalize('NFKD').replace(/[^a-zA-Z0-9._-]/g, '');
  return (cleaned || 'user').slice(0, 8);
}

export const salesforceFactory: ConnectorFactory = defineConnector({
  type: 'salesforce',
  label: 'Salesforce',
  settings: salesforceSettings,
  secrets: salesforceSecrets,
  secretFields: SECRET_FIELDS,
  check,
  build: (settings, secrets) => new SalesforceConnector(settings, secrets),
});

export default salesforceFactory;
