// Predictive multiplicity across model annotators (consistency spec section 4, after Watson-Daniels,
// Parkes and Ustun, AAAI 2023): log losses against a reference annotator, the epsilon-Rashomon sets
// around the best member, viable prediction ranges, ambiguity, discrepancy and flip ambiguity.
import { MetricsInputError } from '../metrics/stats';
import { clipProbability } from './probability';

export interface MultiplicityMember {
  name: string;
  /** P(y1 > y0) per pair; NaN where undefined. */
  p: Float64Array;
}

export interface MultiplicityInput {
  /** The reference annotator's preference per pair: +1 / -1 decisive; 0 = not decisive or missing. */
  reference: Int8Array;
  members: MultiplicityMember[];
  epsilons: number[];
  deltas: number[];
}

export interface MultiplicityResult {
  members: string[];
  /** |K|: pairs where the reference is decisive and every member has p. */
  nPairs: number;
  losses: Record<string, number>;
  /** The member with the lowest loss (ties: first by name); null when K is empty. */
  baseline: string | null;
  byEpsilon: {
    epsilon: number;
    /** The Rashomon set, ordered by loss then name (the baseline first). */
    set: string[];
    meanWidth: number;
    flipAmbiguity: number;
    byDelta: { delta: number; ambiguity: number; discrepancy: number }[];
  }[];
}

const TOL = 1e-12;

export function multiplicity(input: MultiplicityInput): MultiplicityResult {
  const { reference, members, epsilons, deltas } = input;
  if (members.length < 2)
    throw new MetricsInputError(`multiplicity needs at least two model annotators, got ${members.length}`);
  const n = reference.length;
  for (const m of members)
    if (m.p.length !== n) throw new MetricsInputError(`member "${m.name}": expected ${n} probabilities`);
  for (const e of epsilons) if (!(e >= 0)) throw new MetricsInputError(`epsilon must be >= 0, got ${e}`);
  for (const d of deltas) if (!(d >= 0)) throw new MetricsInputError(`delta must be >= 0, got ${d}`);

  // K, as a list of pair positions.
  const kList: number[] = [];
  for (let k = 0; k < n; k++) {
    const t = reference[k];
    if (t !== 1 && t !== -1) continue;
    let ok = true;
    for (const m of members)
      if (Number.isNaN(m.p[k]!)) {
        ok = false;
        break;
      }
    if (ok) kList.push(k);
  }
  const K = kList.length;
  const names = members.map((m) => m.name);
  const losses: Record<string, number> = {};
  const loss = members.map((m) => {
    let s = 0;
    for (const k of kList) s -= Math.log(clipProbability(reference[k] === 1 ? m.p[k]! : 1 - m.p[k]!));
    const L = K === 0 ? NaN : s / K;
    losses[m.name] = L;
    return L;
  });
  if (K === 0) return { members: names, nPairs: 0, losses, baseline: null, byEpsilon: [] };

  // Members by loss, then name: the first is the baseline, and every Rashomon set is a prefix.
  const order = members
    .map((_, i) => i)
    .sort((a, b) => loss[a]! - loss[b]! || (names[a]! < names[b]! ? -1 : names[a]! > names[b]! ? 1 : 0));
  const base = order[0]!;
  const p0 = members[base]!.p;

  const byEpsilon = epsilons.map((epsilon) => {
    const inSet = order.filter((i) => loss[i]! <= loss[base]! + epsilon + TOL);
    const others = inSet.filter((i) => i !== base).map((i) => members[i]!.p);
    let widthSum = 0;
    let flips = 0;
    const ambiguous = new Float64Array(deltas.length);
    const beyond = others.map(() => new Float64Array(deltas.length));
    for (const k of kList) {
      const b = p0[k]!;
      let lo = b,
        hi = b,
        maxDev = 0,
        flip = false;
      for (let j = 0; j < others.length; j++) {
        const p = others[j]![k]!;
        if (p < lo) lo = p;
        if (p > hi) hi = p;
        const dev = Math.abs(p - b);
        if (dev > maxDev) maxDev = dev;
        if (p !== 0.5 && p > 0.5 !== b > 0.5) flip = true;
        const row = beyond[j]!;
        for (let d = 0; d < deltas.length; d++) if (dev >= deltas[d]! - TOL) row[d]!++;
      }
      widthSum += hi - lo;
      if (flip) flips++;
      // The baseline's own deviation is 0, which reaches delta only when delta <= 1e-12.
      for (let d = 0; d < deltas.length; d++) if (maxDev >= deltas[d]! - TOL) ambiguous[d]!++;
    }
    return {
      epsilon,
      set: inSet.map((i) => names[i]!),
      meanWidth: widthSum / K,
      flipAmbiguity: flips / K,
      byDelta: deltas.map((delta, d) => ({
        delta,
        ambiguity: ambiguous[d]! / K,
        discrepancy: Math.max(0 >= delta - TOL ? 1 : 0, ...beyond.map((row) => row[d]! / K)),
      })),
    };
  });
  return { members: names, nPairs: K, losses, baseline: names[base]!, byEpsilon };
}
