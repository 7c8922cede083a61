import { describe, expect, it } from 'vitest';
import { ScimError } from './errors.js';
import { parseAttributeList, project, projectionOf } from './projection.js';
import { userResourceType, type SchemaDef } from './schema-defs.js';
import { SCHEMA_ENTERPRISE_USER, SCHEMA_USER } from './schemas.js';

const ACME = 'urn:example:params:scim:schemas:extension:acme:2.0:User';
const acme: SchemaDef = {
  id: ACME,
  name: 'AcmeUser',
  description: 'Acme',
  attributes: [
    { name: 'badge', type: 'integer', multiValued: false, description: '', required: false, caseExact: false, mutability: 'readWrite', returned: 'default', uniqueness: 'none' },
    { name: 'secretCode', type: 'string', multiValued: false, description: '', required: false, caseExact: false, mutability: 'readWrite', returned: 'request', uniqueness: 'none' },
    { name: 'pin', type: 'string', multiValued: false, description: '', required: false, caseExact: false, mutability: 'writeOnly', returned: 'never', uniqueness: 'none' },
  ],
};
const rt = userResourceType([{ schema: acme, required: false }]);

const user = () => ({
  schemas: [SCHEMA_USER, SCHEMA_ENTERPRISE_USER, ACME],
  id: 'u1',
  externalId: 'ext-1',
  userName: 'bjensen',
  password: 'must-never-show',
  name: { givenName: 'Barbara', familyName: 'Jensen', formatted: 'Ms. Barbara J Jensen III' },
  displayName: 'Babs',
  emails: [
    { value: 'bjensen@example.com', type: 'work', primary: true },
    { value: 'babs@jensen.org', type: 'home' },
  ],
  groups: [{ value: 'g1', display: 'Admins', $ref: 'https://x/Groups/g1' }],
  [SCHEMA_ENTERPRISE_USER]: { employeeNumber: '701984', department: 'Tour Operations', manager: { value: 'm1', displayName: 'John' } },
  [ACME]: { badge: 7, secretCode: 's3', pin: '1234' },
  meta: { resourceType: 'User', created: '2026-01-01T00:00:00Z', lastModified: '2026-01-02T00:00:00Z', version: 'W/"3"', location: 'https://x/Users/u1' },
});

describe('project: no parameters', () => {
  it('returns default and always attributes, never `never` or `request` ones', () => {
    const out = project(user(), rt);
    expect(out).not.toHaveProperty('password');
    expect(out[ACME]).toEqual({ badge: 7 });
    expect(out.userName).toBe('bjensen');
    expect(out.meta).toEqual(user().meta);
    expect(out[SCHEMA_ENTERPRISE_USER]).toEqual(user()[SCHEMA_ENTERPRISE_USER]);
    expect(Object.keys(out)).toEqual(Object.keys(user()).filter((k) => k !== 'password'));
  });

  it('drops an extension the resource type does not declare (e.g. deleted since)', () => {
    const out = project({ ...user(), 'urn:example:gone:2.0:User': { x: 1 } }, rt);
    expect(out).not.toHaveProperty('urn:example:gone:2.0:User');
  });
});

describe('project: attributes', () => {
  it('returns only the named attributes plus always ones and schemas', () => {
    const out = project(user(), rt, { attributes: ['userName'] });
    expect(out).toEqual({ schemas: user().schemas, id: 'u1', userName: 'bjensen' });
  });

  it('ignores case and unknown names', () => {
    const out = project(user(), rt, { attributes: ['USERNAME', 'DisplayName', 'notAnAttribute', 'urn:example:unknown:1.0:User:x'] });
    expect(out).toEqual({ schemas: user().schemas, id: 'u1', userName: 'bjensen', displayName: 'Babs' });
  });

  it('selects sub-attributes of single and multi-valued complex attributes', () => {
    const out = project(user(), rt, { attributes: ['name.givenName', 'emails.value'] });
    expect(out.name).toEqual({ givenName: 'Barbara' });
    expect(out.emails).toEqual([{ value: 'bjensen@example.com' }, { value: 'babs@jensen.org' }]);
  });

  it('naming the attribute and one of its sub-attributes returns all of it', () => {
    const out = project(user(), rt, { attributes: ['name.givenName', 'name'] });
    expect(out.name).toEqual(user().name);
  });

  it('selects meta sub-attributes', () => {
    const out = project(user(), rt, { attributes: ['meta.lastModified', 'meta.version'] });
    expect(out.meta).toEqual({ lastModified: '2026-01-02T00:00:00Z', version: 'W/"3"' });
  });

  it('resolves URN-prefixed paths, core and extension', () => {
    const out = project(user(), rt, {
      attributes: [`${SCHEMA_USER}:userName`, `${SCHEMA_ENTERPRISE_USER}:employeeNumber`, `${SCHEMA_ENTERPRISE_USER.toUpperCase()}:manager.value`],
    });
    expect(out).toEqual({
      schemas: user().schemas,
      id: 'u1',
      userName: 'bjensen',
      [SCHEMA_ENTERPRISE_USER]: { employeeNumber: '701984', manager: { value: 'm1' } },
    });
  });

  it('a whole extension URN returns the whole extension, with its request attributes but never `never` ones', () => {
    const out = project(user(), rt, { attributes: [ACME] });
    expect(out).toEqual({ schemas: user().schemas, id: 'u1', [ACME]: { badge: 7, secretCode: 's3' } });
  });

  it('returns `request` attributes only when named', () => {
    expect(project(user(), rt, { attributes: [`${ACME}:badge`] })[ACME]).toEqual({ badge: 7 });
    expect(project(user(), rt, { attributes: [`${ACME}:secretCode`] })[ACME]).toEqual({ secretCode: 's3' });
  });

  it('never returns `never` attributes, even when named', () => {
    const out = project(user(), rt, { attributes: ['password', `${ACME}:pin`] });
    expect(out).toEqual({ schemas: user().schemas, id: 'u1' });
  });

  it('leaves out attributes the resource has no value for', () => {
    const out = project(user(), rt, { attributes: ['nickName', 'phoneNumbers.value'] });
    expect(out).toEqual({ schemas: user().schemas, id: 'u1' });
  });
});

