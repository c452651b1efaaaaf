// A streaming Parquet writer for the columns of `export --format hf` (src/core/training.ts: strings, int32, float64 and
// lists of structs, nested to any depth). Rows are shredded into repetition and definition levels as they come
// (the Dremel encoding), each column's values are appended to its current page (strings UTF-8 encoded straight into
// one growing buffer; short, repetitive columns dictionary-encoded), and a page is closed at the first row boundary
// past 1 MiB and Snappy-compressed at once. Only the current row group's compressed pages are held.
//
// The file's own structures come from hyparquet-writer (pinned to one version: these are its modules, not its
// documented entry point): the thrift page headers, the RLE/bit-packed hybrid of the levels and dictionary
// indices, the Snappy compressor and the footer. Its row-at-a-time entry point (ParquetWriter.write, with its generic
// Dremel walk, per-value TextEncoder calls and dictionary trials on every column) wrote this shape at about 15,000
// rows/s here; this path writes several times that (README, "Training data export").
import { ByteWriter } from 'hyparquet-writer/src/bytewriter.js';
import { writePageHeader } from 'hyparquet-writer/src/datapage.js';
import { writeRleBitPackedHybrid } from 'hyparquet-writer/src/encoding.js';
import { writeMetadata } from 'hyparquet-writer/src/metadata.js';
import { snappyCompress } from 'hyparquet-writer/src/snappy.js';
import type { HfField } from '../core/training';

type Physical = 'BYTE_ARRAY' | 'INT32' | 'DOUBLE';
type Repetition = 'REQUIRED' | 'OPTIONAL' | 'REPEATED';

interface SchemaElement {
  name: string;
  type?: Physical;
  repetition_type?: Repetition;
  num_children?: number;
  converted_type?: 'UTF8' | 'LIST';
  logical_type?: { type: 'STRING' | 'LIST' };
}

/** A growing byte buffer with the few appends the pages need. */
class Bytes {
  buf = new Uint8Array(1 << 16);
  len = 0;
  private static readonly encoder = new TextEncoder();
  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  u32(v: number): void {
    this.ensure(4);
    const b = this.buf;
    const at = this.len;
    b[at] = v & 0xff;
    b[at + 1] = (v >>> 8) & 0xff;
    b[at + 2] = (v >>> 16) & 0xff;
    b[at + 3] = (v >>> 24) & 0xff;
    this.len += 4;
  }
  /** A PLAIN BYTE_ARRAY value: its UTF-8 length, then its bytes. */
  lengthPrefixedUtf8(s: string): void {
    const n = s.length;
    this.ensure(4 + n * 3);
    const b = this.buf;
    const at = this.len;
    // ASCII is copied by hand (most text; a call of encodeInto costs more than a short string's loop).
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      b[at + 4 + i] = c;
    }
    const written = i === n ? n : i + Bytes.encoder.encodeInto(s.slice(i), b.subarray(at + 4 + i)).written;
    this.u32(written);
    this.len += written;
  }
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

/** Levels and small integers of the current page (grows as needed). */
class Ints {
  arr: Int32Array;
  len = 0;
  constructor(size = 1 << 12) {
    this.arr = new Int32Array(size);
  }
  push(v: number): void {
    if (this.len === this.arr.length) {
      const next = new Int32Array(this.arr.length * 2);
      next.set(this.arr);
      this.arr = next;
    }
    this.arr[this.len++] = v;
  }
  view(): Int32Array {
    return this.arr.subarray(0, this.len);
  }
}

const bitWidth = (max: number) => Math.max(1, Math.ceil(Math.log2(max + 1)));

/** One leaf column: its path, levels, and the pages of the current row group. */
class Leaf {
  readonly def = new Ints();
  readonly rep = new Ints();
  readonly values = new Bytes();
  readonly indices = new Ints();
  readonly numbers: number[] = [];
  readonly dictionary = new Map<string, number>();
  pages: Uint8Array[] = [];
  pageBytes = 0;
  uncompressed = 0;
  slots = 0;
  constructor(
    readonly path: string[],
    readonly physical: Physical,
    readonly maxDef: number,
    readonly maxRep: number,
    readonly useDictionary: boolean,
  ) {}

