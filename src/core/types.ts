// Domain types shared by the core, the store, the importers, the CLI and the extension.
// Sign convention (spec section 1): +1 prefers y1, -1 prefers y0, 0 = no preference.

// (The preference values themselves are defined with the rest of the preference vocabulary, preferences.ts.)
import type { StoredPreference } from './preferences';

/** `ensemble`: a derived annotator aggregating reward models (consistency spec section 3). */
export const ANNOTATOR_KINDS = [
  'human',
  'reward-model',
  'llm-judge',
  'oracle',
  'policy-model',
  'ensemble',
  'adjudicator',
] as const;
export type AnnotatorKind = (typeof ANNOTATOR_KINDS)[number];

/** The annotator the review's adjudicated labels are stored as (kind 'adjudicator'). */
export const ADJUDICATOR_NAME = 'adjudicated';

export interface Pair {
  /** The pair index: its place in its dataset (the 0-based source line/row for imported files). */
  idx: number;
  /** The conversation so far (HH-RLHF: the shared context, with its "\n\nHuman:"/"\n\nAssistant:" markers). */
  prompt: string;
  y0: string;
  y1: string;
  /** Where the pair came from in its file (line or row number as a string, or the dataset's own id). */
  sourceId: string;
  /** Dataset-native fields we do not model (harm categories, severity, ...). */
  meta?: Record<string, unknown>;
}

export interface Principle {
  /** Stable id within its list (e.g. "p0" or a user-chosen slug); the 0-based position is the list order. */
  id: string;
  short: string;
  text: string;
}

export interface PrincipleList {
  name: string;
  principles: Principle[];
}

export interface OverallPreference {
  pairIdx: number;
  value: StoredPreference;
  /** Raw numbers the value was derived from (rewards, probabilities, log-likelihoods), kept to re-derive. */
  raw?: Record<string, unknown> | null;
  /** Score of y0 / y1 where the annotator produces scalar scores (rewards, log-likelihoods). */
  scoreY0?: number | null;
  scoreY1?: number | null;
  /** Which response was shown first (as "A") to the annotator: 0 = y0, 1 = y1; null when unknown. */
  shownFirst?: 0 | 1 | null;
  rationale?: string | null;
  flagged?: boolean;
}

export interface PrinciplePreference {
  pairIdx: number;
  /** 0-based position of the principle in its list. */
  principleIndex: number;
  value: StoredPreference;
  probA?: number | null;
  probB?: number | null;
  probNA?: number | null;
  /** Which response was shown first (as "A"): 0 = y0, 1 = y1; null when unknown (as OverallPreference's). */
  shownFirst?: 0 | 1 | null;
  raw?: Record<string, unknown> | null;
}
