/**
 * SCIM PATCH (RFC 7644 §3.5.2): every example of the RFC, the requests Microsoft Entra and Okta document, and
 * the error cases, each with the exact resource (or delta, or error) expected. Inputs are deep-frozen: a
 * mutation of the caller's resource or body fails the test.
 */
import { describe, expect, it } from 'vitest';
import { ScimError, type ScimType } from './errors.js';
import { parsePatchPath } from './filter.js';
import { applyGroupPatch, applyPatch, parsePatchOperations, type MemberDelta } from './patch.js';
import { groupResourceType, userResourceType, type AttributeDef, type ResourceTypeDef, type SchemaDef } from './schema-defs.js';
import { SCHEMA_ENTERPRISE_USER, SCHEMA_GROUP, SCHEMA_PATCH_OP, SCHEMA_USER } from './schemas.js';
import { caughtScimError } from '../../test/support/scim-error.js';

type Json = Record<string, unknown>;

// --- fixtures ------------------------------------------------------------------------------------------------

const ENT = SCHEMA_ENTERPRISE_USER;

/** An operator-defined extension exercising immutable, number, dateTime and simple multi-valued attributes. */
const BADGE: SchemaDef = {
  id: 'urn:example:params:scim:schemas:extension:badge:2.0:User',
  name: 'Badge',
  description: 'Badge',
  attributes: [
    def('badgeId', 'string', { mutability: 'immutable' }),
    def('level', 'integer'),
    def('ratio', 'decimal'),
    def('issued', 'dateTime'),
    def('tags', 'string', { multiValued: true }),
  ],
};

const USERS = userResourceType();
const USERS_WITH_BADGE = userResourceType([{ schema: BADGE, required: false }]);
const GROUPS = groupResourceType();

function def(name: string, type: AttributeDef['type'], opts: Partial<AttributeDef> = {}): AttributeDef {
  return {
    name,
    type,
    multiValued: false,
    description: name,
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    ...opts,
  };
}

const USER_ID = '2819c223-7f76-453a-919d-413861904646';
const WORK_EMAIL = { value: 'bjensen@example.com', type: 'work', primary: true };
const HOME_EMAIL = { value: 'babs@jensen.org', type: 'home', primary: false };
const WORK_ADDRESS = {
  type: 'work',
  streetAddress: '100 Universal City Plaza',
  locality: 'Hollywood',
  region: 'CA',
  postalCode: '91608',
  country: 'US',
  formatted: '100 Universal City Plaza\nHollywood, CA 91608 US',
  primary: true,
};
const HOME_ADDRESS = {
  type: 'home',
  streetAddress: '456 Hollywood Blvd',
  locality: 'Hollywood',
  region: 'CA',
  postalCode: '91608',
  country: 'US',
  formatted: '456 Hollywood Blvd\nHollywood, CA 91608 US',
  primary: false,
};

/** RFC 7643 §8.2's bjensen, as toScimUser renders her. */
const BJENSEN: Json = {
  schemas: [SCHEMA_USER],
  id: USER_ID,
  externalId: 'bjensen',
  userName: 'bjensen',
  name: { formatted: 'Ms. Barbara J Jensen, III', familyName: 'Jensen', givenName: 'Barbara' },
  displayName: 'Babs Jensen',
  active: true,
  emails: [WORK_EMAIL, HOME_EMAIL],
  addresses: [WORK_ADDRESS, HOME_ADDRESS],
  meta: {
    resourceType: 'User',
    created: '2026-01-05T10:00:00.000Z',
    lastModified: '2026-01-05T10:00:00.000Z',
    version: 'W/"1"',
    location: `http://localhost:8080/scim2/Users/${USER_ID}`,
  },
};

const ENTRA_EMAIL = { value: 'Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com', type: 'work', primary: true };
/** The user of Microsoft Entra's SCIM walk-through: no addresses, no enterprise attributes. */
const ENTRA_USER: Json = {
  schemas: [SCHEMA_USER],
  id: '48af03ac28ad4fb88478',
  externalId: '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef',
  userName: 'Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1',
  name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
  active: true,
  emails: [ENTRA_EMAIL],
  meta: {
    resourceType: 'User',
    created: '2026-01-05T10:00:00.000Z',
    lastModified: '2026-01-05T10:00:00.000Z',
    version: 'W/"3"',
    location: 'http://localhost:8080/scim2/Users/48af03ac28ad4fb88478',
  },
};

const MANAGER_ID = '26118915-6090-4610-87e4-49d8ca9f808d';
const ENTRA_USER_WITH_MANAGER: Json = {
  ...ENTRA_USER,
  schemas: [SCHEMA_USER, ENT],
  [ENT]: { employeeNumber: '701984', manager: { value: MANAGER_ID, displayName: 'John Smith' } },
};

const BABS = { value: '2819c223-7f76-453a-919d-413861904646', $ref: 'https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646', display: 'Babs Jensen' };
const MANDY = { value: '902c246b-6245-4190-8e05-00816be7344a', $ref: 'https://example.com/v2/Users/902c246b-6245-4190-8e05-00816be7344a', display: 'Mandy Pepperidge' };
const JAMES = { value: '08e1d05d-121c-4561-8b96-473d93df9210', $ref: 'https://example.com/v2/Users/08e1d05d-121c-4561-8b96-473d93df9210', display: 'James Smith' };
/** Members as a client sends them: display is readOnly and is dropped (RFC 7643 §4.2). */
const ref = ({ value, $ref }: { value: string; $ref: string }) => ({ value, $ref });

const GROUP_META = {
  resourceType: 'Group',
  created: '2026-01-05T10:00:00.000Z',
  lastModified: '2026-01-05T10:00:00.000Z',
  version: 'W/"1"',
  location: 'http://localhost:8080/scim2/Groups/e9e30dba-f08f-4109-8486-d5c6a331660a',
};
/** RFC 7643 §8.4's group. */
const TOUR_GUIDES: Json = {
  schemas: [SCHEMA_GROUP],
  id: 'e9e30dba-f08f-4109-8486-d5c6a331660a',
  displayName: 'Tour Guides',
  members: [BABS, MANDY],
  meta: GROUP_META,
};
/** The same group as applyGroupPatch receives it: without members. */
const TOUR_GUIDES_BARE: Json = { schemas: [SCHEMA_GROUP], id: 'e9e30dba-f08f-4109-8486-d5c6a331660a', displayName: 'Tour Guides', meta: GROUP_META };

function patchBody(...operations: unknown[]): Json {
  return { schemas: [SCHEMA_PATCH_OP], Operations: operations };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}


