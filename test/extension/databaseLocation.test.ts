// Where the extension's database is, and when a workspace's settings may choose it (issue 10, point 3):
// expected paths written by hand.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { databaseLocation } from '../../src/extension/databaseLocation';
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

  it("the user's own setting is trusted wherever it points", () => {
    expect(databaseLocation({ globalValue: '/data/mine.db' }, { trusted: true, folder, globalStorage })).toEqual({
      path: '/data/mine.db',
      fromWorkspace: false,
      needsConsent: false,
    });
  });
});

describe('package.json', () => {
  it('lists discretion.databasePath and discretion.annotator as restricted in untrusted workspaces', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations).toEqual(
      expect.arrayContaining(['discretion.databasePath', 'discretion.annotator']),
    );
  });
});
