// Every bad input gets one clear error naming the file, the line and the field, and leaves the
// database exactly as it was. Inputs are checked in under test/fixtures/bad/.
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { importDataset } from '../../src/importers/datasets';
import { importJudgments } from '../../src/importers/judgments';
import { importLabels } from '../../src/importers/labels';
import { importPrincipleList } from '../../src/importers/principles';
import type { Store } from '../../src/store';
import { BAD, expectRejected, openTempStore } from '../support/helpers';

const bad = (f: string) => join(BAD, f);
const GENERIC = { prompt: 'prompt', response0: 'response_0', response1: 'response_1', id: 'id' };

let store: Store;
beforeEach(async () => {
  store = (await openTempStore()).store;
  // A small valid base so "unchanged" means something: one dataset of 3 pairs, a 2-principle list.
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
});

describe('dataset importers reject bad input and write nothing', () => {
  it('malformed JSON', () =>
    expectRejected(
      store,
      () => importDataset(store, { format: 'hh-rlhf', file: bad('hh-malformed-json.jsonl'), dataset: 'x' }),
      { file: bad('hh-malformed-json.jsonl'), line: 2, field: null, message: /malformed JSON/ },
    ));
  it('a missing field', () =>
    expectRejected(
      store,
      () => importDataset(store, { format: 'hh-rlhf', file: bad('hh-missing-field.jsonl'), dataset: 'x' }),
      { file: bad('hh-missing-field.jsonl'), line: 2, field: 'rejected', message: /missing/ },
    ));
  it('a non-string field', () =>
    expectRejected(
      store,
      () => importDataset(store, { format: 'hh-rlhf', file: bad('hh-non-string-field.jsonl'), dataset: 'x' }),
      { file: bad('hh-non-string-field.jsonl'), line: 2, field: 'rejected', message: /must be a string, not number/ },
    ));
  it('dialogues with no shared assistant turn', () =>
    expectRejected(
      store,
      () => importDataset(store, { format: 'hh-rlhf', file: bad('hh-no-assistant-turn.jsonl'), dataset: 'x' }),
      { file: bad('hh-no-assistant-turn.jsonl'), line: 1, field: 'chosen', message: /share no/ },
    ));
  it('a truncated .gz', () =>
    expectRejected(
      store,
      () => importDataset(store, { format: 'hh-rlhf', file: bad('hh-truncated.jsonl.gz'), dataset: 'x' }),
      {
        file: bad('hh-truncated.jsonl.gz'),
        line: expect.any(Number) as unknown as number,
        field: null,
        message: /truncated or corrupt gzip/,
      },
    ));
  it('a file that is not UTF-8', () =>
    expectRejected(
      store,
      () => importDataset(store, { format: 'hh-rlhf', file: bad('hh-not-utf8.jsonl'), dataset: 'x' }),
      { file: bad('hh-not-utf8.jsonl'), line: 2, field: null, message: /not valid UTF-8/ },
    ));
  it('an empty file', () =>
    expectRejected(store, () => importDataset(store, { format: 'hh-rlhf', file: bad('empty.jsonl'), dataset: 'x' }), {
      file: bad('empty.jsonl'),
      line: null,
      field: null,
      message: /empty/,
    }));
  it('a file of blank lines', () =>
    expectRejected(
      store,
      () =>
        importDataset(store, { format: 'jsonl', file: bad('blank-lines-only.jsonl'), dataset: 'x', mapping: GENERIC }),
      { file: bad('blank-lines-only.jsonl'), line: null, field: null, message: /no records/ },
    ));
  it('a PKU response id that is not 0 or 1', () =>
    expectRejected(
      store,
      () => importDataset(store, { format: 'pku-saferlhf', file: bad('pku-bad-response-id.jsonl'), dataset: 'x' }),
      { file: bad('pku-bad-response-id.jsonl'), line: 1, field: 'safer_response_id', message: /must be 0 or 1/ },
    ));
  it('a CSV with the wrong columns', () =>
    expectRejected(
      store,
      () =>
        importDataset(store, { format: 'csv', file: bad('generic-wrong-columns.csv'), dataset: 'x', mapping: GENERIC }),
      { file: bad('generic-wrong-columns.csv'), line: 1, field: 'prompt', message: /missing column/ },
    ));
  it('a CSV row with too few cells', () =>
    expectRejected(
      store,
      () => importDataset(store, { format: 'csv', file: bad('generic-short-row.csv'), dataset: 'x', mapping: GENERIC }),
      { file: bad('generic-short-row.csv'), line: 3, field: null, message: /not valid CSV/ },
    ));
  it('duplicate rows (the same id twice)', () =>
    expectRejected(
      store,
      () =>
        importDataset(store, {
          format: 'jsonl',
          file: bad('generic-duplicate-id.jsonl'),
          dataset: 'x',
          mapping: GENERIC,
        }),
      {
        file: bad('generic-duplicate-id.jsonl'),
        line: 2,
        field: 'id',
        message: /duplicate id "a" \(first on line 1\)/,
      },
    ));
  it('an unknown preferred value', () =>
    expectRejected(
      store,
      () =>
        importDataset(store, {
          format: 'jsonl',
          file: bad('generic-bad-preferred.jsonl'),
          dataset: 'x',
          mapping: { ...GENERIC, preferred: 'preferred' },
        }),
      { file: bad('generic-bad-preferred.jsonl'), line: 1, field: 'preferred', message: /unknown preference/ },
    ));
  // libsql reads a text back only up to U+0000 (it kept "cut" of "cut\u0000here") and PostgreSQL's text
  // type refuses it: refused at the field, like any other bad value.
  it('a NUL character in a text', () =>
    expectRejected(
      store,
      () =>
        importDataset(store, { format: 'jsonl', file: bad('generic-nul-char.jsonl'), dataset: 'x', mapping: GENERIC }),
      {
        file: bad('generic-nul-char.jsonl'),
        line: 2,
        field: 'response_1',
        message: /contains a NUL character \(U\+0000\) at character 4/,
      },
    ));
  it('a missing file', () =>
    expectRejected(
      store,
      () => importDataset(store, { format: 'hh-rlhf', file: bad('no-such-file.jsonl'), dataset: 'x' }),
      { file: bad('no-such-file.jsonl'), line: null, field: null, message: /no such file/ },
    ));

  it('--on-error skip imports the valid records and reports every skipped line', async () => {
    const s = await importDataset(store, {
      format: 'hh-rlhf',
      file: bad('hh-non-string-field.jsonl'),
      dataset: 'x',
      onError: 'skip',
    });
    expect(s.counts.pairs).toBe(1);
    expect(s.skipped).toHaveLength(1);
    expect(s.skipped[0].line).toBe(2);
  });
});

