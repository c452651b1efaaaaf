// Paths and file replacement as Windows, macOS and Linux do them (src/app/platformPaths.ts, src/app/outputFiles.ts),
// run here with path.win32 and path.posix and injected platforms.
import { describe, expect, it } from 'vitest';
import { replaceReason } from '../../src/app/outputFiles';
import { isInside, nameKey, pathRules, samePath } from '../../src/app/platformPaths';

const win = pathRules('win32');
const mac = pathRules('darwin');
const linux = pathRules('linux');

describe('pathRules', () => {
  it("picks the platform's path module and its letter-case rule", () => {
    expect(win.path.sep).toBe('\\');
    expect([mac.path.sep, linux.path.sep]).toEqual(['/', '/']);
    expect([win.caseInsensitive, mac.caseInsensitive, linux.caseInsensitive]).toEqual([true, true, false]);
    expect(nameKey('Discretion.DB', win)).toBe(nameKey('discretion.db', win));
    expect(nameKey('Discretion.DB', linux)).not.toBe(nameKey('discretion.db', linux));
  });
});

describe('samePath', () => {
  it('Windows: letter case, separators, drive-letter case and .. do not matter', () => {
    expect(samePath('C:\\Users\\ana\\Discretion.DB', 'c:/users/ana/x/../discretion.db', win)).toBe(true);
    expect(samePath('C:\\Users\\ana\\x.db', 'D:\\Users\\ana\\x.db', win)).toBe(false);
    expect(samePath('\\\\server\\share\\x.db', '\\\\SERVER\\Share\\X.db', win)).toBe(true);
  });
  it('macOS ignores letter case; Linux does not', () => {
    expect(samePath('/Users/ana/Discretion.DB', '/users/ana/discretion.db', mac)).toBe(true);
    expect(samePath('/home/ana/Discretion.DB', '/home/ana/discretion.db', linux)).toBe(false);
    expect(samePath('/home/ana/./x.db', '/home/ana/x.db', linux)).toBe(true);
  });
});

describe('isInside', () => {
  it('Windows', () => {
    const folder = 'C:\\Users\\ana\\proj';
    for (const file of [
      'c:\\USERS\\ana\\Proj\\.discretion\\discretion.db',
      'C:/Users/ana/proj/data/x.db',
      'C:\\Users\\ana\\proj',
      'C:\\Users\\ana\\proj\\..data\\x.db',
    ])
      expect(isInside(folder, file, win), file).toBe(true);
    for (const file of [
      'C:\\Users\\ana\\project\\x.db',
      'C:\\Users\\ana\\x.db',
      'C:\\Users\\ana\\proj\\..\\x.db',
      'D:\\Users\\ana\\proj\\x.db',
      '\\\\server\\share\\proj\\x.db',
    ])
      expect(isInside(folder, file, win), file).toBe(false);
  });
  it('macOS and Linux', () => {
    expect(isInside('/Users/ana/proj', '/Users/Ana/PROJ/x.db', mac)).toBe(true);
    expect(isInside('/home/ana/proj', '/home/Ana/proj/x.db', linux)).toBe(false);
    expect(isInside('/home/ana/proj', '/home/ana/proj/..x/y.db', linux)).toBe(true);
    expect(isInside('/home/ana/proj', '/home/ana/proj2/y.db', linux)).toBe(false);
    expect(isInside('/home/ana/proj', '/home/ana/proj/../y.db', linux)).toBe(false);
  });
});

describe('replaceReason (a finished export renamed over its target)', () => {
  const err = (code: string) => Object.assign(new Error(code), { code });
  it('on Windows, a refusal also names the program that holds the target open; elsewhere the reason as it is', () => {
    for (const code of ['EPERM', 'EACCES', 'EBUSY'])
      expect(replaceReason(err(code), 'win32'), code).toBe(
        'permission denied, or another program has it open (close it there and run again)',
      );
    expect(replaceReason(err('EPERM'), 'linux')).toBe('permission denied');
    expect(replaceReason(err('EBUSY'), 'darwin')).toBe('another program is using it');
    expect(replaceReason(err('ENOSPC'), 'win32')).toBe('no space left on the device');
  });
});
