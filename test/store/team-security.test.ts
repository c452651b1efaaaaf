// The red team of a team's PostgreSQL database (issue 17): an annotator's login (bob) tries every lead's
// action and every change to another annotator's (alice's) labels, once through the store as the extension
// and the CLI call it and once through raw SQL on a connection of his own. Each attempt is refused (an error;
// a DELETE or UPDATE that the row-level policies filter changes 0 rows) and a data-only pg_dump of the
// database, taken by the server's superuser, is byte for byte what it was. Then the other side: what a lead
// and alice may do, they can. The roles are made as a DBA makes them (CREATE ROLE ... LOGIN, a database
// owned by the lead's login, nothing else); the team's grants and policies are `initTeamDatabase`'s.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { adjudicate } from '../../src/app/review';
import { saveLabel, undoLastLabel, type WorkbenchLabel } from '../../src/app/workbench';
import { openStore } from '../../src/store';
import { initTeamDatabase } from '../../src/store/postgres/adapter';
import { teamRoleNames } from '../../src/store/postgres/team';
import { PairFullError, type Store } from '../../src/store';
import { createTeamLogins, loginUrl, postgresBinDir } from '../support/postgres';

const server = inject('postgres');
const pgSkip = 'skip' in server ? server.skip : undefined;

describe.skipIf(pgSkip)("team security on PostgreSQL: an annotator's login against the team's rules", () => {
  const serverUrl = 'url' in server ? server.url : '';
  const password = 'password' in server ? server.password : '';
  // Role names are the server's, not the database's: unique per run.
  const sfx = Math.random().toString(36).slice(2, 8);
  const db = `team_sec_${sfx}`;
  const login = { owner: `lead_${sfx}`, carol: `carol_${sfx}`, alice: `alice_${sfx}`, bob: `bob_${sfx}` };
  const groups = teamRoleNames(db);
  const url = (user: string) => loginUrl(serverUrl, user, db, password);
  const suUrl = () => {
    const u = new URL(serverUrl);
    u.pathname = `/${db}`;
    return u.toString();
  };

  let su: pg.Client; // the server's superuser (the DBA), on the team's database
  let owner: Store; // the lead who owns the database and ran team init
  let carol: Store; // a lead who does not own it
  let alice: Store;
  let bob: Store;
  let bobSql: pg.Client;
  let carolSql: pg.Client;
  let aliceSql: pg.Client;
  const ids = { ds1: 0, ds2: 0, alice: 0, bob: 0, carol: 0, rm: 0, p0: 0 };
  const row1 = new Map<number, number>();
  const row2 = new Map<number, number>();

  const label = (
    value: -1 | 0 | 1,
    rationale: string,
    principles: WorkbenchLabel['principles'] = [],
  ): WorkbenchLabel => ({ value, raw: null, shownFirst: 0, rationale, flagged: false, principles });

  /**
   * A data-only pg_dump of the database as the superuser: the bytes every refused attempt must leave as they
   * were. The sequences' positions are left out: nextval is never rolled back (PostgreSQL's documentation,
   * "Sequence Manipulation Functions"), so an insert the policies refuse has moved its identity's sequence.
   */
  const pgDump = join(postgresBinDir() ?? '/usr/bin', 'pg_dump');
  const dump = (): string[] =>
    execFileSync(
      pgDump,
      ['--data-only', '--restrict-key=discretion', `--dbname=${suUrl().replace(/:[^:@/]*@/, '@')}`],
      { encoding: 'utf8', env: { ...process.env, PGPASSWORD: password } },
    )
      .split('\n')
      .filter((l) => !l.startsWith('SELECT pg_catalog.setval('));

  /** Runs the attempts; the database's data is byte for byte as it was. */
  async function unchanged(attempts: () => Promise<void>): Promise<void> {
    const before = dump();
    await attempts();
    expect(dump()).toEqual(before);
  }

  /** A store operation refused with one line that names the database and never its password. */
  async function storeRefuses(
    op: Promise<unknown>,
    message: RegExp = /permission denied|row-level security|not allowed|only a lead/,
  ): Promise<Error> {
    const e = await op.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e, 'the store should have refused').toBeInstanceOf(Error);
    const err = e as Error;
    expect(err.message).toMatch(message);
    expect(err.message.split('\n')).toHaveLength(1);
    expect(err.message).not.toContain(password);
    return err;
  }

  /** A raw statement the server refuses, with this SQLSTATE (42501: insufficient privilege; 42P01 etc. where named). */
  async function sqlRefuses(client: pg.Client, sql: string, params: unknown[] = [], code = '42501'): Promise<void> {
    const e = await client.query(sql, params).then(
      () => undefined,
      (err: unknown) => err as { code?: string; message?: string },
    );
    expect(e, `${sql} should have been refused`).toBeDefined();
    expect(`${e!.code} ${e!.message}`).toMatch(new RegExp(`^${code} `));
  }

  /** A raw DELETE or UPDATE that the row-level policies filter: it runs and changes no row. */
  async function sqlChangesNothing(client: pg.Client, sql: string, params: unknown[] = []): Promise<void> {
    expect((await client.query(sql, params)).rowCount, sql).toBe(0);
  }

  /** alice's rows in each table that holds an annotator's rows, as `client` reads them. */
  async function aliceRowsSeenBy(client: pg.Client): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const t of ['preferences', 'principle_preferences', 'label_history', 'claims', 'workbench_positions']) {
      out[t] = (await client.query(`SELECT * FROM ${t} WHERE annotator_id = $1`, [ids.alice])).rowCount!;
    }
    return out;
  }
  const noneOfAlice = { preferences: 0, principle_preferences: 0, label_history: 0, claims: 0, workbench_positions: 0 };

  async function connect(user: string): Promise<pg.Client> {
    const c = new pg.Client({ connectionString: url(user) });
    await c.connect();
    return c;
  }

  beforeAll(async () => {
    // What the DBA does, and nothing more: the logins, and a database the lead's login owns.
    await createTeamLogins(serverUrl, {
      database: db,
      lead: login.owner,
      members: [login.carol, login.alice, login.bob],
      password,
    });
    const init = await initTeamDatabase(url(login.owner));
    expect(init).toMatchObject({ leadRole: groups.lead, annotatorRole: groups.annotator, visibility: 'blind' });
    owner = await openStore(url(login.owner));
    await owner.addTeamMember(login.carol, 'carol', 'lead');
    await owner.addTeamMember(login.alice, 'alice', 'annotator');
    await owner.addTeamMember(login.bob, 'bob', 'annotator');
    su = new pg.Client({ connectionString: suUrl() });
    await su.connect();

    // The lead's imports: two datasets with a split (overlap 1 and 2), a principle list, a reward model's judgments.
    Object.assign(
      ids,
      await owner.write(async (tx) => {
        const pair = (prefix: string) => (i: number) => ({
          idx: i,
          sourceId: `${prefix}${i}`,
          prompt: `prompt ${prefix}${i}`,
          y0: `a${i}`,
          y1: `b${i}`,
        });
        const ds1 = await tx.createDataset('split1', 'jsonl', null);
        let first = await tx.nextPairRowId();
        await tx.insertPairs(ds1, [0, 1, 2, 3].map(pair('s')), [first, first + 1, first + 2, first + 3]);
        await tx.setWorkSplit(ds1, { overlap: 1, assignment: 'fixed', seed: 0 });
        const ds2 = await tx.createDataset('split2', 'jsonl', null);
        first = await tx.nextPairRowId();
        await tx.insertPairs(ds2, [0, 1, 2].map(pair('t')), [first, first + 1, first + 2]);
        await tx.setWorkSplit(ds2, { overlap: 2, assignment: 'fixed', seed: 0 });
        const { list } = await tx.savePrincipleList(
          'pl',
          [
            { id: 'p0', short: 'zero', text: 'Zero' },
            { id: 'p1', short: 'one', text: 'One' },
          ],
          null,
        );
        const rm = await tx.ensureAnnotator('rm', 'reward-model', { model: 'rm-x' });
        const r1 = await tx.pairRowIds(ds1);
        const r2 = await tx.pairRowIds(ds2);
        // the model judged s0..s2, not s3: a judgment of s3 would be new
        await tx.insertPreferences(
          rm.id,
          [0, 1, 2].map((i) => ({ pairIdx: i, value: 1 as const, scoreY0: 0.5, scoreY1: 0.25 })),
          (i) => r1.get(i)!,
        );
        await tx.insertPreferences(
          rm.id,
          [0, 1, 2].map((i) => ({ pairIdx: i, value: -1 as const, scoreY0: 0.1, scoreY1: 0.9 })),
          (i) => r2.get(i)!,
        );
        return { ds1, ds2, rm: rm.id, p0: (await tx.principleRowIds(list.id))[0] };
      }),
    );
    for (const [k, v] of await owner.pairRowIds(ids.ds1)) row1.set(k, v);
    for (const [k, v] of await owner.pairRowIds(ids.ds2)) row2.set(k, v);
    carol = await openStore(url(login.carol));
    alice = await openStore(url(login.alice));
    bob = await openStore(url(login.bob));
    ids.alice = (await alice.requireAnnotator('alice')).id;
    ids.bob = (await bob.requireAnnotator('bob')).id;
    ids.carol = (await carol.requireAnnotator('carol')).id;
    expect(await alice.identity()).toEqual({
      login: login.alice,
      owner: false,
      role: 'annotator',
      annotator: 'alice',
      visibility: 'blind',
    });

    // The work so far: alice labelled s0 (with a principle label and a rationale), bob s1; alice holds s2.
    expect(await alice.claimNextPair(ids.ds1, ids.alice, Date.now(), 600_000)).toBe(0);
    await saveLabel(
      alice,
      ids.alice,
      row1.get(0)!,
      label(-1, 'alice-secret-s0', [{ principleRowId: ids.p0, value: 1 }]),
    );
    await alice.saveWorkbenchPosition(ids.alice, ids.ds1, 0);
    expect(await bob.claimNextPair(ids.ds1, ids.bob, Date.now(), 600_000)).toBe(1);
    await saveLabel(bob, ids.bob, row1.get(1)!, label(1, 'bob-own-s1'));
    expect(await alice.claimNextPair(ids.ds1, ids.alice, Date.now(), 600_000)).toBe(2);
    bobSql = await connect(login.bob);
    carolSql = await connect(login.carol);
    aliceSql = await connect(login.alice);
  });

  afterAll(async () => {
    for (const s of [owner, carol, alice, bob]) await s?.close().catch(() => undefined);
    for (const c of [bobSql, carolSql, aliceSql, su]) await c?.end().catch(() => undefined);
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      for (const r of [...Object.values(login), groups.lead, groups.annotator])
        await admin.query(`DROP ROLE IF EXISTS ${r}`);
    } finally {
      await admin.end();
    }
  });

  describe('bob, an annotator, is refused', () => {
    it('labelling as alice: her preference, principle labels or history', async () => {
      await unchanged(async () => {
        await storeRefuses(
          saveLabel(bob, ids.alice, row1.get(3)!, label(1, 'forged')),
          /row-level security policy for table "preferences"/,
        );
        await storeRefuses(
          bob.write((tx) => tx.insertPreferences(ids.alice, [{ pairIdx: 3, value: 1 }], (i) => row1.get(i)!)),
        );
        await storeRefuses(
          bob.write((tx) =>
            tx.insertPrinciplePreferences(
              ids.alice,
              [{ pairIdx: 0, principleIndex: 1, value: 1 }],
              (i) => row1.get(i)!,
              [ids.p0, ids.p0 + 1],
            ),
          ),
        );
        await storeRefuses(
          bob.write((tx) =>
            tx.appendLabelHistory(
              ids.alice,
              row1.get(3)!,
              'submit',
              { preference: null, principles: [] },
              { preference: null, principles: [] },
            ),
          ),
        );
        await sqlRefuses(
          bobSql,
          `INSERT INTO preferences (pair_id, annotator_id, value, flagged, created_at, updated_at) VALUES ($1, $2, 1, 0, 'x', 'x')`,
          [row1.get(3), ids.alice],
        );
        await sqlRefuses(
          bobSql,
          `INSERT INTO principle_preferences (pair_id, annotator_id, principle_id, value, created_at) VALUES ($1, $2, $3, 1, 'x')`,
          [row1.get(0), ids.alice, ids.p0 + 1],
        );
        await sqlRefuses(
          bobSql,
          `INSERT INTO label_history (annotator_id, pair_id, action, before_state, after_state, created_at) VALUES ($1, $2, 'submit', '{}', '{}', 'x')`,
          [ids.alice, row1.get(3)],
        );
        await sqlRefuses(
          bobSql,
          'INSERT INTO workbench_positions (annotator_id, dataset_id, pair_idx, updated_at) VALUES ($1, $2, 3, $3)',
          [ids.alice, ids.ds2, 'x'],
        );
      });
    });

    it("changing or deleting alice's labels (the policies filter her rows out: 0 rows)", async () => {
      await unchanged(async () => {
        // as the workbench would: her label state replaced (a delete that finds nothing, then a refused insert), her last submission undone
        await storeRefuses(
          bob.write((tx) =>
            tx.putLabelState(ids.alice, row1.get(0)!, {
              preference: {
                value: 1,
                score_y0: null,
                score_y1: null,
                raw: null,
                shown_first: 0,
                rationale: 'changed',
                flagged: 0,
                created_at: 'x',
                updated_at: 'x',
              },
              principles: [],
            }),
          ),
        );
        expect(await undoLastLabel(bob, ids.alice, ids.ds1)).toBeUndefined();
        expect(
          await bob.write((tx) => tx.putLabelState(ids.alice, row1.get(0)!, { preference: null, principles: [] })),
        ).toBeUndefined();
        for (const t of ['preferences', 'principle_preferences']) {
          await sqlChangesNothing(bobSql, `UPDATE ${t} SET value = 1 WHERE annotator_id = $1`, [ids.alice]);
          await sqlChangesNothing(bobSql, `DELETE FROM ${t} WHERE annotator_id = $1`, [ids.alice]);
        }
        await sqlChangesNothing(bobSql, 'UPDATE label_history SET undone = 1 WHERE annotator_id = $1', [ids.alice]);
        await sqlChangesNothing(bobSql, 'UPDATE workbench_positions SET pair_idx = 3 WHERE annotator_id = $1', [
          ids.alice,
        ]);
        await sqlChangesNothing(bobSql, 'DELETE FROM workbench_positions WHERE annotator_id = $1', [ids.alice]);
        // the keys are not his to move: his own label cannot become hers
        await sqlRefuses(bobSql, 'UPDATE preferences SET annotator_id = $1 WHERE annotator_id = $2', [
          ids.alice,
          ids.bob,
        ]);
      });
    });

    it("reading alice's labels, rationales, history, claims and position; the reward model's judgments stay readable", async () => {
      expect(await aliceRowsSeenBy(bobSql)).toEqual(noneOfAlice);
      // the same reads as alice: the rows are there
      expect(await aliceRowsSeenBy(aliceSql)).toEqual({
        preferences: 1,
        principle_preferences: 1,
        label_history: 1,
        claims: 2,
        workbench_positions: 1,
      });
      expect((await bobSql.query("SELECT 1 FROM preferences WHERE rationale = 'alice-secret-s0'")).rowCount).toBe(0);
      const prefs = await bob.overallPreferences(ids.ds1);
      expect(prefs.filter((p) => p.annotatorId === ids.alice)).toEqual([]);
      expect(
        prefs
          .filter((p) => p.annotatorId === ids.rm)
          .map((p) => p.pairIdx)
          .sort(),
      ).toEqual([0, 1, 2]);
      expect(prefs.filter((p) => p.annotatorId === ids.bob).map((p) => p.pairIdx)).toEqual([1]);
      expect((await bob.preferencesForPairs([row1.get(0)!])).map((p) => p.annotator)).toEqual(['rm']);
      expect(await bob.principlePreferencesForPairs([row1.get(0)!])).toEqual([]);
      expect(await bob.labelState(ids.alice, row1.get(0)!)).toEqual({ preference: null, principles: [] });
      expect(await bob.labelHistory(ids.alice)).toEqual([]);
      expect(await bob.workbenchPosition(ids.alice, ids.ds1)).toBeUndefined();
      expect((await bob.liveClaims(ids.ds1, Date.now())).filter((c) => c.annotator === 'alice')).toEqual([]);
      expect((await bob.dumpTables()).preferences.filter((r) => r.includes('alice-secret'))).toEqual([]);
      // counts only, through the owner's views: a pair is labelled, not by whom or how
      expect(await bob.labelCountHistogram(ids.ds1)).toEqual([2, 2]);
      expect((await bobSql.query('SELECT * FROM human_labels LIMIT 1')).fields.map((f) => f.name)).toEqual(['pair_id']);
    });

    it('setting or changing a work split', async () => {
      await unchanged(async () => {
        await storeRefuses(
          bob.write((tx) => tx.setWorkSplit(ids.ds1, { overlap: 4, assignment: 'fixed', seed: 0 })),
          /permission denied for table datasets/,
        );
        await sqlRefuses(bobSql, 'UPDATE datasets SET overlap = 4');
        await sqlRefuses(bobSql, 'UPDATE datasets SET claim_floor = 3');
        await sqlRefuses(bobSql, 'UPDATE pairs SET claim_rank = NULL');
        await sqlRefuses(bobSql, 'DELETE FROM claim_floors');
        await sqlRefuses(bobSql, 'INSERT INTO claim_floors (dataset_id, level, floor) VALUES ($1, 0, 99)', [ids.ds2]);
      });
    });

    it("releasing alice's claims (0 rows)", async () => {
      await unchanged(async () => {
        expect(await bob.write((tx) => tx.releaseClaims(ids.ds1, ids.alice))).toBe(0);
        await sqlChangesNothing(bobSql, 'DELETE FROM claims WHERE annotator_id = $1', [ids.alice]);
        await sqlChangesNothing(bobSql, 'UPDATE claims SET expires_at = 0 WHERE annotator_id = $1', [ids.alice]);
        await sqlRefuses(bobSql, 'UPDATE claims SET annotator_id = $1', [ids.bob]);
      });
    });

    it('adjudicating, before and after a lead has (the annotator `adjudicated` is not his to create or write as)', async () => {
      const request = { dataset: 'split1', pair: 's0', label: 'y1' };
      await unchanged(async () => {
        await storeRefuses(adjudicate(bob, request), /permission denied for table annotators/);
        await sqlRefuses(
          bobSql,
          "INSERT INTO annotators (name, kind, created_at) VALUES ('adjudicated', 'adjudicator', 'x')",
        );
      });
      await adjudicate(carol, { ...request, label: 'y0' });
      const adjudicator = (await bob.requireAnnotator('adjudicated')).id;
      await unchanged(async () => {
        await storeRefuses(adjudicate(bob, request), /row-level security policy for table "preferences"/);
        await sqlRefuses(
          bobSql,
          `INSERT INTO preferences (pair_id, annotator_id, value, flagged, created_at, updated_at) VALUES ($1, $2, 1, 0, 'x', 'x')`,
          [row1.get(1), adjudicator],
        );
        await sqlChangesNothing(bobSql, 'UPDATE preferences SET value = 1 WHERE annotator_id = $1', [adjudicator]);
      });
    });

    it('importing model judgments: a new model, or more rows of an existing one', async () => {
      await unchanged(async () => {
        await storeRefuses(
          bob.write((tx) => tx.ensureAnnotator('rm2', 'reward-model', { model: 'y' })),
          /permission denied for table annotators/,
        );
        await storeRefuses(
          bob.write((tx) => tx.insertPreferences(ids.rm, [{ pairIdx: 3, value: -1 }], (i) => row1.get(i)!)),
          /row-level security policy for table "preferences"/,
        );
        await storeRefuses(bob.write((tx) => tx.setAnnotatorGroup(['rm'], 'g')));
        await sqlRefuses(bobSql, "INSERT INTO annotators (name, kind, created_at) VALUES ('rm2', 'reward-model', 'x')");
        await sqlRefuses(
          bobSql,
          `INSERT INTO preferences (pair_id, annotator_id, value, flagged, created_at, updated_at) VALUES ($1, $2, 1, 0, 'x', 'x')`,
          [row1.get(3), ids.rm],
        );
        await sqlChangesNothing(bobSql, 'UPDATE preferences SET value = 0 WHERE annotator_id = $1', [ids.rm]);
        await sqlChangesNothing(bobSql, 'DELETE FROM preferences WHERE annotator_id = $1', [ids.rm]);
        await sqlRefuses(bobSql, "UPDATE annotators SET kind = 'reward-model' WHERE name = 'alice'");
      });
    });

    it('importing a dataset or a principle list', async () => {
      await unchanged(async () => {
        await storeRefuses(
          bob.write((tx) => tx.createDataset('evil', 'jsonl', null)),
          /permission denied for table datasets/,
        );
        await storeRefuses(
          bob.write(async (tx) => {
            const first = await tx.nextPairRowId();
            await tx.insertPairs(ids.ds1, [{ idx: 9, sourceId: 's9', prompt: 'p', y0: 'a', y1: 'b' }], [first]);
          }),
          /permission denied for table pairs/,
        );
        await storeRefuses(bob.write((tx) => tx.savePrincipleList('evil', [{ id: 'x', short: 'x', text: 'x' }], null)));
        await sqlRefuses(bobSql, "INSERT INTO datasets (name, format, created_at) VALUES ('evil', 'jsonl', 'x')");
        await sqlRefuses(bobSql, "UPDATE pairs SET prompt = 'changed'");
        await sqlRefuses(bobSql, 'DELETE FROM pairs');
        await sqlRefuses(bobSql, 'DELETE FROM datasets');
      });
    });

    it('saving a metric run', async () => {
      await unchanged(async () => {
        await storeRefuses(bob.saveMetricRun(ids.ds1, 'v', {}, {}, {}), /permission denied for table metric_runs/);
        await sqlRefuses(
          bobSql,
          "INSERT INTO metric_runs (created_at, tool_version, params, input_hashes, results) VALUES ('x', 'v', '{}', '{}', '{}')",
        );
      });
    });

    it('making himself a lead or changing the team', async () => {
      await unchanged(async () => {
        await storeRefuses(
          bob.addTeamMember(login.bob, 'bob', 'lead'),
          /permission denied for function discretion_team_add/,
        );
        await storeRefuses(bob.removeTeamMember(login.alice), /permission denied for function discretion_team_remove/);
        await sqlRefuses(bobSql, 'SELECT discretion_team_add($1, $2, $3)', [login.bob, 'bob', 'lead']);
        await sqlRefuses(bobSql, 'SELECT discretion_team_remove($1)', [login.alice]);
        await sqlRefuses(bobSql, "UPDATE team_members SET role = 'lead'");
        await sqlRefuses(bobSql, "UPDATE team_config SET visibility = 'open'");
        await sqlRefuses(bobSql, `GRANT ${groups.lead} TO ${login.bob}`, [], '(42501|0LP01)');
      });
      expect((await owner.teamMembers()).find((m) => m.login === login.bob)?.role).toBe('annotator');
    });

    it("moving a claim floor past pairs that are not full, by calling the owner's functions himself", async () => {
      await unchanged(async () => {
        expect(
          (await bobSql.query('SELECT discretion_move_claim_floor($1, 0, 999, 1) AS moved', [ids.ds1])).rows[0].moved,
        ).toBe(0);
        expect(
          (await bobSql.query('SELECT discretion_move_claim_floor($1, 0, 999, 2) AS moved', [ids.ds2])).rows[0].moved,
        ).toBe(0);
        expect(
          (await bobSql.query('SELECT discretion_move_level_floor($1, 0, NULL, 999) AS moved', [ids.ds2])).rows[0]
            .moved,
        ).toBe(0);
        // nor back, nor a floor of a level the split has not (below 0, or k and above): rows no claim writes
        const floor = (await su.query<{ f: string }>('SELECT claim_floor AS f FROM datasets WHERE id = $1', [ids.ds1]))
          .rows[0].f;
        expect(Number(floor)).toBe(2);
        expect(
          (await bobSql.query('SELECT discretion_move_claim_floor($1, $2, 0, 1) AS moved', [ids.ds1, floor])).rows[0]
            .moved,
        ).toBe(0);
        expect(
          (await bobSql.query('SELECT discretion_move_level_floor($1, -1, NULL, 999) AS moved', [ids.ds2])).rows[0]
            .moved,
        ).toBe(0);
        expect(
          (await bobSql.query('SELECT discretion_move_level_floor($1, 2, NULL, 0) AS moved', [ids.ds2])).rows[0].moved,
        ).toBe(0);
        await sqlRefuses(bobSql, "SELECT discretion_analyze('team_members')", [], 'P0001');
      });
    });

    it('a claim lasting a year', async () => {
      await unchanged(async () => {
        await storeRefuses(
          bob.claimNextPair(ids.ds2, ids.bob, Date.now(), 365 * 86_400_000),
          /a claim may last a week at most/,
        );
        await sqlRefuses(
          bobSql,
          'INSERT INTO claims (pair_id, annotator_id, expires_at) VALUES ($1, $2, discretion_now_ms() + 365 * 86400000::bigint)',
          [row2.get(2), ids.bob],
          '22023',
        );
      });
    });

    it('truncating, dropping or unprotecting any table; rewriting or deleting the label history', async () => {
      const tables = (
        await su.query<{ t: string }>(
          "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
        )
      ).rows.map((r) => r.t);
      expect(tables).toContain('preferences');
      await unchanged(async () => {
        for (const t of tables) {
          await sqlRefuses(bobSql, `TRUNCATE ${t} CASCADE`);
          await sqlRefuses(bobSql, `DROP TABLE ${t} CASCADE`);
          await sqlRefuses(bobSql, `ALTER TABLE ${t} DISABLE ROW LEVEL SECURITY`);
          await sqlRefuses(bobSql, `ALTER TABLE ${t} OWNER TO ${login.bob}`);
          await sqlRefuses(bobSql, `CREATE POLICY mine ON ${t} USING (true)`);
        }
        for (const p of ['discretion_own', 'discretion_models_read'])
          await sqlRefuses(bobSql, `DROP POLICY ${p} ON preferences`);
        await sqlRefuses(bobSql, 'ALTER TABLE label_history DISABLE TRIGGER ALL');
        await sqlRefuses(bobSql, 'DELETE FROM label_history');
        await sqlRefuses(bobSql, 'DELETE FROM label_history WHERE annotator_id = $1', [ids.bob]);
        await sqlRefuses(bobSql, "UPDATE label_history SET after_state = '{}'");
        await sqlRefuses(bobSql, "UPDATE label_history SET login = 'someone'");
        // his own submission: marking it undone with the store's undo is allowed, rewriting it is not
        await sqlRefuses(bobSql, 'UPDATE label_history SET undone = 1, created_at = $2 WHERE annotator_id = $1', [
          ids.bob,
          'x',
        ]);
        await sqlRefuses(bobSql, 'DROP FUNCTION discretion_preferences_check() CASCADE');
        await sqlRefuses(
          bobSql,
          'CREATE OR REPLACE FUNCTION discretion_me() RETURNS INTEGER LANGUAGE sql AS $$ SELECT 1 $$',
        );
      });
    });

    it("taking the lead's group role; creating objects in the schema", async () => {
      await unchanged(async () => {
        await sqlRefuses(bobSql, `SET ROLE ${groups.lead}`);
        await sqlRefuses(bobSql, 'SET ROLE postgres');
        await sqlRefuses(bobSql, `SET SESSION AUTHORIZATION ${login.owner}`);
        await sqlRefuses(bobSql, 'CREATE TABLE public.mine (x INTEGER)');
        await sqlRefuses(bobSql, 'CREATE FUNCTION public.mine() RETURNS INTEGER LANGUAGE sql AS $$ SELECT 1 $$');
        await sqlRefuses(bobSql, 'CREATE SCHEMA mine');
        // his own group role changes nothing: the policies follow the login (session_user)
        await bobSql.query(`SET ROLE ${groups.annotator}`);
        try {
          expect(await aliceRowsSeenBy(bobSql)).toEqual(noneOfAlice);
          await sqlRefuses(
            bobSql,
            `INSERT INTO preferences (pair_id, annotator_id, value, flagged, created_at, updated_at) VALUES ($1, $2, 1, 0, 'x', 'x')`,
            [row1.get(3), ids.alice],
          );
        } finally {
          await bobSql.query('RESET ROLE');
        }
      });
    });

    it('a temporary table named as a team table, which his session searches first, does not make him alice', async () => {
      const c = await connect(login.bob);
      try {
        await unchanged(async () => {
          await c.query('CREATE TEMP TABLE team_members (login TEXT, annotator_id INTEGER, role TEXT)');
          await c.query("INSERT INTO team_members VALUES (session_user, $1, 'lead')", [ids.alice]);
          await c.query('CREATE TEMP TABLE pg_class (oid OID, relowner OID)');
          await c.query(
            "INSERT INTO pg_class SELECT 'label_history'::regclass, oid FROM pg_roles WHERE rolname = session_user",
          );
          expect(await aliceRowsSeenBy(c)).toEqual(noneOfAlice);
          await sqlChangesNothing(c, 'DELETE FROM preferences WHERE annotator_id = $1', [ids.alice]);
          await sqlChangesNothing(c, 'UPDATE label_history SET undone = 1 WHERE annotator_id = $1', [ids.alice]);
          await sqlRefuses(
            c,
            `INSERT INTO preferences (pair_id, annotator_id, value, flagged, created_at, updated_at) VALUES ($1, $2, 1, 0, 'x', 'x')`,
            [row1.get(3), ids.alice],
          );
          // the append-only trigger reads the table's owner from the catalog, not from his table: a submission
          // marked undone twice is refused (rolled back: the first mark is allowed)
          await c.query('BEGIN');
          try {
            expect(
              (await c.query('UPDATE label_history SET undone = 1 WHERE annotator_id = $1', [ids.bob])).rowCount,
            ).toBe(1);
            await sqlRefuses(c, 'UPDATE label_history SET undone = 1 WHERE annotator_id = $1', [ids.bob]);
          } finally {
            await c.query('ROLLBACK');
          }
          await sqlRefuses(c, 'SELECT discretion_team_add($1, $2, $3)', [login.bob, 'bob', 'lead']);
        });
      } finally {
        await c.end();
      }
    });
  });

  describe('what a lead and an annotator may do, they can', () => {
    it("a lead who does not own the database splits, releases an annotator's claims, adjudicates, imports judgments and a dataset", async () => {
      expect(await carol.identity()).toEqual({
        login: login.carol,
        owner: false,
        role: 'lead',
        annotator: 'carol',
        visibility: 'blind',
      });
      const held = await bob.claimNextPair(ids.ds2, ids.bob, Date.now(), 600_000);
      expect(held).toBe(0);
      expect(await carol.write((tx) => tx.releaseClaims(ids.ds2, ids.bob))).toBe(1);
      expect(
        (
          await su.query(
            'SELECT 1 FROM claims c JOIN pairs p ON p.id = c.pair_id WHERE p.dataset_id = $1 AND c.annotator_id = $2',
            [ids.ds2, ids.bob],
          )
        ).rowCount,
      ).toBe(0);
      await carol.write((tx) => tx.setWorkSplit(ids.ds2, { overlap: 2, assignment: 'fixed', seed: 1 }));
      expect(
        (await su.query('SELECT assignment_seed FROM datasets WHERE id = $1', [ids.ds2])).rows[0].assignment_seed,
      ).toBe(1);
      expect(await adjudicate(carol, { dataset: 'split1', pair: 's1', label: 'tie' })).toMatchObject({
        pairIdx: 1,
        previous: null,
      });
      const written = await carol.write(async (tx) => {
        const rm2 = await tx.ensureAnnotator('rm2', 'reward-model', { model: 'y' });
        return tx.insertPreferences(
          rm2.id,
          [0, 1, 2, 3].map((i) => ({ pairIdx: i, value: 0 as const })),
          (i) => row1.get(i)!,
        );
      });
      expect(written).toBe(4);
      const ds3 = await carol.write(async (tx) => {
        const id = await tx.createDataset('lead-import', 'jsonl', null);
        const first = await tx.nextPairRowId();
        await tx.insertPairs(id, [{ idx: 0, sourceId: 'u0', prompt: 'p', y0: 'a', y1: 'b' }], [first]);
        return id;
      });
      expect((await su.query('SELECT COUNT(*)::int AS n FROM pairs WHERE dataset_id = $1', [ds3])).rows[0].n).toBe(1);
      expect(await carol.saveMetricRun(ds3, 'v', {}, {}, {})).toBeGreaterThan(0);
      // a lead reads every label
      expect((await carol.overallPreferences(ids.ds1)).filter((p) => p.annotatorId === ids.alice)).toHaveLength(1);
    });

    it("alice claims, labels, relabels and undoes her own labels; her history carries her login and the server's time", async () => {
      const serverNow = async () =>
        (
          await su.query<{ t: string }>(
            `SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS t`,
          )
        ).rows[0].t;
      const from = await serverNow();
      expect(await alice.claimNextPair(ids.ds2, ids.alice, Date.now(), 600_000)).toBe(0);
      await saveLabel(alice, ids.alice, row2.get(0)!, label(1, 'first'));
      await saveLabel(alice, ids.alice, row2.get(0)!, label(-1, 'second'));
      expect((await alice.labelState(ids.alice, row2.get(0)!)).preference).toMatchObject({
        value: -1,
        rationale: 'second',
      });
      expect(await undoLastLabel(alice, ids.alice, ids.ds2)).toBe(0);
      expect((await alice.labelState(ids.alice, row2.get(0)!)).preference).toMatchObject({
        value: 1,
        rationale: 'first',
      });
      const to = await serverNow();
      const rows = (
        await su.query<{ action: string; undone: number; login: string; created_at: string }>(
          'SELECT action, undone, login, created_at FROM label_history WHERE annotator_id = $1 AND pair_id = $2 ORDER BY id',
          [ids.alice, row2.get(0)],
        )
      ).rows;
      expect(rows.map((r) => [r.action, r.undone, r.login])).toEqual([
        ['submit', 0, login.alice],
        ['submit', 1, login.alice],
        ['undo', 0, login.alice],
      ]);
      for (const r of rows)
        expect(r.created_at >= from && r.created_at <= to, `${r.created_at} within [${from}, ${to}]`).toBe(true);
      // a raw insert that names another login and another time is stamped all the same
      await aliceSql.query(
        `INSERT INTO label_history (annotator_id, pair_id, action, before_state, after_state, created_at, login) VALUES ($1, $2, 'submit', '{}', '{}', '1999-01-01T00:00:00.000Z', $3)`,
        [ids.alice, row2.get(2), login.bob],
      );
      const forged = (
        await su.query<{ login: string; created_at: string }>(
          'SELECT login, created_at FROM label_history WHERE annotator_id = $1 AND pair_id = $2',
          [ids.alice, row2.get(2)],
        )
      ).rows;
      expect(forged).toHaveLength(1);
      expect(forged[0].login).toBe(login.alice);
      expect(forged[0].created_at >= to).toBe(true);
    });

    it('a label on a full pair: PairFullError through the store, SQLSTATE DW001 through SQL (overlap 1 and 2)', async () => {
      await unchanged(async () => {
        const e = await saveLabel(bob, ids.bob, row1.get(0)!, label(1, 'late')).then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(e).toBeInstanceOf(PairFullError);
        expect((e as PairFullError).message).toMatch(/^pair 0 already has the 1 label it needs/);
        await sqlRefuses(
          bobSql,
          `INSERT INTO preferences (pair_id, annotator_id, value, flagged, created_at, updated_at) VALUES ($1, $2, 1, 0, 'x', 'x')`,
          [row1.get(0), ids.bob],
          'DW001',
        );
      });
      // split2 t0: alice's label and carol's (a lead labels as herself) fill it at overlap 2
      await saveLabel(carol, ids.carol, row2.get(0)!, label(1, 'carol-t0'));
      await unchanged(async () => {
        const e = await saveLabel(bob, ids.bob, row2.get(0)!, label(1, 'late')).then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(e).toBeInstanceOf(PairFullError);
        expect((e as PairFullError).message).toMatch(/^pair 0 already has the 2 labels it needs/);
        await sqlRefuses(
          bobSql,
          `INSERT INTO preferences (pair_id, annotator_id, value, flagged, created_at, updated_at) VALUES ($1, $2, 1, 0, 'x', 'x')`,
          [row2.get(0), ids.bob],
          'DW001',
        );
      });
    });

    it('a client clock an hour fast does not take a pair another annotator holds', async () => {
      // alice holds s2 (claimed in the set-up for 10 minutes of the server's clock); s0 and s1 are full
      const ttl = 600_000;
      const pairIdx = await bob.claimNextPair(ids.ds1, ids.bob, Date.now() + 3_600_000, ttl);
      expect(pairIdx).toBe(3);
      const claim = (
        await su.query<{ left: string }>(
          'SELECT expires_at - discretion_now_ms() AS left FROM claims WHERE annotator_id = $1 AND pair_id = $2',
          [ids.bob, row1.get(3)],
        )
      ).rows[0];
      expect(Number(claim.left)).toBeGreaterThan(ttl - 60_000);
      expect(Number(claim.left)).toBeLessThanOrEqual(ttl);
      expect(await bob.claimNextPair(ids.ds1, ids.bob, Date.now() + 3_600_000, ttl)).toBe(3);
    });

    it('the label history is append-only for a lead too: undo marks a submission once, nothing rewrites one', async () => {
      expect(await undoLastLabel(carol, ids.carol, ids.ds2)).toBe(0);
      expect(
        (
          await su.query('SELECT undone FROM label_history WHERE annotator_id = $1 AND action = $2', [
            ids.carol,
            'submit',
          ])
        ).rows,
      ).toEqual([{ undone: 1 }]);
      await unchanged(async () => {
        await sqlRefuses(carolSql, "UPDATE label_history SET after_state = '{}' WHERE annotator_id = $1", [ids.carol]);
        await sqlRefuses(carolSql, 'UPDATE label_history SET undone = 0 WHERE annotator_id = $1 AND undone = 1', [
          ids.carol,
        ]);
        await sqlRefuses(carolSql, 'DELETE FROM label_history WHERE annotator_id = $1', [ids.carol]);
        // alice's history is hers: a lead reads it, and cannot mark it
        await sqlChangesNothing(carolSql, 'UPDATE label_history SET undone = 1 WHERE annotator_id = $1', [ids.alice]);
        expect(
          (await carolSql.query('SELECT 1 FROM label_history WHERE annotator_id = $1', [ids.alice])).rowCount,
        ).toBeGreaterThan(0);
        // and a lead does not write as alice
        await storeRefuses(
          saveLabel(carol, ids.alice, row1.get(3)!, label(1, 'as alice')),
          /row-level security policy/,
        );
      });
    });

    it("visibility open lets bob read alice's labels (never write them); blind again hides them", async () => {
      expect((await initTeamDatabase(url(login.owner), { visibility: 'open' })).visibility).toBe('open');
      try {
        const open = await openStore(url(login.bob));
        try {
          expect((await open.identity()).visibility).toBe('open');
          expect(
            (await open.overallPreferences(ids.ds1)).filter((p) => p.annotatorId === ids.alice).map((p) => p.pairIdx),
          ).toEqual([0]);
        } finally {
          await open.close();
        }
        expect((await bobSql.query("SELECT 1 FROM preferences WHERE rationale = 'alice-secret-s0'")).rowCount).toBe(1);
        expect((await aliceRowsSeenBy(bobSql)).label_history).toBeGreaterThan(0);
        await unchanged(async () => {
          await sqlChangesNothing(bobSql, 'DELETE FROM preferences WHERE annotator_id = $1', [ids.alice]);
          await sqlRefuses(
            bobSql,
            `INSERT INTO preferences (pair_id, annotator_id, value, flagged, created_at, updated_at) VALUES ($1, $2, 1, 0, 'x', 'x')`,
            [row1.get(3), ids.alice],
          );
        });
      } finally {
        expect((await initTeamDatabase(url(login.owner), { visibility: 'blind' })).visibility).toBe('blind');
      }
      expect((await aliceRowsSeenBy(bobSql)).preferences).toBe(0);
    });

    it("with the annotators' policy on preferences turned off by the superuser, the same read and delete reach alice's labels (the checks can see a hole)", async () => {
      await su.query('ALTER TABLE preferences DISABLE ROW LEVEL SECURITY');
      try {
        expect((await aliceRowsSeenBy(bobSql)).preferences).toBeGreaterThan(0);
        const before = dump();
        await bobSql.query('BEGIN');
        expect(
          (await bobSql.query('DELETE FROM preferences WHERE annotator_id = $1', [ids.alice])).rowCount,
        ).toBeGreaterThan(0);
        await bobSql.query('ROLLBACK');
        expect(dump()).toEqual(before);
      } finally {
        await su.query('ALTER TABLE preferences ENABLE ROW LEVEL SECURITY');
      }
      expect(await aliceRowsSeenBy(bobSql)).toEqual(noneOfAlice);
    });
  });
});
