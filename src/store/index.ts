// Opening a store: the location decides the adapter. A `postgres://` or `postgresql://` URL is a shared
// PostgreSQL server (a team); anything else is a SQLite file (one annotator, nothing to set up).
// Everything else depends on the port's types (./port) only.
import type { Store } from './port';
import { isPostgresLocation, openPostgresStore } from './postgres/adapter';

export { initTeamDatabase, type TeamInitResult } from './postgres/adapter';
export { VISIBILITIES, type Visibility } from './postgres/team';
export { PairFullError } from './port';
import { openSqliteStore, type SqliteOptions } from './sqlite/adapter';

export type OpenOptions = SqliteOptions;

export function openStore(location: string, options: OpenOptions = {}): Promise<Store> {
  return isPostgresLocation(location) ? openPostgresStore(location, options) : openSqliteStore(location, options);
}
