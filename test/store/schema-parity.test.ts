// Schema parity (issue 21): a fresh SQLite file and a fresh PostgreSQL database, each migrated to the current
// version by its own adapter, hold the same tables with the same columns (name, type family, nullability, in
// order), the same primary keys and the same indexes (their columns in order, unique or not, partial or not;
// index names may differ). What exists on one database only exists there on purpose and is listed below with
// its reason, so that any other drift (a column added to one dialect's migration only) fails here.
import { join } from 'node:path';
import pg from 'pg';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { openStore } from '../../src/store';
import { openSqliteStore } from '../../src/store/sqlite/adapter';
import { tempDir } from '../support/helpers';
import { freshPostgresDatabase } from '../support/postgres';

const server = inject('postgres');
const skip = 'skip' in server ? server.skip : undefined;
const serverUrl = 'url' in server ? server.url : '';

type Family = 'integer' | 'real' | 'text' | 'boolean' | 'blob';
interface Column {
  name: string;
  type: Family;
  nullable: boolean;
}
interface Index {
  columns: string[];
  unique: boolean;
  partial: boolean;
}
interface Table {
  columns: Column[];
  primaryKey: string[];
  indexes: Index[];
}
/** Tables by name, and each view's column names (a view's column types are not declared on SQLite). */
interface Schema {
  tables: Record<string, Table>;
  views: Record<string, string[]>;
}

/** On one database only, on purpose (the reason is the value). Sequences are not compared: PostgreSQL's identity
 * columns and its `discretion_changes` counter have no SQLite object, whose rowids and data_version do that work. */
const POSTGRES_ONLY: Record<string, string> = {
  discretion_schema: 'the schema version; SQLite keeps it in PRAGMA user_version',
  team_config: "a team's settings (who sees whose labels): only a shared server has a team",
  team_members: 'the logins of a team and their roles: a SQLite file has no logins',
};
const SQLITE_ONLY: Record<string, string> = {
  overlap_refusals:
    "where SQLite's overlap trigger notes the pair it refuses (SQLite before 3.48 raises only a constant message; PostgreSQL's RAISE carries the pair in its detail)",
};

/** The type families: SQLite's declared types by its affinity rules, PostgreSQL's type names (information_schema.data_type). */
const SQLITE_FAMILY = (declared: string): Family => {
  const t = declared.toUpperCase();
  if (t.includes('INT')) return 'integer';
  if (/CHAR|CLOB|TEXT/.test(t)) return 'text';
  if (t === '' || t.includes('BLOB')) return 'blob';
  if (/REAL|FLOA|DOUB/.test(t)) return 'real';
  throw new Error(`SQLite type "${declared}" has no family here (numeric affinity): add it`);
};
const PG_FAMILY: Record<string, Family> = {
  smallint: 'integer',
  integer: 'integer',
  bigint: 'integer',
  real: 'real',
  'double precision': 'real',
  text: 'text',
  'character varying': 'text',
  jsonb: 'text',
  json: 'text',
  'timestamp with time zone': 'text',
  boolean: 'boolean',
  bytea: 'blob',
};

const byColumns = (a: Index, b: Index) => JSON.stringify(a).localeCompare(JSON.stringify(b));

async function sqliteSchema(): Promise<Schema> {
  const store = await openSqliteStore(join(tempDir(), 'parity.db'));
  try {
    const db = store.db;
    const tables = await db.all<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    );
    const schema: Schema = { tables: {}, views: {} };
    for (const { name } of await db.all<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY name",
    )) {
      schema.views[name] = (await db.all<{ name: string }>(`PRAGMA table_info("${name}")`)).map((c) => c.name);
    }
    for (const { name } of tables) {
      const info = await db.all<{ name: string; type: string; notnull: number; pk: number }>(
        `PRAGMA table_info("${name}")`,
      );
      // An INTEGER PRIMARY KEY is the rowid, never NULL, though PRAGMA says notnull 0; any other column is as
      // declared (SQLite lets another key column hold NULL unless it is declared NOT NULL, as PostgreSQL's never can).
      const columns = info.map((c) => ({
        name: c.name,
        type: SQLITE_FAMILY(c.type),
        nullable: c.notnull === 0 && !(c.pk > 0 && c.type.toUpperCase() === 'INTEGER'),
      }));
      const primaryKey = info
        .filter((c) => c.pk > 0)
        .sort((a, b) => a.pk - b.pk)
        .map((c) => c.name);
      const indexes: Index[] = [];
      for (const ix of await db.all<{ name: string; unique: number; origin: string; partial: number }>(
        `PRAGMA index_list("${name}")`,
      )) {
        if (ix.origin === 'pk') continue; // the primary key, compared above
        const cols = await db.all<{ seqno: number; name: string | null }>(`PRAGMA index_info("${ix.name}")`);
        indexes.push({
          columns: cols.sort((a, b) => a.seqno - b.seqno).map((c) => c.name ?? '<expression>'),
          unique: ix.unique === 1,
          partial: ix.partial === 1,
        });
      }
      schema.tables[name] = { columns, primaryKey, indexes: indexes.sort(byColumns) };
    }
    return schema;
  } finally {
    await store.close();
  }
}

