// Per-group views of the discretion metrics (issue 13 point 5): DA and w* of a group's pooled labels and DD
// between groups. Every expected value below is worked out by hand from the six pairs (the w* of group G was
// solved separately by gradient ascent on the Bradley-Terry log-likelihood, in Python, to 1e-15).
import { describe, expect, it } from 'vitest';
import { analyzeDiscretion, type DiscretionInput } from '../../../src/core/metrics/analyze';
import { MetricsInputError } from '../../../src/core/metrics/stats';

// Principle labels c_i(k) of pairs k0..k5 (oracle source), principles p0, p1, p2:
// k0 (+,+,0) consensus +1; k1 (-,0,-) consensus -1; k2 (+,-,0) p0 vs p1; k3 (0,+,-) p1 vs p2;
// k4 (+,0,-) p0 vs p2; k5 (+,-,-) p0 vs p1 and p0 vs p2.
const oracle = Int8Array.from([1, 1, 0, -1, 0, -1, 1, -1, 0, 0, 1, -1, 1, 0, -1, 1, -1, -1]);
const pref = (...v: number[]) => Int8Array.from(v);
const input = (groups: DiscretionInput['groups']): DiscretionInput => ({
  principles: [
    { id: 'p0', short: 'zero' },
    { id: 'p1', short: 'one' },
    { id: 'p2', short: 'two' },
  ],
  nPairs: 6,
  annotators: [
    { name: 'human', kind: 'human', overall: pref(1, 1, 1, 1, -1, 0) },
    { name: 'a', kind: 'human', overall: pref(1, 1, 1, 1, -1, 0) },
    { name: 'b', kind: 'human', overall: pref(1, -1, -1, 1, 1, 1) },
    { name: 'c', kind: 'human', overall: pref(-1, -1, -1, -1, -1, -1) },
  ],
  principleSource: { kind: 'oracle', name: 'o', matrix: oracle },
  reference: 'human',
  bootstrap: 0,
  daBootstrap: 0,
  agreementBootstrap: 0,
  groups,
});

describe('group views', () => {
  it('pools DA and the conflict wins of a group, and compares the groups by DD', () => {
    const r = analyzeDiscretion(
      input([
        { name: 'G', members: ['a', 'b'] },
        { name: 'H', members: ['c'] },
      ]),
    );
    const [g, h] = r.groups!.views;
    // DA, G: a overrides k1 (1 of 2 decisive consensus pairs), b none of 2: pooled 1 / 4.
    expect(g).toMatchObject({ group: 'G', members: ['a', 'b'], da: 0.25, da_n: 4, da_disagree: 1, w_status: 'ok' });
    // W of G: W01 = 2 (a on k2, b on k5), W10 = 1 (b on k2), W02 = 2 (b on k4, k5), W20 = 1 (a on k4), W12 = 2 (a, b on k3).
    const w = g.w_star as number[];
    expect(w[0]).toBeCloseTo(0.5118858604792671, 6);
    expect(w[1]).toBeCloseTo(0.40577712783487435, 6);
    expect(w[2]).toBeCloseTo(-0.9176629883141415, 6);
    expect(g.rank).toEqual([1, 2, 3]);
    // H: c overrides k0, follows k1: 1 / 2. W10 = 2, W20 = 2, W21 = 1: p0 never wins (-inf), p2 never loses (+inf).
    expect(h).toMatchObject({
      group: 'H',
      members: ['c'],
      da: 0.5,
      da_n: 2,
      da_disagree: 1,
      w_star: ['-inf', 0, '+inf'],
      rank: [3, 2, 1],
    });
    // Ranks (1, 2, 3) against (3, 2, 1): tau_b = -1, DD = 1; a group against itself: 0.
    expect(r.groups!.dd).toEqual({
      groups: ['G', 'H'],
      matrix: [
        [0, 1],
        [1, 0],
      ],
    });
  });

  it('no groups: no group section; a group naming an unknown annotator or a duplicate group is refused', () => {
    expect(analyzeDiscretion(input(undefined)).groups).toBeUndefined();
    expect(() => analyzeDiscretion(input([{ name: 'G', members: ['zed'] }]))).toThrow(MetricsInputError);
    expect(() =>
      analyzeDiscretion(
        input([
          { name: 'G', members: ['a'] },
          { name: 'G', members: ['b'] },
        ]),
      ),
    ).toThrow(/duplicate group 'G'/);
  });

  it('a member without principle labels under source "self" is left out, with a reason', () => {
    const i = input([{ name: 'G', members: ['a', 'b'] }]);
    const labelled = {
      ...i,
      principleSource: { kind: 'self' as const },
      annotators: i.annotators.map((a) => (a.name === 'b' ? a : { ...a, principles: oracle })),
    };
    const g = analyzeDiscretion(labelled).groups!.views[0];
    expect(g.members).toEqual(['a']);
    expect(g.da).toBe(0.5); // a alone: k1 overridden, k0 followed
    expect(g.diagnostics.join(' ')).toMatch(/'b' has no principle labels/);
  });
});
