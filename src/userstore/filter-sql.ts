/**
 * SCIM filters (RFC 7644 §3.4.2.2) as SQL conditions over the user store, and sortBy (§3.4.2.3) as ORDER BY
 * expressions. Rows are never loaded to be filtered in memory: every filter becomes one WHERE condition.
 *
 * The condition is written for
 *   users:  scim_user u JOIN user_store_domain d ON d.id = u.domain_id
 *   groups: scim_group g JOIN user_store_domain d ON d.id = g.domain_id
 * and every value is a bound parameter (Prisma.sql), never spliced into the text. Column names come from the
 * fixed maps below, never from the request.
 *
 * Three-valued logic: every condition this module produces is TRUE or FALSE, never NULL (a nullable column is
 * tested `col IS NOT NULL AND ...`, sub-resources with EXISTS), so `not (title eq "x")` includes users without
 * a title, as RFC 7644 requires (`title eq "x"` is false for them), and `ne` is exactly `not eq`.
 *
 * Where attributes live (column names per prisma/schema.prisma):
 * - scalar columns of scim_user / scim_group; name.* in name_* columns; the enterprise extension in its own
 *   columns (manager.value = manager_id);
 * - emails, phoneNumbers, addresses: child tables, one EXISTS per comparison; a value filter
 *   `emails[type eq "work" and value co "@x"]` is one EXISTS whose conditions all hold for the same row;
 * - ims, photos, entitlements, roles, x509Certificates: JSON arrays in u.attributes under those keys;
 * - groups (users) and members (groups): scim_group_member; a user's groups are its direct memberships, as the
 *   User resource renders them;
 * - operator-defined extensions: u.attributes / g.attributes -> '<schema URN>' -> '<attribute>' (JSONB).
 *
 * userName (and the names rendered like it, `DOMAIN/name` outside PRIMARY: group displayName, groups.display,
 * members.display): the column holds the name without its domain. A value with a `DOMAIN/` prefix restricts eq,
 * ne and sw to that user store domain and compares the rest (`userName eq "SECONDARY/bob"`); otherwise the bare
 * name is compared across every domain (`userName eq "bob"` finds bob in PRIMARY and in SECONDARY; co, ew, gt...
 * always compare the bare name). Sorting uses the bare name too.
 *
 * Indexes: eq on userName / emails.value / group displayName uses the normalized columns with their B-tree
 * indexes; co / sw / ew on them are written `col LIKE '%' || $1 || '%'` so pg_trgm's GIN indexes serve them.
 * userName's column holds its RFC 8265 key (src/userstore/username.ts), so filter values are enforced the same
 * way (userNameKeyComparison); emails and group names are lower-cased.
 */
import { Prisma } from '../generated/prisma/client.js';
import { ScimError } from '../scim/errors.js';
import {
  comparedAttribute,
  compareOperand,
  formatAttrPath,
  parseAttrPath,
  resolveElementPath,
  resolveFilterPath,
  type Operand,
} from '../scim/filter.js';
import type { CompareOp, Filter } from '../scim/filter-ast.js';
import { SCHEMA_ENTERPRISE_USER } from '../scim/schemas.js';
import { findAttribute, type AttributeDef, type ResolvedPath, type ResourceTypeDef } from '../scim/schema-defs.js';
import { splitDomain } from '../scim/user-resource.js';
import { checkUserName, foldUserName } from './username.js';
import { PLACEHOLDER_PATTERN } from './username-conflicts.js';

type Sql = Prisma.Sql;
const { sql, join, raw } = Prisma;

const TRUE = sql`TRUE`;
const FALSE = sql`FALSE`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** xsd:dateTime as stored in JSON by the extension code; guards the ::timestamptz cast. */
const JSON_DATE_TIME = String.raw`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$`;
const JSON_ZONE = String.raw`([Zz]|[+-]\d{2}:\d{2})$`;

