// Inter-rater agreement (spec section 8): percent agreement, Cohen's kappa, Fleiss' kappa and Krippendorff's
// alpha (nominal, missing values allowed), with percentile bootstrap intervals over items.
//
// Ratings are "codes": an Int8Array/Int32Array of nItems x nRaters (row-major), each value a category
// 0..K-1 or -1 for missing.
//
// Definitions (items with fewer than 2 ratings cannot be paired and are skipped by every statistic):
// - percent agreement: mean over items of the share of agreeing rater pairs, sum_c n_uc (n_uc - 1) / (n_u (n_u - 1))
//   (for two raters: the share of items on which they agree; for complete data it is Fleiss' P-bar);
// - Cohen's kappa (two raters, items rated by both): (p_o - p_e) / (1 - p_e), p_e from the two marginals;
// - Fleiss' kappa: items rated by all raters (Fleiss needs the same number of ratings per item);
// - Krippendorff's alpha, nominal: 1 - (n.. - 1) (n.. - sum_c o_cc) / (n..^2 - sum_c n_c^2), with the
//   coincidence diagonal o_cc = sum_u n_uc (n_uc - 1) / (n_u - 1) over pairable items (Krippendorff 2011).
//
// Every statistic depends on the items only through how many items have each "profile" (the per-item
// category counts, or the joint cell for Cohen). Resampling the N items with replacement is therefore exactly
// a multinomial over the distinct profiles, which is what the bootstrap samples (cheap for any N).

import { Rng } from './prng';
import { summarizeBootstrap, type BootstrapSummary } from './stats';

export interface AgreementStat {
  /** Point estimate; NaN when undefined (e.g. no pairable item, or no variation so the chance term is 1). */
  value: number;
  /** Items that entered the statistic. */
  nItems: number;
  /** Percentile bootstrap over all items (null when no bootstrap was requested). */
  boot: BootstrapSummary | null;
}

export interface CohenStat extends AgreementStat {
  raters: [number, number];
}

export interface AgreementSummary {
  nItems: number;
  nRaters: number;
  nCategories: number;
  percentAgreement: AgreementStat;
  fleissKappa: AgreementStat;
  krippendorffAlpha: AgreementStat;
  /** Cohen's kappa for every pair of raters (a < b). */
  cohenKappa: CohenStat[];
}

// ----------------------------------------------------------------------------------------------------------
// Statistics from count tables (items x categories).

/** Per-item category counts (nItems x K) from codes; missing (-1) is not counted. */
export function itemCategoryCounts(codes: ArrayLike<number>, nItems: number, nRaters: number, K: number): Int32Array {
  if (codes.length !== nItems * nRaters) throw new RangeError('codes must have nItems * nRaters values');
  const counts = new Int32Array(nItems * K);
  for (let u = 0; u < nItems; u++) {
    for (let r = 0; r < nRaters; r++) {
      const c = codes[u * nRaters + r]!;
      if (c === -1) continue;
      if (!(c >= 0 && c < K) || Math.floor(c) !== c)
        throw new RangeError(`code ${c} outside 0..${K - 1} (or -1 for missing)`);
      counts[u * K + c]!++;
    }
  }
  return counts;
}

/** Percent agreement from an items x K count table (see module comment). NaN when no item has 2+ ratings. */
export function percentAgreementFromCounts(counts: ArrayLike<number>, nItems: number, K: number): number {
  return profileStatistics(counts, profileTotals(counts, nItems, K), once(nItems), K, 0).percent[0];
}

/** Fleiss' kappa from an items x K count table; every item must have the same number (>= 2) of ratings. */
export function fleissKappaFromCounts(counts: ArrayLike<number>, nItems: number, K: number): number {
  if (nItems === 0) return NaN;
  const totals = profileTotals(counts, nItems, K);
  const n = totals.ratings[0]!;
  for (let u = 0; u < nItems; u++) {
    if (totals.ratings[u] !== n) throw new RangeError('Fleiss kappa needs the same number of ratings for every item');
    if (n < 2) return NaN;
  }
  return profileStatistics(counts, totals, once(nItems), K, n).fleiss[0];
}

/** Krippendorff's alpha (nominal) from an items x K count table; items with fewer than 2 ratings are skipped. */
export function krippendorffAlphaNominalFromCounts(counts: ArrayLike<number>, nItems: number, K: number): number {
  return profileStatistics(counts, profileTotals(counts, nItems, K), once(nItems), K, 0).alpha[0];
}

