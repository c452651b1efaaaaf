// The built CLI (bin/discretion.js -> dist/cli.js + dist/judge-worker.js): train-rm, judge onnx,
// judge llm as a user runs them. JSON on stdout, one-line errors, the API key only from the environment.
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../support/helpers';
import { writePairsFile } from './support';

const BIN = join(ROOT, 'bin', 'discretion.js');
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, ...env } });
const MAP = [
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
];

function dataset() {
  const pairs = Array.from({ length: 24 }, (_, i) => {
    const good = `I'm sorry, I can't help with that (${i}).`,
      bad = `Sure! Here is exactly how (${i}).`;
    return i % 2
      ? { prompt: `q${i}`, y0: good, y1: bad, preferred: '0' }
      : { prompt: `q${i}`, y0: bad, y1: good, preferred: '1' };
  });
  const db = join(tempDir(), 'cli.db');
  const r = run(['import', 'jsonl', writePairsFile(pairs), '--dataset', 'd', '--db', db, ...MAP]);
  expect(r.status, r.stderr).toBe(0);
  return db;
}

describe('discretion train-rm / judge onnx', () => {
  it('train-rm --json, then judge onnx scores with the worker and resumes', () => {
    const db = dataset();
    const out = join(tempDir(), 'rm');
    const t = run(['train-rm', '--db', db, '--dataset', 'd', '--annotator', 'human', '--out', out, '--json']);
    expect(t.status, t.stderr).toBe(0);
    const tj = JSON.parse(t.stdout);
    expect(Object.keys(tj).sort()).toEqual(['accuracy', 'model_dir', 'test_pairs', 'train_pairs']);
    expect(tj).toMatchObject({ train_pairs: 12, test_pairs: 12, accuracy: 1, model_dir: out });

    const j = run([
      'judge',
      'onnx',
      '--db',
      db,
      '--dataset',
      'd',
      '--model',
      out,
      '--annotator',
      'rm',
      '--provider',
      'cpu',
      '--json',
    ]);
    expect(j.status, j.stderr).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({ scored: 24, provider: 'cpu', alreadyScored: 0 });
    const again = run([
      'judge',
      'onnx',
      '--db',
      db,
      '--dataset',
      'd',
      '--model',
      out,
      '--annotator',
      'rm',
      '--provider',
      'cpu',
      '--json',
    ]);
    expect(JSON.parse(again.stdout)).toMatchObject({ scored: 0, alreadyScored: 24 });
  }, 60_000);

  it('bad input: one line on stderr, exit 1', () => {
    const db = dataset();
    const r = run([
      'judge',
      'onnx',
      '--db',
      db,
      '--dataset',
      'd',
      '--model',
      join(tempDir(), 'nothing'),
      '--annotator',
      'rm',
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/model folder .*nothing does not exist/);
    const p = run([
      'judge',
      'onnx',
      '--db',
      db,
      '--dataset',
      'd',
      '--model',
      ROOT,
      '--annotator',
      'rm',
      '--provider',
      'tpu',
    ]);
    expect(p.status).not.toBe(0);
    expect(p.stderr).toMatch(/tpu/);
    const h = run([
      'train-rm',
      '--db',
      db,
      '--dataset',
      'd',
      '--annotator',
      'human',
      '--out',
      join(tempDir(), 'x'),
      '--holdout',
      'half',
    ]);
    expect(h.status).not.toBe(0);
    expect(h.stderr).toMatch(/--holdout must be a number/);
  });
});

describe('discretion judge llm', () => {
  it('reads the key from DISCRETION_API_KEY, sends it as a Bearer header, never prints or stores it', async () => {
    const db = dataset();
    const KEY = 'sk-cli-secret-777';
    const auth: (string | undefined)[] = [];
    const server = createServer((req, res) => {
      auth.push(req.headers.authorization);
      req.resume();
      req.on('end', () => {
        const tops = [
          { token: 'A', logprob: Math.log(0.6) },
          { token: 'B', logprob: Math.log(0.3) },
        ];
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            choices: [
              {
                index: 0,
                message: { role: 'assistant', content: 'A' },
                logprobs: { content: [{ token: 'A', logprob: Math.log(0.6), top_logprobs: tops }] },
              },
            ],
            usage: { prompt_tokens: 50, completion_tokens: 1 },
          }),
        );
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    const child = spawn(
      process.execPath,
      [
        BIN,
        'judge',
        'llm',
        '--db',
        db,
        '--dataset',
        'd',
        '--base-url',
        url,
        '--model',
        'm',
        '--annotator',
        'j',
        '--json',
      ],
      { cwd: ROOT, env: { ...process.env, DISCRETION_API_KEY: KEY } },
    );
    let stdout = '',
      stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const code = await new Promise<number | null>((r) => child.on('close', r));
    server.close();
    expect(code, stderr).toBe(0);
    // Always "A" in both orders: s0 = +1, s1 = +1 -> a = 0 for every pair.
    expect(JSON.parse(stdout)).toMatchObject({ stored: 24, requests: 48, promptTokens: 2400, completionTokens: 48 });
    expect(auth.every((a) => a === `Bearer ${KEY}`)).toBe(true);
    expect(stdout + stderr).not.toContain(KEY);
    for (const f of [db, db + '-wal']) {
      try {
        expect(readFileSync(f).includes(KEY)).toBe(false);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
  }, 60_000);
});
