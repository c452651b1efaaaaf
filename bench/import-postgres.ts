// Bulk import into PostgreSQL (COPY through pg-copy-streams): the same generated JSONL files as the SQLite
// import bench, imported by the real CLI in a child process into a database on a PostgreSQL server this bench
// starts itself (Debian's binaries, initdb into a temp folder, fsync off as in the tests: a figure for the
// client and server work, not the disk's). Per import: pairs/s, the CLI process's peak RSS and CPU time, and
// the server's CPU time (every process of the server, from /proc). Then the server's own COPY: the same rows
// read by the server from files (`COPY ... FROM 'file'`, no client, no parsing of JSON), with the schema's
// checks and, for comparison only, with none (session_replication_role = replica: superuser only, never done
// by the tool). The 1-minute load average is printed beside each figure: this machine is shared. Each on a server
// with initdb's defaults and on one sized for bulk loads (BENCH_PG_SERVERS=default,sized; both by default).
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  createWriteStream,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
} from 'node:fs';
import { once } from 'node:events';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { openStore } from '../src/store';
import { pgEnv, startPostgres, urlWithoutPassword } from '../test/support/postgres';
import { syntheticPair, writeSynthetic } from './import';

const ROOT = resolve(__dirname, '..', '..');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const load = () => loadavg()[0]!.toFixed(1);

/** CPU seconds (user + system) of a process from /proc/PID/stat; with `children`, of its reaped children too. */
function procCpu(pid: number, children: boolean): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // fields after the name: state is [0], utime [11], stime [12], cutime [13], cstime [14] (proc(5))
  const ticks = Number(f[11]) + Number(f[12]) + (children ? Number(f[13]) + Number(f[14]) : 0);
  return ticks / 100; // USER_HZ, 100 on Linux
}

/**
 * The server's CPU seconds so far: the postmaster with its ended children (a backend's time is added to its
 * parent's when it exits) and its live children. Undefined where /proc is missing.
 */
function serverCpu(postmaster: number): number | undefined {
  if (!existsSync(`/proc/${postmaster}/stat`)) return undefined;
  let total = procCpu(postmaster, true);
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const f = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ');
      if (Number(f[1]) === postmaster) total += procCpu(Number(p), false);
    } catch {
      /* gone meanwhile */
    }
  }
  return total;
}

async function postmasterPid(url: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const dir = (await c.query<{ d: string }>('SELECT current_setting($1) AS d', ['data_directory'])).rows[0]!.d;
    return Number(readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } finally {
    await c.end();
  }
}

interface ImportRun {
  seconds: number;
  kib: number;
  cpu: number;
  server?: number;
  failed?: string;
}

/**
 * One import by the CLI of the checkout at `root` in a child process. The CLI refuses a password in --db: the
 * URL goes without it, the password in PGPASSWORD.
 */
