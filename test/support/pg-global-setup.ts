// vitest globalSetup: one real PostgreSQL server for the whole run (about 1.5 s), its URL handed to the tests
// with `inject('postgres')`. Without the server binaries (and no root to apt-get them) the PostgreSQL tests
// skip and say why; under CI=true that fails the run instead (the README's team figures rest on them).
//
// The `pgbouncer` project (vitest.config.mts) runs the team suites and the HH reproduction again through PgBouncer
// in transaction mode (./pgbouncer.ts) in front of its own server: there `url` is the pooler's, so every connection
// the tests and the code under test make goes through it, and `directUrl` is the server's own, for what a test
// must do on one session of its own (a lock held across statements, pg_dump).
import type { TestProject } from 'vitest/node';
import { startPgBouncer, type TestPgBouncer } from './pgbouncer';
import { startPostgres, type TestPostgres } from './postgres';

declare module 'vitest' {
  export interface ProvidedContext {
    postgres:
      | {
          /** The superuser's URL the tests use: the server's, or in the pgbouncer project the pooler's. */
          url: string;
          port: number;
          password: string;
          /** The server's own URL (the superuser's), never through a pooler. */
          directUrl: string;
          /** Set when `url` goes through PgBouncer in transaction mode: its admin console's URL (SHOW POOLS...). */
          pooler?: { name: 'pgbouncer'; adminUrl: string };
        }
      | { skip: string };
  }
}

/** The project that runs its PostgreSQL suites through PgBouncer (vitest.config.mts). */
export const PGBOUNCER_PROJECT = 'pgbouncer';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let server: TestPostgres | undefined;
  let bouncer: TestPgBouncer | undefined;
  const pooled = project.name === PGBOUNCER_PROJECT;
  try {
    server = await startPostgres();
    if (pooled) {
      bouncer = await startPgBouncer(server);
      project.provide('postgres', {
        url: bouncer.pooled(server.url),
        port: bouncer.port,
        password: server.password,
        directUrl: server.url,
        pooler: { name: 'pgbouncer', adminUrl: bouncer.adminUrl },
      });
    } else {
      project.provide('postgres', {
        url: server.url,
        port: server.port,
        password: server.password,
        directUrl: server.url,
      });
    }
  } catch (e) {
    const why = `PostgreSQL tests cannot run${pooled ? ' through PgBouncer' : ''}: ${(e as Error).message}`;
    if (process.env.CI === 'true')
      throw new Error(`${why} (CI=true: missing test prerequisites fail the run)`, { cause: e });
    console.warn(`skipped: ${why}`);
    project.provide('postgres', { skip: why });
  }
  return async () => {
    await bouncer?.stop();
    server?.stop();
  };
}
