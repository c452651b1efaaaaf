// analyzeDiscretion: the one entry point of the discretion metrics (spec sections 3-8), JSON-ready output.
//
// Input (all preferences are Int8Array: +1 = y1, -1 = y0, 0 = none or missing):
//
//   {
//     principles: [{ id, short }, ...],             // the principle list, in order (m = its length)
//     nPairs,
//     annotators: [{
//       name, kind,                                 // unique names; kind is free text (human, reward-model, ...)
//       overall: Int8Array(nPairs),                 // the annotator's overall preference a(k)
//       principles?: Int8Array(nPairs * m),         // its own principle labels c_i(k), row-major (source 'self',
//                                                   //   'majority', and principle agreement)
//       principlesLabelled?: Uint8Array(nPairs),    // which pairs it labelled principles on (agreement only;
//                                                   //   default: all pairs; unlabelled pairs count as missing)
//     }, ...],
//     principleSource:                              // where c_i(k) comes from:
//         { kind: 'oracle', name, matrix: Int8Array(nPairs * m) }   // one shared matrix (e.g. GPT-4o labels)
//       | { kind: 'self' }                          // each annotator's own `principles`
//       | { kind: 'majority', annotators: [names] },// majorityPrinciples() of those annotators' `principles`
//     reference: 'human',                           // annotator name DD is measured against (must exist)
//     bootstrap?: 100,                              // DD paired-bootstrap resamples (0 = off)
//     daBootstrap?: 1000,                           // DA bootstrap resamples (0 = off)
//     agreementBootstrap?: 1000,                    // agreement bootstrap resamples (0 = off)
//     seed?: 0,                                     // all bootstraps are deterministic for a given seed
//     tieTolerance?: 1e-9,                          // w* values closer than this rank as ties
//     clock?: () => number,                         // optional ms clock (e.g. performance.now) for timings_ms
//     groups?: [{ name, members: [names] }, ...],   // annotator groups: pooled DA and w* per group, DD between groups
//   }
//
// Output: see DiscretionResult below. No NaN or Infinity ever appears: undefined values are null (with a
// reason string where it matters) and infinite priorities are the strings "+inf" / "-inf".
//
// Bad input throws MetricsInputError with a readable message.

import { AgreementAccumulator, agreementStatistics, type AgreementStat, type AgreementSummary } from './agreement';
import {
  categorizePairs,
  majorityPrinciples,
  summarizeCategories,
  type CategorySummary,
  type PairCategories,
} from './categories';
import { accumulateWins, buildConflictIndex, supremacyFromWins, type ConflictIndex } from './conflicts';
import { bootstrapDa, daCounts, daFromCounts } from './da';
import { bootstrapDd } from './dd';
import { principlePriority, type PriorityResult } from './priority';
import { Rng } from './prng';
import { averageRanksDescending, kendallTauB, truncateRanks } from './ranks';
import { MetricsInputError, assertCount, assertPreferences, assertShape, type BootstrapSummary } from './stats';

export interface AnnotatorInput {
  name: string;
  kind: string;
  overall: Int8Array;
  principles?: Int8Array;
  principlesLabelled?: Uint8Array;
}

export type PrincipleSource =
  { kind: 'oracle'; name: string; matrix: Int8Array } | { kind: 'self' } | { kind: 'majority'; annotators: string[] };

export interface DiscretionInput {
  principles: ReadonlyArray<{ id: string; short: string }>;
  nPairs: number;
  annotators: ReadonlyArray<AnnotatorInput>;
  principleSource: PrincipleSource;
  reference: string;
  bootstrap?: number;
  daBootstrap?: number;
  agreementBootstrap?: number;
  seed?: number;
  tieTolerance?: number;
  clock?: () => number;
  /** Annotator groups (spec consistency section 7's groups): each gets the discretion metrics of its members' pooled labels. */
  groups?: ReadonlyArray<{ name: string; members: readonly string[] }>;
}

export type WStarValue = number | '+inf' | '-inf' | null;

export interface BootJson {
  mean: number | null;
  sd: number | null;
  lo: number | null;
  hi: number | null;
  /** Resamples drawn. */
  n: number;
  /** Resamples where the statistic was undefined (left out of mean/sd/lo/hi). */
  n_undefined: number;
}

