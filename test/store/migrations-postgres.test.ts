// PostgreSQL migrations: the same versions as SQLite's (a schema version means the same tables on both), every
// older version migrates with its rows and their values (as test/store/migrations.test.ts checks on SQLite), and a
// newer schema is refused clearly and left alone.
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { openStore } from '../../src/store';
import { PG_MIGRATIONS } from '../../src/store/postgres/schema';
import { teamRoleNames } from '../../src/store/postgres/team';
import { MIGRATIONS } from '../../src/store/sqlite/schema';
import { freshPostgresDatabase } from '../support/postgres';
import { MIGRATION_ROWS, migratedRows } from './migrations.test';

const server = inject('postgres');
const skip = 'skip' in server ? server.skip : undefined;
const serverUrl = 'url' in server ? server.url : '';

/** The adapter's type parsing (src/store/postgres/connection.ts): BIGINT as a JavaScript number, the rest as pg's defaults. */
const ADAPTER_TYPES = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text'),
} as pg.CustomTypesConfig;

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
        await c.query(
          'CREATE TABLE discretion_schema (version INTEGER NOT NULL); INSERT INTO discretion_schema VALUES (0)',
        );
        for (let v = 0; v < version; v++) {
          await c.query(
            `BEGIN; ${PG_MIGRATIONS[v]} ${MIGRATION_ROWS[v + 1]} UPDATE discretion_schema SET version = ${v + 1}; COMMIT;`,
          );
        }
        const tables = (
          await c.query<{ t: string }>(
            "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'discretion_schema'",
          )
        ).rows;
        // The rows above carry explicit ids (they are shared with the SQLite test); the tool's own inserts
        // take them from the identity sequences, so move those past the ids used, as the tool's rows would have.
        const identity = (
          await c.query<{ t: string }>(
            "SELECT table_name AS t FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'id' AND is_identity = 'YES'",
          )
        ).rows;
        for (const { t } of identity) {
          await c.query(
            `SELECT setval(pg_get_serial_sequence('"${t}"', 'id'), max(id)) FROM "${t}" HAVING count(*) > 0`,
          );
        }
        // Read as the adapter reads them (dumpTables below: tables, not views): BIGINT as a number, one JSON text per row.
        const rows: Record<string, string[]> = {};
        for (const { t } of tables)
          rows[t] = (await c.query({ text: `SELECT * FROM "${t}"`, types: ADAPTER_TYPES })).rows
            .map((r) => JSON.stringify(r))
            .sort();
        return rows;
      });
      const store = await openStore(url);
      try {
        const after = await store.dumpTables();
        // every old row is still there with its values; columns a later migration added take their defaults,
        // columns it changed are changed (ADDED_COLUMNS, CHANGED_COLUMNS)
        if (version >= 1) expect(before.pairs).toHaveLength(2); // the comparison below has rows to compare
        for (const [table, rows] of Object.entries(before))
          expect(after[table], table).toEqual(migratedRows(table, version, rows));
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
      expect(
        await withClient(url, async (c) => (await c.query('SELECT version FROM discretion_schema')).rows[0].version),
      ).toBe(PG_MIGRATIONS.length);
    });
  }

  it("migration 10 on a team's database: a grant on shown_order follows it to shown_first, and the team's grants name shown_first", async () => {
    const url = await freshPostgresDatabase(serverUrl);
    const roles = teamRoleNames(new URL(url).pathname.slice(1));
    const probe = `${roles.annotator.slice(0, 50)}_probe`;
    await withClient(url, async (c) => {
      await c.query(
        'CREATE TABLE discretion_schema (version INTEGER NOT NULL); INSERT INTO discretion_schema VALUES (0)',
      );
      for (let v = 0; v < 9; v++)
        await c.query(
          `BEGIN; ${PG_MIGRATIONS[v]} ${MIGRATION_ROWS[v + 1]} UPDATE discretion_schema SET version = ${v + 1}; COMMIT;`,
        );
      // a team set up at version 9 (the adapter writes its grants again when it migrates), and a role granted
      // UPDATE on the old column by hand
      await c.query("INSERT INTO team_config (lead_role, annotator_role, visibility) VALUES ($1, $2, 'blind')", [
        roles.lead,
        roles.annotator,
      ]);
      await c.query(
        `CREATE ROLE "${probe}" NOLOGIN; GRANT UPDATE (shown_order) ON principle_preferences TO "${probe}"`,
      );
    });
    // the owner opens it: migration 10, then the team's grants, in one transaction
    await (await openStore(url)).close();
    await withClient(url, async (c) => {
      const mayUpdate = async (role: string) =>
        (
          await c.query<{ ok: boolean }>(
            "SELECT has_column_privilege($1, 'principle_preferences', 'shown_first', 'UPDATE') AS ok",
            [role],
          )
        ).rows[0].ok;
      expect([await mayUpdate(probe), await mayUpdate(roles.lead), await mayUpdate(roles.annotator)]).toEqual([
        true,
        true,
        true,
      ]);
      // MIGRATION_ROWS[1]'s shown_order 1, NULL, 0, inverted; the check constraint renamed with its column
      expect(
        (await c.query('SELECT shown_first FROM principle_preferences ORDER BY pair_id, annotator_id')).rows,
      ).toEqual([{ shown_first: 0 }, { shown_first: null }, { shown_first: 1 }]);
      expect(
        (
          await c.query(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'principle_preferences'::regclass AND contype = 'c' ORDER BY conname",
          )
        ).rows.map((r: { conname: string }) => r.conname),
      ).toEqual(['principle_preferences_shown_first_check', 'principle_preferences_value_check']);
      await c.query(`REVOKE ALL ON principle_preferences FROM "${probe}"; DROP ROLE "${probe}"`);
    });
  });

  it('refuses a database written by a newer schema, naming it without the password, and leaves it alone', async () => {
    const url = await freshPostgresDatabase(serverUrl);
    await withClient(url, (c) =>
      c.query(
        `CREATE TABLE discretion_schema (version INTEGER NOT NULL); INSERT INTO discretion_schema VALUES (${PG_MIGRATIONS.length + 3})`,
      ),
    );
    const err = await openStore(url).catch((e: Error) => e);
    expect((err as Error).message).toMatch(
      new RegExp(
        `newer Discretion Workbench \\(schema version ${PG_MIGRATIONS.length + 3}; this version reads up to ${PG_MIGRATIONS.length}\\)`,
      ),
    );
    expect((err as Error).message).toContain(new URL(url).pathname.slice(1));
    expect((err as Error).message).not.toContain('discretion-test-secret');
    expect(
      await withClient(
        url,
        async (c) =>
          (await c.query("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'"))
            .rows[0].n,
      ),
    ).toBe(1);
  });

  it('names the database without its password when the password is wrong or the server does not answer', async () => {
    const url = await freshPostgresDatabase(serverUrl);
    const wrong = url.replace(/:[^:@/]+@/, ':not-the-password@');
    const e1 = (await openStore(wrong).catch((e: Error) => e)) as Error;
    expect(e1.message).toMatch(
      /^cannot open database postgres:\/\/postgres@127\.0\.0\.1:\d+\/\S+: password authentication failed/,
    );
    expect(e1.message).not.toContain('not-the-password');
    const closed = new URL(url);
    closed.port = '1';
    const e2 = (await openStore(closed.toString()).catch((e: Error) => e)) as Error;
    expect(e2.message).toMatch(
      /^cannot open database postgres:\/\/postgres@127\.0\.0\.1:1\/\S+: the server refused the connection/,
    );
    expect(e2.message).not.toContain('discretion-test-secret');
  });
});
