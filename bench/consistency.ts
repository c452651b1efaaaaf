// The consistency suite (src/core/consistency): order consistency, multiplicity, ranking accuracy,
// internal consistency and group inconsistency with its null, timed
//   - on the published HH data (4 two-order judges, 6 probability-giving models, 2 groups), imported once
//     through the CLI, loaded from the store, then the suite alone; median of 5 runs after one warm-up;
//   - on a synthetic 1,000,000-pair dataset with 10 annotators (a human reference, 3 LLM judges, 4 reward
//     models, 2 policy models that also judge in both orders; two groups of 5: 252 null assignments, exact),
//     generated in memory (loading it from SQLite is the import bench's subject).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConsistencyInput, DEFAULT_DELTAS, DEFAULT_EPSILONS } from '../src/app/consistency';
import { emptyTwoOrderColumns, runConsistency, type ConsistencyAnnotator } from '../src/core/consistency';
import { Rng } from '../src/core/metrics/prng';
import { openStore } from '../src/store';
import { SHARED_DATA, sharedHHImports } from '../test/support/shared-hh';

const ROOT = resolve(__dirname, '..', '..');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const OPTS = { reference: 'human', epsilons: DEFAULT_EPSILONS, deltas: DEFAULT_DELTAS, beta: 0.1, seed: 0 };

