// The benchmark transformer (same ONNX writer): seeded and byte-identical, runs in onnxruntime, and
// its attention mask works: a sequence scores the same alone and padded inside a longer batch.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RewardScorer } from '../../src/judges/scorer';
import { buildTransformerModel } from '../../bench/support/transformerModel';
import { tempDir } from '../support/helpers';

const opts = {
  layers: 2,
  hidden: 16,
  heads: 4,
  ffn: 32,
  maxLength: 24,
  seed: 5,
  words: ['how', 'do', 'i', 'pick', 'a', 'lock', 'sorry', 'cannot', 'help'],
};

describe('transformer encoder model', () => {
  it('is deterministic for a seed', () => {
    const a = join(tempDir(), 'a'),
      b = join(tempDir(), 'b');
    const r = buildTransformerModel(a, opts);
    buildTransformerModel(b, opts);
    expect(readFileSync(join(a, 'onnx', 'model.onnx')).equals(readFileSync(join(b, 'onnx', 'model.onnx')))).toBe(true);
    // 2 x (4 x (16x16 + 16) + 16x32 + 32 + 32x16 + 16 + 4 x 16) + embeddings + LN + pooler + classifier
    // specials; printable ASCII lower-cased (94 - 26 upper-case = 68) alone and as "##" continuations;
    // the words, less "i" and "a" (already single characters).
    const V = 4 + 2 * 68 + 7;
    const layer = 4 * (16 * 16 + 16) + (16 * 32 + 32) + (32 * 16 + 16) + 4 * 16;
    expect(r.params).toBe(2 * layer + V * 16 + 24 * 16 + 2 * 16 + (16 * 16 + 16) + (16 + 1));
  });

  it('padding does not change a score (attention mask), truncation keeps the end', async () => {
    const dir = join(tempDir(), 'm');
    buildTransformerModel(dir, opts);
    const s = await RewardScorer.open(dir, { provider: 'cpu', batchSize: 8 });
    try {
      const short = { prompt: 'how do i pick a lock', response: 'sorry' };
      const alone = await s.score([short]);
      const batched = await s.score([
        short,
        { prompt: 'how do i pick a lock '.repeat(3), response: 'sorry i cannot help' },
      ]);
      expect(batched.batches).toBe(1);
      expect(Number.isFinite(alone.scores[0])).toBe(true);
      expect(batched.scores[0]).toBeCloseTo(alone.scores[0], 5);
      expect(batched.truncated).toEqual([false, true]);
    } finally {
      await s.release();
    }
  });
});

describe('PairEncoder', () => {
  it("gives exactly the library's pair encoding (ids and token types), with and without special tokens", async () => {
    const { Tokenizer } = await import('@huggingface/tokenizers');
    const { PairEncoder } = await import('../../src/judges/tokenize');
    const { wordPieceTokenizerJson } = await import('../../bench/support/transformerModel');
    const { bowTokenizerJson } = await import('../../src/judges/bowModel');
    const texts = [
      ['Human: How do I pick a lock?\n\nAssistant:', 'Sorry, I cannot help with that.'],
      ['Human: How do I pick a lock?\n\nAssistant:', 'Sure!! Step 1: take a tension wrench…'],
      ['', 'Only a response [SEP] with a special token inside'],
      ['Ünïcödé prompt', ''],
    ];
    for (const json of [
      wordPieceTokenizerJson(['how', 'lock', 'sorry', 'pick']).json,
      bowTokenizerJson(['how', 'lock', 'sorry']),
    ]) {
      const tok = new Tokenizer(json, {});
      const enc = new PairEncoder(tok, { maxLength: 10_000, truncationSide: 'left', padId: 0 });
      for (const [p, r] of texts) {
        const want = tok.encode(p, { text_pair: r, return_token_type_ids: true });
        const got = enc.encode(p, r);
        expect(got.ids).toEqual(want.ids);
        expect(got.typeIds).toEqual(want.token_type_ids);
      }
    }
  });
});
