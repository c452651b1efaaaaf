// `import parquet`: files written here by an independent writer (parquet-wasm, Rust's arrow-rs, from Arrow
// tables) from rows this test defines, read back by the importer (hyparquet). The expected pairs and
// preferences come from those rows. Every bad input is one InputError naming the file, the row ("row N")
// and the field, and leaves the database exactly as it was.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors';
import { importDataset } from '../../src/importers/datasets';
import type { Store } from '../../src/store';
import { openSqliteStore } from '../../src/store/sqlite/adapter';
import { makeBaseDatabase } from '../fuzz/base';
import { dumpDatabase, expectRejected, ROOT, tempDir } from '../support/helpers';
import {
  binary,
  CODECS,
  int64,
  listOf,
  messages,
  parquetBytes,
  struct,
  timestampMs,
  utf8,
  writeParquet,
} from '../support/parquet';

const GENERIC = {
  prompt: 'prompt',
  response0: 'response_0',
  response1: 'response_1',
  id: 'id',
  preferred: 'preferred',
};
const WORDS = ['y0', 'y1', 'tie', '', '0', '1', 'Y1'];
const VALUE: Record<string, -1 | 0 | 1 | null> = { y0: -1, '0': -1, y1: 1, '1': 1, Y1: 1, tie: 0, '': null };
/** The rows of the generic files: text columns plus a number that becomes metadata. */
const ROWS = WORDS.map((preferred, i) => ({
  id: `r${i}`,
  prompt: `prompt ${i}: ünïcödé ✓ "quoted"\nsecond line`,
  response_0: `answer A${i}`,
  response_1: `answer B${i}`,
  preferred,
  score: i + 0.5,
}));

let dir: string;
let store: Store;
beforeEach(async () => {
  dir = tempDir();
  // The fuzz suite's base: dataset "base" (pairs a, b, c), principle list "two", so "unchanged" means something.
  const path = join(dir, 'test.db');
  await makeBaseDatabase(path);
  store = await openSqliteStore(path);
  return () => store.close();
});

/** A dataset's pairs and the preferences of one annotator, as plain values. */
async function pairsOf(name: string, annotator = 'human') {
  const ds = await store.requireDataset(name);
  const pairs = await store.listPairs(ds.id, 0, 1e6);
  const prefs = new Map<number, unknown>();
  for (const p of await store.preferencesForPairs(pairs.map((x) => x.pairRowId)))
    if (p.annotator === annotator) prefs.set(p.pairRowId, p.value);
  return pairs.map((p) => ({
    id: p.idx,
    sourceId: p.sourceId,
    prompt: p.prompt,
    y0: p.y0,
    y1: p.y1,
    meta: p.meta ?? null,
    preference: prefs.has(p.pairRowId) ? prefs.get(p.pairRowId) : 'none',
  }));
}

const expectedGeneric = (rows: typeof ROWS, firstIndex = 0) =>
  rows.map((r, k) => ({
    id: firstIndex + k,
    sourceId: r.id,
    prompt: r.prompt,
    y0: r.response_0,
    y1: r.response_1,
    meta: { score: r.score },
    preference: VALUE[r.preferred],
  }));

describe('one Parquet file per codec, several row groups', () => {
  for (const codec of CODECS) {
    it(`${codec}: every row becomes its pair, with its preference and metadata`, async () => {
      const file = writeParquet(join(dir, `${codec}.parquet`), ROWS, { codec, rowGroupSize: 3 });
      const s = await importDataset(store, { format: 'parquet', file, dataset: 'pq', mapping: GENERIC });
      expect(s.counts).toEqual({ pairs: 7, preferences: 7 });
      expect(s.skipped).toEqual([]);
      expect(await pairsOf('pq')).toEqual(expectedGeneric(ROWS));
      const info = await store.info();
      expect(info.datasets.find((d) => d.name === 'pq')).toMatchObject({ format: 'parquet', pairs: 7 });
    });
  }

  it('a file without dictionary encoding, one row group per row, reads the same', async () => {
    const file = writeParquet(join(dir, 'plain.parquet'), ROWS, {
      codec: 'ZSTD',
      rowGroupSize: 1,
      dictionary: false,
    });
    await importDataset(store, { format: 'parquet', file, dataset: 'pq', mapping: GENERIC });
    expect(await pairsOf('pq')).toEqual(expectedGeneric(ROWS));
  });
});

