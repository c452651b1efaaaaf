// The store: one local SQLite file behind a narrow interface. WAL, foreign keys on, migrations by
// PRAGMA user_version, one transaction per logical write (see `write`).
import { createHash } from 'node:crypto';
import { UsageError } from '../core/errors';
import { canonicalPrincipleListText } from '../core/principles';
import type { AnnotatorKind, OverallPreference, Pair, Principle, PrinciplePreference, StoredPreference } from '../core/types';
import { Database, type SqlValue, type Statement } from './db';
import { MIGRATIONS, SCHEMA_VERSION } from './schema';

export interface DatasetRow { id: number; name: string; format: string; sourcePath: string | null; contentHash: string | null; createdAt: string }
export interface PrincipleListRow { id: number; name: string; version: number; contentHash: string; principles: Principle[] }
export interface AnnotatorRow { id: number; name: string; kind: AnnotatorKind; provenance: Record<string, unknown> | null }
export interface MetricRunRow { id: number; createdAt: string; datasetName: string | null; toolVersion: string; params: unknown; inputHashes: unknown; results: unknown }

export interface StoreInfo {
  datasets: { name: string; format: string; pairs: number; contentHash: string | null }[];
  principleLists: { name: string; version: number; size: number; contentHash: string }[];
  annotators: { name: string; kind: AnnotatorKind; datasets: { dataset: string; preferences: number; principlePreferences: number }[] }[];
}

/** Rows per INSERT statement: the dataset importer's whole batch, so each batch is one statement a table. */
const BATCH_ROWS = 5000;

export function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

const now = () => new Date().toISOString();
const json = (v: unknown): string | null => (v === undefined || v === null ? null : JSON.stringify(v));

export class Store {
  private writeQueue: Promise<unknown> = Promise.resolve();

  /**
   * Prepared bulk-insert statements, by SQL text. `db.run` in serialized mode prepares, runs and
   * finalizes a statement in three trips between SQLite's thread and this one, and SQLite waits for
   * this (busy, parsing) thread at each; a prepared statement runs in one. Measured on the 1M-pair
   * import: SQLite's statements took 16.5 s to complete instead of its 10 s of work; with these, 10.7 s.
   */
  private readonly bulkStatements = new Map<string, Promise<Statement>>();
  private readonly bulkOrder = new Map<string, { stmt: Promise<Statement>; queued: Promise<unknown>; done: Promise<unknown> }>();

  private constructor(readonly db: Database) {}

  /** Opens (creating when missing) and migrates. Fails clearly on a database from a newer schema. */
  static async open(path: string, options: { busyTimeoutMs?: number } = {}): Promise<Store> {
    let db: Database;
    try {
      db = await Database.open(path);
    } catch (e) {
      throw new UsageError(`cannot open database ${path}: ${(e as Error).message}`);
    }
    db.configure(options.busyTimeoutMs ?? 10_000);
    try {
      const header = await db.get<{ user_version: number }>('PRAGMA user_version');
      const version = header?.user_version ?? 0;
      if (version > SCHEMA_VERSION) {
        throw new UsageError(`${path} was written by a newer Discretion Workbench (schema version ${version}; this version reads up to ${SCHEMA_VERSION}). Update the tool to open it.`);
      }
      await db.exec('PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -32768;');
      for (let v = version; v < SCHEMA_VERSION; v++) {
        await db.exec('BEGIN IMMEDIATE');
        try {
          await db.exec(MIGRATIONS[v]);
          await db.exec(`PRAGMA user_version = ${v + 1}`);
          await db.exec('COMMIT');
        } catch (e) {
          await db.exec('ROLLBACK');
          throw e;
        }
      }
    } catch (e) {
      await db.close();
      if (e instanceof UsageError) throw e;
      throw new UsageError(`cannot open database ${path}: ${(e as Error).message}`);
    }
    return new Store(db);
  }

  async close(): Promise<void> {
    await this.writeQueue.catch(() => undefined);
    for (const stmt of this.bulkStatements.values()) await stmt.then((s) => s.finalize(), () => undefined);
    this.bulkStatements.clear();
    await this.db.close();
  }

  /**
   * Runs one bulk statement after the earlier ones on the same table, in the order queued: runs of one
   * prepared statement keep their order by themselves, and a run of another shape waits for the last
   * one to finish (so the first of two rows with one source id is the one kept). Tables are not
   * ordered against each other: callers await a parent's rows before queuing rows whose foreign key
   * checks them (the dataset importer, which queues pairs and preferences together, runs without the
   * checks).
   */
  private queueBulkRun(table: string, sql: string, params: SqlValue[]): Promise<number> {
    const stmt = this.bulkStatement(sql);
    const prev = this.bulkOrder.get(table);
    const after = !prev ? Promise.resolve() : prev.stmt === stmt ? prev.queued : prev.done;
    const queued = after.catch(() => undefined).then(() => stmt);
    const done = queued.then((s) => s.run(params));
    this.bulkOrder.set(table, { stmt, queued, done });
    return done;
  }

