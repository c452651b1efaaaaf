// End to end on the paper's published HH data: import everything through the CLI as the README says,
// group the annotators, build an ensemble, run `discretion consistency --json`, and check every section
// against an independent derivation written here from the consistency spec: a plain per-pair loop over
// the published CSV files read with csv-parse (no store, no importer, no src/core code), so the engine's
// path (importer -> SQLite -> raw JSON -> typed columns -> suite) is checked against the files themselves.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, sharedDataSkipReason, tempDir } from '../support/helpers';
import { SHARED_DATA, sharedHHImports } from '../support/shared-hh';

const BIN = join(ROOT, 'bin', 'discretion.js');
const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT });
const skip = sharedDataSkipReason();
const N = 2312;
const AD = join(SHARED_DATA, 'alignment-discretion');

type Row = Record<string, string>;
const csv = (path: string): Row[] => parse(readFileSync(path, 'utf8'), { columns: true, skip_empty_lines: true });
const sig = (x: number) => 1 / (1 + Math.exp(-x));
const clip = (x: number) => Math.min(Math.max(x, 1e-6), 1 - 1e-6);

/** Reward files: row_id -> [r(y1), r(y0)] (reward_a is the chosen response, y1). */
function rewards(file: string): Map<number, [number, number]> {
  const m = new Map<number, [number, number]>();
  for (const r of csv(join(AD, 'reward_model_preferences', file)))
    if (Number(r.row_id) < N) m.set(Number(r.row_id), [Number(r.reward_a), Number(r.reward_b)]);
  return m;
}
/** Judge files: row_id -> [order 0, order 1] as [P(A), P(B), P(NA)]. */
function judge(file: string, cols = ['prob_A', 'prob_B', 'prob_NA']): Map<number, number[][]> {
  const m = new Map<number, number[][]>();
  for (const r of csv(join(AD, 'llm_preferences', file))) {
    const o = r.order === '0' || r.order === '0,1' ? 0 : 1;
    const e = m.get(Number(r.row_id)) ?? [[], []];
    e[o] = cols.map((c) => Number(r[c]));
    m.set(Number(r.row_id), e);
  }
  return m;
}
const choice = ([a, b, na]: number[]) => ((na! > a! && na! > b!) || a === b ? 'C' : a! > b! ? 'A' : 'B');
const judgeP = ([o0, o1]: number[][]) => {
  const q: number[] = [];
  if (o0![0]! + o0![1]! > 0) q.push(o0![0]! / (o0![0]! + o0![1]!));
  if (o1![0]! + o1![1]! > 0) q.push(o1![1]! / (o1![0]! + o1![1]!));
  return q.length ? q.reduce((s, x) => s + x, 0) / q.length : NaN;
};
/** Discretion spec section 2's two-order preference; 0 for missing (a vote of 0). */
const judgeVote = ([o0, o1]: number[][]) => {
  const c0 = choice(o0!),
    c1 = choice(o1!);
  if (c0 === 'C' || c1 === 'C') return 0;
  return ((c0 === 'A' ? 1 : -1) - (c1 === 'A' ? 1 : -1)) / 2;
};

const RM_FILES: Record<string, string> = {
  'llama3-8b-rm': 'Llama3-8B_reward_model_trained_in-hh-harmlesness_evaluated_in-hh-harmlesness_partition-test.csv',
  'mistral-7b-rm': 'Mistral7B_reward_model_trained_in-hh-harmlesness_evaluated_in-hh-harmlesness_partition-test.csv',
  'most-downloaded-rm': 'reward_preference_data_reward_model-most_downloaded_hh_in_dataset_hh_partition-None.csv',
};
const JUDGE_FILES: Record<string, string> = {
  'gpt-4o-judge': 'hh_test_generic_4ob.csv',
  'deepseek-v3-judge': 'hh_test_generic_deepseekv3.csv',
  'sonnet-3.5-judge': 'hh_test_generic_sonnet3.5.csv',
};
const LLAMA = 'LLM_rewards_model_no_NA-Llama3-8B_data_trained-hh-harmlesness_dataset_eval-hh-harmlesness.csv';

