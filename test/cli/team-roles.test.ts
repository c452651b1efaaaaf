// A team on PostgreSQL as a new team sets it up, through the real CLI and real logins: the DBA creates the lead's
// login (CREATEROLE, owner of the database) and the members' logins with nothing else (README "Team annotation on
// PostgreSQL"); the lead runs `team init` and `team add`; an annotator's login, with CONNECT through its group role
// and its membership only, runs `info`, labels in the workbench (the app's session, as VS Code calls it) and
// `import labels` as herself, and is refused naming anyone else. Messages are checked by hand-written patterns.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { NotYourAnnotatorError } from '../../src/app/team';
import { saveLabel, WorkbenchSession } from '../../src/app/workbench';
import { initTeamDatabase, openStore, PairFullError, type Store } from '../../src/store';
import { PG_MIGRATIONS } from '../../src/store/postgres/schema';
import { ROOT, tempDir } from '../support/helpers';
import { createTeamLogins, loginUrl, pooledRun } from '../support/postgres';

const BIN = join(ROOT, 'bin', 'discretion.js');
const server = inject('postgres');
const skip = 'skip' in server ? server.skip : undefined;
const serverUrl = 'url' in server ? server.url : '';
const password = 'password' in server ? server.password : '';
const sfx = Math.random().toString(36).slice(2, 8);
const login = (name: string) => `${name}_${sfx}`;
/** A login's URL to a database, without the password (the CLI refuses one; PGPASSWORD carries it). */
const at = (name: string, db: string) => loginUrl(serverUrl, login(name), db);
/** The same with the password, for the test's own store connections (openStore takes one). */
const withPw = (name: string, db: string) => loginUrl(serverUrl, login(name), db, password);
const run = (args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    cwd: ROOT,
    env: { ...process.env, PGPASSWORD: password, NO_COLOR: '1' },
  });
const oneLine = (r: ReturnType<typeof run>) => {
  expect(r.status, r.stdout + r.stderr).toBe(1);
  expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr + r.stdout).not.toContain(password);
  return r.stderr.trim();
};

const su = new pg.Client({ connectionString: serverUrl });
const DB = `team_${sfx}`;
const stores: Store[] = [];
const open = async (name: string, db = DB) => {
  const s = await openStore(withPw(name, db));
  stores.push(s);
  return s;
};

