// `discretion export`: a dataset's pairs with every annotator's preferences, as JSONL or CSV, in a
// shape the generic importer reads back (`--preferred preferences.NAME` for JSONL, `pref.NAME` for CSV).
// CSV cells a spreadsheet would run as formulas are neutralised as in the report's pairs.csv (so a CSV
// export re-imports with a leading ' on such cells; JSONL carries every text exactly).
import { closeSync, writeSync } from 'node:fs';
import { stringify as stringifyRows } from 'csv-stringify/sync';
import { UsageError } from '../core/errors';
import { neutraliseFormula } from '../core/report/escape';
import { preferenceWord, principleWord } from '../core/preferences';
import type { Store } from '../store';
import { AtomicFile, fsReason } from './outputFiles';

const PAGE = 5000;

const stringify = (rows: unknown[][]) => stringifyRows(rows, { cast: { string: neutraliseFormula } });

export async function exportDataset(
  store: Store,
  opts: { dataset: string; format: 'jsonl' | 'csv'; out: string },
): Promise<{ pairs: number; annotators: string[] }> {
  const dataset = await store.requireDataset(opts.dataset);
  // Opened before any work, so that a target that cannot be written is refused at once.
  const file = AtomicFile.open(opts.out, 'the export');
  try {
    const result = await writeExport(store, dataset.id, opts.format, (text) => {
      const bytes = Buffer.from(text, 'utf8');
      try {
        for (let at = 0; at < bytes.length;) at += writeSync(file.fd, bytes, at);
      } catch (e) {
        throw new UsageError(`cannot write the export ${opts.out}: ${fsReason(e)}`);
      }
    });
    closeSync(file.fd);
    file.commit();
    return result;
  } catch (e) {
    file.discard();
    throw e;
  }
}

async function writeExport(
  store: Store,
  datasetId: number,
  format: 'jsonl' | 'csv',
  write: (text: string) => void,
): Promise<{ pairs: number; annotators: string[] }> {
  const total = await store.countPairs(datasetId);
  // Columns must be known before the first CSV row: every annotator and principle seen on the dataset.
  const annotators = new Set<string>();
  const principleColumns = new Set<string>();
  for (let offset = 0; offset < total; offset += PAGE) {
    const pairRowIds = (await store.listPairs(datasetId, offset, PAGE)).map((p) => p.pairRowId);
    for (const p of await store.preferencesForPairs(pairRowIds)) annotators.add(p.annotator);
    for (const p of await store.principlePreferencesForPairs(pairRowIds))
      principleColumns.add(`principle.${p.annotator}.${p.key}`);
  }
  const names = [...annotators];
  const pcols = [...principleColumns];
  if (format === 'csv')
    write(
      stringify([
        ['id', 'source_id', 'prompt', 'response_0', 'response_1', ...names.map((n) => `pref.${n}`), ...pcols],
      ]),
    );
  for (let offset = 0; offset < total; offset += PAGE) {
    const pairs = await store.listPairs(datasetId, offset, PAGE);
    const pairRowIds = pairs.map((p) => p.pairRowId);
    const prefs = new Map<number, Record<string, string>>();
    for (const p of await store.preferencesForPairs(pairRowIds))
      (prefs.get(p.pairRowId) ?? prefs.set(p.pairRowId, {}).get(p.pairRowId)!)[p.annotator] = preferenceWord(
        p.value,
        p.raw,
      );
    const grid = new Map<number, Record<string, Record<string, string>>>();
    for (const p of await store.principlePreferencesForPairs(pairRowIds)) {
      const byAnnotator = grid.get(p.pairRowId) ?? grid.set(p.pairRowId, {}).get(p.pairRowId)!;
      (byAnnotator[p.annotator] ??= {})[p.key] = principleWord(p.value);
    }
    let chunk = '';
    for (const p of pairs) {
      const pp = prefs.get(p.pairRowId) ?? {};
      const g = grid.get(p.pairRowId) ?? {};
      if (format === 'jsonl') {
        chunk +=
          JSON.stringify({
            id: p.idx,
            source_id: p.sourceId,
            prompt: p.prompt,
            response_0: p.y0,
            response_1: p.y1,
            ...(p.meta ? { meta: p.meta } : {}),
            preferences: pp,
            principle_preferences: g,
          }) + '\n';
      } else {
        chunk += stringify([
          [
            p.idx,
            p.sourceId,
            p.prompt,
            p.y0,
            p.y1,
            ...names.map((n) => pp[n] ?? ''),
            ...pcols.map((c) => {
              const [, a, key] = /^principle\.(.*)\.([^.]+)$/.exec(c)!;
              return g[a]?.[key] ?? '';
            }),
          ],
        ]);
      }
    }
    write(chunk);
  }
  return { pairs: total, annotators: names };
}
