/**
 * The decision request for one outbound provisioning operation: which user (or group), which operation, to which
 * target, started by which application, when. Two request profiles:
 *
 * - `wso2` builds the request WSO2 Identity Server's XACML provisioning rule handler builds, attribute for
 *   attribute, so that a policy written for WSO2 (its sample policy and its five templates) decides here as it
 *   decides there. WSO2's quirks are kept on purpose and named below (see docs/rules.md for the sources).
 * - `clean` (the default for new policies) uses typed values and this server's own identifiers:
 *   {@link CleanAttribute} and {@link CleanCategory}.
 *
 * Pure: no I/O and no clock (the time is `input.now`). Bounded: see {@link PROVISIONING_REQUEST_LIMITS}; an input
 * beyond a bound is refused with a {@link ProvisioningRequestError} rather than cut, because a cut list of groups could
 * change the decision.
 *
 * @example
 *   const request = buildProvisioningRequest({
 *     operation: 'create', resourceType: 'User', domain: 'PRIMARY',
 *     resource: { userName: 'ada', emails: [{ value: 'ada@example.com', primary: true }] },
 *     groups: ['engineering'], roles: ['admin'],
 *     target: { idpName: 'Google', connectorType: 'google', connectorId: 'c-1' },
 *     application: { id: 'resident', name: 'resident', resident: true }, // sp-name wso2carbon-local-sp
 *     now: new Date(),
 *   }, 'wso2');
 */
import { parseValue } from './functions/datatypes.js';
import type { RequestAttribute, RequestCategory, XacmlRequest } from './request.js';
import type { Decision } from './response.js';
import { DataType, type AttributeValue } from './values.js';

export type RequestProfile = 'wso2' | 'clean';

export interface ProvisioningDecisionInput {
  operation: 'create' | 'update' | 'delete' | 'jit';
  resourceType: 'User' | 'Group';
  /** The user (SCIM resource JSON as this server returns it: userName, emails, name, groups, roles, enterprise
   *  extension...) or the group (displayName, members). Never a password. */
  resource: Record<string, unknown>;
  /** User store domain, upper case (PRIMARY, ...). */
  domain: string;
  /** Display names of the groups the user is a member of (direct), with their domain prefix as WSO2 writes roles. */
  groups: string[];
  /** Names of the roles the user holds. */
  roles: string[];
  target: { idpName: string; connectorType: string; connectorId: string };
  /** The application that started the change (the resident SP for operators); tenant is always "carbon.super".
   *  `resident` marks the resident service provider, which the `wso2` profile names as WSO2 does
   *  ({@link WSO2_RESIDENT_SP_NAME}); absent means false. */
  application: { id: string; name: string; resident?: boolean };
  now: Date;
}

/** Bounds on what one request carries (the XML request parser's MAX_VALUES_PER_ATTRIBUTE is 1000 too). */
export const PROVISIONING_REQUEST_LIMITS = {
  /** Values of one attribute: groups, roles, emails, members... */
  maxBagSize: 1000,
  /** Characters of one string value (a name, an email, a group name). */
  maxStringLength: 4096,
} as const;

