// CSV through csv-parse (quoted fields occur in the published files), read by header names and
// streamed: rows arrive in batches while the file is read, so memory does not grow with the file.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { parse } from 'csv-parse';
import { InputError, UsageError } from '../core/errors';
import { quotedInputOneLine } from '../core/records';
import { formatBytes, resolveLimits } from './common';
import { limitError, readTextChunks, type StreamOptions } from './files';

export interface CsvRow {
  /** 1-based line of the row in the file (the header is line 1). */
  line: number;
  values: Record<string, string>;
}

/** The header's column names (trimmed; unnamed ones get a placeholder); a name twice is an error. */
function headerNames(file: string, raw: string[], required: readonly string[]): string[] {
  const header = raw.map((c) => c.trim());
  const seen = new Map<string, number>();
  header.forEach((c, i) => {
    if (c === '') return;
    if (c === '__proto__') throw new InputError(file, 1, c, 'a column of this name cannot be read; rename it');
    const first = seen.get(c);
    if (first !== undefined)
      throw new InputError(
        file,
        1,
        c,
        `the header names this column twice (columns ${first + 1} and ${i + 1}); rename one`,
      );
    seen.set(c, i);
  });
  const missing = required.filter((c) => !seen.has(c));
  if (missing.length > 0) {
    throw new InputError(
      file,
      1,
      missing[0],
      `missing column (the header has: ${header.filter((h) => h !== '').join(', ') || 'nothing'}; needed: ${required.join(', ')})`,
    );
  }
  // Unnamed leading index columns ("" in pandas output) get a placeholder name.
  return header.map((c, i) => (c === '' ? `__unnamed_${i}` : c));
}

/**
 * The text with every CRLF read as LF, a pair split across two chunks too; a lone CR is kept. csv-parse finds
 * CRLF record ends itself, but leaves CRLF inside a quoted cell as it is and counts it as two lines: a file saved
 * with Windows line ends would otherwise import cells across lines with a `\r` in them and name every later row
 * by a wrong line. Read this way, it imports as its LF twin does.
 */
async function* lfLineEnds(chunks: AsyncIterable<string>): AsyncGenerator<string> {
  let held = '';
  for await (const chunk of chunks) {
    let text = held + chunk;
    held = text.endsWith('\r') ? '\r' : '';
    if (held) text = text.slice(0, -1);
    if (text) yield text.replace(/\r\n/g, '\n');
  }
  if (held) yield held;
}

/**
 * Streams a CSV file with a header (plain or .gz) as batches of rows; checks that every required
 * column is present and that no column is named twice. A record longer than the line limit, a bad
 * row, a file with no rows: one InputError naming the line.
 */
export async function* readCsvRows(
  file: string,
  required: readonly string[],
  opts: StreamOptions & { batchRows?: number } = {},
): AsyncGenerator<CsvRow[]> {
  const limits = resolveLimits(opts.limits);
  const batchRows = opts.batchRows ?? 5000;
  let headerError: InputError | undefined;
  let sawHeader = false;
  let rows = 0;
  const parser = parse({
    bom: true,
    columns: (h: string[]) => {
      sawHeader = true;
      try {
        return headerNames(file, h, required);
      } catch (e) {
        headerError = e as InputError;
        throw e;
      }
    },
    skip_empty_lines: true,
    info: true,
    relax_column_count: false,
    max_record_size: limits.maxLineBytes,
  });
  pipeline(Readable.from(lfLineEnds(readTextChunks(file, { ...opts, records: () => rows }))), parser, () => undefined);
  let batch: CsvRow[] = [];
  try {
    for await (const r of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
      rows++;
      batch.push({ line: r.info.lines, values: r.record });
      if (batch.length >= batchRows) {
        yield batch;
        batch = [];
      }
    }
  } catch (e) {
    if (headerError) throw headerError;
    if (e instanceof InputError || e instanceof UsageError) throw e;
    const err = e as Error & { lines?: number; code?: string };
    if (err.code === 'CSV_MAX_RECORD_SIZE')
      throw limitError(file, err.lines ?? null, 'the record', 'maxLineBytes', formatBytes(limits.maxLineBytes));
    throw new InputError(
      file,
      err.lines ?? null,
      null,
      `not valid CSV (${quotedInputOneLine(err.message.replace(/^Invalid Record Length: /, '').split('\n')[0])})`,
    );
  }
  if (!sawHeader) throw new InputError(file, null, null, 'the file is empty');
  if (rows === 0) throw new InputError(file, null, null, 'the file has a header but no rows');
  if (batch.length > 0) yield batch;
}

// Decimal numbers only: Number() also takes "0x3", "0b1", "Infinity" and " ", none of which a
// published judgment file means.
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const NON_NEGATIVE_INTEGER = /^\+?\d+$/;

/** A finite number from a CSV cell, or an InputError naming the row and column. */
export function csvNumber(file: string, row: CsvRow, column: string): number {
  const raw = row.values[column];
  const text = raw === undefined ? '' : raw.trim();
  const v = DECIMAL.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(v)) {
    throw new InputError(
      file,
      row.line,
      column,
      `expected a number, found ${JSON.stringify((raw ?? '').slice(0, 40))}`,
    );
  }
  return v;
}

/** A row or principle id: plain decimal digits (not "0x3", "1e0" or "3.0"). */
export function csvInteger(file: string, row: CsvRow, column: string): number {
  const raw = row.values[column];
  const text = raw === undefined ? '' : raw.trim();
  const v = NON_NEGATIVE_INTEGER.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(v))
    throw new InputError(
      file,
      row.line,
      column,
      `expected a non-negative integer, found ${JSON.stringify((raw ?? '').slice(0, 40))}`,
    );
  return v;
}
