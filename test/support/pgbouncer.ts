// PgBouncer in front of the test PostgreSQL (./postgres.ts): Debian's `pgbouncer` run as a child process (never the
// system service), its config in a temporary folder, pool_mode = transaction, on 127.0.0.1 and a free port.
//
// Logins: every client logs in as its own role, as a team's members do (the database decides what a login may do:
// session_user must be the member's, so one shared pooler login would not do). PgBouncer asks the server for the
// login's SCRAM secret with auth_query, checks the client's SCRAM proof against it, and logs in to the server with
// the keys that proof gave it (SCRAM pass-through: the manual's "authentication file format" section; it needs the
// client to use SCRAM, no user in the [databases] line, and the very secret the server holds, which auth_query
// returns). No member's password is written anywhere; only the auth user's is, in the auth_file. The auth user is
// the server's superuser for the suites (it may connect to every database they make, whatever `team init` grants),
// or, as the README tells a DBA, a small role of its own through a SECURITY DEFINER function (the manual: "It's
// preferable to use a non-superuser that calls a SECURITY DEFINER function instead"), which needs CONNECT on each
// database it serves.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, serverUser } from './postgres';

export interface TestPgBouncer {
  host: string;
  port: number;
  /** Its process id (the bench reads its CPU time from /proc). */
  pid: number;
  /** A URL of the server behind it (any login, password and database) as reached through the pooler. */
  pooled(url: string): string;
  /** The admin console (`SHOW POOLS`, `SHOW CONFIG`...) as the auth user, with its password. */
  adminUrl: string;
  stop(): Promise<void>;
}

/** The role PgBouncer asks the server for logins' secrets as (auth_user), and the schema of its lookup function. */
export const AUTH_ROLE = 'discretion_pgbouncer';

