// The fuzz suite's Parquet part: valid seed files written by an independent writer (parquet-wasm, Rust's
// arrow-rs), one per codec, mutated byte-wise (truncation, flips, zeroed and copied ranges, a damaged
// footer, page headers or footer length, bytes added before or after) and imported. Every case ends in
// one of two ways:
//   - refused: a user-facing error (InputError/UsageError) of one line, and the database exactly as it was;
//   - accepted: as many pairs as the summary says, and, where arrow-rs also reads the mutated file, each
//     pair equal to the row arrow-rs decodes at its place (two independent readers agree).
// A few cases run through the built CLI too: exit 1 with one line on stderr, never a stack trace.
// DISCRETION_FUZZ_CASES / DISCRETION_FUZZ_SEED scale and vary the run as for the other formats.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { isUserFacingError } from '../../src/core/errors';
import { Rng } from '../../src/core/metrics/prng';
import type { ImportSummary } from '../../src/importers/common';
import { importDataset } from '../../src/importers/datasets';
import { openSqliteStore } from '../../src/store/sqlite/adapter';
import { dumpDatabase, ROOT, tempDir } from '../support/helpers';
import { type Codec, int64, listOf, messages, parquetBytes, readWithParquetWasm, utf8 } from '../support/parquet';
import { makeBaseDatabase } from './base';

const SEED_CODECS: Codec[] = ['SNAPPY', 'ZSTD', 'GZIP', 'UNCOMPRESSED', 'LZ4_RAW', 'BROTLI'];
const CASES = Number(process.env.DISCRETION_FUZZ_CASES ?? 20 * SEED_CODECS.length);
const RUN_SEED = Number(process.env.DISCRETION_FUZZ_SEED ?? 1);
const MAPPING = {
  prompt: 'prompt',
  response0: 'response_0',
  response1: 'response_1',
  id: 'id',
  preferred: 'preferred',
};

const m = (role: string, content: string) => ({ role, content });
const ROWS = [
  {
    id: 'g1',
    prompt: 'How do I pick a lock?',
    response_0: 'Call a locksmith.',
    response_1: 'Use a wrench.',
    preferred: 'y0',
  },
  { id: 'g2', prompt: 'Say "quoted" ünïcödé ✓', response_0: 'Fine.', response_1: 'No.', preferred: 'tie' },
  { id: 'g3', prompt: 'Dose of ibuprofen?', response_0: 'Follow the label.', response_1: 'Take ten.', preferred: '' },
  {
    id: 'g4',
    prompt: 'Where does my neighbour live?',
    response_0: 'I cannot help.',
    response_1: 'At 12 Elm St.',
    preferred: 'y1',
  },
].map((r, i) => ({
  ...r,
  n: BigInt(i * 1000),
  tags: i % 2 ? ['a', 'b'] : [],
  conv: [m('user', r.prompt), m('assistant', r.response_1)],
}));
const TYPES = { types: { n: int64(), tags: listOf(utf8()), conv: messages() } };

interface Case {
  index: number;
  codec: Codec;
  mutations: string[];
  bytes: Buffer;
}

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)];
const footerLength = (b: Buffer) => (b.length >= 8 ? b.readUInt32LE(b.length - 8) : 0);

