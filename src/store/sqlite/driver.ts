// A small promise wrapper over the `sqlite3` package: the only file that touches its callback API.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import sqlite3 from 'sqlite3';
import type { SqlValue } from '../sql/connection';

export type { SqlValue };

/** SQLite's "another connection holds the lock" (SQLITE_BUSY once the busy timeout has run out). */
export function isBusyError(e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === 'SQLITE_BUSY';
}

/**
 * What a read-only reader of a WAL database gets when it can neither create nor open the -shm file beside
 * it: SQLITE_READONLY where the folder refuses new files, SQLITE_CANTOPEN on a read-only file system.
 */
export function isWalSetupError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'SQLITE_READONLY' || code === 'SQLITE_CANTOPEN';
}

export class Database {
  private constructor(
    private readonly db: sqlite3.Database,
    readonly path: string,
  ) {}

  /**
   * `immutable`: read-only, and SQLite takes no locks and reads no WAL (its `immutable=1` URI parameter):
   * only for a file nothing can be writing (see the SQLite adapter's read-only open).
   */
  static open(path: string, mode: 'readwrite' | 'readonly' | 'immutable' = 'readwrite'): Promise<Database> {
    const flags =
      mode === 'readwrite'
        ? sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE
        : mode === 'readonly'
          ? sqlite3.OPEN_READONLY
          : sqlite3.OPEN_READONLY | sqlite3.OPEN_URI;
    const name = mode === 'immutable' ? `${pathToFileURL(resolve(path)).href}?immutable=1` : path;
    return new Promise((done, reject) => {
      const db = new sqlite3.Database(name, flags, (err) => {
        if (err) return reject(err);
        // Serialized mode: queued statements run in the order they were queued (the binding may
        // otherwise reorder them), so a writer can queue dependent statements without awaiting each.
        db.serialize();
        done(new Database(db, path));
      });
    });
  }

  /** Another process may hold the write lock (two VS Code windows): wait for it instead of failing. */
  configure(busyTimeoutMs: number): void {
    this.db.configure('busyTimeout', busyTimeoutMs);
  }

  exec(sql: string): Promise<void> {
    return new Promise((resolve, reject) => this.db.exec(sql, (err) => (err ? reject(err) : resolve())));
  }

  run(sql: string, params: SqlValue[] = []): Promise<{ lastID: number; changes: number }> {
    return new Promise((resolve, reject) =>
      this.db.run(sql, params, function (this: sqlite3.RunResult, err: Error | null) {
        if (err) reject(err);
        else resolve({ lastID: this.lastID, changes: this.changes });
      }),
    );
  }

  get<T>(sql: string, params: SqlValue[] = []): Promise<T | undefined> {
    return new Promise((resolve, reject) =>
      this.db.get(sql, params, (err, row) => (err ? reject(err) : resolve(row as T | undefined))),
    );
  }

  all<T>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    return new Promise((resolve, reject) =>
      this.db.all(sql, params, (err, rows) => (err ? reject(err) : resolve(rows as T[]))),
    );
  }

  prepare(sql: string): Promise<Statement> {
    return new Promise((resolve, reject) => {
      const stmt = this.db.prepare(sql, (err) => (err ? reject(err) : resolve(new Statement(stmt))));
    });
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => this.db.close((err) => (err ? reject(err) : resolve())));
  }
}

export class Statement {
  constructor(private readonly stmt: sqlite3.Statement) {}

  /** Resolves with the number of rows changed. */
  run(params: SqlValue[]): Promise<number> {
    return new Promise((resolve, reject) =>
      this.stmt.run(params, function (this: sqlite3.RunResult, err: Error | null) {
        if (err) reject(err);
        else resolve(this.changes);
      }),
    );
  }

  finalize(): Promise<void> {
    return new Promise((resolve) => this.stmt.finalize(() => resolve()));
  }
}