/** A single value the filter can compare: a column, a constant or an expression over JSON. */
interface Scalar {
  sql: Sql;
  def: AttributeDef;
  nullable: boolean;
  /** The column holds the value lower-cased by the application (user_name_normalized, value_normalized...). */
  normalized?: boolean;
  /** A uuid column: eq by casting the value (a non-UUID value matches nothing), other operators on its text. */
  uuid?: boolean;
  /** A Prisma DateTime column: timestamp without time zone holding UTC. */
  utc?: boolean;
  /**
   * A name that is rendered `DOMAIN/name` in secondary domains (userName, group displayName): the domain name
   * column. A value with a domain prefix restricts eq, ne and sw to that domain and compares the rest.
   */
  domain?: Sql;
  /**
   * The column's own text comparisons, in place of compareText's: a userName key column compares values enforced
   * like userNames (userNameKeyComparison).
   */
  textCompare?: (op: Exclude<CompareOp, 'ne'>, value: string) => Sql;
}

/** The rows of a multi-valued attribute of one resource (a child table, a JSON array, memberships). */
interface Rows {
  /** `SELECT <what> FROM ... WHERE <correlation> AND <cond> <tail>` */
  select: (what: Sql, cond: Sql, tail?: Sql) => Sql;
  /** A sub-attribute of one row (for a simple multi-valued attribute: `value`, the element itself). */
  sub: (def: AttributeDef, text: string) => Scalar;
  /** Primary first, then the list's order (RFC 7644 §3.4.2.3 sorts by the primary value, else the first). */
  order: Sql;
}

/** Where a resolved path leads. */
type Target =
  | { kind: 'scalar'; scalar: Scalar }
  | { kind: 'rows'; rows: Rows; attribute: AttributeDef }
  | { kind: 'complex'; attribute: AttributeDef; sub: (def: AttributeDef, text: string) => Scalar; present: Sql };

function invalidFilter(detail: string): ScimError {
  return new ScimError(400, detail, 'invalidFilter');
}

function unsupported(text: string): never {
  throw invalidFilter(`'${text}' is not supported in filters and sortBy`);
}

const not = (cond: Sql): Sql => sql`NOT (${cond})`;
const or = (conds: Sql[]): Sql => (conds.length === 0 ? FALSE : conds.length === 1 ? conds[0]! : sql`(${join(conds, ' OR ')})`);
const exists = (rows: Rows, cond: Sql): Sql => sql`EXISTS (${rows.select(sql`1`, cond)})`;

/** Escapes LIKE's metacharacters (PostgreSQL's default escape character is the backslash). */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

const column = (alias: string, name: string): Sql => raw(`${alias}."${name}"`);

function scalarColumn(alias: string, name: string, def: AttributeDef, opts: Partial<Omit<Scalar, 'sql' | 'def'>> = {}): Scalar {
  return { sql: column(alias, name), def, nullable: true, ...opts };
}

// ---------------------------------------------------------------------------------------------------------------
// JSON values (u.attributes / g.attributes)

/** A JSON value typed as `def.type`: NULL when missing or of another JSON type (never a cast error). */
function jsonScalar(json: Sql, def: AttributeDef): Scalar {
  let expr: Sql;
  switch (def.type) {
    case 'boolean':
      expr = sql`(CASE WHEN jsonb_typeof(${json}) = 'boolean' THEN (${json})::boolean END)`;
      break;
    case 'integer':
    case 'decimal':
      expr = sql`(CASE WHEN jsonb_typeof(${json}) = 'number' THEN (${json})::numeric END)`;
      break;
    case 'dateTime':
      // Stored as xsd:dateTime strings; one without a zone is UTC, as in src/scim/filter.ts.
      expr = sql`(CASE WHEN jsonb_typeof(${json}) = 'string' AND (${json} #>> '{}') ~ ${JSON_DATE_TIME} THEN
        (CASE WHEN (${json} #>> '{}') ~ ${JSON_ZONE} THEN (${json} #>> '{}')::timestamptz
              ELSE ((${json} #>> '{}')::timestamp AT TIME ZONE 'UTC') END) END)`;
      break;
    case 'complex':
      expr = json;
      break;
    default:
      expr = sql`(CASE WHEN jsonb_typeof(${json}) = 'string' THEN ${json} #>> '{}' END)`;
  }
  return { sql: expr, def, nullable: true };
}

