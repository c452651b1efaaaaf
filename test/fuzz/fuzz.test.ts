// The permanent fuzz suite: seeded mutations of a valid seed file of every input format, run through
// the importers in-process. Every case must end in one of two ways:
//   - refused: a user-facing error (InputError/UsageError) of one line, and the database exactly as it
//     was (every row of every table compared);
//   - accepted: datasets re-export (discretion export) and re-import to the same pairs and preferences;
//     principle lists re-import as the same version; labels and judgments add exactly the rows the
//     summary counts and change no existing row.
// DISCRETION_FUZZ_CASES (default 260, 20 per format) and DISCRETION_FUZZ_SEED (default 1) widen or vary
// the run; a failing case prints the seed, the case number, its mutations, and keeps its file.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { isUserFacingError } from '../../src/core/errors';
import { DEFAULT_LIMITS, type ImportSummary } from '../../src/importers/common';
import { importDataset } from '../../src/importers/datasets';
import { exportDataset } from '../../src/app/export';
import { importJudgments } from '../../src/importers/judgments';
import { importLabels } from '../../src/importers/labels';
import { importPrincipleList } from '../../src/importers/principles';
import type { Store } from '../../src/store';
import { openSqliteStore } from '../../src/store/sqlite/adapter';
import { dumpDatabase, tempDir } from '../support/helpers';
import { makeBaseDatabase } from './base';
import { type FuzzCase, fuzzCase, SEEDS, type SeedFormat } from './mutate';

const CASES = Number(process.env.DISCRETION_FUZZ_CASES ?? 20 * SEEDS.length);
const RUN_SEED = Number(process.env.DISCRETION_FUZZ_SEED ?? 1);
const GENERIC = {
  prompt: 'prompt',
  response0: 'response_0',
  response1: 'response_1',
  id: 'id',
  preferred: 'preferred',
};

const DATASET_FORMATS = new Set<SeedFormat>(['hh-rlhf', 'hh-rlhf-gz', 'pku-saferlhf', 'jsonl', 'csv']);
/** The annotator whose preferences a dataset round trip compares. */
const ROUND_TRIP_ANNOTATOR: Partial<Record<SeedFormat, string>> = {
  'hh-rlhf': 'human',
  'hh-rlhf-gz': 'human',
  'pku-saferlhf': 'human-better',
  jsonl: 'human',
  csv: 'human',
};

function runImporter(store: Store, format: SeedFormat, file: string, onError: 'fail' | 'skip'): Promise<ImportSummary> {
  switch (format) {
    case 'hh-rlhf':
    case 'hh-rlhf-gz':
      return importDataset(store, { format: 'hh-rlhf', file, dataset: 'fz', onError });
    case 'pku-saferlhf':
      return importDataset(store, { format: 'pku-saferlhf', file, dataset: 'fz', onError });
    case 'jsonl':
    case 'csv':
      return importDataset(store, { format, file, dataset: 'fz', mapping: GENERIC, onError });
    case 'principles-txt':
    case 'principles-yaml':
    case 'principles-json':
      return importPrincipleList(store, { file, name: 'fz' });
    case 'labels':
      return importLabels(store, { file, dataset: 'base', principles: 'two', annotator: 'fz', onError });
    case 'oracle':
    case 'rewards':
    case 'judge':
    case 'loglik':
      return importJudgments(store, { format, file, dataset: 'base', annotator: 'fz', principles: 'two', onError });
  }
}

