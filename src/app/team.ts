// What a lead sees of a team's work on a dataset (`discretion team status`, and the extension's team view
// next): the split, how many pairs hold 0..k labels, per annotator live claims, labels and labels per hour,
// the pairwise agreement of the human annotators' overall labels (Cohen's kappa), and each annotator's DA so far.
import { cohenKappa } from '../core/metrics/agreement';
import { categorizePairs } from '../core/metrics/categories';
import { daCounts, daFromCounts } from '../core/metrics/da';
import type { Store, WorkSplit } from '../store/port';

export interface TeamStatus {
  schema: 'discretion-team-status/1';
  dataset: string;
  split: WorkSplit;
  pairs: number;
  /** index k: pairs holding exactly k human labels. */
  label_counts: number[];
  /**
   * `da`: Discretion Arbitrariness so far, against the annotator's own principle labels (principle source
   * `self`) of `da_principles`: the share of its decisive overall labels on its consensus pairs that go
   * against the principles' side; `da_n` those decisive consensus pairs (null DA when there are none).
   */
  annotators: { name: string; claimed: number; labelled: number; labels_per_hour: number | null; da: number | null; da_n: number }[];
  /** The principle list (name@version) DA is measured on: the one with the most human principle labels on the dataset; null when none. */
  da_principles: string | null;
  /** Cohen's kappa of each two human annotators' overall labels on the pairs both labelled (null: none shared, or undefined). */
  kappa: { annotators: string[]; matrix: (number | null)[][]; shared: number[][] };
}

const HOUR_MS = 3_600_000;

/**
 * DA so far of each annotator against its own principle labels of one list (src/core/metrics: pair
 * categories from the annotator's principle row, then daCounts over its decisive overall labels), on the
 * pairs it labelled overall.
 */
function daSoFar(overall: Map<number, number>, principles: Map<number, Int8Array>, m: number): { da: number | null; n: number } {
  const idx = [...overall.keys()];
  const matrix = new Int8Array(idx.length * m);
  const values = new Int8Array(idx.length);
  idx.forEach((pair, k) => {
    values[k] = overall.get(pair)!;
    const row = principles.get(pair);
    if (row) matrix.set(row, k * m);
  });
  const counts = daCounts(values, categorizePairs(matrix, idx.length, m));
  const da = daFromCounts(counts);
  return { da: Number.isFinite(da) ? da : null, n: counts.agree + counts.disagree };
}

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
  // DA so far: on the principle list with the most human principle labels on this dataset
  const humanIds = new Set(annotators.filter((a) => a.kind === 'human').map((a) => a.id));
  let daList: { name: string; version: number; size: number; rows: Awaited<ReturnType<Store['principlePreferences']>> } | undefined;
  for (const l of await store.listPrincipleLists()) {
    const rows = (await store.principlePreferences(dataset.id, l.id)).filter((r) => humanIds.has(r.annotatorId));
    if (rows.length > (daList?.rows.length ?? 0)) daList = { ...l, rows };
  }
  const da = new Map<string, { da: number | null; n: number }>();
  if (daList) {
    const m = daList.size;
    for (const h of humans) {
      const overall = new Map<number, number>();
      for (const p of prefs) if (p.annotatorId === h.id && p.value !== null) overall.set(p.idx, p.value);
      const rows = new Map<number, Int8Array>();
      for (const r of daList.rows) {
        if (r.annotatorId !== h.id || r.value === null || r.position >= m) continue;
        if (!rows.has(r.idx)) rows.set(r.idx, new Int8Array(m));
        rows.get(r.idx)![r.position] = r.value;
      }
      da.set(h.name, daSoFar(overall, rows, m));
    }
  }
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
    annotators: progress.map((p) => ({
      name: p.annotator, claimed: p.claimed, labelled: p.labelled, labels_per_hour: rate(p.firstLabelAt, p.lastLabelAt, p.labelled),
      da: da.get(p.annotator)?.da ?? null, da_n: da.get(p.annotator)?.n ?? 0,
    })),
    da_principles: daList ? `${daList.name}@${daList.version}` : null,
    kappa: { annotators: humans.map((h) => h.name), matrix, shared },
  };
}
