// The trained reward model's format: a linear Bradley-Terry model over the response's word unigrams
// (the tokenizer's WordPiece vocabulary of training words) and hashed word bigrams, scaled by
// 1/sqrt(response length). Everything here is what both the trainer and the ONNX graph compute:
//
//   r(x, y) = bias + (sum_t u[id_t] + sum_t v[(id_t * M + id_{t+1}) mod B]) / sqrt(max(n, 1))
//
// over the response tokens (token_type_id 1 of the tokenizer's pair encoding) t, n of them, where
// bigrams count only when both tokens are response tokens. The prompt enters only through truncation.
import { DType, GraphBuilder, tensor } from './onnxProto';

export const BOW_ARCHITECTURE = 'DiscretionBowRewardModel';
export const PAD = '[PAD]';
export const UNK = '[UNK]';

export interface BowShape {
  vocabSize: number;
  buckets: number;
  multiplier: number;
}

/** A tokenizer.json `added_tokens` entry for a special token (also the test and bench model builders'). */
export const special = (id: number, content: string) => ({
  id,
  content,
  single_word: false,
  lstrip: false,
  rstrip: false,
  normalized: false,
  special: true,
});

/** tokenizer.json (Hugging Face tokenizers format): NFKC + lowercase, BERT pre-tokenizer, WordPiece over whole words. */
export function bowTokenizerJson(words: string[]): Record<string, unknown> {
  const vocab: Record<string, number> = { [PAD]: 0, [UNK]: 1 };
  for (const w of words) if (!(w in vocab)) vocab[w] = Object.keys(vocab).length;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(0, PAD), special(1, UNK)],
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFKC' }, { type: 'Lowercase' }] },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: {},
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: UNK, continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
}

export function bowTokenizerConfig(maxLength: number): Record<string, unknown> {
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    model_max_length: maxLength,
    // Left: a long conversation loses its oldest turns first and the response (at the end) is kept.
    truncation_side: 'left',
    padding_side: 'right',
    pad_token: PAD,
    unk_token: UNK,
    model_input_names: ['input_ids', 'token_type_ids', 'attention_mask'],
  };
}

/** Sparse feature vector (index -> value) of one encoded pair: unigram index = id, bigram index = vocabSize + bucket. */
export function bowFeatures(ids: number[], typeIds: number[], s: BowShape): Map<number, number> {
  const counts = new Map<number, number>();
  let n = 0;
  for (let t = 0; t < ids.length; t++) {
    if (typeIds[t] !== 1) continue;
    n++;
    counts.set(ids[t], (counts.get(ids[t]) ?? 0) + 1);
    if (t + 1 < ids.length && typeIds[t + 1] === 1) {
      // a*M + b stays far below 2^53 for any vocabulary we build (< 2^24 words, M < 2^24).
      const k = s.vocabSize + ((ids[t] * s.multiplier + ids[t + 1]) % s.buckets);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
  }
  const scale = 1 / Math.sqrt(Math.max(n, 1));
  for (const [k, v] of counts) counts.set(k, v * scale);
  return counts;
}

/**
 * The ONNX graph: input_ids, attention_mask, token_type_ids (int64 [batch, seq]) -> logits (float [batch, 1]).
 * Weights: unigram [vocabSize], bigram [buckets], bias [].
 */
export function bowOnnx(
  shape: BowShape,
  unigram: Float32Array,
  bigram: Float32Array,
  bias: number,
  metadata: Record<string, string> = {},
): Uint8Array {
  const g = new GraphBuilder('discretion_bow_reward');
  const U = g.init(tensor('unigram_weight', [shape.vocabSize], unigram));
  const V = g.init(tensor('bigram_weight', [shape.buckets], bigram));
  const bias_ = g.init(tensor('bias', [], new Float32Array([bias])));
  const M = g.init(tensor('hash_multiplier', [], [shape.multiplier], DType.INT64));
  const Bk = g.init(tensor('hash_buckets', [], [shape.buckets], DType.INT64));
  const axis1 = g.ints([1], 'axis1');

  // Response mask: attention_mask * token_type_ids, as float.
  const maskI = g.op('Mul', ['attention_mask', 'token_type_ids']);
  const mask = g.op('Cast', [maskI], { to: DType.FLOAT });
  // Unigrams.
  const u = g.op('Gather', [U, 'input_ids'], { axis: 0 });
  const su = g.op('ReduceSum', [g.op('Mul', [u, mask]), axis1], { keepdims: 0 });
  // Bigrams over positions (t, t+1).
  const start0 = g.ints([0]),
    endM1 = g.ints([-1]),
    start1 = g.ints([1]),
    endMax = g.ints([Number.MAX_SAFE_INTEGER]);
  const a = g.op('Slice', ['input_ids', start0, endM1, axis1]);
  const b = g.op('Slice', ['input_ids', start1, endMax, axis1]);
  const h = g.op('Mod', [g.op('Add', [g.op('Mul', [a, M]), b]), Bk], { fmod: 0 });
  const v = g.op('Gather', [V, h], { axis: 0 });
  const ma = g.op('Slice', [mask, start0, endM1, axis1]);
  const mb = g.op('Slice', [mask, start1, endMax, axis1]);
  const sb = g.op('ReduceSum', [g.op('Mul', [v, g.op('Mul', [ma, mb])]), axis1], { keepdims: 0 });
  // Scale by 1/sqrt(max(n, 1)).
  const n = g.op('ReduceSum', [mask, axis1], { keepdims: 0 });
  const denom = g.op('Sqrt', [g.op('Max', [n, g.scalar(1, 'one')])]);
  const r = g.op('Add', [g.op('Div', [g.op('Add', [su, sb]), denom]), bias_]);
  g.op('Unsqueeze', [r, axis1], undefined, 'logits');
  return g.encode(
    [
      { name: 'input_ids', dtype: DType.INT64, shape: ['batch', 'sequence'] },
      { name: 'attention_mask', dtype: DType.INT64, shape: ['batch', 'sequence'] },
      { name: 'token_type_ids', dtype: DType.INT64, shape: ['batch', 'sequence'] },
    ],
    [{ name: 'logits', dtype: DType.FLOAT, shape: ['batch', 1] }],
    {
      opset: 17,
      doc: 'Bradley-Terry reward model over response word unigrams and hashed bigrams (Discretion Workbench train-rm)',
      metadata,
    },
  );
}
