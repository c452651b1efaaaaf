// The team load bench (`npm run bench -- team`) in a short version, and its audit: the bench's run on both
// databases passes its audit, and the audit finds each kind of damage done on purpose to a database after
// a load run (a lost acknowledged label, a label that is not the acknowledged one, a label without an
// acknowledgement, a pair over its overlap, a history that does not replay). Its crowds on PostgreSQL (issue
// 22: saturation, claims alone, the open loop at a person's pace, many annotators to a process) label, count
// the server's connections and pass their audits, on the bench's own server and on a database named by
// DISCRETION_BENCH_PG_URL.
import { join } from 'node:path';
import pg from 'pg';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { openStore, type Store } from '../../src/store';
import { Database } from '../../src/store/sqlite/driver';
import { acksOf, auditTeam, buildTeamWorker, runTeamLoad, seedTeamDataset } from '../../bench/support/team-load';
import { runTeamBench } from '../../bench/team';
import { freshPostgresDatabase } from '../support/postgres';
import { ROOT, tempDir } from '../support/helpers';

const server = inject('postgres');
const pgSkip = 'skip' in server ? server.skip : undefined;

let script: string;
beforeAll(async () => {
  script = await buildTeamWorker(tempDir(), ROOT);
});

// One short run of the bench for both tests below: its SQLite half runs with or without a PostgreSQL server (the
// bench then says it skipped PostgreSQL); only the PostgreSQL half needs one.
let benchRun: Promise<{ passed: boolean; text: string }> | undefined;
const runBenchOnce = () =>
  (benchRun ??= (async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      BENCH_TEAM_SECONDS: '2',
      BENCH_TEAM_PG_ANNOTATORS: '8',
      BENCH_TEAM_SQLITE_ANNOTATORS: '3',
      BENCH_TEAM_PAIRS: '400',
      BENCH_TEAM_LARGE_PAIRS: '2000',
      BENCH_TEAM_SATURATION_ANNOTATORS: '4',
      BENCH_TEAM_SATURATION_SECONDS: '2',
      BENCH_TEAM_OPEN_ANNOTATORS: '6',
      BENCH_TEAM_OPEN_SECONDS: '3',
      BENCH_TEAM_PACE_MS: '400',
      BENCH_TEAM_CROWD_PROCESSES: '2',
    });
    const lines: string[] = [];
    try {
      return { passed: await runTeamBench((l) => lines.push(l)), text: lines.join('\n') };
    } finally {
      process.env = saved;
    }
  })());

/**
 * The bench's load run on one database, from its output: the labels its annotators submitted (the figures
 * line), the acknowledged labels the audit checked, and the labels stored (the audit's histogram of pairs by
 * human labels: h[i] pairs hold i labels).
 */
function loadOn(text: string, name: string, annotators: number) {
  const block = new RegExp(
    `^## Team load on ${name}: .*\\n^${annotators} annotators, [\\d.]+ s: (\\d+) labels, .*\\n^AUDIT passed: (\\d+) acknowledged labels, .*; pairs by human labels (\\[[\\d,]+\\]) \\(none above 2\\)$`,
    'm',
  ).exec(text);
  expect(block, `the ${name} run and its passed audit in:\n${text}`).not.toBeNull();
  const histogram = JSON.parse(block![3]) as number[];
  return {
    submitted: Number(block![1]),
    acked: Number(block![2]),
    stored: histogram.reduce((n, pairs, i) => n + i * pairs, 0),
  };
}

