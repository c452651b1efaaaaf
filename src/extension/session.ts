// The workbench session: one annotator on one dataset with one principle list. Builds cards (one
// pair at a time, never the whole dataset), records submissions, undo, navigation and queues.
// Free of `vscode` imports so that it is unit-tested against real SQLite files.
import { UsageError } from '../core/errors';
import type { AnnotatorRow, DatasetRow, PrincipleListRow, Store } from '../store/port';
import { splitTurns } from '../core/hhrlhf';
import { choiceToValue, shownFirstFor, storedToOverall, valueToGrid, valueToSide, type GridChoice } from '../core/preferences';
import type { CardView, ExistingLabel, ModelView, QueueFilter, SubmitMessage } from '../shared/protocol';

const MODEL_KINDS = new Set(['reward-model', 'llm-judge', 'policy-model']);

interface PairInfo { pairIdx: number; rowId: number; sourceId: string; hadLabel: boolean }

export class WorkbenchSession {
  private seq = 0;
  current: number | undefined;
  filter: QueueFilter = { kind: 'all' };
  private principleRowIds: number[] = [];
  /** The pair the last card shown was built for (saves a lookup on submit). */
  private shown: PairInfo | undefined;
  /** This annotator's labelled count, kept up to date by submissions; recounted when `stamp` moves. */
  private labelled: { n: number; stamp: string } | undefined;
  /** The next card of the queue, read ahead while the annotator works on the current one. */
  private ahead: { view: CardView; info: PairInfo; stamp: string } | undefined;

  private constructor(
    readonly store: Store,
    readonly dataset: DatasetRow,
    readonly annotator: AnnotatorRow,
    readonly list: PrincipleListRow,
    private total: number,
  ) {}

  static async open(store: Store, opts: { dataset: string; annotator: string; principleList: string }): Promise<WorkbenchSession> {
    const dataset = await store.requireDataset(opts.dataset);
    const list = await store.requirePrincipleList(opts.principleList);
    // Opening writes only when it has something to record: a new annotator, or a first workbench use.
    const known = await store.getAnnotator(opts.annotator);
    const annotator = known && known.kind === 'human' && known.provenance?.source === 'workbench'
      ? known
      : await store.write((tx) => tx.ensureAnnotator(opts.annotator, 'human', { source: 'workbench' }));
    const s = new WorkbenchSession(store, dataset, annotator, list, await store.countPairs(dataset.id));
    s.principleRowIds = await store.principleRowIds(list.id);
    return s;
  }

  /**
   * Where to start: where this annotator left off in this dataset (saved with every card shown),
   * else the pair the webview restored, else the first pair this annotator has not labelled.
   */
  async start(restoreIdx?: number): Promise<number | undefined> {
    const saved = await this.store.workbenchPosition(this.annotator.id, this.dataset.id);
    if (saved !== undefined && (await this.store.workbenchPair(this.dataset.id, saved))) this.current = saved;
    else if (restoreIdx !== undefined && (await this.store.workbenchPair(this.dataset.id, restoreIdx))) this.current = restoreIdx;
    else this.current = (await this.store.firstUnlabelledIdx(this.dataset.id, this.annotator.id)) ?? (await this.store.workbenchPair(this.dataset.id, -1, 1))?.id;
    return this.current;
  }

  async setFilter(filter: QueueFilter): Promise<number | undefined> {
    if (filter.kind === 'disagree') await this.store.requireAnnotator(filter.model);
    this.filter = filter;
    this.ahead = undefined;
    const first = await this.queueStep(-1, 1);
    if (first !== undefined) this.current = first;
    return first;
  }

  private async storeFilter() {
    if (this.filter.kind !== 'disagree') return this.filter;
    return { kind: 'disagree' as const, modelId: (await this.store.requireAnnotator(this.filter.model)).id };
  }

  private async queueStep(from: number, dir: 1 | -1): Promise<number | undefined> {
    return this.store.workbenchQueueIdx(this.dataset.id, this.annotator.id, from, dir, await this.storeFilter());
  }

  filterLabel(): string {
    return this.filter.kind === 'all' ? 'all pairs' : this.filter.kind === 'conflict' ? 'my principle labels in conflict' : `disagreements with ${this.filter.model}`;
  }

