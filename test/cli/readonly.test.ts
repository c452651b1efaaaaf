// The commands that only read (info, runs, metrics --run, consistency --run, review list, team status, sync's
// --from) open a SQLite file read-only: the file is not switched to WAL, not migrated, not written. Proved
// by the file's bytes and mtime (the tests run as root, which ignores permission bits), and where the machine
// allows it by a read-only file and folder for another user, a read-only bind mount and chattr +i.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../../src/store/sqlite/driver';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/store/sqlite/schema';
import { missingPrerequisite, ROOT, tempDir } from '../support/helpers';

const BIN = join(ROOT, 'bin', 'discretion.js');
const run = (args: string[], asUser?: string[]) =>
  asUser
    ? spawnSync(asUser[0], [...asUser.slice(1), process.execPath, BIN, ...args], { encoding: 'utf8', cwd: ROOT })
    : spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT });
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const snapshot = (path: string) => ({ sha256: sha(path), mtimeMs: statSync(path).mtimeMs, size: statSync(path).size });
const isRoot = process.getuid?.() === 0;
const hasSetpriv = spawnSync('setpriv', ['--version']).status === 0;
/** Runs as `nobody` when the tests run as root (root ignores permission bits), else as the current user. */
const UNPRIVILEGED = isRoot && hasSetpriv ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : undefined;

let demoDb: string;

beforeAll(() => {
  // The demo's database (a dataset, a principle list, labels, two metric runs) and a consistency run (run 3).
  const out = join(tempDir(), 'demo');
  const demo = run(['demo', '--out', out]);
  expect(demo.status, demo.stderr).toBe(0);
  demoDb = join(out, 'demo.db');
  const consistency = run(['consistency', '--dataset', 'sample', '--db', demoDb]);
  expect(consistency.status, consistency.stderr).toBe(0);
}, 120_000);

/** A copy of the demo's database alone in a new folder (in WAL mode, as this tool leaves every database). */
function demoCopy(name = 'demo.db'): { dir: string; db: string } {
  const dir = tempDir();
  const db = join(dir, name);
  copyFileSync(demoDb, db);
  return { dir, db };
}

async function setJournalMode(db: string, mode: 'DELETE' | 'WAL'): Promise<void> {
  const raw = await Database.open(db);
  expect((await raw.get<{ journal_mode: string }>(`PRAGMA journal_mode = ${mode}`))!.journal_mode).toBe(
    mode.toLowerCase(),
  );
  await raw.close();
}

const READ_COMMANDS: string[][] = [
  ['info'],
  ['info', '--json'],
  ['runs'],
  ['runs', '--json'],
  ['metrics', '--run', '1'],
  ['metrics', '--run', '2', '--json'],
  ['consistency', '--run', '3'],
  ['review', 'list', '--dataset', 'sample'],
  ['team', 'status', '--dataset', 'sample', '--json'],
];

