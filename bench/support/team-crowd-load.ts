// The coordinator of the team bench's crowds (bench/team.ts): starts a few processes of simulated annotators
// (bench/support/team-crowd.ts), each with a store per annotator, lets them run for a while, samples the
// server's connections meanwhile, and sums up what they measured. The audit of the database afterwards is
// team-load.ts's auditTeam, fed with the crowd's acknowledgements.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { CrowdConfig, CrowdResult } from './team-crowd';
import { percentile, type Ack } from './team-load';
import { goLine } from './start-signal';

export interface CrowdRun {
  results: CrowdResult[];
  seconds: number;
  /** The server's client connections sampled every second: to the whole server, and to this database. */
  connections: { server: number[]; database: number[]; active: number[] };
  /**
   * Server CPU seconds spent (all of the server's processes) over the first `over` seconds of the run, when the
   * server is this machine's.
   */
  serverCpu?: { seconds: number; over: number };
  /** The same for the pooler in front of the server (PgBouncer: one process), when the run goes through one. */
  poolerCpu?: { seconds: number; over: number };
  loadAvg: number;
}

/** A process's parent and CPU seconds so far (user + system) from /proc/PID/stat; undefined when it is gone. */
function procStat(pid: string): { ppid: string; cpu: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { ppid: f[1]!, cpu: (Number(f[11]) + Number(f[12])) / 100 }; // USER_HZ: /proc's unit on Linux
  } catch {
    return undefined; // gone meanwhile
  }
}

/**
 * The CPU seconds so far of a PostgreSQL server on this machine (its postmaster, found by the port on its command
 * line, and every process it started), from /proc; undefined where there is no such process to read (another
 * machine, another system).
 */
export function serverCpuReader(port: number): (() => number) | undefined {
  let postmaster: string | undefined;
  try {
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (/postgres$/.test(args[0] ?? '') && args.includes('-p') && args[args.indexOf('-p') + 1] === String(port)) {
        postmaster = pid;
        break;
      }
    }
  } catch {
    return undefined;
  }
  if (!postmaster) return undefined;
  // each process's last reading is kept: a server process that ends (a client's idle connection closed) keeps
  // what it had spent when last read, and the figure never goes back (what it spent after that is lost: a
  // lower bound, each call a reading)
  const seen = new Map<string, number>();
  return () => {
    const pm = procStat(postmaster);
    if (pm) seen.set(postmaster, pm.cpu);
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      const s = procStat(pid);
      if (s?.ppid === postmaster) seen.set(pid, s.cpu);
    }
    let total = 0;
    for (const cpu of seen.values()) total += cpu;
    return total;
  };
}

/** The CPU seconds so far of one process on this machine (PgBouncer's), from /proc; undefined where it cannot be read. */
export function processCpuReader(pid: number): (() => number) | undefined {
  let last = procStat(String(pid))?.cpu;
  if (last === undefined) return undefined;
  // ended: its last reading stands
  return () => (last = procStat(String(pid))?.cpu ?? last!);
}

/**
 * Runs `names.length` simulated annotators in `processes` processes on `dataset` for `seconds` (from the moment all
 * are ready). `adminUrl`: a direct connection to the same database (pg_stat_activity is the server's, so through a
 * pooler it would count the pooler's connections, not the clients').
 */