describe('a Hugging Face dataset folder', () => {
  const README = [
    '---',
    'license: mit',
    'configs:',
    '- config_name: default',
    '  default: true',
    '  data_files:',
    '  - split: train',
    '    path: data/train-*',
    '  - split: test',
    '    path: data/test-*',
    '- config_name: small',
    '  data_files: small/*.parquet',
    '---',
    '# A dataset card',
    '',
  ].join('\n');

  function makeFolder(readme: string | null = README): string {
    const root = join(dir, 'hf-dataset');
    mkdirSync(join(root, 'data'), { recursive: true });
    mkdirSync(join(root, 'small'), { recursive: true });
    if (readme !== null) writeFileSync(join(root, 'README.md'), readme);
    writeParquet(join(root, 'data', 'train-00000-of-00002.parquet'), ROWS.slice(0, 3), { codec: 'SNAPPY' });
    writeParquet(join(root, 'data', 'train-00001-of-00002.parquet'), ROWS.slice(3, 5), {
      codec: 'ZSTD',
      rowGroupSize: 1,
    });
    writeParquet(join(root, 'data', 'test-00000-of-00001.parquet'), ROWS.slice(5), { codec: 'GZIP' });
    writeParquet(join(root, 'small', 'only.parquet'), ROWS.slice(6), { codec: 'BROTLI' });
    return root;
  }

  it('reads the default config\'s "train" split: its shards in order, pair indexes running on across them', async () => {
    const root = makeFolder();
    const s = await importDataset(store, { format: 'parquet', file: root, dataset: 'hf', mapping: GENERIC });
    expect(s.counts.pairs).toBe(5);
    expect(s.notes).toEqual(['split "train" of config "default": 2 file(s) (splits: train, test)']);
    expect(await pairsOf('hf')).toEqual(expectedGeneric(ROWS.slice(0, 5)));
  });

  it('--split and --config choose another split or config', async () => {
    const root = makeFolder();
    await importDataset(store, { format: 'parquet', file: root, dataset: 't', split: 'test', mapping: GENERIC });
    expect(await pairsOf('t')).toEqual(expectedGeneric(ROWS.slice(5)));
    await importDataset(store, { format: 'parquet', file: root, dataset: 's', config: 'small', mapping: GENERIC });
    expect(await pairsOf('s')).toEqual(expectedGeneric(ROWS.slice(6)));
  });

  it('an unknown split or config is one clear error listing the choices, and writes nothing', async () => {
    const root = makeFolder();
    const before = await dumpDatabase(store);
    const split = await importDataset(store, {
      format: 'parquet',
      file: root,
      dataset: 'x',
      split: 'validation',
      mapping: GENERIC,
    }).catch((e: unknown) => e);
    expect(split).toBeInstanceOf(UsageError);
    expect((split as UsageError).message).toBe(
      `no split "validation" in ${root}; its splits (from README.md, config "default"): train, test`,
    );
    expect((split as UsageError).option).toBe('split');
    const config = await importDataset(store, {
      format: 'parquet',
      file: root,
      dataset: 'x',
      config: 'big',
      mapping: GENERIC,
    }).catch((e: unknown) => e);
    expect((config as UsageError).message).toBe(
      `no config "big" in ${join(root, 'README.md')}; its configs: default, small`,
    );
    expect(await dumpDatabase(store)).toEqual(before);
  });

  it('without a README, the shard names tell the splits; several and none chosen is one error listing them', async () => {
    const root = makeFolder(null);
    await importDataset(store, { format: 'parquet', file: root, dataset: 'hf', mapping: GENERIC });
    expect(await pairsOf('hf')).toEqual(expectedGeneric(ROWS.slice(0, 5)));

    const two = join(dir, 'two-splits');
    mkdirSync(join(two, 'data'), { recursive: true });
    writeParquet(join(two, 'data', 'test-00000-of-00001.parquet'), ROWS.slice(0, 2));
    writeParquet(join(two, 'data', 'validation-00000-of-00001.parquet'), ROWS.slice(2, 4));
    const e = await importDataset(store, { format: 'parquet', file: two, dataset: 'x', mapping: GENERIC }).catch(
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(UsageError);
    expect((e as UsageError).message).toBe(
      `${two} has several splits (from its file names: test, validation): choose one`,
    );
    await importDataset(store, { format: 'parquet', file: two, dataset: 'v', split: 'validation', mapping: GENERIC });
    expect(await pairsOf('v')).toEqual(expectedGeneric(ROWS.slice(2, 4)));
  });

  it('a split whose files were not downloaded does not stop another split; asked for, it is one error', async () => {
    const root = makeFolder();
    rmSync(join(root, 'data', 'test-00000-of-00001.parquet'));
    await importDataset(store, { format: 'parquet', file: root, dataset: 'hf', mapping: GENERIC });
    expect((await pairsOf('hf')).length).toBe(5);
    await expectRejected(
      store,
      () => importDataset(store, { format: 'parquet', file: root, dataset: 'x', split: 'test', mapping: GENERIC }),
      {
        file: join(root, 'README.md'),
        line: null,
        field: 'configs',
        message: /split "test": no file of the folder matches "data\/test-\*"$/,
      },
    );
  });

  it('a split with a shard missing is refused, naming the shard', async () => {
    const root = join(dir, 'gap');
    mkdirSync(join(root, 'data'), { recursive: true });
    writeParquet(join(root, 'data', 'train-00000-of-00003.parquet'), ROWS.slice(0, 2));
    writeParquet(join(root, 'data', 'train-00002-of-00003.parquet'), ROWS.slice(2, 4));
    await expectRejected(
      store,
      () => importDataset(store, { format: 'parquet', file: root, dataset: 'x', mapping: GENERIC }),
      {
        file: root,
        line: null,
        message: /split "train" is missing its shard data\/train-00001-of-00003\.parquet \(2 of 3 present\)/,
      },
    );
  });

  it('a duplicate id in a later shard names that shard and row, and the first one', async () => {
    const root = join(dir, 'dup');
    mkdirSync(join(root, 'data'), { recursive: true });
    const a = writeParquet(join(root, 'data', 'train-00000-of-00002.parquet'), ROWS.slice(0, 3));
    const b = writeParquet(join(root, 'data', 'train-00001-of-00002.parquet'), [ROWS[3], { ...ROWS[4], id: 'r1' }]);
    await expectRejected(
      store,
      () => importDataset(store, { format: 'parquet', file: root, dataset: 'x', mapping: GENERIC }),
      {
        file: b,
        line: 2,
        field: 'id',
        message: new RegExp(
          `^${b.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: row 2: field "id": duplicate id "r1" \\(first in row 2 of ${a.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)$`,
        ),
      },
    );
  });

  it('data_files that are not Parquet, or that leave the folder, are refused', async () => {
    const root = join(dir, 'jsonl-card');
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'train.jsonl'), '{}\n');
    writeFileSync(join(root, 'README.md'), '---\nconfigs:\n- config_name: default\n  data_files: train.jsonl\n---\n');
    await expectRejected(
      store,
      () => importDataset(store, { format: 'parquet', file: root, dataset: 'x', mapping: GENERIC }),
      {
        file: join(root, 'train.jsonl'),
        line: null,
        message: /split "train" holds this file, which is not a \.parquet file/,
      },
    );
    writeFileSync(join(root, 'README.md'), '---\nconfigs:\n- config_name: default\n  data_files: ../*.parquet\n---\n');
    await expectRejected(
      store,
      () => importDataset(store, { format: 'parquet', file: root, dataset: 'x', mapping: GENERIC }),
      {
        file: join(root, 'README.md'),
        line: null,
        field: 'configs',
        message: /the path "\.\.\/\*\.parquet" is not inside the dataset folder/,
      },
    );
  });
});

