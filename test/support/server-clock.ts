// The server's clock in tests. On PostgreSQL claims follow the server's clock, never the client's (migration 9's
// discretion_now_ms()); tests that step time by hand set the server's clock, never the client's. Kept apart
// from postgres.ts, which the e2e scripts bundle outside vitest.
import { afterAll } from 'vitest';

/**
 * The server's clock of one test database, set by the test. On PostgreSQL claims follow the server's clock,
 * never the client's (migration 9's discretion_now_ms()); tests that step time by hand replace that function,
 * as the superuser, with one that reads this table (the real clock while it is empty). The store under test
 * still reads the server's clock: only the server's clock is the test's.
 */
export async function serverTestClock(
  databaseUrl: string,
): Promise<{ set(ms: number | null): Promise<void>; close(): Promise<void> }> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  // one install at a time: sessions of one test open their connections at once (a concurrent CREATE OR
  // REPLACE of one function fails with "tuple concurrently updated"); a transaction's lock, so through a pooler
  // in transaction mode too (a session lock could be released on another server session, never its own)
  await client.query('BEGIN');
  try {
    await client.query(`SELECT pg_advisory_xact_lock(7401);
      CREATE TABLE IF NOT EXISTS discretion_test_clock (one BOOLEAN PRIMARY KEY DEFAULT true CHECK (one), ms BIGINT NOT NULL);
      CREATE OR REPLACE FUNCTION discretion_now_ms() RETURNS BIGINT LANGUAGE sql VOLATILE AS $$
        SELECT COALESCE((SELECT ms FROM discretion_test_clock), (extract(epoch FROM clock_timestamp()) * 1000)::bigint) $$`);
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
  return {
    async set(ms) {
      if (ms === null) await client.query('DELETE FROM discretion_test_clock');
      else
        await client.query(
          'INSERT INTO discretion_test_clock (ms) VALUES ($1) ON CONFLICT (one) DO UPDATE SET ms = excluded.ms',
          [ms],
        );
    },
    close: () => client.end(),
  };
}

/**
 * For a suite that runs on both adapters: `timed(store, location)` gives a PostgreSQL store a stepped server
 * clock (below); the clocks' connections close after the suite. Call inside the suite's describe.
 */
export function steppedServerClocks(isPostgres: boolean): <S extends object>(store: S, location: string) => Promise<S> {
  const clocks: { close(): Promise<void> }[] = [];
  afterAll(async () => {
    for (const c of clocks.splice(0)) await c.close().catch(() => undefined);
  });
  return async (store, location) => {
    if (!isPostgres) return store;
    const clock = await serverTestClock(location);
    clocks.push(clock);
    return steppedServerClock(store, clock);
  };
}

/** Store operations that take the client's time (SQLite's clock); on PostgreSQL the argument is ignored for the server's. */
const TIMED: Record<string, number> = {
  claimNextPair: 2,
  renewClaim: 2,
  liveClaims: 1,
  teamProgress: 1,
  claimFreedInMs: 2,
};

/**
 * A PostgreSQL store whose timed operations first set the server's test clock to the time the test passes
 * them, so one test body, written with hand-picked times, runs on both adapters.
 */
export function steppedServerClock<S extends object>(store: S, clock: { set(ms: number | null): Promise<void> }): S {
  const wrap = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(t, name, receiver) {
        const v = Reflect.get(t, name, receiver) as unknown;
        if (typeof v !== 'function') return v;
        if (typeof name === 'string' && name in TIMED) {
          return async (...args: unknown[]) => {
            await clock.set(args[TIMED[name]] as number);
            return (v as (...a: unknown[]) => unknown).apply(t, args);
          };
        }
        if (name === 'write') {
          return (fn: (tx: object) => unknown, ...rest: unknown[]) =>
            (v as (...a: unknown[]) => unknown).call(t, (tx: object) => fn(wrap(tx)), ...rest);
        }
        return v;
      },
    });
  return wrap(store);
}
