import { describe, expect, it } from 'vitest';
import {
  evaluateElementFilter,
  evaluateFilter,
  formatFilter,
  parseAttrPath,
  parseDateTime,
  parseFilter,
  parsePatchPath,
  validateFilter,
} from './filter.js';
import { findAttribute, groupResourceType, userResourceType, type SchemaDef } from './schema-defs.js';
import { caughtScimError } from '../../test/support/scim-error.js';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const ACME = 'urn:example:params:scim:schemas:extension:acme:2.0:User';

const acmeSchema: SchemaDef = {
  id: ACME,
  name: 'AcmeUser',
  description: 'Acme',
  attributes: [
    { name: 'badge', type: 'string', multiValued: false, description: '', required: false, caseExact: true, mutability: 'readWrite', returned: 'default', uniqueness: 'none' },
    { name: 'level', type: 'integer', multiValued: false, description: '', required: false, caseExact: false, mutability: 'readWrite', returned: 'default', uniqueness: 'none' },
    { name: 'contractor', type: 'boolean', multiValued: false, description: '', required: false, caseExact: false, mutability: 'readWrite', returned: 'default', uniqueness: 'none' },
    { name: 'hired', type: 'dateTime', multiValued: false, description: '', required: false, caseExact: false, mutability: 'readWrite', returned: 'default', uniqueness: 'none' },
    { name: 'tags', type: 'string', multiValued: true, description: '', required: false, caseExact: false, mutability: 'readWrite', returned: 'default', uniqueness: 'none' },
  ],
};
const rt = userResourceType([{ schema: acmeSchema, required: false }]);


