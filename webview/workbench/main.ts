// The workbench webview: receives one card at a time from the extension host, handles the keys,
// and posts typed messages back. Holds only UI state (getState/setState: dataset and pair).
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-textarea/index.js';
import '../../media/webview.css';
import type { CardView, HostToWebview, WebviewToHost } from '../../src/shared/protocol';
import { renderMarkdownCached } from './markdown';
import { applyState, renderCard, renderModels, showBusy } from './render';
import { initialState, reduceKey, setGrid, type Effect, type UiState } from './state';

interface VsCodeApi { postMessage(m: WebviewToHost): void; getState(): unknown; setState(s: unknown): void }
declare function acquireVsCodeApi(): VsCodeApi;
/** One card shown after a key: milliseconds from the keystroke to each step (for the benchmarks). */
interface PaintTiming { posted: number; received: number; host: number; rendered: number; painted: number }
declare global { interface Window { __discretionTimings?: number[]; __discretionPhases?: PaintTiming[]; __discretionFirstPaint?: number } }

const vscode = acquireVsCodeApi();
const root = document.getElementById('card')!;
const status = document.getElementById('status')!;
let card: CardView | null = null;
let ui: UiState | null = null;
let pendingSince: number | null = null;
/** When the message the pending card answers was posted, and when that card arrived (host time included). */
let postedAt = 0;
let arrived: { at: number; hostMs: number } | null = null;
window.__discretionTimings = [];
window.__discretionPhases = [];
/** What was scrolled since the last card (a new card starts at the top; scroll events seen by capture). */
const scrolled = new Set<Element | Document>();
window.addEventListener('scroll', (e) => { if (e.target instanceof Element || e.target instanceof Document) scrolled.add(e.target); }, { passive: true, capture: true });

const post = (m: WebviewToHost) => vscode.postMessage(m);
/** Posts a message whose answer is the next card (or a reveal): the timing starts here. */
function postAwaitingCard(m: WebviewToHost) {
  pendingSince = postedAt = performance.now();
  arrived = null;
  post(m);
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
    case 'submit':
      postAwaitingCard({ type: 'submit', seq: card.seq, pairIdx: card.pairIdx, overall: ui.overall!, grid: ui.grid, rationale: rationaleBox()?.value ?? '', flagged: ui.flagged });
      break;
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
  overall: (choice: NonNullable<UiState['overall']>) => ui && !ui.busy && setUi({ ...ui, overall: choice, selectedRow: null }),
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
  run(effect);
  if (effect && effect.kind !== 'focusRationale' && at !== undefined && pendingSince !== null) pendingSince = Math.min(pendingSince, at);
}

function isTextEntry(e: Event): boolean {
  const t = e.composedPath()[0] as HTMLElement | undefined;
  return !!t && (t.tagName === 'TEXTAREA' || t.tagName === 'INPUT' || t.isContentEditable);
}

window.addEventListener('keydown', (e) => {
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
  return /^[1-9]$/.test(e.key) || ['a', 'b', 't', 'x', 'n', 'f', 's', 'r', '?', '0', 'A', 'B', 'T', 'X', 'N', 'F', 'S', 'R', 'Enter', 'Escape', 'Backspace', 'Delete', 'ArrowUp', 'ArrowDown'].includes(e.key);
}

/**
 * VS Code's webview frame forwards every key to the workbench for its keybindings, on the same
 * main thread as this card; a key the card handled (Esc aside) has no binding there, so it stops here.
 * (Our listener was added before VS Code's, so stopping it skips theirs.)
 */
function keepFromWorkbench(e: KeyboardEvent): void {
  if (e.key !== 'Escape') e.stopImmediatePropagation();
}

/** After a key's answer is on screen: measures keystroke -> painted (the frame after the DOM change). */
function painted() {
  if (pendingSince === null || !card) return;
  const since = pendingSince;
  pendingSince = null;
  const seq = card.seq;
  const rendered = performance.now();
  const got = arrived;
  requestAnimationFrame(() => setTimeout(() => {
    const now = performance.now();
    const ms = now - since;
    window.__discretionTimings!.push(ms);
    if (got) window.__discretionPhases!.push({ posted: postedAt - since, received: got.at - since, host: got.hostMs, rendered: rendered - since, painted: ms });
    post({ type: 'painted', seq, ms });
  }, 0));
}

window.addEventListener('message', (event: MessageEvent<HostToWebview>) => {
  const m = event.data;
  if (!m || typeof m !== 'object') return;
  if (pendingSince !== null && (m.type === 'card' || m.type === 'reveal' || m.type === 'done')) arrived = { at: performance.now(), hostMs: m.hostMs ?? NaN };
  switch (m.type) {
    case 'card': {
      card = m.card;
      status.textContent = '';
      status.hidden = true;
      root.hidden = false;
      renderCard(root, card, handlers);
      setUi(initialState(card));
      vscode.setState({ dataset: card.dataset, pairIdx: card.pairIdx });
      document.title = `Pair ${card.sourceId}`;
      // after every change to the card, so that at most one layout happens before the paint
      if (document.activeElement !== root) root.focus({ preventScroll: true });
      for (const t of scrolled) {
        if (t instanceof Document) window.scrollTo(0, 0);
        else t.scrollTop = 0;
      }
      scrolled.clear();
      if (window.__discretionFirstPaint === undefined) {
        window.__discretionFirstPaint = 0;
        // wall-clock time of the first card's paint, comparable with the benchmark's clock
        requestAnimationFrame(() => setTimeout(() => { window.__discretionFirstPaint = performance.timeOrigin + performance.now(); }, 0));
      }
      painted();
      break;
    }
    case 'prefetch': {
      // The next card, read ahead by the host: render its Markdown once this card has painted, so
      // that showing it later (when a 'card' message brings it, after the write) is only a swap.
      const next = m.card;
      requestAnimationFrame(() => setTimeout(() => {
        renderMarkdownCached(next.responseA);
        renderMarkdownCached(next.responseB);
      }, 0));
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
      if (!ui) break;
      if (m.command === 'toggleFlag') setUi({ ...ui, flagged: !ui.flagged });
      else if (m.command === 'focusRationale') rationaleBox()?.focus();
      else if (m.command === 'submit') key('Enter');
      break;
  }
});

const saved = vscode.getState() as { dataset?: unknown; pairIdx?: unknown } | undefined;
post({ type: 'ready', restore: saved && typeof saved.dataset === 'string' && typeof saved.pairIdx === 'number' ? { dataset: saved.dataset, pairIdx: saved.pairIdx } : null });
