// CSV through csv-parse (quoted fields occur in the published files), read by header names.
import { parse } from 'csv-parse/sync';
import { InputError } from '../core/errors';

export interface CsvRow {
  /** 1-based line of the row in the file (the header is line 1). */
  line: number;
  values: Record<string, string>;
}

/** Parses CSV text with a header; checks that every required column is present. */
export function parseCsv(file: string, text: string, required: readonly string[]): { header: string[]; rows: CsvRow[] } {
  let records: { record: Record<string, string>; info: { lines: number } }[];
  let header: string[] = [];
  try {
    records = parse(text, {
      bom: true,
      columns: (h: string[]) => {
        header = h.map((c) => c.trim());
        // Unnamed leading index columns ("" in pandas output) get a placeholder name.
        return header.map((c, i) => (c === '' ? `__unnamed_${i}` : c));
      },
      skip_empty_lines: true,
      info: true,
      relax_column_count: false,
    }) as unknown as { record: Record<string, string>; info: { lines: number } }[];
  } catch (e) {
    const err = e as Error & { lines?: number; code?: string };
    throw new InputError(file, err.lines ?? null, null, `not valid CSV (${err.message.replace(/^Invalid Record Length: /, '').split('\n')[0]})`);
  }
  const missing = required.filter((c) => !header.includes(c));
  if (missing.length > 0) {
    throw new InputError(file, 1, missing[0], `missing column (the header has: ${header.filter((h) => h !== '').join(', ') || 'nothing'}; needed: ${required.join(', ')})`);
  }
  if (records.length === 0) throw new InputError(file, null, null, 'the file has a header but no rows');
  return { header, rows: records.map((r) => ({ line: r.info.lines, values: r.record })) };
}

/** A finite number from a CSV cell, or an InputError naming the row and column. */
export function csvNumber(file: string, row: CsvRow, column: string): number {
  const raw = row.values[column];
  const v = raw === undefined ? NaN : Number(raw.trim());
  if (raw === undefined || raw.trim() === '' || !Number.isFinite(v)) {
    throw new InputError(file, row.line, column, `expected a number, found ${JSON.stringify(raw ?? '')}`);
  }
  return v;
}

export function csvInteger(file: string, row: CsvRow, column: string): number {
  const v = csvNumber(file, row, column);
  if (!Number.isInteger(v) || v < 0) throw new InputError(file, row.line, column, `expected a non-negative integer, found ${JSON.stringify(row.values[column])}`);
  return v;
}
