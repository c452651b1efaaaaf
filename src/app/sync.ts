// `discretion sync`: copies what one database (SRC, only read) holds and another (DST) lacks, in one
// transaction on DST, and lists every conflict instead of dropping it. How a team without a server merges
// work (each annotator's SQLite file into one), and how an annotator who worked offline pushes to the server.
//
// Identity across databases: a dataset by name, checked by its content hash; a pair by its dataset and
// source id; a principle list version by name and content hash; an annotator by name; a metric run by its
// creation time, tool version and parameters. A label (one annotator's rows on one pair: the overall
// preference and the principle preferences) is the same label when its content is the same; its event id
// is a hash of its content and its timestamps, which a copy keeps, so it is the same in every database
// the label reaches, and a label either side has seen before (in its label history) is not a conflict.
import { UsageError } from '../core/errors';
import { preferenceWord } from '../core/preferences';
import {
  sha256,
  type AnnotatorRow,
  type DatasetRow,
  type LabelState,
  type PreferenceRow,
  type PrincipleIdentity,
  type PrinciplePreferenceRow,
  type Store,
  type StoreReads,
  type StoredPair,
  type Transaction,
} from '../store';

export const SYNC_COUNTS = [
  'datasets',
  'pairs',
  'principle_lists',
  'annotators',
  'preferences',
  'principle_preferences',
  'metric_runs',
] as const;
export type SyncCounts = Record<(typeof SYNC_COUNTS)[number], number>;

/** Every conflict names what it is about and says in `message` what was done (one line). */
export type SyncConflict =
  /** A dataset of this name on both sides with different content: none of its pairs, labels or runs are synced. */
  | { kind: 'dataset-content'; dataset: string; src_hash: string | null; dst_hash: string | null; message: string }
  /** SRC's NAME@src_version holds content DST held under no version; copied as NAME@dst_version (DST's src_version is other content). */
  | {
      kind: 'principle-list-version';
      list: string;
      src_version: number;
      dst_version: number;
      content_hash: string;
      message: string;
    }
  /** An annotator of this name on both sides with different kinds: none of SRC's labels of that annotator are synced. */
  | { kind: 'annotator-kind'; annotator: string; src_kind: string; dst_kind: string; message: string }
  /**
   * The annotator labelled the pair differently on each side: both labels stay in DST's label history (action
   * `merge`), the newer one (by its time) is current, and the pair is flagged for review.
   */
  | {
      kind: 'label';
      dataset: string;
      pair: string;
      annotator: string;
      src: string;
      dst: string;
      kept: 'src' | 'dst';
      message: string;
    };

export interface SyncResult {
  copied: SyncCounts;
  unchanged: SyncCounts;
  conflicts: SyncConflict[];
}

export interface SyncOptions {
  /** Only this dataset (and the annotators with labels on it); principle lists are always synced. */
  dataset?: string;
  /** Pairs read and written per step (default 2000). */
  pageSize?: number;
}

const zero = (): SyncCounts => Object.fromEntries(SYNC_COUNTS.map((k) => [k, 0])) as SyncCounts;
const EMPTY: LabelState = { preference: null, principles: [] };
const isEmpty = (s: LabelState) => s.preference === null && s.principles.length === 0;

/** A principle as any database names it: its list's content hash and its key. */
type Canon = (principleRowId: number) => string;
const canonOf = (ps: PrincipleIdentity[]): Canon => {
  const m = new Map(ps.map((p) => [p.id, `${p.contentHash}/${p.key}`]));
  return (id) => m.get(id) ?? `?${id}`;
};

/** What a label says, the same in any database (timestamps and the review flag left out). */
function contentKey(s: LabelState, canon: Canon): string {
  const p = s.preference;
  return JSON.stringify([
    p && [p.value, p.score_y0, p.score_y1, p.raw, p.shown_first, p.rationale],
    s.principles
      .map((q) => JSON.stringify([canon(q.principle_id), q.value, q.prob_a, q.prob_b, q.prob_na, q.shown_first, q.raw]))
      .sort(),
  ]);
}

/** The label's event id: its content and when it was made. */
function eventId(s: LabelState, canon: Canon): string {
  const times = [
    s.preference?.created_at ?? null,
    s.preference?.updated_at ?? null,
    ...s.principles.map((q) => `${canon(q.principle_id)}@${q.created_at}`).sort(),
  ];
  return sha256(contentKey(s, canon) + JSON.stringify(times));
}

