// `discretion judge llm --batch-out` and `discretion import batch-results` as a user runs them (the built CLI,
// bin/discretion.js): no API key needed to write a batch, the output of a conformance batch runner
// (test/judges/batchRunner.ts, written from OpenAI's documented output lines) read back, the same judgments
// as a live run of the CLI against the same fake, error lines listed, bad lines one line on stderr.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/adapter';
import { ROOT, dumpDatabase, tempDir } from '../support/helpers';
import { type FakeJudge, runBatch, startFakeJudge } from '../judges/batchRunner';
import { PAIR_MAPPING, writePairsFile } from '../judges/support';

const BIN = join(ROOT, 'bin', 'discretion.js');
// No key in the environment: a batch file needs none.
const ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'DISCRETION_API_KEY'));
const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT, env: ENV });

/** The CLI run without blocking this process (the fake judge answers from it). */
function runAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...ENV, DISCRETION_API_KEY: 'sk-x' } });
  let stdout = '',
    stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((r) => child.on('close', (status) => r({ status, stdout, stderr })));
}

const PAIRS = [
  { prompt: 'q0', y0: 'bad', y1: 'good' },
  { prompt: 'q1', y0: 'good', y1: 'bad' },
  { prompt: 'q2', y0: 'good one', y1: 'good two' },
  { prompt: 'q3', y0: 'meh', y1: 'hmm' },
];
const MAP = ['--prompt', PAIR_MAPPING.prompt, '--response-0', PAIR_MAPPING.response0];
const MAP1 = ['--response-1', PAIR_MAPPING.response1, '--id', PAIR_MAPPING.id];

let judge: FakeJudge;
beforeAll(async () => {
  judge = await startFakeJudge();
});
afterAll(async () => {
  await judge.close();
});

function database(): string {
  const db = join(tempDir(), 'b.db');
  const r = run(['import', 'jsonl', writePairsFile(PAIRS), '--dataset', 'd', '--db', db, ...MAP, ...MAP1]);
  expect(r.status, r.stderr).toBe(0);
  return db;
}

async function rows(db: string, annotator: string): Promise<unknown[]> {
  const store = await openSqliteStore(db);
  try {
    return await store.db.all(
      'SELECT p.idx, pr.value, pr.raw FROM preferences pr JOIN pairs p ON p.id = pr.pair_id JOIN annotators a ON a.id = pr.annotator_id WHERE a.name = ? ORDER BY p.idx',
      [annotator],
    );
  } finally {
    await store.close();
  }
}

async function dump(db: string) {
  const store = await openSqliteStore(db);
  try {
    return await dumpDatabase(store);
  } finally {
    await store.close();
  }
}

const judgeArgs = (db: string, annotator: string) => [
  'judge',
  'llm',
  '--db',
  db,
  '--dataset',
  'd',
  '--model',
  'fake-judge',
  '--annotator',
  annotator,
];

