// Paired bootstrap of Discretion Discrepancy (spec section 7).
//
// Each resample draws nPairs pair indices with replacement from all pairs, and the SAME multiset of pairs is
// used for every annotator and for the reference (a paired bootstrap, as the published analysis: one seed,
// same sample for every annotator). Per resample and annotator: win matrix -> w* (rules + exact BT) -> average
// ranks -> tau_b against the reference's ranks of the same resample -> DD. Undefined resamples (tau_b
// undefined, or w* undefined because the comparison graph is not strongly connected) are counted and left out
// of the mean and SD (ddof = 0), like numpy nanmean / nanstd.
//
// Only pairs that are conflicts under some annotator's principle source can change a win matrix, so the
// resample is drawn in two exact steps: T ~ Binomial(nPairs, |U| / nPairs) draws land in the set U of such
// pairs, and those T draws are uniform over U. The multiplicities on U have exactly the distribution they have
// under nPairs uniform draws over all pairs.

import { accumulateWins, type ConflictIndex } from './conflicts';
import { principlePriority } from './priority';
import { Rng } from './prng';
import { averageRanksDescending, discretionDiscrepancy } from './ranks';
import { summarizeBootstrap, type BootstrapSummary } from './stats';

export interface DdBootstrapAnnotator {
  /** Conflict index of the principle source used for this annotator; null = no principle labels (DD undefined). */
  index: ConflictIndex | null;
  overall: Int8Array;
}

/** Annotators sharing one conflict index, with their signs packed pair-major (one pass per group). */
interface Group {
  index: ConflictIndex;
  members: number[];
  signs: Int8Array;
  /** Position in U of each of the group's conflict pairs (null: the group's pairs are U itself). */
  uPos: Uint32Array | null;
}

export interface DdBootstrapResult {
  /** Per annotator (input order): DD summary (mean, sd with ddof 0, percentile interval, undefined count). */
  summaries: BootstrapSummary[];
  /** Per annotator: DD value of every resample (NaN = undefined). */
  values: Float64Array[];
}

export function bootstrapDd(
  annotators: readonly DdBootstrapAnnotator[],
  reference: number,
  m: number,
  nPairs: number,
  resamples: number,
  rng: Rng,
  tieTolerance = 1e-9,
): DdBootstrapResult {
  const A = annotators.length;
  const values = annotators.map(() => new Float64Array(resamples).fill(NaN));
  const refIndex = annotators[reference]?.index ?? null;
  if (resamples === 0 || A === 0 || refIndex === null || nPairs === 0) {
    return { summaries: values.map((v) => summarizeBootstrap(v)), values };
  }

  // Groups of annotators sharing one conflict index, with their signs packed pair-major (one pass per group).
  const groups: Group[] = [];
  for (let a = 0; a < A; a++) {
    const idx = annotators[a]!.index;
    if (!idx) continue;
    let g = groups.find((x) => x.index === idx);
    if (!g) groups.push((g = { index: idx, members: [], signs: new Int8Array(0), uPos: null }));
    g.members.push(a);
  }
  for (const g of groups) {
    const nConf = g.index.conflictPairs.length;
    const G = g.members.length;
    g.signs = new Int8Array(nConf * G);
    for (let t = 0; t < nConf; t++) {
      const k = g.index.conflictPairs[t]!;
      for (let q = 0; q < G; q++) g.signs[t * G + q] = annotators[g.members[q]!]!.overall[k]!;
    }
  }

  // U: pairs that are conflicts under at least one source (ascending pair ids).
  let U: Uint32Array;
  if (groups.length === 1) U = groups[0]!.index.conflictPairs;
  else {
    const pos = new Int32Array(nPairs).fill(-1);
    for (const g of groups) for (const k of g.index.conflictPairs) pos[k] = 0;
    let nu = 0;
    for (let k = 0; k < nPairs; k++) if (pos[k] === 0) pos[k] = nu++;
    U = new Uint32Array(nu);
    for (let k = 0; k < nPairs; k++) if (pos[k]! >= 0) U[pos[k]!] = k;
    for (const g of groups) g.uPos = Uint32Array.from(g.index.conflictPairs, (k) => pos[k]!);
  }
  const nU = U.length;
  // Multiplicity of each pair of U in the current resample.
  const counts = new Int32Array(nU);
  const wins = annotators.map((x) => (x.index ? new Float64Array(m * m) : null));
  const ranks: (Float64Array | null)[] = new Array(A).fill(null);
  const limit = nU > 0 ? 4294967296 - (4294967296 % nU) : 0;
  // Warm starts for the Bradley-Terry fits: each annotator's full-data w* (resample optima are close to it).
  const init = annotators.map((x) => (x.index ? principlePriority(accumulateWins(x.index, x.overall), m).w : null));

  for (let b = 0; b < resamples; b++) {
    drawMultiplicities(rng, counts, nPairs, limit);
    for (const g of groups) accumulateGroup(g, counts, wins);
    // w*, ranks, DD.
    for (let a = 0; a < A; a++) {
      const W = wins[a];
      ranks[a] = W ? averageRanksDescending(principlePriority(W, m, { init: init[a]! }).w, tieTolerance) : null;
    }
    const refRanks = ranks[reference]!;
    for (let a = 0; a < A; a++) {
      const r = ranks[a];
      values[a]![b] = r ? discretionDiscrepancy(r, refRanks) : NaN;
    }
  }
  return { summaries: values.map((v) => summarizeBootstrap(v)), values };
}

/** One resample's multiplicities on U: T ~ Binomial(nPairs, |U| / nPairs) draws, each uniform over U. */
function drawMultiplicities(rng: Rng, counts: Int32Array, nPairs: number, limit: number): void {
  const nU = counts.length;
  counts.fill(0);
  const T = nU === nPairs ? nPairs : nU === 0 ? 0 : rng.binomial(nPairs, nU / nPairs);
  for (let r = 0; r < T; r++) {
    let x: number;
    do x = rng.nextU32();
    while (x >= limit);
    counts[x % nU]!++;
  }
}

/** Win matrices of a group's annotators for the multiplicities `counts` (indexed by position in U). */
function accumulateGroup(g: Group, counts: Int32Array, wins: (Float64Array | null)[]): void {
  const { offsets, fwd, rev } = g.index;
  const { signs, uPos } = g;
  const G = g.members.length;
  const Ws = g.members.map((a) => wins[a]!);
  for (const W of Ws) W.fill(0);
  const nConf = g.index.conflictPairs.length;
  for (let t = 0; t < nConf; t++) {
    const c = counts[uPos ? uPos[t]! : t]!;
    if (c === 0) continue;
    const start = offsets[t]!;
    const end = offsets[t + 1]!;
    for (let q = 0; q < G; q++) {
      const s = signs[t * G + q]!;
      if (s === 0) continue;
      const cells = s > 0 ? fwd : rev;
      const W = Ws[q]!;
      for (let e = start; e < end; e++) W[cells[e]!]! += c;
    }
  }
}
