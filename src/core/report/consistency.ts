// The consistency section of a report (consistency spec; `discretion consistency`): the order patterns of
// every two-order judge, the multiplicity viable ranges, ranking accuracy and internal consistency, and the
// comparison of annotator groups. Each chart is followed by the table that carries its numbers.
import type { ConsistencySections } from '../consistency/suite';
import { barChart, fmt, stackedBars, type Section, type TableSpec } from './charts';

/** A stored consistency run as the report reads it (`discretion consistency --json`). */
export type ConsistencyReport = ConsistencySections & { dataset: string; run_id: number | null };

// Consistent patterns in greens and grey, first-position (primacy) in blues, second-position (recency) in oranges.
const PATTERN_SERIES = [
  { name: 'AB', color: '#2ca02c', cls: 'pat-consistent' },
  { name: 'BA', color: '#98df8a', cls: 'pat-consistent' },
  { name: 'CC', color: '#7f7f7f', cls: 'pat-none' },
  { name: 'AA', color: '#1f77b4', cls: 'pat-primacy' },
  { name: 'AC', color: '#6baed6', cls: 'pat-primacy' },
  { name: 'CA', color: '#c6dbef', cls: 'pat-primacy' },
  { name: 'BB', color: '#ff7f0e', cls: 'pat-recency' },
  { name: 'BC', color: '#fdae6b', cls: 'pat-recency' },
  { name: 'CB', color: '#fdd0a2', cls: 'pat-recency' },
] as const;

function orderSection(c: ConsistencyReport): Section {
  const o = c.order_consistency;
  const text = ['Each judge was asked in both orders (A = y1, then A = y0). Its choice is taken by position: A, B, or C (no choice: NA most likely, or A and B tied). AB and BA pick the same response both times and CC abstains both times (consistent); AA, AC, CA favour the first position (primacy), BB, BC, CB the second (recency). PF = (recency - primacy) / pairs: negative means a bias towards the first position. A position-biased judge looks indifferent to the discretion metrics (AA and BB become a 0 preference): the last three columns say why its preference is 0 or missing.'];
  if (o.length === 0) return { id: 'consistency-order', heading: 'Order consistency of LLM judges', text: [...text, c.reasons.order_consistency ?? 'No two-order judge.'], charts: [], tables: [] };
  const table: TableSpec = {
    caption: 'Order patterns and position consistency per judge',
    head: ['Judge', 'Pairs', 'Missing', 'PC', 'Conflict rate', 'Primacy', 'Recency', 'PF', ...PATTERN_SERIES.map((s) => s.name), 'Position bias (AA, BB)', 'No choice (CC)', 'Mixed'],
    rows: o.map((j) => [j.annotator, String(j.n), String(j.missing), fmt(j.pc), fmt(j.conflict_rate), fmt(j.primacy_rate), fmt(j.recency_rate), fmt(j.pf),
      ...PATTERN_SERIES.map((s) => String(j.patterns[s.name])), String(j.no_preference.position_bias), String(j.no_preference.no_choice), String(j.no_preference.mixed)]),
    numeric: Array.from({ length: 19 }, (_, i) => i + 1),
  };
  return {
    id: 'consistency-order', heading: 'Order consistency of LLM judges', text,
    charts: [stackedBars({
      id: 'consistency-order', title: 'Order patterns per judge (share of pairs with both orders)',
      desc: `Pattern shares per judge: ${o.map((j) => `${j.annotator} PC ${fmt(j.pc)}, PF ${fmt(j.pf)}`).join('; ')}.`,
      series: PATTERN_SERIES.map((s) => ({ ...s })), rows: o.map((j) => ({ label: j.annotator, values: PATTERN_SERIES.map((s) => j.patterns[s.name]) })), table,
    })],
    tables: [],
  };
}

