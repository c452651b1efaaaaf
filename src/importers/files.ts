// File reading for importers: streamed lines or text (plain or gzip, detected by magic bytes) with
// strict UTF-8, and whole small text files. Every failure becomes an InputError naming the file and
// line; every read is bounded (ReadLimits): a line too long, a .gz that inflates too far or too fast,
// ends in one error naming the limit and the option that lifts it, without reading on.
import type { Hash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { InputError, UsageError } from '../core/errors';
import { formatBytes, type ImportProgress, type ReadLimits, resolveLimits, throwIfCancelled } from './common';

export interface Line {
  /** 1-based line number. */
  line: number;
  text: string;
}

export interface StreamOptions {
  limits?: Partial<ReadLimits>;
  /** Fed the file's bytes (compressed, for gzip) as they are read. */
  fileHash?: Hash;
  onProgress?: (p: ImportProgress) => void;
  signal?: AbortSignal;
}

/** The ratio limit applies once this much has been inflated: a small file may compress very well. */
const RATIO_FLOOR = 1 << 20;

export function cannotRead(file: string, e: NodeJS.ErrnoException): InputError {
  return new InputError(
    file,
    null,
    null,
    e.code === 'ENOENT'
      ? 'no such file'
      : e.code === 'EISDIR'
        ? 'is a folder, not a file'
        : `cannot read (${e.code ?? e.message})`,
  );
}

export function limitError(
  file: string,
  line: number | null,
  what: string,
  limit: keyof ReadLimits,
  value: string,
): InputError {
  return new InputError(file, line, null, `${what} exceeds the limit of ${value}, which can be raised`, limit);
}

async function openInfo(file: string): Promise<{ gz: boolean; size: number }> {
  const handle = await fs.open(file, 'r').catch((e: NodeJS.ErrnoException) => {
    throw cannotRead(file, e);
  });
  try {
    const stat = await handle.stat();
    if (stat.isDirectory()) throw new InputError(file, null, null, 'is a folder, not a file');
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return { gz: bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b, size: stat.size };
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw cannotRead(file, e as NodeJS.ErrnoException);
  } finally {
    await handle.close();
  }
}

/**
 * The file's bytes (inflated, for gzip) in chunks, with the gzip limits enforced as they are inflated.
 * `lineNow` names the line being read, for the errors.
 */
async function* fileBytes(
  file: string,
  opts: StreamOptions,
  limits: ReadLimits,
  lineNow: () => number,
  records: () => number,
): AsyncGenerator<Buffer> {
  const { gz, size } = await openInfo(file);
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  const gunzip = gz ? createGunzip({ chunkSize: 1 << 16 }) : undefined;
  let diskBytes = 0;
  if (gunzip) {
    raw.on('error', (e) => gunzip.destroy(e));
    raw.on('data', (c: string | Buffer) => {
      diskBytes += c.length;
      opts.fileHash?.update(c as Buffer);
    });
    raw.pipe(gunzip);
  }
  let inflated = 0;
  let reported = -1;
  try {
    for await (const chunk of (gunzip ?? raw) as AsyncIterable<Buffer>) {
      throwIfCancelled(opts.signal, file);
      if (gunzip) {
        inflated += chunk.length;
        if (inflated > limits.maxDecompressedBytes)
          throw limitError(
            file,
            lineNow(),
            'the decompressed data',
            'maxDecompressedBytes',
            formatBytes(limits.maxDecompressedBytes),
          );
        // bytesWritten: compressed bytes the inflater has consumed so far (not what the file stream read ahead).
        if (inflated > RATIO_FLOOR && inflated > gunzip.bytesWritten * limits.maxCompressionRatio) {
          throw limitError(
            file,
            lineNow(),
            `the compression ratio (over ${Math.floor(inflated / Math.max(1, gunzip.bytesWritten))}:1)`,
            'maxCompressionRatio',
            `${limits.maxCompressionRatio}:1`,
          );
        }
      } else {
        diskBytes += chunk.length;
        opts.fileHash?.update(chunk);
      }
      if (opts.onProgress && diskBytes !== reported) {
        reported = diskBytes;
        opts.onProgress({ bytesRead: diskBytes, totalBytes: size, records: records() });
      }
      yield chunk;
    }
  } catch (e) {
    if (e instanceof InputError || e instanceof UsageError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (
      gz &&
      (err.code === 'Z_BUF_ERROR' || err.code === 'Z_DATA_ERROR' || /unexpected end of file/i.test(err.message))
    ) {
      throw new InputError(file, lineNow(), null, 'truncated or corrupt gzip data');
    }
    throw cannotRead(file, err);
  } finally {
    raw.destroy();
    gunzip?.destroy();
  }
}

function tooLong(file: string, line: number, limits: ReadLimits): InputError {
  return limitError(file, line, 'the line', 'maxLineBytes', formatBytes(limits.maxLineBytes));
}

/**
 * Streams a text file line by line (gzip when the file starts with its magic bytes), in batches so
 * the caller can write each batch before more is read: memory stays flat whatever the file size, and
 * a long line costs a small multiple of its length (its bytes, once joined, and its text).
 * Empty lines are yielded too (callers decide); a final empty line after the last "\n" is not.
 */
export async function* readLineBatches(
  file: string,
  opts: StreamOptions & { batchLines?: number } = {},
): AsyncGenerator<Line[]> {
  const limits = resolveLimits(opts.limits);
  const batchLines = opts.batchLines ?? 5000;
  const max = limits.maxLineBytes;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let lineNo = 0;
  // The unfinished last line, as the chunks that hold it: joined once, when its newline arrives.
  let pending: Buffer[] = [];
  let pendingLen = 0;
  let batch: Line[] = [];
  let first = true;
  const decode = (block: Buffer): string => {
    try {
      const text = decoder.decode(block);
      if (!first) return text;
      first = false;
      return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    } catch {
      throw new InputError(file, lineNo + (firstInvalidUtf8Line(block) ?? 1), null, 'the file is not valid UTF-8 text');
    }
  };
  for await (const chunk of fileBytes(
    file,
    opts,
    limits,
    () => lineNo + 1,
    () => lineNo,
  )) {
    const last = chunk.lastIndexOf(10);
    if (last === -1) {
      pending.push(chunk);
      pendingLen += chunk.length;
      if (pendingLen > max) throw tooLong(file, lineNo + 1, limits);
      continue;
    }
    if (pendingLen + chunk.indexOf(10) > max) throw tooLong(file, lineNo + 1, limits);
    const head = chunk.subarray(0, last);
    const text = decode(pendingLen > 0 ? Buffer.concat([...pending, head]) : head);
    pending = last + 1 < chunk.length ? [chunk.subarray(last + 1)] : [];
    pendingLen = chunk.length - last - 1;
    for (const p of text.split('\n')) {
      // UTF-16 length <= UTF-8 bytes <= 3 x UTF-16 length: the byte count is needed only in between.
      if (p.length * 3 > max && Buffer.byteLength(p) > max) throw tooLong(file, lineNo + 1, limits);
      batch.push({ line: ++lineNo, text: p.endsWith('\r') ? p.slice(0, -1) : p });
      if (batch.length >= batchLines) {
        yield batch;
        batch = [];
      }
    }
  }
  if (pendingLen > 0) {
    const rest = decode(Buffer.concat(pending));
    if (rest !== '') batch.push({ line: ++lineNo, text: rest.endsWith('\r') ? rest.slice(0, -1) : rest });
  }
  if (batch.length > 0) yield batch;
}

/**
 * Streams a text file as decoded text chunks (for parsers that find their own record ends, as CSV's
 * quoted newlines need), with the same gzip limits and strict UTF-8 as readLineBatches.
 * `records` reports how many records the consumer has read, for progress.
 */
export async function* readTextChunks(
  file: string,
  opts: StreamOptions & { records?: () => number } = {},
): AsyncGenerator<string> {
  const limits = resolveLimits(opts.limits);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let newlines = 0;
  let first = true;
  for await (const chunk of fileBytes(file, opts, limits, () => newlines + 1, opts.records ?? (() => newlines))) {
    let text: string;
    try {
      text = decoder.decode(chunk, { stream: true });
    } catch {
      throw new InputError(
        file,
        newlines + (firstInvalidUtf8Line(chunk) ?? 1),
        null,
        'the file is not valid UTF-8 text',
      );
    }
    if (first && text.length > 0) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) newlines++;
    if (text.length > 0) yield text;
  }
  try {
    const tail = decoder.decode();
    if (tail) yield tail;
  } catch {
    throw new InputError(file, newlines + 1, null, 'the file is not valid UTF-8 text (it ends inside a character)');
  }
}

/** A whole (small) text file, strictly UTF-8, BOM removed; an empty file is an error. */
export async function readTextFile(file: string, limitsIn?: Partial<ReadLimits>): Promise<string> {
  const limits = resolveLimits(limitsIn);
  const { size } = await openInfo(file);
  if (size > limits.maxLineBytes)
    throw limitError(file, null, `the file (${formatBytes(size)})`, 'maxLineBytes', formatBytes(limits.maxLineBytes));
  let buf: Buffer;
  try {
    buf = await fs.readFile(file);
  } catch (e) {
    throw cannotRead(file, e as NodeJS.ErrnoException);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    const bad = firstInvalidUtf8Line(buf);
    throw new InputError(file, bad, null, 'the file is not valid UTF-8 text');
  }
  text = text.replace(/^\uFEFF/, '');
  if (text.trim() === '') throw new InputError(file, null, null, 'the file is empty');
  return text;
}

function firstInvalidUtf8Line(buf: Buffer): number | null {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let line = 1;
  let start = 0;
  for (let i = 0; i <= buf.length; i++) {
    if (i === buf.length || buf[i] === 10) {
      try {
        decoder.decode(buf.subarray(start, i));
      } catch {
        return line;
      }
      line++;
      start = i + 1;
    }
  }
  return null;
}
