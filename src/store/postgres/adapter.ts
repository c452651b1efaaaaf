// The PostgreSQL adapter of the store port: a team's shared server. A pool for reads, one client per write
// (BEGIN ... COMMIT), migrations under an advisory lock so two processes opening a new database at once do
// not collide, and the password kept out of every message (PGPASSWORD, ~/.pgpass or the URL; never shown).
// Nothing outlives a transaction (locks, settings, temporary tables; no named prepared statements), so it works
// through a pooler in transaction mode (PgBouncer); only LISTEN needs a session, on a direct URL if one is given.
import pg from 'pg';
import { UsageError } from '../../core/errors';
import { SerialQueue, StoreBusyError, transactionalOperations, withTransactionScope } from '../common';
import { PairFullError, type Store, type StoreReads, type Transaction, type WriteOptions } from '../port';
import { sqlReads, sqlTransaction } from '../sql/aggregates';
import { PgConnection } from './connection';
import { isDatabaseUrl, redactLocation } from '../location';
import { CHANGES_CHANNEL, listenHeard, PROBE_MS, watchPostgres } from './listen';
import { PG_MIGRATIONS } from './schema';
import { applyTeamSecurity, loginRole, ROW_SECURITY_TABLES, TeamSetupError, type Visibility } from './team';
import { postgresClientConfig } from './tls';

export const PG_SCHEMA_VERSION = PG_MIGRATIONS.length;

/** Key of the advisory lock that serialises migrations (any constant shared by every process of this tool). */
const MIGRATION_LOCK = 0x44697363; // "Disc"

/** What pg's errors say, in one line, without the password (pg never puts it in messages; the URL is ours to redact). */
function describe(e: unknown): string {
  const err = e as { code?: string; message?: string };
  if (err.code === 'ECONNREFUSED')
    return 'the server refused the connection (is it running, and on that host and port?)';
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return 'the host name does not resolve';
  if (err.code === 'ETIMEDOUT') return 'the server did not answer in time';
  // pg's connectionTimeoutMillis ran out (the pool's words, then the client's): a server that does not answer, or a
  // pooler that keeps the login waiting while it cannot log in for it (PgBouncer's auth_user without CONNECT, say)
  if (/^(timeout exceeded when trying to connect|timeout expired)$/.test(err.message ?? ''))
    return 'the login did not complete in time (the server, or a connection pooler in front of it, did not answer; a pooler says why in its log)';
  if (err.code === '28P01') return 'password authentication failed (set PGPASSWORD or ~/.pgpass)';
  if (err.code === '3D000') return err.message ?? 'the database does not exist';
  // pg's own words when the server asks for a password and none was given (SCRAM): say it plainly
  if (/client password must be a string/.test(err.message ?? ''))
    return 'no password supplied (set PGPASSWORD or ~/.pgpass)';
  return (err.message ?? String(e)).split('\n')[0];
}

/** The connection itself failed (the server went away or was shut down), not a statement. */
function connectionLost(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  if (err.code && /^(57P0[123]|08[0-9A-Z]{3}|ECONNRESET|EPIPE|ECONNREFUSED)$/.test(err.code)) return true;
  return (
    !err.code &&
    /^Connection terminated|Client has encountered a connection error|connection (was )?(closed|ended)/i.test(
      err.message ?? '',
    )
  );
}

const BUSY_CODES = new Set(['55P03', '40P01', '40001']); // lock_not_available, deadlock_detected, serialization_failure

export interface PostgresOptions {
  /** How long a write waits for the others' locks, and an open for a migration under way (default 5 minutes). */
  lockTimeoutMs?: number;
  /**
   * The same database reached without a pooler (the server itself), for the LISTEN that carries live changes
   * (watchChanges): through a pooler in transaction mode a LISTEN is not heard. Checked when the store opens.
   */
  directUrl?: string;
}

/** sslmode as libpq reads it (./tls.ts); for prefer and allow, what one connection tried found. One line when it fails. */
function clientConfig(location: string, shown: string): Promise<pg.ClientConfig> {
  return postgresClientConfig(location).catch((e: unknown) => {
    throw e instanceof UsageError ? e : new UsageError(`cannot open database ${shown}: ${describe(e)}`);
  });
}

