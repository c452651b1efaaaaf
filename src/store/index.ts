// Opening a store: the location decides the adapter. A `postgres://` or `postgresql://` URL is a shared
// PostgreSQL server (a team); anything else is a SQLite file (one annotator, nothing to set up).
// Everything else depends on the port's types (./port) only.
import { isDatabaseUrl } from './location';
import { refuseWrites } from './common';
import type { Store } from './port';
import { openPostgresStore } from './postgres/adapter';
import { openSqliteStore, type SqliteOptions } from './sqlite/adapter';

export { isDatabaseUrl, locationHasPassword, redactLocation } from './location';
export { initTeamDatabase, type TeamInitResult } from './postgres/adapter';
export { VISIBILITIES, type Visibility } from './postgres/team';
export { PairFullError } from './port';

export type OpenOptions = SqliteOptions;

export async function openStore(location: string, options: OpenOptions = {}): Promise<Store> {
  if (!isDatabaseUrl(location)) return openSqliteStore(location, options);
  // The PostgreSQL adapter opens one way; a read-only store refuses its writes here, as SQLite's does.
  const store = await openPostgresStore(location.trim(), options);
  return options.readOnly ? refuseWrites(store) : store;
}