async function postgresSchema(): Promise<Schema> {
  const url = await freshPostgresDatabase(serverUrl);
  await (await openStore(url)).close(); // migrates the empty database to the current version
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const tables = (
      await c.query<{ name: string }>(
        "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name",
      )
    ).rows;
    const schema: Schema = { tables: {}, views: {} };
    for (const { name } of (
      await c.query<{ name: string }>(
        'SELECT table_name AS name FROM information_schema.views WHERE table_schema = current_schema() ORDER BY table_name',
      )
    ).rows) {
      schema.views[name] = (
        await c.query<{ name: string }>(
          'SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position',
          [name],
        )
      ).rows.map((col) => col.name);
    }
    for (const { name } of tables) {
      const info = (
        await c.query<{ name: string; type: string; nullable: string }>(
          'SELECT column_name AS name, data_type AS type, is_nullable AS nullable FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position',
          [name],
        )
      ).rows;
      const columns = info.map((col) => {
        const type = PG_FAMILY[col.type];
        if (!type) throw new Error(`PostgreSQL type "${col.type}" (${name}.${col.name}) has no family here: add it`);
        return { name: col.name, type, nullable: col.nullable === 'YES' };
      });
      const ixs = (
        await c.query<{ primary: boolean; unique: boolean; partial: boolean; columns: (string | null)[] }>(
          `
        SELECT ix.indisprimary AS primary, ix.indisunique AS unique, ix.indpred IS NOT NULL AS partial,
               array(SELECT a.attname FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                     LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS columns
        FROM pg_index ix JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = current_schema() AND t.relname = $1`,
          [name],
        )
      ).rows;
      const primary = ixs.find((ix) => ix.primary);
      const indexes = ixs
        .filter((ix) => !ix.primary)
        .map((ix) => ({
          columns: ix.columns.map((col) => col ?? '<expression>'),
          unique: ix.unique,
          partial: ix.partial,
        }));
      schema.tables[name] = {
        columns,
        primaryKey: primary ? primary.columns.map(String) : [],
        indexes: indexes.sort(byColumns),
      };
    }
    return schema;
  } finally {
    await c.end();
  }
}

describe.skipIf(skip)('SQLite and PostgreSQL schemas after migration', () => {
  let sqlite: Schema;
  let postgres: Schema;
  beforeAll(async () => {
    [sqlite, postgres] = await Promise.all([sqliteSchema(), postgresSchema()]);
  });

  it('hold the same tables, less those listed as on one database on purpose', () => {
    const names = (s: Schema) => Object.keys(s.tables).sort();
    expect(names(postgres).filter((t) => !(t in sqlite.tables))).toEqual(Object.keys(POSTGRES_ONLY).sort());
    expect(names(sqlite).filter((t) => !(t in postgres.tables))).toEqual(Object.keys(SQLITE_ONLY).sort());
    expect(names(sqlite).length).toBeGreaterThan(10);
  });

  it('each shared table: the same columns in order (type family, nullability), primary key and indexes', () => {
    // One comparison of every shared table, so that a failure shows every drift at once (expected: SQLite's).
    const shared = Object.keys(sqlite.tables).filter((t) => t in postgres.tables);
    const of = (s: Schema) => Object.fromEntries(shared.map((t) => [t, s.tables[t]]));
    expect(of(postgres)).toEqual(of(sqlite));
  });

  it('the same views with the same columns', () => {
    expect(postgres.views).toEqual(sqlite.views);
    expect(Object.keys(sqlite.views).length).toBeGreaterThan(0);
  });
});
