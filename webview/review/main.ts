// The review webview: the pairs whose human labels disagree, each annotator's label and rationale side by side,
// and the adjudication buttons and keys. Every dataset string is inserted as text (textContent), never as HTML.
import {
  reviewLabelWords,
  type ReviewHostMessage,
  type ReviewQueueView,
  type ReviewWebviewMessage,
} from '../../src/shared/reviewProtocol';

declare function acquireVsCodeApi(): { postMessage(m: ReviewWebviewMessage): void };
const vscode = acquireVsCodeApi();

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const datasetSel = $<HTMLSelectElement>('dataset');
const principleInput = $<HTMLInputElement>('principle');
const pendingBox = $<HTMLInputElement>('pending');
const status = $<HTMLSpanElement>('status');
const itemsEl = $<HTMLElement>('items');
let queue: ReviewQueueView | null = null;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, cls?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function setStatus(text: string, error = false): void {
  status.textContent = text;
  status.classList.toggle('error', error);
}

function load(): void {
  if (!datasetSel.value) return;
  const principle = principleInput.value.trim();
  vscode.postMessage({
    type: 'load',
    dataset: datasetSel.value,
    principle: principle || null,
    pendingOnly: pendingBox.checked,
  });
  setStatus('Loading…');
}

const WORD_LABEL: Record<string, string> = {
  y0: 'y0 (first response)',
  y1: 'y1 (second response)',
  tie: 'Tie',
  'both-bad': 'Both bad',
  neither: 'Neither',
};

function adjudicateFrom(card: HTMLElement, label: string): void {
  if (!queue) return;
  const rationale = card.querySelector<HTMLInputElement>('input.rationale')?.value ?? '';
  vscode.postMessage({
    type: 'adjudicate',
    dataset: queue.dataset,
    pair: card.dataset.pair ?? '',
    principle: queue.principle,
    label,
    rationale,
  });
  setStatus(`Saving pair ${card.dataset.pair ?? ''}…`);
}

function adjudicatedText(a: { label: string; rationale: string | null } | null): string {
  return a ? `Adjudicated: ${a.label}${a.rationale ? ` (${a.rationale})` : ''}` : 'Not adjudicated yet';
}

function render(q: ReviewQueueView): void {
  queue = q;
  itemsEl.replaceChildren();
  const what = q.principle === null ? 'overall labels' : `labels of principle ${q.principle}`;
  setStatus(
    `${q.dataset}: ${q.disagreeing} of ${q.pairs} pairs where the human ${what} disagree; ${q.adjudicated} adjudicated`,
  );
  const words = reviewLabelWords(q.principle);
  for (const item of q.items) {
    const card = el('section', undefined, 'item');
    card.tabIndex = 0;
    card.dataset.pair = item.pair;
    card.setAttribute('aria-label', `Pair ${item.pair}`);
    card.append(el('h2', `Pair ${item.pair} (index ${item.pairIdx})`), el('pre', item.prompt, 'text'));
    const responses = el('div', undefined, 'responses');
    for (const [name, text] of [
      ['y0', item.y0],
      ['y1', item.y1],
    ] as const) {
      const col = el('div');
      col.append(el('strong', name), el('pre', text, 'text'));
      responses.append(col);
    }
    card.append(responses);
    const table = el('table');
    const head = el('tr');
    for (const h of [
      'Annotator',
      q.principle === null ? 'Label' : q.principle,
      ...(q.principle === null ? [] : ['Overall']),
      'Rationale',
    ])
      head.append(el('th', h));
    table.append(head);
    for (const l of item.labels) {
      const tr = el('tr');
      tr.append(el('td', l.annotator), el('td', (q.principle === null ? l.overall : l.principle) || '–'));
      if (q.principle !== null) tr.append(el('td', l.overall || '–'));
      tr.append(el('td', `${l.flagged ? '[flagged] ' : ''}${l.rationale ?? ''}`, 'rationale'));
      table.append(tr);
    }
    card.append(table, el('p', adjudicatedText(item.adjudicated), 'adjudicated'));
    const actions = el('div', undefined, 'actions');
    const rationale = el('input', undefined, 'rationale');
    rationale.type = 'text';
    rationale.placeholder = 'Rationale (optional)';
    rationale.setAttribute('aria-label', `Rationale for pair ${item.pair}`);
    actions.append(rationale);
    for (const w of words) {
      const b = el('button', WORD_LABEL[w] ?? w);
      b.type = 'button';
      b.dataset.label = w;
      actions.append(b);
    }
    card.append(actions);
    itemsEl.append(card);
  }
  if (q.items.length === 0) itemsEl.append(el('p', 'No pairs to review.'));
}

window.addEventListener('message', (e: MessageEvent<ReviewHostMessage>) => {
  const m = e.data;
  if (!m || typeof m !== 'object') return;
  if (m.type === 'datasets') {
    datasetSel.replaceChildren(
      ...m.datasets.map((d) => {
        const o = el('option', d);
        o.value = d;
        return o;
      }),
    );
    if (m.current !== null) datasetSel.value = m.current;
  } else if (m.type === 'queue') {
    render(m.queue);
  } else if (m.type === 'adjudicated') {
    const item = queue?.items.find((i) => i.pair === m.pair);
    if (item && queue) {
      if (item.adjudicated === null) queue.adjudicated++;
      item.adjudicated = { label: m.label, rationale: m.rationale };
    }
    const card = Array.from(itemsEl.querySelectorAll<HTMLElement>('section.item')).find(
      (c) => c.dataset.pair === m.pair,
    );
    const p = card?.querySelector('p.adjudicated');
    if (p) p.textContent = adjudicatedText({ label: m.label, rationale: m.rationale });
  } else if (m.type === 'status') {
    setStatus(m.text, !!m.error);
  }
});

itemsEl.addEventListener('click', (e) => {
  const b = (e.target as HTMLElement).closest<HTMLButtonElement>('button[data-label]');
  const card = b?.closest<HTMLElement>('section.item');
  if (b && card) adjudicateFrom(card, b.dataset.label ?? '');
});

const KEYS: Record<string, string> = { '0': 'y0', '1': 'y1', t: 'tie', x: 'both-bad' };
itemsEl.addEventListener('keydown', (e) => {
  const target = e.target as HTMLElement;
  if (target.tagName === 'INPUT' || e.altKey || e.ctrlKey || e.metaKey) return; // typing a rationale
  const card = target.closest<HTMLElement>('section.item');
  if (!card || !queue) return;
  const key = e.key.toLowerCase();
  if (key === 'j' || key === 'k') {
    const sibling = (key === 'j' ? card.nextElementSibling : card.previousElementSibling) as HTMLElement | null;
    sibling?.focus();
    e.preventDefault();
    return;
  }
  let word = KEYS[key];
  if (word && queue.principle !== null) word = key === 'x' ? 'neither' : key === 't' ? '' : word;
  if (word) {
    adjudicateFrom(card, word);
    e.preventDefault();
  }
});

$('reload').addEventListener('click', load);
datasetSel.addEventListener('change', load);
principleInput.addEventListener('keydown', (e) => {
  if (e.key === 'Enter') load();
});

vscode.postMessage({ type: 'ready' });
