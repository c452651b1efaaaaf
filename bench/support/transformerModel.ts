// A BERT-style transformer-encoder reward model with random weights, for benchmarks and the GPU
// check: realistic size and operators (embeddings, LayerNorm, multi-head attention with a padding
// mask, GELU feed-forward, CLS pooling, one logit), written with the same ONNX writer as train-rm.
// Seeded: the same options give byte-identical files. Weights are large (about 90 MB for 6 x 512):
// build into an ignored folder, never into git.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { special } from '../../src/judges/bowModel';
import { DType, GraphBuilder, tensor } from '../../src/judges/onnxProto';
import { rng } from '../../src/judges/trainRm';

export interface TransformerOptions {
  layers?: number;
  hidden?: number;
  heads?: number;
  ffn?: number;
  maxLength?: number;
  seed?: number;
  /** Words of the WordPiece vocabulary (specials and single characters are added). */
  words: string[];
}

export function wordPieceTokenizerJson(words: string[]): { json: Record<string, unknown>; vocabSize: number } {
  const vocab: Record<string, number> = { '[PAD]': 0, '[UNK]': 1, '[CLS]': 2, '[SEP]': 3 };
  const add = (t: string) => {
    if (!(t in vocab)) vocab[t] = Object.keys(vocab).length;
  };
  // Every printable ASCII character, alone and as a continuation, so that any English word splits.
  for (let c = 33; c < 127; c++) {
    add(String.fromCharCode(c).toLowerCase());
    add('##' + String.fromCharCode(c).toLowerCase());
  }
  for (const w of words) add(w);
  return {
    vocabSize: Object.keys(vocab).length,
    json: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: ['[PAD]', '[UNK]', '[CLS]', '[SEP]'].map((t, i) => special(i, t)),
      normalizer: {
        type: 'BertNormalizer',
        clean_text: true,
        handle_chinese_chars: true,
        strip_accents: null,
        lowercase: true,
      },
      pre_tokenizer: { type: 'BertPreTokenizer' },
      post_processor: {
        type: 'TemplateProcessing',
        single: [
          { SpecialToken: { id: '[CLS]', type_id: 0 } },
          { Sequence: { id: 'A', type_id: 0 } },
          { SpecialToken: { id: '[SEP]', type_id: 0 } },
        ],
        pair: [
          { SpecialToken: { id: '[CLS]', type_id: 0 } },
          { Sequence: { id: 'A', type_id: 0 } },
          { SpecialToken: { id: '[SEP]', type_id: 0 } },
          { Sequence: { id: 'B', type_id: 1 } },
          { SpecialToken: { id: '[SEP]', type_id: 1 } },
        ],
        special_tokens: {
          '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
          '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
        },
      },
      decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
      model: {
        type: 'WordPiece',
        unk_token: '[UNK]',
        continuing_subword_prefix: '##',
        max_input_chars_per_word: 100,
        vocab,
      },
    },
  };
}

