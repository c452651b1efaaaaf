// `discretion judge reward` as a user runs it (bin/discretion.js -> dist/cli.js, a child process), against the vLLM
// conformance server in this process: JSON and text summaries, one-line errors naming the flag, and a run killed
// with SIGKILL mid-run, then run again: every pair stored once, no pair stored by the first run asked again (the
// requests counted per text at the servers).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/adapter';
import { closeAll } from '../support/conformance/base';
import { rawScore, renderChat } from '../support/conformance/score';
import { vllmServer } from '../support/conformance/vllm';
import { ROOT, tempDir } from '../support/helpers';
import { writePairsFile } from './support';

afterAll(closeAll);

const BIN = join(ROOT, 'bin', 'discretion.js');
const MAP = ['--prompt', 'prompt', '--response-0', 'response_0', '--response-1', 'response_1', '--id', 'id'];

const pairs = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ prompt: `\n\nHuman: q${i}\n\nAssistant:`, y0: `no ${i}`, y1: `sure ${i}` }));
/** What the conformance vLLM scores for a response: its chat template over [user, assistant] (score.ts). */
const text = (i: number, y: string) =>
  renderChat([
    { role: 'user', content: `q${i}` },
    { role: 'assistant', content: y },
  ]);

function dataset(n: number): string {
  const db = join(tempDir(), 'cli.db');
  const r = spawnSync(
    process.execPath,
    [BIN, 'import', 'jsonl', writePairsFile(pairs(n)), '--dataset', 'd', '--db', db, ...MAP],
    { encoding: 'utf8', cwd: ROOT },
  );
  expect(r.status, r.stderr).toBe(0);
  return db;
}

const children = new Set<ChildProcess>();
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});

/** The CLI in a child process (the servers live in this one, so never spawnSync while they must answer). */
function cli(args: string[]): {
  child: ChildProcess;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
} {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, DISCRETION_API_KEY: '' } });
  children.add(child);
  let stdout = '',
    stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((r) =>
    child.on('close', (code) => {
      children.delete(child);
      r({ code, stdout, stderr });
    }),
  );
  return { child, done };
}

const reward = (db: string, url: string, ...more: string[]) => [
  'judge',
  'reward',
  '--db',
  db,
  '--engine',
  'vllm',
  '--url',
  url,
  '--model',
  'rm',
  '--dataset',
  'd',
  '--annotator',
  'rm',
  ...more,
];

async function storedPairs(db: string): Promise<Map<number, [number, number]>> {
  const store = await openSqliteStore(db);
  try {
    const rows = await store.db.all<{ idx: number; s0: number; s1: number }>(
      'SELECT p.idx, pr.score_y0 AS s0, pr.score_y1 AS s1 FROM preferences pr JOIN pairs p ON p.id = pr.pair_id',
    );
    return new Map(rows.map((r) => [r.idx, [r.s0, r.s1]]));
  } finally {
    await store.close();
  }
}

describe('discretion judge reward', () => {
  it('--json: the summary; the text form: what was scored, over which replicas', async () => {
    const server = await vllmServer();
    const db = dataset(6);
    const j = await cli(reward(db, server.url, '--json')).done;
    expect(j.code, j.stderr).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({ scored: 6, alreadyScored: 0, engine: 'vllm', requests: 12 });
    const again = await cli(reward(db, server.url)).done;
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^scored 0 pair\(s\) of "d" as "rm" with vllm \(6 already scored, skipped\)\n/);
    const stored = await storedPairs(db);
    for (let i = 0; i < 6; i++)
      expect(stored.get(i)).toEqual([rawScore(text(i, `no ${i}`)), rawScore(text(i, `sure ${i}`))]);
  });

  it('killed (SIGKILL) mid-run, then run again: every pair stored once; none stored before is asked again', async () => {
    const n = 120;
    const first = await vllmServer();
    first.latencyMs = 20;
    const db = dataset(n);
    const run1 = cli(reward(db, first.url, '--concurrency', '2', '--chunk', '4'));
    const t0 = Date.now();
    while (first.answers < 100 && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 10));
    run1.child.kill('SIGKILL');
    const r1 = await run1.done;
    expect(r1.code).toBeNull(); // killed, not finished
    const kept = await storedPairs(db);
    expect(kept.size).toBeGreaterThan(0);
    expect(kept.size).toBeLessThan(n);
    expect(first.answeredTwice()).toEqual([]);

    const second = await vllmServer();
    const r2 = await cli(reward(db, second.url, '--json')).done;
    expect(r2.code, r2.stderr).toBe(0);
    expect(JSON.parse(r2.stdout)).toMatchObject({ scored: n - kept.size, alreadyScored: kept.size });
    const all = await storedPairs(db);
    expect(all.size).toBe(n);
    for (let i = 0; i < n; i++) {
      expect(all.get(i), `pair ${i}`).toEqual([rawScore(text(i, `no ${i}`)), rawScore(text(i, `sure ${i}`))]);
      for (const y of [`no ${i}`, `sure ${i}`])
        expect(second.received.get(text(i, y)) ?? 0, `pair ${i}`).toBe(kept.has(i) ? 0 : 1);
    }
    expect(second.requests).toBe(2 * (n - kept.size));
  }, 60_000);

  it('a bad --url, a missing --tokenizer, an unknown engine: one line on stderr naming the flag, exit 1', async () => {
    const db = dataset(2);
    const bad = await cli(reward(db, 'notaurl')).done;
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      'discretion: the engine URL "notaurl" is not a URL (for example http://127.0.0.1:8000) (--url)\n',
    );
    const args = reward(db, 'http://127.0.0.1:9');
    args[args.indexOf('vllm')] = 'sglang';
    const tok = await cli(args).done;
    expect(tok.code).toBe(1);
    expect(tok.stderr.trim().split('\n')).toHaveLength(1);
    expect(tok.stderr).toMatch(/^discretion: SGLang scores text: .* \(--tokenizer\)\n$/);
    args[args.indexOf('sglang')] = 'triton';
    const engine = await cli(args).done;
    expect(engine.code).not.toBe(0);
    expect(engine.stderr).toMatch(/--engine.*triton.*vllm, sglang, tei, kserve/);
  });
});
