// Training-data export throughput (`npm run bench -- export`): a generated dataset of 1,000,000 pairs with the
// labels of three human annotators (written straight into SQLite, as the import bench's ceiling does), exported by
// the real CLI in a child process to TRL JSONL (conversational, source majority, with the agreement margin) and to
// a Hugging Face folder (Parquet and card). Prints pairs/s, the child's CPU time and its peak RSS.
// Goals: 200,000 pairs/s (JSONL) and 100,000 pairs/s (Parquet), peak RSS under 500 MB.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openSqliteStore } from '../src/store/sqlite/adapter';

const ROOT = resolve(__dirname, '..', '..');

/** 1,000,000 pairs as the import bench generates them, and the labels of alice, bilal and carol. */
export async function makeDatabase(file: string, n: number): Promise<void> {
  const store = await openSqliteStore(file);
  await store.write(
    async (tx) => {
      const datasetId = await tx.createDataset('synthetic', 'jsonl', null);
      const ids = [];
      for (const name of ['alice', 'bilal', 'carol']) ids.push((await tx.ensureAnnotator(name, 'human', null)).id);
      await store.db.run(
        `WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < ?1 - 1)
      INSERT INTO pairs (id, dataset_id, idx, source_id, prompt, y0, y1)
      SELECT i + 1, ?2, i, 'g' || i, 'Human: Tell me about medication doses (case ' || i || ').', 'I can''t help with medication doses.',
        'Here is some general, safe information about medication doses, case ' || i || '.' FROM c`,
        [n, datasetId],
      );
      // alice: y0 on every third pair, else y1; bilal: alice's label but a tie on every fifth; carol: y0 on every seventh
      const rules = [
        'CASE WHEN idx % 3 = 0 THEN -1 ELSE 1 END',
        'CASE WHEN idx % 5 = 0 THEN 0 WHEN idx % 3 = 0 THEN -1 ELSE 1 END',
        'CASE WHEN idx % 7 = 0 THEN -1 ELSE 1 END',
      ];
      for (let a = 0; a < 3; a++)
        await store.db.run(
          `INSERT INTO preferences (pair_id, annotator_id, value, rationale, created_at, updated_at)
        SELECT id, ?1, ${rules[a]}, CASE WHEN idx % 11 = 0 THEN 'the first refuses' END, 'now', 'now' FROM pairs WHERE dataset_id = ?2`,
          [ids[a], datasetId],
        );
    },
    { checkForeignKeys: false },
  );
  await store.close();
}

function timedExport(args: string[]): {
  seconds: number;
  cpuSeconds: number;
  peakMiB: number;
  ok: boolean;
  out: string;
} {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(
    process.execPath,
    ['--require', join(ROOT, 'scripts', 'report-rss.cjs'), join(ROOT, 'bin', 'discretion.js'), ...args],
    { encoding: 'utf8', cwd: ROOT },
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const kib = Number(/peak-rss-kib (\d+)/.exec(r.stderr)?.[1] ?? NaN);
  const cpuMs = Number(/cpu-ms (\d+)/.exec(r.stderr)?.[1] ?? NaN);
  return { seconds, cpuSeconds: cpuMs / 1000, peakMiB: kib / 1024, ok: r.status === 0, out: r.stdout + r.stderr };
}

const size = (path: string): number =>
  statSync(path).isDirectory() ? readdirSync(path).reduce((s, f) => s + size(join(path, f)), 0) : statSync(path).size;

export async function runExportBench(log: (line: string) => void): Promise<void> {
  const n = Number(process.env.BENCH_EXPORT_PAIRS ?? 1_000_000);
  const dir = mkdtempSync(join(tmpdir(), 'discretion-bench-export-'));
  try {
    log(
      `## Training-data export (${n.toLocaleString('en')} pairs x 3 human annotators; child process running \`discretion export\`, wall time includes Node start-up)`,
    );
    const db = join(dir, 'export.db');
    const t0 = process.hrtime.bigint();
    await makeDatabase(db, n);
    log(`  database generated in ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1)} s`);
    const cases: [string, string[], string][] = [
      [
        'TRL JSONL (conversational, majority, margin)',
        ['--format', 'trl', '--from', 'majority', '--margin', 'agreement'],
        join(dir, 'trl.jsonl'),
      ],
      ['Hugging Face folder (Parquet + card)', ['--format', 'hf', '--from', 'majority'], join(dir, 'hf')],
    ];
    for (const [label, args, out] of cases) {
      const r = timedExport(['export', '--dataset', 'synthetic', ...args, '--out', out, '--db', db]);
      if (!r.ok) {
        log(`${label}: FAILED: ${r.out}`);
        continue;
      }
      log(
        `${label}: ${r.seconds.toFixed(2)} s, ${Math.round(n / r.seconds).toLocaleString('en')} pairs/s (CPU ${r.cpuSeconds.toFixed(2)} s: ${Math.round(n / r.cpuSeconds).toLocaleString('en')} pairs per CPU second), peak RSS ${r.peakMiB.toFixed(0)} MiB, ${(size(out) / 1e6).toFixed(0)} MB written`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
