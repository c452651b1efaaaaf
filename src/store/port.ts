// The store port: what the rest of the code may ask of a database, as types only. One adapter per
// database implements it (src/store/sqlite today). Reads are on the store and on a transaction;
// writes exist only on the transaction handle that `Store.write` passes to its callback, so a write
// outside a transaction does not type-check. Row ids (`pairRowId`) are the adapter's; pair indices
// (`Pair.idx`, `pairIdx`) are the importer's stable, line-derived numbers.
import type { StoredPreference } from '../core/preferences';
import type { AnnotatorKind, OverallPreference, Pair, Principle, PrinciplePreference } from '../core/types';
import { UsageError } from '../core/errors';

/**
 * A new label refused because its pair already holds the overlap's worth of human labels from others (its
 * claim had expired, or a file or sync brought one label too many). Thrown by every adapter on every write
 * path (the workbench, `import labels`, sync); nothing was stored. Carries what happened as data, so each
 * front end phrases it.
 */
export class PairFullError extends UsageError {
  constructor(
    readonly pairIdx: number,
    readonly overlap: number,
  ) {
    super(
      `pair ${pairIdx} already has the ${overlap} label${overlap === 1 ? '' : 's'} it needs; the label was not stored`,
    );
    this.name = 'PairFullError';
  }
}

export interface DatasetRow {
  id: number;
  name: string;
  format: string;
  sourcePath: string | null;
  contentHash: string | null;
  createdAt: string;
}
export interface PrincipleListRow {
  id: number;
  name: string;
  version: number;
  contentHash: string;
  principles: Principle[];
}
/** `group`: a label the lead assigns (region, expertise, "reward-models"), for the inconsistency between groups. */
export interface AnnotatorRow {
  id: number;
  name: string;
  kind: AnnotatorKind;
  provenance: Record<string, unknown> | null;
  group: string | null;
}
export interface MetricRunRow {
  id: number;
  createdAt: string;
  datasetName: string | null;
  toolVersion: string;
  params: unknown;
  inputHashes: unknown;
  results: unknown;
}
/** A pair with the adapter's row id beside its index. */
export type StoredPair = Pair & { pairRowId: number };

export interface StoreInfo {
  datasets: { name: string; format: string; pairs: number; contentHash: string | null }[];
  principleLists: { name: string; version: number; size: number; contentHash: string }[];
  annotators: {
    name: string;
    kind: AnnotatorKind;
    group: string | null;
    datasets: { dataset: string; preferences: number; principlePreferences: number }[];
  }[];
}

export interface DatasetProgress {
  id: number;
  name: string;
  total: number;
  annotators: { name: string; labelled: number }[];
}

/** The exact rows one annotator holds on one pair (column names as in the schema). */
export interface LabelState {
  preference: {
    value: StoredPreference;
    score_y0: number | null;
    score_y1: number | null;
    raw: string | null;
    shown_first: number | null;
    rationale: string | null;
    flagged: number;
    created_at: string;
    updated_at: string;
  } | null;
  principles: {
    principle_id: number;
    value: StoredPreference;
    prob_a: number | null;
    prob_b: number | null;
    prob_na: number | null;
    shown_first: number | null;
    raw: string | null;
    created_at: string;
  }[];
}

/** `merge`: written by `discretion sync` where a label from another database met a different one here (both kept). */
export type LabelHistoryAction = 'submit' | 'undo' | 'merge';
export interface LabelHistoryRow {
  id: number;
  pairRowId: number;
  action: LabelHistoryAction;
  before: LabelState;
  after: LabelState;
  undone: boolean;
}

/** Which pairs a workbench queue walks: all; where the annotator and a model disagree; where the annotator's own principle labels point both ways. */
export type WorkbenchQueue = { kind: 'all' } | { kind: 'disagree'; modelId: number } | { kind: 'conflict' };

