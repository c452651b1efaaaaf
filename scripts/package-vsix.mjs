// `npm run package`: builds and packages a platform-specific VSIX (default linux-x64).
// Other targets: VSCE_TARGET=darwin-arm64|darwin-x64|win32-x64|linux-arm64 npm run package, on a
// machine of that platform (sqlite3 is compiled there) and with .vscodeignore's onnxruntime-node
// line changed to that platform's bin/napi-v6/<os>/<arch> folder.
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';

const target = process.env.VSCE_TARGET || 'linux-x64';
const root = resolve(import.meta.dirname, '..');
const pkg = JSON.parse(await (await import('node:fs/promises')).readFile(resolve(root, 'package.json'), 'utf8'));
const out = resolve(root, process.env.VSIX_OUT || `${pkg.name}-${target}-${pkg.version}.vsix`);
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });

run(process.execPath, ['scripts/build.mjs']);
run(process.execPath, [
  resolve(root, 'node_modules/@vscode/vsce/vsce'),
  'package',
  '--target',
  target,
  '--out',
  out,
  '--skip-license',
  '--allow-missing-repository',
  '--allow-star-activation',
  '--no-rewrite-relative-links',
]);
const listing = execFileSync('unzip', ['-Z1', out], { encoding: 'utf8' }).split('\n');
const natives = listing.filter((f) => /\.(node|so(\.\d+)*|dll|dylib)$/.test(f));
const foreign = natives.filter((f) => /darwin|win32|arm64/.test(f));
if (foreign.length) throw new Error(`VSIX holds native files of other platforms: ${foreign.join(', ')}`);
for (const needed of [
  'extension/dist/extension.js',
  'extension/dist/webview/workbench.js',
  'extension/node_modules/@libsql/linux-x64-gnu/index.node',
]) {
  if (!listing.includes(needed)) throw new Error(`VSIX lacks ${needed}`);
}
console.log(`native modules (${target}): ${natives.map((f) => f.replace(/^extension\//, '')).join(', ')}`);
console.log(
  `VSIX: ${out} (${(statSync(out).size / 1024 / 1024).toFixed(1)} MB, ${listing.filter(Boolean).length} files)`,
);
