// The workbench session: one annotator on one dataset with one principle list. Builds cards (one
// pair at a time, never the whole dataset), records submissions, undo, navigation and queues.
// Free of `vscode` imports so that it is unit-tested against real SQLite files.
import { UsageError } from '../core/errors';
import { PairFullError, type AnnotatorRow, type DatasetRow, type PrincipleListRow, type Store } from '../store/port';
import { splitTurns } from '../core/hhrlhf';
import { choiceToValue, shownFirstFor, storedToOverall, valueToGrid, valueToSide, type GridChoice } from '../core/preferences';
import type { CardView, ExistingLabel, ModelView, QueueFilter, SubmitMessage } from '../shared/protocol';

const MODEL_KINDS = new Set(['reward-model', 'llm-judge', 'policy-model']);

interface PairInfo { pairIdx: number; rowId: number; sourceId: string; hadLabel: boolean }

/** How many cards of the queue the webview holds ahead of the one shown (it paints one at a submit). */
export const READ_AHEAD = 3;
/** Cards whose submission would still be accepted (older ones are forgotten past this many). */
const MAX_LIVE_CARDS = 1000;

/** A label refused because the pair already holds its k labels: nothing stored; the session has moved on to its next claim. */
export class PairTakenError extends UsageError {
  constructor(message: string, readonly pairIdx: number, readonly nextIdx: number | undefined) {
    super(message);
    this.name = 'PairTakenError';
  }
}

export interface SessionOptions {
  /** How long a workbench claim lives (a dataset with a work split); renewed every third of it. Default 600 s. */
  claimTtlMs?: number;
  /** The clock of the claims (tests move it). */
  now?: () => number;
  /** Renew the claim on a timer (default true; tests renew by hand). */
  renewTimer?: boolean;
  /** Where the renewal's failures are told (the extension's log). */
  log?: (message: string) => void;
}

export class WorkbenchSession {
  private seq = 0;
  current: number | undefined;
  filter: QueueFilter = { kind: 'all' };
  private principleRowIds: number[] = [];
  /**
   * The card each pair was last sent to the webview with: a submission is accepted only with that
   * card's seq, once (an older card of the pair, or a second submit from one card, is stale).
   */
  private live = new Map<number, { seq: number; info: PairInfo }>();
  /** This annotator's labelled count, kept up to date by submissions; recounted when `stamp` moves. */
  private labelled: { n: number; stamp: string } | undefined;
  /** The next cards of the queue after `current`, in order, read ahead while the annotator works. */
  private ahead: { cards: { view: CardView; info: PairInfo }[]; stamp: string } | undefined;

  /**
   * Team mode (the dataset has a work split): the pairs this session was handed by claims, in the order
   * shown (previous / next walk it; past its end the next claim), and the claim held now.
   */
  private team: { overlap: number; history: number[]; pos: number; claim: { idx: number; rowId: number } | undefined; timer: ReturnType<typeof setInterval> | undefined } | undefined;
  private readonly ttlMs: number;
  private readonly now: () => number;

  private constructor(
    readonly store: Store,
    readonly dataset: DatasetRow,
    readonly annotator: AnnotatorRow,
    readonly list: PrincipleListRow,
    private total: number,
    private readonly options: SessionOptions = {},
  ) {
    this.ttlMs = options.claimTtlMs ?? 600_000;
    this.now = options.now ?? Date.now;
  }

  /** The dataset has a work split: the next card is handed out by a claim. */
  get claimMode(): boolean {
    return this.team !== undefined;
  }

  /** The pair this session holds a claim on (team mode). */
  get claimedIdx(): number | undefined {
    return this.team?.claim?.idx;
  }

