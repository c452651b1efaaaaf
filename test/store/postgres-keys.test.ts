// PostgreSQL's foreign keys of pairs and preferences, checked once per statement (migration 12, issue 22):
// the same rule as the per-row constraints they replace, for every client. An insert naming a missing row is
// refused with PostgreSQL's own error (its text as ri_triggers.c's ri_ReportViolation writes it, which the
// declarative constraints gave before); rows committed by others are locked until the insert commits (a delete
// waits), rows the inserting transaction wrote itself take no lock; a delete racing an insert leaves nothing
// pointing at nothing; deletes cascade, referenced ids cannot change, TRUNCATE takes the referencing table
// along. And a bulk import that fails in its last batch leaves the database exactly as it was.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { importDataset } from '../../src/importers/datasets';
import { openStore, type Store } from '../../src/store';
import { expectRejected, tempDir } from '../support/helpers';
import { freshPostgresDatabase } from '../support/postgres';

const server = inject('postgres');
const skip = 'skip' in server ? server.skip : undefined;

const T = '2026-01-01T00:00:00.000Z';
const MAPPING = {
  prompt: 'prompt',
  response0: 'response_0',
  response1: 'response_1',
  id: 'id',
  preferred: 'preferred',
};

/** A pg error's fields, or undefined when the promise resolved. */
async function failure(
  p: Promise<unknown>,
): Promise<{ code?: string; message: string; detail?: string; constraint?: string }> {
  return p.then(
    () => {
      throw new Error('expected the statement to fail');
    },
    (e: { code?: string; message: string; detail?: string; constraint?: string }) => ({
      code: e.code,
      message: e.message,
      detail: e.detail,
      constraint: e.constraint,
    }),
  );
}

const pairsSql = (dataset: number, from: number, to: number) =>
  `INSERT INTO pairs (id, dataset_id, idx, source_id, prompt, y0, y1) SELECT g, ${dataset}, g, 's' || g, 'p', 'a', 'b' FROM generate_series(${from}, ${to}) g`;
const prefsSql = (annotator: number, ids: string) =>
  `INSERT INTO preferences (pair_id, annotator_id, value, flagged, created_at, updated_at) SELECT g, ${annotator}, 1, 0, '${T}', '${T}' FROM ${ids}`;

