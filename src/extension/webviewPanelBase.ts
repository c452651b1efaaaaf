// What every webview panel of the extension (workbench, dashboard, review) does the same way: its options
// (scripts on, no command URIs, no forms, no local resources: its script and styles are inlined into the
// page, webviewAssets.ts), its page under a strict CSP with a fresh nonce (webviewSecurity.ts), every
// message from the webview validated with the protocol's parser before the panel sees it (one of
// src/shared/*Protocol.ts; a refused message is logged and dropped), a typed post, and dispose. A panel
// subclasses WebviewPanelBase and keeps only its own logic.
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { ParseResult } from '../shared/messageChecks';
import { escapeHtml } from '../core/report/escape';
import { inlineAsset } from './webviewAssets';
import { type CspSources, jsonForScript, newNonce, webviewCsp, webviewPage } from './webviewSecurity';

/**
 * What a page builder gets: the render's nonce, and the built files of dist/webview as inline elements
 * under it. The page loads nothing by URI: once VS Code has written it into the webview's frame, nothing
 * goes through the webview's service worker, the workbench and the server before its first card.
 */
export interface PageContext {
  nonce: string;
  /**
   * What the host already has for the page when it is built (the workbench's first card), or undefined;
   * a page puts it in with `data` for its script to read at once, instead of waiting for a message.
   */
  initial: unknown;
  /** `<script type="application/json" id>` holding `value` as JSON that the HTML parser cannot misread. */
  data(id: string, value: unknown): string;
  /** `<script nonce>` holding dist/webview/<name> (read once per activation). */
  script(name: string): string;
  /** `<style nonce>` holding dist/webview/<name> (read once per activation). */
  style(name: string): string;
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

/** The page's context for a render: `dir`, the folder of the built webview files on disk. */
export function pageContext(nonce: string, dir: string, initial?: unknown): PageContext {
  const file = (name: string) => join(dir, name);
  return {
    nonce,
    initial,
    data: (id, value) => `<script type="application/json" id="${id}" nonce="${nonce}">${jsonForScript(value)}</script>`,
    script: (name) => `<script nonce="${nonce}">${inlineAsset(file(name), 'script')}</script>`,
    style: (name) => `<style nonce="${nonce}">${inlineAsset(file(name), 'style')}</style>`,
  };
}

/**
 * The page of a kind, whole: its parts inside the document, under the policy built from its CSP sources
 * and the nonce. A page that cannot be built (a webview file missing or damaged) becomes a page saying so.
 */
export function buildPage(kind: WebviewKind<unknown>, ctx: PageContext, onError?: (e: unknown) => void): string {
  let parts: PageParts;
  try {
    parts = kind.page(ctx);
  } catch (e) {
    onError?.(e);
    const message = `${kind.title} could not be shown: ${(e as Error).message}. Reinstalling the extension restores its files.`;
    return webviewPage({
      csp: webviewCsp(ctx.nonce, {}),
      title: kind.title,
      head: '',
      body: `<p role="alert">${escapeHtml(message)}</p>`,
    });
  }
  return webviewPage({ csp: webviewCsp(ctx.nonce, parts.csp), title: parts.title, head: parts.head, body: parts.body });
}

export function panelOptions(kind: WebviewKind<unknown>): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return {
    enableScripts: true,
    enableCommandUris: false,
    enableForms: false,
    // nothing is loaded from disk by URI (the script and styles are in the page)
    localResourceRoots: [],
    retainContextWhenHidden: kind.retainContextWhenHidden,
  };
}

/** A new panel of this kind in the active column, to construct the kind's panel class with. */
export function createPanel(kind: WebviewKind<unknown>, title = kind.title): vscode.WebviewPanel {
  return vscode.window.createWebviewPanel(kind.viewType, title, vscode.ViewColumn.Active, panelOptions(kind));
}

export abstract class WebviewPanelBase<H, W> {
  /** Disposed with the panel: the base's listeners and whatever the subclass adds. */
  protected readonly disposables: vscode.Disposable[] = [];
  /** When the panel was created (performance.now()), before its page was built: the workbench times its opening from it. */
  protected readonly createdAt = performance.now();
  /** Whether the page has been set (once: a second page would reload the webview). */
  protected pageSet = false;
  private readonly kind: WebviewKind<W>;
  private readonly webviewDir: string;

  /**
   * Takes a panel just created (createPanel) or revived by VS Code after a reload (a serializer), sets its
   * options and page, and starts listening. Messages arrive after the constructor has returned, so `receive`
   * sees the subclass's fields. `deferPage`: the subclass sets the page itself (setPage), with what it
   * will have for it shortly (the workbench's first card).
   */
  constructor(
    readonly panel: vscode.WebviewPanel,
    kind: WebviewKind<W>,
    extensionUri: vscode.Uri,
    protected readonly log: vscode.LogOutputChannel,
    { deferPage = false }: { deferPage?: boolean } = {},
  ) {
    log.info(`${kind.name}: panel created`);
    this.kind = kind;
    this.webviewDir = vscode.Uri.joinPath(extensionUri, ...WEBVIEW_DIR).fsPath;
    // a revived panel comes with the options VS Code stored; they are set again, the same for both
    panel.webview.options = panelOptions(kind);
    if (!deferPage) this.setPage();
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

  /** Sets the page, with `initial` for it (PageContext.initial); only the first call does anything. */
  protected setPage(initial?: unknown): void {
    if (this.pageSet) return;
    this.pageSet = true;
    const kind = this.kind;
    this.panel.webview.html = buildPage(kind, pageContext(newNonce(), this.webviewDir, initial), (e) =>
      this.log.error(`${kind.name}: the page could not be built: ${(e as Error)?.stack ?? e}`),
    );
  }

  /** A message the protocol's parser accepted; `receivedAt`: when it arrived (performance.now()). */
  protected abstract receive(message: W, receivedAt: number): void;

  post(message: H): void {
    this.setPage(); // (a deferred page is set before the first message: VS Code holds it until the page loads)
    void this.panel.webview.postMessage(message);
  }

  /** Runs when the panel is closed; a subclass cleans up its own, then calls this. */
  protected dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
