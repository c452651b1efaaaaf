// PostgreSQL migrations: the same versions as SQLite's (a schema version means the same tables on both), every
// older version migrates with its rows and their values (as test/store/migrations.test.ts checks on SQLite), and a
// newer schema is refused clearly and left alone.
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { openStore } from '../../src/store';
import { PG_MIGRATIONS } from '../../src/store/postgres/schema';
import { MIGRATIONS } from '../../src/store/sqlite/schema';
import { freshPostgresDatabase } from '../support/postgres';
import { MIGRATION_ROWS, withAddedColumns } from './migrations.test';

const server = inject('postgres');
const skip = 'skip' in server ? server.skip : undefined;
const serverUrl = 'url' in server ? server.url : '';

/** The adapter's type parsing (src/store/postgres/connection.ts): BIGINT as a JavaScript number, the rest as pg's defaults. */
const ADAPTER_TYPES = { getTypeParser: (oid: number, format?: 'text' | 'binary') => (oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) } as pg.CustomTypesConfig;

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

describe('PostgreSQL schema versions', () => {
  it('has one PostgreSQL migration for every SQLite migration (a new migration is written for both)', () => {
    expect(PG_MIGRATIONS.length).toBe(MIGRATIONS.length);
  });
});

describe.skipIf(skip)('PostgreSQL migrations', () => {
  for (let version = 0; version < PG_MIGRATIONS.length; version++) {
    it(`migrates a database at schema version ${version} to ${PG_MIGRATIONS.length} and keeps every row`, async () => {
      const url = await freshPostgresDatabase(serverUrl);
      const before = await withClient(url, async (c) => {
        await c.query('CREATE TABLE discretion_schema (version INTEGER NOT NULL); INSERT INTO discretion_schema VALUES (0)');
        for (let v = 0; v < version; v++) {
          await c.query(`BEGIN; ${PG_MIGRATIONS[v]} ${MIGRATION_ROWS[v + 1]} UPDATE discretion_schema SET version = ${v + 1}; COMMIT;`);
        }
        const tables = (await c.query<{ t: string }>("SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'discretion_schema'")).rows;
        // The rows above carry explicit ids (they are shared with the SQLite test); the tool's own inserts
        // take them from the identity sequences, so move those past the ids used, as the tool's rows would have.
        const identity = (await c.query<{ t: string }>("SELECT table_name AS t FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'id' AND is_identity = 'YES'")).rows;
        for (const { t } of identity) {
          await c.query(`SELECT setval(pg_get_serial_sequence('"${t}"', 'id'), max(id)) FROM "${t}" HAVING count(*) > 0`);
        }
        // Read as the adapter reads them (dumpTables below): BIGINT as a number, one JSON text per row.
        const rows: Record<string, string[]> = {};
        for (const { t } of tables) rows[t] = (await c.query({ text: `SELECT * FROM "${t}"`, types: ADAPTER_TYPES })).rows.map((r) => JSON.stringify(r)).sort();
        return rows;
      });
      const store = await openStore(url);
      try {
        const after = await store.dumpTables();
        // every old row is still there with its values; columns a later migration added take their defaults
        if (version >= 1) expect(before.pairs).toHaveLength(2); // the comparison below has rows to compare
        for (const [table, rows] of Object.entries(before)) expect(after[table], table).toEqual(withAddedColumns(table, version, rows));
        if (version >= 1) {
          const d = await store.requireDataset('old');
          const alice = await store.requireAnnotator('alice');
          expect(await store.labelledCount(d.id, alice.id)).toBe(1);
          // identity columns continue after the explicit ids the old rows used
          const dataset = await store.write((tx) => tx.createDataset('new', 'jsonl', null));
          expect(dataset).toBeGreaterThan(d.id);
        }
      } finally {
        await store.close();
      }
      expect(await withClient(url, async (c) => (await c.query('SELECT version FROM discretion_schema')).rows[0].version)).toBe(PG_MIGRATIONS.length);
    });
  }

  it('refuses a database written by a newer schema, naming it without the password, and leaves it alone', async () => {
    const url = await freshPostgresDatabase(serverUrl);
    await withClient(url, (c) => c.query(`CREATE TABLE discretion_schema (version INTEGER NOT NULL); INSERT INTO discretion_schema VALUES (${PG_MIGRATIONS.length + 3})`));
    const err = await openStore(url).catch((e: Error) => e);
    expect((err as Error).message).toMatch(new RegExp(`newer Discretion Workbench \\(schema version ${PG_MIGRATIONS.length + 3}; this version reads up to ${PG_MIGRATIONS.length}\\)`));
    expect((err as Error).message).toContain(new URL(url).pathname.slice(1));
    expect((err as Error).message).not.toContain('discretion-test-secret');
    expect(await withClient(url, async (c) => (await c.query("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'")).rows[0].n)).toBe(1);
  });

  it('names the database without its password when the password is wrong or the server does not answer', async () => {
    const url = await freshPostgresDatabase(serverUrl);
    const wrong = url.replace(/:[^:@/]+@/, ':not-the-password@');
    const e1 = (await openStore(wrong).catch((e: Error) => e)) as Error;
    expect(e1.message).toMatch(/^cannot open database postgres:\/\/postgres@127\.0\.0\.1:\d+\/\S+: password authentication failed/);
    expect(e1.message).not.toContain('not-the-password');
    const closed = new URL(url);
    closed.port = '1';
    const e2 = (await openStore(closed.toString()).catch((e: Error) => e)) as Error;
    expect(e2.message).toMatch(/^cannot open database postgres:\/\/postgres@127\.0\.0\.1:1\/\S+: the server refused the connection/);
    expect(e2.message).not.toContain('discretion-test-secret');
  });
});
