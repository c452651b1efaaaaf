// P(y1 > y0) of the model annotators that give probabilities (consistency spec section 1).
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