async function hh(log: (line: string) => void): Promise<void> {
  log(
    '## Consistency suite on the published HH data (2,312 pairs; 4 two-order judges, 6 probability-giving models, 2 groups)',
  );
  if (!existsSync(SHARED_DATA)) return log(`skipped: ${SHARED_DATA} is absent`);
  const dir = mkdtempSync(join(tmpdir(), 'discretion-bench-consistency-'));
  try {
    const db = join(dir, 'hh.db');
    const cli = (args: string[]) =>
      spawnSync(process.execPath, [join(ROOT, 'bin', 'discretion.js'), ...args], { encoding: 'utf8' });
    for (const args of [
      ...sharedHHImports(db),
      [
        'annotators',
        'set-group',
        'llama3-8b-rm',
        'mistral-7b-rm',
        'most-downloaded-rm',
        '--group',
        'reward-models',
        '--db',
        db,
      ],
      [
        'annotators',
        'set-group',
        'gpt-4o-judge',
        'deepseek-v3-judge',
        'sonnet-3.5-judge',
        'llama3-8b-policy',
        '--group',
        'llm-judges',
        '--db',
        db,
      ],
    ]) {
      const r = cli(args);
      if (r.status !== 0) return log(`setup failed: ${r.stderr}`);
    }
    const store = await openStore(db);
    const loads: number[] = [];
    const suites: number[] = [];
    let shape = '';
    for (let i = 0; i < 6; i++) {
      const t0 = performance.now();
      const loaded = await loadConsistencyInput(store, 'hh');
      const t1 = performance.now();
      const doc = runConsistency(loaded.nPairs, loaded.annotators, OPTS);
      const t2 = performance.now();
      shape = `${doc.order_consistency.length} judges, ${doc.multiplicity?.members.length ?? 0} multiplicity members, ${Object.keys(doc.group_inconsistency?.groups ?? {}).length} groups (null: ${doc.group_inconsistency?.null.kind} ${doc.group_inconsistency?.null.n})`;
      if (i === 0) continue; // warm-up (JIT)
      loads.push(t1 - t0);
      suites.push(t2 - t1);
    }
    await store.close();
    log(shape);
    log(
      `load from SQLite into typed columns (scores and judge probabilities from JSON): median ${median(loads).toFixed(0)} ms`,
    );
    log(
      `the whole suite after loading: median ${median(suites).toFixed(1)} ms over ${suites.length} runs (min ${Math.min(...suites).toFixed(1)}, max ${Math.max(...suites).toFixed(1)})`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function synthetic(n: number): ConsistencyAnnotator[] {
  const rng = new Rng(1, 'bench-consistency');
  const normal = () => Math.sqrt(-2 * Math.log(1 - rng.uniform())) * Math.cos(2 * Math.PI * rng.uniform());
  const quality = Float64Array.from({ length: n }, normal); // latent: how much better y1 is than y0
  const base = (name: string, kind: ConsistencyAnnotator['kind'], group: string): ConsistencyAnnotator => ({
    name,
    kind,
    group,
    preference: new Int8Array(n),
    present: new Uint8Array(n).fill(1),
  });
  const out: ConsistencyAnnotator[] = [];
  const human = base('human', 'human', 'A');
  for (let k = 0; k < n; k++) human.preference[k] = quality[k]! + 0.5 * normal() >= 0 ? 1 : -1;
  out.push(human);
  const judge = (a: ConsistencyAnnotator, bias: number) => {
    const cols = (a.twoOrder = emptyTwoOrderColumns(n));
    for (let k = 0; k < n; k++) {
      for (const o of [0, 1] as const) {
        const margin = (o === 0 ? 1 : -1) * quality[k]! + bias + 0.7 * normal(); // > 0 favours position A
        const na = rng.uniform() < 0.1 ? 0.8 : 0.02;
        const pA = (1 - na) / (1 + Math.exp(-2 * margin));
        const arr = o === 0 ? cols.order0 : cols.order1;
        arr[3 * k] = pA;
        arr[3 * k + 1] = 1 - na - pA;
        arr[3 * k + 2] = na;
      }
    }
  };
  for (let j = 0; j < 3; j++) {
    const a = base(`judge-${j}`, 'llm-judge', 'A');
    judge(a, 0.3 * (j - 1));
    out.push(a);
  }
  for (let r = 0; r < 4; r++) {
    const a = base(`rm-${r}`, 'reward-model', 'B');
    a.scoreY0 = new Float64Array(n);
    a.scoreY1 = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      a.scoreY0[k] = normal();
      a.scoreY1[k] = a.scoreY0[k]! + (0.5 + 0.2 * r) * quality[k]! + normal();
      a.preference[k] = a.scoreY1[k]! > a.scoreY0[k]! ? 1 : -1;
    }
    out.push(a);
  }
  for (let p = 0; p < 2; p++) {
    const a = base(`policy-${p}`, 'policy-model', p === 0 ? 'A' : 'B');
    judge(a, -0.5);
    a.scoreY0 = new Float64Array(n);
    a.scoreY1 = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      a.scoreY0[k] = -200 + 20 * normal();
      a.scoreY1[k] = a.scoreY0[k]! + 5 * quality[k]! + 10 * normal();
      a.preference[k] = Math.sign(a.scoreY1[k]! - a.scoreY0[k]!) as -1 | 0 | 1;
    }
    out.push(a);
  }
  return out;
}

async function large(log: (line: string) => void): Promise<void> {
  const n = Number(process.env.CONSISTENCY_BENCH_PAIRS ?? 1_000_000);
  log(
    `## Consistency suite on synthetic data (${n.toLocaleString('en-US')} pairs x 10 annotators: 5 two-order judges, 7 multiplicity members, 2 policies, two groups of 5)`,
  );
  const g0 = performance.now();
  const annotators = synthetic(n);
  log(`generate in memory: ${((performance.now() - g0) / 1000).toFixed(1)} s`);
  const times: number[] = [];
  let summary = '';
  for (let i = 0; i < 2; i++) {
    const t0 = performance.now();
    const doc = runConsistency(n, annotators, OPTS);
    times.push(performance.now() - t0);
    summary = `${doc.order_consistency.length} judges, ${doc.multiplicity?.members.length} members over ${doc.multiplicity?.n_pairs} pairs, GDI null ${doc.group_inconsistency?.null.kind} ${doc.group_inconsistency?.null.n}`;
  }
  log(summary);
  log(
    `the whole suite: ${times.map((t) => (t / 1000).toFixed(1) + ' s').join(', ')} (2 runs); peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
  );
}

export async function runConsistencyBench(log: (line: string) => void): Promise<void> {
  await hh(log);
  log('');
  await large(log);
}