/** `pr` on a JSON value: not missing, not null, not "", not [] and not {}. */
function jsonPresent(json: Sql): Sql {
  return sql`(CASE WHEN ${json} IS NULL THEN FALSE
    WHEN jsonb_typeof(${json}) = 'null' THEN FALSE
    WHEN jsonb_typeof(${json}) = 'string' THEN (${json} #>> '{}') <> ''
    WHEN jsonb_typeof(${json}) = 'array' THEN jsonb_array_length(${json}) > 0
    WHEN jsonb_typeof(${json}) = 'object' THEN ${json} <> '{}'::jsonb
    ELSE TRUE END)`;
}

/** The elements of a JSON array (anything else counts as no elements), with their position. */
function jsonRows(json: Sql, attribute: AttributeDef): Rows {
  const elements = sql`jsonb_array_elements(CASE WHEN jsonb_typeof(${json}) = 'array' THEN ${json} ELSE '[]'::jsonb END) WITH ORDINALITY AS x(elem, ord)`;
  const complex = attribute.type === 'complex';
  return {
    select: (what, cond, tail = sql``) => sql`SELECT ${what} FROM ${elements} WHERE ${cond} ${tail}`,
    sub: (def) => jsonScalar(complex ? sql`x.elem -> ${def.name}::text` : sql`x.elem`, def),
    order: complex ? sql`COALESCE(x.elem -> 'primary' = 'true'::jsonb, FALSE) DESC, x.ord` : sql`x.ord`,
  };
}

function jsonTarget(resolved: ResolvedPath, base: Sql): Target {
  const { attribute } = resolved;
  const json = sql`${base} -> ${attribute.name}::text`;
  if (attribute.multiValued) return { kind: 'rows', rows: jsonRows(json, attribute), attribute };
  if (attribute.type === 'complex') {
    return {
      kind: 'complex',
      attribute,
      sub: (def) => jsonScalar(sql`${json} -> ${def.name}::text`, def),
      present: jsonPresent(json),
    };
  }
  return { kind: 'scalar', scalar: jsonScalar(json, attribute) };
}

// ---------------------------------------------------------------------------------------------------------------
// Users

const USER_COLUMNS: Record<string, string> = {
  externalId: 'external_id',
  displayName: 'display_name',
  nickName: 'nick_name',
  profileUrl: 'profile_url',
  title: 'title',
  userType: 'user_type',
  preferredLanguage: 'preferred_language',
  locale: 'locale',
  timezone: 'timezone',
};

const NAME_COLUMNS: Record<string, string> = {
  formatted: 'name_formatted',
  familyName: 'name_family_name',
  givenName: 'name_given_name',
  middleName: 'name_middle_name',
  honorificPrefix: 'name_honorific_prefix',
  honorificSuffix: 'name_honorific_suffix',
};

const ENTERPRISE_COLUMNS: Record<string, string> = {
  employeeNumber: 'employee_number',
  costCenter: 'cost_center',
  organization: 'organization',
  division: 'division',
  department: 'department',
};

const ADDRESS_COLUMNS: Record<string, string> = {
  formatted: 'formatted',
  streetAddress: 'street_address',
  locality: 'locality',
  region: 'region',
  postalCode: 'postal_code',
  country: 'country',
  type: 'type',
  primary: 'primary',
};

/** Multi-valued attributes kept as JSON arrays in u.attributes (see prisma/schema.prisma). */
const USER_JSON_LISTS = new Set(['ims', 'photos', 'entitlements', 'roles', 'x509Certificates']);

