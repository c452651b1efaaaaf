// Which database the extension opens (a SQLite file, or a team's postgres:// URL), from the setting discretion.databasePath at each level. A
// workspace's own settings are ignored in Restricted Mode (the setting is also listed in package.json's
// restrictedConfigurations); a trusted workspace may name a file, but one outside the workspace folder is
// only opened once the user agrees (the caller asks). No vscode import: testable as is.
import { isAbsolute, join, relative, resolve } from 'node:path';
import { isDatabaseUrl } from '../store';

/** The setting's values by level, as WorkspaceConfiguration.inspect gives them. */
export interface DatabasePathSetting {
  globalValue?: string;
  workspaceValue?: string;
  workspaceFolderValue?: string;
}

export interface DatabaseLocation {
  /** A SQLite file's absolute path, or a `postgres://` URL as the setting gives it. */
  path: string;
  /** A team's PostgreSQL server (a URL), not a file. */
  url?: boolean;
  /** Named by the workspace's (or its folder's) settings rather than the user's. */
  fromWorkspace: boolean;
  /** Named by the workspace's settings and outside its folder: ask before opening. */
  needsConsent: boolean;
}

const nonEmpty = (v: string | undefined) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

export function databaseLocation(
  setting: DatabasePathSetting,
  o: { trusted: boolean; folder?: string; globalStorage: string },
): DatabaseLocation {
  const fromWorkspace = o.trusted
    ? (nonEmpty(setting.workspaceFolderValue) ?? nonEmpty(setting.workspaceValue))
    : undefined;
  const configured = fromWorkspace ?? nonEmpty(setting.globalValue);
  if (!configured) {
    return {
      path: o.folder ? join(o.folder, '.discretion', 'discretion.db') : join(o.globalStorage, 'discretion.db'),
      fromWorkspace: false,
      needsConsent: false,
    };
  }
  // A database server is never inside the workspace: one that the workspace's settings name is opened only
  // once the user agrees, like a file outside the folder. It is not a path (nothing is resolved or created).
  if (isDatabaseUrl(configured))
    return { path: configured, url: true, fromWorkspace: !!fromWorkspace, needsConsent: !!fromWorkspace };
  const path = isAbsolute(configured) || !o.folder ? resolve(configured) : resolve(o.folder, configured);
  const inside =
    !!o.folder && !relative(resolve(o.folder), path).startsWith('..') && !isAbsolute(relative(resolve(o.folder), path));
  return { path, fromWorkspace: !!fromWorkspace, needsConsent: !!fromWorkspace && !inside };
}
