// `npm run package`: builds and packages a platform-specific VSIX for this machine's platform (linux-x64 here).
// `VSCE_TARGET=<target> npm run package`: the VSIX of another target, made on this machine: win32-x64,
// darwin-arm64, linux-x64, linux-arm64 (a target whose natives do not all exist is refused with the reason:
// darwin-x64, win32-arm64, linux-armhf, alpine-*, web). `npm run package:all` (--all): every target that can be made.
// VSIX_OUT=<file> names the output (one target only); VSIX_KEEP_STAGING=1 keeps the staging folder.
//
// Each VSIX is packed from its own staging folder, so that nothing of this machine's platform leaks into another
// target's VSIX: package.json, README.md, LICENSE*/CHANGELOG.md, dist/ (no source maps), media/, bin/, and a
// dist/node_modules/ holding only what the bundles load at run time (esbuild bundles everything else into dist/):
// - libsql (its .js files) with the @neon-rs/load and detect-libc it resolves, and the target's @libsql/<target>
//   package, fetched from the npm registry at the version package-lock.json pins and checked against the
//   lockfile's sha512 integrity (refused on a mismatch);
// - onnxruntime-node (dist/*.js and bin/napi-v6/<os>/<arch> only) and onnxruntime-common (dist/cjs).
// Why dist/node_modules: `vsce package --no-dependencies` leaves the top node_modules/ out of the VSIX altogether
// (vsce's collectAllFiles globs with ignore 'node_modules/**'), and without that flag vsce runs
// `npm list --production` in the folder, which fails on every dependency esbuild inlined and on onnxruntime-node's
// install-only ones (adm-zip, global-agent). Node finds dist/node_modules first from dist/extension.js, dist/cli.js
// and dist/judge-worker.js (the only files that require libsql and onnxruntime-node), so no package's manifest is
// edited; the staged package.json only lacks "files" (npm pack's list for the CLI tarball: vsce refuses a folder
// that has both a "files" list and a .vscodeignore).
// Then: the header of every native file (scripts/natives.mjs) must be of the target's platform and architecture,
// in the staging folder and again in the VSIX; `vsce ls` must list only the files allowed below.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import {
  checkNatives,
  folderNatives,
  RUNTIME_DIR,
  TARGETS,
  vsixNatives,
  zipEntries,
  zipEntryHead,
} from './natives.mjs';

const root = resolve(import.meta.dirname, '..');
const all = process.argv.includes('--all');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
const vsce = join(root, 'node_modules/@vscode/vsce/vsce');
const hostTarget = `${process.platform}-${process.arch}`;
const mb = (bytes) => (bytes / 1024 / 1024).toFixed(1);

/** Paths (relative to the extension folder) a VSIX may hold; `vsce ls` and the VSIX are checked against it. */
const ALLOWED = [
  /^package\.json$/,
  /^README\.md$/,
  /^LICENSE[^/]*$/,
  /^CHANGELOG\.md$/,
  /^dist\/[^/]+\.js$/,
  /^dist\/webview\/[^/]+\.(js|css)$/,
  /^media\/(?!.*\.map$).+$/,
  /^bin\/[^/]+\.js$/,
  /^dist\/node_modules\/libsql\/(package\.json|[^/]+\.js)$/,
  /^dist\/node_modules\/(libsql\/node_modules\/)?detect-libc\/(package\.json|lib\/[^/]+\.js)$/,
  /^dist\/node_modules\/@neon-rs\/load\/(package\.json|dist\/[^/]+\.js)$/,
  /^dist\/node_modules\/@libsql\/[^/]+\/(package\.json|index\.node)$/,
  /^dist\/node_modules\/onnxruntime-node\/(package\.json|dist\/[^/]+\.js|bin\/napi-v6\/[^/]+\/[^/]+\/[^/]+)$/,
  /^dist\/node_modules\/onnxruntime-common\/(package\.json|dist\/cjs\/.+\.(js|json))$/,
];

/** Why no VSIX can be made for the target from this checkout, or undefined when one can. */
function refusal(target) {
  const t = TARGETS[target];
  if (!t) return `not a vsce target (${Object.keys(TARGETS).join(', ')})`;
  if (t.refused) return t.refused;
  const locked = lock.packages[`node_modules/${t.libsql}`];
  if (!locked?.integrity) return `package-lock.json pins no ${t.libsql} (with an integrity)`;
  const ort = JSON.parse(readFileSync(join(root, 'node_modules/onnxruntime-node/package.json'), 'utf8')).version;
  const bin = `node_modules/onnxruntime-node/bin/napi-v6/${t.os}/${t.arch}`;
  if (!existsSync(join(root, bin, 'onnxruntime_binding.node')))
    return `onnxruntime-node ${ort} ships no ${t.os}/${t.arch} binary (${bin} is missing), though ${t.libsql} ${locked.version} exists`;
  return undefined;
}

