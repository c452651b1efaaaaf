// The red team through the real CLI (issue 17): an annotator's login (bob) runs the lead's commands on a
// team's PostgreSQL database, with his password in PGPASSWORD and a URL without one, as a user does. Each
// exits 1 with one line and the data-only pg_dump of the database (the superuser's) is byte for byte what it
// was; his export holds none of alice's labels. The store-level and raw SQL attempts are in
// test/store/team-security.test.ts.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { saveLabel } from '../../src/app/workbench';
import { openStore } from '../../src/store';
import { teamRoleNames } from '../../src/store/postgres/team';
import { ROOT, tempDir } from '../support/helpers';
import { createTeamLogins, loginUrl, postgresBinDir } from '../support/postgres';

const BIN = join(ROOT, 'bin', 'discretion.js');
const server = inject('postgres');
const pgSkip = 'skip' in server ? server.skip : undefined;

describe.skipIf(pgSkip)(
  "discretion as an annotator's login on a team's database: the lead's commands are refused",
  () => {
    const serverUrl = 'url' in server ? server.url : '';
    const password = 'password' in server ? server.password : '';
    const sfx = Math.random().toString(36).slice(2, 8);
    const db = `team_cli_${sfx}`;
    const login = { lead: `lead_${sfx}`, alice: `alice_${sfx}`, bob: `bob_${sfx}` };
    const groups = teamRoleNames(db);
    /** The database's URL for a login: without a password (the CLI refuses one in --db), or with it for this process's own connections. */
    const url = (user: string, withPassword = false) =>
      loginUrl(serverUrl, user, db, withPassword ? password : undefined);
    const cli = (user: string, args: string[]) =>
      spawnSync(process.execPath, [BIN, ...args, '--db', url(user)], {
        encoding: 'utf8',
        cwd: ROOT,
        env: { ...process.env, PGPASSWORD: password, NO_COLOR: '1' },
      });
    /** A data-only pg_dump as the superuser, without the sequences' positions (nextval is never rolled back). */
    const dump = () =>
      execFileSync(
        join(postgresBinDir() ?? '/usr/bin', 'pg_dump'),
        ['--data-only', '--restrict-key=discretion', `--dbname=${url('postgres')}`],
        { encoding: 'utf8', env: { ...process.env, PGUSER: 'postgres', PGPASSWORD: password } },
      )
        .split('\n')
        .filter((l) => !l.startsWith('SELECT pg_catalog.setval('));
    let dir: string;

    beforeAll(async () => {
      await createTeamLogins(serverUrl, {
        database: db,
        lead: login.lead,
        members: [login.alice, login.bob],
        password,
      });
      dir = tempDir();
      writeFileSync(
        join(dir, 'pairs.jsonl'),
        ['q1', 'q2', 'q3'].map((id) => JSON.stringify({ id, prompt: `Human: ${id}?`, a: 'no', b: 'yes' })).join('\n') +
          '\n',
      );
      writeFileSync(join(dir, 'rm.csv'), 'row_id,reward_a,reward_b\n0,1,2\n1,2,1\n2,0,0\n');
      writeFileSync(
        join(dir, 'hh.jsonl'),
        JSON.stringify({
          chosen: '\n\nHuman: hi\n\nAssistant: hello',
          rejected: '\n\nHuman: hi\n\nAssistant: go away',
        }) + '\n',
      );
      writeFileSync(join(dir, 'labels.jsonl'), JSON.stringify({ pair: 'q2', overall: 'y0', principles: {} }) + '\n');
      for (const args of [
        ['team', 'init'],
        ['team', 'add', login.alice, '--annotator', 'alice'],
        ['team', 'add', login.bob, '--annotator', 'bob'],
        [
          'import',
          'jsonl',
          join(dir, 'pairs.jsonl'),
          '--dataset',
          'd',
          '--prompt',
          'prompt',
          '--response-0',
          'a',
          '--response-1',
          'b',
          '--id',
          'id',
        ],
        ['import', 'principles', join(ROOT, 'media', 'principles', 'demo-safety.yaml'), '--name', 'demo'],
        ['import', 'rewards', join(dir, 'rm.csv'), '--dataset', 'd', '--annotator', 'rm'],
        ['team', 'split', '--dataset', 'd', '--overlap', '2'],
      ]) {
        const r = cli(login.lead, args);
        expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      }
      // alice labels q1 and holds a claim on the next pair, as the workbench does
      const alice = await openStore(url(login.alice, true));
      try {
        const d = (await alice.requireDataset('d')).id;
        const me = (await alice.requireAnnotator('alice')).id;
        expect(await alice.claimNextPair(d, me, Date.now(), 600_000)).toBe(0);
        await saveLabel(alice, me, (await alice.pairRowIds(d)).get(0)!, {
          value: -1,
          raw: null,
          shownFirst: 0,
          rationale: 'alice-secret',
          flagged: false,
          principles: [],
        });
        expect(await alice.claimNextPair(d, me, Date.now(), 600_000)).toBe(1);
      } finally {
        await alice.close();
      }
    }, 120_000);

    afterAll(async () => {
      const su = new pg.Client({ connectionString: serverUrl });
      await su.connect();
      try {
        await su.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
        for (const r of [...Object.values(login), groups.lead, groups.annotator])
          await su.query(`DROP ROLE IF EXISTS ${r}`);
      } finally {
        await su.end();
      }
    });

    it.each([
      [
        'team split',
        ['team', 'split', '--dataset', 'd', '--overlap', '1'],
        /^discretion: splitting a dataset is the lead's work, and login bob_\w+ is an annotator of the team/,
      ],
      [
        'team release --annotator alice',
        ['team', 'release', '--dataset', 'd', '--annotator', 'alice'],
        /^discretion: releasing alice's claims is the lead's work/,
      ],
      [
        "team release (everyone's)",
        ['team', 'release', '--dataset', 'd'],
        /^discretion: releasing everyone's claims is the lead's work/,
      ],
      [
        'team add (himself as lead)',
        ['team', 'add', `bob_${sfx}`, '--annotator', 'bob', '--role', 'lead'],
        /^discretion: adding members is the lead's work/,
      ],
      ['team remove', ['team', 'remove', `alice_${sfx}`], /^discretion: removing members is the lead's work/],
      [
        'review adjudicate',
        ['review', 'adjudicate', '--dataset', 'd', '--pair', 'q1', '--label', 'y0'],
        /permission denied for table annotators/,
      ],
      [
        'import rewards',
        ['import', 'rewards', 'RM', '--dataset', 'd', '--annotator', 'rm2'],
        /permission denied for table annotators/,
      ],
      ['import hh-rlhf', ['import', 'hh-rlhf', 'HH', '--dataset', 'hh'], /permission denied for table datasets/],
      [
        'import labels --annotator alice',
        ['import', 'labels', 'LABELS', '--dataset', 'd', '--principles', 'demo', '--annotator', 'alice'],
        /labels are written as bob only, not as alice; nothing was written$/,
      ],
    ])('%s: exit 1, one line, the database unchanged', (_name, args, message) => {
      const files: Record<string, string> = {
        RM: join(dir, 'rm.csv'),
        HH: join(dir, 'hh.jsonl'),
        LABELS: join(dir, 'labels.jsonl'),
      };
      const before = dump();
      const r = cli(
        login.bob,
        args.map((a) => files[a] ?? a),
      );
      expect(r.status, r.stdout + r.stderr).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
      expect(r.stderr).not.toContain(password);
      expect(dump()).toEqual(before);
    });

    it("export: bob's file holds the model's judgments and none of alice's labels; the lead's holds hers", () => {
      for (const [who, expected] of [
        [login.bob, { rm: 3, alice: 0 }],
        [login.lead, { rm: 3, alice: 1 }],
      ] as const) {
        const out = join(dir, `${who}.jsonl`);
        const r = cli(who, ['export', '--dataset', 'd', '--format', 'jsonl', '--out', out]);
        expect(r.status, r.stderr).toBe(0);
        const rows = readFileSync(out, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { preferences: Record<string, string> });
        expect(rows).toHaveLength(3);
        expect({
          rm: rows.filter((x) => 'rm' in x.preferences).length,
          alice: rows.filter((x) => 'alice' in x.preferences).length,
        }).toEqual(expected);
      }
    });
  },
);
