// Solo mode (a dataset without a work split): the annotator walks the pairs of a queue (all pairs, the
// disagreements with a model, its own principle labels in conflict) in index order, and resumes where it
// left off.
import type { AnnotatorRow, DatasetRow, Store } from '../../store';
import type { QueueFilter } from '../../shared/workbenchProtocol';

export class SoloQueue {
  filter: QueueFilter = { kind: 'all' };

  constructor(
    private readonly store: Store,
    private readonly dataset: DatasetRow,
    private readonly annotator: AnnotatorRow,
  ) {}

  /** Walks `filter` from now on; fails on an unknown model. */
  async setFilter(filter: QueueFilter): Promise<void> {
    if (filter.kind === 'disagree') await this.store.requireAnnotator(filter.model);
    this.filter = filter;
  }

  label(): string {
    return this.filter.kind === 'all'
      ? 'all pairs'
      : this.filter.kind === 'conflict'
        ? 'my principle labels in conflict'
        : `disagreements with ${this.filter.model}`;
  }

  /** The next pair index after `from` (dir 1) or before it (dir -1) in the queue; undefined at its end. */
  async step(from: number, dir: 1 | -1): Promise<number | undefined> {
    return this.store.workbenchQueueIdx(this.dataset.id, this.annotator.id, from, dir, await this.storeFilter());
  }

  private async storeFilter() {
    if (this.filter.kind !== 'disagree') return this.filter;
    return { kind: 'disagree' as const, modelId: (await this.store.requireAnnotator(this.filter.model)).id };
  }

  /**
   * Where to start: where this annotator left off in this dataset (saved with every card shown and
   * with every committed submission), else the pair the webview restored; when that pair already
   * has this annotator's committed label, or there is none, the first pair without one. The saved
   * position never passes a label still in flight (it moves only once the label is committed), so
   * after a crash every pair whose label was lost is at or after the pair the queue resumes at.
   */
  async start(restoreIdx?: number): Promise<number | undefined> {
    const saved = await this.store.workbenchPosition(this.annotator.id, this.dataset.id);
    const open = async (pairIdx: number | undefined) => {
      if (pairIdx === undefined) return false;
      const pair = await this.store.workbenchPair(this.dataset.id, pairIdx);
      return !!pair && (await this.store.labelState(this.annotator.id, pair.pairRowId)).preference === null;
    };
    if (await open(saved)) return saved;
    if (saved === undefined && (await open(restoreIdx))) return restoreIdx;
    return (
      (await this.store.firstUnlabelledIdx(this.dataset.id, this.annotator.id)) ??
      (await this.store.workbenchPair(this.dataset.id, -1, 1))?.idx
    );
  }
}
