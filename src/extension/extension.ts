// The extension host: tree of datasets and principle lists, commands, status bar, the workbench
// panel (restored after reload), a read-only JSONL preview editor. Every error becomes one line.
import { mkdirSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { userInfo } from 'node:os';
import * as vscode from 'vscode';
import { isUserFacingError, UsageError } from '../core/errors';
import { withImportProgress } from './importProgress';
import { type DatasetFormat, importDataset } from '../importers/datasets';
import { exportDataset } from '../app/export';
import { importSample } from '../app/media';
import { type JudgmentFormat, importJudgments } from '../importers/judgments';
import { importPrincipleList } from '../importers/principles';
import { openStore as openDatabase } from '../store';
import type { Store } from '../store/port';
import { escapeControls } from '../core/terminalSafe';
import { databaseLocation } from './databaseLocation';
import { JsonlPreviewProvider } from './jsonlPreview';
import { escapingLogChannel } from './safeOutput';
import { WorkbenchSession } from './session';
import { registerDashboard } from './dashboard';
import { registerGroupCommand } from './groupCommand';
import { registerJudgeCommands } from './commands/judges';
import { DiscretionTree } from './tree';
import { WORKBENCH_VIEW_TYPE, WorkbenchPanel, webviewOptions } from './workbenchPanel';

const SAMPLE_DATASET = 'safety-pairs-sample';
const SAMPLE_LIST = 'demo-safety';

let store: Store | undefined;
let storePath: string | undefined;
let log: vscode.LogOutputChannel;

export interface ExtensionDeps { openStore: () => Promise<Store> }

let consent: { path: string; granted: Thenable<boolean> } | undefined;

/**
 * The database file (src/extension/databaseLocation.ts). One that a workspace's settings put outside the
 * workspace is opened only once the user agrees, remembered for this workspace; asked once at a time.
 */
async function databasePath(context: vscode.ExtensionContext): Promise<string> {
  const folderUri = vscode.workspace.workspaceFolders?.[0]?.uri;
  const loc = databaseLocation(vscode.workspace.getConfiguration('discretion').inspect<string>('databasePath') ?? {}, {
    trusted: vscode.workspace.isTrusted,
    folder: folderUri?.scheme === 'file' ? folderUri.fsPath : undefined,
    globalStorage: context.globalStorageUri.fsPath,
  });
  if (!loc.needsConsent || context.workspaceState.get<string>('consentedDatabase') === loc.path) return loc.path;
  if (consent?.path !== loc.path) {
    const open = 'Open It';
    consent = {
      path: loc.path,
      granted: vscode.window.showWarningMessage(escapeControls(`This workspace's settings (discretion.databasePath) name a database outside the workspace: ${loc.path}. Open it (creating it if missing)?`), { modal: true }, open)
        .then(async (pick) => {
          if (pick === open) await context.workspaceState.update('consentedDatabase', loc.path);
          return pick === open;
        }),
    };
  }
  if (await consent.granted) return loc.path;
  consent = undefined;
  throw new UsageError(`the database ${loc.path} that this workspace's settings name was not opened; agree when asked, or change discretion.databasePath`);
}

/** A setting the workspace may not choose in Restricted Mode (the user's value only there). */
function userOrTrustedSetting(key: string): string {
  const info = vscode.workspace.getConfiguration('discretion').inspect<string>(key);
  const value = vscode.workspace.isTrusted ? info?.workspaceFolderValue ?? info?.workspaceValue ?? info?.globalValue : info?.globalValue;
  return (value ?? '').trim();
}

async function openStore(context: vscode.ExtensionContext): Promise<Store> {
  const path = await databasePath(context);
  if (store && storePath === path) return store;
  if (store) await store.close().catch(() => undefined);
  store = undefined;
  mkdirSync(dirname(path), { recursive: true });
  // A label waits this long for another window's or the CLI's write to finish, then fails clearly.
  store = await openDatabase(path, { lockTimeoutMs: 30_000 });
  storePath = path;
  log.info(`database: ${path}`);
  return store;
}

/** Runs a command body; user errors become one line, internal errors one line plus the log. */
function guarded<A extends unknown[]>(name: string, fn: (...args: A) => Promise<unknown>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      log.error(`${name}: ${(e as Error)?.stack ?? e}`);
      const message = isUserFacingError(e) ? e.message : `unexpected error: ${String((e as Error)?.message ?? e).split('\n')[0]} (see the "Discretion" output)`;
      void vscode.window.showErrorMessage(escapeControls(`Discretion: ${message}`));
    }
  };
}

