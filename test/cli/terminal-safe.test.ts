// Hostile text in a dataset never reaches the terminal raw: every data-derived string the CLI prints
// (summaries, errors, info, runs, metrics, demo tables, usage errors) has its control and bidi characters
// escaped visibly; --json stays valid JSON with the same values. Also: export's CSV neutralises formulas as
// pairs.csv does, and export, report, train-rm and demo refuse a bad --out with one line.
// The built CLI (bin/discretion.js) is run as a user would, on real SQLite files in temp folders. That src/cli prints
// only through the helpers of src/cli/context.ts is an ESLint rule (eslint.config.mjs, test/lint/boundaries.test.ts).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../support/helpers';

const BIN = join(ROOT, 'bin', 'discretion.js');
const run = (args: string[], cwd = ROOT) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd, timeout: 60_000 });
const MAP = ['--prompt', 'prompt', '--response-0', 'response_0', '--response-1', 'response_1', '--id', 'id'];

// What a terminal must never receive raw (newline excepted: it ends our own lines). Written out by hand, not
// taken from the code under test.
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
// A name that clears the screen, sets the window title, turns text red, and reverses the rest (RLO).
const EVIL = '\x1b[2J\x1b]0;owned\x07\x1b[31mred\u202eevil\x9b1m';
const EVIL_SHOWN = '\\x1b[2J\\x1b]0;owned\\x07\\x1b[31mred\\u202eevil\\x9b1m';

const expectClean = (r: { stdout: string; stderr: string }) => {
  expect(r.stdout).not.toMatch(RAW_CONTROL);
  expect(r.stderr).not.toMatch(RAW_CONTROL);
};