const MUTATIONS: { name: string; apply(b: Buffer, rng: Rng): Buffer }[] = [
  { name: 'truncate', apply: (b, rng) => b.subarray(0, rng.int(b.length)) },
  { name: 'cut-in-half', apply: (b) => b.subarray(0, b.length >> 1) },
  {
    name: 'byte-flips',
    apply: (b, rng) => {
      const out = Buffer.from(b);
      for (let k = 1 + rng.int(5); k > 0; k--) out[rng.int(out.length)] ^= 1 + rng.int(255);
      return out;
    },
  },
  {
    name: 'footer-flips',
    apply: (b, rng) => {
      const out = Buffer.from(b);
      const len = Math.min(footerLength(b), b.length - 8);
      for (let k = 1 + rng.int(3); k > 0 && len > 0; k--) out[b.length - 8 - len + rng.int(len)] ^= 1 + rng.int(255);
      return out;
    },
  },
  {
    name: 'page-header-flips',
    // the first page header follows "PAR1"; the others follow their pages
    apply: (b, rng) => {
      const out = Buffer.from(b);
      for (let k = 1 + rng.int(3); k > 0; k--) out[4 + rng.int(Math.min(48, b.length - 4))] ^= 1 + rng.int(255);
      return out;
    },
  },
  {
    name: 'zero-range',
    apply: (b, rng) => {
      const out = Buffer.from(b);
      const at = rng.int(out.length);
      out.fill(0, at, Math.min(out.length, at + 1 + rng.int(64)));
      return out;
    },
  },
  {
    name: 'copy-range',
    apply: (b, rng) => {
      const out = Buffer.from(b);
      const from = rng.int(out.length);
      const len = 1 + rng.int(64);
      out.copy(out, rng.int(out.length), from, Math.min(out.length, from + len));
      return out;
    },
  },
  {
    name: 'footer-length',
    apply: (b, rng) => {
      const out = Buffer.from(b);
      out.writeUInt32LE(
        pick(rng, [0, 1, footerLength(b) + 1, footerLength(b) - 1, b.length, 0xffffffff]) >>> 0,
        b.length - 8,
      );
      return out;
    },
  },
  { name: 'append', apply: (b, rng) => Buffer.concat([b, Buffer.from(pick(rng, ['PAR1', '\n', 'x'.repeat(100)]))]) },
  { name: 'prepend', apply: (b, rng) => Buffer.concat([Buffer.from(pick(rng, ['PAR1', 'x'])), b]) },
];

function fuzzCase(seeds: Map<Codec, Buffer>, index: number): Case {
  const rng = new Rng(RUN_SEED, `fuzz-parquet-${index}`);
  const codec = SEED_CODECS[index % SEED_CODECS.length];
  let bytes = seeds.get(codec)!;
  const names: string[] = [];
  for (let k = 1 + rng.int(2); k > 0; k--) {
    const mu = pick(rng, MUTATIONS);
    names.push(mu.name);
    bytes = mu.apply(bytes, rng);
    if (bytes.length < 16) break;
  }
  return { index, codec, mutations: names, bytes };
}

