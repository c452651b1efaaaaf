// Host-side part of the workbench benchmark, without VS Code: on a generated 100,000-pair dataset
// (same generator as test/e2e/prepare.mjs), times the session's SQLite work per step: open, first
// card, and per submission (write, advance, next card, position, status-bar progress, tree refresh).
// Usage: node scripts/e2e-host-bench.mjs [pairs=100000] [submissions=200]
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const root = resolve(import.meta.dirname, '..');
const n = Number(process.argv[2] || 100000);
const N = Number(process.argv[3] || 200);
const dir = join(root, '.tmp', 'host-bench');
mkdirSync(dir, { recursive: true });
const base = join(dir, `base-${n}.db`);
if (!existsSync(base)) {
  const file = join(dir, `bench-${n}.jsonl`);
  const lines = [];
  for (let i = 0; i < n; i++) {
    lines.push(
      JSON.stringify({
        id: `b${i}`,
        prompt: `\n\nHuman: Question number ${i}: how should I handle situation ${i % 97}?\n\nAssistant: Can you say more?\n\nHuman: It is urgent (${i}).`,
        response_0: `**Answer ${i}/0.** ` + 'A careful, hedged response with some detail. '.repeat(8 + (i % 5)),
        response_1: `Answer ${i}/1:\n\n- point one\n- point two\n\n` + 'A direct response. '.repeat(10 + (i % 7)),
      }),
    );
  }
  writeFileSync(file, lines.join('\n') + '\n');
  const cli = join(root, 'bin', 'discretion.js');
  execFileSync(
    process.execPath,
    [
      cli,
      'import',
      'principles',
      join(root, 'media', 'principles', 'demo-safety.yaml'),
      '--db',
      base,
      '--name',
      'demo-safety',
    ],
    { stdio: 'inherit' },
  );
  execFileSync(
    process.execPath,
    [
      cli,
      'import',
      'jsonl',
      file,
      '--db',
      base,
      '--dataset',
      'bench-100k',
      '--prompt',
      'prompt',
      '--response-0',
      'response_0',
      '--response-1',
      'response_1',
      '--id',
      'id',
    ],
    { stdio: 'inherit' },
  );
}
const db = join(dir, 'run.db');
for (const s of ['', '-wal', '-shm']) rmSync(db + s, { force: true });
copyFileSync(base, db);

const out = join(dir, 'entry.cjs');
await build({
  stdin: {
    contents: `export { openStore } from './src/store'; export { WorkbenchSession } from './src/app/workbench';`,
    resolveDir: root,
    loader: 'ts',
  },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outfile: out,
  external: ['libsql', 'vscode'],
  logLevel: 'warning',
});
const { createRequire } = await import('node:module');
const { openStore, WorkbenchSession } = createRequire(import.meta.url)(out);

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const now = () => performance.now();
const t0 = now();
const store = await openStore(db);
const t1 = now();
const s = await WorkbenchSession.open(store, {
  dataset: 'bench-100k',
  annotator: 'bench',
  principleList: 'demo-safety',
});
const t2 = now();
{
  const d = await store.requireDataset('bench-100k');
  const a = now();
  await store.countPairs(d.id);
  console.error(`countPairs ${(now() - a).toFixed(1)} ms`);
}
await s.start();
const t3 = now();
let card = await s.card();
const t4 = now();
if (s.readAhead) await s.readAhead();
const open = { storeOpen: t1 - t0, sessionOpen: t2 - t1, start: t3 - t2, firstCard: t4 - t3, total: t4 - t0 };

const steps = {};
const add = (k, v) => (steps[k] ??= []).push(v);
for (let i = 0; i < N; i++) {
  const grid = card.principles.map((_, j) => (j === 0 ? 'A' : null));
  const a = now();
  const models = await s.submit({
    type: 'submit',
    seq: card.seq,
    pairIdx: card.pairIdx,
    overall: i % 2 ? 'A' : 'B',
    grid,
    rationale: '',
    flagged: false,
  });
  const b = now();
  if (models.length === 0) await s.move('next');
  const c = now();
  card = (s.takeAhead && (await s.takeAhead())) || (await s.card());
  const d = now();
  await s.savePosition();
  const e = now();
  await s.progress(); // status bar (onProgress)
  const f = now();
  await store.datasetProgress(); // tree refresh when the view is visible
  const g = now();
  if (s.readAhead) await s.readAhead();
  add('readAhead (after the card is posted)', now() - g);
  add('submit', b - a);
  add('move', c - b);
  add('card', d - c);
  add('savePosition', e - d);
  add('statusProgress', f - e);
  add('treeRefresh', g - f);
  add('critical (submit..card)', d - a);
}
const summary = Object.fromEntries(
  Object.entries(steps).map(([k, xs]) => [k, { p50: +pct(xs, 50).toFixed(2), p95: +pct(xs, 95).toFixed(2) }]),
);
console.log(
  JSON.stringify(
    {
      pairs: n,
      submissions: N,
      open_ms: Object.fromEntries(Object.entries(open).map(([k, v]) => [k, +v.toFixed(1)])),
      per_submission_ms: summary,
    },
    null,
    2,
  ),
);
await store.close();