// ----------------------------------------------------------------------------------------------------------
// The statistics over profiles: `counts` holds each profile's category counts (profiles x K) and `mult[t]`
// how many items have profile t. A count table is the case of one profile per item, each once.

/** Every item of a count table once. */
const once = (nItems: number): Float64Array => new Float64Array(nItems).fill(1);

/** Per profile: n_u, its number of ratings, and sum_c n_uc (n_uc - 1), its agreeing ordered rater pairs. */
interface ProfileTotals {
  ratings: Float64Array;
  agreeing: Float64Array;
}

function profileTotals(counts: ArrayLike<number>, nProfiles: number, K: number): ProfileTotals {
  const ratings = new Float64Array(nProfiles);
  const agreeing = new Float64Array(nProfiles);
  for (let t = 0; t < nProfiles; t++) {
    let n = 0;
    let agree = 0;
    for (let c = 0; c < K; c++) {
      const x = counts[t * K + c]!;
      n += x;
      agree += x * (x - 1);
    }
    ratings[t] = n;
    agreeing[t] = agree;
  }
  return { ratings, agreeing };
}

/** [value, items used] of each statistic. */
interface ProfileStatistics {
  percent: [number, number];
  fleiss: [number, number];
  alpha: [number, number];
}

/**
 * The three profile statistics in one pass over the profiles (see the module comment for the formulas).
 * Fleiss' kappa counts only the profiles with exactly `nComplete` ratings (items rated by every rater).
 */
function profileStatistics(
  counts: ArrayLike<number>,
  totals: ProfileTotals,
  mult: ArrayLike<number>,
  K: number,
  nComplete: number,
): ProfileStatistics {
  let pSum = 0;
  let pUsed = 0;
  const colSum = new Float64Array(K);
  let sumP = 0;
  let fUsed = 0;
  const nc = new Float64Array(K);
  let nTot = 0;
  let occ = 0;
  let aUsed = 0;
  for (let t = 0; t < mult.length; t++) {
    const w = mult[t]!;
    if (w === 0) continue;
    const nu = totals.ratings[t]!;
    // sum_c n_uc^2 - n_u = sum_c n_uc (n_uc - 1)
    const agreeing = totals.agreeing[t]!;
    if (nu === nComplete) {
      for (let c = 0; c < K; c++) colSum[c]! += w * counts[t * K + c]!;
      sumP += (w * agreeing) / (nComplete * (nComplete - 1));
      fUsed += w;
    }
    if (nu < 2) continue;
    pSum += (w * agreeing) / (nu * (nu - 1));
    pUsed += w;
    for (let c = 0; c < K; c++) {
      const x = counts[t * K + c]!;
      occ += (w * x * (x - 1)) / (nu - 1);
      nc[c]! += w * x;
    }
    nTot += w * nu;
    aUsed += w;
  }
  let fleiss = NaN;
  if (fUsed > 0 && nComplete >= 2) {
    let Pe = 0;
    for (let c = 0; c < K; c++) {
      const q = colSum[c]! / (fUsed * nComplete);
      Pe += q * q;
    }
    const Pbar = sumP / fUsed;
    fleiss = Pe === 1 ? NaN : (Pbar - Pe) / (1 - Pe);
  }
  return {
    percent: [pUsed === 0 ? NaN : pSum / pUsed, pUsed],
    fleiss: [fleiss, fUsed],
    alpha: [alphaFrom(nTot, occ, nc), aUsed],
  };
}

function alphaFrom(nTot: number, occ: number, nc: ArrayLike<number>): number {
  let sq = 0;
  for (let c = 0; c < nc.length; c++) sq += nc[c]! * nc[c]!;
  const denom = nTot * nTot - sq;
  if (nTot < 2 || denom === 0) return NaN;
  return 1 - ((nTot - 1) * (nTot - occ)) / denom;
}

/** Cohen's kappa from a K x K contingency table (rows: rater 1, columns: rater 2). */
export function cohenKappaFromTable(table: ArrayLike<number>, K: number): number {
  let N = 0;
  let diag = 0;
  const row = new Float64Array(K);
  const col = new Float64Array(K);
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < K; j++) {
      const x = table[i * K + j]!;
      N += x;
      row[i]! += x;
      col[j]! += x;
      if (i === j) diag += x;
    }
  }
  if (N === 0) return NaN;
  let pe = 0;
  for (let c = 0; c < K; c++) pe += (row[c]! / N) * (col[c]! / N);
  const po = diag / N;
  return pe === 1 ? NaN : (po - pe) / (1 - pe);
}

