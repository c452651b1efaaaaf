// `discretion train-rm`: fits the bag-of-n-grams Bradley-Terry reward model (bowModel.ts) on one
// annotator's overall preferences, seeded and deterministic, holds out a split, reports pairwise
// accuracy there, and returns the model folder's files in the Hugging Face layout the ONNX runner executes
// (src/app/judges.ts writes them: where and how output folders are written is the app layer's).
import { Rng } from '../core/metrics/prng';
import { Tokenizer } from '@huggingface/tokenizers';
import { UsageError } from '../core/errors';
import type { Store } from '../store';
import {
  BOW_ARCHITECTURE,
  type BowShape,
  bowFeatures,
  bowOnnx,
  bowTokenizerConfig,
  bowTokenizerJson,
} from './bowModel';
import { PairEncoder, tokenizerSettings } from './tokenize';

export interface TrainOptions {
  dataset: string;
  annotator: string;
  /** Share of the usable pairs held out for testing (0 < holdout < 1). */
  holdout?: number;
  seed?: number;
  /** L2 strength (on the mean loss). */
  l2?: number;
  epochs?: number;
  minCount?: number;
  maxLength?: number;
  buckets?: number;
  onLog?: (line: string) => void;
}

export interface TrainedModel {
  train_pairs: number;
  test_pairs: number;
  /** Pairwise accuracy on the held-out pairs: share where sign(r(y1) - r(y0)) equals the annotator's label (a tie counts as wrong). */
  accuracy: number | null;
  train_accuracy: number;
  vocab_size: number;
  buckets: number;
  skipped_pairs: number;
  /** The model folder's files by their path in it ('/'-separated): config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx. */
  files: Record<string, string | Uint8Array>;
}

/** A seeded uniform [0, 1) source: the project's one PRNG (src/core/metrics/prng.ts), on its own stream. */
export function rng(seed: number, stream = 'reward-model'): () => number {
  const r = new Rng(seed, stream);
  return () => r.uniform();
}

