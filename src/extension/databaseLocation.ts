// Which database the extension opens (a SQLite file, or a team's postgres:// URL), from the setting discretion.databasePath at each level. A
// workspace's own settings are ignored in Restricted Mode (the setting is also listed in package.json's
// restrictedConfigurations); a trusted workspace may name a file, but one outside the workspace folder is
// only opened once the user agrees (the caller asks). No vscode import: testable as is, with any platform's path
// rules (src/app/platformPaths.ts: a test on Linux runs it with Windows' `\`, drive letters and letter case).
import { isInside, pathRules, type PathRules } from '../app/platformPaths';
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
  /**
   * For a URL: the same database without the pooler, from discretion.databaseDirectUrl (the LISTEN of live changes
   * goes there; see PostgresOptions.directUrl). Read only beside a URL: a file has no server.
   */
  direct?: string;
  /** `direct` is named by the workspace's (or its folder's) settings. */
  directFromWorkspace?: boolean;
  /** Named by the workspace's (or its folder's) settings rather than the user's. */
  fromWorkspace: boolean;
  /** Named by the workspace's settings and outside its folder (a server always is): ask before opening. */
  needsConsent: boolean;
}

/** What the user agreed to open (a workspace's consent is kept under it): the location, and its direct URL when the workspace names that. */
export function consentKey(loc: DatabaseLocation): string {
  return loc.directFromWorkspace ? `${loc.path} (direct: ${loc.direct})` : loc.path;
}

/** The value of a setting as it counts: a workspace's (its folder's first) only when trusted, else the user's. */
function effective(setting: DatabasePathSetting, trusted: boolean): { value?: string; fromWorkspace?: string } {
  const fromWorkspace = trusted
    ? (nonEmpty(setting.workspaceFolderValue) ?? nonEmpty(setting.workspaceValue))
    : undefined;
  return { value: fromWorkspace ?? nonEmpty(setting.globalValue), fromWorkspace };
}

const nonEmpty = (v: string | undefined) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

/**
 * A URI's path on this machine, for a `file:` URI only: a virtual workspace's folder (`vscode-vfs://github/o/r`,
 * `untitled:`) or a remote one seen from this side (`vscode-remote://`) has none, and its `fsPath` (`/o/r`; on
 * Windows `\\o\\r`, a folder at the root of the current drive) would name a bogus local one.
 */
export function localPath(uri: { scheme: string; fsPath: string } | undefined): string | undefined {
  return uri?.scheme === 'file' ? uri.fsPath : undefined;
}

export function databaseLocation(
  setting: DatabasePathSetting,
  o: {
    trusted: boolean;
    /** discretion.databaseDirectUrl by level, as `setting`. */
    direct?: DatabasePathSetting;
    /** The first workspace folder's local path (see localPath); none in an empty window or a virtual workspace. */
    folder?: string;
    /** The workspace's own storage (context.storageUri's local path); none in an empty window. */
    workspaceStorage?: string;
    /** The extension's global storage (context.globalStorageUri's path). */
    globalStorage: string;
    rules?: PathRules;
  },
): DatabaseLocation {
  const rules = o.rules ?? pathRules();
  const { path } = rules;
  const { value: configured, fromWorkspace } = effective(setting, o.trusted);
  // Where the database is when the workspace has no local folder: the workspace's own storage, else (an empty
  // window) the global storage.
  const storage = o.workspaceStorage ?? o.globalStorage;
  if (!configured) {
    // A local folder keeps its database in the folder, at .discretion/discretion.db, as it always has: the file
    // is where the project is (the CLI opens it with --db .discretion/discretion.db to compute metrics and
    // reports on the workbench's labels, and it moves, is backed up and is excluded with the project), and an
    // existing workspace's labels stay where they are. Workspace storage is a per-machine folder under the
    // editor's user data, which neither the CLI nor a colleague would find.
    return {
      path: o.folder ? path.join(o.folder, '.discretion', 'discretion.db') : path.join(storage, 'discretion.db'),
      fromWorkspace: false,
      needsConsent: false,
    };
  }
  // A database server is never inside the workspace: one that the workspace's settings name is opened only
  // once the user agrees, like a file outside the folder. It is not a path (nothing is resolved or created).
  if (isDatabaseUrl(configured)) {
    // the direct URL names a server too: one a workspace names is opened only once the user agrees, as above
    const direct = effective(o.direct ?? {}, o.trusted);
    return {
      path: configured,
      url: true,
      fromWorkspace: !!fromWorkspace,
      needsConsent: !!fromWorkspace || !!direct.fromWorkspace,
      ...(direct.value === undefined ? {} : { direct: direct.value, directFromWorkspace: !!direct.fromWorkspace }),
    };
  }
  // A relative path is taken from the folder, or without one from the storage above: never from the extension
  // host's working folder, which is no folder of the user's. A Windows path rooted without a drive (\data\x.db)
  // takes the folder's drive.
  const file = path.resolve(o.folder ?? storage, configured);
  const inside = !!o.folder && isInside(o.folder, file, rules);
  return { path: file, fromWorkspace: !!fromWorkspace, needsConsent: !!fromWorkspace && !inside };
}
