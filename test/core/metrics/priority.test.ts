// w* principle priority: the +inf/-inf rules (spec section 6), the exact Bradley-Terry solver against closed forms,
// and the diagnostic for a comparison graph that is not strongly connected.
import { describe, expect, it } from 'vitest';
import { fitBradleyTerry, isStronglyConnected, principlePriority } from '../../../src/core/metrics';
import { handCaseX } from './fixtures';

/** Win matrix from a list of [winner, loser, times]. */
function wins(m: number, games: [number, number, number][]): Float64Array {
  const W = new Float64Array(m * m);
  for (const [i, j, n] of games) W[i * m + j]! += n;
  return W;
}

describe('Bradley-Terry solver', () => {
  it('matches the closed form 2*sigmoid(-2x) + sigmoid(-x) = 1 of spec section 9', () => {
    // Finite principles {0, 1, 2} of annotator a: 0 beat 1 once, 1 beat 0 once, 1 beat 2 once, 2 beat 0 once.
    // Stationarity for w = (-x, x, 0): d/dw_0 = 1 - 2*sigmoid(-2x) + 0 - sigmoid(-x) = 0.
    const W = wins(3, [
      [0, 1, 1],
      [1, 0, 1],
      [1, 2, 1],
      [2, 0, 1],
    ]);
    const fit = fitBradleyTerry(W, 3, [0, 1, 2]);
    const x = handCaseX();
    expect(fit.converged).toBe(true);
    expect(fit.w[0]).toBeCloseTo(-x, 12);
    expect(fit.w[1]).toBeCloseTo(x, 12);
    expect(fit.w[2]).toBeCloseTo(0, 12);
    expect(fit.maxGradient).toBeLessThan(1e-12);
  });

  it('two principles: w_0 - w_1 = log(W_01 / W_10) (closed form of the two-player BT MLE)', () => {
    // Stationarity: W_01 = (W_01 + W_10) * sigmoid(d)  =>  d = log(W_01 / W_10).
    const fit = fitBradleyTerry(
      wins(2, [
        [0, 1, 7],
        [1, 0, 3],
      ]),
      2,
      [0, 1],
    );
    expect(fit.w[0]! - fit.w[1]!).toBeCloseTo(Math.log(7 / 3), 12);
    expect(fit.w[0]! + fit.w[1]!).toBeCloseTo(0, 14);
  });

  it('large counts (1e6 comparisons) still converge to the closed form', () => {
    const fit = fitBradleyTerry(
      wins(2, [
        [0, 1, 900_000],
        [1, 0, 100_000],
      ]),
      2,
      [0, 1],
    );
    expect(fit.w[0]! - fit.w[1]!).toBeCloseTo(Math.log(9), 10);
  });

  it('three principles in a balanced cycle: all equal strengths', () => {
    const fit = fitBradleyTerry(
      wins(3, [
        [0, 1, 2],
        [1, 2, 2],
        [2, 0, 2],
      ]),
      3,
      [0, 1, 2],
    );
    for (const v of fit.w) expect(Math.abs(v)).toBeLessThan(1e-12);
  });
});

describe('principlePriority rules', () => {
  it('never loses -> +inf; never wins -> -inf; no conflicts at all -> -inf (rule 2 applied last)', () => {
    // 0 beats everyone; 3 loses to everyone; 1 and 2 split; 4 has no conflicts.
    const W = wins(5, [
      [0, 1, 1],
      [0, 2, 1],
      [1, 2, 2],
      [2, 1, 1],
      [1, 3, 1],
      [2, 3, 1],
    ]);
    const p = principlePriority(W, 5);
    expect(p.status).toBe('ok');
    expect(p.w[0]).toBe(Infinity);
    expect(p.w[3]).toBe(-Infinity);
    expect(p.w[4]).toBe(-Infinity);
    // Finite {1, 2}: only terms between finite principles, 1 beat 2 twice, 2 beat 1 once.
    expect(p.w[1]! - p.w[2]!).toBeCloseTo(Math.log(2), 12);
    expect(p.w[1]! + p.w[2]!).toBeCloseTo(0, 14);
  });

  it('all principles without conflicts: all -inf', () => {
    const p = principlePriority(new Float64Array(9), 3);
    expect(Array.from(p.w)).toEqual([-Infinity, -Infinity, -Infinity]);
    expect(p.status).toBe('ok');
  });
});

describe('comparison graph that is not strongly connected', () => {
  it('is detected; finite principles get NaN and a diagnostic naming the components', () => {
    // 0 and 1 both win and lose overall (against the +inf principle 4 / the -inf principle 5), but among the
    // finite principles {0, 1, 2, 3}, {0, 1} beat {2, 3} and never lose to them: the ML optimum diverges.
    const W = wins(6, [
      [0, 1, 1],
      [1, 0, 1],
      [2, 3, 1],
      [3, 2, 1],
      [0, 2, 1],
      [1, 3, 1],
      [4, 0, 1],
      [4, 1, 1],
      [2, 5, 1],
      [3, 5, 1],
      [4, 2, 1],
      [0, 5, 1],
    ]);
    expect(isStronglyConnected(W, 6, [0, 1, 2, 3])).toBe(false);
    const p = principlePriority(W, 6, { labels: ['A', 'B', 'C', 'D', 'E', 'F'] });
    expect(p.status).toBe('disconnected');
    expect(p.w[4]).toBe(Infinity);
    expect(p.w[5]).toBe(-Infinity);
    for (const i of [0, 1, 2, 3]) expect(p.w[i]).toBeNaN();
    expect(p.components).toEqual([
      [0, 1],
      [2, 3],
    ]);
    expect(p.diagnostic).toContain('not strongly connected');
    expect(p.diagnostic).toContain('{A, B} > {C, D}');
  });

  it('an isolated finite principle (its conflicts are all with infinite ones) is reported too', () => {
    // 2 beats the -inf principle 3 and loses to the +inf principle 4, but never meets 0 or 1.
    const W = wins(5, [
      [0, 1, 1],
      [1, 0, 1],
      [2, 3, 1],
      [4, 2, 1],
      [4, 0, 1],
      [1, 3, 1],
    ]);
    const p = principlePriority(W, 5);
    expect(p.status).toBe('disconnected');
    expect(p.w[2]).toBeNaN();
  });
});