export interface PreferenceForPair {
  pairRowId: number;
  annotator: string;
  kind: AnnotatorKind;
  value: StoredPreference;
  scoreY0: number | null;
  scoreY1: number | null;
  raw: string | null;
  shownFirst: number | null;
  rationale: string | null;
  flagged: number;
}
/** An overall preference as pairsWithLabels reads it: the few columns an export needs, the annotator by id. */
export interface LabelOfPair {
  pairRowId: number;
  annotatorId: number;
  value: StoredPreference;
  raw: string | null;
  rationale: string | null;
}
export interface PrinciplePreferenceForPair {
  pairRowId: number;
  annotator: string;
  list: string;
  listVersion: number;
  key: string;
  position: number;
  value: StoredPreference;
}

// ---- aggregates ---------------------------------------------------------------------------------

export interface DatasetReads {
  getDataset(name: string): Promise<DatasetRow | undefined>;
  /** Fails with the known names when missing. */
  requireDataset(name: string): Promise<DatasetRow>;
  countPairs(datasetId: number): Promise<number>;
  /** Pair index (idx) -> pair row id, for attaching judgments by row id. */
  pairRowIds(datasetId: number): Promise<Map<number, number>>;
  /** Pairs in index order, paged (the workbench and exports never load a whole dataset at once). */
  listPairs(datasetId: number, offset: number, limit: number): Promise<StoredPair[]>;
  /** Source id of every pair of a dataset, by pair index. */
  pairSourceIds(datasetId: number): Promise<{ pairIdx: number; sourceId: string }[]>;
  /** The pairs with these indices (any order; unknown indices are left out). */
  pairsByIndex(datasetId: number, indices: readonly number[]): Promise<Pair[]>;
}

export interface DatasetWrites {
  /** Fails when the name is taken. */
  createDataset(name: string, format: string, sourcePath: string | null): Promise<number>;
  setDatasetHash(datasetId: number, contentHash: string): Promise<void>;
  /** Next free pair row id; inside the transaction, ids from here on are this writer's to assign. */
  nextPairRowId(): Promise<number>;
  /**
   * `pairRowIds[i]` is the row id for `pairs[i]` (see nextPairRowId). A pair whose source id the dataset
   * already holds is not inserted; it is returned with the index of the pair that holds it.
   */
  insertPairs(datasetId: number, pairs: Pair[], pairRowIds: number[]): Promise<{ pair: Pair; firstIdx: number }[]>;
}

export interface PrincipleListReads {
  /**
   * `name@version` (split at the last "@" before a whole number: `team@2@1` is version 1 of `team@2`), else
   * `name` for its latest version (`team@2` is the list `team@2` unless `team` has a version 2). Fails with
   * the known names when missing.
   */
  requirePrincipleList(ref: string): Promise<PrincipleListRow>;
  /** Principle row ids of a list, by position. */
  principleRowIds(listId: number): Promise<number[]>;
  /** Every principle list version, newest first within a name. */
  listPrincipleLists(): Promise<{ id: number; name: string; version: number; size: number }[]>;
}

export interface PrincipleListWrites {
  /** Lists are versioned by content: the same content under the same name is the same version; new content under a known name is the next version. */
  savePrincipleList(
    name: string,
    principles: Principle[],
    sourcePath: string | null,
  ): Promise<{ list: PrincipleListRow; created: boolean }>;
}

export interface AnnotatorReads {
  getAnnotator(name: string): Promise<AnnotatorRow | undefined>;
  requireAnnotator(name: string): Promise<AnnotatorRow>;
  listAnnotators(): Promise<AnnotatorRow[]>;
}

export interface AnnotatorWrites {
  /** Creates the annotator, or checks the kind of an existing one (merging new provenance into it). */
  ensureAnnotator(name: string, kind: AnnotatorKind, provenance: Record<string, unknown> | null): Promise<AnnotatorRow>;
  /** Puts the named annotators in `group` (null: out of any group); fails on an unknown name. Resolves with their rows. */
  setAnnotatorGroup(names: string[], group: string | null): Promise<AnnotatorRow[]>;
}

