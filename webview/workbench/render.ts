// DOM for the pair card. Dataset text only ever reaches the DOM through textContent or, for a response's
// HTML from the host, through sanitizeResponse (DOMPurify).
import { OVERALL_CHOICE_LABEL, type GridChoice, type OverallChoice } from '../../src/core/preferences';
import type { CardView, ModelView } from '../../src/shared/workbenchProtocol';
import { sanitizeResponseCached } from './markdown';
import type { SaveState } from './labels';
import { KEYMAP, type UiState } from './state';

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  text?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

export interface CardHandlers {
  overall(choice: OverallChoice): void;
  grid(row: number, value: GridChoice): void;
  submit(): void;
  skip(): void;
  flag(): void;
  advance(): void;
}

const OVERALL_KEYS: [OverallChoice, string][] = [
  ['A', 'A'],
  ['B', 'B'],
  ['tie', 'T'],
  ['both_unacceptable', 'X'],
];
const GRID_KEYS: [Exclude<GridChoice, null>, string, string][] = [
  ['A', 'A', 'A'],
  ['B', 'B', 'B'],
  ['neither', 'N', 'Neither'],
];

function keyHint(k: string): HTMLElement {
  return el('kbd', { 'aria-hidden': 'true' }, k);
}

interface Built {
  /** The principle list the grid rows were built for. */
  key: string;
  h: CardHandlers;
  title: HTMLElement;
  progress: HTMLElement;
  saveState: HTMLElement;
  convo: HTMLElement;
  bodies: [HTMLElement, HTMLElement];
  gridTitle: HTMLElement;
  rationale: HTMLElement & { value: string };
  models: HTMLElement;
}
const built = new WeakMap<HTMLElement, Built>();

/**
 * Shows a card. The card's structure (buttons, grid rows, rationale box, key map) is built once per
 * principle list and reused; a new pair only swaps the texts, so the next card paints quickly.
 */
export function renderCard(root: HTMLElement, card: CardView, h: CardHandlers): void {
  const key = JSON.stringify([card.principleList, card.principles]);
  let b = built.get(root);
  if (!b || b.key !== key || !root.contains(b.title)) {
    b = buildCard(root, card, key, h);
    built.set(root, b);
  }
  b.h = h;
  root.dataset.pairIdx = String(card.pairIdx);
  root.dataset.sourceId = card.sourceId;
  root.dataset.seq = String(card.seq);
  b.title.textContent = `Pair ${card.sourceId}`;
  renderProgress(root, card);
  b.convo.replaceChildren(
    ...card.turns.map((t) => {
      const turn = el('div', { class: `turn turn-${t.role}` });
      turn.append(
        el(
          'div',
          { class: 'turn-role' },
          t.role === 'human' ? 'User' : t.role === 'assistant' ? 'Assistant' : 'Context',
        ),
        el('div', { class: 'turn-text' }, t.text),
      );
      return turn;
    }),
  );
  b.bodies[0].innerHTML = sanitizeResponseCached(card.responseAHtml);
  b.bodies[1].innerHTML = sanitizeResponseCached(card.responseBHtml);
  // (no scroll reset here: reading or writing scroll positions forces a layout before the card is
  // complete; a response box starts at the top because its content is new, and main resets the page)
  b.gridTitle.textContent = `Principles (${card.principleList}): which response does each favour?`;
  b.rationale.value = card.existing?.rationale ?? '';
  if (b.models.firstChild) b.models.replaceChildren();
  b.models.hidden = true;
  if (card.models) renderModels(root, card.models, false);
}

