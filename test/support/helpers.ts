// Shared test helpers: temp folders, real SQLite files, a dump of every table, the shared data.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect } from 'vitest';
import { InputError, type RequestOption } from '../../src/core/errors';
import type { Store } from '../../src/store';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/adapter';
import { SHARED_DATA } from './shared-hh';

export { SHARED_DATA };

export const ROOT = resolve(__dirname, '..', '..');
export const HAS_SHARED_DATA = existsSync(SHARED_DATA);
export const HH_FILE = join(SHARED_DATA, 'hh-rlhf', 'harmless-base-test.jsonl.gz');
export const AD = join(SHARED_DATA, 'alignment-discretion');
export const BAD = join(ROOT, 'test', 'fixtures', 'bad');

/**
 * A test whose prerequisite (a shared file, a browser) is absent is skipped with the reason printed, on a
 * developer's machine; under CI=true it fails the run instead (the README's figures rest on these tests).
 */
export function missingPrerequisite(present: boolean, what: string): string | undefined {
  if (present) return undefined;
  if (process.env.CI === 'true') throw new Error(`CI=true and ${what}: a missing test prerequisite fails the run under CI`);
  const why = `skipped: ${what}`;
  console.warn(why);
  return why;
}

/** Tests that read ../shared/data skip only when it is absent, and say so (and fail under CI=true). */
export function sharedDataSkipReason(): string | undefined {
  return missingPrerequisite(HAS_SHARED_DATA, `${SHARED_DATA} is absent (the shared data folder is read, never copied into the repo)`);
}

const dirs: string[] = [];
export function tempDir(prefix = 'discretion-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

export async function openTempStore(): Promise<{ store: SqliteStore; path: string }> {
  const path = join(tempDir(), 'test.db');
  return { store: await openSqliteStore(path), path };
}

/** Every row of every table, for "the database is exactly as it was" assertions (through the port: any adapter). */
export function dumpDatabase(store: Store): Promise<Record<string, string[]>> {
  return store.dumpTables();
}

/**
 * An import that must fail on bad input: one InputError naming the file and line (and the field, when
 * given), a one-line message, and the database exactly as it was.
 */
export async function expectRejected(store: Store, run: () => Promise<unknown>, expected: { file: string; line: number | null; field?: string | null; message: RegExp; option?: RequestOption }): Promise<InputError> {
  const before = await dumpDatabase(store);
  const err = await run().then(() => undefined, (e: unknown) => e);
  expect(err, 'the import should have failed').toBeInstanceOf(InputError);
  const e = err as InputError;
  expect(e.file).toBe(expected.file);
  expect(e.line).toEqual(expected.line);
  if (expected.field !== undefined) expect(e.field).toBe(expected.field);
  if (expected.option !== undefined) expect(e.option).toBe(expected.option);
  expect(e.message).toMatch(expected.message);
  expect(e.message.split('\n')).toHaveLength(1);
  expect(await dumpDatabase(store)).toEqual(before);
  return e;
}
