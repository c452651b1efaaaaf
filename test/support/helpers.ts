// Shared test helpers: temp folders, real SQLite files, a dump of every table, the shared data.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll } from 'vitest';
import { Store } from '../../src/store/store';

export const ROOT = resolve(__dirname, '..', '..');
export const SHARED_DATA = resolve(ROOT, '..', 'shared', 'data');
export const HAS_SHARED_DATA = existsSync(SHARED_DATA);
export const HH_FILE = join(SHARED_DATA, 'hh-rlhf', 'harmless-base-test.jsonl.gz');
export const AD = join(SHARED_DATA, 'alignment-discretion');
export const BAD = join(ROOT, 'test', 'fixtures', 'bad');

/** Tests that read ../shared/data skip only when it is absent, and say so. */
export function sharedDataSkipReason(): string | undefined {
  if (HAS_SHARED_DATA) return undefined;
  const why = `skipped: ${SHARED_DATA} is absent (the shared data folder is read, never copied into the repo)`;
  console.warn(why);
  return why;
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

export async function openTempStore(): Promise<{ store: Store; path: string }> {
  const path = join(tempDir(), 'test.db');
  return { store: await Store.open(path), path };
}

/** Every row of every table, for "the database is exactly as it was" assertions. */
export async function dumpDatabase(store: Store): Promise<Record<string, unknown[]>> {
  const tables = await store.db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name");
  const out: Record<string, unknown[]> = {};
  // Sorted in JS: some tables have no rowid (WITHOUT ROWID), and row order is not what is compared.
  for (const { name } of tables) out[name] = (await store.db.all(`SELECT * FROM ${name}`)).map((r) => JSON.stringify(r)).sort();
  return out;
}