// ----------------------------------------------------------------------------------------------------------
// Profiles and the bootstrap.

interface Profiles {
  /** Number of items with each profile. */
  weights: number[];
  /** Category counts of each profile (nProfiles x K). */
  counts: number[];
}

function bootstrapOver(
  weights: number[],
  resamples: number,
  rng: Rng,
  stat: (mult: ArrayLike<number>) => number,
): BootstrapSummary {
  let N = 0;
  for (const w of weights) N += w;
  const values = new Float64Array(resamples);
  const draw = new Float64Array(weights.length);
  for (let b = 0; b < resamples; b++) {
    if (N === 0) {
      values[b] = NaN;
      continue;
    }
    rng.multinomialFromCounts(N, weights, draw);
    values[b] = stat(draw);
  }
  return summarizeBootstrap(values);
}

export interface AgreementOptions {
  /** Bootstrap resamples over items (0 = none). */
  bootstrap?: number;
  seed?: number;
  /** Stream label so that different scopes (overall, principle 3, ...) draw independent numbers. */
  stream?: string;
}

/**
 * Accumulates items (in batches of codes with the same raters and categories) into the sufficient statistics
 * of all four measures: the per-item profiles and, per rater pair, the Cohen contingency table. Memory is
 * O(distinct profiles + nRaters^2 K^2), whatever the number of items.
 */
export class AgreementAccumulator {
  private readonly profileIndex = new Map<number | string, number>();
  private readonly profiles: Profiles = { weights: [], counts: [] };
  /** Per rater pair (a < b): K*K joint cells, then one "either missing" cell. */
  private readonly tables: number[][] = [];
  private readonly itemCounts: Int32Array;
  nItems = 0;

  constructor(
    readonly nRaters: number,
    readonly K: number,
  ) {
    for (let a = 0; a < nRaters; a++)
      for (let b = a + 1; b < nRaters; b++) this.tables.push(new Array<number>(K * K + 1).fill(0));
    this.itemCounts = new Int32Array(K);
  }

  /** Adds nItems items: codes is nItems x nRaters, values 0..K-1 or -1 (missing). */
  add(codes: ArrayLike<number>, nItems: number): void {
    const { nRaters: R, K } = this;
    if (codes.length !== nItems * R) throw new RangeError('codes must have nItems * nRaters values');
    const base = R + 1;
    const numericKey = Math.pow(base, K) < 2 ** 52;
    const cnt = this.itemCounts;
    for (let u = 0; u < nItems; u++) {
      cnt.fill(0);
      for (let r = 0; r < R; r++) {
        const c = codes[u * R + r]!;
        if (c === -1) continue;
        if (!(c >= 0 && c < K) || Math.floor(c) !== c)
          throw new RangeError(`code ${c} outside 0..${K - 1} (or -1 for missing)`);
        cnt[c]!++;
      }
      let key: number | string;
      if (numericKey) {
        let k = 0;
        for (let c = K - 1; c >= 0; c--) k = k * base + cnt[c]!;
        key = k;
      } else key = cnt.join(',');
      let t = this.profileIndex.get(key);
      if (t === undefined) {
        t = this.profiles.weights.length;
        this.profileIndex.set(key, t);
        this.profiles.weights.push(0);
        for (let c = 0; c < K; c++) this.profiles.counts.push(cnt[c]!);
      }
      this.profiles.weights[t]!++;
    }
    let p = 0;
    for (let a = 0; a < R; a++) {
      for (let b = a + 1; b < R; b++, p++) {
        const table = this.tables[p]!;
        for (let u = 0; u < nItems; u++) {
          const x = codes[u * R + a]!;
          const y = codes[u * R + b]!;
          table[x === -1 || y === -1 ? K * K : x * K + y]!++;
        }
      }
    }
    this.nItems += nItems;
  }

