// `discretion team split|status|release` through the real CLI, on a PostgreSQL database of the run's test
// server (the team's shared store) and on a SQLite file. Expected values are worked out by hand below.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { openStore } from '../../src/store';
import { ROOT, tempDir } from '../support/helpers';
import { freshPostgresDatabase, pooledRun, pgEnv, urlWithoutPassword, urlWithPassword } from '../support/postgres';

const BIN = join(ROOT, 'bin', 'discretion.js');
// the CLI refuses a password in --db: the test server's database goes by its URL without one, the password in PGPASSWORD
const server = inject('postgres');
const run = (args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    cwd: ROOT,
    env: { ...pgEnv(server), NO_COLOR: '1' },
  });

const targets: { name: string; skip?: string; db: () => Promise<string> }[] = [
  {
    name: 'PostgreSQL',
    skip: 'skip' in server ? server.skip : undefined,
    db: async () => urlWithoutPassword(await freshPostgresDatabase('url' in server ? server.url : '')),
  },
  { name: 'SQLite', db: async () => join(tempDir(), 'team.db') },
].filter((t) => t.name !== 'SQLite' || !pooledRun(server));

for (const target of targets) {
  describe.skipIf(target.skip)(`discretion team on ${target.name}`, () => {
    it('sets the split, reports progress and agreement as computed by hand, releases claims; bad values are one line', async () => {
      const db = await target.db();
      const dir = tempDir();
      const pairs = join(dir, 'pairs.jsonl');
      writeFileSync(
        pairs,
        ['q1', 'q2', 'q3', 'q4']
          .map((id) => JSON.stringify({ id, prompt: `Human: ${id}?`, a: 'no', b: 'yes' }))
          .join('\n') + '\n',
      );
      const labels = (overall: string[]) =>
        overall.map((o, i) => JSON.stringify({ pair: `q${i + 1}`, overall: o, principles: {} })).join('\n') + '\n';
      writeFileSync(join(dir, 'alice.jsonl'), labels(['y1', 'y1', 'y0', 'tie']));
      writeFileSync(join(dir, 'bilal.jsonl'), labels(['y1', 'y0', 'y0', 'tie']));
      for (const args of [
        [
          'import',
          'jsonl',
          pairs,
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
        ],
        ['import', 'principles', join(ROOT, 'media', 'principles', 'demo-safety.yaml'), '--name', 'demo'],
        [
          'import',
          'labels',
          join(dir, 'alice.jsonl'),
          '--dataset',
          'd',
          '--principles',
          'demo',
          '--annotator',
          'alice',
        ],
        [
          'import',
          'labels',
          join(dir, 'bilal.jsonl'),
          '--dataset',
          'd',
          '--principles',
          'demo',
          '--annotator',
          'bilal',
        ],
      ]) {
        const r = run([...args, '--db', db]);
        expect(r.status, `${args.slice(0, 2).join(' ')}: ${r.stderr}`).toBe(0);
      }
      const split = run([
        'team',
        'split',
        '--dataset',
        'd',
        '--overlap',
        '3',
        '--order',
        'random',
        '--seed',
        '5',
        '--db',
        db,
      ]);
      expect(split.status, split.stderr).toBe(0);
      expect(split.stdout).toContain('3 labels per pair, handed out in random order (seed 5)');
      // a third annotator claims a pair (each pair holds 2 labels, so there is room for one more)
      const store = await openStore(urlWithPassword(db, server));
      const d = await store.requireDataset('d');
      const chen = (await store.write((tx) => tx.ensureAnnotator('chen', 'human', null))).id;
      expect(await store.claimNextPair(d.id, chen, Date.now(), 600_000)).not.toBeUndefined();
      await store.close();

      const status = run(['team', 'status', '--dataset', 'd', '--json', '--db', db]);
      expect(status.status, status.stderr).toBe(0);
      const doc = JSON.parse(status.stdout);
      expect(doc).toMatchObject({
        schema: 'discretion-team-status/1',
        dataset: 'd',
        split: { overlap: 3, assignment: 'random', seed: 5 },
        pairs: 4,
        label_counts: [0, 0, 4],
      });
      expect(
        doc.annotators.map((a: { name: string; claimed: number; labelled: number }) => [a.name, a.claimed, a.labelled]),
      ).toEqual([
        ['alice', 0, 4],
        ['bilal', 0, 4],
        ['chen', 1, 0],
      ]);
      // Cohen's kappa by hand: categories y0 / none / y1; alice (y1, y1, y0, none), bilal (y1, y0, y0, none):
      // p_o = 3/4; marginals alice (1/4, 1/4, 1/2), bilal (1/2, 1/4, 1/4); p_e = 1/8 + 1/16 + 1/8 = 5/16;
      // kappa = (3/4 - 5/16) / (1 - 5/16) = 7/11
      expect(doc.kappa.annotators).toEqual(['alice', 'bilal', 'chen']);
      expect(doc.kappa.matrix[0][1]).toBeCloseTo(7 / 11, 12);
      expect(doc.kappa.matrix[1][0]).toBeCloseTo(7 / 11, 12);
      expect(doc.kappa.shared[0]).toEqual([4, 4, 0]);
      expect(doc.kappa.matrix[0][2]).toBeNull();

      const text = run(['team', 'status', '--dataset', 'd', '--db', db]);
      expect(text.status, text.stderr).toBe(0);
      expect(text.stdout).toContain('pairs by labels held: 0: 0, 1: 0, 2: 4');
      expect(text.stdout).toMatch(/alice\s+0\s+4/);

      const release = run(['team', 'release', '--dataset', 'd', '--annotator', 'chen', '--db', db]);
      expect(release.status, release.stderr).toBe(0);
      expect(release.stdout).toContain('released 1 claim on dataset "d" held by chen');

      for (const [args, message] of [
        [
          ['team', 'split', '--dataset', 'd', '--overlap', '0'],
          /--overlap must be a whole number of labels per pair, 1 or more, or "none", not "0"/,
        ],
        [
          ['team', 'split', '--dataset', 'd', '--order', 'alphabetical'],
          /--order must be one of fixed, random, least-annotated/,
        ],
        [['team', 'status', '--dataset', 'nope'], /unknown dataset "nope" \(known: d\)/],
      ] as const) {
        const r = run([...args, '--db', db]);
        expect(r.status).toBe(1);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr).toMatch(message);
      }
    });
  });
}
