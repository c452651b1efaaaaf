// Workbench commands: open the workbench (asking what to label: dataset, identity, principle list),
// move between pairs, undo, flag, filter the queue, set the annotator identity; the progress status bar
// item; restoring the panel after a reload.
import { callerNamesLabeller, labellerFor, NotYourAnnotatorError } from '../../app/team';
import { userInfo } from 'node:os';
import * as vscode from 'vscode';
import { UsageError } from '../../core/errors';
import { escapeControls } from '../../core/terminalSafe';
import type { Store } from '../../store';
import { WorkbenchSession } from '../../app/workbench';
import { WORKBENCH, WorkbenchPanel, type PanelHost } from '../workbenchPanel';
import { createPanel } from '../webviewPanelBase';
import { registerCommand, type CommandHost } from './host';
import { markDone } from '../walkthrough';

/** A setting the workspace may not choose in Restricted Mode (the user's value only there). */
export function userOrTrustedSetting(key: string): string {
  const info = vscode.workspace.getConfiguration('discretion').inspect<string>(key);
  const value = vscode.workspace.isTrusted
    ? (info?.workspaceFolderValue ?? info?.workspaceValue ?? info?.globalValue)
    : info?.globalValue;
  return (value ?? '').trim();
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
  if (!suggestion)
    try {
      suggestion = userInfo().username;
    } catch {
      /* none */
    }
  const name = await vscode.window.showInputBox({
    title: 'Discretion: annotator identity',
    prompt: 'Your name as recorded with every label (kept in the setting discretion.annotator)',
    value: suggestion,
    ignoreFocusOut: true,
    validateInput: (v) =>
      v.trim() === ''
        ? 'Enter a name'
        : v.length > 100
          ? 'At most 100 characters'
          : /[\u0000-\u001f]/.test(v)
            ? 'No control characters'
            : undefined,
  });
  if (!name) return undefined;
  await cfg.update('annotator', name.trim(), vscode.ConfigurationTarget.Global);
  return name.trim();
}

/**
 * Who labels: on a team's database the login's annotator (the database decides; a setting that names someone
 * else is refused, in one line naming the setting); on a SQLite file, or for the database's owner who is no
 * team member, the setting (asked for once).
 */
async function annotatorFor(s: Store): Promise<string | undefined> {
  const who = await s.identity();
  if (callerNamesLabeller(who)) return annotatorName();
  const setting = userOrTrustedSetting('annotator');
  try {
    return await labellerFor(s, setting || undefined, who);
  } catch (e) {
    if (e instanceof NotYourAnnotatorError) {
      throw new UsageError(
        `signed in to ${s.location} as login ${e.login}, who labels as ${e.annotator}; the setting discretion.annotator names ${e.named}. On a team's database the login decides: clear the setting or set it to ${e.annotator}`,
      );
    }
    throw e;
  }
}

export interface WorkbenchCommands {
  /** `pairIdx`: open on that pair (the dashboard's links to consensus overrides). */
  openWorkbench: (dataset?: string, pairIdx?: number) => Promise<void>;
  /** Picks the principle list for a dataset: remembered, the only one, or asked. */
  pickList: (s: Store, dataset: string) => Promise<string | undefined>;
}

/** What to label, as the user chose it: the store, the dataset, the annotator identity and the principle list. */
interface SessionChoice {
  store: Store;
  dataset: string;
  annotator: string;
  list: string;
}

/** The progress status bar item (this annotator's labelled / total on the dataset shown) and the tree's count with it. */
function createProgressStatus(host: CommandHost): {
  item: vscode.StatusBarItem;
  update: (s: WorkbenchSession) => Promise<void>;
} {
  const item = vscode.window.createStatusBarItem('discretion.progress', vscode.StatusBarAlignment.Left, 50);
  item.name = 'Discretion progress';
  item.command = 'discretion.openWorkbench';
  const update = async (s: WorkbenchSession) => {
    const p = await s.progress();
    item.text = `$(checklist) ${s.dataset.name}: ${p.labelled}/${p.total}`;
    item.tooltip = `${s.annotator.name} has labelled ${p.labelled} of ${p.total} pairs of ${s.dataset.name} (${s.list.name}@${s.list.version})`;
    item.show();
    host.tree.setLabelled(s.dataset.name, s.annotator.name, p.labelled);
  };
  return { item, update };
}

