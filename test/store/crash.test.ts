// kill -9 at random moments of an import, a metric run, a judge run and workbench submits (through
// the store as the extension calls it), and several processes writing one SQLite file at once. After
// each: the database passes its integrity and foreign-key checks, no dataset or run is partial, no
// acknowledged label is missing, and the command re-runs cleanly. Small inputs keep this to about a
// minute; DISCRETION_STRESS=1 kills more often.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/adapter';
import { ROOT, tempDir } from '../support/helpers';

const BIN = join(ROOT, 'bin', 'discretion.js');
const ROUNDS = process.env.DISCRETION_STRESS ? 10 : 3;
const BIG = 3000;
const MAP = ['--prompt', 'prompt', '--response-0', 'response_0', '--response-1', 'response_1', '--id', 'id'];
const METRICS = [
  'metrics',
  '--dataset',
  'sample',
  '--principles',
  'demo-safety',
  '--principle-source',
  'majority',
  '--reference',
  'alice',
  '--bootstrap',
  '3000',
  '--json',
];

let dir: string;
let template: string;
let bigFile: string;
let model: string;
let writer: string;

const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT });
const ok = (args: string[]) => {
  const r = cli(args);
  expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
};

function pairsFile(name: string, n: number): string {
  const file = join(dir, name);
  const lines = Array.from({ length: n }, (_, i) => {
    const good = `I'm sorry, I can't help with that (${i}).`,
      bad = `Sure! Here is exactly how (${i}).`;
    return JSON.stringify(
      i % 2
        ? { id: `p${i}`, prompt: `q${i}`, response_0: good, response_1: bad, preferred: '0' }
        : { id: `p${i}`, prompt: `q${i}`, response_0: bad, response_1: good, preferred: '1' },
    );
  });
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/** A fresh copy of the prepared database (sample with two annotators' labels, the big dataset, the training set). */
function freshDb(): string {
  const db = join(tempDir(), 'crash.db');
  copyFileSync(template, db);
  return db;
}

interface Running {
  child: ChildProcess;
  stdout: string[];
  exited: Promise<number | null>;
}
function start(args: string[], script = BIN): Running {
  // NODE_PATH: the bundled writer lives in a temp folder and loads the project's sqlite3
  const child = spawn(process.execPath, [script, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules') },
  });
  const stdout: string[] = [];
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => stdout.push(d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      if (code) stdout.push(`\n[stderr] ${err}`);
      resolve(code);
    }),
  );
  return { child, stdout, exited };
}
async function killAtRandom(r: Running, minMs: number, maxMs: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, minMs + Math.random() * (maxMs - minMs)));
  r.child.kill('SIGKILL');
  await r.exited;
}

async function audit(db: string, fn: (s: SqliteStore) => Promise<void>): Promise<void> {
  const s = await openSqliteStore(db);
  try {
    expect(await s.checkIntegrity()).toEqual([]);
    await fn(s);
  } finally {
    await s.close();
  }
}
const acked = (r: Running) =>
  r.stdout
    .join('')
    .split('\n')
    .filter((l) => l.startsWith('ack '))
    .map((l) => Number(l.slice(4)));

beforeAll(async () => {
  dir = tempDir();
  writer = join(dir, 'workbench-writer.cjs');
  await build({
    entryPoints: [join(ROOT, 'test', 'store', 'support', 'workbench-writer.ts')],
    outfile: writer,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['libsql', 'vscode', 'onnxruntime-node'],
    logLevel: 'warning',
  });
  template = join(dir, 'template.db');
  bigFile = pairsFile('big.jsonl', BIG);
  ok([
    'import',
    'jsonl',
    join(ROOT, 'media', 'sample', 'safety-pairs.jsonl'),
    '--dataset',
    'sample',
    ...MAP,
    '--db',
    template,
  ]);
  ok([
    'import',
    'principles',
    join(ROOT, 'media', 'principles', 'demo-safety.yaml'),
    '--name',
    'demo-safety',
    '--db',
    template,
  ]);
  for (const a of ['alice', 'bilal'])
    ok([
      'import',
      'labels',
      join(ROOT, 'media', 'sample', `labels-${a}.jsonl`),
      '--dataset',
      'sample',
      '--principles',
      'demo-safety',
      '--annotator',
      a,
      '--db',
      template,
    ]);
  ok(['import', 'jsonl', bigFile, '--dataset', 'big', ...MAP, '--db', template]);
  ok([
    'import',
    'jsonl',
    pairsFile('train.jsonl', 24),
    '--dataset',
    'train',
    ...MAP,
    '--preferred',
    'preferred',
    '--db',
    template,
  ]);
  model = join(dir, 'rm');
  ok(['train-rm', '--db', template, '--dataset', 'train', '--annotator', 'human', '--out', model, '--json']);
}, 300_000);

