/**
 * List queries for GET /Users and /Groups (RFC 7644 §3.4.2): filter, sort and page in the database, returning
 * the total and the ids of one page in order. The list handlers load those rows with Prisma afterwards and keep
 * this order.
 *
 * Paging is by index (startIndex, 1-based, RFC 7644 §3.4.2.4) or, for the default order, by keyset: `after`
 * (the created time and id of the last resource of the previous page) continues with `(created_at, id) > after`,
 * which the (created_at, id) index serves however deep the page.
 */
import type { PrismaClient } from '../db/client.js';
import { Prisma } from '../generated/prisma/client.js';
import { ScimError } from '../scim/errors.js';
import type { Filter } from '../scim/filter-ast.js';
import type { ResourceTypeDef } from '../scim/schema-defs.js';
import { filterSql, sortSql } from './filter-sql.js';

const { sql, raw } = Prisma;

export interface ListQuery {
  filter?: Filter | undefined;
  rt: ResourceTypeDef;
  /** An attribute path (RFC 7644 §3.4.2.3); default: creation order. */
  sortBy?: string | undefined;
  sortOrder?: 'ascending' | 'descending' | undefined;
  /** 1-based; values below 1 count as 1 (RFC 7644 §3.4.2.4). With `after`, counted from the cursor. */
  startIndex: number;
  /** Page size; 0 returns only the total (RFC 7644 §3.4.2.4). */
  count: number;
  /** Keyset cursor: continue after this resource, in the default order only (no sortBy). */
  after?: { created: Date; id: string } | undefined;
  /** Only resources of this user store domain (a caller restricted to its domain, src/scim/service.ts). */
  domain?: string | undefined;
}

export interface ListStatements {
  /** `SELECT count(*)::integer AS total ...` over the filter (the cursor does not reduce the total). */
  count: Prisma.Sql;
  /** `SELECT <alias>.id ... ORDER BY ... LIMIT ... OFFSET ...`; undefined when count is 0. */
  page: Prisma.Sql | undefined;
}

export interface ListResult {
  total: number;
  ids: string[];
}

/** Anything with $queryRaw: the client or an interactive transaction's client. */
export type RawQueryClient = Pick<PrismaClient, '$queryRaw'>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const TABLES = {
  User: { from: sql`scim_user u JOIN user_store_domain d ON d.id = u.domain_id`, alias: 'u' },
  Group: { from: sql`scim_group g JOIN user_store_domain d ON d.id = g.domain_id`, alias: 'g' },
} as const;

function buildListStatements(q: ListQuery): ListStatements {
  const { from, alias } = TABLES[q.rt.name];
  const filtered = q.filter ? filterSql(q.rt, q.filter) : sql`TRUE`;
  const where = q.domain === undefined ? filtered : sql`(${filtered}) AND d.name = ${q.domain}`;
  const count = sql`SELECT count(*)::integer AS total FROM ${from} WHERE ${where}`;
  const size = Math.max(0, Math.floor(q.count));
  if (size === 0) return { count, page: undefined };

  const descending = q.sortOrder === 'descending';
  const dir = raw(descending ? 'DESC' : 'ASC');
  const a = (col: string) => raw(`${alias}.${col}`);
  let conditions = where;
  if (q.after) {
    if (q.sortBy !== undefined) throw new ScimError(400, 'A paging cursor cannot be combined with sortBy', 'invalidValue');
    if (!UUID.test(q.after.id) || Number.isNaN(q.after.created.getTime())) {
      throw new ScimError(400, 'Invalid paging cursor', 'invalidValue');
    }
    // created_at is a timestamp without time zone holding UTC (Prisma DateTime).
    const created = sql`(${q.after.created.toISOString()}::timestamptz AT TIME ZONE 'UTC')`;
    const keyset = sql`(${a('created_at')}, ${a('id')}) ${raw(descending ? '<' : '>')} (${created}, ${q.after.id.toLowerCase()}::uuid)`;
    conditions = q.filter ? sql`${where} AND ${keyset}` : keyset;
  }
  const order =
    q.sortBy === undefined
      ? sql`${a('created_at')} ${dir}, ${a('id')} ${dir}`
      : sql`${sortSql(q.rt, q.sortBy)} ${dir}, ${a('id')} ${dir}`;
  const offset = Math.max(1, Math.floor(q.startIndex)) - 1;
  const page = sql`SELECT ${a('id')} AS id FROM ${from} WHERE ${conditions} ORDER BY ${order} LIMIT ${size} OFFSET ${offset}`;
  return { count, page };
}

/** The statements queryUserIds runs (exported so tests can EXPLAIN exactly them). */
export function buildUserQuery(q: ListQuery): ListStatements {
  if (q.rt.name !== 'User') throw new Error(`buildUserQuery needs the User resource type, not ${q.rt.name}`);
  return buildListStatements(q);
}

/** The statements queryGroupIds runs. */
export function buildGroupQuery(q: ListQuery): ListStatements {
  if (q.rt.name !== 'Group') throw new Error(`buildGroupQuery needs the Group resource type, not ${q.rt.name}`);
  return buildListStatements(q);
}

/**
 * The total and the page in one round trip: both statements as sub-selects of one SELECT, each keeping its own plan
 * (an InitPlan each: the count is not a window over the page, which would read every matching row for an unfiltered
 * first page). ARRAY(...) keeps the page's ORDER BY.
 */
async function run(db: RawQueryClient, statements: ListStatements): Promise<ListResult> {
  if (!statements.page) {
    const [counted] = await db.$queryRaw<{ total: number }[]>(statements.count);
    return { total: counted?.total ?? 0, ids: [] };
  }
  const [row] = await db.$queryRaw<{ total: number; ids: string[] }[]>(sql`SELECT (${statements.count}) AS total, ARRAY(${statements.page})::text[] AS ids`);
  return { total: row?.total ?? 0, ids: row?.ids ?? [] };
}

/**
 * The total number of users matching `filter` and the ids of the requested page, in order.
 * Throws ScimError 400 (invalidFilter, invalidValue) for a bad filter, sortBy or cursor.
 *
 * @example
 *   const { total, ids } = await queryUserIds(db, { rt: userResourceType(), filter: parseFilter('title pr'), startIndex: 1, count: 50 });
 */
export function queryUserIds(db: RawQueryClient, q: ListQuery): Promise<ListResult> {
  return run(db, buildUserQuery(q));
}

/** queryUserIds for groups. */
export function queryGroupIds(db: RawQueryClient, q: ListQuery): Promise<ListResult> {
  return run(db, buildGroupQuery(q));
}