describe('npm run bench -- team, short', () => {
  const figures =
    /^\d+ annotators, [\d.]+ s: \d+ labels, [\d.]+ submits\/s; submit p50 [\d.]+ ms, p95 [\d.]+ ms; claim p50 [\d.]+ ms, p95 [\d.]+ ms, max [\d.]+ ms; contention: \d+ refused submits \(pair full\), \d+ empty claims$/;

  it('runs on SQLite for 2 s: at least one label per annotator process, every acknowledged label is stored, its audit passes', async () => {
    const { passed, text } = await runBenchOnce();
    expect(passed).toBe(true);
    const sqlite = loadOn(text, 'SQLite', 3);
    // 3 processes for 2 s at a few ms a label: far more than one each; 0 would be a bench that labels nothing
    expect(sqlite.submitted).toBeGreaterThanOrEqual(3);
    expect(sqlite.acked).toBe(sqlite.submitted);
    expect(sqlite.stored).toBe(sqlite.acked);
    expect(text.split('\n').filter((l) => l.startsWith('3 annotators, '))[0]).toMatch(figures);
    expect(text).toMatch(/^SQLite: claim p50 [\d.]+ ms/m);
  }, 180_000);

  it.skipIf(pgSkip)(
    'runs on PostgreSQL for 2 s: at least one label per annotator process, every acknowledged label is stored, its audit passes',
    async () => {
      const { passed, text } = await runBenchOnce();
      expect(passed).toBe(true);
      const postgres = loadOn(text, 'PostgreSQL, superuser \\(no policies\\)', 8);
      expect(postgres.submitted).toBeGreaterThanOrEqual(8);
      expect(postgres.acked).toBe(postgres.submitted);
      expect(postgres.stored).toBe(postgres.acked);
      // the same load with one annotator login per process, under the team's row-level security
      const members = loadOn(text, 'PostgreSQL, annotator logins \\(row-level security\\)', 8);
      expect(members.submitted).toBeGreaterThanOrEqual(8);
      expect(members.acked).toBe(members.submitted);
      expect(members.stored).toBe(members.acked);
      for (const line of text.split('\n').filter((l) => l.startsWith('8 annotators, '))) expect(line).toMatch(figures);
      expect(text).toMatch(
        /^submits\/s: superuser \(no policies\) [\d.]+ \| annotator logins \(row-level security\) [\d.]+ = \d+ %$/m,
      );
      expect(text).toMatch(/^PostgreSQL: claim p50 [\d.]+ ms/m);
    },
    180_000,
  );
});

/**
 * One crowd load of the bench's output under its heading: the figures and the audit that follow them. `via`: on
 * the bench's own server each load runs directly and through PgBouncer, its lines marked "[direct]" and
 * "[pgbouncer]"; on DISCRETION_BENCH_PG_URL, unmarked.
 */
