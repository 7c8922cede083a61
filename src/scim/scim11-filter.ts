/**
 * SCIM 1.1 filters (SCIM Protocol 1.1, "Filtering") as a dialect of the SCIM 2.0 filter parser (filter.ts), so
 * a /wso2/scim filter gets the same limits, the same lenient mode and the same syntax tree as a /scim2 one.
 *
 * SCIM 1.1 has `attribute operator value` with the operators eq, co, sw, pr, gt, ge, lt, le, joined by `and` and
 * `or` (and binding tighter) and grouped with parentheses: a subset of RFC 7644 §3.4.2.2 with the same
 * precedence. What differs is the spelling of attribute paths (1.1 schema URNs, the enterprise
 * `manager.managerId`: attributePathTo20 in scim11.ts). What SCIM 1.1 does not have (`ne`, `ew`, `not`, `[...]`
 * value filters) is refused, so a 1.1 client gets the answer any other 1.1 service provider would give.
 */
import type { FilterDialect, FilterSyntax } from './filter.js';
import type { Filter } from './filter-ast.js';
import { parseFilter } from './filter.js';
import { attributePathTo20 } from './scim11.js';

/** The SCIM 1.1 filter grammar for filters on `type`. */
export function scim11FilterDialect(type: 'User' | 'Group'): FilterDialect {
  return {
    name: 'SCIM 1.1',
    operators: ['eq', 'co', 'sw', 'gt', 'ge', 'lt', 'le'],
    present: true,
    not: false,
    valueFilters: false,
    path: (word) => attributePathTo20(word, type),
  };
}

/**
 * Parses a SCIM 1.1 filter into the SCIM 2.0 syntax tree. Throws ScimError 400 invalidFilter for anything the
 * SCIM 1.1 grammar does not allow and for filters over the server's limits.
 *
 * @example
 * formatFilter(parseScim11Filter('urn:scim:schemas:extension:enterprise:1.0:manager.managerId eq "26118915"', 'User'))
 * // 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915"'
 */
export function parseScim11Filter(text: string, type: 'User' | 'Group', syntax: Pick<FilterSyntax, 'lenient'> = {}): Filter {
  return parseFilter(text, { ...syntax, dialect: scim11FilterDialect(type) });
}
