// Kendall tau-b with ties (scipy.stats.kendalltau variant 'b' convention) and the rank conventions.
// Expected values are computed by hand in the comments: n0 = n(n-1)/2, n1 / n2 = pairs tied in x / in y,
// tau_b = (n_c - n_d) / sqrt((n0 - n1)(n0 - n2)).
import { describe, expect, it } from 'vitest';
import { averageRanksDescending, discretionDiscrepancy, kendallTauB, truncateRanks } from '../../../src/core/metrics';

describe('kendallTauB (hand-computed, with ties)', () => {
  it('identical orderings: tau = 1, reversed: tau = -1', () => {
    expect(kendallTauB([1, 2, 3, 4], [1, 2, 3, 4])).toBe(1);
    expect(kendallTauB([1, 2, 3, 4], [4, 3, 2, 1])).toBe(-1);
  });

  it('x = [1,2,2,3], y = [1,2,3,3]: 0.8', () => {
    // pairs (0,1) C, (0,2) C, (0,3) C, (1,2) tied in x, (1,3) C, (2,3) tied in y
    // n_c = 4, n_d = 0, n0 = 6, n1 = 1, n2 = 1 -> 4 / sqrt(5 * 5) = 0.8
    expect(kendallTauB([1, 2, 2, 3], [1, 2, 3, 3])).toBeCloseTo(0.8, 15);
  });

  it('x = [1,1,2,2], y = [1,2,1,2]: 0', () => {
    // (0,1) tied x, (0,2) tied y, (0,3) C, (1,2) D, (1,3) tied y, (2,3) tied x
    // n_c = 1, n_d = 1, n1 = 2, n2 = 2 -> 0 / sqrt(4 * 4) = 0
    expect(kendallTauB([1, 1, 2, 2], [1, 2, 1, 2])).toBe(0);
  });

  it('joint tie: x = [1,1,2,3], y = [1,1,3,2]: 0.6', () => {
    // (0,1) tied in both (counts in n1 and n2, in neither n_c nor n_d), (0,2) C, (0,3) C, (1,2) C, (1,3) C, (2,3) D
    // n_c = 4, n_d = 1, n1 = 1, n2 = 1 -> 3 / sqrt(5 * 5) = 0.6
    expect(kendallTauB([1, 1, 2, 3], [1, 1, 3, 2])).toBeCloseTo(0.6, 15);
  });

  it('spec section 9: ranks (3,1,2,4) vs (2,2,1,4): 3 / sqrt(30) = 0.547723', () => {
    // (0,1) tied in y; (0,2) C; (0,3) C; (1,2) D; (1,3) C; (2,3) C -> n_c = 4, n_d = 1, n1 = 0, n2 = 1
    // tau = 3 / sqrt(6 * 5) = 0.5477225575
    expect(kendallTauB([3, 1, 2, 4], [2, 2, 1, 4])).toBeCloseTo(3 / Math.sqrt(30), 15);
    expect(discretionDiscrepancy([3, 1, 2, 4], [2, 2, 1, 4])).toBeCloseTo((1 - 3 / Math.sqrt(30)) / 2, 15);
  });

  it('undefined cases are NaN: all tied, fewer than 2 items, NaN input', () => {
    expect(kendallTauB([1, 1, 1], [1, 2, 3])).toBeNaN();
    expect(kendallTauB([1, 2, 3], [5, 5, 5])).toBeNaN();
    expect(kendallTauB([1], [1])).toBeNaN();
    expect(kendallTauB([1, NaN], [1, 2])).toBeNaN();
    expect(discretionDiscrepancy([2, 2], [1, 2])).toBeNaN();
  });
});

describe('ranks', () => {
  it('average ranks descending, +inf first, -inf last, ties averaged', () => {
    expect(Array.from(averageRanksDescending([0, 0, Infinity, -Infinity]))).toEqual([2.5, 2.5, 1, 4]);
    expect(Array.from(averageRanksDescending([Infinity, Infinity, 1, -Infinity, -Infinity]))).toEqual([
      1.5, 1.5, 3, 4.5, 4.5,
    ]);
    expect(Array.from(averageRanksDescending([0.3, -1, 0.3, 0.3]))).toEqual([2, 4, 2, 2]);
  });

  it('tie tolerance merges values equal up to rounding only', () => {
    expect(Array.from(averageRanksDescending([1, 1 + 1e-13, 0.5], 1e-9))).toEqual([1.5, 1.5, 3]);
    expect(Array.from(averageRanksDescending([1, 1 + 1e-13, 0.5], 0))).toEqual([2, 1, 3]);
  });

  it('NaN anywhere makes the ranking undefined', () => {
    expect(Array.from(averageRanksDescending([1, NaN, 0])).every(Number.isNaN)).toBe(true);
  });

  it('published truncation: three tied at 2 stay 2; four tied at 2.5 become 2 (spec section 7)', () => {
    // Three principles tied for positions 1..3 share average rank (1+2+3)/3 = 2 -> stays 2;
    // four tied for positions 1..4 share (1+2+3+4)/4 = 2.5 -> truncated to 2.
    expect(Array.from(truncateRanks(averageRanksDescending([5, 5, 5, 1])))).toEqual([2, 2, 2, 4]);
    expect(Array.from(truncateRanks(averageRanksDescending([5, 5, 5, 5, 1])))).toEqual([2, 2, 2, 2, 5]);
  });
});