describe('kill -9 at a random moment', () => {
  it('of an import: no partial dataset, and the import re-runs cleanly', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const db = freshDb();
      await killAtRandom(start(['import', 'jsonl', bigFile, '--dataset', 'again', ...MAP, '--db', db]), 300, 2500);
      let present = false;
      await audit(db, async (s) => {
        const d = (await s.info()).datasets.find((x) => x.name === 'again');
        present = d !== undefined;
        if (d) expect(d.pairs).toBe(BIG);
      });
      const again = cli(['import', 'jsonl', bigFile, '--dataset', 'again', ...MAP, '--db', db]);
      if (present) expect(again.stderr).toMatch(/dataset "again" already exists/);
      else expect(again.status, again.stderr).toBe(0);
      await audit(db, async (s) => expect((await s.info()).datasets.find((x) => x.name === 'again')?.pairs).toBe(BIG));
    }
  }, 240_000);

  it('of a metric run: no partial run, and the run re-runs cleanly', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const db = freshDb();
      await killAtRandom(start([...METRICS, '--db', db]), 300, 2500);
      let before = 0;
      await audit(db, async (s) => {
        const runs = await s.listMetricRuns();
        before = runs.length;
        expect(runs.length).toBeLessThanOrEqual(1);
        for (const r of runs) expect((await s.getMetricRun(r.id)).results).toHaveProperty('annotators');
      });
      const again = JSON.parse(ok([...METRICS, '--db', db]));
      expect(again.run_id).toBe(before + 1);
    }
  }, 240_000);

  it('of a judge run: the resumed run scores each pair exactly once', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const db = freshDb();
      const args = [
        'judge',
        'onnx',
        '--db',
        db,
        '--dataset',
        'big',
        '--model',
        model,
        '--annotator',
        'rm',
        '--provider',
        'cpu',
        '--chunk',
        '50',
        '--json',
      ];
      await killAtRandom(start(args), 500, 4000);
      let stored = 0;
      await audit(db, async (s) => {
        const rm = await s.getAnnotator('rm');
        stored = rm ? (await s.pairsWithPreference((await s.requireDataset('big')).id, rm.id)).size : 0;
      });
      const resumed = JSON.parse(ok(args));
      expect(resumed).toMatchObject({ alreadyScored: stored, scored: BIG - stored });
      await audit(db, async (s) => {
        const rows = await s.db.all<{ n: number; pairs: number }>(
          "SELECT COUNT(*) AS n, COUNT(DISTINCT pr.pair_id) AS pairs FROM preferences pr JOIN annotators a ON a.id = pr.annotator_id JOIN pairs p ON p.id = pr.pair_id JOIN datasets d ON d.id = p.dataset_id WHERE a.name = 'rm' AND d.name = 'big'",
        );
        expect(rows[0]).toEqual({ n: BIG, pairs: BIG });
      });
    }
  }, 300_000);

  it('of workbench submits: every acknowledged label is stored, and labelling resumes', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const db = freshDb();
      const w = start([db, 'big', 'wb', 'demo-safety', '100000'], writer);
      await killAtRandom(w, 800, 3000);
      const acks = acked(w);
      await audit(db, async (s) => {
        const d = await s.requireDataset('big');
        const wb = await s.getAnnotator('wb');
        const labelled = wb ? await s.pairsWithPreference(d.id, wb.id) : new Set<number>();
        for (const pairIdx of acks) expect(labelled.has(pairIdx), `acknowledged pair ${pairIdx}`).toBe(true);
        // at most the one submission in flight when killed was stored without its ack being read
        expect(labelled.size - acks.length).toBeLessThanOrEqual(1);
      });
      const more = start([db, 'big', 'wb', 'demo-safety', '5'], writer);
      expect(await more.exited, more.stdout.join('')).toBe(0);
      expect(acked(more)).toHaveLength(5);
    }
  }, 240_000);
});

describe('several processes writing one SQLite file at once', () => {
  it('imports of two datasets, a metric run, a judge run and workbench submits: none fails, nothing is lost', async () => {
    const db = freshDb();
    const runs = [
      start(['import', 'jsonl', bigFile, '--dataset', 'one', ...MAP, '--db', db]),
      start(['import', 'jsonl', bigFile, '--dataset', 'two', ...MAP, '--db', db]),
      start([...METRICS, '--db', db]),
      start([
        'judge',
        'onnx',
        '--db',
        db,
        '--dataset',
        'big',
        '--model',
        model,
        '--annotator',
        'rm',
        '--provider',
        'cpu',
        '--chunk',
        '100',
        '--json',
      ]),
      start([db, 'big', 'wb', 'demo-safety', '200'], writer),
    ];
    const codes = await Promise.all(runs.map((r) => r.exited));
    runs.forEach((r, i) => expect(codes[i], `process ${i}: ${r.stdout.join('')}`).toBe(0));
    expect(runs.map((r) => r.stdout.join('')).join('')).not.toMatch(/locked|SQLITE_BUSY/);
    await audit(db, async (s) => {
      const info = await s.info();
      expect(info.datasets.filter((d) => d.name === 'one' || d.name === 'two').map((d) => d.pairs)).toEqual([BIG, BIG]);
      expect(await s.listMetricRuns()).toHaveLength(1);
      const big = await s.requireDataset('big');
      expect((await s.pairsWithPreference(big.id, (await s.requireAnnotator('rm')).id)).size).toBe(BIG);
      const wb = await s.pairsWithPreference(big.id, (await s.requireAnnotator('wb')).id);
      expect(acked(runs[4])).toHaveLength(200);
      for (const pairIdx of acked(runs[4])) expect(wb.has(pairIdx)).toBe(true);
    });
  }, 300_000);

  it('two judge runs for one annotator at once: both finish, each pair is scored exactly once', async () => {
    const db = freshDb();
    const args = [
      'judge',
      'onnx',
      '--db',
      db,
      '--dataset',
      'big',
      '--model',
      model,
      '--annotator',
      'rm',
      '--provider',
      'cpu',
      '--chunk',
      '100',
      '--json',
    ];
    const [a, b] = [start(args), start(args)];
    expect([await a.exited, await b.exited], a.stdout.join('') + b.stdout.join('')).toEqual([0, 0]);
    const [sa, sb] = [JSON.parse(a.stdout.join('')), JSON.parse(b.stdout.join(''))];
    expect(sa.scored + sb.scored).toBe(BIG);
    await audit(db, async (s) => {
      const big = await s.requireDataset('big');
      expect((await s.pairsWithPreference(big.id, (await s.requireAnnotator('rm')).id)).size).toBe(BIG);
    });
  }, 300_000);
});
