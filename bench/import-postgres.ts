// Bulk import into PostgreSQL (COPY through pg-copy-streams): the same generated JSONL files as the SQLite
// import bench, imported by the real CLI in a child process into a database on a PostgreSQL server this bench
// starts itself (Debian's binaries, initdb into a temp folder, fsync off as in the tests: a figure for the
// client and server work, not the disk's). pairs/s and the CLI process's peak RSS.
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startPostgres } from '../test/support/postgres';

const ROOT = resolve(__dirname, '..', '..');

function line(i: number): string {
  return JSON.stringify({ id: `g${i}`, prompt: `Human: Tell me about mixing cleaners (case ${i}).`, response_0: 'I can\'t help with mixing cleaners.', response_1: `Here is some general, safe information about mixing cleaners, case ${i}.`, preferred: i % 3 === 0 ? 'y0' : 'y1' });
}

async function writeSynthetic(file: string, n: number): Promise<void> {
  const out = createWriteStream(file);
  for (let i = 0; i < n; i++) if (!out.write(line(i) + '\n')) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
}

export async function runImportPostgresBench(log: (line: string) => void): Promise<void> {
  log('## Import into PostgreSQL (child process running `discretion import --db postgres://...`, wall time includes Node start-up)');
  let server;
  try {
    server = await startPostgres();
  } catch (e) {
    log(`skipped: no PostgreSQL server could be started (${(e as Error).message})`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'discretion-bench-pg-'));
  try {
    const sizes = (process.env.BENCH_IMPORT_SIZES ?? '100000,1000000').split(',').map(Number);
    for (const n of sizes) {
      const file = join(dir, `synthetic-${n}.jsonl`);
      await writeSynthetic(file, n);
      const url = await server.createDatabase();
      const t0 = process.hrtime.bigint();
      const r = spawnSync(process.execPath, ['--require', join(ROOT, 'scripts', 'report-rss.cjs'), join(ROOT, 'bin', 'discretion.js'),
        'import', 'jsonl', file, '--dataset', 'synthetic', '--prompt', 'prompt', '--response-0', 'response_0', '--response-1', 'response_1', '--id', 'id', '--preferred', 'preferred', '--db', url],
        { encoding: 'utf8', cwd: ROOT });
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const kib = Number(/peak-rss-kib (\d+)/.exec(r.stderr)?.[1] ?? NaN);
      log(`generated JSONL, ${n.toLocaleString('en')} pairs (${(statSync(file).size / 1e6).toFixed(0)} MB, a human preference each) into PostgreSQL: ${seconds.toFixed(2)} s, ${(n / seconds).toFixed(0)} pairs/s, peak RSS ${(kib / 1024).toFixed(0)} MiB${r.status === 0 ? '' : ' FAILED: ' + r.stderr.trim().split('\n')[0]}`);
      rmSync(file, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    server.stop();
  }
}
