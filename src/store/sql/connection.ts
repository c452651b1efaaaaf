// What the store's SQL aggregates (this folder) need of a database connection. Their SQL is written once
// for SQLite and PostgreSQL: `?` placeholders, standard joins and upserts, camelCase aliases quoted. Each
// adapter implements this over its driver (src/store/sqlite/connection.ts, src/store/postgres/connection.ts).

export type SqlValue = string | number | null | Buffer;

export interface SqlConnection {
  /**
   * PostgreSQL: what a claim changes beyond the claimer's own rows (the claim floors, the ranks of pairs added
   * since the split) goes through functions with the owner's rights (migration 9), which check their
   * arguments against the data, since a team's annotator may not write datasets, pairs or claim_floors.
   * SQLite (one person's file) writes them directly.
   */
  readonly definerFunctions: boolean;
  /**
   * The database's clock as ISO-8601, for the times a write stores: on PostgreSQL the server's (read at the
   * transaction's BEGIN, advanced by the time elapsed since), so a client with a wrong clock cannot
   * misdate a label; on SQLite the machine's, which is the database's.
   */
  now(): string;
  /** Notes that the transaction changed `table` (for a WITH that writes; other statements are noted by the adapter). */
  wrote(table: string): void;
  get<T>(sql: string, params?: SqlValue[]): Promise<T | undefined>;
  all<T>(sql: string, params?: SqlValue[]): Promise<T[]>;
  /** Resolves with the number of rows changed. */
  run(sql: string, params?: SqlValue[]): Promise<{ changes: number }>;
  /** Runs one INSERT into a table with an `id` key the database assigns; resolves with that id. */
  insertId(sql: string, params?: SqlValue[]): Promise<number>;
  /**
   * Holds, until the transaction ends, a lock that every other writer taking the same key waits for: for
   * read-then-write steps such as assigning the next ids. (SQLite's write lock, taken at BEGIN IMMEDIATE,
   * already serialises every writer; PostgreSQL takes a transaction-scoped advisory lock.)
   */
  serialize(key: string): Promise<void>;
  /**
   * Refreshes the query planner's statistics of a table after a write rewrote one of its columns wholesale
   * (PostgreSQL's ANALYZE, skipped with a warning for a user who does not own the table: with statistics
   * from before, a claim's plan sorted every pair instead of reading the claim-rank index, 60-110 ms a claim
   * on 20,000 pairs instead of 3.5 ms). SQLite plans these queries without statistics: nothing to do.
   */
  analyze(table: string): Promise<void>;
  /**
   * Inserts many rows at once, each database by its fastest path; with `conflict: 'ignore'` a row that
   * breaks a uniqueness constraint is left out (the first of two rows with one key is kept). Resolves with
   * the number of rows inserted.
   */
  insertRows(
    table: string,
    columns: readonly string[],
    rows: SqlValue[][],
    conflict?: 'fail' | 'ignore',
  ): Promise<number>;
}
