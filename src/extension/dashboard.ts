// "Discretion: Show Dashboard": a webview that renders the report model with the same chart and section
// code as report.html, under a strict CSP (nonce'd script and style, no 'unsafe-inline'), with the
// "Export report" and "Export training data" actions. The page, its CSP and the validation of every message from the webview
// (parseDashboardMessage, src/shared/dashboardProtocol.ts) are the panel base's (webviewPanelBase.ts).
import {
  createPanel,
  type PageContext,
  type PageParts,
  refusedAsNull,
  WebviewPanelBase,
  type WebviewKind,
} from './webviewPanelBase';
import * as vscode from 'vscode';
import { escapeControls } from '../core/terminalSafe';
import { extensionMessage } from './errors';
import { REPORT_CSS } from '../core/report';
import {
  parseDashboardMessage,
  type DashboardHostMessage,
  type DashboardWebviewMessage,
} from '../shared/dashboardProtocol';
import { prepareReport, writeReport, type PreparedReport } from '../app/report';
import type { Store } from '../store';
import { markDone } from './walkthrough';
import { exportTrainingWithPicks } from './trainingExport';

const DASHBOARD_CSS = `
body { max-width: none; color: var(--vscode-foreground); background: var(--vscode-editor-background); font-family: var(--vscode-font-family); }
:root { --ink: var(--vscode-foreground); --muted: var(--vscode-descriptionForeground); --line: var(--vscode-panel-border, #8884); --bg: var(--vscode-editor-background); --panel: var(--vscode-editorWidget-background, #8881); --accent: var(--vscode-textLink-foreground); }
.toolbar { position: sticky; top: 0; z-index: 2; display: flex; flex-wrap: wrap; gap: 8px 14px; align-items: center; padding: 8px 0; background: var(--vscode-editor-background); border-bottom: 1px solid var(--line); }
.toolbar label { display: inline-flex; gap: 4px; align-items: center; }
button { color: var(--vscode-button-foreground); background: var(--vscode-button-background); border: 0; padding: 4px 10px; cursor: pointer; }
button:hover { background: var(--vscode-button-hoverBackground); }
select { color: var(--vscode-dropdown-foreground); background: var(--vscode-dropdown-background); border: 1px solid var(--vscode-dropdown-border, transparent); }
#status.error { color: var(--vscode-errorForeground); }
`;

function dashboardPage({ nonce, script }: PageContext): PageParts {
  return {
    csp: { script: true, img: 'data:' },
    title: 'Discretion Dashboard',
    head: `<style nonce="${nonce}">${REPORT_CSS}${DASHBOARD_CSS}</style>`,
    body: `<div class="toolbar" role="toolbar" aria-label="Dashboard">
<label>Metric run <select id="run" aria-label="Metric run"></select></label>
<button type="button" id="compute">Compute new…</button>
<label>Heat map for <select id="ps" aria-label="Annotator of the heat map"></select></label>
<span id="formats" role="group" aria-label="Export formats">
<label><input type="checkbox" value="html" checked> HTML</label>
<label><input type="checkbox" value="md" checked> Markdown</label>
<label><input type="checkbox" value="json" checked> JSON</label>
<label><input type="checkbox" value="csv" checked> CSV</label>
</span>
<button type="button" id="export">Export report</button>
<button type="button" id="exportTraining">Export training data</button>
<span id="status" role="status" aria-live="polite">Loading…</span>
</div>
<div id="report"></div>
${script('dashboard.js')}`,
  };
}

export const DASHBOARD: WebviewKind<DashboardWebviewMessage> = {
  viewType: 'discretion.dashboard',
  title: 'Discretion Dashboard',
  name: 'dashboard',
  retainContextWhenHidden: true,
  page: dashboardPage,
  parse: refusedAsNull(parseDashboardMessage),
};

interface DashboardDeps {
  log: vscode.LogOutputChannel;
  openStore: () => Promise<Store>;
}

class DashboardPanel extends WebviewPanelBase<DashboardHostMessage, DashboardWebviewMessage> {
  static current: DashboardPanel | undefined;
  private prepared: PreparedReport | undefined;
  private dataset: string | undefined;
  private run: number | null = null;

  constructor(
    panel: vscode.WebviewPanel,
    private readonly context: vscode.ExtensionContext,
    private readonly deps: DashboardDeps,
  ) {
    super(panel, DASHBOARD, context.extensionUri, deps.log);
  }

  protected override receive(msg: DashboardWebviewMessage): void {
    void this.handle(msg).catch((e) => this.fail(e));
  }

  protected override dispose(): void {
    if (DashboardPanel.current === this) DashboardPanel.current = undefined;
    super.dispose();
  }

  private fail(e: unknown): void {
    const text = extensionMessage(e);
    this.post({ type: 'status', text, error: true });
    void vscode.window.showErrorMessage(escapeControls(`Discretion dashboard: ${text}`));
  }

  async refreshRuns(): Promise<void> {
    await this.sendRuns();
  }

  private async sendRuns(): Promise<{ id: number }[]> {
    const store = await this.deps.openStore();
    // Consistency runs share the table; this dashboard shows discretion metric runs.
    const runs = (await store.listMetricRuns())
      .filter((r) => (r.params as { kind?: string }).kind !== 'consistency')
      .reverse();
    this.post({
      type: 'runs',
      current: this.run,
      runs: runs.map((r) => ({ id: r.id, label: `#${r.id} ${r.datasetName ?? '?'} — ${r.createdAt}` })),
    });
    return runs;
  }

