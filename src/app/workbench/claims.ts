// Team mode (the dataset has a work split): the cards are handed out by claims. The session holds one claim
// at a time, renews it on a timer while the card is open, walks back through the pairs it was handed, and at
// the end of its queue waits for a pair to be freed (another annotator's claim expiring, claims released, a
// label undone).
import { UsageError } from '../../core/errors';
import type { AnnotatorRow, DatasetRow, Store } from '../../store';

/** A label refused because the pair already holds its k labels: nothing stored; the session has moved on to its next claim. */
export class PairTakenError extends UsageError {
  constructor(
    message: string,
    readonly pairIdx: number,
    readonly nextIdx: number | undefined,
  ) {
    super(message);
    this.name = 'PairTakenError';
  }
}

const labels = (k: number) => `${k} label${k === 1 ? '' : 's'}`;

export class TeamClaims {
  /** The pairs this session was handed by claims, in the order shown (previous / next walk it; past its end the next claim). */
  private history: number[] = [];
  private pos = -1;
  /** The claim held now. */
  claim: { pairIdx: number; pairRowId: number } | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly store: Store,
    private readonly dataset: DatasetRow,
    private readonly annotator: AnnotatorRow,
    readonly overlap: number,
    private readonly ttlMs: number,
    private readonly now: () => number,
    private readonly log?: (message: string) => void,
  ) {}

  /** Renews the claim every third of its TTL (at least every second) until `stopRenewing`. */
  renewOnTimer(): void {
    const every = Math.max(1000, Math.floor(this.ttlMs / 3));
    this.timer = setInterval(
      () =>
        void this.renew().catch((e: unknown) =>
          this.log?.(`workbench: the claim could not be renewed: ${(e as Error)?.message ?? e}`),
        ),
      every,
    );
    this.timer.unref?.();
  }

  stopRenewing(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Extends the claim; false when there is none or it is gone (it expired). */
  async renew(): Promise<boolean> {
    const claim = this.claim;
    if (!claim) return false;
    const kept = await this.store.write((tx) =>
      tx.renewClaim(claim.pairRowId, this.annotator.id, this.now(), this.ttlMs),
    );
    if (!kept) {
      this.log?.(
        `workbench: the claim on pair ${claim.pairIdx} of ${this.dataset.name} had expired; a label on it is stored only while the pair still needs one`,
      );
      if (this.claim === claim) this.claim = undefined; // said once; the next claim renews again
    }
    return kept;
  }

  /** The next pair by claim (this annotator's live claim first), appended to the pairs handed out; undefined when none is left. */
  async claimNext(): Promise<number | undefined> {
    const pairIdx = await this.store.claimNextPair(this.dataset.id, this.annotator.id, this.now(), this.ttlMs);
    if (pairIdx === undefined) {
      this.claim = undefined;
      return undefined;
    }
    const pair = await this.store.workbenchPair(this.dataset.id, pairIdx);
    this.claim = pair ? { pairIdx, pairRowId: pair.pairRowId } : undefined;
    if (this.history[this.history.length - 1] !== pairIdx) this.history.push(pairIdx);
    this.pos = this.history.length - 1;
    return pairIdx;
  }

  private async hasOwnLabel(pairIdx: number): Promise<boolean> {
    const pair = await this.store.workbenchPair(this.dataset.id, pairIdx);
    return !!pair && (await this.store.labelState(this.annotator.id, pair.pairRowId)).preference !== null;
  }

  /** In how many ms (by the database's clock) the first of the others' live claims on this dataset expires; undefined when none. */
  othersClaimFreedInMs(): Promise<number | undefined> {
    return this.store.claimFreedInMs(this.dataset.id, this.annotator.id, this.now());
  }

  /**
   * Previous / next walk the pairs this session was handed; next past the last one claims the next pair
   * (while the claimed pair has no label from this annotator, that is the same pair). Resolves with the pair
   * to show (`current` when it stays) and whether it moved.
   */
  async move(
    direction: 'next' | 'previous',
    current: number | undefined,
  ): Promise<{ current: number | undefined; moved: boolean }> {
    if (direction === 'previous') {
      if (this.pos <= 0) return { current, moved: false };
      return { current: this.history[--this.pos], moved: true };
    }
    if (this.pos < this.history.length - 1) return { current: this.history[++this.pos], moved: true };
    const pairIdx = await this.claimNext();
    if (pairIdx === undefined) {
      // nothing left to claim: the end of this annotator's queue (unless the pair shown still wants its label)
      return {
        current: current !== undefined && (await this.hasOwnLabel(current)) ? undefined : current,
        moved: false,
      };
    }
    return { current: pairIdx, moved: pairIdx !== current };
  }

  /** Whether pair `pairIdx` (which exists) may be shown: one handed to this annotator, or one it labelled. */
  async goTo(pairIdx: number): Promise<boolean> {
    if (this.history.includes(pairIdx)) {
      this.pos = this.history.indexOf(pairIdx);
      return true;
    }
    const pair = (await this.store.workbenchPair(this.dataset.id, pairIdx))!;
    if ((await this.store.labelState(this.annotator.id, pair.pairRowId)).preference === null) return false;
    this.history.push(pairIdx);
    this.pos = this.history.length - 1;
    return true;
  }

  /** The pair a card's "previous" goes back to (undefined at the first pair handed out). */
  previous(): number | undefined {
    return this.pos > 0 ? this.history[this.pos - 1] : undefined;
  }

  /** Pair `pairIdx` was just labelled: it is where the walk is (a pair reached by goTo or undo is added). */
  submitted(pairIdx: number): void {
    if (this.history[this.pos] === pairIdx) return;
    this.history.push(pairIdx);
    this.pos = this.history.length - 1;
  }

  /** Pair `pairIdx` was just undone: it comes last in the walk, and the walk is there. */
  undone(pairIdx: number): void {
    this.history = [...this.history.filter((i) => i !== pairIdx), pairIdx];
    this.pos = this.history.length - 1;
  }

  /**
   * Pair `pairIdx` got its k labels from others while its card was open (its claim had expired): any claim left
   * on it is handed back, it leaves the walk, and the next claim follows. The error says so.
   */
  async taken(pairIdx: number): Promise<PairTakenError> {
    await this.store.write((tx) => tx.releaseClaims(this.dataset.id, this.annotator.id));
    this.history = this.history.filter((i) => i !== pairIdx);
    this.pos = this.history.length - 1;
    const next = await this.claimNext();
    return new PairTakenError(
      `pair ${pairIdx} of ${this.dataset.name} got the ${labels(this.overlap)} it needs from others while its card was open (your claim had expired); your label was not stored. ${next === undefined ? 'No pair is left for you.' : `On to pair ${next}.`}`,
      pairIdx,
      next,
    );
  }

  doneMessage(): string {
    return `No pair left for you: every pair of ${this.dataset.name} has its ${labels(this.overlap)}, is claimed by others, or has yours.`;
  }
}

