// The review queue (as Prodigy's review recipe): the pairs of a dataset whose human labels disagree, overall
// or on one principle, with every human annotator's label and rationale side by side; and adjudication,
// which stores the lead's label as the annotator `adjudicated` (kind 'adjudicator'). Every original label
// stays; counts of human labels (overlap room, progress, kappa) leave the adjudicator out by its kind.
import { UsageError } from '../core/errors';
import { ADJUDICATOR_NAME } from '../core/types';
import {
  isLabelOverallWord,
  isLabelPrincipleWord,
  LABEL_OVERALL,
  LABEL_PRINCIPLE,
  preferenceWord,
  principleWord,
  type StoredPreference,
} from '../core/preferences';
import { now, type LabelState, type PrinciplePreferenceForPair, type Store, type StoreReads } from '../store';

export const ADJUDICATOR = ADJUDICATOR_NAME;

export interface ReviewLabel {
  annotator: string;
  /** Overall label word: y0, y1, tie, both-bad ('' = missing). */
  overall: string;
  /** With a principle: the annotator's label of it (y0, y1, neither; '' = unanswered); otherwise null. */
  principle: string | null;
  rationale: string | null;
  flagged: boolean;
}

export interface ReviewItem {
  pair: string;
  pairIdx: number;
  prompt: string;
  y0: string;
  y1: string;
  labels: ReviewLabel[];
  /** The adjudicated label (overall, or of the principle), null until adjudicated. */
  adjudicated: { label: string; rationale: string | null } | null;
}

export interface ReviewQueue {
  schema: 'discretion-review/1';
  dataset: string;
  /** The principle key reviewed; null = the overall labels. */
  principle: string | null;
  pairs: number;
  disagreeing: number;
  adjudicated: number;
  items: ReviewItem[];
}

export interface ReviewOptions {
  principle?: string;
  pendingOnly?: boolean;
}

async function principleRows(store: StoreReads, pairRowIds: number[]): Promise<PrinciplePreferenceForPair[]> {
  const out: PrinciplePreferenceForPair[] = [];
  for (let i = 0; i < pairRowIds.length; i += 500)
    out.push(...(await store.principlePreferencesForPairs(pairRowIds.slice(i, i + 500))));
  return out;
}