  static async open(store: Store, opts: { dataset: string; annotator: string; principleList: string }, options: SessionOptions = {}): Promise<WorkbenchSession> {
    const dataset = await store.requireDataset(opts.dataset);
    const list = await store.requirePrincipleList(opts.principleList);
    // Opening writes only when it has something to record: a new annotator, or a first workbench use.
    const known = await store.getAnnotator(opts.annotator);
    const annotator = known && known.kind === 'human' && known.provenance?.source === 'workbench'
      ? known
      : await store.write((tx) => tx.ensureAnnotator(opts.annotator, 'human', { source: 'workbench' }));
    const s = new WorkbenchSession(store, dataset, annotator, list, await store.countPairs(dataset.id), options);
    s.principleRowIds = await store.principleRowIds(list.id);
    const split = await store.workSplit(dataset.id);
    if (split.overlap !== null) {
      s.team = { overlap: split.overlap, history: [], pos: -1, claim: undefined, timer: undefined };
      if (options.renewTimer !== false) {
        const every = Math.max(1000, Math.floor(s.ttlMs / 3));
        s.team.timer = setInterval(() => void s.renewClaim().catch((e: unknown) => options.log?.(`workbench: the claim could not be renewed: ${(e as Error)?.message ?? e}`)), every);
        s.team.timer.unref?.();
      }
    }
    return s;
  }

  /** Stops renewing the claim (the panel closed or took another session). The claim itself expires after its TTL. */
  dispose(): void {
    if (this.team?.timer) clearInterval(this.team.timer);
    if (this.team) this.team.timer = undefined;
  }

  /** Extends this session's claim (team mode); false when there is none or it is gone (it expired). */
  async renewClaim(): Promise<boolean> {
    const claim = this.team?.claim;
    if (!claim) return false;
    const kept = await this.store.write((tx) => tx.renewClaim(claim.rowId, this.annotator.id, this.now(), this.ttlMs));
    if (!kept) {
      this.options.log?.(`workbench: the claim on pair ${claim.idx} of ${this.dataset.name} had expired; a label on it is stored only while the pair still needs one`);
      if (this.team?.claim === claim) this.team.claim = undefined; // said once; the next claim renews again
    }
    return kept;
  }

  /** Team mode: the next pair by claim (this annotator's live claim first); the current pair moves there. */
  private async claimNext(): Promise<number | undefined> {
    const t = this.team!;
    const idx = await this.store.claimNextPair(this.dataset.id, this.annotator.id, this.now(), this.ttlMs);
    if (idx === undefined) {
      t.claim = undefined;
      return undefined;
    }
    const pair = await this.store.workbenchPair(this.dataset.id, idx);
    t.claim = pair ? { idx, rowId: pair.rowId } : undefined;
    if (t.history[t.history.length - 1] !== idx) t.history.push(idx);
    t.pos = t.history.length - 1;
    return idx;
  }

  private async hasOwnLabel(idx: number): Promise<boolean> {
    const pair = await this.store.workbenchPair(this.dataset.id, idx);
    return !!pair && (await this.store.labelState(this.annotator.id, pair.rowId)).preference !== null;
  }

  /** Whether cards are handed out by claims (the dataset has a work split). */
  get isTeam(): boolean {
    return this.team !== undefined;
  }

  /** Team mode: when the first of the other annotators' live claims on this dataset expires (epoch ms); undefined when none. */
  async nextOthersClaimExpiry(): Promise<number | undefined> {
    if (!this.team) return undefined;
    const others = (await this.store.liveClaims(this.dataset.id, this.now())).filter((c) => c.annotator !== this.annotator.name).map((c) => Number(c.expiresAt));
    return others.length ? Math.min(...others) : undefined;
  }

  /** Team mode at the end of the queue: claims a pair freed since (an expired or released claim); true when one was. */
  async claimFreedPair(): Promise<boolean> {
    if (!this.team || this.current !== undefined) return false;
    const idx = await this.claimNext();
    if (idx === undefined) return false;
    this.current = idx;
    return true;
  }

  /** What the end of the queue says. */
  doneMessage(): string {
    if (this.team) return `No pair left for you: every pair of ${this.dataset.name} has its ${this.team.overlap} label${this.team.overlap === 1 ? '' : 's'}, is claimed by others, or has yours.`;
    return this.filter.kind === 'all' ? 'No pairs to show.' : `No pairs in the queue "${this.filterLabel()}".`;
  }