describe.skipIf(skip)('a team on PostgreSQL, set up as the README says', () => {
  beforeAll(async () => {
    await su.connect();
    // what the DBA creates: logins, the lead's with CREATEROLE, and the database owned by the lead
    await createTeamLogins(serverUrl, {
      database: DB,
      lead: login('lead'),
      members: ['alice', 'bob', 'nobody', 'owner2'].map(login),
      password,
    });
  });
  afterAll(async () => {
    for (const s of stores.splice(0)) await s.close().catch(() => undefined);
    for (const db of [DB, `${DB}_old`, `${DB}_nocr`])
      await su.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => undefined);
    const roles = (
      await su.query<{ r: string }>(`SELECT rolname AS r FROM pg_roles WHERE rolname LIKE '%${sfx}%'`)
    ).rows.map((x) => x.r);
    for (const r of roles) await su.query(`DROP ROLE IF EXISTS "${r}"`).catch(() => undefined);
    await su.end();
  });

  it('an annotator on an empty database is told to ask the lead, and creates nothing', async () => {
    const msg = oneLine(run(['info', '--db', at('alice', DB)]));
    expect(msg).toMatch(
      /holds no Discretion Workbench tables yet, and your login does not own it: ask the lead to run `discretion team init`/,
    );
    expect(
      (await su.query(`SELECT count(*)::int AS n FROM pg_tables WHERE tableowner = '${login('alice')}'`)).rows[0].n,
    ).toBe(0);
  });

  it('team init: refused for a login that does not own the database; the owner sets up the schema, roles and policies', async () => {
    const refused = oneLine(run(['team', 'init', '--db', at('alice', DB)]));
    expect(refused).toMatch(
      new RegExp(`only its owner may set up a team, and login ${login('alice')} does not own it`),
    );
    const r = run(['team', 'init', '--db', at('lead', DB)]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`schema version ${PG_MIGRATIONS.length} (created)`);
    expect(r.stdout).toContain(
      `roles: discretion_${DB}_lead (leads), discretion_${DB}_annotator (annotators); labels blind`,
    );
    // a second run changes nothing it need not
    const again = run(['team', 'init', '--db', at('lead', DB)]);
    expect(again.stdout).toContain('(up to date)');
    // the owner without CREATEROLE: one line naming what the DBA grants
    await su.query(`CREATE DATABASE ${DB}_nocr OWNER ${login('owner2')}`);
    expect(oneLine(run(['team', 'init', '--db', at('owner2', `${DB}_nocr`)]))).toMatch(
      /may not create roles \(the DBA grants it: ALTER ROLE \S+ CREATEROLE\)/,
    );
  });

  it('team add, members, whoami, remove; reserved names, unknown logins and annotators are refused in one line', async () => {
    const lead = at('lead', DB);
    for (const [who, name, role] of [
      ['lead', 'lena', 'lead'],
      ['alice', 'alice', 'annotator'],
      ['bob', 'bob', 'annotator'],
    ]) {
      const r = run(['team', 'add', login(who), '--annotator', name, '--role', role, '--db', lead]);
      expect(r.stdout.trim()).toBe(
        `login ${login(who)} is ${role === 'lead' ? 'a lead' : 'an annotator'} of the team, labelling as ${name}`,
      );
    }
    const members = JSON.parse(run(['team', 'members', '--json', '--db', lead]).stdout) as {
      members: { login: string; annotator: string; role: string; addedBy: string }[];
    };
    expect(members.members.map((m) => [m.login, m.annotator, m.role, m.addedBy])).toEqual(
      [
        [login('alice'), 'alice', 'annotator', login('lead')],
        [login('bob'), 'bob', 'annotator', login('lead')],
        [login('lead'), 'lena', 'lead', login('lead')],
      ].sort((a, b) => a[0].localeCompare(b[0])),
    );
    expect(run(['team', 'whoami', '--db', at('alice', DB)]).stdout.trim()).toBe(
      `login ${login('alice')}: annotator of the team, labelling as alice; labels are blind`,
    );
    expect(oneLine(run(['team', 'add', login('nobody'), '--annotator', 'adjudicated', '--db', lead]))).toMatch(
      /the annotator name adjudicated is reserved/,
    );
    expect(oneLine(run(['team', 'add', login('nobody'), '--annotator', 'alice', '--db', lead]))).toMatch(
      new RegExp(`annotator alice belongs to login ${login('alice')} already`),
    );
    expect(oneLine(run(['team', 'add', `ghost_${sfx}`, '--annotator', 'ghost', '--db', lead]))).toMatch(
      /the server has no login ghost_\w+ \(the DBA creates it/,
    );
    expect(
      oneLine(run(['team', 'add', login('nobody'), '--annotator', 'nob', '--role', 'admin', '--db', lead])),
    ).toMatch(/--role must be one of lead, annotator/);
    // an annotator may not manage members
    expect(oneLine(run(['team', 'add', login('nobody'), '--annotator', 'nob', '--db', at('alice', DB)]))).toMatch(
      new RegExp(
        `adding members is the lead's work, and login ${login('alice')} is an annotator of the team on database \\S+; nothing was written`,
      ),
    );
    expect(oneLine(run(['team', 'remove', login('bob'), '--db', at('alice', DB)]))).toMatch(
      /removing members is the lead's work/,
    );
    // a login with no membership cannot even connect: team init let only the team's roles connect
    expect(oneLine(run(['info', '--db', at('nobody', DB)]))).toMatch(
      /permission denied for database|not have CONNECT privilege/,
    );
    // add, then remove: the login loses its role, the mapping goes
    expect(run(['team', 'add', login('nobody'), '--annotator', 'nob', '--db', lead]).status).toBe(0);
    expect(run(['info', '--db', at('nobody', DB)]).status).toBe(0);
    expect(run(['team', 'remove', login('nobody'), '--db', lead]).stdout.trim()).toBe(
      `login ${login('nobody')} is no longer a member of the team`,
    );
    // through a pooler the server session that login opened as a member may be lent to it again: CONNECT was
    // checked when that session logged in, so the first table refuses it instead (every statement checks the grants)
    expect(oneLine(run(['info', '--db', at('nobody', DB)]))).toMatch(
      pooledRun(server)
        ? /permission denied for (database|table discretion_schema)|not have CONNECT privilege/
        : /permission denied for database|not have CONNECT privilege/,
    );
  });

  it('an annotator with only her login and membership runs info, opens the workbench, labels as herself, and is refused as anyone else', async () => {
    const lead = at('lead', DB);
    const dir = tempDir();
    const pairs = join(dir, 'pairs.jsonl');
    writeFileSync(
      pairs,
      ['q1', 'q2', 'q3'].map((id) => JSON.stringify({ id, prompt: `Human: ${id}?`, a: 'no', b: 'yes' })).join('\n') +
        '\n',
    );
    for (const args of [
      [
        'import',
        'jsonl',
        pairs,
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
      ['team', 'split', '--dataset', 'd', '--overlap', '1'],
    ])
      expect(run([...args, '--db', lead]).status, args.join(' ')).toBe(0);
    // she owns nothing and may create nothing in the schema
    const privileges = (
      await su.query(
        `SELECT has_schema_privilege('${login('alice')}', 'public', 'CREATE') AS c, rolcreaterole, rolsuper FROM pg_roles WHERE rolname = '${login('alice')}'`,
      )
    ).rows[0];
    expect(privileges).toEqual({ c: false, rolcreaterole: false, rolsuper: false });
    const info = run(['info', '--json', '--db', at('alice', DB)]);
    expect(info.status, info.stderr).toBe(0);
    expect((JSON.parse(info.stdout) as { datasets: { name: string }[] }).datasets.map((d) => d.name)).toEqual(['d']);

    // the workbench, as the extension opens it
    const alice = await open('alice');
    const session = await WorkbenchSession.open(
      alice,
      { dataset: 'd', annotator: 'alice', principleList: 'demo' },
      { renewTimer: false },
    );
    expect(await session.start()).toBe(0);
    const card = (await session.card())!;
    expect(card.signedIn).toBe(`login ${login('alice')} · annotator`);
    expect(card.annotator).toBe('alice');
    await session.submit({
      type: 'submit',
      seq: card.seq,
      pairIdx: card.pairIdx,
      overall: 'A',
      grid: card.principles.map(() => null),
      rationale: 'mine',
      flagged: false,
      ahead: null,
    });
    // naming someone else: refused before anything is written, by the app and (below) by the database
    await expect(
      WorkbenchSession.open(alice, { dataset: 'd', annotator: 'bob', principleList: 'demo' }),
    ).rejects.toBeInstanceOf(NotYourAnnotatorError);
    const labels = join(dir, 'labels.jsonl');
    writeFileSync(labels, JSON.stringify({ pair: 'q2', overall: 'y1', principles: {} }) + '\n');
    expect(
      oneLine(
        run([
          'import',
          'labels',
          labels,
          '--dataset',
          'd',
          '--principles',
          'demo',
          '--annotator',
          'bob',
          '--db',
          at('alice', DB),
        ]),
      ),
    ).toMatch(
      new RegExp(
        `login ${login('alice')} is annotator alice on database \\S+: labels are written as alice only, not as bob; nothing was written`,
      ),
    );
    // bob's file on the pair alice filled at k = 1 is refused by the database's trigger; as himself on another pair: stored
    writeFileSync(labels, JSON.stringify({ pair: 'q1', overall: 'y0', principles: {} }) + '\n');
    expect(
      oneLine(
        run([
          'import',
          'labels',
          labels,
          '--dataset',
          'd',
          '--principles',
          'demo',
          '--annotator',
          'bob',
          '--db',
          at('bob', DB),
        ]),
      ),
    ).toMatch(/pair 0 already has the 1 labels? it needs; the label was not stored/);
    writeFileSync(labels, JSON.stringify({ pair: 'q2', overall: 'y0', principles: {} }) + '\n');
    {
      const r = run([
        'import',
        'labels',
        labels,
        '--dataset',
        'd',
        '--principles',
        'demo',
        '--annotator',
        'bob',
        '--db',
        at('bob', DB),
      ]);
      expect(r.status, r.stderr).toBe(0);
    }
    const bob = await open('bob');
    const bobId = (await bob.requireAnnotator('bob')).id;
    const rows = await bob.pairRowIds((await bob.requireDataset('d')).id);
    await expect(
      bob.write((tx) => tx.insertPreferences(bobId, [{ pairIdx: 0, value: -1 }], (i) => rows.get(i)!)),
    ).rejects.toBeInstanceOf(PairFullError);
    // the label history records the login and the server's time of each write
    const leadClient = new pg.Client({ connectionString: withPw('lead', DB) });
    await leadClient.connect();
    const h = (
      await leadClient
        .query(
          `SELECT h.login, h.created_at FROM label_history h JOIN annotators a ON a.id = h.annotator_id WHERE a.name = 'alice'`,
        )
        .finally(() => leadClient.end())
    ).rows;
    expect(h.map((r: { login: string }) => r.login)).toEqual([login('alice')]);
    // blind: bob reads none of alice's labels
    expect(
      (await bob.overallPreferences((await bob.requireDataset('d')).id)).filter((p) => p.annotatorId !== bobId),
    ).toEqual([]);
  });

  it("sync: an annotator pushes her own offline labels; a file holding another person's labels is refused whole, in one line", async () => {
    const dir = tempDir();
    const mine = join(dir, 'alice.db');
    // her offline copy: the team's datasets and lists (blind: none of bob's labels come down) and her labels on it
    const down = run(['sync', '--from', at('alice', DB), '--to', mine]);
    expect(down.status, down.stderr).toBe(0);
    const local = await openStore(mine);
    const ds = (await local.requireDataset('d')).id;
    expect((await local.overallPreferences(ds)).map((p) => p.pairIdx)).toEqual([0]); // q1, hers (workbench); bob's q2 did not come down
    // offline, she labels q3 in her file, then pushes it: stored in the team's database as hers
    const aliceId = (await local.requireAnnotator('alice')).id;
    await saveLabel(local, aliceId, (await local.pairRowIds(ds)).get(2)!, {
      value: 1,
      raw: null,
      shownFirst: 0,
      rationale: 'on the train',
      flagged: false,
      principles: [],
    });
    await local.close();
    const up = run(['sync', '--from', mine, '--to', at('alice', DB)]);
    expect(up.status, up.stderr).toBe(0);
    const team = await open('alice');
    expect((await team.overallPreferences((await team.requireDataset('d')).id)).map((p) => p.pairIdx).sort()).toEqual([
      0, 2,
    ]);
    const offline = join(dir, 'offline.db');
    expect(run(['sync', '--from', at('lead', DB), '--to', offline]).status).toBe(0); // the lead's copy holds everyone's labels
    const refused = oneLine(run(['sync', '--from', offline, '--to', at('alice', DB)]));
    expect(refused).toMatch(
      new RegExp(
        `holds labels of bob: login ${login('alice')} writes only alice's labels into database \\S+; nothing was written`,
      ),
    );
  });

  it("an older schema: an annotator is told to ask the lead; the owner's team init upgrades it; a held setup lock ends in one line", async () => {
    const old = `${DB}_old`;
    await su.query(`CREATE DATABASE ${old} OWNER ${login('lead')}`);
    const c = new pg.Client({ connectionString: withPw('lead', old) });
    await c.connect();
    try {
      await c.query(
        'CREATE TABLE discretion_schema (version INTEGER NOT NULL); INSERT INTO discretion_schema VALUES (0)',
      );
      for (let v = 0; v < PG_MIGRATIONS.length - 1; v++)
        await c.query(`BEGIN; ${PG_MIGRATIONS[v]} UPDATE discretion_schema SET version = ${v + 1}; COMMIT;`);
      // what a member may read of a team's database at that version (the team's tables exist from migration 9 on)
      await c.query(`GRANT SELECT ON discretion_schema, team_config, team_members, annotators TO ${login('alice')}`);
      expect(oneLine(run(['info', '--db', at('alice', old)]))).toMatch(
        new RegExp(
          `has schema version ${PG_MIGRATIONS.length - 1} and this version of the tool needs ${PG_MIGRATIONS.length}: ask the lead to run \`discretion team init\``,
        ),
      );
      // another session holds the setup lock (as a stuck init would, in its open transaction; so through a pooler
      // too, which keeps a server session for a transaction): init waits the time it was given, then one line
      const holder = new pg.Client({ connectionString: withPw('lead', old) });
      await holder.connect();
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock($1)', [0x44697363]);
      const t0 = Date.now();
      const err = await initTeamDatabase(withPw('lead', old), { lockTimeoutMs: 500 }).catch((e: Error) => e);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(450);
      expect((err as Error).message).toMatch(
        /another session has held the schema's setup lock for more than 1 s .*nothing was changed/,
      );
      expect((err as Error).message.split('\n')).toHaveLength(1);
      await holder.query('ROLLBACK');
      await holder.end();
      expect((await c.query('SELECT version FROM discretion_schema')).rows[0].version).toBe(PG_MIGRATIONS.length - 1);
      const r = run(['team', 'init', '--db', at('lead', old)]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(`(upgraded from ${PG_MIGRATIONS.length - 1})`);
    } finally {
      await c.end();
    }
  });
});