describe('nested fields (a.b.c) and Parquet types in the metadata', () => {
  it('maps nested struct fields and keeps the other columns as metadata, JSON-safe', async () => {
    const rows = [0, 1].map((i) => ({
      conv: { prompt: `nested prompt ${i}`, answers: { a: `nested a${i}`, b: `nested b${i}` } },
      big: i === 0 ? 2n ** 60n : 42n,
      when: new Date(Date.UTC(2024, 0, 2 + i, 3, 4, 5)),
      tags: i === 0 ? ['x', 'y'] : [],
      note: i === 0 ? null : 'kept',
    }));
    const file = writeParquet(join(dir, 'nested.parquet'), rows, {
      types: {
        conv: struct({ prompt: utf8(), answers: struct({ a: utf8(), b: utf8() }) }),
        big: int64(),
        when: timestampMs(),
        tags: listOf(utf8()),
        note: utf8(),
      },
    });
    await importDataset(store, {
      format: 'parquet',
      file,
      dataset: 'n',
      mapping: { prompt: 'conv.prompt', response0: 'conv.answers.a', response1: 'conv.answers.b' },
    });
    expect(await pairsOf('n')).toEqual(
      rows.map((r, i) => ({
        id: i,
        sourceId: String(i),
        prompt: r.conv.prompt,
        y0: r.conv.answers.a,
        y1: r.conv.answers.b,
        meta: {
          conv: r.conv,
          // an int64 beyond 2^53 keeps its digits as text; a timestamp is ISO text
          big: i === 0 ? '1152921504606846976' : 42,
          when: r.when.toISOString(),
          tags: r.tags,
          note: r.note,
        },
        preference: 'none',
      })),
    );
  });
});