  /** Moves to the next/previous pair of the queue; returns false at the end. */
  async move(direction: 'next' | 'previous'): Promise<boolean> {
    if (this.current === undefined) return false;
    const idx = await this.queueStep(this.current, direction === 'next' ? 1 : -1);
    if (idx === undefined) return false;
    this.current = idx;
    return true;
  }

  /** Moves to pair `idx` of the dataset (a link from the dashboard); false when there is no such pair. */
  async goTo(idx: number): Promise<boolean> {
    if (!Number.isInteger(idx) || !(await this.store.workbenchPair(this.dataset.id, idx))) return false;
    this.current = idx;
    return true;
  }

  /** Saves the current position (called after a card is shown). */
  async savePosition(): Promise<void> {
    if (this.current === undefined) return;
    const before = await this.store.changeStamp();
    await this.store.saveWorkbenchPosition(this.annotator.id, this.dataset.id, this.current);
    // a position is not a label: the count and the card read ahead stay exact (a recount is a
    // scan of the dataset's pairs, about 10 ms on 100,000)
    const after = await this.store.changeStamp();
    if (this.labelled?.stamp === before) this.labelled.stamp = after;
    if (this.ahead?.stamp === before) this.ahead.stamp = after;
  }

  /**
   * Labelled / total for this annotator. Counted once (a COUNT over the dataset's pairs), then kept
   * up to date by submit(); recounted only when anything else wrote to the file (see changeStamp).
   */
  async progress() {
    const stamp = await this.store.changeStamp();
    if (this.labelled?.stamp !== stamp) this.labelled = { n: await this.store.labelledCount(this.dataset.id, this.annotator.id), stamp };
    return { labelled: this.labelled.n, total: this.total };
  }

  async card(): Promise<CardView | undefined> {
    if (this.current === undefined) return undefined;
    const built = await this.build(this.current);
    if (!built) return undefined;
    this.shown = built.info;
    return { ...built.view, progress: await this.progress() };
  }

  /**
   * Reads the card of the next pair in the queue ahead of time (call after a card is shown), so
   * that after the next submission commits it can be shown without reading anything again.
   */
  async readAhead(): Promise<CardView | undefined> {
    this.ahead = undefined;
    if (this.current === undefined) return undefined;
    const stamp = await this.store.changeStamp();
    const idx = await this.queueStep(this.current, 1);
    if (idx === undefined) return undefined;
    const built = await this.build(idx);
    if (!built) return undefined;
    this.ahead = { ...built, stamp };
    return built.view;
  }

  /**
   * The card read ahead, when it is for the current pair and nothing has been written to the file
   * since it was read (other than this session's own submission on another pair); else undefined.
   */
  async takeAhead(): Promise<CardView | undefined> {
    const a = this.ahead;
    this.ahead = undefined;
    if (!a || a.view.pairIdx !== this.current || (await this.store.changeStamp()) !== a.stamp) return undefined;
    this.shown = a.info;
    const hasPrevious = this.filter.kind === 'all' ? true : (await this.queueStep(a.view.pairIdx, -1)) !== undefined;
    return { ...a.view, seq: ++this.seq, progress: await this.progress(), filter: this.filterLabel(), hasPrevious };
  }

  /** Everything of the card of pair `idx` but the progress (read by the caller). */
  private async build(idx: number): Promise<{ view: CardView; info: PairInfo } | undefined> {
    const pair = await this.store.workbenchPair(this.dataset.id, idx);
    if (!pair) return undefined;
    const shownFirst = shownFirstFor(this.annotator.name, this.dataset.name, pair.sourceId);
    const [a, b] = shownFirst === 0 ? [pair.y0, pair.y1] : [pair.y1, pair.y0];
    const prefs = await this.store.preferencesForPairs([pair.rowId]);
    const own = prefs.find((p) => p.annotator === this.annotator.name);
    let existing: ExistingLabel | null = null;
    if (own) {
      const pp = (await this.store.principlePreferencesForPairs([pair.rowId])).filter((p) => p.annotator === this.annotator.name && p.list === this.list.name && p.listVersion === this.list.version);
      const grid: GridChoice[] = this.list.principles.map((_, i) => valueToGrid(pp.find((p) => p.position === i)?.value, shownFirst));
      existing = { overall: storedToOverall(own.value, own.raw, shownFirst), grid, rationale: own.rationale ?? '', flagged: own.flagged === 1 };
    }
    const models = own ? this.modelViews(prefs, own.value, shownFirst) : null;
    const previous = await this.queueStep(pair.id, -1);
    const next = await this.queueStep(pair.id, 1);
    const view: CardView = {
      seq: ++this.seq,
      dataset: this.dataset.name,
      annotator: this.annotator.name,
      pairIdx: pair.id,
      sourceId: pair.sourceId,
      turns: splitTurns(pair.prompt),
      responseA: a,
      responseB: b,
      shownFirst,
      principleList: `${this.list.name}@${this.list.version}`,
      principles: this.list.principles.map((p) => ({ short: p.short, text: p.text })),
      existing,
      models,
      progress: { labelled: 0, total: this.total },
      filter: this.filterLabel(),
      hasPrevious: previous !== undefined,
      hasNext: next !== undefined,
    };
    return { view, info: { pairIdx: pair.id, rowId: pair.rowId, sourceId: pair.sourceId, hadLabel: own !== undefined } };
  }

