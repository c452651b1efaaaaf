// Builds the benchmark transformer-encoder reward model (random weights, seeded; default 6 layers,
// hidden 512, 8 heads, ffn 2048, sequence 256) in the Hugging Face layout, with the project's own
// ONNX writer (src/judges/onnxProto.ts via bench/support/transformerModel.ts). The weights (~90 MB)
// stay out of git: the default output folder is .tmp/models/ (ignored).
//   node scripts/build-transformer-onnx.mjs [--out DIR] [--layers 6] [--hidden 512] [--heads 8] [--seq 256] [--seed 1234]
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';

const root = resolve(import.meta.dirname, '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const o = {
  layers: Number(arg('layers', 6)),
  hidden: Number(arg('hidden', 512)),
  heads: Number(arg('heads', 8)),
  maxLength: Number(arg('seq', 256)),
  seed: Number(arg('seed', 1234)),
};
o.ffn = Number(arg('ffn', 4 * o.hidden));
const out = resolve(arg('out', join(root, '.tmp', 'models', `transformer-${o.layers}x${o.hidden}-s${o.maxLength}`)));

mkdirSync(join(root, '.tmp'), { recursive: true });
const bundle = join(root, '.tmp', 'build-transformer.cjs');
await build({
  stdin: {
    contents:
      "export { ensureTransformer } from './bench/support/measure'; export { splitHHDialogue } from './src/core/hhrlhf';",
    resolveDir: root,
    loader: 'ts',
  },
  outfile: bundle,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['onnxruntime-node', 'libsql'],
  logLevel: 'warning',
});
const { ensureTransformer, splitHHDialogue } = createRequire(import.meta.url)(bundle);

// Vocabulary: frequent words of HH-RLHF harmless-base when ../shared/data is there, else of the bundled sample.
const hh = resolve(root, '..', 'shared', 'data', 'hh-rlhf', 'harmless-base-test.jsonl.gz');
const texts = existsSync(hh)
  ? gunzipSync(readFileSync(hh))
      .toString('utf8')
      .split('\n')
      .filter(Boolean)
      .flatMap((l) => {
        const r = JSON.parse(l);
        const p = splitHHDialogue(r.chosen, r.rejected);
        return p ? [p.prompt, p.y0, p.y1] : [];
      })
  : readFileSync(join(root, 'media', 'sample', 'safety-pairs.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .flatMap((l) => {
        const r = JSON.parse(l);
        return [r.prompt, r.response_0, r.response_1];
      });
const t0 = performance.now();
if (existsSync(join(out, 'onnx', 'model.onnx'))) rmSync(out, { recursive: true });
ensureTransformer(texts, out, o);
console.log(
  `wrote ${out} (onnx/model.onnx ${(statSync(join(out, 'onnx', 'model.onnx')).size / 2 ** 20).toFixed(1)} MiB) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
);
