/**
 * The SCIM schemas as data (RFC 7643 §7, §8.7.1): every attribute declares its type, mutability, returned,
 * uniqueness and caseExact, and protocol code (parsing, rendering, filtering, PATCH, /Schemas) reads those
 * declarations instead of hard-coding rules per attribute.
 *
 * Core User, Enterprise User and Group are fixed here; operator-defined extensions (admin API) are loaded
 * from the scim_schema_extension table and use the same shapes.
 */
import { API_SCOPES } from '../http/oauth/scopes.js';
import { SCHEMA_ENTERPRISE_USER, SCHEMA_GROUP, SCHEMA_USER } from './schemas.js';

export type AttributeType = 'string' | 'boolean' | 'decimal' | 'integer' | 'dateTime' | 'reference' | 'complex' | 'binary';
export type Mutability = 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
export type Returned = 'always' | 'never' | 'default' | 'request';
export type Uniqueness = 'none' | 'server' | 'global';

export interface AttributeDef {
  name: string;
  type: AttributeType;
  multiValued: boolean;
  description: string;
  required: boolean;
  caseExact: boolean;
  mutability: Mutability;
  returned: Returned;
  uniqueness: Uniqueness;
  canonicalValues?: string[];
  referenceTypes?: string[];
  subAttributes?: AttributeDef[];
}

export interface SchemaDef {
  id: string;
  name: string;
  description: string;
  attributes: AttributeDef[];
}

export type ResourceTypeName = 'User' | 'Group';

/**
 * A resource type with its core schema and extensions (RFC 7643 §6). `N` is User or Group for the resources the
 * user store serves through ScimService; Role (fixed, not extensible) is a resource type of its own.
 */
export interface ResourceTypeDef<N extends string = ResourceTypeName> {
  name: N;
  endpoint: string;
  description: string;
  schema: SchemaDef;
  extensions: { schema: SchemaDef; required: boolean }[];
}

type Opts = Partial<Omit<AttributeDef, 'name' | 'type' | 'subAttributes'>>;

function attr(name: string, type: AttributeType, description: string, opts: Opts = {}, subAttributes?: AttributeDef[]): AttributeDef {
  return {
    name,
    type,
    multiValued: false,
    description,
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    ...opts,
    ...(subAttributes && { subAttributes }),
  };
}

const str = (name: string, description: string, opts: Opts = {}) => attr(name, 'string', description, opts);

/** The value/display/type/primary shape shared by emails, phoneNumbers, ims, photos... (RFC 7643 §2.4). */
function multiValued(
  name: string,
  description: string,
  opts: { valueType?: AttributeType; types?: string[]; referenceTypes?: string[]; mutability?: Mutability; extra?: AttributeDef[] } = {},
): AttributeDef {
  const mutability = opts.mutability ?? 'readWrite';
  const sub = [
    attr('value', opts.valueType ?? 'string', `The value of the ${name} entry`, {
      mutability,
      ...(opts.referenceTypes && { referenceTypes: opts.referenceTypes }),
    }),
    str('display', 'A human-readable name, primarily used for display purposes', { mutability: mutability === 'readWrite' ? 'readWrite' : 'readOnly' }),
    str('type', `A label indicating the ${name} entry's function`, {
      mutability,
      ...(opts.types && { canonicalValues: opts.types }),
    }),
    attr('primary', 'boolean', 'Whether this is the primary or preferred value; at most one entry may be primary', { mutability }),
    ...(opts.extra ?? []),
  ];
  return attr(name, 'complex', description, { multiValued: true, mutability }, sub);
}

/** id, externalId and meta: common to every resource (RFC 7643 §3.1), rendered in /Schemas with the core schema. */
export const COMMON_ATTRIBUTES: AttributeDef[] = [
  str('id', 'Unique identifier for the resource, assigned by the service provider', {
    caseExact: true,
    mutability: 'readOnly',
    returned: 'always',
    uniqueness: 'server',
  }),
  str('externalId', 'An identifier for the resource as defined by the provisioning client', { caseExact: true }),
  attr('meta', 'complex', 'Resource metadata', { mutability: 'readOnly' }, [
    str('resourceType', 'The name of the resource type', { caseExact: true, mutability: 'readOnly' }),
    attr('created', 'dateTime', 'When the resource was added', { mutability: 'readOnly' }),
    attr('lastModified', 'dateTime', 'When the resource was last changed', { mutability: 'readOnly' }),
    attr('location', 'reference', 'The URI of the resource', { caseExact: true, mutability: 'readOnly', referenceTypes: ['uri'] }),
    str('version', 'The version (weak ETag) of the resource', { caseExact: true, mutability: 'readOnly' }),
  ]),
];