export interface PreferenceReads {
  /** Pair indices that already have a preference from this annotator (for refusing duplicates and resuming). */
  pairsWithPreference(datasetId: number, annotatorId: number): Promise<Set<number>>;
  countPrinciplePreferences(datasetId: number, annotatorId: number, listId: number): Promise<number>;
  /** Every annotator's overall preferences on a dataset. */
  overallPreferences(datasetId: number): Promise<{ annotatorId: number; pairIdx: number; value: StoredPreference }[]>;
  /**
   * Every stored overall preference row of a dataset with the numbers it came from (scores, and the raw
   * JSON: judge probabilities per order), for the consistency suite.
   */
  preferenceDetails(datasetId: number): Promise<
    {
      annotatorId: number;
      pairIdx: number;
      value: StoredPreference;
      scoreY0: number | null;
      scoreY1: number | null;
      raw: string | null;
    }[]
  >;
  /** Principle-specific preferences of one list on a dataset. */
  principlePreferences(
    datasetId: number,
    listId: number,
  ): Promise<{ annotatorId: number; pairIdx: number; position: number; value: StoredPreference }[]>;
  /** Full preference rows of a page of pairs, for export and the workbench. */
  preferencesForPairs(pairRowIds: number[]): Promise<PreferenceForPair[]>;
  principlePreferencesForPairs(pairRowIds: number[]): Promise<PrinciplePreferenceForPair[]>;
  /**
   * The next `limit` pairs of a dataset after index `afterIdx` (index order, -1 for the first page), with their
   * overall and principle preference rows (any order): what an export that reads every pair needs, each page
   * found by index range on the (dataset, index) key, where listPairs and an IN list of row ids would skip and look up.
   */
  pairsWithLabels(
    datasetId: number,
    afterIdx: number,
    limit: number,
  ): Promise<{
    pairs: StoredPair[];
    preferences: LabelOfPair[];
    principlePreferences: PrinciplePreferenceForPair[];
  }>;
  /** Everything one annotator has recorded on one pair: the exact rows, for history and undo. */
  labelState(annotatorId: number, pairRowId: number): Promise<LabelState>;
  /** Label history rows of an annotator (oldest first). */
  labelHistory(annotatorId: number): Promise<LabelHistoryRow[]>;
}

export interface PreferenceWrites {
  /**
   * `pairRowId` maps each preference's pair index to its row id. With `existing: 'skip'` a pair that
   * already holds a preference from this annotator keeps it (a resumed or concurrent judge run);
   * by default that is an error. Resolves with the number of rows written.
   */
  insertPreferences(
    annotatorId: number,
    prefs: OverallPreference[],
    pairRowId: (pairIdx: number) => number,
    options?: { existing?: 'fail' | 'skip' },
  ): Promise<number>;
  /** `principleRowIds[position]` from principleRowIds(). Resolves with the number of rows written. */
  insertPrinciplePreferences(
    annotatorId: number,
    prefs: PrinciplePreference[],
    pairRowId: (pairIdx: number) => number,
    principleRowIds: number[],
    options?: { existing?: 'fail' | 'skip' },
  ): Promise<number>;
  /** Replaces the annotator's rows on the pair with exactly `state`. */
  putLabelState(annotatorId: number, pairRowId: number, state: LabelState): Promise<void>;
  /** Appends a label history row; resolves with its id. */
  appendLabelHistory(
    annotatorId: number,
    pairRowId: number,
    action: LabelHistoryAction,
    before: LabelState,
    after: LabelState,
  ): Promise<number>;
  /** This annotator's latest submission on the dataset that is not undone yet, marked undone. */
  takeLastSubmission(
    annotatorId: number,
    datasetId: number,
  ): Promise<{ pairRowId: number; pairIdx: number; before: LabelState } | undefined>;
}

