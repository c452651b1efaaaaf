// End to end on the paper's published data: import everything through the CLI, run
// `discretion metrics --json`, and check it against values derived by hand from the spec.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, sharedDataSkipReason, tempDir } from '../support/helpers';
import { HH_ANNOTATORS, SHARED_HH_METRICS_ARGS, sharedHHImports } from '../support/shared-hh';

const BIN = join(ROOT, 'bin', 'discretion.js');
const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT });
const skip = sharedDataSkipReason();

describe.skipIf(!!skip)('discretion metrics on the HH-RLHF harmless-base test set (published judgments)', () => {
  let db: string;
  let doc: any;
  beforeAll(() => {
    db = join(tempDir(), 'hh.db');
    for (const args of sharedHHImports(db)) {
      const r = run(args);
      expect(r.status, `${args.slice(0, 2).join(' ')}: ${r.stderr}`).toBe(0);
    }
    const r = run([...SHARED_HH_METRICS_ARGS, '--db', db, '--json']);
    expect(r.status, r.stderr).toBe(0);
    doc = JSON.parse(r.stdout);
  }, 240_000);

  it('counts the pair categories as derived by hand from the GPT-4o oracle file', () => {
    // Derived independently of this code with a 20-line Python script over hh_test_seed_4ob.csv applying
    // spec section 2 (c = 0 when NA dominates or P(A) == P(B), else sign of P(A) - P(B), order 0) and
    // section 3: 1,172 pairs where the non-zero principles agree, 376 with both signs, 764 with none.
    expect(doc.categories).toMatchObject({ n: 2312, consensus: 1172, conflict: 376, indifference: 764 });
  });

  it('gives the human DA derived by hand: 339 of 1,172 consensus pairs have consensus sign -1', () => {
    // The human prefers y1 (+1) on every pair, so it overrides exactly the consensus pairs whose sign is -1:
    // 339 of 1,172 in the same script, DA = 339 / 1172 = 0.289249...
    const human = doc.annotators.find((a: { name: string }) => a.name === 'human');
    expect(human.da_n).toBe(1172);
    expect(human.da).toBeCloseTo(339 / 1172, 12);
    expect(human.da_boot.mean).toBeGreaterThan(0.25);
    expect(human.da_boot.mean).toBeLessThan(0.33);
    expect(human.dd_point).toBe(0); // DD(a, a) = 0
  });

  it('reports every annotator with the documented shape', () => {
    expect(doc.annotators.map((a: { name: string }) => a.name)).toEqual(HH_ANNOTATORS);
    for (const a of doc.annotators) {
      expect(a.ps).toHaveLength(21);
      expect(a.n_conflicts).toHaveLength(21);
      for (let i = 0; i < 21; i++) {
        expect(a.ps[i][i]).toBeNull();
        for (let j = 0; j < 21; j++) {
          if (i !== j && a.n_conflicts[i][j] > 0) expect(a.ps[i][j] + a.ps[j][i]).toBeCloseTo(1, 12);
          expect(a.n_conflicts[i][j]).toBe(a.n_conflicts[j][i]);
        }
      }
      expect(a.w_star).toHaveLength(21);
      for (const w of a.w_star) expect(typeof w === 'number' || w === '+inf' || w === '-inf').toBe(true);
      expect(a.rank).toHaveLength(21);
      expect(a.dd_boot).toMatchObject({ mean: expect.any(Number), sd: expect.any(Number) });
      expect(a.da_boot).toMatchObject({
        mean: expect.any(Number),
        sd: expect.any(Number),
        lo: expect.any(Number),
        hi: expect.any(Number),
      });
    }
    // Mistral-7B's 438 exact reward ties are missing preferences, so it has fewer decisive consensus pairs.
    const mistral = doc.annotators.find((a: { name: string }) => a.name === 'mistral-7b-rm');
    expect(mistral.da_n).toBeLessThan(1172);
  });

  it('stores the run; `runs` lists it and `metrics --run` re-prints the same document', () => {
    const runs = JSON.parse(run(['runs', '--json', '--db', db]).stdout);
    expect(runs.length).toBeGreaterThanOrEqual(1);
    const id = doc.run_id;
    expect(runs.map((r: { id: number }) => r.id)).toContain(id);
    const again = JSON.parse(run(['metrics', '--run', String(id), '--json', '--db', db]).stdout);
    expect(again.annotators).toEqual(doc.annotators);
    expect(again.categories).toEqual(doc.categories);
  });

  it('is deterministic for a seed and differs across seeds in the bootstrap only', () => {
    const a = JSON.parse(
      run([
        ...SHARED_HH_METRICS_ARGS,
        '--db',
        db,
        '--json',
        '--no-save',
        '--bootstrap',
        '20',
        '--da-bootstrap',
        '50',
        '--seed',
        '7',
      ]).stdout,
    );
    const b = JSON.parse(
      run([
        ...SHARED_HH_METRICS_ARGS,
        '--db',
        db,
        '--json',
        '--no-save',
        '--bootstrap',
        '20',
        '--da-bootstrap',
        '50',
        '--seed',
        '7',
      ]).stdout,
    );
    const c = JSON.parse(
      run([
        ...SHARED_HH_METRICS_ARGS,
        '--db',
        db,
        '--json',
        '--no-save',
        '--bootstrap',
        '20',
        '--da-bootstrap',
        '50',
        '--seed',
        '8',
      ]).stdout,
    );
    expect(a.annotators).toEqual(b.annotators);
    expect(c.annotators.map((x: { da: number }) => x.da)).toEqual(a.annotators.map((x: { da: number }) => x.da));
    const boot = (d: { annotators: { da_boot: unknown; dd_boot: unknown }[] }) =>
      d.annotators.map((x) => [x.da_boot, x.dd_boot]);
    expect(boot(c)).not.toEqual(boot(a));
  });

  it('gives clear errors for unknown names', () => {
    const cases: [string[], RegExp][] = [
      [
        ['--dataset', 'nope', '--principles', 'ccai-seed', '--principle-source', 'gpt-4o-oracle'],
        /unknown dataset "nope" \(known: hh\)/,
      ],
      [
        ['--dataset', 'hh', '--principles', 'nope', '--principle-source', 'gpt-4o-oracle'],
        /unknown principle list "nope" \(known: ccai-seed\)/,
      ],
      [
        ['--dataset', 'hh', '--principles', 'ccai-seed', '--principle-source', 'nobody'],
        /unknown principle source "nobody"/,
      ],
      [
        ['--dataset', 'hh', '--principles', 'ccai-seed', '--principle-source', 'gpt-4o-oracle', '--reference', 'ghost'],
        /reference annotator "ghost" has no overall preferences/,
      ],
      [
        ['--dataset', 'hh', '--principles', 'ccai-seed', '--principle-source', 'self'],
        /principle source "self" needs annotators with their own principle labels/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = run(['metrics', '--db', db, ...args]);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
