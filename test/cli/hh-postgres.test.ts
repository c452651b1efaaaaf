// The whole HH reproduction (every published file imported through the CLI, then `metrics --json`) on a
// SQLite file and on a PostgreSQL database of the run's test server: the two documents must be identical
// number for number (only the run id and the provenance's database location and time may differ).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { ROOT, sharedDataSkipReason, tempDir } from '../support/helpers';
import { freshPostgresDatabase, pgEnv, urlWithoutPassword } from '../support/postgres';
import { SHARED_HH_METRICS_ARGS, sharedHHImports } from '../support/shared-hh';

const BIN = join(ROOT, 'bin', 'discretion.js');
const server = inject('postgres');
// the CLI refuses a password in --db: the URL without it, the password in the child's PGPASSWORD
const run = (args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT, env: pgEnv(server) });
const skip = sharedDataSkipReason() ?? ('skip' in server ? server.skip : undefined);

/** The metrics document without what names the run rather than the data (ids, times, where it was stored). */
function numbers(stdout: string): unknown {
  const doc = JSON.parse(stdout);
  delete doc.run_id;
  delete doc.provenance;
  return doc;
}

describe.skipIf(!!skip)('the HH reproduction on SQLite and on PostgreSQL', () => {
  const docs: Record<string, unknown> = {};
  beforeAll(async () => {
    const locations = {
      sqlite: join(tempDir(), 'hh.db'),
      postgres: urlWithoutPassword(await freshPostgresDatabase('url' in server ? server.url : '')),
    };
    for (const [name, db] of Object.entries(locations)) {
      for (const args of sharedHHImports(db)) {
        const r = run(args);
        expect(r.status, `${name}: ${args.slice(0, 2).join(' ')}: ${r.stderr}`).toBe(0);
      }
      const r = run([...SHARED_HH_METRICS_ARGS, '--db', db, '--json']);
      expect(r.status, `${name}: ${r.stderr}`).toBe(0);
      docs[name] = numbers(r.stdout);
    }
  }, 600_000);

  it('gives identical metrics documents', () => {
    expect(docs.postgres).toEqual(docs.sqlite);
    // and they are the real analysis, not two empty documents: the categories the hand derivation in
    // metrics-hh.test.ts pins (1,172 consensus, 376 conflict, 764 indifference of 2,312 pairs)
    expect(docs.postgres).toMatchObject({ categories: { n: 2312, consensus: 1172, conflict: 376, indifference: 764 } });
  });
});