// --- applyPatch: resources -----------------------------------------------------------------------------------

interface ResourceCase {
  name: string;
  resource: Json;
  operations: unknown[];
  rt?: ResourceTypeDef;
  expected: Json;
  changed: string[];
}

const rfcCases: ResourceCase[] = [
  {
    name: 'RFC 7644 §3.5.2.1: add a member to a group',
    resource: { ...TOUR_GUIDES, members: [MANDY] },
    rt: GROUPS,
    operations: [{ op: 'add', path: 'members', value: [BABS] }],
    expected: { ...TOUR_GUIDES, members: [MANDY, ref(BABS)] },
    changed: ['members'],
  },
  {
    name: 'RFC 7644 §3.5.2.1: adding a member already there changes nothing',
    resource: TOUR_GUIDES,
    rt: GROUPS,
    operations: [{ op: 'add', path: 'members', value: [BABS] }],
    expected: TOUR_GUIDES,
    changed: [],
  },
  {
    name: 'RFC 7644 §3.5.2.1: add emails and a nickname without a path (attribute names ignore case)',
    resource: { ...BJENSEN, emails: [WORK_EMAIL] },
    operations: [{ op: 'add', value: { emails: [{ value: 'babs@jensen.org', type: 'home' }], nickname: 'Babs' } }],
    expected: { ...BJENSEN, nickName: 'Babs', emails: [WORK_EMAIL, { value: 'babs@jensen.org', type: 'home' }] },
    changed: ['nickName', 'emails'],
  },
  {
    name: 'RFC 7644 §3.5.2.1: an email already there is not added twice',
    resource: BJENSEN,
    operations: [{ op: 'add', value: { emails: [{ value: 'babs@jensen.org', type: 'home' }], nickname: 'Babs' } }],
    expected: { ...BJENSEN, nickName: 'Babs' },
    changed: ['nickName'],
  },
  {
    name: 'RFC 7644 §3.5.2.2: remove a single member',
    resource: TOUR_GUIDES,
    rt: GROUPS,
    operations: [{ op: 'remove', path: 'members[value eq "2819c223-7f76-453a-919d-413861904646"]' }],
    expected: { ...TOUR_GUIDES, members: [MANDY] },
    changed: ['members'],
  },
  {
    name: 'RFC 7644 §3.5.2.2: remove all members',
    resource: TOUR_GUIDES,
    rt: GROUPS,
    operations: [{ op: 'remove', path: 'members' }],
    expected: { schemas: [SCHEMA_GROUP], id: TOUR_GUIDES.id, displayName: 'Tour Guides', meta: GROUP_META },
    changed: ['members'],
  },
  {
    name: 'RFC 7644 §3.5.2.2: remove multiple members',
    resource: { ...TOUR_GUIDES, members: [BABS, MANDY, JAMES] },
    rt: GROUPS,
    operations: [
      { op: 'remove', path: `members[value eq "${BABS.value}"]` },
      { op: 'remove', path: `members[value eq "${MANDY.value}"]` },
    ],
    expected: { ...TOUR_GUIDES, members: [JAMES] },
    changed: ['members'],
  },
  {
    name: 'RFC 7644 §3.5.2.2: remove all members, then add others',
    resource: TOUR_GUIDES,
    rt: GROUPS,
    operations: [
      { op: 'remove', path: 'members' },
      { op: 'add', path: 'members', value: [BABS, JAMES] },
    ],
    expected: { ...TOUR_GUIDES, members: [ref(BABS), ref(JAMES)] },
    changed: ['members'],
  },
  {
    name: 'RFC 7644 §3.5.2: remove the work emails ending in example.com',
    resource: BJENSEN,
    operations: [{ op: 'remove', path: 'emails[type eq "work" and value ew "example.com"]' }],
    expected: { ...BJENSEN, emails: [HOME_EMAIL] },
    changed: ['emails'],
  },
  {
    name: 'RFC 7644 §3.5.2.3: replace all members',
    resource: TOUR_GUIDES,
    rt: GROUPS,
    operations: [{ op: 'replace', path: 'members', value: [BABS, JAMES] }],
    expected: { ...TOUR_GUIDES, members: [ref(BABS), ref(JAMES)] },
    changed: ['members'],
  },
  {
    name: "RFC 7644 §3.5.2.3: replace a user's work address through a value filter",
    resource: BJENSEN,
    operations: [
      {
        op: 'replace',
        path: 'addresses[type eq "work"]',
        value: {
          type: 'work',
          streetAddress: '911 Universal City Plaza',
          locality: 'Hollywood',
          region: 'CA',
          postalCode: '91608',
          country: 'US',
          formatted: '911 Universal City Plaza\nHollywood, CA 91608 US',
          primary: true,
        },
      },
    ],
    expected: {
      ...BJENSEN,
      addresses: [{ ...WORK_ADDRESS, streetAddress: '911 Universal City Plaza', formatted: '911 Universal City Plaza\nHollywood, CA 91608 US' }, HOME_ADDRESS],
    },
    changed: ['addresses'],
  },
  {
    name: 'RFC 7644 §3.5.2.3: replace a sub-attribute through a value path',
    resource: BJENSEN,
    operations: [{ op: 'replace', path: 'addresses[type eq "work"].streetAddress', value: '1010 Broadway Ave' }],
    expected: { ...BJENSEN, addresses: [{ ...WORK_ADDRESS, streetAddress: '1010 Broadway Ave' }, HOME_ADDRESS] },
    changed: ['addresses'],
  },
  {
    name: 'RFC 7644 §3.5.2.3: replace emails and nickname without a path (multi-valued replaced whole)',
    resource: { ...BJENSEN, emails: [{ value: 'old@example.com', type: 'other' }] },
    operations: [
      {
        op: 'replace',
        value: {
          emails: [
            { value: 'bjensen@example.com', type: 'work', primary: true },
            { value: 'babs@jensen.org', type: 'home' },
          ],
          nickname: 'Babs',
        },
      },
    ],
    expected: { ...BJENSEN, nickName: 'Babs', emails: [WORK_EMAIL, { value: 'babs@jensen.org', type: 'home' }] },
    changed: ['nickName', 'emails'],
  },
  {
    name: 'RFC 7644 §3.5.2.3: replace by a filter on emails; the new primary demotes the old (§3.5.2)',
    resource: BJENSEN,
    operations: [{ op: 'replace', path: 'emails[type eq "home"]', value: { value: 'babs@example.org', primary: true } }],
    expected: { ...BJENSEN, emails: [{ ...WORK_EMAIL, primary: false }, { value: 'babs@example.org', type: 'home', primary: true }] },
    changed: ['emails'],
  },
];

