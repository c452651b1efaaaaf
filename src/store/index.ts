// Opening a store: the location decides the adapter. A `postgres://` or `postgresql://` URL is a shared
// PostgreSQL server (a team); anything else is a SQLite file (one annotator, nothing to set up).
// This file is the store's one door: outside src/store nothing else of it is imported (eslint.config.mjs),
// so the port's types, its errors and the few helpers other layers share are re-exported here.
import { isDatabaseUrl } from './location';
import { refuseWrites } from './common';
import type { Store } from './port';
import { openPostgresStore, type PostgresOptions } from './postgres/adapter';
import { openSqliteStore, type SqliteOptions } from './sqlite/adapter';

export { isDatabaseUrl, locationHasPassword, redactLocation } from './location';
export { initTeamDatabase, type TeamInitResult } from './postgres/adapter';
export { VISIBILITIES, type Visibility } from './postgres/team';
export * from './port';
// Shared with the layers above: the lock error they phrase, the timestamp and JSON column encodings they
// write through the port, and the content hash sync compares (node:crypto, so it cannot live in src/core).
export { json, now, sha256, StoreBusyError } from './common';

/** A SQLite file's options, and a server's direct URL (PostgresOptions: read only for a `postgres://` location). */
export type OpenOptions = SqliteOptions & Pick<PostgresOptions, 'directUrl'>;

export async function openStore(location: string, options: OpenOptions = {}): Promise<Store> {
  if (!isDatabaseUrl(location)) return openSqliteStore(location, options);
  // The PostgreSQL adapter opens one way; a read-only store refuses its writes here, as SQLite's does.
  const store = await openPostgresStore(location.trim(), options);
  return options.readOnly ? refuseWrites(store) : store;
}