describe('parseFilter: the grammar of RFC 7644 §3.4.2.2', () => {
  const cases: [string, string][] = [
    ['userName eq "bjensen"', 'userName eq "bjensen"'],
    ['name.familyName co "O\'Malley"', 'name.familyName co "O\'Malley"'],
    ['userName sw "J"', 'userName sw "J"'],
    ['urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"', 'urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"'],
    ['title pr', 'title pr'],
    ['meta.lastModified gt "2011-05-13T04:42:34Z"', 'meta.lastModified gt "2011-05-13T04:42:34Z"'],
    ['meta.lastModified ge "2011-05-13T04:42:34Z"', 'meta.lastModified ge "2011-05-13T04:42:34Z"'],
    ['meta.lastModified lt "2011-05-13T04:42:34Z"', 'meta.lastModified lt "2011-05-13T04:42:34Z"'],
    ['meta.lastModified le "2011-05-13T04:42:34Z"', 'meta.lastModified le "2011-05-13T04:42:34Z"'],
    ['title pr and userType eq "Employee"', '(title pr and userType eq "Employee")'],
    ['title pr or userType eq "Intern"', '(title pr or userType eq "Intern")'],
    ['schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"', 'schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"'],
    [
      'userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")',
      '(userType eq "Employee" and (emails co "example.com" or emails.value co "example.org"))',
    ],
    [
      'userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")',
      '(userType ne "Employee" and not ((emails co "example.com" or emails.value co "example.org")))',
    ],
    [
      'userType eq "Employee" and emails[type eq "work" and value co "@example.com"]',
      '(userType eq "Employee" and emails[(type eq "work" and value co "@example.com")])',
    ],
    [
      'emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]',
      '(emails[(type eq "work" and value co "@example.com")] or ims[(type eq "xmpp" and value co "@foo.com")])',
    ],
    // precedence: not > and > or; and/or associate to the left
    ['a pr or b pr and c pr', '(a pr or (b pr and c pr))'],
    ['a pr and b pr or c pr', '((a pr and b pr) or c pr)'],
    // a chain of and/or is one node (filter-ast.ts), so its depth does not grow with its length
    ['a pr or b pr or c pr', '(a pr or b pr or c pr)'],
    ['a pr and b pr and c pr or d pr', '((a pr and b pr and c pr) or d pr)'],
    ['(a pr or b pr) and c pr', '((a pr or b pr) and c pr)'],
    ['not (a pr) and b pr', '(not (a pr) and b pr)'],
    ['not(a pr or b pr)', 'not ((a pr or b pr))'],
    ['((((a pr))))', 'a pr'],
    // case-insensitive operators, keywords and literals
    ['userName EQ "x" AnD title Pr oR NOT (active Eq TRUE)', '((userName eq "x" and title pr) or not (active eq true))'],
    // JSON literals
    ['x eq "a\\"b\\\\c\\/d\\n\\t\\u00e9"', 'x eq "a\\"b\\\\c/d\\n\\té"'],
    ['x eq 42', 'x eq 42'],
    ['x eq -1.5e3', 'x eq -1500'],
    ['x eq 0', 'x eq 0'],
    ['x eq 0.25', 'x eq 0.25'],
    ['x eq true', 'x eq true'],
    ['x eq false', 'x eq false'],
    ['x eq null', 'x eq null'],
    ['x eq ""', 'x eq ""'],
    // URN-prefixed attributes with sub-attributes; "2.0" in the URN is not a sub-attribute
    [`${ENTERPRISE}:employeeNumber eq "701984"`, `${ENTERPRISE}:employeeNumber eq "701984"`],
    [`${ENTERPRISE}:manager.value eq "26118915"`, `${ENTERPRISE}:manager.value eq "26118915"`],
    ['members.$ref pr', 'members.$ref pr'],
    // whitespace is flexible
    ['  userName   eq   "x"  ', 'userName eq "x"'],
    ['a eq "x"\tand\nb pr', '(a eq "x" and b pr)'],
  ];
  it.each(cases)('%s', (text, expected) => {
    expect(formatFilter(parseFilter(text))).toBe(expected);
  });

  it('keeps the parts of a URN-prefixed path', () => {
    expect(parseFilter(`${ENTERPRISE}:manager.value eq "x"`)).toEqual({
      kind: 'compare',
      path: { urn: ENTERPRISE, attribute: 'manager', subAttribute: 'value' },
      op: 'eq',
      value: 'x',
    });
    expect(parseFilter('emails[type eq "work"]')).toEqual({
      kind: 'valuePath',
      path: { attribute: 'emails' },
      filter: { kind: 'compare', path: { attribute: 'type' }, op: 'eq', value: 'work' },
    });
  });

  const errors: [string, string][] = [
    ['', 'Invalid filter: the filter is empty'],
    ['   ', 'Invalid filter: the filter is empty'],
    ['userName', "Invalid filter: expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr) after 'userName', found the end of the filter at position 9"],
    ['userName equals "x"', "Invalid filter: expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr) after 'userName', found 'equals' at position 10"],
    ['userName eq', "Invalid filter: expected a value (a string in double quotes, a number, true, false or null) after 'eq', found the end of the filter at position 12"],
    ['userName eq bjensen', "Invalid filter: expected a value (a string in double quotes, a number, true, false or null) after 'eq', found 'bjensen' (strings must be in double quotes) at position 13"],
    ['userName eq "bjensen', 'Invalid filter: unterminated string at position 13'],
    ['userName eq "a\\qb"', "Invalid filter: invalid escape '\\q' in a string at position 15"],
    ['userName eq "a\\u12"', "Invalid filter: invalid escape '\\u' in a string at position 15"],
    ['userName eq "a\u0001"', 'Invalid filter: control character U+0001; a filter cannot contain control characters at position 15'],
    ['x eq 01', "Invalid filter: invalid number '01' (JSON number syntax) at position 6"],
    ['x eq 1.2.3', "Invalid filter: invalid number '1.2.3' (JSON number syntax) at position 6"],
    ['x eq -', "Invalid filter: invalid number '-' (JSON number syntax) at position 6"],
    ['(userName eq "x"', "Invalid filter: expected ')' to close the '(' at position 1, found the end of the filter at position 17"],
    ['userName eq "x")', "Invalid filter: unexpected ')' after a complete filter (expected 'and', 'or' or the end) at position 16"],
    ['userName eq "x" title pr', "Invalid filter: unexpected 'title' after a complete filter (expected 'and', 'or' or the end) at position 17"],
    ['userName eq "x" and', "Invalid filter: expected an attribute path, '(' or 'not', found the end of the filter at position 20"],
    ['and title pr', "Invalid filter: expected an attribute path, '(' or 'not', found 'and' at position 1"],
    ['not title pr', "Invalid filter: expected '(' after 'not', found 'title' at position 5"],
    ['()', "Invalid filter: expected an attribute path, '(' or 'not', found ')' at position 2"],
    ['emails[type eq "work"', "Invalid filter: expected ']' to close the '[' at position 7, found the end of the filter at position 22"],
    ['emails[]', "Invalid filter: empty value filter '[]' at position 8"],
    ['emails[type eq "work" and phoneNumbers[type eq "x"]]', 'Invalid filter: value filters cannot be nested at position 39'],
    ['emails[type eq "work"].value', "Invalid filter: expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr) after 'value', found the end of the filter at position 29"],
    ['emails[type eq "work"].', "Invalid filter: expected a sub-attribute name after '.', found the end of the filter at position 24"],
    ['name.familyName.x eq "a"', "Invalid filter: invalid attribute path 'name.familyName.x' (expected [schema URN:]attribute[.subAttribute]) at position 1"],
    ['foo:bar eq "a"', "Invalid filter: invalid schema URN 'foo' in the attribute path 'foo:bar' at position 1"],
    ['userName="x"', "Invalid filter: expected a space after the attribute path 'userName', found '=' at position 9"],
    ['"x" eq userName', "Invalid filter: expected an attribute path, '(' or 'not', found a string at position 1"],
    ['title eq "x" or', "Invalid filter: expected an attribute path, '(' or 'not', found the end of the filter at position 16"],
  ];
  it.each(errors)('refuses %j', (text, detail) => {
    const error = caughtScimError(() => parseFilter(text));
    expect(error.status).toBe(400);
    expect(error.scimType).toBe('invalidFilter');
    expect(error.detail).toBe(detail);
  });

  it('refuses nesting deeper than 64 levels', () => {
    const deep = `${'('.repeat(70)}a pr${')'.repeat(70)}`;
    expect(caughtScimError(() => parseFilter(deep)).detail).toBe(
      "Invalid filter: nesting deeper than 64 levels (parentheses, not, value filters), this server's limit at position 65",
    );
    expect(formatFilter(parseFilter(`${'('.repeat(60)}a pr${')'.repeat(60)}`))).toBe('a pr');
  });
});

