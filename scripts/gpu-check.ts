// GPU check (run on a GPU machine, see scripts/gpu-check.sh and ../shared/gpu/README.md): scores the
// same inputs with onnxruntime-node's `webgpu` and `cpu` execution providers, for the model train-rm
// wrote (prepared here, carried in .device/inputs/rm-hh) and for the 6 x 512 transformer encoder
// (built there by the same project code, seeded, since its weights do not fit the transfer limit),
// checks that rewards agree (max |webgpu - cpu| / max |cpu| <= 1e-3), prints pairs/s per provider,
// and writes gpu-check.log and gpu-check.json under --out.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as ort from 'onnxruntime-node';
import { TRANSFORMER, ensureTransformer, measure, type Measure } from '../bench/support/measure';
import { splitHHDialogue } from '../src/core/hhrlhf';
import type { ScoreItem } from '../src/judges/scorer';

const TOLERANCE = 1e-3;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

async function main(): Promise<number> {
  const inputs = arg('inputs', '.device/inputs');
  const out = arg('out', process.env.OUT ?? '.tmp/gpu-check');
  mkdirSync(out, { recursive: true });
  const logFile = join(out, 'gpu-check.log');
  writeFileSync(logFile, '');
  const log = (l: string) => {
    console.log(l);
    appendFileSync(logFile, l + '\n');
  };

  let gpu = 'no nvidia-smi';
  try {
    gpu = execFileSync('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'], {
      encoding: 'utf8',
    }).trim();
  } catch {
    /* none */
  }
  log(
    `gpu-check ${new Date().toISOString()} node ${process.version}, onnxruntime-node ${ort.env.versions.node}, ${cpus().length} CPU cores (${cpus()[0]?.model}), GPU: ${gpu}`,
  );

  const lines = gunzipSync(readFileSync(join(inputs, 'harmless-base-test.jsonl.gz')))
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim());
  const pairs = lines
    .map((l) => JSON.parse(l) as { chosen: string; rejected: string })
    .map((r) => splitHHDialogue(r.chosen, r.rejected))
    .filter((p) => p !== null);
  const items = (n: number): ScoreItem[] =>
    pairs.slice(0, n).flatMap((p) => [
      { prompt: p.prompt, response: p.y0 },
      { prompt: p.prompt, response: p.y1 },
    ]);
  log(`${pairs.length} HH-RLHF harmless-base pairs`);

  const t0 = performance.now();
  const tfDir = ensureTransformer(
    pairs.flatMap((p) => [p.prompt, p.y0, p.y1]),
    join(arg('models', '/tmp/discretion-gpu-models'), 'transformer'),
  );
  log(
    `transformer ${TRANSFORMER.layers}x${TRANSFORMER.hidden}, seq ${TRANSFORMER.maxLength} ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );

  const models = [
    {
      name: 'trained BoW (train-rm)',
      dir: join(inputs, 'rm-hh'),
      items: items(pairs.length),
      batchSize: 64,
      maxBatchTokens: 64 * 2048,
    },
    {
      name: `transformer ${TRANSFORMER.layers}x${TRANSFORMER.hidden} s${TRANSFORMER.maxLength}`,
      dir: tfDir,
      items: items(Number(arg('tf-pairs', '256'))),
      batchSize: 32,
      maxBatchTokens: 32 * TRANSFORMER.maxLength,
    },
  ];
  // Token lengths of the transformer's inputs (after truncation), for the torch comparison.
  {
    const { loadTokenizer, encodePair } = await import('../src/judges/tokenize');
    const { tokenizer, settings } = loadTokenizer(tfDir);
    const lengths = models[1].items.map((it) => encodePair(tokenizer, settings, it.prompt, it.response).ids.length);
    writeFileSync(join(out, 'transformer-lengths.json'), JSON.stringify({ batchSize: models[1].batchSize, lengths }));
  }
  const extra = arg('extra-model', '');
  if (extra) {
    // Only the webgpu run of another export of the transformer (torch's), on the same inputs.
    const r = await measure(extra, models[1].items, {
      provider: 'webgpu',
      batchSize: models[1].batchSize,
      maxBatchTokens: models[1].maxBatchTokens,
    });
    log(
      `extra model ${extra}: ${r.pairsPerSecond.toFixed(2)} pairs/s on ${r.provider} (${r.pairs} pairs, batch ${r.batchSize})`,
    );
    writeFileSync(join(out, 'gpu-check-extra.json'), JSON.stringify({ ...r, scores: undefined }, null, 2));
    return 0;
  }
  const results: Record<string, unknown>[] = [];
  let ok = true;
  for (const m of models) {
    const runs: Partial<Record<'cpu' | 'webgpu', Measure | { error: string }>> = {};
    for (const provider of ['cpu', 'webgpu'] as const) {
      try {
        runs[provider] = await measure(m.dir, m.items, {
          provider,
          batchSize: m.batchSize,
          maxBatchTokens: m.maxBatchTokens,
        });
      } catch (e) {
        runs[provider] = { error: (e as Error).message.split('\n')[0] };
      }
    }
    const c = runs.cpu as Measure | { error: string },
      w = runs.webgpu as Measure | { error: string };
    let relErr: number | null = null,
      signAgreement: number | null = null;
    if ('scores' in c && 'scores' in w) {
      let maxDiff = 0,
        maxAbs = 0,
        agree = 0;
      for (let i = 0; i < c.scores.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(w.scores[i] - c.scores[i]));
        maxAbs = Math.max(maxAbs, Math.abs(c.scores[i]));
      }
      for (let i = 0; i < c.scores.length; i += 2)
        if (Math.sign(c.scores[i + 1] - c.scores[i]) === Math.sign(w.scores[i + 1] - w.scores[i])) agree++;
      relErr = maxDiff / Math.max(maxAbs, 1e-12);
      signAgreement = agree / (c.scores.length / 2);
    }
    const pass = relErr !== null && relErr <= TOLERANCE;
    ok &&= pass;
    const fmt = (r: Measure | { error: string }) =>
      'error' in r
        ? `failed: ${r.error}`
        : `${r.pairsPerSecond.toFixed(2)} pairs/s on ${r.provider} (${r.pairs} pairs, batch ${r.batchSize}, tokenisation ${(100 * r.tokenizeShare).toFixed(1)}%)`;
    log(`${m.name}:`);
    log(`  cpu    ${fmt(c)}`);
    log(`  webgpu ${fmt(w)}`);
    log(
      `  max |webgpu - cpu| / max |cpu| = ${relErr === null ? '-' : relErr.toExponential(2)} (tolerance ${TOLERANCE}) -> ${pass ? 'PASS' : 'FAIL'}; preference agreement ${signAgreement === null ? '-' : signAgreement.toFixed(4)}`,
    );
    const strip = (r: Measure | { error: string }) => ('scores' in r ? { ...r, scores: undefined } : r);
    results.push({ model: m.name, cpu: strip(c), webgpu: strip(w), relErr, signAgreement, pass });
  }
  log('');
  log('| model | cpu pairs/s | webgpu pairs/s | speed-up | rel. error | result |');
  log('| --- | --- | --- | --- | --- | --- |');
  for (const r of results as {
    model: string;
    cpu: Measure | { error: string };
    webgpu: Measure | { error: string };
    relErr: number | null;
    pass: boolean;
  }[]) {
    const pc = 'pairsPerSecond' in r.cpu ? r.cpu.pairsPerSecond : NaN,
      pw = 'pairsPerSecond' in r.webgpu ? r.webgpu.pairsPerSecond : NaN;
    log(
      `| ${r.model} | ${pc.toFixed(2)} | ${pw.toFixed(2)} | ${(pw / pc).toFixed(2)}x | ${r.relErr === null ? '-' : r.relErr.toExponential(2)} | ${r.pass ? 'PASS' : 'FAIL'} |`,
    );
  }
  writeFileSync(
    join(out, 'gpu-check.json'),
    JSON.stringify({ gpu, node: process.version, cpus: cpus().length, tolerance: TOLERANCE, results }, null, 2),
  );
  log(ok ? 'gpu-check: PASS' : 'gpu-check: FAIL');
  return ok ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    console.error(e);
    process.exitCode = 2;
  },
);
