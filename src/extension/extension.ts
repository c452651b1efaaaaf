// The extension host's entry point. activate runs named stages: open the log and the store access,
// register the workbench commands (src/extension/commands/workbench.ts), the data commands
// (commands/data.ts), the views (datasets tree, JSONL preview), then the optional parts (dashboard,
// model judgments), each of which may fail without taking the workbench down.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import * as vscode from 'vscode';
import { UsageError } from '../core/errors';
import { escapeControls } from '../core/terminalSafe';
import { openStore as openDatabase, redactLocation, type Store } from '../store';
import { registerDataCommands } from './commands/data';
import type { CommandHost } from './commands/host';
import { consentKey, databaseLocation, type DatabaseLocation, localPath } from './databaseLocation';
import { directWithPassword, openWithPassword, refusePasswordInSetting, secretKey } from './databaseUrl';
import { registerCommand } from './commands/host';
import { registerGroupCommand } from './groupCommand';
import { escapingLogChannel } from './safeOutput';
import { registerJudgeCommands } from './commands/judges';
import { registerWorkbenchCommands, userOrTrustedSetting } from './commands/workbench';
import { dashboardSawChange, registerDashboard } from './dashboard';
import { registerReviewPanel } from './reviewPanel';
import { JsonlPreviewProvider } from './jsonlPreview';
import { DiscretionTree } from './tree';
import { teamViewShows, treeShows } from './treeProgress';
import { registerTeamView } from './teamView';
import { restoreWalkthrough } from './walkthrough';

let store: Store | undefined;
/** The open store's location and direct URL (openedKey): a change of either opens it again. */
let storeKey: string | undefined;
const openedKey = (loc: DatabaseLocation) => `${loc.path}\n${loc.direct ?? ''}`;
let log: vscode.LogOutputChannel;
/** Follows other windows' and processes' writes to the open database (Store.watchChanges). */
let watch: { dispose(): void } | undefined;
/** What follows such a write (the tree, the team view), debounced by each; `tables` as the store names them (undefined: unknown). */
const changeListeners = new Set<(tables: string[] | undefined) => void>();

function refreshMs(): number {
  const s = vscode.workspace.getConfiguration('discretion').get<number>('team.refreshSeconds', 5);
  return Math.max(1, Number.isFinite(s) ? s : 5) * 1000;
}

function watchStore(s: Store): void {
  watch?.dispose();
  watch = s.watchChanges((tables) => {
    for (const f of changeListeners) f(tables);
  }, refreshMs());
}

export interface ExtensionDeps {
  openStore: () => Promise<Store>;
}

let consent: { key: string; granted: Thenable<boolean> } | undefined;

function currentLocation(context: vscode.ExtensionContext): DatabaseLocation {
  const config = vscode.workspace.getConfiguration('discretion');
  return databaseLocation(config.inspect<string>('databasePath') ?? {}, {
    trusted: vscode.workspace.isTrusted,
    direct: config.inspect<string>('databaseDirectUrl') ?? {},
    folder: localPath(vscode.workspace.workspaceFolders?.[0]?.uri),
    workspaceStorage: localPath(context.storageUri),
    globalStorage: context.globalStorageUri.fsPath,
  });
}

/**
 * The database (src/extension/databaseLocation.ts): a file, or a team's postgres:// URL. One that a
 * workspace's settings put outside the workspace (any server) is opened only once the user agrees,
 * remembered for this workspace; asked once at a time.
 */
async function databasePath(context: vscode.ExtensionContext): Promise<DatabaseLocation> {
  const loc = currentLocation(context);
  if (loc.url) refusePasswordInSetting(loc.path);
  if (loc.direct !== undefined) refusePasswordInSetting(loc.direct, 'discretion.databaseDirectUrl');
  const key = consentKey(loc);
  if (!loc.needsConsent || context.workspaceState.get<string>('consentedDatabase') === key) return loc;
  if (consent?.key !== key) {
    const open = 'Open It';
    const direct = loc.directFromWorkspace ? ` and (discretion.databaseDirectUrl) its direct route: ${loc.direct}` : '';
    consent = {
      key,
      granted: vscode.window
        .showWarningMessage(
          escapeControls(
            loc.url
              ? `This workspace's settings (discretion.databasePath) name a database server: ${loc.path}${direct}. Connect to it (your labels are stored there)?`
              : `This workspace's settings (discretion.databasePath) name a database outside the workspace: ${loc.path}. Open it (creating it if missing)?`,
          ),
          { modal: true },
          open,
        )
        .then(async (pick) => {
          if (pick === open) await context.workspaceState.update('consentedDatabase', key);
          return pick === open;
        }),
    };
  }
  if (await consent.granted) return loc;
  consent = undefined;
  throw new UsageError(
    `the database ${loc.path} that this workspace's settings name was not opened; agree when asked, or change discretion.databasePath`,
  );
}

/** The open that is under way (the tree and a command may ask at once: one connection, one password question). */
let opening: { key: string; store: Promise<Store> } | undefined;

async function openStore(context: vscode.ExtensionContext): Promise<Store> {
  const loc = await databasePath(context);
  const key = openedKey(loc);
  if (store && storeKey === key) return store;
  if (opening?.key === key) return opening.store;
  const pending = openAt(context, loc);
  opening = { key, store: pending };
  try {
    return await pending;
  } finally {
    if (opening?.store === pending) opening = undefined;
  }
}

/** Closes the open database (its setting or password changed): the next use opens it again. */
async function closeStore(): Promise<void> {
  watch?.dispose();
  watch = undefined;
  const s = store;
  store = undefined;
  storeKey = undefined;
  if (s) await s.close().catch(() => undefined);
}

