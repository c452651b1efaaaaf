// Bundles the extension host, the CLI, the judge worker and the webviews with esbuild. Native modules stay external.
// `node scripts/build.mjs --watch` (npm run watch) keeps one esbuild context per bundle and rebuilds on change;
// it prints "[watch] build started" / "[watch] build finished" and errors as "file:line:column: error: text",
// the lines .vscode/tasks.json's problem matcher reads.
import { build, context } from 'esbuild';
import { existsSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const common = { bundle: true, sourcemap: true, logLevel: 'warning', minify: false };
const external = ['vscode', 'libsql', 'onnxruntime-node'];

const targets = [
  {
    entryPoints: ['src/extension/extension.ts'],
    outfile: 'dist/extension.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external,
  },
  {
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/cli.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external,
  },
];
for (const [entry, outfile] of [['src/judges/worker.ts', 'dist/judge-worker.js']]) {
  if (existsSync(entry))
    targets.push({ entryPoints: [entry], outfile, platform: 'node', format: 'cjs', target: 'node20', external });
}
for (const [entry, outfile] of [
  ['webview/workbench/main.ts', 'dist/webview/workbench.js'],
  ['webview/dashboard/main.ts', 'dist/webview/dashboard.js'],
  ['webview/review/main.ts', 'dist/webview/review.js'],
]) {
  // webview bundles are minified: they load (and parse) on every open of a panel
  if (existsSync(entry))
    targets.push({
      entryPoints: [entry],
      outfile,
      platform: 'browser',
      format: 'iife',
      target: 'es2022',
      minify: true,
    });
}

if (!watch) {
  await Promise.all(targets.map((t) => build({ ...common, ...t })));
} else {
  // One line per rebuild of any bundle, counted so that the first "finished" comes after every bundle's first build.
  let running = 0;
  let errors = new Set(); // one line per error: several bundles share a source file
  const reporter = {
    name: 'watch-reporter',
    setup(b) {
      b.onStart(() => {
        if (running++ === 0) {
          errors = new Set();
          console.log('[watch] build started');
        }
      });
      b.onEnd((result) => {
        for (const { text, location } of result.errors) {
          const line = location
            ? `${location.file}:${location.line}:${location.column + 1}: error: ${text}`
            : `error: ${text}`;
          if (!errors.has(line)) console.error(line);
          errors.add(line);
        }
        if (--running === 0) console.log(`[watch] build finished${errors.size ? ` with ${errors.size} error(s)` : ''}`);
      });
    },
  };
  // esbuild prints the errors itself too at logLevel 'warning'; keep only ours (one line each, for the matcher).
  const contexts = await Promise.all(
    targets.map((t) => context({ ...common, ...t, logLevel: 'silent', plugins: [reporter] })),
  );
  await Promise.all(contexts.map((c) => c.watch()));
  console.log(`[watch] watching ${targets.length} bundles (${targets.map((t) => t.outfile).join(', ')}); Ctrl+C stops`);
  const stop = async () => {
    await Promise.all(contexts.map((c) => c.dispose()));
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
