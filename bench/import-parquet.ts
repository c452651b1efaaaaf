// Parquet import throughput: the generated pairs of the JSONL bench (bench/import.ts), 1,000,000 by default,
// written once as JSONL and once as Parquet (by parquet-wasm, Rust's arrow-rs writer: snappy, row groups of
// 100,000 rows, dictionary encoding on, as pyarrow and the Hugging Face hub write them), each imported by the
// real CLI in a child process in the same run: pairs/s and that process's peak RSS, side by side.
// BENCH_PARQUET_SIZES=200000,1000000 picks the sizes; BENCH_PARQUET_ROW_GROUP the rows per row group.
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm/node';
import { syntheticPair, timedImport, writeSynthetic } from './import';

const MAP = ['--prompt', 'prompt', '--response-0', 'response_0', '--response-1', 'response_1', '--id', 'id'];

/** The first n generated pairs as a Parquet file, built in Arrow record batches of 100,000 rows. */
function writeParquet(file: string, n: number, rowGroup: number): void {
  const batches: arrow.RecordBatch[] = [];
  for (let start = 0; start < n; start += 100_000) {
    const rows = Array.from({ length: Math.min(100_000, n - start) }, (_, k) => syntheticPair(start + k));
    const col = (key: keyof ReturnType<typeof syntheticPair>) =>
      arrow.vectorFromArray(
        rows.map((r) => r[key]),
        new arrow.Utf8(),
      );
    batches.push(
      ...(arrow.tableFromArrays({
        id: col('id'),
        prompt: col('prompt'),
        response_0: col('response_0'),
        response_1: col('response_1'),
        preferred: col('preferred'),
      } as never).batches as unknown as arrow.RecordBatch[]),
    );
  }
  const props = new pw.WriterPropertiesBuilder()
    .setCompression(pw.Compression.SNAPPY)
    .setMaxRowGroupSize(rowGroup)
    .build();
  const ipc = arrow.tableToIPC(new arrow.Table(batches), 'stream');
  writeFileSync(file, pw.writeParquet(pw.Table.fromIPCStream(ipc), props));
}

export async function runImportParquetBench(log: (line: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'discretion-bench-parquet-'));
  const rowGroup = Number(process.env.BENCH_PARQUET_ROW_GROUP ?? 100_000);
  try {
    log('## Parquet import throughput (child process running `discretion import`, beside JSONL in the same run)');
    for (const n of (process.env.BENCH_PARQUET_SIZES ?? '1000000').split(',').map(Number)) {
      const jsonl = join(dir, `synthetic-${n}.jsonl`);
      await writeSynthetic(jsonl, n);
      const parquet = join(dir, `synthetic-${n}.parquet`);
      writeParquet(parquet, n, rowGroup);
      const line = (what: string, file: string, r: ReturnType<typeof timedImport>) =>
        log(
          `${what}, ${n.toLocaleString('en')} pairs (${(statSync(file).size / 1e6).toFixed(0)} MB, a human preference each): ${r.seconds.toFixed(2)} s, ${(n / r.seconds).toFixed(0)} pairs/s, peak RSS ${r.peakMiB.toFixed(0)} MiB${r.ok ? '' : ' FAILED: ' + r.stderr}`,
        );
      const p = timedImport([
        'import',
        'parquet',
        parquet,
        '--dataset',
        'pq',
        ...MAP,
        '--preferred',
        'preferred',
        '--db',
        join(dir, `p${n}.db`),
      ]);
      line(`Parquet (snappy, row groups of ${rowGroup.toLocaleString('en')})`, parquet, p);
      const j = timedImport([
        'import',
        'jsonl',
        jsonl,
        '--dataset',
        'js',
        ...MAP,
        '--preferred',
        'preferred',
        '--db',
        join(dir, `j${n}.db`),
      ]);
      line('JSONL, the same pairs', jsonl, j);
      rmSync(jsonl, { force: true });
      rmSync(parquet, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
