// The CLI as a process among others: a reader that closes the pipe early (`| head -1`) ends it quietly,
// and Ctrl-C (SIGINT) or SIGTERM during a command that builds a new database leaves no private file behind.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store';
import { openSqliteStore } from '../../src/store/sqlite/adapter';
import { ROOT, tempDir } from '../support/helpers';

const BIN = join(ROOT, 'bin', 'discretion.js');
const MAP = ['--prompt', 'prompt', '--response-0', 'response_0', '--response-1', 'response_1', '--id', 'id'];

/** Runs the CLI, closes our end of its stdout after the first chunk, and resolves with what it wrote. */
function runClosingStdout(
  args: string[],
): Promise<{ code: number | null; signal: NodeJS.Signals | null; received: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let received = 0;
    let stderr = '';
    child.stdout.once('data', (chunk: Buffer) => {
      received = chunk.length;
      child.stdout.destroy();
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code, signal) => resolve({ code, signal, received, stderr }));
  });
}

describe('a reader that closes the pipe early', () => {
  let db: string;
  beforeAll(async () => {
    // 20,000 datasets: info prints about 1.3 MB, far more than a pipe holds (64 KiB), so it is still
    // writing when the reader goes away.
    db = join(tempDir(), 'many.db');
    const store = await openSqliteStore(db);
    await store.db.exec(`INSERT INTO datasets (name, format, created_at)
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
      SELECT 'a-dataset-with-a-long-name-number-' || i, 'jsonl', '2026-01-01T00:00:00.000Z' FROM n`);
    await store.close();
  }, 60_000);

  for (const args of [['info'], ['info', '--json']]) {
    it(`${args.join(' ')}: ends with exit code 0 and nothing on stderr`, async () => {
      const full = spawnSync(process.execPath, [BIN, ...args, '--db', db], { cwd: ROOT, maxBuffer: 64 << 20 });
      expect(full.status).toBe(0);
      expect(full.stdout.length).toBeGreaterThan(1_000_000);
      const r = await runClosingStdout([...args, '--db', db]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.signal).toBeNull();
      expect(r.received).toBeGreaterThan(0);
      expect(r.received).toBeLessThan(full.stdout.length);
    });
  }

  it('info | head -1 in a shell: one line, nothing on stderr, exit code 0', () => {
    const r = spawnSync(
      'bash',
      ['-c', '"$0" "$1" info --db "$2" | head -1; exit "${PIPESTATUS[0]}"', process.execPath, BIN, db],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(r.stdout).toBe(`database ${db}\n`);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('SIGINT and SIGTERM while a new database is built', () => {
  let big: string;
  beforeAll(async () => {
    // 500,000 pairs (about 65 MB): the import runs for seconds after its private database appears.
    big = join(tempDir(), 'big.jsonl');
    const out = createWriteStream(big);
    for (let i = 0; i < 500_000; i += 10_000) {
      let chunk = '';
      for (let j = i; j < i + 10_000; j++)
        chunk +=
          JSON.stringify({
            id: `p${j}`,
            prompt: `prompt number ${j} with some words`,
            response_0: `answer zero ${j}`,
            response_1: `answer one ${j}`,
          }) + '\n';
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    await new Promise<void>((r) => out.end(() => r()));
  }, 60_000);

  /** Starts an import into `db`; once `ready` holds for the folder's file names, sends `signal`; resolves when the process ends. */
  async function interruptImport(db: string, signal: NodeJS.Signals, ready: (names: string[]) => boolean) {
    const dir = join(db, '..');
    const child = spawn(process.execPath, [BIN, 'import', 'jsonl', big, '--dataset', 'big', ...MAP, '--db', db], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('close', (code, sig) => resolve({ code, signal: sig })),
    );
    const deadline = Date.now() + 30_000;
    let sawReady = false;
    while (Date.now() < deadline && child.exitCode === null) {
      if (ready(readdirSync(dir))) {
        sawReady = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(sawReady, 'the import should have been under way when the signal was sent').toBe(true);
    child.kill(signal);
    return { ...(await ended), stderr };
  }

  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it(`${signal}: the private .NAME.new-* files are removed, no database appears, exit code ${code}, one line on stderr`, async () => {
      const dir = tempDir();
      const db = join(dir, 'new.db');
      const r = await interruptImport(db, signal, (names) => names.some((n) => n.startsWith('.new.db.new-')));
      expect(r.stderr).toBe(`discretion: interrupted (${signal}); ${db} was not created\n`);
      expect(r.code).toBe(code);
      expect(readdirSync(dir)).toEqual([]);
    }, 60_000);
  }

  it('SIGINT during an import into an existing database: the database stays, whole, without the interrupted import', async () => {
    const dir = tempDir();
    const db = join(dir, 'existing.db');
    const first = spawnSync(
      process.execPath,
      [
        BIN,
        'import',
        'jsonl',
        join(ROOT, 'media', 'sample', 'safety-pairs.jsonl'),
        '--dataset',
        'sample',
        ...MAP,
        '--db',
        db,
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(first.status, first.stderr).toBe(0);
    // the import's transaction is under way once SQLite's write-ahead log holds its first pages
    const r = await interruptImport(
      db,
      'SIGINT',
      () => (statSync(`${db}-wal`, { throwIfNoEntry: false })?.size ?? 0) > 0,
    );
    expect(r.code === 130 || r.signal === 'SIGINT').toBe(true);
    const store = await openStore(db);
    try {
      expect(await store.checkIntegrity()).toEqual([]);
      expect((await store.info()).datasets.map((d) => [d.name, d.pairs])).toEqual([['sample', 30]]);
    } finally {
      await store.close();
    }
    expect(readdirSync(dir).filter((n) => n.startsWith('.'))).toEqual([]);
  }, 60_000);
});