const attributeCases: ResourceCase[] = [
  {
    name: 'add name.givenName merges into name',
    resource: BJENSEN,
    operations: [{ op: 'add', path: 'name.middleName', value: 'Jane' }],
    expected: { ...BJENSEN, name: { formatted: 'Ms. Barbara J Jensen, III', familyName: 'Jensen', givenName: 'Barbara', middleName: 'Jane' } },
    changed: ['name'],
  },
  {
    name: 'replace name keeps the sub-attributes it does not give (RFC 7644 §3.5.2.3)',
    resource: BJENSEN,
    operations: [{ op: 'replace', path: 'name', value: { givenName: 'Babs', formatted: null } }],
    expected: { ...BJENSEN, name: { familyName: 'Jensen', givenName: 'Babs' } },
    changed: ['name'],
  },
  {
    name: 'remove name.givenName',
    resource: BJENSEN,
    operations: [{ op: 'remove', path: 'name.givenName' }],
    expected: { ...BJENSEN, name: { formatted: 'Ms. Barbara J Jensen, III', familyName: 'Jensen' } },
    changed: ['name'],
  },
  {
    name: 'remove emails drops the attribute',
    resource: BJENSEN,
    operations: [{ op: 'remove', path: 'emails' }],
    expected: Object.fromEntries(Object.entries(BJENSEN).filter(([k]) => k !== 'emails')),
    changed: ['emails'],
  },
  {
    name: 'remove emails[type eq "work"].display drops the sub-attribute of the matching values',
    resource: { ...BJENSEN, emails: [{ ...WORK_EMAIL, display: 'Work' }, { ...HOME_EMAIL, display: 'Home' }] },
    operations: [{ op: 'remove', path: 'emails[type eq "work"].display' }],
    expected: { ...BJENSEN, emails: [WORK_EMAIL, { ...HOME_EMAIL, display: 'Home' }] },
    changed: ['emails'],
  },
  {
    name: 'remove with a filter that matches nothing changes nothing (RFC 7644 §3.5.2.2)',
    resource: BJENSEN,
    operations: [{ op: 'remove', path: 'emails[type eq "other"]' }],
    expected: BJENSEN,
    changed: [],
  },
  {
    name: 'add emails with a single object appends it; its primary demotes the old one',
    resource: BJENSEN,
    operations: [{ op: 'add', path: 'emails', value: { value: 'barbara@example.net', type: 'other', primary: true } }],
    expected: { ...BJENSEN, emails: [{ ...WORK_EMAIL, primary: false }, HOME_EMAIL, { value: 'barbara@example.net', type: 'other', primary: true }] },
    changed: ['emails'],
  },
  {
    name: 'add emails[type eq "work"].display sets it on the matching values',
    resource: BJENSEN,
    operations: [{ op: 'add', path: 'emails[type eq "work"].display', value: 'Office' }],
    expected: { ...BJENSEN, emails: [{ ...WORK_EMAIL, display: 'Office' }, HOME_EMAIL] },
    changed: ['emails'],
  },
  {
    name: 'replace emails[type eq "home"].primary makes it the only primary',
    resource: BJENSEN,
    operations: [{ op: 'replace', path: 'emails[type eq "home"].primary', value: true }],
    expected: { ...BJENSEN, emails: [{ ...WORK_EMAIL, primary: false }, { ...HOME_EMAIL, primary: true }] },
    changed: ['emails'],
  },
  {
    name: 'add enterprise attributes under their URN key adds the extension to schemas',
    resource: BJENSEN,
    operations: [{ op: 'add', value: { [ENT]: { employeeNumber: '701984', department: 'Tour Operations' } } }],
    expected: { ...BJENSEN, schemas: [SCHEMA_USER, ENT], [ENT]: { employeeNumber: '701984', department: 'Tour Operations' } },
    changed: [`${ENT}:employeeNumber`, `${ENT}:department`],
  },
  {
    name: 'a path naming the extension URN applies its value to the extension',
    resource: ENTRA_USER_WITH_MANAGER,
    operations: [{ op: 'replace', path: ENT, value: { costCenter: '4130' } }],
    expected: { ...ENTRA_USER_WITH_MANAGER, [ENT]: { employeeNumber: '701984', manager: { value: MANAGER_ID, displayName: 'John Smith' }, costCenter: '4130' } },
    changed: [`${ENT}:costCenter`],
  },
  {
    name: 'removing the last enterprise attribute removes the extension from schemas',
    resource: { ...ENTRA_USER, schemas: [SCHEMA_USER, ENT], [ENT]: { employeeNumber: '701984' } },
    operations: [{ op: 'remove', path: `${ENT}:employeeNumber` }],
    expected: ENTRA_USER,
    changed: [`${ENT}:employeeNumber`],
  },
  {
    name: 'remove with the extension URN as path removes the whole extension',
    resource: ENTRA_USER_WITH_MANAGER,
    operations: [{ op: 'remove', path: ENT }],
    expected: ENTRA_USER,
    changed: [`${ENT}:employeeNumber`, `${ENT}:manager`],
  },
  {
    name: 'a path-less replace with the extension URN set to null removes the extension (RFC 7643 §2.5)',
    resource: ENTRA_USER_WITH_MANAGER,
    operations: [{ op: 'replace', value: { [ENT]: null } }],
    expected: ENTRA_USER,
    changed: [`${ENT}:employeeNumber`, `${ENT}:manager`],
  },
  {
    name: 'a null sub-attribute changes nothing in an add and unassigns in a replace',
    resource: BJENSEN,
    operations: [
      { op: 'add', path: 'name', value: { givenName: null, middleName: 'Jane' } },
      { op: 'replace', value: { name: { formatted: null } } },
    ],
    expected: { ...BJENSEN, name: { familyName: 'Jensen', givenName: 'Barbara', middleName: 'Jane' } },
    changed: ['name'],
  },
  {
    name: 'a sub-attribute path without a filter applies to every value (emails.display)',
    resource: BJENSEN,
    operations: [{ op: 'replace', path: 'emails.display', value: 'Babs' }],
    expected: { ...BJENSEN, emails: [{ ...WORK_EMAIL, display: 'Babs' }, { ...HOME_EMAIL, display: 'Babs' }] },
    changed: ['emails'],
  },
  {
    name: 'replace a sub-attribute of an extension attribute (manager.value)',
    resource: ENTRA_USER_WITH_MANAGER,
    operations: [{ op: 'replace', path: `${ENT}:manager.value`, value: USER_ID }],
    expected: { ...ENTRA_USER_WITH_MANAGER, [ENT]: { employeeNumber: '701984', manager: { value: USER_ID, displayName: 'John Smith' } } },
    changed: [`${ENT}:manager`],
  },
  {
    name: 'a path-less value ignores readOnly attributes (id, meta, groups)',
    resource: BJENSEN,
    operations: [{ op: 'replace', value: { id: 'other', meta: { version: 'W/"9"' }, groups: [{ value: 'g1' }], title: 'Tour Guide' } }],
    expected: { ...BJENSEN, title: 'Tour Guide' },
    changed: ['title'],
  },
  {
    name: 'the password (writeOnly) can be set',
    resource: BJENSEN,
    operations: [{ op: 'replace', path: 'password', value: 't1meMa$heen' }],
    expected: { ...BJENSEN, password: 't1meMa$heen' },
    changed: ['password'],
  },
  {
    name: 'integer and decimal strings become numbers; dateTime is checked',
    resource: BJENSEN,
    rt: USERS_WITH_BADGE,
    operations: [{ op: 'add', value: { [BADGE.id]: { level: '42', ratio: '0.25', issued: '2026-02-01T09:30:00Z' } } }],
    expected: { ...BJENSEN, schemas: [SCHEMA_USER, BADGE.id], [BADGE.id]: { level: 42, ratio: 0.25, issued: '2026-02-01T09:30:00Z' } },
    changed: [`${BADGE.id}:level`, `${BADGE.id}:ratio`, `${BADGE.id}:issued`],
  },
  {
    name: 'an immutable attribute may be set when it has no value (RFC 7644 §3.5.2)',
    resource: BJENSEN,
    rt: USERS_WITH_BADGE,
    operations: [{ op: 'add', path: `${BADGE.id}:badgeId`, value: 'B-1' }],
    expected: { ...BJENSEN, schemas: [SCHEMA_USER, BADGE.id], [BADGE.id]: { badgeId: 'B-1' } },
    changed: [`${BADGE.id}:badgeId`],
  },
  {
    name: 'an immutable attribute may be "replaced" by its own value',
    resource: { ...BJENSEN, schemas: [SCHEMA_USER, BADGE.id], [BADGE.id]: { badgeId: 'B-1' } },
    rt: USERS_WITH_BADGE,
    operations: [{ op: 'replace', path: `${BADGE.id}:badgeId`, value: 'B-1' }],
    expected: { ...BJENSEN, schemas: [SCHEMA_USER, BADGE.id], [BADGE.id]: { badgeId: 'B-1' } },
    changed: [],
  },
  {
    name: 'simple multi-valued attribute: add wraps a single value, remove by a value filter',
    resource: { ...BJENSEN, schemas: [SCHEMA_USER, BADGE.id], [BADGE.id]: { tags: ['a', 'b'] } },
    rt: USERS_WITH_BADGE,
    operations: [
      { op: 'add', path: `${BADGE.id}:tags`, value: 'c' },
      { op: 'remove', path: `${BADGE.id}:tags[value eq "a"]` },
    ],
    expected: { ...BJENSEN, schemas: [SCHEMA_USER, BADGE.id], [BADGE.id]: { tags: ['b', 'c'] } },
    changed: [`${BADGE.id}:tags`],
  },
];

