// Writers and the SQLite lock: a writer waits for another connection's write lock (beyond SQLite's own
// busy handler, with retries), a lock it cannot get is one clear error naming the database and changes
// nothing, and two connections creating one new database never collide on its schema.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withStore } from '../../src/cli/context';
import { computeMetrics } from '../../src/app/analysis';
import { importDataset } from '../../src/importers/datasets';
import { importLabels } from '../../src/importers/labels';
import { importPrincipleList } from '../../src/importers/principles';
import { StoreBusyError } from '../../src/store';
import { openSqliteStore } from '../../src/store/sqlite/adapter';
import { Database } from '../../src/store/sqlite/driver';
import { SCHEMA_VERSION } from '../../src/store/sqlite/schema';
import { BAD, ROOT, tempDir } from '../support/helpers';

const SAMPLE = join(ROOT, 'media', 'sample', 'safety-pairs.jsonl');
const MAPPING = { prompt: 'prompt', response0: 'response_0', response1: 'response_1', id: 'id' };

/** Another connection (another process, as SQLite sees it) holding the write lock until released. */
async function holdWriteLock(path: string): Promise<{ release: () => Promise<void> }> {
  const other = await Database.open(path);
  await other.exec('BEGIN IMMEDIATE');
  await other.run("INSERT INTO annotators (name, kind, created_at) VALUES ('holder', 'human', 'now')");
  return { release: async () => { await other.exec('COMMIT'); await other.close(); } };
}

describe('the SQLite write lock', () => {
  it('a writer waits past the busy handler (retrying with backoff) and commits after the holder', async () => {
    const path = join(tempDir(), 'wait.db');
    const store = await openSqliteStore(path);
    const lock = await holdWriteLock(path);
    let committed = false;
    const write = store.write((tx) => tx.ensureAnnotator('waiter', 'human', null)).then(() => { committed = true; });
    // SQLite's busy handler gives up after a second; the store must keep trying after that
    await new Promise((r) => setTimeout(r, 1600));
    expect(committed).toBe(false);
    await lock.release();
    await write;
    expect((await store.listAnnotators()).map((a) => a.name)).toEqual(['holder', 'waiter']);
    await store.close();
  });

  it('a lock it cannot get is one clear line naming the database, never "SQLITE_BUSY", and nothing is written', async () => {
    const path = join(tempDir(), 'busy.db');
    const store = await openSqliteStore(path, { lockTimeoutMs: 300 });
    const lock = await holdWriteLock(path);
    const err = await store.write((tx) => tx.ensureAnnotator('late', 'human', null)).catch((e) => e);
    await lock.release();
    expect(err).toBeInstanceOf(StoreBusyError);
    expect(err.message).toMatch(new RegExp(`^database ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is busy: another process has held its write lock for more than \\d+ s; nothing was written`));
    expect(err.message).not.toMatch(/SQLITE_BUSY/);
    expect(err.message.split('\n')).toHaveLength(1);
    expect((await store.listAnnotators()).map((a) => a.name)).toEqual(['holder']);
    await store.close();
  });

  it('two connections creating one new database at once both open it, migrated once (20 rounds)', async () => {
    const dir = tempDir();
    for (let round = 0; round < 20; round++) {
      const path = join(dir, `new-${round}.db`);
      const [a, b] = await Promise.all([openSqliteStore(path), openSqliteStore(path)]);
      expect((await a.db.get<{ user_version: number }>('PRAGMA user_version'))!.user_version).toBe(SCHEMA_VERSION);
      await a.write((tx) => tx.createDataset('from-a', 'jsonl', null));
      await b.write((tx) => tx.createDataset('from-b', 'jsonl', null));
      expect((await b.info()).datasets.map((d) => d.name)).toEqual(['from-a', 'from-b']);
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('a command on a new database path (withStore)', () => {
  const good = (path: string) => withStore(path, (s) => importDataset(s, { format: 'jsonl', file: SAMPLE, dataset: 'good', mapping: MAPPING }));
  const failing = (path: string) => withStore(path, (s) => importDataset(s, { format: 'hh-rlhf', file: join(BAD, 'hh-missing-field.jsonl'), dataset: 'bad' }));

  it('a good and a failing import racing on a new path: the good one is never lost, the failing one leaves nothing (100 rounds)', async () => {
    const dir = tempDir();
    for (let round = 0; round < 100; round++) {
      const path = join(dir, `race-${round}.db`);
      // alternate which starts first
      const [g, f] = round % 2 ? await Promise.allSettled([good(path), failing(path)]) : (await Promise.allSettled([failing(path), good(path)])).reverse();
      expect(g.status, `round ${round}`).toBe('fulfilled');
      expect(f.status, `round ${round}`).toBe('rejected');
      const store = await openSqliteStore(path);
      expect((await store.info()).datasets.map((d) => [d.name, d.pairs]), `round ${round}`).toEqual([['good', 30]]);
      await store.close();
    }
    // no private new-database files left behind
    expect(readdirSync(dir).filter((f) => f.includes('.new-'))).toEqual([]);
  }, 120_000);

  it('two good imports racing on a new path both land in it', async () => {
    const dir = tempDir();
    for (let round = 0; round < 10; round++) {
      const path = join(dir, `two-${round}.db`);
      await Promise.all([
        withStore(path, (s) => importDataset(s, { format: 'jsonl', file: SAMPLE, dataset: 'one', mapping: MAPPING })),
        withStore(path, (s) => importDataset(s, { format: 'jsonl', file: SAMPLE, dataset: 'two', mapping: MAPPING })),
      ]);
      const store = await openSqliteStore(path);
      expect((await store.info()).datasets.map((d) => d.name).sort()).toEqual(['one', 'two']);
      await store.close();
    }
  }, 60_000);

  it('a failing command on a new path leaves no file, and an existing database is never removed', async () => {
    const path = join(tempDir(), 'kept.db');
    await expect(failing(path)).rejects.toThrow(/field "rejected": missing/);
    expect(existsSync(path)).toBe(false);
    await good(path);
    await expect(failing(path)).rejects.toThrow(/field "rejected": missing/);
    expect(existsSync(path)).toBe(true);
  });
});

describe('computed results and a lock that cannot be had', () => {
  it('a metric run whose save cannot get the lock keeps its results for the caller to print, and says why', async () => {
    const path = join(tempDir(), 'metrics.db');
    const store = await openSqliteStore(path, { lockTimeoutMs: 300 });
    await importDataset(store, { format: 'jsonl', file: SAMPLE, dataset: 'sample', mapping: MAPPING });
    await importPrincipleList(store, { file: join(ROOT, 'media', 'principles', 'demo-safety.yaml'), name: 'demo' });
    for (const a of ['alice', 'bilal']) await importLabels(store, { file: join(ROOT, 'media', 'sample', `labels-${a}.jsonl`), dataset: 'sample', principles: 'demo', annotator: a });
    const lock = await holdWriteLock(path);
    const c = await computeMetrics(store, { dataset: 'sample', principles: 'demo', principleSource: 'majority', reference: 'alice', bootstrap: 0, daBootstrap: 0 }, { save: true });
    await lock.release();
    expect(c.unsaved).toBeInstanceOf(StoreBusyError);
    expect(c.runId).toBeUndefined();
    expect(c.result.annotators.map((a) => a.name).sort()).toEqual(['alice', 'bilal']);
    expect(await store.listMetricRuns()).toEqual([]);
    await store.close();
  });
});
