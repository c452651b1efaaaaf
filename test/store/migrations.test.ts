// Every older schema version migrates to the current one with its rows intact. The old databases are
// built here by applying the shipped migrations up to that version (they are never edited, see
// schema.ts, save the one exception tested at the end) and inserting rows into every table that version has.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { syncStores } from '../../src/app/sync';
import { saveLabel, undoLastLabel } from '../../src/app/workbench';
import { Database } from '../../src/store/sqlite/driver';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/store/sqlite/schema';
import { openSqliteStore } from '../../src/store/sqlite/adapter';
import { tempDir } from '../support/helpers';

const T = '2026-01-01T00:00:00.000Z';
/** Alice's label on pair row 1 as a label state's JSON before migration 10: shown_order 1 (A was y0), as shown_first 0 says. */
const ALICE_LABEL = `{"preference":{"value":1,"score_y0":null,"score_y1":null,"raw":null,"shown_first":0,"rationale":"why","flagged":0,"created_at":"${T}","updated_at":"${T}"},"principles":[{"principle_id":1,"value":-1,"prob_a":null,"prob_b":null,"prob_na":null,"shown_order":1,"raw":null,"created_at":"${T}"}]}`;
/** A merged label whose rationale holds the text "shown_order":0 (JSON escapes its quotes: not a key) and whose principle's order is unknown. */
const MERGED_LABEL = `{"preference":{"value":0,"score_y0":null,"score_y1":null,"raw":null,"shown_first":null,"rationale":"\\"shown_order\\":0 is text","flagged":1,"created_at":"${T}","updated_at":"${T}"},"principles":[{"principle_id":1,"value":null,"prob_a":null,"prob_b":null,"prob_na":null,"shown_order":null,"raw":null,"created_at":"${T}"}]}`;
/** Rows for the tables each migration adds (index = the migration's version). */
export const MIGRATION_ROWS: Record<number, string> = {
  1: `
    INSERT INTO datasets (id, name, format, source_path, content_hash, created_at) VALUES (1, 'old', 'jsonl', 'old.jsonl', 'abc', '${T}');
    INSERT INTO pairs (id, dataset_id, idx, source_id, prompt, y0, y1, meta) VALUES (1, 1, 0, 's0', 'p0', 'a0', 'b0', NULL), (2, 1, 1, 's1', 'p1', 'a1', 'b1', '{"k":1}');
    INSERT INTO principle_lists (id, name, version, content_hash, source_path, created_at) VALUES (1, 'list', 1, 'h', NULL, '${T}');
    INSERT INTO principles (id, list_id, position, key, short, text) VALUES (1, 1, 0, 'p0', 'A', 'Be kind.');
    INSERT INTO annotators (id, name, kind, provenance, created_at) VALUES (1, 'alice', 'human', NULL, '${T}'), (2, 'rm', 'reward-model', '{"model_sha256":"x"}', '${T}');
    INSERT INTO preferences (pair_id, annotator_id, value, score_y0, score_y1, raw, shown_first, rationale, flagged, created_at, updated_at)
      VALUES (1, 1, 1, NULL, NULL, NULL, 0, 'why', 0, '${T}', '${T}'), (2, 2, -1, 0.5, 0.25, NULL, NULL, NULL, 0, '${T}', '${T}');
    INSERT INTO principle_preferences (pair_id, annotator_id, principle_id, value, prob_a, prob_b, prob_na, shown_order, raw, created_at)
      VALUES (1, 1, 1, -1, NULL, NULL, NULL, 1, NULL, '${T}'), (1, 2, 1, 1, 0.6, 0.3, 0.1, NULL, NULL, '${T}'), (2, 2, 1, -1, 0.2, 0.7, 0.1, 0, '{"cost":1}', '${T}');
    INSERT INTO metric_runs (id, created_at, dataset_id, tool_version, params, input_hashes, results) VALUES (1, '${T}', 1, '0.0.1', '{}', '{}', '{"ok":true}');`,
  // 2: alice's submission of her label on pair row 1 (the state MIGRATION_ROWS[1] holds), as the workbench wrote it
  2: `
    INSERT INTO label_history (id, annotator_id, pair_id, action, before_state, after_state, undone, created_at) VALUES (1, 1, 1, 'submit', '{"preference":null,"principles":[]}', '${ALICE_LABEL}', 0, '${T}');
    INSERT INTO workbench_positions (annotator_id, dataset_id, pair_idx, updated_at) VALUES (1, 1, 1, '${T}');`,
  3: '',
  4: '', // annotators rebuilt with a group column (checked below: every old row, group null)
  5: `INSERT INTO claims (pair_id, annotator_id, expires_at) VALUES (1, 1, 1767225600000);`,
  // 6: the kind 'adjudicator' and the history action 'merge' (annotators and label_history rebuilt: every old row kept)
  6: `
    INSERT INTO annotators (id, name, kind, provenance, created_at, group_name) VALUES (3, 'adjudicated', 'adjudicator', NULL, '${T}', NULL);
    INSERT INTO label_history (id, annotator_id, pair_id, action, before_state, after_state, undone, created_at) VALUES (2, 1, 2, 'merge', '{"preference":null,"principles":[]}', '${MERGED_LABEL}', 0, '${T}');`,
  7: '', // datasets.claim_floor (checked below: 0 on every old row)
  8: '', // pairs.claim_rank (checked below: null on every old row until a claim or a split ranks them)
  9: '', // label_history.login (checked below: null on every old row) and the views the claims read
  10: '', // principle_preferences.shown_order -> shown_first, inverted, and the history's JSON alike (CHANGED_COLUMNS)
  11: '', // claims that do not queue: the view claim_times; PostgreSQL's claim functions (no table changes)
  12: '', // PostgreSQL's foreign keys of pairs and preferences checked per statement: triggers only (nothing on SQLite)
};

