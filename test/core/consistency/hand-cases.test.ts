// Consistency spec section 8 ("Hand cases"), value by value. Every expected number is the spec's own;
// where the spec rounds (4 decimals), the test compares to that precision.
import { describe, expect, it } from 'vitest';
import {
  aggregateScores,
  ensembleScores,
  groupInconsistency,
  internalConsistency,
  multiplicity,
  orderConsistency,
  positionChoice,
  rankingAccuracy,
  type GroupMember,
  type TwoOrderColumns,
} from '../../../src/core/consistency';

const f64 = (xs: number[]) => Float64Array.from(xs);

describe('spec section 8, case "Order consistency"', () => {
  // (P(A), P(B), P(NA)) in order 0 then order 1.
  const pairs: [number[], number[], string][] = [
    [[0.7, 0.2, 0.1], [0.2, 0.7, 0.1], 'AB'],
    [[0.6, 0.3, 0.1], [0.8, 0.1, 0.1], 'AA'],
    [[0.2, 0.7, 0.1], [0.3, 0.6, 0.1], 'BB'],
    [[0.1, 0.1, 0.8], [0.1, 0.2, 0.7], 'CC'],
    [[0.5, 0.4, 0.1], [0.45, 0.45, 0.1], 'AC'],
    [[0.3, 0.3, 0.4], [0.2, 0.6, 0.2], 'CB'],
  ];
  const cols: TwoOrderColumns = {
    nPairs: 6,
    order0: f64(pairs.flatMap((p) => p[0])),
    order1: f64(pairs.flatMap((p) => p[1])),
  };
  const r = orderConsistency(cols);

  it("each pair gets the spec's pattern", () => {
    for (const [o0, o1, pattern] of pairs) {
      const c = (p: number[]) => 'ABC'[positionChoice({ pA: p[0]!, pB: p[1]!, pNA: p[2]! })];
      expect(c(o0) + c(o1)).toBe(pattern);
    }
    expect(r.patterns).toEqual({ AA: 1, AB: 1, AC: 1, BA: 0, BB: 1, BC: 0, CA: 0, CB: 1, CC: 1 });
  });

  it('PC = 2/6, primacy = 2/6, recency = 2/6, PF = 0, conflict rate = 4/6', () => {
    expect(r.n).toBe(6);
    expect(r.missing).toBe(0);
    expect(r.pc).toBeCloseTo(2 / 6, 15);
    expect(r.primacyRate).toBeCloseTo(2 / 6, 15);
    expect(r.recencyRate).toBeCloseTo(2 / 6, 15);
    expect(r.pf).toBe(0);
    expect(r.conflictRate).toBeCloseTo(4 / 6, 15);
  });

  it('no-preference breakdown: AA, BB position bias; CC no choice; AC, CB mixed (spec section 2)', () => {
    expect(r.noPreference).toEqual({ positionBias: 2, noChoice: 1, mixed: 2 });
  });

  it('a pair lacking an order is missing and left out', () => {
    const o1 = cols.order1.slice();
    o1[0] = NaN;
    const m = orderConsistency({ ...cols, order1: o1 });
    expect([m.n, m.missing, m.patterns.AB]).toEqual([5, 1, 0]);
  });
});