  /**
   * Where to start: where this annotator left off in this dataset (saved with every card shown and
   * with every committed submission), else the pair the webview restored; when that pair already
   * has this annotator's committed label, or there is none, the first pair without one. The saved
   * position never passes a label still in flight (it moves only once the label is committed), so
   * after a crash every pair whose label was lost is at or after the pair the queue resumes at.
   */
  async start(restoreIdx?: number): Promise<number | undefined> {
    if (this.team) {
      // team mode: the claim decides (this annotator's live claim first, so a reload resumes it)
      this.current = await this.claimNext();
      return this.current;
    }
    const saved = await this.store.workbenchPosition(this.annotator.id, this.dataset.id);
    const open = async (idx: number | undefined) => {
      if (idx === undefined) return false;
      const pair = await this.store.workbenchPair(this.dataset.id, idx);
      return !!pair && (await this.store.labelState(this.annotator.id, pair.rowId)).preference === null;
    };
    if (await open(saved)) this.current = saved;
    else if (saved === undefined && (await open(restoreIdx))) this.current = restoreIdx;
    else this.current = (await this.store.firstUnlabelledIdx(this.dataset.id, this.annotator.id)) ?? (await this.store.workbenchPair(this.dataset.id, -1, 1))?.id;
    return this.current;
  }

  async setFilter(filter: QueueFilter): Promise<number | undefined> {
    if (this.team && filter.kind !== 'all') throw new UsageError(`${this.dataset.name} is split among a team: its pairs are handed out by claims, so the queue cannot be filtered`);
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
    if (this.team) return this.moveTeam(direction);
    if (this.current === undefined) return false;
    const idx = await this.queueStep(this.current, direction === 'next' ? 1 : -1);
    if (idx === undefined) return false;
    this.current = idx;
    return true;
  }

  /**
   * Team mode: previous / next walk the pairs this session was handed; next past the last one claims the
   * next pair (while the claimed pair has no label from this annotator, that is the same pair).
   */
  private async moveTeam(direction: 'next' | 'previous'): Promise<boolean> {
    const t = this.team!;
    if (direction === 'previous') {
      if (t.pos <= 0) return false;
      this.current = t.history[--t.pos];
      return true;
    }
    if (t.pos < t.history.length - 1) {
      this.current = t.history[++t.pos];
      return true;
    }
    const before = this.current;
    const idx = await this.claimNext();
    if (idx === undefined) {
      // nothing left to claim: the end of this annotator's queue (unless the pair shown still wants its label)
      if (before !== undefined && (await this.hasOwnLabel(before))) this.current = undefined;
      return false;
    }
    this.current = idx;
    return idx !== before;
  }

  /** Moves to pair `idx` of the dataset (a link from the dashboard); false when there is no such pair. */
  async goTo(idx: number): Promise<boolean> {
    if (!Number.isInteger(idx) || !(await this.store.workbenchPair(this.dataset.id, idx))) return false;
    if (this.team && !this.team.history.includes(idx)) {
      // team mode: only the pairs handed to this annotator, and those it labelled
      const pair = (await this.store.workbenchPair(this.dataset.id, idx))!;
      if ((await this.store.labelState(this.annotator.id, pair.rowId)).preference === null) return false;
      this.team.history.push(idx);
      this.team.pos = this.team.history.length - 1;
    } else if (this.team) this.team.pos = this.team.history.indexOf(idx);
    this.current = idx;
    return true;
  }

  /** Saves the current position (called after a card is shown). */
  async savePosition(): Promise<void> {
    // team mode: the claim is where the annotator is (a reload resumes its live claim), nothing to save
    if (this.current === undefined || this.team) return;
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
    return { ...built.view, progress: await this.progress() };
  }