describe('principle list importer', () => {
  it('a duplicate id', () =>
    expectRejected(store, () => importPrincipleList(store, { file: bad('principles-duplicate-id.yaml'), name: 'x' }), {
      file: bad('principles-duplicate-id.yaml'),
      line: 4,
      field: 'id',
      message: /duplicate id "kind" \(first on line 1\)/,
    }));
  it('a missing text', () =>
    expectRejected(store, () => importPrincipleList(store, { file: bad('principles-missing-text.yaml'), name: 'x' }), {
      file: bad('principles-missing-text.yaml'),
      line: 4,
      field: 'text',
      message: /missing/,
    }));
  it('a non-string text in JSON', () =>
    expectRejected(store, () => importPrincipleList(store, { file: bad('principles-non-string.json'), name: 'x' }), {
      file: bad('principles-non-string.json'),
      line: 1,
      field: 'text',
      message: /must be a string/,
    }));
  it('short labels that do not match the sentences', () =>
    expectRejected(
      store,
      () =>
        importPrincipleList(store, {
          file: bad('principles-two.txt'),
          shortFile: bad('principles-one-short.txt'),
          name: 'x',
        }),
      { file: bad('principles-one-short.txt'), line: null, field: null, message: /1 short labels for 2 principles/ },
    ));
  it('not UTF-8', () =>
    expectRejected(store, () => importPrincipleList(store, { file: bad('principles-not-utf8.txt'), name: 'x' }), {
      file: bad('principles-not-utf8.txt'),
      line: 2,
      field: null,
      message: /not valid UTF-8/,
    }));
  it('re-importing the same content is the same version; new content is the next version', async () => {
    const a = await importPrincipleList(store, { file: bad('principles-two.txt'), name: 'mine' });
    const b = await importPrincipleList(store, { file: bad('principles-two.txt'), name: 'mine' });
    expect([a.counts.version, b.counts.version, b.imported]).toEqual([1, 1, 0]);
    const c = await importPrincipleList(store, {
      file: bad('principles-duplicate-id.yaml').replace('duplicate-id', 'missing-text'),
      name: 'mine',
    }).catch(() => null);
    expect(c).toBeNull();
  });
});

