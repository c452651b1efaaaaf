// Bounded reading: gzip bombs, endless lines, deep nesting and the wrong-but-accepted inputs of
// issue 10 each end in one clear error naming the file, the line and the limit, carrying the option that
// lifts it (the CLI names its flag), and leave the database exactly as it was. Cancelling an import leaves nothing behind.
// The bombs are full size (a 4 GiB line, 3 GiB of newlines): gzip members of 64 MiB each, repeated,
// so the files are a few MB and quick to make; before the fix the first took more than 10 minutes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ImportCancelled } from '../../src/importers/common';
import { importDataset } from '../../src/importers/datasets';
import { importJudgments } from '../../src/importers/judgments';
import { importLabels } from '../../src/importers/labels';
import { importPrincipleList } from '../../src/importers/principles';
import type { Store } from '../../src/store';
import { openSqliteStore } from '../../src/store/sqlite/adapter';
import { makeBaseDatabase } from '../fuzz/base';
import { dumpDatabase, expectRejected, tempDir } from '../support/helpers';

const GENERIC = { prompt: 'prompt', response0: 'response_0', response1: 'response_1', id: 'id' };
const MiB = 1 << 20;
let dir: string;
let store: Store;

/** A gzip file of `members` concatenated gzip members (each `body`), after an optional `head` member. */
function gzipMembers(file: string, head: string, body: Buffer, members: number): string {
  const b = gzipSync(body, { level: 9 });
  const parts = head ? [gzipSync(Buffer.from(head))] : [];
  for (let i = 0; i < members; i++) parts.push(b);
  writeFileSync(file, Buffer.concat(parts));
  return file;
}

function write(name: string, text: string | Buffer): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

beforeAll(() => {
  dir = tempDir();
});
beforeEach(async () => {
  // The fuzz suite's base: dataset "base" (pairs a, b, c), principle list "two" (p0, p1).
  const path = join(tempDir(), 'limits.db');
  await makeBaseDatabase(path);
  store = await openSqliteStore(path);
});


describe('gzip bombs and long lines', () => {
  it('a 4 GiB line inside a 4 MB .gz stops at the compression ratio limit, or with that lifted at the 16 MiB line limit', async () => {
    const file = gzipMembers(join(dir, 'line-bomb.jsonl.gz'), '{"chosen":"', Buffer.alloc(64 * MiB, 'a'), 64);
    await expectRejected(store, () => importDataset(store, { format: 'hh-rlhf', file, dataset: 'x' }),
      { file, line: 1, field: null, message: /the compression ratio \(over \d+:1\) exceeds the limit of 200:1, which can be raised/, option: 'maxCompressionRatio' });
    await expectRejected(store, () => importDataset(store, { format: 'hh-rlhf', file, dataset: 'x', limits: { maxCompressionRatio: 1e6 } }),
      { file, line: 1, field: null, message: /the line exceeds the limit of 16 MiB, which can be raised/, option: 'maxLineBytes' });
  });

  it('3 GiB of newlines inside a .gz stops at the compression ratio limit, naming --max-compression-ratio', async () => {
    const file = gzipMembers(join(dir, 'newline-bomb.jsonl.gz'), '', Buffer.alloc(64 * MiB, '\n'), 48);
    const e = await expectRejected(store, () => importDataset(store, { format: 'hh-rlhf', file, dataset: 'x' }),
      { file, line: expect.any(Number) as unknown as number, field: null, message: /compression ratio \(over \d+:1\) exceeds the limit of 200:1, which can be raised/, option: 'maxCompressionRatio' });
    // The ratio is checked past the first MiB inflated: the error comes within the first few million lines.
    expect(e.line).toBeLessThan(4 * MiB);
  });

  it('the decompressed size limit (lowered here to 2 MiB) names --max-decompressed-size', async () => {
    const lines = Array.from({ length: 40000 }, (_, i) => JSON.stringify({ chosen: `\n\nHuman: q${i}\n\nAssistant: a${i}`, rejected: `\n\nHuman: q${i}\n\nAssistant: b${i}` })).join('\n');
    const file = write('big.jsonl.gz', gzipSync(lines));
    await expectRejected(store, () => importDataset(store, { format: 'hh-rlhf', file, dataset: 'x', limits: { maxDecompressedBytes: 2 * MiB, maxCompressionRatio: 10000 } }),
      { file, line: expect.any(Number) as unknown as number, field: null, message: /the decompressed data exceeds the limit of 2 MiB, which can be raised/, option: 'maxDecompressedBytes' });
  });

  it('a raised limit lets the same file through', async () => {
    const line = JSON.stringify({ prompt: 'p'.repeat(3000), response_0: 'a', response_1: 'b', id: 'one' });
    const file = write('long.jsonl', line + '\n');
    await expectRejected(store, () => importDataset(store, { format: 'jsonl', file, dataset: 'x', mapping: GENERIC, limits: { maxLineBytes: 1000 } }),
      { file, line: 1, field: null, message: /the line exceeds the limit of 1000 bytes, which can be raised/, option: 'maxLineBytes' });
    const s = await importDataset(store, { format: 'jsonl', file, dataset: 'x', mapping: GENERIC, limits: { maxLineBytes: 4000 } });
    expect(s.counts.pairs).toBe(1);
  });

  it('a long line in a plain file, the line counted after shorter ones', async () => {
    const ok = JSON.stringify({ prompt: 'p', response_0: 'a', response_1: 'b', id: 'one' });
    const file = write('long2.jsonl', `${ok}\n${ok.replace('one', 'two')}\n{"prompt":"${'x'.repeat(2 * MiB)}"}\n`);
    await expectRejected(store, () => importDataset(store, { format: 'jsonl', file, dataset: 'x', mapping: GENERIC, limits: { maxLineBytes: MiB } }),
      { file, line: 3, field: null, message: /the line exceeds the limit of 1 MiB/ });
  });

  it('a CSV record over the limit names the line and --max-line-size', async () => {
    const file = write('long.csv', `id,prompt,response_0,response_1\n1,p,a,b\n2,"${'q'.repeat(5000)}",a,b\n`);
    await expectRejected(store, () => importDataset(store, { format: 'csv', file, dataset: 'x', mapping: GENERIC, limits: { maxLineBytes: 1000 } }),
      { file, line: 3, field: null, message: /the record exceeds the limit of 1000 bytes, which can be raised/, option: 'maxLineBytes' });
  });

  it('a principle list larger than the limit', async () => {
    const file = write('big.txt', 'The AI should be kind.\n'.repeat(100));
    await expectRejected(store, () => importPrincipleList(store, { file, name: 'big', limits: { maxLineBytes: 1000 } }),
      { file, line: null, field: null, message: /the file \(2300 bytes\) exceeds the limit of 1000 bytes, which can be raised/, option: 'maxLineBytes' });
  });
});

