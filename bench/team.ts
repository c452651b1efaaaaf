// The team load bench (issues 12 and 22), in four parts (BENCH_TEAM_PARTS, a comma list; all by default):
//  - processes: simulated annotators, each a process of its own with its own connection, loop claimNextPair ->
//    saveLabel on a dataset with a work split (overlap k), against a PostgreSQL server this bench starts
//    (Debian's binaries, fsync off as in the tests) and against one SQLite file. On PostgreSQL it runs twice, as
//    the superuser (no policies) and with one login per annotator under the team's row-level security (issue
//    17), and prints the two rates side by side. Submits/s, submit and claim latencies, contention.
//  - large: the claim latency on a large, mostly done dataset, and by assignment order, on both databases.
//  - saturation: PostgreSQL, one dataset, annotators that claim and submit as fast as the server answers,
//    many to a process (bench/support/team-crowd.ts): claims/s at saturation, for each crowd size.
//  - open: PostgreSQL, one dataset, N annotators at a person's pace (a label every few seconds, jittered,
//    scheduled in advance: open loop), many to a process: claim and submit latency p50/p95/p99, the
//    server's connections (pg_stat_activity) and CPU, for each N; directly and through PgBouncer.
// Every load ends with an AUDIT of the database against what its annotators acknowledged (bench/support/
// team-load.ts). Settings (environment):
//   BENCH_TEAM_SECONDS (60), BENCH_TEAM_PG_ANNOTATORS (50), BENCH_TEAM_PG_ROUNDS (1: rounds of the two PostgreSQL runs), BENCH_TEAM_SQLITE_ANNOTATORS (4),
//   BENCH_TEAM_OVERLAP (2), BENCH_TEAM_ORDER (fixed), BENCH_TEAM_PAIRS (20000), BENCH_TEAM_LARGE_PAIRS (100000; 0 skips the claim latencies
//   on a large dataset, mostly done and in each assignment order);
//   BENCH_TEAM_SATURATION_ANNOTATORS (16,64), BENCH_TEAM_SATURATION_SECONDS (20), BENCH_TEAM_OPEN_ANNOTATORS (50,200,500),
//   BENCH_TEAM_OPEN_SECONDS (25), BENCH_TEAM_PACE_MS (4000: the mean think time), BENCH_TEAM_JITTER (0.5: +-50 %),
//   BENCH_TEAM_CROWD_PROCESSES (4: processes a crowd is spread over); BENCH_TEAM_VIA (direct,pgbouncer: the saturation and
//   open loads on the bench's own server run directly and through PgBouncer in transaction mode, started here in
//   front of it, alternating size by size), BENCH_TEAM_POOL_SIZE (20: PgBouncer's server connections a pool);
//   DISCRETION_BENCH_PG_URL: the database the saturation and open loads run on (e.g. through PgBouncer) instead
//   of one on the bench's own server; DISCRETION_BENCH_PG_ADMIN_URL: a direct connection to that same database
//   for the setup, the audit and pg_stat_activity (default: DISCRETION_BENCH_PG_URL). The password in the URL or
//   in PGPASSWORD.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres, urlWithoutPassword, type TestPostgres } from '../test/support/postgres';
import { openStore, ASSIGNMENT_ORDERS, redactLocation, type WorkSplit } from '../src/store';
import { crowdAcks, describeCrowd, processCpuReader, runCrowd, serverCpuReader } from './support/team-crowd-load';
import { startPgBouncer, type TestPgBouncer } from '../test/support/pgbouncer';
import {
  acksOf,
  annotatorName,
  auditTeam,
  buildTeamWorker,
  claimInOrder,
  claimOnMostlyDone,
  describeLoad,
  percentile,
  projectRoot,
  runTeamLoad,
  seedTeamDataset,
  setUpTeamDatabase,
} from './support/team-load';

const env = (name: string, fallback: number) =>
  process.env[name] === undefined ? fallback : Number(process.env[name]);
