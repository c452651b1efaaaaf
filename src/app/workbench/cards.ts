// The cards of a workbench session: each built from one pair (never the whole dataset), the card each pair
// was last sent with (a submission is accepted only from it, once), and the next cards of the queue read
// ahead while the annotator works, kept only while nothing else has written to the database.
import { UsageError } from '../../core/errors';
import { splitTurns } from '../../core/hhrlhf';
import { shownFirstFor, storedToOverall, valueToGrid, valueToSide, type GridChoice } from '../../core/preferences';
import { responseHtml } from '../../core/responseMarkdown';
import type { AnnotatorRow, DatasetRow, PrincipleListRow, Store } from '../../store';
import type { CardView, ExistingLabel, ModelView, SubmitMessage } from '../../shared/workbenchProtocol';
import type { TeamClaims } from './claims';
import type { SoloQueue } from './queue';

const MODEL_KINDS = new Set(['reward-model', 'llm-judge', 'policy-model']);

/**
 * How many cards of the queue the webview holds ahead of the one shown (it paints one at a submit): the
 * submissions it can take before the host's next list arrives (each list adds one card read). Ten: on a
 * busy machine the host's answers fell more than five submissions behind a quick annotator now and then
 * (npm run bench:e2e: 1 to 2 cards in 200 waited for the host at five); a list sends each card once
 * (ReadAheadLists), so a longer one costs the webview only its first list. The webview's sanitised
 * responses (webview/workbench/markdown.ts) are kept for at least this many cards.
 */
export const READ_AHEAD = 10;
/** Cards whose submission would still be accepted (older ones are forgotten past this many). */
const MAX_LIVE_CARDS = 1000;

/** What a card says of its pair beyond the view: what a submission from it needs. */
export interface PairInfo {
  pairIdx: number;
  pairRowId: number;
  sourceId: string;
  hadLabel: boolean;
}
/** A card sent to the webview: its seq and its pair. */
export interface LiveCard {
  seq: number;
  info: PairInfo;
}

/** The model labels on a pair, as its card reveals them once this annotator's own label (`own`) is in. */
export function modelViews(
  prefs: Awaited<ReturnType<Store['preferencesForPairs']>>,
  own: number | null,
  shownFirst: 0 | 1,
): ModelView[] {
  return prefs
    .filter((p) => MODEL_KINDS.has(p.kind))
    .map((p) => ({
      name: p.annotator,
      kind: p.kind,
      choice: valueToSide(p.value, shownFirst),
      disagrees: own !== null && p.value !== null && p.value !== own,
    }));
}

export class CardCache {
  private seq = 0;
  /**
   * The card each pair was last sent to the webview with: a submission is accepted only with that
   * card's seq, once (an older card of the pair, or a second submit from one card, is stale).
   */
  private live = new Map<number, LiveCard>();
  /** The next cards of the queue after the current pair, in order, read ahead while the annotator works. */
  private ahead: { cards: { view: CardView; info: PairInfo }[]; stamp: string } | undefined;

  constructor(
    private readonly store: Store,
    private readonly dataset: DatasetRow,
    private readonly annotator: AnnotatorRow,
    private readonly list: PrincipleListRow,
    private readonly total: number,
    private readonly queue: SoloQueue,
    private readonly team: TeamClaims | undefined,
    private readonly signedIn: string | null,
  ) {}

  /** Everything of the card of pair `pairIdx` but the progress (read by the caller). */
  async build(pairIdx: number): Promise<{ view: CardView; info: PairInfo } | undefined> {
    const pair = await this.store.workbenchPair(this.dataset.id, pairIdx);
    if (!pair) return undefined;
    const shownFirst = shownFirstFor(this.annotator.name, this.dataset.name, pair.sourceId);
    const [a, b] = shownFirst === 0 ? [pair.y0, pair.y1] : [pair.y1, pair.y0];
    const prefs = await this.store.preferencesForPairs([pair.pairRowId]);
    const own = prefs.find((p) => p.annotator === this.annotator.name);
    let existing: ExistingLabel | null = null;
    if (own) {
      const pp = (await this.store.principlePreferencesForPairs([pair.pairRowId])).filter(
        (p) => p.annotator === this.annotator.name && p.list === this.list.name && p.listVersion === this.list.version,
      );
      const grid: GridChoice[] = this.list.principles.map((_, i) =>
        valueToGrid(pp.find((p) => p.position === i)?.value, shownFirst),
      );
      existing = {
        overall: storedToOverall(own.value, own.raw, shownFirst),
        grid,
        rationale: own.rationale ?? '',
        flagged: own.flagged === 1,
      };
    }
    const models = own ? modelViews(prefs, own.value, shownFirst) : null;
    // team mode: back through the pairs handed out here; forward to the next claim
    const previous = this.team ? this.team.previous() : await this.queue.step(pair.idx, -1);
    const next = this.team ? pair.idx : await this.queue.step(pair.idx, 1);
    const view: CardView = {
      seq: ++this.seq,
      dataset: this.dataset.name,
      annotator: this.annotator.name,
      signedIn: this.signedIn,
      pairIdx: pair.idx,
      sourceId: pair.sourceId,
      turns: splitTurns(pair.prompt),
      responseAHtml: responseHtml(a),
      responseBHtml: responseHtml(b),
      shownFirst,
      principleList: `${this.list.name}@${this.list.version}`,
      principles: this.list.principles.map((p) => ({ short: p.short, text: p.text })),
      existing,
      models,
      judged: prefs.some((p) => MODEL_KINDS.has(p.kind)),
      progress: { labelled: 0, total: this.total },
      filter: this.queue.label(),
      hasPrevious: previous !== undefined,
      hasNext: next !== undefined,
    };
    const info = { pairIdx: pair.idx, pairRowId: pair.pairRowId, sourceId: pair.sourceId, hadLabel: own !== undefined };
    this.live.delete(pair.idx); // (re-inserted last: the oldest cards are forgotten first)
    this.live.set(pair.idx, { seq: view.seq, info });
    if (this.live.size > MAX_LIVE_CARDS) this.live.delete(this.live.keys().next().value!);
    return { view, info };
  }