/** Requests from Microsoft Entra's SCIM documentation and its SCIM 2.0 compliance notes. */
const entraCases: ResourceCase[] = [
  {
    name: 'Entra: Replace userName (single-valued property)',
    resource: ENTRA_USER,
    operations: [{ op: 'Replace', path: 'userName', value: '5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com' }],
    expected: { ...ENTRA_USER, userName: '5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com' },
    changed: ['userName'],
  },
  {
    name: 'Entra: disable a user with "active": "False"',
    resource: ENTRA_USER,
    operations: [{ op: 'Replace', path: 'active', value: 'False' }],
    expected: { ...ENTRA_USER, active: false },
    changed: ['active'],
  },
  {
    name: 'Entra: enable a user with "active": "True"',
    resource: { ...ENTRA_USER, active: false },
    operations: [{ op: 'Replace', path: 'active', value: 'True' }],
    expected: ENTRA_USER,
    changed: ['active'],
  },
  {
    name: 'Entra: Replace emails[type eq "work"].value and name.familyName (multi-valued properties)',
    resource: ENTRA_USER,
    operations: [
      { op: 'Replace', path: 'emails[type eq "work"].value', value: 'updatedEmail@microsoft.com' },
      { op: 'Replace', path: 'name.familyName', value: 'updatedFamilyName' },
    ],
    expected: {
      ...ENTRA_USER,
      emails: [{ ...ENTRA_EMAIL, value: 'updatedEmail@microsoft.com' }],
      name: { formatted: 'givenName familyName', familyName: 'updatedFamilyName', givenName: 'givenName' },
    },
    changed: ['name', 'emails'],
  },
  {
    name: 'Entra: one path-less Replace of several attributes, keys being paths and enterprise URNs',
    resource: ENTRA_USER,
    operations: [
      {
        op: 'replace',
        value: {
          displayName: 'Pvlo',
          'emails[type eq "work"].value': 'TestBcwqnm@test.microsoft.com',
          'name.givenName': 'Gtfd',
          'name.familyName': 'Pkqf',
          externalId: 'Eqpj',
          'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber': 'Eqpj',
        },
      },
    ],
    expected: {
      ...ENTRA_USER,
      schemas: [SCHEMA_USER, ENT],
      displayName: 'Pvlo',
      emails: [{ ...ENTRA_EMAIL, value: 'TestBcwqnm@test.microsoft.com' }],
      name: { formatted: 'givenName familyName', familyName: 'Pkqf', givenName: 'Gtfd' },
      externalId: 'Eqpj',
      [ENT]: { employeeNumber: 'Eqpj' },
    },
    changed: ['externalId', 'name', 'displayName', 'emails', `${ENT}:employeeNumber`],
  },
  {
    name: 'Entra: Add addresses[type eq "work"].formatted on a user without addresses creates the address',
    resource: ENTRA_USER,
    operations: [{ op: 'Add', path: 'addresses[type eq "work"].formatted', value: '1234 Main St, Redmond, WA 98052' }],
    expected: { ...ENTRA_USER, addresses: [{ type: 'work', formatted: '1234 Main St, Redmond, WA 98052' }] },
    changed: ['addresses'],
  },
  {
    name: 'Entra: several filtered Adds on a missing address build one address',
    resource: ENTRA_USER,
    operations: [
      { op: 'Add', path: 'addresses[type eq "work"].streetAddress', value: '1234 Main St' },
      { op: 'Add', path: 'addresses[type eq "work"].locality', value: 'Redmond' },
      { op: 'Replace', path: 'addresses[type eq "work"].postalCode', value: '98052' },
    ],
    expected: { ...ENTRA_USER, addresses: [{ type: 'work', streetAddress: '1234 Main St', locality: 'Redmond', postalCode: '98052' }] },
    changed: ['addresses'],
  },
  {
    name: 'Entra: Replace emails[type eq "work"].value on a user without emails creates the email',
    resource: Object.fromEntries(Object.entries(ENTRA_USER).filter(([k]) => k !== 'emails')),
    operations: [{ op: 'Replace', path: 'emails[type eq "work"].value', value: 'new@testuser.com' }],
    expected: { ...ENTRA_USER, emails: [{ type: 'work', value: 'new@testuser.com' }] },
    changed: ['emails'],
  },
  {
    name: 'Entra: Remove members with a value array removes just those members',
    resource: { ...TOUR_GUIDES, members: [BABS, MANDY, JAMES] },
    rt: GROUPS,
    operations: [{ op: 'Remove', path: 'members', value: [{ $ref: null, value: BABS.value }, { value: JAMES.value }] }],
    expected: { ...TOUR_GUIDES, members: [MANDY] },
    changed: ['members'],
  },
  {
    name: 'Entra: Remove members[value eq ...] with "value": null (before aadOptscim062020)',
    resource: TOUR_GUIDES,
    rt: GROUPS,
    operations: [{ op: 'Remove', path: `members[value eq "${MANDY.value}"]`, value: null }],
    expected: { ...TOUR_GUIDES, members: [BABS] },
    changed: ['members'],
  },
  {
    name: 'Entra: Add members with "$ref": null',
    resource: TOUR_GUIDES,
    rt: GROUPS,
    operations: [{ op: 'Add', path: 'members', value: [{ $ref: null, value: JAMES.value }] }],
    expected: { ...TOUR_GUIDES, members: [BABS, MANDY, { value: JAMES.value }] },
    changed: ['members'],
  },
  {
    name: 'Entra: Replace displayName of a group',
    resource: TOUR_GUIDES,
    rt: GROUPS,
    operations: [{ op: 'Replace', path: 'displayName', value: '1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName' }],
    expected: { ...TOUR_GUIDES, displayName: '1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName' },
    changed: ['displayName'],
  },
  {
    name: 'Entra: Replace the enterprise manager with {"value": id}',
    resource: ENTRA_USER,
    operations: [{ op: 'replace', path: `${ENT}:manager`, value: { value: MANAGER_ID } }],
    expected: { ...ENTRA_USER, schemas: [SCHEMA_USER, ENT], [ENT]: { manager: { value: MANAGER_ID } } },
    changed: [`${ENT}:manager`],
  },
  {
    name: 'Entra: Replace the enterprise manager with a bare id (before aadOptscim062020)',
    resource: ENTRA_USER_WITH_MANAGER,
    operations: [{ op: 'Replace', path: `${ENT}:manager`, value: '2819c223-7f76-453a-919d-413861904646' }],
    expected: { ...ENTRA_USER_WITH_MANAGER, [ENT]: { employeeNumber: '701984', manager: { value: '2819c223-7f76-453a-919d-413861904646', displayName: 'John Smith' } } },
    changed: [`${ENT}:manager`],
  },
  {
    name: 'Entra: Add the enterprise manager as [{"$ref": null, "value": id}]',
    resource: ENTRA_USER,
    operations: [{ op: 'Add', path: `${ENT}:manager`, value: [{ $ref: null, value: MANAGER_ID }] }],
    expected: { ...ENTRA_USER, schemas: [SCHEMA_USER, ENT], [ENT]: { manager: { value: MANAGER_ID } } },
    changed: [`${ENT}:manager`],
  },
  {
    name: 'Entra: Remove the enterprise manager',
    resource: ENTRA_USER_WITH_MANAGER,
    operations: [{ op: 'Remove', path: `${ENT}:manager` }],
    expected: { ...ENTRA_USER_WITH_MANAGER, [ENT]: { employeeNumber: '701984' } },
    changed: [`${ENT}:manager`],
  },
  {
    name: 'Entra: Add a single-valued string as [{"value": ...}] (before aadOptscim062020)',
    resource: ENTRA_USER,
    operations: [{ op: 'Add', path: 'nickName', value: [{ value: 'Babs' }] }],
    expected: { ...ENTRA_USER, nickName: 'Babs' },
    changed: ['nickName'],
  },
];

