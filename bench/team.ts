// The team load bench (issue 12): simulated annotators, each a process of its own with its own connection,
// loop claimNextPair -> saveLabel on a dataset with a work split (overlap k), against a PostgreSQL
// server this bench starts (Debian's binaries, fsync off as in the tests) and against one SQLite file. On
// PostgreSQL it runs twice, as the superuser (no policies) and with one login per annotator under the team's
// row-level security (issue 17), and prints the two rates side by side. It prints submits/s, submit and claim latencies, contention, and an AUDIT of the database against every
// process's acknowledgements (bench/support/team-load.ts); then the claim latency on a large, mostly done
// dataset on both databases. Settings (environment):
//   BENCH_TEAM_SECONDS (60), BENCH_TEAM_PG_ANNOTATORS (50), BENCH_TEAM_PG_ROUNDS (1: rounds of the two PostgreSQL runs), BENCH_TEAM_SQLITE_ANNOTATORS (4),
//   BENCH_TEAM_OVERLAP (2), BENCH_TEAM_ORDER (fixed), BENCH_TEAM_PAIRS (20000), BENCH_TEAM_LARGE_PAIRS (100000; 0 skips the claim latencies
//   on a large dataset, mostly done and in each assignment order).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres, urlWithoutPassword, type TestPostgres } from '../test/support/postgres';
import { openStore, ASSIGNMENT_ORDERS, type WorkSplit } from '../src/store';
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

export async function runTeamBench(log: (line: string) => void): Promise<boolean> {
  const seconds = env('BENCH_TEAM_SECONDS', 60);
  const overlap = env('BENCH_TEAM_OVERLAP', 2);
  const pairs = env('BENCH_TEAM_PAIRS', 20_000);
  const large = env('BENCH_TEAM_LARGE_PAIRS', 100_000);
  const order = (process.env.BENCH_TEAM_ORDER ?? 'fixed') as WorkSplit['assignment'];
  if (!ASSIGNMENT_ORDERS.includes(order))
    throw new Error(`BENCH_TEAM_ORDER must be one of ${ASSIGNMENT_ORDERS.join(', ')}`);
  const root = projectRoot();
  const dir = mkdtempSync(join(tmpdir(), 'discretion-bench-team-'));
  let server: TestPostgres | undefined;
  let allPassed = true;
  try {
    const script = await buildTeamWorker(dir, root);
    try {
      server = await startPostgres();
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
    if (server) {
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
    if (server) {
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
    if (large > 0) {
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
  } finally {
    server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return allPassed;
}