  /**
   * The card a submission comes from: only the card the pair was last sent with (its seq), once; a
   * submission from an older card of the pair, or a second one from the same card, is refused.
   */
  liveCard(m: SubmitMessage): LiveCard {
    const live = this.live.get(m.pairIdx);
    if (!live)
      throw new UsageError(
        `pair ${m.pairIdx} is not on a card the workbench has shown (or it was submitted already); nothing was saved`,
      );
    if (live.seq !== m.seq)
      throw new UsageError(
        `the card of pair ${m.pairIdx} is out of date (card ${m.seq}; the pair has been shown again since as card ${live.seq}); nothing was saved`,
      );
    return live;
  }

  /** The card was submitted (or refused for good): no second submission from it. */
  spend(pairIdx: number, live: LiveCard): void {
    if (this.live.get(pairIdx) === live) this.live.delete(pairIdx);
  }

  /** Every card of pair `pairIdx` is stale (its label was undone) and so are the cards read ahead. */
  forgetPair(pairIdx: number | undefined): void {
    this.ahead = undefined;
    if (pairIdx !== undefined) this.live.delete(pairIdx);
  }

  forgetAhead(): void {
    this.ahead = undefined;
  }

  /**
   * Reads the next READ_AHEAD cards of the queue after pair `current` (call after a card is shown or a
   * submission committed), keeping those already read while nothing else has written to the database.
   * The webview holds them, so that a submission paints the next card at once.
   */
  async readAhead(current: number): Promise<CardView[]> {
    const stamp = await this.store.changeStamp();
    const next = await this.queue.step(current, 1);
    let cards =
      this.ahead && this.ahead.stamp === stamp && this.ahead.cards[0]?.view.pairIdx === next ? this.ahead.cards : [];
    for (let pairIdx = cards.at(-1)?.view.pairIdx ?? current; cards.length < READ_AHEAD;) {
      const following = cards.length === 0 ? next : await this.queue.step(pairIdx, 1);
      const built = following === undefined ? undefined : await this.build(following);
      if (!built) break;
      cards = [...cards, built];
      pairIdx = built.view.pairIdx;
    }
    // the cards were read before any write since `stamp`; reading writes nothing
    this.ahead = { cards, stamp };
    return cards.map((c) => c.view);
  }

  /**
   * The card read ahead for pair `current` (the first of them), when nothing has been written to the
   * database since it was read (other than this session's own submissions); else undefined. Without
   * its progress (the caller's).
   */
  async takeAhead(current: number | undefined): Promise<CardView | undefined> {
    const a = this.ahead;
    if (!a || a.cards[0]?.view.pairIdx !== current || (await this.store.changeStamp()) !== a.stamp) {
      this.ahead = undefined;
      return undefined;
    }
    const { view } = a.cards.shift()!;
    const hasPrevious =
      this.queue.filter.kind === 'all' ? true : (await this.queue.step(view.pairIdx, -1)) !== undefined;
    return { ...view, filter: this.queue.label(), hasPrevious };
  }

  /**
   * After the submission of pair `submitted` committed, with `painted` the seq of the card read ahead that
   * the webview painted at the keystroke (null: none): that card's pair when it stands (it is the next pair
   * of the queue and nothing else has written since it was read), taken off the cards read ahead; else
   * undefined, and the cards read ahead are dropped.
   */
  async followAhead(submitted: number, painted: number | null): Promise<number | undefined> {
    const a = this.ahead;
    const head = a?.cards[0];
    if (
      painted !== null &&
      a &&
      head &&
      head.view.seq === painted &&
      this.live.get(head.view.pairIdx)?.seq === painted &&
      (await this.queue.step(submitted, 1)) === head.view.pairIdx &&
      (await this.store.changeStamp()) === a.stamp
    ) {
      a.cards.shift();
      return head.view.pairIdx;
    }
    this.ahead = undefined;
    return undefined;
  }

  /** This session saved its position, moving the database from stamp `before` to `after`: a position is not a label, so the cards read ahead stay exact. */
  positionSaved(before: string, after: string): void {
    if (this.ahead?.stamp === before) this.ahead.stamp = after;
  }

  /**
   * This session's label on pair `pairIdx` moved the database from stamp `before` to `after`: the cards read
   * ahead stay exact when nothing else wrote in between and none of them shows that pair.
   */
  labelled(pairIdx: number, before: string, after: string): void {
    if (this.ahead && this.ahead.stamp === before && !this.ahead.cards.some((c) => c.info.pairIdx === pairIdx))
      this.ahead.stamp = after;
    else this.ahead = undefined;
  }
}
