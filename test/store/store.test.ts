import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors';
import { Database } from '../../src/store/sqlite/driver';
import { SCHEMA_VERSION } from '../../src/store/sqlite/schema';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/adapter';
import { dumpDatabase, openTempStore, tempDir } from '../support/helpers';

describe('SqliteStore', () => {
  it('migrates a new file to the current schema with WAL and foreign keys on', async () => {
    const { store } = await openTempStore();
    expect((await store.db.get<{ user_version: number }>('PRAGMA user_version'))!.user_version).toBe(SCHEMA_VERSION);
    expect((await store.db.get<{ journal_mode: string }>('PRAGMA journal_mode'))!.journal_mode).toBe('wal');
    expect((await store.db.get<{ foreign_keys: number }>('PRAGMA foreign_keys'))!.foreign_keys).toBe(1);
    await expect(
      store.db.run(
        "INSERT INTO pairs (dataset_id, idx, source_id, prompt, y0, y1) VALUES (999, 0, '0', 'p', 'a', 'b')",
      ),
    ).rejects.toThrow(/FOREIGN KEY/);
    await store.close();
  });

  it('refuses a database written by a newer schema, with a clear message, and leaves it alone', async () => {
    const path = join(tempDir(), 'newer.db');
    const raw = await Database.open(path);
    await raw.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 5}`);
    await raw.close();
    const err = await openSqliteStore(path).catch((e) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toMatch(
      new RegExp(
        `newer Discretion Workbench \\(schema version ${SCHEMA_VERSION + 5}; this version reads up to ${SCHEMA_VERSION}\\)`,
      ),
    );
    const again = await Database.open(path);
    expect((await again.get<{ user_version: number }>('PRAGMA user_version'))!.user_version).toBe(SCHEMA_VERSION + 5);
    await again.close();
  });

  it('rolls a failed write back completely', async () => {
    const { store } = await openTempStore();
    const before = await dumpDatabase(store);
    await expect(
      store.write(async (tx) => {
        const id = await tx.createDataset('d', 'jsonl', null);
        await tx.insertPairs(id, [{ idx: 0, sourceId: '0', prompt: 'p', y0: 'a', y1: 'b' }], [1]);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await dumpDatabase(store)).toEqual(before);
    await store.close();
  });

  it('switches foreign-key checks off only for a bulk write that asks, and back on after it, failed or not', async () => {
    const { store } = await openTempStore();
    const fk = async () => (await store.db.get<{ foreign_keys: number }>('PRAGMA foreign_keys'))!.foreign_keys;
    let inside = -1;
    await store.write(
      async () => {
        inside = await fk();
      },
      { checkForeignKeys: false },
    );
    expect(inside).toBe(0);
    expect(await fk()).toBe(1);
    await expect(
      store.write(
        async () => {
          throw new Error('boom');
        },
        { checkForeignKeys: false },
      ),
    ).rejects.toThrow('boom');
    expect(await fk()).toBe(1);
    // an ordinary write after a bulk one still enforces them
    await expect(
      store.write(() =>
        store.db.run(
          "INSERT INTO pairs (dataset_id, idx, source_id, prompt, y0, y1) VALUES (999, 0, '0', 'p', 'a', 'b')",
        ),
      ),
    ).rejects.toThrow(/FOREIGN KEY/);
    await store.close();
  });

  it('keeps bulk inserts on one table in the order queued, even when the later one is of a shape already prepared', async () => {
    const { store } = await openTempStore();
    const withMeta = (pairIdx: number, sourceId: string) => ({
      idx: pairIdx,
      sourceId,
      prompt: 'p',
      y0: 'a',
      y1: 'b',
      meta: { k: pairIdx },
    });
    // prepares the "meta varies" statement, so below it could run at once while the other shape is still being prepared
    await store.write(async (tx) => {
      const warm = await tx.createDataset('warm', 'jsonl', null);
      await tx.insertPairs(warm, [withMeta(0, 'w0'), withMeta(1, 'w1')], [100, 101]);
    });
    await store.write(async (tx) => {
      const id = await tx.createDataset('d', 'jsonl', null);
      const first = tx.insertPairs(
        id,
        [
          { idx: 0, sourceId: 'x', prompt: 'p', y0: 'a', y1: 'b' },
          { idx: 1, sourceId: 'y', prompt: 'p', y0: 'a', y1: 'b' },
        ],
        [1, 2],
      );
      const second = tx.insertPairs(id, [withMeta(2, 'x'), withMeta(3, 'z')], [3, 4]);
      expect(await first).toEqual([]);
      // "x" is kept from the first batch (line 1); the second batch's "x" is the duplicate
      expect((await second).map((d) => [d.pair.idx, d.firstIdx])).toEqual([[2, 0]]);
    });
    await store.close();
  });

  it("counts an annotator's labels through the by-annotator index, not by probing every pair of the dataset", async () => {
    const { store } = await openTempStore();
    // the query of labelledCount (run after every card), as SQLite plans it
    const plan = await store.db.all<{ detail: string }>(
      'EXPLAIN QUERY PLAN SELECT COUNT(*) AS n FROM preferences pr JOIN pairs p ON p.id = pr.pair_id WHERE p.dataset_id = ? AND pr.annotator_id = ?',
      [1, 1],
    );
    expect(plan.map((r) => r.detail).join(' | ')).toMatch(
      /SEARCH pr USING COVERING INDEX preferences_by_annotator \(annotator_id=\?\)/,
    );
    await store.close();
  });

  it('serialises writers from two connections on one file (two windows) without losing either', async () => {
    const path = join(tempDir(), 'shared.db');
    const a = await openSqliteStore(path);
    const b = await openSqliteStore(path);
    const write = (s: SqliteStore, name: string) =>
      s.write(async (tx) => {
        const id = await tx.createDataset(name, 'jsonl', null);
        const base = await tx.nextPairRowId();
        await tx.insertPairs(
          id,
          Array.from({ length: 500 }, (_, i) => ({ idx: i, sourceId: String(i), prompt: 'p', y0: 'a', y1: 'b' })),
          Array.from({ length: 500 }, (_, i) => base + i),
        );
      });
    await Promise.all([write(a, 'from-a'), write(b, 'from-b')]);
    const info = await a.info();
    expect(info.datasets.map((d) => [d.name, d.pairs]).sort()).toEqual([
      ['from-a', 500],
      ['from-b', 500],
    ]);
    expect((await a.db.get<{ integrity_check: string }>('PRAGMA integrity_check'))!.integrity_check).toBe('ok');
    await a.close();
    await b.close();
  });

  it('versions principle lists by content', async () => {
    const { store } = await openTempStore();
    const one = [{ id: 'a', short: 'A', text: 'Be kind.' }];
    const v1 = await store.write((tx) => tx.savePrincipleList('l', one, null));
    const again = await store.write((tx) => tx.savePrincipleList('l', one, null));
    const v2 = await store.write((tx) =>
      tx.savePrincipleList('l', [...one, { id: 'b', short: 'B', text: 'Be honest.' }], null),
    );
    expect([v1.list.version, again.created, v2.list.version]).toEqual([1, false, 2]);
    expect((await store.requirePrincipleList('l')).principles).toHaveLength(2);
    expect((await store.requirePrincipleList('l@1')).principles).toHaveLength(1);
    await expect(store.requirePrincipleList('nope')).rejects.toThrow(/unknown principle list "nope" \(known: l\)/);
    await store.close();
  });
});

describe('the store port', () => {
  it('offers writes only on the transaction handle that write passes to its callback', async () => {
    const { store } = await openTempStore();
    // @ts-expect-error writes exist only on the transaction: "call inside write" is a type
    expect(typeof store.createDataset).toBe('undefined');
    const id = await store.write((tx) => tx.createDataset('d', 'jsonl', null));
    expect((await store.requireDataset('d')).id).toBe(id);
    await store.close();
  });

  it('names what the database holds when a lookup misses, one helper for datasets, lists and annotators', async () => {
    const { store } = await openTempStore();
    await expect(store.requireDataset('x')).rejects.toThrow(
      /^unknown dataset "x" \(the database holds no datasets yet\)$/,
    );
    await expect(store.requireAnnotator('x')).rejects.toThrow(
      /^unknown annotator "x" \(the database holds no annotators yet\)$/,
    );
    await store.write(async (tx) => {
      await tx.createDataset('b', 'jsonl', null);
      await tx.createDataset('a', 'jsonl', null);
      await tx.ensureAnnotator('zoe', 'human', null);
    });
    await expect(store.requireDataset('x')).rejects.toThrow(/^unknown dataset "x" \(known: a, b\)$/);
    await expect(store.requireAnnotator('x')).rejects.toThrow(/^unknown annotator "x" \(known: zoe\)$/);
    await store.close();
  });
});