  add(def: number, rep: number, value: unknown): void {
    if (this.maxDef > 0) this.def.push(def);
    if (this.maxRep > 0) this.rep.push(rep);
    this.slots++;
    if (def < this.maxDef) return;
    if (this.physical === 'BYTE_ARRAY') {
      if (typeof value !== 'string') throw new Error(`parquet column ${this.path.join('.')}: expected a string`);
      if (this.useDictionary) {
        let i = this.dictionary.get(value);
        if (i === undefined) this.dictionary.set(value, (i = this.dictionary.size));
        this.indices.push(i);
      } else this.values.lengthPrefixedUtf8(value);
    } else {
      if (typeof value !== 'number') throw new Error(`parquet column ${this.path.join('.')}: expected a number`);
      this.numbers.push(value);
    }
  }

  /** Bytes the current page holds so far (an estimate for dictionary and number columns). */
  pendingBytes(): number {
    return this.values.len + this.indices.len + this.numbers.length * 8 + this.slots;
  }

  /** Closes the current page: levels, encoded values (compressed), and its header. */
  closePage(): void {
    if (this.slots === 0) return;
    const levels = new ByteWriter();
    let repBytes = 0;
    let defBytes = 0;
    let numRows = this.slots;
    let nulls = 0;
    if (this.maxRep > 0) {
      const r = this.rep.view();
      numRows = 0;
      for (let i = 0; i < r.length; i++) if (r[i] === 0) numRows++;
      repBytes = writeRleBitPackedHybrid(levels, r, bitWidth(this.maxRep));
    }
    if (this.maxDef > 0) {
      const d = this.def.view();
      for (let i = 0; i < d.length; i++) if (d[i]! < this.maxDef) nulls++;
      defBytes = writeRleBitPackedHybrid(levels, d, bitWidth(this.maxDef));
    }
    let body: Uint8Array;
    let encoding: 'PLAIN' | 'RLE_DICTIONARY' = 'PLAIN';
    // A page with no value (all null or empty lists) is PLAIN and empty: a dictionary page is written only for a
    // chunk that has values, and a dictionary-encoded page without one is refused by readers (DuckDB).
    if (this.physical === 'BYTE_ARRAY' && this.useDictionary && this.indices.len > 0) {
      encoding = 'RLE_DICTIONARY';
      const w = new ByteWriter();
      const width = bitWidth(Math.max(0, this.dictionary.size - 1));
      w.appendUint8(width);
      writeRleBitPackedHybrid(w, this.indices.view(), width);
      body = w.getBytes();
    } else if (this.physical === 'BYTE_ARRAY') body = this.values.bytes();
    else if (this.physical === 'INT32') body = new Uint8Array(Int32Array.from(this.numbers).buffer);
    else body = new Uint8Array(Float64Array.from(this.numbers).buffer);
    const compressed = snappyCompress(body);
    const levelBytes = levels.getBytes();
    const header = new ByteWriter();
    writePageHeader(header, {
      type: 'DATA_PAGE_V2',
      uncompressed_page_size: levelBytes.length + body.length,
      compressed_page_size: levelBytes.length + compressed.length,
      data_page_header_v2: {
        num_values: this.slots,
        num_nulls: nulls,
        num_rows: numRows,
        encoding,
        definition_levels_byte_length: defBytes,
        repetition_levels_byte_length: repBytes,
        is_compressed: true,
      },
    });
    const head = header.getBytes();
    this.pages.push(head.slice(), levelBytes.slice(), compressed);
    this.pageBytes += head.length + levelBytes.length + compressed.length;
    this.uncompressed += head.length + levelBytes.length + body.length;
    this.chunkValues += this.slots;
    this.def.len = this.rep.len = this.indices.len = this.values.len = this.slots = 0;
    this.numbers.length = 0;
  }
  chunkValues = 0;

