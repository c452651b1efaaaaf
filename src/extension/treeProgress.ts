// The tree's dataset progress, kept without vscode so it can be tested alone.
import type { Store } from '../store';

export type DatasetProgress = Awaited<ReturnType<Store['datasetProgress']>>[number];

/**
 * `progress` with one annotator's count on one dataset replaced, listed as Store.datasetProgress
 * lists them (annotators with at least one label, by name), so a label in the workbench updates the
 * tree without reading every dataset's counts again.
 */
export function withLabelled(progress: DatasetProgress[], dataset: string, annotator: string, labelled: number): DatasetProgress[] {
  return progress.map((d) => {
    if (d.name !== dataset) return d;
    const others = d.annotators.filter((a) => a.name !== annotator);
    const annotators = labelled > 0 ? [...others, { name: annotator, labelled }] : others;
    return { ...d, annotators: annotators.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) };
  });
}

/**
 * The description of a dataset item in the tree. A dataset split among a team (overlap k) reads
 * `<labels>/<pairs*k> team labels · <mine> mine`: every human label on it, against what the split wants, and
 * this window's annotator's share (the text the end-to-end test reads); otherwise `<pairs> pairs`.
 */
export function datasetDescription(d: DatasetProgress, overlap: number | null, me: string): string {
  if (overlap === null) return `${d.total} pairs`;
  const { labels, mine } = teamLabels(d, me);
  return `${labels}/${d.total * overlap} team labels · ${mine} mine`;
}

/** Every human label on the dataset, and this annotator's. */
function teamLabels(d: DatasetProgress, me: string): { labels: number; mine: number } {
  return { labels: d.annotators.reduce((n, a) => n + a.labelled, 0), mine: d.annotators.find((a) => a.name === me)?.labelled ?? 0 };
}

/**
 * The tooltip of a dataset item: what the description says in words, in full (a narrow sidebar cuts the
 * description short), and what a click does.
 */
export function datasetTooltip(d: DatasetProgress, overlap: number | null, me: string): string {
  if (overlap === null) return `${d.name}: ${d.total} pairs. Click to label.`;
  const { labels, mine } = teamLabels(d, me);
  return `${d.name}: ${d.total} pairs, split among a team with ${overlap} label${overlap === 1 ? '' : 's'} per pair; `
    + `${labels} of the ${d.total * overlap} labels wanted are in, ${mine} of them yours. Click to label the next pair handed to you.`;
}

/** Tables no view shows: where each annotator is, and where claims start looking (the level floors). */
const UNSHOWN = new Set(['workbench_positions', 'claim_floors']);

/** A change (the tables a notification names; undefined: unknown) the Datasets tree shows: anything but claims, workbench positions and claim floors. */
export function treeShows(tables: string[] | undefined): boolean {
  return !tables || tables.some((t) => t !== 'claims' && !UNSHOWN.has(t));
}

/** A change the Team view shows: anything but workbench positions and claim floors (claims are its numbers). */
export function teamViewShows(tables: string[] | undefined): boolean {
  return !tables || tables.some((t) => !UNSHOWN.has(t));
}
