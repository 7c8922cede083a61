import { describe, expect, it } from 'vitest';
import { AttributeMappingError } from '../provisioning/attribute-mapping.js';
import { withMappedAttributes } from './scim-mapping.js';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const body = () => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  userName: 'alice',
  displayName: 'A',
  title: 'Engineer',
  emails: [{ value: 'alice@home.example', type: 'home', primary: true }],
});

describe('withMappedAttributes (SCIM connectors)', () => {
  it('applies mapped values by SCIM path: plain, value-path (creating the element) and extension attributes', () => {
    const out = withMappedAttributes(body(), [
      { target: 'displayName', value: 'Alice Liddell' },
      { target: 'emails[type eq "work"].value', value: 'alice@work.example' },
      { target: `${ENTERPRISE}:department`, value: 'Platform' },
    ]);
    expect(out.displayName).toBe('Alice Liddell');
    expect(out.emails).toEqual([
      { value: 'alice@home.example', type: 'home', primary: true },
      { value: 'alice@work.example', type: 'work' },
    ]);
    expect(out[ENTERPRISE]).toEqual({ department: 'Platform' });
    expect(out.schemas).toContain(ENTERPRISE);
  });

  it('unassigns an attribute mapped to null, and leaves the body alone without mapped values', () => {
    expect(withMappedAttributes(body(), [{ target: 'title', value: null }]).title).toBeUndefined();
    const b = body();
    expect(withMappedAttributes(b, undefined)).toBe(b);
    expect(withMappedAttributes(b, [])).toBe(b);
  });

  it('fails the delivery with a mapping error naming the target when the path cannot be written', () => {
    expect(() => withMappedAttributes(body(), [{ target: 'meta.created', value: 'x' }])).toThrow(AttributeMappingError);
    expect(() => withMappedAttributes(body(), [{ target: 'nosuchattribute', value: 'x' }])).toThrow(/attribute mapping: .*nosuchattribute/);
  });
});