describe('terminal-safe CLI output', () => {
  const dir = tempDir();
  const db = join(dir, 'evil.db');
  const sample = join(ROOT, 'media', 'sample', 'safety-pairs.jsonl');

  it('escapes a hostile dataset name in the import summary, info and the "known: ..." list; --json keeps the value', () => {
    const imp = run(['import', 'jsonl', sample, '--dataset', EVIL, '--db', db, ...MAP]);
    expect(imp.status, imp.stderr).toBe(0);
    expectClean(imp);
    expect(imp.stdout).toContain(`into dataset "${EVIL_SHOWN}"`);

    const info = run(['info', '--db', db]);
    expect(info.status, info.stderr).toBe(0);
    expectClean(info);
    expect(info.stdout).toContain(EVIL_SHOWN);

    const json = run(['info', '--db', db, '--json']);
    expect(json.status).toBe(0);
    expectClean(json);
    expect(JSON.parse(json.stdout).datasets[0].name).toBe(EVIL);

    const unknown = run(['export', '--db', db, '--dataset', 'nope', '--out', join(dir, 'x.jsonl')]);
    expect(unknown.status).toBe(1);
    expectClean(unknown);
    expect(unknown.stderr).toBe(`discretion: unknown dataset "nope" (known: ${EVIL_SHOWN})\n`);
  });

  it('escapes a hostile dataset name in the consistency summary (its text output goes through sayLines)', () => {
    const cdb = join(dir, 'evil-consistency.db');
    expect(run(['import', 'jsonl', sample, '--dataset', EVIL, '--db', cdb, ...MAP]).status).toBe(0);
    const r = run(['consistency', '--dataset', EVIL, '--db', cdb]);
    expect(r.status, r.stderr).toBe(0);
    expectClean(r);
    expect(r.stdout).toContain(`consistency of dataset "${EVIL_SHOWN}"`);
  });

  it('escapes JSON parse-error snippets, duplicate ids, bad labels and the skipped-record list', () => {
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"id": "a", \x1b[31m\u202e: 1}\n');
    const parse = run(['import', 'jsonl', bad, '--dataset', 'p', '--db', join(dir, 'p.db'), ...MAP]);
    expect(parse.status).toBe(1);
    expectClean(parse);
    expect(parse.stderr.trim().split('\n')).toHaveLength(1);

    const dup = join(dir, 'dup.jsonl');
    const rec = (id: string, extra = '') =>
      `{"id": ${JSON.stringify(id)}, "prompt": "p", "response_0": "a", "response_1": "b"${extra}}\n`;
    writeFileSync(dup, rec(EVIL) + rec(EVIL) + rec('c', ', "pref": "\\u001b[5mz\\u2066"') + rec('d'));
    const dupOnly = join(dir, 'dup-only.jsonl');
    writeFileSync(dupOnly, rec(EVIL) + rec(EVIL));
    const fail = run(['import', 'jsonl', dupOnly, '--dataset', 'd', '--db', join(dir, 'd.db'), ...MAP]);
    expect(fail.status).toBe(1);
    expectClean(fail);
    expect(fail.stderr).toContain(`duplicate id "${EVIL_SHOWN}"`);
    const label = run([
      'import',
      'jsonl',
      dup,
      '--dataset',
      'd',
      '--db',
      join(dir, 'd.db'),
      ...MAP,
      '--preferred',
      'pref',
    ]);
    expect(label.status).toBe(1);
    expectClean(label);
    expect(label.stderr).toContain('unknown preference "\\u001b[5mz\\u2066"');

    const skip = run([
      'import',
      'jsonl',
      dup,
      '--dataset',
      'd',
      '--db',
      join(dir, 'd.db'),
      ...MAP,
      '--preferred',
      'pref',
      '--on-error',
      'skip',
    ]);
    expect(skip.status, skip.stderr).toBe(0);
    expectClean(skip);
    expect(skip.stdout).toMatch(/skipped 2 bad record\(s\)/);
    expect(skip.stdout).toContain(`duplicate id "${EVIL_SHOWN}"`);
  });

  it('escapes principle labels in the metrics table and names in runs; metrics --json parses back to the same labels', () => {
    const mdb = join(dir, 'metrics.db');
    const list = join(dir, 'evil.yaml');
    writeFileSync(
      list,
      readFileSync(join(ROOT, 'media', 'principles', 'demo-safety.yaml'), 'utf8').replace(
        /short: "([^"]+)"/g,
        (_, s: string) => `short: "${s} \\e[5m\\u202E"`,
      ),
    );
    for (const args of [
      ['import', 'jsonl', sample, '--dataset', EVIL, ...MAP],
      ['import', 'principles', list, '--name', 'evil'],
      [
        'import',
        'labels',
        join(ROOT, 'media', 'sample', 'labels-alice.jsonl'),
        '--dataset',
        EVIL,
        '--principles',
        'evil',
        '--annotator',
        'alice',
      ],
      [
        'import',
        'labels',
        join(ROOT, 'media', 'sample', 'labels-bilal.jsonl'),
        '--dataset',
        EVIL,
        '--principles',
        'evil',
        '--annotator',
        `bilal${EVIL}`,
      ],
    ]) {
      const r = run([...args, '--db', mdb]);
      expect(r.status, r.stderr).toBe(0);
      expectClean(r);
    }
    const m = run([
      'metrics',
      '--db',
      mdb,
      '--dataset',
      EVIL,
      '--principles',
      'evil',
      '--principle-source',
      'self',
      '--reference',
      'alice',
      '--bootstrap',
      '0',
      '--da-bootstrap',
      '0',
    ]);
    expect(m.status, m.stderr).toBe(0);
    expectClean(m);
    expect(m.stdout).toContain('\\x1b[5m\\u202e'); // a top-principles cell
    expect(m.stdout).toContain(`bilal${EVIL_SHOWN}`);

    const mj = run(['metrics', '--db', mdb, '--run', '1', '--json']);
    expect(mj.status).toBe(0);
    expectClean(mj);
    expect(JSON.parse(mj.stdout).principles[0].short).toBe('Avoid harm \x1b[5m\u202e');

    const runs = run(['runs', '--db', mdb]);
    expect(runs.status).toBe(0);
    expectClean(runs);
    expect(runs.stdout).toContain(EVIL_SHOWN);

    const rep = run(['report', '--db', mdb, '--run', '1', '--out', join(dir, 'report'), '--format', 'md']);
    expect(rep.status, rep.stderr).toBe(0);
    const md = readFileSync(join(dir, 'report', 'report.md'), 'utf8');
    expect(md).not.toMatch(RAW_CONTROL);
    expect(md).toContain('\\\\x1b'); // shown as the text \x1b once rendered
  });

  it('prints a usage error as one line, with the arguments escaped', () => {
    const r = run(['info', `--${EVIL}`]);
    expect(r.status).toBe(1);
    expectClean(r);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(r.stderr).toMatch(/^discretion: unknown option/);
    const missing = run(['import', 'hh-rlhf', 'x.jsonl']);
    expect(missing.stderr).toBe(
      "discretion: required option '--dataset <name>' not specified (run with --help for usage)\n",
    );
  });
});

