// Pair categories (spec section 3) and the consensus sign.
//
// Encoding used throughout src/core/metrics: a preference is an Int8Array value, +1 = prefers y1,
// -1 = prefers y0, 0 = no preference or missing. Principle-specific preferences of one source are a
// row-major Int8Array of nPairs * m: cell (k, i) at k * m + i.

import { MetricsInputError, assertCount, assertPreferences, assertShape } from './stats';

export const INDIFFERENCE = 0;
export const CONSENSUS = 1;
export const CONFLICT = 2;
/** The categories' names, by code. */
export const CATEGORY_NAMES = ['indifference', 'consensus', 'conflict'] as const;

export interface PairCategories {
  nPairs: number;
  /** Per pair: INDIFFERENCE (0), CONSENSUS (1) or CONFLICT (2). */
  category: Uint8Array;
  /** Per pair: the consensus sign s_k (+1 / -1) on consensus pairs, 0 elsewhere. */
  sign: Int8Array;
  nConsensus: number;
  nConflict: number;
  nIndifference: number;
}

/** Categorise every pair from a principle matrix (nPairs x m, row-major); validates the values. O(nPairs * m). */
export function categorizePairs(
  principles: Int8Array,
  nPairs: number,
  m: number,
  what = 'principle matrix',
): PairCategories {
  assertCount(nPairs, 'nPairs');
  assertCount(m, 'm');
  assertShape(principles, nPairs * m, what);
  const category = new Uint8Array(nPairs);
  const sign = new Int8Array(nPairs);
  let nConsensus = 0;
  let nConflict = 0;
  for (let k = 0, base = 0; k < nPairs; k++, base += m) {
    let pos = false;
    let neg = false;
    for (let i = 0; i < m; i++) {
      const v = principles[base + i]!;
      if (v === 1) pos = true;
      else if (v === -1) neg = true;
      else if (v !== 0) throw new MetricsInputError(`${what}: value ${v} at index ${base + i} is not -1, 0 or +1`);
    }
    if (pos && neg) {
      category[k] = CONFLICT;
      nConflict++;
    } else if (pos || neg) {
      category[k] = CONSENSUS;
      sign[k] = pos ? 1 : -1;
      nConsensus++;
    }
  }
  return { nPairs, category, sign, nConsensus, nConflict, nIndifference: nPairs - nConsensus - nConflict };
}

export interface CategoryShare {
  consensus: number;
  conflict: number;
  indifference: number;
}

/** JSON-ready category summary: counts, shares in percent and their standard errors in percent. */
export interface CategorySummary {
  n: number;
  consensus: number;
  conflict: number;
  indifference: number;
  /** 100 * count / n (null when n = 0). */
  pct: { consensus: number | null; conflict: number | null; indifference: number | null };
  /** 100 * std(indicator, ddof=1) / sqrt(n) (null when n < 2). */
  se_pct: { consensus: number | null; conflict: number | null; indifference: number | null };
}

/** 100 * std(indicator, ddof = 1) / sqrt(n) for an indicator with `count` ones out of n; NaN when n < 2. */
export function shareStandardErrorPct(count: number, n: number): number {
  if (n < 2) return NaN;
  const p = count / n;
  // var(ddof=1) = n p (1 - p) / (n - 1); divided by n under the square root.
  return 100 * Math.sqrt((p * (1 - p)) / (n - 1));
}

export function summarizeCategories(
  c: Pick<PairCategories, 'nPairs' | 'nConsensus' | 'nConflict' | 'nIndifference'>,
): CategorySummary {
  const n = c.nPairs;
  const pct = (x: number) => (n > 0 ? (100 * x) / n : null);
  const se = (x: number) => (n > 1 ? shareStandardErrorPct(x, n) : null);
  return {
    n,
    consensus: c.nConsensus,
    conflict: c.nConflict,
    indifference: c.nIndifference,
    pct: { consensus: pct(c.nConsensus), conflict: pct(c.nConflict), indifference: pct(c.nIndifference) },
    se_pct: { consensus: se(c.nConsensus), conflict: se(c.nConflict), indifference: se(c.nIndifference) },
  };
}

/**
 * Majority of several principle matrices (all nPairs x m): per cell, the sign of the sum of the non-zero
 * labels; 0 on a tie or when no one labelled the cell (0 is read as "neither").
 */
export function majorityPrinciples(matrices: Int8Array[], nPairs: number, m: number): Int8Array {
  assertCount(nPairs, 'nPairs');
  assertCount(m, 'm');
  const len = nPairs * m;
  matrices.forEach((mat, i) => assertPreferences(mat, len, `principle matrix ${i}`));
  const out = new Int8Array(len);
  if (matrices.length === 0) return out;
  const sum = new Int32Array(len);
  for (const mat of matrices) for (let c = 0; c < len; c++) sum[c]! += mat[c]!;
  for (let c = 0; c < len; c++) out[c] = Math.sign(sum[c]!);
  return out;
}