export interface AnnotatorResult {
  name: string;
  kind: string;
  /** Pairs with a usable preference (a != 0). */
  n_decisive: number;
  /** Categories of this annotator's principle source (differs per annotator only with source 'self'). */
  categories: CategorySummary | null;
  /** Discretion arbitrariness in [0, 1]; null when undefined (see da_reason). */
  da: number | null;
  /** Decisive consensus pairs (the denominator of DA). */
  da_n: number;
  /** Decisive consensus pairs where the annotator overrode the consensus (the numerator). */
  da_disagree: number;
  da_reason: string | null;
  da_boot: BootJson | null;
  /** PS(i > j) at [i][j]; null where n_ij = 0 and on the diagonal. */
  ps: (number | null)[][] | null;
  /** n_ij at [i][j] (symmetric); null on the diagonal. */
  n_conflicts: (number | null)[][] | null;
  /** w* in principle-list order, centred over the finite principles. */
  w_star: WStarValue[] | null;
  /** 'ok' | 'disconnected' | 'not-converged' | 'unavailable' (no principle source for this annotator). */
  w_status: PriorityResult['status'] | 'unavailable';
  /** Average rank by w* (1 = highest priority, ties averaged); null when w* is undefined. */
  rank: (number | null)[] | null;
  /** The published point-estimate convention: `rank` truncated to integers. */
  rank_truncated: (number | null)[] | null;
  /** tau_b between truncated ranks of this annotator and of the reference. */
  tau_b_point: number | null;
  /** DD(a, reference) = (1 - tau_b_point) / 2; null when undefined (see dd_reason). */
  dd_point: number | null;
  dd_reason: string | null;
  /** Paired bootstrap of DD with average ranks. */
  dd_boot: BootJson | null;
  diagnostics: string[];
}

/**
 * The discretion metrics of a group's pooled labels [ours]: every member's decisive consensus pairs counted
 * together for DA (sum of the members' disagreements over the sum of their decisive consensus pairs), and
 * every member's conflict wins summed into one W for w* (spec section 6 on the summed W). A pair two members
 * labelled counts twice: pooling weighs each label, not each pair.
 */
export interface GroupView {
  group: string;
  /** The members whose labels were pooled (those with a principle source). */
  members: string[];
  da: number | null;
  da_n: number;
  da_disagree: number;
  da_reason: string | null;
  w_star: WStarValue[] | null;
  w_status: PriorityResult['status'] | 'unavailable';
  rank: (number | null)[] | null;
  rank_truncated: (number | null)[] | null;
  diagnostics: string[];
}

export interface GroupViews {
  views: GroupView[];
  /** DD between each two groups' pooled w* (spec section 7, the point-estimate convention): [g][h], null where undefined. */
  dd: { groups: string[]; matrix: (number | null)[][] };
}

export interface AgreementStatJson {
  value: number | null;
  n_items: number;
  boot: BootJson | null;
}

export interface AgreementJson {
  raters: string[];
  /** The categories, in code order (overall: y0, y1 with 0 = missing; principles: -1, 0, +1). */
  categories: number[];
  n_items: number;
  percent_agreement: AgreementStatJson;
  fleiss_kappa: AgreementStatJson;
  krippendorff_alpha: AgreementStatJson;
  cohen_kappa: (AgreementStatJson & { a: string; b: string })[];
}

export interface DiscretionResult {
  schema: 'discretion-metrics/1';
  n_pairs: number;
  n_principles: number;
  principles: { id: string; short: string }[];
  principle_source: { kind: PrincipleSource['kind']; name?: string; annotators?: string[] };
  reference: string;
  options: {
    bootstrap: number;
    da_bootstrap: number;
    agreement_bootstrap: number;
    seed: number;
    tie_tolerance: number;
  };
  /** Pair categories of the principle source. With source 'self' they differ per annotator: these are the
   *  counts pooled over the annotators that have principle labels (see pooled_over) and each annotator entry
   *  carries its own. */
  categories: CategorySummary & { pooled_over?: string[] };
  annotators: AnnotatorResult[];
  agreement: {
    /** Agreement of the annotators' overall preferences (0 = missing), null with fewer than 2 annotators. */
    overall: AgreementJson | null;
    /** Agreement of principle labels among annotators that have them (null with fewer than 2). */
    principles: (AgreementJson & { per_principle: (AgreementJson & { id: string; short: string })[] }) | null;
  };
  /** Per-group views; absent when no groups were given. */
  groups?: GroupViews;
  diagnostics: string[];
  /** Wall time of each stage in ms, when a clock was given. */
  timings_ms?: Record<string, number>;
}

