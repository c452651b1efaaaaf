// Discretion Arbitrariness (spec section 4).
//
//   DA(a) = #{k in Consensus : a(k) != 0 and a(k) != s_k} / #{k in Consensus : a(k) != 0}
//
// Bootstrap (as the published analysis): resample the consensus pairs with replacement (same size), compute DA
// over the decisive pairs of each resample. A consensus pair is one of three types for a given annotator:
// disagrees (decisive, a != s), agrees (decisive, a == s), or not decisive (a == 0). Resampling N items with
// replacement is therefore exactly a Multinomial(N; D/N, A/N, Z/N) over the three types, which is sampled
// directly (two exact binomials) instead of drawing N indices: same distribution, O(sqrt(N)) per resample.

import { CONSENSUS, type PairCategories } from './categories';
import { Rng } from './prng';
import { assertPreferences, summarizeBootstrap, type BootstrapSummary } from './stats';

export interface DaCounts {
  /** Consensus pairs (the bootstrap population). */
  nConsensus: number;
  /** Decisive consensus pairs where the annotator goes against the consensus sign. */
  disagree: number;
  /** Decisive consensus pairs where the annotator follows the consensus sign. */
  agree: number;
  /** Consensus pairs where the annotator gave no usable preference. */
  nonDecisive: number;
}

export function daCounts(overall: Int8Array, cats: PairCategories, validate = true): DaCounts {
  if (validate) assertPreferences(overall, cats.nPairs, 'annotator preferences');
  let disagree = 0;
  let agree = 0;
  let nonDecisive = 0;
  const { category, sign } = cats;
  for (let k = 0; k < cats.nPairs; k++) {
    if (category[k] !== CONSENSUS) continue;
    const a = overall[k]!;
    if (a === 0) nonDecisive++;
    else if (a === sign[k]) agree++;
    else disagree++;
  }
  return { nConsensus: disagree + agree + nonDecisive, disagree, agree, nonDecisive };
}

/** DA from counts; NaN when there is no decisive consensus pair. */
export function daFromCounts(c: Pick<DaCounts, 'disagree' | 'agree'>): number {
  const d = c.disagree + c.agree;
  return d === 0 ? NaN : c.disagree / d;
}

/** Bootstrap DA over the consensus pairs; `resamples` >= 1. */
export function bootstrapDa(c: DaCounts, resamples: number, rng: Rng): BootstrapSummary {
  const values = new Float64Array(resamples);
  const weights = [c.disagree, c.agree, c.nonDecisive];
  const draw = new Int32Array(3);
  const n = c.nConsensus;
  for (let b = 0; b < resamples; b++) {
    if (n === 0) {
      values[b] = NaN;
      continue;
    }
    rng.multinomialFromCounts(n, weights, draw);
    values[b] = daFromCounts({ disagree: draw[0]!, agree: draw[1]! });
  }
  return summarizeBootstrap(values);
}