  /** The dictionary page of the row group (its values PLAIN, compressed), or null. */
  dictionaryPage(): { bytes: Uint8Array[]; length: number; uncompressed: number } | null {
    if (!this.useDictionary || this.dictionary.size === 0) return null;
    const plain = new Bytes();
    for (const v of this.dictionary.keys()) plain.lengthPrefixedUtf8(v);
    const body = plain.bytes();
    const compressed = snappyCompress(body);
    const header = new ByteWriter();
    writePageHeader(header, {
      type: 'DICTIONARY_PAGE',
      uncompressed_page_size: body.length,
      compressed_page_size: compressed.length,
      dictionary_page_header: { num_values: this.dictionary.size, encoding: 'PLAIN' },
    });
    const head = header.getBytes().slice();
    return {
      bytes: [head, compressed],
      length: head.length + compressed.length,
      uncompressed: head.length + body.length,
    };
  }

  resetChunk(): void {
    this.pages = [];
    this.pageBytes = 0;
    this.uncompressed = 0;
    this.chunkValues = 0;
    this.dictionary.clear();
  }
}

type Node =
  | { kind: 'leaf'; name: string; optional: boolean; leaf: Leaf }
  | { kind: 'list'; name: string; optional: boolean; repLevel: number; leaves: Leaf[]; children: Node[] };

export interface ParquetWriterOptions {
  /** Rows per row group (default 50,000). */
  rowGroupRows?: number;
  /** Compressed bytes after which a row group is closed early (default 64 MiB). */
  rowGroupBytes?: number;
  /** Uncompressed bytes after which a page is closed, at the next row (default 1 MiB). */
  pageBytes?: number;
  createdBy?: string;
  keyValueMetadata?: { key: string; value: string }[];
}

/** Writes rows of the given columns as one Parquet file through `sink` (called with each piece, in order). */
export class ParquetRowWriter {
  readonly schema: SchemaElement[] = [];
  private readonly nodes: Node[];
  private readonly leaves: Leaf[] = [];
  private offset = 0;
  private rowsInGroup = 0;
  private rows = 0;
  private readonly rowGroups: unknown[] = [];
  private readonly rowGroupRows: number;
  private readonly rowGroupBytes: number;
  private readonly pageBytes: number;

  constructor(
    fields: readonly HfField[],
    private readonly sink: (bytes: Uint8Array) => void,
    private readonly options: ParquetWriterOptions = {},
  ) {
    this.rowGroupRows = options.rowGroupRows ?? 50_000;
    this.rowGroupBytes = options.rowGroupBytes ?? 64 * 1024 * 1024;
    this.pageBytes = options.pageBytes ?? 1024 * 1024;
    this.schema.push({ name: 'schema', num_children: fields.length });
    this.nodes = fields.map((f) => this.build(f, [], 0, 0));
    this.write(new Uint8Array([0x50, 0x41, 0x52, 0x31])); // PAR1
  }

  private build(f: HfField, path: string[], def: number, rep: number): Node {
    const optional = !!f.optional;
    const d = def + (optional ? 1 : 0);
    const repetition: Repetition = optional ? 'OPTIONAL' : 'REQUIRED';
    if (f.type !== 'list') {
      const physical: Physical = f.type === 'string' ? 'BYTE_ARRAY' : f.type === 'int32' ? 'INT32' : 'DOUBLE';
      this.schema.push({
        name: f.name,
        type: physical,
        repetition_type: repetition,
        ...(f.type === 'string' ? { converted_type: 'UTF8' as const, logical_type: { type: 'STRING' as const } } : {}),
      });
      const leaf = new Leaf([...path, f.name], physical, d, rep, f.type === 'string' && !!f.dictionary);
      this.leaves.push(leaf);
      return { kind: 'leaf', name: f.name, optional, leaf };
    }
    // The three-level LIST of the Parquet format: <name> (LIST) { repeated group list { required group element } }.
    this.schema.push(
      {
        name: f.name,
        repetition_type: repetition,
        num_children: 1,
        converted_type: 'LIST',
        logical_type: { type: 'LIST' },
      },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', repetition_type: 'REQUIRED', num_children: f.fields.length },
    );
    const first = this.leaves.length;
    const children = f.fields.map((c) => this.build(c, [...path, f.name, 'list', 'element'], d + 1, rep + 1));
    return { kind: 'list', name: f.name, optional, repLevel: rep + 1, leaves: this.leaves.slice(first), children };
  }

