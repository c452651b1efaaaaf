// `npm run bench`: bundles each bench/*.ts with esbuild and runs its exported run*Bench(log).
// Figures only; nothing here is a test. Pass names to run a subset: npm run bench -- import metrics
import { build } from 'esbuild';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const outDir = join(root, '.tmp', 'bench');
mkdirSync(outDir, { recursive: true });
const wanted = process.argv.slice(2);
const order = [
  'import',
  'import-parquet',
  'import-postgres',
  'team',
  'import-limits',
  'metrics-hh',
  'metrics',
  'consistency',
  'report',
  'export',
  'judges',
  'engines',
];
const names = readdirSync(join(root, 'bench'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
  .filter((n) => wanted.length === 0 || wanted.includes(n))
  .sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99));
const require = createRequire(import.meta.url);
console.log(
  `Discretion Workbench benchmarks, ${new Date().toISOString()}, node ${process.version}, ${(await import('node:os')).cpus().length} cores`,
);
for (const name of names) {
  const outfile = join(outDir, `${name}.cjs`);
  await build({
    entryPoints: [join(root, 'bench', `${name}.ts`)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // parquet-wasm loads its .wasm file from beside its own module
    external: ['libsql', 'onnxruntime-node', 'vscode', 'playwright-core', 'esbuild', 'parquet-wasm'],
    logLevel: 'warning',
  });
  const mod = require(outfile);
  const fn = Object.entries(mod).find(([k, v]) => /^run\w*Bench$/.test(k) && typeof v === 'function');
  if (!fn) {
    console.log(`\n(${name}: no run*Bench export)`);
    continue;
  }
  console.log('');
  // a bench whose own check fails (the team bench's audit) returns false: the run exits non-zero
  if ((await fn[1]((line) => console.log(line))) === false) process.exitCode = 1;
}
if (!existsSync(join(root, 'dist', 'cli.js'))) console.log('\nnote: dist/ is missing; run npm run build first');
