// Judges test helpers: a hand-made tiny reward model, the worker bundle, small datasets.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll } from 'vitest';
import { bowOnnx, bowTokenizerConfig, bowTokenizerJson } from '../../src/judges/bowModel';
import { importDataset } from '../../src/importers/datasets';
import { ROOT, openTempStore, tempDir } from '../support/helpers';

/**
 * Tiny model by hand. Vocabulary: [PAD]=0 [UNK]=1 good=2 bad=3 very=4 (vocabSize 5), 7 bigram buckets,
 * multiplier 3: bigram bucket of (a, b) = (3a + b) mod 7.
 * unigram u = [0, -0.5, 1, -2, 0.25]; bigram v[0] = 0.5, v[3] = -0.2, v[5] = 0.1, others 0; bias 0.3.
 */
export function writeTinyModel(opts: { maxLength?: number; truncationSide?: 'left' | 'right' } = {}): string {
  const dir = join(tempDir('tiny-rm-'), 'model');
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  const shape = { vocabSize: 5, buckets: 7, multiplier: 3 };
  const u = new Float32Array([0, -0.5, 1, -2, 0.25]);
  const v = new Float32Array(7);
  v[0] = 0.5;
  v[3] = -0.2;
  v[5] = 0.1;
  writeFileSync(join(dir, 'onnx', 'model.onnx'), bowOnnx(shape, u, v, 0.3));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(bowTokenizerJson(['good', 'bad', 'very'])));
  writeFileSync(
    join(dir, 'tokenizer_config.json'),
    JSON.stringify({ ...bowTokenizerConfig(opts.maxLength ?? 64), truncation_side: opts.truncationSide ?? 'left' }),
  );
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'discretion-bow', num_labels: 1 }));
  return dir;
}

let workerPath: Promise<string> | undefined;
/** dist/judge-worker.js as the build makes it, but built into a temp folder from the current source. */
export function buildWorker(): Promise<string> {
  workerPath ??= (async () => {
    // Inside the project (.tmp/ is ignored) so that the external onnxruntime-node resolves from node_modules.
    const out = join(ROOT, '.tmp', `judge-worker-test-${process.pid}`, 'judge-worker.js');
    await build({
      entryPoints: [join(ROOT, 'src/judges/worker.ts')],
      outfile: out,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external: ['onnxruntime-node', 'libsql'],
      logLevel: 'silent',
    });
    return out;
  })();
  return workerPath;
}
afterAll(() => rmSync(join(ROOT, '.tmp', `judge-worker-test-${process.pid}`), { recursive: true, force: true }));

/** A JSONL dataset file with {id, prompt, response_0, response_1, preferred} records. */
export function writePairsFile(pairs: { prompt: string; y0: string; y1: string; preferred?: string }[]): string {
  const file = join(tempDir('pairs-'), 'pairs.jsonl');
  writeFileSync(
    file,
    pairs
      .map((p, i) =>
        JSON.stringify({
          id: `p${i}`,
          prompt: p.prompt,
          response_0: p.y0,
          response_1: p.y1,
          preferred: p.preferred ?? '',
        }),
      )
      .join('\n') + '\n',
  );
  return file;
}

export const PAIR_MAPPING = {
  prompt: 'prompt',
  response0: 'response_0',
  response1: 'response_1',
  id: 'id',
  preferred: 'preferred',
};

/** A fresh SQLite store (and its file) holding `pairs` as dataset `dataset`, with no labels: what a judge run starts from. */
export async function storeWithPairs(
  pairs: { prompt: string; y0: string; y1: string }[],
  dataset = 'd',
): ReturnType<typeof openTempStore> {
  const opened = await openTempStore();
  await importDataset(opened.store, {
    format: 'jsonl',
    file: writePairsFile(pairs),
    dataset,
    mapping: { ...PAIR_MAPPING, preferred: undefined },
  });
  return opened;
}
