/**
 * The SCIM 1.1 <-> 2.0 translation of the /wso2/scim endpoint: resources both ways, filters, PATCH forms and
 * error bodies. PATCH translations are also applied with the server's own RFC 7644 engine, so each test
 * checks what the 1.1 request finally does to a resource, not only which operations it becomes.
 */
import { describe, expect, it } from 'vitest';
import {
  attributePathTo20,
  errorBody11,
  errorMessageOf,
  resourceFrom11,
  resourceTo11,
  SCIM11_CORE,
  SCIM11_ENTERPRISE,
} from '../../scim/scim11.js';
import { formatFilter } from '../../scim/filter.js';
import { applyGroupPatch, applyPatch } from '../../scim/patch.js';
import { groupResourceType, userResourceType } from '../../scim/schema-defs.js';
import { SCHEMA_ENTERPRISE_USER, SCHEMA_GROUP, SCHEMA_PATCH_OP, SCHEMA_USER } from '../../scim/schemas.js';
import { parseScim11Filter } from '../../scim/scim11-filter.js';
import { patchTo20 } from './patch.js';
import { listParamsTo20 } from './router.js';
import { caughtScimError } from '../../../test/support/scim-error.js';

const ENT = SCHEMA_ENTERPRISE_USER;


describe('SCIM 1.1 resources -> SCIM 2.0', () => {
  it('a 1.1 User with the enterprise extension becomes a 2.0 User (manager.managerId -> manager.value)', () => {
    const body = {
      schemas: [SCIM11_CORE, SCIM11_ENTERPRISE],
      id: 'ignored',
      meta: { created: 'ignored' },
      userName: 'bjensen',
      name: { familyName: 'Jensen', givenName: 'Barbara' },
      emails: [{ value: 'bjensen@example.com', type: 'work', primary: true }],
      password: 't1meMa$heen',
      [SCIM11_ENTERPRISE]: { employeeNumber: '701984', department: 'Tour Operations', manager: { managerId: '26118915-6090-4610-87e4-49d8ca9f808d', displayName: 'John Smith' } },
    };
    expect(resourceFrom11(body, 'User')).toEqual({
      schemas: [SCHEMA_USER, ENT],
      userName: 'bjensen',
      name: { familyName: 'Jensen', givenName: 'Barbara' },
      emails: [{ value: 'bjensen@example.com', type: 'work', primary: true }],
      password: 't1meMa$heen',
      [ENT]: { employeeNumber: '701984', department: 'Tour Operations', manager: { value: '26118915-6090-4610-87e4-49d8ca9f808d', displayName: 'John Smith' } },
    });
  });

  it('a 1.1 Group keeps its members; a PATCH-only `operation` in a POST body is dropped', () => {
    const body = { schemas: [SCIM11_CORE], displayName: 'Tour Guides', members: [{ value: 'u1', display: 'Babs' }, { value: 'u2', operation: 'delete' }] };
    expect(resourceFrom11(body, 'Group')).toEqual({
      schemas: [SCHEMA_GROUP],
      displayName: 'Tour Guides',
      members: [{ value: 'u1', display: 'Babs' }, { value: 'u2' }],
    });
  });

  it('a body that is not an object is passed on for ScimService to refuse', () => {
    expect(resourceFrom11('nope', 'User')).toBe('nope');
  });
});

describe('SCIM 2.0 resources -> SCIM 1.1', () => {
  it('renders the 1.1 schemas, the 1.1 enterprise extension, no $ref and no meta.resourceType, meta.location under the 1.1 base', () => {
    const user = {
      schemas: [SCHEMA_USER, ENT],
      id: 'a1',
      userName: 'bjensen',
      groups: [{ value: 'g1', $ref: 'http://h/scim2/Groups/g1', display: 'Tour Guides', type: 'direct' }],
      [ENT]: { department: 'Tour Operations', manager: { value: 'm1', $ref: 'http://h/scim2/Users/m1', displayName: 'John' } },
      meta: { resourceType: 'User', created: '2024-01-01T00:00:00Z', lastModified: '2024-01-02T00:00:00Z', version: 'W/"2"', location: 'http://h/scim2/Users/a1' },
    };
    expect(resourceTo11(user, 'http://h/wso2/scim/Users/a1')).toEqual({
      schemas: [SCIM11_CORE, SCIM11_ENTERPRISE],
      id: 'a1',
      userName: 'bjensen',
      groups: [{ value: 'g1', display: 'Tour Guides', type: 'direct' }],
      [SCIM11_ENTERPRISE]: { department: 'Tour Operations', manager: { managerId: 'm1', displayName: 'John' } },
      meta: { created: '2024-01-01T00:00:00Z', lastModified: '2024-01-02T00:00:00Z', version: 'W/"2"', location: 'http://h/wso2/scim/Users/a1' },
    });
  });

  it('keeps operator extensions under their URNs and lists them in schemas; no location when none is given (proxy mode)', () => {
    const urn = 'urn:example:params:scim:schemas:extension:badge:2.0:User';
    const out = resourceTo11({ schemas: [SCHEMA_USER, urn], id: 'a1', userName: 'x', [urn]: { level: 3 }, meta: { resourceType: 'User', version: 'W/"1"' } }, undefined);
    expect(out).toEqual({ schemas: [SCIM11_CORE, urn], id: 'a1', userName: 'x', [urn]: { level: 3 }, meta: { version: 'W/"1"' } });
  });

  it('group members lose $ref', () => {
    const out = resourceTo11({ schemas: [SCHEMA_GROUP], id: 'g', displayName: 'G', members: [{ value: 'u1', $ref: 'x', type: 'User', display: 'B' }] }, 'loc');
    expect(out.members).toEqual([{ value: 'u1', type: 'User', display: 'B' }]);
  });
});

