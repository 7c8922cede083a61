/**
 * Filters that cannot hurt the server, and the forms clients in the field send (issue #8 "Hardening"): the
 * parser's limits and character checks, Microsoft Entra's `emails[type eq "work"].value eq "x"`, unquoted values
 * in lenient mode, and the legacy attribute paths (`urn:...:User.manager`, `manager`) in filters, PATCH paths,
 * projection and sortBy. Each form is also checked against its RFC 7644 spelling: the same tree, the same
 * evaluation and the same SQL.
 */
import { describe, expect, it } from 'vitest';
import { filterSql, sortSql } from '../userstore/filter-sql.js';
import { evaluateFilter, formatFilter, parseFilter, parsePatchPath, type FilterSyntax } from './filter.js';
import { applyPatch } from './patch.js';
import { project } from './projection.js';
import { groupResourceType, userResourceType, type AttributeDef, type SchemaDef } from './schema-defs.js';
import { SCHEMA_PATCH_OP } from './schemas.js';
import { SCIM_LIMITS } from './service-provider.js';
import { caughtScimError } from '../../test/support/scim-error.js';

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const ACME = 'urn:example:params:scim:schemas:extension:acme:2.0:User';
const BETA = 'urn:example:params:scim:schemas:extension:beta:2.0:User';

function attr(name: string, type: AttributeDef['type'], extra: Partial<AttributeDef> = {}): AttributeDef {
  return { name, type, multiValued: false, description: '', required: false, caseExact: false, mutability: 'readWrite', returned: 'default', uniqueness: 'none', ...extra };
}

const acme: SchemaDef = {
  id: ACME,
  name: 'Acme',
  description: 'Acme',
  attributes: [
    attr('badge', 'string'),
    attr('level', 'integer'),
    attr('contractor', 'boolean'),
    attr('title', 'string'), // also a core attribute: the core one wins
    attr('desks', 'complex', { multiValued: true, subAttributes: [attr('type', 'string'), attr('building', 'string'), attr('floor', 'integer')] }),
  ],
};
const beta: SchemaDef = { id: BETA, name: 'Beta', description: 'Beta', attributes: [attr('badge', 'string'), attr('shoe', 'decimal')] };
const rt = userResourceType([{ schema: acme, required: false }]);
/** Two extensions both define `badge`. */
const ambiguous = userResourceType([{ schema: acme, required: false }, { schema: beta, required: false }]);

const alice: Record<string, unknown> = {
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENT, ACME],
  id: '2819c223-7f76-453a-919d-413861904646',
  externalId: '12ab',
  userName: 'alice',
  title: 'Engineer',
  active: true,
  emails: [
    { value: 'alice@work.example', type: 'work', primary: true },
    { value: 'alice@home.example', type: 'home' },
  ],
  phoneNumbers: [{ value: '+1 555 0100', type: 'mobile' }],
  addresses: [{ type: 'work', postalCode: '1000', locality: 'Brussels' }],
  ims: [{ value: 'alice@xmpp.example', type: 'xmpp' }],
  [ENT]: { employeeNumber: '701984', department: 'R&D', manager: { value: '26118915', displayName: 'Bob' } },
  [ACME]: { badge: 'A-7', level: 3, contractor: false, desks: [{ type: 'main', building: 'B2', floor: 4 }] },
  meta: { resourceType: 'User', created: '2011-05-13T04:42:34Z', lastModified: '2026-03-01T00:00:00Z', version: 'W/"3"' },
};


/** The time a call takes, in milliseconds. */
function timed(fn: () => unknown): number {
  const start = performance.now();
  try {
    fn();
  } catch {
    // the error is what the caller checks separately
  }
  return performance.now() - start;
}

const orChain = (n: number) => Array.from({ length: n }, (_, i) => `userName eq "u${i}"`).join(' or ');

