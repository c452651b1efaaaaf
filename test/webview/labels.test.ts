// @vitest-environment happy-dom
// Labels in flight in the workbench webview: the next card painted at the submit keystroke, the
// pending / saved / failed states, exact progress counts, and undo and navigation sent after the
// labels in flight. The webview's own script (main.ts) runs here against a recorded host: every
// message it posts is kept, and the host's answers are dispatched as the extension would post them.
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CardView, WorkbenchHostMessage, WorkbenchWebviewMessage } from '../../src/shared/workbenchProtocol';
import { ReadAheadLists } from '../../src/shared/workbenchProtocol';
import { LabelLedger } from '../../webview/workbench/labels';
import { initialState } from '../../webview/workbench/state';

const card = (pairIdx: number, over: Partial<CardView> = {}): CardView => ({
  seq: 100 + pairIdx,
  dataset: 'd',
  annotator: 'alice',
  signedIn: null,
  pairIdx,
  sourceId: `s${pairIdx}`,
  turns: [{ role: 'human', text: `question ${pairIdx}` }],
  responseAHtml: `a${pairIdx}`,
  responseBHtml: `b${pairIdx}`,
  shownFirst: 0,
  principleList: 'demo@1',
  principles: [
    { short: 'Harm', text: 'Avoid harm.' },
    { short: 'Honest', text: 'Be honest.' },
  ],
  existing: null,
  models: null,
  judged: false,
  progress: { labelled: 4, total: 10 },
  filter: 'all pairs',
  hasPrevious: true,
  hasNext: true,
  ...over,
});
const label = (c: CardView) => ({
  seq: c.seq,
  card: c,
  ui: { ...initialState(c), overall: 'A' as const },
  rationale: '',
});

describe('LabelLedger', () => {
  it('paints the first card read ahead at a submission, and counts labels in flight until they commit', () => {
    const l = new LabelLedger();
    const c0 = card(0);
    l.hostCard(c0);
    l.shows(c0);
    l.readAhead([card(1), card(2)]);
    expect(l.saveState()).toBe('idle');
    const next = l.submit(label(c0));
    expect(next?.pairIdx).toBe(1);
    // 4 committed (the host's count) + 1 in flight on a pair without a label
    expect(next?.progress).toEqual({ labelled: 5, total: 10 });
    expect(l.saveState()).toBe('pending');
    l.shows(next!);
    // a label that replaces an existing one adds nothing
    const again = l.submit(
      label(card(1, { existing: { overall: 'B', grid: [null, null], rationale: '', flagged: false } })),
    );
    expect(again?.pairIdx).toBe(2);
    expect(l.progress()).toEqual({ labelled: 5, total: 10 });
    expect(l.inFlight).toBe(2);
    expect(l.firstPendingPair()).toBe(0);
    l.saved(c0.seq, { labelled: 5, total: 10 });
    expect(l.saveState()).toBe('pending');
    expect(l.firstPendingPair()).toBe(1);
    l.saved(card(1).seq, { labelled: 5, total: 10 });
    expect(l.saveState()).toBe('saved');
    expect(l.progress()).toEqual({ labelled: 5, total: 10 });
  });

  it('waits for the host when models judged the pair (their reveal comes first) or nothing is read ahead', () => {
    const l = new LabelLedger();
    l.readAhead([card(1)]);
    expect(l.submit(label(card(0, { judged: true })))).toBeNull();
    expect(l.submit(label(card(5)))).toMatchObject({ pairIdx: 1 });
    expect(l.submit(label(card(1)))).toBeNull();
  });

  it('never paints a card twice from a read-ahead list that arrives after it was shown', () => {
    const l = new LabelLedger();
    l.readAhead([card(1), card(2)]);
    const one = l.submit(label(card(0)))!;
    l.shows(one);
    l.readAhead([card(1), card(2), card(3)]); // the host's list, sent before it saw the second label
    expect(l.submit(label(one))?.pairIdx).toBe(2);
  });

  it('gives a refused label back, drops it from the counts, and keeps drafts for their pair', () => {
    const l = new LabelLedger();
    l.hostCard(card(0));
    l.readAhead([card(1), card(2)]);
    const c0 = label(card(0));
    l.submit(c0);
    expect(l.progress().labelled).toBe(5);
    expect(l.failed(c0.seq)).toBe(c0);
    expect(l.progress().labelled).toBe(4);
    expect(l.saveState()).toBe('idle');
    expect(l.submit(label(card(3)))).toBeNull(); // the cards ahead are read again after a failure
    l.keepDraft(3, c0, 'disk full');
    expect(l.takeDraft(3)).toEqual({ label: c0, message: 'disk full' });
    expect(l.takeDraft(3)).toBeNull();
  });

  it('counts a label in flight on another dataset nowhere but there', () => {
    const l = new LabelLedger();
    l.hostCard(card(0));
    l.submit(label(card(0)));
    expect(l.progress().labelled).toBe(5);
    l.hostCard(card(0, { dataset: 'other', progress: { labelled: 0, total: 6 } })); // another dataset opened
    expect(l.progress()).toEqual({ labelled: 0, total: 6 });
    l.saved(100, { labelled: 5, total: 10 }); // the first dataset's count: not this one's
    expect(l.progress()).toEqual({ labelled: 0, total: 6 });
  });
});