describe('commands that only read open the database read-only', () => {
  it('leave a rollback-journal database byte for byte as it was, its mtime too, and create no -wal, -shm or -journal file', async () => {
    const { dir, db } = demoCopy();
    await setJournalMode(db, 'DELETE');
    const before = snapshot(db);
    const files = readdirSync(dir).sort();
    expect(files).toEqual(['demo.db']);
    for (const args of READ_COMMANDS) {
      const r = run([...args, '--db', db]);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stderr, args.join(' ')).toBe('');
      expect(snapshot(db), args.join(' ')).toEqual(before);
      expect(readdirSync(dir).sort(), args.join(' ')).toEqual(files);
    }
    expect(run(['info', '--json', '--db', db]).stdout).toMatch(/"name": "sample"/);
    // sync reads --from the same way (and writes --to, elsewhere)
    const to = join(tempDir(), 'to.db');
    const r = run(['sync', '--from', db, '--to', to]);
    expect(r.status, r.stderr).toBe(0);
    expect(snapshot(db)).toEqual(before);
    expect(readdirSync(dir).sort()).toEqual(files);
    expect(
      JSON.parse(run(['info', '--json', '--db', to]).stdout).datasets.map((d: { name: string }) => d.name),
    ).toEqual(['sample']);
  });

  it('a command that writes still switches the same database to WAL (the check above can tell the difference)', async () => {
    const { dir, db } = demoCopy();
    await setJournalMode(db, 'DELETE');
    const before = snapshot(db);
    const r = run(['annotators', 'set-group', 'alice', '--group', 'g', '--db', db]);
    expect(r.status, r.stderr).toBe(0);
    expect(snapshot(db).sha256).not.toBe(before.sha256);
    expect(readdirSync(dir).sort()).toEqual(['demo.db']); // its last connection closed: SQLite removed -wal and -shm
  });

  it('refuse a database of an older schema with one line and leave it unchanged; a command that writes upgrades it', async () => {
    const dir = tempDir();
    const db = join(dir, 'old.db');
    const raw = await Database.open(db);
    await raw.exec('PRAGMA journal_mode = DELETE');
    for (let v = 0; v < SCHEMA_VERSION - 1; v++)
      await raw.exec(`BEGIN; ${MIGRATIONS[v]} PRAGMA user_version = ${v + 1}; COMMIT;`);
    await raw.close();
    const before = snapshot(db);
    for (const args of [['info'], ['runs'], ['review', 'list', '--dataset', 'd']]) {
      const r = run([...args, '--db', db]);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr).toBe(
        `discretion: ${db} has schema version ${SCHEMA_VERSION - 1}, older than this version's ${SCHEMA_VERSION}, and this command only reads (it does not upgrade a database): run a command that writes on it once (an import, metrics), or open it in VS Code; nothing was written\n`,
      );
      expect(r.stdout).toBe('');
      expect(snapshot(db)).toEqual(before);
      expect(readdirSync(dir)).toEqual(['old.db']);
    }
    const w = run([
      'import',
      'principles',
      join(ROOT, 'media', 'principles', 'demo-safety.yaml'),
      '--name',
      'demo',
      '--db',
      db,
    ]);
    expect(w.status, w.stderr).toBe(0);
    const r = run(['info', '--json', '--db', db]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).principleLists.map((l: { name: string }) => l.name)).toEqual(['demo']);
  });

  it('refuse a newer schema and a file that holds no schema with one line, changing neither', async () => {
    const dir = tempDir();
    const newer = join(dir, 'newer.db');
    const raw = await Database.open(newer);
    await raw.exec(`PRAGMA journal_mode = DELETE; CREATE TABLE t (x); PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    await raw.close();
    const empty = join(dir, 'empty.db');
    writeFileSync(empty, '');
    const cases: [string, string][] = [
      [
        newer,
        `${newer} was written by a newer Discretion Workbench (schema version ${SCHEMA_VERSION + 1}; this version reads up to ${SCHEMA_VERSION}). Update the tool to open it.`,
      ],
      [
        empty,
        `${empty} holds no Discretion Workbench data (an empty file, or another program's SQLite database); nothing was written`,
      ],
    ];
    for (const [db, message] of cases) {
      const before = snapshot(db);
      const r = run(['info', '--db', db]);
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(`discretion: ${message}\n`);
      expect(snapshot(db)).toEqual(before);
    }
    expect(readdirSync(dir).sort()).toEqual(['empty.db', 'newer.db']);
  });

  it('read a WAL database that its reader may not write, in a folder it may not write (0444 in 0555)', (ctx) => {
    const skip = missingPrerequisite(
      !isRoot || hasSetpriv,
      'the tests run as root and setpriv is missing (root ignores permission bits, so this needs another user)',
    );
    if (skip) return ctx.skip(skip);
    const { dir, db } = demoCopy();
    const before = snapshot(db);
    chmodSync(db, 0o444);
    chmodSync(dir, 0o555); // (tempDir() is a new folder in the system's temp folder, 0700 until here)
    const to = tempDir();
    chmodSync(to, 0o777);
    try {
      for (const args of [
        ['info', '--json', '--db', db],
        ['runs', '--db', db],
        ['sync', '--from', db, '--to', join(to, 'copy.db')],
      ]) {
        const r = run(args, UNPRIVILEGED);
        expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
        expect(r.stderr).toBe('');
      }
      expect(run(['info', '--json', '--db', db], UNPRIVILEGED).stdout).toMatch(/"name": "sample"/);
      // a command that writes fails with one line
      const w = run(['annotators', 'set-group', 'alice', '--group', 'g', '--db', db], UNPRIVILEGED);
      expect(w.status).toBe(1);
      expect(w.stderr).toMatch(new RegExp(`^discretion: cannot open database ${db}: .*readonly database\\n$`));
      expect(snapshot(db)).toEqual(before);
      expect(readdirSync(dir)).toEqual(['demo.db']);
    } finally {
      chmodSync(dir, 0o755);
    }
  });

  it('read a WAL database on a read-only bind mount', (ctx) => {
    const { dir, db } = demoCopy();
    const before = snapshot(db);
    const mnt = tempDir();
    const bind = spawnSync('mount', ['--bind', dir, mnt], { encoding: 'utf8' });
    const ro = bind.status === 0 ? spawnSync('mount', ['-o', 'remount,ro,bind', mnt], { encoding: 'utf8' }) : bind;
    if (ro.status !== 0 && bind.status === 0) spawnSync('umount', [mnt]);
    const skip = missingPrerequisite(
      ro.status === 0,
      `this machine does not allow a read-only bind mount (${(ro.stderr ?? String(ro.error)).trim()})`,
    );
    if (skip) return ctx.skip(skip);
    try {
      const r = run(['info', '--json', '--db', join(mnt, 'demo.db')]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/"name": "sample"/);
      const w = run(['annotators', 'set-group', 'alice', '--group', 'g', '--db', join(mnt, 'demo.db')]);
      expect(w.status).toBe(1);
      expect(w.stderr.split('\n')).toHaveLength(2);
    } finally {
      expect(spawnSync('umount', [mnt]).status).toBe(0);
    }
    expect(snapshot(db)).toEqual(before);
    expect(readdirSync(dir)).toEqual(['demo.db']);
  });

  it('read a WAL database made immutable (chattr +i on the file and its folder)', (ctx) => {
    const { dir, db } = demoCopy();
    const before = snapshot(db);
    const set = spawnSync('chattr', ['+i', db], { encoding: 'utf8' });
    const skip = missingPrerequisite(
      set.status === 0,
      `chattr +i is not possible here (${(set.stderr ?? String(set.error)).trim()})`,
    );
    if (skip) return ctx.skip(skip);
    try {
      expect(spawnSync('chattr', ['+i', dir]).status).toBe(0);
      const r = run(['info', '--json', '--db', db]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/"name": "sample"/);
    } finally {
      spawnSync('chattr', ['-i', dir]);
      spawnSync('chattr', ['-i', db]);
    }
    expect(snapshot(db)).toEqual(before);
    expect(readdirSync(dir)).toEqual(['demo.db']);
    expect(existsSync(`${db}-wal`)).toBe(false);
  });
});
