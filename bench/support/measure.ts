// Shared by the judges benchmark and the GPU check (no SQLite here: the GPU check carries no sqlite3):
// the benchmark transformer's folder and a timed scoring run.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { bowTokenizerJson } from '../../src/judges/bowModel';
import { RewardScorer, type ScoreItem } from '../../src/judges/scorer';
import { buildTransformerModel } from './transformerModel';

export const TRANSFORMER = { layers: 6, hidden: 512, heads: 8, ffn: 2048, maxLength: 256, seed: 1234 };
export const TRANSFORMER_DIR = join(
  process.cwd(),
  '.tmp',
  'models',
  `transformer-${TRANSFORMER.layers}x${TRANSFORMER.hidden}-s${TRANSFORMER.maxLength}`,
);

/** The words of the texts, most frequent first, by the BoW tokenizer's normalizer and pre-tokenizer. */
export function topWords(texts: string[], n: number): string[] {
  const probe = new Tokenizer(bowTokenizerJson([]), {});
  const counts = new Map<string, number>();
  for (const t of texts)
    for (const w of probe.pre_tokenizer!.pre_tokenize(probe.normalizer!.normalize(t)))
      counts.set(w, (counts.get(w) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, n)
    .map(([w]) => w);
}

/** Builds the transformer into `dir` unless it is there; the vocabulary is the texts' 8000 most frequent words. */
export function ensureTransformer(
  texts: string[],
  dir = TRANSFORMER_DIR,
  sizes: Partial<typeof TRANSFORMER> = {},
): string {
  if (!existsSync(join(dir, 'onnx', 'model.onnx')))
    buildTransformerModel(dir, { ...TRANSFORMER, ...sizes, words: topWords(texts, 8000) });
  return dir;
}

export interface Measure {
  pairs: number;
  seconds: number;
  pairsPerSecond: number;
  tokenizeShare: number;
  batchSize: number;
  truncated: number;
  provider: string;
  scores: number[];
}

export async function measure(
  modelDir: string,
  items: ScoreItem[],
  o: { provider: 'cpu' | 'webgpu'; batchSize: number; maxBatchTokens?: number; warmup?: number },
): Promise<Measure> {
  const s = await RewardScorer.open(modelDir, {
    provider: o.provider,
    batchSize: o.batchSize,
    maxBatchTokens: o.maxBatchTokens,
  });
  try {
    await s.score(items.slice(0, o.warmup ?? 8)); // session warm-up and tokenizer regex compilation
    const t0 = performance.now();
    const r = await s.score(items);
    const ms = performance.now() - t0;
    return {
      pairs: items.length / 2,
      seconds: ms / 1000,
      pairsPerSecond: items.length / 2 / (ms / 1000),
      tokenizeShare: r.tokenizeMs / ms,
      batchSize: o.batchSize,
      truncated: r.truncated.filter(Boolean).length,
      provider: s.provider,
      scores: r.scores,
    };
  } finally {
    await s.release();
  }
}
