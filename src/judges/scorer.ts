// In-process scoring of (prompt, response) pairs with an ONNX reward model in the Hugging Face
// layout. Used by the worker process (worker.ts) and by the benchmark; never loaded on the
// extension host's thread. Execution providers are tried in order, because onnxruntime-node
// does not fall back by itself: asking for an unavailable one throws.
// A model's input: with a chat template (chatTemplate.ts), the template's rendering of the conversation
// (the prompt's turns, then the response as the assistant's), one sequence, token types all 0; without
// one (BERT-style cross-encoders), the tokenizer's text-pair encoding of (prompt, response).
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { InferenceSession as Session, Tensor as TensorT } from 'onnxruntime-node';
import type { Tokenizer } from '@huggingface/tokenizers';
import { responseConversation } from '../core/conversation';
import { InputError, UsageError } from '../core/errors';
import { ChatTemplateEncoder, readChatTemplate } from './chatTemplate';
import { type Provider, type ProviderChoice, checkModelFolder, providerOrder } from './modelFolder';
import { type EncodedPair, PairEncoder, type TokenizerSettings, loadTokenizer } from './tokenize';
import { ScoreItemError } from './workerProtocol';

export interface ProviderAttempt {
  provider: Provider;
  error: string;
}

/** onnxruntime's messages start with the source location and the failed check; keep the reason. */
function shortError(message: string): string {
  const first = message.split('\n')[0];
  const reason = /\bwas false\.\s*(.+)$/.exec(first)?.[1] ?? first.replace(/^\/onnxruntime_src\/\S+\s+/, '');
  return reason.trim();
}

export async function createSession(
  modelFile: string,
  choice: ProviderChoice,
  threads?: number,
): Promise<{ session: Session; provider: Provider; attempts: ProviderAttempt[] }> {
  const attempts: ProviderAttempt[] = [];
  for (const provider of providerOrder(choice)) {
    try {
      const session = await ort.InferenceSession.create(modelFile, {
        executionProviders: [provider],
        graphOptimizationLevel: 'all',
        ...(threads ? { intraOpNumThreads: threads } : {}),
      });
      return { session, provider, attempts };
    } catch (e) {
      attempts.push({ provider, error: shortError((e as Error).message) });
    }
  }
  const tried = attempts.map((a) => `${a.provider}: ${a.error}`).join('; ');
  if (attempts.every((a) => /protobuf|parse|invalid model|load model/i.test(a.error))) {
    throw new InputError(modelFile, null, null, `onnxruntime cannot load this model: ${attempts[0].error}`);
  }
  throw new UsageError(
    `no execution provider could run ${modelFile} (${tried})${choice === 'cuda' ? "; the CUDA provider needs onnxruntime-node's CUDA binaries installed" : ''}`,
  );
}

export interface ScoreItem {
  prompt: string;
  response: string;
}
export interface ScoreResult {
  scores: number[];
  truncated: boolean[];
  tokenizeMs: number;
  inferMs: number;
  batches: number;
}

export interface ScorerOptions {
  provider?: ProviderChoice;
  /** Sequences per inference call (upper bound; see maxBatchTokens). */
  batchSize?: number;
  /** Cap on batch size x padded length, so long buckets run in smaller batches. */
  maxBatchTokens?: number;
  threads?: number;
}

export class RewardScorer {
  private constructor(
    readonly session: Session,
    readonly provider: Provider,
    readonly attempts: ProviderAttempt[],
    readonly tokenizer: Tokenizer,
    readonly settings: TokenizerSettings,
    readonly batchSize: number,
    readonly maxBatchTokens: number,
    private readonly wantsTypeIds: boolean,
    private readonly outputName: string,
    /** The model's chat template, when its folder has one: its input is the template's rendering. */
    readonly conversation: ChatTemplateEncoder | undefined,
  ) {}

