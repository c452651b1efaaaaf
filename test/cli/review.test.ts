// `discretion review list|adjudicate` through the real CLI, on a SQLite file and on a PostgreSQL database of the
// run's test server. The disagreeing pairs are listed by hand from the label files below.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { openStore } from '../../src/store';
import { ROOT, tempDir } from '../support/helpers';
import { freshPostgresDatabase, pgEnv, urlWithoutPassword, urlWithPassword } from '../support/postgres';

const BIN = join(ROOT, 'bin', 'discretion.js');
// the CLI refuses a password in --db: the test server's database goes by its URL without one, the password in PGPASSWORD
const server = inject('postgres');
const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT, env: { ...pgEnv(server), NO_COLOR: '1' } });

const targets: { name: string; skip?: string; db: () => Promise<string> }[] = [
  { name: 'SQLite', db: async () => join(tempDir(), 'review.db') },
  { name: 'PostgreSQL', skip: 'skip' in server ? server.skip : undefined, db: async () => urlWithoutPassword(await freshPostgresDatabase('url' in server ? server.url : '')) },
];

for (const target of targets) {
  describe.skipIf(target.skip)(`discretion review on ${target.name}`, () => {
    it('lists the pairs whose human labels disagree side by side, stores adjudications as "adjudicated" and keeps every label', async () => {
      const db = await target.db();
      const ok = (args: string[]) => {
        const r = run([...args, '--db', db]);
        expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
        return r.stdout;
      };
      const dir = tempDir();
      writeFileSync(join(dir, 'pairs.jsonl'), ['q1', 'q2', 'q3', 'q4'].map((id) => JSON.stringify({ id, prompt: `Human: ${id}?`, a: `no ${id}`, b: `yes ${id}` })).join('\n') + '\n');
      const labels = (rows: [string, string, string?, Record<string, string>?][]) => rows.map(([pair, overall, rationale, principles]) => JSON.stringify({ pair, overall, principles: principles ?? {}, ...(rationale ? { rationale } : {}) })).join('\n') + '\n';
      writeFileSync(join(dir, 'alice.jsonl'), labels([['q1', 'y1', undefined, { 'avoid-harm': 'y1' }], ['q2', 'both-bad', 'both harmful'], ['q3', 'y0'], ['q4', 'tie']]));
      writeFileSync(join(dir, 'bilal.jsonl'), labels([['q1', 'y1', undefined, { 'avoid-harm': 'y0' }], ['q2', 'y0', 'A is \u001b[31msafer'], ['q3', 'y0'], ['q4', 'y1']]));
      ok(['import', 'jsonl', join(dir, 'pairs.jsonl'), '--dataset', 'd', '--prompt', 'prompt', '--response-0', 'a', '--response-1', 'b', '--id', 'id']);
      ok(['import', 'principles', join(ROOT, 'media', 'principles', 'demo-safety.yaml'), '--name', 'demo']);
      for (const name of ['alice', 'bilal']) ok(['import', 'labels', join(dir, `${name}.jsonl`), '--dataset', 'd', '--principles', 'demo', '--annotator', name]);

      // overall: q2 (both-bad = no preference vs y0) and q4 (tie vs y1); q1 and q3 agree
      const list = JSON.parse(ok(['review', 'list', '--dataset', 'd', '--json']));
      expect(list).toMatchObject({ schema: 'discretion-review/1', dataset: 'd', principle: null, pairs: 4, disagreeing: 2, adjudicated: 0 });
      expect(list.items.map((i: { pair: string; idx: number }) => [i.pair, i.idx])).toEqual([['q2', 1], ['q4', 3]]);
      expect(list.items[1]).toEqual({
        pair: 'q4', idx: 3, prompt: 'Human: q4?', y0: 'no q4', y1: 'yes q4', adjudicated: null,
        labels: [
          { annotator: 'alice', overall: 'tie', principle: null, rationale: null, flagged: false },
          { annotator: 'bilal', overall: 'y1', principle: null, rationale: null, flagged: false },
        ],
      });
      const text = ok(['review', 'list', '--dataset', 'd']);
      expect(text).toContain('dataset "d": 2 of 4 pairs where the human overall labels disagree; 0 adjudicated');
      expect(text).toContain('pair q2 (index 1): Human: q2?');
      expect(text).toMatch(/alice\s+both-bad\s+both harmful/);
      expect(text).toContain('A is \\x1b[31msafer'); // terminal-safe: the escape is shown, never sent
      expect(text).not.toContain('\u001b');

      // adjudicate q2; again (the previous adjudication is replaced and kept in the history); the originals stay
      expect(ok(['review', 'adjudicate', '--dataset', 'd', '--pair', 'q2', '--label', 'both-bad', '--rationale', 'both are harmful'])).toBe('dataset "d" pair q2: adjudicated both-bad\n');
      expect(ok(['review', 'adjudicate', '--dataset', 'd', '--pair', 'q2', '--label', 'y0'])).toBe('dataset "d" pair q2: adjudicated y0 (was both-bad)\n');
      const after = JSON.parse(ok(['review', 'list', '--dataset', 'd', '--json']));
      expect(after.adjudicated).toBe(1);
      expect(after.items[0].adjudicated).toEqual({ label: 'y0', rationale: null });
      expect(after.items[0].labels.map((l: { overall: string }) => l.overall)).toEqual(['both-bad', 'y0']);
      expect(JSON.parse(ok(['review', 'list', '--dataset', 'd', '--pending', '--json'])).items.map((i: { pair: string }) => i.pair)).toEqual(['q4']);

      // one principle: q1's avoid-harm (alice y1, bilal y0)
      const p = JSON.parse(ok(['review', 'list', '--dataset', 'd', '--principle', 'avoid-harm', '--json']));
      expect(p.items.map((i: { pair: string; labels: { annotator: string; principle: string }[] }) => [i.pair, i.labels.map((l) => [l.annotator, l.principle])]))
        .toEqual([['q1', [['alice', 'y1'], ['bilal', 'y0']]]]);
      expect(ok(['review', 'adjudicate', '--dataset', 'd', '--pair', 'q1', '--principle', 'avoid-harm', '--label', 'neither'])).toBe('dataset "d" pair q1: adjudicated principle avoid-harm neither\n');
      expect(JSON.parse(ok(['review', 'list', '--dataset', 'd', '--principle', 'avoid-harm', '--json'])).items[0].adjudicated).toEqual({ label: 'neither', rationale: null });

      // the adjudicator is not a team member: human label counts and kappa leave it out, metrics too unless named
      const status = JSON.parse(ok(['team', 'status', '--dataset', 'd', '--json']));
      expect(status.label_counts).toEqual([0, 0, 4]);
      expect(status.kappa.annotators).toEqual(['alice', 'bilal']);
      const info = JSON.parse(ok(['info', '--json']));
      expect(info.annotators.find((a: { name: string }) => a.name === 'adjudicated')).toMatchObject({ kind: 'adjudicator' });
      const metrics = JSON.parse(ok(['metrics', '--dataset', 'd', '--principles', 'demo', '--principle-source', 'self', '--reference', 'alice', '--bootstrap', '0', '--da-bootstrap', '0', '--no-save', '--json']));
      expect(metrics.annotators.map((a: { name: string }) => a.name)).toEqual(['alice', 'bilal']);

      // bad input: one line, nothing changed
      const store = await openStore(urlWithPassword(db, server));
      const before = await store.dumpTables();
      await store.close();
      for (const [args, message] of [
        [['review', 'adjudicate', '--dataset', 'd', '--pair', 'q2', '--label', 'maybe'], /^discretion: the label must be one of y0, y1, tie, both-bad, not "maybe" \(--label\)$/],
        [['review', 'adjudicate', '--dataset', 'd', '--pair', 'q9', '--label', 'y1'], /^discretion: unknown pair "q9" in dataset "d"/],
        [['review', 'adjudicate', '--dataset', 'd', '--pair', 'q2', '--principle', 'avoid-harm', '--label', 'tie'], /the label must be one of y0, y1, neither for a principle, not "tie" \(--label\)/],
        [['review', 'list', '--dataset', 'd', '--principle', 'nope'], /no human labels of principle "nope" on dataset "d" \(principles labelled: avoid-harm\)/],
        [['review', 'list', '--dataset', 'nope'], /unknown dataset "nope" \(known: d\)/],
      ] as const) {
        const r = run([...args, '--db', db]);
        expect(r.status, args.join(' ')).toBe(1);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr.trim()).toMatch(message);
      }
      const again = await openStore(urlWithPassword(db, server));
      expect(await again.dumpTables()).toEqual(before);
      await again.close();
    });
  });
}
