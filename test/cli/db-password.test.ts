// The CLI refuses a database URL that holds a password (it would show in `ps` and stay in the shell's
// history), before connecting: through the built CLI (bin/discretion.js), against a real database of the
// run's test server that the same URL would open, so a CLI that connected anyway would pass the password
// check of the server and fail here.
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { openStore } from '../../src/store';
import { ROOT, tempDir } from '../support/helpers';
import { freshPostgresDatabase, urlWithoutPassword } from '../support/postgres';

const BIN = join(ROOT, 'bin', 'discretion.js');
const server = inject('postgres');
// no PGPASSWORD and no ~/.pgpass of the machine: the password is only where the test puts it
const env = { ...process.env, NO_COLOR: '1', PGPASSWORD: '', PGPASSFILE: '/nonexistent/discretion-test-pgpass' };
const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT, env });

describe.skipIf('skip' in server ? server.skip : undefined)('a password in --db, --from or --to', () => {
  const password = 'password' in server ? server.password : '';
  let withPassword = '';
  let bare = '';
  let pairs = '';
  beforeAll(async () => {
    withPassword = await freshPostgresDatabase('url' in server ? server.url : '');
    bare = urlWithoutPassword(withPassword);
    expect(withPassword).toContain(encodeURIComponent(password)); // the URLs below do hold it
    pairs = join(tempDir(), 'pairs.jsonl');
    writeFileSync(pairs, JSON.stringify({ id: 'q1', prompt: 'Human: hi?', a: 'no', b: 'yes' }) + '\n');
  });

  const dump = async () => {
    const s = await openStore(withPassword);
    try {
      return await s.dumpTables();
    } finally {
      await s.close();
    }
  };

  it('is refused in one line that names the option and the URL without the password, and nothing is written', async () => {
    const before = await dump();
    const inQuery = `${bare}?application_name=x&password=${encodeURIComponent(password)}`;
    const shownQuery = `${bare}?application_name=x`;
    const dir = tempDir();
    const cases: [string[], string, string][] = [
      [['info', '--db', withPassword], '--db', bare],
      [['info', '--db', inQuery], '--db', shownQuery],
      [
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
          '--db',
          withPassword,
        ],
        '--db',
        bare,
      ],
      [['team', 'status', '--dataset', 'd', '--db', inQuery], '--db', shownQuery],
      [['sync', '--from', join(dir, 'missing.db'), '--to', withPassword], '--to', bare],
      [['sync', '--from', inQuery, '--to', join(dir, 'new.db')], '--from', shownQuery],
    ];
    for (const [args, option, shown] of cases) {
      const r = run(args);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        `discretion: ${option} must not hold a password (${shown}): remove it from the URL and set PGPASSWORD, or put it in ~/.pgpass or the file PGPASSFILE names; nothing was written\n`,
      );
      expect(r.stderr + r.stdout).not.toContain(password);
      expect(r.stderr + r.stdout).not.toContain(encodeURIComponent(password));
    }
    expect(await dump()).toEqual(before);
    expect(readdirSync(dir)).toEqual([]); // no SQLite file for the refused sync
  });

  it('an unparsable URL with a password is refused all the same, without showing it', () => {
    const r = run(['info', '--db', 'postgres://lead:hunter2@bad host:99999/d']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      'discretion: --db must not hold a password (postgres://lead@bad host:99999/d): remove it from the URL and set PGPASSWORD, or put it in ~/.pgpass or the file PGPASSFILE names; nothing was written\n',
    );
  });

  it('the same database without the password in the URL opens with PGPASSWORD', () => {
    const r = spawnSync(process.execPath, [BIN, 'info', '--db', bare], {
      encoding: 'utf8',
      cwd: ROOT,
      env: { ...env, PGPASSWORD: password },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`database ${bare}`);
  });

  it('the store itself (not the CLI) still opens a URL with a password= parameter, and its location and errors never show it', async () => {
    const s = await openStore(`${bare}?password=${encodeURIComponent(password)}`);
    try {
      expect(s.location).toBe(bare);
    } finally {
      await s.close();
    }
    const message = await openStore('postgres://lead@127.0.0.1:1/d?application_name=x&password=hunter2').then(
      () => 'opened',
      (e: Error) => e.message,
    );
    expect(message).toBe(
      'cannot open database postgres://lead@127.0.0.1:1/d?application_name=x: the server refused the connection (is it running, and on that host and port?)',
    );
  });
});