describe('deep nesting (stack overflow before the fix)', () => {
  it('100,000 nested arrays in an extra field of a generic JSONL record', async () => {
    const file = write('deep-arrays.jsonl', `{"id":"a","prompt":"p","response_0":"a","response_1":"b","extra":${'['.repeat(100000)}${']'.repeat(100000)}}\n`);
    await expectRejected(store, () => importDataset(store, { format: 'jsonl', file, dataset: 'x', mapping: GENERIC }),
      { file, line: 1, field: null, message: /nests deeper than the limit of 100 levels, which can be raised/, option: 'maxJsonDepth' });
  });

  it('5,000 nested objects in a PKU record, on its second line', async () => {
    const ok = JSON.stringify({ prompt: 'p', response_0: 'a', response_1: 'b', better_response_id: 0, safer_response_id: 1 });
    const file = write('deep-objects.jsonl', `${ok}\n${ok.slice(0, -1)},"extra":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}\n`);
    await expectRejected(store, () => importDataset(store, { format: 'pku-saferlhf', file, dataset: 'x' }),
      { file, line: 2, field: null, message: /nests deeper than the limit of 100 levels/ });
  });

  it('brackets inside strings do not count; a raised limit accepts deeper data', async () => {
    const file = write('brackets.jsonl', `${JSON.stringify({ id: 'a', prompt: '['.repeat(500), response_0: 'a', response_1: 'b', extra: JSON.parse('['.repeat(150) + ']'.repeat(150)) })}\n`);
    await expectRejected(store, () => importDataset(store, { format: 'jsonl', file, dataset: 'x', mapping: GENERIC }), { file, line: 1, message: /nests deeper/ });
    const s = await importDataset(store, { format: 'jsonl', file, dataset: 'x', mapping: GENERIC, limits: { maxJsonDepth: 200 } });
    expect(s.counts.pairs).toBe(1);
  });

  it('a deeply nested label line', async () => {
    const file = write('deep-label.jsonl', `{"pair":"a","overall":"y0","x":${'['.repeat(100000)}${']'.repeat(100000)}}\n`);
    await expectRejected(store, () => importLabels(store, { file, dataset: 'base', principles: 'two', annotator: 'ann' }), { file, line: 1, message: /nests deeper/ });
  });

  it('a deeply nested YAML principle list', async () => {
    const file = write('deep.yaml', `${'['.repeat(100000)}${']'.repeat(100000)}\n`);
    await expectRejected(store, () => importPrincipleList(store, { file, name: 'deep' }), { file, line: 1, message: /nests deeper than the limit of 100 levels/ });
  });
});