export const USER_SCHEMA: SchemaDef = {
  id: SCHEMA_USER,
  name: 'User',
  description: 'User Account',
  attributes: [
    str('userName', "Unique identifier for the User, used to authenticate; `DOMAIN/name` selects a secondary user store domain", {
      required: true,
      uniqueness: 'server',
    }),
    attr('name', 'complex', "The components of the user's real name", {}, [
      str('formatted', 'The full name, formatted for display'),
      str('familyName', 'The family name'),
      str('givenName', 'The given name'),
      str('middleName', 'The middle name(s)'),
      str('honorificPrefix', 'The honorific prefix(es), e.g. Ms.'),
      str('honorificSuffix', 'The honorific suffix(es), e.g. III'),
    ]),
    str('displayName', 'The name of the User, suitable for display to end-users'),
    str('nickName', 'The casual way to address the user'),
    attr('profileUrl', 'reference', "A URI pointing to the user's online profile", { referenceTypes: ['external'] }),
    str('title', "The user's title, such as Vice President"),
    str('userType', 'The relationship between the organization and the user, e.g. Employee'),
    str('preferredLanguage', "The user's preferred written or spoken language (RFC 7231 Accept-Language form)"),
    str('locale', "The user's default location, e.g. en-US"),
    str('timezone', "The user's time zone in IANA Time Zone database format, e.g. Europe/Amsterdam"),
    attr('active', 'boolean', "The user's administrative status"),
    str('password', "The user's cleartext password, write-only: stored as a slow hash and never returned", {
      mutability: 'writeOnly',
      returned: 'never',
    }),
    multiValued('emails', 'Email addresses for the user', { types: ['work', 'home', 'other'] }),
    multiValued('phoneNumbers', 'Phone numbers for the user', { types: ['work', 'home', 'mobile', 'fax', 'pager', 'other'] }),
    multiValued('ims', 'Instant messaging addresses for the user', {
      types: ['aim', 'gtalk', 'icq', 'xmpp', 'msn', 'skype', 'qq', 'yahoo'],
    }),
    multiValued('photos', 'URLs of photos of the user', { valueType: 'reference', referenceTypes: ['external'], types: ['photo', 'thumbnail'] }),
    attr('addresses', 'complex', 'Physical mailing addresses for this user', { multiValued: true }, [
      str('formatted', 'The full mailing address, formatted for display'),
      str('streetAddress', 'The full street address component'),
      str('locality', 'The city or locality component'),
      str('region', 'The state or region component'),
      str('postalCode', 'The zip code or postal code component'),
      str('country', 'The country name component (ISO 3166-1 alpha-2)'),
      str('type', "A label indicating the address's function", { canonicalValues: ['work', 'home', 'other'] }),
      attr('primary', 'boolean', 'Whether this is the primary address; at most one may be primary'),
    ]),
    multiValued('groups', 'The groups the user belongs to, directly or through nested groups', {
      mutability: 'readOnly',
      types: ['direct', 'indirect'],
      extra: [attr('$ref', 'reference', 'The URI of the group', { mutability: 'readOnly', referenceTypes: ['Group'] })],
    }),
    multiValued('entitlements', 'Entitlements of the user'),
    multiValued('roles', 'Roles of the user'),
    multiValued('x509Certificates', 'X.509 certificates of the user (DER, base64)', { valueType: 'binary' }),
  ],
};

export const ENTERPRISE_USER_SCHEMA: SchemaDef = {
  id: SCHEMA_ENTERPRISE_USER,
  name: 'EnterpriseUser',
  description: 'Enterprise User',
  attributes: [
    str('employeeNumber', 'A string identifier, typically numeric or alphanumeric, assigned to a person'),
    str('costCenter', 'The name of a cost center'),
    str('organization', 'The name of an organization'),
    str('division', 'The name of a division'),
    str('department', 'The name of a department'),
    attr('manager', 'complex', "The user's manager", {}, [
      str('value', 'The id of the SCIM resource representing the manager'),
      attr('$ref', 'reference', 'The URI of the manager resource', { referenceTypes: ['User'] }),
      str('displayName', "The displayName of the user's manager", { mutability: 'readOnly' }),
    ]),
  ],
};

