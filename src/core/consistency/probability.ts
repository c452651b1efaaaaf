// P(y1 > y0) of the model annotators that give probabilities (consistency spec section 1).
import type { ABProbabilities } from '../derive';

/** Logistic function, written so that neither branch overflows. NaN stays NaN. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** Reward model: sigmoid(r(y1) - r(y0)) on raw rewards (no temperature); NaN when a score is missing. */
export function rewardProbability(rewardY1: number, rewardY0: number): number {
  return sigmoid(rewardY1 - rewardY0);
}

/**
 * Two-order judge: q_0 = P_0(A) / (P_0(A) + P_0(B)) (A = y1 in order 0), q_1 = P_1(B) / (P_1(A) + P_1(B))
 * (B = y1 in order 1); the mean of the q_o that exist (an order exists when present with P(A) + P(B) > 0).
 * NaN when neither exists.
 */
export function twoOrderProbability(order0: ABProbabilities | null | undefined, order1: ABProbabilities | null | undefined): number {
  let sum = 0;
  let count = 0;
  if (order0 && order0.pA + order0.pB > 0) {
    sum += order0.pA / (order0.pA + order0.pB);
    count++;
  }
  if (order1 && order1.pA + order1.pB > 0) {
    sum += order1.pB / (order1.pA + order1.pB);
    count++;
  }
  return count ? sum / count : NaN;
}

/** Policy model: sigmoid(beta * (l(y1) - l(y0))) on sequence log-likelihoods; beta 0.1 unless given. */
export function policyProbability(logpY1: number, logpY0: number, beta = 0.1): number {
  return sigmoid(beta * (logpY1 - logpY0));
}

/** clip(x) = min(max(x, 1e-6), 1 - 1e-6) (spec section 4), so that logs and logits stay finite. */
export function clipProbability(x: number): number {
  return Math.min(Math.max(x, 1e-6), 1 - 1e-6);
}

export function logit(p: number): number {
  return Math.log(p / (1 - p));
}
