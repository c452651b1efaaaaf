// What every CLI command shares: opening the store, printing, and turning errors into one line.
import { existsSync, rmSync } from 'node:fs';
import { isUserFacingError } from '../core/errors';
import { openStore } from '../store';
import type { Store } from '../store/port';

export const DEFAULT_DB = 'discretion.db';

/** Opens the store for one command; a database file that this failing command created is removed again. */
export async function withStore<T>(dbPath: string, fn: (store: Store) => Promise<T>): Promise<T> {
  const existed = existsSync(dbPath);
  const store = await openStore(dbPath);
  let ok = false;
  try {
    const result = await fn(store);
    ok = true;
    return result;
  } finally {
    await store.close();
    if (!ok && !existed) for (const suffix of ['', '-wal', '-shm']) rmSync(dbPath + suffix, { force: true });
  }
}

/** One line on stderr and exit code 1 for the user's errors; internal errors add a hint, never a stack trace (unless DISCRETION_DEBUG=1). */
export function reportError(e: unknown): number {
  if (process.env.DISCRETION_DEBUG) console.error(e);
  if (isUserFacingError(e)) {
    process.stderr.write(`discretion: ${e.message}\n`);
    return 1;
  }
  const message = e instanceof Error ? e.message : String(e);
  process.stderr.write(`discretion: unexpected error: ${message.split('\n')[0]} (set DISCRETION_DEBUG=1 for details)\n`);
  return 2;
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** A plain text table: columns padded, numbers right-aligned. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number' || /^-?[\d.]+%?$|^[-–]$/.test(String(r[i]))));
  const line = (r: string[]) => r.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.slice(1).map(line)].join('\n');
}
