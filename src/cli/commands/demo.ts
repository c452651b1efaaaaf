// `discretion demo`: the main job on the embedded defaults, from a fresh database: import the bundled
// sample pairs, principle list and two annotators' labels; train the built-in reward model on one
// annotator; score every pair with it; compute the metrics with the principle source "self" and with the
// humans' majority; write the reports.
import type { Command } from 'commander';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DiscretionResult } from '../../core/metrics';
import { UsageError } from '../../core/errors';
import { importDataset } from '../../importers/datasets';
import { importLabels } from '../../importers/labels';
import { importPrincipleList } from '../../importers/principles';
import { checkFolderTarget, ensureFolder } from '../../importers/outputFiles';
import { runOnnxJudge } from '../../judges/onnxJudge';
import { trainRewardModel } from '../../judges/trainRm';
import { openStore } from '../../store';
import { computeMetrics } from '../analysis';
import { say, sayLines, table } from '../context';
import { prepareReport, writeReport } from './report';

/** Folder of the bundled media (dist/cli.js -> ../media). */
export function mediaDir(): string {
  return resolve(__dirname, '..', 'media');
}

const pct = (x: number | null) => (x === null ? '–' : `${(100 * x).toFixed(1)}%`);

export function registerDemoCommand(program: Command): void {
  program.command('demo').description('run the whole job on the bundled sample data and write the reports to ./discretion-report/')
    .option('--out <dir>', 'output folder', 'discretion-report')
    .action(async (o: { out: string }) => {
      const started = Date.now();
      const media = mediaDir();
      const out = resolve(o.out);
      const dbPath = join(out, 'demo.db');
      checkFolderTarget(out, 'the demo folder', o.out);
      // Only a previous demo's folder is replaced, never a folder of the user's.
      if (existsSync(out) && readdirSync(out).length > 0 && !existsSync(dbPath)) throw new UsageError(`--out ${o.out} exists and is not a folder written by demo; choose an empty or new folder`);
      rmSync(out, { recursive: true, force: true });
      ensureFolder(out, 'the demo folder', o.out);
      const store = await openStore(dbPath);
      try {
        const pairs = await importDataset(store, { format: 'jsonl', file: join(media, 'sample', 'safety-pairs.jsonl'), dataset: 'sample', mapping: { prompt: 'prompt', response0: 'response_0', response1: 'response_1', id: 'id' } });
        const list = await importPrincipleList(store, { file: join(media, 'principles', 'demo-safety.yaml'), name: 'demo-safety' });
        say(`1. imported ${pairs.counts.pairs} sample safety pairs and the ${list.counts.principles}-principle list "demo-safety"`);
        for (const name of ['alice', 'bilal']) {
          await importLabels(store, { file: join(media, 'sample', `labels-${name}.jsonl`), dataset: 'sample', principles: 'demo-safety', annotator: name });
        }
        say('2. imported the labels of two human annotators, alice and bilal (overall choices and principle labels)');
        const modelDir = join(out, 'reward-model-alice');
        const trained = await trainRewardModel(store, { dataset: 'sample', annotator: 'alice', out: modelDir, holdout: 0.3, seed: 0 });
        say(`3. trained the built-in reward model on alice's labels: ${trained.train_pairs} training pairs, held-out pairwise accuracy ${pct(trained.accuracy)} on ${trained.test_pairs} pairs (a tiny sample: this shows the workflow, not a good model)`);
        const scored = await runOnnxJudge(store, { dataset: 'sample', modelDir, annotator: 'reward-model-alice' });
        say(`4. scored every pair with it on ${scored.provider} (${scored.scored} pairs) as annotator "reward-model-alice"`);

        const written: string[] = [];
        const results: [string, DiscretionResult][] = [];
        for (const [source, dir] of [['majority', out], ['self', join(out, 'principle-source-self')]] as const) {
          const computed = await computeMetrics(store, { dataset: 'sample', principles: 'demo-safety', principleSource: source, reference: 'alice', seed: 0 }, { save: true });
          const prepared = await prepareReport(store, { computed, dataset: 'sample', principles: 'demo-safety', principleSource: source, reference: 'alice' });
          written.push(...writeReport(dir, prepared, ['html', 'md', 'json', 'csv']));
          results.push([source, computed.result]);
        }
        say('5. computed the discretion metrics with the principle source "majority" (of alice and bilal) and "self" (each annotator\'s own labels), reference alice');
        for (const [source, r] of results) {
          say('');
          const pooled = r.categories.pooled_over ? ` (pair x annotator, pooled over ${r.categories.pooled_over.join(' and ')})` : ' pairs';
          say(`principle source "${source}": ${r.categories.consensus} consensus, ${r.categories.conflict} conflict, ${r.categories.indifference} indifference${pooled}`);
          sayLines(table(['annotator', 'kind', 'DA (overrode a consensus)', 'DD vs alice'], r.annotators.map((a) => [a.name, a.kind, a.da === null ? '–' : `${pct(a.da)} of ${a.da_n}`, a.dd_point === null ? '–' : a.dd_point.toFixed(3)])));
          for (const a of r.annotators) if (a.da === null || a.dd_point === null) say(`  – ${a.name}: ${a.da_reason ?? a.dd_reason ?? 'undefined'}`);
        }
        say('');
        say(`report: ${join(out, 'report.html')} (also report.md, metrics.json, pairs.csv; the "self" report in ${join(out, 'principle-source-self')})`);
        say(`database: ${dbPath}   (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      } finally {
        await store.close();
      }
    });
}
