// The LLM judge through batch files, for both front ends: a run written as OpenAI Batch API input files
// instead of asked live (split at OpenAI's limits per file), and the output files read back into the store.
// What the lines hold and how answers are read and stored: src/judges/batchFiles.ts.
import { readdirSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { UsageError } from '../core/errors';
import type { ReadOptions } from '../importers/common';
import { parseJsonRecord, resolveLimits, throwIfCancelled } from '../importers/common';
import { readLineBatches } from '../importers/files';
import {
  BATCH_FILE_LIMITS,
  type BatchImportOptions,
  type BatchImportSummary,
  type BatchRequestOptions,
  type BatchResultRecord,
  batchRequests,
  importBatchResults,
} from '../judges/batchFiles';
import type { Store } from '../store';
import { promptsDir } from './media';
import { AtomicFile } from './outputFiles';

export interface JudgeBatchOptions extends Omit<BatchRequestOptions, 'promptDir'> {
  /** default: the bundled prompts */
  promptDir?: string;
  /** The file to write; split into NAME-00001.EXT, NAME-00002.EXT, ... when one file would pass a limit. */
  out: string;
  /** Most requests and bytes one file holds (OpenAI's: 50,000 and 200 MB). */
  limits?: { maxLines: number; maxBytes: number };
}

export interface JudgeBatchSummary {
  dataset: string;
  annotator: string;
  mode: 'judge' | 'oracle';
  model: string;
  requestVersion: string;
  /** Request lines written (pairs x 2 orders for a judge, pair x principle for an oracle). */
  requests: number;
  /** Units (pairs, or pair x principle) left out because the annotator has them stored. */
  alreadyStored: number;
  /** Units of the whole dataset. */
  unitTotal: number;
  /** The files written, in order; empty when nothing is left to ask. */
  files: { file: string; requests: number; bytes: number }[];
  /** Parts of an earlier, larger batch beside the files written (NAME-NNNNN.EXT not written now): not this run's. */
  otherParts: string[];
}

/** Name of part `n` (1-based) of a split batch file: out.jsonl -> out-00001.jsonl. */
export function batchPartName(out: string, n: number): string {
  const ext = extname(out);
  return `${out.slice(0, out.length - ext.length)}-${String(n).padStart(5, '0')}${ext}`;
}

/** Writes the requests a live run would send (what is stored left out) as batch input files; reads the store only. */
export async function writeJudgeBatch(store: Store, o: JudgeBatchOptions): Promise<JudgeBatchSummary> {
  const limits = o.limits ?? BATCH_FILE_LIMITS;
  const batch = await batchRequests(store, { ...o, promptDir: o.promptDir ?? promptsDir() });
  // First pass: where the files split (the lines are made again when written, rather than held).
  const parts: { requests: number; bytes: number }[] = [];
  for (const { pairIdx, text } of batch.lines()) {
    const bytes = Buffer.byteLength(text) + 1;
    if (bytes > limits.maxBytes)
      throw new UsageError(
        `the request for pair ${pairIdx} is ${bytes} bytes, more than a batch file may hold (${limits.maxBytes} bytes)`,
      );
    const last = parts[parts.length - 1];
    if (!last || last.requests >= limits.maxLines || last.bytes + bytes > limits.maxBytes)
      parts.push({ requests: 1, bytes });
    else {
      last.requests++;
      last.bytes += bytes;
    }
  }
  const names = parts.length === 1 ? [o.out] : parts.map((_, i) => batchPartName(o.out, i + 1));
  // Every file is written beside its name and renamed into place only when all are complete.
  const files = names.map((name) => AtomicFile.open(name, 'the batch file'));
  try {
    let part = 0;
    let inPart = 0;
    let chunk: string[] = [];
    let chunkChars = 0;
    const flush = () => {
      if (chunk.length) files[part].write(chunk.join(''));
      chunk = [];
      chunkChars = 0;
    };
    for (const { text } of batch.lines()) {
      if (inPart === parts[part].requests) {
        flush();
        part++;
        inPart = 0;
      }
      chunk.push(text, '\n');
      chunkChars += text.length + 1;
      inPart++;
      if (chunkChars >= 1 << 20) flush();
    }
    flush();
  } catch (e) {
    for (const f of files) f.discard();
    throw e;
  }
  for (const f of files) f.close();
  const written = new Set(names.map((n) => basename(n)));
  return {
    dataset: batch.plan.dataset.name,
    annotator: o.annotator,
    mode: batch.plan.mode,
    model: o.model,
    requestVersion: batch.version,
    requests: batch.plan.units.length,
    alreadyStored: batch.plan.alreadyStored,
    unitTotal: batch.plan.unitTotal,
    files: names.map((file, i) => ({ file, ...parts[i] })),
    otherParts: otherParts(o.out, written),
  };
}

/** NAME.EXT and NAME-NNNNN.EXT beside `out` that this run did not write (an earlier run's, now stale). */
function otherParts(out: string, written: Set<string>): string[] {
  const ext = extname(out);
  const stem = basename(out).slice(0, basename(out).length - ext.length);
  const part = new RegExp(`^${stem.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-\\d{5}${ext.replace(/\./g, '\\.')}$`);
  let names: string[];
  try {
    names = readdirSync(dirname(out));
  } catch {
    return [];
  }
  return names
    .filter((n) => (n === basename(out) || part.test(n)) && !written.has(n))
    .sort()
    .map((n) => join(dirname(out), n));
}

/**
 * Reads batch output (and error) files, any number, in any order, and stores the answers of the judge run
 * whose requests they answer (see importBatchResults). Each line is read as the importers read JSONL: strict
 * UTF-8, gzip when compressed, the line and nesting limits. Everything is read and checked before anything is stored.
 */
export async function importBatchResultFiles(
  store: Store,
  o: BatchImportOptions & { files: string[]; read?: ReadOptions & { onFile?: (file: string) => void } },
): Promise<BatchImportSummary> {
  if (o.files.length === 0) throw new UsageError('no batch results file given');
  const limits = resolveLimits(o.read?.limits);
  async function* records(): AsyncGenerator<BatchResultRecord> {
    for (const file of o.files) {
      o.read?.onFile?.(file);
      for await (const batch of readLineBatches(file, {
        limits: o.read?.limits,
        onProgress: o.read?.onProgress,
        signal: o.read?.signal,
      }))
        for (const { line, text } of batch) {
          if (text.trim() === '') continue; // a blank line carries no result
          yield { file, line, record: parseJsonRecord({ file, line, index: line - 1 }, text, limits) };
        }
    }
    throwIfCancelled(o.read?.signal, o.files[o.files.length - 1]);
  }
  return importBatchResults(store, o, records(), o.files);
}
