// Windows line endings (issue 18, item 6): a file saved with CRLF line ends and a UTF-8 byte order mark imports
// exactly as the same content with LF ends does (same rows, no `\r` left in any text), and a bad record is named
// by the same line. Each case builds both files from one fixture string.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors';
import type { ImportSummary } from '../../src/importers/common';
import { importDataset } from '../../src/importers/datasets';
import { importJudgments } from '../../src/importers/judgments';
import { importLabels } from '../../src/importers/labels';
import { importPrincipleList } from '../../src/importers/principles';
import { loadTemplates } from '../../src/judges/llmJudge';
import type { Store } from '../../src/store';
import { dumpDatabase, openTempStore, tempDir } from '../support/helpers';

/** The fixture with every LF made CRLF, behind a byte order mark: what a Windows editor (or git's autocrlf) saves. */
const windows = (lf: string) => '\uFEFF' + lf.replace(/\n/g, '\r\n');

/** The same file name in two folders, one per line-ending style. */
function writeBoth(name: string, lf: string): { lf: string; crlf: string } {
  const root = tempDir('discretion-crlf-');
  const paths = { lf: join(root, 'lf', name), crlf: join(root, 'crlf', name) };
  mkdirSync(join(root, 'lf'));
  mkdirSync(join(root, 'crlf'));
  writeFileSync(paths.lf, lf);
  writeFileSync(paths.crlf, windows(lf));
  return paths;
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Every table, with what must differ masked: the file's folder, its bytes' hash, the time of the import. */
async function dumpMasked(store: Store, file: string): Promise<Record<string, string[]>> {
  const dir = JSON.stringify(join(file, '..')).slice(1, -1);
  const dump = await dumpDatabase(store);
  return Object.fromEntries(
    Object.entries(dump).map(([table, rows]) => [
      table,
      rows
        .map((r) =>
          r
            .split(dir)
            .join('DIR')
            .split(sha256(file))
            .join('FILE-SHA256')
            .replace(/"(created|updated)_at":"[^"]*"/g, '"$1_at":"T"'),
        )
        .sort(),
    ]),
  );
}

/** One store per file, prepared alike; the import's summary and the tables must come out the same. */
async function importBoth(
  name: string,
  fixture: string,
  run: (store: Store, file: string) => Promise<ImportSummary>,
  prepare: (store: Store) => Promise<void> = async () => undefined,
) {
  const files = writeBoth(name, fixture);
  const results = [];
  for (const file of [files.lf, files.crlf]) {
    const { store } = await openTempStore();
    await prepare(store);
    const summary = await run(store, file);
    results.push({ summary: { ...summary, file: 'FILE' }, tables: await dumpMasked(store, file) });
    await store.close();
  }
  const [lf, crlf] = results;
  expect(crlf.summary).toEqual(lf.summary);
  expect(crlf.tables).toEqual(lf.tables);
  const all = JSON.stringify(crlf.tables);
  expect(all, 'a carriage return is left in a stored text').not.toMatch(/\\r/);
  expect(all, 'a byte order mark is left in a stored text').not.toMatch(/\uFEFF|\\ufeff/i);
  return lf;
}

/** The same bad content fails with the same line, field and message in both files. */
async function failBoth(
  name: string,
  fixture: string,
  run: (store: Store, file: string) => Promise<unknown>,
  prepare: (store: Store) => Promise<void> = async () => undefined,
): Promise<InputError> {
  const files = writeBoth(name, fixture);
  const errors: InputError[] = [];
  for (const file of [files.lf, files.crlf]) {
    const { store } = await openTempStore();
    await prepare(store);
    const before = await dumpDatabase(store);
    const e = await run(store, file).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e, `${file} should have been refused`).toBeInstanceOf(InputError);
    expect(await dumpDatabase(store), 'nothing is written on error').toEqual(before);
    errors.push(e as InputError);
    await store.close();
  }
  const [lf, crlf] = errors;
  expect({ line: crlf.line, field: crlf.field, message: crlf.message.split(files.crlf).join('FILE') }).toEqual({
    line: lf.line,
    field: lf.field,
    message: lf.message.split(files.lf).join('FILE'),
  });
  return lf;
}

