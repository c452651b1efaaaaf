// Where the extension's database is, and when a workspace's settings may choose it (issue 10, point 3):
// expected paths written by hand.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pathRules } from '../../src/app/platformPaths';
import { consentKey, databaseLocation, localPath } from '../../src/extension/databaseLocation';
import { ROOT } from '../support/helpers';

const folder = '/home/u/project';
const globalStorage = '/home/u/.vscode/storage';

describe('databaseLocation', () => {
  it('defaults to .discretion/discretion.db in the workspace, else global storage', () => {
    expect(databaseLocation({}, { trusted: true, folder, globalStorage })).toEqual({
      path: '/home/u/project/.discretion/discretion.db',
      fromWorkspace: false,
      needsConsent: false,
    });
    expect(databaseLocation({}, { trusted: true, globalStorage }).path).toBe('/home/u/.vscode/storage/discretion.db');
  });

  it('ignores the workspace value in Restricted Mode (the user value still counts)', () => {
    expect(
      databaseLocation({ workspaceValue: '../../../etc/x.db' }, { trusted: false, folder, globalStorage }),
    ).toEqual({ path: '/home/u/project/.discretion/discretion.db', fromWorkspace: false, needsConsent: false });
    expect(
      databaseLocation(
        { workspaceValue: '/tmp/evil.db', globalValue: '/data/mine.db' },
        { trusted: false, folder, globalStorage },
      ),
    ).toEqual({ path: '/data/mine.db', fromWorkspace: false, needsConsent: false });
  });

  it('in a trusted workspace, a workspace value inside the folder is used; outside it (../, absolute) needs consent', () => {
    expect(databaseLocation({ workspaceValue: 'data/labels.db' }, { trusted: true, folder, globalStorage })).toEqual({
      path: '/home/u/project/data/labels.db',
      fromWorkspace: true,
      needsConsent: false,
    });
    expect(databaseLocation({ workspaceValue: '../other/x.db' }, { trusted: true, folder, globalStorage })).toEqual({
      path: '/home/u/other/x.db',
      fromWorkspace: true,
      needsConsent: true,
    });
    expect(
      databaseLocation(
        { workspaceFolderValue: '/home/u/.ssh/x.db', globalValue: '/data/mine.db' },
        { trusted: true, folder, globalStorage },
      ),
    ).toEqual({ path: '/home/u/.ssh/x.db', fromWorkspace: true, needsConsent: true });
  });

  it('a postgres:// URL is a server, not a path: kept as it is; from the workspace it needs consent; ignored in Restricted Mode', () => {
    const url = 'postgres://lead@db.example:5432/discretion';
    expect(databaseLocation({ globalValue: url }, { trusted: true, folder, globalStorage })).toEqual({
      path: url,
      url: true,
      fromWorkspace: false,
      needsConsent: false,
    });
    expect(databaseLocation({ workspaceValue: ` ${url} ` }, { trusted: true, folder, globalStorage })).toEqual({
      path: url,
      url: true,
      fromWorkspace: true,
      needsConsent: true,
    });
    expect(
      databaseLocation({ workspaceFolderValue: 'postgresql://x@h/db' }, { trusted: true, folder, globalStorage }),
    ).toEqual({ path: 'postgresql://x@h/db', url: true, fromWorkspace: true, needsConsent: true });
    expect(databaseLocation({ workspaceValue: url }, { trusted: false, folder, globalStorage })).toEqual({
      path: '/home/u/project/.discretion/discretion.db',
      fromWorkspace: false,
      needsConsent: false,
    });
    // a relative path that merely looks like a scheme is still a file in the folder
    expect(
      databaseLocation({ workspaceValue: 'postgres/db.sqlite' }, { trusted: true, folder, globalStorage }).path,
    ).toBe('/home/u/project/postgres/db.sqlite');
  });

  it('a direct URL goes with a server URL only; from the workspace it needs consent, kept under both; ignored in Restricted Mode', () => {
    const url = 'postgres://lead@pooler.example:6432/discretion';
    const direct = 'postgres://lead@db.example:5432/discretion';
    const user = databaseLocation(
      { globalValue: url },
      { trusted: true, folder, globalStorage, direct: { globalValue: direct } },
    );
    expect(user).toEqual({
      path: url,
      url: true,
      fromWorkspace: false,
      needsConsent: false,
      direct,
      directFromWorkspace: false,
    });
    expect(consentKey(user)).toBe(url);
    // the user's own pooler, a workspace's direct route: a server the workspace names, asked for, and the answer
    // kept for the pair (another direct URL later is asked for again)
    const ws = databaseLocation(
      { globalValue: url },
      { trusted: true, folder, globalStorage, direct: { workspaceValue: ` ${direct} ` } },
    );
    expect(ws).toEqual({
      path: url,
      url: true,
      fromWorkspace: false,
      needsConsent: true,
      direct,
      directFromWorkspace: true,
    });
    expect(consentKey(ws)).toBe(`${url} (direct: ${direct})`);
    // Restricted Mode: the workspace's direct URL does not count (the user's does)
    expect(
      databaseLocation(
        { globalValue: url },
        { trusted: false, folder, globalStorage, direct: { workspaceValue: direct } },
      ),
    ).toEqual({ path: url, url: true, fromWorkspace: false, needsConsent: false });
    // a SQLite file has no server: a direct URL beside it is not read
    expect(
      databaseLocation(
        { globalValue: '/data/mine.db' },
        { trusted: true, folder, globalStorage, direct: { globalValue: direct } },
      ),
    ).toEqual({ path: '/data/mine.db', fromWorkspace: false, needsConsent: false });
  });

  it("the user's own setting is trusted wherever it points", () => {
    expect(databaseLocation({ globalValue: '/data/mine.db' }, { trusted: true, folder, globalStorage })).toEqual({
      path: '/data/mine.db',
      fromWorkspace: false,
      needsConsent: false,
    });
  });
});

