// One SQLite connection as the aggregates use it: the driver's statements plus the bulk-insert path.
import type { SqlConnection, SqlValue } from '../sql/connection';
import type { Database, Statement } from './driver';

/** Rows per INSERT statement: the dataset importer's whole batch, so each batch is one statement a table. */
const BATCH_ROWS = 5000;

export class SqliteConnection implements SqlConnection {
  readonly definerFunctions = false;
  now(): string {
    return new Date().toISOString();
  }
  /** SQLite's change notices do not name tables. */
  wrote(): void {}
  /**
   * Prepared bulk-insert statements, by SQL text. `db.run` in serialized mode prepares, runs and
   * finalizes a statement in three trips between SQLite's thread and this one, and SQLite waits for
   * this (busy, parsing) thread at each; a prepared statement runs in one. Measured on the 1M-pair
   * import: SQLite's statements took 16.5 s to complete instead of its 10 s of work; with these, 10.7 s.
   */
  private readonly bulkStatements = new Map<string, Promise<Statement>>();
  private readonly bulkOrder = new Map<
    string,
    { stmt: Promise<Statement>; queued: Promise<unknown>; done: Promise<unknown> }
  >();

  constructor(readonly db: Database) {}

  get<T>(sql: string, params: SqlValue[] = []): Promise<T | undefined> {
    return this.db.get<T>(sql, params);
  }
  all<T>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    return this.db.all<T>(sql, params);
  }
  run(sql: string, params: SqlValue[] = []): Promise<{ lastID: number; changes: number }> {
    return this.db.run(sql, params);
  }
  /** BEGIN IMMEDIATE already holds the database's one write lock. */
  async serialize(): Promise<void> {}

  async analyze(): Promise<void> {}
  async insertId(sql: string, params: SqlValue[] = []): Promise<number> {
    return (await this.db.run(sql, params)).lastID;
  }
  exec(sql: string): Promise<void> {
    return this.db.exec(sql);
  }

  async close(): Promise<void> {
    for (const stmt of this.bulkStatements.values())
      await stmt.then(
        (s) => s.finalize(),
        () => undefined,
      );
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
   * Inserts rows in batches of BATCH_ROWS; resolves with the number of rows inserted. A batch travels
   * as ONE JSON parameter expanded by SQLite's json_each, holding only the columns that vary within
   * the batch; columns with one value across the batch (the dataset, the annotator, timestamps, NULLs)
   * are bound once. Binding values one by one through the binding costs about a microsecond each on the
   * main thread. (jsonb_each would spare the per-column re-parse, a fifth of the CPU per imported pair,
   * but libsql's SQLite, 3.45.1, lacks it: docs/sqlite-driver.md.)
   */
  async insertRows(
    table: string,
    columns: readonly string[],
    rows: SqlValue[][],
    conflict: 'fail' | 'ignore' = 'fail',
  ): Promise<number> {
    if (rows.length === 0) return 0;
    const head = `INSERT ${conflict === 'ignore' ? 'OR IGNORE ' : ''}INTO ${table} (${columns.join(',')}) `;
    const pending: Promise<number>[] = [];
    for (let i = 0; i < rows.length; i += BATCH_ROWS) {
      const batch = rows.slice(i, i + BATCH_ROWS);
      const first = batch[0];
      const constant = columns.map((_, c) =>
        typeof first[c] !== 'object' || first[c] === null ? batch.every((r) => r[c] === first[c]) : false,
      );
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
      const json = JSON.stringify(
        varying.length === 1 ? batch.map((r) => [r[varying[0]]]) : batch.map((r) => varying.map((c) => r[c])),
      );
      pending.push(this.queueBulkRun(table, `${head}SELECT ${select.join(',')} FROM json_each(?1)`, [json, ...params]));
    }
    const results = await Promise.allSettled(pending);
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed) throw failed.reason;
    return results.reduce((n, r) => n + (r as PromiseFulfilledResult<number>).value, 0);
  }
}
