// "Discretion: Review Disagreements": the review queue (src/app/review.ts) in a webview, every human annotator's
// label and rationale side by side, with buttons and keys that store the adjudicated label (annotator
// "adjudicated"). The page, its CSP and the validation of every message from it (parseReviewMessage,
// src/shared/reviewProtocol.ts) are the panel base's (webviewPanelBase.ts); the webview shows dataset text as
// text only.
import * as vscode from 'vscode';
import { adjudicate, reviewQueue } from '../app/review';
import { extensionMessage } from './errors';
import { escapeControls } from '../core/terminalSafe';
import { parseReviewMessage, type ReviewHostMessage, type ReviewWebviewMessage } from '../shared/reviewProtocol';
import type { Store } from '../store';
import {
  createPanel,
  type PageContext,
  type PageParts,
  refusedAsNull,
  WebviewPanelBase,
  type WebviewKind,
} from './webviewPanelBase';

const REVIEW_CSS = `
body { color: var(--vscode-foreground); background: var(--vscode-editor-background); font-family: var(--vscode-font-family); padding: 0 12px; }
.toolbar { position: sticky; top: 0; z-index: 2; display: flex; flex-wrap: wrap; gap: 8px 14px; align-items: center; padding: 8px 0; background: var(--vscode-editor-background); border-bottom: 1px solid var(--vscode-panel-border, #8884); }
button { color: var(--vscode-button-foreground); background: var(--vscode-button-background); border: 0; padding: 3px 10px; cursor: pointer; }
button:hover { background: var(--vscode-button-hoverBackground); }
select, input[type=text] { color: var(--vscode-input-foreground); background: var(--vscode-input-background); border: 1px solid var(--vscode-input-border, #8884); }
.item { border: 1px solid var(--vscode-panel-border, #8884); margin: 10px 0; padding: 8px 10px; }
.item:focus { outline: 2px solid var(--vscode-focusBorder); }
.item h2 { font-size: 1em; margin: 0 0 6px; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; max-height: 14em; overflow: auto; margin: 0; padding: 4px; background: var(--vscode-textCodeBlock-background, #8881); }
.responses { display: grid; grid-template-columns: 1fr 1fr; gap: 8px; margin: 6px 0; }
@media (max-width: 640px) { .responses { grid-template-columns: 1fr; } }
table { border-collapse: collapse; margin: 6px 0; }
th, td { text-align: left; padding: 2px 10px 2px 0; vertical-align: top; }
td.rationale { white-space: pre-wrap; overflow-wrap: anywhere; }
.actions { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
.actions input { flex: 1 1 16em; }
.adjudicated { color: var(--vscode-descriptionForeground); }
#status.error { color: var(--vscode-errorForeground); }
`;

function reviewPage({ nonce, script }: PageContext): PageParts {
  return {
    csp: { script: true },
    title: 'Discretion Review',
    head: `<style nonce="${nonce}">${REVIEW_CSS}</style>`,
    body: `<div class="toolbar" role="toolbar" aria-label="Review">
<label>Dataset <select id="dataset" aria-label="Dataset"></select></label>
<label>Principle <input type="text" id="principle" size="14" placeholder="overall" aria-label="Principle key (empty: the overall labels)"></label>
<label><input type="checkbox" id="pending"> Pending only</label>
<button type="button" id="reload">Show</button>
<span id="status" role="status" aria-live="polite">Loading…</span>
</div>
<p class="adjudicated">Keys on a focused pair: <kbd>0</kbd> y0, <kbd>1</kbd> y1, <kbd>T</kbd> tie, <kbd>X</kbd> both bad (a principle: neither), <kbd>J</kbd>/<kbd>K</kbd> next/previous pair.</p>
<main id="items" aria-label="Pairs whose human labels disagree"></main>
${script('review.js')}`,
  };
}

