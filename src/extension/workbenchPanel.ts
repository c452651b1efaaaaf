// The workbench webview panel: its page (script and styles inlined under the render's nonce, nothing
// loaded by URI), its options and the validation of every incoming message (parseWorkbenchMessage,
// src/shared/workbenchProtocol.ts) are the panel base's (webviewPanelBase.ts); here, what it does.
import * as vscode from 'vscode';
import { extensionMessage } from './errors';
import {
  type CardView,
  type ModelView,
  type SubmitMessage,
  type WorkbenchHostMessage,
  type WorkbenchWebviewMessage,
  parseWorkbenchMessage,
  ReadAheadLists,
} from '../shared/workbenchProtocol';
import { PairTakenError, type WorkbenchSession } from '../app/workbench';
import { type PageContext, type PageParts, WebviewPanelBase, type WebviewKind } from './webviewPanelBase';

/**
 * How long a new panel's page waits for its first card (the session opening meanwhile) to be built with
 * it: VS Code hands a page to the webview's frame only once that frame is up, about 120-450 ms after the
 * panel is created here (npm run bench:e2e), so a card ready within this time costs the open little or
 * nothing. Later, the page goes out without it and the card follows as a message.
 */
const FIRST_CARD_WAIT_MS = 150;

/**
 * The status bar and the Datasets tree follow the labels at most this often (the last count always
 * shows, at most this much later): each update is work on the VS Code window's main thread, which the
 * webview shares, and a quick annotator labels several cards a second.
 */
const PROGRESS_INTERVAL_MS = 1000;

export function workbenchPage({ script, style, data, initial }: PageContext): PageParts {
  return {
    // Script and styles in the page under the nonce: no request through the webview's service worker
    // once the page is written. @vscode-elements' button and textarea load no font or stylesheet (their
    // styles are constructed sheets; codicons only for a button's icon, which none has); data: images:
    // the rationale box's resize grip (a data: PNG in those styles). Dataset text is only ever set as
    // text, so no dataset string can become an image source.
    csp: { script: true, img: 'data:' },
    title: 'Discretion Workbench',
    head: style('workbench.css'),
    body: `<main>
<div id="status" role="status" aria-live="polite">Loading the workbench...</div>
<div id="card" tabindex="-1" aria-label="Pair card" hidden></div>
</main>
${initial !== undefined ? data('first-card', initial) : ''}
${script('workbench.js')}`,
  };
}

export const WORKBENCH: WebviewKind<WorkbenchWebviewMessage> = {
  viewType: 'discretion.workbench',
  title: 'Discretion Workbench',
  name: 'workbench',
  // hidden, the page is dropped; shown again, it restores its dataset and pair from its state ('ready')
  retainContextWhenHidden: false,
  page: workbenchPage,
  parse: parseWorkbenchMessage,
};

export interface PanelHost {
  log: vscode.LogOutputChannel;
  /** Opens a session for the dataset the webview asks to restore (or the default one). */
  openSession(restore: { dataset: string; pairIdx: number } | null): Promise<WorkbenchSession | undefined>;
  onProgress(session: WorkbenchSession): void;
  /** A label from the card was committed (the walkthrough's "label a pair" step). */
  onLabelled(): void;
  /** One information message (a team label refused because the pair got its labels from others). */
  inform(message: string): void;
  /** Another window or process wrote to the database. */
  onStoreChange(listener: () => void): vscode.Disposable;
}

export class WorkbenchPanel extends WebviewPanelBase<WorkbenchHostMessage, WorkbenchWebviewMessage> {
  static current: WorkbenchPanel | undefined;
  session: WorkbenchSession | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  /** A card was shown; the status bar and tree are updated once the webview has painted it. */
  private progressPending = false;
  /** When the status bar and tree were last updated (performance.now()), and the update waiting for its turn. */
  private progressAt = -Infinity;
  private progressTimer: ReturnType<typeof setTimeout> | undefined;
  /** When the webview message now being answered arrived (performance.now()). */
  private answering: number | undefined;
  /** The first card was posted before the webview's first 'ready'. */
  private postedBeforeReady = false;
  private cardPosted = false;
  /** The read-ahead list the page holds: a card of it is sent again by its seq only. */
  private readonly aheadLists = new ReadAheadLists();

