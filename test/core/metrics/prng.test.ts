// The seeded generator and the exact samplers behind every bootstrap. Expected distributions are the textbook
// binomial pmf C(n,k) p^k (1-p)^(n-k), computed here by direct products (independent of the code under test).
import { describe, expect, it } from 'vitest';
import { Rng, binomialPmf } from '../../../src/core/metrics';

/** C(n,k) p^k q^(n-k) via logs of direct products (fine for the small n used here). */
function pmfDirect(k: number, n: number, p: number): number {
  let lg = 0;
  for (let i = 1; i <= k; i++) lg += Math.log(n - k + i) - Math.log(i);
  return Math.exp(lg + k * Math.log(p) + (n - k) * Math.log1p(-p));
}

function chiSquare(n: number, p: number, draws: number, seed: number): { stat: number; df: number } {
  const rng = new Rng(seed);
  const freq = new Map<number, number>();
  for (let i = 0; i < draws; i++) {
    const x = rng.binomial(n, p);
    freq.set(x, (freq.get(x) ?? 0) + 1);
  }
  // Pool cells with expected count < 5 into their neighbours (tails).
  let stat = 0;
  let df = -1;
  let obs = 0;
  let exp = 0;
  // log C(n, k) accumulated term by term: log C(n, k) = log C(n, k-1) + log(n - k + 1) - log(k).
  let logC = 0;
  for (let k = 0; k <= n; k++) {
    if (k > 0) logC += Math.log(n - k + 1) - Math.log(k);
    obs += freq.get(k) ?? 0;
    exp += draws * Math.exp(logC + k * Math.log(p) + (n - k) * Math.log1p(-p));
    if (exp >= 5 || k === n) {
      stat += ((obs - exp) * (obs - exp)) / Math.max(exp, 1e-300);
      df++;
      obs = 0;
      exp = 0;
    }
  }
  return { stat, df };
}

describe('Rng', () => {
  it('is deterministic for a seed and stream; streams and seeds differ', () => {
    const a = new Rng(42, 'x');
    const b = new Rng(42, 'x');
    const seqA = Array.from({ length: 20 }, () => a.nextU32());
    expect(Array.from({ length: 20 }, () => b.nextU32())).toEqual(seqA);
    const c = new Rng(42, 'y');
    expect(Array.from({ length: 20 }, () => c.nextU32())).not.toEqual(seqA);
    const d = new Rng(43, 'x');
    expect(Array.from({ length: 20 }, () => d.nextU32())).not.toEqual(seqA);
  });

  it('uniform() is in [0, 1) and int(n) is in range and roughly uniform', () => {
    const rng = new Rng(1);
    const counts = new Float64Array(7);
    let inRange = true;
    for (let i = 0; i < 70_000; i++) {
      const u = rng.uniform();
      if (!(u >= 0 && u < 1)) inRange = false;
      counts[rng.int(7)]!++;
    }
    expect(inRange).toBe(true);
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500); // 5 SD = 5 * sqrt(10000 * 6/7) ~ 463
  });

  it('rejects bad seeds', () => {
    expect(() => new Rng(-1)).toThrow();
    expect(() => new Rng(1.5)).toThrow();
  });
});

describe('binomial sampler (exact inversion)', () => {
  // Chi-square goodness of fit against the exact pmf; with fixed seeds the test is deterministic. Threshold:
  // df + 6 * sqrt(2 df) is far beyond the 99.99% quantile for these df.
  const cases: [number, number][] = [
    [20, 0.3], // small mean: inversion from 0
    [60, 0.85], // p > 0.5: reflected, n*q = 9: inversion
    [25, 0.4], // n*p = 10: the smallest mean handled by BTRD
    [31, 0.5], // BTRD at p = 0.5
    [200, 0.4], // BTRD
    [1000, 0.02], // BTRD with small p (n*p = 20)
    [100_000, 0.37], // BTRD, large n (many cells)
  ];
  for (const [n, p] of cases) {
    it(`Binomial(${n}, ${p}) matches the pmf`, () => {
      const { stat, df } = chiSquare(n, p, 100_000, n);
      expect(stat).toBeLessThan(df + 6 * Math.sqrt(2 * df));
    });
  }

  it('large n: mean and variance of Binomial(1e6, 0.3)', () => {
    const rng = new Rng(5);
    const N = 20_000;
    let s = 0;
    let ss = 0;
    for (let i = 0; i < N; i++) {
      const x = rng.binomial(1_000_000, 0.3);
      s += x;
      ss += x * x;
    }
    const mean = s / N;
    const v = ss / N - mean * mean;
    const sd = Math.sqrt(1_000_000 * 0.3 * 0.7);
    expect(Math.abs(mean - 300_000)).toBeLessThan((5 * sd) / Math.sqrt(N));
    expect(Math.abs(v / (sd * sd) - 1)).toBeLessThan(0.05);
  });

  it('edge cases', () => {
    const rng = new Rng(0);
    expect(rng.binomial(0, 0.5)).toBe(0);
    expect(rng.binomial(10, 0)).toBe(0);
    expect(rng.binomial(10, 1)).toBe(10);
    expect(() => rng.binomial(-1, 0.5)).toThrow();
    expect(() => rng.binomial(3, 1.5)).toThrow();
  });

  it('binomialPmf agrees with direct products and sums to 1 for n = 1e6', () => {
    for (const [k, n, p] of [
      [3, 20, 0.3],
      [80, 200, 0.4],
      [150, 400, 0.37],
    ] as const) {
      expect(binomialPmf(k, n, p) / pmfDirect(k, n, p)).toBeCloseTo(1, 10);
    }
    let total = 0;
    for (let k = 294_000; k <= 306_000; k++) total += binomialPmf(k, 1_000_000, 0.3);
    expect(total).toBeCloseTo(1, 12); // +/- 6,000 is 13 SD: the tails are negligible
  });
});

describe('multinomialFromCounts', () => {
  it('draws n in total and has the right marginal means', () => {
    const rng = new Rng(9);
    const weights = [5, 0, 3, 2];
    const out = new Int32Array(4);
    const sums = new Float64Array(4);
    const R = 20_000;
    let ok = true;
    for (let r = 0; r < R; r++) {
      rng.multinomialFromCounts(10, weights, out);
      if (out[0]! + out[1]! + out[2]! + out[3]! !== 10 || out[1] !== 0) ok = false;
      for (let t = 0; t < 4; t++) sums[t]! += out[t]!;
    }
    expect(ok).toBe(true);
    // E = n * w / sum(w) = 5, 0, 3, 2; SD of a mean over R draws <= sqrt(10 * 0.25 / R) = 0.011
    expect(sums[0]! / R).toBeCloseTo(5, 1);
    expect(sums[2]! / R).toBeCloseTo(3, 1);
    expect(sums[3]! / R).toBeCloseTo(2, 1);
  });
});