/** When the label was last changed. */
const labelTime = (s: LabelState) =>
  s.preference?.updated_at ?? s.principles.reduce((t, q) => (q.created_at > t ? q.created_at : t), '');

/** The label as a word: the overall preference (`y0`, `y1`, `tie`, `both-bad`), else its principle labels. */
function labelWord(s: LabelState): string {
  if (s.preference) return preferenceWord(s.preference.value, s.preference.raw) || 'missing';
  return `${s.principles.length} principle label${s.principles.length === 1 ? '' : 's'}`;
}

const flagged = (s: LabelState): LabelState =>
  s.preference ? { ...s, preference: { ...s.preference, flagged: 1 } } : s;

function statesByKey(rows: {
  preferences: PreferenceRow[];
  principles: PrinciplePreferenceRow[];
}): Map<string, LabelState> {
  const out = new Map<string, LabelState>();
  const get = (a: number, p: number) => {
    const k = `${a}:${p}`;
    let s = out.get(k);
    if (!s) out.set(k, (s = { preference: null, principles: [] }));
    return s;
  };
  for (const { pair_id, annotator_id, ...pref } of rows.preferences) get(annotator_id, pair_id).preference = pref;
  for (const { pair_id, annotator_id, ...q } of rows.principles) get(annotator_id, pair_id).principles.push(q);
  for (const s of out.values()) s.principles.sort((a, b) => a.principle_id - b.principle_id);
  return out;
}

/** Event ids of every label in the label history on these pairs, by `annotatorId:pairRowId`. */
async function knownEvents(store: StoreReads, pairRowIds: number[], canon: Canon): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  for (const h of await store.labelHistoryOfPairs(pairRowIds)) {
    const k = `${h.annotatorId}:${h.pairRowId}`;
    let set = out.get(k);
    if (!set) out.set(k, (set = new Set()));
    for (const s of [h.before, h.after]) if (!isEmpty(s)) set.add(eventId(s, canon));
  }
  return out;
}

/**
 * Into a team's database a member writes only the labels the team lets her (an annotator: her own; a lead:
 * her own and those of annotators no login is mapped to). Another person's labels in SRC are refused before
 * anything is written, in one line naming them (the database's policies would refuse the rows too).
 */
async function refuseOthersLabels(src: Store, dst: Store, datasets: DatasetRow[]): Promise<void> {
  const who = await dst.identity();
  if (who.login === null || who.owner) return;
  const names = new Set(datasets.map((d) => d.name));
  const members = new Map((await dst.teamMembers()).map((m) => [m.annotator, m.login]));
  const people = (await src.info()).annotators.filter(
    (a) =>
      (a.kind === 'human' || a.kind === 'adjudicator') &&
      a.name !== who.annotator &&
      a.datasets.some((d) => names.has(d.dataset) && d.preferences + d.principlePreferences > 0) &&
      (who.role !== 'lead' || members.has(a.name)),
  );
  if (people.length > 0) {
    throw new UsageError(
      `${src.location} holds labels of ${people.map((a) => a.name).join(', ')}: login ${who.login} writes only ${who.annotator ?? 'no one'}'s labels into database ${dst.location}; nothing was written`,
    );
  }
}