const HH = [
  JSON.stringify({
    chosen: '\n\nHuman: Hi there\n\nAssistant: Hello.',
    rejected: '\n\nHuman: Hi there\n\nAssistant: Go.',
  }),
  '',
  JSON.stringify({
    chosen: '\n\nHuman: Two\nlines?\n\nAssistant: Yes,\nsure. ',
    rejected: '\n\nHuman: Two\nlines?\n\nAssistant: No.',
  }),
  '',
].join('\n');

const PKU = [
  JSON.stringify({
    prompt: 'How?',
    response_0: 'Like this.',
    response_1: 'Not so.',
    better_response_id: 0,
    safer_response_id: 1,
    category: 'x',
  }),
  JSON.stringify({ prompt: 'Why?', response_0: 'A', response_1: 'B', better_response_id: '1', safer_response_id: 1 }),
].join('\n');

const GENERIC = {
  prompt: 'prompt',
  response0: 'response_0',
  response1: 'response_1',
  id: 'id',
  preferred: 'preferred',
};
const JSONL = [
  JSON.stringify({ id: 'a', prompt: 'P1', response_0: 'R0 ', response_1: 'R1', preferred: 'y1', note: 'n' }),
  JSON.stringify({ id: 'b', prompt: 'P2', response_0: 'x', response_1: 'y', preferred: 'tie' }),
  '',
].join('\n');

// A quoted cell across lines, an empty line between rows, a cell that ends in spaces, a last cell with no
// trailing newline after it: what spreadsheet exports hold.
const CSV = [
  'id,prompt,response_0,response_1,preferred,note',
  'a,"First line',
  'second line",R0,"R1, quoted",y0,',
  '',
  'b,P2,"x  ",y,1,"multi',
  'line',
  'note"',
  'c,P3,x,y,,last',
].join('\n');

async function baseDataset(store: Store): Promise<void> {
  await store.write(async (tx) => {
    const id = await tx.createDataset('base', 'jsonl', null);
    await tx.insertPairs(
      id,
      [0, 1, 2].map((i) => ({ idx: i, sourceId: ['a', 'b', 'c'][i], prompt: `q${i}`, y0: 'x', y1: 'y' })),
      [1, 2, 3],
    );
    await tx.savePrincipleList(
      'two',
      [
        { id: 'p0', short: 'A', text: 'Be kind.' },
        { id: 'p1', short: 'B', text: 'Be honest.' },
      ],
      null,
    );
  });
}

