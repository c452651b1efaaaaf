// The SQLite adapter of the store port: one local file, WAL, foreign keys on, migrations by
// PRAGMA user_version, one transaction per logical write (BEGIN IMMEDIATE, so writers queue for the
// lock at the start instead of failing at commit). Or read-only: no WAL switch, no migration, no write.
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError } from '../../core/errors';
import { refuseWrites, SerialQueue, StoreBusyError, transactionalOperations, withTransactionScope } from '../common';
import { PairFullError, type Store, type Transaction, type WriteOptions } from '../port';
import { sqlReads, sqlTransaction } from '../sql/aggregates';
import { SqliteConnection } from './connection';
import { Database, isBusyError, isWalSetupError } from './driver';
import { MIGRATIONS, OVERLAP_TRIGGER, SCHEMA_VERSION } from './schema';

export interface SqliteOptions {
  /**
   * How long a writer waits, in all, for another process's write lock before giving up with one
   * clear error (SQLite's busy handler waits up to a second at a time; between those, backoff).
   */
  lockTimeoutMs?: number;
  /** The name errors give the database, when it is opened under another (a new database built under a private name). */
  displayName?: string;
  /**
   * Opens an existing database for reading only (SQLITE_OPEN_READONLY): the file is not switched to WAL
   * nor migrated, and every write is refused with one line. A database of an older schema is refused too
   * (a command that writes upgrades it). On PostgreSQL, writes are refused the same way.
   */
  readOnly?: boolean;
  /**
   * The file will be linked or moved once closed (the CLI builds a new database under a private name): at
   * close its WAL is folded into it and the file leaves WAL mode, so the file alone holds every commit and
   * no -wal or -shm file of the private name is left for the database at its new name to meet.
   */
  movedAfterClose?: boolean;
}

/** The adapter, with its driver handle for the SQLite-only tests and benches that read raw SQL. */
export type SqliteStore = Store & { readonly db: Database };

const DEFAULT_LOCK_TIMEOUT_MS = 5 * 60_000;
const BUSY_HANDLER_MS = 1000;

/**
 * Runs `attempt` until it does not fail with SQLITE_BUSY, backing off between tries, for up to
 * `timeoutMs` in all. Only for steps that change nothing when they fail busy (BEGIN, a migration's
 * whole transaction).
 */
async function retryBusy<T>(location: string, timeoutMs: number, attempt: () => Promise<T>): Promise<T> {
  const start = Date.now();
  for (let pause = 20; ; pause = Math.min(pause * 2, 1000)) {
    try {
      return await attempt();
    } catch (e) {
      if (!isBusyError(e)) throw e;
      const waited = Date.now() - start;
      if (waited >= timeoutMs) throw new StoreBusyError(location, waited);
      await sleep(Math.min(pause * (0.5 + Math.random()), timeoutMs - waited));
    }
  }
}

const schemaVersion = async (db: Database) =>
  (await db.get<{ user_version: number }>('PRAGMA user_version'))?.user_version ?? 0;
const newerSchema = (path: string, version: number) =>
  new UsageError(
    `${path} was written by a newer Discretion Workbench (schema version ${version}; this version reads up to ${SCHEMA_VERSION}). Update the tool to open it.`,
  );

/**
 * A file that the build before libsql migrated to version 9 holds the overlap trigger in SQLite 3.48's syntax
 * (an expression as RAISE's message), which libsql's SQLite (3.45) cannot parse, so it cannot read the file's
 * schema at all. A trigger owns no pages: its row in sqlite_schema is deleted (with writable_schema, the
 * documented way to edit that table) and written again in the syntax both read. Nothing else changes.
 */
function isOldOverlapTrigger(e: unknown): boolean {
  return /malformed database schema \(preferences_overlap\)/.test((e as Error)?.message ?? '');
}

async function repairOverlapTrigger(db: Database): Promise<void> {
  await db.exec('PRAGMA writable_schema = ON');
  try {
    await db.exec('BEGIN IMMEDIATE');
    try {
      await db.run("DELETE FROM sqlite_schema WHERE type = 'trigger' AND name = 'preferences_overlap'");
      await db.exec('COMMIT');
    } catch (e) {
      await db.exec('ROLLBACK').catch(() => undefined);
      throw e;
    }
  } finally {
    await db.exec('PRAGMA writable_schema = OFF');
  }
}