const num = (x: number): number | null => (Number.isFinite(x) ? x : null);

function bootJson(b: BootstrapSummary | null): BootJson | null {
  if (!b) return null;
  return { mean: num(b.mean), sd: num(b.sd), lo: num(b.lo), hi: num(b.hi), n: b.n, n_undefined: b.nUndefined };
}

function matrixJson(a: Float64Array, m: number): (number | null)[][] {
  const out: (number | null)[][] = [];
  for (let i = 0; i < m; i++) {
    const row: (number | null)[] = [];
    for (let j = 0; j < m; j++) row.push(num(a[i * m + j]!));
    out.push(row);
  }
  return out;
}

function wJson(w: Float64Array): WStarValue[] {
  return Array.from(w, (x) => (x === Infinity ? '+inf' : x === -Infinity ? '-inf' : Number.isNaN(x) ? null : x));
}

function arrJson(a: Float64Array): (number | null)[] {
  return Array.from(a, num);
}

function statJson(s: AgreementStat): AgreementStatJson {
  return { value: num(s.value), n_items: s.nItems, boot: bootJson(s.boot) };
}

function agreementJson(s: AgreementSummary, raters: string[], categories: number[]): AgreementJson {
  return {
    raters,
    categories,
    n_items: s.nItems,
    percent_agreement: statJson(s.percentAgreement),
    fleiss_kappa: statJson(s.fleissKappa),
    krippendorff_alpha: statJson(s.krippendorffAlpha),
    cohen_kappa: s.cohenKappa.map((c) => ({ a: raters[c.raters[0]]!, b: raters[c.raters[1]]!, ...statJson(c) })),
  };
}

interface SourceData {
  matrix: Int8Array;
  cats: PairCategories;
  index: ConflictIndex;
}

function optCount(v: number | undefined, dflt: number, what: string): number {
  const x = v ?? dflt;
  assertCount(x, what);
  return x;
}

/** The input after validation, with every default applied. */
interface CheckedInput {
  nPairs: number;
  annotators: ReadonlyArray<AnnotatorInput>;
  source: PrincipleSource;
  reference: string;
  principles: { id: string; short: string }[];
  /** Principle count. */
  m: number;
  /** Principle labels for diagnostics (short name, else id). */
  labels: string[];
  /** DD, DA and agreement bootstrap resamples. */
  B: number;
  Bda: number;
  Bag: number;
  seed: number;
  tieTol: number;
  /** Annotator name -> position. */
  names: Map<string, number>;
  refIdx: number;
}

/** Wall time per stage (timings_ms) when a clock is given; otherwise does nothing. */
function stopwatch(clock: (() => number) | undefined) {
  const timings: Record<string, number> = {};
  let tStage = clock ? clock() : 0;
  const tStart = tStage;
  return {
    lap(stage: string): void {
      if (!clock) return;
      const now = clock();
      timings[stage] = (timings[stage] ?? 0) + (now - tStage);
      tStage = now;
    },
    result(): Record<string, number> | undefined {
      if (!clock) return undefined;
      timings.total = clock() - tStart;
      return timings;
    },
  };
}
type Lap = (stage: string) => void;