export const REVIEW: WebviewKind<ReviewWebviewMessage> = {
  viewType: 'discretion.review',
  title: 'Discretion Review',
  name: 'review',
  retainContextWhenHidden: true,
  page: reviewPage,
  parse: refusedAsNull(parseReviewMessage),
};

interface ReviewDeps {
  log: vscode.LogOutputChannel;
  openStore: () => Promise<Store>;
  /** Another window or process wrote to the database (Store.watchChanges); `tables` as the store names them. */
  onStoreChange(listener: (tables: string[] | undefined) => void): vscode.Disposable;
}

class ReviewPanel extends WebviewPanelBase<ReviewHostMessage, ReviewWebviewMessage> {
  static current: ReviewPanel | undefined;
  private dataset: string | null = null;

  constructor(
    panel: vscode.WebviewPanel,
    context: vscode.ExtensionContext,
    private readonly deps: ReviewDeps,
  ) {
    super(panel, REVIEW, context.extensionUri, deps.log);
    // Labels stored by others after the list was loaded: said on the status line, not reloaded under the lead's
    // hands (a rationale being typed stays); Show reloads.
    this.disposables.push(
      deps.onStoreChange((tables) => {
        if (
          this.dataset !== null &&
          (!tables || tables.some((t) => t === 'preferences' || t === 'principle_preferences'))
        ) {
          this.post({ type: 'status', text: 'New labels were stored since this list was loaded: Show reloads it.' });
        }
      }),
    );
  }

  protected override receive(msg: ReviewWebviewMessage): void {
    void this.handle(msg).catch((e) => this.fail(e));
  }

  protected override dispose(): void {
    if (ReviewPanel.current === this) ReviewPanel.current = undefined;
    super.dispose();
  }

  private fail(e: unknown): void {
    const text = extensionMessage(e);
    this.post({ type: 'status', text, error: true });
    void vscode.window.showErrorMessage(escapeControls(`Discretion review: ${text}`));
  }

  private async load(store: Store, dataset: string, principle: string | null, pendingOnly: boolean): Promise<void> {
    this.dataset = dataset;
    const q = await reviewQueue(store, dataset, { principle: principle ?? undefined, pendingOnly });
    this.post({ type: 'queue', queue: q });
  }

  private async handle(msg: ReviewWebviewMessage): Promise<void> {
    const store = await this.deps.openStore();
    switch (msg.type) {
      case 'ready': {
        const names = (await store.info()).datasets.map((d) => d.name);
        const current = this.dataset && names.includes(this.dataset) ? this.dataset : (names[0] ?? null);
        this.post({ type: 'datasets', datasets: names, current });
        if (current === null) this.post({ type: 'status', text: 'No datasets in the database yet.' });
        else await this.load(store, current, null, false);
        return;
      }
      case 'load':
        await this.load(store, msg.dataset, msg.principle, msg.pendingOnly);
        return;
      case 'adjudicate': {
        const r = await adjudicate(store, {
          dataset: msg.dataset,
          pair: msg.pair,
          label: msg.label,
          principle: msg.principle ?? undefined,
          rationale: msg.rationale,
        });
        this.post({
          type: 'adjudicated',
          pair: r.pair,
          label: r.label,
          rationale: msg.rationale.trim() ? msg.rationale : null,
        });
        this.post({
          type: 'status',
          text: `pair ${r.pair}: adjudicated ${msg.principle === null ? '' : `principle ${msg.principle} `}${r.label}${r.previous !== null ? ` (was ${r.previous})` : ''}`,
        });
        return;
      }
    }
  }
}

export function registerReviewPanel(context: vscode.ExtensionContext, deps: ReviewDeps): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('discretion.reviewDisagreements', () => {
      if (ReviewPanel.current) {
        ReviewPanel.current.panel.reveal(vscode.ViewColumn.Active);
        return;
      }
      const panel = createPanel(REVIEW);
      ReviewPanel.current = new ReviewPanel(panel, context, deps);
    }),
  );
}