describe('ReadAheadLists', () => {
  // what postMessage delivers: a copy (structured clone; JSON is as much as these plain objects need)
  const deliver = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

  it('sends a card once: the next list names the cards the previous one held by their seq', () => {
    const host = new ReadAheadLists();
    const page = new ReadAheadLists();
    const first = host.entries([card(1), card(2), card(3)]);
    expect(first).toEqual([card(1), card(2), card(3)]);
    expect(page.cards(deliver(first))).toEqual([card(1), card(2), card(3)]);
    // a submission painted card 1; the host read card 4
    const second = host.entries([card(2), card(3), card(4)]);
    expect(second).toEqual([102, 103, card(4)]);
    expect(page.cards(deliver(second))).toEqual([card(2), card(3), card(4)]);
    // a list may also drop cards (the queue changed): only what it names is held after it
    expect(page.cards(deliver(host.entries([card(4), card(6)])))).toEqual([card(4), card(6)]);
  });

  it('cuts a list at a card the page does not hold (a new page): the cards after a gap are not the next ones', () => {
    const host = new ReadAheadLists();
    host.entries([card(1), card(2)]);
    const fresh = new ReadAheadLists(); // the page was loaded again meanwhile
    expect(fresh.cards(host.entries([card(2), card(3)]))).toEqual([]);
    // the host heard of the new page ('ready'): whole cards again
    host.forget();
    expect(fresh.cards(host.entries([card(2), card(3)]))).toEqual([card(2), card(3)]);
  });
});

// ---- the webview's script, against a recorded host ------------------------------------------------

// happy-dom has no ElementInternals, which @vscode-elements' button and textarea need: here they stay
// plain unknown elements (the rationale's `value` is then an ordinary property); the e2e suite runs them.
vi.mock('@vscode-elements/elements/dist/vscode-button/index.js', () => ({}));
vi.mock('@vscode-elements/elements/dist/vscode-textarea/index.js', () => ({}));

const posted: WorkbenchWebviewMessage[] = [];
/** What the page gave VS Code's setState (what a reload restores). */
const states: unknown[] = [];
const send = (m: WorkbenchHostMessage) => window.dispatchEvent(new MessageEvent('message', { data: m }));
const press = (key: string) =>
  window.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true }));
const $ = (sel: string) => document.querySelector<HTMLElement>(sel)!;
/** The next frame and the task after it (the webview sends what waited for the paint then). */
const painted = () => new Promise<void>((done) => requestAnimationFrame(() => setTimeout(done, 0)));
const submits = () =>
  posted.filter((m): m is Extract<WorkbenchWebviewMessage, { type: 'submit' }> => m.type === 'submit');

