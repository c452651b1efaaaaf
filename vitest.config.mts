import { defineConfig } from 'vitest/config';

// The team suites, the workbench by claims and the HH reproduction, run a second time through PgBouncer in transaction mode (the
// `pgbouncer` project; test/support/pg-global-setup.ts puts the pooler in front of its server), and the tests of
// the pooler itself, which run only there.
const THROUGH_PGBOUNCER = [
  'test/store/contract.test.ts',
  'test/store/team-security.test.ts',
  'test/cli/team.test.ts',
  'test/cli/team-roles.test.ts',
  'test/cli/team-security.test.ts',
  'test/cli/hh-postgres.test.ts',
  'test/app/workbench/session-team.test.ts',
  'test/store/pgbouncer.test.ts',
];

export default defineConfig({
  test: {
    exclude: ['test/e2e/**', 'node_modules/**'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // dist/ built from the sources as they are (the CLI tests run it), then one real PostgreSQL server for the
    // run (the store's PostgreSQL adapter and the team tests); each project has its own server.
    globalSetup: ['test/support/build-global-setup.ts', 'test/support/pg-global-setup.ts'],
    // 2-core machine: native sqlite3 work and CPU-bound metrics tests share it.
    pool: 'forks',
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'main',
          include: ['test/**/*.test.ts'],
          exclude: ['test/e2e/**', 'node_modules/**', 'test/store/pgbouncer.test.ts'],
        },
      },
      { extends: true, test: { name: 'pgbouncer', include: THROUGH_PGBOUNCER } },
    ],
  },
});
