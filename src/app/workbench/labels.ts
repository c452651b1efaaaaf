// What a workbench submission and its undo become in the store: one transaction each, written over the
// Transaction's primitives (the room check, the exact rows on the pair, the label history).
import { json, type LabelState, type Store } from '../../store';
import type { StoredPreference } from '../../core/preferences';

/** A submission from the workbench, in stored terms. */
export interface WorkbenchLabel {
  value: StoredPreference;
  raw: Record<string, unknown> | null;
  shownFirst: 0 | 1;
  rationale: string;
  flagged: boolean;
  principles: { principleRowId: number; value: StoredPreference }[];
}

/** The annotator's rows on a pair after a workbench submission (principles not in the submission are kept). */
export function submittedLabelState(before: LabelState, label: WorkbenchLabel, t: string): LabelState {
  const keep = before.principles.filter((q) => !label.principles.some((l) => l.principleRowId === q.principle_id));
  return {
    preference: {
      value: label.value,
      score_y0: null,
      score_y1: null,
      raw: json(label.raw),
      shown_first: label.shownFirst,
      rationale: label.rationale || null,
      flagged: label.flagged ? 1 : 0,
      created_at: before.preference?.created_at ?? t,
      updated_at: t,
    },
    principles: [
      ...keep,
      ...label.principles
        .filter((l) => l.value !== null)
        .map((l) => ({
          principle_id: l.principleRowId,
          value: l.value,
          prob_a: null,
          prob_b: null,
          prob_na: null,
          shown_first: label.shownFirst,
          raw: null,
          created_at: t,
        })),
    ].sort((a, b) => a.principle_id - b.principle_id),
  };
}

/**
 * One workbench submission: the overall label and the given principle labels, the previous state kept in the
 * label history; resolves with the history row's id. A pair that already holds its overlap's worth of labels
 * from others is refused with a PairFullError (from the room check) and nothing is stored.
 */
export function saveLabel(
  store: Store,
  annotatorId: number,
  pairRowId: number,
  label: WorkbenchLabel,
): Promise<number> {
  return store.write(async (tx) => {
    await tx.checkRoomForLabel(pairRowId, annotatorId);
    const before = await tx.labelState(annotatorId, pairRowId);
    const after = submittedLabelState(before, label, tx.now());
    await tx.putLabelState(annotatorId, pairRowId, after);
    return tx.appendLabelHistory(annotatorId, pairRowId, 'submit', before, after);
  });
}

/** Undoes this annotator's latest submission on the dataset; resolves with its pair index, or undefined when there is nothing to undo. */
export function undoLastLabel(store: Store, annotatorId: number, datasetId: number): Promise<number | undefined> {
  return store.write(async (tx) => {
    const last = await tx.takeLastSubmission(annotatorId, datasetId);
    if (!last) return undefined;
    const current = await tx.labelState(annotatorId, last.pairRowId);
    await tx.putLabelState(annotatorId, last.pairRowId, last.before);
    await tx.appendLabelHistory(annotatorId, last.pairRowId, 'undo', current, last.before);
    return last.pairIdx;
  });
}