/** Stage 1: shapes, names, options; throws MetricsInputError on bad input. */
function checkInput(input: DiscretionInput): CheckedInput {
  if (!input || typeof input !== 'object') throw new MetricsInputError('analyzeDiscretion: input object required');
  const { nPairs, annotators, principleSource: source, reference } = input;
  assertCount(nPairs, 'nPairs');
  if (!Array.isArray(input.principles) || input.principles.length === 0)
    throw new MetricsInputError('the principle list is empty');
  const principles = input.principles.map((p) => ({ id: String(p.id), short: String(p.short) }));
  const m = principles.length;
  const ids = new Set<string>();
  for (const p of principles) {
    if (ids.has(p.id)) throw new MetricsInputError(`duplicate principle id '${p.id}'`);
    ids.add(p.id);
  }
  const labels = principles.map((p) => p.short || p.id);
  const B = optCount(input.bootstrap, 100, 'bootstrap');
  const Bda = optCount(input.daBootstrap, 1000, 'daBootstrap');
  const Bag = optCount(input.agreementBootstrap, 1000, 'agreementBootstrap');
  const seed = input.seed ?? 0;
  assertCount(seed, 'seed');
  if (seed > Number.MAX_SAFE_INTEGER) throw new MetricsInputError('seed must be a safe integer');
  const tieTol = input.tieTolerance ?? 1e-9;
  if (!(tieTol >= 0)) throw new MetricsInputError('tieTolerance must be >= 0');
  if (!Array.isArray(annotators) || annotators.length === 0) throw new MetricsInputError('no annotators given');
  const names = new Map<string, number>();
  annotators.forEach((a, i) => {
    if (!a || typeof a.name !== 'string' || a.name === '') throw new MetricsInputError(`annotator ${i} has no name`);
    if (names.has(a.name)) throw new MetricsInputError(`duplicate annotator name '${a.name}'`);
    names.set(a.name, i);
    assertPreferences(a.overall, nPairs, `preferences of annotator '${a.name}'`);
    if (a.principles !== undefined)
      assertPreferences(a.principles, nPairs * m, `principle labels of annotator '${a.name}'`);
    if (
      a.principlesLabelled !== undefined &&
      (!(a.principlesLabelled instanceof Uint8Array) || a.principlesLabelled.length !== nPairs)
    ) {
      throw new MetricsInputError(`principlesLabelled of annotator '${a.name}' must be a Uint8Array of ${nPairs}`);
    }
  });
  const refIdx = names.get(reference);
  if (refIdx === undefined) {
    throw new MetricsInputError(
      `reference annotator '${reference}' is not in the data (annotators: ${[...names.keys()].join(', ')})`,
    );
  }
  return { nPairs, annotators, source, reference, principles, m, labels, B, Bda, Bag, seed, tieTol, names, refIdx };
}

/** Stage 2: each annotator's principle source (categorised, conflict-indexed once per matrix); null = none ('self' without labels). */
function resolveSources(
  c: CheckedInput,
  diagnostics: string[],
): { perAnnotator: (SourceData | null)[]; sourceJson: DiscretionResult['principle_source'] } {
  const { nPairs, m, annotators, source, names, refIdx, reference } = c;
  const cache = new Map<Int8Array, SourceData>();
  const sourceFor = (matrix: Int8Array, what: string): SourceData => {
    let s = cache.get(matrix);
    if (!s) {
      const cats = categorizePairs(matrix, nPairs, m, what);
      s = { matrix, cats, index: buildConflictIndex(matrix, nPairs, m, cats) };
      cache.set(matrix, s);
    }
    return s;
  };
  if (!source || typeof source !== 'object') throw new MetricsInputError('principleSource is required');
  const sourceJson: DiscretionResult['principle_source'] = { kind: source.kind };
  if (source.kind === 'oracle') {
    assertShape(source.matrix, nPairs * m, `principle source '${source.name}'`); // values: checked by categorizePairs
    sourceJson.name = source.name;
    const s = sourceFor(source.matrix, `principle source '${source.name}'`);
    return { perAnnotator: annotators.map(() => s), sourceJson };
  }
  if (source.kind === 'majority') {
    if (!Array.isArray(source.annotators) || source.annotators.length === 0) {
      throw new MetricsInputError('majority principle source needs at least one annotator name');
    }
    const mats = source.annotators.map((n) => {
      const i = names.get(n);
      if (i === undefined) throw new MetricsInputError(`majority principle source: unknown annotator '${n}'`);
      const p = annotators[i]!.principles;
      if (!p) throw new MetricsInputError(`majority principle source: annotator '${n}' has no principle labels`);
      return p;
    });
    sourceJson.annotators = [...source.annotators];
    const s = sourceFor(majorityPrinciples(mats, nPairs, m), 'majority principles');
    return { perAnnotator: annotators.map(() => s), sourceJson };
  }
  if (source.kind === 'self') {
    if (!annotators[refIdx]!.principles) {
      throw new MetricsInputError(
        `principle source 'self': the reference annotator '${reference}' has no principle labels`,
      );
    }
    const perAnnotator = annotators.map((a) => {
      if (!a.principles) {
        diagnostics.push(
          `annotator '${a.name}' has no principle labels of its own: its metrics are undefined under source 'self'`,
        );
        return null;
      }
      return sourceFor(a.principles, `principle labels of annotator '${a.name}'`);
    });
    return { perAnnotator, sourceJson };
  }
  throw new MetricsInputError(`unknown principle source kind '${(source as { kind: unknown }).kind}'`);
}