  /** Kept until close: their number is bounded by the tables and which of their columns a batch holds constant. */
  private bulkStatement(sql: string): Promise<Statement> {
    let stmt = this.bulkStatements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.bulkStatements.set(sql, stmt);
      stmt.catch(() => this.bulkStatements.delete(sql));
    }
    return stmt;
  }

  /**
   * One logical write = one transaction. Writes are serialised within this process (one connection),
   * and BEGIN IMMEDIATE plus the busy timeout serialise them across processes. On any error the
   * transaction rolls back and the database is exactly as it was.
   */
  write<T>(fn: () => Promise<T>, options: { checkForeignKeys?: boolean } = {}): Promise<T> {
    // A bulk writer that assigns every key itself (the dataset importer: the dataset, annotators and
    // pair row ids are all created in this transaction) may switch the per-row foreign-key lookups off
    // (about a third of SQLite's time per imported pair, measured with rows generated inside SQLite;
    // noisy). The pragma only takes effect outside a transaction, and writes on this connection are
    // serialised, so no other write runs without them.
    const checks = options.checkForeignKeys ?? true;
    const run = async (): Promise<T> => {
      if (!checks) await this.db.exec('PRAGMA foreign_keys = OFF');
      try {
        await this.db.exec('BEGIN IMMEDIATE');
        try {
          const result = await fn();
          await this.db.exec('COMMIT');
          return result;
        } catch (e) {
          await this.db.exec('ROLLBACK').catch(() => undefined);
          throw e;
        }
      } finally {
        if (!checks) await this.db.exec('PRAGMA foreign_keys = ON');
      }
    };
    const next = this.writeQueue.then(run, run);
    this.writeQueue = next.catch(() => undefined);
    return next;
  }

  // ---- bulk inserts -------------------------------------------------------------------------

  /**
   * Inserts rows in batches of BATCH_ROWS. A batch travels as ONE JSON parameter expanded by SQLite's
   * jsonb_each, holding only the columns that vary within the batch; columns with one value across the
   * batch (the dataset, the annotator, timestamps, NULLs) are bound once. Binding values one by one
   * through the sqlite3 binding costs about a microsecond each on the main thread. jsonb_each, unlike
   * json_each, hands each row over as binary JSON, so the per-column extractions do not re-parse it
   * (a fifth less CPU per imported pair).
   */
  async insertRows(table: string, columns: readonly string[], rows: SqlValue[][], conflict: 'fail' | 'ignore' = 'fail'): Promise<number> {
    if (rows.length === 0) return 0;
    const head = `INSERT ${conflict === 'ignore' ? 'OR IGNORE ' : ''}INTO ${table} (${columns.join(',')}) `;
    const pending: Promise<number>[] = [];
    for (let i = 0; i < rows.length; i += BATCH_ROWS) {
      const batch = rows.slice(i, i + BATCH_ROWS);
      const first = batch[0];
      const constant = columns.map((_, c) => typeof first[c] !== 'object' || first[c] === null ? batch.every((r) => r[c] === first[c]) : false);
      const varying = columns.map((_, c) => c).filter((c) => !constant[c]);
      const params: SqlValue[] = [];
      let k = 0;
      const select = columns.map((_, c) => {
        if (constant[c]) {
          params.push(first[c]);
          return `?${params.length + 1}`;
        }
        return `value ->> ${k++}`;
      });
      const json = JSON.stringify(varying.length === 1 ? batch.map((r) => [r[varying[0]]]) : batch.map((r) => varying.map((c) => r[c])));
      pending.push(this.queueBulkRun(table, `${head}SELECT ${select.join(',')} FROM jsonb_each(?1)`, [json, ...params]));
    }
    const results = await Promise.allSettled(pending);
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed) throw failed.reason;
    return results.reduce((n, r) => n + (r as PromiseFulfilledResult<number>).value, 0);
  }

  // ---- datasets and pairs -------------------------------------------------------------------

  async getDataset(name: string): Promise<DatasetRow | undefined> {
    const row = await this.db.get<{ id: number; name: string; format: string; source_path: string | null; content_hash: string | null; created_at: string }>(
      'SELECT * FROM datasets WHERE name = ?', [name]);
    return row && { id: row.id, name: row.name, format: row.format, sourcePath: row.source_path, contentHash: row.content_hash, createdAt: row.created_at };
  }

  async requireDataset(name: string): Promise<DatasetRow> {
    const d = await this.getDataset(name);
    if (!d) {
      const known = (await this.db.all<{ name: string }>('SELECT name FROM datasets ORDER BY name')).map((r) => r.name);
      throw new UsageError(`unknown dataset "${name}"${known.length ? ` (known: ${known.join(', ')})` : ' (the database holds no datasets yet)'}`);
    }
    return d;
  }

  /** Call inside `write`. Fails when the name is taken. */
  async createDataset(name: string, format: string, sourcePath: string | null): Promise<number> {
    if (await this.getDataset(name)) throw new UsageError(`dataset "${name}" already exists; choose another --dataset name`);
    const r = await this.db.run('INSERT INTO datasets (name, format, source_path, created_at) VALUES (?, ?, ?, ?)', [name, format, sourcePath, now()]);
    return r.lastID;
  }

  async setDatasetHash(datasetId: number, contentHash: string): Promise<void> {
    await this.db.run('UPDATE datasets SET content_hash = ? WHERE id = ?', [contentHash, datasetId]);
  }

  /** Next free pair row id; with BEGIN IMMEDIATE held, ids from here on are ours to assign. */
  async nextPairRowId(): Promise<number> {
    const r = await this.db.get<{ m: number | null }>('SELECT MAX(id) AS m FROM pairs');
    return (r?.m ?? 0) + 1;
  }

  /**
   * Call inside `write`. `rowIds[i]` is the row id for `pairs[i]` (see nextPairRowId). A pair whose
   * source id the dataset already holds is not inserted; it is returned with the line-independent
   * index of the pair that holds it, so the importer can name both (a uniqueness check in SQLite
   * keeps the importer's memory flat, however large the file).
   */
  async insertPairs(datasetId: number, pairs: Pair[], rowIds: number[]): Promise<{ pair: Pair; firstIdx: number }[]> {
    const inserted = await this.insertRows('pairs', ['id', 'dataset_id', 'idx', 'source_id', 'prompt', 'y0', 'y1', 'meta'],
      pairs.map((p, i) => [rowIds[i], datasetId, p.id, p.sourceId, p.prompt, p.y0, p.y1, json(p.meta && Object.keys(p.meta).length ? p.meta : null)]), 'ignore');
    if (inserted === pairs.length) return [];
    const present = new Set((await this.db.all<{ id: number }>('SELECT id FROM pairs WHERE id BETWEEN ? AND ?', [rowIds[0], rowIds[rowIds.length - 1]])).map((r) => r.id));
    const duplicates: { pair: Pair; firstIdx: number }[] = [];
    for (let i = 0; i < pairs.length; i++) {
      if (present.has(rowIds[i])) continue;
      const first = await this.db.get<{ idx: number }>('SELECT idx FROM pairs WHERE dataset_id = ? AND source_id = ?', [datasetId, pairs[i].sourceId]);
      duplicates.push({ pair: pairs[i], firstIdx: first!.idx });
    }
    return duplicates;
  }

  async countPairs(datasetId: number): Promise<number> {
    return (await this.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM pairs WHERE dataset_id = ?', [datasetId]))!.n;
  }

  /** Pair index (idx) -> pair row id, for attaching judgments by row id. */
  async pairRowIds(datasetId: number): Promise<Map<number, number>> {
    const rows = await this.db.all<{ id: number; idx: number }>('SELECT id, idx FROM pairs WHERE dataset_id = ?', [datasetId]);
    return new Map(rows.map((r) => [r.idx, r.id]));
  }

  /** Pairs in index order, paged (the workbench and exports never load a whole dataset at once). */
  async listPairs(datasetId: number, offset: number, limit: number): Promise<(Pair & { rowId: number })[]> {
    const rows = await this.db.all<{ id: number; idx: number; source_id: string; prompt: string; y0: string; y1: string; meta: string | null }>(
      'SELECT id, idx, source_id, prompt, y0, y1, meta FROM pairs WHERE dataset_id = ? ORDER BY idx LIMIT ? OFFSET ?', [datasetId, limit, offset]);
    return rows.map((r) => ({ rowId: r.id, id: r.idx, sourceId: r.source_id, prompt: r.prompt, y0: r.y0, y1: r.y1, meta: r.meta ? JSON.parse(r.meta) : undefined }));
  }

  /** Source id of every pair of a dataset, by pair index. */
  async pairSourceIds(datasetId: number): Promise<{ idx: number; sourceId: string }[]> {
    return this.db.all('SELECT idx, source_id AS sourceId FROM pairs WHERE dataset_id = ?', [datasetId]);
  }

  /** The pairs with these indices (any order; unknown indices are left out). */
  async pairsByIndex(datasetId: number, indices: readonly number[]): Promise<Pair[]> {
    const out: Pair[] = [];
    for (let i = 0; i < indices.length; i += 500) {
      const chunk = indices.slice(i, i + 500);
      const rows = await this.db.all<{ idx: number; source_id: string; prompt: string; y0: string; y1: string; meta: string | null }>(
        `SELECT idx, source_id, prompt, y0, y1, meta FROM pairs WHERE dataset_id = ? AND idx IN (${chunk.map(() => '?').join(',')})`, [datasetId, ...chunk]);
      for (const r of rows) out.push({ id: r.idx, sourceId: r.source_id, prompt: r.prompt, y0: r.y0, y1: r.y1, meta: r.meta ? JSON.parse(r.meta) : undefined });
    }
    return out;
  }

  // ---- principle lists ----------------------------------------------------------------------

  /**
   * Call inside `write`. Lists are versioned by content: the same content under the same name is
   * the same version (returned as is); new content under a known name becomes the next version.
   */
  async savePrincipleList(name: string, principles: Principle[], sourcePath: string | null): Promise<{ list: PrincipleListRow; created: boolean }> {
    const hash = sha256(canonicalPrincipleListText(principles));
    const existing = await this.db.get<{ id: number }>('SELECT id FROM principle_lists WHERE name = ? AND content_hash = ?', [name, hash]);
    if (existing) return { list: (await this.principleListById(existing.id))!, created: false };
    const v = await this.db.get<{ v: number | null }>('SELECT MAX(version) AS v FROM principle_lists WHERE name = ?', [name]);
    const version = (v?.v ?? 0) + 1;
    const r = await this.db.run('INSERT INTO principle_lists (name, version, content_hash, source_path, created_at) VALUES (?, ?, ?, ?, ?)', [name, version, hash, sourcePath, now()]);
    await this.insertRows('principles', ['list_id', 'position', 'key', 'short', 'text'], principles.map((p, i) => [r.lastID, i, p.id, p.short, p.text]));
    return { list: (await this.principleListById(r.lastID))!, created: true };
  }

  private async principleListById(id: number): Promise<PrincipleListRow | undefined> {
    const l = await this.db.get<{ id: number; name: string; version: number; content_hash: string }>('SELECT * FROM principle_lists WHERE id = ?', [id]);
    if (!l) return undefined;
    const ps = await this.db.all<{ key: string; short: string; text: string }>('SELECT key, short, text FROM principles WHERE list_id = ? ORDER BY position', [id]);
    return { id: l.id, name: l.name, version: l.version, contentHash: l.content_hash, principles: ps.map((p) => ({ id: p.key, short: p.short, text: p.text })) };
  }

  /** `name` or `name@version`; without a version, the latest. */
  async requirePrincipleList(ref: string): Promise<PrincipleListRow> {
    const m = /^(.*)@(\d+)$/.exec(ref);
    const [name, version] = m ? [m[1], Number(m[2])] : [ref, undefined];
    const row = await this.db.get<{ id: number }>(
      version === undefined ? 'SELECT id FROM principle_lists WHERE name = ? ORDER BY version DESC LIMIT 1' : 'SELECT id FROM principle_lists WHERE name = ? AND version = ?',
      version === undefined ? [name] : [name, version]);
    if (!row) {
      const known = (await this.db.all<{ name: string }>('SELECT DISTINCT name FROM principle_lists ORDER BY name')).map((r) => r.name);
      throw new UsageError(`unknown principle list "${ref}"${known.length ? ` (known: ${known.join(', ')})` : ' (the database holds no principle lists yet)'}`);
    }
    return (await this.principleListById(row.id))!;
  }

  /** Principle row ids of a list, by position. */
  async principleRowIds(listId: number): Promise<number[]> {
    return (await this.db.all<{ id: number }>('SELECT id FROM principles WHERE list_id = ? ORDER BY position', [listId])).map((r) => r.id);
  }

  // ---- annotators ---------------------------------------------------------------------------

  async getAnnotator(name: string): Promise<AnnotatorRow | undefined> {
    const r = await this.db.get<{ id: number; name: string; kind: AnnotatorKind; provenance: string | null }>('SELECT * FROM annotators WHERE name = ?', [name]);
    return r && { id: r.id, name: r.name, kind: r.kind, provenance: r.provenance ? JSON.parse(r.provenance) : null };
  }

  async requireAnnotator(name: string): Promise<AnnotatorRow> {
    const a = await this.getAnnotator(name);
    if (!a) {
      const known = (await this.db.all<{ name: string }>('SELECT name FROM annotators ORDER BY name')).map((r) => r.name);
      throw new UsageError(`unknown annotator "${name}"${known.length ? ` (known: ${known.join(', ')})` : ' (the database holds no annotators yet)'}`);
    }
    return a;
  }

  /** Call inside `write`. Creates the annotator, or checks the kind of an existing one. */
  async ensureAnnotator(name: string, kind: AnnotatorKind, provenance: Record<string, unknown> | null): Promise<AnnotatorRow> {
    const existing = await this.getAnnotator(name);
    if (existing) {
      if (existing.kind !== kind) throw new UsageError(`annotator "${name}" already exists as a ${existing.kind}, not a ${kind}; choose another --annotator name`);
      if (provenance) await this.db.run('UPDATE annotators SET provenance = ? WHERE id = ?', [json({ ...existing.provenance, ...provenance }), existing.id]);
      return { ...existing, provenance: provenance ? { ...existing.provenance, ...provenance } : existing.provenance };
    }
    const r = await this.db.run('INSERT INTO annotators (name, kind, provenance, created_at) VALUES (?, ?, ?, ?)', [name, kind, json(provenance), now()]);
    return { id: r.lastID, name, kind, provenance };
  }

  async listAnnotators(): Promise<AnnotatorRow[]> {
    const rows = await this.db.all<{ id: number; name: string; kind: AnnotatorKind; provenance: string | null }>('SELECT * FROM annotators ORDER BY id');
    return rows.map((r) => ({ id: r.id, name: r.name, kind: r.kind, provenance: r.provenance ? JSON.parse(r.provenance) : null }));
  }

  // ---- preferences --------------------------------------------------------------------------

  /** Call inside `write`. `pairRowId` maps each preference's pair index to its row id. */
  async insertPreferences(annotatorId: number, prefs: OverallPreference[], pairRowId: (idx: number) => number): Promise<void> {
    const t = now();
    await this.insertRows('preferences', ['annotator_id', 'pair_id', 'value', 'score_y0', 'score_y1', 'raw', 'shown_first', 'rationale', 'flagged', 'created_at', 'updated_at'],
      prefs.map((p) => [annotatorId, pairRowId(p.pairId), p.value, p.scoreY0 ?? null, p.scoreY1 ?? null, json(p.raw), p.shownFirst ?? null, p.rationale ?? null, p.flagged ? 1 : 0, t, t]));
  }

  /** Call inside `write`. `principleRowIds[position]` from principleRowIds(). */
  async insertPrinciplePreferences(annotatorId: number, prefs: PrinciplePreference[], pairRowId: (idx: number) => number, principleRowIds: number[]): Promise<void> {
    const t = now();
    await this.insertRows('principle_preferences', ['annotator_id', 'pair_id', 'principle_id', 'value', 'prob_a', 'prob_b', 'prob_na', 'shown_order', 'raw', 'created_at'],
      prefs.map((p) => [annotatorId, pairRowId(p.pairId), principleRowIds[p.principleIndex], p.value, p.probA ?? null, p.probB ?? null, p.probNA ?? null, p.order ?? null, json(p.raw), t]));
  }

  /** Pair indices that already have a preference from this annotator (for refusing duplicates and resuming). */
  async pairsWithPreference(datasetId: number, annotatorId: number): Promise<Set<number>> {
    const rows = await this.db.all<{ idx: number }>('SELECT p.idx FROM preferences pr JOIN pairs p ON p.id = pr.pair_id WHERE p.dataset_id = ? AND pr.annotator_id = ?', [datasetId, annotatorId]);
    return new Set(rows.map((r) => r.idx));
  }

  async countPrinciplePreferences(datasetId: number, annotatorId: number, listId: number): Promise<number> {
    return (await this.db.get<{ n: number }>(
      'SELECT COUNT(*) AS n FROM principle_preferences pp JOIN pairs p ON p.id = pp.pair_id JOIN principles pr ON pr.id = pp.principle_id WHERE p.dataset_id = ? AND pp.annotator_id = ? AND pr.list_id = ?',
      [datasetId, annotatorId, listId]))!.n;
  }

  /** Every annotator's overall preferences on a dataset, as (annotator, pair index, value) rows. */
  async overallPreferences(datasetId: number): Promise<{ annotatorId: number; idx: number; value: StoredPreference }[]> {
    const rows = await this.db.all<{ a: number; idx: number; v: StoredPreference }>(
      'SELECT pr.annotator_id AS a, p.idx AS idx, pr.value AS v FROM preferences pr JOIN pairs p ON p.id = pr.pair_id WHERE p.dataset_id = ?', [datasetId]);
    return rows.map((r) => ({ annotatorId: r.a, idx: r.idx, value: r.v }));
  }

  /** Principle-specific preferences of one list on a dataset: (annotator, pair index, position, value). */
  async principlePreferences(datasetId: number, listId: number): Promise<{ annotatorId: number; idx: number; position: number; value: StoredPreference }[]> {
    const rows = await this.db.all<{ a: number; idx: number; pos: number; v: StoredPreference }>(
      `SELECT pp.annotator_id AS a, p.idx AS idx, pr.position AS pos, pp.value AS v
       FROM principle_preferences pp JOIN pairs p ON p.id = pp.pair_id JOIN principles pr ON pr.id = pp.principle_id
       WHERE p.dataset_id = ? AND pr.list_id = ?`, [datasetId, listId]);
    return rows.map((r) => ({ annotatorId: r.a, idx: r.idx, position: r.pos, value: r.v }));
  }

  /** Full preference rows of a page of pairs, for export and the workbench. */
  async preferencesForPairs(pairRowIds: number[]): Promise<{ pairRowId: number; annotator: string; kind: AnnotatorKind; value: StoredPreference; scoreY0: number | null; scoreY1: number | null; raw: string | null; shownFirst: number | null; rationale: string | null; flagged: number }[]> {
    if (pairRowIds.length === 0) return [];
    return this.db.all(
      `SELECT pr.pair_id AS pairRowId, a.name AS annotator, a.kind AS kind, pr.value AS value, pr.score_y0 AS scoreY0, pr.score_y1 AS scoreY1,
              pr.raw AS raw, pr.shown_first AS shownFirst, pr.rationale AS rationale, pr.flagged AS flagged
       FROM preferences pr JOIN annotators a ON a.id = pr.annotator_id WHERE pr.pair_id IN (${pairRowIds.map(() => '?').join(',')}) ORDER BY a.id`, pairRowIds);
  }

  async principlePreferencesForPairs(pairRowIds: number[]): Promise<{ pairRowId: number; annotator: string; list: string; listVersion: number; key: string; position: number; value: StoredPreference }[]> {
    if (pairRowIds.length === 0) return [];
    return this.db.all(
      `SELECT pp.pair_id AS pairRowId, a.name AS annotator, l.name AS list, l.version AS listVersion, pr.key AS key, pr.position AS position, pp.value AS value
       FROM principle_preferences pp JOIN annotators a ON a.id = pp.annotator_id JOIN principles pr ON pr.id = pp.principle_id JOIN principle_lists l ON l.id = pr.list_id
       WHERE pp.pair_id IN (${pairRowIds.map(() => '?').join(',')}) ORDER BY a.id, pr.position`, pairRowIds);
  }

  // ---- metric runs --------------------------------------------------------------------------

  async saveMetricRun(datasetId: number, toolVersion: string, params: unknown, inputHashes: unknown, results: unknown): Promise<number> {
    return this.write(async () => (await this.db.run(
      'INSERT INTO metric_runs (created_at, dataset_id, tool_version, params, input_hashes, results) VALUES (?, ?, ?, ?, ?, ?)',
      [now(), datasetId, toolVersion, JSON.stringify(params), JSON.stringify(inputHashes), JSON.stringify(results)])).lastID);
  }

  async listMetricRuns(): Promise<Omit<MetricRunRow, 'results'>[]> {
    const rows = await this.db.all<{ id: number; created_at: string; dataset: string | null; tool_version: string; params: string; input_hashes: string }>(
      'SELECT m.id, m.created_at, d.name AS dataset, m.tool_version, m.params, m.input_hashes FROM metric_runs m LEFT JOIN datasets d ON d.id = m.dataset_id ORDER BY m.id');
    return rows.map((r) => ({ id: r.id, createdAt: r.created_at, datasetName: r.dataset, toolVersion: r.tool_version, params: JSON.parse(r.params), inputHashes: JSON.parse(r.input_hashes) }));
  }

  async getMetricRun(id: number): Promise<MetricRunRow> {
    const r = await this.db.get<{ id: number; created_at: string; dataset: string | null; tool_version: string; params: string; input_hashes: string; results: string }>(
      'SELECT m.*, d.name AS dataset FROM metric_runs m LEFT JOIN datasets d ON d.id = m.dataset_id WHERE m.id = ?', [id]);
    if (!r) throw new UsageError(`no metric run with id ${id} (list them with "discretion runs")`);
    return { id: r.id, createdAt: r.created_at, datasetName: r.dataset, toolVersion: r.tool_version, params: JSON.parse(r.params), inputHashes: JSON.parse(r.input_hashes), results: JSON.parse(r.results) };
  }

  // ---- overview -----------------------------------------------------------------------------

  async info(): Promise<StoreInfo> {
    const datasets = await this.db.all<{ name: string; format: string; content_hash: string | null; n: number }>(
      'SELECT d.name, d.format, d.content_hash, (SELECT COUNT(*) FROM pairs p WHERE p.dataset_id = d.id) AS n FROM datasets d ORDER BY d.id');
    const lists = await this.db.all<{ name: string; version: number; content_hash: string; n: number }>(
      'SELECT l.name, l.version, l.content_hash, (SELECT COUNT(*) FROM principles p WHERE p.list_id = l.id) AS n FROM principle_lists l ORDER BY l.name, l.version');
    const prefCounts = await this.db.all<{ a: number; dataset: string; n: number }>(
      'SELECT pr.annotator_id AS a, d.name AS dataset, COUNT(*) AS n FROM preferences pr JOIN pairs p ON p.id = pr.pair_id JOIN datasets d ON d.id = p.dataset_id WHERE pr.value IS NOT NULL GROUP BY pr.annotator_id, d.id');
    const ppCounts = await this.db.all<{ a: number; dataset: string; n: number }>(
      'SELECT pp.annotator_id AS a, d.name AS dataset, COUNT(DISTINCT pp.pair_id) AS n FROM principle_preferences pp JOIN pairs p ON p.id = pp.pair_id JOIN datasets d ON d.id = p.dataset_id GROUP BY pp.annotator_id, d.id');
    const annotators = await this.listAnnotators();
    return {
      datasets: datasets.map((d) => ({ name: d.name, format: d.format, pairs: d.n, contentHash: d.content_hash })),
      principleLists: lists.map((l) => ({ name: l.name, version: l.version, size: l.n, contentHash: l.content_hash })),
      annotators: annotators.map((a) => {
        const names = new Set([...prefCounts, ...ppCounts].filter((c) => c.a === a.id).map((c) => c.dataset));
        return {
          name: a.name,
          kind: a.kind,
          datasets: [...names].map((dataset) => ({
            dataset,
            preferences: prefCounts.find((c) => c.a === a.id && c.dataset === dataset)?.n ?? 0,
            principlePreferences: ppCounts.find((c) => c.a === a.id && c.dataset === dataset)?.n ?? 0,
          })),
        };
      }),
    };
  }

  // ---- annotation workbench (label history, paging by index, queues) ------------------------

  /** One pair by its index, or the nearest pair after (dir 1) / before (dir -1) it, skipping nothing. */
  async workbenchPair(datasetId: number, idx: number, dir: 0 | 1 | -1 = 0): Promise<(Pair & { rowId: number }) | undefined> {
    const op = dir === 0 ? '=' : dir === 1 ? '>' : '<';
    const r = await this.db.get<{ id: number; idx: number; source_id: string; prompt: string; y0: string; y1: string; meta: string | null }>(
      `SELECT id, idx, source_id, prompt, y0, y1, meta FROM pairs WHERE dataset_id = ? AND idx ${op} ? ORDER BY idx ${dir === -1 ? 'DESC' : 'ASC'} LIMIT 1`, [datasetId, idx]);
    return r && { rowId: r.id, id: r.idx, sourceId: r.source_id, prompt: r.prompt, y0: r.y0, y1: r.y1, meta: r.meta ? JSON.parse(r.meta) : undefined };
  }

  /**
   * The next pair index after `fromIdx` (dir 1) or before it (dir -1) in a queue:
   * all pairs; pairs where the annotator and `model` disagree; or pairs where the annotator's own
   * principle labels point both ways.
   */
  async workbenchQueueIdx(datasetId: number, annotatorId: number, fromIdx: number, dir: 1 | -1, filter: { kind: 'all' } | { kind: 'disagree'; modelId: number } | { kind: 'conflict' }): Promise<number | undefined> {
    const op = dir === 1 ? '>' : '<';
    const order = dir === 1 ? 'ASC' : 'DESC';
    let where = '';
    const params: SqlValue[] = [datasetId, fromIdx];
    if (filter.kind === 'disagree') {
      where = `AND EXISTS (SELECT 1 FROM preferences a JOIN preferences m ON m.pair_id = a.pair_id
                 WHERE a.pair_id = p.id AND a.annotator_id = ? AND m.annotator_id = ? AND a.value IS NOT NULL AND m.value IS NOT NULL AND a.value <> m.value)`;
      params.push(annotatorId, filter.modelId);
    } else if (filter.kind === 'conflict') {
      where = `AND EXISTS (SELECT 1 FROM principle_preferences x WHERE x.pair_id = p.id AND x.annotator_id = ? AND x.value = 1)
               AND EXISTS (SELECT 1 FROM principle_preferences y WHERE y.pair_id = p.id AND y.annotator_id = ? AND y.value = -1)`;
      params.push(annotatorId, annotatorId);
    }
    const r = await this.db.get<{ idx: number }>(`SELECT p.idx FROM pairs p WHERE p.dataset_id = ? AND p.idx ${op} ? ${where} ORDER BY p.idx ${order} LIMIT 1`, params);
    return r?.idx;
  }

  /** The first pair (by index) this annotator has not labelled; undefined when all are labelled. */
  async firstUnlabelledIdx(datasetId: number, annotatorId: number): Promise<number | undefined> {
    const r = await this.db.get<{ idx: number }>(
      'SELECT p.idx FROM pairs p WHERE p.dataset_id = ? AND NOT EXISTS (SELECT 1 FROM preferences pr WHERE pr.pair_id = p.id AND pr.annotator_id = ?) ORDER BY p.idx LIMIT 1',
      [datasetId, annotatorId]);
    return r?.idx;
  }

  /** Pairs of a dataset with an overall label from this annotator. */
  async labelledCount(datasetId: number, annotatorId: number): Promise<number> {
    return (await this.db.get<{ n: number }>(
      'SELECT COUNT(*) AS n FROM preferences pr JOIN pairs p ON p.id = pr.pair_id WHERE p.dataset_id = ? AND pr.annotator_id = ?', [datasetId, annotatorId]))!.n;
  }

  /**
   * A stamp that changes whenever the database may have changed under what the workbench read
   * ahead: PRAGMA data_version moves when another connection (another window, the CLI) commits,
   * total_changes() when this connection writes (this window's judges, imports, labels).
   */
  async changeStamp(): Promise<string> {
    const r = (await this.db.get<{ c: number; v: number }>('SELECT total_changes() AS c, data_version AS v FROM pragma_data_version'))!;
    return `${r.v}:${r.c}`;
  }

  /** Per dataset: total pairs and, per human annotator, labelled pairs (for the tree view). */
  async datasetProgress(): Promise<{ id: number; name: string; total: number; annotators: { name: string; labelled: number }[] }[]> {
    const ds = await this.db.all<{ id: number; name: string; n: number }>('SELECT d.id, d.name, (SELECT COUNT(*) FROM pairs p WHERE p.dataset_id = d.id) AS n FROM datasets d ORDER BY d.id');
    const counts = await this.db.all<{ d: number; name: string; n: number }>(
      `SELECT p.dataset_id AS d, a.name AS name, COUNT(*) AS n FROM preferences pr JOIN pairs p ON p.id = pr.pair_id JOIN annotators a ON a.id = pr.annotator_id
       WHERE a.kind = 'human' GROUP BY p.dataset_id, a.id ORDER BY a.name`);
    return ds.map((d) => ({ id: d.id, name: d.name, total: d.n, annotators: counts.filter((c) => c.d === d.id).map((c) => ({ name: c.name, labelled: c.n })) }));
  }

  /** Every principle list version, newest first within a name. */
  async listPrincipleLists(): Promise<{ id: number; name: string; version: number; size: number }[]> {
    return this.db.all('SELECT l.id, l.name, l.version, (SELECT COUNT(*) FROM principles p WHERE p.list_id = l.id) AS size FROM principle_lists l ORDER BY l.name, l.version DESC');
  }

  /** Everything one annotator has recorded on one pair: the exact rows, for history and undo. */
  async labelState(annotatorId: number, pairRowId: number): Promise<LabelState> {
    const pref = await this.db.get<LabelState['preference'] & object>(
      'SELECT value, score_y0, score_y1, raw, shown_first, rationale, flagged, created_at, updated_at FROM preferences WHERE annotator_id = ? AND pair_id = ?', [annotatorId, pairRowId]);
    const principles = await this.db.all<LabelState['principles'][number]>(
      'SELECT principle_id, value, prob_a, prob_b, prob_na, shown_order, raw, created_at FROM principle_preferences WHERE annotator_id = ? AND pair_id = ? ORDER BY principle_id', [annotatorId, pairRowId]);
    return { preference: pref ?? null, principles };
  }

  /** Call inside `write`: replaces the annotator's rows on the pair with exactly `state`. */
  private async putLabelState(annotatorId: number, pairRowId: number, state: LabelState): Promise<void> {
    await this.db.run('DELETE FROM principle_preferences WHERE annotator_id = ? AND pair_id = ?', [annotatorId, pairRowId]);
    await this.db.run('DELETE FROM preferences WHERE annotator_id = ? AND pair_id = ?', [annotatorId, pairRowId]);
    const p = state.preference;
    if (p) {
      await this.db.run(
        'INSERT INTO preferences (annotator_id, pair_id, value, score_y0, score_y1, raw, shown_first, rationale, flagged, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [annotatorId, pairRowId, p.value, p.score_y0, p.score_y1, p.raw, p.shown_first, p.rationale, p.flagged, p.created_at, p.updated_at]);
    }
    for (const q of state.principles) {
      await this.db.run(
        'INSERT INTO principle_preferences (annotator_id, pair_id, principle_id, value, prob_a, prob_b, prob_na, shown_order, raw, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [annotatorId, pairRowId, q.principle_id, q.value, q.prob_a, q.prob_b, q.prob_na, q.shown_order, q.raw, q.created_at]);
    }
  }

  /**
   * One workbench submission, in one transaction: the overall label and the principle labels of
   * `principleRowIds` (null values are left unanswered: no row), with the previous state kept in
   * label_history.
   */
  async saveWorkbenchLabel(annotatorId: number, pairRowId: number, label: WorkbenchLabel): Promise<number> {
    return this.write(async () => {
      const before = await this.labelState(annotatorId, pairRowId);
      const t = now();
      const keep = before.principles.filter((q) => !label.principles.some((l) => l.principleRowId === q.principle_id));
      const after: LabelState = {
        preference: {
          value: label.value, score_y0: null, score_y1: null, raw: json(label.raw), shown_first: label.shownFirst,
          rationale: label.rationale || null, flagged: label.flagged ? 1 : 0, created_at: before.preference?.created_at ?? t, updated_at: t,
        },
        principles: [
          ...keep,
          ...label.principles.filter((l) => l.value !== null).map((l) => ({
            principle_id: l.principleRowId, value: l.value, prob_a: null, prob_b: null, prob_na: null,
            // principle_preferences.shown_order: 0 = A was y1, 1 = A was y0
            shown_order: label.shownFirst === 0 ? 1 : 0, raw: null, created_at: t,
          })),
        ].sort((a, b) => a.principle_id - b.principle_id),
      };
      await this.putLabelState(annotatorId, pairRowId, after);
      return (await this.db.run(
        "INSERT INTO label_history (annotator_id, pair_id, action, before_state, after_state, created_at) VALUES (?, ?, 'submit', ?, ?, ?)",
        [annotatorId, pairRowId, JSON.stringify(before), JSON.stringify(after), t])).lastID;
    });
  }

  /**
   * Undoes this annotator's latest not-yet-undone submission on the dataset: restores the exact
   * previous rows, marks the submission undone and appends an 'undo' history row. Returns the pair
   * index, or undefined when there is nothing to undo.
   */
  async undoWorkbenchLabel(annotatorId: number, datasetId: number): Promise<number | undefined> {
    return this.write(async () => {
      const h = await this.db.get<{ id: number; pair_id: number; before_state: string; idx: number }>(
        `SELECT h.id, h.pair_id, h.before_state, p.idx FROM label_history h JOIN pairs p ON p.id = h.pair_id
         WHERE h.annotator_id = ? AND p.dataset_id = ? AND h.action = 'submit' AND h.undone = 0 ORDER BY h.id DESC LIMIT 1`, [annotatorId, datasetId]);
      if (!h) return undefined;
      const current = await this.labelState(annotatorId, h.pair_id);
      const restored = JSON.parse(h.before_state) as LabelState;
      await this.putLabelState(annotatorId, h.pair_id, restored);
      await this.db.run('UPDATE label_history SET undone = 1 WHERE id = ?', [h.id]);
      await this.db.run(
        "INSERT INTO label_history (annotator_id, pair_id, action, before_state, after_state, created_at) VALUES (?, ?, 'undo', ?, ?, ?)",
        [annotatorId, h.pair_id, JSON.stringify(current), h.before_state, now()]);
      return h.idx;
    });
  }

  /** Remembers where the annotator is in the dataset (the workbench resumes there). */
  async saveWorkbenchPosition(annotatorId: number, datasetId: number, pairIdx: number): Promise<void> {
    await this.write(() => this.db.run(
      'INSERT INTO workbench_positions (annotator_id, dataset_id, pair_idx, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (annotator_id, dataset_id) DO UPDATE SET pair_idx = excluded.pair_idx, updated_at = excluded.updated_at',
      [annotatorId, datasetId, pairIdx, now()]));
  }

  async workbenchPosition(annotatorId: number, datasetId: number): Promise<number | undefined> {
    return (await this.db.get<{ pair_idx: number }>('SELECT pair_idx FROM workbench_positions WHERE annotator_id = ? AND dataset_id = ?', [annotatorId, datasetId]))?.pair_idx;
  }

  /** Label history rows of an annotator (oldest first). */
  async labelHistory(annotatorId: number): Promise<{ id: number; pairRowId: number; action: 'submit' | 'undo'; before: LabelState; after: LabelState; undone: boolean }[]> {
    const rows = await this.db.all<{ id: number; pair_id: number; action: 'submit' | 'undo'; before_state: string; after_state: string; undone: number }>(
      'SELECT id, pair_id, action, before_state, after_state, undone FROM label_history WHERE annotator_id = ? ORDER BY id', [annotatorId]);
    return rows.map((r) => ({ id: r.id, pairRowId: r.pair_id, action: r.action, before: JSON.parse(r.before_state), after: JSON.parse(r.after_state), undone: r.undone === 1 }));
  }
}

/** The exact rows one annotator holds on one pair (column names as in the schema). */
export interface LabelState {
  preference: { value: StoredPreference; score_y0: number | null; score_y1: number | null; raw: string | null; shown_first: number | null; rationale: string | null; flagged: number; created_at: string; updated_at: string } | null;
  principles: { principle_id: number; value: StoredPreference; prob_a: number | null; prob_b: number | null; prob_na: number | null; shown_order: number | null; raw: string | null; created_at: string }[];
}

/** A submission from the workbench, in stored terms. */
export interface WorkbenchLabel {
  value: StoredPreference;
  raw: Record<string, unknown> | null;
  shownFirst: 0 | 1;
  rationale: string;
  flagged: boolean;
  principles: { principleRowId: number; value: StoredPreference }[];
}