/** The pairs whose human labels disagree (two or more different values among the labels given), in index order. */
export async function reviewQueue(
  store: Store,
  datasetName: string,
  options: ReviewOptions = {},
): Promise<ReviewQueue> {
  const dataset = await store.requireDataset(datasetName);
  const annotators = await store.listAnnotators();
  const humans = new Set(annotators.filter((a) => a.kind === 'human').map((a) => a.name));
  const humanIds = new Set(annotators.filter((a) => a.kind === 'human').map((a) => a.id));
  const pairRowIdOf = await store.pairRowIds(dataset.id);
  const pairIdxOf = new Map([...pairRowIdOf].map(([pairIdx, pairRowId]) => [pairRowId, pairIdx]));
  const total = pairRowIdOf.size;

  // Values per pair index, of the overall labels or of the principle.
  const values = new Map<number, Set<number>>();
  const add = (pairIdx: number, v: StoredPreference) => {
    if (v === null) return;
    let s = values.get(pairIdx);
    if (!s) values.set(pairIdx, (s = new Set()));
    s.add(v);
  };
  const principle = options.principle;
  let principleRowsByPair: Map<number, PrinciplePreferenceForPair[]> | undefined;
  if (principle === undefined) {
    for (const p of await store.overallPreferences(dataset.id))
      if (humanIds.has(p.annotatorId)) add(p.pairIdx, p.value);
  } else {
    const rows = (await principleRows(store, [...pairRowIdOf.values()])).filter((r) => r.key === principle);
    if (!rows.some((r) => humans.has(r.annotator))) {
      const keys = [
        ...new Set(
          (await principleRows(store, [...pairRowIdOf.values()]))
            .filter((r) => humans.has(r.annotator))
            .map((r) => r.key),
        ),
      ].sort();
      throw new UsageError(
        `no human labels of principle "${principle}" on dataset "${datasetName}" (${keys.length ? `principles labelled: ${keys.join(', ')}` : 'no principle labels at all'})`,
      );
    }
    principleRowsByPair = new Map();
    for (const r of rows) {
      principleRowsByPair.set(r.pairRowId, [...(principleRowsByPair.get(r.pairRowId) ?? []), r]);
      if (humans.has(r.annotator)) add(pairIdxOf.get(r.pairRowId)!, r.value);
    }
  }
  const disagreeing = [...values]
    .filter(([, s]) => s.size > 1)
    .map(([pairIdx]) => pairIdx)
    .sort((a, b) => a - b);

  const items: ReviewItem[] = [];
  for (let i = 0; i < disagreeing.length; i += 200) {
    const chunk = disagreeing.slice(i, i + 200);
    const pairs = new Map((await store.pairsByIndex(dataset.id, chunk)).map((p) => [p.idx, p]));
    const pairRowIds = chunk.map((pairIdx) => pairRowIdOf.get(pairIdx)!);
    const prefs = await store.preferencesForPairs(pairRowIds);
    for (const pairIdx of chunk) {
      const pairRowId = pairRowIdOf.get(pairIdx)!;
      const pair = pairs.get(pairIdx)!;
      const mine = prefs.filter((p) => p.pairRowId === pairRowId);
      const principleOf = (name: string) => principleRowsByPair?.get(pairRowId)?.find((r) => r.annotator === name);
      const names = [
        ...new Set([
          ...mine.filter((p) => p.kind === 'human').map((p) => p.annotator),
          ...(principleRowsByPair?.get(pairRowId) ?? []).filter((r) => humans.has(r.annotator)).map((r) => r.annotator),
        ]),
      ];
      const labels = names
        .map((name): ReviewLabel => {
          const p = mine.find((x) => x.annotator === name);
          return {
            annotator: name,
            overall: p ? preferenceWord(p.value, p.raw) : '',
            principle: principle === undefined ? null : principleWord(principleOf(name)?.value ?? null),
            rationale: p?.rationale ?? null,
            flagged: p?.flagged === 1,
          };
        })
        .sort((a, b) => (a.annotator < b.annotator ? -1 : a.annotator > b.annotator ? 1 : 0));
      const adj = mine.find((p) => p.annotator === ADJUDICATOR && p.kind === 'adjudicator');
      const adjPrinciple = principleOf(ADJUDICATOR);
      const adjudicated =
        principle === undefined
          ? adj
            ? { label: preferenceWord(adj.value, adj.raw), rationale: adj.rationale }
            : null
          : adjPrinciple
            ? { label: principleWord(adjPrinciple.value), rationale: adj?.rationale ?? null }
            : null;
      items.push({ pair: pair.sourceId, pairIdx, prompt: pair.prompt, y0: pair.y0, y1: pair.y1, labels, adjudicated });
    }
  }
  const adjudicatedCount = items.filter((x) => x.adjudicated !== null).length;
  return {
    schema: 'discretion-review/1',
    dataset: dataset.name,
    principle: principle ?? null,
    pairs: total,
    disagreeing: items.length,
    adjudicated: adjudicatedCount,
    items: options.pendingOnly ? items.filter((x) => x.adjudicated === null) : items,
  };
}

/**
 * The `review list --json` document (schema discretion-review/1, as the README documents it): the queue, with
 * an item's pair index under the document's field name `idx`.
 */
export function reviewDocument(q: ReviewQueue): Omit<ReviewQueue, 'items'> & { items: ReviewDocumentItem[] } {
  return { ...q, items: q.items.map(({ pair, pairIdx, ...rest }) => ({ pair, idx: pairIdx, ...rest })) };
}
export type ReviewDocumentItem = Omit<ReviewItem, 'pairIdx'> & { idx: number };