export const GROUP_SCHEMA: SchemaDef = {
  id: SCHEMA_GROUP,
  name: 'Group',
  description: 'Group',
  attributes: [
    str('displayName', 'A human-readable name for the Group', { required: true, uniqueness: 'server' }),
    attr('members', 'complex', 'A list of members of the Group', { multiValued: true }, [
      str('value', 'Identifier of the member of this Group', { caseExact: true, mutability: 'immutable' }),
      attr('$ref', 'reference', 'The URI of the member resource', { mutability: 'immutable', referenceTypes: ['User', 'Group'] }),
      // The member user's userName (`DOMAIN/name` outside PRIMARY), as WSO2 IS shows members, or the nested
      // group's displayName: always present and unique, where a user's displayName (RFC 7643 §8.4's example) may
      // be missing or shared. Computed when the group is read (src/userstore/groups.ts loadMembers), so a rename
      // shows at once in every group; `members.display` filters compare the same names (filter-sql.ts).
      // Returned by default (RFC 7643 §4.2 lists it; §8.4's example group and WSO2 show it), readOnly.
      str('display', "The member's userName (a user) or displayName (a group)", { mutability: 'readOnly' }),
      str('type', 'The type of the member', { mutability: 'immutable', canonicalValues: ['User', 'Group'] }),
    ]),
  ],
};

/** WSO2's SCIM 2.0 Roles API schema (charon3 `SCIMConstants.ROLE_SCHEMA_URI`). */
export const SCHEMA_ROLE = 'urn:ietf:params:scim:schemas:extension:2.0:Role';

/**
 * A reference to an assigned user or group, shaped as Group.members is (and for the same reasons): `value` and
 * `$ref` as the client names the user or group, `display` (its name, server-computed) only when asked for.
 */
function assignment(name: string, description: string, referenceType: string): AttributeDef {
  return attr(name, 'complex', description, { multiValued: true }, [
    str('value', `The id of the ${referenceType}`, { caseExact: true, mutability: 'immutable' }),
    attr('$ref', 'reference', `The URI of the ${referenceType}`, { mutability: 'immutable', referenceTypes: [referenceType] }),
    str('display', `The name of the ${referenceType}`, { mutability: 'readOnly', returned: 'request' }),
  ]);
}

/**
 * WSO2's Role (its Roles API): a name, the permissions it grants (this server's API scopes, rendered as WSO2's v2
 * does, `{ value }`), and the users and groups assigned to it (src/scim/role-resource.ts, src/http/scim/roles.ts).
 */
export const ROLE_SCHEMA: SchemaDef = {
  id: SCHEMA_ROLE,
  name: 'Role',
  description: 'Role',
  attributes: [
    str('displayName', 'The name of the role', { required: true, uniqueness: 'server' }),
    assignment('users', 'Users assigned to the role', 'User'),
    assignment('groups', 'Groups assigned to the role: their members hold it', 'Group'),
    attr('permissions', 'complex', 'The API scopes the role permits', { multiValued: true }, [
      str('value', 'An API scope (internal_user_mgt_view, ...)', { caseExact: true, canonicalValues: [...API_SCOPES] }),
      str('display', 'The scope, for display', { mutability: 'readOnly', returned: 'request' }),
    ]),
  ],
};

export function roleResourceType(): ResourceTypeDef<'Role'> {
  return { name: 'Role', endpoint: '/Roles', description: 'Role', schema: ROLE_SCHEMA, extensions: [] };
}

export function userResourceType(extensions: { schema: SchemaDef; required: boolean }[] = []): ResourceTypeDef {
  return {
    name: 'User',
    endpoint: '/Users',
    description: 'User Account',
    schema: USER_SCHEMA,
    extensions: [{ schema: ENTERPRISE_USER_SCHEMA, required: false }, ...extensions],
  };
}

export function groupResourceType(extensions: { schema: SchemaDef; required: boolean }[] = []): ResourceTypeDef {
  return { name: 'Group', endpoint: '/Groups', description: 'Group', schema: GROUP_SCHEMA, extensions };
}

/** Finds an attribute by name ignoring case (RFC 7643 §2.1). */
export function findAttribute(attributes: readonly AttributeDef[], name: string): AttributeDef | undefined {
  const lower = name.toLowerCase();
  return attributes.find((a) => a.name.toLowerCase() === lower);
}

/** A resolved attribute path: which schema, which attribute, which sub-attribute (src/scim/attribute-path.ts). */
export interface ResolvedPath {
  schema: SchemaDef;
  attribute: AttributeDef;
  subAttribute?: AttributeDef | undefined;
}
