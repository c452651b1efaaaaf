// Store.watchChanges on both adapters: a write committed on another connection reaches the watcher (on
// PostgreSQL by LISTEN/NOTIFY at once, with a poll interval far too long to be the cause; on SQLite by
// polling), a rolled-back write is never heard, a lost LISTEN connection falls back to polling and listens
// again, and dispose stops it.
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { saveLabel, undoLastLabel } from '../../src/app/workbench';
import { openStore, type Store } from '../../src/store';
import { tempDir } from '../support/helpers';
import { freshPostgresDatabase } from '../support/postgres';

const server = inject('postgres');
const pgSkip = 'skip' in server ? server.skip : undefined;

/** Resolves with the tables of the first call after the first `seen` calls, or 'timeout' after `ms`. */
function nextChange(
  calls: (string[] | undefined)[],
  seen: number,
  ms: number,
): Promise<string[] | undefined | 'timeout'> {
  const started = Date.now();
  return new Promise((resolve) => {
    const t = setInterval(() => {
      if (calls.length > seen) {
        clearInterval(t);
        resolve(calls[seen]);
      } else if (Date.now() - started > ms) {
        clearInterval(t);
        resolve('timeout');
      }
    }, 10);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('watchChanges: SQLite', () => {
  it("hears another connection's commit by polling, not its own writes, and stops at dispose", async () => {
    const file = join(tempDir(), 'watch.db');
    const mine = await openStore(file);
    const other = await openStore(file);
    try {
      const calls: (string[] | undefined)[] = [];
      let seen: number;
      const w = mine.watchChanges((t) => calls.push(t), 100);
      await sleep(250); // the first poll has read the version
      seen = calls.length;
      await mine.write((tx) => tx.createDataset('own', 'jsonl', null));
      expect(await nextChange(calls, seen, 600)).toBe('timeout'); // this connection's own write is not "another's"
      const t0 = Date.now();
      seen = calls.length;
      await other.write((tx) => tx.createDataset('theirs', 'jsonl', null));
      expect(await nextChange(calls, seen, 3000)).toBeUndefined(); // heard; SQLite cannot say which tables
      expect(Date.now() - t0).toBeLessThan(3000);
      w.dispose();
      const n = calls.length;
      await other.write((tx) => tx.createDataset('later', 'jsonl', null));
      await sleep(400);
      expect(calls.length).toBe(n);
    } finally {
      await mine.close();
      await other.close();
    }
  });
});

describe.skipIf(pgSkip)('watchChanges: PostgreSQL', () => {
  const open: Store[] = [];
  afterAll(async () => {
    for (const s of open.splice(0)) await s.close().catch(() => undefined);
  });
  const two = async () => {
    const url = await freshPostgresDatabase('url' in server ? server.url : '');
    const a = await openStore(url);
    const b = await openStore(url);
    open.push(a, b);
    return { url, a, b };
  };
  /** The listen connection of this database is up (pg_stat_activity). */
  const listening = async (s: Store, db: string) => {
    const { default: pg } = await import('pg');
    const c = new pg.Client({ connectionString: 'url' in server ? server.url : '' });
    await c.connect();
    try {
      return (
        await c.query(
          "SELECT pid FROM pg_stat_activity WHERE application_name = 'discretion-listen' AND datname = $1",
          [db],
        )
      ).rows.map((r: { pid: number }) => r.pid);
    } finally {
      await c.end();
    }
  };
  const waitFor = async (cond: () => Promise<boolean>, ms: number) => {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (await cond()) return true;
      await sleep(50);
    }
    return false;
  };

  it("hears another connection's commit by NOTIFY within a second (poll interval 10 minutes), with the tables it changed; never a rollback", async () => {
    const { url, a, b } = await two();
    const db = new URL(url).pathname.slice(1);
    const calls: (string[] | undefined)[] = [];
    let seen: number;
    const w = a.watchChanges((t) => calls.push(t), 600_000);
    expect(await waitFor(async () => (await listening(a, db)).length === 1, 5000)).toBe(true);
    let t0 = Date.now();
    seen = calls.length;
    await b.write((tx) => tx.createDataset('d', 'jsonl', null));
    expect(await nextChange(calls, seen, 1000)).toEqual(['datasets']);
    expect(Date.now() - t0).toBeLessThan(1000);
    // a write that fails is rolled back: nothing is heard
    seen = calls.length;
    await expect(
      b.write(async (tx) => {
        await tx.createDataset('e', 'jsonl', null);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow(/changed my mind/);
    expect(await nextChange(calls, seen, 700)).toBe('timeout');
    // a label: the tables it wrote, by name
    const ds = (await b.getDataset('d'))!;
    t0 = Date.now();
    seen = calls.length;
    await b.write(async (tx) => {
      const first = await tx.nextPairRowId();
      await tx.insertPairs(ds.id, [{ idx: 0, sourceId: 's0', prompt: 'p', y0: 'a', y1: 'b' }], [first]);
      await tx.ensureAnnotator('alice', 'human', null);
    });
    // the tables written, sorted (insertPairs may also update bookkeeping on its dataset's row)
    const tables = await nextChange(calls, seen, 1000);
    expect(tables).toEqual(expect.arrayContaining(['annotators', 'pairs']));
    expect(tables).toEqual([...(tables as string[])].sort());
    expect((tables as string[]).every((t) => ['annotators', 'pairs', 'datasets'].includes(t))).toBe(true);
    expect(Date.now() - t0).toBeLessThan(1500);
    // a claim: the claims table only (told from the claim's own statements)
    const alice = (await b.getAnnotator('alice'))!;
    seen = calls.length;
    await b.write((tx) => tx.setWorkSplit(ds.id, { overlap: 1, assignment: 'fixed', seed: 0 }));
    expect(await nextChange(calls, seen, 1000)).toEqual(['datasets', 'pairs']); // the split, and each pair's claim rank
    seen = calls.length;
    expect(await b.claimNextPair(ds.id, alice.id, Date.now(), 60_000)).toBe(0);
    expect(await nextChange(calls, seen, 1000)).toEqual(['claims']);
    // a label, then its undo (a delete of a preference, which fires the claim-floor trigger: named from the
    // server's statistics instead), each naming preferences
    const pair = (await b.pairRowIds(ds.id)).get(0)!;
    seen = calls.length;
    await saveLabel(b, alice.id, pair, {
      value: 1,
      raw: null,
      shownFirst: 0,
      rationale: '',
      flagged: false,
      principles: [],
    });
    expect(await nextChange(calls, seen, 1000)).toEqual(expect.arrayContaining(['label_history', 'preferences']));
    seen = calls.length;
    expect(await undoLastLabel(b, alice.id, ds.id)).toBe(0);
    expect(await nextChange(calls, seen, 1000)).toEqual(expect.arrayContaining(['label_history', 'preferences']));
    w.dispose();
    expect(await waitFor(async () => (await listening(a, db)).length === 0, 5000)).toBe(true);
    const n = calls.length;
    await b.write((tx) => tx.createDataset('f', 'jsonl', null));
    await sleep(500);
    expect(calls.length).toBe(n);
  });

  it('falls back to polling when its connection is cut, and listens again', async () => {
    const { url, a, b } = await two();
    const db = new URL(url).pathname.slice(1);
    const calls: (string[] | undefined)[] = [];
    let seen: number;
    const w = a.watchChanges((t) => calls.push(t), 200);
    try {
      expect(await waitFor(async () => (await listening(a, db)).length === 1, 5000)).toBe(true);
      const [pid] = await listening(a, db);
      // the server drops the listen connection (as a restart or a network cut would)
      const { default: pg } = await import('pg');
      const admin = new pg.Client({ connectionString: 'url' in server ? server.url : '' });
      await admin.connect();
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      await admin.end();
      // a new listen connection is back within a few polls, under a new backend
      expect(
        await waitFor(async () => {
          const pids = await listening(a, db);
          return pids.length === 1 && pids[0] !== pid;
        }, 5000),
      ).toBe(true);
      const t0 = Date.now();
      seen = calls.length;
      await b.write((tx) => tx.createDataset('after', 'jsonl', null));
      expect(await nextChange(calls, seen, 1000)).toEqual(['datasets']); // by NOTIFY again (polling names no tables)
      expect(Date.now() - t0).toBeLessThan(1000);
    } finally {
      w.dispose();
    }
  });

  it('polls while the listen connection cannot be had: a write then is heard by the stamp', async () => {
    const { a, b } = await two();
    const calls: (string[] | undefined)[] = [];
    let seen: number;
    // a watcher whose LISTEN cannot connect (a port nothing listens on) but whose stamp reads the real server:
    // the store's own watchChanges with the listen connection cut at every try
    const { watchPostgres } = await import('../../src/store/postgres/listen');
    const w = watchPostgres(
      { connectionString: 'postgres://nobody@127.0.0.1:1/none', connectionTimeoutMillis: 200 },
      () => a.changeStamp(),
      (t) => calls.push(t),
      100,
      { notify: async () => undefined },
    );
    try {
      await sleep(300);
      seen = calls.length;
      await b.write((tx) => tx.createDataset('polled', 'jsonl', null));
      expect(await nextChange(calls, seen, 3000)).toBeUndefined();
    } finally {
      w.dispose();
    }
  });
});