describe('accepted before, refused now with one clear line', () => {
  const rewards = (name: string, rows: string) => write(name, `row_id,reward_a,reward_b\n${rows}`);
  for (const [id, line] of [['0x1', 3], ['1e0', 3], ['1.0', 3], ['-1', 3], [' ', 3]] as const) {
    it(`the row id ${JSON.stringify(id)} is not a pair number`, async () => {
      const file = rewards(`rewards-${id.trim() || 'blank'}.csv`, `0,1.5,0.5\n${id},0.2,0.3\n`);
      await expectRejected(store, () => importJudgments(store, { format: 'rewards', file, dataset: 'base', annotator: 'rm' }),
        { file, line, field: 'row_id', message: /expected a non-negative integer/ });
    });
  }
  it('a hex probability', async () => {
    const file = write('judge-hex.csv', 'row_id,order,prob_A,prob_B,prob_NA\n0,0,0x1,0,0\n');
    await expectRejected(store, () => importJudgments(store, { format: 'judge', file, dataset: 'base', annotator: 'j' }), { file, line: 2, field: 'prob_A', message: /expected a number, found "0x1"/ });
  });
  it('decimal and exponent probabilities are still numbers', async () => {
    const file = write('judge-ok.csv', 'row_id,order,prob_A,prob_B,prob_NA\n0,0,8.4e-05,.5,0.4999\n0,1,1E-1,0.9,0\n');
    const s = await importJudgments(store, { format: 'judge', file, dataset: 'base', annotator: 'j' });
    expect(s.counts.preferences).toBe(1);
  });

  it('a CSV header naming a column twice', async () => {
    const file = write('dup-header.csv', 'id,prompt,response_0,response_1,prompt\n1,p,a,b,q\n');
    await expectRejected(store, () => importDataset(store, { format: 'csv', file, dataset: 'x', mapping: GENERIC }),
      { file, line: 1, field: 'prompt', message: /the header names this column twice \(columns 2 and 5\)/ });
  });
  it('a judgment CSV header naming a column twice', async () => {
    const file = write('dup-header-rewards.csv', 'row_id,reward_a,reward_b,reward_a\n0,1,2,3\n');
    await expectRejected(store, () => importJudgments(store, { format: 'rewards', file, dataset: 'base', annotator: 'rm' }),
      { file, line: 1, field: 'reward_a', message: /twice \(columns 2 and 4\)/ });
  });

  it('a __proto__ field in a generic JSONL record', async () => {
    const file = write('proto.jsonl', '{"id":"a","prompt":"p","response_0":"a","response_1":"b","__proto__":{"x":1}}\n');
    await expectRejected(store, () => importDataset(store, { format: 'jsonl', file, dataset: 'x', mapping: GENERIC }),
      { file, line: 1, field: '__proto__', message: /cannot be kept as pair metadata; rename or remove it/ });
  });
  it('a __proto__ field in a PKU record', async () => {
    const file = write('proto-pku.jsonl', '{"prompt":"p","response_0":"a","response_1":"b","better_response_id":0,"safer_response_id":1,"__proto__":"x"}\n');
    await expectRejected(store, () => importDataset(store, { format: 'pku-saferlhf', file, dataset: 'x' }), { file, line: 1, field: '__proto__', message: /cannot be kept/ });
  });
  it('a __proto__ CSV column', async () => {
    const file = write('proto.csv', 'id,prompt,response_0,response_1,__proto__\n1,p,a,b,x\n');
    await expectRejected(store, () => importDataset(store, { format: 'csv', file, dataset: 'x', mapping: GENERIC }), { file, line: 1, field: '__proto__', message: /cannot be read; rename it/ });
  });
});

