// `judge reward` against each engine's conformance server (test/support/conformance: real HTTP servers on 127.0.0.1
// written from each engine's documentation, the gotchas included), on real SQLite files. Expected rewards come from
// the servers' score function (score.ts: FNV-1a of the text or ids the model would read, pinned below to the published
// FNV test vector) applied to the conversation each response must be scored in, written out here by hand.
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Message } from '../../src/core/conversation';
import { importJudgments } from '../../src/importers/judgments';
import { type EngineJudgeOptions, parseEngineUrls, runEngineJudge } from '../../src/judges/rewardRun';
import type { SqliteStore } from '../../src/store/sqlite/adapter';
import { closeAll } from '../support/conformance/base';
import { conformanceEncoder } from '../support/conformance/encoder';
import { kserveServer } from '../support/conformance/kserve';
import { BOS, PAD_ID, fnv1a, rawScore, renderChat, tokenize } from '../support/conformance/score';
import { sglangServer } from '../support/conformance/sglang';
import { teiServer } from '../support/conformance/tei';
import { vllmServer } from '../support/conformance/vllm';
import { dumpDatabase, tempDir } from '../support/helpers';
import { storeWithPairs } from './support';

afterAll(closeAll);

/** Pairs with HH-RLHF prompts; pair 0 has a system text and two turns before the response. */
const PAIRS = Array.from({ length: 20 }, (_, i) => ({
  prompt:
    i === 0
      ? 'Be brief.\n\nHuman: hi\n\nAssistant: hello\n\nHuman: how?\n\nAssistant:'
      : `\n\nHuman: question ${i}\n\nAssistant:`,
  y0: `no (${i})`,
  y1: `yes, certainly (${i})`,
}));

/** The conversation each response is scored in: the prompt's turns, then the response as the assistant's. */
function conversation(i: number, response: string): Message[] {
  const before: Message[] =
    i === 0
      ? [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: 'hello' },
          { role: 'user', content: 'how?' },
        ]
      : [{ role: 'user', content: `question ${i}` }];
  return [...before, { role: 'assistant', content: response }];
}

/** The rewards a chat-template engine must store: the score of the template's text (BOS once). */
const templated = (i: number, y: string) => rawScore(renderChat(conversation(i, y)));

async function setup(n = PAIRS.length): Promise<SqliteStore> {
  const { store } = await storeWithPairs(PAIRS.slice(0, n));
  return store;
}

async function stored(store: SqliteStore, annotator = 'rm') {
  return store.db.all<{ idx: number; value: number | null; s0: number; s1: number; raw: string | null }>(
    'SELECT p.idx, pr.value, pr.score_y0 AS s0, pr.score_y1 AS s1, pr.raw FROM preferences pr JOIN pairs p ON p.id = pr.pair_id JOIN annotators a ON a.id = pr.annotator_id WHERE a.name = ? ORDER BY p.idx',
    [annotator],
  );
}

/** Every pair stored with the expected rewards of y0 and y1, and the preference their sign gives. */
async function expectRewards(store: SqliteStore, expected: (i: number, y: string) => number, n = PAIRS.length) {
  const rows = await stored(store);
  expect(rows.map((r) => r.idx)).toEqual([...Array(n).keys()]);
  for (const r of rows) {
    const e0 = expected(r.idx, PAIRS[r.idx].y0);
    const e1 = expected(r.idx, PAIRS[r.idx].y1);
    expect([r.s0, r.s1], `pair ${r.idx}`).toEqual([e0, e1]);
    expect(r.value).toBe(e1 > e0 ? 1 : e1 < e0 ? -1 : null);
  }
  return rows;
}

/** The error a run must end with. */
const failure = (run: Promise<unknown>) =>
  run.then(
    () => {
      throw new Error('the run should have failed');
    },
    (e: unknown) => e as Error & { option?: string },
  );

const base = (url: string, extra: Partial<EngineJudgeOptions> = {}): EngineJudgeOptions => ({
  engine: 'vllm',
  urls: url,
  model: 'rm',
  dataset: 'd',
  annotator: 'rm',
  backoffMs: 20,
  ...extra,
});

it('the score function: FNV-1a of "a" is the published 0xe40c292c, so rawScore("a") = (3826002220 mod 2001 - 1000) / 100 = -8.25', () => {
  expect(fnv1a([0x61])).toBe(0xe40c292c);
  expect(rawScore('a')).toBe(-8.25);
});