/** Connects one client for a setup step; one line naming the database (never its password) when it cannot. */
async function connectOnce(location: string, shown: string): Promise<pg.Client> {
  const connection = await clientConfig(location, shown);
  const client = new pg.Client({ ...connection, connectionTimeoutMillis: 10_000, application_name: 'discretion' });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return client;
  } catch (e) {
    await client.end().catch(() => undefined);
    throw new UsageError(`cannot open database ${shown}: ${describe(e)}`);
  }
}

/**
 * The LISTEN connection's settings for a direct URL: it must connect, and hear what the store's own connections
 * (`pool`, maybe through a pooler) notify, which they do only on the same database of the same server. One line
 * naming both URLs (never a password) when it does not.
 */
async function directListenConfig(directUrl: string, pool: pg.Pool, shown: string): Promise<pg.ClientConfig> {
  const direct = redactLocation(directUrl);
  if (!isDatabaseUrl(directUrl))
    throw new UsageError(`the direct URL ${direct} is not a postgres:// URL; nothing was opened`, 'directUrl');
  const cannot = (e: unknown) =>
    new UsageError(`cannot open the direct connection ${direct}: ${describe(e)}; nothing was opened`, 'directUrl');
  const config = await postgresClientConfig(directUrl.trim()).catch((e: unknown) => {
    throw e instanceof UsageError ? new UsageError(e.message, 'directUrl') : cannot(e);
  });
  const client = new pg.Client({ ...config, connectionTimeoutMillis: 10_000, application_name: 'discretion-listen' });
  client.on('error', () => undefined);
  try {
    try {
      await client.connect();
    } catch (e) {
      throw cannot(e);
    }
    const heard = await listenHeard(client, async (channel) => {
      await pool.query('SELECT pg_notify($1, $2)', [channel, '']);
    }).catch((e: unknown) => {
      throw cannot(e);
    });
    if (!heard)
      throw new UsageError(
        `the direct connection ${direct} does not reach database ${shown}: a notification sent on the one did not arrive on the other within ${PROBE_MS / 1000} s (name the PostgreSQL server itself, not a pooler, and the same database); nothing was opened`,
        'directUrl',
      );
  } finally {
    await client.end().catch(() => undefined);
  }
  return { ...config, connectionTimeoutMillis: 10_000 };
}

export async function openPostgresStore(location: string, options: PostgresOptions = {}): Promise<Store> {
  const shown = redactLocation(location);
  const lockTimeoutMs = options.lockTimeoutMs ?? 5 * 60_000;
  const connection = await clientConfig(location, shown);
  const pool = PgConnection.pool({
    ...connection,
    max: 4,
    connectionTimeoutMillis: 10_000,
    application_name: 'discretion',
  });
  // An idle client the server drops (a restart) must not crash the process: the next query reconnects.
  pool.on('error', () => undefined);
  let rls: Set<string>;
  let listen: { config: pg.ClientConfig; verified: boolean } = {
    config: { ...connection, connectionTimeoutMillis: 10_000 },
    verified: false,
  };
  try {
    const client = await pool.connect();
    try {
      await checkSchema(client, shown, lockTimeoutMs);
      // COPY FROM refuses a table whose row-level policies apply to this login: those take INSERT ... SELECT.
      rls = new Set(
        (
          await client.query<{ t: string }>('SELECT t FROM unnest($1::text[]) t WHERE row_security_active(t)', [
            ROW_SECURITY_TABLES,
          ])
        ).rows.map((r) => r.t),
      );
    } finally {
      client.release();
    }
    if (options.directUrl?.trim())
      listen = { config: await directListenConfig(options.directUrl, pool, shown), verified: true };
  } catch (e) {
    await pool.end().catch(() => undefined);
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot open database ${shown}: ${describe(e)}`);
  }
  return postgresStore(pool, shown, lockTimeoutMs, rls, listen);
}

/**
 * The schema this version reads. Schema changes are the owner's (`discretion team init`, or any command the
 * database's owner runs): any other login only reads the version, needing no CREATE and owning nothing, and is
 * told to ask the lead when the database is behind.
 */
async function checkSchema(client: pg.ClientBase, shown: string, lockTimeoutMs: number): Promise<void> {
  const version = await schemaVersion(client);
  if (version !== undefined && version > PG_SCHEMA_VERSION) throw newerSchema(shown, version);
  if (version === PG_SCHEMA_VERSION) return;
  const { owner } = await loginRole(client);
  if (!owner) {
    throw new UsageError(
      version === undefined
        ? `database ${shown} holds no Discretion Workbench tables yet, and your login does not own it: ask the lead to run \`discretion team init\``
        : `database ${shown} has schema version ${version} and this version of the tool needs ${PG_SCHEMA_VERSION}: ask the lead to run \`discretion team init\``,
    );
  }
  await migrate(client, shown, lockTimeoutMs, async () => {
    // a team's grants and policies cover the tables of the new migrations too
    if (
      (
        await client.query(
          "SELECT to_regclass('team_config') IS NOT NULL AND EXISTS (SELECT 1 FROM team_config) AS team",
        )
      ).rows[0].team
    )
      await applyTeamSecurity(client, undefined);
  });
}

