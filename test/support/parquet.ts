// Parquet files for the tests, written by an independent writer: parquet-wasm (Rust's arrow-rs parquet
// writer, compiled to WebAssembly) from Arrow tables built with apache-arrow. The importer reads them with
// hyparquet; nothing here shares code with it. Rows are given as plain objects; each column's Arrow type is
// given (or inferred for plain text and numbers), so nested structs and chat message lists are exact.
import { writeFileSync } from 'node:fs';
import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm/node';

export type Codec = 'UNCOMPRESSED' | 'SNAPPY' | 'GZIP' | 'BROTLI' | 'ZSTD' | 'LZ4' | 'LZ4_RAW';
export const CODECS: Codec[] = ['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'BROTLI', 'ZSTD', 'LZ4', 'LZ4_RAW'];

export const utf8 = () => new arrow.Utf8();
export const int64 = () => new arrow.Int64();
export const float64 = () => new arrow.Float64();
export const bool = () => new arrow.Bool();
export const binary = () => new arrow.Binary();
export const listOf = (t: arrow.DataType) => new arrow.List(new arrow.Field('item', t, true));
export const struct = (fields: Record<string, arrow.DataType>) =>
  new arrow.Struct(Object.entries(fields).map(([name, t]) => new arrow.Field(name, t, true)));
/** TRL's conversational format: a list of {role, content}. */
export const messages = () => listOf(struct({ role: utf8(), content: utf8() }));
export const timestampMs = () => new arrow.TimestampMillisecond();

export interface WriteOptions {
  codec?: Codec;
  /** Rows per row group (the writer's default is 1,048,576). */
  rowGroupSize?: number;
  dictionary?: boolean;
  /** Column types; a column left out is text when its first non-null value is a string, else float64. */
  types?: Record<string, arrow.DataType>;
}

/** The Parquet bytes of `rows` (every row has the same columns, those of the first row, in its key order). */
export function parquetBytes(rows: Record<string, unknown>[], opts: WriteOptions = {}): Uint8Array {
  const names = Object.keys(rows[0] ?? opts.types ?? {});
  const columns: Record<string, arrow.Vector> = {};
  for (const name of names) {
    const values = rows.map((r) => r[name]);
    const first = values.find((v) => v !== null && v !== undefined);
    const type =
      opts.types?.[name] ?? (typeof first === 'string' ? utf8() : typeof first === 'bigint' ? int64() : float64());
    columns[name] = arrow.vectorFromArray(values, type);
  }
  const table = arrow.tableFromArrays(columns as never) as unknown as arrow.Table;
  let props = new pw.WriterPropertiesBuilder().setCompression(pw.Compression[opts.codec ?? 'SNAPPY']);
  if (opts.rowGroupSize) props = props.setMaxRowGroupSize(opts.rowGroupSize);
  if (opts.dictionary === false) props = props.setDictionaryEnabled(false);
  return pw.writeParquet(pw.Table.fromIPCStream(arrow.tableToIPC(table, 'stream')), props.build());
}

export function writeParquet(file: string, rows: Record<string, unknown>[], opts: WriteOptions = {}): string {
  writeFileSync(file, parquetBytes(rows, opts));
  return file;
}

/** The rows parquet-wasm reads back from `bytes` (plain objects; int64 as bigint), or the error it gives. */
export function readWithParquetWasm(bytes: Uint8Array): Record<string, unknown>[] {
  const table = arrow.tableFromIPC(pw.readParquet(bytes).intoIPCStream());
  return table
    .toArray()
    .map((r: { toJSON(): Record<string, unknown> }) => toPlain(r.toJSON()) as Record<string, unknown>);
}

function toPlain(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'object') return v;
  if (v instanceof Uint8Array) return v;
  const j = (v as { toJSON?: () => unknown }).toJSON;
  if (typeof j === 'function' && !Array.isArray(v)) v = j.call(v);
  if (Array.isArray(v) || (typeof v === 'object' && v !== null && Symbol.iterator in v && !(v instanceof Uint8Array)))
    return Array.from(v as Iterable<unknown>, toPlain);
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, toPlain(x)]));
}