/** Writes config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx into `dir`. */
export function buildTransformerModel(dir: string, o: TransformerOptions): { params: number; bytes: number } {
  const L = o.layers ?? 6,
    H = o.hidden ?? 512,
    NH = o.heads ?? 8,
    F = o.ffn ?? 4 * H,
    S = o.maxLength ?? 256;
  if (H % NH !== 0) throw new Error(`hidden ${H} is not a multiple of heads ${NH}`);
  const DH = H / NH;
  const { json: tokJson, vocabSize: V } = wordPieceTokenizerJson(o.words);
  const rand = rng(o.seed ?? 1234);
  let params = 0;
  const g = new GraphBuilder('discretion_bench_transformer');
  // Uniform(-a, a) with a = std * sqrt(3).
  const weight = (name: string, dims: number[], std: number) => {
    const n = dims.reduce((x, y) => x * y, 1);
    const a = std * Math.sqrt(3);
    const d = new Float32Array(n);
    for (let i = 0; i < n; i++) d[i] = (rand() * 2 - 1) * a;
    params += n;
    return g.init(tensor(name, dims, d));
  };
  const filled = (name: string, dims: number[], v: number) => {
    const n = dims.reduce((x, y) => x * y, 1);
    params += n;
    return g.init(tensor(name, dims, new Float32Array(n).fill(v)));
  };
  const ln = (x: string, name: string) =>
    g.op('LayerNormalization', [x, filled(`${name}.gamma`, [H], 1), filled(`${name}.beta`, [H], 0)], {
      axis: -1,
      epsilon: 1e-12,
    });
  const linear = (x: string, name: string, i: number, out: number, std = 0.02) =>
    g.op('Add', [g.op('MatMul', [x, weight(`${name}.weight`, [i, out], std)]), filled(`${name}.bias`, [out], 0)]);

  // Embeddings: word + position, LayerNorm.
  const shape = g.op('Shape', ['input_ids']);
  const seqLen = g.op('Gather', [shape, g.init(tensor('one_i64', [], [1], DType.INT64))], { axis: 0 });
  const positions = g.op('Range', [g.init(tensor('zero_i64', [], [0], DType.INT64)), seqLen, 'one_i64']);
  const emb = g.op('Add', [
    g.op('Gather', [weight('embeddings.word', [V, H], 0.02), 'input_ids'], { axis: 0 }),
    g.op('Gather', [weight('embeddings.position', [S, H], 0.02), positions], { axis: 0 }),
  ]);
  let x = ln(emb, 'embeddings.ln');
  // Additive mask [B, 1, 1, S]: 0 for tokens, -10000 for padding.
  const maskF = g.op('Cast', ['attention_mask'], { to: DType.FLOAT });
  const maskBias = g.op('Unsqueeze', [
    g.op('Mul', [g.op('Sub', [g.scalar(1), maskF]), g.scalar(-10000)]),
    g.ints([1, 2]),
  ]);
  const headsShape = g.ints([0, 0, NH, DH]);
  const mergeShape = g.ints([0, 0, H]);
  const invSqrt = g.scalar(1 / Math.sqrt(DH));
  for (let l = 0; l < L; l++) {
    const p = `layer${l}`;
    const split = (t: string, perm: number[]) => g.op('Transpose', [g.op('Reshape', [t, headsShape])], { perm });
    const q = split(linear(x, `${p}.q`, H, H), [0, 2, 1, 3]);
    const k = split(linear(x, `${p}.k`, H, H), [0, 2, 3, 1]);
    const v = split(linear(x, `${p}.v`, H, H), [0, 2, 1, 3]);
    const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [q, k]), invSqrt]), maskBias]);
    const ctx = g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }), v]);
    const merged = g.op('Reshape', [g.op('Transpose', [ctx], { perm: [0, 2, 1, 3] }), mergeShape]);
    x = ln(g.op('Add', [x, linear(merged, `${p}.o`, H, H)]), `${p}.ln1`);
    const h = linear(x, `${p}.ffn1`, H, F);
    const gelu = g.op('Mul', [
      g.op('Mul', [h, g.scalar(0.5)]),
      g.op('Add', [g.scalar(1), g.op('Erf', [g.op('Div', [h, g.scalar(Math.SQRT2)])])]),
    ]);
    x = ln(g.op('Add', [x, linear(gelu, `${p}.ffn2`, F, H)]), `${p}.ln2`);
  }
  // CLS pooling, tanh, one logit (std 1/sqrt(H) so that rewards are of order 1).
  const cls = g.op('Gather', [x, g.init(tensor('zero_scalar', [], [0], DType.INT64))], { axis: 1 });
  const pooled = g.op('Tanh', [linear(cls, 'pooler', H, H, 1 / Math.sqrt(H))]);
  g.op(
    'Add',
    [
      g.op('MatMul', [pooled, weight('classifier.weight', [H, 1], 1 / Math.sqrt(H))]),
      filled('classifier.bias', [1], 0),
    ],
    undefined,
    'logits',
  );
  const bytes = g.encode(
    [
      { name: 'input_ids', dtype: DType.INT64, shape: ['batch', 'sequence'] },
      { name: 'attention_mask', dtype: DType.INT64, shape: ['batch', 'sequence'] },
    ],
    [{ name: 'logits', dtype: DType.FLOAT, shape: ['batch', 1] }],
    {
      opset: 17,
      doc: `random-weight transformer encoder reward model (${L} layers, hidden ${H}, ${NH} heads, ffn ${F}, max length ${S})`,
    },
  );
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  writeFileSync(join(dir, 'onnx', 'model.onnx'), bytes);
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokJson));
  writeFileSync(
    join(dir, 'tokenizer_config.json'),
    JSON.stringify(
      {
        tokenizer_class: 'BertTokenizerFast',
        model_max_length: S,
        truncation_side: 'left',
        padding_side: 'right',
        pad_token: '[PAD]',
        unk_token: '[UNK]',
        cls_token: '[CLS]',
        sep_token: '[SEP]',
        model_input_names: ['input_ids', 'attention_mask'],
      },
      null,
      2,
    ),
  );
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify(
      {
        architectures: ['BenchTransformerRewardModel'],
        model_type: 'bert',
        num_labels: 1,
        num_hidden_layers: L,
        hidden_size: H,
        num_attention_heads: NH,
        intermediate_size: F,
        max_position_embeddings: S,
        vocab_size: V,
        initializer_seed: o.seed ?? 1234,
        random_weights: true,
      },
      null,
      2,
    ),
  );
  return { params, bytes: bytes.length };
}