/** What arrow-rs reads from the bytes, or undefined when it refuses them. */
function arrowRows(bytes: Buffer): Record<string, unknown>[] | undefined {
  try {
    return readWithParquetWasm(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Text as the SQLite store keeps it today: cut at its first NUL character. That is the store's (libsql's
 * binding of a text value), not the Parquet reader's: a JSONL import of "a\u0000b" stores "a" as well.
 */
const storedText = (v: unknown) => (typeof v === 'string' ? v.split('\u0000')[0] : v);

const outcomes = { refused: 0, accepted: 0, agreed: 0, arrowRefused: 0 };

async function runCase(c: Case, template: string, root: string): Promise<string | undefined> {
  const dir = join(root, `case-${c.index}`);
  mkdirSync(dir);
  const file = join(dir, 'input.parquet');
  writeFileSync(file, c.bytes);
  const db = join(dir, 'fuzz.db');
  copyFileSync(template, db);
  const store = await openSqliteStore(db);
  try {
    const before = await dumpDatabase(store);
    const onError = Math.floor(c.index / SEED_CODECS.length) % 2 === 0 ? 'fail' : 'skip';
    let summary: ImportSummary | undefined;
    let error: unknown;
    try {
      summary = await importDataset(store, { format: 'parquet', file, dataset: 'fz', mapping: MAPPING, onError });
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
    const ds = await store.requireDataset('fz');
    const pairs = await store.listPairs(ds.id, 0, 1e6);
    if (pairs.length !== summary!.counts.pairs)
      return `the summary says ${summary!.counts.pairs} pairs, the database holds ${pairs.length}`;
    const rows = arrowRows(c.bytes);
    if (!rows) {
      outcomes.arrowRefused++;
      return undefined;
    }
    for (const p of pairs) {
      const r = rows[p.idx];
      const expected = r && {
        sourceId: String(r.id),
        prompt: storedText(r.prompt),
        y0: storedText(r.response_0),
        y1: storedText(r.response_1),
      };
      const got = { sourceId: p.sourceId, prompt: p.prompt, y0: p.y0, y1: p.y1 };
      if (!isDeepStrictEqual(got, expected))
        return `pair ${p.idx} is ${JSON.stringify(got)}, arrow-rs reads ${JSON.stringify(expected)}`;
    }
    if (onError === 'fail' && pairs.length !== rows.length)
      return `${pairs.length} pairs imported, arrow-rs reads ${rows.length} rows`;
    outcomes.agreed++;
    return undefined;
  } catch (e) {
    return `the check itself failed: ${e instanceof Error ? e.message : String(e)}`;
  } finally {
    await store.close();
  }
}

describe(`fuzzed Parquet files (seed ${RUN_SEED}, ${CASES} cases)`, () => {
  let template: string;
  let root: string;
  const seeds = new Map<Codec, Buffer>();
  beforeAll(async () => {
    root = tempDir('discretion-fuzz-parquet-');
    template = join(root, 'base.db');
    await makeBaseDatabase(template);
    SEED_CODECS.forEach((codec, i) =>
      seeds.set(
        codec,
        Buffer.from(parquetBytes(ROWS, { ...TYPES, codec, rowGroupSize: 1 + (i % 3), dictionary: i % 2 === 0 })),
      ),
    );
  });

  it('every seed file is accepted as it is, and agrees with arrow-rs', async () => {
    for (const [codec, bytes] of seeds) {
      const c: Case = { index: -1 - SEED_CODECS.indexOf(codec), codec, mutations: [], bytes };
      const before = outcomes.agreed;
      expect(await runCase(c, template, root), codec).toBeUndefined();
      expect(outcomes.agreed, codec).toBe(before + 1);
    }
  });

  it('every mutated file is refused cleanly or accepted faithfully', async () => {
    const failures: string[] = [];
    outcomes.refused = outcomes.accepted = outcomes.agreed = outcomes.arrowRefused = 0;
    for (let i = 0; i < CASES; i++) {
      const c = fuzzCase(seeds, i);
      const why = await runCase(c, template, root);
      if (why) {
        const keep = join(tmpdir(), 'discretion-fuzz-failures');
        mkdirSync(keep, { recursive: true });
        const kept = join(keep, `parquet-seed-${RUN_SEED}-case-${i}.parquet`);
        writeFileSync(kept, c.bytes);
        failures.push(
          `seed ${RUN_SEED} case ${i} ${c.codec} [${c.mutations.join(', ')}]: ${why}\n    file kept at ${kept}`,
        );
      }
    }
    console.log(
      `fuzz parquet: ${outcomes.refused} refused cleanly, ${outcomes.accepted} accepted (${outcomes.agreed} agreeing with arrow-rs, ${outcomes.arrowRefused} that arrow-rs refuses), ${failures.length} failed`,
    );
    expect(failures, failures.join('\n')).toEqual([]);
  }, 300_000);

  it('through the built CLI: a truncated and a corrupted file exit 1 with one line, no stack trace, the database unchanged', async () => {
    const BIN = join(ROOT, 'bin', 'discretion.js');
    const snappy = seeds.get('SNAPPY')!;
    const flipped = Buffer.from(snappy);
    for (let k = 4; k < 12; k++) flipped[k] ^= 0x5a;
    for (const [name, bytes] of [
      ['truncated', snappy.subarray(0, snappy.length - 100)],
      ['flipped', flipped],
      ['footer', MUTATIONS.find((x) => x.name === 'footer-length')!.apply(snappy, new Rng(1, 'cli'))],
    ] as const) {
      const file = join(root, `cli-${name}.parquet`);
      writeFileSync(file, bytes);
      const db = join(root, `cli-${name}.db`);
      copyFileSync(template, db);
      const s = await openSqliteStore(db);
      const before = await dumpDatabase(s).finally(() => s.close());
      const r = spawnSync(
        process.execPath,
        [
          BIN,
          'import',
          'parquet',
          file,
          '--dataset',
          'fz',
          '--prompt',
          'prompt',
          '--response-0',
          'response_0',
          '--response-1',
          'response_1',
          '--db',
          db,
        ],
        {
          encoding: 'utf8',
          cwd: ROOT,
        },
      );
      const what = `${name}: exit ${r.status}, stderr ${JSON.stringify(r.stderr)}`;
      expect(r.status, what).toBe(1);
      expect(r.stderr.trimEnd().split('\n'), what).toHaveLength(1);
      expect(r.stderr, what).toMatch(new RegExp(`^discretion: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      expect(r.stderr, what).not.toMatch(/\bat .*:\d+:\d+/);
      const after = await openSqliteStore(db);
      expect(await dumpDatabase(after).finally(() => after.close()), what).toEqual(before);
    }
  }, 60_000);
});
