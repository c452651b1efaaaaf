// vitest globalSetup: builds dist/ (node scripts/build.mjs, a few seconds) once before any test file runs, so the
// tests that run the CLI as a process (bin/discretion.js loads dist/cli.js) and the bundle tests see the sources
// as they are now, also under `npx vitest run one.test.ts` (issue 21: an edit under src/ was tested stale).
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..'); // (not helpers.ts's: that module needs a test file's vitest)
/** Each project runs its global setups, in one process: the first builds, the others find it done. */
const BUILT = Symbol.for('discretion.test.distBuilt');

export default function setup(): void {
  const g = globalThis as { [BUILT]?: boolean };
  if (g[BUILT]) return;
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  g[BUILT] = true;
}