describe('parsePatchPath: RFC 7644 §3.5.2 PATH', () => {
  it.each([
    ['members', { path: { attribute: 'members' } }],
    ['name.givenName', { path: { attribute: 'name', subAttribute: 'givenName' } }],
    [`${ENTERPRISE}:manager`, { path: { urn: ENTERPRISE, attribute: 'manager' } }],
    [`${ENTERPRISE}:manager.value`, { path: { urn: ENTERPRISE, attribute: 'manager', subAttribute: 'value' } }],
    [
      'members[value eq "2819c223-7f76-453a-919d-413861904646"]',
      {
        path: { attribute: 'members' },
        valueFilter: { kind: 'compare', path: { attribute: 'value' }, op: 'eq', value: '2819c223-7f76-453a-919d-413861904646' },
      },
    ],
    [
      'emails[type eq "work"].value',
      { path: { attribute: 'emails' }, valueFilter: { kind: 'compare', path: { attribute: 'type' }, op: 'eq', value: 'work' }, subAttribute: 'value' },
    ],
    [
      'addresses[type eq "work" and primary eq true].streetAddress',
      {
        path: { attribute: 'addresses' },
        valueFilter: {
          kind: 'and',
          filters: [
            { kind: 'compare', path: { attribute: 'type' }, op: 'eq', value: 'work' },
            { kind: 'compare', path: { attribute: 'primary' }, op: 'eq', value: true },
          ],
        },
        subAttribute: 'streetAddress',
      },
    ],
  ])('%s', (text, expected) => {
    expect(parsePatchPath(text)).toEqual(expected);
  });

  it.each([
    ['', 'Invalid path: the path is empty'],
    ['emails[type eq "work"', "Invalid path: expected ']' to close the '[' at position 7, found the end of the path at position 22"],
    ['emails[type eq work]', "Invalid path: expected a value (a string in double quotes, a number, true, false or null) after 'eq', found 'work' (strings must be in double quotes) at position 16"],
    ['emails[type eq "work"].', "Invalid path: expected a sub-attribute name after '.', found the end of the path at position 24"],
    ['emails[type eq "work"].value.x', "Invalid path: unexpected '.x' after the path at position 29"],
    ['emails[type eq "work"]x', "Invalid path: unexpected 'x' after the path at position 23"],
    ['emails.value[type eq "work"]', "Invalid path: a value filter applies to a multi-valued attribute, not to the sub-attribute 'emails.value' at position 13"],
    ['name givenName', "Invalid path: unexpected 'givenName' after the path at position 6"],
    ['1abc', "Invalid path: expected an attribute path, found '1abc' at position 1"],
  ])('refuses %j', (text, detail) => {
    const error = caughtScimError(() => parsePatchPath(text));
    expect([error.status, error.scimType, error.detail]).toEqual([400, 'invalidPath', detail]);
  });
});

