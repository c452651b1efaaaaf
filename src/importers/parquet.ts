// Parquet files in: one .parquet file, or a Hugging Face dataset folder (README.md front matter
// `configs`, else data/<split>-NNNNN-of-NNNNN.parquet shards), read row group by row group with
// hyparquet, one column at a time, so memory stays within a row group whatever the file size.
// Every codec hyparquet-compressors offers (snappy, gzip, brotli, zstd, lz4, lz4_raw) is read, each page
// bounded before it is inflated: its declared size against the decompressed-size limit (per page and for
// the file) and the compression ratio. Each row becomes a plain JSON-safe record, bounded by the record
// limits of the text importers (its size as a JSON line, its nesting depth). Every failure is one
// InputError naming the file, the row ("row N", 1-based, the place in that file) and the column; a file
// that is corrupt or truncated is one such error and the import writes nothing.
import type { Hash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { brotliDecompressSync, unzipSync } from 'node:zlib';
import type { AsyncBuffer, Compressors, FileMetaData } from 'hyparquet';
import { parse as parseYaml } from 'yaml';
import { InputError, type RequestOption, UsageError } from '../core/errors';
import { jsonNestingExceeds, quotedInputOneLine } from '../core/records';
import { formatBytes, type ImportProgress, type ReadLimits, throwIfCancelled } from './common';
import { cannotRead } from './files';

// ---- where the rows are: a file, or a split of a dataset folder ----------------------------------

export interface ParquetSource {
  /** The files to read, in order (a split's shards by name). */
  files: string[];
  /** The split and config read from a folder (undefined for a single file). */
  split?: string;
  config?: string;
  /** What was chosen, in words, for the summary. */
  notes: string[];
}

/** A file of a split named like the Hugging Face hub writes them: train-00000-of-00003.parquet (a fingerprint may follow). */
const SHARD = /^(?:.*\/)?([^/]+?)-(\d{5})-of-(\d{5})(?:-[0-9a-f]+)?\.parquet$/;

/** The files of `path`: itself when it is a file; the chosen split's files when it is a dataset folder. */
export async function resolveParquetSource(
  path: string,
  choice: { split?: string; config?: string } = {},
): Promise<ParquetSource> {
  const st = await fs.stat(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') throw new InputError(path, null, null, 'no such file or folder');
    throw cannotRead(path, e);
  });
  if (!st.isDirectory()) {
    if (choice.split !== undefined)
      throw new UsageError(`a split is chosen in a dataset folder; ${path} is one file`, 'split');
    if (choice.config !== undefined)
      throw new UsageError(`a config is chosen in a dataset folder; ${path} is one file`, 'config');
    return { files: [path], notes: [] };
  }
  const all = await listFiles(path);
  const readme = join(path, 'README.md');
  const configs = all.includes('README.md') ? await readConfigs(readme) : undefined;
  /** split -> its files (relative paths); a config's patterns are matched for the chosen split only. */
  let splits: Map<string, string[]>;
  let filesOf = (split: string) => splits.get(split)!;
  let config: string | undefined;
  let origin: string;
  if (configs && configs.length > 0) {
    const chosen = chooseConfig(readme, configs, choice.config);
    config = chosen.name;
    origin = `README.md, config "${chosen.name}"`;
    splits = chosen.splits;
    filesOf = (split) => matchPatterns(readme, split, chosen.splits.get(split)!, all);
  } else {
    if (choice.config !== undefined)
      throw new UsageError(`${path} has no README.md with configs to choose "${choice.config}" from`, 'config');
    origin = 'its file names';
    splits = new Map();
    for (const f of all) {
      const m = SHARD.exec(f);
      if (m) splits.set(m[1], [...(splits.get(m[1]) ?? []), f]);
    }
    if (splits.size === 0)
      throw new InputError(
        path,
        null,
        null,
        'is a folder with neither a README.md whose front matter lists configs nor files named <split>-NNNNN-of-NNNNN.parquet',
      );
  }
  const names = [...splits.keys()];
  let split: string;
  if (choice.split !== undefined) {
    if (!splits.has(choice.split))
      throw new UsageError(
        `no split "${choice.split}" in ${path}; its splits (from ${origin}): ${names.join(', ')}`,
        'split',
      );
    split = choice.split;
  } else if (splits.has('train')) split = 'train';
  else if (names.length === 1) split = names[0];
  else throw new UsageError(`${path} has several splits (from ${origin}: ${names.join(', ')}): choose one`, 'split');
  const files = [...new Set(filesOf(split))].sort();
  for (const f of files)
    if (!f.toLowerCase().endsWith('.parquet'))
      throw new InputError(
        join(path, f),
        null,
        null,
        `split "${split}" holds this file, which is not a .parquet file (import it with its own format)`,
      );
  checkShards(path, split, files);
  return {
    files: files.map((f) => join(path, ...f.split('/'))),
    split,
    config,
    notes: [
      `split "${split}"${config !== undefined ? ` of config "${config}"` : ''}: ${files.length} file(s)${names.length > 1 ? ` (splits: ${names.join(', ')})` : ''}`,
    ],
  };
}