export async function syncStores(src: Store, dst: Store, options: SyncOptions = {}): Promise<SyncResult> {
  const pageSize = options.pageSize ?? 2000;
  const srcDatasets = await src.listDatasets();
  let datasets: DatasetRow[] = srcDatasets;
  if (options.dataset !== undefined) {
    const d = srcDatasets.find((x) => x.name === options.dataset);
    if (!d) {
      throw new UsageError(
        `unknown dataset "${options.dataset}" in ${src.location} (${srcDatasets.length ? `known: ${srcDatasets.map((x) => x.name).join(', ')}` : 'it holds no datasets'}); nothing was written`,
      );
    }
    datasets = [d];
  }
  await refuseOthersLabels(src, dst, datasets);
  const srcAnnotators = await src.listAnnotators();
  const srcPrinciples = await src.principleIdentities();
  const srcCanon = canonOf(srcPrinciples);

  return dst.write(async (tx) => {
    const copied = zero();
    const unchanged = zero();
    const conflicts: SyncConflict[] = [];

    // Principle lists, every version in order; a principle's row id here for each of SRC's.
    const principleMap = await syncPrincipleLists(src, tx, srcPrinciples, copied, unchanged, conflicts);
    const dstCanon = canonOf(await tx.principleIdentities());

    // Annotators: SRC's annotator row id -> DST's row (undefined: a kind conflict, its labels are not synced).
    // Without --dataset every annotator; with it, those with labels on the dataset, as their labels come.
    const annotatorMap = new Map<number, AnnotatorRow | undefined>();
    const dstByName = new Map((await tx.listAnnotators()).map((a) => [a.name, a]));
    const srcById = new Map(srcAnnotators.map((a) => [a.id, a]));
    const resolveAnnotator = async (srcId: number): Promise<AnnotatorRow | undefined> => {
      if (annotatorMap.has(srcId)) return annotatorMap.get(srcId);
      const a = srcById.get(srcId)!;
      const there = dstByName.get(a.name);
      let row: AnnotatorRow | undefined = there;
      if (there && there.kind !== a.kind) {
        conflicts.push({
          kind: 'annotator-kind',
          annotator: a.name,
          src_kind: a.kind,
          dst_kind: there.kind,
          message: `annotator "${a.name}" is a ${a.kind} in ${src.location} but a ${there.kind} in ${dst.location}; its labels were not synced`,
        });
        row = undefined;
      } else if (there) {
        unchanged.annotators++;
      } else {
        row = await tx.ensureAnnotator(a.name, a.kind, a.provenance);
        if (a.group !== null) [row] = await tx.setAnnotatorGroup([a.name], a.group);
        copied.annotators++;
      }
      annotatorMap.set(srcId, row);
      return row;
    };
    if (options.dataset === undefined) for (const a of srcAnnotators) await resolveAnnotator(a.id);

    const srcRuns = await src.listMetricRuns();
    for (const d of datasets) {
      const there = await tx.getDataset(d.name);
      if (there && there.contentHash !== d.contentHash) {
        conflicts.push({
          kind: 'dataset-content',
          dataset: d.name,
          src_hash: d.contentHash,
          dst_hash: there.contentHash,
          message: `dataset "${d.name}" holds other content in ${src.location} (${d.contentHash ?? 'no content hash'}) than in ${dst.location} (${there.contentHash ?? 'no content hash'}); none of its pairs, labels or runs were synced`,
        });
        continue;
      }
      let dstId: number;
      if (there) {
        unchanged.datasets++;
        dstId = there.id;
      } else {
        dstId = await tx.createDataset(d.name, d.format, d.sourcePath);
        if (d.contentHash !== null) await tx.setDatasetHash(dstId, d.contentHash);
        const split = await src.workSplit(d.id);
        if (split.overlap !== null || split.assignment !== 'fixed' || split.seed !== 0)
          await tx.setWorkSplit(dstId, split);
        copied.datasets++;
      }
      await syncPairsAndLabels({
        src,
        tx,
        srcDataset: d,
        dstId,
        isNew: !there,
        pageSize,
        principleMap,
        resolveAnnotator,
        srcCanon,
        dstCanon,
        copied,
        unchanged,
        conflicts,
        dstLocation: dst.location,
        srcLocation: src.location,
      });

      // Metric runs of the dataset, by creation time, tool version and parameters.
      const runKey = (r: { createdAt: string; toolVersion: string; params: unknown; inputHashes: unknown }) =>
        JSON.stringify([r.createdAt, r.toolVersion, r.params, r.inputHashes]);
      const dstRuns = new Set((await tx.listMetricRuns()).filter((r) => r.datasetName === d.name).map(runKey));
      for (const r of srcRuns.filter((x) => x.datasetName === d.name)) {
        if (dstRuns.has(runKey(r))) {
          unchanged.metric_runs++;
          continue;
        }
        const full = await src.getMetricRun(r.id);
        await tx.insertMetricRunAt(
          full.createdAt,
          dstId,
          full.toolVersion,
          full.params,
          full.inputHashes,
          full.results,
        );
        copied.metric_runs++;
      }
    }
    return { copied, unchanged, conflicts };
  });
}