/** The folder a package resolves to from another package's folder (Node's node_modules lookup, walking up). */
function resolvePackage(name, fromDir) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir || !dir.startsWith(root)) throw new Error(`${name} does not resolve from ${fromDir}`);
  }
}

/** Copies the files under src that keep(relative path) accepts to dst, keeping their relative paths. */
function copyTree(src, dst, keep) {
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      const rel = relative(src, full).split(sep).join('/');
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && keep(rel)) {
        mkdirSync(dirname(join(dst, rel)), { recursive: true });
        copyFileSync(full, join(dst, rel));
      }
    }
  };
  walk(src);
}

/**
 * The runtime packages the bundles load (libsql and onnxruntime-node are esbuild's externals) and what of each is
 * loaded. install: dependencies used only by the package's install script, left out.
 */
const runtimePackages = (t) => [
  { name: 'libsql', from: root, keep: (f) => f === 'package.json' || /^[^/]+\.js$/.test(f) },
  { name: '@neon-rs/load', from: 'libsql', keep: (f) => f === 'package.json' || /^dist\/.+\.js$/.test(f) },
  { name: 'detect-libc', from: 'libsql', keep: (f) => f === 'package.json' || /^lib\/.+\.js$/.test(f) },
  {
    name: 'onnxruntime-node',
    from: root,
    keep: (f) => f === 'package.json' || /^dist\/.+\.js$/.test(f) || f.startsWith(`bin/napi-v6/${t.os}/${t.arch}/`),
    install: ['adm-zip', 'global-agent'], // script/install.js (the optional CUDA download) only
  },
  {
    name: 'onnxruntime-common',
    from: 'onnxruntime-node',
    keep: (f) => f === 'package.json' || /^dist\/cjs\/.+\.(js|json)$/.test(f), // the bundles require() its CJS build
  },
];

function stageRuntime(stage, t) {
  const dirs = new Map();
  for (const p of runtimePackages(t)) {
    const dir = resolvePackage(p.name, p.from === root ? root : dirs.get(p.from));
    dirs.set(p.name, dir);
    copyTree(dir, join(stage, 'dist', relative(root, dir)), p.keep);
  }
  // every run-time dependency of a staged package is staged (a new one in an upgrade fails here, not at run time)
  for (const p of runtimePackages(t)) {
    const deps = Object.keys(
      JSON.parse(readFileSync(join(dirs.get(p.name), 'package.json'), 'utf8')).dependencies ?? {},
    );
    const missing = deps.filter((d) => !dirs.has(d) && !p.install?.includes(d));
    if (missing.length) throw new Error(`${p.name} depends on ${missing.join(', ')}, which the VSIX would lack`);
  }
}