function importOnce(root: string, file: string, url: string, password: string, postmaster: number): ImportRun {
  const s0 = serverCpu(postmaster);
  const t0 = process.hrtime.bigint();
  const r = spawnSync(
    process.execPath,
    [
      '--require',
      join(root, 'scripts', 'report-rss.cjs'),
      join(root, 'bin', 'discretion.js'),
      'import',
      'jsonl',
      file,
      '--dataset',
      'synthetic',
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
      '--db',
      urlWithoutPassword(url),
    ],
    { encoding: 'utf8', cwd: root, env: pgEnv({ password }) },
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const s1 = serverCpu(postmaster);
  return {
    seconds,
    kib: Number(/peak-rss-kib (\d+)/.exec(r.stderr)?.[1] ?? NaN),
    cpu: Number(/cpu-ms (\d+)/.exec(r.stderr)?.[1] ?? NaN) / 1000,
    server: s0 === undefined || s1 === undefined ? undefined : s1 - s0,
    failed: r.status === 0 ? undefined : r.stderr.trim().split('\n')[0],
  };
}

/** The rows the CLI writes for `n` generated pairs, as COPY text files the server reads (world-readable: it runs as another user). */
async function writeCopyFiles(dir: string, n: number, first: number, dataset: number, annotator: number) {
  const pairs = join(dir, 'pairs.copy');
  const prefs = join(dir, 'preferences.copy');
  const p = createWriteStream(pairs);
  const q = createWriteStream(prefs);
  const esc = (s: string) =>
    s.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
  for (let i = 0; i < n; i++) {
    const r = syntheticPair(i);
    const a = p.write(
      `${first + i}\t${dataset}\t${i}\t${esc(r.id)}\t${esc(r.prompt)}\t${esc(r.response_0)}\t${esc(r.response_1)}\t\\N\n`,
    );
    const b = q.write(
      `${first + i}\t${annotator}\t${r.preferred === 'y0' ? -1 : 1}\t\\N\t\\N\t\\N\t\\N\t\\N\t0\t2026-01-01T00:00:00.000Z\t2026-01-01T00:00:00.000Z\n`,
    );
    if (!a) await once(p, 'drain');
    if (!b) await once(q, 'drain');
  }
  p.end();
  q.end();
  await Promise.all([once(p, 'finish'), once(q, 'finish')]);
  for (const f of [pairs, prefs]) chmodSync(f, 0o644);
  return { pairs, prefs };
}

/**
 * The server's own COPY of `n` pairs and their preferences from files, in one transaction on a fresh database:
 * with the schema's checks, with none at all (replica), and into tables of the load's own made in the same
 * transaction, their keys and indexes built after the load and the labels' pairs checked by one anti-join (what
 * a partition per import would cost: the design docs/scaling.md weighs, not the tool's path; one core, no
 * parallel index build). Wall seconds and the backend's CPU seconds.
 */
async function serverCopy(
  url: string,
  dir: string,
  n: number,
  mode: 'checked' | 'unchecked' | 'fresh',
): Promise<{ seconds: number; cpu?: number }> {
  const store = await openStore(url);
  const names = await store.write(async (tx) => {
    const d = await tx.createDataset(`copy-${mode}`, 'jsonl', null);
    const a = await tx.ensureAnnotator(`copy-${mode}`, 'human', null);
    return { d, a: a.id, first: await tx.nextPairRowId() };
  });
  await store.close();
  const files = await writeCopyFiles(dir, n, names.first, names.d, names.a);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const pid = (await c.query<{ p: number }>('SELECT pg_backend_pid() AS p')).rows[0]!.p;
    const cpu0 = existsSync(`/proc/${pid}/stat`) ? procCpu(pid, false) : undefined;
    const t0 = process.hrtime.bigint();
    await c.query('BEGIN');
    if (mode === 'unchecked') await c.query('SET LOCAL session_replication_role = replica');
    const [pairs, prefs] = mode === 'fresh' ? ['load_pairs', 'load_preferences'] : ['pairs', 'preferences'];
    if (mode === 'fresh')
      await c.query(`SET LOCAL max_parallel_maintenance_workers = 0;
        CREATE TABLE load_pairs (LIKE pairs INCLUDING DEFAULTS);
        CREATE TABLE load_preferences (LIKE preferences INCLUDING DEFAULTS)`);
    await c.query(`COPY ${pairs} (id, dataset_id, idx, source_id, prompt, y0, y1, meta) FROM '${files.pairs}'`);
    await c.query(
      `COPY ${prefs} (pair_id, annotator_id, value, score_y0, score_y1, raw, shown_first, rationale, flagged, created_at, updated_at) FROM '${files.prefs}'`,
    );
    if (mode === 'fresh')
      await c.query(`ALTER TABLE load_pairs ADD PRIMARY KEY (id);
        CREATE UNIQUE INDEX ON load_pairs (dataset_id, idx);
        CREATE UNIQUE INDEX ON load_pairs (dataset_id, source_id);
        CREATE INDEX ON load_pairs (dataset_id, claim_rank);
        ALTER TABLE load_preferences ADD PRIMARY KEY (pair_id, annotator_id);
        CREATE INDEX ON load_preferences (annotator_id, pair_id);
        SELECT 1 FROM load_preferences q WHERE NOT EXISTS (SELECT 1 FROM load_pairs p WHERE p.id = q.pair_id) LIMIT 1`);
    await c.query('COMMIT');
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    return { seconds, cpu: cpu0 === undefined ? undefined : procCpu(pid, false) - cpu0 };
  } finally {
    await c.end();
    rmSync(files.pairs, { force: true });
    rmSync(files.prefs, { force: true });
  }
}

const cpuText = (s: number | undefined) => (s === undefined ? 'n/a' : `${s.toFixed(1)} s`);

/**
 * The servers the imports run on (BENCH_PG_SERVERS, a comma list; both by default): initdb's defaults, and one
 * sized for bulk loads as docs/scaling.md says (room in shared memory for the import's pages and WAL, no
 * checkpoint forced by the WAL of one import): the same files, the same CLI.
 */
const SERVERS: Record<string, { label: string; settings: Record<string, string | number> }> = {
  default: { label: "initdb's defaults (shared_buffers 128MB, wal_buffers 4MB, max_wal_size 1GB)", settings: {} },
  sized: {
    label: 'sized for bulk loads (shared_buffers 1GB, wal_buffers 64MB, max_wal_size 8GB, checkpoint_timeout 30min)',
    settings: { shared_buffers: '1GB', wal_buffers: '64MB', max_wal_size: '8GB', checkpoint_timeout: '30min' },
  },
};

