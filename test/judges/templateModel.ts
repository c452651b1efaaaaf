// A tiny model folder shaped like a Llama-3 reward model's: tokenizer.json as Meta-Llama-3-8B-Instruct's
// (byte-level BPE with `ignore_merges`, its pre-tokenizer regex, a post-processor that adds
// <|begin_of_text|> like its TemplateProcessing), tokenizer_config.json with its chat template, and
// optionally an ONNX graph that sums one weight per token, so that which tokens the model got is the score.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { special } from '../../src/judges/bowModel';
import { DType, GraphBuilder, tensor } from '../../src/judges/onnxProto';
import { tempDir } from '../support/helpers';

/** Meta-Llama-3-8B-Instruct's tokenizer_config.json `chat_template` (it writes bos_token itself). */
export const LLAMA3_TEMPLATE =
  "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";

export const BOS = 100;
export const END_OF_TEXT = 101;
export const START_HEADER = 102;
export const END_HEADER = 103;
export const EOT = 104;

/**
 * The vocabulary, as byte-level BPE writes tokens: "Ġ" is a leading space, "Ċ" a newline. Every word of the
 * tests is one whole token (`ignore_merges`, as Llama-3's: a pre-token found in the vocabulary is not merged);
 * a word not in it is dropped (no unk token, as Llama-3 has none).
 */
export const VOCAB: Readonly<Record<string, number>> = {
  system: 0,
  user: 1,
  assistant: 2,
  ĊĊ: 3,
  Be: 4,
  Ġkind: 5,
  '.': 6,
  Hi: 7,
  Ġthere: 8,
  Hello: 9,
  Help: 10,
  Ġme: 11,
  Sure: 12,
  Nope: 13,
};

export function llama3TokenizerJson(): Record<string, unknown> {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      special(BOS, '<|begin_of_text|>'),
      special(END_OF_TEXT, '<|end_of_text|>'),
      special(START_HEADER, '<|start_header_id|>'),
      special(END_HEADER, '<|end_header_id|>'),
      special(EOT, '<|eot_id|>'),
    ],
    normalizer: null,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        {
          type: 'Split',
          pattern: {
            Regex:
              "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
          },
          behavior: 'Isolated',
          invert: false,
        },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: 'Sequence',
      processors: [
        { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
        {
          type: 'TemplateProcessing',
          single: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [
            { SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } },
            { Sequence: { id: 'A', type_id: 0 } },
            { SpecialToken: { id: '<|begin_of_text|>', type_id: 1 } },
            { Sequence: { id: 'B', type_id: 1 } },
          ],
          special_tokens: {
            '<|begin_of_text|>': { id: '<|begin_of_text|>', ids: [BOS], tokens: ['<|begin_of_text|>'] },
          },
        },
      ],
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: true,
      vocab: VOCAB,
      merges: [],
    },
  };
}

export interface TemplateModelOptions {
  /** tokenizer_config.json's chat_template (left out when undefined). */
  chatTemplate?: unknown;
  bosToken?: unknown;
  maxLength?: number;
  truncationSide?: 'left' | 'right';
  /** Write onnx/model.onnx and config.json too (a model the scorer can run). */
  onnx?: { weights: Record<number, number>; typeIds?: boolean; positionIds?: boolean };
}

export function writeTemplateModel(o: TemplateModelOptions = {}): string {
  const dir = join(tempDir('template-rm-'), 'model');
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(llama3TokenizerJson()));
  writeFileSync(
    join(dir, 'tokenizer_config.json'),
    JSON.stringify({
      tokenizer_class: 'PreTrainedTokenizerFast',
      bos_token: o.bosToken ?? '<|begin_of_text|>',
      eos_token: '<|eot_id|>',
      pad_token: '<|end_of_text|>',
      model_max_length: o.maxLength ?? 1000000000000000019884624838656,
      truncation_side: o.truncationSide ?? 'left',
      model_input_names: ['input_ids', 'attention_mask'],
      ...(o.chatTemplate === undefined ? {} : { chat_template: o.chatTemplate }),
    }),
  );
  if (o.onnx) {
    writeFileSync(join(dir, 'onnx', 'model.onnx'), tokenSumOnnx(o.onnx));
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({ model_type: 'llama', num_labels: 1, max_position_embeddings: 64 }),
    );
  }
  return dir;
}

/**
 * logits = sum_t w[input_ids_t] * attention_mask_t; with `typeIds` a token_type_ids input too, adding
 * 1000 * sum_t token_type_ids_t * attention_mask_t (a template's sequence, all types 0, adds nothing); with
 * `positionIds` a position_ids input, adding sum_t position_ids_t * attention_mask_t (n(n-1)/2 for 0..n-1).
 */
function tokenSumOnnx(o: { weights: Record<number, number>; typeIds?: boolean; positionIds?: boolean }): Uint8Array {
  const { weights, typeIds = false, positionIds = false } = o;
  const w = new Float32Array(EOT + 1);
  for (const [id, v] of Object.entries(weights)) w[Number(id)] = v;
  const g = new GraphBuilder('token_sum');
  const W = g.init(tensor('w', [w.length], w));
  const axis1 = g.ints([1], 'axis1');
  const mask = g.op('Cast', ['attention_mask'], { to: DType.FLOAT });
  const perToken = g.op('Mul', [g.op('Gather', [W, 'input_ids'], { axis: 0 }), mask]);
  let sum = g.op('ReduceSum', [perToken, axis1], { keepdims: 0 });
  if (typeIds) {
    const types = g.op('Mul', [g.op('Cast', ['token_type_ids'], { to: DType.FLOAT }), mask]);
    const typeSum = g.op('ReduceSum', [types, axis1], { keepdims: 0 });
    sum = g.op('Add', [sum, g.op('Mul', [typeSum, g.scalar(1000, 'thousand')])]);
  }
  if (positionIds) {
    const positions = g.op('Mul', [g.op('Cast', ['position_ids'], { to: DType.FLOAT }), mask]);
    sum = g.op('Add', [sum, g.op('ReduceSum', [positions, axis1], { keepdims: 0 })]);
  }
  g.op('Unsqueeze', [sum, axis1], undefined, 'logits');
  const inputs = [
    'input_ids',
    'attention_mask',
    ...(typeIds ? ['token_type_ids'] : []),
    ...(positionIds ? ['position_ids'] : []),
  ];
  return g.encode(
    inputs.map((name) => ({ name, dtype: DType.INT64, shape: ['batch', 'sequence'] })),
    [{ name: 'logits', dtype: DType.FLOAT, shape: ['batch', 1] }],
    { opset: 17, doc: 'sum of one weight per token (Discretion Workbench tests)', metadata: {} },
  );
}