/** Stage 3: the top-level categories (pooled over the annotators with labels under source 'self'). */
function topCategories(c: CheckedInput, perAnnotator: (SourceData | null)[]): DiscretionResult['categories'] {
  if (c.source.kind !== 'self') return summarizeCategories(perAnnotator[0]!.cats);
  const pooled = { nPairs: 0, nConsensus: 0, nConflict: 0, nIndifference: 0 };
  const pooledOver: string[] = [];
  c.annotators.forEach((a, i) => {
    const s = perAnnotator[i];
    if (!s) return;
    pooledOver.push(a.name);
    pooled.nPairs += s.cats.nPairs;
    pooled.nConsensus += s.cats.nConsensus;
    pooled.nConflict += s.cats.nConflict;
    pooled.nIndifference += s.cats.nIndifference;
  });
  return { ...summarizeCategories(pooled), pooled_over: pooledOver };
}

/** Stage 4: per annotator point estimates: DA (and its bootstrap), PS, w*, ranks. */
function annotatorEstimates(c: CheckedInput, perAnnotator: (SourceData | null)[], lap: Lap) {
  const { nPairs, m, labels, Bda, seed, tieTol } = c;
  const results: AnnotatorResult[] = [];
  const truncated: (Float64Array | null)[] = [];
  const priorities: (PriorityResult | null)[] = [];
  c.annotators.forEach((a, i) => {
    const s = perAnnotator[i];
    let nDecisive = 0;
    for (let k = 0; k < nPairs; k++) if (a.overall[k] !== 0) nDecisive++;
    const r: AnnotatorResult = {
      name: a.name,
      kind: a.kind,
      n_decisive: nDecisive,
      categories: s ? summarizeCategories(s.cats) : null,
      da: null,
      da_n: 0,
      da_disagree: 0,
      da_reason: null,
      da_boot: null,
      ps: null,
      n_conflicts: null,
      w_star: null,
      w_status: 'unavailable',
      rank: null,
      rank_truncated: null,
      tau_b_point: null,
      dd_point: null,
      dd_reason: null,
      dd_boot: null,
      diagnostics: [],
    };
    results.push(r);
    if (!s) {
      r.da_reason = r.dd_reason = 'no principle labels for this annotator (principle source "self")';
      truncated.push(null);
      priorities.push(null);
      return;
    }
    const counts = daCounts(a.overall, s.cats, false); // validated above
    const da = daFromCounts(counts);
    r.da_n = counts.agree + counts.disagree;
    r.da_disagree = counts.disagree;
    if (Number.isNaN(da)) {
      r.da_reason =
        counts.nConsensus === 0
          ? 'no consensus pairs'
          : `no decisive preference on any of the ${counts.nConsensus} consensus pairs`;
    } else r.da = da;
    lap('da');
    if (Bda > 0) {
      r.da_boot = bootJson(bootstrapDa(counts, Bda, new Rng(seed, `da:${a.name}`)));
      lap('da_bootstrap');
    }
    const W = accumulateWins(s.index, a.overall);
    const sup = supremacyFromWins(W, m);
    r.ps = matrixJson(sup.ps, m);
    r.n_conflicts = matrixJson(sup.nConflicts, m);
    const { pr, tr } = fillPriority(r, W, m, labels, tieTol);
    priorities.push(pr);
    truncated.push(tr);
    lap('ps_wstar');
  });
  return { results, truncated, priorities };
}

/** w* fitted on the wins W, with its ranks, into an annotator's or a group's result; `tr`: the truncated ranks (null when w* is undefined). */
function fillPriority(
  into: Pick<AnnotatorResult, 'w_star' | 'w_status' | 'rank' | 'rank_truncated' | 'diagnostics'>,
  W: Float64Array,
  m: number,
  labels: string[],
  tieTol: number,
): { pr: PriorityResult; tr: Float64Array | null } {
  const pr = principlePriority(W, m, { labels });
  into.w_star = wJson(pr.w);
  into.w_status = pr.status;
  if (pr.diagnostic) into.diagnostics.push(`w*: ${pr.diagnostic}`);
  const avg = averageRanksDescending(pr.w, tieTol);
  const tr = truncateRanks(avg);
  into.rank = arrJson(avg);
  into.rank_truncated = arrJson(tr);
  return { pr, tr: Number.isNaN(avg[0]!) ? null : tr };
}