  static async open(modelDir: string, o: ScorerOptions = {}): Promise<RewardScorer> {
    checkModelFolder(modelDir);
    const { tokenizer, settings, config } = loadTokenizer(modelDir);
    // Before the session: a bad template is reported without loading the model.
    const template = readChatTemplate(modelDir, config);
    const conversation =
      template &&
      new ChatTemplateEncoder(template, tokenizer, settings, config, join(modelDir, 'tokenizer_config.json'));
    const modelFile = join(modelDir, 'onnx', 'model.onnx');
    const { session, provider, attempts } = await createSession(modelFile, o.provider ?? 'auto', o.threads);
    for (const name of session.inputNames) {
      if (!['input_ids', 'attention_mask', 'token_type_ids', 'position_ids'].includes(name)) {
        await session.release();
        throw new InputError(
          modelFile,
          null,
          null,
          `model input "${name}" is not one of input_ids, attention_mask, token_type_ids, position_ids`,
        );
      }
    }
    if (!session.inputNames.includes('input_ids'))
      throw new InputError(modelFile, null, null, 'model has no "input_ids" input');
    const outputName = session.outputNames.includes('logits') ? 'logits' : session.outputNames[0];
    return new RewardScorer(
      session,
      provider,
      attempts,
      tokenizer,
      settings,
      o.batchSize ?? 32,
      o.maxBatchTokens ?? 16384,
      session.inputNames.includes('token_type_ids'),
      outputName,
      conversation,
    );
  }

  async release(): Promise<void> {
    await this.session.release();
  }

  private encodePairs(items: ScoreItem[]): EncodedPair[] {
    const encoder = new PairEncoder(this.tokenizer, this.settings);
    return items.map((it) => encoder.encode(it.prompt, it.response));
  }

  private encodeConversations(items: ScoreItem[], template: ChatTemplateEncoder): EncodedPair[] {
    return items.map((it, i) => {
      let e: { ids: number[]; truncated: boolean };
      try {
        e = template.encode(responseConversation(it.prompt, it.response));
      } catch (x) {
        throw x instanceof InputError ? new ScoreItemError(i, x) : x;
      }
      return { ids: e.ids, typeIds: new Array<number>(e.ids.length).fill(0), truncated: e.truncated };
    });
  }

  /** Scores in input order. Sequences are bucketed by length (sorted), padded per batch, with attention masks. */
  async score(items: ScoreItem[]): Promise<ScoreResult> {
    const t0 = performance.now();
    const enc = this.conversation ? this.encodeConversations(items, this.conversation) : this.encodePairs(items);
    const tokenizeMs = performance.now() - t0;
    const order = enc.map((_, i) => i).sort((a, b) => enc[a].ids.length - enc[b].ids.length || a - b);
    const scores = new Array<number>(items.length);
    let inferMs = 0,
      batches = 0;
    const T = ort.Tensor;
    for (let start = 0; start < order.length;) {
      // Grow the batch while it fits; order is ascending, so the last member sets the padded length.
      let end = start + 1;
      while (
        end < order.length &&
        end - start < this.batchSize &&
        (end - start + 1) * Math.max(1, enc[order[end]].ids.length) <= this.maxBatchTokens
      )
        end++;
      const members = order.slice(start, end);
      const len = Math.max(1, enc[members[members.length - 1]].ids.length);
      const n = members.length;
      const ids = new BigInt64Array(n * len).fill(BigInt(this.settings.padId));
      const mask = new BigInt64Array(n * len);
      const types = new BigInt64Array(n * len);
      // Decoder exports (Llama-style) may take positions: 0, 1, ... from the first token (padding is on the right).
      const positions = new BigInt64Array(n * len);
      members.forEach((m, r) => {
        const e = enc[m];
        for (let t = 0; t < e.ids.length; t++) {
          ids[r * len + t] = BigInt(e.ids[t]);
          mask[r * len + t] = 1n;
          types[r * len + t] = BigInt(e.typeIds[t]);
        }
        for (let t = 0; t < len; t++) positions[r * len + t] = BigInt(t);
      });
      const feeds: Record<string, TensorT> = { input_ids: new T('int64', ids, [n, len]) };
      if (this.session.inputNames.includes('attention_mask')) feeds.attention_mask = new T('int64', mask, [n, len]);
      if (this.wantsTypeIds) feeds.token_type_ids = new T('int64', types, [n, len]);
      if (this.session.inputNames.includes('position_ids')) feeds.position_ids = new T('int64', positions, [n, len]);
      const t1 = performance.now();
      const out = await this.session.run(feeds);
      inferMs += performance.now() - t1;
      batches++;
      const logits = out[this.outputName];
      const data = logits.data as Float32Array;
      if (data.length !== n)
        throw new InputError(
          join('onnx', 'model.onnx'),
          null,
          this.outputName,
          `expected one logit per sequence (${n}), got ${data.length} values of shape [${logits.dims}]`,
        );
      members.forEach((m, r) => {
        scores[m] = data[r];
      });
      start = end;
    }
    return { scores, truncated: enc.map((e) => e.truncated), tokenizeMs, inferMs, batches };
  }
}
