import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**', 'node_modules/**'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // One real PostgreSQL server for the run (the store's PostgreSQL adapter and the team tests).
    globalSetup: ['test/support/pg-global-setup.ts'],
    // 2-core machine: native sqlite3 work and CPU-bound metrics tests share it.
    pool: 'forks',
    reporters: ['default'],
  },
});