/** Requests from Okta's SCIM 2.0 documentation. */
const oktaCases: ResourceCase[] = [
  {
    name: 'Okta: deactivate a user (path-less replace of active)',
    resource: BJENSEN,
    operations: [{ op: 'replace', value: { active: false } }],
    expected: { ...BJENSEN, active: false },
    changed: ['active'],
  },
  {
    name: 'Okta: password sync (path-less replace of password)',
    resource: BJENSEN,
    operations: [{ op: 'replace', value: { password: 'OktaSynced1!' } }],
    expected: { ...BJENSEN, password: 'OktaSynced1!' },
    changed: ['password'],
  },
  {
    name: "Okta: rename a group (the group's readOnly id in the value is ignored)",
    resource: TOUR_GUIDES,
    rt: GROUPS,
    operations: [{ op: 'replace', value: { id: TOUR_GUIDES.id, displayName: 'Test SCIMv2' } }],
    expected: { ...TOUR_GUIDES, displayName: 'Test SCIMv2' },
    changed: ['displayName'],
  },
  {
    name: 'Okta: add a member with display',
    resource: TOUR_GUIDES,
    rt: GROUPS,
    operations: [{ op: 'add', path: 'members', value: [{ value: JAMES.value, display: 'james.smith@okta.local' }] }],
    expected: { ...TOUR_GUIDES, members: [BABS, MANDY, { value: JAMES.value }] },
    changed: ['members'],
  },
  {
    name: 'Okta: remove a member by a value filter',
    resource: TOUR_GUIDES,
    rt: GROUPS,
    operations: [{ op: 'remove', path: `members[value eq "${BABS.value}"]` }],
    expected: { ...TOUR_GUIDES, members: [MANDY] },
    changed: ['members'],
  },
];

