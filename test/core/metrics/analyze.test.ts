// analyzeDiscretion: principle sources, JSON contract, reasons for undefined values, input errors, and the
// bootstraps checked against naive item resampling (same distribution).
import { describe, expect, it } from 'vitest';
import {
  MetricsInputError,
  Rng,
  accumulateWins,
  analyzeDiscretion,
  averageRanksDescending,
  bootstrapDa,
  bootstrapDd,
  buildConflictIndex,
  discretionDiscrepancy,
  majorityPrinciples,
  principlePriority,
  type DiscretionInput,
} from '../../../src/core/metrics';
import { HAND_A, HAND_B, HAND_C, HAND_N, handCaseInput } from './fixtures';

const base = (): DiscretionInput => handCaseInput();

describe('majorityPrinciples', () => {
  it('per cell: sign of the sum of non-zero labels; 0 on a tie or when nobody labelled (hand-computed)', () => {
    // cell:  0          1          2         3          4
    // M1:   +1         -1          0        +1         -1
    // M2:   +1         +1          0        -1          0
    // M3:   -1          0          0         0         -1
    // sum:  +1 -> +1    0 -> 0     0 -> 0    0 -> 0    -2 -> -1
    const out = majorityPrinciples(
      [Int8Array.from([1, -1, 0, 1, -1]), Int8Array.from([1, 1, 0, -1, 0]), Int8Array.from([-1, 0, 0, 0, -1])],
      1,
      5,
    );
    expect(Array.from(out)).toEqual([1, 0, 0, 0, -1]);
  });
});

