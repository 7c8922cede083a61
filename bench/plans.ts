/**
 * EXPLAIN's verdict on the bench's own list queries, on the database the source instance uses (PGlite or
 * PostgreSQL), after the seed: the statements the list handler runs (src/userstore/query.ts buildUserQuery, the
 * count and the page), through the same Prisma client and parameter binding, as test/filter-plan.test.ts checks
 * them. A filter on an indexed attribute is served by an index when no sequential scan of scim_user or
 * scim_user_email is in its plan and an index of the filtered table is. The unfiltered page's count reads the whole
 * table by nature: reported, not judged.
 */
import { createPrismaClient, Prisma } from '../src/db/client.js';
import { parseFilter } from '../src/scim/filter.js';
import { userResourceType } from '../src/scim/schema-defs.js';
import { buildUserQuery } from '../src/userstore/query.js';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

const nodes = (plan: PlanNode): PlanNode[] => [plan, ...(plan.Plans ?? []).flatMap(nodes)];

export interface PlanVerdict {
  query: string;
  statement: 'count' | 'page';
  /** The scans of the plan, e.g. "Bitmap Index Scan scim_user_email_value_trgm_idx, Index Scan scim_user_pkey". */
  scans: string;
  /** Undefined: not judged (the unfiltered count). */
  indexed: boolean | undefined;
}

const TABLES = ['scim_user', 'scim_user_email'];

/** `queries`: SCIM filters (undefined = the unfiltered list), each with the table its attribute lives in. */
export async function explainQueries(databaseUrl: string, queries: { filter: string | undefined; table: string }[]): Promise<PlanVerdict[]> {
  const db = createPrismaClient(databaseUrl, { poolSize: 1 });
  const rt = userResourceType();
  const verdicts: PlanVerdict[] = [];
  try {
    const indexes = await db.$queryRaw<{ indexname: string; tablename: string }[]>(Prisma.sql`SELECT indexname, tablename FROM pg_indexes WHERE tablename = ANY(${TABLES})`);
    const tableOf = new Map(indexes.map((i) => [i.indexname, i.tablename]));
    for (const q of queries) {
      const statements = buildUserQuery({ rt, filter: q.filter === undefined ? undefined : parseFilter(q.filter), startIndex: 1, count: 100 });
      for (const [statement, sql] of [
        ['count', statements.count],
        ['page', statements.page!],
      ] as const) {
        const [json] = await db.$queryRaw<{ 'QUERY PLAN': [{ Plan: PlanNode }] }[]>(Prisma.sql`EXPLAIN (FORMAT JSON) ${sql}`);
        const plan = nodes(json!['QUERY PLAN'][0].Plan);
        const scans = plan.filter((n) => /Scan/.test(n['Node Type']));
        const seq = scans.some((n) => n['Node Type'] === 'Seq Scan' && TABLES.includes(n['Relation Name'] ?? ''));
        const onTable = scans.some((n) => /Index/.test(n['Node Type']) && n['Index Name'] !== undefined && tableOf.get(n['Index Name']) === q.table);
        verdicts.push({
          query: q.filter ?? '(no filter)',
          statement,
          scans: scans.map((n) => `${n['Node Type']} ${n['Index Name'] ?? n['Relation Name'] ?? ''}`.trim()).join(', '),
          indexed: q.filter === undefined && statement === 'count' ? undefined : !seq && (q.filter === undefined || onTable),
        });
      }
    }
    return verdicts;
  } finally {
    await db.$disconnect();
  }
}