describe('databaseLocation on Windows and macOS (path.win32 and path.posix with their letter-case rules)', () => {
  const win = {
    rules: pathRules('win32'),
    globalStorage: 'C:\\Users\\ana\\AppData\\Roaming\\Code\\User\\globalStorage\\x.y',
  };
  const winFolder = 'C:\\Users\\ana\\proj';

  it('defaults to .discretion\\discretion.db in the folder, with backslashes', () => {
    expect(databaseLocation({}, { ...win, trusted: true, folder: winFolder })).toEqual({
      path: 'C:\\Users\\ana\\proj\\.discretion\\discretion.db',
      fromWorkspace: false,
      needsConsent: false,
    });
  });

  it('a workspace value inside the folder needs no consent, whatever its letter case, separators or form', () => {
    for (const [value, path] of [
      ['c:\\USERS\\ana\\Proj\\.discretion\\discretion.db', 'c:\\USERS\\ana\\Proj\\.discretion\\discretion.db'],
      ['data\\labels.db', 'C:\\Users\\ana\\proj\\data\\labels.db'],
      ['data/labels.db', 'C:\\Users\\ana\\proj\\data\\labels.db'],
      ['C:/Users/Ana/PROJ/x.db', 'C:\\Users\\Ana\\PROJ\\x.db'],
      ['..data\\x.db', 'C:\\Users\\ana\\proj\\..data\\x.db'],
      ['\\Users\\ana\\proj\\x.db', 'C:\\Users\\ana\\proj\\x.db'], // rooted without a drive: the folder's drive
    ])
      expect(databaseLocation({ workspaceValue: value }, { ...win, trusted: true, folder: winFolder }), value).toEqual({
        path,
        fromWorkspace: true,
        needsConsent: false,
      });
  });

  it('outside the folder (another drive, a sibling that only starts alike, ..\\, a UNC share) needs consent', () => {
    for (const [value, path] of [
      ['D:\\Users\\ana\\proj\\x.db', 'D:\\Users\\ana\\proj\\x.db'],
      ['C:\\Users\\ana\\project2\\x.db', 'C:\\Users\\ana\\project2\\x.db'],
      ['..\\other\\x.db', 'C:\\Users\\ana\\other\\x.db'],
      ['\\\\server\\share\\x.db', '\\\\server\\share\\x.db'],
    ])
      expect(databaseLocation({ workspaceValue: value }, { ...win, trusted: true, folder: winFolder }), value).toEqual({
        path,
        fromWorkspace: true,
        needsConsent: true,
      });
  });

  it('a postgres:// URL is never a path, and C:\\x.db never a URL', () => {
    expect(
      databaseLocation({ workspaceValue: 'postgres://h/db' }, { ...win, trusted: true, folder: winFolder }),
    ).toEqual({
      path: 'postgres://h/db',
      url: true,
      fromWorkspace: true,
      needsConsent: true,
    });
    for (const value of ['C:\\x.db', 'C:/x.db', 'C://x.db'])
      expect(databaseLocation({ globalValue: value }, { ...win, trusted: true, folder: winFolder }), value).toEqual({
        path: 'C:\\x.db',
        fromWorkspace: false,
        needsConsent: false,
      });
  });

  it('macOS compares letter case as its default file system does; Linux does not', () => {
    const o = { trusted: true, folder: '/Users/ana/proj', globalStorage: '/g' };
    const value = { workspaceValue: '/Users/Ana/PROJ/.discretion/discretion.db' };
    expect(databaseLocation(value, { ...o, rules: pathRules('darwin') }).needsConsent).toBe(false);
    expect(databaseLocation(value, { ...o, rules: pathRules('linux') }).needsConsent).toBe(true);
    // a name that starts with two dots is inside; .. climbs out
    expect(databaseLocation({ workspaceValue: '..x/y.db' }, { ...o, rules: pathRules('linux') })).toEqual({
      path: '/Users/ana/proj/..x/y.db',
      fromWorkspace: true,
      needsConsent: false,
    });
  });
});