describe('spec section 8, case "Ensembles, standardising"', () => {
  const members = [
    { name: 'm1', y0: f64([1, 0.5, 2]), y1: f64([2, 0, 2]) },
    { name: 'm2', y0: f64([10, 12, 9]), y1: f64([14, 8, 11]) },
    { name: 'm3', y0: f64([0, 1, 3]), y1: f64([1, 0, -1]) },
  ];
  const e = ensembleScores(members, 'mean');

  it('m1 has mean 1.25 and population sd 0.803638; z_m1 on pair 1 is (-0.3111, 0.9333)', () => {
    const s = e.standardisation[0]!;
    expect(s.mean).toBeCloseTo(1.25, 12);
    expect(s.sd).toBeCloseTo(0.803638, 6);
    expect((1 - s.mean) / s.sd).toBeCloseTo(-0.3111, 4);
    expect((2 - s.mean) / s.sd).toBeCloseTo(0.9333, 4);
  });

  it('mean ensemble: pair 1 (-0.3946, 0.9636) -> +1; pair 2 (0.0034, -1.1474) -> -1; pair 3 (0.6530, -0.0780) -> -1', () => {
    const expected = [
      [-0.3946, 0.9636],
      [0.0034, -1.1474],
      [0.653, -0.078],
    ];
    expected.forEach(([y0, y1], k) => {
      expect(e.y0[k]).toBeCloseTo(y0!, 4);
      expect(e.y1[k]).toBeCloseTo(y1!, 4);
    });
    expect(Array.from(e.preference)).toEqual([1, -1, -1]);
    expect(e.nPairs).toBe(3);
  });

  it('a member with sd 0 cannot join; fewer than two members is refused', () => {
    expect(() =>
      ensembleScores([members[0]!, { name: 'flat', y0: f64([3, 3, 3]), y1: f64([3, 3, 3]) }], 'mean'),
    ).toThrow(/flat.*sd 0/);
    expect(() => ensembleScores([members[0]!], 'mean')).toThrow(/at least two/);
  });
});

describe('spec section 8, case "Ensembles, aggregating"', () => {
  const y0 = [0.2, 0.1, 0.3];
  const y1 = [0.9, 0.8, -0.4];
  it('mean: .2 vs .4333 -> +1', () => {
    expect(aggregateScores(y0, 'mean')).toBeCloseTo(0.2, 12);
    expect(aggregateScores(y1, 'mean')).toBeCloseTo(0.4333, 4);
  });
  it('WCO: .1 vs -.4 -> -1', () => {
    expect(aggregateScores(y0, 'worst-case')).toBe(0.1);
    expect(aggregateScores(y1, 'worst-case')).toBe(-0.4);
  });
  it("UWO, lambda .5: .19667 vs .25889 -> +1 (population variance, not the sample variance's .195 vs .17167)", () => {
    expect(aggregateScores(y0, 'uncertainty-weighted', 0.5)).toBeCloseTo(0.19667, 5);
    expect(aggregateScores(y1, 'uncertainty-weighted', 0.5)).toBeCloseTo(0.25889, 5);
  });
});

describe('spec section 8, case "Multiplicity"', () => {
  const reference = Int8Array.from([1, 1, -1, 1]);
  const members = [
    { name: 'J1', p: f64([0.8, 0.7, 0.3, 0.6]) },
    { name: 'J2', p: f64([0.7, 0.4, 0.2, 0.7]) },
    { name: 'J3', p: f64([0.6, 0.9, 0.6, 0.55]) },
  ];
  const r = multiplicity({ reference, members, epsilons: [0.15, 0.1], deltas: [0.2] });

  it('losses 0.3618, 0.4632, 0.5326; baseline J1', () => {
    expect(r.nPairs).toBe(4);
    expect(r.losses.J1).toBeCloseTo(0.3618, 4);
    expect(r.losses.J2).toBeCloseTo(0.4632, 4);
    expect(r.losses.J3).toBeCloseTo(0.5326, 4);
    expect(r.baseline).toBe('J1');
  });

  it('eps 0.15: S = {J1, J2}, mean width .15; delta 0.2: ambiguity .25, discrepancy .25, flip ambiguity .25', () => {
    const e = r.byEpsilon[0]!;
    expect(e.set).toEqual(['J1', 'J2']);
    expect(e.meanWidth).toBeCloseTo(0.15, 12);
    expect(e.byDelta[0]!.ambiguity).toBe(0.25);
    expect(e.byDelta[0]!.discrepancy).toBe(0.25);
    expect(e.flipAmbiguity).toBe(0.25);
  });

  it('eps 0.1: S = {J1}, everything 0', () => {
    const e = r.byEpsilon[1]!;
    expect(e.set).toEqual(['J1']);
    expect([e.meanWidth, e.flipAmbiguity, e.byDelta[0]!.ambiguity, e.byDelta[0]!.discrepancy]).toEqual([0, 0, 0, 0]);
  });
});

