import { describe, expect, it } from 'vitest';
import { mapPatchPasswords, patchPassword } from './patch-password.js';

const patch = (...Operations: unknown[]) => ({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations });
const upper = (body: unknown) => mapPatchPasswords(body, (p) => p.toUpperCase());

describe('the passwords of a SCIM PATCH (RFC 7644 §3.5.2)', () => {
  it('finds a password set with a path, with the core URN in the path, or in a path-less value object', () => {
    expect(upper(patch({ op: 'replace', path: 'password', value: 'a' }))).toEqual(patch({ op: 'replace', path: 'password', value: 'A' }));
    expect(upper(patch({ op: 'Add', path: 'urn:ietf:params:scim:schemas:core:2.0:User:password', value: 'b' }))).toEqual(
      patch({ op: 'Add', path: 'urn:ietf:params:scim:schemas:core:2.0:User:password', value: 'B' }),
    );
    expect(upper(patch({ op: 'replace', value: { title: 't', Password: 'c' } }))).toEqual(patch({ op: 'replace', value: { title: 't', Password: 'C' } }));
    expect(upper(patch({ op: 'replace', value: { 'urn:ietf:params:scim:schemas:core:2.0:User': { password: 'd' } } }))).toEqual(
      patch({ op: 'replace', value: { 'urn:ietf:params:scim:schemas:core:2.0:User': { password: 'D' } } }),
    );
    // Operation keys are case-insensitive too (RFC 7643 §2.1), as Entra sends them.
    expect(upper({ operations: [{ OP: 'Replace', Path: 'password', Value: 'e' }] })).toEqual({ operations: [{ OP: 'Replace', Path: 'password', Value: 'E' }] });
  });

  it('leaves everything else alone: other attributes, removals, and malformed bodies', () => {
    const other = patch({ op: 'replace', path: 'title', value: 'x' }, { op: 'remove', path: 'password' }, { op: 'replace', path: 'password', value: 42 });
    expect(upper(other)).toEqual(other);
    expect(upper('not a patch')).toBe('not a patch');
    expect(upper({ Operations: 'nope' })).toEqual({ Operations: 'nope' });
  });

  it('gives the password that wins: the last one set', () => {
    expect(patchPassword(patch({ op: 'replace', path: 'password', value: 'first' }, { op: 'add', value: { password: 'second' } }))).toBe('second');
    expect(patchPassword(patch({ op: 'replace', path: 'title', value: 'x' }))).toBeUndefined();
  });
});
