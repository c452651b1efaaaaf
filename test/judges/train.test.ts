// train-rm: a seeded Bradley-Terry model written in the Hugging Face layout, executed by the real
// runner (onnxruntime session, worker process), on a synthetic rule and on HH-RLHF harmless-base.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors';
import { importDataset } from '../../src/importers/datasets';
import { runOnnxJudge } from '../../src/judges/onnxJudge';
import { RewardScorer } from '../../src/judges/scorer';
import { trainRewardModel } from '../../src/app/judges';
import { HH_FILE, openTempStore, sharedDataSkipReason, tempDir } from '../support/helpers';
import { PAIR_MAPPING, buildWorker, writePairsFile } from './support';

// A rule any bag-of-words model learns: the refusal ("sorry ... cannot") is always preferred.
const TOPICS = ['locks', 'poison', 'passwords', 'weapons', 'stalking', 'fraud', 'malware', 'drugs', 'theft', 'arson'];
function rulePairs() {
  const pairs: { prompt: string; y0: string; y1: string; preferred: string }[] = [];
  TOPICS.forEach((t, i) => {
    for (let k = 0; k < 4; k++) {
      const refusal = `I am sorry, I cannot help with ${t}. Variant ${k}.`;
      const comply = `Sure, here is how to do ${t}: step one, step two. Variant ${k}.`;
      const refusalIsY1 = (i + k) % 2 === 0;
      pairs.push({ prompt: `How do I do ${t}?`, y0: refusalIsY1 ? comply : refusal, y1: refusalIsY1 ? refusal : comply, preferred: refusalIsY1 ? '1' : '0' });
    }
  });
  return pairs;
}

describe('train-rm', () => {
  it('learns a clear rule, writes a loadable HF-layout folder the runner executes, deterministically', async () => {
    const { store } = await openTempStore();
    const pairs = rulePairs();
    await importDataset(store, { format: 'jsonl', file: writePairsFile(pairs), dataset: 'rule', mapping: PAIR_MAPPING });
    const out = join(tempDir(), 'rm');
    const r = await trainRewardModel(store, { dataset: 'rule', annotator: 'human', out, seed: 7 });
    expect(r).toMatchObject({ train_pairs: 20, test_pairs: 20, accuracy: 1, model_dir: out });
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx']) expect(readFileSync(join(out, f)).length).toBeGreaterThan(0);
    const tj = JSON.parse(readFileSync(join(out, 'tokenizer.json'), 'utf8'));
    expect(tj.model.type).toBe('WordPiece');
    const tok = new Tokenizer(tj, JSON.parse(readFileSync(join(out, 'tokenizer_config.json'), 'utf8')));
    expect(tok.encode('Sorry').tokens).toEqual(['sorry']);

    const s = await RewardScorer.open(out, { provider: 'cpu' });
    try {
      const res = await s.score(pairs.flatMap((p) => [{ prompt: p.prompt, response: p.y0 }, { prompt: p.prompt, response: p.y1 }]));
      pairs.forEach((p, i) => {
        const [r0, r1] = [res.scores[2 * i], res.scores[2 * i + 1]];
        expect(Math.sign(r1 - r0)).toBe(p.preferred === '1' ? 1 : -1);
      });
    } finally {
      await s.release();
    }

    const again = join(tempDir(), 'rm2');
    await trainRewardModel(store, { dataset: 'rule', annotator: 'human', out: again, seed: 7 });
    expect(readFileSync(join(again, 'onnx', 'model.onnx')).equals(readFileSync(join(out, 'onnx', 'model.onnx')))).toBe(true);
    expect(readFileSync(join(again, 'tokenizer.json'), 'utf8')).toBe(readFileSync(join(out, 'tokenizer.json'), 'utf8'));
    await store.close();
  });

  it('bad requests: one clear error, no folder written', async () => {
    const { store } = await openTempStore();
    await importDataset(store, { format: 'jsonl', file: writePairsFile(rulePairs()), dataset: 'rule', mapping: PAIR_MAPPING });
    const out = join(tempDir(), 'never');
    await expect(trainRewardModel(store, { dataset: 'rule', annotator: 'nobody', out })).rejects.toThrow(/unknown annotator "nobody"/);
    await expect(trainRewardModel(store, { dataset: 'nope', annotator: 'human', out })).rejects.toThrow(UsageError);
    await expect(trainRewardModel(store, { dataset: 'rule', annotator: 'human', out, holdout: 1 })).rejects.toMatchObject({ message: expect.stringMatching(/held-out share must be between 0 and 1/), option: 'holdout' });
    const occupied = tempDir();
    mkdirSync(join(occupied, 'x'));
    writeFileSync(join(occupied, 'x', 'notes.txt'), 'mine');
    await expect(trainRewardModel(store, { dataset: 'rule', annotator: 'human', out: join(occupied, 'x') })).rejects.toMatchObject({ message: expect.stringMatching(/not a model folder/), option: 'out' });
    expect(readFileSync(join(occupied, 'x', 'notes.txt'), 'utf8')).toBe('mine');
    await store.close();
  });

  it.skipIf(!!sharedDataSkipReason())('HH-RLHF harmless-base: >= 0.60 held-out accuracy; the runner reproduces the trainer', async () => {
    const { store } = await openTempStore();
    await importDataset(store, { format: 'hh-rlhf', file: HH_FILE, dataset: 'hh' });
    const out = join(tempDir(), 'rm-hh');
    const r = await trainRewardModel(store, { dataset: 'hh', annotator: 'human', out, holdout: 0.5, seed: 1 });
    expect(r.train_pairs + r.test_pairs).toBe(2312);
    expect(r.accuracy!).toBeGreaterThanOrEqual(0.6);
    const s = await runOnnxJudge(store, { dataset: 'hh', modelDir: out, annotator: 'rm', provider: 'cpu', workerPath: await buildWorker() });
    expect(s.scored).toBe(2312);
    // The human prefers y1 everywhere, so the runner's share of +1 must equal the trainer's accuracies
    // weighted by split size (up to float32 rounding of near-ties).
    const agree = (await store.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM preferences pr JOIN annotators a ON a.id = pr.annotator_id WHERE a.name = 'rm' AND pr.value = 1"))!.n;
    const expected = r.train_accuracy * r.train_pairs + r.accuracy! * r.test_pairs;
    expect(Math.abs(agree - expected)).toBeLessThanOrEqual(2);
    await store.close();
  }, 120_000);
});
