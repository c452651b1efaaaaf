// `discretion sync` through the real CLI: two annotators' SQLite files merged into an empty SQLite file (a
// team without a server) and into a PostgreSQL database of the run's test server; a second run copies
// nothing; each conflict kind is listed; bad input is one line and leaves DST as it was. Every expected
// count is worked out by hand from the files written below.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { syncStores } from '../../src/app/sync';
import { saveLabel, undoLastLabel } from '../../src/app/workbench';
import { openStore, type Store } from '../../src/store';
import { ROOT, tempDir } from '../support/helpers';
import { freshPostgresDatabase, pgEnv, urlWithoutPassword, urlWithPassword } from '../support/postgres';

const BIN = join(ROOT, 'bin', 'discretion.js');
// the CLI refuses a password in --db: the test server's database goes by its URL without one, the password in PGPASSWORD
const server = inject('postgres');
const run = (args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    cwd: ROOT,
    env: { ...pgEnv(server), NO_COLOR: '1' },
  });
const PRINCIPLES = join(ROOT, 'media', 'principles', 'demo-safety.yaml');

function ok(args: string[]): string {
  const r = run(args);
  expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}
const sync = (from: string, to: string, extra: string[] = []) =>
  JSON.parse(ok(['sync', '--from', from, '--to', to, '--json', ...extra]));
const counts = (
  datasets: number,
  pairs: number,
  principle_lists: number,
  annotators: number,
  preferences: number,
  principle_preferences: number,
  metric_runs: number,
) => ({ datasets, pairs, principle_lists, annotators, preferences, principle_preferences, metric_runs });
const ZERO = counts(0, 0, 0, 0, 0, 0, 0);

/** An annotator's own SQLite file: the four pairs, the demo principles and their labels (overall word, rationale, principles). */
function annotatorFile(
  dir: string,
  name: string,
  labels: [string, string, string?, Record<string, string>?][],
  pairsFile = 'pairs.jsonl',
): string {
  const db = join(dir, `${name}.db`);
  const file = join(dir, `${name}.jsonl`);
  writeFileSync(
    file,
    labels
      .map(([pair, overall, rationale, principles]) =>
        JSON.stringify({ pair, overall, principles: principles ?? {}, ...(rationale ? { rationale } : {}) }),
      )
      .join('\n') + '\n',
  );
  ok([
    'import',
    'jsonl',
    join(dir, pairsFile),
    '--dataset',
    'd',
    '--prompt',
    'prompt',
    '--response-0',
    'a',
    '--response-1',
    'b',
    '--id',
    'id',
    '--db',
    db,
  ]);
  ok(['import', 'principles', PRINCIPLES, '--name', 'demo', '--db', db]);
  ok(['import', 'labels', file, '--dataset', 'd', '--principles', 'demo', '--annotator', name, '--db', db]);
  return db;
}

function setup(): { dir: string; alice: string; bilal: string } {
  const dir = tempDir();
  writeFileSync(
    join(dir, 'pairs.jsonl'),
    ['q1', 'q2', 'q3', 'q4']
      .map((id) => JSON.stringify({ id, prompt: `Human: ${id}?`, a: `no ${id}`, b: `yes ${id}` }))
      .join('\n') + '\n',
  );
  const alice = annotatorFile(dir, 'alice', [
    ['q1', 'y1', undefined, { 'avoid-harm': 'y1' }],
    ['q2', 'both-bad', 'both harmful'],
    ['q3', 'y0'],
    ['q4', 'tie'],
  ]);
  const bilal = annotatorFile(dir, 'bilal', [
    ['q1', 'y1'],
    ['q2', 'y0', 'A is safer'],
    ['q3', 'y0'],
    ['q4', 'y1'],
  ]);
  return { dir, alice, bilal };
}