/** A child table of value/type/primary/display rows (emails, phoneNumbers). */
function valueRows(table: string, a: string, value: { column: string; normalized: boolean }): Rows {
  return {
    select: (what, cond, tail = sql``) => sql`SELECT ${what} FROM ${raw(`${table} ${a}`)} WHERE ${raw(`${a}.user_id`)} = u.id AND ${cond} ${tail}`,
    sub: (def, text) => {
      switch (def.name) {
        case 'value':
          return scalarColumn(a, value.column, def, { nullable: false, normalized: value.normalized });
        case 'primary':
          return scalarColumn(a, 'primary', def, { nullable: false });
        case 'type':
        case 'display':
          return scalarColumn(a, def.name, def);
        default:
          return unsupported(text);
      }
    },
    order: raw(`${a}."primary" DESC, ${a}."position"`),
  };
}

const addressRows: Rows = {
  select: (what, cond, tail = sql``) => sql`SELECT ${what} FROM scim_user_address a WHERE a.user_id = u.id AND ${cond} ${tail}`,
  sub: (def, text) => {
    const name = ADDRESS_COLUMNS[def.name];
    if (!name) return unsupported(text);
    return scalarColumn('a', name, def, { nullable: def.name !== 'primary' });
  },
  order: sql`a."primary" DESC, a."position"`,
};

/**
 * A user's groups: direct memberships, as the User resource renders them (src/userstore/users.ts). `display` is
 * the group's name, qualified with its domain like userName.
 */
const userGroupRows: Rows = {
  select: (what, cond, tail = sql``) => sql`SELECT ${what} FROM scim_group_member m
      JOIN scim_group gg ON gg.id = m.group_id
      JOIN user_store_domain gd ON gd.id = gg.domain_id
    WHERE m.member_id = u.id AND m.member_type = 'User' AND ${cond} ${tail}`,
  sub: (def, text) => {
    switch (def.name) {
      case 'value':
        return scalarColumn('gg', 'id', def, { nullable: false, uuid: true });
      case 'display':
        return scalarColumn('gg', 'display_name_normalized', def, { nullable: false, normalized: true, domain: sql`gd.name` });
      case 'type':
        return { sql: sql`'direct'::text`, def, nullable: false };
      case 'primary':
        return { sql: FALSE, def, nullable: false };
      default:
        return unsupported(text);
    }
  },
  order: sql`m.created_at, m.group_id`,
};

const ROW_SOURCES: Record<string, Rows> = {
  emails: valueRows('scim_user_email', 'e', { column: 'value_normalized', normalized: true }),
  phoneNumbers: valueRows('scim_user_phone_number', 'p', { column: 'value', normalized: false }),
  addresses: addressRows,
  groups: userGroupRows,
};

function userTarget(rt: ResourceTypeDef, resolved: ResolvedPath, text: string): Target {
  const { schema, attribute } = resolved;
  if (schema.id === SCHEMA_ENTERPRISE_USER) {
    const col = ENTERPRISE_COLUMNS[attribute.name];
    if (col) return { kind: 'scalar', scalar: scalarColumn('u', col, attribute) };
    if (attribute.name === 'manager') {
      const managerColumns: Record<string, string> = { value: 'manager_id', displayName: 'manager_display_name' };
      return complexColumns(attribute, 'u', managerColumns);
    }
    return unsupported(text);
  }
  if (schema !== rt.schema) return jsonTarget(resolved, sql`u.attributes -> ${schema.id}::text`);
  const name = attribute.name;
  switch (name) {
    case 'id':
      return { kind: 'scalar', scalar: scalarColumn('u', 'id', attribute, { nullable: false, uuid: true }) };
    case 'userName':
      return {
        kind: 'scalar',
        scalar: scalarColumn('u', 'user_name_normalized', attribute, {
          nullable: false,
          normalized: true,
          domain: sql`d.name`,
          textCompare: userNameKeyComparison(sql`u.user_name_normalized`),
        }),
      };
    case 'active':
      // Nullable: unassigned after a PATCH remove (prisma/schema.prisma).
      return { kind: 'scalar', scalar: scalarColumn('u', 'active', attribute) };
    case 'name':
      return complexColumns(attribute, 'u', NAME_COLUMNS);
    case 'meta':
      return metaTarget(attribute, 'u', 'User');
  }
  const col = USER_COLUMNS[name];
  if (col) return { kind: 'scalar', scalar: scalarColumn('u', col, attribute) };
  const rows = ROW_SOURCES[name];
  if (rows) return { kind: 'rows', rows, attribute };
  if (USER_JSON_LISTS.has(name)) return jsonTarget(resolved, sql`u.attributes`);
  return unsupported(text);
}