export interface WorkbenchReads {
  /** One pair by its index, or the nearest pair after (dir 1) / before (dir -1) it. */
  workbenchPair(datasetId: number, pairIdx: number, dir?: 0 | 1 | -1): Promise<StoredPair | undefined>;
  /** The next pair index after `fromIdx` (dir 1) or before it (dir -1) in a queue. */
  workbenchQueueIdx(
    datasetId: number,
    annotatorId: number,
    fromIdx: number,
    dir: 1 | -1,
    queue: WorkbenchQueue,
  ): Promise<number | undefined>;
  /** The first pair (by index) this annotator has not labelled; undefined when all are labelled. */
  firstUnlabelledIdx(datasetId: number, annotatorId: number): Promise<number | undefined>;
  /** Pairs of a dataset with an overall label from this annotator. */
  labelledCount(datasetId: number, annotatorId: number): Promise<number>;
  workbenchPosition(annotatorId: number, datasetId: number): Promise<number | undefined>;
  /** Per dataset: total pairs and, per human annotator, labelled pairs (for the tree view). */
  datasetProgress(): Promise<DatasetProgress[]>;
}

export interface WorkbenchWrites {
  setWorkbenchPosition(annotatorId: number, datasetId: number, pairIdx: number): Promise<void>;
}

export interface MetricRunReads {
  listMetricRuns(): Promise<Omit<MetricRunRow, 'results'>[]>;
  /** Fails clearly when there is no such run. */
  getMetricRun(id: number): Promise<MetricRunRow>;
}

export interface MetricRunWrites {
  insertMetricRun(
    datasetId: number,
    toolVersion: string,
    params: unknown,
    inputHashes: unknown,
    results: unknown,
  ): Promise<number>;
}

/** How a team splits a dataset: `overlap` labels wanted per pair (null: no split, every annotator labels every pair). */
export interface WorkSplit {
  overlap: number | null;
  assignment: 'fixed' | 'random' | 'least-annotated';
  seed: number;
}
export const ASSIGNMENT_ORDERS = ['fixed', 'random', 'least-annotated'] as const;

export interface ClaimRow {
  pairIdx: number;
  annotator: string;
  expiresAt: number;
}

/** Per annotator on a dataset: live claims and labels, with the first and last label time (ISO). */
export interface TeamMemberProgress {
  annotator: string;
  claimed: number;
  labelled: number;
  firstLabelAt: string | null;
  lastLabelAt: string | null;
}

/**
 * Who the store's connection is. On PostgreSQL the database login decides who writes, never a name typed in a
 * setting: `annotator` is the name the team's lead mapped the login to (`discretion team add`), `role` its
 * role in the team, `owner` whether it owns the database (or is a superuser: subject to no team rule). A
 * SQLite file is one person's: login null, owner true, no role; the annotator's name comes from the caller.
 */
export interface StoreIdentity {
  login: string | null;
  owner: boolean;
  role: TeamRole | null;
  annotator: string | null;
  /** Whether team members see only their own labels ('blind', the default) or everyone's ('open'); null: no team on this database. */
  visibility: 'blind' | 'open' | null;
}
export type TeamRole = 'lead' | 'annotator';
export const TEAM_ROLES: readonly TeamRole[] = ['lead', 'annotator'];
export interface TeamMember {
  login: string;
  annotator: string;
  role: TeamRole;
  addedAt: string;
  addedBy: string;
}