async function openAt(context: vscode.ExtensionContext, loc: DatabaseLocation): Promise<Store> {
  const path = loc.path;
  await closeStore();
  // A label waits this long for another window's or the CLI's write to finish, then fails clearly.
  const options = { lockTimeoutMs: 30_000 };
  if (loc.url) {
    const direct = loc.direct;
    store = await openWithPassword(path, {
      // the direct URL (live changes behind a pooler) with the password that opens the database, for the same login
      open: (url) => openDatabase(url, { ...options, directUrl: direct && directWithPassword(url, direct) }),
      getSecret: async (key) => context.secrets.get(key),
      storeSecret: async (key, password) => context.secrets.store(key, password),
      ask: async (shown, why) =>
        vscode.window.showInputBox({
          title: 'Discretion: database password',
          prompt: escapeControls(`Password of ${shown} (${why}). Kept in VS Code's secret storage, never in settings.`),
          password: true,
          ignoreFocusOut: true,
        }),
    });
  } else {
    mkdirSync(dirname(path), { recursive: true });
    store = await openDatabase(path, options);
  }
  storeKey = openedKey(loc);
  log.info(`database: ${store.location}`);
  watchStore(store);
  return store;
}

/** The datasets tree, the JSONL preview editor, and what follows a change of the database setting. */
function registerViews(host: CommandHost): void {
  const { context, tree } = host;
  context.subscriptions.push(
    vscode.window.createTreeView('discretion.explorer', { treeDataProvider: tree, showCollapseAll: false }),
    vscode.window.registerCustomEditorProvider('discretion.jsonlPreview', new JsonlPreviewProvider(), {
      supportsMultipleEditorsPerDocument: true,
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (
        e.affectsConfiguration('discretion.databasePath') ||
        e.affectsConfiguration('discretion.databaseDirectUrl') ||
        e.affectsConfiguration('discretion.annotator')
      ) {
        tree.refresh();
      }
      if (e.affectsConfiguration('discretion.team.refreshSeconds') && store) watchStore(store);
    }),
  );
}

/**
 * Other parts of the extension (metrics dashboard, judges, annotator groups) register themselves; a failure there is
 * logged and shown once, and never takes the workbench down.
 */
function registerOptionalParts(host: CommandHost, deps: ExtensionDeps): void {
  const team = () => {
    const view = registerTeamView(host);
    changeListeners.add((tables) => {
      // teamStatus reads every label of each split dataset: at most once per refresh interval
      if (teamViewShows(tables)) view.scheduleRefresh(refreshMs());
    });
    host.context.subscriptions.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('discretion.databasePath') || e.affectsConfiguration('discretion.databaseDirectUrl'))
          view.refresh();
      }),
    );
  };
  const parts = [
    ['team view', team],
    ['dashboard', () => registerDashboard(host.context, { log: host.log, openStore: deps.openStore })],
    ['judges', () => registerJudgeCommands(host)],
    ['annotator groups', () => registerGroupCommand(host.context, deps)],
    [
      'review',
      () =>
        registerReviewPanel(host.context, {
          log: host.log,
          openStore: deps.openStore,
          onStoreChange: host.onStoreChange,
        }),
    ],
  ] as const;
  for (const [name, register] of parts) {
    try {
      register();
    } catch (e) {
      host.log.error(`${name}: ${(e as Error)?.stack ?? e}`);
      void vscode.window.showErrorMessage(
        escapeControls(`Discretion: the ${name} could not start: ${String((e as Error)?.message ?? e).split('\n')[0]}`),
      );
    }
  }
}

export function activate(context: vscode.ExtensionContext): ExtensionDeps {
  log = escapingLogChannel(vscode.window.createOutputChannel('Discretion', { log: true }));
  const deps: ExtensionDeps = { openStore: () => openStore(context) };
  const host: CommandHost = {
    context,
    log,
    tree: new DiscretionTree(deps.openStore, log, () => userOrTrustedSetting('annotator')),
    openStore: deps.openStore,
    onStoreChange: (listener) => {
      changeListeners.add(listener);
      return { dispose: () => changeListeners.delete(listener) };
    },
  };
  changeListeners.add((tables) => {
    if (treeShows(tables)) host.tree.scheduleRefresh();
  });
  changeListeners.add(dashboardSawChange);
  context.subscriptions.push(log, {
    dispose: () => {
      watch?.dispose();
      void store?.close().catch(() => undefined);
    },
  });
  registerCommand(host, 'discretion.setDatabasePassword', async () => {
    const loc = currentLocation(context);
    if (!loc.url)
      throw new UsageError('discretion.databasePath is not a postgres:// URL: a SQLite file needs no password');
    const shown = redactLocation(loc.path);
    const password = await vscode.window.showInputBox({
      title: 'Discretion: database password',
      prompt: escapeControls(`Password of ${shown}. Kept in VS Code's secret storage, never in settings.`),
      password: true,
      ignoreFocusOut: true,
    });
    if (password === undefined) return;
    if (password === '') await context.secrets.delete(secretKey(loc.path));
    else await context.secrets.store(secretKey(loc.path), password);
    await closeStore();
    host.tree.refresh();
    void vscode.window.showInformationMessage(
      escapeControls(
        `Discretion: ${password === '' ? 'forgot the stored password of' : 'stored the password of'} ${shown}`,
      ),
    );
  });
  const workbench = registerWorkbenchCommands(host);
  registerDataCommands(host, workbench);
  registerViews(host);
  registerOptionalParts(host, deps);
  restoreWalkthrough(context);
  host.tree.refresh();
  return deps;
}

export async function deactivate(): Promise<void> {
  watch?.dispose();
  watch = undefined;
  await store?.close().catch(() => undefined);
  store = undefined;
}
