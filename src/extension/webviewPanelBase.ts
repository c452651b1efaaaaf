// What every webview panel of the extension (workbench, dashboard, review) does the same way: its options
// (scripts on, no command URIs, no forms, local resources limited to dist/webview), its page under a strict
// CSP with a fresh nonce (webviewSecurity.ts), every message from the webview validated with the protocol's
// parser before the panel sees it (one of src/shared/*Protocol.ts; a refused message is logged and dropped),
// a typed post, and dispose. A panel subclasses WebviewPanelBase and keeps only its own logic.
import * as vscode from 'vscode';
import type { ParseResult } from '../shared/messageChecks';
import { type CspSources, newNonce, webviewCsp, webviewPage } from './webviewSecurity';

/** What a page builder gets: the render's nonce, the webview, and the built files of dist/webview. */
export interface PageContext {
  nonce: string;
  webview: vscode.Webview;
  /** A built file of the webviews on disk (dist/webview/<name>); `webview.asWebviewUri` makes it loadable. */
  asset(name: string): vscode.Uri;
}

/** The page's own parts; the base adds the policy (from `csp`, with the nonce) and the document around them. */
export interface PageParts {
  csp: CspSources;
  title: string;
  head: string;
  body: string;
}

/** One kind of webview panel: how its page is built and its protocol's parser (W: the messages from its webview). */
export interface WebviewKind<W> {
  viewType: string;
  /** The title of a new panel. */
  title: string;
  /** The panel's name in the log ("workbench: ..."). */
  name: string;
  /** Whether the page keeps running while hidden (else it reloads when shown and restores from its state). */
  retainContextWhenHidden: boolean;
  page(ctx: PageContext): PageParts;
  parse(raw: unknown): ParseResult<W>;
}

/** A parser that answers null for a refused message, as one that says why (for the log line). */
export function refusedAsNull<W>(parse: (raw: unknown) => W | null): (raw: unknown) => ParseResult<W> {
  return (raw) => {
    const message = parse(raw);
    return message === null ? { ok: false, reason: 'not exactly one of the known messages' } : { ok: true, message };
  };
}

const WEBVIEW_DIR = ['dist', 'webview'];

export function panelOptions(kind: WebviewKind<unknown>, extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return {
    enableScripts: true,
    enableCommandUris: false,
    enableForms: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, ...WEBVIEW_DIR)],
    retainContextWhenHidden: kind.retainContextWhenHidden,
  };
}

/** A new panel of this kind in the active column, to construct the kind's panel class with. */
export function createPanel(kind: WebviewKind<unknown>, extensionUri: vscode.Uri, title = kind.title): vscode.WebviewPanel {
  return vscode.window.createWebviewPanel(kind.viewType, title, vscode.ViewColumn.Active, panelOptions(kind, extensionUri));
}

export abstract class WebviewPanelBase<H, W> {
  /** Disposed with the panel: the base's listeners and whatever the subclass adds. */
  protected readonly disposables: vscode.Disposable[] = [];
  /** When the panel was created (performance.now()), before its page was built: the workbench times its opening from it. */
  protected readonly createdAt = performance.now();

  /**
   * Takes a panel just created (createPanel) or revived by VS Code after a reload (a serializer), sets its
   * options and page, and starts listening. Messages arrive after the constructor has returned, so `receive`
   * sees the subclass's fields.
   */
  constructor(readonly panel: vscode.WebviewPanel, kind: WebviewKind<W>, extensionUri: vscode.Uri, protected readonly log: vscode.LogOutputChannel) {
    log.info(`${kind.name}: panel created`);
    // a revived panel comes with the options VS Code stored; they are set again, the same for both
    panel.webview.options = panelOptions(kind, extensionUri);
    const nonce = newNonce();
    const parts = kind.page({ nonce, webview: panel.webview, asset: (name) => vscode.Uri.joinPath(extensionUri, ...WEBVIEW_DIR, name) });
    panel.webview.html = webviewPage({ csp: webviewCsp(nonce, parts.csp), title: parts.title, head: parts.head, body: parts.body });
    this.disposables.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => {
        const receivedAt = performance.now();
        const parsed = kind.parse(raw);
        if (!parsed.ok) {
          log.warn(`${kind.name}: rejected a message from the webview: ${parsed.reason}`);
          return;
        }
        this.receive(parsed.message, receivedAt);
      }),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  /** A message the protocol's parser accepted; `receivedAt`: when it arrived (performance.now()). */
  protected abstract receive(message: W, receivedAt: number): void;

  post(message: H): void {
    void this.panel.webview.postMessage(message);
  }

  /** Runs when the panel is closed; a subclass cleans up its own, then calls this. */
  protected dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