/** What a wait for a freed pair calls: `run` puts each retry in line with the caller's other steps; `onFreed` follows a claimed pair. */
export interface FreedPairHooks {
  run(step: () => Promise<void>): Promise<void>;
  onFreed(): Promise<void>;
}

/**
 * Team mode at the end of the queue: retries the claim when the first of the other annotators' claims
 * expires (a little after, so that it has) and whenever a write is heard, until a pair is claimed or `stop`.
 */
export class FreedPairWait {
  private hooks: FreedPairHooks | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly session: {
      claimFreedPair(): Promise<boolean>;
      othersClaimFreedInMs(): Promise<number | undefined>;
    },
    private readonly now: () => number,
  ) {}

  async begin(hooks: FreedPairHooks): Promise<void> {
    this.stop();
    this.hooks = hooks;
    await this.schedule(hooks);
  }

  /** A write was heard (another window or process): retry now, when waiting. */
  heard(): Promise<void> {
    const hooks = this.hooks;
    return hooks ? hooks.run(() => this.retry(hooks)) : Promise.resolve();
  }

  stop(): void {
    this.hooks = undefined;
    this.clearTimer();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async schedule(hooks: FreedPairHooks): Promise<void> {
    const inMs = await this.session.othersClaimFreedInMs();
    if (inMs === undefined || this.hooks !== hooks) return;
    this.timer = setTimeout(() => void hooks.run(() => this.retry(hooks)), Math.max(50, inMs + 50));
    this.timer.unref?.();
  }

  private async retry(hooks: FreedPairHooks): Promise<void> {
    if (this.hooks !== hooks) return;
    if (await this.session.claimFreedPair()) {
      this.stop();
      await hooks.onFreed();
      return;
    }
    this.clearTimer();
    await this.schedule(hooks);
  }
}