/** The accepted dataset exported and imported again under another name: same pairs, same preferences. */
async function datasetRoundTrip(
  store: Store,
  format: SeedFormat,
  dir: string,
  summary: ImportSummary,
): Promise<string | undefined> {
  const out = join(dir, 'export.jsonl');
  await exportDataset(store, { dataset: 'fz', format: 'jsonl', out });
  const annotator = ROUND_TRIP_ANNOTATOR[format]!;
  // The export nests each pair's metadata one level deeper (under "meta"): a record accepted at the
  // depth limit re-imports with the limit one higher.
  await importDataset(store, {
    format: 'jsonl',
    file: out,
    dataset: 'rt',
    preferredAnnotator: annotator,
    limits: { maxJsonDepth: DEFAULT_LIMITS.maxJsonDepth + 1 },
    mapping: {
      prompt: 'prompt',
      response0: 'response_0',
      response1: 'response_1',
      id: 'source_id',
      preferred: `preferences.${annotator}`,
    },
  });
  const read = async (name: string) => {
    const ds = await store.requireDataset(name);
    const pairs = await store.listPairs(ds.id, 0, 1e6);
    const prefs = new Map<number, unknown>();
    for (const p of await store.preferencesForPairs(pairs.map((x) => x.pairRowId)))
      if (p.annotator === annotator) prefs.set(p.pairRowId, p.value);
    return pairs.map((p) => ({
      sourceId: p.sourceId,
      prompt: p.prompt,
      y0: p.y0,
      y1: p.y1,
      meta: name === 'rt' ? ((p.meta as { meta?: unknown } | null)?.meta ?? null) : (p.meta ?? null),
      preference: prefs.get(p.pairRowId) ?? null,
    }));
  };
  const a = await read('fz');
  const b = await read('rt');
  if (a.length !== summary.counts.pairs)
    return `the summary says ${summary.counts.pairs} pairs, the database holds ${a.length}`;
  if (!isDeepStrictEqual(a, b))
    return `export and re-import differ: ${JSON.stringify(a).slice(0, 400)} vs ${JSON.stringify(b).slice(0, 400)}`;
  return undefined;
}

/** Rows added by an accepted label or judgment import: none of the old ones changed, and as many as counted. */
function additiveCheck(
  before: Record<string, unknown[]>,
  after: Record<string, unknown[]>,
  summary: ImportSummary,
): string | undefined {
  for (const [table, rows] of Object.entries(before)) {
    const now = new Set(after[table] as string[]);
    const lost = (rows as string[]).filter((r) => !now.has(r));
    if (table !== 'annotators' && lost.length > 0)
      return `an accepted import changed or removed rows of ${table}: ${lost[0]}`;
  }
  const added = (t: string) => (after[t]?.length ?? 0) - (before[t]?.length ?? 0);
  const expectPrefs = summary.counts.preferences ?? 0;
  const expectPrinciple = summary.counts.principlePreferences ?? 0;
  if (added('preferences') !== expectPrefs)
    return `${added('preferences')} preference rows added, the summary says ${expectPrefs}`;
  if (added('principle_preferences') !== expectPrinciple)
    return `${added('principle_preferences')} principle preference rows added, the summary says ${expectPrinciple}`;
  return undefined;
}

const outcomes = { refused: 0, accepted: 0 };

async function runCase(c: FuzzCase, template: string, root: string): Promise<string | undefined> {
  const dir = join(root, `case-${c.index}`);
  mkdirSync(dir);
  const file = join(dir, `input.${c.seed.ext}`);
  writeFileSync(file, c.bytes);
  const db = join(dir, 'fuzz.db');
  copyFileSync(template, db);
  const store = await openSqliteStore(db);
  try {
    const before = await dumpDatabase(store);
    const onError = Math.floor(c.index / SEEDS.length) % 2 === 0 ? 'fail' : 'skip';
    let summary: ImportSummary | undefined;
    let error: unknown;
    try {
      summary = await runImporter(store, c.seed.format, file, onError);
    } catch (e) {
      error = e;
    }
    if (error !== undefined) {
      if (!isUserFacingError(error))
        return `refused with an internal error (--on-error ${onError}): ${error instanceof Error ? error.stack?.split('\n').slice(0, 3).join(' | ') : String(error)}`;
      if (/[\r\n\u2028\u2029]/.test(error.message))
        return `the error is not one line: ${JSON.stringify(error.message)}`;
      if (!isDeepStrictEqual(await dumpDatabase(store), before))
        return `a refused import changed the database: ${error.message}`;
      outcomes.refused++;
      return undefined;
    }
    outcomes.accepted++;
    for (const s of summary!.skipped)
      if (/[\r\n\u2028\u2029]/.test(s.message))
        return `a skipped record's message is not one line: ${JSON.stringify(s.message)}`;
    if (DATASET_FORMATS.has(c.seed.format)) return await datasetRoundTrip(store, c.seed.format, dir, summary!);
    if (c.seed.format.startsWith('principles-')) {
      const again = await importPrincipleList(store, { file, name: 'fz' });
      return again.imported === 0 && again.counts.version === summary!.counts.version
        ? undefined
        : `re-importing the accepted list made version ${again.counts.version} (first: ${summary!.counts.version})`;
    }
    return additiveCheck(before, await dumpDatabase(store), summary!);
  } catch (e) {
    return `the check itself failed: ${e instanceof Error ? e.message : String(e)}`;
  } finally {
    await store.close();
  }
}

