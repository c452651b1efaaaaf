// The ONNX runner with real onnxruntime sessions (CPU here), real SQLite files and the real worker
// process, against rewards computed by hand for a tiny model (see support.ts).
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError, UsageError } from '../../src/core/errors';
import { WorkerClient, runOnnxJudge } from '../../src/judges/onnxJudge';
import { RewardScorer } from '../../src/judges/scorer';
import { dumpDatabase, tempDir } from '../support/helpers';
import { buildWorker, storeWithPairs, writeTinyModel } from './support';
import { BOS, EOT, LLAMA3_TEMPLATE, writeTemplateModel } from './templateModel';

// Hand computation (support.ts weights):
// "very good": ids [4, 2], n = 2: (u4 + u2 + v[(3*4+2) mod 7 = 0]) / sqrt(2) + bias = (0.25 + 1 + 0.5) / sqrt(2) + 0.3
const VERY_GOOD = 1.75 / Math.SQRT2 + 0.3;
// "bad bad stuff": ids [3, 3, 1]: (-2 - 2 - 0.5 + v[12 mod 7 = 5] + v[10 mod 7 = 3]) / sqrt(3) + 0.3
const BAD_BAD_STUFF = (-4.5 + 0.1 - 0.2) / Math.sqrt(3) + 0.3;
// "" : no response tokens: 0 / sqrt(max(0, 1)) + 0.3
const EMPTY = 0.3;
// "Good" (case folded): u2 / 1 + 0.3
const GOOD = 1.3;

describe('RewardScorer (in-process, real onnxruntime session)', () => {
  it('matches the hand computation, counting only response tokens, in input order across length buckets', async () => {
    const s = await RewardScorer.open(writeTinyModel(), { provider: 'cpu', batchSize: 2 });
    try {
      expect(s.provider).toBe('cpu');
      const r = await s.score([
        { prompt: 'bad bad bad, very bad', response: 'very good' },
        { prompt: 'x', response: 'bad bad stuff' },
        { prompt: 'good', response: '' },
        { prompt: '', response: 'Good' },
      ]);
      expect(r.scores[0]).toBeCloseTo(VERY_GOOD, 5);
      expect(r.scores[1]).toBeCloseTo(BAD_BAD_STUFF, 5);
      expect(r.scores[2]).toBeCloseTo(EMPTY, 5);
      expect(r.scores[3]).toBeCloseTo(GOOD, 5);
      expect(r.truncated).toEqual([false, false, false, false]);
      expect(r.batches).toBe(2); // 4 sequences, batch size 2
    } finally {
      await s.release();
    }
  });

  it('truncates to model_max_length on the configured side and says which inputs were cut', async () => {
    // prompt "good good" + response "very good" = ids [2, 2, 4, 2], types [0, 0, 1, 1]; max length 3.
    const left = await RewardScorer.open(writeTinyModel({ maxLength: 3, truncationSide: 'left' }), { provider: 'cpu' });
    const right = await RewardScorer.open(writeTinyModel({ maxLength: 3, truncationSide: 'right' }), {
      provider: 'cpu',
    });
    try {
      const item = [
        { prompt: 'good good', response: 'very good' },
        { prompt: '', response: 'good' },
      ];
      const l = await left.score(item);
      const r = await right.score(item);
      expect(l.scores[0]).toBeCloseTo(VERY_GOOD, 5); // [2 | 4, 2]: the response survives
      expect(r.scores[0]).toBeCloseTo(0.25 + 0.3, 5); // [2, 2 | 4]: only "very" is left
      expect(l.truncated).toEqual([true, false]);
      expect(r.truncated).toEqual([true, false]);
    } finally {
      await left.release();
      await right.release();
    }
  });

  it("a folder with a chat template scores the template's rendering (one sequence, token types 0), else the text pair", async () => {
    // The token-sum model (templateModel.ts): score = sum of w[id] over the input, + 1000 per token of type 1.
    // w: BOS 10, <|eot_id|> 0.5, "Sure" 1, "Nope" -1, every other id 0.
    const weights = { [BOS]: 10, [EOT]: 0.5, 12: 1, 13: -1 };
    const prompt = '\n\nHuman: Hi there\n\nAssistant:';
    // Template: <|begin_of_text|> <|start_header_id|>user<|end_header_id|> ĊĊ Hi Ġthere <|eot_id|>
    // <|start_header_id|>assistant<|end_header_id|> ĊĊ Sure <|eot_id|>: 10 + 2 x 0.5 + 1 = 12 ("Nope": 10).
    // Text pair (Llama-3's pair post-processor: BOS A BOS B, B of type 1): A = "\n\nHuman: Hi there\n\nAssistant:"
    // gives ĊĊ, Ġthere, ĊĊ ("Human", ":", "ĠHi", "Assistant" are not in the vocabulary), B = Sure:
    // [BOS, 3, 8, 3, BOS, 12], types [0, 0, 0, 0, 1, 1]: 10 + 10 + 1 + 2 x 1000 = 2021.
    const withTypes = writeTemplateModel({ chatTemplate: LLAMA3_TEMPLATE, onnx: { weights, typeIds: true } });
    const noTypes = writeTemplateModel({ chatTemplate: LLAMA3_TEMPLATE, onnx: { weights } });
    const noTemplate = writeTemplateModel({ onnx: { weights, typeIds: true } });
    // A decoder export's position_ids: 0..13 over the 14 tokens above, sum 91, padding (none here) masked out.
    const positions = writeTemplateModel({ chatTemplate: LLAMA3_TEMPLATE, onnx: { weights, positionIds: true } });
    const items = [
      { prompt, response: 'Sure' },
      { prompt, response: 'Nope' },
    ];
    for (const [dir, want] of [
      [withTypes, [12, 10]],
      [noTypes, [12, 10]],
      [noTemplate, [2021, 2019]],
      [positions, [12 + 91, 10 + 91]],
    ] as const) {
      const s = await RewardScorer.open(dir, { provider: 'cpu' });
      try {
        expect(s.conversation === undefined).toBe(dir === noTemplate);
        const r = await s.score(items);
        expect(r.scores[0]).toBeCloseTo(want[0], 5);
        expect(r.scores[1]).toBeCloseTo(want[1], 5);
        expect(r.truncated).toEqual([false, false]);
      } finally {
        await s.release();
      }
    }
  });

  it('a named provider that cannot run is one clear error, not a silent fallback', async () => {
    await expect(RewardScorer.open(writeTinyModel(), { provider: 'cuda' })).rejects.toThrow(/cuda/i);
  });
});