/** Every file below `dir`, as a path relative to it with "/" separators; hidden files and folders are left out. */
async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    const entries = await fs.readdir(d, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
      throw cannotRead(d, e);
    });
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const full = join(d, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.isFile()) out.push(relative(dir, full).split(sep).join('/'));
    }
  };
  await walk(dir);
  return out.sort();
}

interface ConfigSplits {
  name: string;
  isDefault: boolean;
  /** split -> its path patterns, relative to the folder. */
  splits: Map<string, string[]>;
}

/** The `configs` of a dataset card's YAML front matter (undefined when it has none). */
async function readConfigs(readme: string): Promise<ConfigSplits[] | undefined> {
  let text: string;
  try {
    text = await fs.readFile(readme, 'utf8');
  } catch (e) {
    throw cannotRead(readme, e as NodeJS.ErrnoException);
  }
  const m = /^\uFEFF?---\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/.exec(text);
  if (!m) return undefined;
  let front: unknown;
  try {
    front = parseYaml(m[1], { maxAliasCount: 100 });
  } catch (e) {
    const line = (e as { linePos?: { line: number }[] }).linePos?.[0]?.line;
    throw new InputError(
      readme,
      line === undefined ? null : line + 1,
      null,
      `the YAML front matter cannot be read (${quotedInputOneLine((e as Error).message.split('\n')[0])})`,
    );
  }
  const configs = (front as Record<string, unknown> | null)?.configs;
  if (configs === undefined || configs === null) return undefined;
  const bad = (what: string): never => {
    throw new InputError(readme, null, 'configs', what);
  };
  if (!Array.isArray(configs)) bad('must be a list of {config_name, data_files}');
  return (configs as unknown[]).map((c, i) => {
    if (c === null || typeof c !== 'object') return bad(`entry ${i + 1} must be a mapping {config_name, data_files}`);
    const { config_name: name, data_files: dataFiles, default: isDefault } = c as Record<string, unknown>;
    if (typeof name !== 'string' || name === '') return bad(`entry ${i + 1} has no config_name`);
    return { name, isDefault: isDefault === true, splits: dataFileSplits(readme, name, dataFiles) };
  });
}

/** data_files in each form the hub accepts: a pattern, a list of patterns (split "train"), a list of {split, path}, or {split: path}. */
function dataFileSplits(readme: string, config: string, dataFiles: unknown): Map<string, string[]> {
  const bad = (): never => {
    throw new InputError(
      readme,
      null,
      'configs',
      `config "${config}": data_files must be a path pattern, a list of them, or a list of {split, path}`,
    );
  };
  const patterns = (v: unknown): string[] => {
    if (typeof v === 'string') return [v];
    if (Array.isArray(v) && v.length > 0 && v.every((p) => typeof p === 'string')) return v as string[];
    return bad();
  };
  const splits = new Map<string, string[]>();
  const add = (split: unknown, path: unknown) => {
    if (typeof split !== 'string' || split === '') bad();
    splits.set(split as string, [...(splits.get(split as string) ?? []), ...patterns(path)]);
  };
  if (typeof dataFiles === 'string' || (Array.isArray(dataFiles) && dataFiles.every((p) => typeof p === 'string')))
    add('train', dataFiles);
  else if (Array.isArray(dataFiles))
    for (const entry of dataFiles) {
      if (entry === null || typeof entry !== 'object') bad();
      const { split, path } = entry as Record<string, unknown>;
      add(split ?? 'train', path);
    }
  else if (dataFiles !== null && typeof dataFiles === 'object')
    for (const [split, path] of Object.entries(dataFiles)) add(split, path);
  else bad();
  return splits;
}