  private modelViews(prefs: Awaited<ReturnType<Store['preferencesForPairs']>>, own: number | null, shownFirst: 0 | 1): ModelView[] {
    return prefs.filter((p) => MODEL_KINDS.has(p.kind)).map((p) => ({
      name: p.annotator,
      kind: p.kind,
      choice: valueToSide(p.value, shownFirst),
      disagrees: own !== null && p.value !== null && p.value !== own,
    }));
  }

  /** Records a submission in one transaction. Returns the model views now revealed on this pair. */
  async submit(m: SubmitMessage): Promise<ModelView[]> {
    if (m.pairIdx !== this.current) throw new UsageError(`the submission is for pair ${m.pairIdx}, but the workbench is on pair ${this.current}; nothing was saved`);
    if (m.grid.length !== this.list.principles.length) throw new UsageError(`the principle grid has ${m.grid.length} rows, the list ${this.list.principles.length}; nothing was saved`);
    // What was read before this write (the count, the card read ahead) stays exact only when nothing
    // else has written since; this session's own write below touches only this pair.
    const before = await this.store.changeStamp();
    let pair: PairInfo | undefined = this.shown?.pairIdx === m.pairIdx ? this.shown : undefined;
    if (!pair) {
      const p = await this.store.workbenchPair(this.dataset.id, m.pairIdx);
      if (!p) throw new UsageError(`pair ${m.pairIdx} is no longer in dataset "${this.dataset.name}"`);
      pair = { pairIdx: p.id, rowId: p.rowId, sourceId: p.sourceId, hadLabel: true /* unknown: recount */ };
      this.labelled = undefined;
    }
    const shownFirst = shownFirstFor(this.annotator.name, this.dataset.name, pair.sourceId);
    const value = choiceToValue(m.overall, shownFirst);
    await this.store.saveWorkbenchLabel(this.annotator.id, pair.rowId, {
      value,
      raw: { choice: m.overall, source: 'workbench', principleList: `${this.list.name}@${this.list.version}` },
      shownFirst,
      rationale: m.rationale.trim(),
      flagged: m.flagged,
      principles: m.grid.map((g, i) => ({ principleRowId: this.principleRowIds[i], value: g === null ? null : choiceToValue(g, shownFirst) })),
    });
    const after = await this.store.changeStamp();
    if (this.labelled && this.labelled.stamp === before) this.labelled = { n: this.labelled.n + (pair.hadLabel ? 0 : 1), stamp: after };
    else this.labelled = undefined;
    if (this.ahead && this.ahead.stamp === before && this.ahead.info.pairIdx !== pair.pairIdx) this.ahead.stamp = after;
    else this.ahead = undefined;
    pair.hadLabel = true;
    const prefs = await this.store.preferencesForPairs([pair.rowId]);
    return this.modelViews(prefs, value, shownFirst);
  }

  /** Undo the latest submission; the workbench goes back to that pair. */
  async undo(): Promise<boolean> {
    const idx = await this.store.undoWorkbenchLabel(this.annotator.id, this.dataset.id);
    this.ahead = undefined;
    this.labelled = undefined;
    if (idx === undefined) return false;
    this.current = idx;
    return true;
  }
}
