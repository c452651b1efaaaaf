// The "Team" view for a lead: per dataset split among a team (teamStatus): pairs by labels held, per
// annotator claims, labels, labels per hour and DA so far, and Cohen's kappa of every two annotators;
// refreshed when other windows or processes write (Store.watchChanges), with "Release Claims" on a dataset
// (everyone's) or an annotator (theirs).
import * as vscode from 'vscode';
import { teamStatus, type TeamStatus } from '../app/team';
import { UsageError } from '../core/errors';
import { escapeControls } from '../core/terminalSafe';
import type { Store } from '../store';
import { registerCommand, type CommandHost } from './commands/host';
import { kappaRows, labelCountsRow, memberRow, teamDatasetRow, type TeamRow } from './teamModel';

type Node =
  | { kind: 'dataset'; status: TeamStatus }
  | { kind: 'counts'; status: TeamStatus }
  | { kind: 'member'; status: TeamStatus; annotator: string }
  | { kind: 'kappa'; status: TeamStatus }
  | { kind: 'kappaPair'; row: TeamRow }
  | { kind: 'note'; message: string; error?: boolean };

export class TeamTree implements vscode.TreeDataProvider<Node> {
  private readonly emitter = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private pending: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly openStore: () => Promise<Store>, private readonly log: vscode.LogOutputChannel) {}

  refresh(): void {
    this.emitter.fire(undefined);
  }

  /** Another window or process wrote: read again once the burst has settled. */
  scheduleRefresh(ms = 1000): void {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.refresh();
    }, ms);
  }

  getTreeItem(n: Node): vscode.TreeItem {
    const item = (row: TeamRow, state = vscode.TreeItemCollapsibleState.None) => {
      const t = new vscode.TreeItem(row.label, state);
      t.description = row.description;
      if (row.tooltip) t.tooltip = row.tooltip;
      return t;
    };
    switch (n.kind) {
      case 'dataset': {
        const t = item(teamDatasetRow(n.status), vscode.TreeItemCollapsibleState.Expanded);
        t.iconPath = new vscode.ThemeIcon('organization');
        t.contextValue = 'teamDataset';
        return t;
      }
      case 'counts':
        return Object.assign(item(labelCountsRow(n.status)), { iconPath: new vscode.ThemeIcon('graph') });
      case 'member': {
        const a = n.status.annotators.find((x) => x.name === n.annotator)!;
        const t = item(memberRow(a));
        t.iconPath = new vscode.ThemeIcon(a.claimed > 0 ? 'person' : 'account');
        t.contextValue = a.claimed > 0 ? 'teamMemberClaims' : 'teamMember';
        return t;
      }
      case 'kappa':
        return Object.assign(new vscode.TreeItem("Agreement (Cohen's kappa)", vscode.TreeItemCollapsibleState.Collapsed), { iconPath: new vscode.ThemeIcon('symbol-operator') });
      case 'kappaPair':
        return item(n.row);
      case 'note':
        return Object.assign(new vscode.TreeItem(n.message), { iconPath: new vscode.ThemeIcon(n.error ? 'error' : 'info') });
    }
  }

  async getChildren(n?: Node): Promise<Node[]> {
    try {
      if (!n) {
        const store = await this.openStore();
        const progress = await store.datasetProgress();
        const split = [];
        for (const d of progress) if ((await store.workSplit(d.id)).overlap !== null) split.push(d.name);
        if (split.length === 0) return [{ kind: 'note', message: 'No dataset is split among a team (discretion team split --dataset NAME --overlap K)' }];
        const now = Date.now();
        return Promise.all(split.map(async (name) => ({ kind: 'dataset' as const, status: await teamStatus(store, name, now) })));
      }
      if (n.kind === 'dataset') {
        const s = n.status;
        const rows: Node[] = [{ kind: 'counts', status: s }, ...s.annotators.map((a) => ({ kind: 'member' as const, status: s, annotator: a.name }))];
        if (s.kappa.annotators.length > 1) rows.push({ kind: 'kappa', status: s });
        return rows;
      }
      if (n.kind === 'kappa') return kappaRows(n.status).map((row) => ({ kind: 'kappaPair', row }));
      return [];
    } catch (e) {
      this.log.error(`team view: ${(e as Error).message}`);
      return [{ kind: 'note', message: (e as Error).message.split('\n')[0], error: true }];
    }
  }
}

/** The Team view and its commands: discretion.releaseClaims, discretion.refreshTeam. */
export function registerTeamView(host: CommandHost): TeamTree {
  const team = new TeamTree(host.openStore, host.log);
  host.context.subscriptions.push(vscode.window.createTreeView('discretion.team', { treeDataProvider: team, showCollapseAll: true }));
  registerCommand(host, 'discretion.refreshTeam', async () => team.refresh());
  registerCommand(host, 'discretion.releaseClaims', (async (node?: Node) => {
    const store = await host.openStore();
    let dataset = node && (node.kind === 'dataset' || node.kind === 'member') ? node.status.dataset : undefined;
    let annotator = node?.kind === 'member' ? node.annotator : undefined;
    if (!dataset) {
      const progress = await store.datasetProgress();
      const split: string[] = [];
      for (const d of progress) if ((await store.workSplit(d.id)).overlap !== null) split.push(d.name);
      if (split.length === 0) throw new UsageError('no dataset is split among a team: nothing is claimed');
      dataset = split.length === 1 ? split[0] : (await vscode.window.showQuickPick(split.map((label) => ({ label })), { title: 'Release claims on which dataset?' }))?.label;
      if (!dataset) return;
      const d = await store.requireDataset(dataset);
      const claimers = [...new Set((await store.liveClaims(d.id, Date.now())).map((c) => c.annotator))];
      const everyone = 'Everyone';
      const pick = await vscode.window.showQuickPick([{ label: everyone, description: 'every live claim on the dataset' }, ...claimers.map((label) => ({ label, description: 'this annotator\'s claims' }))], { title: `Release whose claims on ${escapeControls(dataset)}?` });
      if (!pick) return;
      annotator = pick.label === everyone && !claimers.includes(everyone) ? undefined : pick.label;
    }
    const d = await store.requireDataset(dataset);
    const who = annotator === undefined ? undefined : (await store.requireAnnotator(annotator)).id;
    const n = await store.write((tx) => tx.releaseClaims(d.id, who));
    team.refresh();
    host.tree.scheduleRefresh();
    void vscode.window.showInformationMessage(escapeControls(`Discretion: released ${n} claim${n === 1 ? '' : 's'} on ${dataset}${annotator === undefined ? '' : ` held by ${annotator}`}; those pairs go back to the queue`));
  }) as (...args: never[]) => Promise<unknown>);
  return team;
}