  /**
   * Reads the next READ_AHEAD cards of the queue after the current pair (call after a card is
   * shown or a submission committed), keeping those already read while nothing else has written
   * to the file. The webview holds them, so that a submission paints the next card at once.
   */
  async readAhead(): Promise<CardView[]> {
    // team mode: the next pair is claimed only once this one is labelled, so nothing is read ahead
    if (this.current === undefined || this.team) {
      this.ahead = undefined;
      return [];
    }
    const stamp = await this.store.changeStamp();
    const next = await this.queueStep(this.current, 1);
    let cards = this.ahead && this.ahead.stamp === stamp && this.ahead.cards[0]?.view.pairIdx === next ? this.ahead.cards : [];
    for (let idx = cards.at(-1)?.view.pairIdx ?? this.current; cards.length < READ_AHEAD;) {
      const following = cards.length === 0 ? next : await this.queueStep(idx, 1);
      const built = following === undefined ? undefined : await this.build(following);
      if (!built) break;
      cards = [...cards, built];
      idx = built.view.pairIdx;
    }
    // the cards were read before any write since `stamp`; reading writes nothing
    this.ahead = { cards, stamp };
    return cards.map((c) => c.view);
  }

  /**
   * The card read ahead for the current pair (the first of them), when nothing has been written to
   * the file since it was read (other than this session's own submissions); else undefined.
   */
  async takeAhead(): Promise<CardView | undefined> {
    const a = this.ahead;
    if (!a || a.cards[0]?.view.pairIdx !== this.current || (await this.store.changeStamp()) !== a.stamp) {
      this.ahead = undefined;
      return undefined;
    }
    const { view } = a.cards.shift()!;
    const hasPrevious = this.filter.kind === 'all' ? true : (await this.queueStep(view.pairIdx, -1)) !== undefined;
    return { ...view, progress: await this.progress(), filter: this.filterLabel(), hasPrevious };
  }