/** Builds the card's structure (everything but the pair's texts). */
function buildCard(root: HTMLElement, card: CardView, key: string, h: CardHandlers): Built {
  root.replaceChildren();
  const handlers = () => built.get(root)?.h ?? h;

  const header = el('header', { class: 'card-header' });
  const title = el('h1', { id: 'card-title' });
  const progress = el('span', { class: 'meta', id: 'progress', role: 'status', 'aria-live': 'polite' });
  // quiet: not a live region (it changes at every submission); the notice says when a label fails
  const saveState = el('span', { class: 'meta save-state', id: 'save-state', 'data-state': 'idle' });
  header.append(title, progress, saveState);
  root.append(header);

  const convo = el('section', { class: 'conversation', 'aria-label': 'Conversation' });
  root.append(convo);

  const responses = el('section', { class: 'responses', 'aria-label': 'Responses' });
  const bodies: HTMLElement[] = [];
  for (const side of ['A', 'B'] as const) {
    const box = el('article', {
      class: 'response',
      id: `response-${side}`,
      'aria-labelledby': `response-${side}-title`,
    });
    box.append(el('h2', { id: `response-${side}-title` }, `Response ${side}`));
    const body = el('div', { class: 'markdown', tabindex: '0', 'aria-label': `Response ${side} text` });
    bodies.push(body);
    box.append(body);
    responses.append(box);
  }
  root.append(responses);

  const overall = el('section', { class: 'overall', 'aria-labelledby': 'overall-title' });
  overall.append(el('h2', { id: 'overall-title' }, 'Overall, which response is better?'));
  const group = el('div', { role: 'radiogroup', 'aria-labelledby': 'overall-title', class: 'choices' });
  for (const [choice, k] of OVERALL_KEYS) {
    const b = el('button', {
      type: 'button',
      role: 'radio',
      'aria-checked': 'false',
      class: 'choice',
      'data-overall': choice,
      'aria-keyshortcuts': k,
      tabindex: '-1',
    });
    b.append(keyHint(k), document.createTextNode(' ' + OVERALL_CHOICE_LABEL[choice]));
    b.addEventListener('click', () => handlers().overall(choice));
    group.append(b);
  }
  overall.append(group);
  root.append(overall);

  const gridSection = el('section', { class: 'grid', 'aria-labelledby': 'grid-title' });
  const gridTitle = el('h2', { id: 'grid-title' });
  gridSection.append(gridTitle);
  const table = el('div', { class: 'grid-rows', role: 'group', 'aria-labelledby': 'grid-title' });
  card.principles.forEach((p, row) => {
    const r = el('div', { class: 'grid-row', 'data-row': String(row) });
    const label = el('details', { class: 'principle' });
    const summary = el('summary', { title: p.text });
    summary.append(keyHint(row < 9 ? String(row + 1) : ' '), document.createTextNode(' ' + p.short));
    label.append(summary, el('p', { class: 'principle-text' }, p.text));
    const rg = el('div', {
      role: 'radiogroup',
      'aria-label': `${p.short}: ${p.text}`,
      class: 'choices',
      id: `grid-row-${row}`,
    });
    for (const [value, k, name] of GRID_KEYS) {
      const b = el('button', {
        type: 'button',
        role: 'radio',
        'aria-checked': 'false',
        class: 'choice small',
        'data-grid': value,
        tabindex: '-1',
        'aria-label': `${p.short}: ${name}`,
      });
      b.append(keyHint(k), document.createTextNode(' ' + name));
      b.addEventListener('click', () => handlers().grid(row, value));
      rg.append(b);
    }
    r.append(label, rg);
    table.append(r);
  });
  gridSection.append(table);
  root.append(gridSection);

  const extra = el('section', { class: 'extra' });
  const rlabel = el('label', { for: 'rationale', id: 'rationale-label' });
  rlabel.append(keyHint('R'), document.createTextNode(' Rationale (optional; Esc to leave)'));
  const rationale = document.createElement('vscode-textarea') as HTMLElement & { value: string; label: string };
  rationale.id = 'rationale';
  rationale.setAttribute('aria-labelledby', 'rationale-label');
  // aria-labelledby on the host does not reach the textarea inside its shadow root; the `label`
  // property (not an attribute) becomes that textarea's aria-label
  rationale.label = 'Rationale (optional; Esc to leave)';
  rationale.setAttribute('rows', '2');
  rationale.setAttribute('resize', 'vertical');
  const flag = el('button', {
    type: 'button',
    class: 'choice',
    id: 'flag',
    role: 'switch',
    'aria-checked': 'false',
    'aria-keyshortcuts': 'F',
    tabindex: '-1',
  });
  flag.append(keyHint('F'), document.createTextNode(' Flag for review'));
  flag.addEventListener('click', () => handlers().flag());
  extra.append(rlabel, rationale, flag);
  root.append(extra);

  const actions = el('section', { class: 'actions', 'aria-label': 'Actions' });
  const submit = document.createElement('vscode-button');
  submit.id = 'submit';
  submit.setAttribute('aria-keyshortcuts', 'Enter');
  submit.append(document.createTextNode('Submit and next (Enter)'));
  submit.addEventListener('click', () => handlers().submit());
  const skip = document.createElement('vscode-button');
  skip.id = 'skip';
  skip.setAttribute('secondary', '');
  skip.setAttribute('aria-keyshortcuts', 'S');
  skip.append(document.createTextNode('Skip (S)'));
  skip.addEventListener('click', () => handlers().skip());
  actions.append(
    submit,
    skip,
    el('span', { class: 'keys-footer' }, 'Alt+N next · Alt+P previous · Alt+Z undo · ? all keys'),
    el('span', { id: 'notice', role: 'alert' }),
  );
  root.append(actions);

  const models = el('section', { id: 'models', class: 'models', 'aria-live': 'polite', hidden: '' });
  root.append(models);

  const help = el('section', { id: 'help', class: 'help', 'aria-label': 'Keyboard shortcuts' });
  const dl = el('dl');
  for (const k of KEYMAP) dl.append(el('dt', {}, k.keys), el('dd', {}, k.action));
  help.append(el('h2', {}, 'Keys'), dl);
  root.append(help);

  return { key, h, title, progress, saveState, convo, bodies: [bodies[0], bodies[1]], gridTitle, rationale, models };
}

