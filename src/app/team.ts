// What a lead sees of a team's work on a dataset (`discretion team status`, and the extension's team view
// next): the split, how many pairs hold 0..k labels, per annotator live claims, labels and labels per hour,
// the pairwise agreement of the human annotators' overall labels (Cohen's kappa), and each annotator's DA so far.
import { cohenKappa } from '../core/metrics/agreement';
import { categorizePairs } from '../core/metrics/categories';
import { daCounts, daFromCounts } from '../core/metrics/da';
import { UsageError } from '../core/errors';
import {
  initTeamDatabase,
  type TeamInitResult,
  type Visibility,
  type Store,
  type StoreIdentity,
  type TeamMember,
  type TeamRole,
  type WorkSplit,
} from '../store';

export interface TeamStatus {
  schema: 'discretion-team-status/1';
  dataset: string;
  split: WorkSplit;
  pairs: number;
  /** index k: pairs holding exactly k human labels. */
  label_counts: number[];
  /**
   * `da`: Discretion Arbitrariness so far, against the annotator's own principle labels (principle source
   * `self`) of `da_principles`: the share of its decisive overall labels on its consensus pairs that go
   * against the principles' side; `da_n` those decisive consensus pairs (null DA when there are none).
   */
  annotators: {
    name: string;
    claimed: number;
    labelled: number;
    labels_per_hour: number | null;
    da: number | null;
    da_n: number;
  }[];
  /** The principle list (name@version) DA is measured on: the one with the most human principle labels on the dataset; null when none. */
  da_principles: string | null;
  /** Cohen's kappa of each two human annotators' overall labels on the pairs both labelled (null: none shared, or undefined). */
  kappa: { annotators: string[]; matrix: (number | null)[][]; shared: number[][] };
}

const HOUR_MS = 3_600_000;

/**
 * DA so far of each annotator against its own principle labels of one list (src/core/metrics: pair
 * categories from the annotator's principle row, then daCounts over its decisive overall labels), on the
 * pairs it labelled overall.
 */
function daSoFar(
  overall: Map<number, number>,
  principles: Map<number, Int8Array>,
  m: number,
): { da: number | null; n: number } {
  const pairIdxs = [...overall.keys()];
  const matrix = new Int8Array(pairIdxs.length * m);
  const values = new Int8Array(pairIdxs.length);
  pairIdxs.forEach((pair, k) => {
    values[k] = overall.get(pair)!;
    const row = principles.get(pair);
    if (row) matrix.set(row, k * m);
  });
  const counts = daCounts(values, categorizePairs(matrix, pairIdxs.length, m));
  const da = daFromCounts(counts);
  return { da: Number.isFinite(da) ? da : null, n: counts.agree + counts.disagree };
}

export async function teamStatus(store: Store, datasetName: string, nowMs = Date.now()): Promise<TeamStatus> {
  const dataset = await store.requireDataset(datasetName);
  const [split, pairs, histogram, progress, annotators, prefs] = await Promise.all([
    store.workSplit(dataset.id),
    store.countPairs(dataset.id),
    store.labelCountHistogram(dataset.id),
    store.teamProgress(dataset.id, nowMs),
    store.listAnnotators(),
    store.overallPreferences(dataset.id),
  ]);
  const humans = annotators.filter((a) => a.kind === 'human' && progress.some((p) => p.annotator === a.name));
  // Labels per hour over the span from an annotator's first label to the last (null with fewer than two).
  const rate = (first: string | null, last: string | null, n: number) => {
    if (!first || !last || n < 2) return null;
    const span = Date.parse(last) - Date.parse(first);
    return span > 0 ? ((n - 1) * HOUR_MS) / span : null;
  };
  // Codes 0..2 for y0 / no preference / y1, -1 missing, indexed by pair index.
  const codes = new Map(humans.map((h) => [h.id, new Map<number, number>()]));
  for (const p of prefs) if (p.value !== null) codes.get(p.annotatorId)?.set(p.pairIdx, p.value + 1);
  // DA so far: on the principle list with the most human principle labels on this dataset
  const humanIds = new Set(annotators.filter((a) => a.kind === 'human').map((a) => a.id));
  let daList:
    | { name: string; version: number; size: number; rows: Awaited<ReturnType<Store['principlePreferences']>> }
    | undefined;
  for (const l of await store.listPrincipleLists()) {
    const rows = (await store.principlePreferences(dataset.id, l.id)).filter((r) => humanIds.has(r.annotatorId));
    if (rows.length > (daList?.rows.length ?? 0)) daList = { ...l, rows };
  }
  const da = new Map<string, { da: number | null; n: number }>();
  if (daList) {
    const m = daList.size;
    for (const h of humans) {
      const overall = new Map<number, number>();
      for (const p of prefs) if (p.annotatorId === h.id && p.value !== null) overall.set(p.pairIdx, p.value);
      const rows = new Map<number, Int8Array>();
      for (const r of daList.rows) {
        if (r.annotatorId !== h.id || r.value === null || r.position >= m) continue;
        if (!rows.has(r.pairIdx)) rows.set(r.pairIdx, new Int8Array(m));
        rows.get(r.pairIdx)![r.position] = r.value;
      }
      da.set(h.name, daSoFar(overall, rows, m));
    }
  }
  const matrix: (number | null)[][] = [];
  const shared: number[][] = [];
  for (const a of humans) {
    const row: (number | null)[] = [];
    const rowShared: number[] = [];
    for (const b of humans) {
      const ca = codes.get(a.id)!;
      const cb = codes.get(b.id)!;
      const both = [...ca.keys()].filter((pairIdx) => cb.has(pairIdx));
      const k = both.length
        ? cohenKappa(
            both.map((i) => ca.get(i)!),
            both.map((i) => cb.get(i)!),
            3,
          )
        : NaN;
      row.push(Number.isFinite(k) ? k : null);
      rowShared.push(both.length);
    }
    matrix.push(row);
    shared.push(rowShared);
  }
  return {
    schema: 'discretion-team-status/1',
    dataset: dataset.name,
    split,
    pairs,
    label_counts: histogram,
    annotators: progress.map((p) => ({
      name: p.annotator,
      claimed: p.claimed,
      labelled: p.labelled,
      labels_per_hour: rate(p.firstLabelAt, p.lastLabelAt, p.labelled),
      da: da.get(p.annotator)?.da ?? null,
      da_n: da.get(p.annotator)?.n ?? 0,
    })),
    da_principles: daList ? `${daList.name}@${daList.version}` : null,
    kappa: { annotators: humans.map((h) => h.name), matrix, shared },
  };
}