describe('spec section 8, case "Ranking accuracy"', () => {
  it('differences (-3, 2, 0, 1.5) against (+1, +1, -1, -1): correct on pairs 2 and 3 (a tie), R = 0.5', () => {
    const r = rankingAccuracy(Int8Array.from([1, 1, -1, -1]), f64([-3, 2, 0, 1.5]), f64([0, 0, 0, 0]));
    expect(r).toEqual({ n: 4, r: 0.5, ties: 1 });
  });
});

describe('spec section 8, case "Internal consistency"', () => {
  it('beta 0.1, P_G (.9, .4, .7), l(y1) - l(y0) = (12, 5, -3): agreement 1/3; symmetric KL mean .2158', () => {
    const r = internalConsistency(f64([0.9, 0.4, 0.7]), f64([12, 5, -3]), f64([0, 0, 0]), 0.1);
    expect(r.n).toBe(3);
    expect(r.nDecisive).toBe(3);
    expect(r.agreement).toBeCloseTo(1 / 3, 15);
    expect(r.meanSymmetricKl).toBeCloseTo(0.2158, 4);
  });
  it('per pair: P_D = (.7685, .6225, .4256), symmetric KL (.1311, .2014, .3149)', () => {
    const pD = [0.7685, 0.6225, 0.4256];
    const kl = [0.1311, 0.2014, 0.3149];
    [
      [0.9, 12],
      [0.4, 5],
      [0.7, -3],
    ].forEach(([g, d], k) => {
      const one = internalConsistency(f64([g!]), f64([d!]), f64([0]), 0.1);
      expect(one.meanSymmetricKl).toBeCloseTo(kl[k]!, 4);
      expect(one.agreement).toBe(k === 0 ? 1 : 0);
      expect(1 / (1 + Math.exp(-0.1 * d!))).toBeCloseTo(pD[k]!, 4);
    });
  });
});

describe('spec section 8, case "Groups"', () => {
  const member = (name: string, group: string, votes: (number | null)[]): GroupMember => ({
    name,
    group,
    votes: Int8Array.from(votes.map((v) => v ?? 0)),
    present: Uint8Array.from(votes.map((v) => (v === null ? 0 : 1))),
  });
  const members = [
    member('a1', 'EU', [1, 1, -1]),
    member('a2', 'EU', [1, 0, null]),
    member('a3', 'US', [-1, 1, -1]),
    member('a4', 'US', [-1, 1, 1]),
  ];
  const r = groupInconsistency(members, 3);

  it('GDI(k) = (1, .25, .5), GDI = .5833', () => {
    expect(r.gdi).toBeCloseTo(1.75 / 3, 15);
    expect(r.gdi).toBeCloseTo(0.5833, 4);
    expect(r.nPairs).toBe(3);
    expect(r.groups).toEqual({ EU: ['a1', 'a2'], US: ['a3', 'a4'] });
    // Pair by pair, through one-pair slices of the same votes.
    [1, 0.25, 0.5].forEach((g, k) => {
      const one = members.map((m) => ({
        ...m,
        votes: m.votes.subarray(k, k + 1),
        present: m.present.subarray(k, k + 1),
      }));
      expect(groupInconsistency(one, 1).gdi).toBeCloseTo(g, 15);
    });
  });

  it('six labelled assignments (.5833, .4167, .25, .25, .4167, .5833): null mean .4167, excess .1667, p = 2/6', () => {
    expect(r.null.kind).toBe('exact');
    expect(r.null.n).toBe(6);
    expect(r.null.mean).toBeCloseTo(0.4167, 4);
    expect(r.excess).toBeCloseTo(0.1667, 4);
    expect(r.pValue).toBeCloseTo(2 / 6, 15);
  });

  it('above the exact limit the null is 1,000 seeded draws, the same for the same seed', () => {
    const a = groupInconsistency(members, 3, { exactLimit: 5, seed: 7 });
    const b = groupInconsistency(members, 3, { exactLimit: 5, seed: 7 });
    expect(a.null.kind).toBe('sampled');
    expect(a.null.n).toBe(1000);
    expect(a).toEqual(b);
    // The draws come from the six assignments above, so their mean is near .4167.
    expect(a.null.mean).toBeGreaterThan(0.38);
    expect(a.null.mean).toBeLessThan(0.45);
  });
});