async function syncPrincipleLists(
  src: Store,
  tx: Transaction,
  srcPrinciples: PrincipleIdentity[],
  copied: SyncCounts,
  unchanged: SyncCounts,
  conflicts: SyncConflict[],
): Promise<Map<number, number>> {
  const map = new Map<number, number>();
  const lists = new Map<number, PrincipleIdentity[]>();
  for (const p of srcPrinciples) lists.set(p.listId, [...(lists.get(p.listId) ?? []), p]);
  const ordered = [...lists.values()].sort((a, b) =>
    a[0].list < b[0].list ? -1 : a[0].list > b[0].list ? 1 : a[0].version - b[0].version,
  );
  const dstPrinciples = await tx.principleIdentities();
  for (const ps of ordered) {
    const { list, version, contentHash } = ps[0];
    const same = dstPrinciples.find((q) => q.list === list && q.contentHash === contentHash);
    let dstListId: number;
    if (same) {
      unchanged.principle_lists++;
      dstListId = same.listId;
    } else {
      const full = await src.requirePrincipleList(`${list}@${version}`);
      const saved = (await tx.savePrincipleList(list, full.principles, null)).list;
      copied.principle_lists++;
      dstListId = saved.id;
      if (saved.version !== version) {
        conflicts.push({
          kind: 'principle-list-version',
          list,
          src_version: version,
          dst_version: saved.version,
          content_hash: contentHash,
          message: `principle list ${list}@${version} of the source is missing here (${list}@${version} here is other content); copied as ${list}@${saved.version}`,
        });
      }
    }
    const dstRows = await tx.principleRowIds(dstListId);
    for (const p of ps) map.set(p.id, dstRows[p.position]);
  }
  return map;
}

interface PairSync {
  src: Store;
  tx: Transaction;
  srcDataset: DatasetRow;
  dstId: number;
  isNew: boolean;
  pageSize: number;
  principleMap: Map<number, number>;
  resolveAnnotator: (srcId: number) => Promise<AnnotatorRow | undefined>;
  srcCanon: Canon;
  dstCanon: Canon;
  copied: SyncCounts;
  unchanged: SyncCounts;
  conflicts: SyncConflict[];
  srcLocation: string;
  dstLocation: string;
}

async function syncPairsAndLabels(o: PairSync): Promise<void> {
  const { src, tx, dstId, copied, unchanged } = o;
  // DST's pairs by source id, and the indices taken (a pair copied into a dataset that has its index keeps
  // its source id and takes the next free index).
  const bySource = new Map<string, number>();
  const usedIdx = new Set<number>();
  let maxIdx = -1;
  if (!o.isNew) {
    const pairRowIds = await tx.pairRowIds(dstId);
    for (const { pairIdx, sourceId } of await tx.pairSourceIds(dstId)) {
      bySource.set(sourceId, pairRowIds.get(pairIdx)!);
      usedIdx.add(pairIdx);
      if (pairIdx > maxIdx) maxIdx = pairIdx;
    }
  }
  for (let after = -2147483648; ;) {
    // below any index (INTEGER on both databases)
    const page: StoredPair[] = await src.pairsAfter(o.srcDataset.id, after, o.pageSize);
    if (page.length === 0) break;
    after = page[page.length - 1].idx;
    const missing = page.filter((p) => !bySource.has(p.sourceId));
    const existing = page.filter((p) => bySource.has(p.sourceId)).map((p) => bySource.get(p.sourceId)!);
    if (missing.length) {
      const first = await tx.nextPairRowId();
      const pairRowIds = missing.map((_, i) => first + i);
      const placed = missing.map((p) => {
        const pairIdx = usedIdx.has(p.idx) ? ++maxIdx : p.idx;
        usedIdx.add(pairIdx);
        if (pairIdx > maxIdx) maxIdx = pairIdx;
        const { pairRowId: _pairRowId, ...pair } = p;
        return { ...pair, idx: pairIdx };
      });
      await tx.insertPairs(dstId, placed, pairRowIds);
      missing.forEach((p, i) => bySource.set(p.sourceId, pairRowIds[i]));
      copied.pairs += missing.length;
    }
    unchanged.pairs += page.length - missing.length;
    await syncLabels(o, page, bySource, existing);
  }
}