describe('parseAttrPath', () => {
  it('parses one path', () => {
    expect(parseAttrPath('name.familyName')).toEqual({ attribute: 'name', subAttribute: 'familyName' });
    expect(parseAttrPath(`${ENTERPRISE}:department`)).toEqual({ urn: ENTERPRISE, attribute: 'department' });
  });
  it('refuses with the scimType asked for', () => {
    const error = caughtScimError(() => parseAttrPath('name[x]', 'invalidValue'));
    expect([error.status, error.scimType, error.detail]).toEqual([400, 'invalidValue', "Invalid attribute path: 'name[x]' is not [schema URN:]attribute[.subAttribute]"]);
    expect(caughtScimError(() => parseAttrPath('')).scimType).toBe('invalidPath');
  });
});

describe('parseDateTime', () => {
  it.each([
    ['2026-01-05T00:00:00Z', Date.UTC(2026, 0, 5)],
    ['2026-01-05T01:00:00+01:00', Date.UTC(2026, 0, 5)],
    ['2026-01-05T00:00:00', Date.UTC(2026, 0, 5)],
    ['2026-01-05T00:00:00.250Z', Date.UTC(2026, 0, 5, 0, 0, 0, 250)],
    ['2026-02-30T00:00:00Z', undefined],
    ['2026-01-05', undefined],
    ['yesterday', undefined],
  ])('%s', (text, ms) => {
    expect(parseDateTime(text)?.ms).toBe(ms);
  });
});

const alice = {
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENTERPRISE, ACME],
  id: '2819c223-7f76-453a-919d-413861904646',
  externalId: 'EXT-1',
  userName: 'alice',
  name: { givenName: 'Alice', familyName: 'Anders' },
  displayName: 'Alice Anders',
  title: 'Engineer',
  nickName: '',
  active: true,
  emails: [
    { value: 'alice@example.com', type: 'work', primary: true },
    { value: 'Alice@Home.example', type: 'home' },
  ],
  roles: [{ value: 'admin' }],
  groups: [{ value: 'e9e30dba-f08f-4109-8486-d5c6a331660a', display: 'Engineering', type: 'direct' }],
  [ENTERPRISE]: { employeeNumber: '1001', manager: { value: '26118915', displayName: 'Bob' } },
  [ACME]: { badge: 'A-100', level: 3, contractor: false, hired: '2020-03-01T10:00:00+01:00', tags: ['oncall', 'Remote'] },
  meta: { resourceType: 'User', created: '2026-01-01T00:00:00.000Z', lastModified: '2026-03-01T00:00:00.000Z', version: 'W/"3"' },
};