describe.skipIf(skip)('PostgreSQL: the foreign keys of pairs and preferences, checked per statement', () => {
  let url: string;
  const clients: pg.Client[] = [];
  const connect = async () => {
    const c = new pg.Client({ connectionString: url });
    c.on('error', () => undefined);
    await c.connect();
    clients.push(c);
    return c;
  };
  let dataset: number;
  let annotator: number;

  beforeAll(async () => {
    url = await freshPostgresDatabase('url' in server ? server.url : '');
    await (await openStore(url)).close(); // migrated to the current schema
    const c = await connect();
    dataset = (
      await c.query(`INSERT INTO datasets (name, format, created_at) VALUES ('d', 'jsonl', '${T}') RETURNING id`)
    ).rows[0].id;
    annotator = (
      await c.query(`INSERT INTO annotators (name, kind, created_at) VALUES ('alice', 'human', '${T}') RETURNING id`)
    ).rows[0].id;
    await c.query(pairsSql(dataset, 1, 1000));
  });
  afterAll(async () => {
    for (const c of clients) await c.end().catch(() => undefined);
  });

  it("refuses an insert that names a missing row, one row or hundreds, with PostgreSQL's own error, and writes nothing", async () => {
    const c = await connect();
    const before = (await c.query('SELECT (SELECT count(*) FROM pairs) AS p, (SELECT count(*) FROM preferences) AS q'))
      .rows[0];
    expect(await failure(c.query(pairsSql(dataset + 99, 5001, 5001)))).toEqual({
      code: '23503',
      message: 'insert or update on table "pairs" violates foreign key constraint "pairs_dataset_id_fkey"',
      detail: `Key (dataset_id)=(${dataset + 99}) is not present in table "datasets".`,
      constraint: 'pairs_dataset_id_fkey',
    });
    expect(await failure(c.query(prefsSql(annotator + 99, 'generate_series(1, 200) g')))).toMatchObject({
      code: '23503',
      detail: `Key (annotator_id)=(${annotator + 99}) is not present in table "annotators".`,
      constraint: 'preferences_annotator_id_fkey',
    });
    // one row (locked directly); 200 ids without a gap, the last one missing (the range scan); with gaps (the join)
    for (const [ids, missing] of [
      ['(VALUES (1001)) v(g)', 1001],
      ['generate_series(801, 1001) g', 1001],
      ['generate_series(1, 1999, 3) g', 1003],
    ] as const) {
      expect(await failure(c.query(prefsSql(annotator, ids)))).toEqual({
        code: '23503',
        message: 'insert or update on table "preferences" violates foreign key constraint "preferences_pair_id_fkey"',
        detail: `Key (pair_id)=(${missing}) is not present in table "pairs".`,
        constraint: 'preferences_pair_id_fkey',
      });
    }
    expect(
      (await c.query('SELECT (SELECT count(*) FROM pairs) AS p, (SELECT count(*) FROM preferences) AS q')).rows[0],
    ).toEqual(before);
  });

  it('locks the rows others committed until the insert commits, and none of the rows the transaction wrote itself', async () => {
    const a = await connect();
    const b = await connect();
    await b.query("SET lock_timeout = '300ms'");
    // 100 labels of committed pairs: a delete of one of them waits for the insert
    await a.query('BEGIN');
    await a.query(prefsSql(annotator, 'generate_series(101, 200) g'));
    expect((await failure(b.query('DELETE FROM pairs WHERE id = 150'))).code).toBe('55P03'); // lock_not_available
    // pairs written in this transaction (in a savepoint, as the importer's COPY) and 1,000 labels of them:
    // none of those pairs is locked (a locked row's xmax names its locker)
    const own = (
      await a.query(`INSERT INTO datasets (name, format, created_at) VALUES ('own', 'jsonl', '${T}') RETURNING id`)
    ).rows[0].id;
    await a.query(`SAVEPOINT s; ${pairsSql(own, 2001, 3000)}; RELEASE SAVEPOINT s`);
    await a.query(prefsSql(annotator, 'generate_series(2001, 3000) g'));
    expect(
      (await a.query("SELECT count(*)::int AS n FROM pairs WHERE id BETWEEN 2001 AND 3000 AND xmax <> '0'::xid"))
        .rows[0].n,
    ).toBe(0);
    expect(
      (await a.query("SELECT count(*)::int AS n FROM pairs WHERE id BETWEEN 101 AND 200 AND xmax <> '0'::xid")).rows[0]
        .n,
    ).toBe(100);
    await a.query('COMMIT');
    // committed: the delete goes through and takes the label with it
    await b.query('DELETE FROM pairs WHERE id = 150');
    expect((await b.query('SELECT count(*)::int AS n FROM preferences WHERE pair_id = 150')).rows[0].n).toBe(0);
  });

  it("an import in progress holds up no one else's reads or labels, on its annotator's other datasets either", async () => {
    const a = await connect();
    const b = await connect();
    await b.query("SET lock_timeout = '300ms'"); // anything that waited for the import would fail here
    const other = (
      await a.query(`INSERT INTO datasets (name, format, created_at) VALUES ('busy', 'jsonl', '${T}') RETURNING id`)
    ).rows[0].id;
    const carol = (
      await a.query(`INSERT INTO annotators (name, kind, created_at) VALUES ('carol', 'human', '${T}') RETURNING id`)
    ).rows[0].id;
    // the import, as the CLI writes it: alice's (and carol's) labels on a new dataset's pairs, not committed
    await a.query('BEGIN');
    const fresh = (
      await a.query(
        `INSERT INTO datasets (name, format, created_at) VALUES ('importing', 'jsonl', '${T}') RETURNING id`,
      )
    ).rows[0].id;
    await a.query(`SAVEPOINT s; ${pairsSql(fresh, 7001, 9000)}; RELEASE SAVEPOINT s`);
    await a.query(prefsSql(annotator, 'generate_series(7001, 9000) g'));
    await a.query(prefsSql(carol, 'generate_series(7001, 9000) g'));
    await b.query(pairsSql(other, 9001, 9100));
    await b.query(prefsSql(annotator, 'generate_series(9001, 9100) g')); // alice labels another dataset
    await b.query(`UPDATE annotators SET provenance = '{"note":1}' WHERE id = ${annotator}`); // not her id: no wait
    expect((await b.query('SELECT count(*)::int AS n FROM pairs WHERE id BETWEEN 7001 AND 9100')).rows[0].n).toBe(100);
    await a.query('COMMIT');
    expect((await b.query('SELECT count(*)::int AS n FROM pairs WHERE id BETWEEN 7001 AND 9100')).rows[0].n).toBe(2100);
  });

  it('a delete racing an insert leaves nothing pointing at nothing, whichever comes first', async () => {
    const a = await connect();
    const b = await connect();
    const other = (
      await a.query(`INSERT INTO datasets (name, format, created_at) VALUES ('race', 'jsonl', '${T}') RETURNING id`)
    ).rows[0].id;
    // the insert first: the delete waits for its commit, then deletes the pairs it committed
    await a.query('BEGIN');
    await a.query(pairsSql(other, 4001, 4100));
    const deleting = b.query(`DELETE FROM datasets WHERE id = ${other}`);
    await new Promise((r) => setTimeout(r, 200));
    await a.query('COMMIT');
    await deleting;
    expect((await a.query('SELECT count(*)::int AS n FROM pairs WHERE id BETWEEN 4001 AND 4100')).rows[0].n).toBe(0);
    // the delete first: the insert waits for it, then finds the pair gone
    await b.query('BEGIN');
    await b.query('DELETE FROM pairs WHERE id = 300');
    const inserting = failure(a.query(prefsSql(annotator, '(VALUES (300)) v(g)')));
    await new Promise((r) => setTimeout(r, 200));
    await b.query('COMMIT');
    expect(await inserting).toMatchObject({ code: '23503', constraint: 'preferences_pair_id_fkey' });
  });

  it('cascades deletes, refuses changing a referenced id, and TRUNCATE must take the referencing table along', async () => {
    const c = await connect();
    const d2 = (
      await c.query(`INSERT INTO datasets (name, format, created_at) VALUES ('gone', 'jsonl', '${T}') RETURNING id`)
    ).rows[0].id;
    const bob = (
      await c.query(`INSERT INTO annotators (name, kind, created_at) VALUES ('bob', 'human', '${T}') RETURNING id`)
    ).rows[0].id;
    await c.query(pairsSql(d2, 6001, 6100));
    await c.query(prefsSql(bob, 'generate_series(6001, 6100) g'));
    await c.query(prefsSql(bob, 'generate_series(501, 510) g'));
    const count = async (sql: string) => (await c.query(`SELECT count(*)::int AS n FROM ${sql}`)).rows[0].n;
    expect(await failure(c.query(`UPDATE datasets SET id = id + 1000 WHERE id = ${d2}`))).toMatchObject({
      code: '23503',
      message:
        'update or delete on table "datasets" violates foreign key constraint "pairs_dataset_id_fkey" on table "pairs"',
    });
    expect(await failure(c.query('UPDATE preferences SET pair_id = 99999 WHERE pair_id = 501'))).toMatchObject({
      code: '23503',
      constraint: 'preferences_pair_id_fkey',
    });
    expect((await failure(c.query('TRUNCATE pairs CASCADE'))).message).toBe(
      'cannot truncate pairs without preferences (table "preferences" refers to it)',
    );
    await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    expect((await failure(c.query(`DELETE FROM datasets WHERE id = ${d2}`))).code).toBe('0A000');
    await c.query('ROLLBACK');
    await c.query(`DELETE FROM datasets WHERE id = ${d2}`);
    expect([
      await count('pairs WHERE id BETWEEN 6001 AND 6100'),
      await count('preferences WHERE pair_id BETWEEN 6001 AND 6100'),
    ]).toEqual([0, 0]);
    await c.query(`DELETE FROM annotators WHERE id = ${bob}`);
    expect(await count(`preferences WHERE annotator_id = ${bob}`)).toBe(0);
    expect(await count('pairs')).toBeGreaterThan(900); // the other dataset's pairs untouched
  });
});

