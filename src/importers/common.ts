// What every importer shares: the error policy, the summary it returns, file hashing.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { InputError, type RequestOption, UsageError } from '../core/errors';
import { jsonNestingExceeds, parseJsonLine, type RecordContext } from '../core/records';

/** `fail`: the first bad record aborts the import and nothing is written. `skip`: bad records are reported and left out. */
export type OnError = 'fail' | 'skip';

export interface ImportSummary {
  kind: string;
  file: string;
  dataset?: string;
  /** Records written (pairs, principles, preferences, ...). */
  imported: number;
  /** What was written, in words, e.g. { pairs: 2312, preferences: 2312 }. */
  counts: Record<string, number>;
  skipped: SkippedRecord[];
  notes: string[];
}

/** A bad record left out in skip mode: its error's line, message and option (see InputError). */
export interface SkippedRecord { line: number | null; message: string; option?: RequestOption }

export class ErrorPolicy {
  readonly skipped: SkippedRecord[] = [];
  constructor(readonly onError: OnError) {}

  /** Runs `fn`; in skip mode an InputError is recorded and `undefined` returned. */
  attempt<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (e) {
      if (this.onError === 'skip' && e instanceof InputError) {
        this.skipped.push({ line: e.line, message: e.message, ...(e.option ? { option: e.option } : {}) });
        return undefined;
      }
      throw e;
    }
  }
}

export function hashFile(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (c) => h.update(c))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}

/**
 * Bounds on what one import reads, so a hostile or broken file ends in one clear error instead of a
 * hang or an exhausted heap. Each has a CLI option that lifts it (named in the error).
 */
export interface ReadLimits {
  /** Longest line (JSONL), record (CSV) or whole text file (principle lists), in bytes. */
  maxLineBytes: number;
  /** Most bytes a .gz file may decompress to. */
  maxDecompressedBytes: number;
  /** Highest ratio of decompressed to compressed bytes of a .gz file (checked past the first MiB). */
  maxCompressionRatio: number;
  /** Deepest nesting of JSON arrays and objects in one record. */
  maxJsonDepth: number;
}

export const DEFAULT_LIMITS: ReadLimits = {
  maxLineBytes: 16 * 1024 * 1024,
  maxDecompressedBytes: 32 * 1024 * 1024 * 1024,
  // Real JSONL and CSV text compresses 3-20x; a run of one repeated byte (a bomb) about 1000x.
  maxCompressionRatio: 200,
  maxJsonDepth: 100,
};

export function resolveLimits(limits?: Partial<ReadLimits>): ReadLimits {
  const out = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof ReadLimits)[]) {
    const v = limits?.[key];
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/** "16 MiB", "32 GiB", "1000 bytes": a byte count as a person reads it. */
export function formatBytes(n: number): string {
  for (const [unit, size] of [['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) {
    if (n >= size && n % (size / 16) === 0) return `${+(n / size).toFixed(4)} ${unit}`;
  }
  return `${n} bytes`;
}

/** Parses "16MiB", "64 MB", "1g", "5000": a size for the limit options. Returns undefined when it is not one. */
export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)?\s*$/i.exec(text);
  if (!m) return undefined;
  const power = ' kmgt'.indexOf(m[2].toLowerCase() || ' ');
  const n = Math.round(Number(m[1]) * 1024 ** power);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** How far an import has read: bytes of the file on disk (compressed, for .gz) and records so far. */
export interface ImportProgress {
  bytesRead: number;
  totalBytes: number;
  records: number;
}

/** What every importer accepts besides its own options: limits, progress, cancellation. */
export interface ReadOptions {
  limits?: Partial<ReadLimits>;
  /** Called as the file is read (at most every few thousand records or every MiB). */
  onProgress?: (p: ImportProgress) => void;
  /** Aborting it stops the import; nothing is written (the transaction rolls back). */
  signal?: AbortSignal;
}

/** The import was cancelled by the user; nothing was written. */
export class ImportCancelled extends UsageError {
  constructor(file: string) {
    super(`import of ${file} cancelled; nothing was written`);
    this.name = 'ImportCancelled';
  }
}

export function throwIfCancelled(signal: AbortSignal | undefined, file: string): void {
  if (signal?.aborted) throw new ImportCancelled(file);
}

/** One JSON record (a JSONL line), its nesting checked against the limit before it is parsed. */
export function parseJsonRecord(ctx: RecordContext, text: string, limits: ReadLimits): Record<string, unknown> {
  if (jsonNestingExceeds(text, limits.maxJsonDepth)) {
    throw new InputError(ctx.file, ctx.line, null, `the record nests deeper than the limit of ${limits.maxJsonDepth} levels, which can be raised`, 'maxJsonDepth');
  }
  return parseJsonLine(ctx, text);
}
