// kill -9 and a server that goes away, on PostgreSQL (test/store/crash.test.ts has SQLite's kills): an
// annotator process killed in the middle of its submit loop loses no acknowledged label; a `discretion
// import --db postgres://...` killed in the middle of a COPY leaves every table as it was; the server stopped
// at once (`pg_ctl stop -m immediate`) while a child imports or labels: one clear error naming the database
// without its password, nothing partial, and the store works again (the same process labels on) when the
// server is back. A server of its own (it is stopped here), with synchronous_commit on: with it off, as in
// the other tests, an immediate stop loses commits already acknowledged, which is the setting's documented
// trade and not what a team server runs with.
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openStore } from '../../src/store';
import { redactLocation } from '../../src/store';
import { UsageError } from '../../src/core/errors';
import {
  auditTeam,
  buildTeamWorker,
  go,
  seedTeamDataset,
  startWorker,
  type WorkerRun,
} from '../../bench/support/team-load';
import { pgEnv, startPostgres, type TestPostgres, urlWithoutPassword } from '../support/postgres';
import { ROOT, tempDir } from '../support/helpers';

const injected = inject('postgres');
const skip = 'skip' in injected ? injected.skip : undefined;
const ROUNDS = process.env.DISCRETION_STRESS ? 10 : 2;
const BIN = join(ROOT, 'bin', 'discretion.js');
const BIG = 100_000;
const MAP = [
  '--prompt',
  'prompt',
  '--response-0',
  'response_0',
  '--response-1',
  'response_1',
  '--id',
  'id',
  '--preferred',
  'preferred',
];

let server: TestPostgres;
let script: string;
let bigFile: string;
let smallFile: string;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const until = async (what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 30_000) => {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
};

function pairsFile(name: string, n: number): string {
  const file = join(tempDir(), name);
  const lines: string[] = [];
  for (let i = 0; i < n; i++)
    lines.push(
      JSON.stringify({
        id: `p${i}`,
        prompt: `Human: question ${i}`,
        response_0: `I can't help with that (${i}).`,
        response_1: `Here is how (${i}).`,
        preferred: i % 3 ? 'y1' : 'y0',
      }),
    );
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

const dbName = (url: string) => new URL(url).pathname.slice(1);

/** The import child's COPY is running on the server (not between two statements). */
async function copyRunning(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: server.url });
  await c.connect();
  try {
    const r = await c.query(
      "SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND query LIKE '%COPY % FROM STDIN%'",
      [dbName(url)],
    );
    return (r.rowCount ?? 0) > 0;
  } finally {
    await c.end();
  }
}

