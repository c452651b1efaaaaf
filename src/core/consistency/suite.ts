// The whole consistency suite over one dataset's loaded annotators: which annotator enters which
// section, and the `discretion-consistency/1` document's sections (less its run id and provenance).
// Sections that do not apply are empty lists or null, with the reason in `reasons`.
import type { AnnotatorKind } from '../types';
import { groupInconsistency, type GroupMember } from './groups';
import { internalConsistency } from './internal';
import { multiplicity } from './multiplicity';
import { orderConsistency, type OrderPattern, type TwoOrderColumns } from './order';
import { policyProbability, rewardProbability } from './probability';
import { rankingAccuracy } from './ranking';
import { MetricsInputError } from '../metrics/stats';

export const CONSISTENCY_SCHEMA = 'discretion-consistency/1';

export interface ConsistencyAnnotator {
  name: string;
  kind: AnnotatorKind;
  group: string | null;
  /** The stored preference per pair, 0 for no preference and for missing. */
  preference: Int8Array;
  /** 1 where the annotator has a stored preference row for the pair. */
  present: Uint8Array;
  /** Scores of y0 / y1 (rewards, log-likelihoods, ensemble scores); NaN where missing. */
  scoreY0?: Float64Array;
  scoreY1?: Float64Array;
  /** Judge probabilities in both orders (LLM judges, and policy models that were also asked as judges). */
  twoOrder?: TwoOrderColumns;
}

export interface ConsistencyOptions {
  reference: string;
  /** Members of the multiplicity analysis; default: every reward model and LLM judge with P(y1 > y0). */
  models?: string[];
  epsilons: number[];
  deltas: number[];
  beta: number;
  seed: number;
}

export interface ConsistencySections {
  schema: typeof CONSISTENCY_SCHEMA;
  reference: string;
  order_consistency: {
    annotator: string;
    n: number;
    missing: number;
    pc: number;
    conflict_rate: number;
    primacy_rate: number;
    recency_rate: number;
    pf: number;
    patterns: Record<OrderPattern, number>;
    no_preference: { position_bias: number; no_choice: number; mixed: number };
  }[];
  multiplicity: {
    members: string[];
    n_pairs: number;
    losses: Record<string, number>;
    baseline: string | null;
    by_epsilon: {
      epsilon: number;
      set: string[];
      mean_width: number;
      flip_ambiguity: number;
      by_delta: { delta: number; ambiguity: number; discrepancy: number }[];
    }[];
  } | null;
  ranking_accuracy: { annotator: string; n: number; r: number; ties: number }[];
  internal_consistency: {
    annotator: string;
    beta: number;
    n: number;
    n_decisive: number;
    agreement: number;
    mean_symmetric_kl: number;
    note: string;
  }[];
  group_inconsistency: {
    groups: Record<string, string[]>;
    n_pairs: number;
    gdi: number;
    null: { kind: 'exact' | 'sampled'; n: number; mean: number };
    excess: number;
    p_value: number;
  } | null;
  /** Why a section is empty or null. */
  reasons: Record<string, string>;
}

/** The default multiplicity members: policy models need --models (their P depends on the chosen beta). */
const DEFAULT_MODEL_KINDS: ReadonlySet<AnnotatorKind> = new Set(['reward-model', 'llm-judge']);

export const INTERNAL_NOTE =
  'P_D = sigmoid(beta * (l(y1) - l(y0))) is a likelihood margin, not a DPO reward with a reference model';

/** P(y1 > y0) per pair (consistency spec section 1), or undefined for an annotator that gives none. */
export function preferenceProbabilities(a: ConsistencyAnnotator, beta: number): Float64Array | undefined {
  const n = a.preference.length;
  if ((a.kind === 'reward-model' || a.kind === 'ensemble') && a.scoreY0 && a.scoreY1) {
    const p = new Float64Array(n);
    for (let k = 0; k < n; k++) p[k] = rewardProbability(a.scoreY1[k]!, a.scoreY0[k]!);
    return p;
  }
  if (a.kind === 'policy-model' && a.scoreY0 && a.scoreY1) {
    const p = new Float64Array(n);
    for (let k = 0; k < n; k++) p[k] = policyProbability(a.scoreY1[k]!, a.scoreY0[k]!, beta);
    return p;
  }
  if (a.twoOrder) return judgeProbabilities(a.twoOrder);
  return undefined;
}

/**
 * Two-order judge (spec section 1): q_0 = P_0(A) / (P_0(A) + P_0(B)) (A = y1 in order 0), q_1 = P_1(B) /
 * (P_1(A) + P_1(B)) (B = y1 in order 1); p = the mean of the q_o that exist (an order exists when present
 * with P(A) + P(B) > 0); NaN when neither does.
 */
export function judgeProbabilities(cols: TwoOrderColumns): Float64Array {
  const p = new Float64Array(cols.nPairs);
  const { order0: o0, order1: o1 } = cols;
  for (let k = 0; k < cols.nPairs; k++) {
    const j = 3 * k;
    let sum = 0,
      count = 0;
    const a0 = o0[j]!,
      b0 = o0[j + 1]!,
      a1 = o1[j]!,
      b1 = o1[j + 1]!;
    if (a0 + b0 > 0) {
      sum += a0 / (a0 + b0);
      count++;
    } // NaN (order absent) fails the test
    if (a1 + b1 > 0) {
      sum += b1 / (a1 + b1);
      count++;
    }
    p[k] = count ? sum / count : NaN;
  }
  return p;
}

