// Internal consistency of one model that is both a two-order judge and a policy (consistency spec
// section 6): its judge probability P_G against its likelihood-margin probability P_D.
import { MetricsInputError } from '../metrics/stats';
import { clipProbability, logit, policyProbability } from './probability';

export interface InternalConsistency {
  beta: number;
  /** Pairs where both P_G and P_D exist. */
  n: number;
  /** Of those, pairs with P_G != 0.5 and P_D != 0.5. */
  nDecisive: number;
  /** Share of the decisive pairs where both prefer the same response; NaN when none. */
  agreement: number;
  /** Mean over the n pairs of (p - q)(logit p - logit q), p = clip(P_G), q = clip(P_D); NaN when n = 0. */
  meanSymmetricKl: number;
}

/** `pJudge`: P_G per pair (NaN where undefined); `logpY1`, `logpY0`: the policy's log-likelihoods. */
export function internalConsistency(
  pJudge: Float64Array,
  logpY1: Float64Array,
  logpY0: Float64Array,
  beta = 0.1,
): InternalConsistency {
  const n = pJudge.length;
  if (logpY1.length !== n || logpY0.length !== n)
    throw new MetricsInputError(`internal consistency: expected ${n} log-likelihoods per response`);
  if (!(beta > 0) || !Number.isFinite(beta)) throw new MetricsInputError(`beta must be a positive number, got ${beta}`);
  let both = 0,
    decisive = 0,
    agree = 0,
    kl = 0;
  for (let k = 0; k < n; k++) {
    const g = pJudge[k]!;
    const d = policyProbability(logpY1[k]!, logpY0[k]!, beta);
    if (Number.isNaN(g) || Number.isNaN(d)) continue;
    both++;
    const p = clipProbability(g),
      q = clipProbability(d);
    kl += (p - q) * (logit(p) - logit(q));
    if (g !== 0.5 && d !== 0.5) {
      decisive++;
      if (g > 0.5 === d > 0.5) agree++;
    }
  }
  return {
    beta,
    n: both,
    nDecisive: decisive,
    agreement: decisive === 0 ? NaN : agree / decisive,
    meanSymmetricKl: both === 0 ? NaN : kl / both,
  };
}