describe('export and report output files', () => {
  const dir = tempDir();
  const db = join(dir, 'f.db');
  const formulas = join(dir, 'formulas.jsonl');

  beforeAll(() => {
    writeFileSync(
      formulas,
      [
        {
          id: '=1+1',
          prompt: '=HYPERLINK("http://x","click")',
          response_0: "+cmd|' /C calc'!A0",
          response_1: '@SUM(A1)',
        },
        { id: 'plain', prompt: 'hello', response_0: '-2', response_1: 'ok' },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n') + '\n',
    );
    const r = run(['import', 'jsonl', formulas, '--dataset', 'f', '--db', db, ...MAP]);
    expect(r.status, r.stderr).toBe(0);
  });

  it("neutralises formula cells in export --format csv exactly as pairs.csv does (a leading ')", () => {
    const out = join(dir, 'f.csv');
    const r = run(['export', '--db', db, '--dataset', 'f', '--format', 'csv', '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    const rows = parseCsv(readFileSync(out, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(rows[0]).toMatchObject({
      source_id: "'=1+1",
      prompt: `'=HYPERLINK("http://x","click")`,
      response_0: "'+cmd|' /C calc'!A0",
      response_1: "'@SUM(A1)",
    });
    expect(rows[1]).toMatchObject({ source_id: 'plain', prompt: 'hello', response_0: "'-2", response_1: 'ok' });
  });

  it('export refuses a missing folder or a folder as --out with one line, and leaves nothing behind', () => {
    for (const [out, why] of [
      [join(dir, 'missing', 'x.jsonl'), /the folder .*missing does not exist/],
      [dir, /it is a folder/],
    ] as const) {
      const before = readdirSync(dir).sort();
      const r = run(['export', '--db', db, '--dataset', 'f', '--out', out]);
      expect(r.status).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(why);
      expect(readdirSync(dir).sort()).toEqual(before);
    }
  });

  it('report refuses --out onto an existing file with one line, before computing', () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'keep me');
    const r = run([
      'report',
      '--db',
      db,
      '--dataset',
      'f',
      '--principles',
      'none',
      '--principle-source',
      'self',
      '--reference',
      'x',
      '--out',
      file,
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`discretion: cannot write the report folder ${file}: it is a file, not a folder\n`);
    expect(readFileSync(file, 'utf8')).toBe('keep me');
  });

  it('train-rm --out where folders cannot be made ends at once with one line (it spun at 100% CPU forever)', () => {
    const r = run(['train-rm', '--db', db, '--dataset', 'f', '--annotator', 'nobody', '--out', '/proc/nope']);
    expect(r.error).toBeUndefined(); // not killed by the 60 s timeout
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^discretion: cannot write the model folder \/proc\/nope: /);
  });

  it('demo refuses to replace a folder it did not write', () => {
    const mine = join(dir, 'mine');
    mkdirSync(mine);
    writeFileSync(join(mine, 'thesis.tex'), 'precious');
    const r = run(['demo', '--out', mine]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/exists and is not a folder written by demo/);
    expect(existsSync(join(mine, 'thesis.tex'))).toBe(true);
  });
});