describe('applyPatch', () => {
  it.each([...rfcCases, ...attributeCases, ...entraCases, ...oktaCases])('$name', (c) => {
    const resource = deepFreeze(structuredClone(c.resource));
    const body = deepFreeze(patchBody(...c.operations));
    const result = applyPatch(resource, body, c.rt ?? USERS);
    expect(result.resource).toStrictEqual(c.expected);
    expect(result.changedAttributes).toEqual(c.changed);
  });

  it('accepts "operations" in any case and op names in any case', () => {
    const result = applyPatch(BJENSEN, { schemas: [SCHEMA_PATCH_OP], operations: [{ op: 'REPLACE', path: 'title', value: 'Guide' }] }, USERS);
    expect(result.resource).toStrictEqual({ ...BJENSEN, title: 'Guide' });
  });

  it('never mutates its input, also when an operation fails', () => {
    const resource = structuredClone(BJENSEN);
    const snapshot = structuredClone(resource);
    const body = patchBody({ op: 'add', path: 'emails', value: { value: 'x@example.com' } }, { op: 'replace', path: 'id', value: 'x' });
    expect(() => applyPatch(resource, body, USERS)).toThrow(ScimError);
    applyPatch(resource, patchBody({ op: 'remove', path: 'emails' }), USERS);
    expect(resource).toStrictEqual(snapshot);
  });
});

// --- applyPatch: errors --------------------------------------------------------------------------------------

interface ErrorCase {
  name: string;
  body: unknown;
  resource?: Json;
  rt?: ResourceTypeDef;
  scimType: ScimType;
  detail?: RegExp;
}

const errorCases: ErrorCase[] = [
  { name: 'body is not an object', body: [], scimType: 'invalidSyntax' },
  { name: 'missing PatchOp schema', body: { Operations: [{ op: 'add', path: 'title', value: 'x' }] }, scimType: 'invalidSyntax', detail: /PatchOp/ },
  { name: 'wrong schema', body: { schemas: [SCHEMA_USER], Operations: [{ op: 'add', path: 'title', value: 'x' }] }, scimType: 'invalidSyntax' },
  { name: 'no Operations', body: { schemas: [SCHEMA_PATCH_OP] }, scimType: 'invalidSyntax', detail: /Operations/ },
  { name: 'empty Operations', body: patchBody(), scimType: 'invalidSyntax' },
  { name: 'an operation that is not an object', body: patchBody('add'), scimType: 'invalidSyntax', detail: /Operations\[0\]/ },
  { name: 'bad op', body: patchBody({ op: 'move', path: 'title', value: 'x' }), scimType: 'invalidSyntax', detail: /"move"/ },
  { name: 'missing op', body: patchBody({ path: 'title', value: 'x' }), scimType: 'invalidSyntax' },
  { name: 'path that is not a string', body: patchBody({ op: 'add', path: 7, value: 'x' }), scimType: 'invalidSyntax' },
  { name: 'add without value', body: patchBody({ op: 'add', path: 'title' }), scimType: 'invalidValue', detail: /needs a 'value'/ },
  { name: 'replace without path and with a non-object value', body: patchBody({ op: 'replace', value: 'x' }), scimType: 'invalidValue' },
  { name: 'remove without path', body: patchBody({ op: 'remove' }), scimType: 'noTarget' },
  { name: 'unknown attribute in a path', body: patchBody({ op: 'replace', path: 'nickname2', value: 'x' }), scimType: 'invalidPath', detail: /nickname2/ },
  { name: 'unknown sub-attribute in a path', body: patchBody({ op: 'replace', path: 'name.middle', value: 'x' }), scimType: 'invalidPath' },
  {
    name: 'unknown schema URN in a path',
    body: patchBody({ op: 'replace', path: 'urn:ietf:params:scim:schemas:extension:other:2.0:User:costCenter', value: 'x' }),
    scimType: 'invalidPath',
  },
  { name: 'malformed path', body: patchBody({ op: 'replace', path: 'emails[type eq "work"', value: 'x' }), scimType: 'invalidPath' },
  { name: 'value filter on a single-valued attribute', body: patchBody({ op: 'replace', path: 'name[givenName eq "x"]', value: {} }), scimType: 'invalidPath' },
  { name: 'unknown attribute in a value filter', body: patchBody({ op: 'remove', path: 'emails[kind eq "work"]' }), scimType: 'invalidPath' },
  { name: 'value filter comparing a boolean with a string', body: patchBody({ op: 'remove', path: 'emails[primary eq "maybe"]' }), scimType: 'invalidPath' },
  { name: 'unknown key in a path-less value', body: patchBody({ op: 'add', value: { shoeSize: 42 } }), scimType: 'invalidValue', detail: /shoeSize/ },
  { name: 'unknown sub-attribute in a value', body: patchBody({ op: 'add', path: 'name', value: { middle: 'x' } }), scimType: 'invalidValue' },
  { name: 'unknown attribute under an extension URN key', body: patchBody({ op: 'add', value: { [ENT]: { shoeSize: '42' } } }), scimType: 'invalidValue' },
  { name: 'readOnly path: id', body: patchBody({ op: 'replace', path: 'id', value: 'x' }), scimType: 'mutability' },
  { name: 'readOnly path: meta.lastModified', body: patchBody({ op: 'replace', path: 'meta.lastModified', value: '2026-01-01T00:00:00Z' }), scimType: 'mutability' },
  { name: 'readOnly path: groups', body: patchBody({ op: 'add', path: 'groups', value: [{ value: 'g' }] }), scimType: 'mutability' },
  { name: 'readOnly path: remove groups', body: patchBody({ op: 'remove', path: 'groups' }), scimType: 'mutability' },
  { name: 'readOnly sub-attribute: manager.displayName', body: patchBody({ op: 'replace', path: `${ENT}:manager.displayName`, value: 'x' }), scimType: 'mutability' },
  { name: 'remove the required userName', body: patchBody({ op: 'remove', path: 'userName' }), scimType: 'invalidValue', detail: /required/ },
  { name: 'replace the required userName with null', body: patchBody({ op: 'replace', path: 'userName', value: null }), scimType: 'invalidValue' },
  { name: 'remove the required displayName of a group', body: patchBody({ op: 'remove', path: 'displayName' }), resource: TOUR_GUIDES, rt: GROUPS, scimType: 'invalidValue' },
  {
    name: 'two primaries added at once',
    body: patchBody({ op: 'add', path: 'emails', value: [{ value: 'a@example.com', primary: true }, { value: 'b@example.com', primary: true }] }),
    scimType: 'invalidValue',
    detail: /primary/,
  },
  {
    name: 'two primaries in a replaced attribute',
    body: patchBody({ op: 'replace', value: { emails: [{ value: 'a@example.com', primary: 'True' }, { value: 'b@example.com', primary: true }] } }),
    scimType: 'invalidValue',
    detail: /primary/,
  },
  {
    name: 'two values made primary through one filter',
    body: patchBody({ op: 'replace', path: 'emails[type eq "work" or type eq "home"].primary', value: true }),
    scimType: 'invalidValue',
    detail: /primary/,
  },
  {
    name: 'a resource left with two primaries',
    body: patchBody({ op: 'add', path: 'addresses', value: { type: 'other', formatted: 'x' } }),
    resource: { ...BJENSEN, addresses: [WORK_ADDRESS, { ...HOME_ADDRESS, primary: true }] },
    scimType: 'invalidValue',
    detail: /more than one primary/,
  },
  { name: 'wrong type: boolean', body: patchBody({ op: 'replace', path: 'active', value: 'yes' }), scimType: 'invalidValue', detail: /boolean/ },
  { name: 'wrong type: string', body: patchBody({ op: 'replace', path: 'displayName', value: 42 }), scimType: 'invalidValue', detail: /string/ },
  { name: 'wrong type: complex', body: patchBody({ op: 'replace', path: 'name', value: 'Barbara Jensen' }), scimType: 'invalidValue', detail: /object/ },
  { name: 'wrong type: an array for a single value', body: patchBody({ op: 'replace', path: 'title', value: ['a', 'b'] }), scimType: 'invalidValue' },
  { name: 'wrong type: email value', body: patchBody({ op: 'add', path: 'emails', value: [{ value: 42 }] }), scimType: 'invalidValue' },
  {
    name: 'wrong type: integer',
    body: patchBody({ op: 'replace', path: `${BADGE.id}:level`, value: '4.5' }),
    rt: USERS_WITH_BADGE,
    scimType: 'invalidValue',
    detail: /integer/,
  },
  {
    name: 'wrong type: dateTime',
    body: patchBody({ op: 'replace', path: `${BADGE.id}:issued`, value: 'yesterday' }),
    rt: USERS_WITH_BADGE,
    scimType: 'invalidValue',
    detail: /dateTime/,
  },
  {
    name: 'changing an immutable attribute',
    body: patchBody({ op: 'replace', path: `${BADGE.id}:badgeId`, value: 'B-2' }),
    resource: { ...BJENSEN, schemas: [SCHEMA_USER, BADGE.id], [BADGE.id]: { badgeId: 'B-1' } },
    rt: USERS_WITH_BADGE,
    scimType: 'mutability',
  },
  {
    name: 'removing an immutable attribute',
    body: patchBody({ op: 'remove', path: `${BADGE.id}:badgeId` }),
    resource: { ...BJENSEN, schemas: [SCHEMA_USER, BADGE.id], [BADGE.id]: { badgeId: 'B-1' } },
    rt: USERS_WITH_BADGE,
    scimType: 'mutability',
  },
  {
    name: "changing a member's immutable value",
    body: patchBody({ op: 'replace', path: `members[value eq "${BABS.value}"].value`, value: JAMES.value }),
    resource: TOUR_GUIDES,
    rt: GROUPS,
    scimType: 'mutability',
  },
  {
    name: 'a member value that is not a string',
    body: patchBody({ op: 'add', path: 'members', value: [{ value: 42 }] }),
    resource: TOUR_GUIDES,
    rt: GROUPS,
    scimType: 'invalidValue',
  },
  {
    name: 'replace with a filter that is not made of eq terms and matches nothing',
    body: patchBody({ op: 'replace', path: 'emails[value co "nowhere"].value', value: 'x@example.com' }),
    scimType: 'noTarget',
  },
  {
    name: 'the whole PATCH fails when a later operation fails',
    body: patchBody({ op: 'replace', path: 'title', value: 'Guide' }, { op: 'remove', path: 'userName' }),
    scimType: 'invalidValue',
    detail: /^Operations\[1\] \(remove userName\): /,
  },
];