async function migrate(db: Database, path: string): Promise<void> {
  const newer = (version: number) => newerSchema(path, version);
  const version = () => schemaVersion(db);
  let repaired = false;
  try {
    // reading sqlite_schema makes SQLite parse every entry (PRAGMA user_version reads the header alone)
    await db.get('SELECT 1 FROM sqlite_schema LIMIT 1');
  } catch (e) {
    if (!isOldOverlapTrigger(e)) throw e;
    await repairOverlapTrigger(db);
    repaired = true;
  }
  if ((await version()) > SCHEMA_VERSION) throw newer(await version());
  await db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -32768;');
  // Foreign keys off while migrating (a table rebuild must not cascade its DROP; SQLite's documented
  // procedure), checked before each commit, on again afterwards.
  await db.exec('PRAGMA foreign_keys = OFF');
  try {
    await migrateSteps(db, version, newer);
    if (repaired) await db.exec(OVERLAP_TRIGGER);
  } finally {
    await db.exec('PRAGMA foreign_keys = ON');
  }
}

async function migrateSteps(db: Database, version: () => Promise<number>, newer: (v: number) => Error): Promise<void> {
  // The version is read again under the write lock: another process may have migrated (or created
  // the schema of a new file) while this one waited for it.
  for (;;) {
    await db.exec('BEGIN IMMEDIATE');
    try {
      const v = await version();
      if (v > SCHEMA_VERSION) throw newer(v);
      if (v === SCHEMA_VERSION) {
        await db.exec('COMMIT');
        return;
      }
      await db.exec(MIGRATIONS[v]);
      const broken = await db.get<{ table: string }>('PRAGMA foreign_key_check');
      if (broken) throw new Error(`migration ${v + 1} left a broken foreign key in table ${broken.table}`);
      await db.exec(`PRAGMA user_version = ${v + 1}`);
      await db.exec('COMMIT');
    } catch (e) {
      await db.exec('ROLLBACK').catch(() => undefined);
      throw e;
    }
  }
}

/**
 * Opens an existing database read-only and checks that its schema is this version's. Reading a WAL
 * database needs its -shm file, which SQLite creates beside it (the database file itself is not
 * changed); where the folder refuses new files (a read-only medium or folder) and no -wal file exists,
 * no writer can be at work either (a WAL writer must create that file), so the file is read as it
 * stands, immutable.
 */
async function openReadOnly(path: string, name: string, busyMs: number): Promise<Database> {
  const open = async (mode: 'readonly' | 'immutable') => {
    const db = await Database.open(path, mode);
    db.configure(busyMs);
    try {
      return { db, version: await schemaVersion(db) };
    } catch (e) {
      await db.close().catch(() => undefined);
      throw e;
    }
  };
  let opened: { db: Database; version: number };
  try {
    opened = await open('readonly').catch((e: unknown) => {
      if (isWalSetupError(e) && !existsSync(`${path}-wal`)) return open('immutable');
      throw e;
    });
  } catch (e) {
    throw new UsageError(`cannot open database ${name} read-only: ${(e as Error).message}`);
  }
  const { db, version } = opened;
  if (version !== SCHEMA_VERSION) {
    await db.close();
    if (version > SCHEMA_VERSION) throw newerSchema(name, version);
    if (version === 0)
      throw new UsageError(
        `${name} holds no Discretion Workbench data (an empty file, or another program's SQLite database); nothing was written`,
      );
    throw new UsageError(
      `${name} has schema version ${version}, older than this version's ${SCHEMA_VERSION}, and this command only reads (it does not upgrade a database): run a command that writes on it once (an import, metrics), or open it in VS Code; nothing was written`,
    );
  }
  await db.exec('PRAGMA cache_size = -32768');
  return db;
}