export interface AdjudicateRequest {
  dataset: string;
  /** The pair's source id (as `review list` names it). */
  pair: string;
  /** Overall: y0, y1, tie, both-bad; with `principle`: y0, y1, neither. */
  label: string;
  principle?: string;
  rationale?: string;
}

/** Stores the adjudicated label (one transaction; the adjudicator's previous label on the pair stays in the label history). */
export async function adjudicate(
  store: Store,
  req: AdjudicateRequest,
): Promise<{ pair: string; pairIdx: number; label: string; previous: string | null }> {
  const dataset = await store.requireDataset(req.dataset);
  if (req.principle === undefined ? !isLabelOverallWord(req.label) : !isLabelPrincipleWord(req.label)) {
    const words = Object.keys(req.principle === undefined ? LABEL_OVERALL : LABEL_PRINCIPLE).join(', ');
    throw new UsageError(
      `the label must be one of ${words}${req.principle === undefined ? '' : ' for a principle'}, not "${req.label}"`,
      'label',
    );
  }
  const found = (await store.pairSourceIds(dataset.id)).find((p) => p.sourceId === req.pair);
  if (!found)
    throw new UsageError(
      `unknown pair "${req.pair}" in dataset "${dataset.name}" (pairs are named by their source id, as "discretion review list" shows them)`,
    );
  const pairRowId = (await store.pairRowIds(dataset.id)).get(found.pairIdx)!;
  const existing = await store.getAnnotator(ADJUDICATOR);
  if (existing && existing.kind !== 'adjudicator') {
    throw new UsageError(
      `an annotator named "${ADJUDICATOR}" already exists as a ${existing.kind}; adjudicated labels are stored under that name, so rename that annotator's data first`,
    );
  }
  let principleRowId: number | undefined;
  if (req.principle !== undefined) {
    const row = (await store.principlePreferencesForPairs([pairRowId])).find((r) => r.key === req.principle);
    if (!row)
      throw new UsageError(
        `no labels of principle "${req.principle}" on pair "${req.pair}" of dataset "${dataset.name}" to adjudicate`,
      );
    const list = await store.requirePrincipleList(`${row.list}@${row.listVersion}`);
    principleRowId = (await store.principleRowIds(list.id))[row.position];
  }
  return store.write(async (tx) => {
    const a = await tx.ensureAnnotator(ADJUDICATOR, 'adjudicator', null);
    const before = await tx.labelState(a.id, pairRowId);
    const t = now();
    const rationale = req.rationale?.trim() ? req.rationale : null;
    let after: LabelState;
    let previous: string | null;
    if (principleRowId === undefined) {
      previous = before.preference ? preferenceWord(before.preference.value, before.preference.raw) : null;
      after = {
        preference: {
          value: LABEL_OVERALL[req.label],
          score_y0: null,
          score_y1: null,
          raw: JSON.stringify({ choice: req.label, source: 'review' }),
          shown_first: null,
          rationale,
          flagged: 0,
          created_at: before.preference?.created_at ?? t,
          updated_at: t,
        },
        principles: before.principles,
      };
    } else {
      const old = before.principles.find((q) => q.principle_id === principleRowId);
      previous = old ? principleWord(old.value) : null;
      after = {
        preference: before.preference,
        principles: [
          ...before.principles.filter((q) => q.principle_id !== principleRowId),
          {
            principle_id: principleRowId,
            value: LABEL_PRINCIPLE[req.label],
            prob_a: null,
            prob_b: null,
            prob_na: null,
            shown_first: null,
            raw: JSON.stringify({ source: 'review', rationale }),
            created_at: t,
          },
        ].sort((x, y) => x.principle_id - y.principle_id),
      };
    }
    await tx.putLabelState(a.id, pairRowId, after);
    await tx.appendLabelHistory(a.id, pairRowId, 'submit', before, after);
    return { pair: req.pair, pairIdx: found.pairIdx, label: req.label, previous };
  });
}
