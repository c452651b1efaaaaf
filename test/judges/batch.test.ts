// The LLM judge through OpenAI Batch API files (src/judges/batchFiles.ts, src/app/batch.ts), against a real
// fake judge on 127.0.0.1 and a conformance batch runner written from OpenAI's documented output lines
// (batchRunner.ts), on real SQLite files. The reference for what a batch import stores is a live run of the same
// judge against the same fake: the import must store exactly what the live run stores.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, UsageError } from '../../src/core/errors';
import { batchPartName, importBatchResultFiles, writeJudgeBatch } from '../../src/app/batch';
import { importPrincipleList } from '../../src/importers/principles';
import { customIdOf, parseCustomId } from '../../src/judges/batchFiles';
import { runLlmJudge } from '../../src/judges/llmJudge';
import type { SqliteStore } from '../../src/store/sqlite/adapter';
import { ROOT, dumpDatabase, expectRejected, tempDir } from '../support/helpers';
import { type FakeJudge, runBatch, startFakeJudge } from './batchRunner';
import { storeWithPairs } from './support';

const PROMPTS = join(ROOT, 'media', 'prompts');
const MODEL = 'fake-judge';

const PAIRS = [
  { prompt: 'q0', y0: 'bad', y1: 'good' }, // s0 = +1, s1 = -1 -> +1
  { prompt: 'q1', y0: 'good', y1: 'bad' }, // -1
  { prompt: 'q2', y0: 'good one', y1: 'good two' }, // position bias -> 0
  { prompt: 'q3', y0: 'meh', y1: 'hmm' }, // NA dominates -> missing
];

let judge: FakeJudge;
beforeAll(async () => {
  judge = await startFakeJudge();
});
afterAll(async () => {
  await judge.close();
});

async function setup(): Promise<SqliteStore> {
  const { store } = await storeWithPairs(PAIRS);
  return store;
}

async function withPrinciples(store: SqliteStore): Promise<void> {
  const file = join(tempDir(), 'p.txt');
  writeFileSync(file, 'Prefer the good response.\nAvoid harm.\n');
  await importPrincipleList(store, { file, name: 'two' });
}

const live = (store: SqliteStore, annotator: string, extra: { oracle?: boolean; principles?: string } = {}) =>
  runLlmJudge(store, {
    dataset: 'd',
    model: MODEL,
    annotator,
    promptDir: PROMPTS,
    baseUrl: judge.baseUrl,
    concurrency: 2,
    ...extra,
  });

const batchOut = (
  store: SqliteStore,
  annotator: string,
  out: string,
  extra: { oracle?: boolean; principles?: string; limits?: { maxLines: number; maxBytes: number } } = {},
) => writeJudgeBatch(store, { dataset: 'd', model: MODEL, annotator, promptDir: PROMPTS, out, ...extra });

const importResults = (store: SqliteStore, annotator: string, files: string[], principles?: string) =>
  importBatchResultFiles(store, { dataset: 'd', annotator, principles, files });

/** Overall preferences by annotator: pair index -> [value, raw JSON]. */
async function overall(store: SqliteStore, annotator: string): Promise<Record<number, [number | null, unknown]>> {
  const rows = await store.db.all<{ idx: number; value: number | null; raw: string }>(
    'SELECT p.idx, pr.value, pr.raw FROM preferences pr JOIN pairs p ON p.id = pr.pair_id JOIN annotators a ON a.id = pr.annotator_id WHERE a.name = ? ORDER BY p.idx',
    [annotator],
  );
  return Object.fromEntries(rows.map((r) => [r.idx, [r.value, JSON.parse(r.raw)]]));
}

async function principleRows(store: SqliteStore, annotator: string): Promise<unknown[]> {
  return store.db.all(
    'SELECT p.idx, pr.position AS pos, pp.value, pp.shown_first AS "shownFirst", pp.prob_a AS pa, pp.prob_b AS pb, pp.prob_na AS pna FROM principle_preferences pp JOIN pairs p ON p.id = pp.pair_id JOIN principles pr ON pr.id = pp.principle_id JOIN annotators a ON a.id = pp.annotator_id WHERE a.name = ? ORDER BY p.idx, pr.position',
    [annotator],
  );
}

