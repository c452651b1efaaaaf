// Dataset importers: HH-RLHF, PKU-SafeRLHF, generic JSONL and CSV, Parquet. Streamed, one transaction each.
import { createHash, type Hash } from 'node:crypto';
import { basename } from 'node:path';
import { InputError, UsageError } from '../core/errors';
import {
  type ConversationMapping,
  conversationRecordToPair,
  type FieldMapping,
  genericRecordToPair,
  hhRecordToPair,
  pkuRecordToPair,
  type RecordContext,
} from '../core/records';
import type { StoredPreference } from '../core/preferences';
import type { OverallPreference, Pair } from '../core/types';
import type { Store } from '../store';
import {
  ErrorPolicy,
  type ImportSummary,
  type OnError,
  parseJsonRecord,
  type ReadLimits,
  type ReadOptions,
  resolveLimits,
  throwIfCancelled,
} from './common';
import { readCsvRows } from './csv';
import { readLineBatches } from './files';
import { type ParquetSource, readParquetRows, resolveParquetSource } from './parquet';

export type DatasetFormat = 'hh-rlhf' | 'pku-saferlhf' | 'jsonl' | 'csv' | 'parquet';

export interface DatasetImportOptions extends ReadOptions {
  format: DatasetFormat;
  /** The file; for parquet also a Hugging Face dataset folder (see `split`, `config`). */
  file: string;
  dataset: string;
  /**
   * Required for jsonl/csv (with a prompt field). For parquet the prompt is optional (message lists:
   * conversation.ts) and the whole mapping defaults to the chosen/rejected layout without a preference:
   * y0 = "rejected", y1 = "chosen" (CHOSEN_REJECTED).
   */
  mapping?: ConversationMapping;
  /** Annotator that `mapping.preferred` is recorded as (default "human"). */
  preferredAnnotator?: string;
  /** Parquet dataset folder: the split to read (default "train", else the only one) and the config of README.md. */
  split?: string;
  config?: string;
  onError?: OnError;
}

/** The chosen/rejected layout (HH-RLHF's, TRL's): y0 = rejected, y1 = chosen; `preferred: "chosen"` stores +1 (prefers y1). */
export const CHOSEN_REJECTED: ConversationMapping = { response0: 'rejected', response1: 'chosen' };

/** What a label file or the workbench stores for "both unacceptable" (see isBothUnacceptable). */
const BOTH_BAD_RAW: Readonly<Record<string, unknown>> = { choice: 'both-bad' };

interface Converted {
  pair: Pair;
  /** raw: what the stored label keeps beside its value (a both-bad word's choice). */
  prefs: [annotator: string, value: StoredPreference, raw?: Record<string, unknown>][];
}

