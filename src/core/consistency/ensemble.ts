// Ensemble annotators (consistency spec section 3): member reward models standardised over the pairs
// where all of them score both responses, then aggregated by mean, worst case or uncertainty-weighted
// optimisation (Coste et al., ICLR 2024), with population statistics throughout.
import { MetricsInputError } from '../metrics/stats';

export const ENSEMBLE_METHODS = ['mean', 'worst-case', 'uncertainty-weighted'] as const;
export type EnsembleMethod = (typeof ENSEMBLE_METHODS)[number];

export interface EnsembleMember {
  name: string;
  /** Scores of y0 / y1 per pair; NaN where the member has no score. */
  y0: Float64Array;
  y1: Float64Array;
}

export interface EnsembleResult {
  /** E(y0), E(y1) per pair; NaN where some member lacks a score. */
  y0: Float64Array;
  y1: Float64Array;
  /** sign(E(y1) - E(y0)); 0 = missing (some member lacks a score, or E(y1) == E(y0) exactly): never an explicit 0. */
  preference: Int8Array;
  /** Pairs where every member has both scores (the standardisation's N). */
  nPairs: number;
  /** Each member's mean and population sd over those 2N scores. */
  standardisation: { name: string; mean: number; sd: number }[];
}

/** Aggregates one response's standardised member scores; `lambda` only matters for UWO. */
export function aggregateScores(z: ArrayLike<number>, method: EnsembleMethod, lambda = 0.5): number {
  const k = z.length;
  if (method === 'worst-case') {
    let min = Infinity;
    for (let i = 0; i < k; i++) min = Math.min(min, z[i]!);
    return min;
  }
  let sum = 0;
  for (let i = 0; i < k; i++) sum += z[i]!;
  const mean = sum / k;
  if (method === 'mean') return mean;
  let ss = 0;
  for (let i = 0; i < k; i++) ss += (z[i]! - mean) ** 2;
  return mean - lambda * (ss / k);
}

export function ensembleScores(members: EnsembleMember[], method: EnsembleMethod, lambda = 0.5): EnsembleResult {
  if (members.length < 2) throw new MetricsInputError(`an ensemble needs at least two members, got ${members.length}`);
  if (!ENSEMBLE_METHODS.includes(method))
    throw new MetricsInputError(`unknown ensemble method "${method}" (use ${ENSEMBLE_METHODS.join(', ')})`);
  if (!Number.isFinite(lambda) || lambda < 0)
    throw new MetricsInputError(`lambda must be a finite number >= 0, got ${lambda}`);
  const n = members[0]!.y0.length;
  for (const m of members) {
    if (m.y0.length !== n || m.y1.length !== n)
      throw new MetricsInputError(`ensemble member "${m.name}": expected ${n} scores per response`);
  }
  const complete = new Uint8Array(n);
  let nPairs = 0;
  for (let k = 0; k < n; k++) {
    let ok = 1;
    for (const m of members)
      if (!Number.isFinite(m.y0[k]!) || !Number.isFinite(m.y1[k]!)) {
        ok = 0;
        break;
      }
    complete[k] = ok;
    nPairs += ok;
  }
  if (nPairs === 0)
    throw new MetricsInputError(`no pair has scores from every member (${members.map((m) => m.name).join(', ')})`);
  const standardisation = members.map((m) => {
    let sum = 0;
    for (let k = 0; k < n; k++) if (complete[k]) sum += m.y0[k]! + m.y1[k]!;
    const mean = sum / (2 * nPairs);
    let ss = 0;
    for (let k = 0; k < n; k++) if (complete[k]) ss += (m.y0[k]! - mean) ** 2 + (m.y1[k]! - mean) ** 2;
    const sd = Math.sqrt(ss / (2 * nPairs));
    if (!(sd > 0))
      throw new MetricsInputError(
        `ensemble member "${m.name}" gives the same score to every response on the shared pairs (sd 0); it cannot join`,
      );
    return { name: m.name, mean, sd };
  });
  const y0 = new Float64Array(n).fill(NaN);
  const y1 = new Float64Array(n).fill(NaN);
  const preference = new Int8Array(n);
  const z0 = new Float64Array(members.length);
  const z1 = new Float64Array(members.length);
  for (let k = 0; k < n; k++) {
    if (!complete[k]) continue;
    for (let i = 0; i < members.length; i++) {
      const s = standardisation[i]!;
      z0[i] = (members[i]!.y0[k]! - s.mean) / s.sd;
      z1[i] = (members[i]!.y1[k]! - s.mean) / s.sd;
    }
    const e0 = aggregateScores(z0, method, lambda);
    const e1 = aggregateScores(z1, method, lambda);
    y0[k] = e0;
    y1[k] = e1;
    preference[k] = e1 > e0 ? 1 : e1 < e0 ? -1 : 0;
  }
  return { y0, y1, preference, nPairs, standardisation };
}
