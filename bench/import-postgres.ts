// Bulk import into PostgreSQL (COPY through pg-copy-streams): the same generated JSONL files as the SQLite
// import bench, imported by the real CLI in a child process into a database on a PostgreSQL server this bench
// starts itself (Debian's binaries, initdb into a temp folder, fsync off as in the tests: a figure for the
// client and server work, not the disk's). pairs/s and the CLI process's peak RSS; then the server's share
// (the same rows COPYed from memory, with and without the per-row foreign-key checks).
import { spawnSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openStore } from '../src/store';
import { pgEnv, startPostgres, urlWithoutPassword } from '../test/support/postgres';

const ROOT = resolve(__dirname, '..', '..');

function line(i: number): string {
  return JSON.stringify({
    id: `g${i}`,
    prompt: `Human: Tell me about mixing cleaners (case ${i}).`,
    response_0: "I can't help with mixing cleaners.",
    response_1: `Here is some general, safe information about mixing cleaners, case ${i}.`,
    preferred: i % 3 === 0 ? 'y0' : 'y1',
  });
}

async function writeSynthetic(file: string, n: number): Promise<void> {
  const out = createWriteStream(file);
  for (let i = 0; i < n; i++) if (!out.write(line(i) + '\n')) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
}

/**
 * One import by the CLI of the checkout at `root` in a child process: wall seconds, peak RSS (KiB), failure.
 * The CLI refuses a password in --db: the URL goes without it, the password in PGPASSWORD.
 */
function importOnce(
  root: string,
  file: string,
  url: string,
  password: string,
): { seconds: number; kib: number; failed?: string } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(
    process.execPath,
    [
      '--require',
      join(root, 'scripts', 'report-rss.cjs'),
      join(root, 'bin', 'discretion.js'),
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
      urlWithoutPassword(url),
    ],
    { encoding: 'utf8', cwd: root, env: pgEnv({ password }) },
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return {
    seconds,
    kib: Number(/peak-rss-kib (\d+)/.exec(r.stderr)?.[1] ?? NaN),
    failed: r.status === 0 ? undefined : r.stderr.trim().split('\n')[0],
  };
}

/**
 * The server's share: the same rows COPYed from memory in one transaction (no file, no parsing), with the
 * per-row foreign-key checks (PostgreSQL's RI triggers) and, for comparison only, without them
 * (session_replication_role = replica: superuser only, never done by the tool). Seconds for each.
 */
async function serverFloor(url: string, n: number): Promise<{ checked: number; unchecked: number }> {
  const out = { checked: 0, unchecked: 0 };
  for (const mode of ['checked', 'unchecked'] as const) {
    const store = await openStore(url);
    const names = await store.write(async (tx) => {
      const d = await tx.createDataset(`floor-${mode}`, 'jsonl', null);
      const a = await tx.ensureAnnotator(`floor-${mode}`, 'human', null);
      return { d, a: a.id, first: await tx.nextPairRowId() };
    });
    await store.close();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const rows = function* (make: (i: number) => string): Generator<string> {
      for (let i = 0; i < n; i += 1000)
        yield Array.from({ length: Math.min(1000, n - i) }, (_, j) => make(i + j)).join('');
    };
    try {
      await c.query('BEGIN');
      if (mode === 'unchecked') await c.query('SET LOCAL session_replication_role = replica');
      const t0 = process.hrtime.bigint();
      await pipeline(
        Readable.from(
          rows(
            (i) =>
              `${names.first + i}\t${names.d}\t${i}\tg${i}\tHuman: Tell me about mixing cleaners (case ${i}).\tI can't help with mixing cleaners.\tHere is some general, safe information about mixing cleaners, case ${i}.\t\\N\n`,
          ),
        ),
        c.query(copyFrom('COPY pairs (id, dataset_id, idx, source_id, prompt, y0, y1, meta) FROM STDIN')),
      );
      await pipeline(
        Readable.from(
          rows(
            (i) =>
              `${names.a}\t${names.first + i}\t1\t\\N\t\\N\t\\N\t\\N\t\\N\t0\t2026-01-01T00:00:00.000Z\t2026-01-01T00:00:00.000Z\n`,
          ),
        ),
        c.query(
          copyFrom(
            'COPY preferences (annotator_id, pair_id, value, score_y0, score_y1, raw, shown_first, rationale, flagged, created_at, updated_at) FROM STDIN',
          ),
        ),
      );
      await c.query('COMMIT');
      out[mode] = Number(process.hrtime.bigint() - t0) / 1e9;
    } finally {
      await c.end();
    }
  }
  return out;
}

export async function runImportPostgresBench(log: (line: string) => void): Promise<void> {
  log(
    '## Import into PostgreSQL (child process running `discretion import --db postgres://...`, wall time includes Node start-up)',
  );
  let server;
  try {
    server = await startPostgres();
  } catch (e) {
    log(`skipped: no PostgreSQL server could be started (${(e as Error).message})`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'discretion-bench-pg-'));
  // BENCH_IMPORT_COMPARE=DIR: also run the CLI of another checkout (built, e.g. `git worktree add /tmp/base
  // main`), alternating with this one on the same files and server, BENCH_IMPORT_ROUNDS times each.
  const roots = [ROOT, ...(process.env.BENCH_IMPORT_COMPARE ? [resolve(process.env.BENCH_IMPORT_COMPARE)] : [])];
  const rounds = Number(process.env.BENCH_IMPORT_ROUNDS ?? 1);
  try {
    const sizes = (process.env.BENCH_IMPORT_SIZES ?? '100000,1000000').split(',').map(Number);
    for (const n of sizes) {
      const file = join(dir, `synthetic-${n}.jsonl`);
      await writeSynthetic(file, n);
      for (let round = 0; round < rounds; round++) {
        for (const root of roots) {
          const r = importOnce(root, file, await server.createDatabase(), server.password);
          const who = roots.length > 1 ? ` [${root === ROOT ? 'this checkout' : root}]` : '';
          log(
            `generated JSONL, ${n.toLocaleString('en')} pairs (${(statSync(file).size / 1e6).toFixed(0)} MB, a human preference each) into PostgreSQL${who}: ${r.seconds.toFixed(2)} s, ${(n / r.seconds).toFixed(0)} pairs/s, peak RSS ${(r.kib / 1024).toFixed(0)} MiB${r.failed ? ' FAILED: ' + r.failed : ''}`,
          );
        }
      }
      rmSync(file, { force: true });
    }
    const n = sizes[0];
    const floor = await serverFloor(await server.createDatabase(), n);
    log(
      `the server's share: ${n.toLocaleString('en')} pairs and their preferences COPYed from memory in one transaction: ${floor.checked.toFixed(2)} s (${(n / floor.checked).toFixed(0)} pairs/s) with the per-row foreign-key checks; ${floor.unchecked.toFixed(2)} s (${(n / floor.unchecked).toFixed(0)} pairs/s) with them off (session_replication_role = replica, superuser only: for comparison, never done by the tool)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
    server.stop();
  }
}