describe('vLLM (POST /pooling with messages)', () => {
  it('stores both raw rewards of every pair, as import rewards stores the same numbers; never /score', async () => {
    const server = await vllmServer();
    const store = await setup();
    const s = await runEngineJudge(store, base(server.url, { concurrency: 3, chunkPairs: 4 }));
    expect(s).toMatchObject({
      scored: 20,
      alreadyScored: 0,
      engine: 'vllm',
      endpoint: '/pooling',
      requests: 40,
      retries: 0,
    });
    const rows = await expectRewards(store, templated);
    // The raw logits, not a sigmoid: several lie outside [0, 1].
    expect(rows.filter((r) => r.s0 < 0 || r.s0 > 1).length).toBeGreaterThan(5);
    expect(server.paths.get('/score')).toBeUndefined();
    expect(server.paths.get('/pooling')).toBe(40);
    expect(server.answeredTwice()).toEqual([]);
    // import rewards of a file with the same numbers (reward_a = y1) stores the same rows.
    const file = join(tempDir(), 'rewards.csv');
    writeFileSync(file, ['row_id,reward_a,reward_b', ...rows.map((r) => `${r.idx},${r.s1},${r.s0}`)].join('\n') + '\n');
    await importJudgments(store, { format: 'rewards', file, dataset: 'd', annotator: 'file' });
    const strip = (x: { idx: number; value: number | null; s0: number; s1: number }[]) =>
      x.map(({ idx, value, s0, s1 }) => ({ idx, value, s0, s1 }));
    expect(strip(await stored(store, 'file'))).toEqual(strip(rows));
    const a = await store.requireAnnotator('rm');
    expect(a.kind).toBe('reward-model');
    expect(a.provenance).toMatchObject({
      source: 'discretion judge reward',
      engine: 'vllm',
      model: 'rm',
      urls: [server.url],
    });
    await store.close();
  });

  it('a vLLM that answers a softmax over one label (1.0 for every input): one line, nothing stored', async () => {
    const server = await vllmServer({ legacySoftmax: true });
    const store = await setup();
    const before = await dumpDatabase(store);
    const e = await failure(runEngineJudge(store, base(server.url, { chunkPairs: 1 })));
    expect(e.message).toMatch(
      /\/pooling: the first 16 scores are all exactly 1, which no reward model gives: .*upgrade vLLM; nothing was stored$/,
    );
    expect(e.message.split('\n')).toHaveLength(1);
    expect(await dumpDatabase(store)).toEqual(before);
    await store.close();
  });

  it('a model the server does not serve: one line naming the URL and the models it serves, before any score', async () => {
    const server = await vllmServer({ model: 'other' });
    const store = await setup();
    const e = await failure(runEngineJudge(store, base(server.url)));
    expect(e.message).toBe(
      `${server.url}/v1/models: the server does not serve the model "rm" (it serves "other"); nothing was stored`,
    );
    expect(e.option).toBe('model');
    expect(server.requests).toBe(0);
    await store.close();
  });

  it('an answer of the wrong shape stops the run: one line naming the URL and the field; no retry', async () => {
    const server = await vllmServer();
    server.faults = [{ kind: 'shape' }];
    const store = await setup();
    const e = await failure(runEngineJudge(store, base(server.url, { concurrency: 1 })));
    expect(e.message).toBe(
      `${server.url}/pooling: the answer's data[0].data should be a finite number, not object; nothing was stored`,
    );
    expect(server.requests).toBe(1);
    await store.close();
  });
});

describe('SGLang (POST /classify with rendered text)', () => {
  it('stores both rewards of every pair; the text goes without the BOS the server adds; never /v1/classify', async () => {
    const server = await sglangServer();
    const store = await setup();
    const s = await runEngineJudge(
      store,
      base(server.url, { engine: 'sglang', encoder: conformanceEncoder(), batchSize: 6 }),
    );
    expect(s).toMatchObject({ scored: 20, endpoint: '/classify', batchSize: 6 });
    await expectRewards(store, templated);
    expect(server.paths.get('/v1/classify')).toBeUndefined();
    expect(Math.max(...server.log.map((l) => l.inputs))).toBe(6);
    expect(server.answeredTwice()).toEqual([]);
    await store.close();
  });

  it('an encoder that does not say its BOS: the server sees BOS twice and refuses; one line, nothing stored', async () => {
    const server = await sglangServer();
    const store = await setup();
    const { bosToken: _, ...noBos } = conformanceEncoder();
    const e = await failure(runEngineJudge(store, base(server.url, { engine: 'sglang', encoder: noBos })));
    expect(e.message).toMatch(
      /\/classify: HTTP 400: conformance: text 0 starts with <s>.*BOS doubled\); nothing was stored$/,
    );
    expect(await stored(store)).toEqual([]);
    await store.close();
  });

  it('without a tokenizer folder: one line naming the option, before any request', async () => {
    const server = await sglangServer();
    const store = await setup();
    await expect(runEngineJudge(store, base(server.url, { engine: 'sglang' }))).rejects.toMatchObject({
      message: expect.stringMatching(/^SGLang scores text: the chat template is applied here/),
      option: 'tokenizer',
    });
    expect(server.paths.size).toBe(0);
    await store.close();
  });
});