if (skip && process.env.CI === 'true') {
  it('the shared HH data are present (required under CI=true)', () => {
    throw new Error(skip);
  });
}

describe.skipIf(!!skip)('discretion consistency on the HH-RLHF harmless-base test set (published judgments)', () => {
  let doc: any;
  let ensembleDoc: any;
  const rm: Record<string, Map<number, [number, number]>> = {};
  const judges: Record<string, Map<number, number[][]>> = {};
  let llama: Map<number, number[][]>;
  let loglik: Map<number, [number, number]>;

  beforeAll(() => {
    const db = join(tempDir(), 'hh.db');
    for (const args of sharedHHImports(db)) {
      const r = run(args);
      expect(r.status, `${args.slice(0, 2).join(' ')}: ${r.stderr}`).toBe(0);
    }
    for (const [group, names] of [
      ['reward-models', Object.keys(RM_FILES)],
      ['llm-judges', Object.keys(JUDGE_FILES)],
    ] as const) {
      const r = run(['annotators', 'set-group', ...names, '--group', group, '--db', db]);
      expect(r.status, r.stderr).toBe(0);
    }
    const e = run([
      'ensemble',
      '--db',
      db,
      '--dataset',
      'hh',
      '--name',
      'rm-mean',
      '--method',
      'mean',
      '--members',
      Object.keys(RM_FILES).join(','),
    ]);
    expect(e.status, e.stderr).toBe(0);
    const r = run([
      'consistency',
      '--db',
      db,
      '--dataset',
      'hh',
      '--epsilon',
      '0.05,0.1,0.25',
      '--delta',
      '0.1,0.25,0.5',
      '--json',
    ]);
    expect(r.status, r.stderr).toBe(0);
    doc = JSON.parse(r.stdout);
    const m = run([
      'consistency',
      '--db',
      db,
      '--dataset',
      'hh',
      '--models',
      'rm-mean,llama3-8b-rm',
      '--no-save',
      '--json',
    ]);
    expect(m.status, m.stderr).toBe(0);
    ensembleDoc = JSON.parse(m.stdout);
    for (const [name, file] of Object.entries(RM_FILES)) rm[name] = rewards(file);
    for (const [name, file] of Object.entries(JUDGE_FILES)) judges[name] = judge(file);
    llama = judge(LLAMA, ['reward_a', 'reward_b', 'reward_NA']);
    loglik = new Map();
    for (const r of csv(join(AD, 'llm_preferences', LLAMA)))
      loglik.set(Number(r.row_id), [Number(r.log_prob_chat_chosen), Number(r.log_prob_chat_rejected)]);
  }, 240_000);

  it('has the documented shape', () => {
    expect(doc.schema).toBe('discretion-consistency/1');
    expect(doc.dataset).toBe('hh');
    expect(doc.reference).toBe('human');
    expect(doc.run_id).toEqual(expect.any(Number));
    expect(Object.keys(doc)).toEqual([
      'schema',
      'dataset',
      'reference',
      'order_consistency',
      'multiplicity',
      'ranking_accuracy',
      'internal_consistency',
      'group_inconsistency',
      'reasons',
      'run_id',
      'provenance',
    ]);
  });

  it('order consistency of the four two-order judges: the nine pattern counts and every rate, pair by pair from the files', () => {
    const all = { ...judges, 'llama3-8b-policy': llama };
    expect(doc.order_consistency.map((o: { annotator: string }) => o.annotator)).toEqual([
      'gpt-4o-judge',
      'deepseek-v3-judge',
      'sonnet-3.5-judge',
      'llama3-8b-policy',
    ]);
    for (const o of doc.order_consistency) {
      const counts: Record<string, number> = { AA: 0, AB: 0, AC: 0, BA: 0, BB: 0, BC: 0, CA: 0, CB: 0, CC: 0 };
      for (const [, orders] of all[o.annotator as keyof typeof all]!)
        counts[choice(orders[0]!) + choice(orders[1]!)]!++;
      expect(o.patterns).toEqual(counts);
      const n = N;
      const primacy = counts.AA! + counts.AC! + counts.CA!,
        recency = counts.BB! + counts.BC! + counts.CB!;
      expect(o.n).toBe(n);
      expect(o.missing).toBe(0);
      expect(o.pc).toBeCloseTo((counts.AB! + counts.BA! + counts.CC!) / n, 12);
      expect(o.conflict_rate).toBeCloseTo(1 - (counts.AB! + counts.BA! + counts.CC!) / n, 12);
      expect(o.primacy_rate).toBeCloseTo(primacy / n, 12);
      expect(o.recency_rate).toBeCloseTo(recency / n, 12);
      expect(o.pf).toBeCloseTo((recency - primacy) / n, 12);
      expect(o.no_preference).toEqual({
        position_bias: counts.AA! + counts.BB!,
        no_choice: counts.CC!,
        mixed: counts.AC! + counts.CA! + counts.BC! + counts.CB!,
      });
    }
  });

  it('multiplicity of the six probability-giving models against human (+1 on every pair)', () => {
    const p: Record<string, number[]> = {};
    for (const [name, m] of Object.entries(rm))
      p[name] = Array.from({ length: N }, (_, k) => (m.has(k) ? sig(m.get(k)![0] - m.get(k)![1]) : NaN));
    for (const [name, m] of Object.entries(judges)) p[name] = Array.from({ length: N }, (_, k) => judgeP(m.get(k)!));
    const names = Object.keys(p);
    const K = [...Array(N).keys()].filter((k) => names.every((n) => !Number.isNaN(p[n]![k]!)));
    const m = doc.multiplicity;
    expect(m.members).toEqual(names);
    expect(m.n_pairs).toBe(K.length);
    const loss: Record<string, number> = {};
    for (const n of names) loss[n] = K.reduce((s, k) => s - Math.log(clip(p[n]![k]!)), 0) / K.length;
    for (const n of names) expect(m.losses[n]).toBeCloseTo(loss[n]!, 10);
    const sorted = [...names].sort((a, b) => loss[a]! - loss[b]! || a.localeCompare(b));
    const base = sorted[0]!;
    expect(m.baseline).toBe(base);
    [0.05, 0.1, 0.25].forEach((eps, i) => {
      const S = sorted.filter((n) => loss[n]! <= loss[base]! + eps + 1e-12);
      const e = m.by_epsilon[i];
      expect(e.epsilon).toBe(eps);
      expect(e.set).toEqual(S);
      let width = 0,
        flips = 0;
      for (const k of K) {
        const ps = S.map((n) => p[n]![k]!);
        width += Math.max(...ps) - Math.min(...ps);
        if (S.some((n) => p[n]![k] !== 0.5 && p[n]![k]! > 0.5 !== p[base]![k]! > 0.5)) flips++;
      }
      expect(e.mean_width).toBeCloseTo(width / K.length, 10);
      expect(e.flip_ambiguity).toBeCloseTo(flips / K.length, 12);
      [0.1, 0.25, 0.5].forEach((delta, j) => {
        const far = (n: string, k: number) => Math.abs(p[n]![k]! - p[base]![k]!) >= delta - 1e-12;
        expect(e.by_delta[j].delta).toBe(delta);
        expect(e.by_delta[j].ambiguity).toBeCloseTo(K.filter((k) => S.some((n) => far(n, k))).length / K.length, 12);
        expect(e.by_delta[j].discrepancy).toBeCloseTo(
          Math.max(...S.map((n) => K.filter((k) => far(n, k)).length / K.length)),
          12,
        );
      });
    });
  });

  it('ranking accuracy of the Llama3-8B policy: share of pairs with l(chosen) >= l(rejected), ties counted', () => {
    let correct = 0,
      ties = 0;
    for (const [, [c, r]] of loglik) {
      if (c >= r) correct++;
      if (c === r) ties++;
    }
    expect(doc.ranking_accuracy).toEqual([{ annotator: 'llama3-8b-policy', n: N, r: correct / N, ties }]);
  });

  it('internal consistency of the Llama3-8B model (judge answers vs its log-likelihoods), beta 0.1', () => {
    let decisive = 0,
      agree = 0,
      kl = 0;
    for (let k = 0; k < N; k++) {
      const g = judgeP(llama.get(k)!);
      const [c, r] = loglik.get(k)!;
      const d = sig(0.1 * (c - r));
      const pp = clip(g),
        q = clip(d);
      kl += (pp - q) * (Math.log(pp / (1 - pp)) - Math.log(q / (1 - q)));
      if (g !== 0.5 && d !== 0.5) {
        decisive++;
        if (g > 0.5 === d > 0.5) agree++;
      }
    }
    const [ic] = doc.internal_consistency;
    expect(ic).toMatchObject({ annotator: 'llama3-8b-policy', beta: 0.1, n: N, n_decisive: decisive });
    expect(ic.agreement).toBeCloseTo(agree / decisive, 12);
    expect(ic.mean_symmetric_kl).toBeCloseTo(kl / N, 10);
    expect(ic.note).toMatch(/not a DPO reward/);
  });

  it('GDI between the reward models and the LLM judges, with the exact null over all 20 assignments', () => {
    const votes: Record<string, number[]> = {};
    for (const [name, m] of Object.entries(rm))
      votes[name] = Array.from({ length: N }, (_, k) => Math.sign(m.get(k)![0] - m.get(k)![1]));
    for (const [name, m] of Object.entries(judges))
      votes[name] = Array.from({ length: N }, (_, k) => judgeVote(m.get(k)!));
    const names = Object.keys(votes);
    const gdi = (groupA: string[]) => {
      const groupB = names.filter((n) => !groupA.includes(n));
      const mean = (g: string[], k: number) => g.reduce((s, n) => s + votes[n]![k]!, 0) / g.length;
      let s = 0;
      for (let k = 0; k < N; k++) s += Math.abs(mean(groupA, k) - mean(groupB, k)) / 2;
      return s / N;
    };
    const observed = gdi(Object.keys(RM_FILES));
    // Every way to choose which three of the six annotators carry the first label (20 assignments).
    const nulls: number[] = [];
    for (let a = 0; a < 6; a++)
      for (let b = a + 1; b < 6; b++)
        for (let c = b + 1; c < 6; c++) nulls.push(gdi([names[a]!, names[b]!, names[c]!]));
    const g = doc.group_inconsistency;
    expect(g.groups).toEqual({ 'llm-judges': Object.keys(JUDGE_FILES), 'reward-models': Object.keys(RM_FILES) });
    expect(g.n_pairs).toBe(N);
    expect(g.gdi).toBeCloseTo(observed, 12);
    const mean = nulls.reduce((s, x) => s + x, 0) / nulls.length;
    expect(g.null).toEqual({ kind: 'exact', n: 20, mean: expect.closeTo(mean, 12) });
    expect(g.excess).toBeCloseTo(observed - mean, 12);
    expect(g.p_value).toBeCloseTo(nulls.filter((x) => x >= observed - 1e-12).length / 20, 12);
  });

  it('the mean ensemble of the three reward models: its loss against human from standardised scores computed here', () => {
    // Spec section 3: each member standardised over its 2N scores (population sd), the mean of the z's per
    // response, P = sigmoid(E(y1) - E(y0)); its log loss over all pairs (every member scores every pair).
    const z = Object.values(rm).map((m) => {
      const all = [...m.values()].flat();
      const mean = all.reduce((s, x) => s + x, 0) / all.length;
      const sd = Math.sqrt(all.reduce((s, x) => s + (x - mean) ** 2, 0) / all.length);
      return (k: number, i: 0 | 1) => (m.get(k)![i] - mean) / sd;
    });
    let loss = 0;
    for (let k = 0; k < N; k++) {
      const e1 = z.reduce((s, f) => s + f(k, 0), 0) / z.length;
      const e0 = z.reduce((s, f) => s + f(k, 1), 0) / z.length;
      loss -= Math.log(clip(sig(e1 - e0)));
    }
    expect(ensembleDoc.multiplicity.members).toEqual(['rm-mean', 'llama3-8b-rm']);
    expect(ensembleDoc.multiplicity.n_pairs).toBe(N);
    expect(ensembleDoc.multiplicity.losses['rm-mean']).toBeCloseTo(loss / N, 10);
    expect(ensembleDoc.run_id).toBeNull();
  });
});
