// `export --format trl|hf` (src/app/training.ts) on a real SQLite file: seven pairs labelled by three humans, two of
// them adjudicated, whose every count, margin and category is worked by hand below; the Parquet folder read back
// with hyparquet (the reader of `import parquet`); the card's numbers against the stored metric run; hostile text in
// the card; and the HH-RLHF harmless-base test set from ../shared/data.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { computeMetrics } from '../../src/app/analysis';
import { adjudicate } from '../../src/app/review';
import { exportTrainingData, type TrainingExportOptions } from '../../src/app/training';
import { fmt } from '../../src/core/report/charts';
import { importDataset } from '../../src/importers/datasets';
import { importLabels } from '../../src/importers/labels';
import { importPrincipleList } from '../../src/importers/principles';
import type { Store } from '../../src/store';
import { HH_FILE, openTempStore, sharedDataSkipReason, tempDir } from '../support/helpers';

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const readJsonl = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, any>);

async function readParquet(file: string) {
  const b = readFileSync(file);
  const ab = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  return { meta: parquetMetadata(ab), rows: (await parquetReadObjects({ file: ab })) as Record<string, any>[] };
}

/**
 * q1: y1 y1 y0            majority y1 (2 of 3)           alice's principles: avoid-harm y1, helpfulness y1 (consensus, y1)
 * q2: y0 y1 tie           no majority (1-1-1)            alice's principles: avoid-harm y1, helpfulness y0 (conflict)
 * q3: tie tie y1          majority tie
 * q4: both-bad x3         majority both-bad
 * q5: y0 y1 -             no majority; adjudicated y0
 * q6: (no labels)         unlabelled
 * q7: y0 y0 y1            majority y0; adjudicated y1
 */
const LABELS: Record<string, Record<string, string>> = {
  alice: { q1: 'y1', q2: 'y0', q3: 'tie', q4: 'both-bad', q5: 'y0', q7: 'y0' },
  bilal: { q1: 'y1', q2: 'y1', q3: 'tie', q4: 'both-bad', q5: 'y1', q7: 'y0' },
  carol: { q1: 'y0', q2: 'tie', q3: 'y1', q4: 'both-bad', q7: 'y1' },
};
const PRINCIPLES: Record<string, Record<string, string>> = {
  q1: { 'avoid-harm': 'y1', helpfulness: 'y1' },
  q2: { 'avoid-harm': 'y1', helpfulness: 'y0' },
};

async function seed(store: Store, dir: string, principleYaml?: string): Promise<void> {
  const ids = ['q1', 'q2', 'q3', 'q4', 'q5', 'q6', 'q7'];
  writeFileSync(
    join(dir, 'pairs.jsonl'),
    jsonl(ids.map((id) => ({ id, prompt: `Human: question ${id}?\n\nAssistant:`, a: `no ${id}`, b: `yes ${id}` }))),
  );
  await importDataset(store, {
    format: 'jsonl',
    file: join(dir, 'pairs.jsonl'),
    dataset: 'd',
    mapping: { prompt: 'prompt', response0: 'a', response1: 'b', id: 'id' },
  });
  const listFile = join(dir, 'list.yaml');
  writeFileSync(
    listFile,
    principleYaml ??
      '- id: avoid-harm\n  short: "Avoid harm"\n  text: "Do no harm."\n- id: helpfulness\n  short: "Be helpful"\n  text: "Help."\n',
  );
  await importPrincipleList(store, { file: listFile, name: 'demo' });
  for (const [name, labels] of Object.entries(LABELS)) {
    const file = join(dir, `${name}.jsonl`);
    writeFileSync(
      file,
      jsonl(
        Object.entries(labels).map(([pair, overall]) => ({
          pair,
          overall,
          principles: name === 'alice' ? (PRINCIPLES[pair] ?? {}) : {},
          ...(name === 'bilal' && pair === 'q2' ? { rationale: 'B \u001b[31mis safer' } : {}),
        })),
      ),
    );
    await importLabels(store, { file, dataset: 'd', principles: 'demo', annotator: name });
  }
  await adjudicate(store, { dataset: 'd', pair: 'q5', label: 'y0', rationale: 'A refuses' });
  await adjudicate(store, { dataset: 'd', pair: 'q7', label: 'y1' });
}