/** The target's @libsql package from the registry, checked against package-lock.json's integrity, into stage. */
function stageLibsql(stage, name) {
  const { version, integrity } = lock.packages[`node_modules/${name}`];
  const tmp = mkdtempSync(join(tmpdir(), 'discretion-libsql-'));
  try {
    const packed = execFileSync(
      'npm',
      ['pack', `${name}@${version}`, '--pack-destination', tmp, '--prefer-offline', '--json', '--loglevel=error'],
      { cwd: tmp, encoding: 'utf8', shell: process.platform === 'win32' },
    );
    const tarball = join(tmp, JSON.parse(packed)[0].filename);
    const actual = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
    const pinned = integrity.split(/\s+/).filter((i) => i.startsWith('sha512-'));
    if (!pinned.includes(actual))
      throw new Error(`refusing ${name}@${version}: its tarball is ${actual}, package-lock.json pins ${integrity}`);
    execFileSync('tar', ['-xzf', tarball, '-C', tmp]);
    const got = JSON.parse(readFileSync(join(tmp, 'package/package.json'), 'utf8'));
    if (got.name !== name || got.version !== version) throw new Error(`${tarball} holds ${got.name}@${got.version}`);
    copyTree(join(tmp, 'package'), join(stage, RUNTIME_DIR, name), (f) => f === 'package.json' || f === 'index.node');
    console.log(`${name}@${version}: from the registry, sha512 matches package-lock.json (${actual.slice(0, 23)}…)`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function stage(target, dir) {
  const t = TARGETS[target];
  // "files" lists the npm tarball of the CLI (npm pack); vsce refuses a folder with both it and a .vscodeignore
  const { files: _npmFiles, ...manifest } = pkg;
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  for (const f of readdirSync(root))
    if (/^(README\.md|CHANGELOG\.md|LICENSE.*|\.vscodeignore)$/.test(f)) copyFileSync(join(root, f), join(dir, f));
  copyTree(join(root, 'dist'), join(dir, 'dist'), (f) => !f.endsWith('.map'));
  copyTree(join(root, 'media'), join(dir, 'media'), () => true);
  copyTree(join(root, 'bin'), join(dir, 'bin'), () => true);
  stageRuntime(dir, t);
  stageLibsql(dir, t.libsql);
}

/** On this machine's own target: the staged libsql opens a database and onnxruntime-node loads, from the stage only. */
function smokeTest(dir) {
  const probe = `
    const [stage] = process.argv.slice(1);
    const from = { paths: [require('node:path').join(stage, 'dist')] };
    const Database = require(require.resolve('libsql', from));
    const v = new Database(':memory:').prepare('select sqlite_version() as v').get().v;
    const ort = require(require.resolve('onnxruntime-node', from));
    const outside = Object.keys(require.cache).filter((f) => !f.startsWith(stage));
    if (outside.length) throw new Error('loaded from outside the staging folder: ' + outside.join(', '));
    console.log('staged natives load here: libsql (SQLite ' + v + '), onnxruntime-node ' + ort.env.versions.node);
  `;
  execFileSync(process.execPath, ['-e', probe, dir], { stdio: 'inherit', cwd: dir });
}

function reportNatives(where, files, target) {
  const { lines, errors } = checkNatives(files, target);
  for (const line of lines) console.log(`  ${line}`);
  if (errors.length) throw new Error(`native check failed (${where}, ${target}): ${errors.join('; ')}`);
  console.log(`native check (${where}): ${files.length} files, all ${target}, bindings present`);
  return files.map((f) => f.path).sort();
}

function packageTarget(target, out) {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), `discretion-vsix-${target}-`));
  try {
    stage(target, dir);
    const staged = reportNatives('staging folder', folderNatives(dir), target);
    if (target === hostTarget) smokeTest(dir);
    const listing = execFileSync(process.execPath, [vsce, 'ls', '--no-dependencies'], { cwd: dir, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    const stray = listing.filter((f) => !ALLOWED.some((re) => re.test(f)));
    if (stray.length) throw new Error(`vsce ls lists files that do not belong in the VSIX: ${stray.join(', ')}`);
    console.log(`vsce ls: ${listing.length} files, all allowed`);
    execFileSync(
      process.execPath,
      [
        vsce,
        'package',
        '--target',
        target,
        '--no-dependencies',
        '--out',
        out,
        '--skip-license',
        '--allow-missing-repository',
        '--allow-star-activation',
        '--no-rewrite-relative-links',
      ],
      { cwd: dir, stdio: 'inherit' },
    );
    const shipped = reportNatives('VSIX', vsixNatives(out), target);
    if (shipped.join() !== staged.join()) throw new Error(`the VSIX's native files differ from the staged ones`);
    const fd = openSync(out, 'r');
    const zipped = zipEntries(fd);
    const manifestEntry = zipped.find((e) => e.name === 'extension.vsixmanifest');
    const manifest = manifestEntry ? zipEntryHead(fd, manifestEntry, manifestEntry.size).toString('utf8') : '';
    closeSync(fd);
    const entries = zipped.map((e) => e.name);
    const files = entries.filter((e) => e.startsWith('extension/')).map((e) => e.slice('extension/'.length));
    // vsce renames README.md to readme.md and LICENSE to LICENSE.txt in the VSIX
    const named = (f) => f.toLowerCase().replace(/^license(\.txt)?$/, 'license');
    if (files.map(named).sort().join() !== listing.map(named).sort().join())
      throw new Error(`the VSIX holds other files than vsce ls listed`);
    if (!manifest.includes(`TargetPlatform="${target}"`)) throw new Error(`${out} is not marked for ${target}`);
    const size = statSync(out).size;
    console.log(
      `VSIX ${target}: ${out} (${mb(size)} MB, ${entries.length} entries, ${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
    return size;
  } catch (error) {
    rmSync(out, { force: true }); // a VSIX that failed a check is not left where it could be published
    throw error;
  } finally {
    if (process.env.VSIX_KEEP_STAGING) console.log(`staging folder kept: ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

const outFor = (target) => resolve(root, `${pkg.name}-${target}-${pkg.version}.vsix`);
function main() {
  if (!all) {
    const target = process.env.VSCE_TARGET || hostTarget;
    const why = refusal(target);
    if (why) throw new Error(`${target}: no VSIX: ${why}`);
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
    packageTarget(target, resolve(root, process.env.VSIX_OUT || outFor(target)));
    return;
  }
  if (process.env.VSIX_OUT || process.env.VSCE_TARGET)
    throw new Error('--all makes every target: unset VSIX_OUT and VSCE_TARGET');
  const made = [];
  const refused = [];
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
  for (const target of Object.keys(TARGETS)) {
    const why = refusal(target);
    if (why) refused.push(`${target}: no VSIX: ${why}`);
    else made.push([outFor(target), packageTarget(target, outFor(target))]);
  }
  console.log('');
  for (const [out, size] of made) console.log(`${relative(root, out)}  ${mb(size)} MB`);
  for (const line of refused) console.log(line);
}

try {
  main();
} catch (error) {
  console.error(`package-vsix: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
}