function chooseConfig(readme: string, configs: ConfigSplits[], wanted: string | undefined): ConfigSplits {
  const names = configs.map((c) => c.name);
  if (wanted !== undefined) {
    const c = configs.find((x) => x.name === wanted);
    if (!c) throw new UsageError(`no config "${wanted}" in ${readme}; its configs: ${names.join(', ')}`, 'config');
    return c;
  }
  const c =
    configs.find((x) => x.isDefault) ??
    configs.find((x) => x.name === 'default') ??
    (configs.length === 1 ? configs[0] : undefined);
  if (!c) throw new UsageError(`${readme} lists the configs ${names.join(', ')}: choose one`, 'config');
  return c;
}

/** A data_files pattern as the hub reads it: `*` and `?` within a folder, `**` across folders. */
function globRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*' && pattern[i + 1] === '*') {
      i++;
      if (pattern[i + 1] === '/') {
        i++;
        re += '(?:.*/)?';
      } else re += '.*';
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function matchPatterns(readme: string, split: string, patterns: string[], all: string[]): string[] {
  const out: string[] = [];
  for (const raw of patterns) {
    const p = raw.replace(/^\.\//, '');
    if (p.startsWith('/') || p.split('/').includes('..') || /^[a-z][a-z0-9+.-]*:\/\//i.test(p))
      throw new InputError(
        readme,
        null,
        'configs',
        `split "${split}": the path ${JSON.stringify(raw)} is not inside the dataset folder`,
      );
    const re = globRegExp(p);
    const hits = all.filter((f) => re.test(f));
    if (hits.length === 0)
      throw new InputError(
        readme,
        null,
        'configs',
        `split "${split}": no file of the folder matches ${JSON.stringify(raw)}`,
      );
    out.push(...hits);
  }
  return out;
}

/** Shards named NNNNN-of-MMMMM must all be there: a split with a shard missing is refused, naming it. */
function checkShards(dir: string, split: string, files: string[]): void {
  const seen = new Map<string, Set<number>>();
  for (const f of files) {
    const m = /-(\d{5})-of-(\d{5})(?:-[0-9a-f]+)?\.parquet$/.exec(f);
    if (!m) continue;
    const key = `${f.slice(0, m.index)}\u0000${m[2]}`;
    (seen.get(key) ?? seen.set(key, new Set()).get(key)!).add(Number(m[1]));
  }
  for (const [key, indexes] of seen) {
    const [prefix, total] = key.split('\u0000');
    for (let i = 0; i < Number(total); i++)
      if (!indexes.has(i))
        throw new InputError(
          dir,
          null,
          null,
          `split "${split}" is missing its shard ${prefix}-${String(i).padStart(5, '0')}-of-${total}.parquet (${indexes.size} of ${Number(total)} present)`,
        );
  }
}

// ---- reading rows --------------------------------------------------------------------------------

/** One row of a file: its record, or what is wrong with it (an InputError naming file, row and field). */
export interface ParquetRow {
  file: string;
  /** 1-based row in its file. */
  row: number;
  record?: Record<string, unknown>;
  error?: InputError;
}

export interface ParquetReadOptions {
  limits: ReadLimits;
  /** The fields the mapping reads (a.b.c paths): each must be a column (or a column's nested field) of every file. */
  fields: string[];
  fileHash?: Hash;
  onProgress?: (p: ImportProgress) => void;
  signal?: AbortSignal;
  /** Records taken so far, for progress. */
  records: () => number;
  batchRows?: number;
}

/** The ratio limit applies once this much has been inflated (as for .gz files). */
const RATIO_FLOOR = 1 << 20;

/** A value hyparquet decoded that a record cannot hold: reported with its row and column once the row is built. */
class BadValue {
  constructor(
    readonly problem: string,
    readonly option?: RequestOption,
  ) {}
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function decodeText(bytes: Uint8Array): string | BadValue {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return new BadValue('is not valid UTF-8 text');
  }
}

/** What to read and where: the file and the rows and column being decoded, for errors raised inside hyparquet. */
interface Reading {
  file: string;
  column: string;
  rowStart: number;
  rowEnd: number;
}

function rowsOf(r: Reading): string {
  return r.rowEnd - r.rowStart === 1 ? `row ${r.rowStart + 1}` : `rows ${r.rowStart + 1}-${r.rowEnd}`;
}

function corrupt(file: string, why: unknown, at?: Reading): InputError {
  if (why instanceof InputError || why instanceof UsageError) return why as InputError;
  const message = why instanceof Error ? why.message : String(why);
  const detail = quotedInputOneLine(message.split('\n')[0]).slice(0, 200);
  if (!at) return new InputError(file, null, null, `not a readable Parquet file: corrupt or truncated (${detail})`);
  return new InputError(
    file,
    at.rowStart + 1,
    at.column,
    `the column's data for ${rowsOf(at)} is corrupt (${detail})`,
    undefined,
    'row',
  );
}

/** An AsyncBuffer over an open file: each slice one positioned read; a slice past the end is an error. */
function fileBuffer(handle: fs.FileHandle, size: number): AsyncBuffer {
  return {
    byteLength: size,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const stop = Math.min(end ?? size, size);
      if (!(start >= 0 && stop >= start)) throw new Error(`read of bytes ${start}-${end} outside the file`);
      const out = new Uint8Array(stop - start);
      let got = 0;
      while (got < out.length) {
        const { bytesRead } = await handle.read(out, got, out.length - got, start + got);
        if (bytesRead === 0) throw new Error('the file ended before the data its footer points to');
        got += bytesRead;
      }
      return out.buffer;
    },
  };
}

/**
 * The zstd frame header's promises about the page (RFC 8878, 3.1.1.1): its content size, when given, must
 * be the page's, and its window must not be larger than the page (or 128 MiB): fzstd allocates what it says.
 */
function checkZstdFrame(input: Uint8Array, outputLength: number): void {
  if (input.length < 6 || input[0] !== 0x28 || input[1] !== 0xb5 || input[2] !== 0x2f || input[3] !== 0xfd)
    throw new Error('not zstd data (no frame magic)');
  const fhd = input[4];
  const single = (fhd & 0x20) !== 0;
  const fcsFlag = fhd >> 6;
  let at = 5;
  let window = 0;
  if (!single) {
    const wd = input[at++];
    const base = 2 ** (10 + (wd >> 3));
    window = base + (base / 8) * (wd & 7);
  }
  at += [0, 1, 2, 4][fhd & 3];
  const fcsBytes = [single ? 1 : 0, 2, 4, 8][fcsFlag];
  if (fcsBytes > 0) {
    if (at + fcsBytes > input.length) throw new Error('zstd frame header cut short');
    let fcs = 0;
    for (let k = fcsBytes - 1; k >= 0; k--) fcs = fcs * 256 + input[at + k];
    if (fcsBytes === 2) fcs += 256;
    if (fcs !== outputLength) throw new Error(`zstd frame of ${fcs} bytes in a page of ${outputLength} bytes`);
  } else if (window > Math.max(outputLength, 1 << 27)) {
    throw new Error(`zstd window of ${window} bytes for a page of ${outputLength} bytes`);
  }
}

/**
 * The reader and its codecs, loaded on the first Parquet import: the snappy codec instantiates WebAssembly
 * when its module loads, which a session that imports no Parquet (the extension's start) need not pay for.
 */
const loadHyparquet = async () => ({
  ...(await import('hyparquet')),
  codecs: (await import('hyparquet-compressors')).compressors,
});

/** The codecs, each behind the page limits; the counters are per file. */
function boundedCodecs(
  codecs: Compressors,
  limits: ReadLimits,
  reading: () => Reading,
): Compressors & { reset(): void } {
  let inflated = 0;
  let consumed = 0;
  const guard = (input: Uint8Array, outputLength: number) => {
    const r = reading();
    const where = (what: string, limit: 'maxDecompressedBytes' | 'maxCompressionRatio', value: string) =>
      new InputError(
        r.file,
        r.rowStart + 1,
        r.column,
        `${what} of a page of this column (${rowsOf(r)}) exceeds the limit of ${value}, which can be raised`,
        limit,
        'row',
      );
    if (!Number.isSafeInteger(outputLength) || outputLength < 0)
      throw new Error(`page header gives an uncompressed size of ${outputLength}`);
    inflated += outputLength;
    consumed += input.length;
    if (outputLength > limits.maxDecompressedBytes || inflated > limits.maxDecompressedBytes)
      throw where(
        outputLength > limits.maxDecompressedBytes
          ? `the decompressed size (${formatBytes(outputLength)})`
          : 'the decompressed data',
        'maxDecompressedBytes',
        formatBytes(limits.maxDecompressedBytes),
      );
    for (const [out, inp] of [
      [outputLength, input.length],
      [inflated, consumed],
    ])
      if (out > RATIO_FLOOR && out > Math.max(1, inp) * limits.maxCompressionRatio)
        throw where(
          `the compression ratio (over ${Math.floor(out / Math.max(1, inp))}:1)`,
          'maxCompressionRatio',
          `${limits.maxCompressionRatio}:1`,
        );
  };
  const bounded =
    (fn: (input: Uint8Array, outputLength: number) => Uint8Array) => (input: Uint8Array, outputLength: number) => {
      guard(input, outputLength);
      if (outputLength === 0) return new Uint8Array(0);
      return fn(input, outputLength);
    };
  const zlibOut = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return {
    SNAPPY: bounded(codecs.SNAPPY!),
    // node's zlib: gzip (or zlib/deflate, which some writers use) and brotli, never past the page's size
    GZIP: bounded((input, n) => zlibOut(unzipSync(input, { maxOutputLength: n }))),
    BROTLI: bounded((input, n) => zlibOut(brotliDecompressSync(input, { maxOutputLength: n }))),
    ZSTD: bounded((input, n) => {
      checkZstdFrame(input, n);
      return codecs.ZSTD!(input, n);
    }),
    LZ4: bounded(codecs.LZ4!),
    LZ4_RAW: bounded(codecs.LZ4_RAW!),
    reset() {
      inflated = consumed = 0;
    },
  };
}

/** How deep the schema nests below a top-level column (groups, counted iteratively: a hostile schema may be very deep). */
function schemaDepths(metadata: FileMetaData): Map<string, number> {
  const depths = new Map<string, number>();
  const schema = metadata.schema;
  // a stack of [children left, depth, top-level name]
  const stack: [number, number, string][] = [[schema[0]?.num_children ?? 0, 0, '']];
  for (let i = 1; i < schema.length; i++) {
    while (stack.length > 1 && stack[stack.length - 1][0] === 0) stack.pop();
    const top = stack[stack.length - 1];
    top[0]--;
    const depth = top[1] + 1;
    const name = depth === 1 ? (schema[i].name ?? '') : top[2];
    depths.set(name, Math.max(depths.get(name) ?? 0, depth));
    const n = schema[i].num_children ?? 0;
    if (n > 0) stack.push([n, depth, name]);
  }
  return depths;
}

/** The top-level column a mapped field (`a.b.c`, or a column whose name has dots) is read from. */
function columnOf(field: string, columns: readonly string[]): string | undefined {
  if (columns.includes(field)) return field;
  const first = field.split('.')[0];
  return columns.includes(first) ? first : undefined;
}

/** Streams the rows of `files` in batches, row group by row group. Throws an InputError for a file it cannot read. */
export async function* readParquetRows(files: string[], opts: ParquetReadOptions): AsyncGenerator<ParquetRow[]> {
  const { limits } = opts;
  const batchRows = opts.batchRows ?? 5000;
  const sizes: number[] = [];
  for (const f of files) {
    const st = await fs.stat(f).catch((e: NodeJS.ErrnoException) => {
      throw cannotRead(f, e);
    });
    if (st.isDirectory()) throw new InputError(f, null, null, 'is a folder, not a file');
    sizes.push(st.size);
  }
  const totalBytes = sizes.reduce((a, b) => a + b, 0);
  let doneBytes = 0;
  let reading: Reading = { file: '', column: '', rowStart: 0, rowEnd: 0 };
  const { codecs, parquetMetadataAsync, parquetScan, parquetSchema } = await loadHyparquet();
  const compressors = boundedCodecs(codecs, limits, () => reading);
  const parsers = {
    stringFromBytes: (b: Uint8Array | undefined) => b && decodeText(b),
    jsonFromBytes: (b: Uint8Array | undefined) => {
      if (!b) return b;
      const text = decodeText(b);
      if (text instanceof BadValue) return text;
      if (jsonNestingExceeds(text, limits.maxJsonDepth))
        return new BadValue(
          `the record nests deeper than the limit of ${limits.maxJsonDepth} levels, which can be raised`,
          'maxJsonDepth',
        );
      try {
        return JSON.parse(text) as unknown;
      } catch (e) {
        return new BadValue(`holds malformed JSON (${quotedInputOneLine((e as Error).message)})`);
      }
    },
    // geometry stays as its WKB bytes ({"base64": ...} in the record): no parser runs over untrusted geometry
    geometryFromBytes: (b: Uint8Array | undefined) => b,
    geographyFromBytes: (b: Uint8Array | undefined) => b,
  };

  for (let fi = 0; fi < files.length; fi++) {
    const file = files[fi];
    const size = sizes[fi];
    throwIfCancelled(opts.signal, file);
    if (opts.fileHash) await hashInto(file, opts.fileHash);
    const handle = await fs.open(file, 'r').catch((e: NodeJS.ErrnoException) => {
      throw cannotRead(file, e);
    });
    try {
      const buffer = fileBuffer(handle, size);
      await checkMagic(file, buffer, size);
      let metadata: FileMetaData;
      let columns: string[];
      try {
        metadata = await parquetMetadataAsync(buffer, { parsers, geoparquet: false });
        columns = parquetSchema(metadata).children.map((c) => c.element.name);
      } catch (e) {
        throw corrupt(file, e);
      }
      const depths = schemaDepths(metadata);
      for (const [column, depth] of depths)
        // a list takes up to three schema levels per level of the value: past that the value is too deep
        if (depth > 3 * limits.maxJsonDepth + 3)
          throw new InputError(
            file,
            null,
            column,
            `the column nests deeper than the limit of ${limits.maxJsonDepth} levels, which can be raised`,
            'maxJsonDepth',
          );
      for (const field of opts.fields)
        if (columnOf(field, columns) === undefined)
          throw new InputError(
            file,
            null,
            field,
            `no such column (the file's columns: ${columns.join(', ').slice(0, 300) || 'none'})`,
            'fieldMapping',
          );
      let scan: Awaited<ReturnType<typeof parquetScan>>;
      try {
        scan = await parquetScan({ file: buffer, metadata, compressors, utf8: false, parsers, geoparquet: false });
      } catch (e) {
        throw corrupt(file, e);
      }
      compressors.reset();
      const groupBytes = metadata.row_groups.map((g) =>
        g.columns.reduce((s, c) => s + Number(c.meta_data?.total_compressed_size ?? 0), 0),
      );
      let groupIndex = 0;
      let fileBytes = 0;
      for (const range of scan.ranges) {
        throwIfCancelled(opts.signal, file);
        const { rowStart, rowEnd } = range;
        const data: ArrayLike<unknown>[] = [];
        for (const column of columns) {
          reading = { file, column, rowStart, rowEnd };
          try {
            const values = await scan.readColumn({ column, rowStart, rowEnd });
            if (values.length !== rowEnd - rowStart)
              throw new Error(`${values.length} values for ${rowEnd - rowStart} rows`);
            data.push(values);
          } catch (e) {
            throw corrupt(file, e, reading);
          }
        }
        for (let start = rowStart; start < rowEnd; start += batchRows) {
          const end = Math.min(rowEnd, start + batchRows);
          const batch: ParquetRow[] = [];
          for (let r = start; r < end; r++) batch.push(toRow(file, r + 1, columns, data, r - rowStart, limits));
          yield batch;
        }
        fileBytes += groupBytes[groupIndex++] ?? 0;
        opts.onProgress?.({
          bytesRead: doneBytes + Math.min(fileBytes, size),
          totalBytes,
          records: opts.records(),
        });
      }
    } finally {
      await handle.close();
    }
    doneBytes += size;
  }
}

async function hashInto(file: string, hash: Hash): Promise<void> {
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  } catch (e) {
    throw cannotRead(file, e as NodeJS.ErrnoException);
  }
}