describe('export --format trl', () => {
  let store: Store;
  let dir: string;
  beforeAll(async () => {
    store = (await openTempStore()).store;
    dir = tempDir();
    await seed(store, dir);
  });
  const trl = (o: Partial<TrainingExportOptions>) =>
    exportTrainingData(store, { dataset: 'd', format: 'trl', out: join(dir, 'out.jsonl'), ...o });

  it('from an annotator: its labels, ties and both-bad left out and counted', async () => {
    const r = await trl({ from: 'alice' });
    expect(r).toMatchObject({ pairs: 7, chosen: 4, ties: 1, bothBad: 1, noMajority: 0, unlabelled: 1 });
    const rows = readJsonl(join(dir, 'out.jsonl'));
    expect(rows.map((x) => [x.discretion.source_id, x.chosen[0].content])).toEqual([
      ['q1', 'yes q1'],
      ['q2', 'no q2'],
      ['q5', 'no q5'],
      ['q7', 'no q7'],
    ]);
    expect(rows.every((x) => x.discretion.decided_by === 'annotator')).toBe(true);
  });

  it('majority of the human labels: the adjudicated labels are not votes', async () => {
    const r = await trl({ from: 'majority' });
    expect(r).toMatchObject({ chosen: 2, ties: 1, bothBad: 1, noMajority: 2, unlabelled: 1 });
    const rows = readJsonl(join(dir, 'out.jsonl'));
    expect(rows.map((x) => [x.discretion.source_id, x.discretion.label])).toEqual([
      ['q1', 'y1'],
      ['q7', 'y0'],
    ]);
  });

  it('adjudicated (the default): the adjudication where there is one, else the majority; margin = human agreement', async () => {
    const r = await trl({ margin: 'agreement' });
    expect(r).toMatchObject({
      source: 'adjudicated',
      chosen: 3,
      ties: 1,
      bothBad: 1,
      noMajority: 1,
      unlabelled: 1,
      adjudicated: 2,
      decidedByAdjudication: 2,
      tiesWritten: null,
    });
    const rows = readJsonl(join(dir, 'out.jsonl'));
    expect(rows.map((x) => [x.discretion.source_id, x.discretion.decided_by, x.chosen[0].content, x.margin])).toEqual([
      ['q1', 'majority', 'yes q1', 2 / 3],
      ['q5', 'adjudicated', 'no q5', 1 / 2],
      ['q7', 'adjudicated', 'yes q7', 1 / 3],
    ]);
    // conversational: the prompt's turns as messages, the responses as assistant messages
    expect(rows[0]!.prompt).toEqual([{ role: 'user', content: 'question q1?' }]);
    expect(rows[0]!.rejected).toEqual([{ role: 'assistant', content: 'no q1' }]);
    // every annotator's vote, the adjudicator's too, with rationale and principle labels
    expect(rows[1]!.discretion.votes).toEqual([
      { annotator: 'alice', kind: 'human', label: 'y0', principle_labels: [], rationale: null },
      { annotator: 'bilal', kind: 'human', label: 'y1', principle_labels: [], rationale: null },
      { annotator: 'adjudicated', kind: 'adjudicator', label: 'y0', principle_labels: [], rationale: 'A refuses' },
    ]);
  });

  it('standard style writes plain strings; the control character of a rationale stays a JSON escape', async () => {
    await trl({ from: 'alice', style: 'standard' });
    const text = readFileSync(join(dir, 'out.jsonl'), 'utf8');
    expect(text).toContain('B \\u001b[31mis safer');
    expect(text).not.toContain('\u001b');
    const q2 = readJsonl(join(dir, 'out.jsonl'))[1]!;
    expect([q2.prompt, q2.chosen, q2.rejected]).toEqual(['Human: question q2?\n\nAssistant:', 'no q2', 'yes q2']);
  });

  it('--ties writes the pairs with no side apart (tie, both-bad, no majority; not the unlabelled one)', async () => {
    const r = await trl({ ties: join(dir, 'ties.jsonl') });
    expect(r.tiesWritten).toBe(3);
    const ties = readJsonl(join(dir, 'ties.jsonl'));
    expect(ties.map((x) => [x.discretion.source_id, x.discretion.outcome, x.discretion.label])).toEqual([
      ['q2', 'no-majority', null],
      ['q3', 'tie', 'tie'],
      ['q4', 'both-bad', 'both-bad'],
    ]);
    expect(ties[0]).toMatchObject({ response_0: 'no q2', response_1: 'yes q2' });
    expect(ties[0]).not.toHaveProperty('chosen');
  });

  it('pair categories under a principle source (alice as the oracle), as the metrics command names it', async () => {
    await trl({ from: 'alice', principles: 'demo', principleSource: 'alice' });
    const rows = readJsonl(join(dir, 'out.jsonl'));
    expect(rows.map((x) => [x.discretion.source_id, x.discretion.category])).toEqual([
      ['q1', 'consensus'],
      ['q2', 'conflict'],
      ['q5', 'indifference'],
      ['q7', 'indifference'],
    ]);
    expect(rows[0]!.discretion.votes[0].principle_labels).toEqual([
      { list: 'demo@1', principle: 'avoid-harm', label: 'y1' },
      { list: 'demo@1', principle: 'helpfulness', label: 'y1' },
    ]);
    await expect(trl({ principles: 'demo' })).rejects.toMatchObject({ option: 'principleSource' });
    await expect(trl({ principleSource: 'alice' })).rejects.toMatchObject({ option: 'principles' });
    await expect(trl({ principles: 'demo', principleSource: 'self' })).rejects.toThrow(/one principle source/);
    await expect(trl({ principles: 'demo', principleSource: 'bilal' })).rejects.toThrow(/no principle labels/);
  });

  it('refuses an annotator with no labels and an unknown one; replaces an earlier export atomically', async () => {
    await expect(trl({ from: 'nobody' })).rejects.toThrow(/unknown annotator|nobody/);
    const out = join(dir, 'again.jsonl');
    writeFileSync(out, 'old\n');
    await trl({ out });
    expect(readFileSync(out, 'utf8')).not.toContain('old');
    expect(readdirSync(dir).filter((f) => f.includes('.partial-'))).toEqual([]);
  });
});