  constructor(
    panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly host: PanelHost,
    private pendingSession?: WorkbenchSession | Promise<WorkbenchSession>,
  ) {
    // a new panel's page is built with its first card in it (see post), when that comes soon enough
    super(panel, WORKBENCH, extensionUri, host.log, { deferPage: pendingSession !== undefined });
    if (pendingSession) {
      const wait = setTimeout(() => this.setPage(), FIRST_CARD_WAIT_MS);
      this.disposables.push({ dispose: () => clearTimeout(wait) });
    }
    WorkbenchPanel.current = this;
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'icons', 'discretion.svg');
    this.disposables.push(
      host.onStoreChange(() => void this.session?.writeHeard()), // a session waiting for a freed pair retries
      panel.onDidChangeViewState(
        () => void vscode.commands.executeCommand('setContext', 'discretion.workbenchActive', panel.active),
      ),
    );
    void vscode.commands.executeCommand('setContext', 'discretion.workbenchActive', true);
    // The first card goes out as soon as the session is open, not when the webview says it is ready:
    // in the page itself when the page is not set yet (its script renders it at once), else as a
    // message, which VS Code holds until the page has loaded (not one round trip later either).
    if (pendingSession) void this.enqueue(() => this.showFirst(pendingSession));
  }

  protected override receive(m: WorkbenchWebviewMessage, receivedAt: number): void {
    void this.enqueue(() => this.answer(m, receivedAt));
  }

  private async showFirst(pending: WorkbenchSession | Promise<WorkbenchSession>): Promise<void> {
    let session: WorkbenchSession;
    try {
      session = await pending;
    } catch {
      return; // the command that opened the panel reports the failure and closes it
    }
    this.host.log.info(
      `workbench: session open ${(performance.now() - this.createdAt).toFixed(0)} ms after the panel was created`,
    );
    this.session = session;
    this.pendingSession = undefined;
    this.postedBeforeReady = true;
    await this.show();
  }

  /** Replaces the session (another dataset) and shows its card. */
  useSession(session: WorkbenchSession): Promise<void> {
    return this.enqueue(async () => {
      if (this.session !== session) this.session?.dispose();
      this.session = session;
      await this.show();
    });
  }

  override post(m: WorkbenchHostMessage): void {
    // the first card, reveal or end after a webview message answers it: say how long the host took
    if (this.answering !== undefined && (m.type === 'card' || m.type === 'reveal' || m.type === 'done')) {
      m = { ...m, hostMs: performance.now() - this.answering };
      this.answering = undefined;
    }
    if (!this.pageSet && m.type === 'card') {
      this.setPage(m); // the page's script shows it as it would the message
      return;
    }
    super.post(m);
  }

  /** Runs one action at a time, in arrival order; errors become one line on the card, never a crash. */
  enqueue(fn: () => Promise<void>): Promise<void> {
    const run = async () => {
      try {
        await fn();
      } catch (e) {
        const message = extensionMessage(e);
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
    s.stopWaiting();
    if (card) {
      const inPage = !this.pageSet;
      this.post({ type: 'card', card });
      if (!this.cardPosted)
        this.host.log.info(
          `workbench: first card ${inPage ? 'in the page' : 'posted'} ${(performance.now() - this.createdAt).toFixed(0)} ms after the panel was created`,
        );
      this.cardPosted = true;
      const title = `Discretion: ${s.dataset.name}`;
      if (this.panel.title !== title) this.panel.title = title;
      await s.savePosition();
      // the status bar and tree follow when the webview reports the card painted (see 'painted'),
      // so that VS Code's own UI updates do not compete with painting the card
      this.progressPending = true;
      setTimeout(() => this.flushProgress(), 1000); // cards shown without a key (open, Alt+N) report no paint
    } else {
      this.post({ type: 'done', dataset: s.dataset.name, message: s.doneMessage(), progress: await s.progress() });
      this.host.onProgress(s);
      // team mode, nothing left: the session retries its claim as pairs are freed, in line with the webview's messages
      if (s.isTeam) await s.waitForFreedPair({ run: (step) => this.enqueue(step), onFreed: () => this.freed(s) });
    }
    if (card) await this.postAhead(s);
  }

  /** The next cards of the queue, for the webview to paint at the next submission without waiting. */
  private async postAhead(s: WorkbenchSession): Promise<void> {
    const cards = await s.readAhead();
    if (cards.length > 0) this.post({ type: 'prefetch', cards: this.aheadLists.entries(cards) });
  }

  private flushProgress(): void {
    if (!this.progressPending || !this.session) return;
    const wait = this.progressAt + PROGRESS_INTERVAL_MS - performance.now();
    if (wait > 0) {
      this.progressTimer ??= setTimeout(() => {
        this.progressTimer = undefined;
        this.flushProgress();
      }, wait);
      return;
    }
    this.progressPending = false;
    this.progressAt = performance.now();
    this.host.onProgress(this.session);
  }

  private async answer(m: WorkbenchWebviewMessage, receivedAt: number): Promise<void> {
    this.answering = m.type === 'painted' ? undefined : receivedAt;
    if (m.type === 'ready') {
      this.aheadLists.forget(); // a new page: it holds no list
      this.host.log.info(
        `workbench: webview ready ${(receivedAt - this.createdAt).toFixed(0)} ms after the panel was created (restore ${JSON.stringify(m.restore)})`,
      );
      if (this.postedBeforeReady) {
        this.postedBeforeReady = false; // its first card is already on its way; a later 'ready' (a reload) shows the card again
        return;
      }
      if (!this.session) this.session = (await this.pendingSession) ?? (await this.host.openSession(m.restore));
      this.pendingSession = undefined;
      if (!this.session) {
        this.post({
          type: 'error',
          message: 'No dataset to label: run "Discretion: Import Dataset..." or "Discretion: Open Sample Dataset".',
        });
        return;
      }
      if (this.session.current === undefined)
        await this.session.start(
          m.restore && m.restore.dataset === this.session.dataset.name ? m.restore.pairIdx : undefined,
        );
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
      case 'submit':
        await this.submit(s, m);
        return;
      case 'advance':
      case 'skip':
        if (!(await s.move('next'))) {
          if (s.claimMode && s.current !== undefined) {
            // team mode: the claimed pair stays this annotator's until it is labelled (or its claim expires)
            if (m.type === 'skip')
              void vscode.window.setStatusBarMessage(
                'Discretion: pairs of a split dataset are handed out one at a time; this one is yours until you label it',
                4000,
              );
            await this.show();
            return;
          }
          this.post({
            type: 'done',
            dataset: s.dataset.name,
            message: 'End of the queue.',
            progress: await s.progress(),
          });
          return;
        }
        await this.show();
        return;
      case 'navigate':
        await this.move(m.direction);
        return;
      case 'undo':
        await this.undoLast();
        return;
    }
  }

  /**
   * A label from the webview. It may have painted the next card already (the first read ahead):
   * then the commit is only acknowledged ('saved'), else the next card follows it. A label not
   * saved brings the webview back to its pair ('saveFailed', with a fresh card to submit from).
   */
  private async submit(s: WorkbenchSession, m: SubmitMessage): Promise<void> {
    let models: ModelView[];
    try {
      models = await s.submit(m);
    } catch (e) {
      if (e instanceof PairTakenError) {
        // nothing was stored and the session holds its next claim: one information message, then that card
        this.host.log.info(`workbench: ${e.message}`);
        this.host.inform(e.message);
        this.post({ type: 'saveFailed', pairIdx: m.pairIdx, seq: m.seq, message: e.message, card: null });
        await this.show();
        return;
      }
      const message = extensionMessage(e);
      this.host.log.error(`workbench: the label of pair ${m.pairIdx} was not saved: ${(e as Error)?.stack ?? e}`);
      let card: CardView | undefined;
      try {
        if (await s.goTo(m.pairIdx)) card = await s.card();
      } catch (again) {
        this.host.log.error(
          `workbench: pair ${m.pairIdx} could not be read again: ${(again as Error)?.stack ?? again}`,
        );
      }
      this.post({ type: 'saveFailed', pairIdx: m.pairIdx, seq: m.seq, message, card: card ?? null });
      if (card) {
        await s.savePosition();
        await this.postAhead(s);
      }
      return;
    }
    // committed: acknowledged at once, whatever comes next (a reveal, the next card or nothing)
    this.post({ type: 'saved', pairIdx: m.pairIdx, seq: m.seq, progress: await s.progress() });
    this.host.onLabelled();
    if (models.length > 0) {
      this.post({ type: 'reveal', pairIdx: m.pairIdx, models });
      this.host.onProgress(s);
      return;
    }
    if (!(await s.follow(m.pairIdx, m.ahead))) {
      await this.show();
      return;
    }
    // the webview shows the card read ahead: it is the current pair now (the position moves only
    // with a committed label, so a crash resumes at or before every label still in flight)
    await s.savePosition();
    this.progressPending = true;
    this.flushProgress();
    await this.postAhead(s);
  }

  /**
   * Next / previous / undo from a keybinding or the palette: sent through the webview while it is
   * shown, so that they reach the host after the labels it has in flight (in the order pressed).
   */
  async navigate(direction: 'next' | 'previous'): Promise<void> {
    if (this.panel.visible) this.post({ type: 'command', command: direction });
    else await this.move(direction);
  }

  async undo(): Promise<void> {
    if (this.panel.visible) this.post({ type: 'command', command: 'undo' });
    else await this.undoLast();
  }

  private async move(direction: 'next' | 'previous'): Promise<void> {
    const s = this.session;
    if (!s) return;
    if (!(await s.move(direction))) {
      void vscode.window.setStatusBarMessage(
        direction === 'next' ? 'Discretion: no next pair in this queue' : 'Discretion: no previous pair in this queue',
        3000,
      );
    }
    await this.show();
  }

  async goTo(pairIdx: number): Promise<void> {
    const s = this.session;
    if (!s) return;
    if (!(await s.goTo(pairIdx))) {
      void vscode.window.setStatusBarMessage(`Discretion: dataset ${s.dataset.name} has no pair ${pairIdx}`, 3000);
      return;
    }
    await this.show();
  }

  private async undoLast(): Promise<void> {
    const s = this.session;
    if (!s) return;
    if (!(await s.undo())) {
      void vscode.window.setStatusBarMessage('Discretion: nothing to undo', 3000);
      return;
    }
    await this.show();
  }

  private async freed(s: WorkbenchSession): Promise<void> {
    this.host.log.info(`workbench: a pair of ${s.dataset.name} was freed for this annotator (pair ${s.current})`);
    await this.show();
  }

  protected override dispose(): void {
    clearTimeout(this.progressTimer);
    if (WorkbenchPanel.current === this) WorkbenchPanel.current = undefined;
    this.session?.dispose();
    void vscode.commands.executeCommand('setContext', 'discretion.workbenchActive', false);
    super.dispose();
  }
}