  private async show(prepared: PreparedReport, run: number | null): Promise<void> {
    this.prepared = prepared;
    this.run = run;
    this.dataset = prepared.model.provenance.dataset.name;
    this.post({ type: 'model', model: prepared.model, run });
  }

  private async handle(msg: DashboardWebviewMessage): Promise<void> {
    const store = await this.deps.openStore();
    switch (msg.type) {
      case 'ready': {
        const runs = await this.sendRuns();
        if (this.prepared) this.post({ type: 'model', model: this.prepared.model, run: this.run });
        else if (runs.length > 0) await this.show(await prepareReport(store, { run: runs[0]!.id }), runs[0]!.id);
        else this.post({ type: 'status', text: 'No metric runs stored yet: use "Compute new…".' });
        return;
      }
      case 'loadRun':
        this.post({ type: 'status', text: `Loading run #${msg.id}…` });
        await this.show(await prepareReport(store, { run: msg.id }), msg.id);
        return;
      case 'compute': {
        const info = await store.info();
        const pick = async (items: string[], placeHolder: string) =>
          items.length ? vscode.window.showQuickPick(items, { placeHolder, ignoreFocusOut: true }) : undefined;
        const dataset = await pick(
          info.datasets.map((d) => d.name),
          'Dataset',
        );
        if (!dataset) return;
        const principles = await pick([...new Set(info.principleLists.map((l) => l.name))], 'Principle list');
        if (!principles) return;
        const withLabels = info.annotators.filter((a) =>
          a.datasets.some((d) => d.dataset === dataset && d.principlePreferences > 0),
        );
        const source = await pick(
          ['self', 'majority', ...withLabels.filter((a) => a.kind === 'oracle').map((a) => a.name)],
          'Principle source',
        );
        if (!source) return;
        const reference = await pick(
          info.annotators
            .filter((a) => a.kind !== 'oracle' && a.datasets.some((d) => d.dataset === dataset && d.preferences > 0))
            .map((a) => a.name),
          'Reference annotator (DD)',
        );
        if (!reference) return;
        this.post({ type: 'status', text: 'Computing the metrics…' });
        await this.show(await prepareReport(store, { dataset, principles, principleSource: source, reference }), null);
        markDone(this.context, 'metrics');
        return;
      }
      case 'export': {
        if (!this.prepared) throw new Error('nothing to export yet');
        const target = await vscode.window.showOpenDialog({
          canSelectFolders: true,
          canSelectFiles: false,
          canSelectMany: false,
          openLabel: 'Export report here',
        });
        if (!target?.[0] || target[0].scheme !== 'file') return;
        const names = this.prepared.model.metrics.annotators.map((a) => a.name);
        const ps =
          msg.psAnnotator && names.includes(msg.psAnnotator) ? msg.psAnnotator : this.prepared.model.psAnnotator;
        const written = writeReport(
          target[0].fsPath,
          { ...this.prepared, model: { ...this.prepared.model, psAnnotator: ps } },
          msg.formats,
        );
        this.post({ type: 'status', text: `Exported ${written.length} file(s) to ${target[0].fsPath}` });
        markDone(this.context, 'report');
        const open = await vscode.window.showInformationMessage(
          escapeControls(`Discretion report written to ${target[0].fsPath}`),
          'Open report.html',
        );
        if (open && msg.formats.includes('html'))
          await vscode.env.openExternal(vscode.Uri.joinPath(target[0], 'report.html'));
        return;
      }
      case 'exportTraining': {
        if (!this.prepared || !this.dataset) throw new Error('nothing to export yet');
        const prov = this.prepared.model.provenance;
        const src = prov.principle_source;
        // The run's principle source gives the pair categories when it is one for all annotators.
        const principleSource =
          src.kind === 'oracle' && src.name
            ? src.name
            : src.kind === 'majority' && src.annotators?.length
              ? `majority:${src.annotators.join(',')}`
              : undefined;
        const shown = await exportTrainingWithPicks(store, {
          dataset: this.dataset,
          run: this.run ?? undefined,
          principles:
            principleSource && prov.principle_list.version != null
              ? `${prov.principle_list.name}@${prov.principle_list.version}`
              : undefined,
          principleSource,
        });
        if (shown) this.post({ type: 'status', text: shown });
        return;
      }
      case 'openPair': {
        const n = this.prepared?.model.provenance.dataset.n_pairs ?? 0;
        if (!this.dataset || msg.pairIdx >= n) return;
        // The workbench command takes the dataset; the pair index is passed along for it to jump to.
        await vscode.commands.executeCommand('discretion.openWorkbench', this.dataset, msg.pairIdx);
        return;
      }
    }
  }
}

/**
 * Another window or process wrote (Store.watchChanges): a metric run stored elsewhere joins the open
 * dashboard's list of runs without a reload (the report shown stays as it is: a stored run does not change).
 */
export function dashboardSawChange(tables: string[] | undefined): void {
  const d = DashboardPanel.current;
  if (d && (!tables || tables.includes('metric_runs'))) void d.refreshRuns().catch(() => undefined);
}

export function registerDashboard(context: vscode.ExtensionContext, deps: DashboardDeps): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('discretion.showDashboard', () => {
      if (DashboardPanel.current) {
        DashboardPanel.current.panel.reveal(vscode.ViewColumn.Active);
        return;
      }
      const panel = createPanel(DASHBOARD);
      DashboardPanel.current = new DashboardPanel(panel, context, deps);
      markDone(context, 'dashboard');
    }),
  );
}