describe('export --format hf', () => {
  let store: Store;
  let dir: string;
  let runId: number;
  beforeAll(async () => {
    store = (await openTempStore()).store;
    dir = tempDir();
    await seed(store, dir);
    const c = await computeMetrics(
      store,
      { dataset: 'd', principles: 'demo', principleSource: 'alice', reference: 'bilal', bootstrap: 0, daBootstrap: 0 },
      { save: true },
    );
    runId = c.runId!;
  });

  it('writes one row per pair with both responses, the binarised chosen/rejected and every vote (read back with hyparquet)', async () => {
    const out = join(dir, 'hf');
    const r = await exportTrainingData(store, { dataset: 'd', format: 'hf', out, margin: 'agreement' });
    expect(r.files).toEqual(['data/train-00000-of-00001.parquet', 'README.md']);
    expect(r.run).toBe(runId);
    const { meta, rows } = await readParquet(join(out, 'data', 'train-00000-of-00001.parquet'));
    expect(Number(meta.num_rows)).toBe(7);
    expect(Object.keys(rows[0]!)).toEqual([
      'idx',
      'source_id',
      'prompt',
      'prompt_text',
      'response_0',
      'response_1',
      'label',
      'decided_by',
      'chosen',
      'rejected',
      'margin',
      'category',
      'votes',
    ]);
    expect(rows.map((x) => [x.source_id, x.label, x.decided_by, x.chosen?.[0].content ?? null, x.margin])).toEqual([
      ['q1', 'y1', 'majority', 'yes q1', 2 / 3],
      ['q2', null, 'majority', null, null],
      ['q3', 'tie', 'majority', null, null],
      ['q4', 'both-bad', 'majority', null, null],
      ['q5', 'y0', 'adjudicated', 'no q5', 1 / 2],
      ['q6', null, null, null, null],
      ['q7', 'y1', 'adjudicated', 'yes q7', 1 / 3],
    ]);
    expect(rows[0]).toMatchObject({
      idx: 0,
      prompt: [{ role: 'user', content: 'question q1?' }],
      prompt_text: 'Human: question q1?\n\nAssistant:',
      response_0: 'no q1',
      response_1: 'yes q1',
      rejected: [{ role: 'assistant', content: 'no q1' }],
      category: null,
    });
    expect(rows[1]!.votes).toEqual([
      {
        annotator: 'alice',
        kind: 'human',
        label: 'y0',
        principle_labels: [
          { list: 'demo@1', principle: 'avoid-harm', label: 'y1' },
          { list: 'demo@1', principle: 'helpfulness', label: 'y0' },
        ],
        rationale: null,
      },
      { annotator: 'bilal', kind: 'human', label: 'y1', principle_labels: [], rationale: 'B \u001b[31mis safer' },
      { annotator: 'carol', kind: 'human', label: 'tie', principle_labels: [], rationale: null },
    ]);
    expect(rows[5]!.votes).toEqual([]);
    // the card's YAML names the config and the features
    const card = readFileSync(join(out, 'README.md'), 'utf8');
    const front = parseYaml(card.split('\n---\n')[0]!.replace(/^---\n/, ''));
    expect(front.configs).toEqual([{ config_name: 'default', data_files: [{ split: 'train', path: 'data/train-*' }] }]);
    expect(front.dataset_info.features.map((f: { name: string }) => f.name)).toEqual(Object.keys(rows[0]!));
    expect(front.dataset_info.features[2]).toEqual({
      name: 'prompt',
      list: [
        { name: 'role', dtype: 'string' },
        { name: 'content', dtype: 'string' },
      ],
    });
    expect(front.dataset_info.splits).toEqual([{ name: 'train', num_examples: 7 }]);
  });

  it("the card's numbers are the stored metric run's (worked by hand: alice's principles make q1 consensus for y1, q2 conflict)", async () => {
    const out = join(dir, 'hf-card');
    await exportTrainingData(store, { dataset: 'd', format: 'hf', out, created: '2025-01-02T03:04:05.000Z' });
    const card = readFileSync(join(out, 'README.md'), 'utf8');
    const plain = card.replace(/\\(.)/g, '$1'); // the tables' cells are Markdown-escaped (14\.3)
    const run = await store.getMetricRun(runId);
    const m = run.results as {
      categories: { consensus: number; conflict: number; indifference: number };
      annotators: { name: string; da: number | null; dd_point: number | null }[];
      agreement: { overall: { krippendorff_alpha: { value: number } } };
    };
    // by hand: 1 consensus (q1), 1 conflict (q2), 5 indifference
    expect(m.categories).toMatchObject({ consensus: 1, conflict: 1, indifference: 5 });
    expect(plain).toContain('| consensus | 1 | 14.3 |');
    expect(plain).toContain('| conflict | 1 | 14.3 |');
    expect(plain).toContain('| indifference | 5 | 71.4 |');
    // DA: on q1 (consensus y1) alice and bilal chose y1, carol y0: DA 0, 0 and 1 over one decisive consensus pair
    expect(m.annotators.map((a) => [a.name, a.da])).toEqual([
      ['alice', 0],
      ['bilal', 0],
      ['carol', 1],
    ]);
    expect(plain).toContain('| alice | human | 0.000 | 1 |');
    expect(plain).toContain('| bilal (reference) | human | 0.000 | 1 |');
    expect(plain).toContain('| carol | human | 1.000 | 1 |');
    expect(card).toContain(`metric run ${runId} of`);
    expect(card).toContain('### Discretion discrepancy (DD) against bilal');
    expect(card).toContain('### Principle priorities (w*)');
    expect(plain).toContain(
      `| Krippendorff&#39;s alpha (nominal) | ${fmt(m.agreement.overall.krippendorff_alpha.value)} |`,
    );
    // two pairs adjudicated, both decided by it
    expect(card).toContain('| pairs with an adjudicated label | 2 |');
    expect(card).toContain('| pairs whose side the adjudicated label decided | 2 |');
    expect(plain).toContain(`| Metric run | #${runId} (`);
    // an earlier export's folder is replaced; another folder is refused
    await exportTrainingData(store, { dataset: 'd', format: 'hf', out, run: runId });
    const other = join(dir, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'notes.txt'), 'mine');
    await expect(exportTrainingData(store, { dataset: 'd', format: 'hf', out: other })).rejects.toMatchObject({
      option: 'out',
      message: expect.stringMatching(/not one an earlier export wrote/),
    });
    expect(readFileSync(join(other, 'notes.txt'), 'utf8')).toBe('mine');
    await expect(exportTrainingData(store, { dataset: 'd', format: 'hf', out, run: 999 })).rejects.toThrow(
      /no metric run|999/,
    );
  });

  it('splits large data into train-0000K-of-0000N files that together hold every row', async () => {
    const out = join(dir, 'hf-shards');
    const r = await exportTrainingData(store, {
      dataset: 'd',
      format: 'hf',
      out,
      shardBytes: 1,
      rowGroupRows: 2,
    });
    // a shard of 1 byte: every row closes its file
    expect(r.files.slice(0, -1)).toEqual([0, 1, 2, 3, 4, 5, 6].map((k) => `data/train-0000${k}-of-00007.parquet`));
    const ids: string[] = [];
    for (const f of r.files.slice(0, -1)) ids.push(...(await readParquet(join(out, f))).rows.map((x) => x.source_id));
    expect(ids).toEqual(['q1', 'q2', 'q3', 'q4', 'q5', 'q6', 'q7']);
  });
});

