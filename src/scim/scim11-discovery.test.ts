/**
 * The SCIM 1.1 discovery resources: /Schemas/{Users|Groups} in the SCIM Core Schema 1.1 representation, built
 * from the same schemas as data as /scim2/Schemas, and /ServiceProviderConfigs.
 */
import { describe, expect, it } from 'vitest';
import { groupResourceType, userResourceType, type SchemaDef } from './schema-defs.js';
import { SCIM11_CORE, SCIM11_ENTERPRISE } from './scim11.js';
import { schema11, serviceProviderConfigs11 } from './scim11-discovery.js';
import { SCIM_LIMITS } from './service-provider.js';

type Json = Record<string, unknown>;
const BASE = 'https://idp.example/wso2/scim';

function byName(attributes: unknown, name: string): Json {
  const found = (attributes as Json[]).find((a) => a.name === name);
  if (!found) throw new Error(`no attribute ${name}`);
  return found;
}

/** Every attribute and sub-attribute, flattened. */
function all(attributes: Json[]): Json[] {
  return attributes.flatMap((a) => [a, ...all((a.subAttributes as Json[] | undefined) ?? [])]);
}

describe('SCIM 1.1 /Schemas', () => {
  const acme: SchemaDef = {
    id: 'urn:example:params:scim:schemas:extension:acme:2.0:User',
    name: 'Acme',
    description: 'Acme',
    attributes: [{ name: 'badge', type: 'integer', multiValued: false, description: 'Badge', required: true, caseExact: false, mutability: 'readWrite', returned: 'default', uniqueness: 'none' }],
  };
  const user = schema11(userResourceType([{ schema: acme, required: false }]), BASE);

  it('describes the User resource as SCIM Core Schema 1.1 does', () => {
    expect(user).toMatchObject({
      schemas: [SCIM11_CORE],
      id: 'urn:scim:schemas:core:1.0:User',
      name: 'User',
      schema: SCIM11_CORE,
      endpoint: '/Users',
      meta: { location: `${BASE}/Schemas/Users` },
    });
    const names = (user.attributes as Json[]).map((a) => a.name);
    expect(names.slice(0, 4)).toEqual(['id', 'externalId', 'meta', 'userName']);
    expect(byName(user.attributes, 'id')).toEqual(expect.objectContaining({ type: 'string', readOnly: true, caseExact: true, schema: SCIM11_CORE }));
    expect(byName(user.attributes, 'userName')).toEqual(
      expect.objectContaining({ type: 'string', multiValued: false, readOnly: false, required: true, caseExact: false, schema: SCIM11_CORE }),
    );
  });

  it('uses the 1.1 characteristics only, never 2.0 ones', () => {
    for (const a of all(user.attributes as Json[])) {
      expect(Object.keys(a).filter((k) => ['mutability', 'returned', 'uniqueness', 'referenceTypes'].includes(k))).toEqual([]);
      expect(['string', 'boolean', 'decimal', 'integer', 'dateTime', 'binary', 'complex']).toContain(a.type);
      expect(a.name).not.toBe('$ref');
    }
    expect(byName(user.attributes, 'profileUrl').type).toBe('string'); // a 2.0 reference
  });

  it('names the child element of multi-valued attributes', () => {
    const children = Object.fromEntries(
      (user.attributes as Json[]).filter((a) => a.multiValued).map((a) => [a.name, a.multiValuedAttributeChildName]),
    );
    expect(children).toMatchObject({ emails: 'email', phoneNumbers: 'phoneNumber', addresses: 'address', groups: 'group', x509Certificates: 'x509Certificate' });
    const emails = byName(user.attributes, 'emails');
    expect((emails.subAttributes as Json[]).map((s) => s.name)).toEqual(['value', 'display', 'type', 'primary']);
    expect(byName(emails.subAttributes, 'type').canonicalValues).toEqual(['work', 'home', 'other']);
    expect(byName(user.attributes, 'groups').readOnly).toBe(true);
  });

  it('has meta.attributes, the PATCH removal list of SCIM 1.1', () => {
    const meta = byName(user.attributes, 'meta');
    expect((meta.subAttributes as Json[]).map((s) => s.name)).toEqual(['created', 'lastModified', 'location', 'version', 'attributes']);
  });

  it('lists the enterprise extension under its 1.1 URN, with managerId, and operator extensions under theirs', () => {
    const department = byName(user.attributes, 'department');
    expect(department.schema).toBe(SCIM11_ENTERPRISE);
    const manager = byName(user.attributes, 'manager');
    expect(manager.schema).toBe(SCIM11_ENTERPRISE);
    expect((manager.subAttributes as Json[]).map((s) => [s.name, s.readOnly])).toEqual([
      ['managerId', false],
      ['displayName', true],
    ]);
    expect(byName(user.attributes, 'badge')).toEqual(expect.objectContaining({ schema: acme.id, type: 'integer', required: true }));
  });

  it('describes the Group resource', () => {
    const group = schema11(groupResourceType(), BASE);
    expect(group).toMatchObject({ id: 'urn:scim:schemas:core:1.0:Group', name: 'Group', endpoint: '/Groups', meta: { location: `${BASE}/Schemas/Groups` } });
    const members = byName(group.attributes, 'members');
    expect(members.multiValuedAttributeChildName).toBe('member');
    expect((members.subAttributes as Json[]).map((s) => s.name)).toEqual(['value', 'display', 'type']);
  });
});

describe('SCIM 1.1 /ServiceProviderConfigs', () => {
  it('announces maxResults as /scim2 does', () => {
    expect(serviceProviderConfigs11().filter).toEqual({ supported: true, maxResults: SCIM_LIMITS.filterMaxResults });
  });
});