describe('errors', () => {
  it('SCIM 1.1 error bodies', () => {
    expect(errorBody11(409, 'User bjensen already exists')).toEqual({ Errors: [{ description: 'User bjensen already exists', code: '409' }] });
  });
  it('reads messages of either version', () => {
    expect(errorMessageOf({ Errors: [{ description: 'a', code: '400' }, { description: 'b', code: '400' }] })).toBe('a; b');
    expect(errorMessageOf({ schemas: [], detail: 'd', status: '404' })).toBe('d');
    expect(errorMessageOf('x')).toBeUndefined();
  });
});

describe('attribute paths', () => {
  it.each([
    ['userName', 'User', 'userName'],
    ['name.familyName', 'User', 'name.familyName'],
    ['urn:scim:schemas:core:1.0:userName', 'User', 'userName'],
    ['urn:scim:schemas:core:1.0.emails.value', 'User', 'emails.value'],
    ['urn:scim:schemas:extension:enterprise:1.0:department', 'User', `${ENT}:department`],
    ['urn:scim:schemas:extension:enterprise:1.0.manager.managerId', 'User', `${ENT}:manager.value`],
    ['manager.displayName', 'User', `${ENT}:manager.displayName`],
    ['employeeNumber', 'User', `${ENT}:employeeNumber`],
    ['displayName', 'Group', 'displayName'],
    ['meta.lastModified', 'Group', 'meta.lastModified'],
  ] as const)('%s (%s) -> %s', (path, type, expected) => {
    expect(attributePathTo20(path, type)).toBe(expected);
  });
});