function startImport(url: string, dataset: string) {
  const child = spawn(
    process.execPath,
    [BIN, 'import', 'jsonl', bigFile, '--dataset', dataset, ...MAP, '--db', urlWithoutPassword(url)],
    { cwd: ROOT, env: pgEnv(server), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  child.stdout!.resume();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

// the CLI refuses a password in --db: it gets the URL without one (urlWithoutPassword) and the password in PGPASSWORD
const cli = (args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT, env: pgEnv(server) });

async function dump(url: string): Promise<Record<string, string[]>> {
  const s = await openStore(url);
  try {
    return await s.dumpTables();
  } finally {
    await s.close();
  }
}

/** A database with a small imported dataset in it (something for "as it was" to compare). */
async function seededDatabase(): Promise<string> {
  const url = await server.createDatabase();
  const r = cli(['import', 'jsonl', smallFile, '--dataset', 'small', ...MAP, '--db', urlWithoutPassword(url)]);
  expect(r.status, r.stderr).toBe(0);
  return url;
}

async function audit(url: string, runs: WorkerRun[], overlap: number): Promise<string[]> {
  const acks = new Map<string, { idx: number; seq: number }[]>();
  for (const w of runs) acks.set(w.name, [...(acks.get(w.name) ?? []), ...w.acks]);
  const s = await openStore(url);
  try {
    // a killed process may have had one submission committed whose ack it never printed
    return await auditTeam(s, 'team', overlap, acks, 1);
  } finally {
    await s.close();
  }
}

describe.skipIf(skip)('PostgreSQL: kill -9 and a server that goes away', () => {
  beforeAll(async () => {
    server = await startPostgres({ synchronousCommit: true });
    script = await buildTeamWorker(tempDir(), ROOT);
    bigFile = pairsFile('big.jsonl', BIG);
    smallFile = pairsFile('small.jsonl', 20);
  }, 300_000);
  afterAll(() => server?.stop());

  it('kill -9 of an annotator process in its submit loop: every acknowledged label is stored, and it labels on', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const url = await server.createDatabase();
      await seedTeamDataset(url, 'team', 2000, 2);
      const killed = startWorker(script, ROOT, url, 'team', 'kim');
      const other = startWorker(script, ROOT, url, 'team', 'lee');
      await Promise.all([killed.ready, other.ready]);
      go(killed, Date.now() + 60_000);
      go(other, Date.now() + 3000);
      await sleep(500 + Math.random() * 2000);
      killed.child.kill('SIGKILL');
      await killed.exited;
      expect(await other.exited, other.stderr).toBe(0);
      expect(killed.acks.length, killed.stderr).toBeGreaterThan(0);
      expect(await audit(url, [killed, other], 2)).toEqual([]);
      // the same annotator starts again and labels on
      const again = startWorker(script, ROOT, url, 'team', 'kim');
      await again.ready;
      go(again, Date.now() + 1000);
      expect(await again.exited, again.stderr).toBe(0);
      expect(again.acks.length).toBeGreaterThan(0);
      expect(await audit(url, [killed, other, again], 2)).toEqual([]);
    }
  }, 240_000);

  it('kill -9 of `discretion import --db postgres://...` in the middle of a COPY leaves every table as it was, and the import runs again', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const url = await seededDatabase();
      const before = await dump(url);
      const r = startImport(url, 'big');
      await until("the import's COPY", () => copyRunning(url));
      await sleep(Math.random() * 300);
      r.child.kill('SIGKILL');
      await r.exited;
      expect(await dump(url)).toEqual(before);
      const again = cli(['import', 'jsonl', bigFile, '--dataset', 'big', ...MAP, '--db', urlWithoutPassword(url)]);
      expect(again.status, again.stderr).toBe(0);
      const s = await openStore(url);
      try {
        expect((await s.info()).datasets.map((d) => [d.name, d.pairs]).sort()).toEqual([
          ['big', BIG],
          ['small', 20],
        ]);
      } finally {
        await s.close();
      }
    }
  }, 240_000);

  it('the server goes away mid-import: one line naming the database without its password, nothing imported, and the import runs when the server is back', async () => {
    const url = await seededDatabase();
    const before = await dump(url);
    const r = startImport(url, 'big');
    await until("the import's COPY", () => copyRunning(url));
    server.crash();
    try {
      expect(await r.exited).toBe(1);
    } finally {
      server.restart();
    }
    const lines = r.stderr().trim().split('\n');
    expect(lines, r.stderr()).toHaveLength(1);
    expect(lines[0]).toContain(redactLocation(url));
    expect(lines[0]).not.toContain(server.password);
    expect(lines[0]).toMatch(/nothing was (written|imported)/);
    expect(await dump(url)).toEqual(before);
    const again = cli(['import', 'jsonl', bigFile, '--dataset', 'big', ...MAP, '--db', urlWithoutPassword(url)]);
    expect(again.status, again.stderr).toBe(0);
  }, 240_000);

  it('the server goes away while a store is open: a read fails with one line naming the database without its password, and the same store reads again when the server is back', async () => {
    const url = await seededDatabase();
    const s = await openStore(url);
    try {
      expect((await s.info()).datasets.map((d) => d.name)).toEqual(['small']);
      server.crash();
      let failure: unknown;
      try {
        await s.info();
      } catch (e) {
        failure = e;
      } finally {
        server.restart();
      }
      // a UsageError: the CLI prints its message as the one line (exit 1), with no "set DISCRETION_DEBUG" hint
      expect(failure).toBeInstanceOf(UsageError);
      const message = (failure as Error).message;
      expect(message).toMatch(/^(cannot reach database|lost the connection to database) /);
      expect(message).toContain(redactLocation(url));
      expect(message).not.toContain(server.password);
      expect(message).not.toContain('\n');
      expect((await s.info()).datasets.map((d) => d.name)).toEqual(['small']);
    } finally {
      await s.close();
    }
  }, 120_000);

  it('the server goes away mid-label: no acknowledged label lost, errors name the database without its password, and the same process labels on when the server is back', async () => {
    const url = await server.createDatabase();
    await seedTeamDataset(url, 'team', 2000, 2);
    const w = startWorker(script, ROOT, url, 'team', 'kim');
    await w.ready;
    go(w, Date.now() + 12_000);
    await until('5 labels', () => w.acks.length >= 5);
    server.crash();
    const atCrash = w.acks.length;
    try {
      await sleep(1000);
    } finally {
      server.restart();
    }
    await until('labels after the restart', () => w.acks.length > atCrash + 5, 20_000);
    expect(await w.exited, w.stderr).toBe(0);
    expect(w.stats!.errors).toBeGreaterThan(0);
    expect(w.stats!.firstError).toContain(redactLocation(url));
    expect(w.stats!.firstError).not.toContain(server.password);
    expect(await audit(url, [w], 2)).toEqual([]);
  }, 120_000);
});
