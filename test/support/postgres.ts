// A real PostgreSQL server for the tests: Debian's `postgresql` binaries, `initdb` into a temporary folder (as
// the `postgres` user when we are root, since initdb refuses root), `pg_ctl` on 127.0.0.1 and a free port,
// fsync off. About 1.5 s to start here. Nothing is mocked: the store's PostgreSQL adapter talks to this server.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPostgres {
  /** postgres://USER:PASSWORD@127.0.0.1:PORT/DB of the superuser (password authentication over TCP). */
  url: string;
  host: string;
  port: number;
  user: string;
  password: string;
  /** A fresh, empty database on the server; its URL. */
  createDatabase(name?: string): Promise<string>;
  /** The server goes away at once (`pg_ctl stop -m immediate`: connections cut, no clean shutdown); its data stays. */
  crash(): void;
  /** Starts the server again after `crash`, on the same port and data. */
  restart(): void;
  stop(): void;
}

const PASSWORD = 'discretion-test-secret';

/** The folder that holds Debian's PostgreSQL server binaries, or undefined when the server is not installed. */
export function postgresBinDir(): string | undefined {
  try {
    const dir = execFileSync('pg_config', ['--bindir'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    if (existsSync(join(dir, 'initdb'))) return dir;
  } catch {
    /* pg_config missing: look in Debian's layout */
  }
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0], 'bin') : undefined;
}

/** Installs Debian's postgresql with apt-get when missing and we are root (as the e2e suite does for Chromium). */
export function ensurePostgresInstalled(): string | undefined {
  let dir = postgresBinDir();
  if (dir) return dir;
  if (process.getuid?.() !== 0) return undefined;
  const apt = (args: string[]) =>
    spawnSync('apt-get', args, { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  apt(['update', '-qq']);
  apt(['install', '-y', '-qq', 'postgresql']);
  dir = postgresBinDir();
  return dir;
}

/** A TCP port on 127.0.0.1 that nothing listens on now (a server started right after may still lose it: retry). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The `postgres` user's ids when this process is root: initdb, the server and PgBouncer refuse to run as root, so
 * the tests run them as that user (and give it their folders). Undefined when not root: they run as ourselves.
 */
export function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  return {
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()),
  };
}

export interface StartOptions {
  /**
   * For tests that stop the server mid-write: with it off (the default here, for speed) a commit is
   * acknowledged before its WAL is written, and an immediate stop loses it.
   */
  synchronousCommit?: boolean;
  /**
   * TLS on (ssl = on) with this certificate and key (PEM files; copied into the server's folder, owned by
   * it); `caFile`: the CA that client certificates must come from (pg_hba's `cert` method).
   */
  ssl?: { certFile: string; keyFile: string; caFile?: string };
  /** pg_hba.conf in place of initdb's (e.g. `hostssl` lines); keep a `local ... trust` line for createDatabase. */
  hba?: string;
  /** The server's max_connections (default 200): the team bench's crowds open one or two per annotator. */
  maxConnections?: number;
  /** More server settings (`-c name=value`), e.g. the bulk-load sizing the import bench compares (docs/scaling.md). */
  settings?: Record<string, string | number>;
}

