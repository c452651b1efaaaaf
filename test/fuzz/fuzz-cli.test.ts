// A handful of fuzz cases through the real CLI (the in-process suite in fuzz.test.ts runs the rest):
// exit 0, or exit 1 with exactly one line on stderr, no stack trace, and the database unchanged.
// The CLI is bundled here into .tmp/fuzz-cli (not dist/, which other test files rebuild meanwhile).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/metrics/prng';
import { openSqliteStore } from '../../src/store/sqlite/adapter';
import { dumpDatabase, ROOT, tempDir } from '../support/helpers';
import { makeBaseDatabase } from './base';
import { type FuzzCase, fuzzCase, MUTATIONS, SEEDS, type SeedFormat } from './mutate';

const RUN_SEED = Number(process.env.DISCRETION_FUZZ_SEED ?? 1);
const CLI = join(ROOT, '.tmp', 'fuzz-cli', 'cli.js');
const MAP = [
  '--prompt',
  'prompt',
  '--response-0',
  'response_0',
  '--response-1',
  'response_1',
  '--id',
  'id',
  '--preferred',
  'preferred',
];

function cliArgs(format: SeedFormat, file: string): string[] {
  switch (format) {
    case 'hh-rlhf':
    case 'hh-rlhf-gz':
      return ['import', 'hh-rlhf', file, '--dataset', 'fz'];
    case 'pku-saferlhf':
      return ['import', 'pku-saferlhf', file, '--dataset', 'fz'];
    case 'jsonl':
    case 'csv':
      return ['import', format, file, '--dataset', 'fz', ...MAP];
    case 'principles-txt':
    case 'principles-yaml':
    case 'principles-json':
      return ['import', 'principles', file, '--name', 'fz'];
    case 'labels':
      return ['import', 'labels', file, '--dataset', 'base', '--principles', 'two', '--annotator', 'fz'];
    case 'oracle':
      return ['import', 'oracle', file, '--dataset', 'base', '--principles', 'two', '--annotator', 'fz'];
    default:
      return ['import', format, file, '--dataset', 'base', '--annotator', 'fz'];
  }
}

/** A seed with one named mutation, for cases that must be refused (a fixed stream: these are refused whatever DISCRETION_FUZZ_SEED is). */
function mutated(format: SeedFormat, mutation: string, index: number): FuzzCase {
  const seed = SEEDS.find((s) => s.format === format)!;
  const bytes = MUTATIONS.find((m) => m.name === mutation)!.apply(
    Buffer.from(seed.text),
    seed,
    new Rng(1, `cli-${index}`),
  );
  return { index, seed, mutations: [mutation], bytes };
}

describe(`fuzz cases through the real CLI (seed ${RUN_SEED})`, () => {
  let template: string;
  let dir: string;
  beforeAll(async () => {
    dir = tempDir('discretion-fuzz-cli-');
    template = join(dir, 'base.db');
    await makeBaseDatabase(template);
    mkdirSync(join(ROOT, '.tmp', 'fuzz-cli'), { recursive: true });
    await build({
      entryPoints: [join(ROOT, 'src', 'cli', 'main.ts')],
      outfile: CLI,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external: ['vscode', 'libsql', 'onnxruntime-node'],
      logLevel: 'warning',
    });
  }, 120_000);

  const cases: FuzzCase[] = [
    mutated('hh-rlhf', 'gzip-bomb', 1000),
    mutated('jsonl', 'deep-nesting', 1001),
    mutated('csv', 'invalid-utf8', 1002),
    mutated('rewards', 'extreme-number', 1003),
    mutated('principles-yaml', 'truncate', 1004),
    // and the first in-process cases of a few formats, whatever their outcome
    ...[0, 1, 4, 8, 10].map((i) => fuzzCase(RUN_SEED, i)),
  ];
  for (const c of cases) {
    it(`case ${c.index}: ${c.seed.format} [${c.mutations.join(', ')}]`, async () => {
      const file = join(dir, `case-${c.index}.${c.seed.ext}`);
      writeFileSync(file, c.bytes);
      const db = join(dir, `case-${c.index}.db`);
      copyFileSync(template, db);
      const before = await (async () => {
        const s = await openSqliteStore(db);
        try {
          return await dumpDatabase(s);
        } finally {
          await s.close();
        }
      })();
      const r = spawnSync(
        process.execPath,
        [
          '-e',
          `require(${JSON.stringify(CLI)}).main(process.argv.slice(1)).then((c) => { process.exitCode = c; })`,
          ...cliArgs(c.seed.format, file),
          '--db',
          db,
        ],
        { encoding: 'utf8', cwd: ROOT },
      );
      const what = `seed ${RUN_SEED} case ${c.index}, file ${file}: exit ${r.status}, stderr ${JSON.stringify(r.stderr)}`;
      expect([0, 1], what).toContain(r.status);
      if (r.status === 1) {
        expect(r.stderr.trimEnd().split('\n'), what).toHaveLength(1);
        expect(r.stderr, what).toMatch(/^discretion: /);
        expect(r.stderr, what).not.toMatch(/\bat .*:\d+:\d+/);
        const s = await openSqliteStore(db);
        try {
          expect(await dumpDatabase(s), what).toEqual(before);
        } finally {
          await s.close();
        }
      }
      if (c.index >= 1000) expect(r.status, `${what} (this mutation must be refused)`).toBe(1);
    }, 60_000);
  }
});