describe('filters', () => {
  const to20 = (filter: string, type: 'User' | 'Group' = 'User', lenient = false) => formatFilter(parseScim11Filter(filter, type, { lenient }));
  it.each([
    ['userName eq "bjensen"', 'userName eq "bjensen"'],
    ['userName Eq "bjensen"', 'userName eq "bjensen"'],
    ['name.familyName co "O\'Malley"', 'name.familyName co "O\'Malley"'],
    ['title pr', 'title pr'],
    ['title pr and userType eq "Employee"', '(title pr and userType eq "Employee")'],
    ['userType eq "Employee" and (emails co "example.com" or emails co "example.org")', '(userType eq "Employee" and (emails co "example.com" or emails co "example.org"))'],
    ['meta.lastModified gt "2011-05-13T04:42:34Z"', 'meta.lastModified gt "2011-05-13T04:42:34Z"'],
    ['active eq TRUE', 'active eq true'],
    ['urn:scim:schemas:core:1.0:userName sw "J"', 'userName sw "J"'],
    ['urn:scim:schemas:extension:enterprise:1.0:manager.managerId eq "26118915"', `${ENT}:manager.value eq "26118915"`],
    ['department eq "Tour Operations"', `${ENT}:department eq "Tour Operations"`],
    ['userName eq "a \\"quoted\\" name"', 'userName eq "a \\"quoted\\" name"'],
  ])('%s -> %s', (filter, expected) => {
    expect(to20(filter)).toBe(expected);
  });

  it('translates group filters', () => {
    expect(to20('displayName eq "Tour Guides"', 'Group')).toBe('displayName eq "Tour Guides"');
  });

  it('reads unquoted values in lenient mode, as /scim2 does', () => {
    expect(to20('userName eq bjensen', 'User', true)).toBe('userName eq "bjensen"');
  });

  it.each([
    ['userName ne "x"', /'ne' is not a SCIM 1\.1 operator/],
    ['userName ew "x"', /'ew' is not a SCIM 1\.1 operator/],
    ['not (userName eq "x")', /'not' is SCIM 2\.0/],
    ['emails[type eq "work"]', /value filters \('\[\.\.\.\]'\) are SCIM 2\.0/],
    ['userName eq bjensen', /strings must be in double quotes/],
    ['userName eq', /expected a value/],
    ['(userName eq "x"', /expected '\)' to close/],
    ['userName eq "x" userName', /unexpected 'userName' after a complete filter/],
    ['userName eq "x', /unterminated/],
    ['', /the filter is empty/],
    ['userName eq "\u0000"', /control character/],
    [`${'('.repeat(70)}title pr${')'.repeat(70)}`, /nesting deeper than 64 levels/],
  ])('refuses %s', (filter, message) => {
    const err = caughtScimError(() => to20(filter));
    expect(err.status).toBe(400);
    expect(err.scimType).toBe('invalidFilter');
    expect(err.detail).toMatch(/^Invalid SCIM 1\.1 filter: /);
    expect(err.detail).toMatch(message);
  });

  it('list parameters: filter, sortBy and attributes in 2.0 form; paging passed on', () => {
    expect(
      listParamsTo20({ filter: 'department eq "X"', sortBy: 'urn:scim:schemas:core:1.0:userName', sortOrder: 'descending', startIndex: '11', count: '5', attributes: 'userName, emails,manager' }, 'User'),
    ).toEqual({
      filter: 'department eq "X"', // read in the SCIM 1.1 dialect by the router's ScimService

      sortBy: 'userName',
      sortOrder: 'descending',
      startIndex: '11',
      count: '5',
      attributes: `userName,emails,${ENT}:manager`,
    });
    expect(caughtScimError(() => listParamsTo20({ filter: ['a', 'b'] }, 'User')).status).toBe(400);
  });
});