export async function runImportPostgresBench(log: (line: string) => void): Promise<void> {
  log(
    '## Import into PostgreSQL (child process running `discretion import --db postgres://...`, wall time includes Node start-up)',
  );
  const kinds = (process.env.BENCH_PG_SERVERS ?? 'default,sized').split(',').map((k) => k.trim());
  for (const k of kinds) if (!SERVERS[k]) throw new Error(`BENCH_PG_SERVERS: ${k} is not one of default, sized`);
  for (const k of kinds) await importsOn(log, SERVERS[k]!);
}

async function importsOn(
  log: (line: string) => void,
  config: { label: string; settings: Record<string, string | number> },
): Promise<void> {
  let server;
  try {
    server = await startPostgres({ settings: config.settings });
  } catch (e) {
    log(`skipped: no PostgreSQL server could be started (${(e as Error).message})`);
    return;
  }
  log(`### On a server with ${config.label}, fsync off`);
  const dir = mkdtempSync(join(tmpdir(), 'discretion-bench-pg-'));
  chmodSync(dir, 0o755); // the server reads the COPY files from here
  // BENCH_IMPORT_COMPARE=DIR: also run the CLI of another checkout (built, e.g. `git worktree add /tmp/base
  // main`), alternating with this one on the same files and server, BENCH_IMPORT_ROUNDS times each.
  const roots = [ROOT, ...(process.env.BENCH_IMPORT_COMPARE ? [resolve(process.env.BENCH_IMPORT_COMPARE)] : [])];
  const rounds = Number(process.env.BENCH_IMPORT_ROUNDS ?? 1);
  try {
    const postmaster = await postmasterPid(server.url);
    const sizes = (process.env.BENCH_IMPORT_SIZES ?? '100000,1000000').split(',').map(Number);
    for (const n of sizes) {
      const file = join(dir, `synthetic-${n}.jsonl`);
      await writeSynthetic(file, n);
      const runs = new Map<string, ImportRun[]>(roots.map((r) => [r, []]));
      for (let round = 0; round < rounds; round++) {
        for (const root of roots) {
          const r = importOnce(root, file, await server.createDatabase(), server.password, postmaster);
          runs.get(root)!.push(r);
          const who = roots.length > 1 ? ` [${root === ROOT ? 'this checkout' : root}]` : '';
          log(
            `generated JSONL, ${n.toLocaleString('en')} pairs (${(statSync(file).size / 1e6).toFixed(0)} MB, a human preference each) into PostgreSQL${who}: ${r.seconds.toFixed(2)} s, ${(n / r.seconds).toFixed(0)} pairs/s, peak RSS ${(r.kib / 1024).toFixed(0)} MiB, CPU: client ${cpuText(r.cpu)}, server ${cpuText(r.server)} (load ${load()})${r.failed ? ' FAILED: ' + r.failed : ''}`,
          );
        }
      }
      if (rounds > 1)
        for (const [root, rs] of runs) {
          const who = roots.length > 1 ? ` [${root === ROOT ? 'this checkout' : root}]` : '';
          const s = median(rs.map((r) => r.seconds));
          log(
            `median of ${rs.length}${who}: ${s.toFixed(2)} s = ${(n / s).toFixed(0)} pairs/s; client CPU ${cpuText(median(rs.map((r) => r.cpu)))}, server CPU ${rs.every((r) => r.server !== undefined) ? cpuText(median(rs.map((r) => r.server!))) : 'n/a'}, peak RSS ${(Math.max(...rs.map((r) => r.kib)) / 1024).toFixed(0)} MiB at most`,
          );
        }
      rmSync(file, { force: true });
    }
    const n = sizes[sizes.length - 1]!;
    const how = {
      checked: "with the schema's checks",
      unchecked:
        'with no checks at all (session_replication_role = replica, superuser only: for comparison, never done by the tool)',
      fresh:
        "into tables of the load's own made in the transaction, keys and indexes built after the load, one anti-join for the labels' pairs (a partition per import: a design, not the tool's path)",
    };
    for (const mode of ['checked', 'unchecked', 'fresh'] as const) {
      const r = await serverCopy(await server.createDatabase(), dir, n, mode);
      log(
        `the server's own COPY of the same ${n.toLocaleString('en')} pairs and their preferences from files, one transaction, ${how[mode]}: ${r.seconds.toFixed(2)} s = ${(n / r.seconds).toFixed(0)} pairs/s, backend CPU ${cpuText(r.cpu)} (load ${load()})`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    server.stop();
  }
}
