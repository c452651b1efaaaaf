// What every CLI command shares: opening the store, printing, and turning errors into one line.
import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, renameSync, rmSync } from 'node:fs';
import type { PlatformPath } from 'node:path';
import { pathRules } from '../app/platformPaths';
import { isUserFacingError, type RequestOption, UsageError, userMessage } from '../core/errors';
import { escapeControls, escapeControlsKeepingNewlines, terminalSafeJson } from '../core/terminalSafe';
import { UnstoredAnswersError } from '../judges/llmJudge';
import { isDatabaseUrl, locationHasPassword, openStore, redactLocation, type OpenOptions, type Store } from '../store';

export const DEFAULT_DB = 'discretion.db';

/**
 * Opens the store for one command. A database that does not exist yet is built under a private name
 * beside it and appears at `dbPath` only when the command succeeds (a hard link, which refuses to
 * replace a file): a failing command leaves nothing behind, and no command ever removes a database
 * file another process could have opened or written. When another process created `dbPath` in the
 * meantime, the command runs again on that database (its first run changed nothing there). Ctrl-C
 * (SIGINT) and SIGTERM remove the private files too (see removeOnSignal).
 */
export async function withStore<T>(dbPath: string, fn: (store: Store) => Promise<T>): Promise<T> {
  refusePassword(dbPath, '--db');
  // A server's database (PostgreSQL) is opened as it is: it exists before any command and is never removed.
  if (isDatabaseUrl(dbPath) || existsSync(dbPath)) return useStore(dbPath, fn);
  const fresh = privateDatabasePath(dbPath, process.pid, randomBytes(4).toString('hex'));
  const forget = removeOnSignal(fresh, dbPath);
  try {
    const result = await useStore(fresh, fn, { displayName: dbPath, movedAfterClose: true });
    if (publishNewDatabase(fresh, dbPath)) return result;
    return await useStore(dbPath, fn);
  } finally {
    removePrivateDatabase(fresh);
    forget();
  }
}

/**
 * The private name a new database is built under, beside it: `.NAME.new-PID-RANDOM`, NAME spelled as given (on
 * Windows a path with either separator, a drive or a share). Only this process makes, links and removes it, by
 * this exact path: nothing looks such files up by name.
 */
export function privateDatabasePath(
  dbPath: string,
  pid: number,
  tag: string,
  path: PlatformPath = pathRules().path,
): string {
  return path.join(path.dirname(dbPath), `.${path.basename(dbPath)}.new-${pid}-${tag}`);
}

function removePrivateDatabase(fresh: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) {
    try {
      rmSync(fresh + suffix, { force: true });
    } catch (e) {
      // Windows refuses to remove a file that is still open, and libsql closes a connection only once its
      // statements are collected: the private name is then left beside the database (it holds nothing the
      // database lacks: it was left WAL mode at close), never the database itself.
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EBUSY' && code !== 'EPERM' && code !== 'EACCES') throw e;
    }
  }
}

/** The private new databases being built now, with the database each would become. */
const building = new Map<string, string>();
const SIGNAL_EXIT_CODES: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

function onSignal(signal: NodeJS.Signals): void {
  const targets = [...building.values()];
  for (const fresh of building.keys()) removePrivateDatabase(fresh);
  process.stderr.write(`discretion: interrupted (${signal}); ${escapeControls(targets.join(', '))} was not created\n`);
  // Nothing else is undone: the only files this process had opened are the private ones just removed (a
  // database that existed before is opened in place and, killed mid-write, rolls back on its next open).
  process.exit(SIGNAL_EXIT_CODES[signal]);
}

/**
 * While a new database is built under a private name, SIGINT and SIGTERM remove it (and its -wal, -shm,
 * -journal files) and end the process with the conventional code (130, 143), as a failure would have left
 * nothing. Only while one is built: otherwise a signal does what it always does (a judge run's Ctrl-C
 * cancels it and keeps what is stored). Returns the undo.
 */
