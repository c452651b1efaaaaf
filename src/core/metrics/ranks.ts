// Ranks, Kendall's tau-b and Discretion Discrepancy (spec section 7).
//
//   DD(a, ref) = (1 - tau_b(r(a), r(ref))) / 2
//
// r ranks principles by w*, descending (rank 1 = highest priority; +inf first, -inf last), ties averaged.
// The published analysis truncates those average ranks to integers for the point estimate
// (pandas .rank(ascending=False).astype(int)) and keeps average ranks in the bootstrap.

/**
 * Average ranks, descending: the largest value gets rank 1, ties share the mean of their positions.
 * +Infinity ranks first and -Infinity last. Finite values closer than `tieTolerance` (absolute, chained between
 * neighbours in sorted order) count as tied: use a tolerance around 1e-9 on w* so that principles the exact
 * solver puts at the same strength (up to rounding) tie. If any value is NaN, every rank is NaN (the ranking
 * is undefined).
 */
export function averageRanksDescending(values: ArrayLike<number>, tieTolerance = 0): Float64Array {
  const n = values.length;
  const ranks = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(values[i]!)) return ranks.fill(NaN);
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => {
    const va = values[a]!;
    const vb = values[b]!;
    return va > vb ? -1 : va < vb ? 1 : a - b;
  });
  let start = 0;
  while (start < n) {
    let end = start + 1;
    while (end < n) {
      const prev = values[order[end - 1]!]!;
      const cur = values[order[end]!]!;
      const tied = prev === cur || (Number.isFinite(prev) && Number.isFinite(cur) && prev - cur <= tieTolerance);
      if (!tied) break;
      end++;
    }
    const r = (start + 1 + end) / 2; // mean of positions start+1 .. end
    for (let t = start; t < end; t++) ranks[order[t]!] = r;
    start = end;
  }
  return ranks;
}

/** The published point-estimate convention: average ranks truncated to integers (2.5 -> 2). */
export function truncateRanks(ranks: ArrayLike<number>): Float64Array {
  const out = new Float64Array(ranks.length);
  for (let i = 0; i < ranks.length; i++) out[i] = Math.trunc(ranks[i]!);
  return out;
}

/**
 * Kendall's tau-b, ties handled as scipy.stats.kendalltau(x, y, variant='b'):
 *   tau_b = (n_c - n_d) / sqrt((n0 - n1) (n0 - n2)),
 * n0 = n(n-1)/2, n1 / n2 = pairs tied in x / in y (pairs tied in both count in both and in neither n_c nor n_d).
 * NaN when undefined: fewer than 2 items, all of x or all of y tied, or a NaN input.
 */
export function kendallTauB(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  if (y.length !== n) throw new RangeError('kendallTauB: x and y must have the same length');
  if (n < 2) return NaN;
  let nc = 0;
  let nd = 0;
  let n1 = 0;
  let n2 = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[i]!;
    const yi = y[i]!;
    if (Number.isNaN(xi) || Number.isNaN(yi)) return NaN;
    for (let j = i + 1; j < n; j++) {
      const xj = x[j]!;
      const yj = y[j]!;
      const dx = xi > xj ? 1 : xi < xj ? -1 : 0;
      const dy = yi > yj ? 1 : yi < yj ? -1 : 0;
      if (dx === 0) n1++;
      if (dy === 0) n2++;
      if (dx !== 0 && dy !== 0) {
        if (dx === dy) nc++;
        else nd++;
      }
    }
  }
  const n0 = (n * (n - 1)) / 2;
  if (n1 === n0 || n2 === n0) return NaN;
  const tau = (nc - nd) / Math.sqrt((n0 - n1) * (n0 - n2));
  return Math.min(1, Math.max(-1, tau));
}

/** DD = (1 - tau_b) / 2 in [0, 1]; NaN when tau_b is undefined. */
export function discretionDiscrepancy(ranksA: ArrayLike<number>, ranksRef: ArrayLike<number>): number {
  return (1 - kendallTauB(ranksA, ranksRef)) / 2;
}