describe('analyzeDiscretion', () => {
  it('oracle source: JSON contract fields, no NaN/Infinity, options echoed', () => {
    const res = analyzeDiscretion({ ...base(), bootstrap: 20, daBootstrap: 100, agreementBootstrap: 50, seed: 3 });
    expect(res.principle_source).toEqual({ kind: 'oracle', name: 'hand' });
    expect(res.options).toMatchObject({ bootstrap: 20, da_bootstrap: 100, seed: 3 });
    for (const a of res.annotators) {
      expect(Object.keys(a)).toEqual(
        expect.arrayContaining([
          'name',
          'kind',
          'da',
          'da_n',
          'da_boot',
          'ps',
          'n_conflicts',
          'w_star',
          'rank',
          'dd_point',
          'dd_boot',
        ]),
      );
      expect(a.ps).toHaveLength(4);
      expect(a.ps![0]).toHaveLength(4);
      expect(a.da_boot!.n).toBe(100);
      expect(a.dd_boot!.n).toBe(20);
      expect(a.categories).toEqual(res.categories);
    }
    // The reference's own DD is 0 by definition, so is its bootstrap DD in every resample where defined;
    // with this fixture and seed some resamples are defined, so the mean is 0, not null.
    const b = res.annotators[1]!;
    expect(b.dd_point).toBe(0);
    expect(b.dd_boot!.n_undefined).toBeLessThan(20);
    expect(b.dd_boot).toMatchObject({ mean: 0, sd: 0, lo: 0, hi: 0, n: 20 });
    expect(JSON.stringify(res)).not.toMatch(/NaN|Infinity/);
    expect(res.categories.pct.consensus).toBeCloseTo(37.5, 12); // 3 of 8
    // SE = 100 * sqrt(p(1-p)/(N-1)) = 100 * sqrt(0.375 * 0.625 / 7) = 18.298...
    expect(res.categories.se_pct.consensus).toBeCloseTo(100 * Math.sqrt((0.375 * 0.625) / 7), 12);
  });

  it('overall agreement of a and b (hand-computed Cohen kappa)', () => {
    // Spec pairs where both decided: 1, 2, 4, 5, 6, 8 -> 6 items.
    // a: + - + + - +, b: + + - - - -; they agree on pairs 1 and 6 -> p_o = 2/6.
    // marginals: a has 4 '+', 2 '-'; b has 2 '+', 4 '-' -> p_e = (4/6)(2/6) + (2/6)(4/6) = 16/36.
    // kappa = (12/36 - 16/36) / (20/36) = -0.2
    const res = analyzeDiscretion(base());
    const ov = res.agreement.overall!;
    expect(ov.cohen_kappa[0]!.value).toBeCloseTo(-0.2, 12);
    expect(ov.cohen_kappa[0]!.n_items).toBe(6);
    expect(ov.percent_agreement.value).toBeCloseTo(2 / 6, 12);
    expect(res.agreement.principles).toBeNull();
  });

  it("source 'self': per-annotator categories, DA against each annotator's own labels, pooled top level", () => {
    // x's own labels: pair 0 consensus +1, pair 1 conflict, pair 2 indifference.
    // y's own labels: pair 0 consensus -1, pair 1 consensus +1, pair 2 consensus +1.
    const x = {
      name: 'x',
      kind: 'human',
      overall: Int8Array.from([-1, 1, 1]),
      principles: Int8Array.from([1, 0, 1, -1, 0, 0]),
    };
    const y = {
      name: 'y',
      kind: 'human',
      overall: Int8Array.from([1, 1, -1]),
      principles: Int8Array.from([-1, 0, 1, 1, 1, 0]),
    };
    const rm = { name: 'rm', kind: 'reward-model', overall: Int8Array.from([1, 1, 1]) };
    const res = analyzeDiscretion({
      principles: [
        { id: 'p', short: 'P' },
        { id: 'q', short: 'Q' },
      ],
      nPairs: 3,
      annotators: [x, y, rm],
      principleSource: { kind: 'self' },
      reference: 'y',
      bootstrap: 5,
      daBootstrap: 0,
      agreementBootstrap: 0,
    });
    const [rx, ry, rr] = res.annotators;
    expect(rx!.categories).toMatchObject({ consensus: 1, conflict: 1, indifference: 1 });
    expect(ry!.categories).toMatchObject({ consensus: 3, conflict: 0, indifference: 0 });
    // x overrides its own consensus (+1) on pair 0: DA = 1/1. y: pair 0 s=-1 a=+1 (override), pair 1 follows,
    // pair 2 s=+1 a=-1 (override): DA = 2/3.
    expect(rx!.da).toBe(1);
    expect(ry!.da).toBeCloseTo(2 / 3, 15);
    expect(res.categories).toMatchObject({ n: 6, consensus: 4, conflict: 1, indifference: 1, pooled_over: ['x', 'y'] });
    expect(rr!.da).toBeNull();
    expect(rr!.da_reason).toMatch(/no principle labels/);
    expect(rr!.dd_point).toBeNull();
    expect(rr!.dd_boot).toBeNull();
    expect(res.diagnostics.join('\n')).toMatch(/'rm' has no principle labels/);
    // Principle agreement between x and y is reported (2 labellers).
    expect(res.agreement.principles!.raters).toEqual(['x', 'y']);
    expect(res.agreement.principles!.per_principle).toHaveLength(2);
    // Hand count: principle p, x = (+1, +1, 0), y = (-1, +1, +1): agree on 1 of 3 pairs; principle q,
    // x = (0, -1, 0), y = (0, +1, 0): agree on 2 of 3; pooled over the 6 cells: 3 of 6.
    expect(res.agreement.principles!.per_principle[0]!.percent_agreement.value).toBeCloseTo(1 / 3, 15);
    expect(res.agreement.principles!.per_principle[1]!.percent_agreement.value).toBeCloseTo(2 / 3, 15);
    expect(res.agreement.principles!.percent_agreement.value).toBeCloseTo(0.5, 15);
    expect(res.agreement.principles!.n_items).toBe(6);
  });

  it("source 'majority' equals an oracle holding majorityPrinciples() of the named annotators", () => {
    const l1 = Int8Array.from(HAND_C);
    const l2 = HAND_C.map((v, i) => (i % 5 === 0 ? -v : v));
    const l3 = HAND_C.map((v, i) => (i % 3 === 0 ? 0 : v));
    const anns = [
      { name: 'h1', kind: 'human', overall: HAND_B, principles: l1 },
      { name: 'h2', kind: 'human', overall: HAND_A, principles: l2 },
      { name: 'h3', kind: 'human', overall: HAND_B, principles: l3 },
    ];
    const maj = analyzeDiscretion({
      ...base(),
      annotators: anns,
      reference: 'h1',
      principleSource: { kind: 'majority', annotators: ['h1', 'h2', 'h3'] },
    });
    const orc = analyzeDiscretion({
      ...base(),
      annotators: anns,
      reference: 'h1',
      principleSource: { kind: 'oracle', name: 'm', matrix: majorityPrinciples([l1, l2, l3], HAND_N, 4) },
    });
    expect(maj.annotators).toEqual(orc.annotators);
    expect(maj.principle_source).toEqual({ kind: 'majority', annotators: ['h1', 'h2', 'h3'] });
  });

  it('DA undefined (no decisive consensus pair) is null with a reason, never NaN', () => {
    const res = analyzeDiscretion({
      ...base(),
      annotators: [...base().annotators, { name: 'mute', kind: 'reward-model', overall: new Int8Array(HAND_N) }],
      daBootstrap: 10,
    });
    const mute = res.annotators[2]!;
    expect(mute.da).toBeNull();
    expect(mute.da_n).toBe(0);
    expect(mute.da_reason).toBe('no decisive preference on any of the 3 consensus pairs');
    expect(mute.da_boot).toMatchObject({ mean: null, n: 10, n_undefined: 10 });
    // No decisive conflict either: every principle is -inf, all ranks tie, tau_b undefined.
    expect(mute.w_star).toEqual(['-inf', '-inf', '-inf', '-inf']);
    expect(mute.dd_point).toBeNull();
    expect(mute.dd_reason).toMatch(/tau_b is undefined/);
    expect(JSON.stringify(res)).not.toMatch(/NaN|Infinity/);
  });

  it('a disconnected comparison graph gives w* null, status and diagnostic, DD null with reason', () => {
    // pair 0: c = (+1, 0, -1, 0), a = -1: 2 beats 0.    pair 1: c = (0, -1, +1, 0), a = +1: 2 beats 1.
    // pair 2: c = (+1, 0, 0, -1), a = +1: 0 beats 3.    pair 3: c = (0, +1, 0, -1), a = +1: 1 beats 3.
    // 2 never loses (+inf), 3 never wins (-inf); 0 and 1 are finite but never meet: not strongly connected.
    const c = Int8Array.from([1, 0, -1, 0, 0, -1, 1, 0, 1, 0, 0, -1, 0, 1, 0, -1]);
    const a = Int8Array.from([-1, 1, 1, 1]);
    const res = analyzeDiscretion({
      principles: [0, 1, 2, 3].map((i) => ({ id: `p${i}`, short: `P${i}` })),
      nPairs: 4,
      annotators: [
        { name: 'a', kind: 'human', overall: a },
        { name: 'ref', kind: 'human', overall: Int8Array.from([1, 1, 1, 1]) },
      ],
      principleSource: { kind: 'oracle', name: 'o', matrix: c },
      reference: 'ref',
      bootstrap: 0,
      daBootstrap: 0,
      agreementBootstrap: 0,
    });
    const ra = res.annotators[0]!;
    expect(ra.w_status).toBe('disconnected');
    expect(ra.w_star).toEqual([null, null, '+inf', '-inf']);
    expect(ra.rank).toEqual([null, null, null, null]);
    expect(ra.diagnostics.join(' ')).toMatch(/not strongly connected/);
    expect(ra.dd_point).toBeNull();
    expect(ra.dd_reason).toMatch(/w\* of 'a' is undefined \(disconnected\)/);
  });

  it('clear errors for bad input', () => {
    expect(() => analyzeDiscretion({ ...base(), reference: 'nobody' })).toThrow(
      /reference annotator 'nobody' is not in the data/,
    );
    expect(() => analyzeDiscretion({ ...base(), reference: 'nobody' })).toThrow(MetricsInputError);
    expect(() =>
      analyzeDiscretion({
        ...base(),
        annotators: [{ name: 'b', kind: 'human', overall: Int8Array.from([2, 0, 0, 0, 0, 0, 0, 0]) }],
      }),
    ).toThrow(/not -1, 0 or \+1/);
    expect(() => analyzeDiscretion({ ...base(), nPairs: 7 })).toThrow(/expected 7 values/);
    expect(() =>
      analyzeDiscretion({ ...base(), annotators: [...base().annotators, { name: 'a', kind: 'x', overall: HAND_A }] }),
    ).toThrow(/duplicate annotator name 'a'/);
    expect(() => analyzeDiscretion({ ...base(), principleSource: { kind: 'majority', annotators: ['zed'] } })).toThrow(
      /unknown annotator 'zed'/,
    );
    expect(() => analyzeDiscretion({ ...base(), principleSource: { kind: 'majority', annotators: ['a'] } })).toThrow(
      /has no principle labels/,
    );
    expect(() => analyzeDiscretion({ ...base(), principleSource: { kind: 'self' } })).toThrow(
      /reference annotator 'b' has no principle labels/,
    );
    expect(() => analyzeDiscretion({ ...base(), bootstrap: -1 })).toThrow(/bootstrap/);
    expect(() => analyzeDiscretion({ ...base(), principles: [] })).toThrow(/principle list is empty/);
  });

  it("reports each stage's time by the clock it is given, and none without one", () => {
    // A clock that starts at 1000 and whose k-th step is 2^(k-1) ms (1, 2, 4, ...): every stage's time is a
    // sum of distinct powers of two, so a step counted in the wrong stage, twice or not at all shows. The hand
    // case (2 annotators, both with principle labels, no bootstraps, no groups) reads the clock at: the start,
    // the end of the categories, then per annotator at the end of its DA and of its PS and w*, then the end of
    // DD, of the agreement, and the total.
    const readings: number[] = [];
    let step = 1;
    let now = 1000;
    const clock = () => {
      if (readings.length) {
        now += step;
        step *= 2;
      }
      readings.push(now);
      return now;
    };
    const res = analyzeDiscretion({ ...base(), clock });
    expect(readings).toEqual([1000, 1001, 1003, 1007, 1015, 1031, 1063, 1127, 1255]);
    expect(res.timings_ms).toEqual({
      categories: 1,
      da: 2 + 8, // a's DA, b's DA
      ps_wstar: 4 + 16,
      dd_point: 32,
      agreement: 64,
      total: 255, // start to end, the result assembled last (128) included
    });
    expect(analyzeDiscretion(base()).timings_ms).toBeUndefined();
  });
});