describe('judgment importers', () => {
  const judge = (format: 'oracle' | 'rewards' | 'judge', file: string) =>
    importJudgments(store, { format, file: bad(file), dataset: 'base', annotator: 'm', principles: 'two' });
  it('a principle id that does not exist', () =>
    expectRejected(store, () => judge('oracle', 'oracle-unknown-principle.csv'), {
      file: bad('oracle-unknown-principle.csv'),
      line: 3,
      field: 'principle_id',
      message: /7 does not exist in principle list "two"/,
    }));
  it('a row id that does not exist', () =>
    expectRejected(store, () => judge('oracle', 'oracle-unknown-row.csv'), {
      file: bad('oracle-unknown-row.csv'),
      line: 3,
      field: 'row_id',
      message: /99 is not a pair of dataset "base"/,
    }));
  it('a probability that is not a number', () =>
    expectRejected(store, () => judge('oracle', 'oracle-not-a-number.csv'), {
      file: bad('oracle-not-a-number.csv'),
      line: 3,
      field: 'prob_A',
      message: /expected a number, found "high"/,
    }));
  it('a duplicate row', () =>
    expectRejected(store, () => judge('oracle', 'oracle-duplicate-row.csv'), {
      file: bad('oracle-duplicate-row.csv'),
      line: 3,
      field: 'row_id',
      message: /duplicate row .* \(first on line 2\)/,
    }));
  it('a CSV with the wrong columns', () =>
    expectRejected(store, () => judge('rewards', 'rewards-wrong-columns.csv'), {
      file: bad('rewards-wrong-columns.csv'),
      line: 1,
      field: 'reward_b',
      message: /missing column/,
    }));
  it('a header and no rows', () =>
    expectRejected(store, () => judge('rewards', 'rewards-header-only.csv'), {
      file: bad('rewards-header-only.csv'),
      line: null,
      field: null,
      message: /no rows/,
    }));
  it('an order that is not 0 or 1', () =>
    expectRejected(store, () => judge('judge', 'judge-bad-order.csv'), {
      file: bad('judge-bad-order.csv'),
      line: 3,
      field: 'order',
      message: /expected 0 or 1/,
    }));
  it('a probability outside [0, 1]', () =>
    expectRejected(store, () => judge('judge', 'judge-probability-out-of-range.csv'), {
      file: bad('judge-probability-out-of-range.csv'),
      line: 2,
      field: 'prob_A',
      message: /outside \[0, 1\]/,
    }));
});

describe('label importer', () => {
  it('a pair that is not in the dataset', () =>
    expectRejected(
      store,
      () =>
        importLabels(store, {
          file: bad('labels-unknown-pair.jsonl'),
          dataset: 'base',
          principles: 'two',
          annotator: 'ann',
        }),
      { file: bad('labels-unknown-pair.jsonl'), line: 1, field: 'pair', message: /"zzz" is not a pair/ },
    ));
  it('a NUL character in a rationale', () =>
    expectRejected(
      store,
      () =>
        importLabels(store, {
          file: bad('labels-nul-rationale.jsonl'),
          dataset: 'base',
          principles: 'two',
          annotator: 'ann',
        }),
      {
        file: bad('labels-nul-rationale.jsonl'),
        line: 1,
        field: 'rationale',
        message: /NUL character .* at character 8/,
      },
    ));
  it('a principle that is not in the list', () =>
    expectRejected(
      store,
      () =>
        importLabels(store, {
          file: bad('labels-unknown-principle.jsonl'),
          dataset: 'base',
          principles: 'two',
          annotator: 'ann',
        }),
      {
        file: bad('labels-unknown-principle.jsonl'),
        line: 1,
        field: 'principles.p9',
        message: /not a principle of list "two"/,
      },
    ));
  // "constructor" in {} is true: only the label words themselves may pass
  it('an overall word that is an object key, not a label word', () =>
    expectRejected(
      store,
      () =>
        importLabels(store, {
          file: bad('labels-inherited-overall.jsonl'),
          dataset: 'base',
          principles: 'two',
          annotator: 'ann',
        }),
      {
        file: bad('labels-inherited-overall.jsonl'),
        line: 2,
        field: 'overall',
        message: /must be one of y0, y1, tie, both-bad$/,
      },
    ));
  it('a principle cell that is an object key, not a label word', () =>
    expectRejected(
      store,
      () =>
        importLabels(store, {
          file: bad('labels-inherited-principle.jsonl'),
          dataset: 'base',
          principles: 'two',
          annotator: 'ann',
        }),
      {
        file: bad('labels-inherited-principle.jsonl'),
        line: 1,
        field: 'principles.p0',
        message: /must be "y0", "y1" or "neither"/,
      },
    ));
});