describe('evaluateFilter on a whole resource', () => {
  const cases: [string, boolean][] = [
    ['userName eq "ALICE"', true],
    ['userName ne "alice"', false],
    ['userName sw "al" and userName ew "CE"', true],
    ['userName co "lic"', true],
    ['userName gt "alicd"', true],
    ['userName lt "alice"', false],
    ['userName le "alice"', true],
    ['id eq "2819c223-7f76-453a-919d-413861904646"', true],
    ['id eq "2819C223-7F76-453A-919D-413861904646"', false], // caseExact
    ['externalId eq "ext-1"', false], // caseExact
    ['externalId eq "EXT-1"', true],
    ['name.familyName eq "anders"', true],
    ['name.middleName pr', false],
    ['name pr', true],
    ['name[givenName eq "alice" and familyName sw "A"]', true],
    ['title pr', true],
    ['nickName pr', false], // "" is not present
    ['nickName eq null', true],
    ['nickName ne null', false],
    ['timezone eq null', true],
    ['not (timezone eq "x")', true],
    ['timezone ne "x"', true],
    ['active eq true', true],
    ['active eq "TRUE"', true],
    ['active ne true', false],
    ['emails co "home.EXAMPLE"', true],
    ['emails.value eq "alice@home.example"', true],
    ['emails.type eq "HOME"', true],
    ['emails.type ne "home"', false], // no email may have type home
    ['emails[type eq "work" and value co "home"]', false], // both conditions on the same element
    ['emails.type eq "work" and emails.value co "home"', true], // ... but here on different ones
    ['emails[primary eq true]', true],
    ['emails[not (primary eq true)]', true], // the home email has no primary
    ['emails.display pr', false],
    ['phoneNumbers pr', false],
    ['not (phoneNumbers pr)', true],
    ['roles eq "admin"', true],
    ['groups[display eq "engineering" and type eq "direct"]', true],
    ['meta.created lt "2026-01-01T00:00:01Z"', true],
    ['meta.created eq "2026-01-01T01:00:00+01:00"', true],
    ['meta.lastModified gt "2026-03-01T00:00:00Z"', false],
    ['meta.resourceType eq "User"', true],
    ['meta.resourceType eq "user"', false], // caseExact
    [`${ENTERPRISE}:employeeNumber eq "1001"`, true],
    [`${ENTERPRISE}:manager.value eq "26118915"`, true],
    ['employeeNumber eq "1001"', true], // an extension attribute without its URN
    [`${ACME.toUpperCase()}:badge eq "A-100"`, true], // URNs ignore case
    [`${ACME}:badge eq "a-100"`, false], // caseExact in its schema
    [`${ACME}:level gt 2`, true],
    [`${ACME}:level ge 3.5`, false],
    [`${ACME}:contractor eq false`, true],
    [`${ACME}:hired eq "2020-03-01T09:00:00Z"`, true], // the same instant
    [`${ACME}:hired gt "2020-03-01T09:00:00Z"`, false],
    [`${ACME}:tags eq "remote"`, true],
    [`${ACME}:tags[value sw "on"]`, true],
    [`${ACME}:tags pr`, true],
    ['title eq "Engineer" or title eq "Director" and active eq false', true],
    ['(title eq "Engineer" or title eq "Director") and active eq false', false],
    ['not (emails[type eq "work"]) or userName eq "alice"', true],
  ];
  it.each(cases)('%s -> %s', (text, expected) => {
    expect(evaluateFilter(parseFilter(text), alice, rt)).toBe(expected);
  });

  const invalid: [string, string][] = [
    ['foo eq "x"', "Unknown attribute 'foo' (resource type User)"],
    ['name.nickname eq "x"', "Unknown attribute 'name.nickname': 'name' has no sub-attribute 'nickname'"],
    ['password eq "x"', "Attribute 'password' cannot be used in a filter: it is never returned"],
    ['urn:example:other:User:title eq "x"', "Unknown schema 'urn:example:other:User' in the attribute path 'urn:example:other:User:title' (resource type User)"],
    ['active gt true', `Invalid filter 'active gt true': 'gt' does not apply to the boolean attribute 'active' (only eq, ne and pr do)`],
    ['active eq "x"', `Invalid filter 'active eq "x"': 'active' is a boolean: compare it with true or false`],
    ['active gt "x"', `Invalid filter 'active gt "x"': 'gt' does not apply to the boolean attribute 'active' (only eq, ne and pr do)`],
    ['title eq 42', `Invalid filter 'title eq 42': 'title' is a string: compare it with a string in double quotes`],
    ['title gt null', `Invalid filter 'title gt null': 'gt' cannot compare with null (use 'pr' or 'not (... pr)')`],
    ['meta.created gt "yesterday"', `Invalid filter 'meta.created gt "yesterday"': "yesterday" is not a dateTime (xsd:dateTime, e.g. "2026-01-31T12:00:00Z")`],
    ['meta.created co "2026"', `Invalid filter 'meta.created co "2026"': 'co' does not apply to the dateTime attribute 'meta.created'`],
    [`${ACME}:level co "3"`, `Invalid filter '${ACME}:level co "3"': 'co' does not apply to the number attribute '${ACME}:level'`],
    [`${ACME}:level eq "3"`, `Invalid filter '${ACME}:level eq "3"': '${ACME}:level' is a number: compare it with a number`],
    ['name eq "x"', "Attribute 'name' is complex and cannot be compared: name a sub-attribute, e.g. 'name.formatted'"],
    ['addresses co "x"', "Attribute 'addresses' is complex and cannot be compared: name a sub-attribute, e.g. 'addresses.formatted'"],
    ['x509Certificates.value co "MII"', `Invalid filter 'x509Certificates.value co "MII"': 'co' does not apply to the binary attribute 'x509Certificates.value' (only eq, ne and pr do)`],
    ['emails[foo eq "x"]', "Unknown attribute 'foo': 'emails' has no sub-attribute 'foo'"],
    ['emails[emails.type eq "x"]', "Unknown attribute 'emails.type' in the value filter of 'emails': name one of its sub-attributes"],
    ['title[value eq "x"]', "A value filter applies to a multi-valued or complex attribute; 'title' is a single string"],
    // invalid even where the other side of `or` already decided, and on values the resource does not hold
    ['userName eq "alice" or foo pr', "Unknown attribute 'foo' (resource type User)"],
    ['phoneNumbers[bar pr]', "Unknown attribute 'bar': 'phoneNumbers' has no sub-attribute 'bar'"],
  ];
  it.each(invalid)('refuses %s', (text, detail) => {
    const error = caughtScimError(() => evaluateFilter(parseFilter(text), alice, rt));
    expect([error.status, error.scimType, error.detail]).toEqual([400, 'invalidFilter', detail]);
  });

  it('validateFilter checks without a resource', () => {
    expect(() => validateFilter(parseFilter('emails[type eq "work"] and meta.created gt "2026-01-01T00:00:00Z"'), rt)).not.toThrow();
    expect(caughtScimError(() => validateFilter(parseFilter('members pr'), rt)).detail).toBe("Unknown attribute 'members' (resource type User)");
    expect(() => validateFilter(parseFilter('members[type eq "Group"]'), groupResourceType())).not.toThrow();
  });
});