describe('TEI (POST /predict)', () => {
  it('with a chat template: the rendered text (its BOS cut); without: the text pair (prompt, response)', async () => {
    const server = await teiServer();
    const store = await setup();
    await runEngineJudge(store, base(server.url, { engine: 'tei', encoder: conformanceEncoder() }));
    await expectRewards(store, templated);
    await store.close();
    const pairs = await setup();
    await runEngineJudge(pairs, base(server.url, { engine: 'tei' }));
    // TEI's tokenizer: BOS + text + "</s>" + text_pair (the conformance server's, tei.ts)
    await expectRewards(pairs, (i, y) => rawScore(`${BOS}${PAIRS[i].prompt}</s>${y}`));
    await pairs.close();
  });

  it('413 above the server batch limit: the limit is read from the answer, the batch sent again in parts', async () => {
    const server = await teiServer({ infoBatch: false });
    const store = await setup();
    const s = await runEngineJudge(store, base(server.url, { engine: 'tei', batchSize: 40, concurrency: 1 }));
    expect(s).toMatchObject({ scored: 20, batchSize: 32 });
    expect(server.log.map((l) => [l.inputs, l.status])).toEqual([
      [40, 413],
      [32, 200],
      [8, 200],
    ]);
    await store.close();
    // /info gives the limit: no 413 at all
    const told = await teiServer();
    const again = await setup();
    await runEngineJudge(again, base(told.url, { engine: 'tei', batchSize: 40, concurrency: 1 }));
    expect(told.log.map((l) => [l.inputs, l.status])).toEqual([
      [32, 200],
      [8, 200],
    ]);
    await again.close();
  });

  it('a decoder model (TEI serves it as an embedding model): one line saying so, from /info or from 424', async () => {
    const store = await setup();
    const fromInfo = await teiServer({ decoder: true });
    const e1 = await failure(runEngineJudge(store, base(fromInfo.url, { engine: 'tei' })));
    expect(e1.message).toBe(
      `${fromInfo.url}/info: the server runs its model as an embedding model, not a classifier; TEI scores encoder sequence classifiers only (it serves decoder models such as Llama, Mistral or Qwen as embedding models): serve a decoder reward model with vLLM or SGLang; nothing was stored`,
    );
    const from424 = await teiServer({ decoder: true, infoSays: 'reranker' });
    const e2 = await failure(runEngineJudge(store, base(from424.url, { engine: 'tei' })));
    expect(e2.message).toMatch(
      /\/predict: HTTP 424: the model is not a classifier; TEI scores encoder sequence classifiers only/,
    );
    expect(await stored(store)).toEqual([]);
    await store.close();
  });
});

