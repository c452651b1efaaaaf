// The typed protocol between the workbench webview (webview/workbench) and its panel
// (src/extension/workbenchPanel.ts), and the host-side validator. Free of `vscode` imports so it can be
// unit-tested and bundled into both sides. Every message from the webview is untrusted:
// `parseWorkbenchMessage` accepts exactly the shapes below and rejects everything else (unknown type,
// wrong shape, extra keys, oversized payload).
// The preference words in these messages are those of src/core/preferences.ts.
import type { Turn } from '../core/hhrlhf';
import {
  type GridChoice,
  type OverallChoice,
  type ShownPreference,
  isGridChoice,
  isOverallChoice,
} from '../core/preferences';
import { exactKeys, isIdx, isObj, LIMITS, type ParseResult } from './messageChecks';

export type QueueFilter = { kind: 'all' } | { kind: 'disagree'; model: string } | { kind: 'conflict' };

export interface ModelView {
  name: string;
  kind: string;
  /** The model's choice in shown (A/B) terms; null when missing. */
  choice: ShownPreference;
  disagrees: boolean;
}

export interface ExistingLabel {
  overall: OverallChoice | null;
  grid: GridChoice[];
  rationale: string;
  flagged: boolean;
}

export interface CardView {
  seq: number;
  dataset: string;
  annotator: string;
  /** On a team's database: who is signed in and in which role ("login alice · annotator"); null for a SQLite file. */
  signedIn: string | null;
  pairIdx: number;
  sourceId: string;
  turns: Turn[];
  /**
   * Responses A and B (as shown: see shownFirst) as HTML from their Markdown (src/core/responseMarkdown.ts:
   * raw HTML escaped, links and images as text). Dataset text: the webview sanitises it before use.
   */
  responseAHtml: string;
  responseBHtml: string;
  /** Which response is shown as A: 0 = y0, 1 = y1. */
  shownFirst: 0 | 1;
  principleList: string;
  principles: { short: string; text: string }[];
  existing: ExistingLabel | null;
  /** Model judgments; null while blind (before this annotator has labelled the pair). */
  models: ModelView[] | null;
  /** Models judged this pair: a submission reveals them, so the card waits for the host's answer. */
  judged: boolean;
  progress: { labelled: number; total: number };
  filter: string;
  hasPrevious: boolean;
  hasNext: boolean;
}

/** A card of a read-ahead list: the card itself, or the seq of a card the previous list held. */
export type AheadEntry = CardView | number;

/**
 * Both ends of the read-ahead lists ('prefetch'). Each list repeats most of the previous one (at a
 * submission the first card is painted and one more is read), and every message to the webview passes
 * through VS Code's window, whose main thread the card shares: a card the previous list held goes by
 * its seq, so a list costs about one card, not five. The host's end sends (`entries`), the webview's
 * end reads (`cards`); both keep the previous list. A list whose seq refers to a card the receiving end
 * does not hold (a new page) is cut there: the cards after a gap are not the next ones.
 */
export class ReadAheadLists {
  private previous = new Map<number, CardView>();

  /** The host's end: the list to send for `cards`. */
  entries(cards: CardView[]): AheadEntry[] {
    const entries = cards.map((c) => (this.previous.has(c.seq) ? c.seq : c));
    this.previous = new Map(cards.map((c) => [c.seq, c]));
    return entries;
  }

  /** The webview's end: the cards of a list received. */
  cards(entries: AheadEntry[]): CardView[] {
    const cards: CardView[] = [];
    for (const e of entries) {
      const c = typeof e === 'number' ? this.previous.get(e) : e;
      if (!c) break;
      cards.push(c);
    }
    this.previous = new Map(cards.map((c) => [c.seq, c]));
    return cards;
  }

  /** The other end holds no list now (the host sent a card that replaces it, or a new page started). */
  forget(): void {
    this.previous.clear();
  }
}

/** hostMs: the host's time from receiving the message this answers to posting the answer (for the benchmarks). */
export type WorkbenchHostMessage =
  | { type: 'card'; card: CardView; hostMs?: number }
  /**
   * The next cards of the queue after the one shown, in order, read ahead: the webview paints the
   * first at a submission (before the label is committed) and prepares the others. A 'card' message
   * replaces them all. A card the previous list held is sent as its seq only (see ReadAheadLists).
   */
  | { type: 'prefetch'; cards: AheadEntry[] }
  /** The label submitted from card `seq` is committed; progress counts committed labels only. */
  | { type: 'saved'; pairIdx: number; seq: number; progress: { labelled: number; total: number }; hostMs?: number }
  /** The label submitted from card `seq` was not saved; `card` is the pair's card to submit it again from. */
  | { type: 'saveFailed'; pairIdx: number; seq: number; message: string; card: CardView | null }
  | { type: 'reveal'; pairIdx: number; models: ModelView[]; hostMs?: number }
  | { type: 'done'; dataset: string; message: string; progress: { labelled: number; total: number }; hostMs?: number }
  | { type: 'error'; message: string }
  /** Keybindings and commands; navigation and undo come back as webview messages, after the labels in flight. */
  | { type: 'command'; command: 'toggleFlag' | 'focusRationale' | 'submit' | 'next' | 'previous' | 'undo' };