/** An input this module refuses (a bound exceeded, a value of the wrong type). Nothing is built. */
export class ProvisioningRequestError extends Error {
  readonly code: 'invalid_input' | 'too_large';
  constructor(code: 'invalid_input' | 'too_large', message: string) {
    super(message);
    this.name = 'ProvisioningRequestError';
    this.code = code;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The WSO2 profile
// ---------------------------------------------------------------------------------------------------------------

/**
 * WSO2's categories and attribute ids, as in `ProvisioningRuleConstanats` (wso2/carbon-identity-framework,
 * components/provisioning/org.wso2.carbon.identity.provisioning/src/main/java/org/wso2/carbon/identity/provisioning/
 * rules/ProvisioningRuleConstanats.java). Every value WSO2 sends is an xs:string.
 */
export const Wso2Category = {
  user: 'http://wso2.org/identity/user',
  serviceProvider: 'http://wso2.org/identity/sp',
  identityProvider: 'http://wso2.org/identity/idp',
  identityAction: 'http://wso2.org/identity/identity-action',
  provisioning: 'http://wso2.org/identity/provisioning',
  environment: 'urn:oasis:names:tc:xacml:3.0:attribute-category:environment',
} as const;

export const Wso2Attribute = {
  userTenantDomain: 'http://wso2.org/identity/user/user-tenant-domain',
  username: 'http://wso2.org/identity/user/username',
  spName: 'http://wso2.org/identity/sp/sp-name',
  spTenantDomain: 'http://wso2.org/identity/auth/sp-tenant-domain',
  idpName: 'http://wso2.org/identity/idp/idp-name',
  connectorType: 'http://wso2.org/identity/idp/connector-type',
  actionName: 'http://wso2.org/identity/identity-action/action-name',
  claimGroup: 'http://wso2.org/identity/provisioning/claim-group',
  operation: 'http://wso2.org/identity/provisioning/provision-operation',
  environmentId: 'urn:oasis:names:tc:xacml:1.0:environment:environment-id',
  currentDate: 'urn:oasis:names:tc:xacml:1.0:environment:current-date',
  currentTime: 'urn:oasis:names:tc:xacml:1.0:environment:current-time',
  currentDateTime: 'urn:oasis:names:tc:xacml:1.0:environment:current-dateTime',
} as const;

/** WSO2 has tenants; this server has one, named as WSO2 names its super tenant. */
export const WSO2_TENANT_DOMAIN = 'carbon.super';

/** The resident service provider's name in WSO2 (ApplicationConstants.LOCAL_SP), sent as sp-name for changes the
 *  resident SP starts (the management console, the admin API, SCIM calls of no application). */
export const WSO2_RESIDENT_SP_NAME = 'wso2carbon-local-sp';

/** The local claim dialect (http://wso2.org/claims) URIs this server can fill. */
export const Wso2Claim = {
  username: 'http://wso2.org/claims/username',
  userId: 'http://wso2.org/claims/userid',
  externalId: 'http://wso2.org/claims/externalid',
  givenName: 'http://wso2.org/claims/givenname',
  lastName: 'http://wso2.org/claims/lastname',
  formattedName: 'http://wso2.org/claims/formattedName',
  middleName: 'http://wso2.org/claims/middleName',
  honorificPrefix: 'http://wso2.org/claims/honorificPrefix',
  honorificSuffix: 'http://wso2.org/claims/honorificSuffix',
  displayName: 'http://wso2.org/claims/displayName',
  nickName: 'http://wso2.org/claims/nickname',
  profileUrl: 'http://wso2.org/claims/url',
  title: 'http://wso2.org/claims/title',
  userType: 'http://wso2.org/claims/userType',
  preferredLanguage: 'http://wso2.org/claims/preferredLanguage',
  locale: 'http://wso2.org/claims/local',
  timezone: 'http://wso2.org/claims/timeZone',
  active: 'http://wso2.org/claims/active',
  emailAddress: 'http://wso2.org/claims/emailaddress',
  emailsWork: 'http://wso2.org/claims/emails.work',
  emailsHome: 'http://wso2.org/claims/emails.home',
  emailsOther: 'http://wso2.org/claims/emails.other',
  mobile: 'http://wso2.org/claims/mobile',
  phoneHome: 'http://wso2.org/claims/phoneNumbers.home',
  phoneWork: 'http://wso2.org/claims/phoneNumbers.work',
  phoneOther: 'http://wso2.org/claims/phoneNumbers.other',
  photo: 'http://wso2.org/claims/photourl',
  thumbnail: 'http://wso2.org/claims/thumbnail',
  groups: 'http://wso2.org/claims/groups',
  roles: 'http://wso2.org/claims/roles',
  employeeNumber: 'http://wso2.org/claims/employeeNumber',
  costCenter: 'http://wso2.org/claims/costCenter',
  organization: 'http://wso2.org/claims/organization',
  division: 'http://wso2.org/claims/division',
  department: 'http://wso2.org/claims/department',
} as const;

/**
 * This server's connector types as WSO2 names its outbound connectors (the "connector" of an outbound provisioning
 * link, which the rule handler sends as connector-type): SCIM 1.1 "scim", SCIM 2.0 "SCIM2", Google "googleapps",
 * Salesforce "salesforce", SPML "spml". A plug-in's type is sent as it is.
 */
export const WSO2_CONNECTOR_TYPES: Readonly<Record<string, string>> = {
  scim11: 'scim',
  scim2: 'SCIM2',
  google: 'googleapps',
  salesforce: 'salesforce',
  spml: 'spml',
};

/** WSO2's hybrid-role domain: role names in the roles claim are written `Internal/<name>`. */
const INTERNAL_DOMAIN = 'Internal';
/** WSO2 gives every user the everyone role, and its roles claim lists it. */
const EVERYONE_ROLE = 'Internal/everyone';
const PRIMARY_DOMAIN = 'PRIMARY';

// ---------------------------------------------------------------------------------------------------------------
// The clean profile
// ---------------------------------------------------------------------------------------------------------------

/** Categories of the clean profile: XACML 3.0's own (Appendix B.2), the target as the recipient of the data. */
export const CleanCategory = {
  /** The application that started the change. */
  application: 'urn:oasis:names:tc:xacml:1.0:subject-category:access-subject',
  /** The target identity provider and connector: the party that will receive the user's data (§B.2). */
  target: 'urn:oasis:names:tc:xacml:1.0:subject-category:recipient-subject',
  /** The user or group being provisioned. */
  resource: 'urn:oasis:names:tc:xacml:3.0:attribute-category:resource',
  action: 'urn:oasis:names:tc:xacml:3.0:attribute-category:action',
  environment: 'urn:oasis:names:tc:xacml:3.0:attribute-category:environment',
} as const;

const SCIM_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const SCIM_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const SCIM_ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

/**
 * Attribute ids of the clean profile. SCIM attributes keep their SCIM URN (RFC 7644 §3.10's fully qualified
 * attribute names); what SCIM has no name for has a `urn:provisioning-server:` id. Each is stable: policies name them.
 */
export const CleanAttribute = {
  // action
  /** create | update | delete | jit (xs:string). */
  operation: 'urn:oasis:names:tc:xacml:1.0:action:action-id',
  // access-subject: the initiating application
  applicationId: 'urn:oasis:names:tc:xacml:1.0:subject:subject-id',
  applicationName: 'urn:provisioning-server:application:name',
  // recipient-subject: the target
  targetIdpName: 'urn:provisioning-server:target:idp-name',
  /** This server's connector type: scim2, scim11, spml, google, salesforce, or a plug-in's. */
  targetConnectorType: 'urn:provisioning-server:target:connector-type',
  targetConnectorId: 'urn:provisioning-server:target:connector-id',
  // resource: the user or group
  resourceId: 'urn:oasis:names:tc:xacml:1.0:resource:resource-id',
  /** User | Group. */
  resourceType: 'urn:provisioning-server:resource:resource-type',
  /** The user store domain, upper case. */
  domain: 'urn:provisioning-server:resource:domain',
  /** The domain-qualified name as WSO2 writes it: `name` in PRIMARY, `DOMAIN/name` elsewhere. */
  qualifiedName: 'urn:provisioning-server:resource:qualified-name',
  userName: `${SCIM_USER}:userName`,
  externalId: `${SCIM_USER}:externalId`,
  displayName: `${SCIM_USER}:displayName`,
  nickName: `${SCIM_USER}:nickName`,
  profileUrl: `${SCIM_USER}:profileUrl`,
  title: `${SCIM_USER}:title`,
  userType: `${SCIM_USER}:userType`,
  preferredLanguage: `${SCIM_USER}:preferredLanguage`,
  locale: `${SCIM_USER}:locale`,
  timezone: `${SCIM_USER}:timezone`,
  /** xs:boolean. */
  active: `${SCIM_USER}:active`,
  givenName: `${SCIM_USER}:name.givenName`,
  familyName: `${SCIM_USER}:name.familyName`,
  formattedName: `${SCIM_USER}:name.formatted`,
  middleName: `${SCIM_USER}:name.middleName`,
  honorificPrefix: `${SCIM_USER}:name.honorificPrefix`,
  honorificSuffix: `${SCIM_USER}:name.honorificSuffix`,
  /** A bag of every email address (the `value` of each emails entry). */
  emails: `${SCIM_USER}:emails`,
  /** A bag of every phone number. */
  phoneNumbers: `${SCIM_USER}:phoneNumbers`,
  /** A bag of group names (input.groups: direct memberships, domain-qualified). */
  groups: `${SCIM_USER}:groups`,
  /** A bag of role names (input.roles, as this server names them: no `Internal/` prefix). */
  roles: `${SCIM_USER}:roles`,
  employeeNumber: `${SCIM_ENTERPRISE}:employeeNumber`,
  costCenter: `${SCIM_ENTERPRISE}:costCenter`,
  organization: `${SCIM_ENTERPRISE}:organization`,
  division: `${SCIM_ENTERPRISE}:division`,
  department: `${SCIM_ENTERPRISE}:department`,
  managerId: `${SCIM_ENTERPRISE}:manager.value`,
  groupDisplayName: `${SCIM_GROUP}:displayName`,
  /** A bag of the members' ids (the `value` of each members entry). */
  groupMembers: `${SCIM_GROUP}:members`,
  // environment (XACML 3.0 §10.2.5), in UTC
  currentDateTime: 'urn:oasis:names:tc:xacml:1.0:environment:current-dateTime',
  currentDate: 'urn:oasis:names:tc:xacml:1.0:environment:current-date',
  currentTime: 'urn:oasis:names:tc:xacml:1.0:environment:current-time',
} as const;

// ---------------------------------------------------------------------------------------------------------------
// Reading the input
// ---------------------------------------------------------------------------------------------------------------

function checkString(where: string, v: string): string {
  if (v.length > PROVISIONING_REQUEST_LIMITS.maxStringLength) {
    throw new ProvisioningRequestError('too_large', `${where} is longer than ${PROVISIONING_REQUEST_LIMITS.maxStringLength} characters`);
  }
  return v;
}

function checkBag(where: string, values: readonly unknown[]): void {
  if (values.length > PROVISIONING_REQUEST_LIMITS.maxBagSize) {
    throw new ProvisioningRequestError('too_large', `${where} has more than ${PROVISIONING_REQUEST_LIMITS.maxBagSize} values`);
  }
}

function requiredString(where: string, v: unknown): string {
  if (typeof v !== 'string') throw new ProvisioningRequestError('invalid_input', `${where} must be a string`);
  return checkString(where, v);
}

/** A string attribute of the resource: absent (undefined/null) or a string; anything else is refused. */
function optionalString(obj: Record<string, unknown> | undefined, key: string, where: string): string | undefined {
  const v = obj?.[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ProvisioningRequestError('invalid_input', `${where}.${key} must be a string`);
  return checkString(`${where}.${key}`, v);
}

function optionalObject(obj: Record<string, unknown>, key: string, where: string): Record<string, unknown> | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new ProvisioningRequestError('invalid_input', `${where}.${key} must be an object`);
  return v as Record<string, unknown>;
}

interface MultiValue {
  value: string;
  type?: string;
  primary: boolean;
}

/** A SCIM multi-valued attribute (RFC 7643 §2.4): an array of { value, type?, primary? }. */
function multiValues(obj: Record<string, unknown>, key: string, where: string): MultiValue[] {
  const v = obj[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ProvisioningRequestError('invalid_input', `${where}.${key} must be an array`);
  checkBag(`${where}.${key}`, v);
  const out: MultiValue[] = [];
  v.forEach((item: unknown, i: number) => {
    const at = `${where}.${key}[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new ProvisioningRequestError('invalid_input', `${at} must be an object`);
    }
    const entry = item as Record<string, unknown>;
    const value = optionalString(entry, 'value', at);
    if (value === undefined) return;
    const type = optionalString(entry, 'type', at);
    const primary = entry.primary === true;
    out.push(type === undefined ? { value, primary } : { value, type, primary });
  });
  return out;
}

function stringList(where: string, v: unknown): string[] {
  if (!Array.isArray(v)) throw new ProvisioningRequestError('invalid_input', `${where} must be an array of strings`);
  checkBag(where, v);
  return v.map((s: unknown, i: number) => requiredString(`${where}[${i}]`, s));
}

function checkInput(input: ProvisioningDecisionInput): void {
  if (!['create', 'update', 'delete', 'jit'].includes(input.operation)) {
    throw new ProvisioningRequestError('invalid_input', `operation must be create, update, delete or jit, not ${String(input.operation)}`);
  }
  if (input.resourceType !== 'User' && input.resourceType !== 'Group') {
    throw new ProvisioningRequestError('invalid_input', `resourceType must be User or Group, not ${String(input.resourceType)}`);
  }
  if (typeof input.resource !== 'object' || input.resource === null || Array.isArray(input.resource)) {
    throw new ProvisioningRequestError('invalid_input', 'resource must be an object');
  }
  if (!(input.now instanceof Date) || Number.isNaN(input.now.getTime())) {
    throw new ProvisioningRequestError('invalid_input', 'now must be a valid Date');
  }
  requiredString('domain', input.domain);
  requiredString('target.idpName', input.target?.idpName);
  requiredString('target.connectorType', input.target?.connectorType);
  requiredString('target.connectorId', input.target?.connectorId);
  requiredString('application.id', input.application?.id);
  requiredString('application.name', input.application?.name);
  if (input.application.resident !== undefined && typeof input.application.resident !== 'boolean') {
    throw new ProvisioningRequestError('invalid_input', 'application.resident must be a boolean');
  }
  stringList('groups', input.groups);
  stringList('roles', input.roles);
}

/** `UserCoreUtil.addDomainToName`: PRIMARY names are bare, others `DOMAIN/name`, unless the name has a domain. */
function domainQualified(name: string, domain: string): string {
  if (name.includes('/') || domain.toUpperCase() === PRIMARY_DOMAIN) return name;
  return `${domain.replace(/\//g, '').toUpperCase()}/${name}`;
}

function entityName(input: ProvisioningDecisionInput): string {
  const key = input.resourceType === 'User' ? 'userName' : 'displayName';
  const name = optionalString(input.resource, key, 'resource') ?? '';
  return domainQualified(name, input.domain);
}

// ---------------------------------------------------------------------------------------------------------------
// Building values
// ---------------------------------------------------------------------------------------------------------------

function value(dataType: string, text: string): AttributeValue {
  return parseValue(dataType, text);
}

function str(text: string): AttributeValue {
  return value(DataType.string, text);
}

class CategoryBuilder {
  private readonly byCategory = new Map<string, RequestAttribute[]>();

  add(category: string, attributeId: string, values: AttributeValue[]): void {
    if (values.length === 0) return; // an attribute with no value is the attribute's absence (§7.3.5)
    let list = this.byCategory.get(category);
    if (!list) this.byCategory.set(category, (list = []));
    list.push({ attributeId, includeInResult: false, values });
  }

  addString(category: string, attributeId: string, text: string | undefined): void {
    if (text !== undefined) this.add(category, attributeId, [str(text)]);
  }

  build(): XacmlRequest {
    const categories: RequestCategory[] = [];
    for (const [category, attributes] of this.byCategory) categories.push({ category, attributes });
    return { returnPolicyIdList: false, combinedDecision: false, categories };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// WSO2: the request XACMLBasedRuleHandler.createRequestDTO builds, through PolicyCreatorUtil.createRequestElementDTO
// and Balana's PolicyUtils.createAttributesElement
// ---------------------------------------------------------------------------------------------------------------

/**
 * A row's value as WSO2 turns it into <AttributeValue>s: PolicyCreatorUtil drops a row whose value is blank, splits
 * the rest on "," (Java's String.split, which drops trailing empty strings), and Balana's PolicyUtils trims each part.
 * So a claim value with a comma becomes several values (quirk: WSO2 joins multi-valued claims with ",").
 */
function wso2RowValues(rowValue: string): AttributeValue[] {
  if (rowValue.trim().length === 0) return [];
  const parts = rowValue.split(',');
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop(); // String.split(regex) drops trailing ""
  return parts.map((p) => str(p.trim()));
}

/**
 * The claim-group row: `StringUtils.substringBetween(list.toString(), "[", "]")` of the role list WSO2 passed to
 * addUser. Java's List.toString writes "[a, b]"; substringBetween takes what lies between the first "[" and the next
 * "]" (quirk: a name containing "]" cuts the list there); the row is then split on "," and trimmed as any other.
 */
function wso2ClaimGroupRow(groups: readonly string[]): string {
  const listText = `[${groups.join(', ')}]`;
  const open = listText.indexOf('[');
  const close = listText.indexOf(']', open + 1);
  return listText.substring(open + 1, close);
}

/** WSO2's multi-valued claim value: the values joined with "," (WSO2's MultiAttributeSeparator default). */
function joinClaim(values: readonly string[]): string | undefined {
  return values.length === 0 ? undefined : values.join(',');
}

/**
 * The user's claims in the local dialect, the way WSO2's SCIM 2.0 dialect maps SCIM attributes to local claims
 * (claim-config.xml's `urn:ietf:params:scim:schemas:core:2.0:User` dialect). Values are strings, multi-valued ones
 * joined with ",".
 */
function wso2UserClaims(input: ProvisioningDecisionInput, withMemberships: boolean): Map<string, string> {
  const r = input.resource;
  const claims = new Map<string, string>();
  const put = (claim: string, v: string | undefined): void => {
    if (v !== undefined) claims.set(claim, v);
  };
  put(Wso2Claim.username, optionalString(r, 'userName', 'resource'));
  put(Wso2Claim.userId, optionalString(r, 'id', 'resource'));
  put(Wso2Claim.externalId, optionalString(r, 'externalId', 'resource'));
  put(Wso2Claim.displayName, optionalString(r, 'displayName', 'resource'));
  put(Wso2Claim.nickName, optionalString(r, 'nickName', 'resource'));
  put(Wso2Claim.profileUrl, optionalString(r, 'profileUrl', 'resource'));
  put(Wso2Claim.title, optionalString(r, 'title', 'resource'));
  put(Wso2Claim.userType, optionalString(r, 'userType', 'resource'));
  put(Wso2Claim.preferredLanguage, optionalString(r, 'preferredLanguage', 'resource'));
  put(Wso2Claim.locale, optionalString(r, 'locale', 'resource'));
  put(Wso2Claim.timezone, optionalString(r, 'timezone', 'resource'));
  if (r.active !== undefined && r.active !== null) {
    if (typeof r.active !== 'boolean') throw new ProvisioningRequestError('invalid_input', 'resource.active must be a boolean');
    put(Wso2Claim.active, String(r.active));
  }
  const name = optionalObject(r, 'name', 'resource');
  put(Wso2Claim.givenName, optionalString(name, 'givenName', 'resource.name'));
  put(Wso2Claim.lastName, optionalString(name, 'familyName', 'resource.name'));
  put(Wso2Claim.formattedName, optionalString(name, 'formatted', 'resource.name'));
  put(Wso2Claim.middleName, optionalString(name, 'middleName', 'resource.name'));
  put(Wso2Claim.honorificPrefix, optionalString(name, 'honorificPrefix', 'resource.name'));
  put(Wso2Claim.honorificSuffix, optionalString(name, 'honorificSuffix', 'resource.name'));

  // emails: the primary one (or the first) is the emailaddress claim; typed ones go to emails.<type> as well.
  const emails = multiValues(r, 'emails', 'resource');
  const primaryEmail = emails.find((e) => e.primary) ?? emails[0];
  put(Wso2Claim.emailAddress, primaryEmail?.value);
  put(Wso2Claim.emailsWork, joinClaim(emails.filter((e) => e.type === 'work').map((e) => e.value)));
  put(Wso2Claim.emailsHome, joinClaim(emails.filter((e) => e.type === 'home').map((e) => e.value)));
  put(Wso2Claim.emailsOther, joinClaim(emails.filter((e) => e.type === 'other').map((e) => e.value)));
  const phones = multiValues(r, 'phoneNumbers', 'resource');
  put(Wso2Claim.mobile, joinClaim(phones.filter((p) => p.type === 'mobile').map((p) => p.value)));
  put(Wso2Claim.phoneHome, joinClaim(phones.filter((p) => p.type === 'home').map((p) => p.value)));
  put(Wso2Claim.phoneWork, joinClaim(phones.filter((p) => p.type === 'work').map((p) => p.value)));
  put(Wso2Claim.phoneOther, joinClaim(phones.filter((p) => p.type === 'other').map((p) => p.value)));
  const photos = multiValues(r, 'photos', 'resource');
  put(Wso2Claim.photo, joinClaim(photos.filter((p) => p.type === 'photo').map((p) => p.value)));
  put(Wso2Claim.thumbnail, joinClaim(photos.filter((p) => p.type === 'thumbnail').map((p) => p.value)));

  const enterprise = optionalObject(r, SCIM_ENTERPRISE, 'resource');
  put(Wso2Claim.employeeNumber, optionalString(enterprise, 'employeeNumber', 'enterprise'));
  put(Wso2Claim.costCenter, optionalString(enterprise, 'costCenter', 'enterprise'));
  put(Wso2Claim.organization, optionalString(enterprise, 'organization', 'enterprise'));
  put(Wso2Claim.division, optionalString(enterprise, 'division', 'enterprise'));
  put(Wso2Claim.department, optionalString(enterprise, 'department', 'enterprise'));

  if (withMemberships) {
    // The user store computes these two claims (getUserClaimValues): groups with their domain prefix, roles as
    // Internal/<name>, always including Internal/everyone.
    put(Wso2Claim.groups, joinClaim(input.groups));
    const roles = input.roles.map((role) => (role.includes('/') ? role : `${INTERNAL_DOMAIN}/${role}`));
    if (!roles.includes(EVERYONE_ROLE)) roles.push(EVERYONE_ROLE);
    put(Wso2Claim.roles, joinClaim(roles));
  }
  return claims;
}

/** Java SimpleDateFormat patterns yyyy/MM/dd, HH:mm:ss and "yyyy/MM/dd HH:mm:ss", here in UTC. */
function wso2DateStrings(now: Date): { date: string; time: string; dateTime: string } {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const date = `${p(now.getUTCFullYear(), 4)}/${p(now.getUTCMonth() + 1)}/${p(now.getUTCDate())}`;
  const time = `${p(now.getUTCHours())}:${p(now.getUTCMinutes())}:${p(now.getUTCSeconds())}`;
  return { date, time, dateTime: `${date} ${time}` };
}

/** WSO2's ProvisioningOperation for this server's operation. JIT provisioning adds the user (addUser): POST. */
export function wso2Operation(operation: ProvisioningDecisionInput['operation']): 'POST' | 'PUT' | 'DELETE' {
  switch (operation) {
    case 'create':
    case 'jit':
      return 'POST';
    case 'update':
      return 'PUT';
    case 'delete':
      return 'DELETE';
  }
}

function buildWso2(input: ProvisioningDecisionInput): XacmlRequest {
  const b = new CategoryBuilder();
  const addRow = (category: string, attributeId: string, rowValue: string | undefined): void => {
    if (rowValue !== undefined) b.add(category, attributeId, wso2RowValues(rowValue));
  };
  const op = wso2Operation(input.operation);
  const isUser = input.resourceType === 'User';

  addRow(Wso2Category.user, Wso2Attribute.userTenantDomain, WSO2_TENANT_DOMAIN);
  // Quirk: the entity name goes under user/username for groups too (the group's domain-qualified name).
  addRow(Wso2Category.user, Wso2Attribute.username, entityName(input));
  // The inbound claims: the user's claims on create and update; none on delete (doPreDeleteUser sets none) and
  // none for groups (role listeners set none). On update WSO2's listener sends what changed, or all of the user's
  // claims after a role change (doPostUpdateRoleListOfUser): this server sends all of them, memberships included.
  if (isUser && op !== 'DELETE') {
    for (const [claim, v] of wso2UserClaims(input, op === 'PUT')) addRow(Wso2Category.user, claim, v);
  }
  addRow(Wso2Category.serviceProvider, Wso2Attribute.spName, input.application.resident === true ? WSO2_RESIDENT_SP_NAME : input.application.name);
  addRow(Wso2Category.serviceProvider, Wso2Attribute.spTenantDomain, WSO2_TENANT_DOMAIN);
  addRow(Wso2Category.identityProvider, Wso2Attribute.idpName, input.target.idpName);
  addRow(
    Wso2Category.identityProvider,
    Wso2Attribute.connectorType,
    WSO2_CONNECTOR_TYPES[input.target.connectorType] ?? input.target.connectorType
  );
  addRow(Wso2Category.identityAction, Wso2Attribute.actionName, 'provisioning');
  // claim-group only for POST: the role list given to addUser (the user's groups here; for a group, its own name).
  if (op === 'POST') {
    addRow(Wso2Category.provisioning, Wso2Attribute.claimGroup, wso2ClaimGroupRow(isUser ? input.groups : [entityName(input)]));
  }
  addRow(Wso2Category.provisioning, Wso2Attribute.operation, op);
  // Quirk: environment-id carries the tenant domain; date and time are xs:string in WSO2's own formats.
  const t = wso2DateStrings(input.now);
  addRow(Wso2Category.environment, Wso2Attribute.environmentId, WSO2_TENANT_DOMAIN);
  addRow(Wso2Category.environment, Wso2Attribute.currentDate, t.date);
  addRow(Wso2Category.environment, Wso2Attribute.currentTime, t.time);
  addRow(Wso2Category.environment, Wso2Attribute.currentDateTime, t.dateTime);
  return b.build();
}

// ---------------------------------------------------------------------------------------------------------------
// Clean
// ---------------------------------------------------------------------------------------------------------------

/** XML Schema lexical forms in UTC (XML Schema Part 2 §3.2.7-3.2.9 with the "Z" time zone). */
function utcLexical(now: Date): { dateTime: string; date: string; time: string } {
  const iso = now.toISOString(); // 2026-12-02T02:38:07.123Z, always UTC
  return { dateTime: iso, date: `${iso.slice(0, 10)}Z`, time: iso.slice(11) };
}

function buildClean(input: ProvisioningDecisionInput): XacmlRequest {
  const b = new CategoryBuilder();
  const R = CleanCategory.resource;
  const strings = (values: readonly string[]): AttributeValue[] => values.map(str);
  const r = input.resource;

  b.addString(CleanCategory.action, CleanAttribute.operation, input.operation);
  b.addString(CleanCategory.application, CleanAttribute.applicationId, input.application.id);
  b.addString(CleanCategory.application, CleanAttribute.applicationName, input.application.name);
  b.addString(CleanCategory.target, CleanAttribute.targetIdpName, input.target.idpName);
  b.addString(CleanCategory.target, CleanAttribute.targetConnectorType, input.target.connectorType);
  b.addString(CleanCategory.target, CleanAttribute.targetConnectorId, input.target.connectorId);

  b.addString(R, CleanAttribute.resourceId, optionalString(r, 'id', 'resource'));
  b.addString(R, CleanAttribute.resourceType, input.resourceType);
  b.addString(R, CleanAttribute.domain, input.domain);
  b.addString(R, CleanAttribute.qualifiedName, entityName(input));
  if (input.resourceType === 'User') {
    b.addString(R, CleanAttribute.userName, optionalString(r, 'userName', 'resource'));
    b.addString(R, CleanAttribute.externalId, optionalString(r, 'externalId', 'resource'));
    b.addString(R, CleanAttribute.displayName, optionalString(r, 'displayName', 'resource'));
    b.addString(R, CleanAttribute.nickName, optionalString(r, 'nickName', 'resource'));
    b.addString(R, CleanAttribute.profileUrl, optionalString(r, 'profileUrl', 'resource'));
    b.addString(R, CleanAttribute.title, optionalString(r, 'title', 'resource'));
    b.addString(R, CleanAttribute.userType, optionalString(r, 'userType', 'resource'));
    b.addString(R, CleanAttribute.preferredLanguage, optionalString(r, 'preferredLanguage', 'resource'));
    b.addString(R, CleanAttribute.locale, optionalString(r, 'locale', 'resource'));
    b.addString(R, CleanAttribute.timezone, optionalString(r, 'timezone', 'resource'));
    if (r.active !== undefined && r.active !== null) {
      if (typeof r.active !== 'boolean') throw new ProvisioningRequestError('invalid_input', 'resource.active must be a boolean');
      b.add(R, CleanAttribute.active, [value(DataType.boolean, String(r.active))]);
    }
    const name = optionalObject(r, 'name', 'resource');
    b.addString(R, CleanAttribute.givenName, optionalString(name, 'givenName', 'resource.name'));
    b.addString(R, CleanAttribute.familyName, optionalString(name, 'familyName', 'resource.name'));
    b.addString(R, CleanAttribute.formattedName, optionalString(name, 'formatted', 'resource.name'));
    b.addString(R, CleanAttribute.middleName, optionalString(name, 'middleName', 'resource.name'));
    b.addString(R, CleanAttribute.honorificPrefix, optionalString(name, 'honorificPrefix', 'resource.name'));
    b.addString(R, CleanAttribute.honorificSuffix, optionalString(name, 'honorificSuffix', 'resource.name'));
    b.add(R, CleanAttribute.emails, strings(multiValues(r, 'emails', 'resource').map((e) => e.value)));
    b.add(R, CleanAttribute.phoneNumbers, strings(multiValues(r, 'phoneNumbers', 'resource').map((p) => p.value)));
    b.add(R, CleanAttribute.groups, strings(input.groups));
    b.add(R, CleanAttribute.roles, strings(input.roles));
    const enterprise = optionalObject(r, SCIM_ENTERPRISE, 'resource');
    b.addString(R, CleanAttribute.employeeNumber, optionalString(enterprise, 'employeeNumber', 'enterprise'));
    b.addString(R, CleanAttribute.costCenter, optionalString(enterprise, 'costCenter', 'enterprise'));
    b.addString(R, CleanAttribute.organization, optionalString(enterprise, 'organization', 'enterprise'));
    b.addString(R, CleanAttribute.division, optionalString(enterprise, 'division', 'enterprise'));
    b.addString(R, CleanAttribute.department, optionalString(enterprise, 'department', 'enterprise'));
    const manager = enterprise === undefined ? undefined : optionalObject(enterprise, 'manager', 'enterprise');
    b.addString(R, CleanAttribute.managerId, optionalString(manager, 'value', 'enterprise.manager'));
  } else {
    b.addString(R, CleanAttribute.groupDisplayName, optionalString(r, 'displayName', 'resource'));
    b.add(R, CleanAttribute.groupMembers, strings(multiValues(r, 'members', 'resource').map((m) => m.value)));
  }

  const t = utcLexical(input.now);
  b.add(CleanCategory.environment, CleanAttribute.currentDateTime, [value(DataType.dateTime, t.dateTime)]);
  b.add(CleanCategory.environment, CleanAttribute.currentDate, [value(DataType.date, t.date)]);
  b.add(CleanCategory.environment, CleanAttribute.currentTime, [value(DataType.time, t.time)]);
  return b.build();
}

/**
 * Builds the decision request for one provisioning operation in the given profile. Throws ProvisioningRequestError
 * for an input of the wrong shape or beyond {@link PROVISIONING_REQUEST_LIMITS}.
 */
export function buildProvisioningRequest(input: ProvisioningDecisionInput, profile: RequestProfile): XacmlRequest {
  checkInput(input);
  switch (profile) {
    case 'wso2':
      return buildWso2(input);
    case 'clean':
      return buildClean(input);
    default:
      throw new ProvisioningRequestError('invalid_input', `unknown request profile ${String(profile)}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Reading the decision
// ---------------------------------------------------------------------------------------------------------------

/**
 * WSO2's default global policy-combining algorithm, the root algorithm over every published policy:
 * `PDP.Global.Policy.Combining.Algorithm` in entitlement.properties (deployment.toml
 * `[identity.entitlement.policy_point.pdp] global_policy_combining_algorithm`), and the fallback of
 * EntitlementUtil.resolveGlobalPolicyAlgorithm when none is configured.
 */
export const WSO2_ROOT_COMBINING_ALGORITHM = 'urn:oasis:names:tc:xacml:3.0:policy-combining-algorithm:deny-overrides';

/** What a NotApplicable decision does to the operation: send it anyway, or skip this target. */
export type NotApplicableTreatment = 'provision' | 'skip';

/**
 * What WSO2 does with NotApplicable: it skips the target. XACMLBasedRuleHandler.evaluateXACMLResponse provisions
 * when the Decision text equals (ignoring case) "Permit" or EntitlementPolicyConstants.RULE_EFFECT_NOT_APPLICABLE,
 * whose value is "Not Applicable" with a space; Balana writes "NotApplicable", so the second test never holds and
 * only Permit provisions (quirk: the code reads as if NotApplicable provisioned; it does not).
 */
export const WSO2_NOT_APPLICABLE: NotApplicableTreatment = 'skip';

/**
 * Whether a decision lets the operation go to the target. Permit does; Deny and Indeterminate never do (WSO2 treats
 * an Indeterminate, and any error while deciding, as "not allowed"); NotApplicable does only when `notApplicable`
 * is 'provision' (default: {@link WSO2_NOT_APPLICABLE}).
 */
export function provisioningAllowed(decision: Decision, notApplicable: NotApplicableTreatment = WSO2_NOT_APPLICABLE): boolean {
  if (decision === 'Permit') return true;
  if (decision === 'NotApplicable') return notApplicable === 'provision';
  return false;
}
