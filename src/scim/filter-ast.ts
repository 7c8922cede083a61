/**
 * The syntax tree of a SCIM filter (RFC 7644 §3.4.2.2) and of PATCH paths (RFC 7644 §3.5.2). Produced by
 * src/scim/filter.ts; translated to SQL by src/userstore/filter-sql.ts and evaluated in memory (PATCH value
 * paths) by src/scim/filter-eval.ts.
 *
 * `and` and `or` hold all their operands in one list, so a chain of terms is one node, never a chain of nodes:
 * the tree is only as deep as the filter's parentheses, `not`s and value filters, which the parser bounds
 * (SCIM_LIMITS.filterMaxDepth), and every walk over it may recurse.
 */

export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';

/** A JSON literal of the grammar: string, number, true, false or null. */
export type FilterValue = string | number | boolean | null;

/**
 * An attribute path as written: optional schema URN, attribute name, optional sub-attribute
 * (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`). Names keep the client's case;
 * resolve them with resolveAttrPath (src/scim/attribute-path.ts), which ignores case.
 */
export interface AttrPath {
  /** Schema URN, if the path was prefixed with one. */
  urn?: string | undefined;
  attribute: string;
  subAttribute?: string | undefined;
}

export type Filter =
  /**
   * `bare`: the value as written when it was not quoted (only in lenient mode: `userName eq alice`); the
   * comparison reads it as the attribute's type where that is unambiguous (filter-operand.ts compareOperand).
   */
  | { kind: 'compare'; path: AttrPath; op: CompareOp; value: FilterValue; bare?: string }
  | { kind: 'present'; path: AttrPath }
  /** Two or more operands, in the order written. */
  | { kind: 'and'; filters: Filter[] }
  | { kind: 'or'; filters: Filter[] }
  | { kind: 'not'; filter: Filter }
  /** `emails[type eq "work" and value co "@x"]`: the inner filter applies to one element of `path`. */
  | { kind: 'valuePath'; path: AttrPath; filter: Filter };

/**
 * A PATCH operation's `path` (RFC 7644 §3.5.2 PATH = attrPath / valuePath [subAttr]):
 * `members`, `name.givenName`, `emails[type eq "work"].value`, `urn:...:User:manager`.
 */
export interface PatchPath {
  path: AttrPath;
  /** The value filter in brackets, if any. */
  valueFilter?: Filter | undefined;
  /** The sub-attribute after the brackets (`.value` in `emails[type eq "work"].value`). */
  subAttribute?: string | undefined;
}
