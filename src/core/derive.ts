// Model outputs -> preferences, exactly as spec section 2 says. `null` = missing.
import type { PreferenceValue, StoredPreference } from './preferences';

/**
 * A judge's order, the published files' `order` column: order 0 showed y1 as "A", order 1 showed y0. The
 * store says it as shown first (0 = y0 was A, 1 = y1 was A), the other way round: see shownFirstOfOrder.
 */
export type JudgeOrder = 0 | 1;

/** The response a judge's order showed first (as "A"): order 0 -> y1 (1), order 1 -> y0 (0); and back. */
export const shownFirstOfOrder = (order: JudgeOrder): 0 | 1 => (order === 0 ? 1 : 0);
export const orderOfShownFirst = (shownFirst: 0 | 1): JudgeOrder => (shownFirst === 1 ? 0 : 1);

export interface ABProbabilities {
  pA: number;
  pB: number;
  pNA: number;
}

function naDominates(p: ABProbabilities): boolean {
  return p.pNA > p.pA && p.pNA > p.pB;
}

/**
 * Principle-specific (oracle) preference: 0 when NA dominates or P(A) == P(B); otherwise the
 * response shown as A wins when P(A) > P(B), mapped back to y1/y0 through the order.
 */
export function oraclePreference(p: ABProbabilities, order: JudgeOrder): PreferenceValue {
  if (naDominates(p) || p.pA === p.pB) return 0;
  const aWins = p.pA > p.pB ? 1 : -1;
  return (order === 0 ? aWins : -aWins) as PreferenceValue;
}

/**
 * Overall judge asked in both orders: s_o = sign(P(A) - P(B)); a = (s_0 - s_1) / 2.
 * Missing when either order is absent, ties exactly, or has NA as its most likely token.
 */
export function twoOrderJudgePreference(
  order0: ABProbabilities | undefined,
  order1: ABProbabilities | undefined,
): StoredPreference {
  if (!order0 || !order1) return null;
  if (naDominates(order0) || naDominates(order1)) return null;
  if (order0.pA === order0.pB || order1.pA === order1.pB) return null;
  const s0 = order0.pA > order0.pB ? 1 : -1;
  const s1 = order1.pA > order1.pB ? 1 : -1;
  return ((s0 - s1) / 2) as PreferenceValue;
}

/** Reward model: sign(r(y1) - r(y0)); an exact tie is missing, not an error. */
export function rewardPreference(rewardY1: number, rewardY0: number): StoredPreference {
  if (rewardY1 === rewardY0) return null;
  return rewardY1 > rewardY0 ? 1 : -1;
}

/** Policy model: sign(log p(y1|x) - log p(y0|x)); 0 on an exact tie. */
export function logLikelihoodPreference(logpY1: number, logpY0: number): PreferenceValue {
  if (logpY1 === logpY0) return 0;
  return logpY1 > logpY0 ? 1 : -1;
}