export interface SubmitMessage {
  type: 'submit';
  seq: number;
  pairIdx: number;
  overall: OverallChoice;
  grid: GridChoice[];
  rationale: string;
  flagged: boolean;
  /** The seq of the card read ahead that the webview painted at this submission; null when it waits for the host's next card. */
  ahead: number | null;
}

export type WorkbenchWebviewMessage =
  | { type: 'ready'; restore: { dataset: string; pairIdx: number } | null }
  | SubmitMessage
  | { type: 'skip'; pairIdx: number }
  | { type: 'navigate'; direction: 'next' | 'previous' }
  | { type: 'undo' }
  | { type: 'advance' }
  | { type: 'painted'; seq: number; ms: number };

/** Validates one message from the webview. Never throws. */
export function parseWorkbenchMessage(raw: unknown): ParseResult<WorkbenchWebviewMessage> {
  let size: number;
  try {
    size = JSON.stringify(raw)?.length ?? 0;
  } catch {
    return { ok: false, reason: 'not serialisable' };
  }
  if (size > LIMITS.maxMessageChars)
    return { ok: false, reason: `oversized message (${size} chars > ${LIMITS.maxMessageChars})` };
  if (!isObj(raw)) return { ok: false, reason: 'not an object' };
  const bad = (reason: string): ParseResult<WorkbenchWebviewMessage> => ({
    ok: false,
    reason: `${String(raw.type).slice(0, 40)}: ${reason}`,
  });
  switch (raw.type) {
    case 'ready': {
      const e = exactKeys(raw, ['type', 'restore']);
      if (e) return bad(e);
      const r = raw.restore;
      if (r === null) return { ok: true, message: { type: 'ready', restore: null } };
      if (
        !isObj(r) ||
        exactKeys(r, ['dataset', 'pairIdx']) ||
        typeof r.dataset !== 'string' ||
        r.dataset.length > LIMITS.maxNameChars ||
        !isIdx(r.pairIdx)
      )
        return bad('bad restore');
      return { ok: true, message: { type: 'ready', restore: { dataset: r.dataset, pairIdx: r.pairIdx } } };
    }
    case 'submit': {
      const e = exactKeys(raw, ['type', 'seq', 'pairIdx', 'overall', 'grid', 'rationale', 'flagged', 'ahead']);
      if (e) return bad(e);
      if (!isIdx(raw.seq) || !isIdx(raw.pairIdx)) return bad('seq and pairIdx must be non-negative integers');
      if (raw.ahead !== null && !isIdx(raw.ahead)) return bad('ahead must be a card seq or null');
      if (!isOverallChoice(raw.overall)) return bad('overall must be A, B, tie or both_unacceptable');
      if (!Array.isArray(raw.grid) || raw.grid.length > LIMITS.maxGridRows || !raw.grid.every(isGridChoice))
        return bad('grid must be a list of A, B, neither or null');
      if (typeof raw.rationale !== 'string' || raw.rationale.length > LIMITS.maxRationaleChars)
        return bad(`rationale must be a string of at most ${LIMITS.maxRationaleChars} characters`);
      if (typeof raw.flagged !== 'boolean') return bad('flagged must be a boolean');
      return {
        ok: true,
        message: {
          type: 'submit',
          seq: raw.seq,
          pairIdx: raw.pairIdx,
          overall: raw.overall,
          grid: raw.grid as GridChoice[],
          rationale: raw.rationale,
          flagged: raw.flagged,
          ahead: raw.ahead,
        },
      };
    }
    case 'skip': {
      const e = exactKeys(raw, ['type', 'pairIdx']);
      if (e) return bad(e);
      if (!isIdx(raw.pairIdx)) return bad('pairIdx must be a non-negative integer');
      return { ok: true, message: { type: 'skip', pairIdx: raw.pairIdx } };
    }
    case 'navigate': {
      const e = exactKeys(raw, ['type', 'direction']);
      if (e) return bad(e);
      if (raw.direction !== 'next' && raw.direction !== 'previous') return bad('direction must be next or previous');
      return { ok: true, message: { type: 'navigate', direction: raw.direction } };
    }
    case 'undo':
    case 'advance': {
      const e = exactKeys(raw, ['type']);
      if (e) return bad(e);
      return { ok: true, message: { type: raw.type } };
    }
    case 'painted': {
      const e = exactKeys(raw, ['type', 'seq', 'ms']);
      if (e) return bad(e);
      if (!isIdx(raw.seq) || typeof raw.ms !== 'number' || !Number.isFinite(raw.ms) || raw.ms < 0)
        return bad('bad timing');
      return { ok: true, message: { type: 'painted', seq: raw.seq, ms: raw.ms } };
    }
    default:
      return { ok: false, reason: `unknown message type ${JSON.stringify(String(raw.type)).slice(0, 60)}` };
  }
}
