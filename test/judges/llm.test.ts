// LLM judges against a real OpenAI-compatible HTTP server on 127.0.0.1 that answers with logprobs
// (a protocol-level fake of a hosted model), real SQLite files, expected values by hand.
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors';
import { importJudgments } from '../../src/importers/judgments';
import { openSqliteStore } from '../../src/store/sqlite/adapter';
import { Database } from '../../src/store/sqlite/driver';
import { importPrincipleList } from '../../src/importers/principles';
import { abProbabilities, parseRetryAfter, runLlmJudge, UnstoredAnswersError } from '../../src/judges/llmJudge';
import { ROOT, dumpDatabase, tempDir } from '../support/helpers';
import { storeWithPairs } from './support';

const KEY = 'sk-test-SECRET-4242';
const PROMPTS = join(ROOT, 'media', 'prompts');

// The fake model reads the user message: it prefers a response containing "good"; with both, it
// prefers the one shown as A (position bias); with neither, it answers NA.
function answerFor(user: string): { token: string; logprob: number }[] {
  const a = /<response A>\n([\s\S]*?)\n<\/response A>/.exec(user)![1];
  const b = /<response B>\n([\s\S]*?)\n<\/response B>/.exec(user)![1];
  const aGood = a.includes('good'),
    bGood = b.includes('good');
  const [pA, pB, pNA] = aGood ? [0.7, 0.2, 0.05] : bGood ? [0.2, 0.7, 0.05] : [0.1, 0.1, 0.8];
  // " B" with a leading space and "NA": the judge trims tokens.
  return [
    { token: 'A', logprob: Math.log(pA) },
    { token: ' B', logprob: Math.log(pB) },
    { token: 'NA', logprob: Math.log(pNA) },
    { token: 'The', logprob: Math.log(0.01) },
  ];
}

type Fault = 'none' | '429' | 'hang' | 'malformed' | 'close' | 'no-logprobs' | '401' | '503';
let faults: Fault[] = [];
let alwaysFault: Fault = 'none';
const seen: {
  auth?: string;
  body: { messages: { role: string; content: string }[]; logprobs: boolean; top_logprobs: number; max_tokens: number };
}[] = [];
let server: Server;
let baseUrl: string;

function handle(req: IncomingMessage, res: ServerResponse) {
  let raw = '';
  req.on('data', (c) => {
    raw += c;
  });
  req.on('end', () => {
    const body = JSON.parse(raw);
    seen.push({ auth: req.headers.authorization, body });
    const fault = faults.shift() ?? alwaysFault;
    if (fault === '429') {
      res.writeHead(429, { 'retry-after': '1', 'content-type': 'application/json' });
      res.end('{"error":"rate limited"}');
      return;
    }
    if (fault === '503') {
      res.writeHead(503);
      res.end('overloaded');
      return;
    }
    if (fault === '401') {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"error":"bad key"}');
      return;
    }
    if (fault === 'hang') return; // never answers
    if (fault === 'close') {
      req.socket.destroy();
      return;
    }
    if (fault === 'malformed') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"choices": [ {"message": ');
      return;
    }
    const user = body.messages.find((m: { role: string }) => m.role === 'user').content as string;
    const tops = answerFor(user);
    const best = tops.reduce((x, y) => (y.logprob > x.logprob ? y : x));
    const choice =
      fault === 'no-logprobs'
        ? { index: 0, message: { role: 'assistant', content: best.token }, finish_reason: 'length' }
        : {
            index: 0,
            message: { role: 'assistant', content: best.token },
            logprobs: { content: [{ token: best.token, logprob: best.logprob, top_logprobs: tops }] },
            finish_reason: 'length',
          };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        id: 'x',
        object: 'chat.completion',
        model: body.model,
        choices: [choice],
        usage: { prompt_tokens: 100, completion_tokens: 1, total_tokens: 101 },
      }),
    );
  });
}

beforeAll(async () => {
  server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  faults = [];
  alwaysFault = 'none';
  seen.length = 0;
});