const readLines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('judge llm --batch-out: the request lines', () => {
  it('one line per request in the documented input shape; the body is exactly what the live judge posts; custom_ids unique, stable and naming pair and order', async () => {
    const store = await setup();
    const out = join(tempDir(), 'req.jsonl');
    const s = await batchOut(store, 'batch', out);
    expect(s).toMatchObject({ requests: 8, alreadyStored: 0, unitTotal: 4, mode: 'judge', otherParts: [] });
    expect(s.files).toEqual([{ file: out, requests: 8, bytes: readFileSync(out).length }]);
    const lines = readLines(out);
    expect(lines).toHaveLength(8);
    // The request input object (https://platform.openai.com/docs/guides/batch): these four fields, no others.
    for (const l of lines) {
      expect(Object.keys(l)).toEqual(['custom_id', 'method', 'url', 'body']);
      expect(l.method).toBe('POST');
      expect(l.url).toBe('/v1/chat/completions');
      expect(typeof l.custom_id).toBe('string');
      expect((l.custom_id as string).length).toBeLessThanOrEqual(64);
    }
    expect(new Set(lines.map((l) => l.custom_id)).size).toBe(8);

    // The live judge's requests, as the fake received them: the same bodies, field by field.
    judge.bodies.length = 0;
    await live(store, 'live');
    const liveBodies = judge.bodies.map((b) => JSON.stringify(b)).sort();
    expect(lines.map((l) => JSON.stringify(l.body)).sort()).toEqual(liveBodies);
    expect(lines[0].body).toMatchObject({
      model: MODEL,
      max_tokens: 1,
      temperature: 0,
      logprobs: true,
      top_logprobs: 20,
    });

    // custom_id names the pair and the order: order 0 shows y1 as response A (the judge's convention).
    for (const l of lines) {
      const id = parseCustomId(l.custom_id as string)!;
      expect(id.principle).toBeUndefined();
      const user = (l.body as { messages: { role: string; content: string }[] }).messages[1].content;
      const pair = PAIRS[id.pairIdx];
      expect(user).toContain(`<response A>\n${id.order === 0 ? pair.y1 : pair.y0}\n</response A>`);
      expect(customIdOf(id)).toBe(l.custom_id);
    }

    // Stable: the same run written again is the same file, byte for byte.
    const again = join(tempDir(), 'again.jsonl');
    await batchOut(store, 'batch', again);
    expect(readFileSync(again, 'utf8')).toBe(readFileSync(out, 'utf8'));
    // Another annotator or model: other custom_ids (scope, and request version).
    const other = join(tempDir(), 'other.jsonl');
    await batchOut(store, 'batch2', other);
    const otherModel = join(tempDir(), 'model.jsonl');
    await writeJudgeBatch(store, {
      dataset: 'd',
      model: 'other',
      annotator: 'batch',
      promptDir: PROMPTS,
      out: otherModel,
    });
    const idOf = (f: string) => parseCustomId(readLines(f)[0].custom_id as string)!;
    expect(idOf(other).scope).not.toBe(idOf(out).scope);
    expect(idOf(other).version).toBe(idOf(out).version);
    expect(idOf(otherModel).scope).toBe(idOf(out).scope);
    expect(idOf(otherModel).version).not.toBe(idOf(out).version);
    await store.close();
  });

  it('pairs already stored are left out, as a live run resumes; nothing left writes no file', async () => {
    const store = await setup();
    await live(store, 'j');
    const dir = tempDir();
    const s = await batchOut(store, 'j', join(dir, 'none.jsonl'));
    expect(s).toMatchObject({ requests: 0, alreadyStored: 4, files: [] });
    expect(readdirSync(dir)).toEqual([]);
    await store.close();
  });

  it('splits at the line limit into NAME-00001.EXT ...; and at the byte limit; the parts hold the same lines in the same order', async () => {
    const store = await setup();
    const dir = tempDir();
    const whole = join(dir, 'whole.jsonl');
    await batchOut(store, 'b', whole);
    const wholeText = readFileSync(whole, 'utf8');

    const out = join(dir, 'req.jsonl');
    const s = await batchOut(store, 'b', out, { limits: { maxLines: 3, maxBytes: 1e9 } });
    expect(s.files.map((f) => [f.file, f.requests])).toEqual([
      [join(dir, 'req-00001.jsonl'), 3],
      [join(dir, 'req-00002.jsonl'), 3],
      [join(dir, 'req-00003.jsonl'), 2],
    ]);
    expect(readdirSync(dir).sort()).toEqual(['req-00001.jsonl', 'req-00002.jsonl', 'req-00003.jsonl', 'whole.jsonl']);
    expect(s.files.map((f) => readFileSync(f.file, 'utf8')).join('')).toBe(wholeText);

    // Bytes: room for two lines of this dataset (each under 1 KB, two under 2 KB, three over 2 KB).
    const sizes = wholeText
      .split('\n')
      .filter(Boolean)
      .map((l) => Buffer.byteLength(l) + 1);
    const maxBytes = Math.max(...sizes.slice(0, -1).map((x, i) => x + sizes[i + 1]));
    expect(Math.min(...sizes.slice(0, -2).map((x, i) => x + sizes[i + 1] + sizes[i + 2]))).toBeGreaterThan(maxBytes);
    const byBytes = join(tempDir(), 'b.jsonl');
    const t = await batchOut(store, 'b', byBytes, { limits: { maxLines: 50_000, maxBytes } });
    expect(t.files.map((f) => f.requests)).toEqual([2, 2, 2, 2]);
    for (const f of t.files) expect(readFileSync(f.file).length).toBe(f.bytes);
    for (const f of t.files) expect(f.bytes).toBeLessThanOrEqual(maxBytes);
    expect(t.files.map((f) => readFileSync(f.file, 'utf8')).join('')).toBe(wholeText);

    // The split parts of the earlier run beside a now unsplit file are named, never removed.
    const u = await batchOut(store, 'b', out);
    expect(u.files.map((f) => f.file)).toEqual([out]);
    expect(u.otherParts).toEqual([1, 2, 3].map((n) => batchPartName(out, n)));
    expect(batchPartName('x/out', 2)).toBe('x/out-00002');
    await store.close();
  });

  it('refuses what a live run refuses, before writing anything; an annotator of another request version is refused too', async () => {
    const store = await setup();
    const dir = tempDir();
    await expect(batchOut(store, 'o', join(dir, 'x.jsonl'), { oracle: true })).rejects.toMatchObject({
      option: 'principles',
    });
    await live(store, 'j');
    await expect(
      writeJudgeBatch(store, {
        dataset: 'd',
        model: 'another-model',
        annotator: 'j',
        promptDir: PROMPTS,
        out: join(dir, 'y.jsonl'),
      }),
    ).rejects.toMatchObject({
      message: expect.stringMatching(/annotator "j" holds judgments asked with another model/),
      option: 'annotator',
    });
    expect(readdirSync(dir)).toEqual([]);
    await store.close();
  });
});