describe('Triton / KServe v2 (token ids)', () => {
  /** The conformance model's ids of a response's conversation (BOS once), cut to `max`. */
  const ids = (i: number, y: string, max = Infinity) =>
    tokenize(renderChat(conversation(i, y)).slice(BOS.length)).slice(0, max);
  const fp32 = (i: number, y: string, max?: number) => Math.fround(rawScore(ids(i, y, max)));

  it('binary tensors, padded to one length per request: both rewards of every pair (FP32)', async () => {
    const server = await kserveServer();
    const store = await setup();
    const s = await runEngineJudge(
      store,
      base(server.url, { engine: 'kserve', encoder: conformanceEncoder(), batchSize: 5 }),
    );
    expect(s).toMatchObject({ scored: 20, endpoint: '/v2/models/rm/infer', truncatedInputs: 0 });
    await expectRewards(store, (i, y) => fp32(i, y));
    expect(server.answeredTwice()).toEqual([]);
    await store.close();
  });

  it('the JSON form gives the same rewards; truncated responses are counted and marked', async () => {
    const server = await kserveServer();
    const store = await setup();
    const max = 48; // every y1 of pairs 1-19 is longer (54 or 55 ids), no y0 (42 or 43); pair 0's both (89, 101)
    const s = await runEngineJudge(
      store,
      base(server.url, { engine: 'kserve', encoder: conformanceEncoder(max), kserveBinary: false }),
    );
    const long = PAIRS.flatMap((p, i) => [ids(i, p.y0).length > max, ids(i, p.y1).length > max]).filter(Boolean).length;
    expect(long).toBeGreaterThan(0);
    expect(s.truncatedInputs).toBe(long);
    const rows = await expectRewards(store, (i, y) => fp32(i, y, max));
    expect(long).toBe(21);
    expect(JSON.parse(rows[0].raw!)).toEqual({ truncated_y0: true, truncated_y1: true });
    expect(JSON.parse(rows[1].raw!)).toEqual({ truncated_y0: false, truncated_y1: true });
    await store.close();
  });

  it('token_type_ids when the model has it; an input this client cannot fill or an unknown model: one line', async () => {
    const withTypes = await kserveServer({ inputs: ['input_ids', 'attention_mask', 'token_type_ids'] });
    const store = await setup();
    await runEngineJudge(store, base(withTypes.url, { engine: 'kserve', encoder: conformanceEncoder() }));
    await expectRewards(store, (i, y) => fp32(i, y));
    const other = await setup();
    const odd = await kserveServer({ inputs: ['input_ids', 'attention_mask', 'position_ids'] });
    const e1 = await failure(runEngineJudge(other, base(odd.url, { engine: 'kserve', encoder: conformanceEncoder() })));
    expect(e1.message).toBe(
      `${odd.url}/v2/models/rm: the answer's inputs[2].name should be input_ids, attention_mask or token_type_ids, not "position_ids"; this client fills only those; nothing was stored`,
    );
    const e2 = await failure(
      runEngineJudge(other, base(withTypes.url, { engine: 'kserve', model: 'nope', encoder: conformanceEncoder() })),
    );
    expect(e2.message).toMatch(
      /\/v2\/models\/nope: HTTP 400: Request for unknown model: 'nope' is not found; is the model "nope" loaded/,
    );
    await store.close();
    await other.close();
  });

  it('an output of the wrong shape: one line naming the URL and the field', async () => {
    const server = await kserveServer();
    server.faults = [{ kind: 'shape' }];
    const store = await setup();
    const e = await failure(
      runEngineJudge(store, base(server.url, { engine: 'kserve', encoder: conformanceEncoder(), concurrency: 1 })),
    );
    expect(e.message).toMatch(
      /\/v2\/models\/rm\/infer: the answer's outputs\[0\]\.shape should be \[8, 1\] \(one score per row\), not an array of 2; nothing was stored$/,
    );
    expect(PAD_ID).toBe(0);
    await store.close();
  });
});

