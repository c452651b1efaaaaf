// The test PostgreSQL server for the e2e scripts (plain Node .mjs): test/support/postgres.ts, the one place
// that starts a PostgreSQL for tests (vitest's global setup uses it too), bundled with esbuild into .tmp/ as
// scripts/bench.mjs bundles the benchmarks, then imported.
import { build, stop } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname, '..', '..');

/** startPostgres() of test/support/postgres.ts: { url (with the password), host, port, user, password, createDatabase(name), stop() }. */
export async function startPostgres() {
  const outDir = join(root, '.tmp', 'e2e');
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, 'postgres.mjs');
  await build({
    entryPoints: [join(root, 'test', 'support', 'postgres.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
  await stop(); // esbuild's service process: not left running beside the suite (its end checks for leftovers)
  const mod = await import(pathToFileURL(outfile).href);
  return mod.startPostgres();
}
