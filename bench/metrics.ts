// Benchmark of the discretion metrics engine (src/core/metrics) on synthetic data:
//   - "synthetic-large": 1,000,000 pairs x 50 principles x 10 annotators, DA bootstrap 1,000, DD bootstrap 100;
//   - "synthetic-hh": the shape of the real HH harmless-base analysis (2,312 pairs x 21 principles x 8
//     annotators, same bootstraps), with the real oracle's sparsity (33% indifference, ~51% consensus).
// The real HH data are benchmarked by the project's bench runner; this file only generates data in memory.
//
// Run: npx esbuild bench/metrics.ts --bundle --platform=node --outfile=/tmp/mb.js && \
//      node -e "require('/tmp/mb.js').runMetricsBench(console.log)"

import { loadavg } from 'node:os';
import { Rng, analyzeDiscretion, type AnnotatorInput, type DiscretionResult } from '../src/core/metrics';

interface Synthetic {
  nPairs: number;
  m: number;
  oracle: Int8Array;
  annotators: AnnotatorInput[];
}

/**
 * Sparse principle labels like the published GPT-4o oracle: a third of the pairs have no principle taking a side;
 * otherwise 1 + Binomial(maxExtra, 0.3) distinct principles do, each siding with the pair's latent better
 * response with probability 0.92. Annotators weigh principles with their own random priorities, abstain 5% of
 * the time and pick at random on indifference pairs.
 */
function generate(nPairs: number, m: number, nAnnotators: number, maxExtra: number, seed: number): Synthetic {
  const rng = new Rng(seed, 'bench-data');
  const oracle = new Int8Array(nPairs * m);
  const latent = new Int8Array(nPairs);
  for (let k = 0; k < nPairs; k++) {
    const s = rng.uniform() < 0.5 ? 1 : -1;
    latent[k] = s;
    if (rng.uniform() < 0.33) continue;
    const active = Math.min(m, 1 + rng.binomial(maxExtra, 0.3));
    for (let t = 0; t < active; t++) {
      let i = rng.int(m);
      while (oracle[k * m + i] !== 0) i = rng.int(m);
      oracle[k * m + i] = rng.uniform() < 0.92 ? s : -s;
    }
  }
  const annotators: AnnotatorInput[] = [];
  for (let q = 0; q < nAnnotators; q++) {
    const weight = Float64Array.from({ length: m }, () => Math.exp(2 * (rng.uniform() - 0.5) * 2));
    const overall = new Int8Array(nPairs);
    for (let k = 0; k < nPairs; k++) {
      if (rng.uniform() < 0.05) continue; // missing
      let score = 0;
      for (let i = 0; i < m; i++) {
        const c = oracle[k * m + i]!;
        if (c !== 0) score += c * weight[i]!;
      }
      score += (rng.uniform() - 0.5) * 1.5 + 0.2 * latent[k]!;
      overall[k] = score >= 0 ? 1 : -1;
    }
    annotators.push({ name: q === 0 ? 'human' : `model-${q}`, kind: q === 0 ? 'human' : 'reward-model', overall });
  }
  return { nPairs, m, oracle, annotators };
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

function run(log: (line: string) => void, label: string, d: Synthetic): DiscretionResult {
  const t0 = performance.now();
  const c0 = cpuMs();
  const res = analyzeDiscretion({
    principles: Array.from({ length: d.m }, (_, i) => ({ id: `p${i}`, short: `P${i}` })),
    nPairs: d.nPairs,
    annotators: d.annotators,
    principleSource: { kind: 'oracle', name: 'synthetic-oracle', matrix: d.oracle },
    reference: 'human',
    bootstrap: 100,
    daBootstrap: 1000,
    agreementBootstrap: 1000,
    seed: 1,
    clock: () => performance.now(),
  });
  const wall = performance.now() - t0;
  const cpu = cpuMs() - c0;
  const t = res.timings_ms!;
  const stages = ['categories', 'da', 'da_bootstrap', 'ps_wstar', 'dd_point', 'dd_bootstrap', 'agreement'];
  log(
    `${label}: ${d.nPairs} pairs x ${d.m} principles x ${d.annotators.length} annotators (DA bootstrap 1000, DD bootstrap 100)`,
  );
  log(
    `  categories ${res.categories.consensus} consensus / ${res.categories.conflict} conflict / ${res.categories.indifference} indifference`,
  );
  for (const s of stages) log(`  ${s.padEnd(14)} ${(t[s] ?? 0).toFixed(1).padStart(10)} ms`);
  log(
    `  ${'total'.padEnd(14)} ${wall.toFixed(1).padStart(10)} ms wall (${cpu.toFixed(0)} ms CPU, 1-min load average ${loadavg()[0]!.toFixed(1)})`,
  );
  const h = res.annotators[1]!;
  log(
    `  e.g. ${h.name}: DA ${h.da?.toFixed(4)}, DD point ${h.dd_point?.toFixed(4)}, DD boot ${h.dd_boot?.mean?.toFixed(4)} +/- ${h.dd_boot?.sd?.toFixed(4)}`,
  );
  return res;
}

function rssMiB(): string {
  const mu = process.memoryUsage();
  const peakKiB = process.resourceUsage().maxRSS;
  return `rss ${(mu.rss / 2 ** 20).toFixed(0)} MiB, peak rss ${(peakKiB / 1024).toFixed(0)} MiB, heap ${(mu.heapUsed / 2 ** 20).toFixed(0)} MiB, array buffers ${(mu.arrayBuffers / 2 ** 20).toFixed(0)} MiB`;
}

export async function runMetricsBench(log: (line: string) => void): Promise<void> {
  // Small HH-shaped case first (and a warm-up of the JIT).
  const hh = generate(2312, 21, 8, 10, 7);
  run(log, 'synthetic-hh (warm-up)', hh);
  run(log, 'synthetic-hh', hh);

  const tg = performance.now();
  const big = generate(1_000_000, 50, 10, 12, 11);
  log(`synthetic-large: generated in ${(performance.now() - tg).toFixed(0)} ms (${rssMiB()})`);
  run(log, 'synthetic-large', big);
  log(`synthetic-large: ${rssMiB()}`);
}