function removeOnSignal(fresh: string, target: string): () => void {
  if (building.size === 0) for (const signal of Object.keys(SIGNAL_EXIT_CODES)) process.on(signal, onSignal);
  building.set(fresh, target);
  return () => {
    building.delete(fresh);
    if (building.size === 0)
      for (const signal of Object.keys(SIGNAL_EXIT_CODES)) process.removeListener(signal, onSignal);
  };
}

/**
 * Opens a database that must exist already, read-only, for a command that only reads it (`info`, `runs`,
 * sync's source): a missing SQLite file is one clear line, never an empty database created for the occasion
 * (a mistyped path would otherwise print "no datasets" and leave a new file behind), and the file is not
 * changed (a read-only file or medium can be read).
 */
export async function withExistingStore<T>(
  dbPath: string,
  option: string,
  fn: (store: Store) => Promise<T>,
): Promise<T> {
  refusePassword(dbPath, option);
  if (!isDatabaseUrl(dbPath) && !existsSync(dbPath))
    throw new UsageError(`no database at ${dbPath} (${option}); nothing was written`);
  return useStore(dbPath, fn, { readOnly: true });
}

/**
 * A password in a database URL given on the command line shows in `ps` and stays in the shell's history:
 * refused before connecting (as the extension refuses one in its setting), without echoing it.
 */
export function refusePassword(location: string, option: string): void {
  if (locationHasPassword(location)) {
    throw new UsageError(
      `${option} must not hold a password (${redactLocation(location)}): remove it from the URL and set PGPASSWORD, or put it in ~/.pgpass or the file PGPASSFILE names; nothing was written`,
    );
  }
}

