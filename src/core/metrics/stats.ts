// Small numeric helpers shared by the metrics (summaries of bootstrap samples, input checks).

/** Summary of a bootstrap distribution; NaN resamples (statistic undefined) are left out and counted. */
export interface BootstrapSummary {
  /** Mean over the resamples where the statistic was defined (numpy nanmean). */
  mean: number;
  /** Standard deviation, ddof = 0 (numpy nanstd). */
  sd: number;
  /** 2.5th and 97.5th percentiles, linear interpolation (numpy.percentile's default). */
  lo: number;
  hi: number;
  /** Resamples drawn. */
  n: number;
  /** Resamples in which the statistic was undefined (not in mean/sd/lo/hi). */
  nUndefined: number;
}

/** numpy.percentile(sorted, 100*q) with the default 'linear' method; `sorted` ascending, non-empty. */
export function percentileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (h - lo) * (b - a);
}

/** Summarise bootstrap values (NaN = undefined resample). */
export function summarizeBootstrap(values: ArrayLike<number>): BootstrapSummary {
  const defined: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isNaN(v)) defined.push(v);
  }
  const n = values.length;
  const k = defined.length;
  if (k === 0) return { mean: NaN, sd: NaN, lo: NaN, hi: NaN, n, nUndefined: n };
  let s = 0;
  for (const v of defined) s += v;
  const mean = s / k;
  let ss = 0;
  for (const v of defined) ss += (v - mean) * (v - mean);
  const sorted = Float64Array.from(defined).sort();
  return {
    mean,
    sd: Math.sqrt(ss / k),
    lo: percentileSorted(sorted, 0.025),
    hi: percentileSorted(sorted, 0.975),
    n,
    nUndefined: n - k,
  };
}

export class MetricsInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetricsInputError';
  }
}

/** Checks that `arr` is an Int8Array of the expected length. */
export function assertShape(arr: unknown, expectedLength: number, what: string): asserts arr is Int8Array {
  if (!(arr instanceof Int8Array)) throw new MetricsInputError(`${what}: expected an Int8Array`);
  if (arr.length !== expectedLength) {
    throw new MetricsInputError(`${what}: expected ${expectedLength} values, got ${arr.length}`);
  }
}

/** Checks that `arr` is an Int8Array of the expected length holding only -1, 0, +1. */
export function assertPreferences(arr: unknown, expectedLength: number, what: string): asserts arr is Int8Array {
  assertShape(arr, expectedLength, what);
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i]!;
    if (v !== 0 && v !== 1 && v !== -1) {
      throw new MetricsInputError(`${what}: value ${v} at index ${i} is not -1, 0 or +1`);
    }
  }
}

export function assertCount(n: unknown, what: string): asserts n is number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
    throw new MetricsInputError(`${what} must be a non-negative integer, got ${String(n)}`);
  }
}