const hasAny = (p: Float64Array) => p.some((x) => !Number.isNaN(x));

export function runConsistency(
  nPairs: number,
  annotators: ConsistencyAnnotator[],
  opts: ConsistencyOptions,
): ConsistencySections {
  const reasons: Record<string, string> = {};
  const byName = new Map(annotators.map((a) => [a.name, a]));
  for (const a of annotators)
    if (a.preference.length !== nPairs)
      throw new MetricsInputError(`annotator "${a.name}": expected ${nPairs} preferences`);
  const ref = byName.get(opts.reference);

  const order_consistency = annotators
    .filter((a) => a.twoOrder)
    .map((a) => {
      const r = orderConsistency(a.twoOrder!);
      return {
        annotator: a.name,
        n: r.n,
        missing: r.missing,
        pc: r.pc,
        conflict_rate: r.conflictRate,
        primacy_rate: r.primacyRate,
        recency_rate: r.recencyRate,
        pf: r.pf,
        patterns: r.patterns,
        no_preference: {
          position_bias: r.noPreference.positionBias,
          no_choice: r.noPreference.noChoice,
          mixed: r.noPreference.mixed,
        },
      };
    });
  if (order_consistency.length === 0) reasons.order_consistency = 'no annotator has judge probabilities in both orders';

  let multiplicitySection: ConsistencySections['multiplicity'] = null;
  const explicit = opts.models !== undefined;
  const candidates = explicit
    ? opts.models!.map((m) => {
        const a = byName.get(m);
        if (!a) throw new MetricsInputError(`--models: annotator "${m}" has no preferences on this dataset`);
        return a;
      })
    : annotators.filter((a) => DEFAULT_MODEL_KINDS.has(a.kind));
  const members = candidates
    .map((a) => ({ name: a.name, p: preferenceProbabilities(a, opts.beta) }))
    .filter((m) => {
      if (m.p && hasAny(m.p)) return true;
      if (explicit)
        throw new MetricsInputError(
          `--models: annotator "${m.name}" gives no P(y1 > y0) (no scores and no judge probabilities)`,
        );
      return false;
    }) as { name: string; p: Float64Array }[];
  if (explicit && members.length < 2)
    throw new MetricsInputError(`multiplicity needs at least two --models, got ${members.length}`);
  if (!ref) reasons.multiplicity = `the reference annotator "${opts.reference}" has no preferences on this dataset`;
  else if (members.length < 2) {
    reasons.multiplicity = `needs at least two model annotators that give P(y1 > y0); found ${members.length}`;
  } else {
    const m = multiplicity({ reference: ref.preference, members, epsilons: opts.epsilons, deltas: opts.deltas });
    multiplicitySection = {
      members: m.members,
      n_pairs: m.nPairs,
      losses: m.losses,
      baseline: m.baseline,
      by_epsilon: m.byEpsilon.map((e) => ({
        epsilon: e.epsilon,
        set: e.set,
        mean_width: e.meanWidth,
        flip_ambiguity: e.flipAmbiguity,
        by_delta: e.byDelta,
      })),
    };
    if (m.nPairs === 0)
      reasons.multiplicity = `no pair has a decisive "${opts.reference}" preference and P(y1 > y0) from every member`;
  }

  const policies = annotators.filter((a) => a.kind === 'policy-model' && a.scoreY0 && a.scoreY1);
  const ranking_accuracy = ref
    ? policies.map((a) => ({ annotator: a.name, ...rankingAccuracy(ref.preference, a.scoreY1!, a.scoreY0!) }))
    : [];
  if (policies.length === 0) reasons.ranking_accuracy = 'no policy model with log-likelihoods';
  else if (!ref)
    reasons.ranking_accuracy = `the reference annotator "${opts.reference}" has no preferences on this dataset`;

  const internal_consistency = policies
    .filter((a) => a.twoOrder)
    .map((a) => {
      const r = internalConsistency(judgeProbabilities(a.twoOrder!), a.scoreY1!, a.scoreY0!, opts.beta);
      return {
        annotator: a.name,
        beta: r.beta,
        n: r.n,
        n_decisive: r.nDecisive,
        agreement: r.agreement,
        mean_symmetric_kl: r.meanSymmetricKl,
        note: INTERNAL_NOTE,
      };
    });
  if (internal_consistency.length === 0)
    reasons.internal_consistency = 'no annotator is both a policy model and a two-order judge';

  const grouped: GroupMember[] = annotators
    .filter((a) => a.group !== null)
    .map((a) => ({ name: a.name, group: a.group!, votes: a.preference, present: a.present }));
  let group_inconsistency: ConsistencySections['group_inconsistency'] = null;
  const labels = new Set(grouped.map((g) => g.group));
  if (labels.size < 2)
    reasons.group_inconsistency = `needs annotators in at least two groups (discretion annotators set-group); found ${labels.size}`;
  else {
    const g = groupInconsistency(grouped, nPairs, { seed: opts.seed });
    group_inconsistency = {
      groups: g.groups,
      n_pairs: g.nPairs,
      gdi: g.gdi,
      null: g.null,
      excess: g.excess,
      p_value: g.pValue,
    };
  }

  return {
    schema: CONSISTENCY_SCHEMA,
    reference: opts.reference,
    order_consistency,
    multiplicity: multiplicitySection,
    ranking_accuracy,
    internal_consistency,
    group_inconsistency,
    reasons,
  };
}