describe('import batch-results: the round trip', () => {
  it('shuffled output with one expired request: stores what a live run stores, lists the error line, re-imports nothing; the retry batch completes it', async () => {
    const store = await setup();
    await live(store, 'live');
    const liveRows = await overall(store, 'live');
    expect(Object.values(liveRows).map(([v]) => v)).toEqual([1, -1, 0, null]);

    const dir = tempDir();
    const req = join(dir, 'req.jsonl');
    await batchOut(store, 'batch', req);
    const expiredId = readLines(req).find((l) => /-i0-o1$/.test(l.custom_id as string))!.custom_id as string;
    const out = join(dir, 'out.jsonl');
    const outLines = await runBatch([req], judge, out, { fail: { [expiredId]: 'expired' } });
    // Shuffled: not the input's order.
    expect(outLines.map((l) => JSON.parse(l).custom_id)).not.toEqual(readLines(req).map((l) => l.custom_id));

    const s = await importResults(store, 'batch', [out]);
    expect(s).toMatchObject({
      mode: 'judge',
      results: 8,
      stored: 3,
      alreadyStored: 0,
      missing: 1,
      duplicates: 0,
      model: MODEL,
      files: [{ file: out, lines: 8 }],
      supersededErrors: [],
      promptTokens: 700,
      completionTokens: 7,
    });
    const line = outLines.findIndex((l) => JSON.parse(l).custom_id === expiredId) + 1;
    expect(s.errors).toEqual([
      {
        file: out,
        line,
        customId: expiredId,
        reason: 'batch_expired: This request could not be executed before the completion window expired.',
      },
    ]);
    expect(s.incomplete).toEqual([{ pairIdx: 0, unanswered: expiredId }]);
    const batchRows = await overall(store, 'batch');
    expect(batchRows).toEqual({ 1: liveRows[1], 2: liveRows[2], 3: liveRows[3] });
    expect((await store.requireAnnotator('batch')).kind).toBe('llm-judge');

    // Idempotent: the same file again stores nothing and changes nothing.
    const before = await dumpDatabase(store);
    const again = await importResults(store, 'batch', [out]);
    expect(again).toMatchObject({
      stored: 0,
      alreadyStored: 3,
      errors: [expect.objectContaining({ customId: expiredId })],
    });
    expect(await dumpDatabase(store)).toEqual(before);

    // The retry: a batch of what is not stored (pair 0, both orders), then both output files together.
    const retryReq = join(dir, 'retry.jsonl');
    const r = await batchOut(store, 'batch', retryReq);
    expect(r).toMatchObject({ requests: 2, alreadyStored: 3 });
    expect(readLines(retryReq).map((l) => parseCustomId(l.custom_id as string)!.pairIdx)).toEqual([0, 0]);
    const retryOut = join(dir, 'retry-out.jsonl');
    await runBatch([retryReq], judge, retryOut);
    const done = await importResults(store, 'batch', [out, retryOut]);
    expect(done).toMatchObject({ stored: 1, alreadyStored: 3, errors: [], incomplete: [], duplicates: 1 });
    expect(done.supersededErrors.map((e) => e.customId)).toEqual([expiredId]);
    expect(await overall(store, 'batch')).toEqual(liveRows);
    await store.close();
  });

  it('oracle mode: the import stores the values, probabilities and shown-first order a live oracle stores', async () => {
    const store = await setup();
    await withPrinciples(store);
    await live(store, 'live-oracle', { oracle: true, principles: 'two' });
    const dir = tempDir();
    const req = join(dir, 'req.jsonl');
    const w = await batchOut(store, 'batch-oracle', req, { oracle: true, principles: 'two' });
    expect(w).toMatchObject({ requests: 8, mode: 'oracle', unitTotal: 8 });
    expect(readLines(req).every((l) => parseCustomId(l.custom_id as string)!.principle !== undefined)).toBe(true);
    const out = join(dir, 'out.jsonl');
    await runBatch([req], judge, out, { seed: 3 });
    const s = await importResults(store, 'batch-oracle', [out], 'two');
    expect(s).toMatchObject({ mode: 'oracle', stored: 8, errors: [] });
    const liveRows = await principleRows(store, 'live-oracle');
    expect(liveRows).toHaveLength(8);
    expect(await principleRows(store, 'batch-oracle')).toEqual(liveRows);
    expect((await store.requireAnnotator('batch-oracle')).kind).toBe('oracle');
    await store.close();
  });

  it('every kind of failed line is listed with its reason, never stored: an API refusal, a vLLM error, an answer without logprobs', async () => {
    const store = await setup();
    const dir = tempDir();
    const req = join(dir, 'req.jsonl');
    await batchOut(store, 'b', req);
    const ids = readLines(req).map((l) => l.custom_id as string);
    const out = join(dir, 'out.jsonl');
    await runBatch([req], judge, out, {
      fail: { [ids[0]]: 'refused', [ids[2]]: 'vllm-error', [ids[4]]: 'no-logprobs' },
    });
    const s = await importResults(store, 'b', [out]);
    const reasons = Object.fromEntries(s.errors.map((e) => [e.customId, e.reason]));
    expect(reasons).toEqual({
      [ids[0]]: "HTTP 400: context_length_exceeded: This model's maximum context length is 128000 tokens.",
      [ids[2]]: 'The model does not support logprobs.',
      [ids[4]]: expect.stringMatching(/^the answer has no choices\[0\]\.logprobs\.content\[0\]\.top_logprobs/),
    });
    // ids 0..5 are pairs 0, 1, 2 in both orders: their other halves are answered but cannot be stored alone.
    expect(s).toMatchObject({ stored: 1, incomplete: [{ pairIdx: 0 }, { pairIdx: 1 }, { pairIdx: 2 }] });
    expect(Object.keys(await overall(store, 'b'))).toEqual(['3']);
    await store.close();
  });
});

