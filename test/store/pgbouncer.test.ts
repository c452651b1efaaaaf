// The store behind PgBouncer in transaction mode (issue 22): runs only in the `pgbouncer` project
// (vitest.config.mts), where the run's server sits behind the pooler (test/support/pg-global-setup.ts). In that
// mode a server session is lent to a client for one transaction at a time, so nothing may outlive a transaction:
// a session's advisory lock, a session SET, a temporary table kept for later, a named prepared statement (before
// PgBouncer 1.21), a LISTEN. The sources are read for those, and what can be seen on the server is checked:
// openers migrating one database at once, a team member's import through a temporary table, and live changes,
// which come by LISTEN on a direct URL when one is given and by polling without one.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { UsageError } from '../../src/core/errors';
import { openStore, type Store } from '../../src/store';
import { initTeamDatabase, PG_SCHEMA_VERSION } from '../../src/store/postgres/adapter';
import { PROBE_MS } from '../../src/store/postgres/listen';
import { ROOT } from '../support/helpers';
import { AUTH_ROLE, startPgBouncer } from '../support/pgbouncer';
import { freshPostgresDatabase, loginUrl } from '../support/postgres';

const server = inject('postgres');
const skip =
  'skip' in server ? server.skip : server.pooler ? undefined : 'runs in the pgbouncer project only (vitest.config.mts)';
const pooledUrl = 'url' in server ? server.url : '';
const directServerUrl = 'url' in server ? server.directUrl : '';
const password = 'password' in server ? server.password : '';

/** A database URL through the pooler, and the same database on the server itself. */
async function database(): Promise<{ pooled: string; direct: string; name: string }> {
  const pooled = await freshPostgresDatabase(pooledUrl);
  const name = new URL(pooled).pathname.slice(1);
  const d = new URL(directServerUrl);
  d.pathname = `/${name}`;
  return { pooled, direct: d.toString(), name };
}

/** One query as the superuser on the server itself (what the pooler cannot show: every session's locks and tables). */
async function onServer<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: directServerUrl });
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * What would outlive a transaction, as it is written in the store's sources: each entry a pattern and why it is
 * refused. A statement keyword counts at the start of a line or string or after a `;`, in capitals (as these
 * sources write SQL), so `listen = ...` in code is not one.
 */