async function checkMagic(file: string, buffer: AsyncBuffer, size: number): Promise<void> {
  if (size < 12)
    throw new InputError(
      file,
      null,
      null,
      size === 0 ? 'the file is empty' : `not a Parquet file (${size} bytes: too short to hold one)`,
    );
  const magic = (b: ArrayBuffer) => Buffer.from(b).toString('latin1') === 'PAR1';
  if (!magic(await buffer.slice(0, 4))) {
    // a clone of a dataset repository without Git LFS holds small pointer files in place of the data
    const head = Buffer.from(await buffer.slice(0, Math.min(size, 64))).toString('latin1');
    if (head.startsWith('version https://git-lfs'))
      throw new InputError(
        file,
        null,
        null,
        'is a Git LFS pointer, not the Parquet file it stands for (fetch the data: git lfs pull)',
      );
    throw new InputError(file, null, null, 'not a Parquet file (it does not start with "PAR1")');
  }
  if (!magic(await buffer.slice(size - 4, size)))
    throw new InputError(
      file,
      null,
      null,
      'a truncated or corrupt Parquet file: it does not end with "PAR1" (its footer is missing)',
    );
}

/** Row `row` (1-based) of the decoded columns, as a plain record, or the first problem of it in column order. */
function toRow(
  file: string,
  row: number,
  columns: readonly string[],
  data: ArrayLike<unknown>[],
  i: number,
  limits: ReadLimits,
): ParquetRow {
  const entries: [string, unknown][] = [];
  const size = { chars: 0 };
  for (let c = 0; c < columns.length; c++) {
    const v = data[c][i];
    try {
      entries.push([columns[c], plain(v, 1, limits.maxJsonDepth, size)]);
    } catch (e) {
      if (!(e instanceof BadValue)) throw e;
      return { file, row, error: new InputError(file, row, columns[c], e.problem, e.option, 'row') };
    }
  }
  // Object.fromEntries makes every column an own property, "__proto__" too (which the mapping refuses).
  const record = Object.fromEntries(entries) as Record<string, unknown>;
  // The record's size as the JSON line it would be in a .jsonl file; exact only when it might be too big.
  if (size.chars * 6 + 16 * columns.length > limits.maxLineBytes) {
    const bytes = Buffer.byteLength(JSON.stringify(record));
    if (bytes > limits.maxLineBytes) {
      let largest = 0;
      for (let c = 1; c < entries.length; c++) if (jsonSize(entries[c][1]) > jsonSize(entries[largest][1])) largest = c;
      return {
        file,
        row,
        error: new InputError(
          file,
          row,
          columns[largest],
          `the record (${formatBytes(bytes)} as a JSON line; this field is its largest) exceeds the limit of ${formatBytes(limits.maxLineBytes)}, which can be raised`,
          'maxLineBytes',
          'row',
        ),
      };
    }
  }
  return { file, row, record };
}

