import { describe, expect, it } from 'vitest';
import { JsonPathError, jsonPathProblem, parseJsonPath, setJsonPath } from './json-path.js';

describe('json paths', () => {
  it('parses names, dots and indexes', () => {
    expect(parseJsonPath('orgUnitPath')).toEqual(['orgUnitPath']);
    expect(parseJsonPath('organizations[0].department')).toEqual(['organizations', 0, 'department']);
    expect(parseJsonPath('customSchemas.Employment.costCenter')).toEqual(['customSchemas', 'Employment', 'costCenter']);
    expect(parseJsonPath('a[1][2]')).toEqual(['a', 1, 2]);
  });

  it('says what is wrong', () => {
    expect(jsonPathProblem('')).toBe('the path is empty');
    expect(jsonPathProblem('a..b')).toBe("expected a name at position 3 of 'a..b'");
    expect(jsonPathProblem('a[x]')).toBe("expected an index such as [0] at position 2 of 'a[x]'");
    expect(jsonPathProblem('a b')).toBe("unexpected ' ' at position 2 of 'a b'");
    expect(jsonPathProblem('a[100]')).toBe('index 100 is above 99');
    expect(jsonPathProblem('__proto__.x')).toBe("'__proto__' is not allowed in a path");
    expect(jsonPathProblem('a.constructor.prototype')).toBe("'constructor' is not allowed in a path");
    expect(jsonPathProblem('a.b[3].c')).toBeUndefined();
  });

  it('sets values, creating objects and arrays on the way', () => {
    const body: Record<string, unknown> = { name: { givenName: 'A', familyName: 'B' }, organizations: [{ title: 'T' }] };
    setJsonPath(body, 'name.givenName', 'X');
    setJsonPath(body, 'organizations[0].department', 'IAM');
    setJsonPath(body, 'customSchemas.Employment.costCenter', 'CC-7');
    setJsonPath(body, 'locations[1].area', 'desk 9');
    setJsonPath(body, 'tags[2]', 'c');
    setJsonPath(body, 'orgUnitPath', null);
    expect(body).toEqual({
      name: { givenName: 'X', familyName: 'B' },
      organizations: [{ title: 'T', department: 'IAM' }],
      customSchemas: { Employment: { costCenter: 'CC-7' } },
      locations: [{}, { area: 'desk 9' }],
      tags: [null, null, 'c'],
      orgUnitPath: null,
    });
  });

  it('refuses to go through a value of another kind', () => {
    const body: Record<string, unknown> = { orgUnitPath: '/', emails: [] };
    expect(() => setJsonPath(body, 'orgUnitPath.x', 1)).toThrow(JsonPathError);
    expect(() => setJsonPath(body, 'orgUnitPath.x', 1)).toThrow("cannot go into 'orgUnitPath': it holds a string");
    expect(() => setJsonPath(body, 'emails.x', 1)).toThrow("cannot go into 'emails': it holds a list");
    expect(body).toEqual({ orgUnitPath: '/', emails: [] });
    expect(Object.prototype).not.toHaveProperty('polluted');
  });
});