// ---------------------------------------------------------------------------------------------------------------
// Groups

/**
 * A group's members. `display` is what the Group resource renders (src/userstore/groups.ts): the member user's
 * userName or the nested group's displayName, qualified with its domain.
 */
const memberRows: Rows = {
  select: (what, cond, tail = sql``) => sql`SELECT ${what} FROM scim_group_member m
      LEFT JOIN scim_user mu ON m.member_type = 'User' AND mu.id = m.member_id
      LEFT JOIN scim_group mg ON m.member_type = 'Group' AND mg.id = m.member_id
      LEFT JOIN user_store_domain md ON md.id = COALESCE(mu.domain_id, mg.domain_id)
    WHERE m.group_id = g.id AND ${cond} ${tail}`,
  sub: (def, text) => {
    switch (def.name) {
      case 'value':
        return scalarColumn('m', 'member_id', def, { nullable: false, uuid: true });
      case 'type':
        return scalarColumn('m', 'member_type', def, { nullable: false });
      case 'display': {
        // A member user's display is its userName (compared by its key), a nested group's its displayName.
        const userDisplay = userNameKeyComparison(sql`mu.user_name_normalized`);
        const groupDisplay: Scalar = { sql: sql`mg.display_name_normalized`, def, nullable: false, normalized: true };
        return {
          sql: sql`COALESCE(mu.user_name_normalized, mg.display_name_normalized)`,
          def,
          nullable: true,
          normalized: true,
          domain: sql`md.name`,
          textCompare: (op, value) =>
            sql`(CASE WHEN m.member_type = 'User' THEN ${userDisplay(op, value)} ELSE ${compareText(groupDisplay, op, value)} END)`,
        };
      }
      default:
        return unsupported(text);
    }
  },
  order: sql`m.created_at, m.member_id`,
};

function groupTarget(rt: ResourceTypeDef, resolved: ResolvedPath, text: string): Target {
  const { schema, attribute } = resolved;
  if (schema !== rt.schema) return jsonTarget(resolved, sql`g.attributes -> ${schema.id}::text`);
  switch (attribute.name) {
    case 'id':
      return { kind: 'scalar', scalar: scalarColumn('g', 'id', attribute, { nullable: false, uuid: true }) };
    case 'externalId':
      return { kind: 'scalar', scalar: scalarColumn('g', 'external_id', attribute) };
    case 'displayName':
      return {
        kind: 'scalar',
        scalar: scalarColumn('g', 'display_name_normalized', attribute, { nullable: false, normalized: true, domain: sql`d.name` }),
      };
    case 'members':
      return { kind: 'rows', rows: memberRows, attribute };
    case 'meta':
      return metaTarget(attribute, 'g', 'Group');
  }
  return unsupported(text);
}

// ---------------------------------------------------------------------------------------------------------------
// Shared by users and groups

function complexColumns(attribute: AttributeDef, alias: string, columns: Record<string, string>): Target {
  const sub = (def: AttributeDef, text: string): Scalar => {
    const col = columns[def.name];
    return col ? scalarColumn(alias, col, def) : unsupported(text);
  };
  const defs = (attribute.subAttributes ?? []).filter((d) => columns[d.name]);
  return { kind: 'complex', attribute, sub, present: or(defs.map((d) => present(sub(d, d.name)))) };
}

