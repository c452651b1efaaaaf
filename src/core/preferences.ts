// The preference vocabulary, in one place: the stored values, the choices an annotator makes on a
// card (in the A/B order shown), the words of label and dataset files, and the conversions between
// them. Importers, export, the store, the workbench session, the webview protocol and the webview all
// use these; none spells a preference word of its own.
//
// Sign convention (spec section 1): +1 prefers y1, -1 prefers y0, 0 = no preference.
import { fnv1a32 } from './hash';

export type PreferenceValue = 1 | -1 | 0;
/** `null` = missing (never asked, failed, NA); kept distinct from an explicit 0 in storage. */
export type StoredPreference = PreferenceValue | null;

// ---- choices on a card, in shown (A/B) terms -----------------------------------------------------

export type Side = 'A' | 'B';
/** The overall choice on a card. 'tie' and 'both_unacceptable' both store 0; `raw.choice` tells them apart. */
export type OverallChoice = Side | 'tie' | 'both_unacceptable';
export const OVERALL_CHOICES: readonly OverallChoice[] = ['A', 'B', 'tie', 'both_unacceptable'];
/** A principle row of the card's grid; null = unanswered. */
export type GridChoice = Side | 'neither' | null;
export const GRID_CHOICES: readonly GridChoice[] = ['A', 'B', 'neither', null];
/** A stored preference seen in shown terms (a model's judgment on the card); null when missing. */
export type ShownPreference = Side | 'tie' | null;

/** How the card names each overall choice. */
export const OVERALL_CHOICE_LABEL: Readonly<Record<OverallChoice, string>> = {
  A: 'Response A',
  B: 'Response B',
  tie: 'Tie',
  both_unacceptable: 'Both unacceptable',
};

export const isOverallChoice = (v: unknown): v is OverallChoice => (OVERALL_CHOICES as readonly unknown[]).includes(v);
export const isGridChoice = (v: unknown): v is GridChoice => (GRID_CHOICES as readonly unknown[]).includes(v);

// ---- shown order ---------------------------------------------------------------------------------

/**
 * Which response is shown as A for this annotator and pair: 0 = y0, 1 = y1. Deterministic: the lowest
 * bit of FNV-1a over the three names, so every stored label keeps the order it was given in.
 */
export function shownFirstFor(annotator: string, dataset: string, sourceId: string): 0 | 1 {
  return (fnv1a32(`${annotator}\u0000${dataset}\u0000${sourceId}`) & 1) as 0 | 1;
}

/** A choice on the card (overall or grid) -> stored preference. */
export function choiceToValue(choice: OverallChoice | Exclude<GridChoice, null>, shownFirst: 0 | 1): PreferenceValue {
  if (choice !== 'A' && choice !== 'B') return 0;
  const picksY1 = (choice === 'A') === (shownFirst === 1);
  return picksY1 ? 1 : -1;
}

/** Stored preference -> shown side. */
export function valueToSide(value: StoredPreference | undefined, shownFirst: 0 | 1): ShownPreference {
  if (value === null || value === undefined) return null;
  if (value === 0) return 'tie';
  const y1 = value === 1;
  return y1 === (shownFirst === 1) ? 'A' : 'B';
}

/** A stored principle preference -> its grid row on the card. */
export function valueToGrid(value: StoredPreference | undefined, shownFirst: 0 | 1): GridChoice {
  if (value === null || value === undefined) return null;
  return value === 0 ? 'neither' : (valueToSide(value, shownFirst) as Side);
}

// ---- label files (the workbench's own format) ----------------------------------------------------

/** The words of a labels file's "overall" field. 'both-bad' is the file's word for both unacceptable. */
export const LABEL_OVERALL: Readonly<Record<string, PreferenceValue>> = { y0: -1, y1: 1, tie: 0, 'both-bad': 0 };
/** The words of a labels file's "principles" cells. */
export const LABEL_PRINCIPLE: Readonly<Record<string, PreferenceValue>> = { y0: -1, y1: 1, neither: 0 };
export const isLabelOverallWord = (v: unknown): v is string => typeof v === 'string' && Object.hasOwn(LABEL_OVERALL, v);
export const isLabelPrincipleWord = (v: unknown): v is string =>
  typeof v === 'string' && Object.hasOwn(LABEL_PRINCIPLE, v);

// ---- what `preferences.raw.choice` records -------------------------------------------------------

/**
 * The choice words that mean "both unacceptable" in a stored label's `raw.choice`: the workbench
 * records its OverallChoice, the label importer the file's word.
 */
const BOTH_UNACCEPTABLE_WORDS: ReadonlySet<unknown> = new Set(['both_unacceptable', 'both-bad']);

/** Whether a stored label's raw record (the JSON text or its object) says both responses were unacceptable. */
export function isBothUnacceptable(raw: string | Record<string, unknown> | null | undefined): boolean {
  if (raw === null || raw === undefined) return false;
  // raw is free JSON (judges keep their numbers in it); only a label that says "both" needs parsing.
  if (typeof raw === 'string') {
    if (!raw.includes('both')) return false;
    try {
      raw = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return false;
    }
    if (raw === null || typeof raw !== 'object') return false;
  }
  return BOTH_UNACCEPTABLE_WORDS.has(raw.choice);
}

/** A stored overall label -> the choice the card shows for it. */
export function storedToOverall(
  value: StoredPreference,
  raw: string | Record<string, unknown> | null | undefined,
  shownFirst: 0 | 1,
): OverallChoice | null {
  if (value === 0 && isBothUnacceptable(raw)) return 'both_unacceptable';
  return valueToSide(value, shownFirst);
}

// ---- export and dataset files ---------------------------------------------------------------------

/** A stored overall preference as a word of an exported file (read back by `--preferred`); '' = missing. */
export function preferenceWord(value: StoredPreference, raw?: string | Record<string, unknown> | null): string {
  if (value === 0) return isBothUnacceptable(raw) ? 'both-bad' : 'tie';
  return value === 1 ? 'y1' : value === -1 ? 'y0' : '';
}

/** A stored principle preference as a word of an exported file; '' = unanswered. */
export function principleWord(value: StoredPreference): string {
  return value === 1 ? 'y1' : value === -1 ? 'y0' : value === 0 ? 'neither' : '';
}

/** The words a dataset's preferred-response field may hold (`--preferred`, case-insensitive). */
const PREFERRED_WORDS: ReadonlyMap<string, PreferenceValue> = new Map<string, PreferenceValue>([
  ...['0', 'y0', 'response_0', 'a0', '-1'].map((w) => [w, -1] as const),
  ...['1', 'y1', 'response_1', '+1'].map((w) => [w, 1] as const),
  ...['tie', 'none', 'neither', 'both-bad', 'both_bad'].map((w) => [w, 0] as const),
]);

/** Whether a dataset's preferred-response word says both responses were unacceptable (stored as 0 with raw.choice 'both-bad'). */
export function isBothBadWord(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  const w = v.trim().toLowerCase();
  return w === 'both-bad' || w === 'both_bad';
}

/** A dataset's preferred-response word -> preference; null when empty; undefined when not a known word. */
export function parsePreferredWord(v: unknown): StoredPreference | undefined {
  if (v === undefined || v === null || v === '') return null;
  return PREFERRED_WORDS.get(String(v).trim().toLowerCase());
}
