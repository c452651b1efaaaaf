// @vitest-environment happy-dom
// The card's UI state logic and its DOM, with hostile dataset text.
import { describe, expect, it } from 'vitest';
import type { CardView } from '../../src/shared/workbenchProtocol';
import { responseHtml } from '../../src/core/responseMarkdown';
import { sanitizeResponse } from '../../webview/workbench/markdown';
import { applyState, renderCard } from '../../webview/workbench/render';
import { initialState, reduceKey, type UiState } from '../../webview/workbench/state';

const card = (over: Partial<CardView> = {}): CardView => ({
  seq: 1,
  dataset: 'd',
  annotator: 'alice',
  signedIn: null,
  pairIdx: 4,
  sourceId: 's05',
  turns: [{ role: 'human', text: 'q <script>window.__pwned=1</script>' }],
  responseAHtml: 'a',
  responseBHtml: 'b',
  shownFirst: 0,
  principleList: 'demo@1',
  principles: [
    { short: 'Harm', text: 'Avoid harm.' },
    { short: 'Honest', text: 'Be honest.' },
    { short: 'Help', text: 'Be helpful.' },
  ],
  existing: null,
  models: null,
  judged: false,
  progress: { labelled: 0, total: 10 },
  filter: 'all pairs',
  hasPrevious: false,
  hasNext: true,
  ...over,
});

function keys(s: UiState, ...ks: string[]) {
  let effect = null;
  for (const k of ks) ({ state: s, effect } = reduceKey(s, k));
  return { s, effect };
}

describe('key map', () => {
  it('grid rows default to unanswered, not neither', () => {
    expect(initialState(card()).grid).toEqual([null, null, null]);
    expect(initialState(card()).overall).toBeNull();
  });

  it('sets the overall choice and grid rows by keys, then submits with Enter', () => {
    const { s, effect } = keys(initialState(card()), 'b', '1', 'a', 'n', '3', 'B', 'Enter');
    expect(s.overall).toBe('B');
    expect(s.grid).toEqual(['A', 'neither', 'B']);
    expect(effect).toEqual({ kind: 'submit' });
    expect(s.busy).toBe(true);
    // a busy card ignores further keys until the next card arrives
    expect(keys(s, 'a', 'Enter').effect).toBeNull();
  });

  it('does not submit without an overall choice, and says why', () => {
    const { s, effect } = keys(initialState(card()), '1', 'a', 'Enter');
    expect(effect).toBeNull();
    expect(s.notice).toMatch(/overall/);
  });

  it('row selection: number keys, arrows, Esc, Backspace clears a row; out-of-range rows are refused', () => {
    let { s } = keys(initialState(card()), '2');
    expect(s.selectedRow).toBe(1);
    s = keys(s, 'ArrowDown').s;
    expect(s.selectedRow).toBe(2);
    s = keys(s, 'Escape', 'a').s;
    expect(s.selectedRow).toBeNull();
    expect(s.overall).toBe('A');
    s = keys(s, '1', 'b', 'ArrowUp', 'Backspace').s;
    expect(s.grid[0]).toBeNull();
    s = keys(s, '9').s;
    expect(s.notice).toMatch(/no principle row 9/);
  });

  it('tie, both unacceptable, flag, skip, rationale, help', () => {
    const i = initialState(card());
    expect(keys(i, 't').s.overall).toBe('tie');
    expect(keys(i, 'x').s.overall).toBe('both_unacceptable');
    expect(keys(i, 'f').s.flagged).toBe(true);
    expect(keys(i, 'f', 'f').s.flagged).toBe(false);
    expect(keys(i, 's').effect).toEqual({ kind: 'skip' });
    expect(keys(i, 'r').effect).toEqual({ kind: 'focusRationale' });
    expect(keys(i, '?').s.showHelp).toBe(true);
  });

  it('after a reveal only Enter advances', () => {
    const s = { ...initialState(card()), revealed: [] };
    expect(keys(s, 'a').s.overall).toBeNull();
    expect(keys(s, 'Enter').effect).toEqual({ kind: 'advance' });
  });

  it('restores an existing label', () => {
    const s = initialState(
      card({ existing: { overall: 'tie', grid: ['A', null, 'neither'], rationale: 'r', flagged: true } }),
    );
    expect(s).toMatchObject({ overall: 'tie', grid: ['A', null, 'neither'], flagged: true });
  });
});

describe('rendering hostile text', () => {
  const noop = { overall() {}, grid() {}, submit() {}, skip() {}, flag() {}, advance() {} };
  /** A response as it reaches the DOM: its HTML rendered by the host, sanitised by the webview. */
  const renderMarkdown = (text: string) => sanitizeResponse(responseHtml(text));

  it('escapes raw HTML in Markdown so it shows literally, and drops links and event handlers', () => {
    const html = renderMarkdown(
      'Hi <script>window.__pwned=1</script> <img src=x onerror="window.__pwned=1"> [click](javascript:alert(1)) **bold**',
    );
    const box = document.createElement('div');
    box.innerHTML = html;
    expect(box.querySelector('script, img, a, [onerror]')).toBeNull();
    expect(box.textContent).toContain('<script>window.__pwned=1</script>');
    expect(box.textContent).toContain('<img src=x onerror="window.__pwned=1">');
    expect(box.querySelector('strong')?.textContent).toBe('bold');
    expect(html).not.toMatch(/href=/); // the URL is inert text in a title, never a link
  });

  it('renders the card with text nodes only for dataset text, roles and key hints', () => {
    const root = document.createElement('div');
    document.body.append(root);
    renderCard(
      root,
      card({
        responseAHtml: responseHtml('<iframe src="https://evil.invalid"></iframe>'),
        principles: [{ short: '<b>x</b>', text: '<img src=x onerror=alert(1)>' }],
      }),
      noop,
    );
    expect(root.querySelector('iframe, img, script, b')).toBeNull();
    expect(root.querySelector('.turn-text')!.textContent).toBe('q <script>window.__pwned=1</script>');
    expect(root.querySelector('#response-A .markdown')!.textContent).toContain(
      '<iframe src="https://evil.invalid"></iframe>',
    );
    expect(root.querySelectorAll('[role=radiogroup]')).toHaveLength(2);
    expect(root.querySelector('summary')!.getAttribute('title')).toBe('<img src=x onerror=alert(1)>');
    expect(root.textContent).toMatch(/Submit and next \(Enter\)/);
    // the name of the textarea inside vscode-textarea's shadow root (the host's aria-labelledby does not reach it)
    expect((root.querySelector('#rationale') as HTMLElement & { label: string }).label).toBe(
      'Rationale (optional; Esc to leave)',
    );
    applyState(root, keys(initialState(card({ principles: [{ short: 'p', text: 't' }] })), 'a', '1', 'b').s);
    expect(root.querySelector('[data-overall="A"]')!.getAttribute('aria-checked')).toBe('true');
    expect(root.querySelector('[data-overall="B"]')!.getAttribute('aria-checked')).toBe('false');
    expect(root.querySelector('.grid-row [data-grid="B"]')!.getAttribute('aria-checked')).toBe('true');
  });

  it('renders a 100 KB response quickly', () => {
    const t = performance.now();
    const html = renderMarkdown('word '.repeat(20_000) + '<script>x</script>');
    expect(html.length).toBeGreaterThan(100_000);
    expect(performance.now() - t).toBeLessThan(2000);
  });
});
