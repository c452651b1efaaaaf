// `discretion export`: a dataset's pairs with every annotator's preferences, as JSONL or CSV, in a
// shape the generic importer reads back (`--preferred preferences.NAME` for JSONL, `pref.NAME` for CSV).
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { stringify } from 'csv-stringify/sync';
import { preferenceWord, principleWord } from '../core/preferences';
import type { Store } from '../store/port';

const PAGE = 5000;


export async function exportDataset(store: Store, opts: { dataset: string; format: 'jsonl' | 'csv'; out: string }): Promise<{ pairs: number; annotators: string[] }> {
  const dataset = await store.requireDataset(opts.dataset);
  const total = await store.countPairs(dataset.id);
  // Columns must be known before the first CSV row: every annotator and principle seen on the dataset.
  const annotators = new Set<string>();
  const principleColumns = new Set<string>();
  for (let offset = 0; offset < total; offset += PAGE) {
    const ids = (await store.listPairs(dataset.id, offset, PAGE)).map((p) => p.rowId);
    for (const p of await store.preferencesForPairs(ids)) annotators.add(p.annotator);
    for (const p of await store.principlePreferencesForPairs(ids)) principleColumns.add(`principle.${p.annotator}.${p.key}`);
  }
  const out = createWriteStream(opts.out);
  const write = async (s: string) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  const names = [...annotators];
  const pcols = [...principleColumns];
  if (opts.format === 'csv') await write(stringify([['id', 'source_id', 'prompt', 'response_0', 'response_1', ...names.map((n) => `pref.${n}`), ...pcols]]));
  for (let offset = 0; offset < total; offset += PAGE) {
    const pairs = await store.listPairs(dataset.id, offset, PAGE);
    const ids = pairs.map((p) => p.rowId);
    const prefs = new Map<number, Record<string, string>>();
    for (const p of await store.preferencesForPairs(ids)) (prefs.get(p.pairRowId) ?? prefs.set(p.pairRowId, {}).get(p.pairRowId)!)[p.annotator] = preferenceWord(p.value, p.raw);
    const grid = new Map<number, Record<string, Record<string, string>>>();
    for (const p of await store.principlePreferencesForPairs(ids)) {
      const byAnnotator = grid.get(p.pairRowId) ?? grid.set(p.pairRowId, {}).get(p.pairRowId)!;
      (byAnnotator[p.annotator] ??= {})[p.key] = principleWord(p.value);
    }
    let chunk = '';
    for (const p of pairs) {
      const pp = prefs.get(p.rowId) ?? {};
      const g = grid.get(p.rowId) ?? {};
      if (opts.format === 'jsonl') {
        chunk += JSON.stringify({ id: p.id, source_id: p.sourceId, prompt: p.prompt, response_0: p.y0, response_1: p.y1, ...(p.meta ? { meta: p.meta } : {}), preferences: pp, principle_preferences: g }) + '\n';
      } else {
        chunk += stringify([[p.id, p.sourceId, p.prompt, p.y0, p.y1, ...names.map((n) => pp[n] ?? ''), ...pcols.map((c) => {
          const [, a, key] = /^principle\.(.*)\.([^.]+)$/.exec(c)!;
          return g[a]?.[key] ?? '';
        })]]);
      }
    }
    await write(chunk);
  }
  out.end();
  await once(out, 'finish');
  return { pairs: total, annotators: names };
}