describe('replicas, faults, resume', () => {
  it('one replica of two dies mid-run: the run completes, every response answered exactly once', async () => {
    const a = await vllmServer();
    const b = await vllmServer();
    a.latencyMs = b.latencyMs = 5;
    a.dieAfterAnswers = 8;
    const store = await setup();
    const s = await runEngineJudge(store, base(`${a.url},${b.url}`, { concurrency: 4 }));
    expect(s.scored).toBe(20);
    await expectRewards(store, templated);
    expect(a.dead).toBe(true);
    const answered = new Map<string, number>();
    for (const srv of [a, b]) for (const [k, n] of srv.answered) answered.set(k, (answered.get(k) ?? 0) + n);
    expect(answered.size).toBe(40);
    expect([...answered.values()].every((n) => n === 1)).toBe(true);
    expect(s.replicas.find((r) => r.url === a.url)!.faults).toBeGreaterThan(0);
    expect(b.answers).toBe(40 - a.answers);
    await store.close();
  });

  it('every replica stays down: one line naming each; what was stored stays, and a rerun asks only for the rest', async () => {
    const a = await vllmServer();
    const b = await vllmServer();
    a.dieAfterAnswers = 6;
    b.dieAfterAnswers = 6;
    const store = await setup();
    const e = await failure(
      runEngineJudge(store, base(`${a.url},${b.url}`, { concurrency: 2, chunkPairs: 1, giveUpAfterMs: 300 })),
    );
    expect(e.message).toMatch(
      new RegExp(
        `^no replica has answered for \\d+ s \\(${a.url}: connection failed \\(ECONNREFUSED\\); ${b.url}: connection failed \\(ECONNREFUSED\\)\\); the \\d+ pair\\(s\\) this run stored are kept: run the same command again to resume$`,
      ),
    );
    const kept = await stored(store);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(20);
    const c = await vllmServer();
    const s = await runEngineJudge(store, base(c.url));
    expect(s).toMatchObject({ scored: 20 - kept.length, alreadyScored: kept.length });
    await expectRewards(store, templated);
    // The pairs stored by the first run were not asked again.
    const keptTexts = kept.flatMap((r) =>
      [PAIRS[r.idx].y0, PAIRS[r.idx].y1].map((y) => renderChat(conversation(r.idx, y))),
    );
    for (const t of keptTexts) expect(c.received.get(t)).toBeUndefined();
    expect(c.requests).toBe(2 * (20 - kept.length));
    await store.close();
  });

  it('429 with Retry-After: the replica rests as told, the request is re-sent', async () => {
    const server = await vllmServer();
    server.faults = [{ kind: 'status', status: 429, retryAfter: '1' }];
    const store = await setup(4);
    const t0 = Date.now();
    const s = await runEngineJudge(store, base(server.url, { concurrency: 1 }));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    expect(s).toMatchObject({ scored: 4, retries: 1, requests: 9 });
    await store.close();
  });

  it('a cancelled run keeps what it stored; the next run scores only the rest, each response once overall', async () => {
    const server = await vllmServer();
    server.latencyMs = 10;
    const store = await setup();
    const controller = new AbortController();
    const s1 = await runEngineJudge(
      store,
      base(server.url, {
        concurrency: 2,
        chunkPairs: 2,
        signal: controller.signal,
        onProgress: (p) => p.done >= 6 && controller.abort(),
      }),
    );
    expect(s1.cancelled).toBe(true);
    expect(s1.scored).toBeGreaterThanOrEqual(6);
    expect(s1.scored).toBeLessThan(20);
    const first = new Set((await stored(store)).map((r) => r.idx));
    // The next run on a replica of its own, so that its requests are counted apart from the cancelled run's.
    const next = await vllmServer();
    const s2 = await runEngineJudge(store, base(next.url));
    expect(s2).toMatchObject({ scored: 20 - first.size, alreadyScored: first.size, cancelled: false });
    await expectRewards(store, templated);
    PAIRS.forEach((p, i) => {
      for (const y of [p.y0, p.y1])
        expect(next.received.get(renderChat(conversation(i, y))) ?? 0, `pair ${i}`).toBe(first.has(i) ? 0 : 1);
    });
    await store.close();
  });

  it('an annotator scored with another model or from a file is not mixed with this run', async () => {
    const server = await vllmServer();
    const store = await setup(2);
    await runEngineJudge(store, base(server.url));
    await expect(runEngineJudge(store, base(server.url, { model: 'rm2' }))).rejects.toMatchObject({
      message: expect.stringMatching(/was scored with the model "rm" on vllm, not "rm2" on vllm/),
      option: 'annotator',
    });
    await store.close();
  });
});

describe('URLs', () => {
  it('a list of replicas: trimmed, trailing slashes dropped; bad ones refused with one line naming --url', () => {
    expect(parseEngineUrls(' http://a:1/ ,https://b/x/ ')).toEqual(['http://a:1', 'https://b/x']);
    for (const [list, message] of [
      ['not a url', /the engine URL "not a url" is not a URL/],
      ['ftp://h', /must be http or https, not ftp:/],
      ['http://u:secret@h', /must not carry a user name or password \(http:\/\/\*\*\*@h\)/],
      ['http://h,http://h/', /the engine URL http:\/\/h is given twice/],
      ['http://h?x=1', /must not carry a query/],
      [' , ', /no engine URL given/],
    ] as const) {
      let err: (Error & { option?: string }) | undefined;
      try {
        parseEngineUrls(list);
      } catch (e) {
        err = e as Error & { option?: string };
      }
      expect(err?.message, list).toMatch(message);
      expect(err?.message).not.toContain('secret');
      expect(err?.option).toBe('engineUrl');
    }
  });

  it('nothing listening at the URL: one line at once, nothing stored', async () => {
    const gone = await vllmServer();
    const url = gone.url;
    await gone.close();
    const store = await setup(2);
    const t0 = Date.now();
    const e = await failure(runEngineJudge(store, base(url)));
    expect(e.message).toBe(`no replica answers (${url}: connection failed (ECONNREFUSED)); nothing was stored`);
    expect(Date.now() - t0).toBeLessThan(2000);
    await store.close();
  });
});
