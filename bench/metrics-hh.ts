// The full HH analysis of the paper's published data (8 annotators, 21 principles, 2,312 pairs, DA
// bootstrap 1,000, DD bootstrap 100): imported once through the CLI, then timed per stage from the
// store, as `discretion metrics` runs it. Median of 5 runs after one warm-up.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { computeMetrics } from '../src/app/analysis';
import { openSqliteStore } from '../src/store/sqlite/adapter';
import { SHARED_DATA, sharedHHImports } from '../test/support/shared-hh';

const ROOT = resolve(__dirname, '..', '..');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function runMetricsHHBench(log: (line: string) => void): Promise<void> {
  log(
    '## Full HH analysis from the store (published data; 8 annotators x 21 principles x 2,312 pairs; DA bootstrap 1,000, DD bootstrap 100)',
  );
  if (!existsSync(SHARED_DATA)) return log(`skipped: ${SHARED_DATA} is absent`);
  const dir = mkdtempSync(join(tmpdir(), 'discretion-bench-hh-'));
  try {
    const db = join(dir, 'hh.db');
    for (const args of sharedHHImports(db)) {
      const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'discretion.js'), ...args], { encoding: 'utf8' });
      if (r.status !== 0) return log(`import failed: ${r.stderr}`);
    }
    const opts = {
      dataset: 'hh',
      principles: 'ccai-seed',
      principleSource: 'gpt-4o-oracle',
      reference: 'human',
      bootstrap: 100,
      daBootstrap: 1000,
      seed: 0,
    };
    const store = await openSqliteStore(db);
    const totals: number[] = [];
    const loads: number[] = [];
    const stages = new Map<string, number[]>();
    for (let i = 0; i < 6; i++) {
      const t0 = performance.now();
      const c = await computeMetrics(store, opts, { clock: () => performance.now() });
      const total = performance.now() - t0;
      if (i === 0) continue; // warm-up (JIT)
      totals.push(total);
      const analysed = c.result.timings_ms?.total ?? 0;
      loads.push(total - analysed);
      for (const [k, v] of Object.entries(c.result.timings_ms ?? {})) stages.set(k, [...(stages.get(k) ?? []), v]);
    }
    await store.close();
    log(`load from SQLite into typed arrays: ${median(loads).toFixed(0)} ms`);
    for (const [k, v] of stages) log(`${k === 'total' ? 'metrics total' : k}: ${median(v).toFixed(1)} ms`);
    log(
      `total (load + every metric + both bootstraps): median ${median(totals).toFixed(0)} ms over ${totals.length} runs (min ${Math.min(...totals).toFixed(0)}, max ${Math.max(...totals).toFixed(0)})`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