/**
 * The columns a migration added to a table that existed before, with the value every old row takes (both
 * databases): 4: annotators.group_name null; 5: the datasets' work split unset; 7: the claim floor 0; 8: no
 * claim rank; 9: no login on old label history.
 */
export const ADDED_COLUMNS: [version: number, table: string, defaults: Record<string, unknown>][] = [
  [4, 'annotators', { group_name: null }],
  [5, 'datasets', { overlap: null, assignment: 'fixed', assignment_seed: 0 }],
  [7, 'datasets', { claim_floor: 0 }],
  [8, 'pairs', { claim_rank: null }],
  [9, 'label_history', { login: null }],
];

type Row = Record<string, unknown>;
/** `row` with the column `from` named `to` in its place, its value changed by `f`. */
const renamed = (row: Row, from: string, to: string, f: (v: unknown) => unknown): Row =>
  Object.fromEntries(Object.entries(row).map(([k, v]) => (k === from ? [to, f(v)] : [k, v])));
const inverted = (v: unknown) => (v === null ? null : 1 - (v as number));
/** A label state's JSON text with its principles' shown_order as shown_first, inverted (parsed and written again). */
const shownFirstState = (text: unknown) => {
  if (typeof text !== 'string') return text;
  const s = JSON.parse(text) as { preference: unknown; principles: Row[] };
  return JSON.stringify({
    ...s,
    principles: s.principles.map((q) => renamed(q, 'shown_order', 'shown_first', inverted)),
  });
};

/**
 * The columns a migration renamed or rewrote, as each old row reads after it (both databases): 10:
 * principle_preferences.shown_order becomes shown_first, inverted (NULL stays NULL), in its place; the
 * label history's JSON states alike.
 */
export const CHANGED_COLUMNS: [version: number, table: string, change: (row: Row) => Row][] = [
  [10, 'principle_preferences', (r) => renamed(r, 'shown_order', 'shown_first', inverted)],
  [
    10,
    'label_history',
    (r) => ({ ...r, before_state: shownFirstState(r.before_state), after_state: shownFirstState(r.after_state) }),
  ],
];

/**
 * `rows` (JSON, one per row) as they read after migrating from `version`: the columns added since then at
 * their defaults, the columns changed since then changed.
 */