/** Stage 5: DD point estimates against the reference (truncated ranks, the published convention). */
function ddPoints(
  c: CheckedInput,
  results: AnnotatorResult[],
  truncated: (Float64Array | null)[],
  priorities: (PriorityResult | null)[],
): void {
  const { refIdx, reference } = c;
  const refTr = truncated[refIdx];
  results.forEach((r, i) => {
    if (r.dd_reason) return;
    const tr = truncated[i];
    if (!tr) {
      r.dd_reason = `w* of '${r.name}' is undefined (${priorities[i]?.status ?? 'unavailable'})`;
      return;
    }
    if (!refTr) {
      r.dd_reason = `w* of the reference '${reference}' is undefined (${priorities[refIdx]?.status ?? 'unavailable'})`;
      return;
    }
    const tau = kendallTauB(tr, refTr);
    if (Number.isNaN(tau)) {
      r.dd_reason = 'tau_b is undefined: all principles share one rank for this annotator or for the reference';
      return;
    }
    r.tau_b_point = tau;
    r.dd_point = (1 - tau) / 2;
  });
}

/** Stage 6: the DD paired bootstrap (average ranks), when resamples were asked for. */
function ddBootstrap(c: CheckedInput, perAnnotator: (SourceData | null)[], results: AnnotatorResult[]): void {
  const dd = bootstrapDd(
    c.annotators.map((a, i) => ({ index: perAnnotator[i]?.index ?? null, overall: a.overall })),
    c.refIdx,
    c.m,
    c.nPairs,
    c.B,
    new Rng(c.seed, 'dd'),
    c.tieTol,
  );
  results.forEach((r, i) => {
    if (perAnnotator[i]) r.dd_boot = bootJson(dd.summaries[i]!);
  });
}

/** Stage 7: agreement of the overall preferences and of the principle labels (per principle and pooled). */
function agreementOf(c: CheckedInput): DiscretionResult['agreement'] {
  const { nPairs, m, annotators, principles, Bag, seed } = c;
  const agreement: DiscretionResult['agreement'] = { overall: null, principles: null };
  const R = annotators.length;
  if (R >= 2) {
    const codes = new Int8Array(nPairs * R);
    for (let k = 0; k < nPairs; k++) {
      for (let q = 0; q < R; q++) {
        const v = annotators[q]!.overall[k]!;
        codes[k * R + q] = v === 0 ? -1 : v > 0 ? 1 : 0;
      }
    }
    const s = agreementStatistics(codes, nPairs, R, 2, { bootstrap: Bag, seed, stream: 'agreement:overall' });
    agreement.overall = agreementJson(
      s,
      annotators.map((a) => a.name),
      [-1, 1],
    );
  }
  const labellers = annotators.filter((a) => a.principles);
  const L = labellers.length;
  if (L >= 2) {
    const raters = labellers.map((a) => a.name);
    const code = (q: number, k: number, i: number): number => {
      const a = labellers[q]!;
      if (a.principlesLabelled && !a.principlesLabelled[k]) return -1;
      return a.principles![k * m + i]! + 1; // -1, 0, +1 -> 0, 1, 2
    };
    // Per principle: items = pairs; pooled: items = (pair, principle) cells, accumulated without a copy.
    const pooledAcc = new AgreementAccumulator(L, 3);
    const codes = new Int8Array(nPairs * L);
    const per = principles.map((p, i) => {
      for (let k = 0; k < nPairs; k++) for (let q = 0; q < L; q++) codes[k * L + q] = code(q, k, i);
      const acc = new AgreementAccumulator(L, 3);
      acc.add(codes, nPairs);
      pooledAcc.add(codes, nPairs);
      const s = acc.summary({ bootstrap: Bag, seed, stream: `agreement:principle:${p.id}` });
      return { id: p.id, short: p.short, ...agreementJson(s, raters, [-1, 0, 1]) };
    });
    const pooled = pooledAcc.summary({ bootstrap: Bag, seed, stream: 'agreement:principles' });
    agreement.principles = { ...agreementJson(pooled, raters, [-1, 0, 1]), per_principle: per };
  }
  return agreement;
}