async function withOpen<T>(location: string, fn: (s: Store) => Promise<T>): Promise<T> {
  const s = await openStore(urlWithPassword(location, server));
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

/** A workbench submission of `annotator` on pair `sourceId` of dataset d. */
async function relabel(
  location: string,
  annotator: string,
  sourceId: string,
  value: 1 | -1 | 0,
  choice: string,
  rationale = '',
): Promise<void> {
  await withOpen(location, async (s) => {
    const d = await s.requireDataset('d');
    const pairIdx = (await s.pairSourceIds(d.id)).find((p) => p.sourceId === sourceId)!.pairIdx;
    const pairRowId = (await s.pairRowIds(d.id)).get(pairIdx)!;
    await saveLabel(s, (await s.requireAnnotator(annotator)).id, pairRowId, {
      value,
      raw: { choice },
      shownFirst: 1,
      rationale,
      flagged: false,
      principles: [],
    });
  });
}

const targets: { name: string; skip?: string; db: () => Promise<string> }[] = [
  { name: 'an empty SQLite file (a team without a server)', db: async () => join(tempDir(), 'merged.db') },
  {
    name: 'PostgreSQL',
    skip: 'skip' in server ? server.skip : undefined,
    db: async () => urlWithoutPassword(await freshPostgresDatabase('url' in server ? server.url : '')),
  },
];

for (const target of targets) {
  describe.skipIf(target.skip)(`discretion sync from SQLite files into ${target.name}`, () => {
    it("merges two annotators' files, copies nothing on a second run, resolves a label conflict once and lists it", async () => {
      const { alice, bilal } = setup();
      const dst = await target.db();
      const aliceBefore = await withOpen(alice, (s) => s.dumpTables());

      // alice's file into the empty DST: everything is new (4 pairs; 4 overall labels; 1 principle label on q1)
      expect(sync(alice, dst)).toEqual({ copied: counts(1, 4, 1, 1, 4, 1, 0), unchanged: ZERO, conflicts: [] });
      // SRC is only read
      expect(await withOpen(alice, (s) => s.dumpTables())).toEqual(aliceBefore);
      // bilal's file: same dataset (same content hash) and list; bilal and his 4 labels are new
      expect(sync(bilal, dst)).toEqual({
        copied: counts(0, 0, 0, 1, 4, 0, 0),
        unchanged: counts(1, 4, 1, 0, 0, 0, 0),
        conflicts: [],
      });
      // run twice: nothing new
      expect(sync(bilal, dst)).toEqual({ copied: ZERO, unchanged: counts(1, 4, 1, 1, 4, 0, 0), conflicts: [] });
      expect(sync(alice, dst)).toEqual({ copied: ZERO, unchanged: counts(1, 4, 1, 1, 4, 1, 0), conflicts: [] });

      // The merged database holds both: the review queue finds q2 (both-bad vs y0) and q4 (tie vs y1); both-bad survived.
      const review = JSON.parse(ok(['review', 'list', '--dataset', 'd', '--json', '--db', dst]));
      expect(review.items.map((i: { pair: string }) => i.pair)).toEqual(['q2', 'q4']);
      expect(review.items[0].labels).toEqual([
        { annotator: 'alice', overall: 'both-bad', principle: null, rationale: 'both harmful', flagged: false },
        { annotator: 'bilal', overall: 'y0', principle: null, rationale: 'A is safer', flagged: false },
      ]);

      // A conflict: q3 relabelled tie on DST, then (later) y1 in alice's file; and alice relabels q1 offline only.
      await relabel(dst, 'alice', 'q3', 0, 'tie', 'on the server');
      await new Promise((r) => setTimeout(r, 20));
      await relabel(alice, 'alice', 'q3', 1, 'A', 'offline');
      await relabel(alice, 'alice', 'q1', -1, 'B');
      const merged = sync(alice, dst);
      // q1: DST still held the label alice's file moved on from, so the new one is copied (with its 1 principle label);
      // q3: both changed, the newer (alice's file) is current; q2, q4 unchanged.
      expect(merged).toEqual({
        copied: counts(0, 0, 0, 0, 2, 1, 0),
        unchanged: counts(1, 4, 1, 1, 2, 0, 0),
        conflicts: [
          {
            kind: 'label',
            dataset: 'd',
            pair: 'q3',
            annotator: 'alice',
            src: 'y1',
            dst: 'tie',
            kept: 'src',
            message: expect.stringContaining('kept the newer'),
          },
        ],
      });
      await withOpen(dst, async (s) => {
        const d = await s.requireDataset('d');
        const rows = await s.preferencesForPairs([...(await s.pairRowIds(d.id)).values()]);
        const aliceRows = rows.filter((r) => r.annotator === 'alice');
        const byValue = aliceRows.map((r) => [r.value, r.rationale, r.flagged]).sort();
        // q1 y0 (offline), q2 both-bad, q3 y1 flagged (the conflict), q4 tie
        expect(byValue).toEqual(
          [
            [-1, null, 0],
            [0, 'both harmful', 0],
            [0, null, 0],
            [1, 'offline', 1],
          ].sort(),
        );
        const history = await s.labelHistory((await s.requireAnnotator('alice')).id);
        // the server's own submission of q3, then the merges of q3 (tie -> y1) and q1 (y1 -> y0), in pair order
        expect(history.map((h) => [h.action, h.before.preference?.value, h.after.preference?.value])).toEqual([
          ['submit', -1, 0],
          ['merge', 1, -1],
          ['merge', 0, 1],
        ]);
        expect(history[2].before.preference?.rationale).toBe('on the server');
        // the server's submission of q3 was merged over: the workbench's undo no longer reaches past the merge
        expect(await undoLastLabel(s, (await s.requireAnnotator('alice')).id, d.id)).toBeUndefined();
      });
      // run twice: nothing new, the conflict is not listed again
      expect(sync(alice, dst)).toEqual({ copied: ZERO, unchanged: counts(1, 4, 1, 1, 4, 1, 0), conflicts: [] });

      // and back: DST into alice's file brings bilal; alice's labels there are already DST's
      expect(sync(dst, alice)).toEqual({
        copied: counts(0, 0, 0, 1, 4, 0, 0),
        unchanged: counts(1, 4, 1, 1, 4, 1, 0),
        conflicts: [],
      });

      // the text output says the same
      const text = ok(['sync', '--from', bilal, '--to', dst]);
      expect(text).toContain(
        'copied: 0 datasets, 0 pairs, 0 principle lists, 0 annotators, 0 preferences, 0 principle preferences, 0 metric runs',
      );
      expect(text).toContain('no conflicts');
    });

    it('lists a dataset of other content, a principle list version missing on the other side and an annotator of another kind', async () => {
      const { dir, alice } = setup();
      const dst = await target.db();
      sync(alice, dst);
      // carol's file: dataset "d" from another file, "demo" of other content, and "alice" as a reward model there
      writeFileSync(
        join(dir, 'other.jsonl'),
        JSON.stringify({ id: 'q1', prompt: 'Human: other?', a: 'x', b: 'y' }) + '\n',
      );
      const carol = join(dir, 'carol.db');
      ok([
        'import',
        'jsonl',
        join(dir, 'other.jsonl'),
        '--dataset',
        'd',
        '--prompt',
        'prompt',
        '--response-0',
        'a',
        '--response-1',
        'b',
        '--id',
        'id',
        '--db',
        carol,
      ]);
      writeFileSync(join(dir, 'other.yaml'), '- id: only\n  short: Only\n  text: The one principle.\n');
      ok(['import', 'principles', join(dir, 'other.yaml'), '--name', 'demo', '--db', carol]);
      await withOpen(carol, (s) => s.write((tx) => tx.ensureAnnotator('alice', 'reward-model', null)));
      const [srcHash, dstHash] = [
        await withOpen(carol, async (s) => (await s.requireDataset('d')).contentHash),
        await withOpen(alice, async (s) => (await s.requireDataset('d')).contentHash),
      ];
      const first = sync(carol, dst);
      expect(first.copied).toEqual(counts(0, 0, 1, 0, 0, 0, 0));
      expect(first.conflicts.map(({ message: _m, ...c }: { message: string }) => c)).toEqual([
        {
          kind: 'principle-list-version',
          list: 'demo',
          src_version: 1,
          dst_version: 2,
          content_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
        },
        { kind: 'annotator-kind', annotator: 'alice', src_kind: 'reward-model', dst_kind: 'human' },
        { kind: 'dataset-content', dataset: 'd', src_hash: srcHash, dst_hash: dstHash },
      ]);
      expect(first.conflicts[1].message).toBe(
        `annotator "alice" is a reward-model in ${carol} but a human in ${target.name === 'PostgreSQL' ? new URL(dst).toString().replace(/:[^:@/]*@/, '@') : dst}; its labels were not synced`,
      );
      // a second run: the list version was copied once; the standing conflicts are listed until resolved
      const second = sync(carol, dst);
      expect(second.copied).toEqual(ZERO);
      expect(second.conflicts.map((c: { kind: string }) => c.kind)).toEqual(['annotator-kind', 'dataset-content']);
      const text = run(['sync', '--from', carol, '--to', dst]);
      expect(text.stdout).toContain('2 conflicts:');
      expect(text.stdout).toContain('  dataset-content: dataset "d" holds other content');
    });

    it('refuses bad input with one line naming the database (never its password) and leaves DST as it was', async () => {
      const { dir, alice } = setup();
      const dst = await target.db();
      sync(alice, dst, ['--dataset', 'd']);
      const before = await withOpen(dst, (s) => s.dumpTables());
      const cases: [string[], RegExp][] = [
        [
          ['--from', alice, '--to', dst, '--dataset', 'nope'],
          new RegExp(`unknown dataset "nope" in ${alice.replace(/[.]/g, '\\.')} \\(known: d\\); nothing was written`),
        ],
        [
          ['--from', join(dir, 'missing.db'), '--to', dst],
          /no database at .*missing\.db \(--from\); nothing was written/,
        ],
        [['--from', alice, '--to', alice], /--from and --to name the same database/],
        [
          ['--from', 'postgres://someone@127.0.0.1:1/nothing', '--to', dst],
          /cannot open database postgres:\/\/someone@127\.0\.0\.1:1\/nothing: the server refused the connection/,
        ],
        // a password in either URL is refused before either database is opened, without being shown
        [
          ['--from', alice, '--to', 'postgres://someone:hunter2@127.0.0.1:1/nothing'],
          /^discretion: --to must not hold a password \(postgres:\/\/someone@127\.0\.0\.1:1\/nothing\): remove it from the URL and set PGPASSWORD, or put it in ~\/\.pgpass or the file PGPASSFILE names; nothing was written$/,
        ],
        [
          ['--from', 'postgres://someone@127.0.0.1:1/nothing?password=hunter2', '--to', dst],
          /^discretion: --from must not hold a password \(postgres:\/\/someone@127\.0\.0\.1:1\/nothing\)/,
        ],
      ];
      for (const [args, message] of cases) {
        const r = run(['sync', ...args]);
        expect(r.status, args.join(' ')).toBe(1);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr.trim()).toMatch(message);
        expect(r.stderr + r.stdout).not.toContain('hunter2');
      }
      expect(await withOpen(dst, (s) => s.dumpTables())).toEqual(before);
      // an unreachable DST: nothing is written, and no new SQLite file appears for a failed sync
      const r = run(['sync', '--from', 'postgres://someone@127.0.0.1:1/nothing', '--to', join(dir, 'new.db')]);
      expect(r.status).toBe(1);
      expect(existsSync(join(dir, 'new.db'))).toBe(false);
      const u = run(['sync', '--from', alice, '--to', 'postgres://someone@127.0.0.1:1/nothing']);
      expect(u.status).toBe(1);
      expect(u.stderr.trim()).toBe(
        'discretion: cannot open database postgres://someone@127.0.0.1:1/nothing: the server refused the connection (is it running, and on that host and port?)',
      );
    });

    it('is one transaction on DST: a failure half-way leaves DST exactly as it was', async () => {
      const { bilal, alice } = setup();
      const dst = await target.db();
      sync(alice, dst);
      const before = await withOpen(dst, (s) => s.dumpTables());
      await withOpen(bilal, (src) =>
        withOpen(dst, async (d) => {
          // SRC fails when its labels are read: the annotator, and (with pageSize 2) the first page's labels, were already written
          let reads = 0;
          const failing = new Proxy(src, {
            get: (t, k) =>
              k === 'labelRows'
                ? async (ids: number[]) => {
                    if (++reads === 2) throw new Error('the source went away');
                    return t.labelRows(ids);
                  }
                : Reflect.get(t, k),
          });
          await expect(syncStores(failing, d, { pageSize: 2 })).rejects.toThrow('the source went away');
        }),
      );
      expect(await withOpen(dst, (s) => s.dumpTables())).toEqual(before);
    });
  });
}