/** Picks the principle list for a dataset: remembered, the only one, or asked. */
async function pickList(
  context: vscode.ExtensionContext,
  s: Store,
  dataset: string,
  listed?: Promise<{ name: string }[]>,
): Promise<string | undefined> {
  const lists = await (listed ?? s.listPrincipleLists());
  const names = [...new Set(lists.map((l) => l.name))];
  if (names.length === 0)
    throw new UsageError('no principle list loaded yet: run "Discretion: Load Principle List..." first');
  const remembered = context.workspaceState.get<string>(`list:${dataset}`);
  if (remembered && names.includes(remembered)) return remembered;
  if (names.length === 1) return names[0];
  const pick = await vscode.window.showQuickPick(names, { title: `Principle list for ${dataset}` });
  if (pick) await context.workspaceState.update(`list:${dataset}`, pick);
  return pick;
}

/** Asks what to label (dataset, identity, principle list); reads and writes nothing else. */
async function chooseSession(host: CommandHost, dataset: string | undefined): Promise<SessionChoice | undefined> {
  const { context } = host;
  const s = await host.openStore();
  // read while the dataset is being picked, so that the panel opens as soon as it is
  const listed = s.listPrincipleLists();
  listed.catch(() => undefined);
  if (!dataset) {
    const ds = await s.datasetProgress();
    if (ds.length === 0)
      throw new UsageError(
        'the database holds no datasets yet: run "Discretion: Import Dataset..." or "Discretion: Open Sample Dataset"',
      );
    const last = context.workspaceState.get<string>('lastDataset');
    if (ds.length === 1) dataset = ds[0].name;
    else {
      const items = ds.map((d) => ({ label: d.name, description: `${d.total} pairs` }));
      items.sort((a, b) => (a.label === last ? -1 : b.label === last ? 1 : 0));
      dataset = (await vscode.window.showQuickPick(items, { title: 'Dataset to label' }))?.label;
    }
    if (!dataset) return undefined;
  }
  const annotator = await annotatorFor(s);
  if (!annotator) return undefined;
  const list = await pickList(context, s, dataset, listed);
  if (!list) return undefined;
  return { store: s, dataset, annotator, list };
}

/** Opens the session chosen (the claim TTL from the settings) and finds its first pair. */
async function startSession(host: CommandHost, c: SessionChoice, restoreIdx?: number): Promise<WorkbenchSession> {
  const ttl = vscode.workspace.getConfiguration('discretion').get<number>('team.claimTtlSeconds', 600);
  const session = await WorkbenchSession.open(
    c.store,
    { dataset: c.dataset, annotator: c.annotator, principleList: c.list },
    {
      claimTtlMs: Math.max(5, Number.isFinite(ttl) ? ttl : 600) * 1000,
      log: (message) => host.log.warn(message),
    },
  );
  await session.start(restoreIdx);
  void host.context.workspaceState.update('lastDataset', c.dataset);
  return session;
}

/** What the panel asks of the extension: a session to restore, progress, messages, writes heard. */
function panelHostFor(host: CommandHost, onProgress: (s: WorkbenchSession) => Promise<void>): PanelHost {
  const { context, log } = host;
  return {
    log,
    openSession: async (restore) => {
      try {
        const c = await chooseSession(host, restore?.dataset ?? context.workspaceState.get<string>('lastDataset'));
        return c && (await startSession(host, c, restore?.pairIdx));
      } catch (e) {
        log.error(`restore: ${(e as Error).message}`);
        return undefined;
      }
    },
    onProgress: (s) => void onProgress(s).catch(() => undefined),
    onLabelled: () => markDone(context, 'label'),
    inform: (message) => void vscode.window.showInformationMessage(escapeControls(`Discretion: ${message}`)),
    onStoreChange: (listener) => host.onStoreChange(listener),
  };
}