const jsonSize = (v: unknown) => Buffer.byteLength(JSON.stringify(v) ?? '');

/**
 * A decoded Parquet value as JSON holds it: int64 as a number when exact, else its digits; dates as ISO
 * text; binary as {"base64": ...} (so a response or prompt field that is binary is refused, not read as
 * text); NaN and infinities as null. Arrays and objects count a level each (the record
 * itself is level 1, as in a JSON line); past `maxDepth` a BadValue is thrown.
 */
function plain(v: unknown, depth: number, maxDepth: number, size: { chars: number }): unknown {
  switch (typeof v) {
    case 'string':
      size.chars += v.length + 2;
      return v;
    case 'boolean':
      size.chars += 5;
      return v;
    case 'number':
      size.chars += 8;
      return Number.isFinite(v) ? v : null;
    case 'bigint':
      size.chars += 20;
      return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
    case 'undefined':
      return null;
    case 'object':
      break;
    default:
      return plain(String(v), depth, maxDepth, size);
  }
  if (v === null) {
    size.chars += 4;
    return null;
  }
  if (v instanceof BadValue) throw v;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : plain(v.toISOString(), depth, maxDepth, size);
  // binary (a BYTE_ARRAY that is not annotated as text): kept as {"base64": ...}, never taken for text
  if (v instanceof Uint8Array) {
    const base64 = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
    size.chars += base64.length + 12;
    return { base64 };
  }
  if (depth + 1 > maxDepth)
    throw new BadValue(
      `the record nests deeper than the limit of ${maxDepth} levels, which can be raised`,
      'maxJsonDepth',
    );
  if (Array.isArray(v) || ArrayBuffer.isView(v)) {
    const items = v as ArrayLike<unknown>;
    const out = new Array<unknown>(items.length);
    for (let k = 0; k < items.length; k++) out[k] = plain(items[k], depth + 1, maxDepth, size);
    size.chars += 2 + items.length;
    return out;
  }
  const out: [string, unknown][] = [];
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    size.chars += k.length + 4;
    out.push([k, plain(x, depth + 1, maxDepth, size)]);
  }
  return Object.fromEntries(out);
}