  /**
   * After the submission of pair `submitted` committed: the session follows the webview to the next
   * pair of the queue. `painted`: the seq of the card read ahead that the webview painted at the
   * keystroke (null: it waits for the next card). True when that card stands (it is the next pair
   * and nothing else has written since it was read): the caller only acknowledges the label; false:
   * the caller shows the current card (or the end of the queue) in its place.
   */
  async follow(submitted: number, painted: number | null): Promise<boolean> {
    this.current = submitted;
    if (this.team) {
      this.ahead = undefined;
      if (this.team.history[this.team.pos] !== submitted) {
        this.team.history.push(submitted);
        this.team.pos = this.team.history.length - 1;
      }
      await this.move('next');
      return false;
    }
    const a = this.ahead;
    const head = a?.cards[0];
    if (painted !== null && a && head && head.view.seq === painted && this.live.get(head.view.pairIdx)?.seq === painted
      && (await this.queueStep(submitted, 1)) === head.view.pairIdx && (await this.store.changeStamp()) === a.stamp) {
      a.cards.shift();
      this.current = head.view.pairIdx;
      return true;
    }
    this.ahead = undefined;
    await this.move('next');
    return false;
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
    // team mode: back through the pairs handed out here; forward to the next claim
    const previous = this.team ? (this.team.pos > 0 ? this.team.history[this.team.pos - 1] : undefined) : await this.queueStep(pair.id, -1);
    const next = this.team ? pair.id : await this.queueStep(pair.id, 1);
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
      judged: prefs.some((p) => MODEL_KINDS.has(p.kind)),
      progress: { labelled: 0, total: this.total },
      filter: this.filterLabel(),
      hasPrevious: previous !== undefined,
      hasNext: next !== undefined,
    };
    const info = { pairIdx: pair.id, rowId: pair.rowId, sourceId: pair.sourceId, hadLabel: own !== undefined };
    this.live.delete(pair.id); // (re-inserted last: the oldest cards are forgotten first)
    this.live.set(pair.id, { seq: view.seq, info });
    if (this.live.size > MAX_LIVE_CARDS) this.live.delete(this.live.keys().next().value!);
    return { view, info };
  }

  private modelViews(prefs: Awaited<ReturnType<Store['preferencesForPairs']>>, own: number | null, shownFirst: 0 | 1): ModelView[] {
    return prefs.filter((p) => MODEL_KINDS.has(p.kind)).map((p) => ({
      name: p.annotator,
      kind: p.kind,
      choice: valueToSide(p.value, shownFirst),
      disagrees: own !== null && p.value !== null && p.value !== own,
    }));
  }

  /**
   * Records a submission in one transaction. Returns the model views now revealed on this pair.
   * Accepted only from the card the pair was last sent with (its seq), once: a submission from an
   * older card of the pair, or a second one from the same card, is refused and changes nothing.
   */
  async submit(m: SubmitMessage): Promise<ModelView[]> {
    const live = this.live.get(m.pairIdx);
    if (!live) throw new UsageError(`pair ${m.pairIdx} is not on a card the workbench has shown (or it was submitted already); nothing was saved`);
    if (live.seq !== m.seq) throw new UsageError(`the card of pair ${m.pairIdx} is out of date (card ${m.seq}; the pair has been shown again since as card ${live.seq}); nothing was saved`);
    if (m.grid.length !== this.list.principles.length) throw new UsageError(`the principle grid has ${m.grid.length} rows, the list ${this.list.principles.length}; nothing was saved`);
    // What was read before this write (the count, the cards read ahead) stays exact only when
    // nothing else has written since; this session's own write below touches only this pair.
    const before = await this.store.changeStamp();
    const pair = live.info;
    const shownFirst = shownFirstFor(this.annotator.name, this.dataset.name, pair.sourceId);
    const value = choiceToValue(m.overall, shownFirst);
    try {
      await this.store.saveWorkbenchLabel(this.annotator.id, pair.rowId, {
        value,
        raw: { choice: m.overall, source: 'workbench', principleList: `${this.list.name}@${this.list.version}` },
        shownFirst,
        rationale: m.rationale.trim(),
        flagged: m.flagged,
        principles: m.grid.map((g, i) => ({ principleRowId: this.principleRowIds[i], value: g === null ? null : choiceToValue(g, shownFirst) })),
      });
    } catch (e) {
      if (!this.team || !(e instanceof PairFullError)) throw e;
      // the pair got its k labels from others while this card was open (its claim had expired): nothing
      // was stored; the card is spent, any claim left on the pair is handed back, and the next claim follows
      if (this.live.get(m.pairIdx) === live) this.live.delete(m.pairIdx);
      await this.store.write((tx) => tx.releaseClaims(this.dataset.id, this.annotator.id));
      this.team.history = this.team.history.filter((i) => i !== m.pairIdx);
      this.team.pos = this.team.history.length - 1;
      this.labelled = undefined;
      const next = await this.claimNext();
      this.current = next;
      throw new PairTakenError(`pair ${m.pairIdx} of ${this.dataset.name} got the ${this.team.overlap} label${this.team.overlap === 1 ? '' : 's'} it needs from others while its card was open (your claim had expired); your label was not stored. ${next === undefined ? 'No pair is left for you.' : `On to pair ${next}.`}`, m.pairIdx, next);
    }
    // committed: this card is spent
    if (this.live.get(m.pairIdx) === live) this.live.delete(m.pairIdx);
    const after = await this.store.changeStamp();
    if (this.labelled && this.labelled.stamp === before) this.labelled = { n: this.labelled.n + (pair.hadLabel ? 0 : 1), stamp: after };
    else this.labelled = undefined;
    if (this.ahead && this.ahead.stamp === before && !this.ahead.cards.some((c) => c.info.pairIdx === pair.pairIdx)) this.ahead.stamp = after;
    else this.ahead = undefined;
    pair.hadLabel = true;
    const prefs = await this.store.preferencesForPairs([pair.rowId]);
    return this.modelViews(prefs, value, shownFirst);
  }

  /** Undo the latest submission; the workbench goes back to that pair. */
  async undo(): Promise<boolean> {
    const idx = await this.store.undoWorkbenchLabel(this.annotator.id, this.dataset.id);
    this.ahead = undefined;
    if (idx !== undefined) this.live.delete(idx); // a card of the pair from before the undo is stale
    this.labelled = undefined;
    if (idx === undefined) return false;
    this.current = idx;
    if (this.team) {
      this.team.history = [...this.team.history.filter((i) => i !== idx), idx];
      this.team.pos = this.team.history.length - 1;
    }
    return true;
  }
}
