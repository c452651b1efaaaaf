// The labels the webview has submitted and the cards it holds ahead. No DOM, no messaging:
// unit-tested directly. A label is pending from the keystroke until the host acknowledges its
// commit ('saved') or refuses it ('saveFailed'); the card read ahead is painted at the keystroke,
// so the progress shown counts committed labels plus the pending ones on pairs without a label.
import type { CardView } from '../../src/shared/workbenchProtocol';
import type { UiState } from './state';

/** A submitted label, kept until the host answers: a failure brings it back onto its pair. */
export interface SubmittedLabel { seq: number; card: CardView; ui: UiState; rationale: string }

/** What the card says about the labels: nothing yet, some in flight, all committed. */
export type SaveState = 'idle' | 'pending' | 'saved';

export class LabelLedger {
  /** The next cards of the queue after the one shown, in order (from the host's 'prefetch'). */
  private ahead: CardView[] = [];
  private pending: SubmittedLabel[] = [];
  /** Cards already shown: a read-ahead list that arrives late never brings them back. */
  private shown = new Set<number>();
  private committed = { labelled: 0, total: 0 };
  /** The dataset the counts are of (a label in flight on another dataset does not count here). */
  private dataset = '';
  private acknowledged = false;
  /** Labels refused for pairs not shown now, put back onto their pair when its card comes. */
  private drafts = new Map<number, { label: SubmittedLabel; message: string }>();

  /** A card is on screen (from the host or from the cards ahead). */
  shows(card: CardView): void {
    this.shown.add(card.seq);
  }

  /** The host's own card (navigation, undo, another dataset...): the cards ahead are read again. */
  hostCard(card: CardView): void {
    this.ahead = [];
    this.committed = { ...card.progress };
    this.dataset = card.dataset;
  }

  /** The end of the queue, or nothing to show. */
  done(dataset: string, progress: { labelled: number; total: number }): void {
    this.ahead = [];
    this.committed = { ...progress };
    this.dataset = dataset;
  }

  readAhead(cards: CardView[]): void {
    this.ahead = cards.filter((c) => !this.shown.has(c.seq));
  }

  /**
   * At a submission: the card to paint now (the first read ahead), or null when the card waits
   * for the host: models judged this pair (their reveal comes first), or nothing is read ahead.
   */
  submit(label: SubmittedLabel): CardView | null {
    this.pending.push(label);
    this.acknowledged = false;
    const next = !label.card.judged && this.ahead.length > 0 ? this.ahead.shift()! : null;
    return next && { ...next, progress: this.progress() };
  }

  /** The host committed the label of card `seq`. */
  saved(seq: number, progress: { labelled: number; total: number }): void {
    const label = this.pending.find((p) => p.seq === seq);
    this.pending = this.pending.filter((p) => p !== label);
    if (!label || label.card.dataset === this.dataset) this.committed = { ...progress };
    this.acknowledged = true;
  }

  /** The host refused the label of card `seq`: it is no longer in flight; returns it. */
  failed(seq: number): SubmittedLabel | undefined {
    const label = this.pending.find((p) => p.seq === seq);
    this.pending = this.pending.filter((p) => p.seq !== seq);
    this.ahead = []; // the host reads them again after the failed pair
    return label;
  }

  /** Keeps a refused label for its pair until that pair's card is shown again. */
  keepDraft(pairIdx: number, label: SubmittedLabel, message: string): void {
    this.drafts.set(pairIdx, { label, message });
  }

  /** The refused label of this pair, once (null when there is none). */
  takeDraft(pairIdx: number): { label: SubmittedLabel; message: string } | null {
    const d = this.drafts.get(pairIdx);
    this.drafts.delete(pairIdx);
    return d ?? null;
  }

  /** Committed labels, plus the labels in flight on pairs that had none (exact while they commit). */
  progress(): { labelled: number; total: number } {
    const inFlight = this.pending.filter((p) => p.card.existing === null && p.card.dataset === this.dataset).length;
    return { labelled: this.committed.labelled + inFlight, total: this.committed.total };
  }

  get inFlight(): number {
    return this.pending.length;
  }

  /** The first pair whose label is not committed yet (a reload resumes no later than it). */
  firstPendingPair(): number | undefined {
    return this.pending[0]?.card.pairIdx;
  }

  saveState(): SaveState {
    return this.pending.length > 0 ? 'pending' : this.acknowledged ? 'saved' : 'idle';
  }
}