function multiplicitySection(c: ConsistencyReport): Section {
  const m = c.multiplicity;
  const text = [`Model annotators that give P(y1 > y0) are compared as classifiers of the ${c.reference} preferences: log loss per model, and for each epsilon the Rashomon set of models within epsilon nats of the best one. On each pair the set's probabilities span a viable range; ambiguity is the share of pairs where some model in the set differs from the best by at least delta, discrepancy the largest such share of one model, flip ambiguity the share where some model prefers the other response.`];
  if (!m || m.by_epsilon.length === 0) return { id: 'consistency-multiplicity', heading: 'Multiplicity across model annotators', text: [...text, c.reasons.multiplicity ?? 'Not applicable.'], charts: [], tables: [] };
  const deltas = m.by_epsilon[0]!.by_delta.map((b) => b.delta);
  const table: TableSpec = {
    caption: `Rashomon sets and viable ranges over ${m.n_pairs} pairs (baseline ${m.baseline})`,
    head: ['Epsilon (nats)', 'Rashomon set', 'Mean viable-range width', 'Flip ambiguity', ...deltas.flatMap((d) => [`Ambiguity, delta ${d}`, `Discrepancy, delta ${d}`])],
    rows: m.by_epsilon.map((e) => [String(e.epsilon), e.set.join(', '), fmt(e.mean_width), fmt(e.flip_ambiguity), ...e.by_delta.flatMap((b) => [fmt(b.ambiguity), fmt(b.discrepancy)])]),
    numeric: [0, 2, 3, ...deltas.flatMap((_, i) => [4 + 2 * i, 5 + 2 * i])],
  };
  const losses: TableSpec = {
    caption: `Log loss against ${c.reference} per model`,
    head: ['Model', 'Log loss (nats)', 'Baseline'],
    rows: m.members.map((n) => [n, fmt(m.losses[n], 4), n === m.baseline ? 'yes' : '']).sort((a, b) => Number(a[1]) - Number(b[1])),
    numeric: [1],
  };
  return {
    id: 'consistency-multiplicity', heading: 'Multiplicity across model annotators', text,
    charts: [barChart({
      id: 'consistency-viable-range', unit: '', max: 1, title: 'Mean viable-range width of the Rashomon set, per epsilon',
      desc: `Mean width of the viable P(y1 > y0) range over ${m.n_pairs} pairs: ${m.by_epsilon.map((e) => `epsilon ${e.epsilon}: ${fmt(e.mean_width)} (${e.set.length} models)`).join(', ')}.`,
      items: m.by_epsilon.map((e) => ({ label: `epsilon ${e.epsilon} (${e.set.length} models)`, value: e.mean_width, err: null })),
      table,
    })],
    tables: [losses],
  };
}

function policySection(c: ConsistencyReport): Section {
  const tables: TableSpec[] = [];
  const text = ['Ranking accuracy (Chen et al., NeurIPS 2024): the share of pairs on which a policy model gives the preferred response at least the likelihood of the other (ties count). Internal consistency: how often a model acting as a judge agrees with its own likelihoods.'];
  if (c.ranking_accuracy.length) {
    tables.push({ caption: `Ranking accuracy against ${c.reference}`, head: ['Policy model', 'Pairs', 'Ranking accuracy', 'Exact ties'], rows: c.ranking_accuracy.map((r) => [r.annotator, String(r.n), fmt(r.r), String(r.ties)]), numeric: [1, 2, 3] });
  } else text.push(c.reasons.ranking_accuracy ?? 'No policy model.');
  if (c.internal_consistency.length) {
    tables.push({ caption: 'Internal consistency: judge probability against likelihood margin', head: ['Model', 'Beta', 'Pairs', 'Decisive pairs', 'Agreement', 'Mean symmetric KL'], rows: c.internal_consistency.map((r) => [r.annotator, String(r.beta), String(r.n), String(r.n_decisive), fmt(r.agreement), fmt(r.mean_symmetric_kl, 4)]), numeric: [1, 2, 3, 4, 5] });
    text.push(c.internal_consistency[0]!.note + '.');
  } else text.push(c.reasons.internal_consistency ?? 'No model is both a judge and a policy.');
  return { id: 'consistency-policy', heading: 'Ranking accuracy and internal consistency', text, charts: [], tables };
}

function groupSection(c: ConsistencyReport): Section {
  const g = c.group_inconsistency;
  const text = ['GDI: on each pair, the mean vote of each group (+1, -1, 0 for no preference); half the absolute difference between groups, averaged over pairs. The null reassigns the same annotators to groups of the same sizes: excess = GDI - null mean; p = share of reassignments with a GDI at least as large.'];
  if (!g) return { id: 'consistency-groups', heading: 'Inconsistency between annotator groups', text: [...text, c.reasons.group_inconsistency ?? 'Fewer than two groups.'], charts: [], tables: [] };
  const table: TableSpec = {
    caption: `Group disagreement index over ${g.n_pairs} pairs (null: ${g.null.kind}, ${g.null.n} assignments)`,
    head: ['Measure', 'Value'],
    rows: [['GDI (observed)', fmt(g.gdi, 4)], ['Null mean', fmt(g.null.mean, 4)], ['Excess', fmt(g.excess, 4)], ['p-value', fmt(g.p_value, 4)]],
    numeric: [1],
  };
  const groups: TableSpec = { caption: 'Groups', head: ['Group', 'Annotators'], rows: Object.entries(g.groups).map(([k, v]) => [k, v.join(', ')]) };
  return {
    id: 'consistency-groups', heading: 'Inconsistency between annotator groups', text,
    charts: [barChart({
      id: 'consistency-groups', unit: '', max: 1, title: 'Group disagreement: observed against the null',
      desc: `GDI ${fmt(g.gdi, 4)} against a null mean of ${fmt(g.null.mean, 4)} (p = ${fmt(g.p_value, 4)}).`,
      items: [{ label: 'observed GDI', value: g.gdi, err: null, color: '#d62728' }, { label: 'null mean', value: g.null.mean, err: null, color: '#7f7f7f' }],
      table,
    })],
    tables: [groups],
  };
}

/** The consistency sections of a report, in order. */
export function consistencySections(c: ConsistencyReport): Section[] {
  return [orderSection(c), multiplicitySection(c), policySection(c), groupSection(c)];
}