/** The progress line: `card.progress` counts the labels committed and those in flight. */
export function renderProgress(root: HTMLElement, card: CardView): void {
  const b = built.get(root);
  const text = `${card.dataset} · ${card.progress.labelled} / ${card.progress.total} labelled by ${card.annotator}${card.signedIn ? ` (${card.signedIn})` : ''} · queue: ${card.filter}`;
  if (b && b.progress.textContent !== text) b.progress.textContent = text;
}

/** Whether the labels submitted are committed: "saving..." while any is in flight, then "saved". */
export function renderSaveState(root: HTMLElement, state: SaveState, inFlight: number): void {
  const b = built.get(root);
  if (!b) return;
  const text =
    state === 'pending'
      ? inFlight > 1
        ? `saving ${inFlight} labels...`
        : 'saving...'
      : state === 'saved'
        ? 'saved'
        : '';
  if (b.saveState.dataset.state !== state) b.saveState.dataset.state = state;
  if (b.saveState.textContent !== text) b.saveState.textContent = text;
}

export function renderModels(root: HTMLElement, models: ModelView[], awaitingAdvance: boolean): void {
  const box = root.querySelector<HTMLElement>('#models')!;
  box.replaceChildren();
  box.hidden = false;
  box.append(el('h2', {}, 'Model judgments (revealed after your label)'));
  if (models.length === 0) box.append(el('p', {}, 'No model judged this pair.'));
  const ul = el('ul');
  for (const m of models) {
    const li = el('li', { class: m.disagrees ? 'disagree' : 'agree' });
    li.textContent = `${m.name} (${m.kind}): ${m.choice === null ? 'no judgment' : m.choice === 'tie' ? 'tie' : 'Response ' + m.choice}${m.disagrees ? ' - disagrees with you' : ''}`;
    ul.append(li);
  }
  box.append(ul);
  if (awaitingAdvance) box.append(el('p', { class: 'hint' }, 'Press Enter for the next pair.'));
}

/**
 * Sets an attribute (null: removes it) only when its value changes: every write is a mutation the
 * next frame restyles, and a key changes one or two of the card's many controls.
 */
function setAttr(e: Element, name: string, value: string | null): void {
  if (e.getAttribute(name) === value) return;
  if (value === null) e.removeAttribute(name);
  else e.setAttribute(name, value);
}

/** Reflects the UI state on the existing card (cheap: the attributes that change only). */
export function applyState(root: HTMLElement, s: UiState): void {
  root
    .querySelectorAll<HTMLElement>('[data-overall]')
    .forEach((b) => setAttr(b, 'aria-checked', String(b.dataset.overall === s.overall)));
  root.querySelectorAll<HTMLElement>('.grid-row').forEach((r) => {
    const row = Number(r.dataset.row);
    r.classList.toggle('selected', s.selectedRow === row);
    r.querySelectorAll<HTMLElement>('[data-grid]').forEach((b) =>
      setAttr(b, 'aria-checked', String(b.dataset.grid === s.grid[row])),
    );
    setAttr(r, 'aria-current', s.selectedRow === row ? 'true' : null);
  });
  const flag = root.querySelector('#flag');
  if (flag) setAttr(flag, 'aria-checked', String(s.flagged));
  const notice = root.querySelector('#notice');
  if (notice && notice.textContent !== s.notice) notice.textContent = s.notice;
  const help = root.querySelector<HTMLElement>('#help');
  if (help) setAttr(help, 'hidden', s.showHelp ? null : '');
  showBusy(root, s.busy);
}

/** A card waits longer than this for the host before it is dimmed (shorter waits would only flicker). */
const BUSY_DIM_AFTER_MS = 250;
const busyTimers = new WeakMap<HTMLElement, ReturnType<typeof setTimeout>>();

/** Dims a busy card only when the wait is long: dimming repaints the whole card, twice. */
export function showBusy(root: HTMLElement, busy: boolean): void {
  if (busy) {
    if (!busyTimers.has(root) && !root.classList.contains('busy'))
      busyTimers.set(
        root,
        setTimeout(() => root.classList.add('busy'), BUSY_DIM_AFTER_MS),
      );
    return;
  }
  clearTimeout(busyTimers.get(root));
  busyTimers.delete(root);
  root.classList.remove('busy');
}