describe.skipIf(skip)('PostgreSQL: a bulk import that fails in its last batch', () => {
  let store: Store;
  let dir: string;
  beforeAll(async () => {
    store = await openStore(await freshPostgresDatabase('url' in server ? server.url : ''));
    dir = tempDir();
    await importDataset(store, {
      format: 'jsonl',
      file: writeLines('before.jsonl', 50),
      dataset: 'before',
      mapping: MAPPING,
    });
  });
  afterAll(() => store.close());

  /** n generated records (the importer's batches are 5,000 lines), then `last` lines as given. */
  function writeLines(name: string, n: number, last: string[] = []): string {
    const lines = Array.from({ length: n }, (_, i) =>
      JSON.stringify({ id: `g${i}`, prompt: `p${i}`, response_0: 'a', response_1: 'b', preferred: 'y1' }),
    );
    const file = join(dir ?? tempDir(), name);
    writeFileSync(file, [...lines, ...last].join('\n') + '\n');
    return file;
  }

  it('leaves the database exactly as it was (a malformed line, a duplicate id), after two batches were COPYed', async () => {
    const bad = writeLines('bad.jsonl', 12_000, ['{"id": "g12000",']);
    await expectRejected(
      store,
      () => importDataset(store, { format: 'jsonl', file: bad, dataset: 'x', mapping: MAPPING }),
      {
        file: bad,
        line: 12_001,
        message: /malformed JSON/,
      },
    );
    const dup = writeLines('dup.jsonl', 12_000, [
      JSON.stringify({ id: 'g3', prompt: 'p', response_0: 'a', response_1: 'b', preferred: 'y0' }),
    ]);
    await expectRejected(
      store,
      () => importDataset(store, { format: 'jsonl', file: dup, dataset: 'x', mapping: MAPPING }),
      {
        file: dup,
        line: 12_001,
        field: 'id',
        message: /duplicate id "g3" \(first on line 4\)/,
      },
    );
    // and the same file without its bad line goes in whole
    const good = writeLines('good.jsonl', 12_000);
    expect(
      (await importDataset(store, { format: 'jsonl', file: good, dataset: 'x', mapping: MAPPING })).counts,
    ).toEqual({ pairs: 12_000, preferences: 12_000 });
  });
});