describe('applyPatch errors', () => {
  it.each(errorCases)('$name -> 400 $scimType', (c) => {
    const resource = deepFreeze(structuredClone(c.resource ?? BJENSEN));
    const err = caughtScimError(() => applyPatch(resource, deepFreeze(c.body), c.rt ?? USERS));
    expect({ status: err.status, scimType: err.scimType }).toEqual({ status: 400, scimType: c.scimType });
    if (c.detail) expect(err.detail).toMatch(c.detail);
  });
});

// --- applyGroupPatch -----------------------------------------------------------------------------------------

interface GroupCase {
  name: string;
  operations: unknown[];
  expected?: Json;
  members: MemberDelta;
  changed: string[];
}

const memberFilter = (path: string) => parsePatchPath(path).valueFilter!;

const groupCases: GroupCase[] = [
  {
    name: 'RFC: add a member',
    operations: [{ op: 'add', path: 'members', value: [BABS] }],
    members: { add: [{ value: BABS.value }], remove: [] },
    changed: ['members'],
  },
  {
    name: 'RFC: remove a single member',
    operations: [{ op: 'remove', path: `members[value eq "${BABS.value}"]` }],
    members: { add: [], remove: [BABS.value] },
    changed: ['members'],
  },
  {
    name: 'RFC: remove all members',
    operations: [{ op: 'remove', path: 'members' }],
    members: { add: [], remove: [], removeAll: true },
    changed: ['members'],
  },
  {
    name: 'RFC: remove multiple members',
    operations: [
      { op: 'remove', path: `members[value eq "${BABS.value}"]` },
      { op: 'remove', path: `members[value eq "${MANDY.value}"]` },
    ],
    members: { add: [], remove: [BABS.value, MANDY.value] },
    changed: ['members'],
  },
  {
    name: 'RFC: remove all members, then add others',
    operations: [
      { op: 'remove', path: 'members' },
      { op: 'add', path: 'members', value: [BABS, JAMES] },
    ],
    members: { add: [{ value: BABS.value }, { value: JAMES.value }], remove: [], removeAll: true },
    changed: ['members'],
  },
  {
    name: 'RFC: replace all members',
    operations: [{ op: 'replace', path: 'members', value: [BABS, JAMES] }],
    members: { replaceAll: [{ value: BABS.value }, { value: JAMES.value }], add: [], remove: [] },
    changed: ['members'],
  },
  {
    name: 'value eq terms joined by or become ids',
    operations: [{ op: 'remove', path: `members[value eq "${BABS.value}" or value eq "${MANDY.value}"]` }],
    members: { add: [], remove: [BABS.value, MANDY.value] },
    changed: ['members'],
  },
  {
    name: 'other member filters are left to the store',
    operations: [{ op: 'remove', path: 'members[type eq "Group"]' }],
    members: { add: [], remove: [], removeWhere: [memberFilter('members[type eq "Group"]')] },
    changed: ['members'],
  },
  {
    name: 'a later replace resets earlier adds and removes; later adds and removes apply to it',
    operations: [
      { op: 'add', path: 'members', value: [{ value: 'u1' }] },
      { op: 'remove', path: 'members[value eq "u2"]' },
      { op: 'replace', path: 'members', value: [{ value: 'u3' }, { value: 'u4', type: 'Group' }] },
      { op: 'add', path: 'members', value: [{ value: 'u5' }] },
      { op: 'remove', path: 'members[value eq "u3"]' },
    ],
    members: { replaceAll: [{ value: 'u4', type: 'Group' }, { value: 'u5' }], add: [], remove: [] },
    changed: ['members'],
  },
  {
    name: 'adding then removing a member removes it (it may have been a member before)',
    operations: [
      { op: 'add', path: 'members', value: [{ value: 'u1' }] },
      { op: 'remove', path: 'members[value eq "u1"]' },
    ],
    members: { add: [], remove: ['u1'] },
    changed: ['members'],
  },
  {
    name: 'after a replace, adding then removing a member leaves only the replacement',
    operations: [
      { op: 'replace', path: 'members', value: [] },
      { op: 'add', path: 'members', value: [{ value: 'u1' }] },
      { op: 'remove', path: 'members', value: [{ value: 'u1' }] },
    ],
    members: { replaceAll: [], add: [], remove: [] },
    changed: ['members'],
  },
  {
    name: 'removing then adding the same member keeps it',
    operations: [
      { op: 'remove', path: 'members[value eq "u1"]' },
      { op: 'add', path: 'members', value: { value: 'u1' } },
      { op: 'add', path: 'members', value: { value: 'u1' } },
    ],
    members: { add: [{ value: 'u1' }], remove: [] },
    changed: ['members'],
  },
  {
    name: 'a store-side filter also drops matching members added earlier in the request',
    operations: [
      { op: 'add', path: 'members', value: [{ value: 'g1', type: 'Group' }, { value: 'u1', type: 'User' }] },
      { op: 'remove', path: 'members[type eq "Group"]' },
    ],
    members: { add: [{ value: 'u1', type: 'User' }], remove: [], removeWhere: [memberFilter('members[type eq "Group"]')] },
    changed: ['members'],
  },
  {
    name: 'Entra: Remove members with a value array',
    operations: [{ op: 'Remove', path: 'members', value: [{ $ref: null, value: BABS.value }, { value: MANDY.value }] }],
    members: { add: [], remove: [BABS.value, MANDY.value] },
    changed: ['members'],
  },
  {
    name: 'Entra: Add members with "$ref": null; member types are canonicalised',
    operations: [{ op: 'Add', path: 'members', value: [{ $ref: null, value: JAMES.value, type: 'user' }] }],
    members: { add: [{ value: JAMES.value, type: 'User' }], remove: [] },
    changed: ['members'],
  },
  {
    name: 'Okta: rename the group and add a member',
    operations: [
      { op: 'replace', value: { id: TOUR_GUIDES.id, displayName: 'Test SCIMv2' } },
      { op: 'add', path: 'members', value: [{ value: JAMES.value, display: 'james.smith@okta.local' }] },
    ],
    expected: { ...TOUR_GUIDES_BARE, displayName: 'Test SCIMv2' },
    members: { add: [{ value: JAMES.value }], remove: [] },
    changed: ['displayName', 'members'],
  },
  {
    name: 'a path-less replace with members replaces them all',
    operations: [{ op: 'replace', value: { displayName: 'Guides', members: [{ value: 'u1' }] } }],
    expected: { ...TOUR_GUIDES_BARE, displayName: 'Guides' },
    members: { replaceAll: [{ value: 'u1' }], add: [], remove: [] },
    changed: ['displayName', 'members'],
  },
];