describe('datasets with CRLF line ends and a byte order mark import as with LF', () => {
  it('hh-rlhf (JSONL)', () =>
    importBoth('hh.jsonl', HH, (s, file) => importDataset(s, { format: 'hh-rlhf', file, dataset: 'hh' })));
  it('pku-saferlhf (JSONL)', () =>
    importBoth('pku.jsonl', PKU, (s, file) => importDataset(s, { format: 'pku-saferlhf', file, dataset: 'pku' })));
  it('generic JSONL', () =>
    importBoth('g.jsonl', JSONL, (s, file) =>
      importDataset(s, { format: 'jsonl', file, dataset: 'g', mapping: GENERIC }),
    ));
  it('CSV, with cells across lines (their line ends are read as LF too)', async () => {
    const lf = await importBoth('g.csv', CSV, (s, file) =>
      importDataset(s, { format: 'csv', file, dataset: 'g', mapping: GENERIC }),
    );
    expect(lf.summary.imported).toBe(3);
    expect(lf.tables.pairs.join('\n')).toContain('First line\\nsecond line');
  });

  it('CSV: a CRLF split between two read chunks (the reader reads 1 MiB at a time) is one line end', async () => {
    const head = 'id,prompt,response_0,response_1\n';
    // The byte order mark (3 bytes) and the header's CR come before; the cell's CR is the chunk's last byte.
    const filler = 'x'.repeat((1 << 20) - 1 - 3 - (head.length + 1) - 'a,"'.length);
    const lf = await importBoth('big.csv', `${head}a,"${filler}\nmore",y0,y1\nb,p,r0,r1\n`, (s, file) =>
      importDataset(s, { format: 'csv', file, dataset: 'g', mapping: { ...GENERIC, preferred: undefined } }),
    );
    expect(lf.summary.imported).toBe(2);
  });

  it('a bad record is named by the same line (JSONL after a blank line; CSV after cells across lines)', async () => {
    const e1 = await failBoth('bad.jsonl', JSONL.replace('"tie"', '"maybe"'), (s, file) =>
      importDataset(s, { format: 'jsonl', file, dataset: 'g', mapping: GENERIC }),
    );
    expect([e1.line, e1.field]).toEqual([2, 'preferred']);
    const e2 = await failBoth('bad.csv', CSV.replace(',,last', ',maybe,last'), (s, file) =>
      importDataset(s, { format: 'csv', file, dataset: 'g', mapping: GENERIC }),
    );
    expect([e2.line, e2.field]).toEqual([8, 'preferred']);
    const e3 = await failBoth('bad.csv', CSV.replace('b,P2', 'a,P2'), (s, file) =>
      importDataset(s, { format: 'csv', file, dataset: 'g', mapping: GENERIC }),
    );
    expect(e3.message).toMatch(/duplicate id "a" \(first on line 3\)/);
    const e4 = await failBoth('bad.csv', CSV.replace('c,P3,x,y,,last', 'c,P3,x,y,,last,extra'), (s, file) =>
      importDataset(s, { format: 'csv', file, dataset: 'g', mapping: GENERIC }),
    );
    expect(e4.line).toBe(8);
  });
});

