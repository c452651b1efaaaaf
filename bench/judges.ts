// Benchmark of the ONNX reward-model runner on this machine's CPU: pairs per second for the model
// train-rm writes and for a transformer encoder of realistic size (6 layers, hidden 512, sequence
// 256, random weights), with the batch size used and the share of time in tokenisation vs inference.
// The transformer is built into .tmp/models/ (ignored by git) on first use.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { importDataset } from '../src/importers/datasets';
import { TRANSFORMER, TRANSFORMER_DIR, ensureTransformer, measure } from './support/measure';
import type { ScoreItem } from '../src/judges/scorer';
import { trainRewardModel } from '../src/app/judges';
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite/adapter';

const ROOT = process.cwd();
const HH = resolve(ROOT, '..', 'shared', 'data', 'hh-rlhf', 'harmless-base-test.jsonl.gz');

/** Pairs of the HH-RLHF harmless-base test set when ../shared/data is there, else the bundled sample. */
async function loadPairs(work: string): Promise<{ store: SqliteStore; dataset: string; items: (n: number) => Promise<ScoreItem[]>; texts: string[] }> {
  const store = await openSqliteStore(join(work, 'bench.db'));
  let dataset = 'hh';
  if (existsSync(HH)) {
    await importDataset(store, { format: 'hh-rlhf', file: HH, dataset });
  } else {
    dataset = 'sample';
    // The sample has no labels: label the longer response as preferred, only so that train-rm has something to fit.
    const lines = (await import('node:fs')).readFileSync(join(ROOT, 'media', 'sample', 'safety-pairs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const file = join(work, 'sample.jsonl');
    writeFileSync(file, lines.map((r) => JSON.stringify({ ...r, preferred: r.response_1.length >= r.response_0.length ? '1' : '0' })).join('\n'));
    await importDataset(store, { format: 'jsonl', file, dataset, mapping: { prompt: 'prompt', response0: 'response_0', response1: 'response_1', id: 'id', preferred: 'preferred' } });
  }
  const d = await store.requireDataset(dataset);
  const all = await store.listPairs(d.id, 0, 1_000_000);
  const items = async (n: number) => {
    const out: ScoreItem[] = [];
    for (let i = 0; out.length < 2 * n; i++) {
      const p = all[i % all.length];
      out.push({ prompt: p.prompt, response: p.y0 }, { prompt: p.prompt, response: p.y1 });
    }
    return out;
  };
  return { store, dataset, items, texts: all.flatMap((p) => [p.prompt, p.y0, p.y1]) };
}

export async function runJudgesBench(log: (line: string) => void): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'discretion-bench-judges-'));
  try {
    log(`judges bench: CPU provider, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'})`);
    const { store, dataset, items, texts } = await loadPairs(work);
    const modelDir = join(work, 'rm');
    let t0 = performance.now();
    const tr = await trainRewardModel(store, { dataset, annotator: 'human', out: modelDir, seed: 1 });
    log(`train-rm on "${dataset}": ${tr.train_pairs} train / ${tr.test_pairs} held-out pairs, held-out accuracy ${tr.accuracy?.toFixed(3)}, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await store.close();

    const nBow = dataset === 'hh' ? 2312 : 300;
    const bow = await measure(modelDir, await items(nBow), { provider: 'cpu', batchSize: 64 });
    log(`trained BoW model: ${bow.pairsPerSecond.toFixed(0)} pairs/s over ${bow.pairs} pairs (batch size ${bow.batchSize}), tokenisation ${(100 * bow.tokenizeShare).toFixed(1)}% / inference ${(100 * (1 - bow.tokenizeShare)).toFixed(1)}% of the time`);

    t0 = performance.now();
    const existed = existsSync(join(TRANSFORMER_DIR, 'onnx', 'model.onnx'));
    ensureTransformer(texts);
    if (!existed) log(`built ${TRANSFORMER_DIR} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const tf = await measure(TRANSFORMER_DIR, await items(48), { provider: 'cpu', batchSize: 16, maxBatchTokens: 16 * TRANSFORMER.maxLength, warmup: 4 });
    log(`transformer ${TRANSFORMER.layers}x${TRANSFORMER.hidden}, seq ${TRANSFORMER.maxLength}: ${tf.pairsPerSecond.toFixed(2)} pairs/s over ${tf.pairs} pairs (batch size ${tf.batchSize}, ${tf.truncated} of ${2 * tf.pairs} inputs truncated), tokenisation ${(100 * tf.tokenizeShare).toFixed(2)}% / inference ${(100 * (1 - tf.tokenizeShare)).toFixed(2)}% (target: tokenisation < 10%)`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
