// One PostgreSQL connection (or the pool) as the store's SQL aggregates use it: `?` placeholders, rows back
// with JS numbers, and the bulk path through COPY (pg-copy-streams). The only file that touches `pg`.
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { SerialQueue } from '../common';
import type { SqlConnection, SqlValue } from '../sql/connection';

/** int8 (COUNT(*), SUM) arrives as a JS number, as from SQLite: our counts stay far below 2^53. */
const types = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text'),
};

/** `?` -> `$1`, `$2`... outside quoted strings and identifiers (our SQL is written once for both databases). */
export function toPgPlaceholders(sql: string): string {
  let out = '';
  let n = 0;
  let quote: string | undefined;
  for (const ch of sql) {
    if (quote) {
      if (ch === quote) quote = undefined;
      out += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      out += ch;
    } else if (ch === '?') {
      out += `$${++n}`;
    } else {
      out += ch;
    }
  }
  return out;
}

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_SPECIALS = /[\\\t\n\r]/g;
/** COPY's text format: backslash escapes for the characters that delimit fields and rows, \N for NULL. */
function copyField(v: SqlValue): string {
  if (v === null || v === undefined) return '\\N';
  if (typeof v === 'number') return String(v);
  if (Buffer.isBuffer(v)) return '\\\\x' + v.toString('hex');
  return COPY_SPECIAL.test(v)
    ? v.replace(COPY_SPECIALS, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'))
    : v;
}

/**
 * A batch's rows as COPY text in chunks of about 256 KiB: built by appending to one string per chunk (no
 * array per row), so a batch costs few allocations and few socket writes.
 */
function* copyText(rows: SqlValue[][]): Generator<string> {
  let chunk = '';
  for (const r of rows) {
    let line = copyField(r[0]);
    for (let j = 1; j < r.length; j++) line += '\t' + copyField(r[j]);
    chunk += line + '\n';
    if (chunk.length >= 262_144) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

type Queryable = pg.Pool | pg.PoolClient;

/** Tables whose deleted rows cascade into other tables (ON DELETE CASCADE) or fire a trigger that writes one. */
const DELETE_REACHES_FURTHER = new Set([
  'datasets',
  'pairs',
  'annotators',
  'principle_lists',
  'principles',
  'preferences',
]);
/** A write's target table (not ON CONFLICT's DO UPDATE SET, nor a row lock's FOR UPDATE OF). */
const WRITES = /\b(?:INSERT\s+INTO|(?<!\b(?:DO|FOR)\s+)UPDATE|DELETE\s+FROM)\s+"?([A-Za-z_][A-Za-z0-9_]*)/gi;

/**
 * The tables a transaction wrote, recorded as its statements run (for the NOTIFY payload of the adapter's
 * COMMIT): each table named after INSERT INTO, UPDATE or DELETE FROM in a statement that changed or returned
 * rows (a statement that starts with WITH is left to its caller: SqlConnection.wrote). `undefined` when they cannot be told from the statements: a delete that may cascade or fire a
 * trigger; the adapter then asks the server's per-transaction statistics.
 */
export class WrittenTables {
  private names: Set<string> | undefined = new Set();
  reset(): void {
    this.names = new Set();
  }
  add(table: string): void {
    this.names?.add(table);
  }
  unknown(): void {
    this.names = undefined;
  }
  record(sql: string, rowCount: number | null): void {
    // a WITH that writes: its rows do not say what it changed; its caller names the tables (SqlConnection.wrote)
    if (!this.names || !rowCount || /^\s*WITH\b/i.test(sql)) return;
    for (const m of sql.matchAll(WRITES)) {
      const table = m[1].toLowerCase();
      if (/^DELETE/i.test(m[0]) && DELETE_REACHES_FURTHER.has(table)) {
        this.unknown();
        return;
      }
      this.names.add(table);
    }
  }
  /** Sorted table names, or undefined (unknown). */
  get(): string[] | undefined {
    return this.names && [...this.names].sort();
  }
}

export class PgConnection implements SqlConnection {
  /**
   * One statement at a time on a transaction's client, in the order asked: the importers queue a batch
   * of pairs and the preferences that refer to them without awaiting each (the SQLite adapter orders
   * them the same way), and a COPY must not interleave with another statement on its connection.
   */
  private readonly statements = new SerialQueue();

  private inOrder<T>(step: () => Promise<T>): Promise<T> {
    if (!this.client()) return step(); // the pool: independent reads, each on its own connection
    return this.statements.run(step);
  }

  /** What the current transaction wrote (the transaction's connection only; the adapter resets it at BEGIN). */
  readonly written = new WrittenTables();

  wrote(table: string): void {
    this.written.add(table);
  }

  readonly definerFunctions = true;

  /** The server's clock at this transaction's BEGIN, and the local clock then (see now()). */
  private clock: { serverMs: number; localMs: number } | undefined;
  setServerClock(serverMs: number): void {
    this.clock = { serverMs, localMs: Date.now() };
  }
  now(): string {
    const t = this.clock ? this.clock.serverMs + (Date.now() - this.clock.localMs) : Date.now();
    return new Date(t).toISOString();
  }

  /**
   * `rowSecurity`: the tables whose row-level policies apply to this login (a team member's). COPY FROM
   * refuses those, so their rows go through a temporary table and INSERT ... SELECT, where the policies and
   * the overlap trigger check each row.
   */
  constructor(
    private readonly q: () => Queryable,
    private readonly client: () => pg.PoolClient | undefined,
    private readonly rowSecurity: ReadonlySet<string> = new Set(),
    /** A read's failure (the pool's), as the person who asked is told it; undefined: as it is. Writes have their own. */
    private readonly readFailure: (e: unknown) => Error | undefined = () => undefined,
  ) {}

  private async query(sql: string, params: SqlValue[]): Promise<pg.QueryResult> {
    let r: pg.QueryResult;
    try {
      r = await this.inOrder(() => this.q().query(toPgPlaceholders(sql), params as unknown[]));
    } catch (e) {
      throw (!this.client() && this.readFailure(e)) || e;
    }
    if (this.client()) this.written.record(sql, r.rowCount);
    return r;
  }

  static pool(config: pg.PoolConfig): pg.Pool {
    return new pg.Pool({ ...config, types });
  }

  async all<T>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    return (await this.query(sql, params)).rows as T[];
  }

  async get<T>(sql: string, params: SqlValue[] = []): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }

  async serialize(key: string): Promise<void> {
    await this.all('SELECT pg_advisory_xact_lock(hashtext(?))', [`discretion:${key}`]);
  }

  async analyze(table: string): Promise<void> {
    // with the owner's rights (migration 9): a team member owns no table, and ANALYZE would only warn
    await this.run('SELECT discretion_analyze(?)', [table]);
  }

  async insertId(sql: string, params: SqlValue[] = []): Promise<number> {
    return (await this.get<{ id: number }>(`${sql} RETURNING id`, params))!.id;
  }

  async run(sql: string, params: SqlValue[] = []): Promise<{ changes: number }> {
    return { changes: (await this.query(sql, params)).rowCount ?? 0 };
  }

  /**
   * COPY straight into the table; with conflict 'ignore', into a temporary table first and from there with
   * ON CONFLICT DO NOTHING (COPY itself cannot skip a row). Only inside a write (a transaction's client).
   */
  insertRows(
    table: string,
    columns: readonly string[],
    rows: SqlValue[][],
    conflict: 'fail' | 'ignore' = 'fail',
  ): Promise<number> {
    if (rows.length === 0) return Promise.resolve(0);
    const client = this.client();
    if (!client) throw new Error('insertRows outside a write');
    this.written.add(table);
    return this.inOrder(() => this.copyRows(client, table, columns, rows, conflict));
  }

  private async copyRows(
    client: pg.PoolClient,
    table: string,
    columns: readonly string[],
    rows: SqlValue[][],
    conflict: 'fail' | 'ignore',
  ): Promise<number> {
    const copy = (target: string, before = '', after = '') =>
      pipeline(
        Readable.from(copyText(rows)),
        client.query(copyFrom(`${before}COPY ${target} (${columns.join(',')}) FROM STDIN${after}`)),
      );
    // Each batch inside a savepoint: a batch that fails (a duplicate key, a foreign key) leaves the transaction
    // usable for the statements queued behind it (the importer looks up a duplicate's first line to report
    // it), and the write still fails. A duplicate key with conflict 'ignore' rolls the savepoint back and the
    // batch takes the staging path, which keeps the first row of each key; a batch without one (the usual
    // case) costs one COPY, its savepoint and release sent in the COPY's own query (a simple query runs its
    // statements in order and stops at the first error): two round trips a batch, not four.
    const undo = () =>
      client.query('ROLLBACK TO SAVEPOINT discretion_copy; RELEASE SAVEPOINT discretion_copy').catch(() => undefined);
    // the staging path, from a new savepoint (row-level security) or from the one a duplicate key rolled back to
    const staged = async (start: string) => {
      try {
        await client.query(start);
        const n = await this.stagedInsert(client, table, columns, copy, conflict);
        await client.query('RELEASE SAVEPOINT discretion_copy');
        return n;
      } catch (e) {
        await undo();
        throw e;
      }
    };
    if (this.rowSecurity.has(table)) return staged('SAVEPOINT discretion_copy');
    try {
      await copy(table, 'SAVEPOINT discretion_copy; ', '; RELEASE SAVEPOINT discretion_copy');
      return rows.length;
    } catch (e) {
      if (conflict === 'fail' || (e as { code?: string }).code !== '23505') {
        await undo();
        throw e;
      }
    }
    return staged('ROLLBACK TO SAVEPOINT discretion_copy'); // unique_violation
  }

  /**
   * Through a temporary table: the batch's rows in their order; with conflict 'ignore' the first row of each key.
   * The table lives for the transaction (ON COMMIT DROP), made by its first batch: behind a pooler in transaction
   * mode the next transaction may run on another server session, so no transaction counts on one made before.
   */
  private async stagedInsert(
    client: pg.PoolClient,
    table: string,
    columns: readonly string[],
    copy: (target: string) => Promise<void>,
    conflict: 'fail' | 'ignore',
  ): Promise<number> {
    const stage = `discretion_stage_${table}`;
    await client.query(`CREATE TEMP TABLE IF NOT EXISTS ${stage} (LIKE ${table} INCLUDING DEFAULTS) ON COMMIT DROP`);
    await client.query(`TRUNCATE ${stage}`);
    await copy(stage);
    const r = await client.query(
      `INSERT INTO ${table} (${columns.join(',')}) SELECT ${columns.join(',')} FROM ${stage} ORDER BY ctid${conflict === 'ignore' ? ' ON CONFLICT DO NOTHING' : ''}`,
    );
    return r.rowCount ?? 0;
  }
}
