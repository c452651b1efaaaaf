// The demo's steps (`discretion demo`): the main job on the embedded defaults, in a fresh database: import
// the bundled sample pairs, principle list and two annotators' labels; train the built-in reward model on
// one annotator; score every pair with it; compute the metrics with the principle source "majority" (of the
// humans) and "self"; write the reports. Each step is announced through `say`; the caller prints the results.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../core/errors';
import type { DiscretionResult } from '../core/metrics';
import { importLabels } from '../importers/labels';
import { checkFolderTarget, ensureFolder } from './outputFiles';
import { runOnnxJudge } from '../judges/onnxJudge';
import { trainRewardModel } from './judges';
import { openStore } from '../store';
import { computeMetrics } from './analysis';
import { importSample, mediaDir, sampleFiles } from './media';
import { prepareReport, writeReport } from './report';

export const DEMO_REFERENCE = 'alice';

export interface DemoResult {
  /** The output folder (absolute). */
  out: string;
  dbPath: string;
  /** Metrics per principle source, in the order computed ("majority" first; its report is in `out`). */
  results: [source: 'majority' | 'self', result: DiscretionResult][];
  /** Folder of the "self" report. */
  selfDir: string;
  written: string[];
}

/** A share as a percentage with one decimal ('–' when undefined). */
export const percent = (x: number | null) => (x === null ? '–' : `${(100 * x).toFixed(1)}%`);

/** Runs the demo into `outDir`: a new or empty folder, or a previous demo's (replaced); any other folder is refused. */
export async function runDemo(outDir: string, say: (line: string) => void): Promise<DemoResult> {
  const media = mediaDir();
  const files = sampleFiles(media);
  const out = resolve(outDir);
  const dbPath = join(out, 'demo.db');
  checkFolderTarget(out, 'the demo folder', outDir);
  // Only a previous demo's folder is replaced, never a folder of the user's.
  if (existsSync(out) && readdirSync(out).length > 0 && !existsSync(dbPath)) throw new UsageError(`the demo folder ${outDir} exists and is not a folder written by demo; choose an empty or new folder`, 'out');
  rmSync(out, { recursive: true, force: true });
  ensureFolder(out, 'the demo folder', outDir);
  const store = await openStore(dbPath);
  try {
    const sample = await importSample(store, { dataset: 'sample', list: 'demo-safety' }, media);
    say(`1. imported ${sample.pairs} sample safety pairs and the ${sample.principles}-principle list "demo-safety"`);
    for (const name of ['alice', 'bilal']) {
      await importLabels(store, { file: files.labels(name), dataset: 'sample', principles: 'demo-safety', annotator: name });
    }
    say('2. imported the labels of two human annotators, alice and bilal (overall choices and principle labels)');
    const modelDir = join(out, 'reward-model-alice');
    const trained = await trainRewardModel(store, { dataset: 'sample', annotator: 'alice', out: modelDir, holdout: 0.3, seed: 0 });
    say(`3. trained the built-in reward model on alice's labels: ${trained.train_pairs} training pairs, held-out pairwise accuracy ${percent(trained.accuracy)} on ${trained.test_pairs} pairs (a tiny sample: this shows the workflow, not a good model)`);
    const scored = await runOnnxJudge(store, { dataset: 'sample', modelDir, annotator: 'reward-model-alice' });
    say(`4. scored every pair with it on ${scored.provider} (${scored.scored} pairs) as annotator "reward-model-alice"`);

    const written: string[] = [];
    const results: DemoResult['results'] = [];
    const selfDir = join(out, 'principle-source-self');
    for (const [source, dir] of [['majority', out], ['self', selfDir]] as const) {
      const computed = await computeMetrics(store, { dataset: 'sample', principles: 'demo-safety', principleSource: source, reference: DEMO_REFERENCE, seed: 0 }, { save: true });
      const prepared = await prepareReport(store, { computed, dataset: 'sample', principles: 'demo-safety', principleSource: source, reference: DEMO_REFERENCE });
      written.push(...writeReport(dir, prepared, ['html', 'md', 'json', 'csv']));
      results.push([source, computed.result]);
    }
    say('5. computed the discretion metrics with the principle source "majority" (of alice and bilal) and "self" (each annotator\'s own labels), reference alice');
    return { out, dbPath, results, selfDir, written };
  } finally {
    await store.close();
  }
}
