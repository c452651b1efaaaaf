// File paths as one platform reads them: its path module (`\` and drive letters on Windows) and whether its file
// system tells names apart by letter case. Everything that compares paths takes these rules, node's own by default,
// so that a test on Linux can run the same logic with Windows' or macOS's (path.win32, path.posix).
import { type PlatformPath, posix, win32 } from 'node:path';

export interface PathRules {
  path: PlatformPath;
  /**
   * Names that differ only in letter case are one file: on Windows (NTFS, FAT) and on macOS (APFS and HFS+ as
   * formatted by default; a volume formatted case-sensitive is taken for the default one).
   */
  caseInsensitive: boolean;
}

/** The rules of `platform` (default: the one this process runs on). */
export function pathRules(platform: NodeJS.Platform = process.platform): PathRules {
  return {
    path: platform === 'win32' ? win32 : posix,
    caseInsensitive: platform === 'win32' || platform === 'darwin',
  };
}

/** A name or path as the file system compares it (lower case where case does not count). */
export function nameKey(name: string, rules: PathRules): string {
  return rules.caseInsensitive ? name.toLowerCase() : name;
}

/** Whether two paths name one file, resolved against the working folder (by name: links are not followed). */
export function samePath(a: string, b: string, rules: PathRules): boolean {
  return nameKey(rules.path.resolve(a), rules) === nameKey(rules.path.resolve(b), rules);
}

/**
 * Whether `file` is `folder` or lies below it, by name (both resolved; `..` climbs out; another drive is
 * outside). A child whose name begins with two dots (`..data`) is inside.
 */
export function isInside(folder: string, file: string, rules: PathRules): boolean {
  const { path } = rules;
  const rel = path.relative(nameKey(path.resolve(folder), rules), nameKey(path.resolve(file), rules));
  return rel === '' || (!path.isAbsolute(rel) && rel !== '..' && !rel.startsWith('..' + path.sep));
}