/** A comma list of whole numbers (crowd sizes); empty or 0 skips. */
const sizes = (name: string, fallback: number[]) =>
  process.env[name] === undefined
    ? fallback
    : process.env[name]!.split(',')
        .map((v) => Number(v.trim()))
        .filter((n) => Number.isInteger(n) && n > 0);
const PARTS = ['processes', 'large', 'saturation', 'open'] as const;
type Via = 'direct' | 'pgbouncer' | 'target';
/** BENCH_TEAM_VIA: how the crowds reach the bench's own server (a comma list of direct and pgbouncer; both by default). */
const VIA: readonly Via[] = (process.env.BENCH_TEAM_VIA ?? 'direct,pgbouncer')
  .split(',')
  .map((v) => v.trim())
  .filter((v): v is Via => {
    if (v !== 'direct' && v !== 'pgbouncer') throw new Error(`BENCH_TEAM_VIA: ${v} is not direct or pgbouncer`);
    return true;
  });

export async function runTeamBench(log: (line: string) => void): Promise<boolean> {
  const seconds = env('BENCH_TEAM_SECONDS', 60);
  const overlap = env('BENCH_TEAM_OVERLAP', 2);
  const pairs = env('BENCH_TEAM_PAIRS', 20_000);
  const large = env('BENCH_TEAM_LARGE_PAIRS', 100_000);
  const order = (process.env.BENCH_TEAM_ORDER ?? 'fixed') as WorkSplit['assignment'];
  if (!ASSIGNMENT_ORDERS.includes(order))
    throw new Error(`BENCH_TEAM_ORDER must be one of ${ASSIGNMENT_ORDERS.join(', ')}`);
  const parts = new Set((process.env.BENCH_TEAM_PARTS ?? PARTS.join(',')).split(',').map((p) => p.trim()));
  for (const p of parts)
    if (!(PARTS as readonly string[]).includes(p))
      throw new Error(`BENCH_TEAM_PARTS: ${p} is not one of ${PARTS.join(', ')}`);
  const saturation = parts.has('saturation') ? sizes('BENCH_TEAM_SATURATION_ANNOTATORS', [16, 64]) : [];
  const open = parts.has('open') ? sizes('BENCH_TEAM_OPEN_ANNOTATORS', [50, 200, 500]) : [];
  const target = process.env.DISCRETION_BENCH_PG_URL;
  const root = projectRoot();
  const dir = mkdtempSync(join(tmpdir(), 'discretion-bench-team-'));
  let server: TestPostgres | undefined;
  let allPassed = true;
  try {
    const script = await buildTeamWorker(dir, root);
    const needServer = parts.has('processes') || parts.has('large') || (!target && saturation.length + open.length > 0);
    try {
      // a crowd holds about one connection per annotator (its store's), and the server's own: room for the largest
      if (needServer)
        server = await startPostgres({ maxConnections: Math.max(200, 2 * Math.max(0, ...saturation, ...open) + 50) });
    } catch (e) {
      log(`PostgreSQL skipped: no server could be started (${(e as Error).message})`);
    }
    // the large datasets' claim latencies: one database each
    const targets: { name: string; location: () => Promise<string> }[] = [];
    if (server) targets.push({ name: 'PostgreSQL', location: () => server!.createDatabase() });
    let files = 0;
    targets.push({ name: 'SQLite', location: async () => join(dir, `team-${++files}.db`) });
    // The loads: PostgreSQL as the superuser (no policies apply) and with one login per annotator under the
    // team's row-level security (`team init`, `team add`), on the same server, alternating for
    // BENCH_TEAM_PG_ROUNDS rounds (a shared machine's load drifts: one pair of runs can differ by a third
    // either way); then SQLite. Each run on a database of its own.
    const BARE = 'superuser (no policies)';
    const RLS = 'annotator logins (row-level security)';
    interface Load {
      name: string;
      mode?: string;
      annotators: number;
      prepare(names: string[]): Promise<{
        location: string;
        auditLocation: string;
        locationOf?: (name: string) => string;
        env?: NodeJS.ProcessEnv;
      }>;
    }
    const loads: Load[] = [];
    const pgAnnotators = env('BENCH_TEAM_PG_ANNOTATORS', 50);
    const rounds = Math.max(1, env('BENCH_TEAM_PG_ROUNDS', 1));
    if (server && parts.has('processes')) {
      const pgEnvOf = { PGPASSWORD: server.password }; // the password goes in the environment, never in the URL
      let teams = 0;
      for (let round = 1; round <= rounds; round++) {
        const of = rounds > 1 ? `, round ${round} of ${rounds}` : '';
        loads.push({
          name: `PostgreSQL, ${BARE}${of}`,
          mode: BARE,
          annotators: pgAnnotators,
          prepare: async () => {
            const location = await server!.createDatabase();
            return { location, auditLocation: location, locationOf: () => urlWithoutPassword(location), env: pgEnvOf };
          },
        });
        loads.push({
          name: `PostgreSQL, ${RLS}${of}`,
          mode: RLS,
          annotators: pgAnnotators,
          prepare: async (names) => {
            const database = `team_rls_${++teams}`;
            // login names are the server's: each team its own
            const team = await setUpTeamDatabase(server!.url, server!.password, database, names, `t${teams}_`);
            const su = new URL(server!.url);
            su.pathname = `/${database}`;
            return {
              location: team.leadUrl,
              auditLocation: su.toString(),
              locationOf: team.annotatorUrl,
              env: pgEnvOf,
            };
          },
        });
      }
    }
    if (parts.has('processes'))
      loads.push({
        name: 'SQLite',
        annotators: env('BENCH_TEAM_SQLITE_ANNOTATORS', 4),
        prepare: async () => {
          const location = join(dir, `team-${++files}.db`);
          return { location, auditLocation: location };
        },
      });
    const rates = new Map<string, number[]>([
      [BARE, []],
      [RLS, []],
    ]);
    for (const t of loads) {
      log(
        `## Team load on ${t.name}: ${t.annotators} annotator processes, ${pairs.toLocaleString('en')} pairs, overlap ${overlap}, ${order} order, ${seconds} s`,
      );
      const names = Array.from({ length: t.annotators }, (_, i) => annotatorName(i));
      const { location, auditLocation, locationOf, env: workerEnv } = await t.prepare(names);
      const dataset = await seedTeamDataset(location, 'team', pairs, overlap);
      if (order !== 'fixed') {
        const s = await openStore(location);
        await s
          .write((tx) => tx.setWorkSplit(dataset, { overlap, assignment: order, seed: 7 }))
          .finally(() => s.close());
      }
      const r = await runTeamLoad({
        script,
        root,
        location,
        dataset: 'team',
        annotators: t.annotators,
        seconds,
        locationOf,
        env: workerEnv,
      });
      log(describeLoad(r));
      if (t.mode)
        rates.get(t.mode)!.push(r.workers.reduce((n, w) => n + (w.stats?.submitMs.length ?? 0), 0) / r.seconds);
      // the audit reads every row as the superuser (or the SQLite file), whatever the policies let the workers read
      const s = await openStore(auditLocation);
      try {
        const problems = await auditTeam(s, 'team', overlap, acksOf(r));
        const histogram = await s.labelCountHistogram((await s.requireDataset('team')).id);
        log(
          `AUDIT ${problems.length ? 'FAILED' : 'passed'}: ${r.workers.reduce((n, w) => n + w.acks.length, 0)} acknowledged labels, each stored exactly once with its history; pairs by human labels ${JSON.stringify(histogram)} (none above ${overlap})`,
        );
        for (const p of problems.slice(0, 20)) log(`  ${p}`);
        if (problems.length) allPassed = false;
      } finally {
        await s.close();
      }
    }
    if (server && parts.has('processes')) {
      const bare = percentile(rates.get(BARE)!, 50);
      const rls = percentile(rates.get(RLS)!, 50);
      const each = (v: number[]) => (rounds > 1 ? ` (runs ${v.map((x) => x.toFixed(1)).join(', ')})` : '');
      log(
        `## Row-level security's cost on PostgreSQL, ${pgAnnotators} annotators${rounds > 1 ? `, median of ${rounds} alternating rounds` : ''}:`,
      );
      log(
        `submits/s: ${BARE} ${bare.toFixed(1)}${each(rates.get(BARE)!)} | ${RLS} ${rls.toFixed(1)}${each(rates.get(RLS)!)} = ${((100 * rls) / bare).toFixed(0)} %`,
      );
    }
    if (large > 0 && parts.has('large')) {
      const full = large - Math.max(1, Math.round(large / 100));
      log(
        `## Claim latency on a large, mostly done dataset: ${large.toLocaleString('en')} pairs, overlap 2, the first ${full.toLocaleString('en')} full; 20 fresh annotators claim one pair each`,
      );
      for (const t of targets) {
        const ms = await claimOnMostlyDone(await t.location(), large, full, 20);
        log(`${t.name}: claim p50 ${percentile(ms, 50).toFixed(1)} ms, max ${Math.max(...ms).toFixed(1)} ms`);
      }
      log(
        `## Claim latency by assignment order: a new ${large.toLocaleString('en')}-pair dataset, overlap 2; 20 fresh annotators claim one pair each`,
      );
      for (const t of targets) {
        const figures: string[] = [];
        for (const order of ASSIGNMENT_ORDERS) {
          const ms = await claimInOrder(await t.location(), large, order, 20);
          figures.push(`${order} p50 ${percentile(ms, 50).toFixed(1)} ms, max ${Math.max(...ms).toFixed(1)} ms`);
        }
        log(`${t.name}: ${figures.join('; ')}`);
      }
    }
    if (saturation.length + open.length > 0 && (server || target)) {
      const passed = await crowdLoads({
        log,
        root,
        script: await buildTeamWorker(dir, root, 'team-crowd'),
        server,
        target,
        saturation,
        open,
        pairs,
        overlap,
      });
      allPassed &&= passed;
    }
  } finally {
    server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return allPassed;
}

/**
 * The saturation and open-loop loads on PostgreSQL: each on a dataset of its own (on the bench's server a
 * database of its own; on DISCRETION_BENCH_PG_URL a dataset named for the run), each followed by its audit.
 * Resolves with whether every audit passed.
 */
async function crowdLoads(o: {
  log: (line: string) => void;
  root: string;
  script: string;
  server: TestPostgres | undefined;
  target: string | undefined;
  saturation: number[];
  open: number[];
  pairs: number;
  overlap: number;
}): Promise<boolean> {
  const { log } = o;
  const processes = Math.max(1, env('BENCH_TEAM_CROWD_PROCESSES', 4));
  const paceMs = env('BENCH_TEAM_PACE_MS', 4000);
  const jitter = env('BENCH_TEAM_JITTER', 0.5);
  const run = Date.now().toString(36);
  // On the bench's own server each load runs directly and through PgBouncer in transaction mode (Debian's, started
  // here in front of it: test/support/pgbouncer.ts), the two alternating size by size; on DISCRETION_BENCH_PG_URL,
  // as that URL goes.
  const routes = o.target ? (['target'] as const) : VIA;
  let bouncer: TestPgBouncer | undefined;
  if (routes.includes('pgbouncer')) {
    try {
      bouncer = await startPgBouncer(o.server!, {
        poolSize: env('BENCH_TEAM_POOL_SIZE', 20),
        maxClientConn: 2 * Math.max(0, ...o.saturation, ...o.open) + 100,
      });
    } catch (e) {
      log(`PgBouncer skipped: it could not be started (${(e as Error).message})`);
    }
  }
  const where = (via: Via) =>
    via === 'target'
      ? `PostgreSQL at ${redactLocation(o.target!)}`
      : via === 'pgbouncer'
        ? `PostgreSQL through PgBouncer (transaction mode, ${env('BENCH_TEAM_POOL_SIZE', 20)} server connections a pool)`
        : 'PostgreSQL (direct)';
  // the server's CPU where it runs on this machine: the bench's own, or the one the admin URL reaches directly
  const direct = o.target ? new URL(process.env.DISCRETION_BENCH_PG_ADMIN_URL ?? o.target) : undefined;
  const serverCpu = o.server
    ? serverCpuReader(o.server.port)
    : direct && ['127.0.0.1', 'localhost', '[::1]'].includes(direct.hostname)
      ? serverCpuReader(Number(direct.port || 5432))
      : undefined;
  let allPassed = true;
  const load = async (via: Via, kind: 'claims' | 'saturation' | 'open', annotators: number, seconds: number) => {
    if (via === 'pgbouncer' && !bouncer) return;
    let location: string;
    let adminUrl: string;
    let dataset: string;
    if (via === 'target') {
      location = o.target!;
      adminUrl = process.env.DISCRETION_BENCH_PG_ADMIN_URL ?? o.target!;
      dataset = `${kind}-${annotators}-${run}`;
    } else {
      adminUrl = await o.server!.createDatabase();
      location = via === 'pgbouncer' ? bouncer!.pooled(adminUrl) : adminUrl;
      dataset = 'team';
    }
    await seedTeamDataset(adminUrl, dataset, o.pairs, o.overlap);
    const names = Array.from({ length: annotators }, (_, i) => annotatorName(i, `${kind[0]}${annotators}_`));
    const r = await runCrowd({
      script: o.script,
      root: o.root,
      config: {
        location,
        dataset,
        mode: kind === 'saturation' ? 'closed' : kind,
        paceMs,
        jitter,
        ttlMs: 600_000,
        seed: annotators,
      },
      names,
      processes,
      seconds,
      adminUrl,
      serverCpu,
      poolerCpu: via === 'pgbouncer' ? processCpuReader(bouncer!.pid) : undefined,
    });
    log(`${routes.length > 1 ? `[${via}] ` : ''}${describeCrowd(r, annotators)}`);
    const s = await openStore(adminUrl);
    try {
      const acks = crowdAcks(r, names);
      const problems = await auditTeam(s, dataset, o.overlap, acks);
      const histogram = await s.labelCountHistogram((await s.requireDataset(dataset)).id);
      log(
        `AUDIT ${problems.length ? 'FAILED' : 'passed'}: ${[...acks.values()].reduce((n, a) => n + a.length, 0)} acknowledged labels, each stored exactly once with its history; pairs by human labels ${JSON.stringify(histogram)} (none above ${o.overlap})`,
      );
      for (const p of problems.slice(0, 20)) log(`  ${p}`);
      if (problems.length) allPassed = false;
    } finally {
      await s.close();
    }
  };
  const on = routes.map(where).join(', alternating with ');
  try {
    if (o.saturation.length) {
      const seconds = env('BENCH_TEAM_SATURATION_SECONDS', 20);
      log(
        `## Saturation on ${on}: one dataset (${o.pairs.toLocaleString('en')} pairs, overlap ${o.overlap}, fixed order), annotators that claim and submit as fast as the server answers, ${processes} processes, ${seconds} s a load`,
      );
      for (const n of o.saturation) for (const via of routes) await load(via, 'saturation', n, seconds);
      log(
        `## Claims alone at saturation on ${on}: the same, each annotator letting its claim go at once and claiming again (every claim a new one, on the first pairs of the order), ${seconds} s a load`,
      );
      for (const n of o.saturation) for (const via of routes) await load(via, 'claims', n, seconds);
    }
    if (o.open.length) {
      const seconds = env('BENCH_TEAM_OPEN_SECONDS', 25);
      log(
        `## Open loop on ${on}: one dataset (${o.pairs.toLocaleString('en')} pairs, overlap ${o.overlap}, fixed order), each annotator a label every ${(paceMs / 1000).toFixed(1)} s +- ${(jitter * 100).toFixed(0)} % (scheduled ahead), ${processes} processes, ${seconds} s a load`,
      );
      for (const n of o.open) for (const via of routes) await load(via, 'open', n, seconds);
    }
  } finally {
    await bouncer?.stop();
  }
  return allPassed;
}
