/**
 * The syntax tree of a SCIM filter (RFC 7644 §3.4.2.2) and of PATCH paths (RFC 7644 §3.5.2). Produced by
 * src/scim/filter.ts; translated to SQL by src/userstore/filter-sql.ts and evaluated in memory (PATCH value
 * paths) by src/scim/filter.ts.
 */

export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';

/** A JSON literal of the grammar: string, number, true, false or null. */
export type FilterValue = string | number | boolean | null;

/**
 * An attribute path as written: optional schema URN, attribute name, optional sub-attribute
 * (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`). Names keep the client's case;
 * resolve them with resolvePath (src/scim/schema-defs.ts), which ignores case.
 */
export interface AttrPath {
  /** Schema URN, if the path was prefixed with one. */
  urn?: string | undefined;
  attribute: string;
  subAttribute?: string | undefined;
}

export type Filter =
  | { kind: 'compare'; path: AttrPath; op: CompareOp; value: FilterValue }
  | { kind: 'present'; path: AttrPath }
  | { kind: 'and'; left: Filter; right: Filter }
  | { kind: 'or'; left: Filter; right: Filter }
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