describe('import batch-results: bad lines', () => {
  async function prepared() {
    const store = await setup();
    const dir = tempDir();
    const req = join(dir, 'req.jsonl');
    await batchOut(store, 'b', req);
    const out = join(dir, 'out.jsonl');
    const lines = await runBatch([req], judge, out);
    return { store, dir, lines, req };
  }
  /** A results file: the good lines with `bad` in place of line 3. */
  const withBadLine = (dir: string, lines: string[], bad: string) => {
    const file = join(dir, 'bad.jsonl');
    writeFileSync(file, [...lines.slice(0, 2), bad, ...lines.slice(3)].join('\n') + '\n');
    return file;
  };
  const good = (lines: string[]) => JSON.parse(lines[2]) as Record<string, unknown>;

  it('each is one error naming file, line and field; nothing is stored, not even the good lines', async () => {
    const { store, dir, lines, req } = await prepared();
    const g = good(lines);
    const cases: [string, string | null, RegExp][] = [
      ['{"custom_id": "x", ', null, /malformed JSON/],
      ['[1, 2]', null, /expected a JSON object/],
      [readFileSync(req, 'utf8').split('\n')[2], null, /a request line of a batch input file, not a result line/],
      [JSON.stringify({ ...g, custom_id: undefined }), 'custom_id', /missing/],
      [
        JSON.stringify({ ...g, custom_id: 'request-1' }),
        'custom_id',
        /not the custom_id of a judge request written by this workbench/,
      ],
      [JSON.stringify({ ...g, response: 'ok' }), 'response', /expected an object/],
      [JSON.stringify({ ...g, response: null, error: null }), 'response', /a result line has a response or an error/],
      [
        JSON.stringify({ ...g, response: { ...(g.response as object), status_code: '200' } }),
        'response.status_code',
        /HTTP status code/,
      ],
    ];
    for (const [bad, field, message] of cases) {
      const file = withBadLine(dir, lines, bad);
      await expectRejected(store, () => importResults(store, 'b', [file]), { file, line: 3, field, message });
    }
    expect(await store.getAnnotator('b')).toBeUndefined();
    await store.close();
  });

  it('a custom_id of another annotator, dataset, pair or request version is refused; so is an oracle id without its principle list', async () => {
    const { store, dir, lines } = await prepared();
    const g = good(lines);
    const id = parseCustomId(g.custom_id as string)!;
    // Another annotator's batch (same dataset and judge): another scope.
    const otherReq = join(dir, 'other.jsonl');
    await batchOut(store, 'someone-else', otherReq);
    const foreign = readLines(otherReq)[0].custom_id as string;
    const cases: [string, RegExp][] = [
      [
        foreign,
        /is not a request of dataset "d" and annotator "b": it was written for another dataset, annotator or principle list/,
      ],
      [customIdOf({ ...id, pairIdx: 99 }), /is not a request of dataset "d"/],
      [
        customIdOf({ ...id, version: 'abcdefabcdef' }),
        /asked with another model, prompt templates or settings \(request version abcdefabcdef\) than .*:1 \([0-9a-f]{12}\): these results mix two judge configurations/,
      ],
    ];
    for (const [customId, message] of cases) {
      const file = withBadLine(dir, lines, JSON.stringify({ ...g, custom_id: customId }));
      await expectRejected(store, () => importResults(store, 'b', [file]), {
        file,
        line: 3,
        field: 'custom_id',
        message,
      });
    }
    const oracleId = customIdOf({ ...id, principle: 0, order: ((id.pairIdx + 0) % 2) as 0 | 1 });
    const file = withBadLine(dir, lines, JSON.stringify({ ...g, custom_id: oracleId }));
    await expectRejected(store, () => importResults(store, 'b', [file]), {
      file,
      line: 3,
      field: 'custom_id',
      message: /is an oracle's request/,
      option: 'principles',
    });
    await store.close();
  });

  it('results for an annotator of another kind or request version: one clear error, nothing stored', async () => {
    const { store, dir } = await prepared();
    const out = join(dir, 'out.jsonl');
    // A live judge under "b" with another model: its provenance records another request version.
    await runLlmJudge(store, {
      dataset: 'd',
      model: 'another-model',
      annotator: 'b',
      promptDir: PROMPTS,
      baseUrl: judge.baseUrl,
    });
    const before = await dumpDatabase(store);
    const e = await importResults(store, 'b', [out]).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UsageError);
    expect(e).not.toBeInstanceOf(InputError);
    expect((e as UsageError).option).toBe('annotator');
    expect((e as Error).message).toMatch(/annotator "b" holds judgments asked with another model/);
    expect(await dumpDatabase(store)).toEqual(before);
    await store.close();
  });
});
