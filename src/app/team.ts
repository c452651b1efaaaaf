// What a lead sees of a team's work on a dataset (`discretion team status`, and the extension's team view
// next): the split, how many pairs hold 0..k labels, per annotator live claims, labels and labels per hour,
// and the pairwise agreement of the human annotators' overall labels (Cohen's kappa).
import { cohenKappa } from '../core/metrics/agreement';
import type { Store, WorkSplit } from '../store/port';

export interface TeamStatus {
  schema: 'discretion-team-status/1';
  dataset: string;
  split: WorkSplit;
  pairs: number;
  /** index k: pairs holding exactly k human labels. */
  label_counts: number[];
  annotators: { name: string; claimed: number; labelled: number; labels_per_hour: number | null }[];
  /** Cohen's kappa of each two human annotators' overall labels on the pairs both labelled (null: none shared, or undefined). */
  kappa: { annotators: string[]; matrix: (number | null)[][]; shared: number[][] };
}

const HOUR_MS = 3_600_000;

export async function teamStatus(store: Store, datasetName: string, nowMs = Date.now()): Promise<TeamStatus> {
  const dataset = await store.requireDataset(datasetName);
  const [split, pairs, histogram, progress, annotators, prefs] = await Promise.all([
    store.workSplit(dataset.id), store.countPairs(dataset.id), store.labelCountHistogram(dataset.id),
    store.teamProgress(dataset.id, nowMs), store.listAnnotators(), store.overallPreferences(dataset.id),
  ]);
  const humans = annotators.filter((a) => a.kind === 'human' && progress.some((p) => p.annotator === a.name));
  // Labels per hour over the span from an annotator's first label to the last (null with fewer than two).
  const rate = (first: string | null, last: string | null, n: number) => {
    if (!first || !last || n < 2) return null;
    const span = Date.parse(last) - Date.parse(first);
    return span > 0 ? ((n - 1) * HOUR_MS) / span : null;
  };
  // Codes 0..2 for y0 / no preference / y1, -1 missing, indexed by pair index.
  const codes = new Map(humans.map((h) => [h.id, new Map<number, number>()]));
  for (const p of prefs) if (p.value !== null) codes.get(p.annotatorId)?.set(p.idx, p.value + 1);
  const matrix: (number | null)[][] = [];
  const shared: number[][] = [];
  for (const a of humans) {
    const row: (number | null)[] = [];
    const rowShared: number[] = [];
    for (const b of humans) {
      const ca = codes.get(a.id)!;
      const cb = codes.get(b.id)!;
      const both = [...ca.keys()].filter((idx) => cb.has(idx));
      const k = both.length ? cohenKappa(both.map((i) => ca.get(i)!), both.map((i) => cb.get(i)!), 3) : NaN;
      row.push(Number.isFinite(k) ? k : null);
      rowShared.push(both.length);
    }
    matrix.push(row);
    shared.push(rowShared);
  }
  return {
    schema: 'discretion-team-status/1',
    dataset: dataset.name,
    split,
    pairs,
    label_counts: histogram,
    annotators: progress.map((p) => ({ name: p.annotator, claimed: p.claimed, labelled: p.labelled, labels_per_hour: rate(p.firstLabelAt, p.lastLabelAt, p.labelled) })),
    kappa: { annotators: humans.map((h) => h.name), matrix, shared },
  };
}
