// Order consistency of two-order LLM judges (consistency spec section 2): what a judge picks by
// *position* in each order, the nine patterns, position consistency, conflict rate, primacy / recency
// and preference fairness, and why the judge's preference is 0 or missing where it is.
import type { ABProbabilities } from '../derive';

/** A judge's choice by position in one order: 0 = A (first shown), 1 = B, 2 = C (no choice). */
export type PositionChoice = 0 | 1 | 2;

export const PATTERNS = ['AA', 'AB', 'AC', 'BA', 'BB', 'BC', 'CA', 'CB', 'CC'] as const;
export type OrderPattern = (typeof PATTERNS)[number];

/** C when NA is the most likely token or P(A) == P(B); otherwise the more likely position. */
export function positionChoice(p: ABProbabilities): PositionChoice {
  return choiceOf(p.pA, p.pB, p.pNA);
}

/**
 * A judge's probabilities on every pair, column-wise: `order0[3k..3k+2]` = P(A), P(B), P(NA) of pair k in
 * order 0 (A = y1), `order1` likewise in order 1 (A = y0); NaN in P(A) marks an order the judge lacks.
 */
export interface TwoOrderColumns {
  nPairs: number;
  order0: Float64Array;
  order1: Float64Array;
}

export function emptyTwoOrderColumns(nPairs: number): TwoOrderColumns {
  return { nPairs, order0: new Float64Array(3 * nPairs).fill(NaN), order1: new Float64Array(3 * nPairs).fill(NaN) };
}

export interface OrderConsistency {
  /** Pairs with both orders. */
  n: number;
  /** Pairs without both orders (left out). */
  missing: number;
  /** Position consistency: share of AB, BA, CC. NaN when n = 0 (as every rate here). */
  pc: number;
  conflictRate: number;
  /** Share of AA, AC, CA (the first position favoured). */
  primacyRate: number;
  /** Share of BB, BC, CB. */
  recencyRate: number;
  /** Preference fairness (#recency - #primacy) / n, in [-1, 1]; negative = bias towards the first position. */
  pf: number;
  patterns: Record<OrderPattern, number>;
  /**
   * The pairs (among the n) where the judge's two-order preference (discretion spec section 2) is 0 or
   * missing, by cause: AA or BB (position bias: the orders disagree, so the preference is 0), CC (no
   * choice in either order) and mixed (AC, CA, BC, CB). The preference is decisive exactly on AB and BA.
   */
  noPreference: { positionBias: number; noChoice: number; mixed: number };
}

const AA = 0,
  AB = 1,
  AC = 2,
  BA = 3,
  BB = 4,
  BC = 5,
  CA = 6,
  CB = 7,
  CC = 8;

export function orderConsistency(cols: TwoOrderColumns): OrderConsistency {
  const counts = new Float64Array(9);
  const { order0: o0, order1: o1 } = cols;
  let n = 0;
  for (let k = 0; k < cols.nPairs; k++) {
    const j = 3 * k;
    if (Number.isNaN(o0[j]!) || Number.isNaN(o1[j]!)) continue;
    const c0 = choiceOf(o0[j]!, o0[j + 1]!, o0[j + 2]!);
    const c1 = choiceOf(o1[j]!, o1[j + 1]!, o1[j + 2]!);
    counts[c0 * 3 + c1]!++;
    n++;
  }
  const consistent = counts[AB]! + counts[BA]! + counts[CC]!;
  const primacy = counts[AA]! + counts[AC]! + counts[CA]!;
  const recency = counts[BB]! + counts[BC]! + counts[CB]!;
  const share = (x: number) => (n === 0 ? NaN : x / n);
  const patterns = Object.fromEntries(PATTERNS.map((p, i) => [p, counts[i]!])) as Record<OrderPattern, number>;
  return {
    n,
    missing: cols.nPairs - n,
    pc: share(consistent),
    conflictRate: n === 0 ? NaN : 1 - consistent / n,
    primacyRate: share(primacy),
    recencyRate: share(recency),
    pf: share(recency - primacy),
    patterns,
    noPreference: {
      positionBias: counts[AA]! + counts[BB]!,
      noChoice: counts[CC]!,
      mixed: counts[AC]! + counts[CA]! + counts[BC]! + counts[CB]!,
    },
  };
}

function choiceOf(pA: number, pB: number, pNA: number): PositionChoice {
  if ((pNA > pA && pNA > pB) || pA === pB) return 2;
  return pA > pB ? 0 : 1;
}