export function migratedRows(table: string, version: number, rows: string[]): string[] {
  const defaults = Object.assign(
    {},
    ...ADDED_COLUMNS.filter(([v, t]) => t === table && version < v).map(([, , d]) => d),
  );
  const changes = CHANGED_COLUMNS.filter(([v, t]) => t === table && version < v).map(([, , f]) => f);
  return rows
    .map((r) => JSON.stringify(changes.reduce((row, f) => f(row), { ...(JSON.parse(r) as Row), ...defaults })))
    .sort();
}

async function databaseAtVersion(path: string, version: number): Promise<Record<string, string[]>> {
  const db = await Database.open(path);
  for (let v = 0; v < version; v++) {
    await db.exec(`BEGIN; ${MIGRATIONS[v]} ${MIGRATION_ROWS[v + 1]} PRAGMA user_version = ${v + 1}; COMMIT;`);
  }
  const tables = await db.all<{ name: string }>(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
  );
  const rows: Record<string, string[]> = {};
  for (const { name } of tables)
    rows[name] = (await db.all(`SELECT * FROM "${name}"`)).map((r) => JSON.stringify(r)).sort();
  await db.close();
  return rows;
}

describe('schema migrations', () => {
  it('has rows for every migration (a new migration must add its tables here)', () => {
    expect(Object.keys(MIGRATION_ROWS).map(Number)).toEqual(MIGRATIONS.map((_, i) => i + 1));
  });

  for (let version = 0; version < SCHEMA_VERSION; version++) {
    it(`opens a database at schema version ${version}, migrates it to ${SCHEMA_VERSION} and keeps every row`, async () => {
      const path = join(tempDir(), `v${version}.db`);
      const before = await databaseAtVersion(path, version);
      const store = await openSqliteStore(path);
      try {
        expect((await store.db.get<{ user_version: number }>('PRAGMA user_version'))!.user_version).toBe(
          SCHEMA_VERSION,
        );
        const after = await store.dumpTables();
        // every old row is still there with its values; columns a later migration added take their defaults
        // (ADDED_COLUMNS), columns it changed are changed (CHANGED_COLUMNS)
        for (const [table, rows] of Object.entries(before))
          expect(after[table], table).toEqual(migratedRows(table, version, rows));
        expect(await store.checkIntegrity()).toEqual([]);
        // the migrated database is usable through the port, old rows and new writes alike
        if (version >= 1) {
          const d = await store.requireDataset('old');
          expect(await store.labelledCount(d.id, 1)).toBe(1);
          const alice = await store.requireAnnotator('alice');
          await saveLabel(store, alice.id, 2, {
            value: 0,
            raw: null,
            shownFirst: 1,
            rationale: '',
            flagged: false,
            principles: [],
          });
          expect(await store.labelledCount(d.id, alice.id)).toBe(2);
          expect(await undoLastLabel(store, alice.id, d.id)).toBe(1);
        }
      } finally {
        await store.close();
      }
    });
  }
});

