/**
 * Query plans of the SQL that queryUserIds issues, on a real PostgreSQL with 100,000 users: `userName eq` must be
 * served by the user_name_normalized B-tree index and `emails.value co` by the pg_trgm GIN index, with no
 * sequential scan of scim_user or scim_user_email. The plans are printed so they can be quoted.
 *
 * Runs only in the `postgres` project (TEST_DATABASE_URL, as .ci/run sets it): PGlite's planner is the same code,
 * but a plan on 100,000 rows in WebAssembly says nothing more and takes long. It uses a database of its own,
 * created on the server and dropped at the end.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, Prisma, type PrismaClient } from '../src/db/client.js';
import { applyMigrations } from '../src/db/schema-engine.js';
import { parseFilter } from '../src/scim/filter.js';
import { userResourceType } from '../src/scim/schema-defs.js';
import { PROJECT_ROOT } from '../src/temporal/cli-binary.js';
import { buildUserQuery, queryUserIds } from '../src/userstore/query.js';

const serverUrl = process.env.TEST_DATABASE === 'postgres' ? process.env.TEST_DATABASE_URL : undefined;
const USERS = 100_000;
const rt = userResourceType();

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

describe.skipIf(!serverUrl)(
  serverUrl ? 'query plans on PostgreSQL (100,000 users)' : 'query plans (skipped: needs a real PostgreSQL, the postgres project with TEST_DATABASE_URL)',
  () => {
    const dbName = `filter_plan_${crypto.randomBytes(4).toString('hex')}`;
    let db: PrismaClient;

    async function admin(sql: string): Promise<void> {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(sql);
      } finally {
        await client.end();
      }
    }

    beforeAll(async () => {
      await admin(`CREATE DATABASE ${dbName}`);
      const url = new URL(serverUrl!);
      url.pathname = `/${dbName}`;
      await applyMigrations({ databaseUrl: url.toString(), migrationsDir: path.join(PROJECT_ROOT, 'prisma', 'migrations') });
      db = createPrismaClient(url.toString(), { poolSize: 2 });
      // Set-based: one statement per table.
      await db.$executeRaw`INSERT INTO user_store_domain (id, name) VALUES (gen_random_uuid(), 'PRIMARY')`;
      await db.$executeRaw`
        INSERT INTO scim_user (id, domain_id, user_name, user_name_normalized, display_name, active, updated_at, created_at)
        SELECT gen_random_uuid(), d.id, 'User' || i, 'user' || i, 'User number ' || i, i % 10 <> 0,
               timestamp '2026-01-01' + i * interval '1 second', timestamp '2026-01-01' + i * interval '1 second'
        FROM generate_series(1, ${USERS}::integer) AS i, user_store_domain d WHERE d.name = 'PRIMARY'`;
      await db.$executeRaw`
        INSERT INTO scim_user_email (id, user_id, value, value_normalized, type, "primary", position)
        SELECT gen_random_uuid(), u.id, u.user_name || '@Example.com', u.user_name_normalized || '@example.com', 'work', TRUE, 0
        FROM scim_user u`;
      await db.$executeRaw`
        INSERT INTO scim_user_email (id, user_id, value, value_normalized, type, "primary", position)
        SELECT gen_random_uuid(), u.id, u.user_name_normalized || '.home@mail.example', u.user_name_normalized || '.home@mail.example', 'home', FALSE, 1
        FROM scim_user u WHERE u.active`;
      await db.$executeRawUnsafe('ANALYZE');
    }, 300_000);

    afterAll(async () => {
      await db?.$disconnect();
      await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    }, 60_000);

    async function explain(statement: Prisma.Sql, label: string): Promise<PlanNode[]> {
      // The statement queryUserIds runs, through the same client and parameter binding.
      const [json] = await db.$queryRaw<{ 'QUERY PLAN': [{ Plan: PlanNode }] }[]>(Prisma.sql`EXPLAIN (FORMAT JSON) ${statement}`);
      const text = await db.$queryRaw<{ 'QUERY PLAN': string }[]>(Prisma.sql`EXPLAIN ${statement}`);
      console.log(`\n-- ${label}\n${statement.text}\n-- parameters: ${JSON.stringify(statement.values)}\n${text.map((r) => r['QUERY PLAN']).join('\n')}`);
      return nodes(json!['QUERY PLAN'][0].Plan);
    }

    function expectIndexed(plan: PlanNode[], table: string, indexes: string[]): void {
      const scans = plan.filter((n) => n['Relation Name'] === table || (n['Index Name'] !== undefined && indexes.includes(n['Index Name'])));
      expect(scans.filter((n) => n['Node Type'] === 'Seq Scan')).toEqual([]);
      const used = scans.filter((n) => /Index Scan|Index Only Scan/.test(n['Node Type'])).map((n) => n['Index Name']);
      expect(used.some((name) => name !== undefined && indexes.includes(name)), `index used on ${table}: ${JSON.stringify(used)}`).toBe(true);
    }

    function expectNoSeqScan(plan: PlanNode[], tables: string[]): void {
      expect(plan.filter((n) => n['Node Type'] === 'Seq Scan' && tables.includes(n['Relation Name'] ?? ''))).toEqual([]);
    }

    it('userName eq "user54321": the user_name_normalized B-tree index', async () => {
      const q = { rt, filter: parseFilter('userName eq "user54321"'), startIndex: 1, count: 100 };
      const { count, page } = buildUserQuery(q);
      for (const [statement, label] of [
        [count, 'count, userName eq'],
        [page!, 'page, userName eq'],
      ] as const) {
        const plan = await explain(statement, label);
        expectIndexed(plan, 'scim_user', ['scim_user_user_name_normalized_idx', 'scim_user_domain_id_user_name_normalized_key']);
        expectNoSeqScan(plan, ['scim_user', 'scim_user_email']);
      }
      const result = await queryUserIds(db, q);
      expect(result.total).toBe(1);
      expect(result.ids).toHaveLength(1);
    });

    it('userName co "ER5432" (mapped like a userName): the pg_trgm GIN index on user_name_normalized', async () => {
      const q = { rt, filter: parseFilter('userName co "ER5432"'), startIndex: 1, count: 100 };
      const { count, page } = buildUserQuery(q);
      for (const [statement, label] of [
        [count, 'count, userName co'],
        [page!, 'page, userName co'],
      ] as const) {
        const plan = await explain(statement, label);
        expectIndexed(plan, 'scim_user', ['scim_user_user_name_trgm_idx']);
        expectNoSeqScan(plan, ['scim_user']);
      }
      // user5432, user54320..user54329 and user15432x..user95432x
      const result = await queryUserIds(db, q);
      expect(result.total).toBeGreaterThan(10);
    });

    it('emails.value co "54321@": the pg_trgm GIN index on scim_user_email', async () => {
      const q = { rt, filter: parseFilter('emails.value co "54321@"'), startIndex: 1, count: 100 };
      const { count, page } = buildUserQuery(q);
      for (const [statement, label] of [
        [count, 'count, emails.value co'],
        [page!, 'page, emails.value co'],
      ] as const) {
        const plan = await explain(statement, label);
        expectIndexed(plan, 'scim_user_email', ['scim_user_email_value_trgm_idx']);
        expectIndexed(plan, 'scim_user', ['scim_user_pkey']);
        expectNoSeqScan(plan, ['scim_user', 'scim_user_email']);
      }
      // user54321@example.com only (user154321 and up do not exist)
      const result = await queryUserIds(db, q);
      expect(result.total).toBe(1);
    });

    it('a keyset cursor deep in the default order: the (created_at, id) index, no sort of the whole table', async () => {
      const [last] = await db.$queryRaw<{ id: string; created_at: Date }[]>`SELECT id, created_at FROM scim_user WHERE user_name_normalized = 'user90000'`;
      const q = { rt, startIndex: 1, count: 100, after: { created: last!.created_at, id: last!.id } };
      // The count of an unfiltered list reads the whole table by nature; the page must not.
      const plan = await explain(buildUserQuery(q).page!, 'page after user90000, no filter');
      expectIndexed(plan, 'scim_user', ['scim_user_created_at_id_idx']);
      expectNoSeqScan(plan, ['scim_user']);
      const result = await queryUserIds(db, q);
      expect(result.total).toBe(USERS);
      expect(result.ids).toHaveLength(100);
    });
  },
);