describe('bootstraps have the distribution of naive item resampling', () => {
  it('DA: multinomial over (disagree, agree, non-decisive) vs drawing N consensus pairs', () => {
    const counts = { nConsensus: 100, disagree: 30, agree: 50, nonDecisive: 20 };
    const R = 4000;
    const fast = bootstrapDa(counts, R, new Rng(11, 'fast'));
    // Naive: the 100 consensus pairs as a list of types; draw 100 indices per resample.
    const types = [...Array(30).fill(0), ...Array(50).fill(1), ...Array(20).fill(2)] as number[];
    const rng = new Rng(11, 'naive');
    let s = 0;
    let ss = 0;
    for (let r = 0; r < R; r++) {
      let d = 0;
      let a = 0;
      for (let i = 0; i < 100; i++) {
        const t = types[rng.int(100)]!;
        if (t === 0) d++;
        else if (t === 1) a++;
      }
      const v = d / (d + a);
      s += v;
      ss += v * v;
    }
    const mean = s / R;
    const sd = Math.sqrt(ss / R - mean * mean);
    // SD of DA ~ 0.055; the two means differ by about sd * sqrt(2 / R) = 0.0012 -> allow 0.005.
    expect(Math.abs(fast.mean - mean)).toBeLessThan(0.005);
    expect(Math.abs(fast.sd / sd - 1)).toBeLessThan(0.06);
    expect(fast.lo).toBeLessThan(0.375);
    expect(fast.hi).toBeGreaterThan(0.375);
  });

  it('DD: binomial split over conflict pairs vs drawing nPairs indices over all pairs', () => {
    // A fixed random dataset: 80 pairs, 5 principles, sparse labels; two annotators.
    const gen = new Rng(2024, 'data');
    const n = 80;
    const m = 5;
    const c = new Int8Array(n * m);
    for (let i = 0; i < c.length; i++) {
      const u = gen.uniform();
      c[i] = u < 0.2 ? 1 : u < 0.35 ? -1 : 0;
    }
    const a = new Int8Array(n);
    const b = new Int8Array(n);
    for (let k = 0; k < n; k++) {
      a[k] = gen.uniform() < 0.6 ? 1 : -1;
      b[k] = gen.uniform() < 0.1 ? 0 : gen.uniform() < 0.5 ? 1 : -1;
    }
    const index = buildConflictIndex(c, n, m);
    expect(index.conflictPairs.length).toBeLessThan(n); // the split is really exercised
    const R = 1500;
    const fast = bootstrapDd(
      [
        { index, overall: a },
        { index, overall: b },
      ],
      1,
      m,
      n,
      R,
      new Rng(5, 'fast'),
    );
    const rng = new Rng(5, 'naive');
    const mult = new Int32Array(n);
    const vals: number[] = [];
    for (let r = 0; r < R; r++) {
      mult.fill(0);
      for (let i = 0; i < n; i++) mult[rng.int(n)]!++;
      const ra = averageRanksDescending(principlePriority(accumulateWins(index, a, mult), m).w, 1e-9);
      const rb = averageRanksDescending(principlePriority(accumulateWins(index, b, mult), m).w, 1e-9);
      vals.push(discretionDiscrepancy(ra, rb));
    }
    const def = vals.filter((v) => !Number.isNaN(v));
    const mean = def.reduce((x, y) => x + y, 0) / def.length;
    const sd = Math.sqrt(def.reduce((x, y) => x + (y - mean) ** 2, 0) / def.length);
    const se = sd * Math.sqrt(2 / R);
    expect(Math.abs(fast.summaries[0]!.mean - mean)).toBeLessThan(5 * se);
    expect(Math.abs(fast.summaries[0]!.sd / sd - 1)).toBeLessThan(0.15);
    expect(fast.summaries[1]!.mean).toBe(0); // the reference against itself
  });
});