async function schemaVersion(client: pg.ClientBase): Promise<number | undefined> {
  if (
    (await client.query<{ t: string | null }>("SELECT to_regclass('discretion_schema')::text AS t")).rows[0].t === null
  )
    return undefined;
  return (await client.query<{ version: number }>('SELECT version FROM discretion_schema')).rows[0]?.version ?? 0;
}

const newerSchema = (shown: string, version: number) =>
  new UsageError(
    `${shown} was written by a newer Discretion Workbench (schema version ${version}; this version reads up to ${PG_SCHEMA_VERSION}). Update the tool to open it.`,
  );

/**
 * Runs the migrations the database lacks, in one transaction under a transaction-scoped advisory lock, so two
 * processes opening a new database at once do not collide; a lock held longer than `lockTimeoutMs` (another
 * process migrating, or a session that took the lock and sat on it) ends in one line. `after` runs in the same
 * transaction. Nothing here outlives the transaction (no session lock, no session SET): behind a pooler in
 * transaction mode (PgBouncer) the next transaction may run on another server session, where a session-level
 * lock would never be released and a SET would not hold.
 */
async function migrate(
  client: pg.ClientBase,
  shown: string,
  lockTimeoutMs: number,
  after: () => Promise<void>,
): Promise<void> {
  await client.query('BEGIN');
  try {
    try {
      await client.query(
        `SET LOCAL lock_timeout = ${Math.max(1, Math.round(lockTimeoutMs))}; SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`,
      );
    } catch (e) {
      if ((e as { code?: string }).code === '55P03') {
        throw new UsageError(
          `database ${shown}: another session has held the schema's setup lock for more than ${Math.round(lockTimeoutMs / 1000)} s (a \`discretion team init\` or an upgrade under way, or a session that took the lock and did not let go); nothing was changed, try again when it has finished`,
        );
      }
      throw e;
    }
    // the migrations themselves wait for the tables' locks as long as they must (as a migration always has)
    await client.query('SET LOCAL lock_timeout = 0');
    await client.query('CREATE TABLE IF NOT EXISTS discretion_schema (version INTEGER NOT NULL)');
    let version = (await schemaVersion(client)) ?? 0;
    if ((await client.query('SELECT 1 FROM discretion_schema')).rowCount === 0)
      await client.query('INSERT INTO discretion_schema (version) VALUES (0)');
    if (version > PG_SCHEMA_VERSION) throw newerSchema(shown, version);
    for (; version < PG_SCHEMA_VERSION; version++) {
      await client.query(PG_MIGRATIONS[version]);
      await client.query('UPDATE discretion_schema SET version = $1', [version + 1]);
    }
    await after();
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

/** What `discretion team init` did. */
export interface TeamInitResult {
  database: string;
  schemaVersion: number;
  migratedFrom: number | null;
  leadRole: string;
  annotatorRole: string;
  visibility: Visibility;
}

/**
 * `discretion team init`: run by the database's owner (a login with CREATEROLE, not a superuser), creates or
 * migrates the schema and the team's two group roles, and (re)writes every grant and row-level policy, in one
 * transaction. Run again, it changes only what differs (the visibility, when given).
 */
export async function initTeamDatabase(
  location: string,
  options: PostgresOptions & { visibility?: Visibility } = {},
): Promise<TeamInitResult> {
  const shown = redactLocation(location);
  const client = await connectOnce(location, shown);
  try {
    const who = await loginRole(client);
    if (!who.owner)
      throw new UsageError(
        `database ${shown}: only its owner may set up a team, and login ${who.login} does not own it (the DBA makes the lead's login the database's owner: ALTER DATABASE ... OWNER TO ...)`,
      );
    if (!who.createRole)
      throw new UsageError(
        `database ${shown}: login ${who.login} owns it but may not create roles (the DBA grants it: ALTER ROLE ${who.login} CREATEROLE)`,
      );
    const before = await schemaVersion(client);
    let result: { lead: string; annotator: string; visibility: Visibility } | undefined;
    await migrate(client, shown, options.lockTimeoutMs ?? 60_000, async () => {
      result = await applyTeamSecurity(client, options.visibility);
    });
    return {
      database: shown,
      schemaVersion: PG_SCHEMA_VERSION,
      migratedFrom: before ?? null,
      leadRole: result!.lead,
      annotatorRole: result!.annotator,
      visibility: result!.visibility,
    };
  } catch (e) {
    if (e instanceof TeamSetupError) throw new UsageError(`database ${shown}: ${e.message}; nothing was changed`);
    if (e instanceof UsageError) throw e;
    throw new UsageError(`database ${shown}: ${describe(e)}; nothing was changed`);
  } finally {
    await client.end().catch(() => undefined);
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

/**
 * Claims and their expiry follow the server's clock, never the client's: a client whose clock runs an hour
 * fast must not take pairs that others hold. The port's `nowMs` arguments are replaced by the server's time.
 */
function withServerClock<
  T extends Pick<StoreReads, 'liveClaims' | 'teamProgress' | 'claimFreedInMs'> &
    Partial<Pick<Transaction, 'renewClaim'>>,
>(ops: T, conn: PgConnection): T {
  const serverNow = async () => (await conn.get<{ ms: number }>('SELECT discretion_now_ms() AS ms'))!.ms;
  const out: T = {
    ...ops,
    liveClaims: async (datasetId, _nowMs) => ops.liveClaims(datasetId, await serverNow()),
    teamProgress: async (datasetId, _nowMs) => ops.teamProgress(datasetId, await serverNow()),
    claimFreedInMs: async (datasetId, annotatorId, _nowMs) =>
      ops.claimFreedInMs(datasetId, annotatorId, await serverNow()),
  };
  // claimNextPair reads the server's clock in its own statement (src/store/sql/team.ts claimOnServer)
  const { renewClaim } = ops;
  if (renewClaim)
    out.renewClaim = async (pairRowId, annotatorId, _nowMs, ttlMs) =>
      renewClaim(pairRowId, annotatorId, await serverNow(), ttlMs);
  return out;
}

/**
 * A read that failed because the server went away or cannot be reached, as one line naming the database (never
 * its password). Other errors stay as they are.
 */
function readFailure(e: unknown, location: string): Error | undefined {
  if (connectionLost(e)) {
    const code = (e as { code?: string }).code;
    return new UsageError(
      code === 'ECONNREFUSED'
        ? `cannot reach database ${location}: ${describe(e)}`
        : `lost the connection to database ${location} (${describe(e)}); try again when the server is back`,
    );
  }
  return undefined;
}

/** A server error, as one line for the person who ran the command. */
function refusal(e: unknown, location: string): Error | undefined {
  const err = e as { code?: string; detail?: string; message?: string };
  if (err.code === 'DW001') {
    // discretion_preferences_check (migration 12, the rule of migration 9): "idx overlap"
    const [pairIdx, overlap] = (err.detail ?? '').split(' ').map(Number);
    return new PairFullError(pairIdx, overlap);
  }
  if (err.code === '42501')
    return new UsageError(
      `database ${location}: ${describe(e)} (the team's roles do not allow this login to do it; ask the lead); nothing was written`,
    );
  return undefined;
}

function postgresStore(
  pool: pg.Pool,
  location: string,
  lockTimeoutMs: number,
  rowSecurity: Set<string>,
  listen: { config: pg.ClientConfig; verified: boolean },
): Store {
  let current: pg.PoolClient | undefined;
  const readConn = new PgConnection(
    () => pool,
    () => undefined,
    new Set(),
    (e) => readFailure(e, location),
  );
  const txConn = new PgConnection(
    () => current!,
    () => current,
    rowSecurity,
  );
  const reads = withServerClock(sqlReads(readConn), readConn);
  const txReads = withServerClock(sqlReads(txConn), txConn);
  const tx: Transaction = withServerClock(sqlTransaction(txConn, txReads), txConn);

  // Every write transaction of every process moves the sequence (sequences ignore rollbacks, so a
  // failed write moves it too: "the database may have changed").
  const changeStamp = async () =>
    String(
      (await readConn.get<{ v: number }>(
        'SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS v FROM discretion_changes',
      ))!.v,
    );
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
      const onLost = (e: Error) => {
        lost = e;
      };
      client.on('error', onLost);
      let committing = false;
      try {
        txConn.written.reset();
        try {
          // the server's clock comes back with BEGIN, in the same round trip (the times this write stores);
          // inside this try, so a connection lost at BEGIN is the same one line as one lost later
          const begun = (await client.query(
            `BEGIN; SET LOCAL lock_timeout = ${Math.max(1, Math.round(lockTimeoutMs))}; SELECT discretion_now_ms() AS ms`,
          )) as unknown as pg.QueryResult<{ ms: number }>[];
          txConn.setServerClock(begun[2].rows[0].ms);
          const result = await withTransactionScope(tx, fn);
          committing = true;
          await client.query(markChangesAndCommit(txConn.written.get()));
          return result;
        } catch (e) {
          if (connectionLost(e) || lost) {
            lost ??= e as Error;
            throw new UsageError(
              committing
                ? `lost the connection to database ${location} while committing (${describe(e)}); the write may or may not have been stored`
                : `lost the connection to database ${location} (${describe(e)}); nothing was written`,
            );
          }
          await client.query('ROLLBACK').catch(() => undefined);
          if (BUSY_CODES.has((e as { code?: string }).code ?? '')) throw new StoreBusyError(location, lockTimeoutMs);
          const refused = refusal(e, location);
          if (refused) throw refused;
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
    identity: async () => {
      const who = await loginRole(pool);
      return {
        login: who.login,
        owner: who.owner,
        role: who.team?.role ?? null,
        annotator: who.team?.annotator ?? null,
        visibility: who.visibility ?? null,
      };
    },
    teamMembers: async () => {
      if ((await readConn.get<{ t: string | null }>("SELECT to_regclass('team_config')::text AS t"))?.t === null)
        return [];
      return readConn.all(
        `SELECT m.login AS login, a.name AS annotator, m.role AS role, m.added_at AS "addedAt", m.added_by AS "addedBy"
         FROM team_members m JOIN annotators a ON a.id = m.annotator_id ORDER BY m.login`,
      );
    },
    addTeamMember: (login, annotator, role) =>
      write(async () => {
        await txConn.run('SELECT discretion_team_add(?, ?, ?)', [login, annotator, role]);
        txConn.wrote('team_members');
        txConn.wrote('annotators');
      }),
    removeTeamMember: (login) =>
      write(async () => {
        const r = await txConn.get<{ gone: boolean }>('SELECT discretion_team_remove(?) AS gone', [login]);
        txConn.wrote('team_members');
        return r!.gone;
      }),
    watchChanges: (onChange, pollMs) => {
      const w = watchPostgres(listen.config, changeStamp, onChange, pollMs, {
        verified: listen.verified,
        notify: async (channel) => {
          await readConn.run('SELECT pg_notify(?, ?)', [channel, '']);
        },
      });
      const handle = {
        dispose: () => {
          w.dispose();
          watchers.delete(handle);
        },
      };
      watchers.add(handle);
      return handle;
    },
    dumpTables: async () => {
      const tables = await readConn.all<{ name: string }>(
        "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name",
      );
      const out: Record<string, string[]> = {};
      for (const { name } of tables)
        out[name] = (await readConn.all(`SELECT * FROM "${name}"`)).map((r) => JSON.stringify(r)).sort();
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
