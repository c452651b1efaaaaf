// Inconsistency between annotator groups (consistency spec section 7): the group disagreement index GDI
// (mean over pairs of the mean over group pairs of |mean vote_g - mean vote_h| / 2) and its null
// distribution under reassigning the same annotators to labelled groups of the same sizes: every such
// assignment when there are at most `exactLimit`, otherwise `samples` drawn with the project's seeded PRNG.
import { Rng } from '../metrics/prng';
import { MetricsInputError } from '../metrics/stats';

export interface GroupMember {
  name: string;
  group: string;
  /** The vote per pair: the preference, with 0 for a tie, a no-preference or a stored-but-missing preference. */
  votes: Int8Array;
  /** 1 where the annotator has a stored preference row for the pair; 0 = absent. */
  present: Uint8Array;
}

export interface GroupInconsistency {
  /** Group label -> its annotators' names (labels sorted). */
  groups: Record<string, string[]>;
  /** Pairs with at least two groups present (the others are skipped). */
  nPairs: number;
  gdi: number;
  null: { kind: 'exact' | 'sampled'; n: number; mean: number };
  excess: number;
  pValue: number;
}

export interface GroupNullOptions {
  seed?: number;
  exactLimit?: number;
  samples?: number;
}

const TOL = 1e-12;

/** Distinct vote patterns across annotators with their multiplicities: GDI depends on a pair only through its pattern. */
interface Patterns {
  count: number;
  votes: Int8Array;
  present: Uint8Array;
  weight: Float64Array;
}

function collectPatterns(members: GroupMember[], n: number): Patterns {
  const A = members.length;
  const canKey = A <= 26; // 4^26 < 2^53: the key stays an exact integer
  const index = new Map<number, number>();
  const votes: number[] = [];
  const present: number[] = [];
  const weight: number[] = [];
  for (let k = 0; k < n; k++) {
    let key = 0;
    if (canKey) {
      for (let a = A - 1; a >= 0; a--) key = key * 4 + (members[a]!.present[k] ? members[a]!.votes[k]! + 2 : 0);
      const at = index.get(key);
      if (at !== undefined) {
        weight[at]!++;
        continue;
      }
      index.set(key, weight.length);
    }
    for (const m of members) {
      present.push(m.present[k] ? 1 : 0);
      votes.push(m.present[k] ? m.votes[k]! : 0);
    }
    weight.push(1);
  }
  return {
    count: weight.length,
    votes: Int8Array.from(votes),
    present: Uint8Array.from(present),
    weight: Float64Array.from(weight),
  };
}

/** GDI of one assignment (`groupOf[a]` in 0..nGroups-1); also the number of pairs not skipped. */
function gdiOf(p: Patterns, A: number, groupOf: Int32Array, nGroups: number): { gdi: number; used: number } {
  const sums = new Float64Array(nGroups);
  const counts = new Float64Array(nGroups);
  const means = new Float64Array(nGroups);
  let total = 0,
    used = 0;
  for (let i = 0; i < p.count; i++) {
    sums.fill(0);
    counts.fill(0);
    const base = i * A;
    for (let a = 0; a < A; a++) {
      if (!p.present[base + a]) continue;
      const g = groupOf[a]!;
      sums[g]! += p.votes[base + a]!;
      counts[g]!++;
    }
    let m = 0;
    for (let g = 0; g < nGroups; g++) if (counts[g]! > 0) means[m++] = sums[g]! / counts[g]!;
    if (m < 2) continue;
    let s = 0;
    for (let g = 0; g < m; g++) for (let h = g + 1; h < m; h++) s += Math.abs(means[g]! - means[h]!) / 2;
    const w = p.weight[i]!;
    total += w * (s / ((m * (m - 1)) / 2));
    used += w;
  }
  return { gdi: used === 0 ? NaN : total / used, used };
}

/** N! / (n_1! ... n_m!), or Infinity once it exceeds `cap`. */
function assignmentCount(sizes: number[], cap: number): number {
  let count = 1;
  let placed = 0;
  for (const s of sizes) {
    for (let i = 1; i <= s; i++) {
      placed++;
      count = (count * placed) / i;
      if (count > cap) return Infinity;
    }
  }
  return Math.round(count);
}

export function groupInconsistency(
  members: GroupMember[],
  nPairs: number,
  options: GroupNullOptions = {},
): GroupInconsistency {
  const exactLimit = options.exactLimit ?? 10_000;
  const samples = options.samples ?? 1000;
  const labels = [...new Set(members.map((m) => m.group))].sort();
  if (labels.length < 2)
    throw new MetricsInputError(`group inconsistency needs at least two groups, got ${labels.length}`);
  for (const m of members) {
    if (m.votes.length !== nPairs || m.present.length !== nPairs)
      throw new MetricsInputError(`annotator "${m.name}": expected ${nPairs} votes`);
  }
  const A = members.length;
  const groups: Record<string, string[]> = {};
  for (const g of labels) groups[g] = members.filter((m) => m.group === g).map((m) => m.name);
  const observed = Int32Array.from(members.map((m) => labels.indexOf(m.group)));
  const sizes = labels.map((g) => groups[g]!.length);
  const patterns = collectPatterns(members, nPairs);
  const obs = gdiOf(patterns, A, observed, labels.length);

  const nullValues: number[] = [];
  const total = assignmentCount(sizes, exactLimit);
  let kind: 'exact' | 'sampled';
  if (total <= exactLimit) {
    kind = 'exact';
    const groupOf = new Int32Array(A);
    const left = sizes.slice();
    const place = (a: number) => {
      if (a === A) {
        nullValues.push(gdiOf(patterns, A, groupOf, labels.length).gdi);
        return;
      }
      for (let g = 0; g < left.length; g++) {
        if (left[g] === 0) continue;
        left[g]!--;
        groupOf[a] = g;
        place(a + 1);
        left[g]!++;
      }
    };
    place(0);
  } else {
    kind = 'sampled';
    const rng = new Rng(options.seed ?? 0, 'group-inconsistency');
    const perm = Int32Array.from(observed);
    for (let s = 0; s < samples; s++) {
      for (let i = A - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        const t = perm[i]!;
        perm[i] = perm[j]!;
        perm[j] = t;
      }
      nullValues.push(gdiOf(patterns, A, perm, labels.length).gdi);
    }
  }
  const defined = nullValues.filter((v) => !Number.isNaN(v));
  const mean = defined.length === 0 ? NaN : defined.reduce((s, v) => s + v, 0) / defined.length;
  const atLeast = defined.filter((v) => v >= obs.gdi - TOL).length;
  return {
    groups,
    nPairs: obs.used,
    gdi: obs.gdi,
    null: { kind, n: nullValues.length, mean },
    excess: obs.gdi - mean,
    pValue: defined.length === 0 ? NaN : atLeast / defined.length,
  };
}
