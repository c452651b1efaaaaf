// A small promise wrapper over `libsql` (SQLite, N-API, prebuilt binaries on the npm registry for each
// platform; docs/sqlite-driver.md): the only file that touches its API. libsql's calls are synchronous; this
// wrapper keeps the store's promise interface and keeps waits for another process's lock off the thread.
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import Libsql from 'libsql';
import type { SqlValue } from '../sql/connection';

export type { SqlValue };

/** SQLite's "another connection holds the lock" (SQLITE_BUSY once the wait has run out). */
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

/** SQLite's primary result codes that the store tells apart, by number (sqlite.org/rescode.html). */
const RESULT_CODES: Record<number, string> = {
  1: 'SQLITE_ERROR',
  5: 'SQLITE_BUSY',
  6: 'SQLITE_LOCKED',
  8: 'SQLITE_READONLY',
  10: 'SQLITE_IOERR',
  11: 'SQLITE_CORRUPT',
  13: 'SQLITE_FULL',
  14: 'SQLITE_CANTOPEN',
  19: 'SQLITE_CONSTRAINT',
  26: 'SQLITE_NOTADB',
};

/**
 * libsql reports a failed open as `ConnectionFailed("Unable to open connection to local database PATH: 14")`
 * with an empty code; this gives it SQLite's name (code) and a message without the Rust wrapping.
 */
function openError(e: unknown, path: string): Error {
  const message = (e as Error)?.message ?? String(e);
  const m = /: (\d+)"?\)?$/.exec(message);
  const code = m ? (RESULT_CODES[Number(m[1])] ?? `SQLITE_ERROR_${m[1]}`) : 'SQLITE_CANTOPEN';
  const reason =
    code === 'SQLITE_CANTOPEN'
      ? 'unable to open database file'
      : code === 'SQLITE_READONLY'
        ? 'attempt to write a readonly database'
        : message;
  return Object.assign(new Error(`${reason} (${path})`), { code });
}

/**
 * The error's `code` becomes SQLite's primary result code, as the store tests it: libsql names extended codes
 * (SQLITE_CONSTRAINT_UNIQUE), and those it has no name for as UNKNOWN_SQLITE_ERROR_<n> (SQLITE_READONLY_DIRECTORY
 * is 1544); the primary code is the low byte of the number (sqlite.org/rescode.html).
 */
function primaryCode(e: unknown): unknown {
  const err = e as { code?: unknown; rawCode?: unknown } | null;
  if (typeof err?.code !== 'string') return e;
  const primary =
    typeof err.rawCode === 'number' && RESULT_CODES[err.rawCode & 0xff]
      ? RESULT_CODES[err.rawCode & 0xff]
      : /^SQLITE_[A-Z]+/.exec(err.code)?.[0];
  if (primary && primary !== err.code) Object.assign(err, { extendedCode: err.code, code: primary });
  return e;
}

/**
 * How long SQLite itself waits for a lock before answering busy. libsql waits on this thread (the extension
 * host's), so the wait is short and the longer waits happen between tries, off the thread (`retry`).
 */
const NATIVE_BUSY_MS = 20;

/** Prepared statements kept per connection, by SQL text: preparing is most of a small query's cost. */
const STATEMENT_CACHE = 256;

type Row = Record<string, unknown> & { _metadata?: unknown };
type Connection = InstanceType<typeof Libsql>;
type NativeStatement = ReturnType<Connection['prepare']>;

export class Database {
  private busyTimeoutMs = 0;
  private readonly statements = new Map<string, NativeStatement>();

  private constructor(
    private readonly db: Connection,
    readonly path: string,
  ) {}