describe('databaseLocation without a local folder (a virtual or remote workspace, an empty window)', () => {
  const rules = pathRules('win32');
  const globalStorage = 'C:\\Users\\ana\\AppData\\Roaming\\Code\\User\\globalStorage\\x.y';
  const workspaceStorage = 'C:\\Users\\ana\\AppData\\Roaming\\Code\\User\\workspaceStorage\\0a1b\\x.y';

  it('localPath takes a file: URI only', () => {
    expect(localPath({ scheme: 'file', fsPath: 'C:\\Users\\ana\\proj' })).toBe('C:\\Users\\ana\\proj');
    expect(localPath({ scheme: 'vscode-vfs', fsPath: '\\owner\\repo' })).toBeUndefined();
    expect(localPath({ scheme: 'vscode-remote', fsPath: '\\home\\ana\\proj' })).toBeUndefined();
    expect(localPath(undefined)).toBeUndefined();
  });

  it("defaults to the workspace's own storage, else the global storage", () => {
    const folder = localPath({ scheme: 'vscode-vfs', fsPath: '\\owner\\repo' });
    expect(databaseLocation({}, { trusted: true, folder, workspaceStorage, globalStorage, rules })).toEqual({
      path: `${workspaceStorage}\\discretion.db`,
      fromWorkspace: false,
      needsConsent: false,
    });
    expect(databaseLocation({}, { trusted: true, globalStorage, rules }).path).toBe(`${globalStorage}\\discretion.db`);
  });

  it("a relative value is taken from that storage, never from the extension host's working folder; from the workspace it needs consent", () => {
    expect(
      databaseLocation({ globalValue: 'labels.db' }, { trusted: true, workspaceStorage, globalStorage, rules }),
    ).toEqual({
      path: `${workspaceStorage}\\labels.db`,
      fromWorkspace: false,
      needsConsent: false,
    });
    expect(
      databaseLocation({ workspaceValue: 'labels.db' }, { trusted: true, workspaceStorage, globalStorage, rules }),
    ).toEqual({
      path: `${workspaceStorage}\\labels.db`,
      fromWorkspace: true,
      needsConsent: true,
    });
    expect(
      databaseLocation(
        { globalValue: 'labels.db' },
        { trusted: true, globalStorage: '/home/u/g', rules: pathRules('linux') },
      ).path,
    ).toBe('/home/u/g/labels.db');
  });
});

describe('package.json', () => {
  it('lists discretion.databasePath, discretion.databaseDirectUrl and discretion.annotator as restricted in untrusted workspaces', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations).toEqual(
      expect.arrayContaining(['discretion.databasePath', 'discretion.databaseDirectUrl', 'discretion.annotator']),
    );
    expect(pkg.contributes.configuration.properties['discretion.databaseDirectUrl']).toMatchObject({
      type: 'string',
      default: '',
    });
  });
});
