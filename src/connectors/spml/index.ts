/**
 * SPML 2.0 outbound connector (OASIS SPML v2, DSMLv2 profile, over SOAP 1.1), the settings WSO2's "SPML
 * Provisioning Configuration" has: the SPML endpoint, basic-auth username and password, the SPML object class
 * (spml2Person by default), plus the target id, an attribute mapping and the user store domain.
 *
 * Operations (all `executionMode="synchronous"`, SPML v2 core §3.4 and search capability §3.6.8):
 *   createUser         -> addRequest; the returned `<pso><psoID ID>` is the remote id
 *   updateUser         -> modifyRequest replacing every mapped attribute (absent ones with no values)
 *   deleteUser         -> deleteRequest, or with `deprovision: 'deactivate'` a modifyRequest setting the
 *                         disabled attribute to "true"; noSuchIdentifier is "already gone", not an error
 *   findUserByUserName -> searchRequest with an equalityMatch on the mapped userName attribute
 *   listUsers          -> searchRequest on the object class, paged with iterateRequest
 *
 * Attribute mapping. `attributes` (below) is WSO2's fixed mapping and keeps working: it names the DSML attributes that
 * play a role (the account id searched by findUserByUserName, the password, the disabled flag, the externalId read back
 * by reconciliation) and gives each of the value attributes its built-in rule:
 *   attributes.givenName: 'firstname'     = { "target": "firstname", "source": "name.givenName" }
 *   attributes.familyName: 'lastname'     = { "target": "lastname", "source": "name.familyName" }
 *   attributes.displayName: 'fullname'    = { "target": "fullname", "expression": "displayName ? displayName : name.formatted" }
 *   attributes.email: 'emailAddress'      = { "target": "emailAddress", "source": "emails.value" }   (primary first)
 *   attributes.externalId: 'employeeId'   = { "target": "employeeId", "source": "externalId" }
 * The generic rules (settings.attributeMapping, src/provisioning/attribute-mapping.ts) come on top, by DSML attribute
 * name: a rule on `firstname` replaces the built-in one, a rule on a new name (`departmentNumber`) adds an attribute.
 * A list value gives a multi-valued DSML attribute; a rule without a value sends the attribute with no values on
 * modify (removing it) and leaves it out of an add.
 *
 * @example
 *   { type: 'spml', settings: { endpoint: 'https://idm.example.com/idm/servlet/openspml2', username: 'configurator',
 *     targetId: 'spml2-DSML-Target',
 *     attributeMapping: [{ target: 'departmentNumber', source: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department' }] },
 *     secrets: { password: '...' } }
 */
import crypto from 'node:crypto';
import { z } from 'zod';
import { attributeMappingTargets, stringValues } from '../../provisioning/attribute-mapping.js';
import { qualifiedUserName } from '../../scim/user-resource.js';
import {
  ConnectorAlreadyExists,
  type ConnectorError,
  ConnectorMisconfigured,
  ConnectorNotFound,
  ConnectorRejected,
  ConnectorTransient,
  parseRetryAfter,
} from '../errors.js';
import type { ConnectorConfig, ConnectorFactory, OutboundConnector, OutboundUser, RemoteUser } from '../types.js';
import { defineConnector } from '../define.js';
import { NS, XmlError, child, childrenOf, dsmlAttr, el, parseXml, readDsmlAttrs, soapBodyContent, soapEnvelope, type XmlElement } from './xml.js';