describe('runOnnxJudge (worker process, SQLite)', () => {
  const pairs = [
    { prompt: 'q0', y0: 'bad bad stuff', y1: 'very good' }, // +1
    { prompt: 'q1', y0: 'Good', y1: 'bad bad stuff' }, // -1
    { prompt: 'q2', y0: 'very good', y1: 'very good' }, // tie -> missing
    { prompt: 'q3', y0: '', y1: 'Good' }, // +1
    { prompt: 'q4', y0: 'Good', y1: '' }, // -1
  ];

  async function setup() {
    const { store, path } = await storeWithPairs(pairs, 'tiny');
    return { store, path };
  }

  it('auto falls back from webgpu to cpu when no WebGPU adapter exists, records the failed attempt, and scores the same', async () => {
    // WebGPU runs on Dawn over Vulkan (../shared/gpu/README.md): a worker whose Vulkan loader may load no driver
    // has no adapter on any machine, a GPU machine included, so the fallback is exercised everywhere.
    const { store } = await setup();
    const saved = { VK_DRIVER_FILES: process.env.VK_DRIVER_FILES, VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES };
    process.env.VK_DRIVER_FILES = process.env.VK_ICD_FILENAMES = join(tempDir(), 'no-vulkan-driver.json');
    let s;
    try {
      s = await runOnnxJudge(store, {
        dataset: 'tiny',
        modelDir: writeTinyModel(),
        annotator: 'tiny-rm',
        provider: 'auto',
        workerPath: await buildWorker(),
      });
    } finally {
      for (const [k, v] of Object.entries(saved))
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
    }
    expect(s.provider).toBe('cpu');
    expect(s.providerAttempts.map((a) => a.provider)).toEqual(['webgpu']);
    expect(s.providerAttempts[0]!.error).toMatch(/adapter/i);
    expect(s).toMatchObject({ scored: 5, ties: 1 });
    const rows = await store.db.all<{ value: number | null; score_y1: number }>(
      'SELECT pr.value, pr.score_y1 FROM preferences pr JOIN pairs p ON p.id = pr.pair_id ORDER BY p.idx',
    );
    expect(rows.map((r) => r.value)).toEqual([1, -1, null, 1, -1]);
    expect(rows[0]!.score_y1).toBeCloseTo(VERY_GOOD, 5);
    await store.close();
  });

  it('stores rewards, derived preferences and provenance (model hash, provider)', async () => {
    const { store } = await setup();
    const model = writeTinyModel();
    const s = await runOnnxJudge(store, {
      dataset: 'tiny',
      modelDir: model,
      annotator: 'tiny-rm',
      provider: 'cpu',
      workerPath: await buildWorker(),
    });
    expect(s).toMatchObject({
      scored: 5,
      alreadyScored: 0,
      ties: 1,
      provider: 'cpu',
      truncatedInputs: 0,
      cancelled: false,
    });
    const rows = await store.db.all<{ idx: number; value: number | null; score_y0: number; score_y1: number }>(
      'SELECT p.idx, pr.value, pr.score_y0, pr.score_y1 FROM preferences pr JOIN pairs p ON p.id = pr.pair_id ORDER BY p.idx',
    );
    expect(rows.map((r) => r.value)).toEqual([1, -1, null, 1, -1]);
    expect(rows[0].score_y0).toBeCloseTo(BAD_BAD_STUFF, 5);
    expect(rows[0].score_y1).toBeCloseTo(VERY_GOOD, 5);
    expect(rows[3].score_y0).toBeCloseTo(EMPTY, 5);
    expect(rows[3].score_y1).toBeCloseTo(GOOD, 5);
    const a = await store.requireAnnotator('tiny-rm');
    expect(a.kind).toBe('reward-model');
    expect(a.provenance).toMatchObject({ provider: 'cpu', model_dir: model, input: 'text pair' });
    expect(s).toMatchObject({ input: 'text pair', chatTemplateFile: null });
    expect(a.provenance!.model_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.keys(a.provenance!.model_files_sha256 as object)).toEqual([
      'config.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'onnx/model.onnx',
    ]);
    await store.close();
  });

  it('resumes: a cancelled run keeps its stored chunks and the next run scores only the rest', async () => {
    const { store } = await setup();
    const model = writeTinyModel();
    const controller = new AbortController();
    const first = await runOnnxJudge(store, {
      dataset: 'tiny',
      modelDir: model,
      annotator: 'rm',
      provider: 'cpu',
      chunkPairs: 2,
      workerPath: await buildWorker(),
      signal: controller.signal,
      onProgress: (p) => {
        if (p.done >= 2) controller.abort();
      },
    });
    expect(first).toMatchObject({ scored: 2, cancelled: true });
    const second = await runOnnxJudge(store, {
      dataset: 'tiny',
      modelDir: model,
      annotator: 'rm',
      provider: 'cpu',
      chunkPairs: 2,
      workerPath: await buildWorker(),
    });
    expect(second).toMatchObject({ scored: 3, alreadyScored: 2, cancelled: false });
    const third = await runOnnxJudge(store, {
      dataset: 'tiny',
      modelDir: model,
      annotator: 'rm',
      provider: 'cpu',
      workerPath: await buildWorker(),
    });
    expect(third).toMatchObject({ scored: 0, alreadyScored: 5 });
    expect((await store.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM preferences'))!.n).toBe(5);
    await store.close();
  });

  it('a request to a worker killed a moment before (a cancel) is rejected, never an uncaught EPIPE', async () => {
    // CI 2026-12-03: the cancel test above left "write EPIPE" uncaught: a message sent between the worker's
    // death and its 'exit' event had no 'error' listener to go to. Here the send lands in that window (after the
    // IPC channel closed, before 'exit' is handled); vitest fails a run on any unhandled error.
    const workerPath = await buildWorker();
    for (let i = 0; i < 3; i++) {
      const w = new WorkerClient(workerPath);
      const child = (w as unknown as { child: import('node:child_process').ChildProcess }).child;
      const closed = new Promise((r) => child.once('disconnect', r));
      w.kill();
      await closed;
      await expect(w.score(i, [{ prompt: 'p', response: 'r' }])).rejects.toThrow(/model worker process/);
    }
  });

  it('refuses to resume an annotator with a different model', async () => {
    const { store } = await setup();
    await runOnnxJudge(store, {
      dataset: 'tiny',
      modelDir: writeTinyModel(),
      annotator: 'rm',
      provider: 'cpu',
      workerPath: await buildWorker(),
    });
    await expect(
      runOnnxJudge(store, {
        dataset: 'tiny',
        modelDir: writeTinyModel({ maxLength: 3 }),
        annotator: 'rm',
        provider: 'cpu',
        workerPath: await buildWorker(),
      }),
    ).rejects.toThrow(UsageError);
    await store.close();
  });

  it('a model with a chat template is scored through it in the worker; its provenance says so', async () => {
    const { store } = await storeWithPairs(
      [{ prompt: '\n\nHuman: Hi there\n\nAssistant:', y0: 'Sure', y1: 'Nope' }],
      'chat',
    );
    // The template's ids (the RewardScorer test above): "Sure" 12, "Nope" 10, so y0 is preferred (-1).
    const model = writeTemplateModel({
      chatTemplate: LLAMA3_TEMPLATE,
      onnx: { weights: { [BOS]: 10, [EOT]: 0.5, 12: 1, 13: -1 }, typeIds: true },
    });
    const s = await runOnnxJudge(store, {
      dataset: 'chat',
      modelDir: model,
      annotator: 'llama-rm',
      provider: 'cpu',
      workerPath: await buildWorker(),
    });
    const file = join(model, 'tokenizer_config.json');
    expect(s).toMatchObject({ scored: 1, input: 'chat template', chatTemplateFile: file, maxLength: 64 });
    const row = await store.db.get<{ value: number; score_y0: number; score_y1: number }>(
      'SELECT value, score_y0, score_y1 FROM preferences',
    );
    expect(row!.value).toBe(-1);
    expect(row!.score_y0).toBeCloseTo(12, 5);
    expect(row!.score_y1).toBeCloseTo(10, 5);
    const a = await store.requireAnnotator('llama-rm');
    expect(a.provenance).toMatchObject({ input: 'chat template', chat_template_file: file, max_length: 64 });
    await store.close();
  });

  it('a conversation the template refuses is one error naming the pair and the response, nothing written', async () => {
    const { store } = await storeWithPairs(
      [
        { prompt: '\n\nHuman: Hi\n\nAssistant:', y0: 'Sure', y1: 'Nope' },
        { prompt: 'Be kind.\n\nHuman: Hi\n\nAssistant:', y0: 'Sure', y1: 'Nope' },
      ],
      'chat',
    );
    const before = await dumpDatabase(store);
    // Gemma's and Mistral's templates refuse a system message the same way.
    const model = writeTemplateModel({
      chatTemplate:
        "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}" +
        "{% for m in messages %}{{ '<|eot_id|>' + m.content }}{% endfor %}",
      onnx: { weights: { 12: 1 } },
    });
    const err = await runOnnxJudge(store, {
      dataset: 'chat',
      modelDir: model,
      annotator: 'gemma-like',
      provider: 'cpu',
      workerPath: await buildWorker(),
    }).catch((e) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toBe(
      `${join(model, 'tokenizer_config.json')}: field "chat_template": dataset "chat" pair 1 (source id "p1"), response y0: the chat template refused this conversation: System role not supported`,
    );
    expect(await dumpDatabase(store)).toEqual(before);
    await store.close();
  });

  it('bad model folders: one error naming the file, nothing written', async () => {
    const { store } = await setup();
    const before = await dumpDatabase(store);
    const noTokenizer = writeTinyModel();
    rmSync(join(noTokenizer, 'tokenizer.json'));
    await expect(
      runOnnxJudge(store, { dataset: 'tiny', modelDir: noTokenizer, annotator: 'rm', workerPath: await buildWorker() }),
    ).rejects.toThrow(new RegExp(`${join(noTokenizer, 'tokenizer.json').replace(/[/.]/g, '\\$&')}: missing`));
    const brokenOnnx = writeTinyModel();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(brokenOnnx, 'onnx', 'model.onnx'), 'not a model');
    const err = await runOnnxJudge(store, {
      dataset: 'tiny',
      modelDir: brokenOnnx,
      annotator: 'rm',
      provider: 'cpu',
      workerPath: await buildWorker(),
    }).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(String(err.message)).toContain(join(brokenOnnx, 'onnx', 'model.onnx'));
    const badJson = writeTinyModel();
    writeFileSync(join(badJson, 'tokenizer_config.json'), '{"model_max_length": "long"}');
    await expect(
      runOnnxJudge(store, { dataset: 'tiny', modelDir: badJson, annotator: 'rm', workerPath: await buildWorker() }),
    ).rejects.toThrow(InputError);
    expect(await dumpDatabase(store)).toEqual(before);
    expect(existsSync(noTokenizer)).toBe(true);
    await store.close();
  });
});
