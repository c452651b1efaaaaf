// Opening a store: the location decides the adapter (a file path is SQLite; PostgreSQL URLs come next).
// Everything else depends on the port's types (./port) only.
import type { Store } from './port';
import { openSqliteStore, type SqliteOptions } from './sqlite/adapter';

export type OpenOptions = SqliteOptions;

export function openStore(location: string, options: OpenOptions = {}): Promise<Store> {
  return openSqliteStore(location, options);
}