describe('binary columns', () => {
  it('are kept as {"base64": ...} in the metadata, and refused as a prompt or response', async () => {
    const rows = ROWS.slice(0, 2).map((r, i) => ({ ...r, blob: Buffer.from([0, 255, i]) }));
    const file = writeParquet(join(dir, 'binary.parquet'), rows, { types: { blob: binary() } });
    await importDataset(store, { format: 'parquet', file, dataset: 'b', mapping: GENERIC });
    expect((await pairsOf('b')).map((p) => p.meta)).toEqual([
      { score: 0.5, blob: { base64: 'AP8A' } },
      { score: 1.5, blob: { base64: 'AP8B' } },
    ]);
    await expectRejected(
      store,
      () => importDataset(store, { format: 'parquet', file, dataset: 'x', mapping: { ...GENERIC, response1: 'blob' } }),
      {
        file,
        line: 1,
        field: 'blob',
        message: /: row 1: field "blob": must be a string or a message list, not binary data$/,
      },
    );
  });
});

describe('chat message lists ([{role, content}]) become the prompt turns and the responses', () => {
  const m = (role: string, content: string) => ({ role, content });

  it("TRL's implicit prompt: the shared earlier turns of chosen and rejected are the prompt, the last assistant messages the responses", async () => {
    const turns = [m('system', 'Be brief.'), m('user', 'q1'), m('assistant', 'a1'), m('user', 'q2')];
    const rows = [
      { chosen: [...turns, m('assistant', 'good answer')], rejected: [...turns, m('assistant', 'bad answer')] },
    ];
    const file = writeParquet(join(dir, 'trl.parquet'), rows, { types: { chosen: messages(), rejected: messages() } });
    await importDataset(store, {
      format: 'parquet',
      file,
      dataset: 'c',
      mapping: { response0: 'rejected', response1: 'chosen', preferred: 'chosen' },
    });
    expect(await pairsOf('c')).toEqual([
      {
        id: 0,
        sourceId: '0',
        prompt: 'Be brief.\n\nHuman: q1\n\nAssistant: a1\n\nHuman: q2\n\nAssistant:',
        y0: 'bad answer',
        y1: 'good answer',
        meta: null,
        preference: 1,
      },
    ]);
  });

  it("TRL's explicit prompt (a message list) and a prompt repeated inside chosen/rejected (a string) give HH-RLHF's form", async () => {
    const explicit = writeParquet(
      join(dir, 'explicit.parquet'),
      [
        {
          prompt: [m('user', 'How do I pick a lock?')],
          chosen: [m('assistant', 'Call a locksmith.')],
          rejected: [m('assistant', 'Use a tension wrench.')],
        },
      ],
      { types: { prompt: messages(), chosen: messages(), rejected: messages() } },
    );
    await importDataset(store, {
      format: 'parquet',
      file: explicit,
      dataset: 'e',
      mapping: { prompt: 'prompt', response0: 'rejected', response1: 'chosen', preferred: 'chosen' },
    });
    const repeated = writeParquet(
      join(dir, 'repeated.parquet'),
      [
        {
          prompt: 'How do I pick a lock?',
          chosen: [m('user', 'How do I pick a lock?'), m('assistant', 'Call a locksmith.')],
          rejected: [m('user', 'How do I pick a lock?'), m('assistant', 'Use a tension wrench.')],
        },
      ],
      { types: { prompt: utf8(), chosen: messages(), rejected: messages() } },
    );
    await importDataset(store, {
      format: 'parquet',
      file: repeated,
      dataset: 'r',
      mapping: { prompt: 'prompt', response0: 'rejected', response1: 'chosen', preferred: 'chosen' },
    });
    const hh = {
      id: 0,
      sourceId: '0',
      prompt: '\n\nHuman: How do I pick a lock?\n\nAssistant:',
      y0: 'Use a tension wrench.',
      y1: 'Call a locksmith.',
      meta: null,
      preference: 1,
    };
    expect(await pairsOf('e')).toEqual([hh]);
    expect(await pairsOf('r')).toEqual([hh]);
  });

  it('a list that does not end with the assistant, or responses to different dialogues, name the row and field', async () => {
    const ok = { chosen: [m('user', 'q'), m('assistant', 'a')], rejected: [m('user', 'q'), m('assistant', 'b')] };
    const types = { types: { chosen: messages(), rejected: messages() } };
    const notAssistant = writeParquet(
      join(dir, 'last-user.parquet'),
      [ok, { chosen: [m('user', 'q'), m('user', 'a')], rejected: ok.rejected }],
      types,
    );
    await expectRejected(store, () => importDataset(store, { format: 'parquet', file: notAssistant, dataset: 'x' }), {
      file: notAssistant,
      line: 2,
      field: 'chosen',
      message: /: row 2: field "chosen": the last message is the "user"'s, not the assistant's response$/,
    });
    const differ = writeParquet(
      join(dir, 'differ.parquet'),
      [ok, ok, { chosen: ok.chosen, rejected: [m('user', 'another q'), m('assistant', 'b')] }],
      types,
    );
    await expectRejected(store, () => importDataset(store, { format: 'parquet', file: differ, dataset: 'x' }), {
      file: differ,
      line: 3,
      field: 'chosen',
      message: /the messages before the response differ from those of "rejected" \(from message 1 on\)/,
    });
  });
});