const httpUrl = z.string().refine((v) => /^https?:\/\//.test(v) && URL.canParse(v), 'must be an http(s) URL');
const attrName = z.string().min(1).max(256);

/**
 * SCIM attribute -> SPML (DSML) attribute name. The defaults are the spml2Person object class of the SPML 2.0
 * targets WSO2's connector was built against (Sun/Oracle Identity Manager's OpenSPML: accountId, credentials,
 * firstname, lastname, fullname, emailAddress). An attribute mapped to '' is not sent.
 */
export const spmlAttributeMap = z
  .object({
    userName: attrName.default('accountId'),
    password: z.string().max(256).default('credentials'),
    givenName: z.string().max(256).default('firstname'),
    familyName: z.string().max(256).default('lastname'),
    displayName: z.string().max(256).default('fullname'),
    /** The primary (else first) email. */
    email: z.string().max(256).default('emailAddress'),
    externalId: z.string().max(256).default(''),
    /** Sent as "true"/"false": the opposite of SCIM `active`; what 'deactivate' deprovisioning sets. */
    disabled: z.string().max(256).default('disabled'),
  })
  .strict();

export const spmlSettings = z.object({
  /** The SPML 2.0 SOAP endpoint (WSO2: "SPML Endpoint"). */
  endpoint: httpUrl,
  /** HTTP basic authentication (WSO2: "Username"); the password is a secret. */
  username: z.string().min(1).optional(),
  /** The `targetID` of every request; omitted when the provider has a single target. */
  targetId: z.string().min(1).optional(),
  /** WSO2: "SPML ObjectClass", sent as the `objectclass` attribute of every add. */
  objectClass: z.string().min(1).default('spml2Person'),
  attributes: spmlAttributeMap.default(spmlAttributeMap.parse({})),
  /** The user store domain at the target; PRIMARY sends bare user names, others `DOMAIN/name`. */
  userStoreDomain: z.string().min(1).default('PRIMARY'),
  deprovision: z.enum(['delete', 'deactivate']).default('delete'),
  /** HTTP timeout of one call, in ms. */
  timeoutMs: z.number().int().positive().default(30_000),
  /** Page size of listUsers (searchRequest maxSelect). */
  pageSize: z.number().int().positive().max(10_000).default(100),
});
export type SpmlSettings = z.infer<typeof spmlSettings>;

export const spmlSecrets = z.object({
  password: z.string().optional(),
  defaultPassword: z.string().optional(),
});

const SECRET_FIELDS = ['password', 'defaultPassword'] as const;

/** SPML v2 core ErrorCode values that mean "the object is not there" / "it is already there". */
const NOT_FOUND_CODES = new Set(['noSuchIdentifier']);
const EXISTS_CODES = new Set(['alreadyExists']);

/** Checks across fields, after the schemas (see defineConnector). */
function check(a: z.ZodSafeParseResult<z.output<typeof spmlSettings>>, _b: z.ZodSafeParseResult<z.output<typeof spmlSecrets>>, config: ConnectorConfig): string[] {
  const out: string[] = [];
  if (a.success && a.data.username !== undefined && !config.secrets.password) {
    out.push('password: required with username (basic authentication)');
  }
  // The rules themselves are checked for every connector type (src/provisioning/connectors.ts); their targets here.
  const passwordAttr = a.success ? a.data.attributes.password.toLowerCase() : 'credentials';
  for (const { index, target } of attributeMappingTargets(config.settings)) {
    const where = `attributeMapping[${index}] (target '${target}')`;
    if (!DSML_NAME.test(target)) out.push(`${where}: is not a DSML attribute name`);
    else if (target.toLowerCase() === 'objectclass') out.push(`${where}: the object class is the objectClass setting`);
    else if (passwordAttr !== '' && target.toLowerCase() === passwordAttr) out.push(`${where}: the password is sent only when provisioned (passwordProvisioning)`);
  }
  return out;
}

/** A DSML attribute name (an LDAP attribute description: name or OID, options after ';'). */
const DSML_NAME = /^[A-Za-z0-9][A-Za-z0-9._;:-]{0,255}$/;

function primaryEmail(user: OutboundUser): string | undefined {
  return (user.emails.find((e) => e.primary) ?? user.emails[0])?.value;
}

export class SpmlConnector implements OutboundConnector {
  /**
   * The account id each add of this delivery sent, by user name: a mapping rule on the userName attribute changes it,
   * and findUserByUserName (linking after alreadyExists) searches for it.
   */
  private readonly sentAccountIds = new Map<string, string>();

  constructor(
    private readonly settings: SpmlSettings,
    private readonly secrets: z.infer<typeof spmlSecrets>,
  ) {}

  async createUser(user: OutboundUser): Promise<{ remoteId: string }> {
    const data = [dsmlAttr('objectclass', [this.settings.objectClass])];
    const attributes = this.attributesOf(user);
    for (const [name, values] of attributes) if (values.length > 0) data.push(dsmlAttr(name, values));
    const accountId = attributes.get(this.settings.attributes.userName)?.[0];
    if (accountId !== undefined) this.sentAccountIds.set(user.userName, accountId);
    const res = await this.call(
      el(NS.spml, 'addRequest', this.requestAttrs({ returnData: 'identifier', targetID: this.settings.targetId }), [el(NS.spml, 'data', {}, data)]),
      NS.spml,
      'addResponse',
    );
    const id = child(child(res, NS.spml, 'pso'), NS.spml, 'psoID')?.attrs.ID;
    if (!id) throw new ConnectorRejected('The target answered the addRequest without a psoID');
    return { remoteId: id };
  }

  async updateUser(remoteId: string, user: OutboundUser): Promise<void> {
    await this.modify(remoteId, this.attributesOf(user));
  }

  async deleteUser(remoteId: string): Promise<void> {
    try {
      if (this.settings.deprovision === 'deactivate') {
        if (!this.settings.attributes.disabled) throw new ConnectorMisconfigured("deprovision 'deactivate' needs attributes.disabled");
        await this.modify(remoteId, new Map([[this.settings.attributes.disabled, ['true']]]));
      } else {
        await this.call(el(NS.spml, 'deleteRequest', this.requestAttrs({}), [this.psoId(remoteId)]), NS.spml, 'deleteResponse');
      }
    } catch (err) {
      if (!(err instanceof ConnectorNotFound)) throw err;
    }
  }

  async findUserByUserName(userName: string): Promise<{ remoteId: string } | undefined> {
    const derived = qualifiedUserName(this.settings.userStoreDomain.toUpperCase(), userName);
    const sent = this.sentAccountIds.get(userName);
    for (const target of sent !== undefined && sent !== derived ? [sent, derived] : [derived]) {
      const filter = el(NS.dsml, 'filter', {}, [
        el(NS.dsml, 'equalityMatch', { name: this.settings.attributes.userName }, [el(NS.dsml, 'value', {}, target)]),
      ]);
      const res = await this.search(filter, 'identifier', 2);
      const id = child(res.psos[0], NS.spml, 'psoID')?.attrs.ID;
      if (id) return { remoteId: id };
    }
    return undefined;
  }

  async *listUsers(): AsyncIterable<RemoteUser> {
    const filter = el(NS.dsml, 'filter', {}, [
      el(NS.dsml, 'equalityMatch', { name: 'objectclass' }, [el(NS.dsml, 'value', {}, this.settings.objectClass)]),
    ]);
    let page = await this.search(filter, 'data', this.settings.pageSize);
    for (;;) {
      for (const pso of page.psos) {
        const user = this.toRemoteUser(pso);
        if (user) yield user;
      }
      if (page.iterator === undefined) return;
      const res = await this.call(
        el(NS.search, 'iterateRequest', this.requestAttrs({}), [el(NS.search, 'iterator', { ID: page.iterator })]),
        NS.search,
        'iterateResponse',
      );
      page = { psos: childrenOf(res, NS.spml, 'pso'), iterator: child(res, NS.search, 'iterator')?.attrs.ID };
    }
  }

  /**
   * DSML attribute name -> values, for every mapped attribute (an absent value is an empty list): the built-in rules of
   * `attributes`, then the attribute-mapping values (OutboundUser.mapped) over them. DSML names are case-insensitive:
   * a rule on `FirstName` replaces the built-in `firstname`, under the built-in spelling.
   */
  private attributesOf(user: OutboundUser): Map<string, string[]> {
    const m = this.settings.attributes;
    const out = new Map<string, string[]>();
    const put = (name: string, value: string | undefined) => {
      if (name) out.set(name, value === undefined ? [] : [value]);
    };
    put(m.userName, qualifiedUserName(this.settings.userStoreDomain.toUpperCase(), user.userName));
    put(m.givenName, user.name?.givenName);
    put(m.familyName, user.name?.familyName);
    put(m.displayName, user.displayName ?? user.name?.formatted);
    put(m.email, primaryEmail(user));
    put(m.externalId, user.externalId);
    put(m.disabled, user.active === false ? 'true' : 'false');
    for (const mapped of user.mapped ?? []) {
      const name = [...out.keys()].find((k) => k.toLowerCase() === mapped.target.toLowerCase()) ?? mapped.target;
      out.set(name, stringValues(mapped));
    }
    // Only a password being provisioned is sent: an update without one leaves the target's unchanged.
    if (m.password && user.password !== undefined) out.set(m.password, [user.password]);
    return out;
  }

  private toRemoteUser(pso: XmlElement): RemoteUser | undefined {
    const id = child(pso, NS.spml, 'psoID')?.attrs.ID;
    const attrs = readDsmlAttrs(child(pso, NS.spml, 'data'));
    const m = this.settings.attributes;
    const userName = attrs.get(m.userName)?.[0];
    if (!id || userName === undefined) return undefined;
    const disabled = m.disabled ? attrs.get(m.disabled)?.[0] : undefined;
    return {
      remoteId: id,
      userName,
      externalId: m.externalId ? attrs.get(m.externalId)?.[0] : undefined,
      active: disabled === undefined ? undefined : disabled.toLowerCase() !== 'true',
      raw: Object.fromEntries(attrs),
    };
  }

  private async modify(remoteId: string, attributes: Map<string, string[]>): Promise<void> {
    // DSMLv2 profile: one <modification> holding DSML modifications; replace with no values removes the attribute.
    const mods = [...attributes].map(([name, values]) =>
      el(NS.dsml, 'modification', { name, operation: 'replace' }, values.map((v) => el(NS.dsml, 'value', {}, v))),
    );
    await this.call(
      el(NS.spml, 'modifyRequest', this.requestAttrs({ returnData: 'identifier' }), [this.psoId(remoteId), el(NS.spml, 'modification', {}, mods)]),
      NS.spml,
      'modifyResponse',
    );
  }

  private async search(filter: XmlElement, returnData: 'identifier' | 'data', maxSelect: number): Promise<{ psos: XmlElement[]; iterator: string | undefined }> {
    const query = el(NS.search, 'query', { scope: 'subTree', targetID: this.settings.targetId }, [filter]);
    const res = await this.call(
      el(NS.search, 'searchRequest', this.requestAttrs({ returnData, maxSelect: String(maxSelect) }), [query]),
      NS.search,
      'searchResponse',
    );
    return { psos: childrenOf(res, NS.spml, 'pso'), iterator: child(res, NS.search, 'iterator')?.attrs.ID };
  }

  private psoId(remoteId: string): XmlElement {
    return el(NS.spml, 'psoID', { ID: remoteId, targetID: this.settings.targetId });
  }

  private requestAttrs(extra: Record<string, string | undefined>): Record<string, string | undefined> {
    return { requestID: crypto.randomUUID(), executionMode: 'synchronous', ...extra };
  }

  /**
   * The one place where HTTP, SOAP and SPML outcomes become the connector error taxonomy. Returns the response
   * element (`expectNs`/`expectName`) of a `status="success"` answer.
   */
  private async call(request: XmlElement, expectNs: string, expectName: string): Promise<XmlElement> {
    const op = request.name;
    let body: string;
    try {
      body = soapEnvelope(request);
    } catch (err) {
      if (err instanceof XmlError) throw new ConnectorRejected(`${op}: ${err.message}`);
      throw err;
    }
    const headers: Record<string, string> = { 'Content-Type': 'text/xml; charset=utf-8', Accept: 'text/xml', SOAPAction: '""' };
    if (this.settings.username !== undefined) {
      const token = Buffer.from(`${this.settings.username}:${this.secrets.password ?? ''}`).toString('base64');
      headers.Authorization = `Basic ${token}`;
    }
    let res: Response;
    let text: string;
    try {
      res = await fetch(this.settings.endpoint, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.settings.timeoutMs) });
      text = await res.text();
    } catch (err) {
      const cause = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
      throw new ConnectorTransient(`${op} to ${this.settings.endpoint} failed: ${cause}`);
    }
    const where = `${op} -> ${res.status}`;
    if (res.status === 401 || res.status === 403) {
      throw new ConnectorMisconfigured(`${where} (check the connector's username and password)`, res.status);
    }
    if (res.status === 408 || res.status === 429) {
      throw new ConnectorTransient(where, res.status, parseRetryAfter(res.headers.get('retry-after')));
    }

    let content: XmlElement | undefined;
    try {
      content = soapBodyContent(parseXml(text));
    } catch {
      content = undefined;
    }
    if (content?.ns === NS.soap && content.name === 'Fault') throw this.faultError(op, res.status, content);
    if (res.status >= 500) throw new ConnectorTransient(where, res.status, parseRetryAfter(res.headers.get('retry-after')));
    if (res.status === 404) throw new ConnectorMisconfigured(`${where}: no SPML service at ${this.settings.endpoint}`, 404);
    if (res.status < 200 || res.status >= 300) throw new ConnectorRejected(where, res.status);
    if (!content) throw new ConnectorRejected(`${where}: the answer is not a SOAP 1.1 envelope`, res.status);
    if (content.ns !== expectNs || content.name !== expectName) {
      throw new ConnectorRejected(`${op}: expected ${expectName}, the target answered ${content.name}`, res.status);
    }
    const status = content.attrs.status;
    if (status === 'success') return content;
    const message = child(content, NS.spml, 'errorMessage')?.text;
    if (status === 'failure') throw this.spmlError(op, content.attrs.error, message);
    throw new ConnectorRejected(`${op}: status '${status ?? '(none)'}' (only synchronous execution is supported)`);
  }

  private spmlError(op: string, code: string | undefined, message: string | undefined): ConnectorError {
    const text = `${op} failed: ${code ?? 'no error code'}${message ? `: ${message}` : ''}`;
    if (code !== undefined && EXISTS_CODES.has(code)) return new ConnectorAlreadyExists(text);
    if (code !== undefined && NOT_FOUND_CODES.has(code)) return new ConnectorNotFound(text);
    // malformedRequest, unsupportedOperation, unsupportedIdentifierType, invalidIdentifier, customError, ...
    return new ConnectorRejected(text);
  }

  /**
   * A SOAP 1.1 Fault (§4.4). An SPML error code carried in the detail (some providers fault instead of
   * answering status="failure") is mapped like a failure; otherwise Server faults are the provider's
   * trouble (retried) and Client faults are ours (rejected).
   */
  private faultError(op: string, status: number, fault: XmlElement): ConnectorError {
    const code = fault.children.find((c) => c.name === 'faultcode')?.text.trim() ?? '';
    const reason = fault.children.find((c) => c.name === 'faultstring')?.text.trim() ?? '';
    const detail = fault.children.find((c) => c.name === 'detail');
    const spmlCode = detail && findErrorCode(detail);
    const text = `${op}: SOAP Fault ${code}${reason ? `: ${reason}` : ''}`;
    if (spmlCode !== undefined) return this.spmlError(op, spmlCode, reason || undefined);
    const local = code.slice(code.indexOf(':') + 1);
    if (local === 'Server' || local.startsWith('Server.')) return new ConnectorTransient(text, status);
    return new ConnectorRejected(text, status);
  }

}

function findErrorCode(e: XmlElement): string | undefined {
  if (e.ns === NS.spml && e.attrs.error !== undefined) return e.attrs.error;
  for (const c of e.children) {
    const found = findErrorCode(c);
    if (found !== undefined) return found;
  }
  return undefined;
}

export const spmlFactory: ConnectorFactory = defineConnector({
  type: 'spml',
  label: 'SPML',
  settings: spmlSettings,
  secrets: spmlSecrets,
  secretFields: SECRET_FIELDS,
  check,
  build: (settings, secrets) => new SpmlConnector(settings, secrets),
});

export default spmlFactory;
