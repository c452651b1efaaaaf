// The typed protocol between the review webview (webview/review, "Discretion: Review Disagreements") and its
// panel (src/extension/reviewPanel.ts), and the host-side validator. Free of `vscode` imports so it can be
// unit-tested and bundled into both sides. Every message from the webview is untrusted: `parseReviewMessage`
// accepts exactly the shapes below and nothing else.
import { LABEL_OVERALL, LABEL_PRINCIPLE } from '../core/preferences';
import { exactKeys, isName, isObj, LIMITS } from './messageChecks';

/** The review queue as the webview shows it (src/app/review.ts's ReviewQueue). Every string is data: shown as text. */
export interface ReviewQueueView {
  dataset: string;
  principle: string | null;
  pairs: number;
  disagreeing: number;
  adjudicated: number;
  items: {
    pair: string;
    pairIdx: number;
    prompt: string;
    y0: string;
    y1: string;
    labels: {
      annotator: string;
      overall: string;
      principle: string | null;
      rationale: string | null;
      flagged: boolean;
    }[];
    adjudicated: { label: string; rationale: string | null } | null;
  }[];
}

export type ReviewHostMessage =
  | { type: 'datasets'; datasets: string[]; current: string | null }
  | { type: 'queue'; queue: ReviewQueueView }
  /** The adjudication of a pair was stored. */
  | { type: 'adjudicated'; pair: string; label: string; rationale: string | null }
  | { type: 'status'; text: string; error?: boolean };

export type ReviewWebviewMessage =
  | { type: 'ready' }
  | { type: 'load'; dataset: string; principle: string | null; pendingOnly: boolean }
  | { type: 'adjudicate'; dataset: string; pair: string; principle: string | null; label: string; rationale: string };

/** The labels an adjudication may store: overall words, or a principle's (src/core/preferences.ts). */
export const reviewLabelWords = (principle: string | null): string[] =>
  Object.keys(principle === null ? LABEL_OVERALL : LABEL_PRINCIPLE);

/** Validates one message from the review webview; null for anything but exactly the shapes above. Never throws. */
export function parseReviewMessage(raw: unknown): ReviewWebviewMessage | null {
  if (!isObj(raw)) return null;
  switch (raw.type) {
    case 'ready':
      return exactKeys(raw, ['type']) ? null : { type: 'ready' };
    case 'load':
      if (
        exactKeys(raw, ['type', 'dataset', 'principle', 'pendingOnly']) ||
        !isName(raw.dataset) ||
        (raw.principle !== null && !isName(raw.principle)) ||
        typeof raw.pendingOnly !== 'boolean'
      )
        return null;
      return {
        type: 'load',
        dataset: raw.dataset,
        principle: raw.principle as string | null,
        pendingOnly: raw.pendingOnly,
      };
    case 'adjudicate': {
      if (
        exactKeys(raw, ['type', 'dataset', 'pair', 'principle', 'label', 'rationale']) ||
        !isName(raw.dataset) ||
        !isName(raw.pair)
      )
        return null;
      if (raw.principle !== null && !isName(raw.principle)) return null;
      const principle = raw.principle as string | null;
      if (typeof raw.label !== 'string' || !reviewLabelWords(principle).includes(raw.label)) return null;
      if (typeof raw.rationale !== 'string' || raw.rationale.length > LIMITS.maxRationaleChars) return null;
      return {
        type: 'adjudicate',
        dataset: raw.dataset,
        pair: raw.pair,
        principle,
        label: raw.label,
        rationale: raw.rationale,
      };
    }
    default:
      return null;
  }
}