describe('labels, judgments and principle lists with CRLF line ends import as with LF', () => {
  const LABELS = [
    JSON.stringify({ pair: 'a', overall: 'y1', principles: { p0: 'y0' }, rationale: 'short' }),
    '',
    JSON.stringify({ pair: 'b', overall: 'both-bad', rationale: 'two\nlines' }),
  ].join('\n');
  const labels = (s: Store, file: string) =>
    importLabels(s, { file, dataset: 'base', principles: 'two', annotator: 'ana' });

  it('labels (JSONL), and a bad one named by its line', async () => {
    await importBoth('labels.jsonl', LABELS, labels, baseDataset);
    const e = await failBoth('labels.jsonl', LABELS.replace('"both-bad"', '"worse"'), labels, baseDataset);
    expect([e.line, e.field]).toEqual([3, 'overall']);
  });

  const JUDGMENTS: Record<'oracle' | 'rewards' | 'judge' | 'loglik', string> = {
    oracle: 'row_id,principle_id,order,prob_A,prob_B,prob_NA,cost\n0,0,0,0.7,0.2,0.1,0.5\n0,1,1,0.1,0.8,0.1,\n',
    rewards: 'row_id,reward_a,reward_b\n0,1.5,-2\n\n1,0.25,0.5\n2,3,3',
    judge: 'row_id,order,prob_A,prob_B,prob_NA\n0,0,0.6,0.3,0.1\n0,1,0.2,0.7,0.1\n1,0,0.5,0.5,0\n',
    loglik:
      'row_id,order,log_prob_chat_chosen,log_prob_chat_rejected,reward_a\n0,"0,1",-3.5,-4.25,0.5\n0,"1,0",-3.5,-4.25,0.25\n',
  };
  for (const [format, fixture] of Object.entries(JUDGMENTS) as [keyof typeof JUDGMENTS, string][]) {
    const run = (s: Store, file: string) =>
      importJudgments(s, { format, file, dataset: 'base', annotator: 'm', principles: 'two' });
    it(`judgments: ${format} (CSV), and a bad row named by its line`, async () => {
      await importBoth(`${format}.csv`, fixture, run, baseDataset);
      const bad = fixture.split('\n');
      const last = bad.length - (bad.at(-1) === '' ? 2 : 1);
      bad[last] = bad[last].replace(/^\d+,/, 'x,');
      const e = await failBoth(`${format}.csv`, bad.join('\n'), run, baseDataset);
      expect([e.line, e.field]).toEqual([last + 1, 'row_id']);
    });
  }

  const principles = (shortFile?: string) => (s: Store, file: string) =>
    importPrincipleList(s, { file, name: 'list', ...(shortFile ? { shortFile } : {}) });

  it('principle lists: .txt (and its short labels), YAML with block and quoted text, JSON', async () => {
    await importBoth('list.txt', 'Be kind.  \n\nBe honest.\n', principles());
    const shorts = writeBoth('short.txt', 'Kind\nHonest\n');
    const txt = writeBoth('list.txt', 'Be kind.\nBe honest.\n');
    const [a, b] = [await openTempStore(), await openTempStore()];
    await principles(shorts.lf)(a.store, txt.lf);
    await principles(shorts.crlf)(b.store, txt.crlf);
    expect(await b.store.requirePrincipleList('list')).toEqual(await a.store.requirePrincipleList('list'));
    expect((await a.store.requirePrincipleList('list')).principles.map((p) => p.short)).toEqual(['Kind', 'Honest']);
    await importBoth(
      'list.yaml',
      [
        'name: safety',
        'principles:',
        '  - id: kind',
        '    short: Kind',
        '    text: |',
        '      Be kind,',
        '      always.',
        '  - id: honest',
        '    text: "Be',
        '      honest."',
        '  - id: folded',
        '    text: >-',
        '      One',
        '      sentence.',
        '',
      ].join('\n'),
      principles(),
    );
    await importBoth(
      'list.json',
      JSON.stringify(
        [
          { id: 'kind', short: 'Kind', text: 'Be kind.' },
          { id: 'honest', text: 'Be honest.' },
        ],
        null,
        2,
      ),
      principles(),
    );
  });

  it('principle lists: an error is named by the same line (YAML, JSON, short labels)', async () => {
    const e1 = await failBoth('bad.yaml', '- id: a\n  text: A\n- id: a\n  text: B\n', principles());
    expect([e1.line, e1.field]).toEqual([3, 'id']);
    const e2 = await failBoth(
      'bad.json',
      '[\n  {"id": "a", "text": "A"},\n  {"id": "b", "text": 3}\n]\n',
      principles(),
    );
    expect([e2.line, e2.field]).toEqual([3, 'text']);
    const e3 = await failBoth('bad.yaml', '- id: a\n  text: A\n- id: b\n  text: [unclosed\n', principles());
    expect(e3.line).toBeGreaterThanOrEqual(4);
    const shorts = writeBoth('short.txt', 'Kind\n\n' + 'x'.repeat(61) + '\n');
    const txt = writeBoth('list.txt', 'Be kind.\nBe honest.\n');
    const errs: InputError[] = [];
    for (const [list, short] of [
      [txt.lf, shorts.lf],
      [txt.crlf, shorts.crlf],
    ]) {
      const { store } = await openTempStore();
      errs.push(
        await principles(short)(store, list).then(
          () => undefined as never,
          (e: InputError) => e,
        ),
      );
    }
    expect(errs.map((e) => e.line)).toEqual([3, 3]);
  });
});

describe('prompt templates with CRLF line ends and a byte order mark', () => {
  it('load as their LF text (same prompts, same hashes)', () => {
    const root = tempDir('discretion-crlf-');
    const media = join(__dirname, '..', '..', 'media', 'prompts');
    for (const style of ['lf', 'crlf'] as const) {
      mkdirSync(join(root, style));
      for (const f of ['system.txt', 'judge.txt', 'oracle.txt']) {
        const lf = readFileSync(join(media, f), 'utf8');
        writeFileSync(join(root, style, f), style === 'lf' ? lf : windows(lf));
      }
    }
    const lf = loadTemplates(join(root, 'lf'));
    const crlf = loadTemplates(join(root, 'crlf'));
    expect(crlf).toEqual(lf);
    expect(JSON.stringify(crlf)).not.toMatch(/\\r|\uFEFF/);
  });
});