export interface TeamReads {
  workSplit(datasetId: number): Promise<WorkSplit>;
  /** Claims that have not expired at `nowMs`, by pair index. */
  liveClaims(datasetId: number, nowMs: number): Promise<ClaimRow[]>;
  /** index k = how many pairs hold exactly k human labels (up to the largest count present). */
  labelCountHistogram(datasetId: number): Promise<number[]>;
  /** Every human annotator with a label or a live claim on the dataset (counts only: readable by every member). */
  teamProgress(datasetId: number, nowMs: number): Promise<TeamMemberProgress[]>;
  /**
   * How long until the first of the others' live claims expires on a pair this annotator neither holds nor
   * labelled (one that could be freed for her), in ms by the
   * database's clock (a delay, so a client whose clock is off still waits the right time), so a waiting
   * annotator knows when to look again; undefined when none is held. Counts only: readable by every member.
   */
  claimFreedInMs(datasetId: number, annotatorId: number, nowMs: number): Promise<number | undefined>;
}

export interface TeamWrites {
  setWorkSplit(datasetId: number, split: WorkSplit): Promise<void>;
  /**
   * The next pair for this annotator under the dataset's split, claimed until `nowMs + ttlMs`: the
   * annotator's own live claim first (a reload resumes it), else the first pair in the assignment order
   * that the annotator has not labelled and whose human labels plus others' live claims are fewer than the
   * overlap, and that it can take without waiting (on PostgreSQL a pair another claimer or labeller holds
   * at that moment is passed over). Undefined when none is left. Without a split: the first pair the
   * annotator has not labelled.
   */
  claimNextPair(datasetId: number, annotatorId: number, nowMs: number, ttlMs: number): Promise<number | undefined>;
  /** Extends the annotator's claim on the pair (the card is still open); false when the claim is gone. */
  renewClaim(pairRowId: number, annotatorId: number, nowMs: number, ttlMs: number): Promise<boolean>;
  /** Releases claims on the dataset (one annotator's, or everyone's); resolves with how many. */
  releaseClaims(datasetId: number, annotatorId?: number): Promise<number>;
  /**
   * Refuses (PairFullError) a new label on a pair that already holds the overlap's worth of human labels from
   * others; a pair the annotator labelled before may always be relabelled. Call before writing the label.
   */
  checkRoomForLabel(pairRowId: number, annotatorId: number): Promise<void>;
}

/** A preference row as stored, with its keys (for copying between databases). */
export type PreferenceRow = NonNullable<LabelState['preference']> & { pair_id: number; annotator_id: number };
/** A principle preference row as stored, with its keys. */
export type PrinciplePreferenceRow = LabelState['principles'][number] & { pair_id: number; annotator_id: number };
/** A principle's row id with what identifies it in any database: its list's name, version and content hash, and its key. */
export interface PrincipleIdentity {
  id: number;
  listId: number;
  list: string;
  version: number;
  contentHash: string;
  key: string;
  position: number;
}

/** What `discretion sync` reads of a database beyond the other aggregates: whole rows, by pages. */
export interface SyncReads {
  /** Every dataset, in id order. */
  listDatasets(): Promise<DatasetRow[]>;
  /** Up to `limit` pairs of a dataset with an index above `afterIdx`, in index order. */
  pairsAfter(datasetId: number, afterIdx: number, limit: number): Promise<StoredPair[]>;
  /** Every principle of every list. */
  principleIdentities(): Promise<PrincipleIdentity[]>;
  /** The exact preference and principle preference rows on these pairs. */
  labelRows(pairRowIds: number[]): Promise<{ preferences: PreferenceRow[]; principles: PrinciplePreferenceRow[] }>;
  /** Label history rows on these pairs (oldest first). */
  labelHistoryOfPairs(
    pairRowIds: number[],
  ): Promise<{ annotatorId: number; pairRowId: number; before: LabelState; after: LabelState }[]>;
}

export interface SyncWrites {
  /** Inserts rows exactly as given (timestamps too); a row whose key exists is an error. */
  insertLabelRows(preferences: PreferenceRow[], principles: PrinciplePreferenceRow[]): Promise<void>;
  /** A metric run with its original creation time. */
  insertMetricRunAt(
    createdAt: string,
    datasetId: number | null,
    toolVersion: string,
    params: unknown,
    inputHashes: unknown,
    results: unknown,
  ): Promise<number>;
}

