// The hand-checkable case of spec section 9 (../shared/spec/discretion-metrics.md), encoded as typed arrays.
// Pairs are 0-based here (spec pair 1 = index 0). "." = 0; b's "missing" is 0 too (both are "no preference").
import type { DiscretionInput } from '../../../src/core/metrics';

export const HAND_M = 4;
export const HAND_N = 8;

// prettier-ignore
export const HAND_C = new Int8Array([
  +1,  0,  0,  0, // pair 1
  +1, +1,  0,  0, // pair 2
  -1,  0, -1,  0, // pair 3
  +1, -1,  0,  0, // pair 4
   0, +1, -1,  0, // pair 5
  +1,  0, -1, +1, // pair 6
   0,  0,  0,  0, // pair 7
  -1, +1,  0,  0, // pair 8
]);

export const HAND_A = new Int8Array([+1, -1, -1, +1, +1, -1, +1, +1]);
export const HAND_B = new Int8Array([+1, +1, 0, -1, -1, -1, 0, -1]);

export const HAND_PRINCIPLES = [
  { id: 'c0', short: 'c0' },
  { id: 'c1', short: 'c1' },
  { id: 'c2', short: 'c2' },
  { id: 'c3', short: 'c3' },
];

/** Root of 2*sigmoid(-2x) + sigmoid(-x) = 1 (spec section 9), by bisection: independent of the solver. */
export function handCaseX(): number {
  const sig = (t: number) => 1 / (1 + Math.exp(-t));
  const f = (x: number) => 2 * sig(-2 * x) + sig(-x) - 1; // decreasing in x
  let lo = 0;
  let hi = 2;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (f(mid) > 0) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** analyzeDiscretion's input for the hand case: oracle c, annotators a and b, reference b, no bootstraps. */
export function handCaseInput(): DiscretionInput {
  return {
    principles: HAND_PRINCIPLES,
    nPairs: HAND_N,
    annotators: [
      { name: 'a', kind: 'llm-judge', overall: HAND_A },
      { name: 'b', kind: 'human', overall: HAND_B },
    ],
    principleSource: { kind: 'oracle', name: 'hand', matrix: HAND_C },
    reference: 'b',
    bootstrap: 0,
    daBootstrap: 0,
    agreementBootstrap: 0,
  };
}
