// The built CLI (dist/cli.js via bin/discretion.js), run as a user would: exit codes, one-line
// errors, and export -> import round trips.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { BAD, ROOT, tempDir } from '../support/helpers';

const BIN = join(ROOT, 'bin', 'discretion.js');
const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT });
const SAMPLE = join(ROOT, 'media', 'sample', 'safety-pairs.jsonl');
const MAP = ['--prompt', 'prompt', '--response-0', 'response_0', '--response-1', 'response_1', '--id', 'id'];

describe('discretion CLI', () => {
  it('prints help with exit code 0, for every command', () => {
    for (const args of [
      ['--help'],
      ['import', '--help'],
      ['import', 'hh-rlhf', '--help'],
      ['export', '--help'],
      ['info', '--help'],
    ]) {
      const r = run(args);
      expect(r.status, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/Usage: discretion/);
    }
  });

  it('turns bad input into one line on stderr, a non-zero exit, and no database left behind', () => {
    const db = join(tempDir(), 'new.db');
    const r = run(['import', 'hh-rlhf', join(BAD, 'hh-missing-field.jsonl'), '--dataset', 'x', '--db', db]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/hh-missing-field\.jsonl:2: field "rejected": missing/);
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/); // no stack trace
    expect(existsSync(db)).toBe(false);
  });

  it('reports an unknown dataset clearly', () => {
    const db = join(tempDir(), 'd.db');
    expect(
      run(['import', 'principles', join(ROOT, 'media', 'principles', 'demo-safety.yaml'), '--name', 'demo', '--db', db])
        .status,
    ).toBe(0);
    const r = run(['export', '--dataset', 'nope', '--out', join(tempDir(), 'x.jsonl'), '--db', db]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('discretion: unknown dataset "nope" (the database holds no datasets yet)\n');
  });

  it('info and runs on a database path that does not exist refuse with one line and create no file', () => {
    const dir = tempDir();
    for (const args of [['info'], ['info', '--json'], ['runs'], ['runs', '--json']]) {
      const db = join(dir, 'typo.db');
      const r = run([...args, '--db', db]);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr).toBe(`discretion: no database at ${db} (--db); nothing was written\n`);
      expect(r.stdout).toBe('');
      expect(existsSync(db), args.join(' ')).toBe(false);
    }
  });

  for (const format of ['jsonl', 'csv'] as const) {
    it(`exports ${format} that the generic importer reads back to the same pairs and preferences`, () => {
      const dir = tempDir();
      const db = join(dir, 'a.db');
      expect(run(['import', 'jsonl', SAMPLE, '--dataset', 'sample', ...MAP, '--db', db]).status).toBe(0);
      expect(
        run([
          'import',
          'principles',
          join(ROOT, 'media', 'principles', 'demo-safety.yaml'),
          '--name',
          'demo',
          '--db',
          db,
        ]).status,
      ).toBe(0);
      expect(
        run([
          'import',
          'labels',
          join(ROOT, 'media', 'sample', 'labels-alice.jsonl'),
          '--dataset',
          'sample',
          '--principles',
          'demo',
          '--annotator',
          'alice',
          '--db',
          db,
        ]).status,
      ).toBe(0);
      const out = join(dir, `out.${format}`);
      const e = run(['export', '--dataset', 'sample', '--format', format, '--out', out, '--db', db]);
      expect(e.status, e.stderr).toBe(0);
      const preferred = format === 'jsonl' ? 'preferences.alice' : 'pref.alice';
      const i = run([
        'import',
        format,
        out,
        '--dataset',
        'again',
        ...MAP.slice(0, 6),
        '--id',
        'source_id',
        '--preferred',
        preferred,
        '--preferred-annotator',
        'alice-again',
        '--db',
        db,
      ]);
      expect(i.status, i.stderr).toBe(0);
      // Compare the two datasets' pairs and alice's preferences, read back through a second export.
      const out2 = join(dir, `out2.${format}`);
      expect(run(['export', '--dataset', 'again', '--format', 'jsonl', '--out', out2, '--db', db]).status).toBe(0);
      const first = readFileSync(out, 'utf8');
      const lines2 = readFileSync(out2, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      const source = readFileSync(SAMPLE, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      const alice = readFileSync(join(ROOT, 'media', 'sample', 'labels-alice.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines2).toHaveLength(30);
      lines2.forEach((p, k) => {
        expect([p.source_id, p.prompt, p.response_0, p.response_1]).toEqual([
          source[k].id,
          source[k].prompt,
          source[k].response_0,
          source[k].response_1,
        ]);
        const label = alice.find((a) => a.pair === source[k].id).overall;
        // Every word survives the round trip, 'both-bad' included (it used to come back as 'tie').
        expect(p.preferences['alice-again']).toBe(
          { y0: 'y0', y1: 'y1', tie: 'tie', 'both-bad': 'both-bad' }[label as string],
        );
      });
      // The first export itself, parsed as its format: the source's pairs in order, and alice's preference in the
      // words of her labels file (the export writes the label-file words, 'both-bad' included).
      const exported: Record<string, string>[] =
        format === 'jsonl'
          ? first
              .trim()
              .split('\n')
              .map((l) => {
                const o = JSON.parse(l);
                return { ...o, 'preferences.alice': o.preferences.alice };
              })
          : parseCsv(first, { columns: true });
      expect(exported.map((p) => [p.source_id, p.prompt, p.response_0, p.response_1])).toEqual(
        source.map((q) => [q.id, q.prompt, q.response_0, q.response_1]),
      );
      expect(exported.map((p) => p[preferred])).toEqual(source.map((q) => alice.find((a) => a.pair === q.id).overall));
    });
  }

  it('info --json lists datasets, lists and annotators with counts', () => {
    const db = join(tempDir(), 'i.db');
    const imported = run(['import', 'jsonl', SAMPLE, '--dataset', 'sample', ...MAP, '--db', db]);
    expect(imported.status, imported.stderr).toBe(0);
    const r = run(['info', '--json', '--db', db]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const info = JSON.parse(r.stdout);
    // the dataset's hash is the SHA-256 of the file's bytes (hashed while the import reads them)
    const fileSha256 = createHash('sha256').update(readFileSync(SAMPLE)).digest('hex');
    expect(info.datasets).toEqual([{ name: 'sample', format: 'jsonl', pairs: 30, contentHash: fileSha256 }]);
  });

  it('refuses a second dataset with the same name and changes nothing', () => {
    const dir = tempDir();
    const db = join(dir, 'twice.db');
    expect(run(['import', 'jsonl', SAMPLE, '--dataset', 'sample', ...MAP, '--db', db]).status).toBe(0);
    const r = run(['import', 'jsonl', SAMPLE, '--dataset', 'sample', ...MAP, '--db', db]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('discretion: dataset "sample" already exists; choose another dataset name (--dataset)\n');
  });

  it('a reading limit hit names the flag that raises it; skipped, the record says so too', () => {
    const dir = tempDir();
    const file = join(dir, 'long.jsonl');
    const ok = JSON.stringify({ prompt: 'p', response_0: 'a', response_1: 'b', id: 'one' });
    writeFileSync(
      file,
      `${ok}\n${JSON.stringify({ prompt: 'p'.repeat(2000), response_0: 'a', response_1: 'b', id: 'two' })}\n`,
    );
    const r = run([
      'import',
      'jsonl',
      file,
      '--dataset',
      'long',
      ...MAP,
      '--max-line-size',
      '1000',
      '--db',
      join(dir, 'a.db'),
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `discretion: ${file}:2: the line exceeds the limit of 1000 bytes, which can be raised (--max-line-size)\n`,
    );
    const nested = join(dir, 'nested.jsonl');
    writeFileSync(
      nested,
      `${ok}\n{"prompt":"p","response_0":"a","response_1":"b","id":"two","x":${'['.repeat(5)}${']'.repeat(5)}}\n`,
    );
    const s = run([
      'import',
      'jsonl',
      nested,
      '--dataset',
      'nested',
      ...MAP,
      '--max-json-depth',
      '3',
      '--on-error',
      'skip',
      '--json',
      '--db',
      join(dir, 'b.db'),
    ]);
    expect(s.status, s.stderr).toBe(0);
    expect(JSON.parse(s.stdout).skipped).toEqual([
      {
        line: 2,
        message: `${nested}:2: the record nests deeper than the limit of 3 levels, which can be raised (--max-json-depth)`,
      },
    ]);
  });
});
