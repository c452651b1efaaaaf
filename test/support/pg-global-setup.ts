// vitest globalSetup: one real PostgreSQL server for the whole run (about 1.5 s), its URL handed to the tests
// with `inject('postgres')`. Without the server binaries (and no root to apt-get them) the PostgreSQL tests
// skip and say why; under CI=true that fails the run instead (the README's team figures rest on them).
import type { TestProject } from 'vitest/node';
import { startPostgres, type TestPostgres } from './postgres';

declare module 'vitest' {
  export interface ProvidedContext {
    postgres: { url: string; port: number; password: string } | { skip: string };
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  let server: TestPostgres | undefined;
  try {
    server = await startPostgres();
    project.provide('postgres', { url: server.url, port: server.port, password: server.password });
  } catch (e) {
    const why = `PostgreSQL tests cannot run: ${(e as Error).message}`;
    if (process.env.CI === 'true')
      throw new Error(`${why} (CI=true: missing test prerequisites fail the run)`, { cause: e });
    console.warn(`skipped: ${why}`);
    project.provide('postgres', { skip: why });
  }
  return () => server?.stop();
}