// ---- who may do what on a team's database -------------------------------------------------------------

/** A name given for the writer (an option, a setting, a file) that is not the login's own annotator. */
export class NotYourAnnotatorError extends UsageError {
  constructor(
    readonly login: string,
    readonly annotator: string,
    readonly named: string,
    location: string,
  ) {
    super(
      `login ${login} is annotator ${annotator} on database ${location}: labels are written as ${annotator} only, not as ${named}; nothing was written`,
    );
    this.name = 'NotYourAnnotatorError';
  }
}

/**
 * The human annotator a label is written as. On a team's PostgreSQL database the login decides: its mapped
 * annotator, and naming another is refused (the database's policies would refuse the rows too); the owner,
 * subject to no team rule, writes as the name given. On a SQLite file (one person's) the name given.
 */
export async function labellerFor(
  store: Store,
  named: string | undefined,
  who: StoreIdentity | Promise<StoreIdentity> = store.identity(),
): Promise<string> {
  who = await who;
  if (callerNamesLabeller(who)) {
    if (named === undefined || named.trim() === '')
      throw new UsageError('name the annotator the labels are written as');
    return named;
  }
  if (who.annotator === null) throw notAMember(who, store.location);
  if (named !== undefined && named !== who.annotator)
    // a login is there: callerNamesLabeller covered the file
    throw new NotYourAnnotatorError(who.login!, who.annotator, named, store.location);
  return who.annotator;
}

/** Whether the caller names whom labels are written as: a SQLite file's one person, or a database's owner who is no team member. */
export function callerNamesLabeller(who: StoreIdentity): boolean {
  return who.login === null || (who.owner && who.annotator === null);
}

const notAMember = (who: StoreIdentity, location: string) =>
  new UsageError(
    `login ${who.login} is no member of the team on database ${location}: ask the lead to run \`discretion team add ${who.login}\``,
  );

/**
 * Work that is the lead's (splits, releasing others' claims, adjudication): refused, before anything is
 * written, for a team's annotator (the database refuses it too; this says why in one line). A SQLite file's
 * one person and the database's owner may.
 */
export async function requireLead(
  store: Store,
  what: string,
  who: StoreIdentity | Promise<StoreIdentity> = store.identity(),
): Promise<StoreIdentity> {
  who = await who;
  if (who.login === null || who.owner || who.role === 'lead') return who;
  if (who.role === null) throw notAMember(who, store.location);
  throw new UsageError(
    `${what} is the lead's work, and login ${who.login} is an annotator of the team on database ${store.location}; nothing was written`,
  );
}

/** Releases claims on a dataset: everyone's (the lead's), or one annotator's (the lead's, or an annotator's own). */
export async function releaseClaims(store: Store, datasetName: string, annotator: string | undefined): Promise<number> {
  const who = await store.identity();
  if (annotator === undefined || annotator !== who.annotator)
    await requireLead(
      store,
      annotator === undefined ? "releasing everyone's claims" : `releasing ${annotator}'s claims`,
      who,
    );
  const d = await store.requireDataset(datasetName);
  const a = annotator === undefined ? undefined : (await store.requireAnnotator(annotator)).id;
  return store.write((tx) => tx.releaseClaims(d.id, a));
}

export { initTeamDatabase, type TeamInitResult, type Visibility };

/** `discretion team add`: a lead's (or the owner's). */
export async function addTeamMember(
  store: Store,
  login: string,
  annotator: string,
  role: TeamRole,
): Promise<TeamMember> {
  await requireLead(store, 'adding members');
  await store.addTeamMember(login, annotator, role);
  return (await store.teamMembers()).find((m) => m.login === login)!;
}

/** `discretion team remove`: a lead's (or the owner's); false when the login was no member. */
export async function removeTeamMember(store: Store, login: string): Promise<boolean> {
  await requireLead(store, 'removing members');
  return store.removeTeamMember(login);
}
