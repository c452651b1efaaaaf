// Import throughput: the HH-RLHF harmless-base test file and a generated 1,000,000-pair JSONL file,
// each imported by the real CLI in a child process (pairs/s and that process's peak RSS).
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openSqliteStore } from '../src/store/sqlite/adapter';

const ROOT = resolve(__dirname, '..', '..');
const HH = resolve(ROOT, '..', 'shared', 'data', 'hh-rlhf', 'harmless-base-test.jsonl.gz');

const TOPICS = [
  'lock picking',
  'medication doses',
  "a neighbour's address",
  'a phishing test',
  'mixing cleaners',
  'a harsh review',
];

/** Pair i of the generated dataset (the JSONL file and the store-alone run write the same pairs). */
export function syntheticPair(i: number): {
  id: string;
  prompt: string;
  response_0: string;
  response_1: string;
  preferred: 'y0' | 'y1';
} {
  const t = TOPICS[i % TOPICS.length];
  return {
    id: `g${i}`,
    prompt: `Human: Tell me about ${t} (case ${i}).`,
    response_0: `I can't help with ${t}.`,
    response_1: `Here is some general, safe information about ${t}, case ${i}.`,
    preferred: i % 3 === 0 ? 'y0' : 'y1',
  };
}

export async function writeSynthetic(file: string, n: number): Promise<void> {
  const out = createWriteStream(file);
  for (let i = 0; i < n; i++) {
    if (!out.write(JSON.stringify(syntheticPair(i)) + '\n')) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

export function timedImport(args: string[]): { seconds: number; peakMiB: number; ok: boolean; stderr: string } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(
    process.execPath,
    ['--require', join(ROOT, 'scripts', 'report-rss.cjs'), join(ROOT, 'bin', 'discretion.js'), ...args],
    { encoding: 'utf8', cwd: ROOT },
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const kib = Number(/peak-rss-kib (\d+)/.exec(r.stderr)?.[1] ?? NaN);
  return { seconds, peakMiB: kib / 1024, ok: r.status === 0, stderr: r.stderr };
}

/**
 * What SQLite alone can do here: the same pairs and preferences, with the real schema and pragmas and
 * the importer's transaction, generated inside SQLite by a recursive CTE, so no JSON, no JavaScript and
 * no binding traffic is involved. No importer built on this store can beat this figure.
 */
async function sqliteCeiling(file: string, n: number): Promise<number> {
  const t0 = process.hrtime.bigint();
  const store = await openSqliteStore(file);
  await store.write(
    async (tx) => {
      const datasetId = await tx.createDataset('ceiling', 'jsonl', null);
      const annotator = await tx.ensureAnnotator('human', 'human', null);
      await store.db.run(
        `WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < ?1 - 1)
      INSERT INTO pairs (id, dataset_id, idx, source_id, prompt, y0, y1)
      SELECT i + 1, ?2, i, 'g' || i, 'Human: Tell me about medication doses (case ' || i || ').', 'I can''t help with medication doses.',
        'Here is some general, safe information about medication doses, case ' || i || '.' FROM c`,
        [n, datasetId],
      );
      await store.db.run(
        `INSERT INTO preferences (pair_id, annotator_id, value, created_at, updated_at)
      SELECT id, ?1, CASE WHEN idx % 3 = 0 THEN -1 ELSE 1 END, 'now', 'now' FROM pairs WHERE dataset_id = ?2`,
        [annotator.id, datasetId],
      );
    },
    { checkForeignKeys: false },
  );
  await store.close();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/**
 * The store's own write path with nothing to parse: the same pairs built in memory first, then written
 * through insertPairs/insertPreferences in 5,000-pair batches (as the importer does) in one transaction.
 * What remains of an import's time beyond this is reading and parsing the file.
 */
async function storeAlone(file: string, n: number): Promise<number> {
  const pairs = Array.from({ length: n }, (_, i) => {
    const g = syntheticPair(i);
    return {
      idx: i,
      sourceId: g.id,
      prompt: g.prompt,
      y0: g.response_0,
      y1: g.response_1,
      value: (g.preferred === 'y0' ? -1 : 1) as -1 | 1,
    };
  });
  const t0 = process.hrtime.bigint();
  const store = await openSqliteStore(file);
  await store.write(
    async (tx) => {
      const datasetId = await tx.createDataset('store-alone', 'jsonl', null);
      const annotator = await tx.ensureAnnotator('human', 'human', null);
      const inFlight: Promise<unknown>[] = [];
      for (let i = 0; i < n; i += 5000) {
        const batch = pairs.slice(i, i + 5000);
        const pairRowIds = batch.map((p) => p.idx + 1);
        while (inFlight.length >= 2) await inFlight.shift();
        inFlight.push(
          Promise.all([
            tx.insertPairs(datasetId, batch, pairRowIds),
            tx.insertPreferences(
              annotator.id,
              batch.map((p) => ({ pairIdx: p.idx, value: p.value })),
              (pairIdx) => pairIdx + 1,
            ),
          ]),
        );
      }
      await Promise.all(inFlight);
    },
    { checkForeignKeys: false },
  );
  await store.close();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

export async function runImportBench(log: (line: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'discretion-bench-'));
  try {
    log('## Import throughput (child process running `discretion import`, wall time includes Node start-up)');
    if (existsSync(HH)) {
      const r = timedImport(['import', 'hh-rlhf', HH, '--dataset', 'hh', '--db', join(dir, 'hh.db')]);
      log(
        `HH-RLHF harmless-base test (2,312 pairs, .gz): ${r.seconds.toFixed(2)} s, ${(2312 / r.seconds).toFixed(0)} pairs/s, peak RSS ${r.peakMiB.toFixed(0)} MiB${r.ok ? '' : ' FAILED: ' + r.stderr}`,
      );
    } else {
      log(`HH-RLHF: skipped (${HH} is absent)`);
    }
    const sizes = (process.env.BENCH_IMPORT_SIZES ?? '100000,1000000').split(',').map(Number);
    for (const n of sizes) {
      const file = join(dir, `synthetic-${n}.jsonl`);
      await writeSynthetic(file, n);
      const mb = statSync(file).size / 1e6;
      const r = timedImport([
        'import',
        'jsonl',
        file,
        '--dataset',
        'synthetic',
        '--prompt',
        'prompt',
        '--response-0',
        'response_0',
        '--response-1',
        'response_1',
        '--id',
        'id',
        '--preferred',
        'preferred',
        '--db',
        join(dir, `s${n}.db`),
      ]);
      log(
        `generated JSONL, ${n.toLocaleString('en')} pairs (${mb.toFixed(0)} MB, with a human preference each): ${r.seconds.toFixed(2)} s, ${(n / r.seconds).toFixed(0)} pairs/s, peak RSS ${r.peakMiB.toFixed(0)} MiB${r.ok ? '' : ' FAILED: ' + r.stderr}`,
      );
      rmSync(file, { force: true });
      const alone = await storeAlone(join(dir, `alone${n}.db`), n);
      log(
        `  the store alone, same pairs built in memory first and written through its bulk path (no file, no parsing): ${alone.toFixed(2)} s, ${(n / alone).toFixed(0)} pairs/s`,
      );
      const ceiling = await sqliteCeiling(join(dir, `ceiling${n}.db`), n);
      log(
        `  SQLite alone, same rows generated inside SQLite (the ceiling for any importer on this store): ${ceiling.toFixed(2)} s, ${(n / ceiling).toFixed(0)} pairs/s`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
