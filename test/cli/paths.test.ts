// The CLI's file names on Windows and macOS, run here with their path rules: the private name a new database is
// built under, how it is put in place (Windows' answers injected), and when --from and --to are one database.
import { describe, expect, it } from 'vitest';
import { pathRules } from '../../src/app/platformPaths';
import { databaseIdentity } from '../../src/cli/commands/sync';
import { privateDatabasePath, publishNewDatabase, type PublishFs } from '../../src/cli/context';

describe('privateDatabasePath', () => {
  it('is .NAME.new-PID-TAG beside the database, on Windows with either separator, a drive or a share', () => {
    const { path: win } = pathRules('win32');
    expect(privateDatabasePath('C:\\Users\\ana\\Discretion.DB', 42, '0a1b', win)).toBe(
      'C:\\Users\\ana\\.Discretion.DB.new-42-0a1b',
    );
    expect(privateDatabasePath('C:/Users/ana/x.db', 42, '0a1b', win)).toBe('C:\\Users\\ana\\.x.db.new-42-0a1b');
    expect(privateDatabasePath('\\\\server\\share\\x.db', 42, '0a1b', win)).toBe(
      '\\\\server\\share\\.x.db.new-42-0a1b',
    );
    expect(privateDatabasePath('x.db', 42, '0a1b', win)).toBe('.x.db.new-42-0a1b');
    const { path: posix } = pathRules('linux');
    expect(privateDatabasePath('/home/ana/x.db', 42, '0a1b', posix)).toBe('/home/ana/.x.db.new-42-0a1b');
    expect(privateDatabasePath('x.db', 42, '0a1b', posix)).toBe('.x.db.new-42-0a1b');
  });
});

/** A file system that answers as told, and records what was asked. */
function fakeFs(o: { link?: string; rename?: string; exists?: boolean[] }): PublishFs & { calls: string[] } {
  const calls: string[] = [];
  const fail = (code: string) => Object.assign(new Error(code), { code });
  const exists = [...(o.exists ?? [])];
  return {
    calls,
    link: (a, b) => {
      calls.push(`link ${a} ${b}`);
      if (o.link) throw fail(o.link);
    },
    rename: (a, b) => {
      calls.push(`rename ${a} ${b}`);
      if (o.rename) throw fail(o.rename);
    },
    exists: (p) => {
      calls.push(`exists ${p}`);
      return exists.shift() ?? false;
    },
  };
}

describe('publishNewDatabase', () => {
  const fresh = 'C:\\d\\.x.db.new-1-aa';
  const target = 'C:\\d\\x.db';

  it('links the new database in place; a file already there (EEXIST, any letter case) is kept: false', () => {
    const ok = fakeFs({});
    expect(publishNewDatabase(fresh, target, ok, 'win32')).toBe(true);
    expect(ok.calls).toEqual([`link ${fresh} ${target}`]);
    const taken = fakeFs({ link: 'EEXIST' });
    expect(publishNewDatabase(fresh, target, taken, 'win32')).toBe(false);
    expect(taken.calls).toEqual([`link ${fresh} ${target}`]);
  });

  it('without hard links (Windows on FAT/exFAT answers EISDIR; EPERM, ENOTSUP elsewhere) it renames, after checking', () => {
    for (const [code, platform] of [
      ['EISDIR', 'win32'],
      ['ENOTSUP', 'win32'],
      ['EPERM', 'darwin'],
      ['ENOSYS', 'linux'],
    ] as const) {
      const fs = fakeFs({ link: code });
      expect(publishNewDatabase(fresh, target, fs, platform), code).toBe(true);
      expect(fs.calls).toEqual([`link ${fresh} ${target}`, `exists ${target}`, `rename ${fresh} ${target}`]);
    }
    // EISDIR is no "no hard links" outside Windows
    expect(() => publishNewDatabase(fresh, target, fakeFs({ link: 'EISDIR' }), 'linux')).toThrow('EISDIR');
  });

  it('without hard links, a database that another process made meanwhile is kept (false), never replaced', () => {
    const before = fakeFs({ link: 'EPERM', exists: [true] });
    expect(publishNewDatabase(fresh, target, before, 'win32')).toBe(false);
    expect(before.calls.some((c) => c.startsWith('rename'))).toBe(false);
    // Windows refuses to rename over a file another process holds open
    for (const code of ['EPERM', 'EACCES', 'EBUSY']) {
      const held = fakeFs({ link: 'EISDIR', rename: code, exists: [false, true] });
      expect(publishNewDatabase(fresh, target, held, 'win32'), code).toBe(false);
    }
    // any other refusal, with nothing there, is the error it is
    expect(() =>
      publishNewDatabase(fresh, target, fakeFs({ link: 'EISDIR', rename: 'EACCES', exists: [false, false] }), 'win32'),
    ).toThrow('EACCES');
    expect(() => publishNewDatabase(fresh, target, fakeFs({ link: 'ENOSPC' }), 'win32')).toThrow('ENOSPC');
  });
});

describe('databaseIdentity (sync refuses --from and --to that name one database)', () => {
  it('compares file names as the platform does', () => {
    const win = pathRules('win32');
    expect(databaseIdentity('C:\\Users\\ana\\Discretion.DB', win)).toBe(
      databaseIdentity('c:/users/ana/sub/../discretion.db', win),
    );
    expect(databaseIdentity('/Users/ana/Discretion.DB', pathRules('darwin'))).toBe(
      databaseIdentity('/Users/ana/discretion.db', pathRules('darwin')),
    );
    expect(databaseIdentity('/home/ana/Discretion.DB', pathRules('linux'))).not.toBe(
      databaseIdentity('/home/ana/discretion.db', pathRules('linux')),
    );
    // a URL is a server, whatever the platform
    expect(databaseIdentity('postgres://a@h/db', win)).toBe(databaseIdentity('postgres://b@h:5432/db', win));
  });
});
