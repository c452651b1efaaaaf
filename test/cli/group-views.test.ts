// The per-group views of the discretion metrics through the built CLI (issue 13 point 5): groups set with
// `annotators set-group` on the demo database, then `metrics --json`, the readable table and the report.
// Cross-checks by definition: a one-member group's pooled view is that member's own DA and ranks (computed
// by the per-annotator code path), a two-member group's DA is the sum of the members' override counts over
// the sum of their decisive consensus labels, and DD between two one-member groups is DD between the two.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { beforeAll, describe, expect, it } from 'vitest';
import schema from '../../src/core/report/metrics-report.schema.json';
import { ROOT, tempDir } from '../support/helpers';

const BIN = join(ROOT, 'bin', 'discretion.js');

describe('group views through the CLI', () => {
  let dir: string;
  let db: string;
  const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: dir });
  const metrics = (extra: string[] = []) => {
    const r = run([
      'metrics',
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
      '--no-save',
      ...extra,
    ]);
    expect(r.status, r.stderr).toBe(0);
    return r.stdout;
  };

  beforeAll(() => {
    dir = tempDir();
    expect(run(['demo', '--out', 'rep']).status).toBe(0);
    db = join(dir, 'rep', 'demo.db');
  }, 180_000);

  it('no groups: no group view', () => {
    expect(JSON.parse(metrics(['--json'])).groups).toBeUndefined();
  });

  it('one-member groups equal their member; DD between them is DD between the members', () => {
    expect(run(['annotators', 'set-group', 'alice', '--group', 'EU', '--db', db]).status).toBe(0);
    expect(run(['annotators', 'set-group', 'bilal', '--group', '<b>US</b>\u001b[31m', '--db', db]).status).toBe(0);
    const doc = JSON.parse(metrics(['--json']));
    const by = (n: string) => doc.annotators.find((a: { name: string }) => a.name === n);
    const [hostile, eu] = doc.groups.views;
    expect(doc.groups.dd.groups).toEqual(['<b>US</b>\u001b[31m', 'EU']); // sorted by code unit: '<' before 'E'
    expect(eu).toMatchObject({
      group: 'EU',
      members: ['alice'],
      da: by('alice').da,
      da_n: by('alice').da_n,
      da_disagree: by('alice').da_disagree,
      rank: by('alice').rank,
    });
    expect(hostile).toMatchObject({
      members: ['bilal'],
      da: by('bilal').da,
      da_n: by('bilal').da_n,
      rank: by('bilal').rank,
    });
    expect(doc.groups.dd.matrix[0][1]).toBeCloseTo(by('bilal').dd_point, 12);
    expect(doc.groups.dd.matrix[1][1]).toBe(0);
    // The readable table escapes the hostile group name.
    const text = metrics();
    expect(text).toMatch(/group \(pooled labels\)/);
    expect(text).not.toMatch(/\u001b/);
  });

  it("a two-member group pools the members' counts; the report shows the section and metrics.json fits its schema", () => {
    expect(run(['annotators', 'set-group', 'alice', 'bilal', '--group', 'all', '--db', db]).status).toBe(0);
    const doc = JSON.parse(metrics(['--json']));
    const by = (n: string) => doc.annotators.find((a: { name: string }) => a.name === n);
    const [all] = doc.groups.views;
    expect(all.members).toEqual(['alice', 'bilal']);
    expect(all.da_n).toBe(by('alice').da_n + by('bilal').da_n);
    expect(all.da_disagree).toBe(by('alice').da_disagree + by('bilal').da_disagree);
    expect(all.da).toBeCloseTo(all.da_disagree / all.da_n, 15);
    expect(doc.groups.dd.matrix).toEqual([[0]]);
    const out = join(dir, 'report');
    const r = run([
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
      '0',
      '--da-bootstrap',
      '0',
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(
      /## Annotator groups[\s\S]*\| all \| alice, bilal \| 0\\.128 \| 39 \| 5 \|/,
    );
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toMatch(/Annotator groups/);
    const json = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    const validate = new Ajv({ strict: false }).compile(schema);
    expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
    expect(json.groups.views[0].group).toBe('all');
    expect(json.provenance.annotators.find((a: { name: string }) => a.name === 'alice').group).toBe('all');
  });
});