describe('the workbench webview with labels in flight', () => {
  beforeAll(async () => {
    document.body.innerHTML = '<main><div id="status"></div><div id="card" tabindex="-1" hidden></div></main>';
    (globalThis as unknown as { acquireVsCodeApi: () => unknown }).acquireVsCodeApi = () => ({
      postMessage: (m: WorkbenchWebviewMessage) => posted.push(m),
      getState: () => undefined,
      setState: (state: unknown) => states.push(state),
    });
    await import('../../webview/workbench/main');
  });
  beforeEach(() => {
    posted.length = 0;
  });

  it('paints the next card at the keystroke, shows "saving..." until the host commits, then "saved"', async () => {
    send({ type: 'card', card: card(0) });
    send({ type: 'prefetch', cards: [card(1), card(2), card(3)] });
    expect($('#card').dataset.sourceId).toBe('s0');
    await painted();
    expect(posted.filter((m) => m.type === 'painted')).toEqual([]); // (a card shown without a key: no clock)
    press('a');
    press('1');
    press('b');
    press('Enter');
    // no answer from the host yet: the next card is already there, the label in flight
    expect($('#card').dataset.sourceId).toBe('s1');
    expect($('#save-state').dataset.state).toBe('pending');
    expect($('#save-state').textContent).toBe('saving...');
    expect($('#progress').textContent).toContain('5 / 10 labelled');
    // the label goes to the host once that card has painted
    expect(submits()).toEqual([]);
    await painted();
    expect(submits()).toEqual([
      {
        type: 'submit',
        seq: 100,
        pairIdx: 0,
        overall: 'A',
        grid: ['B', null],
        rationale: '',
        flagged: false,
        ahead: 101,
      },
    ]);
    // a card painted at the keystroke is not reported painted: its submission says so
    expect(posted.map((m) => m.type)).toEqual(['submit']);
    // a second label before the first commits
    press('t');
    press('Enter');
    expect($('#card').dataset.sourceId).toBe('s2');
    expect($('#save-state').textContent).toBe('saving 2 labels...');
    expect($('#progress').textContent).toContain('6 / 10 labelled');
    await painted();
    expect(submits().map((m) => m.seq)).toEqual([100, 101]);
    send({ type: 'saved', pairIdx: 0, seq: 100, progress: { labelled: 5, total: 10 } });
    expect($('#save-state').textContent).toBe('saving...');
    expect($('#progress').textContent).toContain('6 / 10 labelled');
    send({ type: 'saved', pairIdx: 1, seq: 101, progress: { labelled: 6, total: 10 } });
    expect($('#save-state').dataset.state).toBe('saved');
    expect($('#save-state').textContent).toBe('saved');
    expect($('#progress').textContent).toContain('6 / 10 labelled');
  });

  // (after the test above: no label in flight)
  it('keeps as its state the first pair without a committed label, given to VS Code after the paint and only when it changes', async () => {
    send({ type: 'card', card: card(30) });
    send({ type: 'prefetch', cards: [card(31), card(32)] });
    expect(states.at(-1)).not.toEqual({ dataset: 'd', pairIdx: 30 }); // (after the paint)
    await painted();
    expect(states.at(-1)).toEqual({ dataset: 'd', pairIdx: 30 });
    states.length = 0;
    press('a');
    press('Enter'); // card 31 shown, pair 30's label in flight: the state is pair 30 still
    await painted();
    expect(states).toEqual([]);
    send({ type: 'saved', pairIdx: 30, seq: 130, progress: { labelled: 5, total: 10 } });
    expect(states).toEqual([]); // (after the paint)
    await painted();
    expect(states).toEqual([{ dataset: 'd', pairIdx: 31 }]);
    press('b');
    press('Enter'); // card 32 shown, pair 31's label in flight: pair 31 still
    await painted();
    expect(states).toEqual([{ dataset: 'd', pairIdx: 31 }]);
    send({ type: 'saved', pairIdx: 31, seq: 131, progress: { labelled: 6, total: 10 } });
    await painted();
    expect(states.at(-1)).toEqual({ dataset: 'd', pairIdx: 32 });
  });

  it('a label the host refuses brings the annotator back to that pair with the label intact and the error shown', async () => {
    send({ type: 'card', card: card(4) });
    send({ type: 'prefetch', cards: [card(5), card(6)] });
    press('b');
    press('2');
    press('a');
    press('f');
    press('Enter');
    expect($('#card').dataset.sourceId).toBe('s5');
    await painted();
    press('a');
    const fresh = card(4, { seq: 200 });
    send({
      type: 'saveFailed',
      pairIdx: 4,
      seq: 104,
      message: 'the database is locked by another writer; nothing was saved',
      card: fresh,
    });
    expect($('#card').dataset.sourceId).toBe('s4');
    expect($('#card').dataset.seq).toBe('200');
    expect($('[data-overall="B"]').getAttribute('aria-checked')).toBe('true');
    expect($('.grid-row[data-row="1"] [data-grid="A"]').getAttribute('aria-checked')).toBe('true');
    expect($('#flag').getAttribute('aria-checked')).toBe('true');
    expect($('#notice').textContent).toBe(
      'Not saved: the database is locked by another writer; nothing was saved Submit again with Enter.',
    );
    expect($('#save-state').dataset.state).not.toBe('pending');
    expect($('#progress').textContent).toContain('4 / 10 labelled');
    // submitted again, from the fresh card; nothing is read ahead yet, so it waits for the host
    press('Enter');
    expect(submits().at(-1)).toEqual({
      type: 'submit',
      seq: 200,
      pairIdx: 4,
      overall: 'B',
      grid: [null, 'A'],
      rationale: '',
      flagged: true,
      ahead: null,
    });
    expect($('#card').dataset.sourceId).toBe('s4');
    expect($('#save-state').dataset.state).toBe('pending');
  });

  it("paints cards of a list that names the previous list's cards by their seq", async () => {
    send({ type: 'card', card: card(20) });
    send({ type: 'prefetch', cards: [card(21), card(22)] });
    press('a');
    press('Enter');
    expect($('#card').dataset.sourceId).toBe('s21');
    await painted();
    send({ type: 'saved', pairIdx: 20, seq: 120, progress: { labelled: 5, total: 10 } });
    send({ type: 'prefetch', cards: [122, card(23)] });
    press('b');
    press('Enter');
    expect($('#card').dataset.sourceId).toBe('s22');
    expect($('#response-A .markdown').textContent).toBe('a22');
    press('b');
    press('Enter');
    expect($('#card').dataset.sourceId).toBe('s23');
    await painted();
    expect(submits().map((m) => [m.pairIdx, m.ahead])).toEqual([
      [20, 121],
      [21, 122],
      [22, 123],
    ]);
  });

  it('sends undo and next after the labels in flight, in the order pressed', async () => {
    await painted(); // (what the earlier tests left to send)
    posted.length = 0;
    send({ type: 'card', card: card(7) });
    send({ type: 'prefetch', cards: [card(8)] });
    press('a');
    press('Enter');
    // before the next card's paint: the label waiting for it goes first
    send({ type: 'command', command: 'undo' });
    send({ type: 'command', command: 'next' });
    expect(posted.map((m) => m.type)).toEqual(['submit', 'undo', 'navigate']);
    expect(posted[2]).toEqual({ type: 'navigate', direction: 'next' });
  });

  it('sends the label at once when a key the card does not handle comes before the paint (it may close the panel)', async () => {
    send({ type: 'card', card: card(9) });
    send({ type: 'prefetch', cards: [card(10)] });
    await painted();
    posted.length = 0;
    press('b');
    press('Enter');
    expect(submits()).toEqual([]);
    // Ctrl+W: VS Code's keybinding to close the editor, passed on to the workbench
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'w', ctrlKey: true, bubbles: true, cancelable: true }));
    expect(submits().map((m) => m.pairIdx)).toEqual([9]);
    await painted();
    expect(submits().map((m) => m.pairIdx)).toEqual([9]); // once
  });

  it('tells the host when a card it sent has painted (its status bar waits for that), once', async () => {
    await painted();
    posted.length = 0;
    send({ type: 'card', card: card(11) });
    send({ type: 'prefetch', cards: [] });
    press('a');
    press('Enter'); // nothing read ahead: the card comes from the host
    expect(submits().map((m) => m.pairIdx)).toEqual([11]);
    send({ type: 'saved', pairIdx: 11, seq: 111, progress: { labelled: 5, total: 10 } });
    send({ type: 'card', card: card(12) });
    await painted();
    expect(posted.filter((m) => m.type === 'painted').map((m) => m.type === 'painted' && m.seq)).toEqual([112]);
  });
});