/** The annotator identity: the setting, asked for once and saved globally. */
async function annotatorName(): Promise<string | undefined> {
  const name = userOrTrustedSetting('annotator');
  if (name) return name;
  return setAnnotator();
}

async function setAnnotator(): Promise<string | undefined> {
  const cfg = vscode.workspace.getConfiguration('discretion');
  let suggestion = userOrTrustedSetting('annotator');
  if (!suggestion) try { suggestion = userInfo().username; } catch { /* none */ }
  const name = await vscode.window.showInputBox({
    title: 'Discretion: annotator identity',
    prompt: 'Your name as recorded with every label (kept in the setting discretion.annotator)',
    value: suggestion,
    ignoreFocusOut: true,
    validateInput: (v) => (v.trim() === '' ? 'Enter a name' : v.length > 100 ? 'At most 100 characters' : /[\u0000-\u001f]/.test(v) ? 'No control characters' : undefined),
  });
  if (!name) return undefined;
  await cfg.update('annotator', name.trim(), vscode.ConfigurationTarget.Global);
  return name.trim();
}

export function activate(context: vscode.ExtensionContext): ExtensionDeps {
  log = escapingLogChannel(vscode.window.createOutputChannel('Discretion', { log: true }));
  const deps: ExtensionDeps = { openStore: () => openStore(context) };
  const tree = new DiscretionTree(deps.openStore, log);
  const status = vscode.window.createStatusBarItem('discretion.progress', vscode.StatusBarAlignment.Left, 50);
  status.name = 'Discretion progress';
  status.command = 'discretion.openWorkbench';

  const updateStatus = async (s: WorkbenchSession) => {
    const p = await s.progress();
    status.text = `$(checklist) ${s.dataset.name}: ${p.labelled}/${p.total}`;
    status.tooltip = `${s.annotator.name} has labelled ${p.labelled} of ${p.total} pairs of ${s.dataset.name} (${s.list.name}@${s.list.version})`;
    status.show();
    tree.setLabelled(s.dataset.name, s.annotator.name, p.labelled);
  };

  /** Picks the principle list for a dataset: remembered, the only one, or asked. */
  const pickList = async (s: Store, dataset: string, listed?: Promise<{ name: string }[]>): Promise<string | undefined> => {
    const lists = await (listed ?? s.listPrincipleLists());
    const names = [...new Set(lists.map((l) => l.name))];
    if (names.length === 0) throw new UsageError('no principle list loaded yet: run "Discretion: Load Principle List..." first');
    const remembered = context.workspaceState.get<string>(`list:${dataset}`);
    if (remembered && names.includes(remembered)) return remembered;
    if (names.length === 1) return names[0];
    const pick = await vscode.window.showQuickPick(names, { title: `Principle list for ${dataset}` });
    if (pick) await context.workspaceState.update(`list:${dataset}`, pick);
    return pick;
  };

  /** Asks what to label (dataset, identity, principle list); reads and writes nothing else. */
  const chooseSession = async (dataset: string | undefined): Promise<{ store: Store; dataset: string; annotator: string; list: string } | undefined> => {
    const s = await deps.openStore();
    // read while the dataset is being picked, so that the panel opens as soon as it is
    const listed = s.listPrincipleLists();
    listed.catch(() => undefined);
    if (!dataset) {
      const ds = await s.datasetProgress();
      if (ds.length === 0) throw new UsageError('the database holds no datasets yet: run "Discretion: Import Dataset..." or "Discretion: Open Sample Dataset"');
      const last = context.workspaceState.get<string>('lastDataset');
      if (ds.length === 1) dataset = ds[0].name;
      else {
        const items = ds.map((d) => ({ label: d.name, description: `${d.total} pairs` }));
        items.sort((a, b) => (a.label === last ? -1 : b.label === last ? 1 : 0));
        dataset = (await vscode.window.showQuickPick(items, { title: 'Dataset to label' }))?.label;
      }
      if (!dataset) return undefined;
    }
    const annotator = await annotatorName();
    if (!annotator) return undefined;
    const list = await pickList(s, dataset, listed);
    if (!list) return undefined;
    return { store: s, dataset, annotator, list };
  };

  const startSession = async (c: { store: Store; dataset: string; annotator: string; list: string }, restoreIdx?: number): Promise<WorkbenchSession> => {
    const session = await WorkbenchSession.open(c.store, { dataset: c.dataset, annotator: c.annotator, principleList: c.list });
    await session.start(restoreIdx);
    void context.workspaceState.update('lastDataset', c.dataset);
    return session;
  };

  const sessionFor = async (dataset: string | undefined, restoreIdx?: number): Promise<WorkbenchSession | undefined> => {
    const c = await chooseSession(dataset);
    return c && startSession(c, restoreIdx);
  };

  const panelHost = {
    log,
    openSession: async (restore: { dataset: string; pairIdx: number } | null) => {
      try {
        return await sessionFor(restore?.dataset ?? context.workspaceState.get<string>('lastDataset'), restore?.pairIdx);
      } catch (e) {
        log.error(`restore: ${(e as Error).message}`);
        return undefined;
      }
    },
    onProgress: (s: WorkbenchSession) => void updateStatus(s).catch(() => undefined),
  };

  /** `pairIndex`: open on that pair (the dashboard's links to consensus overrides). */
  const openWorkbench = async (dataset?: string, pairIndex?: number) => {
    const choice = await chooseSession(typeof dataset === 'string' ? dataset : undefined);
    if (!choice) return;
    const goTo = async () => {
      const p = WorkbenchPanel.current;
      if (p && typeof pairIndex === 'number') await p.enqueue(() => p.goTo(pairIndex));
    };
    if (WorkbenchPanel.current) {
      const session = await startSession(choice);
      WorkbenchPanel.current.panel.reveal(vscode.ViewColumn.Active);
      await WorkbenchPanel.current.useSession(session);
      await goTo();
      return;
    }
    // The webview loads while the session opens (its first write, counts and first pair): the
    // panel waits for the session when the webview says it is ready, and nothing waits twice.
    const session = startSession(choice);
    const panel = vscode.window.createWebviewPanel(WORKBENCH_VIEW_TYPE, `Discretion: ${choice.dataset}`, vscode.ViewColumn.Active, webviewOptions(context.extensionUri));
    new WorkbenchPanel(panel, context.extensionUri, panelHost, session);
    try {
      await session;
    } catch (e) {
      panel.dispose();
      throw e;
    }
    await goTo();
  };

  const withPanel = (fn: (p: WorkbenchPanel) => Promise<void>) => async () => {
    const p = WorkbenchPanel.current;
    if (!p) throw new UsageError('the workbench is not open: run "Discretion: Open Workbench"');
    await p.enqueue(() => fn(p));
  };

  const importDatasetCmd = async (uri?: vscode.Uri) => {
    const file = uri instanceof vscode.Uri ? uri : (await vscode.window.showOpenDialog({ title: 'Import a dataset of preference pairs', canSelectMany: false, filters: { 'Datasets': ['jsonl', 'json', 'csv'] } }))?.[0];
    if (!file) return;
    const ext = extname(file.fsPath).toLowerCase();
    const formats: { label: string; format: DatasetFormat; detail: string }[] = ext === '.csv'
      ? [{ label: 'CSV', format: 'csv', detail: 'columns prompt, response_0, response_1 (optional id, preferred)' }]
      : [
        { label: 'Generic JSONL', format: 'jsonl', detail: 'fields prompt, response_0, response_1 (optional id, preferred)' },
        { label: 'HH-RLHF', format: 'hh-rlhf', detail: 'fields chosen, rejected' },
        { label: 'PKU-SafeRLHF', format: 'pku-saferlhf', detail: 'fields prompt, response_0, response_1, better_response_id, safer_response_id' },
      ];
    const picked = formats.length === 1 ? formats[0] : await vscode.window.showQuickPick(formats, { title: 'Dataset format' });
    if (!picked) return;
    const name = await vscode.window.showInputBox({ title: 'Dataset name', value: basename(file.fsPath).replace(/\.[^.]+$/, ''), validateInput: (v) => (v.trim() ? undefined : 'Enter a name') });
    if (!name) return;
    const s = await deps.openStore();
    const mapping = picked.format === 'jsonl' || picked.format === 'csv' ? { prompt: 'prompt', response0: 'response_0', response1: 'response_1' } : undefined;
    const summary = await withImportProgress(`Importing ${basename(file.fsPath)}`,
      (read) => importDataset(s, { format: picked.format, file: file.fsPath, dataset: name.trim(), mapping, onError: 'skip', ...read }));
    if (!summary) return;
    tree.refresh();
    void vscode.window.showInformationMessage(escapeControls(`Discretion: imported ${summary.imported} pairs into "${name.trim()}"${summary.skipped.length ? `; skipped ${summary.skipped.length} bad records (first: ${summary.skipped[0].message})` : ''}.`));
  };

  const loadListCmd = async (uri?: vscode.Uri) => {
    const file = uri instanceof vscode.Uri ? uri : (await vscode.window.showOpenDialog({ title: 'Load a principle list', canSelectMany: false, filters: { 'Principle lists': ['yaml', 'yml', 'json', 'txt'] } }))?.[0];
    if (!file) return;
    const name = await vscode.window.showInputBox({ title: 'Principle list name', value: basename(file.fsPath).replace(/\.[^.]+$/, ''), validateInput: (v) => (v.trim() ? undefined : 'Enter a name') });
    if (!name) return;
    const store = await deps.openStore();
    const summary = await withImportProgress(`Loading ${basename(file.fsPath)}`, (read) => importPrincipleList(store, { file: file.fsPath, name: name.trim(), ...read }));
    if (!summary) return;
    tree.refresh();
    void vscode.window.showInformationMessage(escapeControls(`Discretion: ${summary.counts.principles} principles; ${summary.notes.join('; ')}.`));
  };

  const openSample = async () => {
    await importSample(await deps.openStore(), { dataset: SAMPLE_DATASET, list: SAMPLE_LIST }, vscode.Uri.joinPath(context.extensionUri, 'media').fsPath);
    await context.workspaceState.update(`list:${SAMPLE_DATASET}`, SAMPLE_LIST);
    tree.refresh();
    await openWorkbench(SAMPLE_DATASET);
  };

  const exportCmd = async () => {
    const s = await deps.openStore();
    const ds = await s.datasetProgress();
    if (ds.length === 0) throw new UsageError('the database holds no datasets yet');
    const dataset = ds.length === 1 ? ds[0].name : (await vscode.window.showQuickPick(ds.map((d) => d.name), { title: 'Dataset to export' }));
    if (!dataset) return;
    const target = await vscode.window.showSaveDialog({ title: `Export ${dataset}`, filters: { 'JSON Lines': ['jsonl'], 'CSV': ['csv'] }, defaultUri: vscode.workspace.workspaceFolders?.[0] ? vscode.Uri.joinPath(vscode.workspace.workspaceFolders[0].uri, `${dataset}-labels.jsonl`) : undefined });
    if (!target) return;
    const r = await exportDataset(s, { dataset, format: target.fsPath.toLowerCase().endsWith('.csv') ? 'csv' : 'jsonl', out: target.fsPath });
    void vscode.window.showInformationMessage(escapeControls(`Discretion: exported ${r.pairs} pairs with labels from ${r.annotators.length} annotators to ${basename(target.fsPath)}.`));
  };

  const importJudgmentsCmd = async () => {
    const file = (await vscode.window.showOpenDialog({ title: 'Import model judgments (CSV)', canSelectMany: false, filters: { 'CSV': ['csv'] } }))?.[0];
    if (!file) return;
    const format = await vscode.window.showQuickPick(['rewards', 'judge', 'loglik', 'oracle'] as JudgmentFormat[], { title: 'Judgment format' }) as JudgmentFormat | undefined;
    if (!format) return;
    const s = await deps.openStore();
    const ds = await s.datasetProgress();
    const dataset = ds.length === 1 ? ds[0].name : await vscode.window.showQuickPick(ds.map((d) => d.name), { title: 'Dataset the judgments are about' });
    if (!dataset) return;
    const annotator = await vscode.window.showInputBox({ title: 'Model name (annotator)', value: basename(file.fsPath).replace(/\.[^.]+$/, '') });
    if (!annotator) return;
    const principles = format === 'oracle' ? await pickList(s, dataset) : undefined;
    const summary = await withImportProgress(`Importing ${basename(file.fsPath)}`,
      (read) => importJudgments(s, { format, file: file.fsPath, dataset, annotator, principles, onError: 'skip', ...read }));
    if (!summary) return;
    tree.refresh();
    void vscode.window.showInformationMessage(escapeControls(`Discretion: imported ${summary.imported} judgments from ${annotator}.`));
  };

  const filterCmd = async () => {
    const p = WorkbenchPanel.current;
    if (!p?.session) throw new UsageError('open the workbench first');
    const session = p.session;
    const models = (await session.store.listAnnotators()).filter((a) => a.kind === 'reward-model' || a.kind === 'llm-judge' || a.kind === 'policy-model');
    const items = [
      { label: 'All pairs', filter: { kind: 'all' as const } },
      { label: 'My principle labels in conflict', filter: { kind: 'conflict' as const } },
      ...models.map((m) => ({ label: `Disagreements with ${m.name}`, description: m.kind, filter: { kind: 'disagree' as const, model: m.name } })),
    ];
    const pick = await vscode.window.showQuickPick(items, { title: 'Workbench queue' });
    if (!pick) return;
    await p.enqueue(async () => {
      const first = await session.setFilter(pick.filter);
      if (first === undefined) void vscode.window.showInformationMessage(escapeControls(`Discretion: no pairs in the queue "${session.filterLabel()}".`));
    });
    // not inside the enqueued step above: useSession enqueues its own step, which would wait for
    // that one to finish while it waits for this (the panel's queue then stalls for good)
    await p.useSession(session);
  };

  const showInfo = async () => {
    const info = await (await deps.openStore()).info();
    log.info(JSON.stringify(info, null, 2));
    log.show(true);
  };

  const reg = (id: string, fn: (...args: never[]) => Promise<unknown>) => context.subscriptions.push(vscode.commands.registerCommand(id, guarded(id, fn as (...args: unknown[]) => Promise<unknown>)));
  reg('discretion.openWorkbench', openWorkbench as (...args: never[]) => Promise<unknown>);
  reg('discretion.openSample', openSample);
  reg('discretion.importDataset', importDatasetCmd as (...args: never[]) => Promise<unknown>);
  reg('discretion.loadPrincipleList', loadListCmd as (...args: never[]) => Promise<unknown>);
  reg('discretion.setAnnotator', setAnnotator);
  reg('discretion.next', withPanel((p) => p.navigate('next')));
  reg('discretion.previous', withPanel((p) => p.navigate('previous')));
  reg('discretion.undo', withPanel((p) => p.undo()));
  reg('discretion.flag', withPanel(async (p) => p.post({ type: 'command', command: 'toggleFlag' })));
  reg('discretion.filterQueue', filterCmd);
  reg('discretion.export', exportCmd);
  reg('discretion.importJudgments', importJudgmentsCmd);
  reg('discretion.showInfo', showInfo);
  reg('discretion.refresh', async () => tree.refresh());

  context.subscriptions.push(
    log,
    status,
    vscode.window.createTreeView('discretion.explorer', { treeDataProvider: tree, showCollapseAll: false }),
    vscode.window.registerWebviewPanelSerializer(WORKBENCH_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel: vscode.WebviewPanel) => {
        // The webview's own state (dataset, pair) arrives with its 'ready' message.
        log.info('workbench: restoring the panel');
        new WorkbenchPanel(panel, context.extensionUri, panelHost);
      },
    }),
    vscode.window.registerCustomEditorProvider('discretion.jsonlPreview', new JsonlPreviewProvider(), { supportsMultipleEditorsPerDocument: true }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('discretion.databasePath')) {
        tree.refresh();
      }
    }),
    { dispose: () => void store?.close().catch(() => undefined) },
  );
  // Other parts of the extension (metrics dashboard, judges) register themselves; a failure there
  // is logged and shown once, and never takes the workbench down.
  for (const [name, register] of [['dashboard', registerDashboard], ['judges', registerJudgeCommands], ['annotator groups', registerGroupCommand]] as const) {
    try {
      register(context, deps);
    } catch (e) {
      log.error(`${name}: ${(e as Error)?.stack ?? e}`);
      void vscode.window.showErrorMessage(escapeControls(`Discretion: the ${name} could not start: ${String((e as Error)?.message ?? e).split('\n')[0]}`));
    }
  }
  tree.refresh();
  return deps;
}

export async function deactivate(): Promise<void> {
  await store?.close().catch(() => undefined);
  store = undefined;
}
