// File reading for importers: streamed lines (plain or gzip, detected by magic bytes) with strict
// UTF-8, and whole small text files. Every failure becomes an InputError naming the file and line.
import type { Hash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { InputError } from '../core/errors';

export interface Line {
  /** 1-based line number. */
  line: number;
  text: string;
}

async function isGzip(file: string): Promise<boolean> {
  const handle = await fs.open(file, 'r').catch((e: NodeJS.ErrnoException) => {
    throw new InputError(file, null, null, e.code === 'ENOENT' ? 'no such file' : `cannot read (${e.code ?? e.message})`);
  });
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

/**
 * Streams a text file line by line (gzip when the file starts with its magic bytes), in batches so
 * the caller can write each batch before more is read: memory stays flat whatever the file size.
 * `fileHash`, when given, is fed the file's bytes (compressed, for gzip) as they are read.
 * Empty lines are yielded too (callers decide); a final empty line after the last "\n" is not.
 */
export async function* readLineBatches(file: string, batchLines = 5000, fileHash?: Hash): AsyncGenerator<Line[]> {
  const gz = await isGzip(file);
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  const stream = gz ? raw.pipe(createGunzip()) : raw;
  if (gz) raw.on('error', (e) => stream.destroy(e));
  // The file's own bytes, hashed as they are read rather than in a pass of their own.
  if (gz && fileHash) raw.on('data', (c) => fileHash.update(c));
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let lineNo = 0;
  let rest = '';
  let batch: Line[] = [];
  let first = true;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (!gz) fileHash?.update(chunk);
      let text: string;
      try {
        text = decoder.decode(chunk, { stream: true });
      } catch {
        const inChunk = firstInvalidUtf8Line(chunk) ?? 1;
        throw new InputError(file, lineNo + countNewlines(rest) + inChunk, null, 'the file is not valid UTF-8 text');
      }
      if (first) {
        text = text.replace(/^\uFEFF/, '');
        first = false;
      }
      const parts = (rest + text).split('\n');
      rest = parts.pop()!;
      for (const p of parts) {
        batch.push({ line: ++lineNo, text: p.endsWith('\r') ? p.slice(0, -1) : p });
        if (batch.length >= batchLines) {
          yield batch;
          batch = [];
        }
      }
    }
    try {
      rest += decoder.decode();
    } catch {
      throw new InputError(file, lineNo + 1, null, 'the file is not valid UTF-8 text (it ends inside a character)');
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (gz && (err.code === 'Z_BUF_ERROR' || err.code === 'Z_DATA_ERROR' || /unexpected end of file/i.test(err.message))) {
      throw new InputError(file, lineNo + 1, null, 'truncated or corrupt gzip data');
    }
    throw new InputError(file, null, null, err.code === 'ENOENT' ? 'no such file' : `cannot read (${err.code ?? err.message})`);
  } finally {
    raw.destroy();
  }
  if (rest !== '') batch.push({ line: ++lineNo, text: rest.endsWith('\r') ? rest.slice(0, -1) : rest });
  if (batch.length > 0) yield batch;
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 10) n++;
  return n;
}

/** A whole (small) text file, strictly UTF-8, BOM removed; an empty file is an error. */
export async function readTextFile(file: string): Promise<string> {
  let buf: Buffer;
  try {
    buf = await fs.readFile(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new InputError(file, null, null, err.code === 'ENOENT' ? 'no such file' : `cannot read (${err.code ?? err.message})`);
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
  let line = 1;
  let start = 0;
  for (let i = 0; i <= buf.length; i++) {
    if (i === buf.length || buf[i] === 10) {
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(start, i));
      } catch {
        return line;
      }
      line++;
      start = i + 1;
    }
  }
  return null;
}
