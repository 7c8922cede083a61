/**
 * Test projects:
 *   unit      - pure code and workflow tests (workflow tests run a real worker on a real Temporal dev server)
 *   embedded  - end-to-end tests: real api and worker processes over HTTP, embedded PostgreSQL (PGlite)
 *   postgres  - the same end-to-end tests on a real PostgreSQL, when TEST_DATABASE_URL is set (.ci/run sets it)
 * Every project shares one Temporal dev server started by test/global-setup.ts.
 */
import { defineConfig } from 'vitest/config';

const e2e = ['test/**/*.test.ts'];
const postgresUrl = process.env.TEST_DATABASE_URL;

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    // Two cores: end-to-end files start several processes each; run files one at a time.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'unit', include: ['src/**/*.test.ts', 'workflows/**/*.test.ts', 'activities/**/*.test.ts'] } },
      { extends: true, test: { name: 'embedded', include: e2e, env: { TEST_DATABASE: 'embedded' } } },
      ...(postgresUrl
        ? [{ extends: true as const, test: { name: 'postgres', include: e2e, env: { TEST_DATABASE: 'postgres', TEST_DATABASE_URL: postgresUrl } } }]
        : []),
    ],
  },
});
