// Principle Supremacy and conflict counts (spec section 5), computed sparsely.
//
// For each conflict pair k we precompute, once, the list of ordered principle pairs (i, j) with c_i(k) = +1 and
// c_j(k) = -1 (CSR layout). If the annotator picks y1 (a = +1) on that pair, every +1 principle i beats every
// -1 principle j; if it picks y0, every j beats every i. So an annotator's win matrix
//   W[i*m + j] = #{k : i and j conflict on k, a(k) != 0, a(k) == c_i(k)}      ("i beats j")
// is a sum of those lists, and n_ij = W_ij + W_ji, PS(i > j) = W_ij / n_ij. The cost is the number of
// conflicting (i, j) entries, never O(m^2) per pair; a bootstrap just weights each pair by its multiplicity.

import { CONFLICT, categorizePairs, type PairCategories } from './categories';

export interface ConflictIndex {
  m: number;
  nPairs: number;
  /** Ids of the conflict pairs, ascending. */
  conflictPairs: Uint32Array;
  /** CSR offsets into fwd/rev: entries of conflict pair t are [offsets[t], offsets[t+1]). */
  offsets: Uint32Array;
  /** i*m + j for each (i: +1 principle, j: -1 principle): the cell that gains when a = +1. */
  fwd: Uint32Array;
  /** j*m + i for the same entries: the cell that gains when a = -1. */
  rev: Uint32Array;
}

/**
 * Builds the conflict index of a principle matrix (nPairs x m, row-major). `cats`, if given, must be
 * categorizePairs() of the same matrix (which validated it); otherwise it is computed here.
 */
export function buildConflictIndex(
  principles: Int8Array,
  nPairs: number,
  m: number,
  cats?: PairCategories,
): ConflictIndex {
  const c = cats ?? categorizePairs(principles, nPairs, m);
  if (c.nPairs !== nPairs || principles.length !== nPairs * m)
    throw new RangeError('buildConflictIndex: categories do not match the matrix');
  const nConf = c.nConflict;
  const pairIds = new Uint32Array(nConf);
  const offsets = new Uint32Array(nConf + 1);
  const plus = new Int32Array(m);
  const minus = new Int32Array(m);
  // Pass 1: sizes.
  let t = 0;
  let total = 0;
  for (let k = 0; k < nPairs; k++) {
    if (c.category[k] !== CONFLICT) continue;
    let np = 0;
    let nm = 0;
    const base = k * m;
    for (let i = 0; i < m; i++) {
      const v = principles[base + i]!;
      if (v > 0) np++;
      else if (v < 0) nm++;
    }
    pairIds[t] = k;
    total += np * nm;
    t++;
    offsets[t] = total;
  }
  if (total > 0xffffffff) throw new RangeError('conflict index too large');
  const fwd = new Uint32Array(total);
  const rev = new Uint32Array(total);
  // Pass 2: entries.
  let e = 0;
  for (t = 0; t < nConf; t++) {
    const base = pairIds[t]! * m;
    let np = 0;
    let nm = 0;
    for (let i = 0; i < m; i++) {
      const v = principles[base + i]!;
      if (v > 0) plus[np++] = i;
      else if (v < 0) minus[nm++] = i;
    }
    for (let a = 0; a < np; a++) {
      const i = plus[a]!;
      for (let b = 0; b < nm; b++) {
        const j = minus[b]!;
        fwd[e] = i * m + j;
        rev[e] = j * m + i;
        e++;
      }
    }
  }
  return { m, nPairs, conflictPairs: pairIds, offsets, fwd, rev };
}

/**
 * Win matrix W (m x m, row-major, Float64Array) of one annotator: W[i*m+j] = times i beat j.
 * `multiplicity` (optional, indexed by pair id) weights each pair, e.g. its count in a bootstrap resample.
 */
export function accumulateWins(
  index: ConflictIndex,
  overall: Int8Array,
  multiplicity?: Int32Array,
  out?: Float64Array,
): Float64Array {
  const m = index.m;
  const W = out ?? new Float64Array(m * m);
  if (out) W.fill(0);
  const { conflictPairs: pairIds, offsets, fwd, rev } = index;
  const nConf = pairIds.length;
  for (let t = 0; t < nConf; t++) {
    const k = pairIds[t]!;
    const a = overall[k]!;
    if (a === 0) continue;
    const w = multiplicity ? multiplicity[k]! : 1;
    if (w === 0) continue;
    const cells = a > 0 ? fwd : rev;
    const end = offsets[t + 1]!;
    for (let e = offsets[t]!; e < end; e++) W[cells[e]!]! += w;
  }
  return W;
}

export interface Supremacy {
  m: number;
  /** PS(i > j | a) at i*m+j; NaN where undefined (n_ij = 0, and on the diagonal). */
  ps: Float64Array;
  /** n_ij at i*m+j (symmetric); NaN on the diagonal. */
  nConflicts: Float64Array;
}

export function supremacyFromWins(W: Float64Array, m: number): Supremacy {
  const ps = new Float64Array(m * m);
  const nConflicts = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      const c = i * m + j;
      if (i === j) {
        ps[c] = NaN;
        nConflicts[c] = NaN;
        continue;
      }
      const n = W[c]! + W[j * m + i]!;
      nConflicts[c] = n;
      ps[c] = n > 0 ? W[c]! / n : NaN;
    }
  }
  return { m, ps, nConflicts };
}