describe('the chosen/rejected layout', () => {
  it('--preferred naming the chosen field: y0 = rejected, y1 = chosen, +1, exactly as import hh-rlhf stores HH-RLHF', async () => {
    const rows = [0, 1, 2].map((i) => ({
      prompt: `\n\nHuman: question ${i}\n\nAssistant:`,
      chosen: `helpful ${i}`,
      rejected: `harmful ${i}`,
    }));
    const file = writeParquet(join(dir, 'cr.parquet'), rows);
    await importDataset(store, {
      format: 'parquet',
      file,
      dataset: 'cr',
      preferredAnnotator: 'labeller',
      mapping: { prompt: 'prompt', response0: 'rejected', response1: 'chosen', preferred: 'chosen' },
    });
    const hhFile = join(dir, 'cr.jsonl');
    writeFileSync(
      hhFile,
      rows
        .map((r) => JSON.stringify({ chosen: `${r.prompt} ${r.chosen}`, rejected: `${r.prompt} ${r.rejected}` }))
        .join('\n'),
    );
    await importDataset(store, { format: 'hh-rlhf', file: hhFile, dataset: 'hh' });
    const expected = rows.map((r, i) => ({
      id: i,
      sourceId: String(i),
      prompt: r.prompt,
      y0: r.rejected,
      y1: r.chosen,
      meta: null,
      preference: 1,
    }));
    expect(await pairsOf('cr', 'labeller')).toEqual(expected);
    expect((await pairsOf('hh')).map(({ meta: _m, ...p }) => p)).toEqual(expected.map(({ meta: _m, ...p }) => p));
  });

  it('without a mapping the layout is assumed, and no preference is stored unless --preferred names one', async () => {
    const m = (role: string, content: string) => ({ role, content });
    const file = writeParquet(
      join(dir, 'cr2.parquet'),
      [{ chosen: [m('user', 'p'), m('assistant', 'c')], rejected: [m('user', 'p'), m('assistant', 'r')], extra: 'e' }],
      { types: { chosen: messages(), rejected: messages() } },
    );
    const s = await importDataset(store, { format: 'parquet', file, dataset: 'cr' });
    expect(s.counts).toEqual({ pairs: 1, preferences: 0 });
    expect(await pairsOf('cr')).toEqual([
      {
        id: 0,
        sourceId: '0',
        prompt: '\n\nHuman: p\n\nAssistant:',
        y0: 'r',
        y1: 'c',
        meta: { extra: 'e' },
        preference: 'none',
      },
    ]);
    // text responses and no prompt field mapped: the prompt is missing
    const text = writeParquet(join(dir, 'cr3.parquet'), [{ prompt: 'p', chosen: 'c', rejected: 'r' }]);
    await expectRejected(store, () => importDataset(store, { format: 'parquet', file: text, dataset: 'x' }), {
      file: text,
      line: 1,
      field: 'chosen',
      message: /no prompt: no prompt field is mapped and the responses are not message lists/,
      option: 'fieldMapping',
    });
  });
});

