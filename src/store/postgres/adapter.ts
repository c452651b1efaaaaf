// The PostgreSQL adapter of the store port: a team's shared server. A pool for reads, one client per write
// (BEGIN ... COMMIT), migrations under an advisory lock so two processes opening a new database at once do
// not collide, and the password kept out of every message (PGPASSWORD, ~/.pgpass or the URL; never shown).
import pg from 'pg';
import { UsageError } from '../../core/errors';
import { SerialQueue, StoreBusyError, transactionalOperations, withTransactionScope } from '../common';
import type { Store, Transaction, WriteOptions } from '../port';
import { sqlReads, sqlTransaction } from '../sql/aggregates';
import { PgConnection } from './connection';
import { redactLocation } from '../location';
import { CHANGES_CHANNEL, watchPostgres } from './listen';
import { PG_MIGRATIONS } from './schema';
import { postgresClientConfig } from './tls';

export const PG_SCHEMA_VERSION = PG_MIGRATIONS.length;

/** Key of the advisory lock that serialises migrations (any constant shared by every process of this tool). */
const MIGRATION_LOCK = 0x44697363; // "Disc"



/** What pg's errors say, in one line, without the password (pg never puts it in messages; the URL is ours to redact). */
function describe(e: unknown): string {
  const err = e as { code?: string; message?: string };
  if (err.code === 'ECONNREFUSED') return 'the server refused the connection (is it running, and on that host and port?)';
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return 'the host name does not resolve';
  if (err.code === 'ETIMEDOUT') return 'the server did not answer in time';
  if (err.code === '28P01') return 'password authentication failed (set PGPASSWORD or ~/.pgpass)';
  if (err.code === '3D000') return err.message ?? 'the database does not exist';
  // pg's own words when the server asks for a password and none was given (SCRAM): say it plainly
  if (/client password must be a string/.test(err.message ?? '')) return 'no password supplied (set PGPASSWORD or ~/.pgpass)';
  return (err.message ?? String(e)).split('\n')[0];
}

/** The connection itself failed (the server went away or was shut down), not a statement. */
function connectionLost(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  if (err.code && /^(57P0[123]|08[0-9A-Z]{3}|ECONNRESET|EPIPE|ECONNREFUSED)$/.test(err.code)) return true;
  return !err.code && /^Connection terminated|Client has encountered a connection error|connection (was )?(closed|ended)/i.test(err.message ?? '');
}

const BUSY_CODES = new Set(['55P03', '40P01', '40001']); // lock_not_available, deadlock_detected, serialization_failure