describe('applyGroupPatch', () => {
  it.each(groupCases)('$name', (c) => {
    const resource = deepFreeze(structuredClone(TOUR_GUIDES_BARE));
    const result = applyGroupPatch(resource, deepFreeze(patchBody(...c.operations)), GROUPS);
    expect(result.resource).toStrictEqual(c.expected ?? TOUR_GUIDES_BARE);
    expect(result.members).toStrictEqual(c.members);
    expect(result.changedAttributes).toEqual(c.changed);
  });

  it.each<[string, ScimType, unknown[]]>([
    ['a member value that is not a string', 'invalidValue', [{ op: 'add', path: 'members', value: [{ value: 42 }] }]],
    ['a member without a value', 'invalidValue', [{ op: 'add', path: 'members', value: [{ display: 'Babs' }] }]],
    ['a member type other than User or Group', 'invalidValue', [{ op: 'add', path: 'members', value: [{ value: 'u1', type: 'Robot' }] }]],
    ['a listed removal without an id', 'invalidValue', [{ op: 'remove', path: 'members', value: [{ value: null }] }]],
    ['changing members in place', 'mutability', [{ op: 'replace', path: 'members[value eq "u1"]', value: { type: 'Group' } }]],
    ['a readOnly member sub-attribute', 'mutability', [{ op: 'remove', path: 'members[value eq "u1"].display' }]],
    ['an unknown attribute in a member filter', 'invalidPath', [{ op: 'remove', path: 'members[name eq "u1"]' }]],
    ['removing the required displayName', 'invalidValue', [{ op: 'remove', path: 'displayName' }]],
  ])('%s -> 400 %s', (_name, scimType, operations) => {
    const err = caughtScimError(() => applyGroupPatch(TOUR_GUIDES_BARE, patchBody(...operations), GROUPS));
    expect({ status: err.status, scimType: err.scimType }).toEqual({ status: 400, scimType });
  });
});

describe('parsePatchOperations', () => {
  it('normalises op names and keeps path and value as sent', () => {
    expect(
      parsePatchOperations({
        schemas: [SCHEMA_PATCH_OP.toUpperCase()],
        Operations: [{ op: 'Add', path: ' members ', value: [] }, { op: 'Remove', path: 'members', value: null }, { op: 'remove', path: 'title' }],
      }),
    ).toStrictEqual([
      { op: 'add', path: 'members', value: [] },
      { op: 'remove', path: 'members', value: null },
      { op: 'remove', path: 'title' },
    ]);
  });
});