describe('migration 10: one encoding of the response shown first', () => {
  it('renames principle_preferences.shown_order to shown_first and inverts it (NULL stays NULL), and the label history the same', async () => {
    const path = join(tempDir(), 'v9.db');
    await databaseAtVersion(path, 9);
    const store = await openSqliteStore(path);
    try {
      // MIGRATION_ROWS[1]: shown_order 1 (alice, pair row 1: A was y0), NULL (rm, pair row 1), 0 (rm, pair row 2: A was y1)
      expect(
        await store.db.all(
          'SELECT pair_id, annotator_id, shown_first FROM principle_preferences ORDER BY pair_id, annotator_id',
        ),
      ).toEqual([
        { pair_id: 1, annotator_id: 1, shown_first: 0 },
        { pair_id: 1, annotator_id: 2, shown_first: null },
        { pair_id: 2, annotator_id: 2, shown_first: 1 },
      ]);
      // alice's overall preference on that card says the same: A was y0
      expect(await store.db.get('SELECT shown_first FROM preferences WHERE pair_id = 1 AND annotator_id = 1')).toEqual({
        shown_first: 0,
      });
      // the check constraint went with the column
      await expect(store.db.run('UPDATE principle_preferences SET shown_first = 2 WHERE pair_id = 1')).rejects.toThrow(
        /CHECK constraint failed/,
      );
      // the history's JSON: the key renamed in its place and its value inverted; the rationale's text "shown_order":0 kept
      expect(
        (await store.db.all<{ after_state: string }>('SELECT after_state FROM label_history ORDER BY id')).map(
          (r) => r.after_state,
        ),
      ).toEqual([
        '{"preference":{"value":1,"score_y0":null,"score_y1":null,"raw":null,"shown_first":0,"rationale":"why","flagged":0,"created_at":"2026-01-01T00:00:00.000Z","updated_at":"2026-01-01T00:00:00.000Z"},"principles":[{"principle_id":1,"value":-1,"prob_a":null,"prob_b":null,"prob_na":null,"shown_first":0,"raw":null,"created_at":"2026-01-01T00:00:00.000Z"}]}',
        '{"preference":{"value":0,"score_y0":null,"score_y1":null,"raw":null,"shown_first":null,"rationale":"\\"shown_order\\":0 is text","flagged":1,"created_at":"2026-01-01T00:00:00.000Z","updated_at":"2026-01-01T00:00:00.000Z"},"principles":[{"principle_id":1,"value":null,"prob_a":null,"prob_b":null,"prob_na":null,"shown_first":null,"raw":null,"created_at":"2026-01-01T00:00:00.000Z"}]}',
      ]);
      // through the port: the label state, and the history as read back
      expect((await store.labelState(1, 1)).principles).toEqual([
        {
          principle_id: 1,
          value: -1,
          prob_a: null,
          prob_b: null,
          prob_na: null,
          shown_first: 0,
          raw: null,
          created_at: T,
        },
      ]);
      expect((await store.labelHistory(1))[0].after.principles[0].shown_first).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('keeps what sync compares: two copies of a version 9 file, one relabelled there, sync as the newer version after both migrate', async () => {
    const T2 = '2026-01-02T00:00:00.000Z';
    const dst = join(tempDir(), 'v9-dst.db');
    const src = join(tempDir(), 'v9-src.db');
    await databaseAtVersion(dst, 9);
    copyFileSync(dst, src);
    // alice relabels pair row 1 in SRC at version 9, as the workbench of that version wrote it (her card: A was y0)
    const relabelled = `{"preference":{"value":-1,"score_y0":null,"score_y1":null,"raw":null,"shown_first":0,"rationale":"changed","flagged":0,"created_at":"${T}","updated_at":"${T2}"},"principles":[{"principle_id":1,"value":1,"prob_a":null,"prob_b":null,"prob_na":null,"shown_order":1,"raw":null,"created_at":"${T2}"}]}`;
    const raw = await Database.open(src);
    await raw.exec(`BEGIN;
      UPDATE preferences SET value = -1, rationale = 'changed', updated_at = '${T2}' WHERE pair_id = 1 AND annotator_id = 1;
      UPDATE principle_preferences SET value = 1, created_at = '${T2}' WHERE pair_id = 1 AND annotator_id = 1;
      INSERT INTO label_history (id, annotator_id, pair_id, action, before_state, after_state, undone, created_at)
        VALUES (3, 1, 1, 'submit', '${ALICE_LABEL}', '${relabelled}', 0, '${T2}');
      COMMIT;`);
    await raw.close();
    const [s, d] = [await openSqliteStore(src), await openSqliteStore(dst)];
    try {
      // SRC's history holds DST's label (migrated alike), so SRC's is its next version: copied, no conflict
      const r = await syncStores(s, d);
      expect(r.conflicts).toEqual([]);
      expect([r.copied.preferences, r.copied.principle_preferences]).toEqual([1, 1]);
      expect(await d.labelState(1, 1)).toEqual(await s.labelState(1, 1));
      expect((await d.labelState(1, 1)).principles[0]).toMatchObject({ value: 1, shown_first: 0 });
      expect((await syncStores(s, d)).copied).toMatchObject({ preferences: 0, principle_preferences: 0 });
    } finally {
      await s.close();
      await d.close();
    }
  });
});

describe('a file whose overlap trigger the sqlite3 build wrote (migration 9 in SQLite 3.48 syntax)', () => {
  // The trigger exactly as commit 4f053c9's migration 9 wrote it: RAISE with an expression as its message,
  // which SQLite reads only from 3.48 on; libsql's SQLite (3.45.1) cannot read such a file's schema at all.
  const OLD_TRIGGER = `CREATE TRIGGER preferences_overlap BEFORE INSERT ON preferences
  WHEN (SELECT d.overlap FROM pairs p JOIN datasets d ON d.id = p.dataset_id WHERE p.id = NEW.pair_id) IS NOT NULL
    AND (SELECT kind FROM annotators WHERE id = NEW.annotator_id) = 'human'
  BEGIN
    SELECT RAISE(ABORT, 'discretion: overlap ' || p.idx || ' ' || d.overlap) FROM pairs p JOIN datasets d ON d.id = p.dataset_id
    WHERE p.id = NEW.pair_id
      AND NOT EXISTS (SELECT 1 FROM preferences x WHERE x.pair_id = NEW.pair_id AND x.annotator_id = NEW.annotator_id)
      AND (SELECT COUNT(*) FROM human_labels hl WHERE hl.pair_id = NEW.pair_id) >= d.overlap;
  END`;

  it('opens: the trigger is written again in the syntax both read, every row is kept, and the overlap rule holds', async () => {
    const path = join(tempDir(), 'old-trigger.db');
    const before = await databaseAtVersion(path, SCHEMA_VERSION);
    // the file as the sqlite3 build left it: its trigger text, and no overlap_refusals table
    const raw = await Database.open(path);
    await raw.exec('DROP TABLE overlap_refusals; PRAGMA writable_schema = ON');
    await raw.run("UPDATE sqlite_schema SET sql = ? WHERE type = 'trigger' AND name = 'preferences_overlap'", [
      OLD_TRIGGER,
    ]);
    await raw.exec('PRAGMA writable_schema = OFF');
    await raw.close();
    const check = await Database.open(path, 'readonly');
    await expect(check.get('SELECT COUNT(*) AS n FROM pairs')).rejects.toThrow(
      /malformed database schema \(preferences_overlap\)/,
    );
    await check.close();

    const store = await openSqliteStore(path);
    try {
      const trigger = await store.db.get<{ sql: string }>(
        "SELECT sql FROM sqlite_schema WHERE type = 'trigger' AND name = 'preferences_overlap'",
      );
      expect(trigger!.sql).toContain("RAISE(FAIL, 'discretion: overlap')");
      expect(await store.checkIntegrity()).toEqual([]);
      const after = await store.dumpTables();
      delete before.overlap_refusals;
      for (const [table, rows] of Object.entries(before)) expect(after[table], table).toEqual(rows);
      expect(after.overlap_refusals).toEqual([]);
      // pair row 1 of 'old' holds alice's human label (MIGRATION_ROWS[1]); with overlap 1 the trigger refuses another's
      await store.db.run("UPDATE datasets SET overlap = 1 WHERE name = 'old'");
      const bob = await store.write((tx) => tx.ensureAnnotator('bob-overlap', 'human', null));
      await expect(
        store.db.run(
          "INSERT INTO preferences (pair_id, annotator_id, value, shown_first, rationale, flagged, created_at, updated_at) VALUES (1, ?, -1, 0, '', 0, 'T', 'T')",
          [bob.id],
        ),
      ).rejects.toThrow(/discretion: overlap/);
      expect(await store.db.all('SELECT pair_idx, overlap FROM overlap_refusals')).toEqual([
        { pair_idx: 0, overlap: 1 },
      ]);
    } finally {
      await store.close();
    }
  });
});
