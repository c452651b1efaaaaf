// Spec section 9 ("A tiny case to check by hand"), value by value. Every expected number below is the spec's own
// (or, for x, the root of the spec's equation 2*sigmoid(-2x) + sigmoid(-x) = 1, found by bisection in fixtures.ts).
import { describe, expect, it } from 'vitest';
import {
  CONFLICT,
  CONSENSUS,
  INDIFFERENCE,
  accumulateWins,
  analyzeDiscretion,
  averageRanksDescending,
  buildConflictIndex,
  categorizePairs,
  daCounts,
  daFromCounts,
  discretionDiscrepancy,
  kendallTauB,
  principlePriority,
  supremacyFromWins,
  truncateRanks,
} from '../../../src/core/metrics';
import { HAND_A, HAND_B, HAND_C, HAND_M, HAND_N, handCaseInput, handCaseX } from './fixtures';

const m = HAND_M;
const cats = categorizePairs(HAND_C, HAND_N, m);
const index = buildConflictIndex(HAND_C, HAND_N, m, cats);
const Wa = accumulateWins(index, HAND_A);
const Wb = accumulateWins(index, HAND_B);
const at = (arr: Float64Array, i: number, j: number) => arr[i * m + j]!;

describe('spec section 9: hand case', () => {
  it('categories: consensus {1,2,3} signs (+1,+1,-1); conflict {4,5,6,8}; indifference {7}', () => {
    expect(Array.from(cats.category)).toEqual([
      CONSENSUS,
      CONSENSUS,
      CONSENSUS,
      CONFLICT,
      CONFLICT,
      CONFLICT,
      INDIFFERENCE,
      CONFLICT,
    ]);
    expect(Array.from(cats.sign.subarray(0, 3))).toEqual([1, 1, -1]);
    expect([cats.nConsensus, cats.nConflict, cats.nIndifference]).toEqual([3, 4, 1]);
  });

  it('DA(a) = 1/3 over 3 pairs; DA(b) = 0/2', () => {
    const ca = daCounts(HAND_A, cats);
    expect(ca.agree + ca.disagree).toBe(3);
    expect(daFromCounts(ca)).toBeCloseTo(1 / 3, 15);
    const cb = daCounts(HAND_B, cats);
    expect(cb.agree + cb.disagree).toBe(2);
    expect(daFromCounts(cb)).toBe(0);
  });

  it('conflict counts n_01 = 2, n_02 = 1, n_12 = 1, n_23 = 1, others 0 (same for a and b)', () => {
    for (const W of [Wa, Wb]) {
      const { nConflicts } = supremacyFromWins(W, m);
      const expected: Record<string, number> = { '0,1': 2, '0,2': 1, '1,2': 1, '2,3': 1 };
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < m; j++) {
          if (i === j) {
            expect(at(nConflicts, i, j)).toBeNaN();
            continue;
          }
          const key = i < j ? `${i},${j}` : `${j},${i}`;
          expect(at(nConflicts, i, j)).toBe(expected[key] ?? 0);
        }
      }
    }
  });

  it('PS for a: PS(0>1) = 0.5, PS(0>2) = 0, PS(1>2) = 1, PS(2>3) = 1', () => {
    const { ps } = supremacyFromWins(Wa, m);
    expect(at(ps, 0, 1)).toBe(0.5);
    expect(at(ps, 0, 2)).toBe(0);
    expect(at(ps, 1, 2)).toBe(1);
    expect(at(ps, 2, 3)).toBe(1);
    expect(at(ps, 0, 3)).toBeNaN();
    expect(at(ps, 1, 3)).toBeNaN();
  });

  it('PS for b: PS(0>1) = 0.5, PS(0>2) = 0, PS(1>2) = 0, PS(2>3) = 1', () => {
    const { ps } = supremacyFromWins(Wb, m);
    expect(at(ps, 0, 1)).toBe(0.5);
    expect(at(ps, 0, 2)).toBe(0);
    expect(at(ps, 1, 2)).toBe(0);
    expect(at(ps, 2, 3)).toBe(1);
  });

  it('w*(a) = (-0.419618, +0.419618, 0, -inf) after centring; ranks (3, 1, 2, 4)', () => {
    const x = handCaseX();
    expect(x).toBeCloseTo(0.419618, 6);
    const pa = principlePriority(Wa, m);
    expect(pa.status).toBe('ok');
    expect(pa.w[0]).toBeCloseTo(-x, 9);
    expect(pa.w[1]).toBeCloseTo(x, 9);
    expect(pa.w[2]).toBeCloseTo(0, 9);
    expect(pa.w[3]).toBe(-Infinity);
    expect(Math.abs(pa.w[0]! + 0.419618)).toBeLessThan(1e-6);
    expect(Array.from(averageRanksDescending(pa.w, 1e-9))).toEqual([3, 1, 2, 4]);
  });

  it('w*(b) = (0, 0, +inf, -inf); average ranks (2.5, 2.5, 1, 4), truncated (2, 2, 1, 4)', () => {
    const pb = principlePriority(Wb, m);
    expect(pb.status).toBe('ok');
    expect(pb.w[0]).toBeCloseTo(0, 12);
    expect(pb.w[1]).toBeCloseTo(0, 12);
    expect(pb.w[2]).toBe(Infinity);
    expect(pb.w[3]).toBe(-Infinity);
    const avg = averageRanksDescending(pb.w, 1e-9);
    expect(Array.from(avg)).toEqual([2.5, 2.5, 1, 4]);
    expect(Array.from(truncateRanks(avg))).toEqual([2, 2, 1, 4]);
  });

  it('DD(a, b) with truncated ranks: tau_b = 0.547723, DD = 0.226139', () => {
    const ra = truncateRanks(averageRanksDescending(principlePriority(Wa, m).w, 1e-9));
    const rb = truncateRanks(averageRanksDescending(principlePriority(Wb, m).w, 1e-9));
    expect(kendallTauB(ra, rb)).toBeCloseTo(0.547723, 6);
    expect(discretionDiscrepancy(ra, rb)).toBeCloseTo(0.226139, 6);
  });

  it('analyzeDiscretion reproduces every value of the hand case in its JSON', () => {
    const res = analyzeDiscretion(handCaseInput());
    expect(res.categories).toMatchObject({ n: 8, consensus: 3, conflict: 4, indifference: 1 });
    const [a, b] = res.annotators;
    expect(a!.da).toBeCloseTo(1 / 3, 15);
    expect(a!.da_n).toBe(3);
    expect(b!.da).toBe(0);
    expect(b!.da_n).toBe(2);
    expect(a!.n_conflicts![0]![1]).toBe(2);
    expect(a!.n_conflicts![0]![0]).toBeNull();
    expect(a!.ps![1]![2]).toBe(1);
    expect(b!.ps![1]![2]).toBe(0);
    expect(a!.ps![0]![3]).toBeNull();
    expect(a!.w_star![3]).toBe('-inf');
    expect(b!.w_star![2]).toBe('+inf');
    expect(a!.w_star![1] as number).toBeCloseTo(0.419618, 6);
    expect(a!.rank).toEqual([3, 1, 2, 4]);
    expect(b!.rank).toEqual([2.5, 2.5, 1, 4]);
    expect(b!.rank_truncated).toEqual([2, 2, 1, 4]);
    expect(a!.tau_b_point!).toBeCloseTo(0.547723, 6);
    expect(a!.dd_point!).toBeCloseTo(0.226139, 6);
    expect(b!.dd_point).toBe(0);
    expect(JSON.stringify(res)).not.toMatch(/NaN|Infinity/);
  });
});
