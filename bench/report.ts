// Report benchmark: the full HH harmless-base analysis of the shared data (2,312 pairs x 21 principles,
// 8 annotators, GPT-4o oracle as principle source, reference "human"). The metrics are computed first
// (not timed here; see bench/metrics.ts); then the report is built and rendered in every format.
// Target: < 1 s for building and rendering after the metrics.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { computeMetrics } from '../src/app/analysis';
import { nodeCspHash, prepareReport, writeReport } from '../src/app/report';
import { main } from '../src/cli/main';
import { buildReportModel, renderHtml, renderMarkdown, renderMetricsJson, renderPairsCsv } from '../src/core/report';
import { openSqliteStore } from '../src/store/sqlite/adapter';

const SHARED = process.env.DISCRETION_SHARED_DATA ?? join(process.cwd(), '..', 'shared', 'data');

async function importHh(db: string, log: (line: string) => void): Promise<void> {
  const A = join(SHARED, 'alignment-discretion');
  const rm = join(A, 'reward_model_preferences');
  const llm = join(A, 'llm_preferences');
  const cmds: string[][] = [
    ['hh-rlhf', join(SHARED, 'hh-rlhf', 'harmless-base-test.jsonl.gz'), '--dataset', 'hh'],
    [
      'principles',
      join(A, 'principles', 'ccai_seed.txt'),
      '--short',
      join(A, 'principles', 'ccai_seed_short.txt'),
      '--name',
      'ccai_seed',
    ],
    [
      'oracle',
      join(A, 'principle_specific_preferences', 'hh_test_seed_4ob.csv'),
      '--dataset',
      'hh',
      '--principles',
      'ccai_seed',
      '--annotator',
      'gpt-4o-oracle',
    ],
    [
      'rewards',
      join(rm, 'reward_preference_data_reward_model-most_downloaded_hh_in_dataset_hh_partition-None.csv'),
      '--dataset',
      'hh',
      '--annotator',
      'rm-most-downloaded',
      '--ignore-unknown-rows',
    ],
    [
      'rewards',
      join(rm, 'Llama3-8B_reward_model_trained_in-hh-harmlesness_evaluated_in-hh-harmlesness_partition-test.csv'),
      '--dataset',
      'hh',
      '--annotator',
      'rm-llama3-8b',
      '--ignore-unknown-rows',
    ],
    [
      'rewards',
      join(rm, 'Mistral7B_reward_model_trained_in-hh-harmlesness_evaluated_in-hh-harmlesness_partition-test.csv'),
      '--dataset',
      'hh',
      '--annotator',
      'rm-mistral-7b',
      '--ignore-unknown-rows',
    ],
    ['judge', join(llm, 'hh_test_generic_4ob.csv'), '--dataset', 'hh', '--annotator', 'judge-gpt-4o'],
    ['judge', join(llm, 'hh_test_generic_deepseekv3.csv'), '--dataset', 'hh', '--annotator', 'judge-deepseek-v3'],
    ['judge', join(llm, 'hh_test_generic_sonnet3.5.csv'), '--dataset', 'hh', '--annotator', 'judge-sonnet-3.5'],
    [
      'loglik',
      join(llm, 'LLM_rewards_model_with_NA-Llama3-8B_data_trained-hh-harmlesness_dataset_eval-hh-harmlesness.csv'),
      '--dataset',
      'hh',
      '--annotator',
      'llama3-8b-ft',
    ],
  ];
  const quiet = console.log;
  console.log = () => undefined;
  try {
    for (const c of cmds) {
      const code = await main(['import', ...c, '--db', db]);
      if (code !== 0) throw new Error(`import ${c[0]} failed (exit ${code})`);
    }
  } finally {
    console.log = quiet;
  }
  log(`  imported the HH analysis into ${db}`);
}

const ms = (t: number) => `${t.toFixed(0)} ms`;

export async function runReportBench(log: (line: string) => void): Promise<void> {
  log('report: full HH analysis (2,312 pairs x 21 principles x 8 annotators), target < 1 s after the metrics');
  if (!existsSync(SHARED)) {
    log(`  skipped: ${SHARED} not found`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'bench-report-'));
  const db = process.env.DISCRETION_BENCH_DB ?? join(dir, 'hh.db');
  try {
    if (!process.env.DISCRETION_BENCH_DB) await importHh(db, log);
    const store = await openSqliteStore(db);
    try {
      const opts = {
        dataset: 'hh',
        principles: 'ccai_seed',
        principleSource: 'gpt-4o-oracle',
        reference: 'human',
        bootstrap: 100,
        daBootstrap: 1000,
        seed: 0,
      };
      let t = performance.now();
      const computed = await computeMetrics(store, opts, { save: true });
      const { result, loaded } = computed;
      log(`  metrics (not counted): ${ms(performance.now() - t)}, ${result.annotators.length} annotators`);
      // 0. what `discretion report` does after computing: override texts + model + render + write
      t = performance.now();
      const fresh = await prepareReport(store, { computed });
      writeReport(join(dir, 'out0'), fresh, ['html', 'md', 'json', 'csv']);
      const tAfter = performance.now() - t;
      log(`  after computing (discretion report): texts + model + render + write all formats ${ms(tAfter)}`);
      const run = (await store.listMetricRuns()).at(-1)!.id;
      // 1. end to end from the stored run: store reads (pair data, override texts) + model + every format
      t = performance.now();
      const { loadDiscretionInput } = await import('../src/app/analysis');
      await loadDiscretionInput(store, opts);
      log(`  reloading the preferences alone (loadDiscretionInput): ${ms(performance.now() - t)}`);
      t = performance.now();
      const prepared = await prepareReport(store, { run });
      const tPrep = performance.now() - t;
      const t2 = performance.now();
      const out = join(dir, 'out');
      writeReport(out, prepared, ['html', 'md', 'json', 'csv']);
      const tWrite = performance.now() - t2;
      log(
        `  from stored run: load pair data + texts + build model ${ms(tPrep)}; render + write html, md (+7 svg), json, csv ${ms(tWrite)}; total ${ms(tPrep + tWrite)}`,
      );
      // 2. pure build + render (median of 5), as the dashboard and the report command do after the metrics
      const times: Record<string, number[]> = { model: [], html: [], md: [], json: [], csv: [] };
      for (let i = 0; i < 5; i++) {
        let s = performance.now();
        const model = buildReportModel({
          metrics: prepared.model.metrics,
          provenance: prepared.model.provenance,
          principles: loaded.principles,
          pairs: prepared.pairs,
        });
        times.model!.push(performance.now() - s);
        s = performance.now();
        renderHtml(model, { hash: nodeCspHash });
        times.html!.push(performance.now() - s);
        s = performance.now();
        renderMarkdown(model);
        times.md!.push(performance.now() - s);
        s = performance.now();
        renderMetricsJson(model);
        times.json!.push(performance.now() - s);
        s = performance.now();
        renderPairsCsv(prepared.pairs, model.principles);
        times.csv!.push(performance.now() - s);
      }
      const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
      const total = Object.values(times).reduce((acc, a) => acc + med(a), 0);
      log(
        `  pure build + render (median of 5): ${Object.entries(times)
          .map(([k, v]) => `${k} ${med(v).toFixed(1)} ms`)
          .join(', ')}; total ${total.toFixed(1)} ms`,
      );
      log(
        `  ${tAfter < 1000 ? 'PASS' : 'FAIL'}: report after the metrics in ${ms(tAfter)} (target < 1000 ms); from a stored run, including reloading the preferences: ${ms(tPrep + tWrite)}`,
      );
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