function shuffle<T>(xs: T[], rand: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

interface LabelledPair {
  prompt: string;
  y0: string;
  y1: string;
  label: 1 | -1;
}

async function loadLabelled(
  store: Store,
  dataset: string,
  annotator: string,
): Promise<{ pairs: LabelledPair[]; skipped: number }> {
  const d = await store.requireDataset(dataset);
  const a = await store.requireAnnotator(annotator);
  const labels = new Map<number, number>();
  let skipped = 0;
  for (const p of await store.overallPreferences(d.id)) {
    if (p.annotatorId !== a.id) continue;
    if (p.value === 1 || p.value === -1) labels.set(p.pairIdx, p.value);
    else skipped++;
  }
  if (labels.size === 0)
    throw new UsageError(
      `annotator "${annotator}" has no strict (+1/-1) preferences on dataset "${dataset}" to train on`,
    );
  const pairs: LabelledPair[] = [];
  const page = 1000;
  for (let offset = 0; ; offset += page) {
    const rows = await store.listPairs(d.id, offset, page);
    for (const r of rows) {
      const label = labels.get(r.idx);
      if (label !== undefined) pairs.push({ prompt: r.prompt, y0: r.y0, y1: r.y1, label: label as 1 | -1 });
    }
    if (rows.length < page) break;
  }
  return { pairs, skipped };
}

type Sparse = { idx: Int32Array; val: Float64Array };

function toSparse(m: Map<number, number>): Sparse {
  const keys = [...m.keys()].sort((a, b) => a - b);
  return { idx: Int32Array.from(keys), val: Float64Array.from(keys.map((k) => m.get(k)!)) };
}

/** d = x(first) - x(second), merged. */
function diff(a: Map<number, number>, b: Map<number, number>): Sparse {
  const m = new Map(a);
  for (const [k, v] of b) m.set(k, (m.get(k) ?? 0) - v);
  return toSparse(m);
}

const dot = (w: Float64Array, s: Sparse) => {
  let z = 0;
  for (let i = 0; i < s.idx.length; i++) z += w[s.idx[i]] * s.val[i];
  return z;
};

/**
 * Full-batch Adam on mean logistic loss log(1 + exp(-w.d)) + l2/2 |w|^2 over difference vectors
 * d = x(preferred) - x(other). Deterministic: no sampling inside.
 */
function fitBradleyTerry(
  ds: Sparse[],
  dim: number,
  l2: number,
  epochs: number,
  log?: (l: string) => void,
): Float64Array {
  const w = new Float64Array(dim),
    m = new Float64Array(dim),
    v = new Float64Array(dim),
    g = new Float64Array(dim);
  const lr = 0.05,
    b1 = 0.9,
    b2 = 0.999,
    eps = 1e-8;
  // Features that occur in no difference vector keep gradient, moments and weight at exactly 0:
  // updating only the active ones gives the same result, faster.
  const seen = new Uint8Array(dim);
  for (const d of ds) for (const j of d.idx) seen[j] = 1;
  const active = Int32Array.from({ length: dim }, (_, j) => j).filter((j) => seen[j] === 1);
  for (let epoch = 1; epoch <= epochs; epoch++) {
    g.fill(0);
    let loss = 0;
    for (const d of ds) {
      const z = dot(w, d);
      loss += z > 0 ? Math.log1p(Math.exp(-z)) : -z + Math.log1p(Math.exp(z));
      const coef = -1 / (1 + Math.exp(z)) / ds.length; // d/dz log(1+e^-z) = -sigmoid(-z)
      for (let i = 0; i < d.idx.length; i++) g[d.idx[i]] += coef * d.val[i];
    }
    let reg = 0;
    for (const j of active) {
      reg += w[j] * w[j];
      const gj = g[j] + l2 * w[j];
      m[j] = b1 * m[j] + (1 - b1) * gj;
      v[j] = b2 * v[j] + (1 - b2) * gj * gj;
      const mh = m[j] / (1 - b1 ** epoch),
        vh = v[j] / (1 - b2 ** epoch);
      w[j] -= (lr * mh) / (Math.sqrt(vh) + eps);
    }
    if (log && (epoch % 50 === 0 || epoch === epochs))
      log(`epoch ${epoch}: loss ${(loss / ds.length + (l2 / 2) * reg).toFixed(4)}`);
  }
  return w;
}

export async function trainRewardModel(store: Store, o: TrainOptions): Promise<TrainedModel> {
  const holdout = o.holdout ?? 0.5;
  if (!(holdout > 0 && holdout < 1))
    throw new UsageError(`the held-out share must be between 0 and 1 (exclusive), not ${holdout}`, 'holdout');
  const seed = o.seed ?? 1;
  if (!Number.isInteger(seed)) throw new UsageError(`the seed must be an integer, not ${seed}`, 'seed');
  const l2 = o.l2 ?? 1e-4;
  const epochs = o.epochs ?? 300;
  const minCount = o.minCount ?? 2;
  const maxLength = o.maxLength ?? 2048;
  const buckets = o.buckets ?? 1 << 18;

  const { pairs, skipped } = await loadLabelled(store, o.dataset, o.annotator);
  const rand = rng(seed);
  const order = shuffle(
    pairs.map((_, i) => i),
    rand,
  );
  const nTest = Math.round(pairs.length * holdout);
  const testIdx = order.slice(0, nTest),
    trainIdx = order.slice(nTest);
  if (trainIdx.length === 0)
    throw new UsageError(`only ${pairs.length} labelled pair(s): nothing left to train on after holding out ${nTest}`);

  // Vocabulary: words of the training responses seen at least minCount times, by the tokenizer's own
  // normalizer and pre-tokenizer (a provisional tokenizer with an empty vocabulary provides both).
  const probe = new Tokenizer(bowTokenizerJson([]), {});
  const counts = new Map<string, number>();
  for (const i of trainIdx) {
    for (const text of [pairs[i].y0, pairs[i].y1]) {
      for (const w of probe.pre_tokenizer!.pre_tokenize(probe.normalizer!.normalize(text)))
        counts.set(w, (counts.get(w) ?? 0) + 1);
    }
  }
  const words = [...counts.entries()]
    .filter(([, c]) => c >= minCount)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([w]) => w);
  const tokJson = bowTokenizerJson(words);
  const tokCfg = bowTokenizerConfig(maxLength);
  const tokenizer = new Tokenizer(tokJson, tokCfg);
  const settings = tokenizerSettings(tokenizer, tokCfg, 'tokenizer_config.json');
  const vocabSize = Object.keys((tokJson.model as { vocab: object }).vocab).length;
  const shape: BowShape = { vocabSize, buckets, multiplier: 1000003 };
  o.onLog?.(
    `${pairs.length} labelled pairs (${trainIdx.length} train, ${testIdx.length} held out), vocabulary ${vocabSize} words, ${buckets} bigram buckets`,
  );

  const encoder = new PairEncoder(tokenizer, settings);
  const feats = (text: string, prompt: string) => {
    const e = encoder.encode(prompt, text);
    return bowFeatures(e.ids, e.typeIds, shape);
  };
  const featurise = (i: number) => ({
    x0: feats(pairs[i].y0, pairs[i].prompt),
    x1: feats(pairs[i].y1, pairs[i].prompt),
  });

  // Training examples: each pair randomly presented as (y1, y0) or swapped, so that both labels occur.
  const ds: Sparse[] = [];
  const trainFeats = trainIdx.map(featurise);
  trainIdx.forEach((i, k) => {
    const { x0, x1 } = trainFeats[k];
    const swap = rand() < 0.5;
    const [first, second] = swap ? [x0, x1] : [x1, x0];
    const label = swap ? -pairs[i].label : pairs[i].label; // +1: "first" preferred
    ds.push(label === 1 ? diff(first, second) : diff(second, first));
  });
  const w = fitBradleyTerry(ds, vocabSize + buckets, l2, epochs, o.onLog);

  const score = (x: Map<number, number>) => {
    let z = 0;
    for (const [k, v] of x) z += Math.fround(w[k]) * v;
    return z;
  };
  const accuracyOf = (idx: number[], fs: { x0: Map<number, number>; x1: Map<number, number> }[]) => {
    let right = 0;
    idx.forEach((i, k) => {
      const d = score(fs[k].x1) - score(fs[k].x0);
      if (d !== 0 && Math.sign(d) === pairs[i].label) right++;
    });
    return idx.length ? right / idx.length : null;
  };
  const trainAcc = accuracyOf(trainIdx, trainFeats)!;
  const accuracy = accuracyOf(testIdx, testIdx.map(featurise));

  const unigram = Float32Array.from(w.subarray(0, vocabSize));
  const bigram = Float32Array.from(w.subarray(vocabSize));
  const files: TrainedModel['files'] = {};
  files['onnx/model.onnx'] = bowOnnx(shape, unigram, bigram, 0, {
    dataset: o.dataset,
    annotator: o.annotator,
    seed: String(seed),
  });
  files['tokenizer.json'] = JSON.stringify(tokJson);
  files['tokenizer_config.json'] = JSON.stringify(tokCfg, null, 2);
  files['config.json'] = JSON.stringify(
    {
      architectures: [BOW_ARCHITECTURE],
      model_type: 'discretion-bow',
      num_labels: 1,
      vocab_size: vocabSize,
      bigram_buckets: buckets,
      hash_multiplier: shape.multiplier,
      max_position_embeddings: maxLength,
      training: {
        dataset: o.dataset,
        annotator: o.annotator,
        seed,
        holdout,
        l2,
        epochs,
        min_count: minCount,
        train_pairs: trainIdx.length,
        test_pairs: testIdx.length,
        heldout_accuracy: accuracy,
        train_accuracy: trainAcc,
      },
    },
    null,
    2,
  );

  return {
    train_pairs: trainIdx.length,
    test_pairs: testIdx.length,
    accuracy,
    train_accuracy: trainAcc,
    vocab_size: vocabSize,
    buckets,
    skipped_pairs: skipped,
    files,
  };
}
