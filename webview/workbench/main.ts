// The workbench webview: receives one card at a time from the extension host, handles the keys,
// and posts typed messages back. Holds only UI state (getState/setState: dataset and pair).
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-textarea/index.js';
import '../../media/webview.css';
import {
  ReadAheadLists,
  type CardView,
  type WorkbenchHostMessage,
  type WorkbenchWebviewMessage,
} from '../../src/shared/workbenchProtocol';
import { sanitizeResponseCached } from './markdown';
import { LabelLedger } from './labels';
import { applyState, renderCard, renderModels, renderProgress, renderSaveState, showBusy } from './render';
import { initialState, reduceKey, setGrid, type Effect, type UiState } from './state';

interface VsCodeApi {
  postMessage(m: WorkbenchWebviewMessage): void;
  getState(): unknown;
  setState(s: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;
/** One card shown after a key: milliseconds from the keystroke to each step (for the benchmarks). */
interface PaintTiming {
  posted: number;
  received: number;
  host: number;
  rendered: number;
  painted: number;
}
declare global {
  interface Window {
    __discretionTimings?: number[];
    __discretionPhases?: PaintTiming[];
    __discretionFirstPaint?: number;
    __discretionCommits?: number[];
  }
}

// for the benchmark's open steps (npm run bench:e2e): the bundle's modules have run
performance.mark('discretion/main');
const vscode = acquireVsCodeApi();
const root = document.getElementById('card')!;
const status = document.getElementById('status')!;
let card: CardView | null = null;
let ui: UiState | null = null;
const ledger = new LabelLedger();
/** The host's read-ahead lists, whose cards it sends once (see ReadAheadLists). */
const aheadLists = new ReadAheadLists();
/** When each label in flight was submitted (by card seq): keystroke -> committed, for the benchmark. */
const submittedAt = new Map<number, number>();
/** The pair brought back after a refused label, until it is submitted again (later refusals wait as drafts). */
let failedShown: number | null = null;
let pendingSince: number | null = null;
/** When the message the pending card answers was posted, and when that card arrived (host time included). */
let postedAt = 0;
let arrived: { at: number; hostMs: number } | null = null;
window.__discretionTimings = [];
window.__discretionPhases = [];
window.__discretionCommits = [];
/** What was scrolled since the last card (a new card starts at the top; scroll events seen by capture). */
const scrolled = new Set<Element | Document>();
window.addEventListener(
  'scroll',
  (e) => {
    if (e.target instanceof Element || e.target instanceof Document) scrolled.add(e.target);
  },
  { passive: true, capture: true },
);

/**
 * What waits for the frame that paints a card: the submission whose next card was painted at the
 * keystroke (from the cards read ahead), and the page's state and title. Posting passes through VS
 * Code's window, whose main thread this card shares, and a submission starts the host's commit, whose
 * answers come back the same way: sent after that frame, none of it competes with the paint. Nothing
 * is acknowledged meanwhile (the label shows "saving..." until the host's 'saved'). Any other message
 * sends them first, so the host sees every message in the order of the keys; so does a key the card
 * does not handle (VS Code's keybindings may hide or close the panel) and the page being hidden.
 */
const afterPaint = {
  messages: [] as WorkbenchWebviewMessage[],
  state: undefined as { dataset: string; pairIdx: number } | undefined,
  title: undefined as string | undefined,
  /** Run after the frame, before the messages go (the benchmark clocks; a post before then sends only the messages). */
  then: [] as (() => void)[],
  scheduled: false,
};

/** Sends what waits for the paint, now: the messages in order, then the state and title. */
function flushAfterPaint() {
  for (const m of afterPaint.messages.splice(0)) vscode.postMessage(m);
  const state = afterPaint.state;
  // (each setState is a message through VS Code's window: only a state that changed goes)
  if (state && (state.dataset !== savedState?.dataset || state.pairIdx !== savedState.pairIdx)) {
    vscode.setState(state);
    savedState = state;
  }
  if (afterPaint.title !== undefined) document.title = afterPaint.title;
  afterPaint.state = afterPaint.title = undefined;
}

/** After the next frame (requestAnimationFrame, then a task); the messages of a page with no frames (hidden) after 200 ms. */
function scheduleAfterPaint() {
  if (afterPaint.scheduled) return;
  afterPaint.scheduled = true;
  const painted = () => {
    if (!afterPaint.scheduled) return;
    afterPaint.scheduled = false;
    for (const f of afterPaint.then.splice(0)) f(); // (they may add messages)
    flushAfterPaint();
  };
  requestAnimationFrame(() => setTimeout(painted, 0));
  // (the messages only: the clocks wait for the frame, however late)
  setTimeout(flushAfterPaint, 200);
}

const post = (m: WorkbenchWebviewMessage) => {
  flushAfterPaint();
  vscode.postMessage(m);
};
/** The state last given to VS Code. */
let savedState: { dataset: string; pairIdx: number } | undefined;
/** The page's state (what a reload restores), saved after the next paint. */
function saveState(state: { dataset: string; pairIdx: number }) {
  afterPaint.state = state;
  scheduleAfterPaint();
}
window.addEventListener('pagehide', flushAfterPaint);
document.addEventListener('visibilitychange', () => document.hidden && flushAfterPaint());
/** Posts a message whose answer is the next card (or a reveal): the timing starts here. */
function postAwaitingCard(m: WorkbenchWebviewMessage) {
  postedAt = performance.now();
  pendingSince = Math.min(postedAt, keyAt ?? postedAt);
  arrived = null;
  post(m);
}

/** Paints a card now (from the host, or the one read ahead at a submission). */
function showCard(next: CardView, draft?: { label: { ui: UiState; rationale: string }; message: string } | null) {
  if (pendingSince === null && keyAt !== undefined) pendingSince = keyAt;
  card = next;
  ledger.shows(next);
  if (!status.hidden) {
    status.textContent = '';
    status.hidden = true;
  }
  root.hidden = false;
  renderCard(root, next, handlers);
  const own = draft ?? ledger.takeDraft(next.pairIdx);
  if (own) {
    const box = rationaleBox();
    if (box) box.value = own.label.rationale;
    setUi({
      ...own.label.ui,
      pairIdx: next.pairIdx,
      busy: false,
      revealed: null,
      notice: `Not saved: ${own.message} Submit again with Enter.`,
    });
  } else setUi(initialState(next));
  showSaveState();
  saveState({ dataset: next.dataset, pairIdx: ledger.firstPendingPair() ?? next.pairIdx });
  afterPaint.title = `Pair ${next.sourceId}`;
  // after every change to the card, so that at most one layout happens before the paint
  if (document.activeElement !== root) root.focus({ preventScroll: true });
  for (const t of scrolled) {
    if (t instanceof Document) window.scrollTo(0, 0);
    else t.scrollTop = 0;
  }
  scrolled.clear();
  if (window.__discretionFirstPaint === undefined) {
    window.__discretionFirstPaint = 0;
    performance.mark('discretion/firstCardRendered');
    // wall-clock time of the first card's paint, comparable with the benchmark's clock
    afterPaint.then.push(() => {
      window.__discretionFirstPaint = performance.timeOrigin + performance.now();
    });
  }
  painted();
  scheduleAfterPaint();
}

function showSaveState() {
  renderSaveState(root, ledger.saveState(), ledger.inFlight);
  if (card) {
    const progress = ledger.progress();
    if (progress.labelled !== card.progress.labelled || progress.total !== card.progress.total) {
      card = { ...card, progress };
      renderProgress(root, card);
    }
  }
}

function rationaleBox(): (HTMLElement & { value: string }) | null {
  return root.querySelector('#rationale');
}

function setUi(next: UiState) {
  ui = next;
  applyState(root, next);
}

function run(effect: Effect) {
  if (!effect || !card || !ui) return;
  switch (effect.kind) {
    case 'submit': {
      const rationale = rationaleBox()?.value ?? '';
      const label = { seq: card.seq, card, ui: { ...ui, busy: false, notice: '' }, rationale };
      if (failedShown === card.pairIdx) failedShown = null;
      // the card read ahead is painted now; the label is committed by the host meanwhile
      const next = ledger.submit(label);
      const m = {
        type: 'submit' as const,
        seq: card.seq,
        pairIdx: card.pairIdx,
        overall: ui.overall!,
        grid: ui.grid,
        rationale,
        flagged: ui.flagged,
        ahead: next?.seq ?? null,
      };
      submittedAt.set(card.seq, keyAt ?? performance.now());
      if (next) {
        afterPaint.messages.push(m); // sent once the next card is painted (see afterPaint)
        arrived = null; // painted at the keystroke: no host steps to time
        paintedAtKey = true;
        showCard(next);
      } else {
        postAwaitingCard(m);
        showSaveState();
      }
      break;
    }
    case 'skip':
      postAwaitingCard({ type: 'skip', pairIdx: card.pairIdx });
      break;
    case 'advance':
      postAwaitingCard({ type: 'advance' });
      break;
    case 'focusRationale':
      rationaleBox()?.focus();
      break;
  }
}

const handlers = {
  overall: (choice: NonNullable<UiState['overall']>) =>
    ui && !ui.busy && setUi({ ...ui, overall: choice, selectedRow: null }),
  grid: (row: number, value: UiState['grid'][number]) => ui && !ui.busy && setUi(setGrid(ui, row, value)),
  submit: () => ui && key('Enter'),
  skip: () => ui && key('s'),
  flag: () => ui && setUi({ ...ui, flagged: !ui.flagged }),
  advance: () => ui && key('Enter'),
};

/** `at`: when the key was pressed (the event's timestamp), so the timing starts at the keystroke. */
function key(k: string, at?: number) {
  if (!ui) return;
  const { state, effect } = reduceKey(ui, k);
  if (effect && effect.kind !== 'focusRationale') {
    // Leaving this card: its DOM stays as it is (a change would make the page render a frame
    // before VS Code passes the message on); the answer redraws it, or an error applies `ui`.
    ui = state;
    showBusy(root, true);
  } else setUi(state);
  keyAt = at;
  run(effect);
  keyAt = undefined;
}

/** The keystroke's time while its effect runs (event timestamp), so that timings start at the key. */
let keyAt: number | undefined;

function isTextEntry(e: Event): boolean {
  const t = e.composedPath()[0] as HTMLElement | undefined;
  return !!t && (t.tagName === 'TEXTAREA' || t.tagName === 'INPUT' || t.isContentEditable);
}

window.addEventListener('keydown', (e) => {
  // VS Code's keybindings (any key the card does not handle) may hide or close the panel: the labels go first
  if (!isCardKey(e)) flushAfterPaint();
  if (!ui) return;
  if (isTextEntry(e)) {
    // Typing in the rationale never triggers actions; Esc leaves the box.
    if (e.key === 'Escape') {
      e.preventDefault();
      root.focus();
    }
    return;
  }
  if (!isCardKey(e)) return;
  // Enter on a focused button other than the card's own controls behaves as the key map says.
  e.preventDefault();
  keepFromWorkbench(e);
  key(e.key, e.timeStamp);
});
window.addEventListener('keyup', (e) => {
  if (ui && !isTextEntry(e) && isCardKey(e)) keepFromWorkbench(e);
});

/** The card's own keys (modified keys are VS Code keybindings: next / previous / undo). */
function isCardKey(e: KeyboardEvent): boolean {
  if (e.ctrlKey || e.altKey || e.metaKey) return false;
  return (
    /^[1-9]$/.test(e.key) ||
    [
      'a',
      'b',
      't',
      'x',
      'n',
      'f',
      's',
      'r',
      '?',
      '0',
      'A',
      'B',
      'T',
      'X',
      'N',
      'F',
      'S',
      'R',
      'Enter',
      'Escape',
      'Backspace',
      'Delete',
      'ArrowUp',
      'ArrowDown',
    ].includes(e.key)
  );
}

/**
 * VS Code's webview frame forwards every key to the workbench for its keybindings, on the same
 * main thread as this card; a key the card handled (Esc aside) has no binding there, so it stops here.
 * (Our listener was added before VS Code's, so stopping it skips theirs.)
 */
function keepFromWorkbench(e: KeyboardEvent): void {
  if (e.key !== 'Escape') e.stopImmediatePropagation();
}

/**
 * After a key's answer is on screen: measures keystroke -> painted, "painted" being the first task after
 * the frame that follows the DOM change (requestAnimationFrame, then a task: that frame has been committed).
 * The host hears of the paint of a card it sent (its status bar and tree wait for it); a card painted at
 * the keystroke needs no word: its submission, sent after the paint, is that word.
 */
function painted() {
  const local = paintedAtKey;
  paintedAtKey = false;
  if (pendingSince === null || !card) return;
  const since = pendingSince;
  pendingSince = null;
  const seq = card.seq;
  const rendered = performance.now();
  const got = arrived;
  afterPaint.then.push(() => {
    const ms = performance.now() - since;
    window.__discretionTimings!.push(ms);
    if (got)
      window.__discretionPhases!.push({
        posted: postedAt - since,
        received: got.at - since,
        host: got.hostMs,
        rendered: rendered - since,
        painted: ms,
      });
    if (!local) afterPaint.messages.push({ type: 'painted', seq, ms });
  });
  scheduleAfterPaint();
}
/** The card being shown was painted at a submission's keystroke, from the cards read ahead. */
let paintedAtKey = false;

/** Responses of the cards read ahead, to sanitise while the page is idle (see prepare). */
const toPrepare: string[] = [];

/**
 * Sanitises these responses while the page is idle, a few at a time (sanitizeResponseCached remembers
 * them), so that painting a card read ahead is only a swap and the work never delays a frame or a key.
 */
function prepare(htmls: string[]) {
  const idle = toPrepare.length > 0;
  toPrepare.push(...htmls);
  if (!idle) whenIdle(prepareSome);
}

function prepareSome(deadline?: IdleDeadline) {
  do sanitizeResponseCached(toPrepare.shift()!);
  while (toPrepare.length > 0 && (deadline?.timeRemaining() ?? 0) > 3);
  if (toPrepare.length > 0) whenIdle(prepareSome);
}

const whenIdle = (f: (deadline?: IdleDeadline) => void) =>
  typeof requestIdleCallback === 'function' ? requestIdleCallback(f, { timeout: 1000 }) : setTimeout(f, 0);

let firstMessage = true;
window.addEventListener('message', (event: MessageEvent<WorkbenchHostMessage>) => {
  if (firstMessage) {
    firstMessage = false;
    performance.mark('discretion/firstMessage');
  }
  receive(event.data);
});

/** A message from the host (or the first card the page was built with). */
function receive(m: WorkbenchHostMessage) {
  if (!m || typeof m !== 'object') return;
  if (pendingSince !== null && (m.type === 'card' || m.type === 'reveal' || m.type === 'done'))
    arrived = { at: performance.now(), hostMs: m.hostMs ?? NaN };
  switch (m.type) {
    case 'card':
      ledger.hostCard(m.card);
      showCard(m.card);
      break;
    case 'prefetch':
      ledger.readAhead(aheadLists.cards(m.cards));
      // the new cards' responses sanitised while the page is idle, so that painting one is only a swap
      prepare(m.cards.flatMap((c) => (typeof c === 'number' ? [] : [c.responseAHtml, c.responseBHtml])));
      break;
    case 'saved': {
      ledger.saved(m.seq, m.progress);
      const at = submittedAt.get(m.seq);
      submittedAt.delete(m.seq);
      if (at !== undefined) window.__discretionCommits!.push(performance.now() - at);
      if (card) saveState({ dataset: card.dataset, pairIdx: ledger.firstPendingPair() ?? card.pairIdx });
      showSaveState();
      break;
    }
    case 'saveFailed': {
      submittedAt.delete(m.seq);
      const label = ledger.failed(m.seq);
      if (!m.card) {
        // the pair could not be read again: the label stays on screen in the notice's words
        if (ui) setUi({ ...ui, busy: false, notice: `Not saved: ${m.message}` });
        else {
          status.hidden = false;
          status.textContent = m.message;
        }
        showSaveState();
        break;
      }
      if (failedShown !== null && failedShown !== m.pairIdx && label) {
        // the annotator is already back on an earlier refused pair: this one waits for its card
        ledger.keepDraft(m.pairIdx, label, m.message);
        showSaveState();
        break;
      }
      failedShown = m.pairIdx;
      pendingSince = null;
      ledger.hostCard(m.card);
      showCard(
        { ...m.card, progress: ledger.progress() },
        label
          ? { label, message: m.message }
          : { label: { ui: initialState(m.card), rationale: m.card.existing?.rationale ?? '' }, message: m.message },
      );
      break;
    }
    case 'reveal':
      if (card && ui && card.pairIdx === m.pairIdx) {
        renderModels(root, m.models, true);
        setUi({ ...ui, busy: false, revealed: m.models });
        painted();
      }
      break;
    case 'done':
      ledger.done(m.dataset, m.progress);
      card = null;
      ui = null;
      root.hidden = true;
      status.hidden = false;
      status.textContent = `${m.message} (${m.progress.labelled} / ${m.progress.total} labelled in ${m.dataset})`;
      painted();
      break;
    case 'error':
      if (ui) setUi({ ...ui, busy: false, notice: m.message });
      else {
        status.hidden = false;
        status.textContent = m.message;
      }
      break;
    case 'command':
      // after the labels posted before it: the host answers them first
      if (m.command === 'next' || m.command === 'previous') {
        post({ type: 'navigate', direction: m.command });
        break;
      }
      if (m.command === 'undo') {
        post({ type: 'undo' });
        break;
      }
      if (!ui) break;
      if (m.command === 'toggleFlag') setUi({ ...ui, flagged: !ui.flagged });
      else if (m.command === 'focusRationale') rationaleBox()?.focus();
      else if (m.command === 'submit') key('Enter');
      break;
  }
}

// The first card, when the host had it before the page was built: in the page as JSON (every `<` escaped
// there), shown now as the 'card' message would be, so the first paint does not wait for a message.
const first = document.getElementById('first-card');
if (first) {
  first.remove();
  receive(JSON.parse(first.textContent ?? 'null') as WorkbenchHostMessage);
}

const saved = vscode.getState() as { dataset?: unknown; pairIdx?: unknown } | undefined;
post({
  type: 'ready',
  restore:
    saved && typeof saved.dataset === 'string' && typeof saved.pairIdx === 'number'
      ? { dataset: saved.dataset, pairIdx: saved.pairIdx }
      : null,
});