describe('evaluateElementFilter: one element of a multi-valued attribute (PATCH value filters)', () => {
  const emails = findAttribute(rt.schema.attributes, 'emails')!;
  const members = findAttribute(groupResourceType().schema.attributes, 'members')!;
  const tags = findAttribute(acmeSchema.attributes, 'tags')!;
  const work = { value: 'Alice@Example.com', type: 'work', primary: true };
  const cases: [string, unknown, Parameters<typeof evaluateElementFilter>[2], boolean][] = [
    ['type eq "work"', work, emails, true],
    ['TYPE eq "WORK"', work, emails, true],
    ['type eq "work" and value co "@example"', work, emails, true],
    ['type eq "home" or primary eq true', work, emails, true],
    ['not (primary eq true)', work, emails, false],
    ['display pr', work, emails, false],
    ['display eq null', work, emails, true],
    ['value eq "2819c223"', { value: '2819c223', type: 'User' }, members, true],
    ['value eq "2819C223"', { value: '2819c223', type: 'User' }, members, false], // members.value is caseExact
    ['type eq "group"', { value: 'x', type: 'Group' }, members, true],
    ['value eq "REMOTE"', 'remote', tags, true], // simple multi-valued: the element is the value
    ['value sw "on"', 'remote', tags, false],
  ];
  it.each(cases)('%s', (text, element, attribute, expected) => {
    expect(evaluateElementFilter(parseFilter(text), element, attribute)).toBe(expected);
  });

  it.each([
    ['foo eq "x"', emails, "Unknown attribute 'foo': 'emails' has no sub-attribute 'foo'"],
    ['type gt 1', emails, `Invalid filter 'type gt 1': 'type' is a string: compare it with a string in double quotes`],
    ['primary gt true', emails, `Invalid filter 'primary gt true': 'gt' does not apply to the boolean attribute 'primary' (only eq, ne and pr do)`],
    ['type eq "x"', tags, "Unknown attribute 'type' in the value filter of 'tags': its elements have only 'value'"],
    ['emails[type eq "x"]', emails, 'Value filters cannot be nested'],
  ] as const)('refuses %s', (text, attribute, detail) => {
    const error = caughtScimError(() => evaluateElementFilter(parseFilter(text), {}, attribute));
    expect([error.status, error.scimType, error.detail]).toEqual([400, 'invalidFilter', detail]);
  });
});
