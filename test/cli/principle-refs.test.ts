// A principle list whose name holds "@N" (`team@2`) through the CLI: `--principles team@2` selects it while
// the list "team" has no version 2; `team@2@1` always selects its version 1; once "team" has a version 2,
// `team@2` is that version (NAME@VERSION always means a version where one exists).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../support/helpers';

const BIN = join(ROOT, 'bin', 'discretion.js');
const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT });
const PRINCIPLES = join(ROOT, 'media', 'principles', 'demo-safety.yaml');

describe('--principles with a list named "team@2"', () => {
  it('selects the list by its whole name, its version by NAME@N@V, and refers to "team" version 2 once that exists', () => {
    const dir = tempDir();
    const db = join(dir, 'd.db');
    const ok = (args: string[]) => {
      const r = run([...args, '--db', db]);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r.stdout;
    };
    ok([
      'import',
      'jsonl',
      join(ROOT, 'media', 'sample', 'safety-pairs.jsonl'),
      '--dataset',
      'sample',
      '--prompt',
      'prompt',
      '--response-0',
      'response_0',
      '--response-1',
      'response_1',
      '--id',
      'id',
    ]);
    ok(['import', 'principles', PRINCIPLES, '--name', 'team']);
    ok(['import', 'principles', PRINCIPLES, '--name', 'team@2']);
    // alice's principle labels go to the list "team@2" ("team" has no version 2)
    ok([
      'import',
      'labels',
      join(ROOT, 'media', 'sample', 'labels-alice.jsonl'),
      '--dataset',
      'sample',
      '--principles',
      'team@2',
      '--annotator',
      'alice',
    ]);
    const metrics = (ref: string) =>
      run([
        'metrics',
        '--dataset',
        'sample',
        '--principles',
        ref,
        '--principle-source',
        'self',
        '--reference',
        'alice',
        '--bootstrap',
        '0',
        '--da-bootstrap',
        '0',
        '--no-save',
        '--json',
        '--db',
        db,
      ]);
    const listOf = (ref: string) => {
      const r = metrics(ref);
      expect(r.status, `${ref}: ${r.stderr}`).toBe(0);
      const { name, version } = JSON.parse(r.stdout).provenance.principle_list;
      return `${name} v${version}`;
    };
    expect(listOf('team@2')).toBe('team@2 v1');
    expect(listOf('team@2@1')).toBe('team@2 v1');
    const noLabels =
      'discretion: principle source "self" needs annotators with their own principle labels for list "team" on dataset "sample"; none of alice has any\n';
    expect(metrics('team').stderr).toBe(noLabels);
    expect(metrics('team@1').stderr).toBe(noLabels);

    // new content under "team" is its version 2: from now on "team@2" means that version
    const changed = join(dir, 'team-v2.yaml');
    writeFileSync(
      changed,
      readFileSync(PRINCIPLES, 'utf8').replace(/text: "?/, (m) => `${m}Changed. `),
    );
    expect(ok(['import', 'principles', changed, '--name', 'team'])).toMatch(/saved as "team" version 2/);
    expect(metrics('team@2').stderr).toBe(noLabels);
    expect(listOf('team@2@1')).toBe('team@2 v1');
    const missing = metrics('team@2@2');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe('discretion: unknown principle list "team@2@2" (known: team, team@2)\n');
  });
});
