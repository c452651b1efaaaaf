import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**', 'node_modules/**'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // 2-core machine: native sqlite3 work and CPU-bound metrics tests share it.
    pool: 'forks',
    reporters: ['default'],
  },
});
