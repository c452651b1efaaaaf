// Property tests (fast-check) of invariants that hold by the definitions of the consistency spec
// (sections 2-4), on random inputs; and one spec section 1 check by hand (the two-order judge probability).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ENSEMBLE_METHODS,
  ensembleScores,
  judgeProbabilities,
  multiplicity,
  orderConsistency,
  PATTERNS,
} from '../../../src/core/consistency';

// A probability triple that sometimes ties and sometimes lets NA dominate; or a missing order.
const prob = fc.constantFrom(0, 0.1, 0.2, 0.3, 0.45, 0.5, 0.8);
const order = fc.option(fc.tuple(prob, prob, prob), { nil: undefined, freq: 6 });
const judge = fc.array(fc.tuple(order, order), { minLength: 1, maxLength: 40 });

function columns(pairs: [[number, number, number] | undefined, [number, number, number] | undefined][]) {
  const n = pairs.length;
  const order0 = new Float64Array(3 * n).fill(NaN);
  const order1 = new Float64Array(3 * n).fill(NaN);
  pairs.forEach(([a, b], k) => {
    if (a) order0.set(a, 3 * k);
    if (b) order1.set(b, 3 * k);
  });
  return { nPairs: n, order0, order1 };
}

describe('order consistency properties', () => {
  it('pattern counts sum to n; n + missing = pairs; PF in [-1, 1]; PC + conflict rate = 1', () => {
    fc.assert(
      fc.property(judge, (pairs) => {
        const r = orderConsistency(columns(pairs));
        expect(PATTERNS.reduce((s, p) => s + r.patterns[p], 0)).toBe(r.n);
        expect(r.n + r.missing).toBe(pairs.length);
        if (r.n > 0) {
          expect(r.pf).toBeGreaterThanOrEqual(-1);
          expect(r.pf).toBeLessThanOrEqual(1);
          expect(r.pc + r.conflictRate).toBeCloseTo(1, 12);
          const np = r.noPreference;
          expect(np.positionBias + np.noChoice + np.mixed + r.patterns.AB + r.patterns.BA).toBe(r.n);
        }
      }),
    );
  });

  it('a judge that only picks the first position or no choice has PC = its CC share and PF = PC - 1', () => {
    // First position: P(A) > P(B), P(NA) low; no choice: NA dominates (or A ties B).
    const first: [number, number, number] = [0.7, 0.2, 0.1];
    const none = fc.constantFrom<[number, number, number]>([0.1, 0.1, 0.8], [0.3, 0.3, 0.4], [0.2, 0.2, 0.1]);
    const choice = fc.oneof(fc.constant(first), none);
    fc.assert(
      fc.property(fc.array(fc.tuple(choice, choice), { minLength: 1, maxLength: 40 }), (pairs) => {
        const r = orderConsistency(columns(pairs));
        expect(r.pc).toBeCloseTo(r.patterns.CC / r.n, 12);
        expect(r.pf).toBeCloseTo(r.pc - 1, 12);
      }),
    );
  });
});

describe('ensemble properties', () => {
  it('members with identical scores: the ensemble has their preferences under every method', () => {
    // Quarter steps: real-valued but far from the subnormal range, where a population sd underflows to 0.
    const score = fc.integer({ min: -200, max: 200 }).map((x) => x / 4);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(score, score), { minLength: 2, maxLength: 30 }),
        fc.integer({ min: 2, max: 5 }),
        fc.double({ min: 0, max: 3, noNaN: true }),
        (pairs, k, lambda) => {
          const y0 = Float64Array.from(pairs.map((p) => p[0]));
          const y1 = Float64Array.from(pairs.map((p) => p[1]));
          fc.pre(new Set([...y0, ...y1]).size > 1); // sd > 0
          const members = Array.from({ length: k }, (_, i) => ({ name: `m${i}`, y0, y1 }));
          for (const method of ENSEMBLE_METHODS) {
            const e = ensembleScores(members, method, lambda);
            pairs.forEach(([a, b], i) => expect(e.preference[i]).toBe(b > a ? 1 : b < a ? -1 : 0));
          }
        },
      ),
    );
  });
});

describe('multiplicity properties', () => {
  it('ambiguity is non-increasing in delta and non-decreasing in epsilon', () => {
    const p = fc.double({ min: 0, max: 1, noNaN: true });
    const data = fc.integer({ min: 1, max: 25 }).chain((n) =>
      fc.record({
        reference: fc.array(fc.constantFrom(-1, 0, 1), { minLength: n, maxLength: n }),
        members: fc.array(fc.array(p, { minLength: n, maxLength: n }), { minLength: 2, maxLength: 5 }),
      }),
    );
    const epsilons = [0, 0.05, 0.1, 0.25, 0.5, 1, 5];
    const deltas = [0, 0.05, 0.1, 0.25, 0.5, 0.9];
    fc.assert(
      fc.property(data, ({ reference, members }) => {
        const r = multiplicity({
          reference: Int8Array.from(reference),
          members: members.map((m, i) => ({ name: `j${i}`, p: Float64Array.from(m) })),
          epsilons,
          deltas,
        });
        if (r.nPairs === 0) return;
        for (const e of r.byEpsilon)
          for (let d = 1; d < deltas.length; d++)
            expect(e.byDelta[d]!.ambiguity).toBeLessThanOrEqual(e.byDelta[d - 1]!.ambiguity);
        for (let i = 1; i < epsilons.length; i++) {
          for (let d = 0; d < deltas.length; d++)
            expect(r.byEpsilon[i]!.byDelta[d]!.ambiguity).toBeGreaterThanOrEqual(
              r.byEpsilon[i - 1]!.byDelta[d]!.ambiguity,
            );
        }
      }),
    );
  });
});

describe('spec section 1: the two-order judge probability, by hand', () => {
  it('q0 = .6/.8 = .75 and q1 = .3/.4 = .75 give .75; an order with P(A) + P(B) = 0 or absent is left out; none gives NaN', () => {
    const p = judgeProbabilities({
      nPairs: 4,
      order0: Float64Array.from([0.6, 0.2, 0.2, 0.9, 0.1, 0, 0, 0, 1, NaN, NaN, NaN]),
      order1: Float64Array.from([0.1, 0.3, 0.6, 0, 0, 1, 0.2, 0.6, 0.2, NaN, NaN, NaN]),
    });
    expect(p[0]).toBeCloseTo(0.75, 15);
    expect(p[1]).toBeCloseTo(0.9, 15); // order 1 has P(A) + P(B) = 0
    expect(p[2]).toBeCloseTo(0.75, 15); // order 0 has P(A) + P(B) = 0; q1 = .6 / .8
    expect(p[3]).toBeNaN();
  });
});