describe('filter limits (issue #8)', () => {
  it('announces its limits', () => {
    expect(SCIM_LIMITS).toMatchObject({ filterMaxLength: 16_384, filterMaxTerms: 200, filterMaxDepth: 64 });
  });

  it.each<[string, () => string, RegExp]>([
    ['a 20,000-term or-filter is refused, not a stack overflow (issue #8)', () => orChain(20_000), /^Invalid filter: it is 468886 characters long; this server's limit is 16384 characters$/],
    ['a 20,000-deep parenthesized filter is refused, not a stack overflow (issue #8)', () => `${'('.repeat(20_000)}title pr${')'.repeat(20_000)}`, /characters long; this server's limit is 16384 characters$/],
    ['a 20,000-deep not-filter is refused (issue #8)', () => `${'not ('.repeat(20_000)}title pr${')'.repeat(20_000)}`, /this server's limit is 16384 characters$/],
    ['2,000 terms within the length limit are refused by the term limit', () => Array.from({ length: 2000 }, () => 'a pr').join(' or '), /^Invalid filter: more than 200 comparisons, this server's limit at position 1601$/],
    ['201 terms joined by and are refused', () => Array.from({ length: 201 }, () => 'a pr').join(' and '), /more than 200 comparisons/],
    ['65 levels of parentheses are refused', () => `${'('.repeat(65)}a pr${')'.repeat(65)}`, /^Invalid filter: nesting deeper than 64 levels \(parentheses, not, value filters\), this server's limit at position 65$/],
    ['a value filter counts as a level', () => `${'('.repeat(64)}emails[type eq "work"]${')'.repeat(64)}`, /nesting deeper than 64 levels/],
    ['not counts as a level', () => `${'not ('.repeat(65)}a pr${')'.repeat(65)}`, /nesting deeper than 64 levels/],
  ])('%s', (_name, build, detail) => {
    const text = build();
    const error = caughtScimError(() => parseFilter(text));
    expect([error.status, error.scimType]).toEqual([400, 'invalidFilter']);
    expect(error.detail).toMatch(detail);
    expect(timed(() => parseFilter(text))).toBeLessThan(200);
  });

  it('a PATCH path over the limits is invalidPath', () => {
    const error = caughtScimError(() => parsePatchPath(`emails[${Array.from({ length: 201 }, () => 'type eq "x"').join(' or ')}]`));
    expect([error.status, error.scimType]).toEqual([400, 'invalidPath']);
    expect(error.detail).toMatch(/more than 200 comparisons/);
  });

  it('accepts what the limits allow, and evaluates and translates it without recursing along the chain', () => {
    // 200 comparisons inside 63 parentheses and a value filter: the most the limits allow.
    const terms = Array.from({ length: 199 }, (_, i) => `userName eq "u${i}"`).join(' or ');
    const text = `${'('.repeat(63)}${terms} or emails[type eq "work"]${')'.repeat(63)}`;
    expect(text.length).toBeLessThan(SCIM_LIMITS.filterMaxLength);
    const filter = parseFilter(text);
    expect(filter).toMatchObject({ kind: 'or' });
    expect((filter as { filters: unknown[] }).filters).toHaveLength(200);
    expect(evaluateFilter(filter, alice, rt)).toBe(true);
    expect(filterSql(rt, filter).sql).toContain('EXISTS');
    // Exactly at the length limit.
    const padded = `userName eq "${'x'.repeat(SCIM_LIMITS.filterMaxLength - 'userName eq ""'.length)}"`;
    expect(padded.length).toBe(SCIM_LIMITS.filterMaxLength);
    expect(() => parseFilter(padded)).not.toThrow();
    expect(caughtScimError(() => parseFilter(`${padded} `)).detail).toMatch(/16385 characters long/);
  });

  it('never echoes a huge word back in an error', () => {
    const error = caughtScimError(() => parseFilter(`userName eq "x" ${'y'.repeat(5000)}`));
    expect(error.detail.length).toBeLessThan(200);
  });
});

describe('control characters (issue #8)', () => {
  it.each<[string, string, RegExp]>([
    ['NUL in a string', 'userName eq "a\u0000b"', /control character U\+0000; a filter cannot contain control characters at position 15$/],
    ['NUL as an escape', 'userName eq "a\\u0000b"', /the escape '\\u0000' is a control character/],
    ['NUL outside a string', 'userName eq "a"\u0000', /control character U\+0000/],
    ['NUL in an attribute name', 'user\u0000Name eq "a"', /control character U\+0000; .* at position 5$/],
    ['another C0 control', 'userName eq "a\u001b"', /U\+001B/],
    ['an escaped C0 control', 'userName eq "\\u001F"', /the escape '\\u001F' is a control character/],
    ['DEL', 'userName eq "\u007f"', /U\+007F/],
    ['a C1 control', 'userName eq "\u0085"', /U\+0085/],
    ['\\b', 'userName eq "a\\bb"', /the escape '\\b' is a control character/],
    ['\\f', 'userName eq "a\\fb"', /the escape '\\f' is a control character/],
    ['a vertical tab between tokens', 'userName\u000beq "a"', /U\+000B/],
  ])('refuses %s', (_name, text, detail) => {
    for (const lenient of [false, true]) {
      const error = caughtScimError(() => parseFilter(text, { lenient }));
      expect([error.status, error.scimType]).toEqual([400, 'invalidFilter']);
      expect(error.detail).toMatch(detail);
    }
  });

  it('refuses them in PATCH paths too', () => {
    expect(caughtScimError(() => parsePatchPath('emails[value eq "\\u0000"]')).scimType).toBe('invalidPath');
  });

  it('keeps tabs and line breaks between tokens, and \\n, \\r, \\t escapes in values', () => {
    expect(formatFilter(parseFilter('userName eq "a"\tand\r\ntitle pr'))).toBe('(userName eq "a" and title pr)');
    expect(parseFilter('addresses.formatted eq "1 Main St\\nAnytown\\t\\r"')).toMatchObject({ value: '1 Main St\nAnytown\t\r' });
  });
});

describe("Microsoft Entra's value path followed by a sub-attribute", () => {
  const cases: [string, string, boolean][] = [
    ['emails[type eq "work"].value eq "alice@work.example"', 'emails[type eq "work" and value eq "alice@work.example"]', true],
    ['emails[type eq "work"].value eq "alice@home.example"', 'emails[type eq "work" and value eq "alice@home.example"]', false],
    ['emails[type eq "work"].value ne "x@y"', 'emails[type eq "work" and value ne "x@y"]', true],
    ['emails[type eq "work"].value co "WORK"', 'emails[type eq "work" and value co "WORK"]', true],
    ['emails[type eq "home"].value sw "alice@h"', 'emails[type eq "home" and value sw "alice@h"]', true],
    ['emails[type eq "work"].value ew ".example"', 'emails[type eq "work" and value ew ".example"]', true],
    ['emails[type eq "work"].value gt "alice@a"', 'emails[type eq "work" and value gt "alice@a"]', true],
    ['emails[type eq "work"].value ge "alice@work.example"', 'emails[type eq "work" and value ge "alice@work.example"]', true],
    ['emails[type eq "work"].value lt "alice@a"', 'emails[type eq "work" and value lt "alice@a"]', false],
    ['emails[type eq "work"].value le "alice@work.example"', 'emails[type eq "work" and value le "alice@work.example"]', true],
    ['emails[type eq "work"].display pr', 'emails[type eq "work" and display pr]', false],
    ['emails[type eq "work"].primary eq true', 'emails[type eq "work" and primary eq true]', true],
    ['emails[type eq "work" or type eq "home"].value eq "alice@home.example"', 'emails[(type eq "work" or type eq "home") and value eq "alice@home.example"]', true],
    ['emails[type eq "work" and primary eq true].value pr', 'emails[type eq "work" and primary eq true and value pr]', true],
    ['phoneNumbers[type eq "mobile"].value eq "+1 555 0100"', 'phoneNumbers[type eq "mobile" and value eq "+1 555 0100"]', true],
    ['addresses[type eq "work"].postalCode eq "1000"', 'addresses[type eq "work" and postalCode eq "1000"]', true],
    ['addresses[type eq "work"].locality ne "Brussels"', 'addresses[type eq "work" and locality ne "Brussels"]', false],
    ['ims[type eq "xmpp"].value pr', 'ims[type eq "xmpp" and value pr]', true],
    [`${ACME}:desks[type eq "main"].floor ge 4`, `${ACME}:desks[type eq "main" and floor ge 4]`, true],
    ['userName eq "alice" and emails[type eq "work"].value eq "alice@work.example"', 'userName eq "alice" and emails[type eq "work" and value eq "alice@work.example"]', true],
    ['not (emails[type eq "work"].value eq "x@y")', 'not (emails[type eq "work" and value eq "x@y"])', true],
  ];
  it.each(cases)('%s', (text, canonical, expected) => {
    const filter = parseFilter(text);
    expect(formatFilter(filter)).toBe(formatFilter(parseFilter(canonical)));
    expect(evaluateFilter(filter, alice, rt)).toBe(expected);
    expect(filterSql(rt, filter)).toEqual(filterSql(rt, parseFilter(canonical)));
  });

  it.each([
    ['emails[type eq "work"].nope eq "x"', "Unknown attribute 'nope': 'emails' has no sub-attribute 'nope'"],
    ['emails[type eq "work"].value eq 42', `Invalid filter 'value eq 42': 'value' is a string: compare it with a string in double quotes`],
  ])('checks the sub-attribute and its operand: %s', (text, detail) => {
    expect(caughtScimError(() => evaluateFilter(parseFilter(text), alice, rt)).detail).toBe(detail);
  });
});

describe('unquoted values (lenient mode, SCIM_FILTER_LENIENT)', () => {
  const lenient: FilterSyntax = { lenient: true };
  const cases: [string, string, boolean][] = [
    ['userName eq alice', 'userName eq "alice"', true],
    ['userName eq ALICE', 'userName eq "ALICE"', true],
    ['(userName eq alice)', 'userName eq "alice"', true],
    ['userName eq alice and title eq Engineer', 'userName eq "alice" and title eq "Engineer"', true],
    ['meta.lastModified gt 2011-05-13T04:42:34Z', 'meta.lastModified gt "2011-05-13T04:42:34Z"', true],
    ['meta.created eq 2011-05-13T04:42:34Z', 'meta.created eq "2011-05-13T04:42:34Z"', true],
    ['externalId eq 12ab', 'externalId eq "12ab"', true],
    ['externalId eq 12AB', 'externalId eq "12AB"', false], // caseExact
    ['emails[type eq work].value eq alice@work.example', 'emails[type eq "work" and value eq "alice@work.example"]', true],
    ['emails.value co @home.', 'emails.value co "@home."', true],
    ['userName eq "alice"', 'userName eq "alice"', true], // quoted values are as ever
    // JSON literals keep their type where the attribute has it...
    ['active eq true', 'active eq true', true],
    ['active eq FALSE', 'active eq false', false],
    [`${ACME}:level eq 3`, `${ACME}:level eq 3`, true],
    [`${ACME}:level gt 2.5`, `${ACME}:level gt 2.5`, true],
    [`${ACME}:contractor eq false`, `${ACME}:contractor eq false`, true],
    ['title eq null', 'title eq null', false], // null means absent, as in RFC 7644
    // ...and are read as text for a string attribute
    ['title eq 42', 'title eq "42"', false],
    ['externalId ne 123', 'externalId ne "123"', true],
    ['userName eq true', 'userName eq "true"', false],
  ];
  it.each(cases)('%s', (text, canonical, expected) => {
    const filter = parseFilter(text, lenient);
    expect(evaluateFilter(filter, alice, rt)).toBe(expected);
    expect(evaluateFilter(parseFilter(canonical), alice, rt)).toBe(expected);
    expect(filterSql(rt, filter)).toEqual(filterSql(rt, parseFilter(canonical)));
  });

  it('keeps the text as written beside the value', () => {
    expect(parseFilter('externalId eq 12ab', lenient)).toEqual({ kind: 'compare', path: { attribute: 'externalId' }, op: 'eq', value: '12ab', bare: '12ab' });
    expect(parseFilter('x eq 0012', lenient)).toMatchObject({ value: '0012', bare: '0012' });
    expect(parseFilter('x eq 12', lenient)).toMatchObject({ value: 12, bare: '12' });
  });

  it.each([
    [`${ACME}:level eq 12ab`, `'${ACME}:level' is a number: compare it with a number`],
    ['active eq yes', "'active' is a boolean: compare it with true or false"],
    ['meta.created gt yesterday', '"yesterday" is not a dateTime'],
  ])('still refuses a bare value the attribute cannot hold: %s', (text, detail) => {
    expect(caughtScimError(() => evaluateFilter(parseFilter(text, lenient), alice, rt)).detail).toContain(detail);
  });

  it.each(['userName eq', 'userName eq )', 'userName eq ]'])('still needs a value: %j', (text) => {
    expect(caughtScimError(() => parseFilter(text, lenient)).detail).toMatch(/expected a value after 'eq'/);
  });

  it.each(['userName eq alice', 'meta.lastModified gt 2011-05-13T04:42:34Z', 'externalId eq 12ab'])('strict mode refuses %s', (text) => {
    const error = caughtScimError(() => parseFilter(text));
    expect([error.status, error.scimType]).toEqual([400, 'invalidFilter']);
  });
});

describe('legacy attribute paths: the dotted URN form and extension attributes without their URN', () => {
  const filters: [string, string][] = [
    [`${ENT}.manager.value eq "26118915"`, `${ENT}:manager.value eq "26118915"`],
    [`${ENT}.employeeNumber eq "701984"`, `${ENT}:employeeNumber eq "701984"`],
    [`${ENT}.manager pr`, `${ENT}:manager pr`],
    ['manager.value eq "26118915"', `${ENT}:manager.value eq "26118915"`],
    ['department eq "r&d"', `${ENT}:department eq "r&d"`],
    ['badge eq "A-7"', `${ACME}:badge eq "A-7"`],
    [`${ACME}.desks[floor gt 3]`, `${ACME}:desks[floor gt 3]`],
    ['urn:ietf:params:scim:schemas:core:2.0:User.userName eq "alice"', 'userName eq "alice"'],
    ['title eq "Engineer"', 'urn:ietf:params:scim:schemas:core:2.0:User:title eq "Engineer"'], // core wins over Acme's title
  ];
  it.each(filters)('filter %s', (text, canonical) => {
    expect(evaluateFilter(parseFilter(text), alice, rt)).toBe(true);
    expect(filterSql(rt, parseFilter(text))).toEqual(filterSql(rt, parseFilter(canonical)));
  });

  it.each([
    [`${ENT}.manager.value`, `${ENT}:manager.value`],
    ['manager.value', `${ENT}:manager.value`],
    ['employeeNumber', `${ENT}:employeeNumber`],
    [`${ACME}.level`, `${ACME}:level`],
  ])('sortBy %s', (sortBy, canonical) => {
    expect(sortSql(rt, sortBy)).toEqual(sortSql(rt, canonical));
  });

  const patchCases: [string, unknown][] = [
    [`${ENT}.manager`, { value: 'm-2' }],
    ['manager', { value: 'm-2' }],
    [`${ENT}.manager.value`, 'm-2'],
    ['manager.value', 'm-2'],
  ];
  it.each(patchCases)('PATCH path %s', (path, value) => {
    const body = (p: string) => ({ schemas: [SCHEMA_PATCH_OP], Operations: [{ op: 'replace', path: p, value }] });
    const canonical = typeof value === 'string' ? `${ENT}:manager.value` : `${ENT}:manager`;
    const { resource, changedAttributes } = applyPatch(alice, body(path), rt);
    expect(resource).toEqual(applyPatch(alice, body(canonical), rt).resource);
    expect((resource[ENT] as { manager: unknown }).manager).toEqual({ value: 'm-2', displayName: 'Bob' });
    expect(changedAttributes).toEqual([`${ENT}:manager`]);
  });

  it('PATCH paths: a bare extension name in a path-less value, and a dotted one in a value filter path', () => {
    const { resource } = applyPatch(alice, { schemas: [SCHEMA_PATCH_OP], Operations: [{ op: 'replace', value: { department: 'Sales' } }] }, rt);
    expect((resource[ENT] as { department: string }).department).toBe('Sales');
    const floors = applyPatch(alice, { schemas: [SCHEMA_PATCH_OP], Operations: [{ op: 'replace', path: `${ACME}.desks[type eq "main"].floor`, value: 5 }] }, rt);
    expect((floors.resource[ACME] as { desks: unknown[] }).desks).toEqual([{ type: 'main', building: 'B2', floor: 5 }]);
  });

  it.each([
    [[`${ENT}.manager`], { [ENT]: { manager: { value: '26118915', displayName: 'Bob' } } }],
    [['manager.displayName'], { [ENT]: { manager: { displayName: 'Bob' } } }],
    [['employeeNumber', 'badge'], { [ENT]: { employeeNumber: '701984' }, [ACME]: { badge: 'A-7' } }],
    [[`${ENT}.manager.value`], { [ENT]: { manager: { value: '26118915' } } }],
  ])('attributes=%j', (attributes, expected) => {
    expect(project(alice, rt, { attributes })).toEqual({ schemas: alice.schemas, id: alice.id, ...expected });
  });

  it('excludedAttributes with the legacy forms', () => {
    const out = project(alice, rt, { excludedAttributes: ['manager', `${ACME}.desks`] });
    expect(out[ENT]).toEqual({ employeeNumber: '701984', department: 'R&D' });
    expect(out[ACME]).toEqual({ badge: 'A-7', level: 3, contractor: false });
  });

  describe('a name two extensions define is refused, naming both', () => {
    const both = `${ACME} and ${BETA} both define it; qualify it with its schema URN`;
    it('in a filter (invalidFilter)', () => {
      const error = caughtScimError(() => filterSql(ambiguous, parseFilter('badge eq "A-7"')));
      expect([error.status, error.scimType, error.detail]).toEqual([400, 'invalidFilter', `Attribute 'badge' is ambiguous: ${both}`]);
      expect(caughtScimError(() => evaluateFilter(parseFilter('badge pr'), alice, ambiguous)).detail).toContain(both);
    });
    it('in a PATCH path (invalidPath)', () => {
      const error = caughtScimError(() => applyPatch(alice, { schemas: [SCHEMA_PATCH_OP], Operations: [{ op: 'replace', path: 'badge', value: 'x' }] }, ambiguous));
      expect([error.status, error.scimType]).toEqual([400, 'invalidPath']);
      expect(error.detail).toContain(both);
    });
    it('in attributes / excludedAttributes (invalidValue)', () => {
      for (const req of [{ attributes: ['badge'] }, { excludedAttributes: ['badge'] }]) {
        const error = caughtScimError(() => project(alice, ambiguous, req));
        expect([error.status, error.scimType]).toEqual([400, 'invalidValue']);
        expect(error.detail).toContain(both);
      }
    });
    it('in sortBy (invalidValue)', () => {
      const error = caughtScimError(() => sortSql(ambiguous, 'badge'));
      expect([error.status, error.scimType]).toEqual([400, 'invalidValue']);
      expect(error.detail).toContain(both);
    });
    it('but its URN-qualified forms, in either spelling, are fine', () => {
      expect(evaluateFilter(parseFilter(`${ACME}:badge eq "A-7"`), alice, ambiguous)).toBe(true);
      expect(evaluateFilter(parseFilter(`${ACME}.badge eq "A-7"`), alice, ambiguous)).toBe(true);
    });
  });

  it('groups resolve the same way', () => {
    const grt = groupResourceType([{ schema: { ...beta, id: 'urn:example:params:scim:schemas:extension:beta:2.0:Group' }, required: false }]);
    expect(sortSql(grt, 'shoe')).toEqual(sortSql(grt, 'urn:example:params:scim:schemas:extension:beta:2.0:Group:shoe'));
    expect(sortSql(grt, 'urn:ietf:params:scim:schemas:core:2.0:Group.displayName')).toEqual(sortSql(grt, 'displayName'));
  });
});
