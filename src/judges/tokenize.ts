// The model's own tokenizer (tokenizer.json + tokenizer_config.json, loaded by @huggingface/tokenizers)
// and how one (prompt, response) pair becomes model inputs: the tokenizer's pair encoding, then
// truncation to the model's max length on the side its config names (the JS library does not truncate).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { InputError } from '../core/errors';

export interface TokenizerSettings {
  maxLength: number;
  truncationSide: 'left' | 'right';
  padId: number;
}

export interface EncodedPair {
  ids: number[];
  typeIds: number[];
  truncated: boolean;
}

/**
 * The length when neither the tokenizer nor the model names one (`model_max_length` of tokenizers without a
 * limit is often 1e30, and config.json may lack `max_position_embeddings`).
 */
const DEFAULT_MAX_LENGTH = 512;

/** A JSON object file of a model folder; an unreadable or malformed one is an InputError naming it. */
export function readJson(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(file, null, null, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const v = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new InputError(file, null, null, `not valid JSON: ${(e as Error).message}`);
  }
}

export function loadTokenizer(modelDir: string): {
  tokenizer: Tokenizer;
  settings: TokenizerSettings;
  tokenizerJson: Record<string, unknown>;
  config: Record<string, unknown>;
} {
  const tokFile = join(modelDir, 'tokenizer.json');
  const cfgFile = join(modelDir, 'tokenizer_config.json');
  const tokenizerJson = readJson(tokFile);
  const config = readJson(cfgFile);
  const modelFile = join(modelDir, 'config.json');
  const positions = existsSync(modelFile) ? readJson(modelFile).max_position_embeddings : undefined;
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(tokenizerJson, config);
  } catch (e) {
    throw new InputError(
      tokFile,
      null,
      'model',
      `not a tokenizer the tokenizers library can load: ${(e as Error).message}`,
    );
  }
  return {
    tokenizer,
    settings: tokenizerSettings(tokenizer, config, cfgFile, typeof positions === 'number' ? positions : undefined),
    tokenizerJson,
    config,
  };
}

/**
 * The max length, truncation side and pad id of tokenizer_config.json. `positions` (config.json's
 * `max_position_embeddings`) bounds a tokenizer that names no limit: Llama-style models save
 * `model_max_length` 1e30, and their reward models take 8192 tokens, not the default 512.
 */
export function tokenizerSettings(
  tokenizer: Tokenizer,
  config: Record<string, unknown>,
  cfgFile: string,
  positions?: number,
): TokenizerSettings {
  let maxLength =
    positions !== undefined && positions >= 1 && positions < 1e6 ? Math.floor(positions) : DEFAULT_MAX_LENGTH;
  const m = config.model_max_length;
  if (m !== undefined) {
    if (typeof m !== 'number' || !(m >= 1))
      throw new InputError(cfgFile, null, 'model_max_length', 'must be a positive number');
    if (m < 1e6) maxLength = Math.floor(m);
  }
  const side = config.truncation_side ?? 'right';
  if (side !== 'left' && side !== 'right')
    throw new InputError(cfgFile, null, 'truncation_side', `must be "left" or "right", not ${JSON.stringify(side)}`);
  const padToken =
    typeof config.pad_token === 'string'
      ? config.pad_token
      : typeof (config.pad_token as { content?: unknown })?.content === 'string'
        ? (config.pad_token as { content: string }).content
        : undefined;
  const padId = (padToken !== undefined ? tokenizer.token_to_id(padToken) : undefined) ?? 0;
  return { maxLength, truncationSide: side, padId };
}

/** The pair encoding ((prompt, response) as text and text_pair), truncated to the max length. */
export function encodePair(tokenizer: Tokenizer, s: TokenizerSettings, prompt: string, response: string): EncodedPair {
  const e = tokenizer.encode(prompt, { text_pair: response, return_token_type_ids: true });
  return truncate(e.ids, e.token_type_ids ?? new Array<number>(e.ids.length).fill(0), s);
}

/**
 * The same pair encoding as `encodePair` (and as the library's `encode(prompt, { text_pair })`: each
 * text tokenised on its own, then the post-processor), but the prompt's tokens are kept for the
 * next call: y0 and y1 share their prompt, and long conversations dominate tokenisation time.
 */
export class PairEncoder {
  private lastPrompt: string | undefined;
  private lastPromptTokens: string[] = [];
  private readonly ids = new Map<string, number>();
  private readonly unkId: number;

  constructor(
    readonly tokenizer: Tokenizer,
    readonly settings: TokenizerSettings,
  ) {
    // Token -> id exactly as the library's encode(): added tokens, then the vocabulary, then unk.
    for (const [k, v] of tokenizer.model?.tokens_to_ids ?? []) this.ids.set(k, v);
    for (const [id, t] of tokenizer.get_added_tokens_decoder()) this.ids.set(t.content, id);
    this.unkId = tokenizer.model?.unk_token_id ?? 0;
  }

  encode(prompt: string, response: string): EncodedPair {
    if (prompt !== this.lastPrompt) {
      this.lastPromptTokens = this.tokenizer.tokenize(prompt);
      this.lastPrompt = prompt;
    }
    // Like the library, an empty response is no pair at all (the single-sequence template).
    const b = response === '' ? null : this.tokenizer.tokenize(response);
    const pp = this.tokenizer.post_processor
      ? this.tokenizer.post_processor([...this.lastPromptTokens], b, true)
      : { tokens: [...this.lastPromptTokens, ...(b ?? [])], token_type_ids: undefined };
    const ids = pp.tokens.map((t) => this.ids.get(t) ?? this.unkId);
    return truncate(ids, pp.token_type_ids ?? new Array<number>(ids.length).fill(0), this.settings);
  }
}

/** Cut an encoding to the max length on the truncation side (the JS tokenizers library does not truncate). */
export function truncate(ids: number[], typeIds: number[], s: TokenizerSettings): EncodedPair {
  const truncated = ids.length > s.maxLength;
  if (truncated) {
    if (s.truncationSide === 'left') {
      ids = ids.slice(ids.length - s.maxLength);
      typeIds = typeIds.slice(typeIds.length - s.maxLength);
    } else {
      ids = ids.slice(0, s.maxLength);
      typeIds = typeIds.slice(0, s.maxLength);
    }
  }
  return { ids, typeIds, truncated };
}