const PAIRS = [
  { prompt: 'q0', y0: 'bad', y1: 'good' }, // order 0: A=good -> s0=+1; order 1: A=bad, B=good -> s1=-1; a=(1+1)/2=+1
  { prompt: 'q1', y0: 'good', y1: 'bad' }, // s0=-1, s1=+1 -> a=-1
  { prompt: 'q2', y0: 'good one', y1: 'good two' }, // position bias: s0=+1, s1=+1 -> a=0
  { prompt: 'q3', y0: 'meh', y1: 'hmm' }, // NA most likely in both orders -> missing
];

async function setup() {
  const { store } = await storeWithPairs(PAIRS);
  return store;
}
const opts = { dataset: 'd', model: 'fake-judge', annotator: 'judge', promptDir: PROMPTS, backoffMs: 10, apiKey: KEY };

describe('parsing', () => {
  it('P(A), P(B), P(NA) from top_logprobs: trimmed, absent = 0', () => {
    const p = abProbabilities([
      { token: ' A', logprob: Math.log(0.6) },
      { token: 'b', logprob: Math.log(0.3) },
      { token: 'x', logprob: 0 },
    ]);
    expect(p.pA).toBeCloseTo(0.6, 12);
    expect(p.pB).toBeCloseTo(0.3, 12);
    expect(p.pNA).toBe(0);
  });
  it('Retry-After as seconds or HTTP date', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', Date.parse('Thu, 01 Jan 2026 00:00:00 GMT'))).toBe(10_000);
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});

describe('runLlmJudge over HTTP', () => {
  it('overall judge in both orders: preferences, raw probabilities, usage; the key is sent but never stored', async () => {
    const store = await setup();
    const s = await runLlmJudge(store, { ...opts, baseUrl, concurrency: 3, pricePerMInput: 1, pricePerMOutput: 2 });
    expect(s).toMatchObject({ stored: 4, requests: 8, retries: 0, missing: 1, promptTokens: 800, completionTokens: 8 });
    expect(s.costUsd).toBeCloseTo((800 * 1 + 8 * 2) / 1e6, 12);
    const rows = await store.db.all<{ idx: number; value: number | null; raw: string }>(
      'SELECT p.idx, pr.value, pr.raw FROM preferences pr JOIN pairs p ON p.id = pr.pair_id ORDER BY p.idx',
    );
    expect(rows.map((r) => r.value)).toEqual([1, -1, 0, null]);
    const raw0 = JSON.parse(rows[0].raw);
    expect(raw0.order0.pA).toBeCloseTo(0.7, 12);
    expect(raw0.order1.pB).toBeCloseTo(0.7, 12);
    expect(seen.every((r) => r.auth === `Bearer ${KEY}`)).toBe(true);
    expect(seen[0].body).toMatchObject({ logprobs: true, max_tokens: 1 });
    expect(JSON.stringify(await dumpDatabase(store))).not.toContain(KEY);
    expect((await store.requireAnnotator('judge')).kind).toBe('llm-judge');
    await store.close();
  });

  it('oracle mode: one request per pair and principle, alternating order, values from the spec', async () => {
    const store = await setup();
    const file = join(tempDir(), 'p.txt');
    writeFileSync(file, 'Prefer the good response.\nAvoid harm.\n');
    await importPrincipleList(store, { file, name: 'two' });
    const s = await runLlmJudge(store, { ...opts, baseUrl, annotator: 'oracle', oracle: true, principles: 'two' });
    expect(s).toMatchObject({ stored: 8, requests: 8, mode: 'oracle' });
    const rows = await store.db.all<{
      idx: number;
      pos: number;
      value: number;
      shownFirst: number;
      pa: number;
      pna: number;
    }>(
      'SELECT p.idx, pr.position AS pos, pp.value, pp.shown_first AS "shownFirst", pp.prob_a AS pa, pp.prob_na AS pna FROM principle_preferences pp JOIN pairs p ON p.id = pp.pair_id JOIN principles pr ON pr.id = pp.principle_id ORDER BY p.idx, pr.position',
    );
    // The judge's order = (idx + position) mod 2, stored as the response shown first: order 0 (A = y1) -> 1,
    // order 1 (A = y0) -> 0. Pair 0 (y1 good): +1 either way. Pair 1 (y0 good): -1. Pair 2 (both good): A
    // wins; A = y1 -> +1, A = y0 -> -1. Pair 3: NA dominates -> 0.
    expect(rows.map((r) => [r.idx, r.pos, r.shownFirst, r.value])).toEqual([
      [0, 0, 1, 1],
      [0, 1, 0, 1],
      [1, 0, 0, -1],
      [1, 1, 1, -1],
      [2, 0, 1, 1],
      [2, 1, 0, -1],
      [3, 0, 0, 0],
      [3, 1, 1, 0],
    ]);
    expect(rows[7].pna).toBeCloseTo(0.8, 12);
    expect(seen[0].body.messages[1].content).toContain('Prefer the good response.');
    await store.close();
  });

  it('429 with Retry-After: waits as told, then succeeds', async () => {
    const store = await setup();
    faults = ['429'];
    const t0 = Date.now();
    const s = await runLlmJudge(store, { ...opts, baseUrl, concurrency: 1 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    expect(s).toMatchObject({ stored: 4, retries: 1, requests: 9 });
    await store.close();
  });

  it('timeouts, malformed JSON, 5xx and closed connections are retried', async () => {
    const store = await setup();
    faults = ['hang', 'malformed', '503', 'close'];
    const s = await runLlmJudge(store, { ...opts, baseUrl, concurrency: 1, timeoutMs: 300 });
    expect(s).toMatchObject({ stored: 4, retries: 4, requests: 12 });
    expect((await store.db.all('SELECT value FROM preferences')).length).toBe(4);
    await store.close();
  });

  it('gives up after the retries with one clear error; completed pairs stay stored and a rerun resumes', async () => {
    const store = await setup();
    faults = ['none', 'none', 'malformed', 'malformed', 'malformed'];
    await expect(
      runLlmJudge(store, { ...opts, baseUrl, concurrency: 1, maxRetries: 2, flushEvery: 1 }),
    ).rejects.toThrow(/gave up after 3 attempts: the answer is not valid JSON/);
    expect((await store.db.all('SELECT value FROM preferences')).length).toBe(1);
    seen.length = 0;
    const s = await runLlmJudge(store, { ...opts, baseUrl, concurrency: 2 });
    expect(s).toMatchObject({ stored: 3, alreadyStored: 1, requests: 6 });
    await store.close();
  });

  it('a database locked for longer than the store waits: no paid answer is lost; they are saved to a file that imports to the same preferences', async () => {
    const first = await setup();
    const path = first.location;
    await first.close();
    const store = await openSqliteStore(path, { lockTimeoutMs: 300 });
    // Another connection holds the write lock for the whole run (issue 10: "never throws away ... paid judge answers").
    const other = await Database.open(path);
    await other.exec('BEGIN IMMEDIATE');
    const dir = tempDir();
    const err = await runLlmJudge(store, { ...opts, baseUrl, concurrency: 1, flushEvery: 1, rescueDir: dir }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UsageError);
    const message = (err as Error).message;
    expect(message).toMatch(
      /is busy: .*the 4 answers not yet stored were saved to .*discretion-unsaved-judge-.*\.csv: store them later by importing that file as judge answers of annotator "judge" on dataset "d"/,
    );
    expect(err).toBeInstanceOf(UnstoredAnswersError);
    expect((err as UnstoredAnswersError).unstored).toMatchObject({ format: 'judge', dataset: 'd', annotator: 'judge' });
    expect(seen.length).toBe(8); // every pair asked once, in both orders
    const [name] = readdirSync(dir);
    const file = join(dir, name);
    // Two rows per pair, order 0 first (A = y1); the probabilities the fake model gave (see answerFor).
    const rows = readFileSync(file, 'utf8').trim().split('\n');
    expect(rows[0]).toBe('row_id,order,prob_A,prob_B,prob_NA');
    expect(
      rows
        .slice(1)
        .map((r) => r.split(',').slice(0, 2).join(','))
        .sort(),
    ).toEqual(['0,0', '0,1', '1,0', '1,1', '2,0', '2,1', '3,0', '3,1']);
    await other.exec('COMMIT');
    await other.close();
    expect(await store.db.all('SELECT * FROM preferences')).toEqual([]);
    await importJudgments(store, { format: 'judge', file, dataset: 'd', annotator: 'judge' });
    const values = await store.db.all<{ value: number | null }>(
      'SELECT pr.value FROM preferences pr JOIN pairs p ON p.id = pr.pair_id ORDER BY p.idx',
    );
    expect(values.map((r) => r.value)).toEqual([1, -1, 0, null]); // as the unlocked run stores them (first test)
    await store.close();
  });

  it("oracle answers saved to a file while the database is locked import to the same values and shown first (the file's order: 0 = A was y1)", async () => {
    const first = await setup();
    const p = join(tempDir(), 'p.txt');
    writeFileSync(p, 'Prefer the good response.\nAvoid harm.\n');
    await importPrincipleList(first, { file: p, name: 'two' });
    const path = first.location;
    await first.close();
    const store = await openSqliteStore(path, { lockTimeoutMs: 300 });
    const other = await Database.open(path);
    await other.exec('BEGIN IMMEDIATE');
    const dir = tempDir();
    const oracle = { ...opts, baseUrl, annotator: 'oracle', oracle: true, principles: 'two' };
    const err = await runLlmJudge(store, { ...oracle, concurrency: 1, flushEvery: 1, rescueDir: dir }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UnstoredAnswersError);
    await other.exec('COMMIT');
    await other.close();
    const file = join(dir, readdirSync(dir)[0]);
    const rows = readFileSync(file, 'utf8').trim().split('\n');
    expect(rows[0]).toBe('row_id,principle_id,order,prob_A,prob_B,prob_NA');
    // the order asked: (idx + position) mod 2, as the oracle test above
    expect(
      rows
        .slice(1)
        .map((r) => r.split(',').slice(0, 3).join(','))
        .sort(),
    ).toEqual(['0,0,0', '0,1,1', '1,0,1', '1,1,0', '2,0,0', '2,1,1', '3,0,1', '3,1,0']);
    await importJudgments(store, { format: 'oracle', file, dataset: 'd', annotator: 'oracle', principles: 'two' });
    const stored = await store.db.all<{ idx: number; pos: number; shownFirst: number; value: number }>(
      'SELECT p.idx, pr.position AS pos, pp.shown_first AS "shownFirst", pp.value FROM principle_preferences pp JOIN pairs p ON p.id = pp.pair_id JOIN principles pr ON pr.id = pp.principle_id ORDER BY p.idx, pr.position',
    );
    // as the unlocked run stores them (the oracle test above)
    expect(stored.map((r) => [r.idx, r.pos, r.shownFirst, r.value])).toEqual([
      [0, 0, 1, 1],
      [0, 1, 0, 1],
      [1, 0, 0, -1],
      [1, 1, 1, -1],
      [2, 0, 1, 1],
      [2, 1, 0, -1],
      [3, 0, 0, 0],
      [3, 1, 1, 0],
    ]);
    await store.close();
  });

  it('a missing logprobs field or a 401: one clear error, nothing written, no retries', async () => {
    const store = await setup();
    const before = await dumpDatabase(store);
    alwaysFault = 'no-logprobs';
    const e1 = await runLlmJudge(store, { ...opts, baseUrl, concurrency: 1 }).catch((e) => e);
    expect(e1).toBeInstanceOf(UsageError);
    expect(e1.message).toMatch(/top_logprobs/);
    alwaysFault = '401';
    const e2 = await runLlmJudge(store, { ...opts, baseUrl, concurrency: 1 }).catch((e) => e);
    expect(e2).toBeInstanceOf(UsageError);
    expect(e2.message).toMatch(/HTTP 401/);
    expect(e2.message).not.toContain(KEY);
    expect(seen.length).toBe(2);
    expect(await dumpDatabase(store)).toEqual(before);
    await store.close();
  });

  it('bad usage: one clear error before any request', async () => {
    const store = await setup();
    await expect(runLlmJudge(store, { ...opts, baseUrl, oracle: true })).rejects.toMatchObject({
      message: expect.stringMatching(/an oracle needs a principle list/),
      option: 'principles',
    });
    await expect(runLlmJudge(store, { ...opts, baseUrl: 'not a url' })).rejects.toMatchObject({
      message: expect.stringMatching(/base URL is not a URL/),
      option: 'baseUrl',
    });
    await expect(runLlmJudge(store, { ...opts, baseUrl, promptDir: tempDir() })).rejects.toThrow(
      /system\.txt: cannot read prompt template/,
    );
    expect(seen.length).toBe(0);
    await store.close();
  });
});
