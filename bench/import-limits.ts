// Bounded reading, measured (issue 10's done-when figures): a gzip bomb holding one 4 GiB line, a gzip
// of 3 GiB of newlines and a 100,000-deep nested record must each end in under 5 s with one clear error;
// a 200 MB CSV must import with memory flat in the file size (well under 500 MB peak RSS). Each runs
// the real CLI in a child process (wall time includes Node start-up; peak RSS of that process).
// BENCH_CSV_MB sets the CSV's size (default 200).
import { createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { timedImport } from './import';

const MiB = 1 << 20;

/** `members` copies of one gzip member of `body` (a multi-member .gz, as gunzip reads it), after an optional head member. */
function gzipMembers(file: string, head: string, body: Buffer, members: number): void {
  const b = gzipSync(body, { level: 9 });
  const parts = head ? [gzipSync(Buffer.from(head))] : [];
  for (let i = 0; i < members; i++) parts.push(b);
  writeFileSync(file, Buffer.concat(parts));
}

async function writeCsv(file: string, bytes: number): Promise<number> {
  const out = createWriteStream(file);
  out.write('id,prompt,response_0,response_1,preferred,topic\n');
  let written = 0;
  let n = 0;
  while (written < bytes) {
    let chunk = '';
    for (let k = 0; k < 1000; k++, n++) {
      chunk += `c${n},"Human: Tell me about case ${n}, with a comma and a ""quote"".",I can't help with case ${n}.,Here is some general safe information about case ${n}.,${n % 3 === 0 ? 'y0' : 'y1'},topic ${n % 17}\n`;
    }
    written += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return n;
}

export async function runImportLimitsBench(log: (line: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'discretion-bench-limits-'));
  try {
    log(
      '## Bounded reading (child process running `discretion import`; goal: each refusal under 5 s, the CSV well under 500 MB peak RSS)',
    );
    const refusal = (label: string, file: string, args: string[]) => {
      const r = timedImport([
        'import',
        ...args.slice(0, 1),
        file,
        ...args.slice(1),
        '--dataset',
        'x',
        '--db',
        join(dir, `${label.length}.db`),
      ]);
      const message = r.stderr.split('\n').find((l) => l.startsWith('discretion:')) ?? '(no error line)';
      log(
        `${label} (${(statSync(file).size / MiB).toFixed(1)} MiB on disk): ${r.seconds.toFixed(2)} s, peak RSS ${r.peakMiB.toFixed(0)} MiB, ${r.ok ? 'ACCEPTED (expected a refusal)' : message.replace(file, 'FILE')}`,
      );
    };
    const lineBomb = join(dir, 'line-bomb.jsonl.gz');
    gzipMembers(lineBomb, '{"chosen":"', Buffer.alloc(64 * MiB, 'a'), 64);
    refusal('gzip bomb, one 4 GiB line', lineBomb, ['hh-rlhf']);
    refusal('  the same with --max-compression-ratio 100000 (the line limit answers)', lineBomb, [
      'hh-rlhf',
      '--max-compression-ratio',
      '100000',
    ]);
    const newlines = join(dir, 'newlines.jsonl.gz');
    gzipMembers(newlines, '', Buffer.alloc(64 * MiB, '\n'), 48);
    refusal('gzip of 3 GiB of newlines', newlines, ['hh-rlhf']);
    const deep = join(dir, 'deep.jsonl');
    writeFileSync(
      deep,
      `{"id":"a","prompt":"p","response_0":"a","response_1":"b","extra":${'['.repeat(100000)}${']'.repeat(100000)}}\n`,
    );
    refusal('a record nested 100,000 deep', deep, [
      'jsonl',
      '--prompt',
      'prompt',
      '--response-0',
      'response_0',
      '--response-1',
      'response_1',
      '--id',
      'id',
    ]);

    const mb = Number(process.env.BENCH_CSV_MB ?? 200);
    const csv = join(dir, 'big.csv');
    const rows = await writeCsv(csv, mb * 1e6);
    const r = timedImport([
      'import',
      'csv',
      csv,
      '--dataset',
      'csv',
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
      '--db',
      join(dir, 'csv.db'),
    ]);
    log(
      `CSV, ${rows.toLocaleString('en')} rows (${(statSync(csv).size / 1e6).toFixed(0)} MB, quoted fields, a preference each): ${r.seconds.toFixed(2)} s, ${(rows / r.seconds).toFixed(0)} rows/s, peak RSS ${r.peakMiB.toFixed(0)} MiB${r.ok ? '' : ' FAILED: ' + r.stderr}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