/** discretion.openWorkbench. `pairIdx`: open on that pair (the dashboard's links to consensus overrides). */
function openWorkbenchCommand(host: CommandHost, panelHost: PanelHost): WorkbenchCommands['openWorkbench'] {
  const { context } = host;
  return async (dataset, pairIdx) => {
    const choice = await chooseSession(host, typeof dataset === 'string' ? dataset : undefined);
    if (!choice) return;
    const goTo = async () => {
      const p = WorkbenchPanel.current;
      if (p && typeof pairIdx === 'number') await p.enqueue(() => p.goTo(pairIdx));
    };
    if (WorkbenchPanel.current) {
      const session = await startSession(host, choice);
      WorkbenchPanel.current.panel.reveal(vscode.ViewColumn.Active);
      await WorkbenchPanel.current.useSession(session);
      await goTo();
      return;
    }
    // The webview loads while the session opens (its first write, counts and first pair): the
    // panel waits for the session when the webview says it is ready, and nothing waits twice.
    const session = startSession(host, choice);
    const panel = createPanel(WORKBENCH, `Discretion: ${choice.dataset}`);
    new WorkbenchPanel(panel, context.extensionUri, panelHost, session);
    try {
      await session;
    } catch (e) {
      panel.dispose();
      throw e;
    }
    await goTo();
  };
}

/** A command on the open panel, in line with its other steps (next, previous, undo, flag). */
function withPanel(fn: (p: WorkbenchPanel) => Promise<void>): () => Promise<void> {
  return async () => {
    const p = WorkbenchPanel.current;
    if (!p) throw new UsageError('the workbench is not open: run "Discretion: Open Workbench"');
    await p.enqueue(() => fn(p));
  };
}

/** discretion.filterQueue: all pairs, my principle labels in conflict, or the disagreements with a model. */
async function filterQueue(): Promise<void> {
  const p = WorkbenchPanel.current;
  if (!p?.session) throw new UsageError('open the workbench first');
  const session = p.session;
  const models = (await session.store.listAnnotators()).filter(
    (a) => a.kind === 'reward-model' || a.kind === 'llm-judge' || a.kind === 'policy-model',
  );
  const items = [
    { label: 'All pairs', filter: { kind: 'all' as const } },
    { label: 'My principle labels in conflict', filter: { kind: 'conflict' as const } },
    ...models.map((m) => ({
      label: `Disagreements with ${m.name}`,
      description: m.kind,
      filter: { kind: 'disagree' as const, model: m.name },
    })),
  ];
  const pick = await vscode.window.showQuickPick(items, { title: 'Workbench queue' });
  if (!pick) return;
  await p.enqueue(async () => {
    const first = await session.setFilter(pick.filter);
    if (first === undefined)
      void vscode.window.showInformationMessage(
        escapeControls(`Discretion: no pairs in the queue "${session.filterLabel()}".`),
      );
  });
  // not inside the enqueued step above: useSession enqueues its own step, which would wait for
  // that one to finish while it waits for this (the panel's queue then stalls for good)
  await p.useSession(session);
}

/** Restores the panel after a reload; the webview's own state (dataset, pair) arrives with its 'ready' message. */
function registerPanelSerializer(host: CommandHost, panelHost: PanelHost): vscode.Disposable {
  return vscode.window.registerWebviewPanelSerializer(WORKBENCH.viewType, {
    deserializeWebviewPanel: async (panel: vscode.WebviewPanel) => {
      host.log.info('workbench: restoring the panel');
      new WorkbenchPanel(panel, host.context.extensionUri, panelHost);
    },
  });
}

export function registerWorkbenchCommands(host: CommandHost): WorkbenchCommands {
  const status = createProgressStatus(host);
  const panelHost = panelHostFor(host, status.update);
  const openWorkbench = openWorkbenchCommand(host, panelHost);
  const reg = (id: string, fn: (...args: never[]) => Promise<unknown>) => registerCommand(host, id, fn);
  reg('discretion.openWorkbench', openWorkbench as (...args: never[]) => Promise<unknown>);
  reg('discretion.setAnnotator', setAnnotator);
  reg(
    'discretion.next',
    withPanel((p) => p.navigate('next')),
  );
  reg(
    'discretion.previous',
    withPanel((p) => p.navigate('previous')),
  );
  reg(
    'discretion.undo',
    withPanel((p) => p.undo()),
  );
  reg(
    'discretion.flag',
    withPanel(async (p) => p.post({ type: 'command', command: 'toggleFlag' })),
  );
  reg('discretion.filterQueue', filterQueue);
  host.context.subscriptions.push(status.item, registerPanelSerializer(host, panelHost));
  return { openWorkbench, pickList: (s, dataset) => pickList(host.context, s, dataset) };
}
