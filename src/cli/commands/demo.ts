// `discretion demo`: the main job on the embedded defaults, from a fresh database.
import type { Command } from 'commander';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { importDataset } from '../../importers/datasets';
import { importLabels } from '../../importers/labels';
import { importPrincipleList } from '../../importers/principles';
import { Store } from '../../store/store';

/** Folder of the bundled media (dist/cli.js -> ../media). */
export function mediaDir(): string {
  return resolve(__dirname, '..', 'media');
}

export function registerDemoCommand(program: Command): void {
  program.command('demo').description('run the whole job on the bundled sample data into ./discretion-report/')
    .option('--out <dir>', 'output folder', 'discretion-report')
    .action(async (o: { out: string }) => {
      const started = Date.now();
      const media = mediaDir();
      mkdirSync(o.out, { recursive: true });
      const dbPath = join(o.out, 'demo.db');
      for (const suffix of ['', '-wal', '-shm']) rmSync(dbPath + suffix, { force: true });
      const store = await Store.open(dbPath);
      try {
        const say = (s: string) => console.log(s);
        const pairs = await importDataset(store, { format: 'jsonl', file: join(media, 'sample', 'safety-pairs.jsonl'), dataset: 'sample', mapping: { prompt: 'prompt', response0: 'response_0', response1: 'response_1', id: 'id' } });
        say(`imported ${pairs.counts.pairs} sample safety pairs as dataset "sample"`);
        const list = await importPrincipleList(store, { file: join(media, 'principles', 'demo-safety.yaml'), name: 'demo-safety' });
        say(`loaded principle list "demo-safety" (${list.counts.principles} principles)`);
        for (const name of ['alice', 'bilal']) {
          const l = await importLabels(store, { file: join(media, 'sample', `labels-${name}.jsonl`), dataset: 'sample', principles: 'demo-safety', annotator: name });
          say(`imported ${l.counts.preferences} labels by ${name} (${l.counts.principlePreferences} principle labels)`);
        }
        const info = await store.info();
        say('');
        for (const a of info.annotators) for (const d of a.datasets) say(`  ${a.name} (${a.kind}): ${d.preferences} overall preferences, ${d.principlePreferences} pairs with principle labels on "${d.dataset}"`);
        say(`\ndatabase: ${dbPath}  (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      } finally {
        await store.close();
      }
    });
}