function metaTarget(attribute: AttributeDef, alias: string, resourceType: string): Target {
  const sub = (def: AttributeDef, text: string): Scalar => {
    switch (def.name) {
      case 'created':
        return scalarColumn(alias, 'created_at', def, { nullable: false, utc: true });
      case 'lastModified':
        return scalarColumn(alias, 'updated_at', def, { nullable: false, utc: true });
      case 'resourceType':
        return { sql: sql`${resourceType}::text`, def, nullable: false };
      case 'version':
        return { sql: sql`('W/"' || ${raw(alias)}.version::text || '"')`, def, nullable: false };
      default:
        return unsupported(text); // meta.location depends on the public base URL, which the store does not know
    }
  };
  return { kind: 'complex', attribute, sub, present: TRUE };
}

function target(rt: ResourceTypeDef, resolved: ResolvedPath, text: string): Target {
  const t = rt.name === 'User' ? userTarget(rt, resolved, text) : groupTarget(rt, resolved, text);
  if (!resolved.subAttribute || t.kind !== 'complex') return t;
  return { kind: 'scalar', scalar: t.sub(resolved.subAttribute, text) };
}

const OPS: Record<'eq' | 'gt' | 'ge' | 'lt' | 'le', string> = { eq: '=', gt: '>', ge: '>=', lt: '<', le: '<=' };

/** `pr` on one value: not NULL, and not '' for strings. */
function present(s: Scalar): Sql {
  const isText = !s.uuid && (s.def.type === 'string' || s.def.type === 'reference' || s.def.type === 'binary');
  if (isText) return s.nullable ? sql`(${s.sql} IS NOT NULL AND ${s.sql} <> '')` : sql`${s.sql} <> ''`;
  return s.nullable ? sql`(${s.sql} IS NOT NULL)` : TRUE;
}

/** `s op operand`, TRUE or FALSE (never NULL). */
function compare(s: Scalar, op: CompareOp, operand: Operand | null): Sql {
  if (operand === null) return op === 'eq' ? not(present(s)) : present(s);
  if (op === 'ne') return not(compare(s, 'eq', operand));
  if (s.domain && operand.type === 'string' && (op === 'eq' || op === 'sw')) {
    // `userName eq "SECONDARY/bob"`: that domain, and the name without its prefix.
    const { domain, name } = splitDomain(operand.value);
    if (domain !== undefined) {
      return sql`(${s.domain} = ${domain}::text AND ${compare({ ...s, domain: undefined }, op, { type: 'string', value: name })})`;
    }
  }
  const cond = compareNonNull(s, op, operand);
  return s.nullable ? sql`(${s.sql} IS NOT NULL AND ${cond})` : cond;
}

function compareNonNull(s: Scalar, op: Exclude<CompareOp, 'ne'>, operand: Operand): Sql {
  switch (operand.type) {
    case 'boolean':
      return sql`${s.sql} = ${operand.value}::boolean`;
    case 'number':
      return sql`${s.sql} ${raw(OPS[op as keyof typeof OPS])} ${operand.value}::numeric`;
    case 'dateTime': {
      const instant = s.utc ? sql`(${operand.value}::timestamptz AT TIME ZONE 'UTC')` : sql`${operand.value}::timestamptz`;
      return sql`${s.sql} ${raw(OPS[op as keyof typeof OPS])} ${instant}`;
    }
    case 'string':
      return compareText(s, op, operand.value);
  }
}

/**
 * Text comparisons on a userName key column (user_name_normalized), with the value enforced as a userName is
 * (src/userstore/username.ts). eq: the whole profile, so `ＡＬＩＣＥ` finds alice (B-tree index) and a name the
 * profile refuses finds nobody. co, sw, ew and ordering: the profile's mappings alone (a part of a name need not be
 * a name), the LIKE forms served by pg_trgm; users waiting for a key of their own (placeholders,
 * src/userstore/username-conflicts.ts) are found by id only, never by name.
 */
