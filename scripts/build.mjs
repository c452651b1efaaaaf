// Bundles the extension host, the CLI and the webview with esbuild. Native modules stay external.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const common = { bundle: true, sourcemap: true, logLevel: 'warning', minify: false };
const external = ['vscode', 'sqlite3', 'onnxruntime-node'];

const targets = [
  { entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', platform: 'node', format: 'cjs', target: 'node20', external },
  { entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', platform: 'node', format: 'cjs', target: 'node20', external },
];
for (const [entry, outfile] of [['src/judges/worker.ts', 'dist/judge-worker.js']]) {
  if (existsSync(entry)) targets.push({ entryPoints: [entry], outfile, platform: 'node', format: 'cjs', target: 'node20', external });
}
for (const [entry, outfile] of [['webview/workbench/main.ts', 'dist/webview/workbench.js'], ['webview/dashboard/main.ts', 'dist/webview/dashboard.js']]) {
  // webview bundles are minified: they load (and parse) on every open of a panel
  if (existsSync(entry)) targets.push({ entryPoints: [entry], outfile, platform: 'browser', format: 'iife', target: 'es2022', minify: true });
}
await Promise.all(targets.map((t) => build({ ...common, ...t })));
if (watch) console.log('watch mode is not implemented; rerun npm run build');