describe('limits: a record and a page, each error naming the file, the row and the field', () => {
  /** Deterministic text that compresses little (letters from a linear congruential generator). */
  const noise = (seed: number, n: number) => {
    let x = seed;
    let s = '';
    for (let i = 0; i < n; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      s += String.fromCharCode(97 + (x % 26));
    }
    return s;
  };

  it('a record larger than --max-line-size (as a JSON line) names its row and largest field; skip leaves it out', async () => {
    const rows = ROWS.map((r, i) => (i === 2 ? { ...r, prompt: 'p'.repeat(3000) } : r));
    const file = writeParquet(join(dir, 'long.parquet'), rows);
    await expectRejected(
      store,
      () =>
        importDataset(store, {
          format: 'parquet',
          file,
          dataset: 'x',
          mapping: GENERIC,
          limits: { maxLineBytes: 1000 },
        }),
      {
        file,
        line: 3,
        field: 'prompt',
        message:
          /: row 3: field "prompt": the record \(3103 bytes as a JSON line; this field is its largest\) exceeds the limit of 1000 bytes, which can be raised$/,
        option: 'maxLineBytes',
      },
    );
    const s = await importDataset(store, {
      format: 'parquet',
      file,
      dataset: 'x',
      mapping: GENERIC,
      onError: 'skip',
      limits: { maxLineBytes: 1000 },
    });
    expect(s.counts.pairs).toBe(6);
    expect(s.skipped).toEqual([expect.objectContaining({ line: 3, option: 'maxLineBytes' })]);
  });

  it('a value nesting deeper than --max-json-depth names its row and field', async () => {
    const deep = ROWS.map((r, i) => ({ ...r, deep: i === 1 ? [[[['x']]]] : null }));
    const file = writeParquet(join(dir, 'deep.parquet'), deep, {
      types: { deep: listOf(listOf(listOf(listOf(utf8())))) },
    });
    await expectRejected(
      store,
      () =>
        importDataset(store, { format: 'parquet', file, dataset: 'x', mapping: GENERIC, limits: { maxJsonDepth: 4 } }),
      {
        file,
        line: 2,
        field: 'deep',
        message: /the record nests deeper than the limit of 4 levels, which can be raised$/,
        option: 'maxJsonDepth',
      },
    );
    // the record, its list and three more levels: five, accepted with the limit at 5
    const s = await importDataset(store, {
      format: 'parquet',
      file,
      dataset: 'x',
      mapping: GENERIC,
      limits: { maxJsonDepth: 5 },
    });
    expect(s.counts.pairs).toBe(7);
  });

  it("the pages' decompressed size beyond --max-decompressed-size names the page's first row and column", async () => {
    const rows = Array.from({ length: 150 }, (_, i) => ({ id: `n${i}`, text: noise(i + 1, 1000) }));
    const file = writeParquet(join(dir, 'pages.parquet'), rows, { codec: 'ZSTD', rowGroupSize: 50, dictionary: false });
    await expectRejected(
      store,
      () =>
        importDataset(store, {
          format: 'parquet',
          file,
          dataset: 'x',
          mapping: { prompt: 'id', response0: 'text', response1: 'text' },
          limits: { maxDecompressedBytes: 120 * 1024 },
        }),
      {
        file,
        line: 101,
        field: 'text',
        message:
          /: row 101: field "text": the decompressed data of a page of this column \(rows 101-150\) exceeds the limit of 120 KiB, which can be raised$/,
        option: 'maxDecompressedBytes',
      },
    );
  });

  it('a page that inflates past --max-compression-ratio is refused before it is inflated; a raised limit reads it', async () => {
    const rows = [
      { prompt: 'p', response_0: 'a', response_1: 'b' },
      { prompt: 'q', response_0: 'x'.repeat(4 << 20), response_1: 'c' },
    ];
    const file = writeParquet(join(dir, 'bomb.parquet'), rows, { codec: 'ZSTD', dictionary: false });
    await expectRejected(
      store,
      () => importDataset(store, { format: 'parquet', file, dataset: 'x', mapping: GENERIC_NO_PREF }),
      {
        file,
        line: 1,
        field: 'response_0',
        message:
          /the compression ratio \(over \d+:1\) of a page of this column \(rows 1-2\) exceeds the limit of 200:1, which can be raised$/,
        option: 'maxCompressionRatio',
      },
    );
    const s = await importDataset(store, {
      format: 'parquet',
      file,
      dataset: 'x',
      mapping: GENERIC_NO_PREF,
      limits: { maxCompressionRatio: 1e6 },
    });
    expect(s.counts.pairs).toBe(2);
  });
});

