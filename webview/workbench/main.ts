// The workbench webview: receives one card at a time from the extension host, handles the keys,
// and posts typed messages back. Holds only UI state (getState/setState: dataset and pair).
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-textarea/index.js';
import '../../media/webview.css';
import type { CardView, HostToWebview, WebviewToHost } from '../../src/shared/protocol';
import { renderMarkdownCached } from './markdown';
import { applyState, renderCard, renderModels } from './render';
import { initialState, reduceKey, setGrid, type Effect, type UiState } from './state';

interface VsCodeApi { postMessage(m: WebviewToHost): void; getState(): unknown; setState(s: unknown): void }
declare function acquireVsCodeApi(): VsCodeApi;
declare global { interface Window { __discretionTimings?: number[] } }

const vscode = acquireVsCodeApi();
const root = document.getElementById('card')!;
const status = document.getElementById('status')!;
let card: CardView | null = null;
let ui: UiState | null = null;
let pendingSince: number | null = null;
window.__discretionTimings = [];
/** What was scrolled since the last card (a new card starts at the top; scroll events seen by capture). */
const scrolled = new Set<Element | Document>();
window.addEventListener('scroll', (e) => { if (e.target instanceof Element || e.target instanceof Document) scrolled.add(e.target); }, { passive: true, capture: true });

const post = (m: WebviewToHost) => vscode.postMessage(m);

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
      pendingSince = performance.now();
      post({ type: 'submit', seq: card.seq, pairIdx: card.pairIdx, overall: ui.overall!, grid: ui.grid, rationale: rationaleBox()?.value ?? '', flagged: ui.flagged });
      break;
    case 'skip':
      pendingSince = performance.now();
      post({ type: 'skip', pairIdx: card.pairIdx });
      break;
    case 'advance':
      pendingSince = performance.now();
      post({ type: 'advance' });
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
  setUi(state);
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
  if (e.ctrlKey || e.altKey || e.metaKey) return; // VS Code keybindings (next / previous / undo)
  const handled = /^[1-9]$/.test(e.key) || ['a', 'b', 't', 'x', 'n', 'f', 's', 'r', '?', '0', 'A', 'B', 'T', 'X', 'N', 'F', 'S', 'R', 'Enter', 'Escape', 'Backspace', 'Delete', 'ArrowUp', 'ArrowDown'].includes(e.key);
  if (!handled) return;
  // Enter on a focused button other than the card's own controls behaves as the key map says.
  e.preventDefault();
  key(e.key, e.timeStamp);
});

function painted() {
  if (pendingSince === null || !card) return;
  const since = pendingSince;
  pendingSince = null;
  const seq = card.seq;
  requestAnimationFrame(() => setTimeout(() => {
    const ms = performance.now() - since;
    window.__discretionTimings!.push(ms);
    post({ type: 'painted', seq, ms });
  }, 0));
}

window.addEventListener('message', (event: MessageEvent<HostToWebview>) => {
  const m = event.data;
  if (!m || typeof m !== 'object') return;
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
