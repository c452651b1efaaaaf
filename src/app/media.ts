// The media bundled with the package (media/: sample pairs, principle lists, labels, judge prompts),
// located the same way from the CLI bundle, the extension bundle and the TypeScript sources.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { importDataset } from '../importers/datasets';
import { importPrincipleList } from '../importers/principles';
import type { Store } from '../store';

/** Folder of the bundled media: dist/*.js -> ../media; src/app/*.ts (tests, benches) -> ../../media. */
export function mediaDir(): string {
  const bundled = resolve(__dirname, '..', 'media');
  if (existsSync(bundled)) return bundled;
  return resolve(__dirname, '..', '..', 'media');
}

/** The bundled judge prompt templates (system.txt, judge.txt, oracle.txt). */
export function promptsDir(media = mediaDir()): string {
  return join(media, 'prompts');
}

/** The bundled sample: safety pairs, the demo principle list and two annotators' labels. */
export function sampleFiles(media = mediaDir()) {
  return {
    pairs: join(media, 'sample', 'safety-pairs.jsonl'),
    principles: join(media, 'principles', 'demo-safety.yaml'),
    labels: (annotator: string) => join(media, 'sample', `labels-${annotator}.jsonl`),
  };
}

/**
 * Imports the bundled sample pairs and principle list under the given names, each only when the
 * database does not hold it yet; returns how many pairs and principles were imported (0 when kept).
 */
export async function importSample(store: Store, names: { dataset: string; list: string }, media = mediaDir()): Promise<{ pairs: number; principles: number }> {
  const files = sampleFiles(media);
  let pairs = 0;
  let principles = 0;
  if (!(await store.getDataset(names.dataset))) {
    const s = await importDataset(store, { format: 'jsonl', file: files.pairs, dataset: names.dataset, mapping: { prompt: 'prompt', response0: 'response_0', response1: 'response_1', id: 'id' } });
    pairs = s.counts.pairs;
  }
  if ((await store.listPrincipleLists()).every((l) => l.name !== names.list)) {
    const s = await importPrincipleList(store, { file: files.principles, name: names.list });
    principles = s.counts.principles;
  }
  return { pairs, principles };
}