export async function runCrowd(o: {
  script: string;
  root: string;
  config: Omit<CrowdConfig, 'names'>;
  names: string[];
  processes: number;
  seconds: number;
  adminUrl: string;
  serverCpu?: () => number;
  poolerCpu?: () => number;
  env?: NodeJS.ProcessEnv;
}): Promise<CrowdRun> {
  const groups = Array.from({ length: Math.max(1, Math.min(o.processes, o.names.length)) }, (_, p) =>
    o.names.filter((_n, i) => i % o.processes === p),
  );
  const children = groups.map((names, p) => {
    const config: CrowdConfig = { ...o.config, names, seed: o.config.seed + p };
    // The config (its database URL holds the password) goes in the environment, not the arguments a process
    // list shows to everyone on the machine.
    const child = spawn(process.execPath, [o.script], {
      cwd: o.root,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...o.env,
        NODE_PATH: join(o.root, 'node_modules'),
        DISCRETION_CROWD_CONFIG: JSON.stringify(config),
      },
    });
    let out = '';
    let err = '';
    let onReady!: () => void;
    const ready = new Promise<void>((resolve) => (onReady = resolve));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('ready\n')) onReady();
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.stdin.on('error', () => undefined);
    const exited = new Promise<CrowdResult>((resolve, reject) =>
      child.on('exit', (code) => {
        const done = out.split('\n').find((l) => l.startsWith('done '));
        if (code === 0 && done) resolve(JSON.parse(done.slice(5)) as CrowdResult);
        else reject(new Error(`crowd process ${p + 1} exited with ${code}: ${err.trim() || '(no message)'}`));
      }),
    );
    exited.catch(() => undefined);
    return { child, ready, exited };
  });
  const admin = new pg.Client({ connectionString: o.adminUrl });
  admin.on('error', () => undefined);
  try {
    await Promise.race([
      Promise.all(children.map((c) => c.ready)),
      Promise.all(children.map((c) => c.exited)), // a process that fails while opening rejects here
    ]);
    await admin.connect();
    const connections: CrowdRun['connections'] = { server: [], database: [], active: [] };
    // the server's CPU is read while the crowd is connected: a backend that ends takes its CPU time with it
    const cpu0 = o.serverCpu?.();
    const pooler0 = o.poolerCpu?.();
    let cpu: { seconds: number; over: number } | undefined;
    let poolerCpu: { seconds: number; over: number } | undefined;
    const t0 = Date.now();
    const deadline = t0 + o.seconds * 1000;
    for (const c of children) c.child.stdin.write(goLine(deadline));
    const all = Promise.all(children.map((c) => c.exited));
    let finished = false;
    void all.finally(() => (finished = true)).catch(() => undefined);
    while (!finished && Date.now() < deadline) {
      const r = (
        await admin.query<{ server: number; database: number; active: number }>(
          `SELECT count(*)::int AS server, (count(*) FILTER (WHERE datname = current_database()))::int AS database,
             (count(*) FILTER (WHERE state = 'active' AND pid <> pg_backend_pid()))::int AS active
           FROM pg_stat_activity WHERE backend_type = 'client backend'`,
        )
      ).rows[0];
      connections.server.push(r.server);
      connections.database.push(r.database);
      connections.active.push(r.active);
      if (cpu0 !== undefined) cpu = { seconds: o.serverCpu!() - cpu0, over: (Date.now() - t0) / 1000 };
      if (pooler0 !== undefined) poolerCpu = { seconds: o.poolerCpu!() - pooler0, over: (Date.now() - t0) / 1000 };
      await new Promise((r) => setTimeout(r, Math.min(1000, Math.max(0, deadline - 100 - Date.now()))));
    }
    const results = await all;
    const seconds = (Date.now() - t0) / 1000;
    return { results, seconds, connections, serverCpu: cpu, poolerCpu, loadAvg: loadavg()[0] };
  } finally {
    for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL');
    await admin.end().catch(() => undefined);
  }
}

/** The crowd's acknowledged labels by annotator, as auditTeam takes them. */
export function crowdAcks(run: CrowdRun, names: string[]): Map<string, Ack[]> {
  const acks = new Map<string, Ack[]>(names.map((n) => [n, []]));
  for (const r of run.results) for (const [name, idx, seq] of r.acks) acks.get(name)!.push({ idx, seq });
  return acks;
}

const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)} ms` : 'n/a');
const spread = (v: number[]) =>
  `p50 ${ms(percentile(v, 50))}, p95 ${ms(percentile(v, 95))}, p99 ${ms(percentile(v, 99))}`;
const max = (v: number[]) => v.reduce((a, b) => Math.max(a, b), 0);

/** The figures of one crowd run, one line. */
export function describeCrowd(run: CrowdRun, annotators: number): string {
  const all = <K extends 'claimMs' | 'submitMs' | 'lagMs' | 'eventMs'>(k: K) => run.results.flatMap((r) => r[k]);
  const sum = (f: (r: CrowdResult) => number) => run.results.reduce((n, r) => n + f(r), 0);
  const claims = all('claimMs');
  const submits = all('submitMs');
  const lags = all('lagMs');
  const events = all('eventMs');
  const errors = sum((r) => r.errors);
  const c = run.connections;
  return (
    `${annotators} annotators, ${run.seconds.toFixed(1)} s: ${(claims.length / run.seconds).toFixed(1)} claims/s, ${(submits.length / run.seconds).toFixed(1)} labels/s; ` +
    `claim ${spread(claims)}; ` +
    (submits.length ? `submit ${spread(submits)}; ` : '') +
    (events.length ? `submit + next claim ${spread(events)}; ` : '') +
    (lags.length
      ? `late events ${lags.filter((l) => l > 100).length} of ${lags.length} (max ${ms(max(lags))}); `
      : '') +
    `server connections max ${max(c.server)} (this database ${max(c.database)}, active max ${max(c.active)}); ` +
    (run.serverCpu && run.serverCpu.over > 0
      ? `server CPU ${((100 * run.serverCpu.seconds) / run.serverCpu.over).toFixed(0)} % of a core; `
      : '') +
    (run.poolerCpu && run.poolerCpu.over > 0
      ? `PgBouncer CPU ${((100 * run.poolerCpu.seconds) / run.poolerCpu.over).toFixed(0)} % of a core; `
      : '') +
    `load avg ${run.loadAvg.toFixed(1)}; contention: ${sum((r) => r.refusals)} refused submits (pair full), ${sum((r) => r.empty)} empty claims` +
    (errors ? `; ${errors} errors (first: ${run.results.find((r) => r.firstError)?.firstError})` : '')
  );
}