/** Opens (creating when missing) and migrates, or only reads (`readOnly`). Fails clearly on a database from a newer schema. */
export async function openSqliteStore(path: string, options: SqliteOptions = {}): Promise<SqliteStore> {
  const lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const name = options.displayName ?? path;
  if (options.readOnly)
    return refuseWrites(
      sqliteStore(
        new SqliteConnection(await openReadOnly(path, name, Math.min(BUSY_HANDLER_MS, lockTimeoutMs))),
        name,
        lockTimeoutMs,
      ),
    );
  let db: Database;
  try {
    db = await Database.open(path);
  } catch (e) {
    throw new UsageError(`cannot open database ${name}: ${(e as Error).message}`);
  }
  db.configure(Math.min(BUSY_HANDLER_MS, lockTimeoutMs));
  try {
    await retryBusy(name, lockTimeoutMs, () => migrate(db, name));
  } catch (e) {
    await db.close();
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot open database ${name}: ${(e as Error).message}`);
  }
  return sqliteStore(new SqliteConnection(db), name, lockTimeoutMs, options.movedAfterClose ?? false);
}

function sqliteStore(
  c: SqliteConnection,
  location: string,
  lockTimeoutMs: number,
  movedAfterClose = false,
): SqliteStore {
  // One connection: the transaction handle's reads are the store's reads.
  const reads = sqlReads(c);
  const tx: Transaction = sqlTransaction(c, reads);

  const writes = new SerialQueue();
  const write = <T>(fn: (tx: Transaction) => Promise<T>, options: WriteOptions = {}): Promise<T> => {
    // A bulk writer that assigns every key itself (the dataset importer) may switch the per-row
    // foreign-key lookups off (about a third of SQLite's time per imported pair). The pragma only
    // takes effect outside a transaction, and writes on this connection are serialised, so no other
    // write runs without them.
    const checks = options.checkForeignKeys ?? true;
    const run = async (): Promise<T> => {
      if (!checks) await c.exec('PRAGMA foreign_keys = OFF');
      try {
        await retryBusy(location, lockTimeoutMs, () => c.exec('BEGIN IMMEDIATE'));
        try {
          const result = await withTransactionScope(tx, fn);
          await c.exec('COMMIT');
          return result;
        } catch (e) {
          // the overlap trigger (OVERLAP_TRIGGER) noted the pair it refused; read before the rollback undoes it
          const full = /discretion: overlap/.test((e as Error)?.message ?? '')
            ? await c
                .get<{ idx: number; k: number }>(
                  'SELECT pair_idx AS idx, overlap AS k FROM overlap_refusals ORDER BY rowid DESC LIMIT 1',
                )
                .catch(() => undefined)
            : undefined;
          await c.exec('ROLLBACK').catch(() => undefined);
          if (full) throw new PairFullError(full.idx, full.k);
          throw e;
        }
      } finally {
        if (!checks) await c.exec('PRAGMA foreign_keys = ON');
      }
    };
    // Writes are serialised within this process (one connection); BEGIN IMMEDIATE and the busy
    // handler with retries serialise them across processes.
    return writes.run(run);
  };

  const watchers = new Set<{ dispose(): void }>();
  return {
    ...reads,
    location,
    db: c.db,
    // PRAGMA data_version moves only when another connection commits: this window's own writes, which
    // its views already follow, are not heard.
    watchChanges: (onChange, pollMs) => {
      let last: number | undefined;
      let busy = false;
      const poll = async () => {
        if (busy) return;
        busy = true;
        try {
          const v = (await c.get<{ v: number }>('SELECT data_version AS v FROM pragma_data_version'))!.v;
          if (last !== undefined && v !== last) onChange(undefined);
          last = v;
        } catch {
          /* closed or busy: the next poll tries again */
        } finally {
          busy = false;
        }
      };
      void poll();
      const timer = setInterval(() => void poll(), Math.max(50, pollMs));
      timer.unref?.();
      const w = {
        dispose: () => {
          clearInterval(timer);
          watchers.delete(w);
        },
      };
      watchers.add(w);
      return w;
    },
    write,
    ...transactionalOperations(write),
    // A file is one person's: no login, no team; the annotator's name is the caller's to give.
    identity: async () => ({ login: null, owner: true, role: null, annotator: null, visibility: null }),
    teamMembers: async () => [],
    addTeamMember: () =>
      Promise.reject(
        new UsageError(
          `${location} is a SQLite file, one person's database: team members live on a shared PostgreSQL database`,
        ),
      ),
    removeTeamMember: () =>
      Promise.reject(
        new UsageError(
          `${location} is a SQLite file, one person's database: team members live on a shared PostgreSQL database`,
        ),
      ),
    // PRAGMA data_version moves when another connection (another window, the CLI) commits,
    // total_changes() when this connection writes (this window's judges, imports, labels).
    changeStamp: async () => {
      const r = (await c.get<{ c: number; v: number }>(
        'SELECT total_changes() AS c, data_version AS v FROM pragma_data_version',
      ))!;
      return `${r.v}:${r.c}`;
    },
    dumpTables: async () => {
      const tables = await c.all<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
      );
      const out: Record<string, string[]> = {};
      // Sorted here: some tables have no rowid (WITHOUT ROWID), and row order is not what is compared.
      for (const { name } of tables)
        out[name] = (await c.all(`SELECT * FROM "${name}"`)).map((r) => JSON.stringify(r)).sort();
      return out;
    },
    checkIntegrity: async () => {
      const integrity = (await c.all<{ integrity_check: string }>('PRAGMA integrity_check'))
        .map((r) => r.integrity_check)
        .filter((m) => m !== 'ok');
      const keys = (
        await c.all<{ table: string; rowid: number | null; parent: string }>('PRAGMA foreign_key_check')
      ).map((r) => `${r.table} row ${r.rowid ?? '(no rowid)'} refers to a missing ${r.parent} row`);
      return [...integrity, ...keys];
    },
    close: async () => {
      for (const w of [...watchers]) w.dispose();
      await writes.idle();
      // libsql closes a connection only once its statements are collected (until then SQLite keeps it
      // open, as sqlite3_close_v2 does): a file that moves must hold everything by then.
      if (movedAfterClose) await c.exec('PRAGMA journal_mode = DELETE');
      await c.close();
    },
  };
}
