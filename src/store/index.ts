// Opening a store: the location decides the adapter. A `postgres://` or `postgresql://` URL is a shared
// PostgreSQL server (a team); anything else is a SQLite file (one annotator, nothing to set up).
// Everything else depends on the port's types (./port) only.
import { refuseWrites } from './common';
import type { Store } from './port';
import { isPostgresLocation, openPostgresStore } from './postgres/adapter';
import { openSqliteStore, type SqliteOptions } from './sqlite/adapter';

export type OpenOptions = SqliteOptions;

export async function openStore(location: string, options: OpenOptions = {}): Promise<Store> {
  if (!isPostgresLocation(location)) return openSqliteStore(location, options);
  // The PostgreSQL adapter opens one way; a read-only store refuses its writes here, as SQLite's does.
  const store = await openPostgresStore(location, options);
  return options.readOnly ? refuseWrites(store) : store;
}