describe("paired DD bootstrap with per-annotator sources ('self')", () => {
  it('equals the shared-source bootstrap when every annotator labels the same principles', () => {
    // Two distinct but equal matrices exercise the multi-source path (union of conflict pairs, positions in it);
    // with the same seed the resampled pairs, hence every DD, must equal those of one shared oracle.
    const anns = [
      { name: 'a', kind: 'human', overall: HAND_A, principles: Int8Array.from(HAND_C) },
      { name: 'b', kind: 'human', overall: HAND_B, principles: Int8Array.from(HAND_C) },
    ];
    const opts = { bootstrap: 200, daBootstrap: 0, agreementBootstrap: 0, seed: 9 };
    const self = analyzeDiscretion({ ...base(), ...opts, annotators: anns, principleSource: { kind: 'self' } });
    const oracle = analyzeDiscretion({ ...base(), ...opts, annotators: anns });
    expect(self.annotators.map((a) => a.dd_boot)).toEqual(oracle.annotators.map((a) => a.dd_boot));
    expect(self.annotators[0]!.dd_boot!.n).toBe(200);
  });

  it('bad principle values are reported with the annotator name', () => {
    const bad = Int8Array.from(HAND_C);
    bad[5] = 3;
    expect(() =>
      analyzeDiscretion({
        ...base(),
        annotators: [
          { name: 'a', kind: 'human', overall: HAND_A, principles: Int8Array.from(HAND_C) },
          { name: 'b', kind: 'human', overall: HAND_B, principles: bad },
        ],
        principleSource: { kind: 'self' },
      }),
    ).toThrow(/principle labels of annotator 'b': value 3 at index 5/);
    const badOracle = Int8Array.from(HAND_C);
    badOracle[0] = -2;
    expect(() =>
      analyzeDiscretion({ ...base(), principleSource: { kind: 'oracle', name: 'gpt', matrix: badOracle } }),
    ).toThrow(/principle source 'gpt': value -2 at index 0/);
  });
});