/** Per-format record conversion and the human annotators it produces. */
function converter(opts: DatasetImportOptions): {
  annotators: string[];
  convert: (ctx: RecordContext, record: Record<string, unknown>) => Converted;
} {
  switch (opts.format) {
    case 'hh-rlhf':
      // The human preference is +1 on every pair: y1 is the chosen response.
      return { annotators: ['human'], convert: (ctx, r) => ({ pair: hhRecordToPair(ctx, r), prefs: [['human', 1]] }) };
    case 'pku-saferlhf':
      return {
        annotators: ['human-better', 'human-safer'],
        convert: (ctx, r) => {
          const { pair, better, safer } = pkuRecordToPair(ctx, r);
          return {
            pair,
            prefs: [
              ['human-better', better],
              ['human-safer', safer],
            ],
          };
        },
      };
    case 'jsonl':
    case 'csv':
    case 'parquet': {
      const mapping = opts.format === 'parquet' ? (opts.mapping ?? CHOSEN_REJECTED) : opts.mapping;
      if (!mapping || (opts.format !== 'parquet' && mapping.prompt === undefined))
        throw new UsageError(
          `import ${opts.format} needs to be told which fields hold the prompt, response 0 and response 1`,
          'fieldMapping',
        );
      const toPair =
        opts.format === 'parquet'
          ? conversationRecordToPair
          : (ctx: RecordContext, r: Record<string, unknown>, m: ConversationMapping) =>
              genericRecordToPair(ctx, r, m as FieldMapping);
      const annotator = opts.preferredAnnotator ?? 'human';
      return {
        annotators: mapping.preferred ? [annotator] : [],
        convert: (ctx, r) => {
          const { pair, preferred, bothBad } = toPair(ctx, r, mapping);
          return {
            pair,
            prefs:
              preferred === undefined ? [] : [bothBad ? [annotator, preferred, BOTH_BAD_RAW] : [annotator, preferred]],
          };
        },
      };
    }
  }
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function importDataset(store: Store, opts: DatasetImportOptions): Promise<ImportSummary> {
  const policy = new ErrorPolicy(opts.onError ?? 'fail');
  const { annotators, convert } = converter(opts);
  const counts = { pairs: 0, preferences: 0 };
  const limits = resolveLimits(opts.limits);
  const read = { limits, onProgress: opts.onProgress, signal: opts.signal };
  throwIfCancelled(opts.signal, opts.file);
  // A folder's split is chosen (and its files found) before anything is written.
  const parquet = opts.format === 'parquet' ? await resolveParquetSource(opts.file, opts) : undefined;
  await store.write(
    async (tx) => {
      const datasetId = await tx.createDataset(opts.dataset, opts.format, opts.file);
      const annotatorIds = new Map<string, number>();
      for (const name of annotators)
        annotatorIds.set(
          name,
          (await tx.ensureAnnotator(name, 'human', { source: basename(opts.file), format: opts.format })).id,
        );
      let nextPairRowId = await tx.nextPairRowId();
      /** 1-based line of a pair index: JSONL pair ids are line numbers; CSV rows are mapped below. */
      let lineOf = (idx: number) => idx + 1;
      /** Where a duplicate id is, and where its first occurrence was, in words (Parquet: files and rows). */
      let duplicateAt = (idx: number, firstIdx: number) => ({
        file: opts.file,
        line: lineOf(idx),
        first: `first on line ${lineOf(firstIdx)}`,
        unit: 'line' as 'line' | 'row',
      });

      /**
       * Writes one batch. Its pair and preference statements are queued together (the store keeps each
       * table's in the order queued; the foreign keys they would check are ours and not checked) and up
       * to two batches are queued while the next is parsed, so SQLite never waits for the parser. With
       * --on-error skip a duplicate id is skipped, so the pairs must be in before the preferences of the
       * others are built; with fail, a duplicate fails the whole import (its preference row pointing at
       * no pair does not matter: the transaction rolls back and the duplicate is reported).
       */
      const writeBatch = async (batch: Converted[]) => {
        const pairRowIds = batch.map(() => nextPairRowId++);
        const pairRowIdOf = new Map(batch.map((c, i) => [c.pair.idx, pairRowIds[i]]));
        const pairsWritten = tx.insertPairs(
          datasetId,
          batch.map((c) => c.pair),
          pairRowIds,
        );
        const rejected = new Set<number>();
        const duplicate = (d: { pair: Pair; firstIdx: number }) => {
          const at = duplicateAt(d.pair.idx, d.firstIdx);
          policy.attempt(() => {
            throw new InputError(
              at.file,
              at.line,
              opts.mapping?.id ?? 'id',
              `duplicate id "${d.pair.sourceId}" (${at.first})`,
              undefined,
              at.unit,
            );
          });
          rejected.add(d.pair.idx);
        };
        if (policy.onError === 'skip') for (const d of await pairsWritten) duplicate(d);
        const prefsWritten: Promise<number>[] = [];
        let nPrefs = 0;
        for (const [name, id] of annotatorIds) {
          const prefs: OverallPreference[] = [];
          for (const c of batch)
            if (!rejected.has(c.pair.idx))
              for (const [a, value, raw] of c.prefs)
                if (a === name) prefs.push(raw ? { pairIdx: c.pair.idx, value, raw } : { pairIdx: c.pair.idx, value });
          prefsWritten.push(tx.insertPreferences(id, prefs, (pairIdx) => pairRowIdOf.get(pairIdx)!));
          nPrefs += prefs.length;
        }
        const [pairs, ...rest] = await Promise.allSettled([pairsWritten, ...prefsWritten]);
        if (pairs.status === 'rejected') throw pairs.reason;
        for (const d of pairs.value) if (!rejected.has(d.pair.idx)) duplicate(d);
        const failed = rest.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
        if (failed) throw failed.reason;
        counts.pairs += batch.length - rejected.size;
        counts.preferences += nPrefs;
      };
      const inFlight: Promise<void>[] = [];
      const enqueue = async (batch: Converted[]) => {
        while (inFlight.length >= 2) await inFlight.shift();
        const p = writeBatch(batch);
        p.catch(() => undefined);
        inFlight.push(p);
      };

      const fileHash = createHash('sha256');
      if (opts.format === 'csv') {
        const m = opts.mapping as FieldMapping;
        const required = [
          m.prompt,
          m.response0,
          m.response1,
          ...(m.preferred ? [m.preferred] : []),
          ...(m.id ? [m.id] : []),
        ];
        // The file line of each pair index, for duplicate-id messages (4 bytes a row, not the rows).
        let lines = new Uint32Array(1 << 16);
        let index = 0;
        lineOf = (pairIdx) => lines[pairIdx];
        for await (const rows of readCsvRows(opts.file, required, { ...read, fileHash })) {
          const converted: Converted[] = [];
          for (let k = 0; k < rows.length; k++) {
            if (k % 50 === 49) await yieldToEventLoop();
            const row = rows[k];
            if (index >= lines.length) {
              const grown = new Uint32Array(lines.length * 2);
              grown.set(lines);
              lines = grown;
            }
            lines[index] = row.line;
            const ctx = { file: opts.file, line: row.line, index: index++ };
            const c = policy.attempt(() => convert(ctx, row.values));
            if (c) converted.push(c);
          }
          if (converted.length > 0) await enqueue(converted);
        }
      } else if (parquet) {
        await readParquet(
          parquet,
          opts,
          limits,
          fileHash,
          policy,
          convert,
          enqueue,
          (at) => (duplicateAt = at),
          counts,
        );
      } else {
        for await (const lines of readLineBatches(opts.file, { ...read, fileHash })) {
          const converted: Converted[] = [];
          for (let k = 0; k < lines.length; k++) {
            // The sqlite3 binding moves each queued statement through its steps with callbacks on this
            // thread: yield often, or SQLite waits for the parser and the two never overlap.
            if (k % 50 === 49) await yieldToEventLoop();
            const { line, text } = lines[k];
            if (text.trim() === '') continue; // blank lines carry no record; pair ids stay line numbers
            const ctx = { file: opts.file, line, index: line - 1 };
            const c = policy.attempt(() => convert(ctx, parseJsonRecord(ctx, text, limits)));
            if (c) converted.push(c);
          }
          if (converted.length > 0) await enqueue(converted);
        }
      }
      await tx.setDatasetHash(datasetId, fileHash.digest('hex'));
      for (const p of inFlight.splice(0)) await p;
      throwIfCancelled(opts.signal, opts.file); // the last moment before the commit
      if (counts.pairs === 0) {
        throw new InputError(
          opts.file,
          null,
          null,
          policy.skipped.length
            ? `no valid records (${policy.skipped.length} skipped; first: ${policy.skipped[0].message})`
            : 'the file holds no records (it is empty)',
        );
      }
    },
    { checkForeignKeys: false },
  ); // every key is created here: the dataset, its annotators, the pair row ids
  return {
    kind: opts.format,
    file: opts.file,
    dataset: opts.dataset,
    imported: counts.pairs,
    counts,
    skipped: policy.skipped,
    notes: parquet?.notes ?? [],
  };
}

type DuplicateAt = (
  idx: number,
  firstIdx: number,
) => { file: string; line: number; first: string; unit: 'line' | 'row' };

/** The rows of a Parquet file or split, converted and queued; pair indexes run on across a split's files. */
async function readParquet(
  source: ParquetSource,
  opts: DatasetImportOptions,
  limits: ReadLimits,
  fileHash: Hash,
  policy: ErrorPolicy,
  convert: (ctx: RecordContext, record: Record<string, unknown>) => Converted,
  enqueue: (batch: Converted[]) => Promise<void>,
  setDuplicateAt: (at: DuplicateAt) => void,
  counts: { pairs: number },
): Promise<void> {
  const mapping = opts.mapping ?? CHOSEN_REJECTED;
  const fields = [mapping.prompt, mapping.response0, mapping.response1, mapping.preferred, mapping.id].filter(
    (f): f is string => f !== undefined,
  );
  // The first pair index of each file, to name the file and row of a duplicate id.
  const starts: number[] = [];
  const place = (idx: number) => {
    let k = starts.length - 1;
    while (k > 0 && starts[k] > idx) k--;
    return { file: source.files[k], row: idx - starts[k] + 1 };
  };
  setDuplicateAt((idx, firstIdx) => {
    const at = place(idx);
    const first = place(firstIdx);
    return {
      file: at.file,
      line: at.row,
      first: `first in row ${first.row}${first.file === at.file ? '' : ` of ${first.file}`}`,
      unit: 'row',
    };
  });
  let index = 0;
  let file = '';
  for await (const rows of readParquetRows(source.files, {
    limits,
    fields,
    fileHash,
    onProgress: opts.onProgress,
    signal: opts.signal,
    records: () => counts.pairs,
  })) {
    const converted: Converted[] = [];
    for (let k = 0; k < rows.length; k++) {
      if (k % 50 === 49) await yieldToEventLoop();
      const r = rows[k];
      if (r.file !== file) {
        file = r.file;
        starts.push(index);
      }
      const ctx = { file: r.file, line: r.row, index: index++ };
      const c = policy.attempt(() => {
        if (r.error) throw r.error;
        try {
          return convert(ctx, r.record!);
        } catch (e) {
          // the record parsers name a line; here it is a row of the file
          if (e instanceof InputError && e.unit === 'line')
            throw new InputError(e.file, e.line, e.field, e.problem, e.option, 'row');
          throw e;
        }
      });
      if (c) converted.push(c);
    }
    if (converted.length > 0) await enqueue(converted);
  }
}