export interface StoreReads
  extends
    DatasetReads,
    PrincipleListReads,
    AnnotatorReads,
    PreferenceReads,
    WorkbenchReads,
    MetricRunReads,
    TeamReads,
    SyncReads {
  info(): Promise<StoreInfo>;
}

/** The handle `Store.write` passes to its callback: every read, and the only way to write. */
export interface Transaction
  extends
    StoreReads,
    DatasetWrites,
    PrincipleListWrites,
    AnnotatorWrites,
    PreferenceWrites,
    WorkbenchWrites,
    MetricRunWrites,
    TeamWrites,
    SyncWrites {
  /** The database's clock (ISO-8601) for the times this write stores: on PostgreSQL the server's, never the client's. */
  now(): string;
}

export interface WriteOptions {
  /**
   * The writer assigns every key it refers to itself (the dataset importer: the dataset, its
   * annotators and pair row ids are all created in this transaction), so the adapter may skip
   * per-row foreign-key checks.
   */
  checkForeignKeys?: boolean;
}

export interface Store extends StoreReads {
  /** Where the database is, as the user named it (never with a password). */
  readonly location: string;
  /**
   * One logical write = one transaction: on any error it rolls back and the database is exactly as
   * it was. Writers wait for each other (in this process and across processes); a lock that cannot
   * be had in time is a `StoreBusyError`.
   */
  write<T>(fn: (tx: Transaction) => Promise<T>, options?: WriteOptions): Promise<T>;

  // One-transaction conveniences, the same on every adapter (transactionalOperations, src/store/common.ts).
  /** claimNextPair in its own transaction. */
  claimNextPair(datasetId: number, annotatorId: number, nowMs: number, ttlMs: number): Promise<number | undefined>;
  /** Remembers where the annotator is in the dataset (the workbench resumes there). */
  saveWorkbenchPosition(annotatorId: number, datasetId: number, pairIdx: number): Promise<void>;
  saveMetricRun(
    datasetId: number,
    toolVersion: string,
    params: unknown,
    inputHashes: unknown,
    results: unknown,
  ): Promise<number>;

  /** Who this connection is (see StoreIdentity). */
  identity(): Promise<StoreIdentity>;
  /** The team's members (PostgreSQL; empty on a database without a team, and on SQLite). */
  teamMembers(): Promise<TeamMember[]>;
  /**
   * Maps a database login to an annotator name (created as a human annotator when new) and grants it the
   * team's role; a lead's or the owner's. Refused on SQLite (a file is one person's) and for reserved names
   * (`adjudicated`, any model's), a name another login has, or a login the server lacks.
   */
  addTeamMember(login: string, annotator: string, role: TeamRole): Promise<void>;
  /** Takes the login's team role and mapping away (its labels stay); false when it was no member. */
  removeTeamMember(login: string): Promise<boolean>;

  /** A stamp that changes whenever the database may have changed (a commit here or in any other connection). */
  changeStamp(): Promise<string>;
  /**
   * Calls `onChange` after writes that other connections or processes commit, so views can follow a team's
   * work: on PostgreSQL at once, by LISTEN on channel `discretion_changes` (every write NOTIFYs inside its
   * transaction, so only a commit is heard; `tables` names what it changed), polling `changeStamp` every
   * `pollMs` while that connection is down and listening again once it can; on SQLite by polling every
   * `pollMs` (`tables` undefined). Callers debounce. Stops at dispose (and at close).
   */
  watchChanges(onChange: (tables: string[] | undefined) => void, pollMs: number): { dispose(): void };
  /** Every row of every table as canonical JSON, sorted (for "exactly as it was" checks and audits). */
  dumpTables(): Promise<Record<string, string[]>>;
  /** The database's own consistency checks (integrity, foreign keys); empty when all pass. */
  checkIntegrity(): Promise<string[]>;
  close(): Promise<void>;
}