  /** The four statistics, with percentile bootstrap intervals over the items when opts.bootstrap > 0. */
  summary(opts: AgreementOptions = {}): AgreementSummary {
    const { nRaters, K, nItems } = this;
    const B = opts.bootstrap ?? 0;
    const seed = opts.seed ?? 0;
    const stream = opts.stream ?? '';
    const prof = this.profiles;
    // The three profile statistics share each resample of the items (one multinomial draw over profiles).
    const kinds = ['percent', 'fleiss', 'alpha'] as const;
    const totals = profileTotals(prof.counts, prof.weights.length, K);
    const point = profileStatistics(prof.counts, totals, prof.weights, K, nRaters);
    const points = kinds.map((kind) => point[kind]);
    let boots: (BootstrapSummary | null)[] = [null, null, null];
    if (B > 0) {
      const rng = new Rng(seed, `${stream}:profiles`);
      const values = kinds.map(() => new Float64Array(B));
      const draw = new Float64Array(prof.weights.length);
      for (let b = 0; b < B; b++) {
        if (nItems === 0) {
          for (const v of values) v[b] = NaN;
          continue;
        }
        rng.multinomialFromCounts(nItems, prof.weights, draw);
        const r = profileStatistics(prof.counts, totals, draw, K, nRaters);
        kinds.forEach((kind, i) => (values[i]![b] = r[kind][0]));
      }
      boots = values.map((v) => summarizeBootstrap(v));
    }
    const one = (i: number): AgreementStat => ({ value: points[i]![0], nItems: points[i]![1], boot: boots[i]! });
    const cohen: CohenStat[] = [];
    let p = 0;
    for (let a = 0; a < nRaters; a++) {
      for (let b = a + 1; b < nRaters; b++, p++) {
        const weights = this.tables[p]!;
        const value = cohenKappaFromTable(weights, K);
        const boot =
          B > 0
            ? bootstrapOver(weights, B, new Rng(seed, `${stream}:cohen:${a}:${b}`), (mult) =>
                cohenKappaFromTable(mult, K),
              )
            : null;
        cohen.push({ raters: [a, b], value, nItems: nItems - weights[K * K]!, boot });
      }
    }
    return {
      nItems,
      nRaters,
      nCategories: K,
      percentAgreement: one(0),
      fleissKappa: one(1),
      krippendorffAlpha: one(2),
      cohenKappa: cohen,
    };
  }
}

/** All four statistics for codes (nItems x nRaters, values 0..K-1 or -1 missing). */
export function agreementStatistics(
  codes: ArrayLike<number>,
  nItems: number,
  nRaters: number,
  K: number,
  opts: AgreementOptions = {},
): AgreementSummary {
  const acc = new AgreementAccumulator(nRaters, K);
  acc.add(codes, nItems);
  return acc.summary(opts);
}

/** Cohen's kappa for two raters given as codes (0..K-1, -1 missing); items missing either rating are skipped. */
export function cohenKappa(x: ArrayLike<number>, y: ArrayLike<number>, K: number): number {
  if (x.length !== y.length) throw new RangeError('cohenKappa: x and y must have the same length');
  const table = new Float64Array(K * K);
  for (let u = 0; u < x.length; u++) {
    const a = x[u]!;
    const b = y[u]!;
    if (a === -1 || b === -1) continue;
    table[a * K + b]!++;
  }
  return cohenKappaFromTable(table, K);
}

/** Krippendorff's alpha (nominal) from codes (nItems x nRaters, -1 missing). */
export function krippendorffAlphaNominal(codes: ArrayLike<number>, nItems: number, nRaters: number, K: number): number {
  return krippendorffAlphaNominalFromCounts(itemCategoryCounts(codes, nItems, nRaters, K), nItems, K);
}

/** Fleiss' kappa from codes, over the items rated by every rater. */
export function fleissKappa(codes: ArrayLike<number>, nItems: number, nRaters: number, K: number): number {
  const counts = itemCategoryCounts(codes, nItems, nRaters, K);
  const complete: number[] = [];
  for (let u = 0; u < nItems; u++) {
    let n = 0;
    for (let c = 0; c < K; c++) n += counts[u * K + c]!;
    if (n === nRaters) for (let c = 0; c < K; c++) complete.push(counts[u * K + c]!);
  }
  return fleissKappaFromCounts(complete, complete.length / K, K);
}

/** Percent agreement from codes. */
export function percentAgreement(codes: ArrayLike<number>, nItems: number, nRaters: number, K: number): number {
  return percentAgreementFromCounts(itemCategoryCounts(codes, nItems, nRaters, K), nItems, K);
}