/** Debian's pgbouncer binary, or undefined when it is not installed. */
export function pgbouncerBin(): string | undefined {
  for (const p of ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer']) if (existsSync(p)) return p;
  const r = spawnSync('sh', ['-c', 'command -v pgbouncer'], { encoding: 'utf8' });
  const found = r.stdout?.trim();
  return r.status === 0 && found ? found : undefined;
}

/** Installs Debian's pgbouncer with apt-get when missing and we are root (as ensurePostgresInstalled does). */
export function ensurePgBouncerInstalled(): string | undefined {
  const bin = pgbouncerBin();
  if (bin || process.getuid?.() !== 0) return bin;
  const apt = (args: string[]) =>
    spawnSync('apt-get', args, { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  apt(['update', '-qq']);
  apt(['install', '-y', '-qq', '--no-install-recommends', 'pgbouncer']);
  return pgbouncerBin();
}

/**
 * The auth role and its lookup function (pgbouncer.user_lookup) in `template1`, as the README gives them: auth_query
 * runs in the database the client asked for (PgBouncer 1.18 has no auth_dbname), and CREATE DATABASE copies
 * template1, so every database made afterwards has it. The function returns what PgBouncer's default auth_query reads
 * from pg_authid, superusers left out (they do not log in through the pooler).
 */
async function installAuthLookup(serverUrl: string, password: string): Promise<void> {
  const { default: pg } = await import('pg');
  const su = new pg.Client({ connectionString: serverUrl });
  await su.connect();
  try {
    await su.query(`DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${AUTH_ROLE}') THEN CREATE ROLE ${AUTH_ROLE} LOGIN; END IF;
    END $$; ALTER ROLE ${AUTH_ROLE} PASSWORD '${password}'`);
  } finally {
    await su.end();
  }
  for (const database of ['template1']) {
    const u = new URL(serverUrl);
    u.pathname = `/${database}`;
    const c = new pg.Client({ connectionString: u.toString() });
    await c.connect();
    try {
      await c.query(`CREATE SCHEMA IF NOT EXISTS pgbouncer;
        CREATE OR REPLACE FUNCTION pgbouncer.user_lookup(login TEXT, OUT uname TEXT, OUT phash TEXT) RETURNS record
          LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $$
          SELECT rolname::text, CASE WHEN rolvaliduntil < now() THEN NULL ELSE rolpassword END
          FROM pg_authid WHERE rolname = login AND rolcanlogin AND NOT rolsuper $$;
        REVOKE ALL ON FUNCTION pgbouncer.user_lookup(TEXT) FROM PUBLIC;
        GRANT USAGE ON SCHEMA pgbouncer TO ${AUTH_ROLE};
        GRANT EXECUTE ON FUNCTION pgbouncer.user_lookup(TEXT) TO ${AUTH_ROLE};`);
    } finally {
      await c.end();
    }
  }
}

/** Resolves once something accepts TCP connections on the port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface PgBouncerOptions {
  /** The auth user: the server's superuser (the default), or AUTH_ROLE through pgbouncer.user_lookup (see above). */
  authUser?: 'superuser' | 'role';
  /** Server connections per (database, login) pair (default_pool_size; 20 here). */
  poolSize?: number;
  /** Client connections it accepts in all (max_client_conn; 500 here): the bench's largest crowd needs more. */
  maxClientConn?: number;
  /**
   * After a login the server refused, how long PgBouncer refuses that login's clients itself ("server login has been
   * failing, try again later"), in seconds: 15 by default, 0.1 here, so a suite can connect a login right after the
   * lead let it in (`team add` after a refusal); the README says what a team sees with the default.
   */
  serverLoginRetryS?: number;
}

/**
 * Starts PgBouncer in transaction mode in front of `server` (its superuser's URL and TCP port). The caller stops it
 * (afterAll, or the global setup's teardown); `stop` also removes its folder.
 */
export async function startPgBouncer(
  server: { url: string; port: number },
  options: PgBouncerOptions = {},
): Promise<TestPgBouncer> {
  const bin = ensurePgBouncerInstalled();
  if (!bin) throw new Error('pgbouncer not found (apt-get install pgbouncer, as root)');
  const su = new URL(server.url);
  const byRole = options.authUser === 'role';
  const authUser = byRole ? AUTH_ROLE : decodeURIComponent(su.username);
  const password = byRole ? randomBytes(18).toString('hex') : decodeURIComponent(su.password);
  if (byRole) await installAuthLookup(server.url, password);
  const dir = mkdtempSync(join(tmpdir(), 'discretion-pgbouncer-'));
  // PgBouncer refuses to run as root: as the postgres user then, which must read its folder.
  const user = serverUser();
  const { uid, gid } = user ?? {};
  if (user) chownSync(dir, user.uid, user.gid);
  chmodSync(dir, 0o700);
  const own = (file: string, content: string) => {
    writeFileSync(file, content, { mode: 0o600 });
    if (user) chownSync(file, user.uid, user.gid);
  };
  own(join(dir, 'userlist.txt'), `"${authUser}" "${password.replace(/"/g, '""')}"\n`);
  const log = join(dir, 'pgbouncer.log');

  const start = async (port: number): Promise<ChildProcess> => {
    const ini = join(dir, 'pgbouncer.ini');
    own(
      ini,
      `[databases]
; every database of the server, under its own name; no user here, so each client logs in as itself (SCRAM pass-through)
* = host=127.0.0.1 port=${server.port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
pool_mode = transaction
auth_type = scram-sha-256
auth_file = ${join(dir, 'userlist.txt')}
auth_user = ${authUser}
auth_query = ${byRole ? 'SELECT uname, phash FROM pgbouncer.user_lookup($1)' : 'SELECT rolname, CASE WHEN rolvaliduntil < now() THEN NULL ELSE rolpassword END FROM pg_authid WHERE rolname = $1 AND rolcanlogin'}
admin_users = ${authUser}
default_pool_size = ${options.poolSize ?? 20}
server_login_retry = ${options.serverLoginRetryS ?? 0.1}
max_client_conn = ${options.maxClientConn ?? 500}
logfile = ${log}
pidfile = ${join(dir, 'pgbouncer.pid')}
`,
    );
    const child = spawn(bin, [ini], { uid, gid, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    let exited = false;
    child.once('exit', () => {
      exited = true;
    });
    for (let waited = 0; waited < 10_000; waited += 50) {
      if (exited) break;
      if (await accepts(port)) return child;
      await sleep(50);
    }
    child.kill('SIGKILL');
    const logText = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '';
    throw new Error(`pgbouncer did not start on 127.0.0.1:${port}: ${(stderr || logText).trim().split('\n').pop()}`);
  };

  let child: ChildProcess | undefined;
  let port = 0;
  for (let attempt = 0; !child; attempt++) {
    port = await freePort();
    try {
      child = await start(port);
    } catch (e) {
      if (attempt >= 2) {
        rmSync(dir, { recursive: true, force: true });
        throw e; // the free port was taken between the probe and the start: another one, twice
      }
    }
  }
  const running = child;
  const pooled = (url: string) => {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(port);
    return u.toString();
  };
  let stopped: Promise<void> | undefined;
  return {
    host: '127.0.0.1',
    port,
    pid: running.pid!,
    pooled,
    adminUrl: `postgres://${encodeURIComponent(authUser)}:${encodeURIComponent(password)}@127.0.0.1:${port}/pgbouncer`,
    stop: () =>
      (stopped ??= (async () => {
        // SIGTERM: PgBouncer's immediate shutdown (SIGINT would wait for its clients to leave)
        if (running.exitCode === null && running.signalCode === null) {
          const exited = new Promise((resolve) => running.once('exit', resolve));
          running.kill('SIGTERM');
          await Promise.race([exited, sleep(5000)]);
          if (running.exitCode === null && running.signalCode === null) running.kill('SIGKILL');
        }
        rmSync(dir, { recursive: true, force: true });
      })()),
  };
}