describe('sync of pairs', () => {
  it('a pair DST lacks keeps its index, or takes the next free one where DST holds that index', async () => {
    const [src, dst] = [join(tempDir(), 'src.db'), join(tempDir(), 'dst.db')];
    // the same dataset (name and content hash) on both sides; DST's index 1 holds another source id
    const seed = (location: string, sourceIds: string[]) =>
      withOpen(location, (s) =>
        s.write(async (tx) => {
          const id = await tx.createDataset('d', 'jsonl', null);
          await tx.setDatasetHash(id, 'h');
          const first = await tx.nextPairRowId();
          await tx.insertPairs(
            id,
            sourceIds.map((sourceId, idx) => ({ idx, sourceId, prompt: 'p', y0: 'a', y1: 'b' })),
            sourceIds.map((_, i) => first + i),
          );
        }),
      );
    await seed(src, ['s0', 's1', 's2']);
    await seed(dst, ['s0', 'x1']);
    await withOpen(src, (s) => withOpen(dst, (d) => syncStores(s, d)));
    const pairs = await withOpen(dst, async (d) => d.pairSourceIds((await d.requireDataset('d')).id));
    // s1's index 1 is taken (x1): it takes 2, the next free one; s2's index 2 is then taken too: 3
    expect(pairs.sort((a, b) => a.pairIdx - b.pairIdx)).toEqual([
      { pairIdx: 0, sourceId: 's0' },
      { pairIdx: 1, sourceId: 'x1' },
      { pairIdx: 2, sourceId: 's1' },
      { pairIdx: 3, sourceId: 's2' },
    ]);
  });
});
