import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**', 'node_modules/**'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // dist/ built from the sources as they are (the CLI tests run it), then one real PostgreSQL server for the
    // run (the store's PostgreSQL adapter and the team tests).
    globalSetup: ['test/support/build-global-setup.ts', 'test/support/pg-global-setup.ts'],
    // 2-core machine: native sqlite3 work and CPU-bound metrics tests share it.
    pool: 'forks',
    reporters: ['default'],
  },
});