  /**
   * `immutable`: read-only, and SQLite takes no locks and reads no WAL (its `immutable=1` URI parameter):
   * only for a file nothing can be writing (see the SQLite adapter's read-only open).
   */
  static async open(path: string, mode: 'readwrite' | 'readonly' | 'immutable' = 'readwrite'): Promise<Database> {
    // libsql opens read-write and creating unless a `file:` URI says otherwise (its only way to pass flags).
    const uri = (query: string) => `${pathToFileURL(resolve(path)).href.replace(/^file:\/\//, 'file:')}?${query}`;
    const name = mode === 'readwrite' ? path : uri(mode === 'readonly' ? 'mode=ro' : 'mode=ro&immutable=1');
    try {
      const db = new Libsql(name, { timeout: NATIVE_BUSY_MS / 1000 });
      // libsql is compiled with foreign keys on by default (its compile options also name recursive
      // triggers, which read off at open all the same); SQLite's own defaults (both off) are what the
      // schema, its migrations (a table rebuild must not cascade) and the adapter, which turns foreign
      // keys on after migrating, are written for.
      db.exec('PRAGMA foreign_keys = OFF; PRAGMA recursive_triggers = OFF');
      return new Database(db, path);
    } catch (e) {
      throw openError(e, path);
    }
  }

  /** Another process may hold the write lock (two VS Code windows): wait for it, up to this long, instead of failing. */
  configure(busyTimeoutMs: number): void {
    this.busyTimeoutMs = busyTimeoutMs;
  }

  /**
   * Runs one call; a statement that answered busy outside a transaction changed nothing, so it is tried again
   * after a pause, until the busy timeout has run out. (Inside a transaction the adapter's BEGIN IMMEDIATE
   * already holds the write lock, and a busy answer there goes to the caller.)
   */
  private async retry<T>(call: () => T): Promise<T> {
    const start = Date.now();
    for (let pause = 5; ; pause = Math.min(pause * 2, 200)) {
      try {
        return call();
      } catch (e) {
        primaryCode(e);
        if (!isBusyError(e) || this.db.inTransaction) throw e;
        const waited = Date.now() - start;
        if (waited >= this.busyTimeoutMs) throw e;
        await sleep(Math.min(pause, this.busyTimeoutMs - waited));
      }
    }
  }

  private statement(sql: string): NativeStatement {
    let stmt = this.statements.get(sql);
    if (stmt) {
      // most recently used last, so the first key is the one to evict
      this.statements.delete(sql);
    } else {
      stmt = this.db.prepare(sql);
      if (this.statements.size >= STATEMENT_CACHE) this.statements.delete(this.statements.keys().next().value!);
    }
    this.statements.set(sql, stmt);
    return stmt;
  }

  exec(sql: string): Promise<void> {
    return this.retry(() => void this.db.exec(sql));
  }

  run(sql: string, params: SqlValue[] = []): Promise<{ lastID: number; changes: number }> {
    return this.retry(() => {
      const stmt = this.statement(sql);
      if (stmt.reader) {
        // libsql's run() leaves a statement that returns rows (RETURNING) in progress, which blocks COMMIT;
        // all() steps it to the end. Each returned row is one row changed.
        const rows = stmt.all(params);
        const id = this.statement('SELECT last_insert_rowid() AS id').get([]) as { id: number };
        return { lastID: Number(id.id), changes: rows.length };
      }
      const r = stmt.run(params);
      return { lastID: Number(r.lastInsertRowid), changes: r.changes };
    });
  }

  get<T>(sql: string, params: SqlValue[] = []): Promise<T | undefined> {
    return this.retry(() => {
      const stmt = this.statement(sql);
      if (!stmt.reader) {
        stmt.run(params);
        return undefined;
      }
      const row = stmt.get(params) as Row | undefined;
      // libsql adds the statement's timing to the row `get` returns; a row is the columns alone.
      if (row) delete row._metadata;
      return row as T | undefined;
    });
  }

  all<T>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    return this.retry(() => {
      const stmt = this.statement(sql);
      if (!stmt.reader) {
        stmt.run(params);
        return [];
      }
      return stmt.all(params) as T[];
    });
  }

  async prepare(sql: string): Promise<Statement> {
    return new Statement(this.db.prepare(sql), (call) => this.retry(call));
  }

  async close(): Promise<void> {
    this.statements.clear();
    this.db.close();
  }
}

export class Statement {
  constructor(
    private readonly stmt: NativeStatement,
    private readonly retry: <T>(call: () => T) => Promise<T>,
  ) {}

  /** Resolves with the number of rows changed. */
  run(params: SqlValue[]): Promise<number> {
    return this.retry(() => this.stmt.run(params).changes);
  }

  /** libsql finalizes a statement when it is collected. */
  async finalize(): Promise<void> {}
}
