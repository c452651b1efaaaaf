// Expected values follow the rules of spec section 2, worked by hand in each case.
import { describe, expect, it } from 'vitest';
import {
  logLikelihoodPreference,
  oraclePreference,
  rewardPreference,
  twoOrderJudgePreference,
} from '../../src/core/derive';

describe('oraclePreference', () => {
  it('A wins and A was y1 (order 0) -> +1; A was y0 (order 1) -> -1', () => {
    expect(oraclePreference({ pA: 0.6, pB: 0.3, pNA: 0.1 }, 0)).toBe(1);
    expect(oraclePreference({ pA: 0.6, pB: 0.3, pNA: 0.1 }, 1)).toBe(-1);
    expect(oraclePreference({ pA: 0.2, pB: 0.3, pNA: 0.1 }, 0)).toBe(-1);
  });
  it('NA most likely -> 0; exact tie P(A) == P(B) -> 0', () => {
    expect(oraclePreference({ pA: 0.2, pB: 0.3, pNA: 0.5 }, 0)).toBe(0);
    expect(oraclePreference({ pA: 0.3, pB: 0.3, pNA: 0.1 }, 0)).toBe(0);
  });
  it('NA equal to the larger of A/B does not dominate (strict >)', () => {
    expect(oraclePreference({ pA: 0.4, pB: 0.2, pNA: 0.4 }, 0)).toBe(1);
  });
});

describe('twoOrderJudgePreference', () => {
  const a = { pA: 0.7, pB: 0.2, pNA: 0.1 };
  const b = { pA: 0.2, pB: 0.7, pNA: 0.1 };
  it('both orders agree on y1: s0 = +1 (A = y1 wins), s1 = -1 (B = y1 wins) -> (1 - -1)/2 = +1', () => {
    expect(twoOrderJudgePreference(a, b)).toBe(1);
    expect(twoOrderJudgePreference(b, a)).toBe(-1);
  });
  it('position bias (A wins in both orders) -> 0', () => {
    expect(twoOrderJudgePreference(a, a)).toBe(0);
  });
  it('missing when an order is absent, tied, or NA-dominated', () => {
    expect(twoOrderJudgePreference(a, undefined)).toBeNull();
    expect(twoOrderJudgePreference(a, { pA: 0.3, pB: 0.3, pNA: 0.1 })).toBeNull();
    expect(twoOrderJudgePreference(a, { pA: 0.1, pB: 0.3, pNA: 0.6 })).toBeNull();
  });
});

describe('reward and log-likelihood preferences', () => {
  it('sign of the difference; a reward tie is missing, a log-likelihood tie is 0', () => {
    expect(rewardPreference(2, 1)).toBe(1);
    expect(rewardPreference(-3, 1)).toBe(-1);
    expect(rewardPreference(0.5, 0.5)).toBeNull();
    expect(logLikelihoodPreference(-880, -940)).toBe(1);
    expect(logLikelihoodPreference(-10, -10)).toBe(0);
  });
});