export async function startPostgres(options: StartOptions = {}): Promise<TestPostgres> {
  const bin = ensurePostgresInstalled();
  if (!bin) throw new Error('PostgreSQL server binaries not found (apt-get install postgresql, as root)');
  const dir = mkdtempSync(join(tmpdir(), 'discretion-pg-'));
  const data = join(dir, 'data');
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, PASSWORD + '\n');
  const user = serverUser();
  const { uid, gid } = user ?? {};
  if (user) {
    chownSync(dir, user.uid, user.gid);
    chownSync(pwfile, user.uid, user.gid);
    chmodSync(dir, 0o700);
  }
  // As the postgres user when root: initdb and the server refuse to run as root.
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(join(bin, cmd), args, { encoding: 'utf8', uid, gid, cwd: dir });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr || r.stdout || r.error?.message}`);
  };
  run('initdb', [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
    `--pwfile=${pwfile}`,
    '-E',
    'UTF8',
    '--locale=C',
    '--no-sync',
  ]);
  // The server reads its key only when it is private to it (mode 0600, owned by the server's user).
  const own = (file: string, content: string | Buffer) => {
    writeFileSync(file, content, { mode: 0o600 });
    if (user) chownSync(file, user.uid, user.gid);
  };
  let tls = '';
  if (options.ssl) {
    own(join(dir, 'server.crt'), readFileSync(options.ssl.certFile));
    own(join(dir, 'server.key'), readFileSync(options.ssl.keyFile));
    tls = ` -c ssl=on -c ssl_cert_file=${join(dir, 'server.crt')} -c ssl_key_file=${join(dir, 'server.key')}`;
    if (options.ssl.caFile) {
      own(join(dir, 'client-ca.crt'), readFileSync(options.ssl.caFile));
      tls += ` -c ssl_ca_file=${join(dir, 'client-ca.crt')}`;
    }
  }
  if (options.hba !== undefined) own(join(data, 'pg_hba.conf'), options.hba);
  const settings = Object.entries(options.settings ?? {})
    .map(([k, v]) => ` -c ${k}=${v}`)
    .join('');
  let port = 0;
  const start = () =>
    run('pg_ctl', [
      '-D',
      data,
      '-l',
      join(dir, 'server.log'),
      '-w',
      '-t',
      '30',
      'start',
      '-o',
      `-c listen_addresses=127.0.0.1 -p ${port} -c fsync=off -c synchronous_commit=${options.synchronousCommit ? 'on' : 'off'} -c full_page_writes=off -c unix_socket_directories=${dir} -c max_connections=${options.maxConnections ?? 200}${tls}${settings}`,
    ]);
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      start();
      break;
    } catch (e) {
      if (attempt >= 2) throw e; // the free port was taken between the probe and the start: try another
    }
  }
  const url = `postgres://postgres:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/postgres`;
  let stopped = false;
  let databases = 0;
  return {
    url,
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password: PASSWORD,
    async createDatabase(name?: string) {
      const db = name ?? `t${process.pid}_${++databases}_${Date.now().toString(36)}`;
      run('psql', [
        '-h',
        dir,
        '-p',
        String(port),
        '-U',
        'postgres',
        '-d',
        'postgres',
        '-qAtc',
        `CREATE DATABASE "${db}"`,
      ]);
      return `postgres://postgres:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/${db}`;
    },
    crash() {
      run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    },
    restart() {
      start();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        /* already gone */
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The pgbouncer project's run (pg-global-setup.ts): the suites it runs again through the pooler leave their SQLite
 * halves to the main project, which runs them already.
 */
export function pooledRun(server: { pooler?: unknown } | { skip: string }): boolean {
  return 'pooler' in server && server.pooler !== undefined;
}

/** A fresh, empty database on the run's test server (see pg-global-setup.ts); its URL. */
export async function freshPostgresDatabase(serverUrl: string): Promise<string> {
  const { default: pg } = await import('pg');
  const name = `t${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * A database URL as the CLI takes it: without its password, which the CLI refuses in --db (it would show in
 * `ps` and the shell's history); the child gets it in PGPASSWORD instead (pgEnv).
 */
export function urlWithoutPassword(url: string): string {
  const u = new URL(url);
  u.password = '';
  return u.toString();
}

/** The URL with the test server's password back in it, for a test's own connection (openStore takes one; the CLI does not). */
export function urlWithPassword(url: string, server: { password: string } | { skip: string }): string {
  if (!('password' in server) || !/^postgres(ql)?:\/\//i.test(url)) return url;
  const u = new URL(url);
  u.password = encodeURIComponent(server.password);
  return u.toString();
}

/** The child's environment for a CLI run against a test server: its password in PGPASSWORD, as a user sets it. */
export function pgEnv(server: { password: string } | { skip: string }): NodeJS.ProcessEnv {
  return { ...process.env, ...('password' in server ? { PGPASSWORD: server.password } : {}) };
}

/** A login's URL to a database of the test server: without a password (the CLI's form; PGPASSWORD carries it), or with `password` in it (openStore and pg clients take one). */
export function loginUrl(serverUrl: string, login: string, database: string, password?: string): string {
  const u = new URL(serverUrl);
  u.username = login;
  u.password = password === undefined ? '' : encodeURIComponent(password);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * What the README tells a DBA to create for a team, and nothing more: the lead's login with CREATEROLE, a login
 * per member (one password for all), and the database owned by the lead. As the server's superuser.
 */
export async function createTeamLogins(
  serverUrl: string,
  team: { database: string; lead: string; members: string[]; password: string },
): Promise<void> {
  const { default: pg } = await import('pg');
  const su = new pg.Client({ connectionString: serverUrl });
  await su.connect();
  const pw = team.password.replace(/'/g, "''");
  try {
    await su.query(`CREATE ROLE "${team.lead}" LOGIN CREATEROLE PASSWORD '${pw}'`);
    for (const m of team.members) await su.query(`CREATE ROLE "${m}" LOGIN PASSWORD '${pw}'`);
    await su.query(`CREATE DATABASE "${team.database}" OWNER "${team.lead}"`);
  } finally {
    await su.end();
  }
}
