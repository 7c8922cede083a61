/**
 * Test projects:
 *   unit      - pure code and workflow tests (workflow tests run a real worker on a real Temporal dev server)
 *   embedded  - end-to-end tests: real api and worker processes over HTTP, embedded PostgreSQL (PGlite)
 *   postgres  - the same end-to-end tests on a real PostgreSQL, when TEST_DATABASE_URL is set (.ci/run sets it)
 * Every project shares one Temporal dev server started by test/global-setup.ts.
 *
 * Files run in parallel, TEST_WORKERS at a time (3 by default): on the project's 2-core machines an end-to-end file
 * spends most of its time waiting on its processes, Temporal and timers, so three at once finish the suite in about
 * half the time without starving any (each file has its own instances, task queues and databases; ports are free
 * ones).
 *
 * The postgres project runs the files whose outcome can depend on the database: what the store, filters, migrations,
 * locks and the outbound bookkeeping do in SQL. Files that exercise a connector's protocol, a browser, the launcher
 * (which runs its own embedded PostgreSQL) or a third-party checker do the same on either database, so only the
 * embedded project, which runs every file, runs them.
 */
import { defineConfig } from 'vitest/config';

const e2e = ['test/**/*.test.ts'];
/** End-to-end files whose outcome does not depend on the database (see above): the embedded project runs them. */
const embeddedOnly = [
  'test/launcher-supervision.test.ts',
  'test/operator-ui.test.ts',
  'test/scim2-tester.test.ts',
  'test/connector-plugin.test.ts',
  'test/outbound-google.test.ts',
  'test/outbound-salesforce.test.ts',
  'test/outbound-spml.test.ts',
  'test/outbound-scim11.test.ts',
  'test/outbound-scim2-auth.test.ts',
  'test/outbound-third-party-scim.test.ts',
  'test/oidc-test-idps.test.ts',
  'test/federation-browser.test.ts',
];
/** End-to-end files that need a PostgreSQL server (a real Temporal cluster on it): the postgres project alone runs them. */
const postgresOnly = ['test/production-mode.test.ts'];
const postgresUrl = process.env.TEST_DATABASE_URL;

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    fileParallelism: true,
    maxWorkers: Number(process.env.TEST_WORKERS ?? 3),
    testTimeout: 120_000,
    hookTimeout: 180_000,
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'unit', include: ['src/**/*.test.ts', 'workflows/**/*.test.ts', 'activities/**/*.test.ts'] } },
      { extends: true, test: { name: 'embedded', include: e2e, exclude: postgresOnly, env: { TEST_DATABASE: 'embedded' } } },
      ...(postgresUrl
        ? [{ extends: true as const, test: { name: 'postgres', include: e2e, exclude: embeddedOnly, env: { TEST_DATABASE: 'postgres', TEST_DATABASE_URL: postgresUrl } } }]
        : []),
    ],
  },
});
