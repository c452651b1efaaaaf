// Seeded pseudo-random numbers for every bootstrap in the metrics engine.
//
// Generator: xoshiro128** (Blackman & Vigna), state seeded through splitmix32 so that nearby seeds give
// unrelated streams. Same seed (and same stream label) -> same numbers, on every platform (pure 32-bit
// integer arithmetic through Math.imul and >>> 0).
//
// Samplers:
// - `uniform()`: a double in [0, 1) with 53 random bits;
// - `int(n)`: an exactly uniform integer in [0, n) for n <= 2^32 (rejection, no modulo bias);
// - `binomial(n, p)`: an exact Binomial(n, p) variate: inversion for small means, Hoermann's BTRD transformed
//   rejection (O(1), exact acceptance test with Stirling corrections accurate to ~1e-15) otherwise;
// - `binomialPmf`: Loader's saddle-point evaluation of the binomial pmf (as R's dbinom), accurate even for n in
//   the millions;
// - `multinomialFromCounts(n, weights, out)`: an exact Multinomial(n, weights / sum(weights)) variate by
//   conditional binomials with exact integer suffix sums. Resampling n items with replacement from a pool in
//   which t items share a "type" is exactly this multinomial over types, which is how the bootstraps stay cheap.

import { fnv1a32 } from '../hash';

const TWO_POW_32 = 4294967296;

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let t = state.s ^ (state.s >>> 16);
  t = Math.imul(t, 0x21f0aaad);
  t ^= t >>> 15;
  t = Math.imul(t, 0x735a2d97);
  t ^= t >>> 15;
  return t >>> 0;
}

