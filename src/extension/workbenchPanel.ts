// The workbench webview panel: strict CSP with a fresh nonce per render, local resources limited to
// dist/webview, every incoming message validated before anything runs.
import { newNonce, webviewCsp } from './webviewSecurity';
import * as vscode from 'vscode';
import { isUserFacingError } from '../core/errors';
import { type HostToWebview, parseWebviewMessage } from '../shared/protocol';
import type { WorkbenchSession } from './session';

export const WORKBENCH_VIEW_TYPE = 'discretion.workbench';

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return {
    enableScripts: true,
    enableCommandUris: false,
    enableForms: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview')],
    retainContextWhenHidden: false,
  };
}

export function workbenchHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  const nonce = newNonce();
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', 'workbench.js'));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', 'workbench.css'));
  const csp = webviewCsp(nonce, { script: true, style: webview.cspSource, font: webview.cspSource });
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}" nonce="${nonce}">
<title>Discretion Workbench</title>
</head>
<body>
<main>
<div id="status" role="status" aria-live="polite">Loading the workbench...</div>
<div id="card" tabindex="-1" aria-label="Pair card" hidden></div>
</main>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}

export interface PanelHost {
  log: vscode.LogOutputChannel;
  /** Opens a session for the dataset the webview asks to restore (or the default one). */
  openSession(restore: { dataset: string; pairIdx: number } | null): Promise<WorkbenchSession | undefined>;
  onProgress(session: WorkbenchSession): void;
}

export class WorkbenchPanel {
  static current: WorkbenchPanel | undefined;
  session: WorkbenchSession | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  /** A card was shown; the status bar and tree are updated once the webview has painted it. */
  private progressPending = false;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(readonly panel: vscode.WebviewPanel, private readonly extensionUri: vscode.Uri, private readonly host: PanelHost, private pendingSession?: WorkbenchSession | Promise<WorkbenchSession>) {
    WorkbenchPanel.current = this;
    panel.webview.options = webviewOptions(extensionUri);
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'icons', 'discretion.svg');
    panel.webview.html = workbenchHtml(panel.webview, extensionUri);
    this.disposables.push(
      panel.webview.onDidReceiveMessage((raw) => this.enqueue(() => this.receive(raw))),
      panel.onDidDispose(() => this.dispose()),
      panel.onDidChangeViewState(() => void vscode.commands.executeCommand('setContext', 'discretion.workbenchActive', panel.active)),
    );
    void vscode.commands.executeCommand('setContext', 'discretion.workbenchActive', true);
  }

  /** Replaces the session (another dataset) and shows its card. */
  useSession(session: WorkbenchSession): Promise<void> {
    return this.enqueue(async () => {
      this.session = session;
      await this.show();
    });
  }

  post(m: HostToWebview): void {
    void this.panel.webview.postMessage(m);
  }

  /** Runs one action at a time, in arrival order; errors become one line on the card, never a crash. */
  enqueue(fn: () => Promise<void>): Promise<void> {
    const run = async () => {
      try {
        await fn();
      } catch (e) {
        const message = isUserFacingError(e) ? e.message : `unexpected error: ${(e as Error).message?.split('\n')[0]}`;
        this.host.log.error(`workbench: ${(e as Error)?.stack ?? e}`);
        this.post({ type: 'error', message });
      }
    };
    const next = this.queue.then(run, run);
    this.queue = next;
    return next;
  }

  private async show(): Promise<void> {
    const s = this.session;
    if (!s) return;
    // The card read ahead while the annotator worked on the previous one, when still exact; the
    // submission it follows has already been committed (submit() returned before we got here).
    const card = (await s.takeAhead()) ?? (await s.card());
    if (card) {
      this.post({ type: 'card', card });
      const title = `Discretion: ${s.dataset.name}`;
      if (this.panel.title !== title) this.panel.title = title;
      await s.savePosition();
      // the status bar and tree follow when the webview reports the card painted (see 'painted'),
      // so that VS Code's own UI updates do not compete with painting the card
      this.progressPending = true;
      setTimeout(() => this.flushProgress(), 1000); // cards shown without a key (open, Alt+N) report no paint
    } else {
      this.post({ type: 'done', dataset: s.dataset.name, message: s.filter.kind === 'all' ? 'No pairs to show.' : `No pairs in the queue "${s.filterLabel()}".`, progress: await s.progress() });
      this.host.onProgress(s);
    }
    if (card) {
      const next = await s.readAhead();
      // sent for the webview to prepare while idle; it is shown only when a later 'card' names it
      if (next) this.post({ type: 'prefetch', card: next });
    }
  }

  private flushProgress(): void {
    if (!this.progressPending || !this.session) return;
    this.progressPending = false;
    this.host.onProgress(this.session);
  }

  private async receive(raw: unknown): Promise<void> {
    const parsed = parseWebviewMessage(raw);
    if (!parsed.ok) {
      this.host.log.warn(`workbench: rejected a message from the webview: ${parsed.reason}`);
      return;
    }
    const m = parsed.message;
    if (m.type === 'ready') {
      this.host.log.info(`workbench: webview ready (restore ${JSON.stringify(m.restore)})`);
      if (!this.session) this.session = (await this.pendingSession) ?? (await this.host.openSession(m.restore));
      this.pendingSession = undefined;
      if (!this.session) {
        this.post({ type: 'error', message: 'No dataset to label: run "Discretion: Import Dataset..." or "Discretion: Open Sample Dataset".' });
        return;
      }
      if (this.session.current === undefined) await this.session.start(m.restore && m.restore.dataset === this.session.dataset.name ? m.restore.pairIdx : undefined);
      await this.show();
      return;
    }
    if (m.type === 'painted') {
      this.host.log.trace(`workbench: card ${m.seq} painted ${m.ms.toFixed(1)} ms after the key`);
      this.flushProgress();
      return;
    }
    const s = this.session;
    if (!s) return;
    switch (m.type) {
      case 'submit': {
        const models = await s.submit(m);
        if (models.length > 0) {
          this.post({ type: 'reveal', pairIdx: m.pairIdx, models });
          this.host.onProgress(s);
          return;
        }
        await s.move('next');
        await this.show();
        return;
      }
      case 'advance':
      case 'skip':
        if (!(await s.move('next'))) {
          this.post({ type: 'done', dataset: s.dataset.name, message: 'End of the queue.', progress: await s.progress() });
          return;
        }
        await this.show();
        return;
      case 'navigate':
        await this.navigate(m.direction);
        return;
      case 'undo':
        await this.undo();
        return;
    }
  }

  async navigate(direction: 'next' | 'previous'): Promise<void> {
    const s = this.session;
    if (!s) return;
    if (!(await s.move(direction))) {
      void vscode.window.setStatusBarMessage(direction === 'next' ? 'Discretion: no next pair in this queue' : 'Discretion: no previous pair in this queue', 3000);
    }
    await this.show();
  }

  async goTo(idx: number): Promise<void> {
    const s = this.session;
    if (!s) return;
    if (!(await s.goTo(idx))) {
      void vscode.window.setStatusBarMessage(`Discretion: dataset ${s.dataset.name} has no pair ${idx}`, 3000);
      return;
    }
    await this.show();
  }

  async undo(): Promise<void> {
    const s = this.session;
    if (!s) return;
    if (!(await s.undo())) {
      void vscode.window.setStatusBarMessage('Discretion: nothing to undo', 3000);
      return;
    }
    await this.show();
  }

  dispose(): void {
    if (WorkbenchPanel.current === this) WorkbenchPanel.current = undefined;
    void vscode.commands.executeCommand('setContext', 'discretion.workbenchActive', false);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