async function useStore<T>(path: string, fn: (store: Store) => Promise<T>, options: OpenOptions = {}): Promise<T> {
  const store = await openStore(path, options);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** What publishNewDatabase asks of the file system (node's by default; a test answers as another platform's would). */
export interface PublishFs {
  link(existing: string, link: string): void;
  rename(from: string, to: string): void;
  exists(path: string): boolean;
}

const NODE_FS: PublishFs = { link: linkSync, rename: renameSync, exists: existsSync };

/**
 * A hard link the file system cannot make (FAT32, exFAT, some network shares): EPERM, ENOTSUP or ENOSYS, and on
 * Windows EISDIR, which is how Node reports ERROR_INVALID_FUNCTION, FAT's answer to CreateHardLink.
 */
function noHardLinks(code: string | undefined, platform: NodeJS.Platform): boolean {
  return code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS' || (platform === 'win32' && code === 'EISDIR');
}

/**
 * Puts a closed new database at `target` unless a file is there already; false when one is (the command then runs
 * again on that one). A hard link refuses an existing file (EEXIST) on every platform, a different letter case of
 * its name included where the file system ignores case (Windows, macOS).
 */
export function publishNewDatabase(
  fresh: string,
  target: string,
  fs: PublishFs = NODE_FS,
  platform: NodeJS.Platform = process.platform,
): boolean {
  try {
    fs.link(fresh, target);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (!noHardLinks(code, platform)) throw e;
  }
  // No hard links: a rename does not refuse an existing file (rename(2); on Windows, Node renames with MoveFileExW
  // and MOVEFILE_REPLACE_EXISTING, which replaces it too), so check first: a window of microseconds instead of the
  // whole command. Windows differs in one way: it refuses to replace a file another process holds open (SQLite
  // opens its files without FILE_SHARE_DELETE), and Node reports EPERM, EACCES or EBUSY. Either way a database
  // another process created meanwhile is kept, and this command runs again on it.
  if (fs.exists(target)) return false;
  try {
    fs.rename(fresh, target);
    return true;
  } catch (e) {
    if (fs.exists(target)) return false;
    throw e;
  }
}

// Everything the CLI prints goes through the helpers below (a test checks that src/cli calls nothing
// else): text derived from data is escaped there (src/core/terminalSafe.ts), so new output is safe by default.

/**
 * The flag (or command) that sets each option an error may be about: the layers below name none, the CLI
 * adds it to the message (userMessage). The extension's names are in src/extension/errors.ts. The CLI takes no
 * direct URL (`directUrl`): it serves only the LISTEN of live changes, and no command follows those.
 */
export const CLI_FLAGS: Record<Exclude<RequestOption, 'directUrl'>, string> = {
  dataset: '--dataset',
  annotator: '--annotator',
  name: '--name',
  principles: '--principles',
  principleSource: '--principle-source',
  reference: '--reference',
  psAnnotator: '--ps-annotator',
  run: '--run',
  metricsRun: 'discretion metrics --run',
  fieldMapping: '--prompt, --response-0, --response-1',
  ignoreUnknownRows: '--ignore-unknown-rows',
  maxLineBytes: '--max-line-size',
  maxDecompressedBytes: '--max-decompressed-size',
  maxCompressionRatio: '--max-compression-ratio',
  maxJsonDepth: '--max-json-depth',
  out: '--out',
  holdout: '--holdout',
  seed: '--seed',
  provider: '--provider',
  baseUrl: '--base-url',
  concurrency: '--concurrency',
  label: '--label',
  method: '--method',
  lambda: '--lambda',
  members: '--members',
  group: '--group, --clear',
  trainingSource: '--from',
  ties: '--ties',
  split: '--split',
  config: '--config',
  engine: '--engine',
  engineUrl: '--url',
  model: '--model',
  tokenizer: '--tokenizer',
  batchSize: '--batch-size',
};

/** A person's error as the CLI words it: the message, the flag it is about, and for saved judge answers the command that imports them. */
export function cliMessage(e: unknown): string {
  const message = userMessage(e, CLI_FLAGS);
  if (!(e instanceof UnstoredAnswersError)) return message;
  const u = e.unstored;
  return `${message}: discretion import ${u.format} ${u.file} --dataset ${u.dataset} --annotator ${u.annotator}${u.principles ? ` --principles ${u.principles}` : ''}`;
}

/** One line on stderr and exit code 1 for the user's errors; internal errors add a hint, never a stack trace (unless DISCRETION_DEBUG=1). */
export function reportError(e: unknown): number {
  if (process.env.DISCRETION_DEBUG)
    process.stderr.write(escapeControlsKeepingNewlines((e as Error)?.stack ?? String(e)) + '\n');
  if (isUserFacingError(e)) {
    process.stderr.write(`discretion: ${escapeControls(cliMessage(e))}\n`);
    return 1;
  }
  process.stderr.write(`discretion: ${userMessage(e)} (set DISCRETION_DEBUG=1 for details)\n`);
  return 2;
}

/** JSON on stdout: valid JSON with the same values, control and bidi characters as \uXXXX escapes. */
export function printJson(value: unknown): void {
  process.stdout.write(terminalSafeJson(value, 2) + '\n');
}

/** One line on stdout: every control character in it (newlines too) escaped. */
export function say(line: string): void {
  process.stdout.write(escapeControls(line) + '\n');
}

/** Several lines we composed (tables, the metrics summary) on stdout: newlines kept, every other control character escaped. */
export function sayLines(text: string): void {
  process.stdout.write(escapeControlsKeepingNewlines(text) + '\n');
}

/** One line on stderr (progress notes, warnings), escaped as by say. */
export function note(line: string): void {
  process.stderr.write(escapeControls(line) + '\n');
}

/** A plain text table: columns padded, numbers right-aligned; each cell one line with its control characters escaped. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows].map((r) => r.map(escapeControls));
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const numeric = header.map(
    (_, i) =>
      rows.length > 0 && rows.every((r) => typeof r[i] === 'number' || /^-?[\d.]+%?$|^[-–]$/.test(String(r[i]))),
  );
  const line = (r: string[]) =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.slice(1).map(line)].join('\n');
}
