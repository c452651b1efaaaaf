// Where exports, reports and trained models are written: folders created level by level (never with a
// recursive mkdir, which spins forever where the kernel answers ENOENT for a folder whose parent exists,
// as in /proc), files written beside their target and renamed into place, and every refusal one line
// naming the path and the reason.
import { closeSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../core/errors';

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many symbolic links',
  EISDIR: 'it is a folder',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EEXIST: 'it already exists',
  EBUSY: 'another program is using it',
};

/** A filesystem error's reason in words (the code kept for what is not listed). */
export function fsReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  return (code && REASONS[code]) ?? code ?? String((e as Error)?.message ?? e);
}

/**
 * Why a finished file could not be renamed over its target. On Windows a file another program holds open (an
 * export open in Excel) cannot be replaced, where rename(2) would replace it, and Node reports EPERM, EACCES or
 * EBUSY: the reason names that too.
 */
export function replaceReason(e: unknown, platform: NodeJS.Platform = process.platform): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (platform === 'win32' && (code === 'EPERM' || code === 'EACCES' || code === 'EBUSY'))
    return 'permission denied, or another program has it open (close it there and run again)';
  return fsReason(e);
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw e;
  }
}

/** The missing levels of `dir`, outermost first; refuses a path through a file (`what` and `shown` name it). */
function missingLevels(dir: string, what: string, shown: string): string[] {
  const target = resolve(dir);
  const missing: string[] = [];
  for (let at = target; ;) {
    let st: Stats | null;
    try {
      st = statOrNull(at);
    } catch (e) {
      throw new UsageError(`cannot write ${what} ${shown}: ${at}: ${fsReason(e)}`);
    }
    if (st) {
      if (!st.isDirectory())
        throw new UsageError(`cannot write ${what} ${shown}: ${at === target ? 'it' : at} is a file, not a folder`);
      break;
    }
    missing.push(at);
    const up = dirname(at);
    if (up === at) break;
    at = up;
  }
  return missing.reverse();
}

/** Refuses, before any work and without creating anything, a folder path that runs through a file. */
export function checkFolderTarget(dir: string, what: string, shown = dir): void {
  missingLevels(dir, what, shown);
}

/**
 * Makes sure `dir` is a folder, creating it and its missing parents one level at a time.
 * `what` and `shown` (default `dir`) name it in the one-line refusal, e.g. "the report folder out/".
 */
export function ensureFolder(dir: string, what: string, shown = dir): void {
  for (const level of missingLevels(dir, what, shown)) {
    try {
      mkdirSync(level);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && statOrNull(level)?.isDirectory()) continue; // made meanwhile by another process
      // ENOENT although the parent exists: this file system does not let folders be made here (/proc, /sys).
      const reason = code === 'ENOENT' ? `folders cannot be created in ${dirname(level)}` : fsReason(e);
      throw new UsageError(`cannot write ${what} ${shown}: ${reason}`);
    }
  }
}

/**
 * A file written beside its target and renamed into place once complete, so that a failed or interrupted
 * write never leaves a half-written file under the target's name nor destroys what was there. `open` refuses
 * a target that cannot be written (missing folder, a folder, no permission) with one line, before any work.
 */
export class AtomicFile {
  readonly partial: string;
  private constructor(
    readonly target: string,
    readonly what: string,
    readonly fd: number,
  ) {
    this.partial = AtomicFile.partialPath(target);
  }

  private static partialPath(target: string): string {
    return join(dirname(target), `.${basename(target)}.partial-${process.pid}`);
  }

  static open(target: string, what: string): AtomicFile {
    const folder = dirname(resolve(target));
    const fst = statOrNull(folder);
    if (!fst) throw new UsageError(`cannot write ${what} ${target}: the folder ${folder} does not exist`);
    if (!fst.isDirectory()) throw new UsageError(`cannot write ${what} ${target}: ${folder} is a file, not a folder`);
    if (statOrNull(target)?.isDirectory()) throw new UsageError(`cannot write ${what} ${target}: it is a folder`);
    let fd: number;
    try {
      fd = openSync(AtomicFile.partialPath(target), 'w', 0o644);
    } catch (e) {
      throw new UsageError(`cannot write ${what} ${target}: ${fsReason(e)}`);
    }
    return new AtomicFile(target, what, fd);
  }

  /** Appends text (UTF-8) or bytes; a failure is one line naming the target and the reason. */
  write(data: string | Uint8Array): void {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    try {
      for (let at = 0; at < bytes.length;) at += writeSync(this.fd, bytes, at);
    } catch (e) {
      throw new UsageError(`cannot write ${this.what} ${this.target}: ${fsReason(e)}`);
    }
  }

  /** Closes the descriptor and renames the finished file into place. */
  close(): void {
    try {
      closeSync(this.fd);
    } catch (e) {
      this.discard();
      throw new UsageError(`cannot write ${this.what} ${this.target}: ${fsReason(e)}`);
    }
    this.commit();
  }

  /** Renames the finished file into place (the descriptor must be closed by then). */
  commit(): void {
    try {
      renameSync(this.partial, this.target);
    } catch (e) {
      this.discard();
      throw new UsageError(`cannot write ${this.what} ${this.target}: ${replaceReason(e)}`);
    }
  }

  /** Removes the partial file (after a failure). */
  discard(): void {
    try {
      closeSync(this.fd);
    } catch {
      /* already closed */
    }
    rmSync(this.partial, { force: true });
  }
}