function userNameKeyComparison(column: Sql): NonNullable<Scalar['textCompare']> {
  return (op, value) => {
    if (op === 'eq') {
      const enforced = checkUserName(value);
      return enforced.ok ? sql`${column} = ${enforced.key}::text` : FALSE;
    }
    const mapped = foldUserName(value);
    const escaped = sql`${escapeLike(mapped)}::text`;
    const named = sql`${column} NOT LIKE ${PLACEHOLDER_PATTERN}::text`;
    switch (op) {
      case 'co':
        return sql`(${named} AND ${column} LIKE '%' || ${escaped} || '%')`;
      case 'sw':
        return sql`(${named} AND ${column} LIKE ${escaped} || '%')`;
      case 'ew':
        return sql`(${named} AND ${column} LIKE '%' || ${escaped})`;
      default:
        return sql`(${named} AND ${column} COLLATE "C" ${raw(OPS[op])} ${mapped}::text)`;
    }
  };
}

function compareText(s: Scalar, op: Exclude<CompareOp, 'ne'>, value: string): Sql {
  if (s.textCompare) return s.textCompare(op, value);
  let lhs = s.sql;
  if (s.uuid) {
    const v = s.def.caseExact ? value : value.toLowerCase();
    // A uuid column compared with a non-UUID matches nothing (rather than failing the cast).
    if (op === 'eq') return UUID.test(v) ? sql`${s.sql} = ${v}::uuid` : FALSE;
    lhs = sql`${s.sql}::text`;
  }
  // caseExact false: lower() both sides; columns already lower-cased by the application compare with the value
  // lower-cased the same way (JavaScript's toLowerCase), so their indexes serve the comparison.
  let rhs: Sql;
  if (s.def.caseExact) rhs = sql`${value}::text`;
  else if (s.normalized) rhs = sql`${value.toLowerCase()}::text`;
  else {
    lhs = sql`lower(${lhs})`;
    rhs = sql`lower(${value}::text)`;
  }
  const escaped = (): Sql => {
    if (s.def.caseExact) return sql`${escapeLike(value)}::text`;
    if (s.normalized) return sql`${escapeLike(value.toLowerCase())}::text`;
    return sql`lower(${escapeLike(value)}::text)`;
  };
  switch (op) {
    case 'eq':
      return sql`${lhs} = ${rhs}`;
    case 'co':
      return sql`${lhs} LIKE '%' || ${escaped()} || '%'`;
    case 'sw':
      return sql`${lhs} LIKE ${escaped()} || '%'`;
    case 'ew':
      return sql`${lhs} LIKE '%' || ${escaped()}`;
    default:
      // Code-point order whatever the database's collation, the same as the in-memory evaluator.
      return sql`${lhs} COLLATE "C" ${raw(OPS[op])} ${rhs}`;
  }
}

type Scope = { kind: 'resource'; rt: ResourceTypeDef } | { kind: 'element'; parent: AttributeDef; sub: (def: AttributeDef, text: string) => Scalar };

