// Ranking accuracy of a policy model (consistency spec section 5; Chen et al., NeurIPS 2024, Definition
// 2.3): the share of pairs on which the model's sequence log-likelihood of the reference's preferred
// response is at least that of the other one. Exact ties count as correct, and are reported.
import { MetricsInputError } from '../metrics/stats';

export interface RankingAccuracy {
  /** Pairs where the reference is decisive and both log-likelihoods exist. */
  n: number;
  /** NaN when n = 0. */
  r: number;
  ties: number;
}

/** `reference`: +1 / -1 decisive, 0 otherwise; `logpY1`, `logpY0`: NaN where missing. */
export function rankingAccuracy(reference: Int8Array, logpY1: Float64Array, logpY0: Float64Array): RankingAccuracy {
  const n = reference.length;
  if (logpY1.length !== n || logpY0.length !== n)
    throw new MetricsInputError(`ranking accuracy: expected ${n} log-likelihoods per response`);
  let used = 0,
    correct = 0,
    ties = 0;
  for (let k = 0; k < n; k++) {
    const t = reference[k];
    if (t !== 1 && t !== -1) continue;
    const l1 = logpY1[k]!,
      l0 = logpY0[k]!;
    if (Number.isNaN(l1) || Number.isNaN(l0)) continue;
    used++;
    if (l1 === l0) ties++;
    if (t === 1 ? l1 >= l0 : l0 >= l1) correct++;
  }
  return { n: used, r: used === 0 ? NaN : correct / used, ties };
}
