// Migration 4 (annotator groups, the ensemble kind) rebuilds the annotators table: a database written
// at schema version 3 must keep every annotator and every row that refers to one (a DROP with the
// foreign keys on would cascade and delete them all).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/adapter';
import { Database } from '../../src/store/sqlite/driver';
import { MIGRATIONS } from '../../src/store/sqlite/schema';
import { tempDir } from '../support/helpers';

describe('migration 4: annotator groups and the ensemble kind', () => {
  it('keeps annotators, preferences and principle preferences of a version-3 database; groups start empty', async () => {
    const path = join(tempDir(), 'v3.db');
    const db = await Database.open(path);
    await db.exec('PRAGMA foreign_keys = ON');
    for (let v = 0; v < 3; v++) await db.exec(`${MIGRATIONS[v]}; PRAGMA user_version = ${v + 1};`);
    const t = '2026-01-01T00:00:00Z';
    await db.exec(`
      INSERT INTO datasets (id, name, format, created_at) VALUES (1, 'd', 'jsonl', '${t}');
      INSERT INTO pairs (id, dataset_id, idx, source_id, prompt, y0, y1) VALUES (1, 1, 0, 's0', 'p', 'a', 'b'), (2, 1, 1, 's1', 'p', 'c', 'd');
      INSERT INTO principle_lists (id, name, version, content_hash, created_at) VALUES (1, 'l', 1, 'h', '${t}');
      INSERT INTO principles (id, list_id, position, key, short, text) VALUES (1, 1, 0, 'p0', 's', 't');
      INSERT INTO annotators (id, name, kind, provenance, created_at) VALUES (1, 'human', 'human', NULL, '${t}'), (7, 'rm', 'reward-model', '{"source":"f.csv"}', '${t}');
      INSERT INTO preferences (pair_id, annotator_id, value, score_y0, score_y1, created_at, updated_at) VALUES (1, 1, 1, NULL, NULL, '${t}', '${t}'), (2, 7, -1, 0.5, 0.25, '${t}', '${t}');
      INSERT INTO principle_preferences (pair_id, annotator_id, principle_id, value, created_at) VALUES (1, 1, 1, -1, '${t}');
    `);
    await db.close();

    const store = await openSqliteStore(path);
    try {
      expect((await store.db.get<{ user_version: number }>('PRAGMA user_version'))!.user_version).toBe(
        MIGRATIONS.length,
      );
      expect(await store.listAnnotators()).toEqual([
        { id: 1, name: 'human', kind: 'human', provenance: null, group: null },
        { id: 7, name: 'rm', kind: 'reward-model', provenance: { source: 'f.csv' }, group: null },
      ]);
      expect(
        await store.db.all('SELECT pair_id, annotator_id, value, score_y0, score_y1 FROM preferences ORDER BY pair_id'),
      ).toEqual([
        { pair_id: 1, annotator_id: 1, value: 1, score_y0: null, score_y1: null },
        { pair_id: 2, annotator_id: 7, value: -1, score_y0: 0.5, score_y1: 0.25 },
      ]);
      expect(await store.db.all('SELECT pair_id, annotator_id, value FROM principle_preferences')).toEqual([
        { pair_id: 1, annotator_id: 1, value: -1 },
      ]);
      // The foreign keys are on again and point at the rebuilt table.
      expect((await store.db.get<{ foreign_keys: number }>('PRAGMA foreign_keys'))!.foreign_keys).toBe(1);
      await expect(
        store.db.run(
          `INSERT INTO preferences (pair_id, annotator_id, value, created_at, updated_at) VALUES (1, 99, 1, '${t}', '${t}')`,
        ),
      ).rejects.toThrow(/FOREIGN KEY/);
      // The new kind and the group column.
      await store.write((tx) => tx.ensureAnnotator('ens', 'ensemble', null));
      await store.write((tx) => tx.setAnnotatorGroup(['human', 'rm'], 'EU'));
      expect((await store.listAnnotators()).map((a) => [a.name, a.kind, a.group])).toEqual([
        ['human', 'human', 'EU'],
        ['rm', 'reward-model', 'EU'],
        ['ens', 'ensemble', null],
      ]);
      await expect(store.write((tx) => tx.setAnnotatorGroup(['human', 'nobody'], 'US'))).rejects.toThrow(
        /unknown annotator "nobody"/,
      );
      expect((await store.listAnnotators()).map((a) => a.group)).toEqual(['EU', 'EU', null]);
    } finally {
      await store.close();
    }
  });
});