describe('project: excludedAttributes', () => {
  it('removes default attributes and sub-attributes', () => {
    const out = project(user(), rt, { excludedAttributes: ['displayName', 'name.familyName', 'emails.type', 'meta'] });
    expect(out).not.toHaveProperty('displayName');
    expect(out).not.toHaveProperty('meta');
    expect(out.name).toEqual({ givenName: 'Barbara', formatted: 'Ms. Barbara J Jensen III' });
    expect(out.emails).toEqual([{ value: 'bjensen@example.com', primary: true }, { value: 'babs@jensen.org' }]);
    expect(out.userName).toBe('bjensen');
  });

  it('has no effect on `always` attributes (RFC 7644 §3.4.2.5)', () => {
    const out = project(user(), rt, { excludedAttributes: ['id', 'schemas'] });
    expect(out.id).toBe('u1');
    expect(out.schemas).toEqual(user().schemas);
  });

  it('removes a whole extension by URN, or one of its attributes', () => {
    expect(project(user(), rt, { excludedAttributes: [SCHEMA_ENTERPRISE_USER] })).not.toHaveProperty(SCHEMA_ENTERPRISE_USER);
    expect(project(user(), rt, { excludedAttributes: [`${ACME}:badge`] })).not.toHaveProperty(ACME);
    expect(project(user(), rt, { excludedAttributes: [`${SCHEMA_ENTERPRISE_USER}:manager`] })[SCHEMA_ENTERPRISE_USER]).toEqual({
      employeeNumber: '701984',
      department: 'Tour Operations',
    });
  });

  it('drops a complex attribute left empty', () => {
    const out = project({ ...user(), name: { givenName: 'B' } }, rt, { excludedAttributes: ['name.givenName'] });
    expect(out).not.toHaveProperty('name');
  });
});

describe('parseAttributeList / projectionOf', () => {
  it('splits, trims and drops empty names; repeated parameters make one list', () => {
    expect(parseAttributeList(' userName, name.givenName ,,')).toEqual(['userName', 'name.givenName']);
    expect(parseAttributeList(['userName', 'emails.value,meta'])).toEqual(['userName', 'emails.value', 'meta']);
    expect(parseAttributeList(undefined)).toBeUndefined();
    expect(parseAttributeList('')).toBeUndefined();
    expect(parseAttributeList(`${SCHEMA_ENTERPRISE_USER}:manager.value,${ACME}`)).toEqual([`${SCHEMA_ENTERPRISE_USER}:manager.value`, ACME]);
    expect(parseAttributeList('members.$ref')).toEqual(['members.$ref']);
  });

  it('refuses what is not attribute notation with 400 invalidValue', () => {
    for (const bad of ['a.b.c', 'name..givenName', 'user name', '1abc', '.x']) {
      const err = (() => {
        try {
          parseAttributeList(bad);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err, bad).toBeInstanceOf(ScimError);
      expect((err as ScimError).status).toBe(400);
      expect((err as ScimError).scimType).toBe('invalidValue');
    }
    expect(() => parseAttributeList({ a: 1 })).toThrow(ScimError);
  });

  it('refuses attributes with excludedAttributes (mutually exclusive)', () => {
    expect(() => projectionOf({ attributes: 'userName', excludedAttributes: 'name' })).toThrow(/mutually exclusive/);
    expect(() => project(user(), rt, { attributes: ['userName'], excludedAttributes: ['name'] })).toThrow(ScimError);
    expect(projectionOf({ excludedAttributes: 'name' })).toEqual({ attributes: undefined, excludedAttributes: ['name'] });
  });
});