describe('found by the fuzz suite', () => {
  it('an oracle file with both orders of one pair and principle (SQLITE_CONSTRAINT, exit 2, before)', async () => {
    const file = write('oracle-two-orders.csv', 'row_id,principle_id,order,prob_A,prob_B,prob_NA\n0,0,0,0.7,0.2,0.1\n0,0,1,0.1,0.8,0.1\n');
    await expectRejected(store, () => importJudgments(store, { format: 'oracle', file, dataset: 'base', annotator: 'o', principles: 'two' }),
      { file, line: 3, field: 'row_id', message: /duplicate row for row_id 0, principle_id 0 \(first on line 2\)/ });
  });
  it('a malformed JSON line quoting control characters is still one line', async () => {
    const file = write('control.jsonl', '\u001f\u008b\rxx\u2028yy\n');
    const e = await expectRejected(store, () => importDataset(store, { format: 'hh-rlhf', file, dataset: 'x' }), { file, line: 1, message: /malformed JSON/ });
    expect(e.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
  });
});

describe('streamed CSV', () => {
  it('rows across many read chunks, quoted newlines included, keep their line numbers', async () => {
    const n = 12000;
    const pad = 'x'.repeat(60);
    const rows = Array.from({ length: n }, (_, i) => `r${i},"prompt ${i}\nsecond line, with a comma",a ${i} ${pad},b ${i}`);
    rows[n - 1] = `r${n - 1},"p",a,"b`; // an unterminated quote on the last row
    const file = write('many.csv', `id,prompt,response_0,response_1\n${rows.join('\n')}\n`);
    // Each row but the last spans 2 lines, after the header on line 1; a row is numbered by the line it
    // ends on (csv-parse's info.lines): row i ends on line 3 + 2i, so r7 on line 17 (hand count).
    await expectRejected(store, () => importDataset(store, { format: 'csv', file, dataset: 'x', mapping: GENERIC }), { file, line: expect.any(Number) as unknown as number, message: /not valid CSV/ });
    writeFileSync(file, `id,prompt,response_0,response_1\n${rows.slice(0, -1).join('\n')}\nr${n - 1},p,a,b\nr7,p,a,b\n`);
    await expectRejected(store, () => importDataset(store, { format: 'csv', file, dataset: 'x', mapping: GENERIC }),
      { file, line: 2 + 2 * (n - 1) + 1, field: 'id', message: /duplicate id "r7" \(first on line 17\)/ });
    writeFileSync(file, `id,prompt,response_0,response_1\n${rows.slice(0, -1).join('\n')}\n`);
    const s = await importDataset(store, { format: 'csv', file, dataset: 'x', mapping: GENERIC });
    expect(s.counts.pairs).toBe(n - 1);
  });

  it('an empty CSV file', async () => {
    const file = write('empty.csv', '');
    await expectRejected(store, () => importDataset(store, { format: 'csv', file, dataset: 'x', mapping: GENERIC }), { file, line: null, message: /the file is empty/ });
  });
});

describe('progress and cancellation', () => {
  const bigJsonl = () => write('big.jsonl', Array.from({ length: 60000 }, (_, i) => JSON.stringify({ id: `g${i}`, prompt: `prompt number ${i}`, response_0: 'a', response_1: 'b' })).join('\n') + '\n');

  it('reports bytes read up to the file size', async () => {
    const file = bigJsonl();
    const seen: { bytesRead: number; totalBytes: number }[] = [];
    await importDataset(store, { format: 'jsonl', file, dataset: 'x', mapping: GENERIC, onProgress: (p) => seen.push(p) });
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.at(-1)!.bytesRead).toBe(seen.at(-1)!.totalBytes);
  });

  for (const at of ['during reading', 'after reading']) {
    it(`cancelling a dataset import ${at} leaves nothing behind`, async () => {
      const file = bigJsonl();
      const before = await dumpDatabase(store);
      const ac = new AbortController();
      const e = await importDataset(store, {
        format: 'jsonl', file, dataset: 'x', mapping: GENERIC, signal: ac.signal,
        onProgress: (p) => { if (at === 'during reading' || p.bytesRead === p.totalBytes) ac.abort(); },
      }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ImportCancelled);
      expect(await dumpDatabase(store)).toEqual(before);
    });
  }

  it('cancelling a CSV, judgment or label import leaves nothing behind', async () => {
    const before = await dumpDatabase(store);
    const ac = new AbortController();
    ac.abort();
    const csv = write('c.csv', 'id,prompt,response_0,response_1\n1,p,a,b\n');
    const rewards = write('r.csv', 'row_id,reward_a,reward_b\n0,1,2\n');
    const labels = write('l.jsonl', '{"pair":"a","overall":"y0"}\n');
    for (const run of [
      () => importDataset(store, { format: 'csv', file: csv, dataset: 'x', mapping: GENERIC, signal: ac.signal }),
      () => importJudgments(store, { format: 'rewards', file: rewards, dataset: 'base', annotator: 'rm', signal: ac.signal }),
      () => importLabels(store, { file: labels, dataset: 'base', principles: 'two', annotator: 'ann', signal: ac.signal }),
    ]) expect(await run().catch((x: unknown) => x)).toBeInstanceOf(ImportCancelled);
    expect(await dumpDatabase(store)).toEqual(before);
  });
});