function crowdOn(text: string, heading: string, annotators: number, via?: 'direct' | 'pgbouncer') {
  const head = new RegExp(`^## ${heading}.*$`, 'm').exec(text);
  expect(head, `the ${heading} heading in:\n${text}`).not.toBeNull();
  const section = text.slice(head!.index + head![0].length).split(/^## /m)[0];
  const block = new RegExp(
    `^${via ? `\\[${via}\\] ` : ''}(${annotators} annotators, [\\d.]+ s: ([\\d.]+) claims/s, ([\\d.]+) labels/s; .*)\\n^AUDIT passed: (\\d+) acknowledged labels, .*; pairs by human labels (\\[[\\d,]+\\]) \\(none above 2\\)$`,
    'm',
  ).exec(section);
  expect(block, `the ${heading} load${via ? ` (${via})` : ''} and its passed audit in:\n${text}`).not.toBeNull();
  const line = block![1];
  const histogram = JSON.parse(block![5]) as number[];
  const connections = /server connections max (\d+) \(this database (\d+), active max \d+\)/.exec(line)!;
  return {
    line,
    claimsPerSecond: Number(block![2]),
    labelsPerSecond: Number(block![3]),
    acked: Number(block![4]),
    stored: histogram.reduce((n, pairs, i) => n + i * pairs, 0),
    databaseConnections: Number(connections[2]),
  };
}

/** The figures line of a crowd load: latencies at three percentiles, connections, load; no errors. */
const crowdFigures = (withSubmits: boolean) =>
  new RegExp(
    `^\\d+ annotators, [\\d.]+ s: [\\d.]+ claims/s, [\\d.]+ labels/s; claim p50 [\\d.]+ ms, p95 [\\d.]+ ms, p99 [\\d.]+ ms; ` +
      (withSubmits ? 'submit p50 [\\d.]+ ms, p95 [\\d.]+ ms, p99 [\\d.]+ ms; ' : '') +
      '(submit \\+ next claim p50 [\\d.]+ ms, p95 [\\d.]+ ms, p99 [\\d.]+ ms; late events \\d+ of \\d+ \\(max [\\d.]+ ms\\); )?' +
      'server connections max \\d+ \\(this database \\d+, active max \\d+\\); (server CPU \\d+ % of a core; )?' +
      '(PgBouncer CPU \\d+ % of a core; )?load avg [\\d.]+; ' +
      'contention: \\d+ refused submits \\(pair full\\), \\d+ empty claims$',
  );

describe.skipIf(pgSkip)('npm run bench -- team, its crowds on PostgreSQL, short', () => {
  it('saturation, claims alone and the open loop, directly and through PgBouncer: each crowd labels (or claims), every acknowledged label is stored, the server counts a connection per annotator (the pooler holds fewer), the audits pass', async () => {
    const { passed, text } = await runBenchOnce();
    expect(passed).toBe(true);
    // PgBouncer is a prerequisite here as for the pgbouncer test project: a bench that could not start it says so
    expect(text).not.toMatch(/PgBouncer skipped/);
    for (const via of ['direct', 'pgbouncer'] as const) {
      const saturation = crowdOn(text, 'Saturation on PostgreSQL \\(direct\\), alternating with', 4, via);
      expect(saturation.line).toMatch(crowdFigures(true));
      // 4 annotators for 2 s at a few ms a label: far more than one; 0 would be a crowd that labels nothing
      expect(saturation.acked).toBeGreaterThanOrEqual(4);
      expect(saturation.stored).toBe(saturation.acked);
      const claims = crowdOn(text, 'Claims alone at saturation on PostgreSQL \\(direct\\), alternating with', 4, via);
      expect(claims.line).toMatch(crowdFigures(false));
      expect(claims.claimsPerSecond).toBeGreaterThan(1);
      expect(claims.acked).toBe(0); // claims only: nothing labelled
      expect(claims.stored).toBe(0);
      const open = crowdOn(text, 'Open loop on PostgreSQL \\(direct\\), alternating with', 6, via);
      expect(open.line).toMatch(crowdFigures(true));
      expect(open.line).toMatch(/submit \+ next claim p50/);
      // 6 annotators, each holding a card, a label every 0.4 s +- 50 % for 3 s: about 45 labels
      expect(open.acked).toBeGreaterThanOrEqual(12);
      expect(open.stored).toBe(open.acked);
      if (via === 'direct') {
        // each annotator's store keeps its connection while the crowd runs (pg_stat_activity, sampled each second)
        expect(open.databaseConnections).toBeGreaterThanOrEqual(6);
        expect(open.line).not.toMatch(/PgBouncer CPU/);
      } else {
        // through the pooler the server sees its server connections, and PgBouncer's own CPU is read
        expect(open.databaseConnections).toBeGreaterThanOrEqual(1);
        expect(open.line).toMatch(/PgBouncer CPU \d+ % of a core/);
      }
    }
  }, 180_000);

  it('runs its crowds on the database DISCRETION_BENCH_PG_URL names, without a server of its own, and shows that URL without its password', async () => {
    const url = await freshPostgresDatabase('url' in server ? server.url : '');
    const saved = { ...process.env };
    Object.assign(process.env, {
      BENCH_TEAM_PARTS: 'open',
      BENCH_TEAM_OPEN_ANNOTATORS: '3',
      BENCH_TEAM_OPEN_SECONDS: '2',
      BENCH_TEAM_PACE_MS: '300',
      BENCH_TEAM_PAIRS: '200',
      BENCH_TEAM_CROWD_PROCESSES: '1',
      DISCRETION_BENCH_PG_URL: url,
    });
    const lines: string[] = [];
    let passed: boolean;
    try {
      passed = await runTeamBench((l) => lines.push(l));
    } finally {
      process.env = saved;
    }
    const text = lines.join('\n');
    expect(passed).toBe(true);
    const u = new URL(url);
    expect(text).not.toContain(decodeURIComponent(u.password));
    expect(text).not.toMatch(/^## (Team load|Saturation|Claim latency)/m); // only the part asked for
    const open = crowdOn(
      text,
      `Open loop on PostgreSQL at postgres://postgres@127\\.0\\.0\\.1:${u.port}${u.pathname}:`,
      3,
    );
    expect(open.stored).toBe(open.acked);
    expect(open.acked).toBeGreaterThanOrEqual(3);
    // the crowd's dataset is in that database, named for the run
    const s = await openStore(url);
    try {
      expect((await s.info()).datasets.map((d) => d.name)).toEqual([expect.stringMatching(/^open-3-[0-9a-z]+$/)]);
    } finally {
      await s.close();
    }
  }, 120_000);
});

const adapters = [
  { name: 'SQLite', skip: undefined as string | undefined, location: async () => join(tempDir(), 'team.db') },
  { name: 'PostgreSQL', skip: pgSkip, location: () => freshPostgresDatabase('url' in server ? server.url : '') },
];

for (const adapter of adapters) {
  describe.skipIf(adapter.skip)(`the team audit on ${adapter.name}`, () => {
    it('passes after a load run that finished every pair, and finds each kind of damage done on purpose', async () => {
      const location = await adapter.location();
      await seedTeamDataset(location, 'team', 30, 2);
      // until every pair is done (each process stops at its first empty claim; 60 s at most)
      const r = await runTeamLoad({
        script,
        root: ROOT,
        location,
        dataset: 'team',
        annotators: 3,
        seconds: 60,
        untilDone: true,
      });
      const acks = acksOf(r);
      expect([...acks.values()].flat()).toHaveLength(60); // 30 pairs x 2 labels
      let s: Store = await openStore(location);
      try {
        expect(await auditTeam(s, 'team', 2, acks)).toEqual([]);
        const dataset = (await s.requireDataset('team')).id;
        expect(await s.labelCountHistogram(dataset)).toEqual([0, 0, 30]);
        const pairRowIds = await s.pairRowIds(dataset);
        // the annotator with the most acknowledgements (at least 20 of the 60)
        const a = [...acks.keys()].sort((x, y) => acks.get(y)!.length - acks.get(x)!.length)[0];
        const [lost, changed, unacked] = acks.get(a)!;
        const annotator = async (name: string) => (await s.requireAnnotator(name)).id;
        // damage: a lost label, a changed one, an ack that went missing, a third label on a full pair (only with the
        // overlap trigger off: the database itself refuses a label beyond k; PostgreSQL's disabled as the superuser
        // (preferences_check: the overlap and the keys of a new label since migration 12), SQLite's, which cannot
        // be disabled, dropped and then created again from its own statement)
        let sqliteTrigger = '';
        const overlapTrigger = async (on: boolean) => {
          if (adapter.name === 'PostgreSQL') {
            const c = new pg.Client({ connectionString: location });
            await c.connect();
            await c
              .query(`ALTER TABLE preferences ${on ? 'ENABLE' : 'DISABLE'} TRIGGER preferences_check`)
              .finally(() => c.end());
            return;
          }
          const db = await Database.open(location);
          try {
            if (on) await db.exec(sqliteTrigger);
            else {
              sqliteTrigger = (
                await db.all<{ sql: string }>(
                  "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'preferences_overlap'",
                )
              )[0]!.sql;
              await db.exec('DROP TRIGGER preferences_overlap');
            }
          } finally {
            await db.close();
          }
        };
        await overlapTrigger(false);
        await s.write(async (tx) => {
          await tx.putLabelState(await annotator(a), pairRowIds.get(lost.idx)!, { preference: null, principles: [] });
          const state = await tx.labelState(await annotator(a), pairRowIds.get(changed.idx)!);
          await tx.putLabelState(await annotator(a), pairRowIds.get(changed.idx)!, {
            ...state,
            preference: { ...state.preference!, rationale: 'not what was acknowledged' },
          });
          const intruder = (await tx.ensureAnnotator('intruder', 'human', null)).id;
          await tx.putLabelState(intruder, pairRowIds.get(5)!, {
            preference: { ...state.preference!, rationale: 'x' },
            principles: [],
          });
        });
        await overlapTrigger(true);
        const damaged = new Map(acks);
        damaged.set(
          a,
          acks.get(a)!.filter((x) => x !== unacked),
        );
        await s.close();
        s = await openStore(location);
        const problems = await auditTeam(s, 'team', 2, damaged);
        const expected = [
          new RegExp(`^${a}'s acknowledged label on pair ${lost.idx} \\(#${lost.seq}\\) is not stored$`),
          new RegExp(`^${a}'s label history on pair ${lost.idx} ends with a label, the database holds none$`),
          new RegExp(
            `^${a}'s label on pair ${changed.idx} is not the acknowledged one \\(#${changed.seq}\\): rationale "not what was acknowledged"$`,
          ),
          new RegExp(
            `^${a}'s label history on pair ${changed.idx} ends with "${a}#${changed.seq}", the database holds "not what was acknowledged"$`,
          ),
          new RegExp(`^${a} has 1 stored labels without an acknowledgement \\(pairs ${unacked.idx}\\)$`),
          /^pair 5 holds 3 human labels, more than the overlap 2$/,
        ];
        for (const re of expected) expect(problems, re.source).toContainEqual(expect.stringMatching(re));
        expect(problems).toHaveLength(expected.length);
      } finally {
        await s.close();
      }
    }, 120_000);
  });
}
