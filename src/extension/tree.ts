// The "Discretion" activity-bar tree: datasets (with per-annotator progress) and principle lists.
import * as vscode from 'vscode';
import type { Store } from '../store';
import { type DatasetProgress, datasetDescription, datasetTooltip, withLabelled } from './treeProgress';

type Node =
  | { kind: 'group'; label: 'Datasets' | 'Principle lists' }
  | { kind: 'dataset'; id: number; name: string; total: number; annotators: { name: string; labelled: number }[]; overlap: number | null }
  | { kind: 'progress'; dataset: string; annotator: string; labelled: number; total: number }
  | { kind: 'list'; name: string; version: number; size: number }
  | { kind: 'error'; message: string };

export class DiscretionTree implements vscode.TreeDataProvider<Node> {
  private readonly emitter = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;

  /** `me`: this window's annotator name (the setting), for a team dataset's "mine". */
  constructor(private readonly openStore: () => Promise<Store>, private readonly log: vscode.LogOutputChannel, private readonly me: () => string = () => '') {}

  private pending: ReturnType<typeof setTimeout> | undefined;

  /** Another window or process wrote: read again once the burst of changes has settled (at most one refresh per `ms`). */
  scheduleRefresh(ms = 500): void {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.refresh();
    }, ms);
  }

  /**
   * The datasets with every human annotator's count, read once per refresh (the root and the Datasets
   * group share it). The counts go over every human preference of every dataset: 0.85 s with a
   * million-pair import's preferences, work that labelling must not repeat (see setLabelled).
   */
  private progress: Promise<DatasetProgress[]> | undefined;

  refresh(): void {
    this.progress = undefined;
    this.emitter.fire(undefined);
  }

  /** One annotator's count after a label in the workbench: patched in, nothing read again. */
  setLabelled(dataset: string, annotator: string, labelled: number): void {
    if (!this.progress) return; // not read yet: the first read will have it
    this.progress = this.progress.then((ds) => withLabelled(ds, dataset, annotator, labelled));
    this.emitter.fire(undefined);
  }

  private datasetProgress(store: Store): Promise<DatasetProgress[]> {
    this.progress ??= store.datasetProgress();
    return this.progress;
  }

  getTreeItem(n: Node): vscode.TreeItem {
    switch (n.kind) {
      case 'group':
        return Object.assign(new vscode.TreeItem(n.label, vscode.TreeItemCollapsibleState.Expanded), { contextValue: n.label === 'Datasets' ? 'datasets' : 'lists' });
      case 'dataset': {
        const t = new vscode.TreeItem(n.name, n.annotators.length ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
        t.description = datasetDescription(n, n.overlap, this.me());
        t.iconPath = new vscode.ThemeIcon('database');
        t.contextValue = 'dataset';
        t.command = { command: 'discretion.openWorkbench', title: 'Open Workbench', arguments: [n.name] };
        t.tooltip = datasetTooltip(n, n.overlap, this.me());
        return t;
      }
      case 'progress': {
        const t = new vscode.TreeItem(n.annotator);
        t.description = `${n.labelled}/${n.total} labelled`;
        t.iconPath = new vscode.ThemeIcon(n.labelled >= n.total ? 'pass' : 'person');
        return t;
      }
      case 'list': {
        const t = new vscode.TreeItem(`${n.name}@${n.version}`);
        t.description = `${n.size} principles`;
        t.iconPath = new vscode.ThemeIcon('list-ordered');
        return t;
      }
      case 'error':
        return Object.assign(new vscode.TreeItem(n.message), { iconPath: new vscode.ThemeIcon('error') });
    }
  }

  async getChildren(n?: Node): Promise<Node[]> {
    try {
      const store = await this.openStore();
      if (!n) {
        const [ds, lists] = await Promise.all([this.datasetProgress(store), store.listPrincipleLists()]);
        const empty = ds.length === 0 && lists.length === 0;
        void vscode.commands.executeCommand('setContext', 'discretion.empty', empty);
        if (empty) return []; // the welcome content shows instead
        return [{ kind: 'group', label: 'Datasets' }, { kind: 'group', label: 'Principle lists' }];
      }
      if (n.kind === 'group' && n.label === 'Datasets') {
        const ds = await this.datasetProgress(store);
        const splits = await Promise.all(ds.map((d) => store.workSplit(d.id)));
        return ds.map((d, i) => ({ kind: 'dataset', ...d, overlap: splits[i].overlap }));
      }
      if (n.kind === 'group') return (await store.listPrincipleLists()).map((l) => ({ kind: 'list', ...l }));
      if (n.kind === 'dataset') return n.annotators.map((a) => ({ kind: 'progress', dataset: n.name, annotator: a.name, labelled: a.labelled, total: n.total }));
      return [];
    } catch (e) {
      this.progress = undefined; // read again next time
      this.log.error(`tree: ${(e as Error).message}`);
      return [{ kind: 'error', message: (e as Error).message.split('\n')[0] }];
    }
  }
}
