// DOM for the pair card. Dataset text only ever reaches the DOM through textContent or renderMarkdown.
import type { CardView, GridChoice, ModelView, OverallChoice } from '../../src/shared/protocol';
import { renderMarkdown } from './markdown';
import { KEYMAP, OVERALL_LABEL, type UiState } from './state';

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
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

const OVERALL_KEYS: [OverallChoice, string][] = [['A', 'A'], ['B', 'B'], ['tie', 'T'], ['both_unacceptable', 'X']];
const GRID_KEYS: [Exclude<GridChoice, null>, string, string][] = [['A', 'A', 'A'], ['B', 'B', 'B'], ['neither', 'N', 'Neither']];

function keyHint(k: string): HTMLElement {
  return el('kbd', { 'aria-hidden': 'true' }, k);
}

/** Builds the whole card for a new pair. */
export function renderCard(root: HTMLElement, card: CardView, h: CardHandlers): void {
  root.replaceChildren();
  root.dataset.pairIdx = String(card.pairIdx);
  root.dataset.sourceId = card.sourceId;
  root.dataset.seq = String(card.seq);

  const header = el('header', { class: 'card-header' });
  header.append(
    el('h1', { id: 'card-title' }, `Pair ${card.sourceId}`),
    el('span', { class: 'meta', id: 'progress', role: 'status', 'aria-live': 'polite' }, `${card.dataset} · ${card.progress.labelled} / ${card.progress.total} labelled by ${card.annotator} · queue: ${card.filter}`),
  );
  root.append(header);

  const convo = el('section', { class: 'conversation', 'aria-label': 'Conversation' });
  for (const t of card.turns) {
    const turn = el('div', { class: `turn turn-${t.role}` });
    turn.append(el('div', { class: 'turn-role' }, t.role === 'human' ? 'User' : t.role === 'assistant' ? 'Assistant' : 'Context'));
    turn.append(el('div', { class: 'turn-text' }, t.text));
    convo.append(turn);
  }
  root.append(convo);

  const responses = el('section', { class: 'responses', 'aria-label': 'Responses' });
  for (const [side, text] of [['A', card.responseA], ['B', card.responseB]] as const) {
    const box = el('article', { class: 'response', id: `response-${side}`, 'aria-labelledby': `response-${side}-title` });
    box.append(el('h2', { id: `response-${side}-title` }, `Response ${side}`));
    const body = el('div', { class: 'markdown', tabindex: '0', 'aria-label': `Response ${side} text` });
    body.innerHTML = renderMarkdown(text);
    box.append(body);
    responses.append(box);
  }
  root.append(responses);

  const overall = el('section', { class: 'overall', 'aria-labelledby': 'overall-title' });
  overall.append(el('h2', { id: 'overall-title' }, 'Overall, which response is better?'));
  const group = el('div', { role: 'radiogroup', 'aria-labelledby': 'overall-title', class: 'choices' });
  for (const [choice, key] of OVERALL_KEYS) {
    const b = el('button', { type: 'button', role: 'radio', 'aria-checked': 'false', class: 'choice', 'data-overall': choice, 'aria-keyshortcuts': key, tabindex: '-1' });
    b.append(keyHint(key), document.createTextNode(' ' + OVERALL_LABEL[choice]));
    b.addEventListener('click', () => h.overall(choice));
    group.append(b);
  }
  overall.append(group);
  root.append(overall);

  const gridSection = el('section', { class: 'grid', 'aria-labelledby': 'grid-title' });
  gridSection.append(el('h2', { id: 'grid-title' }, `Principles (${card.principleList}): which response does each favour?`));
  const table = el('div', { class: 'grid-rows', role: 'group', 'aria-labelledby': 'grid-title' });
  card.principles.forEach((p, row) => {
    const r = el('div', { class: 'grid-row', 'data-row': String(row) });
    const label = el('details', { class: 'principle' });
    const summary = el('summary', { title: p.text });
    summary.append(keyHint(row < 9 ? String(row + 1) : ' '), document.createTextNode(' ' + p.short));
    label.append(summary, el('p', { class: 'principle-text' }, p.text));
    const rg = el('div', { role: 'radiogroup', 'aria-label': `${p.short}: ${p.text}`, class: 'choices', id: `grid-row-${row}` });
    for (const [value, key, name] of GRID_KEYS) {
      const b = el('button', { type: 'button', role: 'radio', 'aria-checked': 'false', class: 'choice small', 'data-grid': value, tabindex: '-1', 'aria-label': `${p.short}: ${name}` });
      b.append(keyHint(key), document.createTextNode(' ' + name));
      b.addEventListener('click', () => h.grid(row, value));
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
  const rationale = document.createElement('vscode-textarea') as HTMLElement & { value: string };
  rationale.id = 'rationale';
  rationale.setAttribute('aria-labelledby', 'rationale-label');
  rationale.setAttribute('rows', '2');
  rationale.setAttribute('resize', 'vertical');
  rationale.value = card.existing?.rationale ?? '';
  const flag = el('button', { type: 'button', class: 'choice', id: 'flag', role: 'switch', 'aria-checked': 'false', 'aria-keyshortcuts': 'F', tabindex: '-1' });
  flag.append(keyHint('F'), document.createTextNode(' Flag for review'));
  flag.addEventListener('click', () => h.flag());
  extra.append(rlabel, rationale, flag);
  root.append(extra);

  const actions = el('section', { class: 'actions', 'aria-label': 'Actions' });
  const submit = document.createElement('vscode-button');
  submit.id = 'submit';
  submit.setAttribute('aria-keyshortcuts', 'Enter');
  submit.append(document.createTextNode('Submit and next (Enter)'));
  submit.addEventListener('click', () => h.submit());
  const skip = document.createElement('vscode-button');
  skip.id = 'skip';
  skip.setAttribute('secondary', '');
  skip.setAttribute('aria-keyshortcuts', 'S');
  skip.append(document.createTextNode('Skip (S)'));
  skip.addEventListener('click', () => h.skip());
  actions.append(submit, skip, el('span', { class: 'keys-footer' }, 'Alt+N next · Alt+P previous · Alt+Z undo · ? all keys'), el('span', { id: 'notice', role: 'alert' }));
  root.append(actions);

  root.append(el('section', { id: 'models', class: 'models', 'aria-live': 'polite', hidden: '' }));

  const help = el('section', { id: 'help', class: 'help', 'aria-label': 'Keyboard shortcuts' });
  const dl = el('dl');
  for (const k of KEYMAP) dl.append(el('dt', {}, k.keys), el('dd', {}, k.action));
  help.append(el('h2', {}, 'Keys'), dl);
  root.append(help);

  if (card.models) renderModels(root, card.models, false);
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

/** Reflects the UI state on the existing card (cheap: attributes only). */
export function applyState(root: HTMLElement, s: UiState): void {
  root.querySelectorAll<HTMLElement>('[data-overall]').forEach((b) => b.setAttribute('aria-checked', String(b.dataset.overall === s.overall)));
  root.querySelectorAll<HTMLElement>('.grid-row').forEach((r) => {
    const row = Number(r.dataset.row);
    r.classList.toggle('selected', s.selectedRow === row);
    r.querySelectorAll<HTMLElement>('[data-grid]').forEach((b) => b.setAttribute('aria-checked', String(b.dataset.grid === s.grid[row])));
    if (s.selectedRow === row) r.setAttribute('aria-current', 'true');
    else r.removeAttribute('aria-current');
  });
  root.querySelector('#flag')?.setAttribute('aria-checked', String(s.flagged));
  const notice = root.querySelector('#notice');
  if (notice) notice.textContent = s.notice;
  root.querySelector<HTMLElement>('#help')?.toggleAttribute('hidden', !s.showHelp);
  root.classList.toggle('busy', s.busy);
}
