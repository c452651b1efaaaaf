// `discretion export --format trl|hf` through the built CLI (dist/cli.js via bin/discretion.js), on the bundled
// sample labelled by alice and bilal: what it prints (the counts, the files, the command that re-imports the
// folder), the rows it writes, and one-line refusals of options that belong to another format.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../support/helpers';

const BIN = join(ROOT, 'bin', 'discretion.js');
const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT });
const SAMPLE = join(ROOT, 'media', 'sample');

describe('discretion export --format trl|hf', () => {
  let dir: string;
  let db: string;
  const ok = (args: string[]) => {
    const r = run([...args, '--db', db]);
    expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r.stdout;
  };
  beforeAll(() => {
    dir = tempDir();
    db = join(dir, 's.db');
    ok([
      'import',
      'jsonl',
      join(SAMPLE, 'safety-pairs.jsonl'),
      '--dataset',
      'sample',
      ...['--prompt', 'prompt', '--response-0', 'response_0', '--response-1', 'response_1', '--id', 'id'],
    ]);
    ok(['import', 'principles', join(ROOT, 'media', 'principles', 'demo-safety.yaml'), '--name', 'demo']);
    for (const name of ['alice', 'bilal'])
      ok([
        'import',
        'labels',
        join(SAMPLE, `labels-${name}.jsonl`),
        ...['--dataset', 'sample', '--principles', 'demo', '--annotator', name],
      ]);
  });

  it('trl: the rows of the chosen source, the left-out pairs counted, how to load the file', () => {
    const labels = (name: string) =>
      readFileSync(join(SAMPLE, `labels-${name}.jsonl`), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { pair: string; overall: string });
    const alice = labels('alice');
    const out = join(dir, 'alice.jsonl');
    const text = ok(['export', '--dataset', 'sample', '--format', 'trl', '--from', 'alice', '--out', out]);
    const sided = alice.filter((l) => l.overall === 'y0' || l.overall === 'y1');
    expect(text).toContain(`wrote ${sided.length} preference rows of 30 pairs (chosen by alice, conversational)`);
    const ties = alice.filter((l) => l.overall === 'tie').length;
    const bothBad = alice.filter((l) => l.overall === 'both-bad').length;
    expect(text).toContain(`left out: ${ties} tie, ${bothBad} both bad, 0 without a majority, 0 unlabelled`);
    expect(text).toContain(`load: datasets.load_dataset("json", data_files="${out}", split="train")`);
    const rows = readFileSync(out, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(rows.map((r) => [r.discretion.source_id, r.discretion.label])).toEqual(
      sided.map((l) => [l.pair, l.overall]),
    );
    // the principle categories under alice's own principle labels, as the metrics command names the source
    ok([
      'export',
      '--dataset',
      'sample',
      '--format',
      'trl',
      '--out',
      out,
      '--principles',
      'demo',
      '--principle-source',
      'alice',
    ]);
    const categories = new Set(
      readFileSync(out, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l).discretion.category),
    );
    expect([...categories].every((c) => ['consensus', 'conflict', 'indifference'].includes(c))).toBe(true);
  });

  it('hf: a folder with the Parquet file and the card, and the command that re-imports it', async () => {
    const out = join(dir, 'hf');
    const text = ok(['export', '--dataset', 'sample', '--format', 'hf', '--out', out]);
    expect(text).toContain(`wrote 30 pairs (`);
    expect(text).toContain('  data/train-00000-of-00001.parquet');
    expect(text).toContain('  README.md');
    expect(text).toContain('the card has no discretion numbers (no metric run stored)');
    expect(text).toContain(
      `re-import: discretion import parquet ${out} --dataset NAME --prompt prompt_text --response-0 response_0 --response-1 response_1 --id source_id --preferred label --preferred-annotator ANNOTATOR`,
    );
    const b = readFileSync(join(out, 'data', 'train-00000-of-00001.parquet'));
    const rows = await parquetReadObjects({
      file: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer,
    });
    expect(rows).toHaveLength(30);
    expect(rows[0]!.votes.map((v: { annotator: string }) => v.annotator)).toEqual(['alice', 'bilal']);
    // with a metric run stored, the card names it
    ok([
      'metrics',
      '--dataset',
      'sample',
      '--principles',
      'demo',
      '--principle-source',
      'alice',
      '--reference',
      'alice',
      '--bootstrap',
      '0',
      '--da-bootstrap',
      '0',
    ]);
    expect(ok(['export', '--dataset', 'sample', '--format', 'hf', '--out', out])).toContain(
      'the card shows the numbers of metric run 1',
    );
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toContain('### Discretion arbitrariness (DA)');
  });

  it("hf: the folder re-imported with the command it prints gives the same pairs and the source's labels", () => {
    const out = join(dir, 'hf-alice');
    const text = ok(['export', '--dataset', 'sample', '--format', 'hf', '--from', 'alice', '--out', out]);
    const command = /re-import: discretion (.*)$/m.exec(text)![1]!.split(' ');
    expect(command.slice(-4)).toEqual(['--preferred', 'label', '--preferred-annotator', 'alice']);
    ok(command.map((w) => (w === 'NAME' ? 'again' : w)));
    // both datasets through the JSONL export (every pair's ids, prompt, responses and each annotator's label)
    const rows = (dataset: string) => {
      const file = join(dir, `${dataset}.jsonl`);
      ok(['export', '--dataset', dataset, '--format', 'jsonl', '--out', file]);
      return (
        readFileSync(file, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as Record<string, unknown> & { preferences: Record<string, string> })
          // the pair's fields and alice's label (a pair's meta is not a column of the export: the re-import keeps
          // the other columns there instead)
          .map((r) => ({
            ...r,
            meta: undefined,
            preferences: { alice: r.preferences.alice },
            principle_preferences: undefined,
          }))
      );
    };
    const again = rows('again');
    expect(again).toHaveLength(30);
    expect(again).toEqual(rows('sample'));
  });

  it('refuses, in one line, options of another format and a folder it did not write', () => {
    for (const [args, message] of [
      [['--format', 'hf', '--ties', join(dir, 't.jsonl')], '--ties is for --format trl, not hf'],
      [['--format', 'trl', '--run', '1'], '--run is for --format hf, not trl'],
      [['--format', 'jsonl', '--from', 'alice'], '--from is for --format trl or hf, not jsonl'],
      [['--format', 'trl', '--from', 'nobody'], 'unknown annotator "nobody"'],
      [['--format', 'hf', '--out', SAMPLE], 'not one an earlier export wrote; choose an empty or new folder (--out)'],
    ] as [string[], string][]) {
      const r = run(['export', '--dataset', 'sample', '--out', join(dir, 'x.jsonl'), ...args, '--db', db]);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr, args.join(' ')).toContain(message);
    }
  });
});