async function syncLabels(
  o: PairSync,
  page: StoredPair[],
  bySource: Map<string, number>,
  existingDstPairs: number[],
): Promise<void> {
  const { src, tx, copied, unchanged } = o;
  const existing = new Set(existingDstPairs);
  const srcStates = statesByKey(await src.labelRows(page.map((p) => p.pairRowId)));
  if (srcStates.size === 0) return;
  const dstStates = statesByKey(
    existingDstPairs.length ? await tx.labelRows(existingDstPairs) : { preferences: [], principles: [] },
  );
  const sourceIdOf = new Map(page.map((p) => [p.pairRowId, p.sourceId]));
  // Label histories, read once per page when a label differs on the two sides.
  let histories: { src: Map<string, Set<string>>; dst: Map<string, Set<string>> } | undefined;
  const history = async () =>
    (histories ??= {
      src: await knownEvents(
        src,
        page.map((p) => p.pairRowId),
        o.srcCanon,
      ),
      dst: await knownEvents(tx, existingDstPairs, o.dstCanon),
    });
  const copyPrefs: PreferenceRow[] = [];
  const copyPrinciples: PrinciplePreferenceRow[] = [];

  for (const [key, s] of srcStates) {
    const [srcAnnotatorId, srcPairRowId] = key.split(':').map(Number);
    const annotator = await o.resolveAnnotator(srcAnnotatorId);
    if (!annotator) continue; // a kind conflict, listed once
    const dstPairRowId = bySource.get(sourceIdOf.get(srcPairRowId)!)!;
    // SRC's label in DST's principle row ids.
    const incoming: LabelState = {
      preference: s.preference,
      principles: s.principles.map((q) => ({ ...q, principle_id: o.principleMap.get(q.principle_id)! })),
    };
    const dstKey = `${annotator.id}:${dstPairRowId}`;
    const d = dstStates.get(dstKey) ?? EMPTY;
    const count = (c: typeof copied, st: LabelState) => {
      c.preferences += st.preference ? 1 : 0;
      c.principle_preferences += st.principles.length;
    };
    if (contentKey(incoming, o.dstCanon) === contentKey(d, o.dstCanon)) {
      count(unchanged, incoming);
      continue;
    }
    const srcEvent = eventId(incoming, o.dstCanon);
    const h = existing.has(dstPairRowId) ? await history() : undefined;
    // DST has seen this label before (an earlier sync, then relabelled or undone here): nothing new.
    if (h?.dst.get(dstKey)?.has(srcEvent)) {
      count(unchanged, incoming);
      continue;
    }
    if (isEmpty(d)) {
      if (incoming.preference)
        copyPrefs.push({ ...incoming.preference, pair_id: dstPairRowId, annotator_id: annotator.id });
      for (const q of incoming.principles)
        copyPrinciples.push({ ...q, pair_id: dstPairRowId, annotator_id: annotator.id });
      count(copied, incoming);
      continue;
    }
    // SRC has seen DST's label and moved on from it (relabelled offline after a sync): SRC's is the next version.
    if (h!.src.get(key)?.has(eventId(d, o.dstCanon))) {
      await tx.putLabelState(annotator.id, dstPairRowId, incoming);
      await tx.appendLabelHistory(annotator.id, dstPairRowId, 'merge', d, incoming);
      count(copied, incoming);
      continue;
    }
    // Both changed it: the newer is current, both are in the history, the pair is flagged for review.
    const kept = labelTime(incoming) > labelTime(d) ? 'src' : 'dst';
    if (kept === 'src') {
      const now = flagged(incoming);
      await tx.putLabelState(annotator.id, dstPairRowId, now);
      await tx.appendLabelHistory(annotator.id, dstPairRowId, 'merge', d, now);
      count(copied, incoming);
    } else {
      const now = flagged(d);
      await tx.putLabelState(annotator.id, dstPairRowId, now);
      await tx.appendLabelHistory(annotator.id, dstPairRowId, 'merge', incoming, now);
    }
    const pair = sourceIdOf.get(srcPairRowId)!;
    const [sw, dw] = [labelWord(incoming), labelWord(d)];
    o.conflicts.push({
      kind: 'label',
      dataset: o.srcDataset.name,
      pair,
      annotator: annotator.name,
      src: sw,
      dst: dw,
      kept,
      message: `dataset "${o.srcDataset.name}" pair ${pair}: ${annotator.name} labelled it ${sw} in ${o.srcLocation} and ${dw} in ${o.dstLocation}${sw === dw ? ' (with other rationale, scores or principle labels)' : ''}; kept the newer (${kept === 'src' ? o.srcLocation : o.dstLocation}) as current, both in the label history, pair flagged`,
    });
  }
  await tx.insertLabelRows(copyPrefs, copyPrinciples);
}