function normaliseSeed(seed: number): [number, number] {
  if (!Number.isFinite(seed) || seed < 0 || Math.floor(seed) !== seed || seed > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`seed must be a non-negative safe integer, got ${seed}`);
  }
  return [seed >>> 0, Math.floor(seed / TWO_POW_32) >>> 0];
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** A generator for `seed`, optionally a named sub-stream (e.g. `new Rng(42, 'da:human')`). */
  constructor(seed: number, stream = '') {
    const [lo, hi] = normaliseSeed(seed);
    const st = { s: (lo ^ Math.imul(hi, 0x9e3779b1) ^ Math.imul(fnv1a32(stream), 0x85ebca6b)) | 0 };
    this.s0 = splitmix32(st);
    this.s1 = splitmix32(st);
    this.s2 = splitmix32(st);
    this.s3 = splitmix32(st);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next raw 32-bit output (xoshiro128**), as an unsigned integer. */
  nextU32(): number {
    const s1 = this.s1;
    const r = Math.imul(s1, 5);
    const result = Math.imul((r << 7) | (r >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextU32() >>> 5;
    const b = this.nextU32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Exactly uniform integer in [0, n), 1 <= n <= 2^32. */
  int(n: number): number {
    if (!(n >= 1 && n <= TWO_POW_32) || Math.floor(n) !== n)
      throw new RangeError(`int(n) needs an integer 1..2^32, got ${n}`);
    if (n === 1) return 0;
    // Largest multiple of n not above 2^32; reject draws at or above it.
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const r = this.nextU32();
      if (r < limit) return r % n;
    }
  }

  /** Exact Binomial(n, p) variate. */
  binomial(n: number, p: number): number {
    return binomial(this, n, p);
  }

  /**
   * Exact multinomial: draws `n` items with replacement from a pool with `weights[t]` items of type t
   * (non-negative integers, not all zero when n > 0); writes the number drawn of each type into `out`.
   */
  multinomialFromCounts(n: number, weights: ArrayLike<number>, out: Int32Array | Float64Array | number[]): void {
    multinomialFromCounts(this, n, weights, out);
  }
}

// ---------------------------------------------------------------------------------------------------
// Binomial pmf (Loader 2000, "Fast and accurate computation of binomial probabilities"; as R's dbinom_raw).

const LN_SQRT_2PI = 0.9189385332046728; // R's M_LN_SQRT_2PI, 0.918938533204672741780329736406 to double precision
const LOG_2PI = 1.8378770664093456; // log(2 pi) = 1.837877066409345483560659472811 to double precision
const EXACT_FACT: number[] = [1];
for (let i = 1; i <= 18; i++) EXACT_FACT.push(EXACT_FACT[i - 1]! * i);

/** stirlerr(n) = log(n!) - log(sqrt(2 pi n) (n/e)^n), for integer n >= 0. */
function stirlerr(n: number): number {
  if (n <= 15) {
    if (n === 0) return 0;
    // n! is exact in double up to 18!, so this has an absolute error of a few 1e-15.
    return Math.log(EXACT_FACT[n]!) - (n + 0.5) * Math.log(n) + n - LN_SQRT_2PI;
  }
  const S0 = 1 / 12;
  const S1 = 1 / 360;
  const S2 = 1 / 1260;
  const S3 = 1 / 1680;
  const S4 = 1 / 1188;
  const nn = n * n;
  if (n > 500) return (S0 - S1 / nn) / n;
  if (n > 80) return (S0 - (S1 - S2 / nn) / nn) / n;
  if (n > 35) return (S0 - (S1 - (S2 - S3 / nn) / nn) / nn) / n;
  return (S0 - (S1 - (S2 - (S3 - S4 / nn) / nn) / nn) / nn) / n;
}

/** bd0(x, np) = x log(x/np) + np - x, computed without cancellation. */
function bd0(x: number, np: number): number {
  if (Math.abs(x - np) < 0.1 * (x + np)) {
    let v = (x - np) / (x + np);
    let s = (x - np) * v;
    let ej = 2 * x * v;
    v = v * v;
    for (let j = 1; j < 1000; j++) {
      ej *= v;
      const s1 = s + ej / (2 * j + 1);
      if (s1 === s) return s1;
      s = s1;
    }
    return s;
  }
  return x * Math.log(x / np) + np - x;
}

/** P(X = x) for X ~ Binomial(n, p), q = 1 - p given separately for accuracy. */
export function binomialPmf(x: number, n: number, p: number, q = 1 - p): number {
  if (x < 0 || x > n) return 0;
  if (p === 0) return x === 0 ? 1 : 0;
  if (q === 0) return x === n ? 1 : 0;
  if (x === 0) {
    if (n === 0) return 1;
    const lc = p < 0.1 ? -bd0(n, n * q) - n * p : n * Math.log(q);
    return Math.exp(lc);
  }
  if (x === n) {
    const lc = q < 0.1 ? -bd0(n, n * p) - n * q : n * Math.log(p);
    return Math.exp(lc);
  }
  const lc = stirlerr(n) - stirlerr(x) - stirlerr(n - x) - bd0(x, n * p) - bd0(n - x, n * q);
  const lf = LOG_2PI + Math.log(x) + Math.log1p(-x / n);
  return Math.exp(lc - 0.5 * lf);
}

/**
 * Exact Binomial(n, p). Small mean (n * min(p, q) < 10): inversion, scanning the support from 0 (about
 * n*p + 1 steps). Otherwise: Hoermann's transformed rejection with decomposition (BTRD; W. Hoermann, "The
 * generation of binomial random variates", J. Statist. Comput. Simul. 46, 1993), in the simplified form used by
 * TensorFlow and PyTorch (BTRS): accept inside the tight box, else the exact acceptance test on the log pmf
 * ratio with Stirling corrections (fc(k) = stirlerr(k + 1), accurate to ~1e-15). O(1) expected time for any n.
 */
export function binomial(rng: Rng, n: number, p: number): number {
  if (!(n >= 0) || Math.floor(n) !== n) throw new RangeError(`binomial n must be a non-negative integer, got ${n}`);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`binomial p must be in [0, 1], got ${p}`);
  if (n === 0 || p === 0) return 0;
  if (p === 1) return n;
  if (p > 0.5) return n - binomialLow(rng, n, 1 - p, p);
  return binomialLow(rng, n, p, 1 - p);
}

function binomialLow(rng: Rng, n: number, p: number, q: number): number {
  if (n * p < 10) return binomialInversion(rng, n, p, q);
  return binomialBtrs(rng, n, p, q);
}

function binomialInversion(rng: Rng, n: number, p: number, q: number): number {
  const ratio = p / q;
  let u = rng.uniform();
  let f = binomialPmf(0, n, p, q);
  let k = 0;
  while (u > f) {
    u -= f;
    if (k >= n) return n;
    k++;
    f *= (ratio * (n - k + 1)) / k;
    if (f === 0) return k; // rounding leftover in the far tail (probability ~1e-16)
  }
  return k;
}

function binomialBtrs(rng: Rng, n: number, p: number, q: number): number {
  const spq = Math.sqrt(n * p * q);
  const b = 1.15 + 2.53 * spq;
  const a = -0.0873 + 0.0248 * b + 0.01 * p;
  const c = n * p + 0.5;
  const vr = 0.92 - 4.2 / b;
  const r = p / q;
  const alpha = (2.83 + 5.1 / b) * spq;
  const m = Math.floor((n + 1) * p);
  const logTermM = (m + 0.5) * Math.log((m + 1) / (r * (n - m + 1))) + stirlerr(m + 1) + stirlerr(n - m + 1);
  for (;;) {
    const u = rng.uniform() - 0.5;
    let v = rng.uniform();
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + c);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || k > n || us <= 0) continue;
    v = Math.log((v * alpha) / (a / (us * us) + b));
    const bound =
      logTermM +
      (n + 1) * Math.log((n - m + 1) / (n - k + 1)) +
      (k + 0.5) * Math.log((r * (n - k + 1)) / (k + 1)) -
      stirlerr(k + 1) -
      stirlerr(n - k + 1);
    if (v <= bound) return k;
  }
}

/** See Rng.multinomialFromCounts. */
export function multinomialFromCounts(
  rng: Rng,
  n: number,
  weights: ArrayLike<number>,
  out: Int32Array | Float64Array | number[],
): void {
  const k = weights.length;
  let total = 0;
  for (let t = 0; t < k; t++) {
    const w = weights[t]!;
    if (!(w >= 0) || Math.floor(w) !== w) throw new RangeError('multinomial weights must be non-negative integers');
    total += w;
  }
  if (total === 0 && n > 0) throw new RangeError('multinomial with n > 0 needs a positive total weight');
  let remaining = n;
  let restWeight = total;
  for (let t = 0; t < k; t++) {
    const w = weights[t]!;
    if (remaining === 0 || w === 0) {
      out[t] = 0;
      restWeight -= w;
      continue;
    }
    if (w === restWeight) {
      out[t] = remaining;
      remaining = 0;
      restWeight = 0;
      continue;
    }
    const x = binomial(rng, remaining, w / restWeight);
    out[t] = x;
    remaining -= x;
    restWeight -= w;
  }
}