export async function openPostgresStore(location: string, options: { lockTimeoutMs?: number } = {}): Promise<Store> {
  const shown = redactLocation(location);
  const lockTimeoutMs = options.lockTimeoutMs ?? 5 * 60_000;
  // sslmode as libpq reads it (./tls.ts); for prefer and allow, what one connection tried at open found
  const connection = await postgresClientConfig(location).catch((e: unknown) => {
    throw e instanceof UsageError ? e : new UsageError(`cannot open database ${shown}: ${describe(e)}`);
  });
  const pool = PgConnection.pool({ ...connection, max: 4, connectionTimeoutMillis: 10_000, application_name: 'discretion' });
  // An idle client the server drops (a restart) must not crash the process: the next query reconnects.
  pool.on('error', () => undefined);
  try {
    const client = await pool.connect();
    try {
      await migrate(client, shown);
    } finally {
      client.release();
    }
  } catch (e) {
    await pool.end().catch(() => undefined);
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot open database ${shown}: ${describe(e)}`);
  }
  return postgresStore(pool, shown, lockTimeoutMs, { ...connection, connectionTimeoutMillis: 10_000 });
}

async function migrate(client: pg.PoolClient, shown: string): Promise<void> {
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
  try {
    await client.query('CREATE TABLE IF NOT EXISTS discretion_schema (version INTEGER NOT NULL)');
    const row = (await client.query<{ version: number }>('SELECT version FROM discretion_schema')).rows[0];
    let version = row?.version ?? 0;
    if (!row) await client.query('INSERT INTO discretion_schema (version) VALUES (0)');
    if (version > PG_SCHEMA_VERSION) {
      throw new UsageError(`${shown} was written by a newer Discretion Workbench (schema version ${version}; this version reads up to ${PG_SCHEMA_VERSION}). Update the tool to open it.`);
    }
    for (; version < PG_SCHEMA_VERSION; version++) {
      await client.query('BEGIN');
      try {
        await client.query(PG_MIGRATIONS[version]);
        await client.query('UPDATE discretion_schema SET version = $1', [version + 1]);
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
  }
}

/**
 * Moves the change sequence and, when the transaction changed rows, NOTIFYs the tables it changed: delivered
 * to the listeners only if and when the transaction commits. The tables come from the statements the
 * transaction ran (PgConnection.written); where those cannot tell (a delete that cascades or fires a
 * trigger), from the transaction's own statistics, and on a server that keeps none (track_counts off) the
 * payload is {"tables":null}: "something changed". Sent with COMMIT as one round trip.
 */
function markChangesAndCommit(tables: string[] | undefined): string {
  const head = "SELECT nextval('discretion_changes');\n";
  if (tables) {
    if (tables.length === 0) return `${head}COMMIT`;
    // names of our own tables (letters, digits, underscores): nothing to escape in a JSON or SQL literal
    return `${head}SELECT pg_notify('${CHANGES_CHANNEL}', '${JSON.stringify({ tables })}');\nCOMMIT`;
  }
  return `${head}SELECT pg_notify('${CHANGES_CHANNEL}', json_build_object('tables', t)::text) FROM (
  SELECT CASE WHEN current_setting('track_counts')::boolean THEN (
    SELECT json_agg(relname::text ORDER BY relname) FROM pg_stat_xact_user_tables
    WHERE schemaname = current_schema() AND n_tup_ins + n_tup_upd + n_tup_del > 0) ELSE 'null'::json END AS t) changed
WHERE t IS NOT NULL;
COMMIT`;
}

function postgresStore(pool: pg.Pool, location: string, lockTimeoutMs: number, listenConfig: pg.ClientConfig): Store {
  let current: pg.PoolClient | undefined;
  const readConn = new PgConnection(() => pool, () => undefined);
  const txConn = new PgConnection(() => current!, () => current);
  const reads = sqlReads(readConn);
  const txReads = sqlReads(txConn);
  const tx: Transaction = sqlTransaction(txConn, txReads);

  // Every write transaction of every process moves the sequence (sequences ignore rollbacks, so a
  // failed write moves it too: "the database may have changed").
  const changeStamp = async () => String((await readConn.get<{ v: number }>('SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS v FROM discretion_changes'))!.v);
  const watchers = new Set<{ dispose(): void }>();

  const writes = new SerialQueue();
  const write = <T>(fn: (tx: Transaction) => Promise<T>, _options: WriteOptions = {}): Promise<T> => {
    const run = async (): Promise<T> => {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (e) {
        throw new UsageError(`cannot reach database ${location}: ${describe(e)}; nothing was written`);
      }
      current = client;
      // A server that goes away mid-write: the checked-out client emits 'error' (unhandled, it would end the
      // process) and its statements reject; the write fails with one line naming the database.
      let lost: Error | undefined;
      const onLost = (e: Error) => { lost = e; };
      client.on('error', onLost);
      let committing = false;
      try {
        txConn.written.reset();
        await client.query(`BEGIN; SET LOCAL lock_timeout = ${Math.max(1, Math.round(lockTimeoutMs))}`);
        try {
          const result = await withTransactionScope(tx, fn);
          committing = true;
          await client.query(markChangesAndCommit(txConn.written.get()));
          return result;
        } catch (e) {
          if (connectionLost(e) || lost) {
            lost ??= e as Error;
            throw new UsageError(committing
              ? `lost the connection to database ${location} while committing (${describe(e)}); the write may or may not have been stored`
              : `lost the connection to database ${location} (${describe(e)}); nothing was written`);
          }
          await client.query('ROLLBACK').catch(() => undefined);
          if (BUSY_CODES.has((e as { code?: string }).code ?? '')) throw new StoreBusyError(location, lockTimeoutMs);
          if (e instanceof UsageError || !(e as { code?: string }).code) throw e;
          throw new UsageError(`database ${location}: ${describe(e)}; nothing was written`);
        }
      } finally {
        current = undefined;
        client.removeListener('error', onLost);
        client.release(lost); // a broken connection is discarded, not handed to the next write
      }
    };
    // Writes are serialised within this process (the transaction handle is one); the server serialises
    // them across processes with its row locks and the advisory locks taken where ids are assigned.
    return writes.run(run);
  };

  return {
    ...reads,
    location,
    write,
    ...transactionalOperations(write),
    changeStamp,
    watchChanges: (onChange, pollMs) => {
      const w = watchPostgres(listenConfig, changeStamp, onChange, pollMs);
      const handle = { dispose: () => { w.dispose(); watchers.delete(handle); } };
      watchers.add(handle);
      return handle;
    },
    dumpTables: async () => {
      const tables = await readConn.all<{ name: string }>(
        "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name");
      const out: Record<string, string[]> = {};
      for (const { name } of tables) out[name] = (await readConn.all(`SELECT * FROM "${name}"`)).map((r) => JSON.stringify(r)).sort();
      return out;
    },
    // The server enforces its constraints on every statement; nothing to check after the fact.
    checkIntegrity: async () => [],
    close: async () => {
      for (const w of [...watchers]) w.dispose();
      await writes.idle();
      await pool.end();
    },
  };
}
