// Preference data for training (`discretion export --format trl|hf`): which response a pair's labels choose, by a
// named source, and the rows TRL's trainers read. Pure: the app layer reads the store and writes the files.
//
// TRL's dataset formats (https://huggingface.co/docs/trl/dataset_formats, "Preference"): a preference dataset has
// the columns `prompt`, `chosen` and `rejected`; in the *standard* format each is a string, in the *conversational*
// format `prompt` is a list of messages ({role, content}, roles user / assistant / system) and `chosen` and
// `rejected` are lists holding the completing assistant message. DPOTrainer reads the explicit-prompt form;
// RewardTrainer reads the same rows (and an optional float `margin` column,
// https://huggingface.co/docs/trl/reward_trainer). TRL has no tie label: a pair whose source says tie or both bad
// is left out of the training rows (counted, and written apart on request).
import { preferenceWord, type StoredPreference } from './preferences';
import { splitTurns } from './hhrlhf';
import { ADJUDICATOR_NAME } from './types';

/** A message of TRL's conversational format. */
export interface Message {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** A principle label of one annotator on one pair, as exported. */
export interface PrincipleVote {
  /** The principle list, `name@version`. */
  list: string;
  principle: string;
  /** y0, y1 or neither. */
  label: string;
}

/** One annotator's labels on a pair, as exported. */
export interface Vote {
  annotator: string;
  kind: string;
  /** The overall label word (y0, y1, tie, both-bad); null when the annotator gave principle labels only. */
  label: string | null;
  principle_labels: PrincipleVote[];
  rationale: string | null;
}

/** Where the chosen response comes from: an annotator's labels, the human majority, or the lead's adjudication. */
/** What a training export counts of a dataset's pairs (the result's counts and the dataset card's). */
export interface TrainingCounts {
  pairs: number;
  /** Rows with a chosen and a rejected response (trl: the rows written; hf: rows with chosen/rejected set). */
  chosen: number;
  ties: number;
  bothBad: number;
  noMajority: number;
  unlabelled: number;
  /** Pairs with an adjudicated overall label, and those whose chosen side that label decided. */
  adjudicated: number;
  decidedByAdjudication: number;
}

export type TrainingSource = { kind: 'annotator'; name: string } | { kind: 'majority' } | { kind: 'adjudicated' };

export const SOURCE_WORDS = ['adjudicated', 'majority'] as const;

/** `adjudicated`, `majority`, or an annotator's name. */
export function parseTrainingSource(text: string): TrainingSource {
  const t = text.trim();
  if (t === 'adjudicated') return { kind: 'adjudicated' };
  if (t === 'majority') return { kind: 'majority' };
  return { kind: 'annotator', name: t };
}

export const sourceName = (s: TrainingSource): string => (s.kind === 'annotator' ? s.name : s.kind);

/**
 * What a source says of a pair:
 * - `y0` / `y1`: that response is chosen (a training row);
 * - `tie`, `both-bad`: no side (left out, counted, written to the ties file on request);
 * - `no-majority`: the human labels split evenly between their most frequent words (left out like a tie);
 * - `unlabelled`: the source has no label of the pair (left out, counted).
 */
export type Outcome = 'y0' | 'y1' | 'tie' | 'both-bad' | 'no-majority' | 'unlabelled';

export interface Decision {
  outcome: Outcome;
  /** Which rule decided: the named annotator, the adjudicated label, or the human majority; null when unlabelled. */
  by: 'annotator' | 'adjudicated' | 'majority' | null;
}

/** The word of a stored overall preference, or null for none. */
export function voteWord(value: StoredPreference, raw: string | null): string | null {
  return preferenceWord(value, raw) || null;
}

const isHuman = (v: Vote) => v.kind === 'human';

/**
 * The majority of the human labels of a pair: the most frequent label word among the human annotators that gave
 * one (y0, y1, tie and both-bad are four words), when one word is more frequent than every other; `no-majority`
 * when two words share the top count (1 y0 and 1 y1; 1 y1 and 1 tie); `unlabelled` when no human labelled the pair.
 */
export function humanMajority(votes: readonly Vote[]): Outcome {
  const counts = new Map<string, number>();
  for (const v of votes) if (isHuman(v) && v.label) counts.set(v.label, (counts.get(v.label) ?? 0) + 1);
  if (counts.size === 0) return 'unlabelled';
  let top: string | null = null;
  let best = 0;
  let draw = false;
  for (const [word, n] of counts) {
    if (n > best) {
      top = word;
      best = n;
      draw = false;
    } else if (n === best) draw = true;
  }
  return draw ? 'no-majority' : (top as Outcome);
}

/** Which response the source chooses on a pair (see Outcome). */
export function decide(votes: readonly Vote[], source: TrainingSource): Decision {
  if (source.kind === 'annotator') {
    const v = votes.find((x) => x.annotator === source.name);
    return v?.label ? { outcome: v.label as Outcome, by: 'annotator' } : { outcome: 'unlabelled', by: null };
  }
  if (source.kind === 'adjudicated') {
    const adj = votes.find((x) => x.annotator === ADJUDICATOR_NAME && x.kind === 'adjudicator');
    if (adj?.label) return { outcome: adj.label as Outcome, by: 'adjudicated' };
  }
  const m = humanMajority(votes);
  return { outcome: m, by: m === 'unlabelled' ? null : 'majority' };
}

/**
 * `--margin agreement`: the share of the pair's human labels that are the chosen side's word (2 of 3 humans chose
 * y1 and y1 is chosen: 0.667); null when no human labelled the pair (a model's label chose the side).
 */
export function agreementMargin(votes: readonly Vote[], chosen: 'y0' | 'y1'): number | null {
  let n = 0;
  let agree = 0;
  for (const v of votes)
    if (isHuman(v) && v.label) {
      n++;
      if (v.label === chosen) agree++;
    }
  return n === 0 ? null : agree / n;
}

const ROLE: Record<string, Message['role']> = { human: 'user', assistant: 'assistant', context: 'system' };

/**
 * A stored prompt as TRL's conversational messages: HH-style turns ("\n\nHuman: ..." / "\n\nAssistant: ...") become
 * user and assistant messages (text before the first turn a system message); the empty assistant turn a prompt
 * ends with (HH's "\n\nAssistant:") is dropped, as the chosen and rejected messages complete it. A prompt with no
 * turn markers is one user message.
 */
export function promptMessages(prompt: string): Message[] {
  const turns = splitTurns(prompt);
  const last = turns[turns.length - 1];
  if (turns.length > 1 && last && last.role === 'assistant' && last.text === '') turns.pop();
  return turns.map((t) => ({ role: ROLE[t.role] ?? 'user', content: t.text }));
}

/** The `discretion` object every training row keeps: where the pair and its label came from. */
export interface TrainingProvenance {
  idx: number;
  source_id: string;
  /** The source's word for the pair (y0, y1, tie, both-bad), null when the human labels split or none labelled it. */
  label: string | null;
  decided_by: Decision['by'];
  /** consensus, conflict or indifference under the principle source; null when none was given. */
  category: string | null;
  votes: Vote[];
}

export interface PairForTraining {
  idx: number;
  sourceId: string;
  prompt: string;
  y0: string;
  y1: string;
  votes: Vote[];
  category: string | null;
}

export type TrlStyle = 'conversational' | 'standard';

/** The source's label word of a decision: the outcome, but null for no-majority and unlabelled. */
export const decisionLabel = (d: Decision): string | null =>
  d.outcome === 'no-majority' || d.outcome === 'unlabelled' ? null : d.outcome;

function provenance(p: PairForTraining, d: Decision): TrainingProvenance {
  return {
    idx: p.idx,
    source_id: p.sourceId,
    label: decisionLabel(d),
    decided_by: d.by,
    category: p.category,
    votes: p.votes,
  };
}

/**
 * One TRL preference row (the chosen side must be y0 or y1). Standard style: the stored prompt and responses as
 * they are (HH prompts keep their "\n\nHuman:" markers; the responses have no leading space), conversational: the
 * prompt's messages and one assistant message each.
 */
export function trlRow(p: PairForTraining, d: Decision, style: TrlStyle, margin: boolean): Record<string, unknown> {
  const chosen = d.outcome === 'y1' ? p.y1 : p.y0;
  const rejected = d.outcome === 'y1' ? p.y0 : p.y1;
  const row: Record<string, unknown> =
    style === 'standard'
      ? { prompt: p.prompt, chosen, rejected }
      : {
          prompt: promptMessages(p.prompt),
          chosen: [{ role: 'assistant', content: chosen }],
          rejected: [{ role: 'assistant', content: rejected }],
        };
  if (margin) row.margin = agreementMargin(p.votes, d.outcome as 'y0' | 'y1');
  row.discretion = provenance(p, d);
  return row;
}

/** A pair the source gives no side (tie, both-bad, no-majority), for the ties file: both responses, no chosen. */
export function tieRow(p: PairForTraining, d: Decision, style: TrlStyle): Record<string, unknown> {
  return {
    prompt: style === 'standard' ? p.prompt : promptMessages(p.prompt),
    response_0: p.y0,
    response_1: p.y1,
    discretion: { ...provenance(p, d), outcome: d.outcome },
  };
}

// ---- the Hugging Face dataset's columns -----------------------------------------------------------

/** A column of the Parquet dataset: a scalar, or a list of structs (the messages, the votes). */
export type HfField =
  | { name: string; type: 'int32' | 'float64'; optional?: boolean }
  | { name: string; type: 'string'; optional?: boolean; dictionary?: boolean }
  | { name: string; type: 'list'; optional?: boolean; fields: HfField[] };

const MESSAGE_FIELDS: HfField[] = [
  { name: 'role', type: 'string', dictionary: true },
  { name: 'content', type: 'string' },
];

/** The columns of `export --format hf`, in order (`margin` only with the margin asked for). */
export function hfColumns(withMargin: boolean): HfField[] {
  return [
    { name: 'idx', type: 'int32' },
    { name: 'source_id', type: 'string' },
    { name: 'prompt', type: 'list', fields: MESSAGE_FIELDS },
    { name: 'prompt_text', type: 'string' },
    { name: 'response_0', type: 'string' },
    { name: 'response_1', type: 'string' },
    { name: 'label', type: 'string', optional: true, dictionary: true },
    { name: 'decided_by', type: 'string', optional: true, dictionary: true },
    { name: 'chosen', type: 'list', optional: true, fields: MESSAGE_FIELDS },
    { name: 'rejected', type: 'list', optional: true, fields: MESSAGE_FIELDS },
    ...(withMargin ? [{ name: 'margin', type: 'float64', optional: true } as HfField] : []),
    { name: 'category', type: 'string', optional: true, dictionary: true },
    {
      name: 'votes',
      type: 'list',
      fields: [
        { name: 'annotator', type: 'string', dictionary: true },
        { name: 'kind', type: 'string', dictionary: true },
        { name: 'label', type: 'string', optional: true, dictionary: true },
        {
          name: 'principle_labels',
          type: 'list',
          fields: [
            { name: 'list', type: 'string', dictionary: true },
            { name: 'principle', type: 'string', dictionary: true },
            { name: 'label', type: 'string', dictionary: true },
          ],
        },
        { name: 'rationale', type: 'string', optional: true },
      ],
    },
  ];
}

/** One row of the Parquet dataset (keys as hfColumns names them). */
export function hfRow(p: PairForTraining, d: Decision, margin: boolean): Record<string, unknown> {
  const side = d.outcome === 'y0' || d.outcome === 'y1' ? d.outcome : null;
  const row: Record<string, unknown> = {
    idx: p.idx,
    source_id: p.sourceId,
    prompt: promptMessages(p.prompt),
    prompt_text: p.prompt,
    response_0: p.y0,
    response_1: p.y1,
    label: decisionLabel(d),
    decided_by: d.by,
    chosen: side ? [{ role: 'assistant', content: side === 'y1' ? p.y1 : p.y0 }] : null,
    rejected: side ? [{ role: 'assistant', content: side === 'y1' ? p.y0 : p.y1 }] : null,
    category: p.category,
    votes: p.votes,
  };
  if (margin) row.margin = side ? agreementMargin(p.votes, side) : null;
  return row;
}

/** The `dataset_info.features` of a dataset card for these columns (the Hugging Face card's YAML). */
export function hfFeatures(fields: readonly HfField[]): unknown[] {
  return fields.map((f) =>
    f.type === 'list'
      ? { name: f.name, list: hfFeatures(f.fields) }
      : { name: f.name, dtype: f.type === 'float64' ? 'float64' : f.type },
  );
}
