// Dataset importers: HH-RLHF, PKU-SafeRLHF, generic JSONL and CSV. Streamed, one transaction each.
import { basename } from 'node:path';
import { InputError, UsageError } from '../core/errors';
import { type FieldMapping, genericRecordToPair, hhRecordToPair, parseJsonLine, pkuRecordToPair, type RecordContext } from '../core/records';
import type { OverallPreference, Pair, StoredPreference } from '../core/types';
import type { Store } from '../store/store';
import { ErrorPolicy, hashFile, type ImportSummary, type OnError } from './common';
import { parseCsv } from './csv';
import { readLineBatches, readTextFile } from './files';

export type DatasetFormat = 'hh-rlhf' | 'pku-saferlhf' | 'jsonl' | 'csv';

export interface DatasetImportOptions {
  format: DatasetFormat;
  file: string;
  dataset: string;
  /** Required for jsonl/csv. */
  mapping?: FieldMapping;
  /** Annotator that `mapping.preferred` is recorded as (default "human"). */
  preferredAnnotator?: string;
  onError?: OnError;
}

interface Converted {
  pair: Pair;
  prefs: [annotator: string, value: StoredPreference][];
}

/** Per-format record conversion and the human annotators it produces. */
function converter(opts: DatasetImportOptions): { annotators: string[]; convert: (ctx: RecordContext, record: Record<string, unknown>) => Converted } {
  switch (opts.format) {
    case 'hh-rlhf':
      // The human preference is +1 on every pair: y1 is the chosen response.
      return { annotators: ['human'], convert: (ctx, r) => ({ pair: hhRecordToPair(ctx, r), prefs: [['human', 1]] }) };
    case 'pku-saferlhf':
      return {
        annotators: ['human-better', 'human-safer'],
        convert: (ctx, r) => {
          const { pair, better, safer } = pkuRecordToPair(ctx, r);
          return { pair, prefs: [['human-better', better], ['human-safer', safer]] };
        },
      };
    case 'jsonl':
    case 'csv': {
      const mapping = opts.mapping;
      if (!mapping) throw new UsageError(`import ${opts.format} needs --prompt, --response-0 and --response-1`);
      const annotator = opts.preferredAnnotator ?? 'human';
      return {
        annotators: mapping.preferred ? [annotator] : [],
        convert: (ctx, r) => {
          const { pair, preferred } = genericRecordToPair(ctx, r, mapping);
          return { pair, prefs: preferred === undefined ? [] : [[annotator, preferred]] };
        },
      };
    }
  }
}

export async function importDataset(store: Store, opts: DatasetImportOptions): Promise<ImportSummary> {
  const policy = new ErrorPolicy(opts.onError ?? 'fail');
  const { annotators, convert } = converter(opts);
  const contentHash = await hashFile(opts.file).catch(() => {
    throw new InputError(opts.file, null, null, 'no such file or not readable');
  });
  const counts = { pairs: 0, preferences: 0 };
  await store.write(async () => {
    const datasetId = await store.createDataset(opts.dataset, opts.format, opts.file);
    await store.setDatasetHash(datasetId, contentHash);
    const annotatorIds = new Map<string, number>();
    for (const name of annotators) annotatorIds.set(name, (await store.ensureAnnotator(name, 'human', { source: basename(opts.file), format: opts.format })).id);
    let nextRowId = await store.nextPairRowId();
    /** 1-based line of a pair index: JSONL pair ids are line numbers; CSV rows are mapped below. */
    let lineOf = (idx: number) => idx + 1;

    const writeBatch = async (batch: Converted[]) => {
      const rowIds = batch.map(() => nextRowId++);
      const duplicates = await store.insertPairs(datasetId, batch.map((c) => c.pair), rowIds);
      const rejected = new Set<number>();
      for (const d of duplicates) {
        const field = opts.mapping?.id ?? 'id';
        const err = new InputError(opts.file, lineOf(d.pair.id), field, `duplicate id "${d.pair.sourceId}" (first on line ${lineOf(d.firstIdx)})`);
        policy.attempt(() => {
          throw err;
        });
        rejected.add(d.pair.id);
      }
      const rowOf = new Map(batch.map((c, i) => [c.pair.id, rowIds[i]]));
      for (const [name, id] of annotatorIds) {
        const prefs: OverallPreference[] = [];
        for (const c of batch) if (!rejected.has(c.pair.id)) for (const [a, value] of c.prefs) if (a === name) prefs.push({ pairId: c.pair.id, value });
        await store.insertPreferences(id, prefs, (idx) => rowOf.get(idx)!);
        counts.preferences += prefs.length;
      }
      counts.pairs += batch.length - rejected.size;
    };
    // Parsing the next batch overlaps SQLite writing the previous one (one batch in flight).
    let inFlight: Promise<void> = Promise.resolve();
    const enqueue = async (batch: Converted[]) => {
      await inFlight;
      inFlight = writeBatch(batch);
      inFlight.catch(() => undefined);
    };

    if (opts.format === 'csv') {
      const text = await readTextFile(opts.file);
      const m = opts.mapping!;
      const required = [m.prompt, m.response0, m.response1, ...(m.preferred ? [m.preferred] : []), ...(m.id ? [m.id] : [])];
      const { rows } = parseCsv(opts.file, text, required);
      const converted: Converted[] = [];
      rows.forEach((row, i) => {
        const ctx = { file: opts.file, line: row.line, index: i };
        const c = policy.attempt(() => convert(ctx, row.values));
        if (c) converted.push(c);
      });
      lineOf = (idx) => rows[idx].line;
      for (let i = 0; i < converted.length; i += 5000) await enqueue(converted.slice(i, i + 5000));
    } else {
      for await (const lines of readLineBatches(opts.file)) {
        const converted: Converted[] = [];
        for (const { line, text } of lines) {
          if (text.trim() === '') continue; // blank lines carry no record; pair ids stay line numbers
          const ctx = { file: opts.file, line, index: line - 1 };
          const c = policy.attempt(() => convert(ctx, parseJsonLine(ctx, text)));
          if (c) converted.push(c);
        }
        if (converted.length > 0) await enqueue(converted);
      }
    }
    await inFlight;
    if (counts.pairs === 0) {
      throw new InputError(opts.file, null, null, policy.skipped.length ? `no valid records (${policy.skipped.length} skipped; first: ${policy.skipped[0].message})` : 'the file holds no records (it is empty)');
    }
  });
  return { kind: opts.format, file: opts.file, dataset: opts.dataset, imported: counts.pairs, counts, skipped: policy.skipped, notes: [] };
}
