// Import throughput: the HH-RLHF harmless-base test file and a generated 1,000,000-pair JSONL file,
// each imported by the real CLI in a child process (pairs/s and that process's peak RSS).
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const HH = resolve(ROOT, '..', 'shared', 'data', 'hh-rlhf', 'harmless-base-test.jsonl.gz');

async function writeSynthetic(file: string, n: number): Promise<void> {
  const out = createWriteStream(file);
  const topics = ['lock picking', 'medication doses', 'a neighbour\'s address', 'a phishing test', 'mixing cleaners', 'a harsh review'];
  for (let i = 0; i < n; i++) {
    const t = topics[i % topics.length];
    const line = JSON.stringify({ id: `g${i}`, prompt: `Human: Tell me about ${t} (case ${i}).`, response_0: `I can't help with ${t}.`, response_1: `Here is some general, safe information about ${t}, case ${i}.`, preferred: i % 3 === 0 ? 'y0' : 'y1' }) + '\n';
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

function timedImport(args: string[]): { seconds: number; peakMiB: number; ok: boolean; stderr: string } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['--require', join(ROOT, 'scripts', 'report-rss.cjs'), join(ROOT, 'bin', 'discretion.js'), ...args], { encoding: 'utf8', cwd: ROOT });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const kib = Number(/peak-rss-kib (\d+)/.exec(r.stderr)?.[1] ?? NaN);
  return { seconds, peakMiB: kib / 1024, ok: r.status === 0, stderr: r.stderr };
}

export async function runImportBench(log: (line: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'discretion-bench-'));
  try {
    log('## Import throughput (child process running `discretion import`, wall time includes Node start-up)');
    if (existsSync(HH)) {
      const r = timedImport(['import', 'hh-rlhf', HH, '--dataset', 'hh', '--db', join(dir, 'hh.db')]);
      log(`HH-RLHF harmless-base test (2,312 pairs, .gz): ${r.seconds.toFixed(2)} s, ${(2312 / r.seconds).toFixed(0)} pairs/s, peak RSS ${r.peakMiB.toFixed(0)} MiB${r.ok ? '' : ' FAILED: ' + r.stderr}`);
    } else {
      log(`HH-RLHF: skipped (${HH} is absent)`);
    }
    const sizes = (process.env.BENCH_IMPORT_SIZES ?? '100000,1000000').split(',').map(Number);
    for (const n of sizes) {
      const file = join(dir, `synthetic-${n}.jsonl`);
      await writeSynthetic(file, n);
      const mb = statSync(file).size / 1e6;
      const r = timedImport(['import', 'jsonl', file, '--dataset', 'synthetic', '--prompt', 'prompt', '--response-0', 'response_0', '--response-1', 'response_1', '--id', 'id', '--preferred', 'preferred', '--db', join(dir, `s${n}.db`)]);
      log(`generated JSONL, ${n.toLocaleString('en')} pairs (${mb.toFixed(0)} MB, with a human preference each): ${r.seconds.toFixed(2)} s, ${(n / r.seconds).toFixed(0)} pairs/s, peak RSS ${r.peakMiB.toFixed(0)} MiB${r.ok ? '' : ' FAILED: ' + r.stderr}`);
      rmSync(file, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