describe('discretion judge llm --batch-out / import batch-results', () => {
  it('round trip: the batch written without a key, results read back in any order, the same judgments as a live run; the error line listed; a re-import stores nothing', async () => {
    const db = database();
    const dir = tempDir();
    const req = join(dir, 'req.jsonl');
    const w = run([...judgeArgs(db, 'batch'), '--batch-out', req]);
    expect(w.status, w.stderr).toBe(0);
    expect(w.stderr).toBe('');
    expect(w.stdout).toMatch(
      /^wrote 8 request\(s\) for 4 pair\(s\) of "d" as "batch" \(0 already stored, left out\) to .*req\.jsonl\n/,
    );
    expect(w.stdout).toContain(`discretion import batch-results RESULTS.jsonl --dataset d --annotator batch`);
    const ids = readFileSync(req, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).custom_id as string);
    const expired = ids.find((id) => id.endsWith('-i0-o1'))!;
    const out = join(dir, 'out.jsonl');
    await runBatch([req], judge, out, { fail: { [expired]: 'expired' } });

    const i = run(['import', 'batch-results', out, '--db', db, '--dataset', 'd', '--annotator', 'batch']);
    expect(i.status, i.stderr).toBe(0);
    const text = i.stdout.split('\n');
    expect(text[0]).toBe(
      'imported batch results into dataset "d" as "batch": stored 3 pair judgment(s) (1 missing), 0 already stored',
    );
    expect(text[1]).toMatch(
      /^ {2}read 8 result line\(s\) from 1 file\(s\), answered by fake-judge, request version [0-9a-f]{12}; 700 prompt \+ 7 completion tokens$/,
    );
    expect(text[2]).toBe('  1 error line(s), not stored:');
    expect(text[3]).toMatch(
      new RegExp(`^ {4}.*out\\.jsonl:\\d: ${expired}: batch_expired: This request could not be executed`),
    );
    expect(text[4]).toBe(`  1 pair(s) with one order answered and the other not, not stored (unanswered: ${expired})`);

    const live = await runAsync([...judgeArgs(db, 'live'), '--base-url', judge.baseUrl]);
    expect(live.status, live.stderr).toBe(0);
    const liveRows = (await rows(db, 'live')) as { idx: number }[];
    expect(liveRows).toHaveLength(4);
    expect(await rows(db, 'batch')).toEqual(liveRows.filter((r) => r.idx !== 0));

    // Again, as JSON: nothing stored, every error line listed.
    const before = await dump(db);
    const again = run(['import', 'batch-results', out, '--db', db, '--dataset', 'd', '--annotator', 'batch', '--json']);
    expect(again.status, again.stderr).toBe(0);
    const s = JSON.parse(again.stdout);
    expect(s).toMatchObject({ stored: 0, alreadyStored: 3, results: 8 });
    expect(s.errors).toEqual([
      expect.objectContaining({ file: out, customId: expired, reason: expect.stringMatching(/^batch_expired: /) }),
    ]);
    expect(await dump(db)).toEqual(before);

    // The retry batch holds pair 0 only; with both output files, everything is stored.
    const retry = join(dir, 'retry.jsonl');
    const r = run([...judgeArgs(db, 'batch'), '--batch-out', retry, '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      requests: 2,
      alreadyStored: 3,
      files: [{ file: retry, requests: 2 }],
    });
    const retryOut = join(dir, 'retry-out.jsonl');
    await runBatch([retry], judge, retryOut);
    const done = run(['import', 'batch-results', out, retryOut, '--db', db, '--dataset', 'd', '--annotator', 'batch']);
    expect(done.status, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/stored 1 pair judgment\(s\) \(0 missing\), 3 already stored/);
    expect(done.stdout).toContain('1 error line(s) of requests answered by another line or stored before');
    expect(await rows(db, 'batch')).toEqual(liveRows);
  }, 60_000);

  it('a bad line: one line on stderr naming file, line and field; exit 1; nothing stored', async () => {
    const db = database();
    const dir = tempDir();
    const req = join(dir, 'req.jsonl');
    expect(run([...judgeArgs(db, 'b'), '--batch-out', req]).status).toBe(0);
    const out = join(dir, 'out.jsonl');
    const lines = await runBatch([req], judge, out);
    const foreign = JSON.parse(lines[1]);
    foreign.custom_id = foreign.custom_id.replace(/^dw1-[0-9a-f]{12}/, 'dw1-000000000000');
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, [lines[0], JSON.stringify(foreign), ...lines.slice(2)].join('\n') + '\n');
    const before = await dump(db);
    const r = run(['import', 'batch-results', out, bad, '--db', db, '--dataset', 'd', '--annotator', 'b']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `discretion: ${bad}:2: field "custom_id": ${foreign.custom_id} is not a request of dataset "d" and annotator "b": it was written for another dataset, annotator or principle list\n`,
    );
    expect(await dump(db)).toEqual(before);

    const notJson = join(dir, 'nj.jsonl');
    writeFileSync(notJson, lines[0] + '\n{oops\n');
    const n = run(['import', 'batch-results', notJson, '--db', db, '--dataset', 'd', '--annotator', 'b']);
    expect(n.status).toBe(1);
    expect(n.stderr).toMatch(new RegExp(`^discretion: .*nj\\.jsonl:2: malformed JSON .*\\n$`));
    expect(await dump(db)).toEqual(before);
  });

  it('an oracle batch reads back with its principle list; without it, the error names --principles', async () => {
    const db = database();
    const list = join(tempDir(), 'p.txt');
    writeFileSync(list, 'Prefer the good response.\nAvoid harm.\n');
    expect(run(['import', 'principles', list, '--name', 'two', '--db', db]).status).toBe(0);
    const dir = tempDir();
    const req = join(dir, 'req.jsonl');
    const w = run([...judgeArgs(db, 'o'), '--oracle', '--principles', 'two', '--batch-out', req]);
    expect(w.status, w.stderr).toBe(0);
    expect(w.stdout).toMatch(/^wrote 8 request\(s\) for 8 principle judgment\(s\)/);
    expect(w.stdout).toContain('--annotator o --principles two');
    const out = join(dir, 'out.jsonl');
    await runBatch([req], judge, out);
    const missing = run(['import', 'batch-results', out, '--db', db, '--dataset', 'd', '--annotator', 'o']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/out\.jsonl:1: field "custom_id": .* is an oracle's request .* \(--principles\)\n$/);
    const ok = run([
      'import',
      'batch-results',
      out,
      '--db',
      db,
      '--dataset',
      'd',
      '--annotator',
      'o',
      '--principles',
      'two',
    ]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(
      /^imported batch results into dataset "d" as "o": stored 8 principle judgment\(s\), 0 already stored\n/,
    );
  });

  it('judge llm needs --base-url or --batch-out, not both; a missing database is not created', () => {
    const db = database();
    const none = run(judgeArgs(db, 'x'));
    expect(none.status).toBe(1);
    expect(none.stderr).toBe(
      'discretion: judge llm needs --base-url (the endpoint to ask), or --batch-out FILE to write a batch file\n',
    );
    const out = join(tempDir(), 'x.jsonl');
    const both = run([...judgeArgs(db, 'x'), '--base-url', 'http://127.0.0.1:9/v1', '--batch-out', out]);
    expect(both.status).toBe(1);
    expect(both.stderr).toMatch(/--batch-out writes the requests to a file instead of asking --base-url/);
    expect(existsSync(out)).toBe(false);
    const nodb = join(tempDir(), 'none.db');
    const m = run([...judgeArgs(nodb, 'x'), '--batch-out', out]);
    expect(m.status).toBe(1);
    expect(m.stderr).toBe(`discretion: no database at ${nodb} (--db); nothing was written\n`);
    expect(existsSync(nodb)).toBe(false);
  });
});