describe('the dataset card with hostile text', () => {
  it('escapes every name and text from the dataset in the Markdown and quotes it in the YAML', async () => {
    const store = (await openTempStore()).store;
    const dir = tempDir();
    const evil = '<img src=x onerror=alert(1)> [l](javascript:alert(2)) **b** | `c`\n---\nevil: yes\n# h';
    await seed(
      store,
      dir,
      `- id: avoid-harm\n  short: "<img src=x onerror=alert(1)>"\n  text: ${JSON.stringify(evil)}\n- id: helpfulness\n  short: "Be helpful"\n  text: "Help."\n`,
    );
    await computeMetrics(
      store,
      { dataset: 'd', principles: 'demo', principleSource: 'alice', reference: 'bilal', bootstrap: 0, daBootstrap: 0 },
      { save: true },
    );
    const out = join(dir, 'hf');
    await exportTrainingData(store, { dataset: 'd', format: 'hf', out });
    const card = readFileSync(join(out, 'README.md'), 'utf8');
    expect(card).not.toContain('<img');
    expect(card).not.toContain('](javascript:');
    expect(card).toContain('&lt;img src=x onerror=alert\\(1\\)&gt;');
    // the front matter is the first block and ends where it should: the hostile text is in the body, escaped
    expect(card.match(/^---$/gm)).toHaveLength(2);
    expect(card).not.toMatch(/^evil: yes$/m);
    expect(card).not.toMatch(/^# h/m);
  });
});

describe.skipIf(!!sharedDataSkipReason())('export --format trl on the HH-RLHF harmless-base test set', () => {
  it('gives 2,312 rows whose chosen response is the HH "chosen" one, none left out', async () => {
    const store = (await openTempStore()).store;
    await importDataset(store, { format: 'hh-rlhf', file: HH_FILE, dataset: 'hh' });
    const dir = tempDir();
    const r = await exportTrainingData(store, {
      dataset: 'hh',
      format: 'trl',
      from: 'human',
      style: 'standard',
      out: join(dir, 'hh.jsonl'),
      ties: join(dir, 'ties.jsonl'),
    });
    expect(r).toMatchObject({ pairs: 2312, chosen: 2312, ties: 0, bothBad: 0, noMajority: 0, unlabelled: 0 });
    expect(r.tiesWritten).toBe(0);
    const rows = readJsonl(join(dir, 'hh.jsonl'));
    expect(rows).toHaveLength(2312);
    const raw = gunzipSync(readFileSync(HH_FILE))
      .toString('utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { chosen: string; rejected: string });
    expect(raw).toHaveLength(2312);
    rows.forEach((row, k) => {
      // the HH record is the prompt, one space, and the final assistant turn (the importer drops that space)
      expect(raw[k]!.chosen.startsWith(row.prompt), `pair ${k}`).toBe(true);
      expect(raw[k]!.chosen.slice(row.prompt.length).replace(/^ /, ''), `pair ${k}`).toBe(row.chosen);
      expect(raw[k]!.rejected.slice(row.prompt.length).replace(/^ /, ''), `pair ${k}`).toBe(row.rejected);
    });
    expect(existsSync(join(dir, 'ties.jsonl'))).toBe(true);
  });
});