const SESSION_STATE: { what: string; pattern: RegExp; allowedIn?: string[] }[] = [
  {
    what: 'a session-level advisory lock (held until the session ends: behind the pooler, by a session other clients get, and released on whichever session runs the unlock)',
    pattern: /\bpg_(?:try_)?advisory_(?:un)?lock(?:_shared)?\s*\(|\bpg_advisory_unlock_all\b/,
  },
  {
    what: 'a session SET (the next transaction may run on another server session): SET LOCAL, or set_config(..., true)',
    pattern:
      /(?:^|[`'";])\s*(?:RE)?SET\s+(?!LOCAL\b|TRANSACTION\b|CONSTRAINTS\b)(?:SESSION\s+)?[A-Za-z_.]+\s*(?:=|TO\b)/m,
  },
  { what: 'set_config(..., false): a session setting', pattern: /\bset_config\s*\([^)]*,\s*false\s*\)/i },
  {
    what: 'a temporary table that outlives its transaction (only ON COMMIT DROP)',
    pattern: /CREATE\s+TEMP(?:ORARY)?\s+TABLE(?![^`'"]*ON\s+COMMIT\s+DROP)/i,
  },
  {
    what: 'a named prepared statement (PgBouncer supports them from 1.21 only; Debian 12 ships 1.18)',
    pattern: /(?:^|[`'";])\s*PREPARE\s+\w|\.query\(\s*\{[^}]*\bname\s*:/ms,
  },
  { what: 'a cursor held past its transaction', pattern: /\bWITH\s+HOLD\b/i },
  {
    what: 'a LISTEN anywhere but the listen connection (tested before it is used; a direct URL where there is a pooler)',
    pattern: /(?:^|[`'";])\s*(?:UN)?LISTEN\s/m,
    allowedIn: ['src/store/postgres/listen.ts'],
  },
];

function sessionState(source: string, file: string): string[] {
  return SESSION_STATE.filter((s) => !s.allowedIn?.includes(file) && s.pattern.test(source)).map((s) => s.what);
}

describe('no session state in the store SQL (read from the sources)', () => {
  it('src/store/postgres and src/store/sql use nothing that outlives a transaction', () => {
    const files = ['src/store/postgres', 'src/store/sql'].flatMap((dir) =>
      readdirSync(join(ROOT, dir))
        .filter((f) => f.endsWith('.ts'))
        .map((f) => `${dir}/${f}`),
    );
    expect(files.length).toBeGreaterThan(10);
    const found = files.flatMap((f) => sessionState(readFileSync(join(ROOT, f), 'utf8'), f).map((w) => `${f}: ${w}`));
    expect(found).toEqual([]);
  });

  it('the patterns catch what the adapter did before (so the check above can fail)', () => {
    // the migration lock and its timeout as they were written before this issue, and the staging table
    const before = [
      "await client.query(`SET lock_timeout = ${ms}`);\nawait client.query('SELECT pg_advisory_lock($1)', [KEY]);",
      "await client.query('SELECT pg_advisory_unlock($1)', [KEY])",
      '`CREATE TEMP TABLE IF NOT EXISTS ${stage} (LIKE ${table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`',
      "client.query({ name: 'claim', text: 'SELECT 1' })",
      "await client.query('LISTEN discretion_changes')",
      "SELECT set_config('lock_timeout', '5s', false)",
    ];
    for (const snippet of before)
      expect(sessionState(snippet, 'src/store/postgres/adapter.ts'), snippet).not.toEqual([]);
    // and leave alone what is transaction-scoped or only looks alike
    const fine = [
      '`BEGIN; SET LOCAL lock_timeout = ${ms}; SELECT discretion_now_ms() AS ms`',
      "SELECT pg_advisory_xact_lock(hashtext('discretion:claims:1'))",
      'UPDATE pairs SET claim_rank = NULL',
      "'INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET a = excluded.a'",
      '`CREATE TEMP TABLE IF NOT EXISTS ${stage} (LIKE ${table} INCLUDING DEFAULTS) ON COMMIT DROP`',
      'ALTER FUNCTION f() SET search_path = public, pg_temp',
      '// LISTEN on a direct URL',
    ];
    for (const snippet of fine) expect(sessionState(snippet, 'src/store/postgres/adapter.ts'), snippet).toEqual([]);
  });
});

describe.skipIf(skip)('the store through PgBouncer in transaction mode', () => {
  const open: Store[] = [];
  afterAll(async () => {
    for (const s of open.splice(0)) await s.close().catch(() => undefined);
  });
  const keep = (s: Store) => {
    open.push(s);
    return s;
  };

  it('the run goes through the pooler, and the pooler lends sessions by transaction', async () => {
    // a session behind the pooler is the server's (its port), not the pooler's (the URL's)
    const c = new pg.Client({ connectionString: pooledUrl });
    await c.connect();
    const port = (await c.query<{ port: string }>("SELECT current_setting('port') AS port")).rows[0].port;
    await c.end();
    expect(Number(port)).toBe(Number(new URL(directServerUrl).port));
    expect(Number(port)).not.toBe(Number(new URL(pooledUrl).port));
    // PgBouncer's admin console: every pool of this run's databases in transaction mode
    const admin = new pg.Client({ connectionString: 'url' in server ? server.pooler!.adminUrl : '' });
    await admin.connect();
    try {
      const pools = (await admin.query<{ database: string; pool_mode: string }>('SHOW POOLS')).rows.filter(
        (p) => p.database !== 'pgbouncer',
      );
      expect(pools.length).toBeGreaterThan(0);
      expect(new Set(pools.map((p) => p.pool_mode))).toEqual(new Set(['transaction']));
    } finally {
      await admin.end();
    }
  });

  it('six processes opening one new database at once: one migrates, all open it, no lock is left on any session', async () => {
    const { pooled, name } = await database();
    const stores = await Promise.all(Array.from({ length: 6 }, () => openStore(pooled)));
    stores.forEach(keep);
    const d = new URL(directServerUrl);
    d.pathname = `/${name}`;
    const c = new pg.Client({ connectionString: d.toString() });
    await c.connect();
    try {
      expect((await c.query('SELECT version FROM discretion_schema')).rows).toEqual([{ version: PG_SCHEMA_VERSION }]);
    } finally {
      await c.end();
    }
    // a session-level lock would stay with the server session that took it (pg_locks as the server sees them)
    const locks = await onServer(
      "SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' AND d.datname = $1",
      [name],
    );
    expect(locks).toEqual([]);
  });

  it('a team member whose rows go through a temporary table (row-level security): none is left on a pooled session', async () => {
    const { pooled, name } = await database();
    const sfx = Math.random().toString(36).slice(2, 8);
    const lead = `lead_${sfx}`;
    const member = `ann_${sfx}`;
    await onServer(`CREATE ROLE ${lead} LOGIN CREATEROLE PASSWORD '${password}'`);
    await onServer(`CREATE ROLE ${member} LOGIN PASSWORD '${password}'`);
    await onServer(`ALTER DATABASE ${name} OWNER TO ${lead}`);
    const as = (login: string) => {
      const u = new URL(pooled);
      u.username = login;
      return u.toString();
    };
    await initTeamDatabase(as(lead));
    const owner = keep(await openStore(as(lead)));
    await owner.addTeamMember(member, 'ann', 'annotator');
    const datasetId = await owner.write(async (tx) => {
      const id = await tx.createDataset('d', 'jsonl', null);
      const first = await tx.nextPairRowId();
      await tx.insertPairs(
        id,
        [0, 1, 2].map((i) => ({ idx: i, sourceId: `s${i}`, prompt: `p${i}`, y0: 'a', y1: 'b' })),
        [0, 1, 2].map((i) => first + i),
      );
      return id;
    });
    const ann = keep(await openStore(as(member)));
    const annId = (await ann.requireAnnotator('ann')).id;
    const rows = await ann.pairRowIds(datasetId);
    // two writes, so two transactions: the second must not count on a table the first made
    for (const idx of [0, 1])
      await ann.write((tx) => tx.insertPreferences(annId, [{ pairIdx: idx, value: 1 }], (i) => rows.get(i)!));
    const labels = await ann.preferencesForPairs([...rows.values()]);
    expect(
      labels
        .filter((p) => p.annotator === 'ann')
        .map((p) => p.pairRowId)
        .sort(),
    ).toEqual([rows.get(0), rows.get(1)].sort());
    // ON COMMIT DROP: no session of the server holds a staging table now (ON COMMIT DELETE ROWS would keep one)
    const d = new URL(directServerUrl);
    d.pathname = `/${name}`;
    const c = new pg.Client({ connectionString: d.toString() });
    await c.connect();
    try {
      expect((await c.query("SELECT relname FROM pg_class WHERE relname LIKE 'discretion_stage_%'")).rows).toEqual([]);
    } finally {
      await c.end();
    }
  });

  it("the README's pooler: an auth role of its own, which needs CONNECT on the team's database (team init revokes PUBLIC's)", async () => {
    const port = Number(new URL(directServerUrl).port);
    const bouncer = await startPgBouncer({ url: directServerUrl, port }, { authUser: 'role' });
    try {
      const sfx = Math.random().toString(36).slice(2, 8);
      const [lead, member, db] = [`lead_${sfx}`, `ann_${sfx}`, `team_auth_${sfx}`];
      // what the DBA does (README), then the lead's team init and team add, on the server itself
      await onServer(`CREATE ROLE ${lead} LOGIN CREATEROLE PASSWORD '${password}'`);
      await onServer(`CREATE ROLE ${member} LOGIN PASSWORD '${password}'`);
      await onServer(`CREATE DATABASE ${db} OWNER ${lead}`);
      await initTeamDatabase(loginUrl(directServerUrl, lead, db, password));
      const owner = keep(await openStore(loginUrl(directServerUrl, lead, db, password)));
      await owner.addTeamMember(member, 'ann', 'annotator');
      // through this pooler, whose auth role may not connect to the database yet: the member is refused in one line
      const pooled = bouncer.pooled(loginUrl(directServerUrl, member, db, password));
      const err = await openStore(pooled).then(keep, (e: unknown) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toMatch(
        // PgBouncer keeps the client waiting while its auth role cannot log in, so the client's 10 s run out
        new RegExp(
          `^cannot open database postgres://${member}@127\\.0\\.0\\.1:${bouncer.port}/${db}: the login did not complete in time \\(`,
        ),
      );
      expect((err as Error).message).not.toContain(password);
      // the DBA's grant (README): then she logs in through it as herself
      await onServer(`GRANT CONNECT ON DATABASE ${db} TO ${AUTH_ROLE}`);
      // PgBouncer refuses the login for server_login_retry (0.1 s here) after its last failed server login, and a
      // login it started before the grant may still fail after it: "try again later" is the answer meanwhile (a
      // busy machine stretches that window, so the test tries again rather than sleeping a fixed time)
      const until = Date.now() + 15_000;
      let ann: Store | undefined;
      while (!ann) {
        try {
          ann = keep(await openStore(pooled));
        } catch (e) {
          if (!/server login has been failing, try again later/.test((e as Error).message) || Date.now() > until)
            throw e;
          await sleep(200);
        }
      }
      expect(await ann.identity()).toMatchObject({ login: member, role: 'annotator', annotator: 'ann' });
    } finally {
      await bouncer.stop();
    }
  });

  /** Resolves with the first change reported after `seen` calls, or 'timeout'. */
  const nextChange = async (calls: (string[] | undefined)[], seen: number, ms: number) => {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (calls.length > seen) return calls[seen];
      await sleep(10);
    }
    return 'timeout' as const;
  };

  it('live changes without a direct URL: the LISTEN through the pooler is found deaf, and polling reports changes', async () => {
    const { pooled } = await database();
    const a = keep(await openStore(pooled));
    const b = keep(await openStore(pooled));
    const calls: (string[] | undefined)[] = [];
    const w = a.watchChanges((t) => calls.push(t), 200);
    try {
      await sleep(PROBE_MS + 500); // the LISTEN's test has run out: polling now
      const seen = calls.length;
      const t0 = Date.now();
      await b.write((tx) => tx.createDataset('polled', 'jsonl', null));
      // heard by the change stamp (polling cannot name tables); a LISTEN that worked would name ['datasets']
      expect(await nextChange(calls, seen, 2000)).toBeUndefined();
      expect(Date.now() - t0).toBeLessThan(2000);
    } finally {
      w.dispose();
    }
  });

  it('live changes with a direct URL: LISTEN on the server itself hears a write made through the pooler at once', async () => {
    const { pooled, direct } = await database();
    const a = keep(await openStore(pooled, { directUrl: direct }));
    const b = keep(await openStore(pooled));
    const calls: (string[] | undefined)[] = [];
    const w = a.watchChanges((t) => calls.push(t), 600_000); // a poll interval far too long to be the cause
    try {
      // the listen connection is up once the server shows it listening (its last statement: the LISTEN)
      const until = Date.now() + 5000;
      while (
        (
          await onServer(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'discretion-listen' AND query LIKE 'LISTEN%' AND datname = $1",
            [new URL(direct).pathname.slice(1)],
          )
        ).length === 0 &&
        Date.now() < until
      )
        await sleep(50);
      const seen = calls.length;
      const t0 = Date.now();
      await b.write((tx) => tx.createDataset('heard', 'jsonl', null));
      expect(await nextChange(calls, seen, 1000)).toEqual(['datasets']);
      expect(Date.now() - t0).toBeLessThan(1000);
    } finally {
      w.dispose();
    }
  });

  /** The one-line refusal of a direct URL: names it and the database without their passwords, and changes nothing. */
  const refusedDirect = async (pooled: string, directUrl: string): Promise<string> => {
    const err = await openStore(pooled, { directUrl }).then(
      (s) => {
        keep(s);
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UsageError);
    const e = err as UsageError;
    expect(e.option).toBe('directUrl');
    expect(e.message.split('\n')).toHaveLength(1);
    expect(e.message).not.toContain(password);
    expect(e.message).not.toContain(encodeURIComponent(password));
    return e.message;
  };

  it('a direct URL that reaches another database, the pooler itself, or nothing is refused in one line at open', async () => {
    const { pooled, direct } = await database();
    const other = await database();
    const shown = (url: string) => {
      const u = new URL(url);
      u.password = '';
      return u.toString();
    };
    // another database of the same server: its notifications are not this database's
    expect(await refusedDirect(pooled, other.direct)).toMatch(
      new RegExp(
        `^the direct connection ${escape(shown(other.direct))} does not reach database ${escape(shown(pooled))}: a notification sent on the one did not arrive on the other within ${PROBE_MS / 1000} s`,
      ),
    );
    // the pooler again (a LISTEN through it is not heard)
    expect(await refusedDirect(pooled, pooled)).toMatch(
      /does not reach database .*name the PostgreSQL server itself, not a pooler/,
    );
    // nothing listens there
    const nowhere = new URL(direct);
    nowhere.port = '1';
    expect(await refusedDirect(pooled, nowhere.toString())).toMatch(
      /^cannot open the direct connection postgres:\/\/postgres@127\.0\.0\.1:1\/\w+: the server refused the connection/,
    );
    // not a server URL at all
    expect(await refusedDirect(pooled, '/tmp/team.db')).toMatch(
      /^the direct URL \/tmp\/team\.db is not a postgres:\/\/ URL/,
    );
  });
});

/** A literal for a RegExp. */
function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