describe('PATCH', () => {
  const USERS = userResourceType();
  const GROUPS = groupResourceType();
  const user = {
    schemas: [SCHEMA_USER, ENT],
    id: 'u',
    userName: 'bjensen',
    name: { givenName: 'Barbara', familyName: 'Jensen', middleName: 'Jane' },
    title: 'Tour Guide',
    nickName: 'Babs',
    emails: [
      { value: 'bjensen@example.com', type: 'work', primary: true },
      { value: 'babs@jensen.org', type: 'home' },
    ],
    addresses: [{ type: 'work', streetAddress: '100 Universal City Plaza', locality: 'Hollywood' }],
    [ENT]: { department: 'Tours', employeeNumber: '1' },
    meta: { resourceType: 'User', version: 'W/"1"' },
  };
  const apply = (body: unknown) => applyPatch(user, patchTo20(body, 'User'), USERS).resource;

  it('singular attributes replace; complex ones merge their sub-attributes', () => {
    const patch = patchTo20({ schemas: [SCIM11_CORE], title: 'Lead', name: { givenName: 'Babs' } }, 'User');
    expect(patch).toEqual({
      schemas: [SCHEMA_PATCH_OP],
      Operations: [
        { op: 'replace', path: 'title', value: 'Lead' },
        { op: 'replace', path: 'name', value: { givenName: 'Babs' } },
      ],
    });
    const out = applyPatch(user, patch, USERS).resource;
    expect(out.title).toBe('Lead');
    expect(out.name).toEqual({ givenName: 'Babs', familyName: 'Jensen', middleName: 'Jane' });
  });

  it('multi-valued values are merged: a new value is added, an equal one superseded, a primary one takes primary', () => {
    const out = apply({
      schemas: [SCIM11_CORE],
      emails: [
        { value: 'new@example.com', type: 'other', primary: true },
        { value: 'babs@jensen.org', type: 'personal' },
      ],
    });
    expect(out.emails).toEqual([
      { value: 'bjensen@example.com', type: 'work', primary: false },
      { value: 'new@example.com', type: 'other', primary: true },
      { value: 'babs@jensen.org', type: 'personal' },
    ]);
  });

  it('`operation: "delete"` removes a value (by value, or by its sub-attributes when it has no value)', () => {
    const patch = patchTo20(
      {
        schemas: [SCIM11_CORE],
        emails: [{ value: 'babs@jensen.org', operation: 'delete' }],
        addresses: [{ type: 'work', streetAddress: '100 Universal City Plaza', operation: 'delete' }],
      },
      'User',
    );
    expect(patch.Operations).toEqual([
      { op: 'remove', path: 'emails[value eq "babs@jensen.org"]' },
      { op: 'remove', path: 'addresses[type eq "work" and streetAddress eq "100 Universal City Plaza"]' },
    ]);
    const out = applyPatch(user, patch, USERS).resource;
    expect(out.emails).toEqual([{ value: 'bjensen@example.com', type: 'work', primary: true }]);
    expect(out.addresses).toBeUndefined();
  });

  it('meta.attributes removes attributes first, so a body can replace every value of one', () => {
    const patch = patchTo20(
      { schemas: [SCIM11_CORE], meta: { attributes: ['nickName', 'name.middleName', 'emails', 'urn:scim:schemas:extension:enterprise:1.0:department'] }, emails: [{ value: 'only@example.com' }] },
      'User',
    );
    expect(patch.Operations.slice(0, 4)).toEqual([
      { op: 'remove', path: 'nickName' },
      { op: 'remove', path: 'name.middleName' },
      { op: 'remove', path: 'emails' },
      { op: 'remove', path: `${ENT}:department` },
    ]);
    const out = applyPatch(user, patch, USERS).resource;
    expect(out.nickName).toBeUndefined();
    expect(out.name).toEqual({ givenName: 'Barbara', familyName: 'Jensen' });
    expect(out.emails).toEqual([{ value: 'only@example.com' }]);
    expect(out[ENT]).toEqual({ employeeNumber: '1' });
  });

  it('the enterprise extension goes to its 2.0 paths, manager.managerId as manager.value', () => {
    const patch = patchTo20({ schemas: [SCIM11_CORE, SCIM11_ENTERPRISE], [SCIM11_ENTERPRISE]: { department: 'Sales', manager: { managerId: 'm1' } } }, 'User');
    expect(patch.Operations).toEqual([
      { op: 'replace', path: `${ENT}:department`, value: 'Sales' },
      { op: 'replace', path: `${ENT}:manager`, value: { value: 'm1' } },
    ]);
    expect(applyPatch(user, patch, USERS).resource[ENT]).toMatchObject({ department: 'Sales', employeeNumber: '1', manager: { value: 'm1' } });
  });

  it('ignores readOnly attributes and takes null as a removal', () => {
    const patch = patchTo20({ schemas: [SCIM11_CORE], id: 'other', meta: {}, groups: [{ value: 'g' }], nickName: null }, 'User');
    expect(patch.Operations).toEqual([{ op: 'remove', path: 'nickName' }]);
  });

  it('a body that changes nothing gives no operations', () => {
    expect(patchTo20({ schemas: [SCIM11_CORE] }, 'User').Operations).toEqual([]);
  });

  it('group members: added, deleted with operation "delete", or all replaced through meta.attributes', () => {
    const group = { schemas: [SCHEMA_GROUP], id: 'g', displayName: 'Tour Guides', meta: { resourceType: 'Group', version: 'W/"1"' } };
    const add = patchTo20({ schemas: [SCIM11_CORE], members: [{ value: 'u1', display: 'Babs' }, { value: 'u2', operation: 'delete' }] }, 'Group');
    expect(add.Operations).toEqual([
      { op: 'add', path: 'members', value: [{ value: 'u1', display: 'Babs' }] },
      { op: 'remove', path: 'members[value eq "u2"]' },
    ]);
    expect(applyGroupPatch(group, add, GROUPS).members).toMatchObject({ add: [{ value: 'u1' }], remove: ['u2'] });

    const replaceAll = patchTo20({ schemas: [SCIM11_CORE], displayName: 'Guides', meta: { attributes: ['members'] }, members: [{ value: 'u3' }] }, 'Group');
    const result = applyGroupPatch(group, replaceAll, GROUPS);
    expect(result.resource.displayName).toBe('Guides');
    expect(result.members).toMatchObject({ removeAll: true, add: [{ value: 'u3' }] });
  });

  it.each([
    ['not an object', 'x', /JSON object/],
    ['meta.attributes not a list', { meta: { attributes: 'emails' } }, /meta.attributes/],
    ['an unknown operation', { emails: [{ value: 'a@b', operation: 'add' }] }, /can only be "delete"/],
    ['a delete naming nothing', { addresses: [{ operation: 'delete' }] }, /names no sub-attribute/],
  ])('refuses %s', (_what, body, message) => {
    const err = caughtScimError(() => patchTo20(body, 'User'));
    expect(err.status).toBe(400);
    expect(err.detail).toMatch(message);
  });
});
