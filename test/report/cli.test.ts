// `discretion report` end to end on the bundled sample (two human annotators, principle source "self").
import Ajv from 'ajv';
import { parse as parseCsv } from 'csv-parse/sync';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { computeMetrics } from '../../src/app/analysis';
import { main } from '../../src/cli/main';
import { importDataset } from '../../src/importers/datasets';
import { importLabels } from '../../src/importers/labels';
import { importPrincipleList } from '../../src/importers/principles';
import schema from '../../src/core/report/metrics-report.schema.json';
import { openSqliteStore } from '../../src/store/sqlite/adapter';

const media = join(__dirname, '..', '..', 'media');
let dir: string;
let db: string;
let runId: number;
let nPairs: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'report-cli-'));
  db = join(dir, 'test.db');
  const store = await openSqliteStore(db);
  try {
    const s = await importDataset(store, {
      format: 'jsonl',
      file: join(media, 'sample', 'safety-pairs.jsonl'),
      dataset: 'sample',
      mapping: { prompt: 'prompt', response0: 'response_0', response1: 'response_1', id: 'id' },
    });
    nPairs = s.counts.pairs!;
    await importPrincipleList(store, { file: join(media, 'principles', 'demo-safety.yaml'), name: 'demo-safety' });
    for (const name of ['alice', 'bilal'])
      await importLabels(store, {
        file: join(media, 'sample', `labels-${name}.jsonl`),
        dataset: 'sample',
        principles: 'demo-safety',
        annotator: name,
      });
    const { result } = await computeMetrics(store, {
      dataset: 'sample',
      principles: 'demo-safety',
      principleSource: 'self',
      reference: 'alice',
      bootstrap: 10,
      daBootstrap: 20,
      seed: 3,
    });
    const ds = await store.requireDataset('sample');
    runId = await store.saveMetricRun(
      ds.id,
      '0.1.0',
      { dataset: 'sample', principles: 'demo-safety', principleSource: 'self', reference: 'alice' },
      {},
      result,
    );
  } finally {
    await store.close();
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  const write = vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
  try {
    const code = await main(args);
    return { code, out: out.join('\n'), err: err.join('') };
  } finally {
    log.mockRestore();
    write.mockRestore();
  }
}

describe('discretion report', () => {
  it('computes the metrics and writes all four formats', async () => {
    const out = join(dir, 'r1');
    const r = await run([
      'report',
      '--db',
      db,
      '--dataset',
      'sample',
      '--principles',
      'demo-safety',
      '--principle-source',
      'self',
      '--reference',
      'alice',
      '--out',
      out,
      '--bootstrap',
      '10',
      '--da-bootstrap',
      '20',
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    for (const f of ['report.html', 'report.md', 'metrics.json', 'pairs.csv', 'charts/categories.svg', 'charts/ps.svg'])
      expect(existsSync(join(out, f)), f).toBe(true);
    const json = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    const validate = new Ajv({ strict: false }).compile(schema);
    expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
    expect(json.provenance.principle_source).toEqual({ kind: 'self' });
    expect(json.provenance.metric_run).toBeNull();
    expect(json.annotators.map((a: { name: string }) => a.name).sort()).toEqual(['alice', 'bilal']);
    const rows = parseCsv(readFileSync(join(out, 'pairs.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    expect(rows.length).toBe(nPairs);
    expect(Object.keys(rows[0]!)).toContain('category:alice');
    expect(Object.keys(rows[0]!)).toContain('overrode:bilal');
  });

  it('reports a stored metric run (--run) with only the chosen formats', async () => {
    const out = join(dir, 'r2');
    const r = await run(['report', '--db', db, '--run', String(runId), '--out', out, '--format', 'json,csv']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(existsSync(join(out, 'report.html'))).toBe(false);
    const json = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(json.provenance.metric_run).toBe(runId);
    expect(json.provenance.bootstrap).toMatchObject({ seed: 3, dd_resamples: 10, da_resamples: 20 });
  });

  it('fails with one clear line on bad input', async () => {
    const a = await run([
      'report',
      '--db',
      db,
      '--run',
      String(runId),
      '--out',
      join(dir, 'r3'),
      '--format',
      'html,pdf',
    ]);
    expect(a.code).toBe(1);
    expect(a.err).toMatch(/unknown format\(s\) pdf/);
    const b = await run([
      'report',
      '--db',
      db,
      '--dataset',
      'sample',
      '--principles',
      'demo-safety',
      '--principle-source',
      'self',
      '--reference',
      'nobody',
      '--out',
      join(dir, 'r4'),
    ]);
    expect(b.code).toBe(1);
    expect(b.err).toMatch(/nobody/);
    const c = await run(['report', '--db', db, '--run', '999', '--out', join(dir, 'r5')]);
    expect(c.code).toBe(1);
    expect(c.err).toMatch(/no metric run with id 999/);
  });
});