const GENERIC_NO_PREF = { prompt: 'prompt', response0: 'response_0', response1: 'response_1' };

describe('a corrupt or truncated file is one clear error, and the database is unchanged', () => {
  const base = () => parquetBytes(ROWS, { codec: 'SNAPPY', rowGroupSize: 3 });
  const footerStart = (b: Uint8Array) =>
    b.length - 8 - new DataView(b.buffer, b.byteOffset).getUint32(b.length - 8, true);

  it('cut in half', async () => {
    const b = base();
    const file = join(dir, 'half.parquet');
    writeFileSync(file, b.subarray(0, b.length >> 1));
    await expectRejected(
      store,
      () => importDataset(store, { format: 'parquet', file, dataset: 'x', mapping: GENERIC }),
      {
        file,
        line: null,
        message: /: a truncated or corrupt Parquet file: it does not end with "PAR1" \(its footer is missing\)$/,
      },
    );
  });

  it('bytes flipped in the footer', async () => {
    const b = Buffer.from(base());
    for (let k = 0; k < 4; k++) b[footerStart(b) + k] ^= 0xff;
    const file = join(dir, 'footer.parquet');
    writeFileSync(file, b);
    await expectRejected(
      store,
      () => importDataset(store, { format: 'parquet', file, dataset: 'x', mapping: GENERIC }),
      {
        file,
        line: null,
        message: /: not a readable Parquet file: corrupt or truncated \(.+\)$/,
      },
    );
  });

  it('bytes flipped in a page header name the column and the rows of its row group', async () => {
    const b = Buffer.from(base());
    // the first page of the file (the first column's, after the 4-byte "PAR1")
    for (let k = 4; k < 8; k++) b[k] ^= 0xff;
    const file = join(dir, 'page.parquet');
    writeFileSync(file, b);
    await expectRejected(
      store,
      () => importDataset(store, { format: 'parquet', file, dataset: 'x', mapping: GENERIC }),
      {
        file,
        line: 1,
        field: 'id',
        message: /: row 1: field "id": the column's data for rows 1-3 is corrupt \(.+\)$/,
      },
    );
  });

  it('a string that is not UTF-8 names its row and field', async () => {
    const b = Buffer.from(parquetBytes(ROWS, { codec: 'UNCOMPRESSED', dictionary: false }));
    const at = b.indexOf('answer B4');
    expect(at).toBeGreaterThan(0);
    b[at + 7] = 0xff;
    const file = join(dir, 'utf8.parquet');
    writeFileSync(file, b);
    await expectRejected(
      store,
      () => importDataset(store, { format: 'parquet', file, dataset: 'x', mapping: GENERIC }),
      {
        file,
        line: 5,
        field: 'response_1',
        message: /: row 5: field "response_1": is not valid UTF-8 text$/,
      },
    );
  });

  it('not Parquet at all, a Git LFS pointer, an empty file, a missing column', async () => {
    const jsonl = join(dir, 'x.parquet');
    writeFileSync(jsonl, readFileSync(join(ROOT, 'media', 'sample', 'safety-pairs.jsonl')));
    await expectRejected(
      store,
      () => importDataset(store, { format: 'parquet', file: jsonl, dataset: 'x', mapping: GENERIC }),
      {
        file: jsonl,
        line: null,
        message: /not a Parquet file \(it does not start with "PAR1"\)$/,
      },
    );
    const lfs = join(dir, 'lfs.parquet');
    writeFileSync(lfs, 'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a\nsize 12345\n');
    await expectRejected(
      store,
      () => importDataset(store, { format: 'parquet', file: lfs, dataset: 'x', mapping: GENERIC }),
      {
        file: lfs,
        line: null,
        message: /: is a Git LFS pointer, not the Parquet file it stands for \(fetch the data: git lfs pull\)$/,
      },
    );
    const empty = join(dir, 'empty.parquet');
    writeFileSync(empty, '');
    await expectRejected(
      store,
      () => importDataset(store, { format: 'parquet', file: empty, dataset: 'x', mapping: GENERIC }),
      {
        file: empty,
        line: null,
        message: /: the file is empty$/,
      },
    );
    const file = writeParquet(join(dir, 'cols.parquet'), ROWS);
    await expectRejected(
      store,
      () =>
        importDataset(store, { format: 'parquet', file, dataset: 'x', mapping: { ...GENERIC, prompt: 'question' } }),
      {
        file,
        line: null,
        field: 'question',
        message:
          /field "question": no such column \(the file's columns: id, prompt, response_0, response_1, preferred, score\)$/,
        option: 'fieldMapping',
      },
    );
  });
});

describe('discretion import parquet (the built CLI)', () => {
  const BIN = join(ROOT, 'bin', 'discretion.js');
  const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT });

  it('imports a folder split with the chosen/rejected layout, and refuses a bad split and a truncated file in one line', async () => {
    const root = join(dir, 'cli-hf');
    mkdirSync(join(root, 'data'), { recursive: true });
    const m = (role: string, content: string) => ({ role, content });
    const rows = [0, 1, 2].map((i) => ({
      chosen: [m('user', `q${i}`), m('assistant', `good ${i}`)],
      rejected: [m('user', `q${i}`), m('assistant', `bad ${i}`)],
    }));
    const types = { types: { chosen: messages(), rejected: messages() } };
    writeParquet(join(root, 'data', 'train-00000-of-00001.parquet'), rows, types);
    writeParquet(join(root, 'data', 'test-00000-of-00001.parquet'), rows.slice(0, 1), types);
    const db = join(dir, 'cli.db');
    const ok = run(['import', 'parquet', root, '--dataset', 'chat', '--preferred', 'chosen', '--db', db]);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain(`imported ${root} into dataset "chat": 3 pairs, 3 preferences`);
    expect(ok.stdout).toContain('note: split "train": 1 file(s) (splits: test, train)');

    const bad = run(['import', 'parquet', root, '--dataset', 'x', '--split', 'dev', '--db', db]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe(
      `discretion: no split "dev" in ${root}; its splits (from its file names): test, train (--split)\n`,
    );

    const half = join(dir, 'half.parquet');
    const whole = readFileSync(join(root, 'data', 'train-00000-of-00001.parquet'));
    writeFileSync(half, whole.subarray(0, whole.length >> 1));
    const cut = run(['import', 'parquet', half, '--dataset', 'x', '--db', db]);
    expect(cut.status).toBe(1);
    expect(cut.stderr).toBe(
      `discretion: ${half}: a truncated or corrupt Parquet file: it does not end with "PAR1" (its footer is missing)\n`,
    );
    const s = await openSqliteStore(db);
    try {
      const info = await s.info();
      expect(info.datasets.map((d) => [d.name, d.format, d.pairs])).toEqual([['chat', 'parquet', 3]]);
    } finally {
      await s.close();
    }
  });
});
