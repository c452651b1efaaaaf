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
//   }
//
// Output: see DiscretionResult below. No NaN or Infinity ever appears: undefined values are null (with a
// reason string where it matters) and infinite priorities are the strings "+inf" / "-inf".
//
// Bad input throws MetricsInputError with a readable message.

import { AgreementAccumulator, agreementStatistics, type AgreementStat, type AgreementSummary } from './agreement';
import { categorizePairs, majorityPrinciples, summarizeCategories, type CategorySummary, type PairCategories } from './categories';
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
  | { kind: 'oracle'; name: string; matrix: Int8Array }
  | { kind: 'self' }
  | { kind: 'majority'; annotators: string[] };

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
  options: { bootstrap: number; da_bootstrap: number; agreement_bootstrap: number; seed: number; tie_tolerance: number };
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

/** Runs every metric for every annotator. Pure and synchronous; see the module comment for the input. */
export function analyzeDiscretion(input: DiscretionInput): DiscretionResult {
  const clock = input.clock;
  const timings: Record<string, number> = {};
  let tStage = clock ? clock() : 0;
  const tStart = tStage;
  const lap = (stage: string) => {
    if (!clock) return;
    const now = clock();
    timings[stage] = (timings[stage] ?? 0) + (now - tStage);
    tStage = now;
  };

  // ---- validation
  if (!input || typeof input !== 'object') throw new MetricsInputError('analyzeDiscretion: input object required');
  const { nPairs, annotators, principleSource: source, reference } = input;
  assertCount(nPairs, 'nPairs');
  if (!Array.isArray(input.principles) || input.principles.length === 0) throw new MetricsInputError('the principle list is empty');
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
    if (a.principles !== undefined) assertPreferences(a.principles, nPairs * m, `principle labels of annotator '${a.name}'`);
    if (a.principlesLabelled !== undefined && (!(a.principlesLabelled instanceof Uint8Array) || a.principlesLabelled.length !== nPairs)) {
      throw new MetricsInputError(`principlesLabelled of annotator '${a.name}' must be a Uint8Array of ${nPairs}`);
    }
  });
  const refIdx = names.get(reference);
  if (refIdx === undefined) {
    throw new MetricsInputError(`reference annotator '${reference}' is not in the data (annotators: ${[...names.keys()].join(', ')})`);
  }
  const diagnostics: string[] = [];

  // ---- principle sources
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
  let perAnnotator: (SourceData | null)[];
  if (!source || typeof source !== 'object') throw new MetricsInputError('principleSource is required');
  const sourceJson: DiscretionResult['principle_source'] = { kind: source.kind };
  if (source.kind === 'oracle') {
    assertShape(source.matrix, nPairs * m, `principle source '${source.name}'`); // values: checked by categorizePairs
    sourceJson.name = source.name;
    const s = sourceFor(source.matrix, `principle source '${source.name}'`);
    perAnnotator = annotators.map(() => s);
  } else if (source.kind === 'majority') {
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
    perAnnotator = annotators.map(() => s);
  } else if (source.kind === 'self') {
    if (!annotators[refIdx]!.principles) {
      throw new MetricsInputError(`principle source 'self': the reference annotator '${reference}' has no principle labels`);
    }
    perAnnotator = annotators.map((a) => {
      if (!a.principles) {
        diagnostics.push(`annotator '${a.name}' has no principle labels of its own: its metrics are undefined under source 'self'`);
        return null;
      }
      return sourceFor(a.principles, `principle labels of annotator '${a.name}'`);
    });
  } else {
    throw new MetricsInputError(`unknown principle source kind '${(source as { kind: unknown }).kind}'`);
  }
  lap('categories');

  // ---- top-level categories
  let categories: DiscretionResult['categories'];
  if (source.kind === 'self') {
    const pooled = { nPairs: 0, nConsensus: 0, nConflict: 0, nIndifference: 0 };
    const pooledOver: string[] = [];
    annotators.forEach((a, i) => {
      const s = perAnnotator[i];
      if (!s) return;
      pooledOver.push(a.name);
      pooled.nPairs += s.cats.nPairs;
      pooled.nConsensus += s.cats.nConsensus;
      pooled.nConflict += s.cats.nConflict;
      pooled.nIndifference += s.cats.nIndifference;
    });
    categories = { ...summarizeCategories(pooled), pooled_over: pooledOver };
  } else {
    categories = summarizeCategories(perAnnotator[0]!.cats);
  }

  // ---- per annotator point estimates
  const results: AnnotatorResult[] = [];
  const truncated: (Float64Array | null)[] = [];
  const priorities: (PriorityResult | null)[] = [];
  annotators.forEach((a, i) => {
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
    const c = daCounts(a.overall, s.cats, false); // validated above
    const da = daFromCounts(c);
    r.da_n = c.agree + c.disagree;
    r.da_disagree = c.disagree;
    if (Number.isNaN(da)) {
      r.da_reason = c.nConsensus === 0 ? 'no consensus pairs' : `no decisive preference on any of the ${c.nConsensus} consensus pairs`;
    } else r.da = da;
    lap('da');
    if (Bda > 0) {
      r.da_boot = bootJson(bootstrapDa(c, Bda, new Rng(seed, `da:${a.name}`)));
      lap('da_bootstrap');
    }
    const W = accumulateWins(s.index, a.overall);
    const sup = supremacyFromWins(W, m);
    r.ps = matrixJson(sup.ps, m);
    r.n_conflicts = matrixJson(sup.nConflicts, m);
    const pr = principlePriority(W, m, { labels });
    priorities.push(pr);
    r.w_star = wJson(pr.w);
    r.w_status = pr.status;
    if (pr.diagnostic) r.diagnostics.push(`w*: ${pr.diagnostic}`);
    const avg = averageRanksDescending(pr.w, tieTol);
    const tr = truncateRanks(avg);
    r.rank = arrJson(avg);
    r.rank_truncated = arrJson(tr);
    truncated.push(Number.isNaN(avg[0]!) ? null : tr);
    lap('ps_wstar');
  });

  // ---- DD point estimates (truncated ranks)
  const refName = reference;
  const refTr = truncated[refIdx];
  results.forEach((r, i) => {
    if (r.dd_reason) return;
    const tr = truncated[i];
    if (!tr) {
      r.dd_reason = `w* of '${r.name}' is undefined (${priorities[i]?.status ?? 'unavailable'})`;
      return;
    }
    if (!refTr) {
      r.dd_reason = `w* of the reference '${refName}' is undefined (${priorities[refIdx]?.status ?? 'unavailable'})`;
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
  lap('dd_point');

  // ---- DD paired bootstrap (average ranks)
  if (B > 0) {
    const dd = bootstrapDd(
      annotators.map((a, i) => ({ index: perAnnotator[i]?.index ?? null, overall: a.overall })),
      refIdx,
      m,
      nPairs,
      B,
      new Rng(seed, 'dd'),
      tieTol,
    );
    results.forEach((r, i) => {
      if (perAnnotator[i]) r.dd_boot = bootJson(dd.summaries[i]!);
    });
    lap('dd_bootstrap');
  }

  // ---- agreement
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
    agreement.overall = agreementJson(s, annotators.map((a) => a.name), [-1, 1]);
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
  lap('agreement');

  const result: DiscretionResult = {
    schema: 'discretion-metrics/1',
    n_pairs: nPairs,
    n_principles: m,
    principles,
    principle_source: sourceJson,
    reference,
    options: { bootstrap: B, da_bootstrap: Bda, agreement_bootstrap: Bag, seed, tie_tolerance: tieTol },
    categories,
    annotators: results,
    agreement,
    diagnostics,
  };
  if (clock) {
    timings.total = clock() - tStart;
    result.timings_ms = timings;
  }
  return result;
}
