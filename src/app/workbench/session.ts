// The workbench session: one annotator on one dataset with one principle list. Shows one pair at a time
// (solo mode: the queue in queue.ts; team mode: claims in claims.ts), builds and reads ahead its cards
// (cards.ts), records submissions and undo (labels.ts). Free of `vscode`: the extension's panel drives it,
// and it is tested against real SQLite files and PostgreSQL.
import { labellerFor } from '../team';
import { UsageError } from '../../core/errors';
import { PairFullError, type AnnotatorRow, type DatasetRow, type PrincipleListRow, type Store } from '../../store';
import { choiceToValue, shownFirstFor } from '../../core/preferences';
import type { CardView, ModelView, QueueFilter, SubmitMessage } from '../../shared/workbenchProtocol';
import { CardCache, modelViews } from './cards';
import { FreedPairWait, TeamClaims, type FreedPairHooks } from './claims';
import { saveLabel, undoLastLabel } from './labels';
import { SoloQueue } from './queue';

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
  current: number | undefined;
  private principleRowIds: number[] = [];
  /** This annotator's labelled count, kept up to date by submissions; recounted when `stamp` moves. */
  private labelled: { n: number; stamp: string } | undefined;
  private readonly queue: SoloQueue;
  /** Team mode (the dataset has a work split): the claims, and the wait for a freed pair at the end of the queue. */
  private readonly team: TeamClaims | undefined;
  private readonly wait: FreedPairWait | undefined;
  private readonly cards: CardCache;

  private constructor(
    readonly store: Store,
    readonly dataset: DatasetRow,
    readonly annotator: AnnotatorRow,
    readonly list: PrincipleListRow,
    private readonly total: number,
    overlap: number | null,
    options: SessionOptions,
    signedIn: string | null,
  ) {
    this.queue = new SoloQueue(store, dataset, annotator);
    if (overlap !== null) {
      const now = options.now ?? Date.now;
      this.team = new TeamClaims(store, dataset, annotator, overlap, options.claimTtlMs ?? 600_000, now, options.log);
      this.wait = new FreedPairWait(this, now);
    }
    this.cards = new CardCache(store, dataset, annotator, list, total, this.queue, this.team, signedIn);
  }

  static async open(
    store: Store,
    opts: { dataset: string; annotator: string; principleList: string },
    options: SessionOptions = {},
  ): Promise<WorkbenchSession> {
    const dataset = await store.requireDataset(opts.dataset);
    const list = await store.requirePrincipleList(opts.principleList);
    // On a team's database the login decides who labels (the name given must be its annotator's); a SQLite
    // file labels under the name given.
    const who = await store.identity();
    const name = await labellerFor(store, opts.annotator, who);
    // Opening writes only when it has something to record: a new annotator, or a first workbench use. A team
    // member's annotator exists (team add made it) and is the lead's to change.
    const known = await store.getAnnotator(name);
    const annotator =
      known && known.kind === 'human' && (who.role !== null || known.provenance?.source === 'workbench')
        ? known
        : await store.write((tx) => tx.ensureAnnotator(name, 'human', { source: 'workbench' }));
    const signedIn =
      who.login === null ? null : `login ${who.login} · ${who.role ?? (who.owner ? 'owner' : 'no team role')}`;
    const total = await store.countPairs(dataset.id);
    const principleRowIds = await store.principleRowIds(list.id);
    const split = await store.workSplit(dataset.id);
    const s = new WorkbenchSession(store, dataset, annotator, list, total, split.overlap, options, signedIn);
    s.principleRowIds = principleRowIds;
    if (s.team && options.renewTimer !== false) s.team.renewOnTimer();
    return s;
  }

  /** The dataset has a work split: the next card is handed out by a claim. */
  get claimMode(): boolean {
    return this.team !== undefined;
  }

  /** Whether cards are handed out by claims (the dataset has a work split). */
  get isTeam(): boolean {
    return this.team !== undefined;
  }

  /** The pair this session holds a claim on (team mode). */
  get claimedIdx(): number | undefined {
    return this.team?.claim?.pairIdx;
  }

  get filter(): QueueFilter {
    return this.queue.filter;
  }

  /** Stops renewing the claim and waiting for a freed pair (the panel closed or took another session). The claim itself expires after its TTL. */
  dispose(): void {
    this.team?.stopRenewing();
    this.wait?.stop();
  }

  /** Extends this session's claim (team mode); false when there is none or it is gone (it expired). */
  async renewClaim(): Promise<boolean> {
    return this.team ? this.team.renew() : false;
  }

  /** Team mode: in how many ms (by the database's clock) the first of the others' live claims on this dataset expires; undefined when none. */
  async othersClaimFreedInMs(): Promise<number | undefined> {
    return this.team?.othersClaimFreedInMs();
  }

  /** Team mode at the end of the queue: claims a pair freed since (an expired or released claim); true when one was. */
  async claimFreedPair(): Promise<boolean> {
    if (!this.team || this.current !== undefined) return false;
    const pairIdx = await this.team.claimNext();
    if (pairIdx === undefined) return false;
    this.current = pairIdx;
    return true;
  }

  /**
   * Team mode at the end of the queue: waits for a pair to be freed (another annotator's claim expiring,
   * claims released, a label undone), retrying the claim when the first of the others' claims expires and at
   * every `writeHeard`; once one is claimed (it is `current`), `hooks.onFreed`. Until `stopWaiting` or dispose.
   */
  async waitForFreedPair(hooks: FreedPairHooks): Promise<void> {
    await this.wait?.begin(hooks);
  }

  /** Another window or process wrote to the database: a wait for a freed pair retries now. */
  writeHeard(): Promise<void> {
    return this.wait?.heard() ?? Promise.resolve();
  }

  stopWaiting(): void {
    this.wait?.stop();
  }

  /** What the end of the queue says. */
  doneMessage(): string {
    if (this.team) return this.team.doneMessage();
    return this.filter.kind === 'all' ? 'No pairs to show.' : `No pairs in the queue "${this.filterLabel()}".`;
  }

  /** Where to start: team mode, the claim (this annotator's live claim first, so a reload resumes it); else see SoloQueue.start. */
  async start(restoreIdx?: number): Promise<number | undefined> {
    this.current = this.team ? await this.team.claimNext() : await this.queue.start(restoreIdx);
    return this.current;
  }

  async setFilter(filter: QueueFilter): Promise<number | undefined> {
    if (this.team && filter.kind !== 'all')
      throw new UsageError(
        `${this.dataset.name} is split among a team: its pairs are handed out by claims, so the queue cannot be filtered`,
      );
    await this.queue.setFilter(filter);
    this.cards.forgetAhead();
    const first = await this.queue.step(-1, 1);
    if (first !== undefined) this.current = first;
    return first;
  }

  filterLabel(): string {
    return this.queue.label();
  }

  /** Moves to the next/previous pair of the queue; returns false at the end. */
  async move(direction: 'next' | 'previous'): Promise<boolean> {
    if (this.team) {
      const { current, moved } = await this.team.move(direction, this.current);
      this.current = current;
      return moved;
    }
    if (this.current === undefined) return false;
    const pairIdx = await this.queue.step(this.current, direction === 'next' ? 1 : -1);
    if (pairIdx === undefined) return false;
    this.current = pairIdx;
    return true;
  }

  /** Moves to pair `pairIdx` of the dataset (a link from the dashboard); false when there is no such pair. */
  async goTo(pairIdx: number): Promise<boolean> {
    if (!Number.isInteger(pairIdx) || !(await this.store.workbenchPair(this.dataset.id, pairIdx))) return false;
    // team mode: only the pairs handed to this annotator, and those it labelled
    if (this.team && !(await this.team.goTo(pairIdx))) return false;
    this.current = pairIdx;
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
    this.cards.positionSaved(before, after);
  }

  /**
   * Labelled / total for this annotator. Counted once (a COUNT over the dataset's pairs), then kept
   * up to date by submit(); recounted only when anything else wrote to the database (see changeStamp).
   */
  async progress() {
    const stamp = await this.store.changeStamp();
    if (this.labelled?.stamp !== stamp)
      this.labelled = { n: await this.store.labelledCount(this.dataset.id, this.annotator.id), stamp };
    return { labelled: this.labelled.n, total: this.total };
  }

  async card(): Promise<CardView | undefined> {
    if (this.current === undefined) return undefined;
    const built = await this.cards.build(this.current);
    if (!built) return undefined;
    return { ...built.view, progress: await this.progress() };
  }

  /**
   * Reads the next cards of the queue after the current pair (call after a card is shown or a
   * submission committed); see CardCache.readAhead.
   */
  async readAhead(): Promise<CardView[]> {
    // team mode: the next pair is claimed only once this one is labelled, so nothing is read ahead
    if (this.current === undefined || this.team) {
      this.cards.forgetAhead();
      return [];
    }
    return this.cards.readAhead(this.current);
  }

  /**
   * The card read ahead for the current pair (the first of them), when nothing has been written to
   * the database since it was read (other than this session's own submissions); else undefined.
   */
  async takeAhead(): Promise<CardView | undefined> {
    const view = await this.cards.takeAhead(this.current);
    return view && { ...view, progress: await this.progress() };
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
      this.cards.forgetAhead();
      this.team.submitted(submitted);
      await this.move('next');
      return false;
    }
    const stands = await this.cards.followAhead(submitted, painted);
    if (stands !== undefined) {
      this.current = stands;
      return true;
    }
    await this.move('next');
    return false;
  }

  /**
   * Records a submission in one transaction. Returns the model views now revealed on this pair.
   * Accepted only from the card the pair was last sent with (its seq), once: a submission from an
   * older card of the pair, or a second one from the same card, is refused and changes nothing.
   */
  async submit(m: SubmitMessage): Promise<ModelView[]> {
    const live = this.cards.liveCard(m);
    if (m.grid.length !== this.list.principles.length)
      throw new UsageError(
        `the principle grid has ${m.grid.length} rows, the list ${this.list.principles.length}; nothing was saved`,
      );
    // What was read before this write (the count, the cards read ahead) stays exact only when
    // nothing else has written since; this session's own write below touches only this pair.
    const before = await this.store.changeStamp();
    const pair = live.info;
    const shownFirst = shownFirstFor(this.annotator.name, this.dataset.name, pair.sourceId);
    const value = choiceToValue(m.overall, shownFirst);
    try {
      await saveLabel(this.store, this.annotator.id, pair.pairRowId, {
        value,
        raw: { choice: m.overall, source: 'workbench', principleList: `${this.list.name}@${this.list.version}` },
        shownFirst,
        rationale: m.rationale.trim(),
        flagged: m.flagged,
        principles: m.grid.map((g, i) => ({
          principleRowId: this.principleRowIds[i],
          value: g === null ? null : choiceToValue(g, shownFirst),
        })),
      });
    } catch (e) {
      if (!this.team || !(e instanceof PairFullError)) throw e;
      // the pair got its k labels from others while this card was open (its claim had expired): nothing
      // was stored; the card is spent, and the session moves to its next claim
      this.cards.spend(m.pairIdx, live);
      this.labelled = undefined;
      const taken = await this.team.taken(m.pairIdx);
      this.current = taken.nextIdx;
      throw taken;
    }
    // committed: this card is spent
    this.cards.spend(m.pairIdx, live);
    const after = await this.store.changeStamp();
    if (this.labelled && this.labelled.stamp === before)
      this.labelled = { n: this.labelled.n + (pair.hadLabel ? 0 : 1), stamp: after };
    else this.labelled = undefined;
    this.cards.labelled(pair.pairIdx, before, after);
    pair.hadLabel = true;
    const prefs = await this.store.preferencesForPairs([pair.pairRowId]);
    return modelViews(prefs, value, shownFirst);
  }

  /** Undo the latest submission; the workbench goes back to that pair. */
  async undo(): Promise<boolean> {
    const pairIdx = await undoLastLabel(this.store, this.annotator.id, this.dataset.id);
    this.cards.forgetPair(pairIdx); // a card of the pair from before the undo is stale
    this.labelled = undefined;
    if (pairIdx === undefined) return false;
    this.current = pairIdx;
    this.team?.undone(pairIdx);
    return true;
  }
}