/** Runs every metric for every annotator. Pure and synchronous; see the module comment for the input. */
export function analyzeDiscretion(input: DiscretionInput): DiscretionResult {
  const watch = stopwatch(input?.clock);
  const c = checkInput(input);
  const diagnostics: string[] = [];
  const { perAnnotator, sourceJson } = resolveSources(c, diagnostics);
  watch.lap('categories');
  const categories = topCategories(c, perAnnotator);
  const { results, truncated, priorities } = annotatorEstimates(c, perAnnotator, watch.lap);
  ddPoints(c, results, truncated, priorities);
  watch.lap('dd_point');
  if (c.B > 0) {
    ddBootstrap(c, perAnnotator, results);
    watch.lap('dd_bootstrap');
  }
  const agreement = agreementOf(c);
  watch.lap('agreement');
  const groups = input.groups && input.groups.length > 0 ? groupViews(c, input.groups, perAnnotator) : undefined;
  if (groups) watch.lap('groups');

  const result: DiscretionResult = {
    schema: 'discretion-metrics/1',
    n_pairs: c.nPairs,
    n_principles: c.m,
    principles: c.principles,
    principle_source: sourceJson,
    reference: c.reference,
    options: { bootstrap: c.B, da_bootstrap: c.Bda, agreement_bootstrap: c.Bag, seed: c.seed, tie_tolerance: c.tieTol },
    categories,
    annotators: results,
    agreement,
    ...(groups ? { groups } : {}),
    diagnostics,
  };
  const timings = watch.result();
  if (timings) result.timings_ms = timings;
  return result;
}

/** Stage 8: each group's pooled DA and w*, and DD between the groups (truncated ranks, as the point estimate). */
function groupViews(
  c: CheckedInput,
  groups: NonNullable<DiscretionInput['groups']>,
  perAnnotator: (SourceData | null)[],
): GroupViews {
  const { m, labels, tieTol } = c;
  const seen = new Set<string>();
  const truncated: (Float64Array | null)[] = [];
  const views = groups.map((g) => {
    if (!g || typeof g.name !== 'string' || g.name === '' || !Array.isArray(g.members))
      throw new MetricsInputError('each group needs a name and a list of members');
    if (seen.has(g.name)) throw new MetricsInputError(`duplicate group '${g.name}'`);
    seen.add(g.name);
    const view: GroupView = {
      group: g.name,
      members: [],
      da: null,
      da_n: 0,
      da_disagree: 0,
      da_reason: null,
      w_star: null,
      w_status: 'unavailable',
      rank: null,
      rank_truncated: null,
      diagnostics: [],
    };
    const W = new Float64Array(m * m);
    for (const name of g.members) {
      const i = c.names.get(name);
      if (i === undefined) throw new MetricsInputError(`group '${g.name}': unknown annotator '${name}'`);
      const s = perAnnotator[i];
      if (!s) {
        view.diagnostics.push(
          `'${name}' has no principle labels of its own (principle source "self"): left out of the pooled labels`,
        );
        continue;
      }
      view.members.push(name);
      const counts = daCounts(c.annotators[i]!.overall, s.cats, false);
      view.da_n += counts.agree + counts.disagree;
      view.da_disagree += counts.disagree;
      const Wi = accumulateWins(s.index, c.annotators[i]!.overall);
      for (let e = 0; e < W.length; e++) W[e]! += Wi[e]!;
    }
    if (view.members.length === 0) {
      view.da_reason = 'no member has a principle source';
      truncated.push(null);
      return view;
    }
    if (view.da_n === 0) view.da_reason = 'no decisive preference on any consensus pair';
    else view.da = view.da_disagree / view.da_n;
    truncated.push(fillPriority(view, W, m, labels, tieTol).tr);
    return view;
  });
  const matrix = views.map((_, g) =>
    views.map((__, h) => {
      const a = truncated[g];
      const b = truncated[h];
      if (!a || !b) return null;
      const tau = kendallTauB(a, b);
      return Number.isNaN(tau) ? null : (1 - tau) / 2;
    }),
  );
  return { views, dd: { groups: views.map((v) => v.group), matrix } };
}
