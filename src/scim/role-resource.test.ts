/**
 * SCIM Role bodies as WSO2's Roles API takes them: POST/PUT resources and the PATCH forms of its console and of
 * Microsoft Entra (add, remove by value filter or listed values, replace), read into the store's role changes.
 */
import { describe, expect, it } from 'vitest';
import { parseRoleInput, parseRolePatch, SCHEMA_ROLE, toScimRole } from './role-resource.js';
import { caughtScimError } from '../../test/support/scim-error.js';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const patch = (...Operations: unknown[]) => ({ schemas: [PATCH_OP], Operations });


describe('parseRoleInput', () => {
  it("reads displayName, users, groups and permissions (WSO2 v2 objects or v1 strings)", () => {
    expect(
      parseRoleInput({
        schemas: [SCHEMA_ROLE],
        displayName: ' hr ',
        users: [{ value: 'u1' }, { value: 'u1' }],
        groups: [{ value: 'g1', display: 'ignored' }],
        permissions: [{ value: 'internal_user_mgt_view' }, 'internal_user_mgt_list'],
      }),
    ).toEqual({ name: 'hr', users: ['u1'], groups: ['g1'], permissions: ['internal_user_mgt_view', 'internal_user_mgt_list'] });
  });

  it('refuses a missing name and permissions that are not API scopes with 400 invalidValue', () => {
    expect(caughtScimError(() => parseRoleInput({ users: [] }))).toMatchObject({ status: 400, scimType: 'invalidValue' });
    expect(caughtScimError(() => parseRoleInput({ displayName: 'x', permissions: ['/permission/admin'] })).detail).toMatch(/not a permission/);
    expect(caughtScimError(() => parseRoleInput({ displayName: 'x', users: [{ display: 'no value' }] })).detail).toMatch(/users\[0\]\.value/);
  });
});

describe('parseRolePatch', () => {
  it('keeps the operations in order: add, remove by filter, remove listed values, remove all, replace', () => {
    expect(
      parseRolePatch(
        patch(
          { op: 'add', path: 'users', value: [{ value: 'u1' }] },
          { op: 'remove', path: 'users[value eq "u2" or value eq "u3"]' },
          { op: 'Remove', path: 'groups', value: [{ value: 'g1' }] },
          { op: 'remove', path: 'permissions' },
          { op: 'replace', path: 'permissions', value: [{ value: 'internal_user_mgt_view' }] },
          { op: 'replace', path: 'displayName', value: 'renamed' },
        ),
      ),
    ).toEqual({
      name: 'renamed',
      operations: [
        { attribute: 'users', op: 'add', values: ['u1'] },
        { attribute: 'users', op: 'remove', values: ['u2', 'u3'] },
        { attribute: 'groups', op: 'remove', values: ['g1'] },
        { attribute: 'permissions', op: 'remove' },
        { attribute: 'permissions', op: 'replace', values: ['internal_user_mgt_view'] },
      ],
    });
  });

  it('reads a path-less add or replace from its value object', () => {
    expect(parseRolePatch(patch({ op: 'replace', value: { displayName: 'r', users: [{ value: 'u1' }] } }))).toEqual({
      name: 'r',
      operations: [{ attribute: 'users', op: 'replace', values: ['u1'] }],
    });
  });

  it('refuses unknown paths, other filters, removing displayName and a malformed envelope', () => {
    expect(caughtScimError(() => parseRolePatch(patch({ op: 'add', path: 'audience', value: 'x' })))).toMatchObject({ status: 400, scimType: 'invalidPath' });
    expect(caughtScimError(() => parseRolePatch(patch({ op: 'remove', path: 'users[display eq "a"]' })))).toMatchObject({ scimType: 'invalidFilter' });
    expect(caughtScimError(() => parseRolePatch(patch({ op: 'remove', path: 'displayName' })))).toMatchObject({ scimType: 'mutability' });
    expect(caughtScimError(() => parseRolePatch({ Operations: [] }))).toMatchObject({ status: 400, scimType: 'invalidSyntax' });
  });
});

describe('toScimRole', () => {
  it('renders the role as WSO2 does, with $ref locations and a weak ETag version', () => {
    expect(
      toScimRole(
        { id: 'r1', name: 'hr', permissions: ['internal_login'], users: [{ value: 'u1', display: 'PARTNERS/ann' }], groups: [], version: 3, created: 'c', lastModified: 'm' },
        'https://id.example.com',
      ),
    ).toEqual({
      schemas: [SCHEMA_ROLE],
      id: 'r1',
      displayName: 'hr',
      users: [{ value: 'u1', display: 'PARTNERS/ann', $ref: 'https://id.example.com/scim2/Users/u1' }],
      groups: [],
      permissions: [{ value: 'internal_login', display: 'internal_login' }],
      meta: { resourceType: 'Role', created: 'c', lastModified: 'm', location: 'https://id.example.com/scim2/Roles/r1', version: 'W/"3"' },
    });
  });
});