  private write(bytes: Uint8Array): void {
    this.sink(bytes);
    this.offset += bytes.length;
  }

  /** Bytes written so far plus the compressed pages held for the current row group. */
  get size(): number {
    let held = 0;
    for (const l of this.leaves) held += l.pageBytes;
    return this.offset + held;
  }

  get rowCount(): number {
    return this.rows;
  }

  writeRow(row: Record<string, unknown>): void {
    for (const n of this.nodes) this.shred(n, row[n.name], 0, 0);
    this.rows++;
    for (const l of this.leaves) if (l.pendingBytes() >= this.pageBytes) l.closePage();
    if (++this.rowsInGroup >= this.rowGroupRows) this.flushRowGroup();
    else if (this.rowsInGroup % 1024 === 0) {
      let held = 0;
      for (const l of this.leaves) held += l.pageBytes;
      if (held >= this.rowGroupBytes) this.flushRowGroup();
    }
  }

  private shred(n: Node, value: unknown, def: number, rep: number): void {
    if (n.kind === 'leaf') {
      if (value === null || value === undefined) {
        if (!n.optional) throw new Error(`parquet column ${n.leaf.path.join('.')}: a value is required`);
        n.leaf.add(def, rep, null);
      } else n.leaf.add(n.optional ? def + 1 : def, rep, value);
      return;
    }
    if (value === null || value === undefined) {
      if (!n.optional) throw new Error(`parquet column ${n.name}: a list is required`);
      for (const l of n.leaves) l.add(def, rep, null);
      return;
    }
    const d = n.optional ? def + 1 : def;
    const items = value as Record<string, unknown>[];
    if (items.length === 0) {
      for (const l of n.leaves) l.add(d, rep, null);
      return;
    }
    for (let j = 0; j < items.length; j++) {
      const item = items[j]!;
      const r = j === 0 ? rep : n.repLevel;
      for (const c of n.children) this.shred(c, item[c.name], d + 1, r);
    }
  }

  private flushRowGroup(): void {
    if (this.rowsInGroup === 0) return;
    const start = this.offset;
    const columns: unknown[] = [];
    let totalUncompressed = 0n;
    for (const l of this.leaves) {
      l.closePage();
      const chunkStart = this.offset;
      let dictionaryOffset: bigint | undefined;
      let uncompressed = l.uncompressed;
      const dict = l.dictionaryPage();
      if (dict) {
        dictionaryOffset = BigInt(this.offset);
        for (const b of dict.bytes) this.write(b);
        uncompressed += dict.uncompressed;
      }
      const dataOffset = BigInt(this.offset);
      for (const b of l.pages) this.write(b);
      totalUncompressed += BigInt(uncompressed);
      columns.push({
        file_offset: BigInt(chunkStart),
        meta_data: {
          type: l.physical,
          encodings: l.useDictionary ? ['PLAIN', 'RLE', 'RLE_DICTIONARY'] : ['PLAIN', 'RLE'],
          path_in_schema: l.path,
          codec: 'SNAPPY',
          num_values: BigInt(l.chunkValues),
          total_uncompressed_size: BigInt(uncompressed),
          total_compressed_size: BigInt(this.offset - chunkStart),
          data_page_offset: dataOffset,
          ...(dictionaryOffset !== undefined ? { dictionary_page_offset: dictionaryOffset } : {}),
        },
      });
      l.resetChunk();
    }
    this.rowGroups.push({
      columns,
      total_byte_size: totalUncompressed,
      num_rows: BigInt(this.rowsInGroup),
      file_offset: BigInt(start),
      total_compressed_size: BigInt(this.offset - start),
    });
    this.rowsInGroup = 0;
  }

  /** Writes the last row group and the footer. */
  finish(): void {
    this.flushRowGroup();
    const footer = new ByteWriter();
    writeMetadata(footer, {
      version: 2,
      schema: this.schema,
      num_rows: BigInt(this.rows),
      row_groups: this.rowGroups,
      created_by: this.options.createdBy,
      key_value_metadata: this.options.keyValueMetadata,
    } as unknown as Parameters<typeof writeMetadata>[1]);
    footer.appendUint32(0x31524150); // PAR1
    this.write(footer.getBytes());
  }
}
