// `discretion consistency`, `ensemble` and `annotators set-group` through the built CLI on small files:
// the spec's hand cases (consistency spec section 8) end to end, and bad requests as one clear line that
// changes nothing.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../support/helpers';

const BIN = join(ROOT, 'bin', 'discretion.js');
const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT });
const SAMPLE = join(ROOT, 'media', 'sample', 'safety-pairs.jsonl');
const MAP = ['--prompt', 'prompt', '--response-0', 'response_0', '--response-1', 'response_1', '--id', 'id'];

function oneLineError(r: ReturnType<typeof run>, pattern: RegExp): void {
  expect(r.status).toBe(1);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
}

describe('consistency commands', () => {
  let dir: string;
  let db: string;
  const info = () =>
    JSON.parse(run(['info', '--db', db, '--json']).stdout) as {
      annotators: { name: string; kind: string; group: string | null }[];
    };

  beforeAll(() => {
    dir = tempDir();
    db = join(dir, 'c.db');
    expect(run(['import', 'jsonl', SAMPLE, '--dataset', 's', ...MAP, '--db', db]).status).toBe(0);
    // Spec section 8, case "Order consistency": six pairs, (P(A), P(B), P(NA)) in order 0 then order 1.
    const judge = [
      [0.7, 0.2, 0.1, 0.2, 0.7, 0.1],
      [0.6, 0.3, 0.1, 0.8, 0.1, 0.1],
      [0.2, 0.7, 0.1, 0.3, 0.6, 0.1],
      [0.1, 0.1, 0.8, 0.1, 0.2, 0.7],
      [0.5, 0.4, 0.1, 0.45, 0.45, 0.1],
      [0.3, 0.3, 0.4, 0.2, 0.6, 0.2],
    ];
    writeFileSync(
      join(dir, 'judge.csv'),
      'row_id,order,prob_A,prob_B,prob_NA\n' +
        judge.map((r, k) => `${k},0,${r.slice(0, 3).join(',')}\n${k},1,${r.slice(3).join(',')}`).join('\n') +
        '\n',
    );
    expect(
      run(['import', 'judge', join(dir, 'judge.csv'), '--dataset', 's', '--annotator', 'j', '--db', db]).status,
    ).toBe(0);
    // Spec section 8, case "Ensembles, standardising": scores (y0, y1); reward_a is y1, reward_b is y0.
    const members: Record<string, number[][]> = {
      m1: [
        [1, 2],
        [0.5, 0],
        [2, 2],
      ],
      m2: [
        [10, 14],
        [12, 8],
        [9, 11],
      ],
      m3: [
        [0, 1],
        [1, 0],
        [3, -1],
      ],
    };
    for (const [name, rows] of Object.entries(members)) {
      writeFileSync(
        join(dir, `${name}.csv`),
        'row_id,reward_a,reward_b\n' + rows.map(([y0, y1], k) => `${k},${y1},${y0}`).join('\n') + '\n',
      );
      const r = run(['import', 'rewards', join(dir, `${name}.csv`), '--dataset', 's', '--annotator', name, '--db', db]);
      expect(r.status, r.stderr).toBe(0);
    }
  }, 120_000);

  it('spec section 8, case "Order consistency", through the CLI: patterns, PC 2/6, PF 0, conflict 4/6; the other 24 pairs are missing', () => {
    const r = run(['consistency', '--db', db, '--dataset', 's', '--json', '--no-save']);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.order_consistency).toHaveLength(1);
    const o = doc.order_consistency[0];
    expect(o).toMatchObject({
      annotator: 'j',
      n: 6,
      missing: 24,
      pf: 0,
      patterns: { AA: 1, AB: 1, AC: 1, BA: 0, BB: 1, BC: 0, CA: 0, CB: 1, CC: 1 },
      no_preference: { position_bias: 2, no_choice: 1, mixed: 2 },
    });
    expect(o.pc).toBeCloseTo(2 / 6, 15);
    expect(o.conflict_rate).toBeCloseTo(4 / 6, 15);
    // No human, no groups, no policy: those sections are empty or null with a reason, not an error.
    expect(doc.multiplicity).toBeNull();
    expect(doc.group_inconsistency).toBeNull();
    expect(doc.ranking_accuracy).toEqual([]);
    expect(doc.internal_consistency).toEqual([]);
    expect(Object.keys(doc.reasons).sort()).toEqual([
      'group_inconsistency',
      'internal_consistency',
      'multiplicity',
      'ranking_accuracy',
    ]);
    expect(doc.run_id).toBeNull();
  });

  it('spec section 8, case "Ensembles, standardising", through the CLI: the mean ensemble prefers (+1, -1, -1)', () => {
    const args = [
      'ensemble',
      '--db',
      db,
      '--dataset',
      's',
      '--name',
      'ens',
      '--method',
      'mean',
      '--members',
      'm1,m2,m3',
    ];
    const r = run(args);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/created ensemble "ens".*3 pairs, 3 decisive/);
    const out = join(dir, 'out.jsonl');
    expect(run(['export', '--db', db, '--dataset', 's', '--out', out]).status).toBe(0);
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.slice(0, 3).map((l) => l.preferences.ens)).toEqual(['y1', 'y0', 'y0']);
    expect(info().annotators.find((a) => a.name === 'ens')!.kind).toBe('ensemble');
  }, 180_000);

  it('ensemble: the same request again is a no-op; other arguments and bad requests are one line that changes nothing', () => {
    const args = [
      'ensemble',
      '--db',
      db,
      '--dataset',
      's',
      '--name',
      'ens',
      '--method',
      'mean',
      '--members',
      'm1,m2,m3',
    ];
    const again = run(args);
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/already exists with these arguments; nothing changed/);
    oneLineError(
      run([...args.slice(0, -3), 'worst-case', '--members', 'm1,m2,m3']),
      /ensemble "ens" already exists with other arguments/,
    );
    oneLineError(
      run([
        'ensemble',
        '--db',
        db,
        '--dataset',
        's',
        '--name',
        'e2',
        '--method',
        'mean',
        '--lambda',
        '1',
        '--members',
        'm1,m2',
      ]),
      /lambda applies only to the method uncertainty-weighted \(--lambda\)/,
    );
    oneLineError(
      run(['ensemble', '--db', db, '--dataset', 's', '--name', 'e2', '--method', 'median', '--members', 'm1,m2']),
      /the ensemble method must be one of mean, worst-case, uncertainty-weighted, not "median" \(--method\)/,
    );
    oneLineError(
      run(['ensemble', '--db', db, '--dataset', 's', '--name', 'e2', '--method', 'mean', '--members', 'm1']),
      /an ensemble needs at least two members, got 1 \(--members\)/,
    );
    oneLineError(
      run(['ensemble', '--db', db, '--dataset', 's', '--name', 'e2', '--method', 'mean', '--members', 'm1,j']),
      /member "j" has no scores/,
    );
    oneLineError(
      run(['ensemble', '--db', db, '--dataset', 's', '--name', 'e2', '--method', 'mean', '--members', 'm1,nobody']),
      /unknown annotator "nobody"/,
    );
    expect(info().annotators.map((a) => a.name)).not.toContain('e2');
  }, 180_000);

  it('set-group: groups show in info --json; an unknown name changes nothing; --clear removes the group', () => {
    oneLineError(
      run(['annotators', 'set-group', 'm1', 'nobody', '--group', 'EU', '--db', db]),
      /unknown annotator "nobody"/,
    );
    expect(info().annotators.every((a) => a.group === null)).toBe(true);
    oneLineError(run(['annotators', 'set-group', 'm1', '--db', db]), /exactly one of --group G and --clear/);
    oneLineError(
      run(['annotators', 'set-group', 'm1', '--group', 'EU', '--clear', '--db', db]),
      /exactly one of --group G and --clear/,
    );
    expect(run(['annotators', 'set-group', 'm1', 'm2', '--group', 'EU', '--db', db]).status).toBe(0);
    expect(run(['annotators', 'set-group', 'm3', 'j', '--group', 'US', '--db', db]).status).toBe(0);
    const groups = Object.fromEntries(info().annotators.map((a) => [a.name, a.group]));
    expect(groups).toMatchObject({ m1: 'EU', m2: 'EU', m3: 'US', j: 'US', ens: null });
    const doc = JSON.parse(run(['consistency', '--db', db, '--dataset', 's', '--json', '--no-save']).stdout);
    expect(doc.group_inconsistency.groups).toEqual({ EU: ['m1', 'm2'], US: ['j', 'm3'] });
    expect(doc.group_inconsistency.null).toMatchObject({ kind: 'exact', n: 6 });
    expect(run(['annotators', 'set-group', 'j', '--clear', '--db', db]).status).toBe(0);
    expect(info().annotators.find((a) => a.name === 'j')!.group).toBeNull();
  }, 180_000);

  it('is stored as a run: runs lists both kinds, consistency --run re-prints it, metrics --run points to it', () => {
    const r = run(['consistency', '--db', db, '--dataset', 's', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.run_id).toEqual(expect.any(Number));
    expect(JSON.parse(run(['consistency', '--db', db, '--run', String(doc.run_id), '--json']).stdout)).toEqual(doc);
    const runs = run(['runs', '--db', db]);
    expect(runs.stdout).toMatch(new RegExp(`^\\s*${doc.run_id}\\s+consistency\\s`, 'm'));
    oneLineError(
      run(['metrics', '--db', db, '--run', String(doc.run_id)]),
      /is a consistency run; show it with "discretion consistency --run/,
    );
  }, 180_000);

  it('refuses bad options with one line', () => {
    oneLineError(
      run(['consistency', '--db', db, '--dataset', 's', '--epsilon', '0.1,x']),
      /--epsilon takes comma-separated numbers/,
    );
    oneLineError(run(['consistency', '--db', db, '--dataset', 's', '--beta', '0']), /--beta must be a number > 0/);
    oneLineError(
      run(['consistency', '--db', db, '--dataset', 's', '--reference', 'nobody']),
      /unknown annotator "nobody"/,
    );
    oneLineError(run(['consistency', '--db', db, '--dataset', 's', '--models', 'm1']), /at least two --models/);
    oneLineError(run(['consistency', '--db', db, '--dataset', 'nope']), /unknown dataset "nope"/);
  }, 180_000);
});