function keepFailure(c: FuzzCase): string {
  const keep = join(tmpdir(), 'discretion-fuzz-failures');
  mkdirSync(keep, { recursive: true });
  const path = join(keep, `seed-${RUN_SEED}-case-${c.index}.${c.seed.ext}`);
  writeFileSync(path, c.bytes);
  return path;
}

describe(`fuzzed input files (seed ${RUN_SEED}, ${CASES} cases; DISCRETION_FUZZ_CASES / DISCRETION_FUZZ_SEED change them)`, () => {
  let template: string;
  let root: string;
  beforeAll(async () => {
    root = tempDir('discretion-fuzz-');
    template = join(root, 'base.db');
    await makeBaseDatabase(template);
  });

  it('every seed file is accepted as it is (the mutations start from valid input)', async () => {
    const dir = tempDir('discretion-fuzz-seeds-');
    for (const seed of SEEDS) {
      const c: FuzzCase = { index: -1, seed, mutations: [], bytes: Buffer.from(seed.text) };
      if (seed.format === 'hh-rlhf-gz') c.bytes = (await import('node:zlib')).gzipSync(c.bytes);
      const db = join(dir, `${seed.format}.db`);
      copyFileSync(template, db);
      const store = await openSqliteStore(db);
      const s = await runImporter(
        store,
        seed.format,
        join(dir, writeSeed(dir, seed.format, seed.ext, c.bytes)),
        'fail',
      ).finally(() => store.close());
      expect(s.imported, seed.format).toBeGreaterThan(0);
      expect(s.skipped, seed.format).toEqual([]);
    }
  });

  for (const seed of SEEDS) {
    it(`${seed.format}: every mutated file is refused cleanly or accepted faithfully`, async () => {
      const failures: string[] = [];
      outcomes.refused = outcomes.accepted = 0;
      for (let i = SEEDS.indexOf(seed); i < CASES; i += SEEDS.length) {
        const c = fuzzCase(RUN_SEED, i);
        const why = await runCase(c, template, root);
        if (why) {
          const kept = keepFailure(c);
          const shown = c.bytes.length > 600 ? `${c.bytes.length} bytes` : JSON.stringify(c.bytes.toString('latin1'));
          failures.push(
            `seed ${RUN_SEED} case ${i} [${c.mutations.join(', ')}]: ${why}\n    file kept at ${kept}: ${shown}`,
          );
        }
      }
      console.log(
        `fuzz ${seed.format}: ${outcomes.refused} refused cleanly, ${outcomes.accepted} accepted and checked, ${failures.length} failed`,
      );
      expect(failures, failures.join('\n')).toEqual([]);
    }, 300_000);
  }
});

function writeSeed(dir: string, name: string, ext: string, bytes: Buffer): string {
  const f = `${name}.${ext}`;
  writeFileSync(join(dir, f), bytes);
  return f;
}