function translate(filter: Filter, scope: Scope): Sql {
  switch (filter.kind) {
    case 'and':
    case 'or':
      return sql`(${join(filter.filters.map((f) => translate(f, scope)), filter.kind === 'and' ? ' AND ' : ' OR ')})`;
    case 'not':
      return not(translate(filter.filter, scope));
    case 'present':
    case 'compare': {
      const text = formatAttrPath(filter.path);
      if (scope.kind === 'element') {
        const def = resolveElementPath(scope.parent, filter.path);
        const s = scope.sub(def, text);
        return filter.kind === 'present' ? present(s) : compare(s, filter.op, compareOperand(def, filter.op, filter.value, text, filter.bare));
      }
      const resolved = resolveFilterPath(scope.rt, filter.path);
      const t = target(scope.rt, resolved, text);
      if (filter.kind === 'present') {
        if (t.kind === 'scalar') return present(t.scalar);
        if (t.kind === 'complex') return t.present;
        return exists(t.rows, resolved.subAttribute ? present(t.rows.sub(resolved.subAttribute, text)) : TRUE);
      }
      const def = comparedAttribute(resolved, text);
      const operand = compareOperand(def, filter.op, filter.value, text, filter.bare);
      if (t.kind === 'scalar') return compare(t.scalar, filter.op, operand);
      if (t.kind === 'complex') throw invalidFilter(`Attribute '${text}' is complex and cannot be compared`);
      const s = t.rows.sub(def, text);
      // Any value matches (RFC 7644 §3.4.2.2); ne and `eq null` are negations of "some value".
      if (operand === null) return filter.op === 'eq' ? not(exists(t.rows, present(s))) : exists(t.rows, present(s));
      if (filter.op === 'ne') return not(exists(t.rows, compare(s, 'eq', operand)));
      return exists(t.rows, compare(s, filter.op, operand));
    }
    case 'valuePath': {
      const text = formatAttrPath(filter.path);
      if (scope.kind === 'element') throw invalidFilter('Value filters cannot be nested');
      const resolved = resolveFilterPath(scope.rt, filter.path);
      if (resolved.subAttribute !== undefined) {
        throw invalidFilter(`A value filter applies to a multi-valued or complex attribute, not to the sub-attribute '${text}'`);
      }
      const t = target(scope.rt, resolved, text);
      if (t.kind === 'scalar') {
        throw invalidFilter(`A value filter applies to a multi-valued or complex attribute; '${text}' is a single ${resolved.attribute.type}`);
      }
      if (t.kind === 'complex') return translate(filter.filter, { kind: 'element', parent: t.attribute, sub: t.sub });
      // One EXISTS: every condition of the value filter holds for the same row.
      const rows = t.rows;
      return exists(rows, translate(filter.filter, { kind: 'element', parent: t.attribute, sub: rows.sub }));
    }
  }
}

/**
 * The WHERE condition for `filter` over `scim_user u JOIN user_store_domain d` (rt User) or
 * `scim_group g JOIN user_store_domain d` (rt Group). Throws ScimError 400 invalidFilter for unknown
 * attributes, type mismatches and unsupported attributes (meta.location, $ref).
 */
export function filterSql(rt: ResourceTypeDef, filter: Filter): Sql {
  return translate(filter, { kind: 'resource', rt });
}

/**
 * The ORDER BY expression for sortBy (RFC 7644 §3.4.2.3), without direction: strings lower-cased unless
 * caseExact, in code-point order; a multi-valued attribute sorts by its primary value, else its first. Resources
 * without a value sort last ascending and first descending (PostgreSQL's NULLS default, as the RFC asks). The
 * caller appends the direction and a tie-breaker (`, u.id`).
 * Throws ScimError 400 invalidValue for an unknown or unsortable attribute.
 */
export function sortSql(rt: ResourceTypeDef, sortBy: string): Sql {
  const path = parseAttrPath(sortBy, 'invalidValue');
  const text = formatAttrPath(path);
  const invalid = (why: string): ScimError => new ScimError(400, `Invalid sortBy '${sortBy}': ${why}`, 'invalidValue');
  let resolved: ResolvedPath;
  let t: Target;
  try {
    resolved = resolveFilterPath(rt, path, 'invalidValue');
    t = target(rt, resolved, text);
  } catch (error) {
    if (error instanceof ScimError && error.status === 400) throw invalid(error.detail);
    throw error;
  }
  const key = (s: Scalar): Sql => {
    const isText = s.def.type === 'string' || s.def.type === 'reference' || s.def.type === 'binary';
    if (s.uuid || !isText) return s.sql;
    return s.def.caseExact || s.normalized ? sql`${s.sql} COLLATE "C"` : sql`lower(${s.sql}) COLLATE "C"`;
  };
  if (t.kind === 'scalar') return key(t.scalar);
  if (t.kind === 'complex') throw invalid(`'${text}' is complex: sort by one of its sub-attributes`);
  const def = resolved.subAttribute ?? (t.attribute.type === 'complex' ? t.attribute.subAttributes && findAttribute(t.attribute.subAttributes, 'value') : { ...t.attribute, multiValued: false });
  if (!def) throw invalid(`'${text}' is complex: sort by one of its sub-attributes`);
  const s = t.rows.sub(def, text);
  return sql`(${t.rows.select(key(s), TRUE, sql`ORDER BY ${t.rows.order} LIMIT 1`)})`;
}
