// @vitest-environment happy-dom
// The review webview (webview/review/main.ts): dataset text is shown literally (a hostile pair's markup never
// becomes elements), labels and rationales side by side, and the buttons and keys post exactly the
// adjudication messages the host's validator accepts.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  parseReviewMessage,
  type ReviewHostMessage,
  type ReviewQueueView,
  type ReviewWebviewMessage,
} from '../../src/shared/reviewProtocol';

const posted: ReviewWebviewMessage[] = [];
const HOSTILE = '<img src=x onerror="alert(1)"><script>alert(2)</script>**bold**';

const queue: ReviewQueueView = {
  dataset: 'd',
  principle: null,
  pairs: 4,
  disagreeing: 2,
  adjudicated: 0,
  items: [
    {
      pair: 'q2',
      pairIdx: 1,
      prompt: HOSTILE,
      y0: 'no <b>q2</b>',
      y1: 'yes q2',
      adjudicated: null,
      labels: [
        { annotator: 'alice', overall: 'both-bad', principle: null, rationale: 'both <i>harmful</i>', flagged: true },
        { annotator: 'bilal', overall: 'y0', principle: null, rationale: null, flagged: false },
      ],
    },
    {
      pair: 'q4',
      pairIdx: 3,
      prompt: 'Human: q4?',
      y0: 'no',
      y1: 'yes',
      adjudicated: { label: 'y1', rationale: 'clearer' },
      labels: [
        { annotator: 'alice', overall: 'tie', principle: null, rationale: null, flagged: false },
        { annotator: 'bilal', overall: 'y1', principle: null, rationale: null, flagged: false },
      ],
    },
  ],
};

const send = (m: ReviewHostMessage) => window.dispatchEvent(new MessageEvent('message', { data: m }));
const cards = () => Array.from(document.querySelectorAll<HTMLElement>('section.item'));

beforeAll(async () => {
  document.body.innerHTML = `<select id="dataset"></select><input type="text" id="principle"><input type="checkbox" id="pending">
<button type="button" id="reload">Show</button><span id="status"></span><main id="items"></main>`;
  (globalThis as unknown as { acquireVsCodeApi: () => unknown }).acquireVsCodeApi = () => ({
    postMessage: (m: ReviewWebviewMessage) => posted.push(m),
  });
  await import('../../webview/review/main');
});

describe('the review webview', () => {
  it('asks for its data, lists the datasets and shows every label and rationale side by side as text', () => {
    expect(posted).toEqual([{ type: 'ready' }]);
    send({ type: 'datasets', datasets: ['d', '<b>x</b>'], current: 'd' });
    expect(Array.from(document.querySelectorAll('#dataset option')).map((o) => o.textContent)).toEqual([
      'd',
      '<b>x</b>',
    ]);
    send({ type: 'queue', queue: structuredClone(queue) });
    expect(document.getElementById('status')!.textContent).toBe(
      'd: 2 of 4 pairs where the human overall labels disagree; 0 adjudicated',
    );
    expect(cards().map((c) => c.dataset.pair)).toEqual(['q2', 'q4']);
    const first = cards()[0];
    // hostile text stays text: no element came from the data
    expect(first.querySelector('pre')!.textContent).toBe(HOSTILE);
    expect(document.querySelectorAll('img, script, b, i')).toHaveLength(0);
    const rows = Array.from(first.querySelectorAll('tr')).map((tr) =>
      Array.from(tr.children).map((td) => td.textContent),
    );
    expect(rows).toEqual([
      ['Annotator', 'Label', 'Rationale'],
      ['alice', 'both-bad', '[flagged] both <i>harmful</i>'],
      ['bilal', 'y0', ''],
    ]);
    expect(first.querySelector('p.adjudicated')!.textContent).toBe('Not adjudicated yet');
    expect(cards()[1].querySelector('p.adjudicated')!.textContent).toBe('Adjudicated: y1 (clearer)');
  });

  it('adjudicates by button and by key, with the rationale typed, in messages the host accepts', () => {
    posted.length = 0;
    const first = cards()[0];
    first.querySelector<HTMLInputElement>('input.rationale')!.value = 'both unsafe';
    first.querySelector<HTMLButtonElement>('button[data-label="both-bad"]')!.click();
    first.dispatchEvent(new KeyboardEvent('keydown', { key: '1', bubbles: true }));
    // keys typed in the rationale box are text, not actions
    first.querySelector('input.rationale')!.dispatchEvent(new KeyboardEvent('keydown', { key: '0', bubbles: true }));
    expect(posted).toEqual([
      { type: 'adjudicate', dataset: 'd', pair: 'q2', principle: null, label: 'both-bad', rationale: 'both unsafe' },
      { type: 'adjudicate', dataset: 'd', pair: 'q2', principle: null, label: 'y1', rationale: 'both unsafe' },
    ]);
    for (const m of posted) expect(parseReviewMessage(m)).toEqual(m);
    send({ type: 'adjudicated', pair: 'q2', label: 'y1', rationale: 'both unsafe' });
    expect(first.querySelector('p.adjudicated')!.textContent).toBe('Adjudicated: y1 (both unsafe)');
  });

  it('offers y0 / y1 / neither for a principle', () => {
    send({ type: 'queue', queue: { ...structuredClone(queue), principle: 'avoid-harm' } });
    expect(
      Array.from(cards()[0].querySelectorAll<HTMLButtonElement>('button[data-label]')).map((b) => b.dataset.label),
    ).toEqual(['y0', 'y1', 'neither']);
  });
});

describe('parseReviewMessage', () => {
  it('accepts exactly the review messages and drops everything else', () => {
    expect(parseReviewMessage({ type: 'ready' })).toEqual({ type: 'ready' });
    expect(parseReviewMessage({ type: 'load', dataset: 'd', principle: null, pendingOnly: true })).toEqual({
      type: 'load',
      dataset: 'd',
      principle: null,
      pendingOnly: true,
    });
    const ok = { type: 'adjudicate', dataset: 'd', pair: 'q1', principle: 'p0', label: 'neither', rationale: '' };
    expect(parseReviewMessage(ok)).toEqual(ok);
    for (const bad of [
      null,
      'ready',
      [],
      { type: 'nope' },
      { type: 'ready', extra: 1 },
      { type: 'load', dataset: '', principle: null, pendingOnly: false },
      { type: 'load', dataset: 'd', principle: null },
      { ...ok, label: 'tie' }, // not a principle word
      { ...ok, principle: null, label: 'neither' }, // not an overall word
      { ...ok, label: '__proto__' },
      { ...ok, pair: 'x'.repeat(513) },
      { ...ok, rationale: 'x'.repeat(10_001) },
      { ...ok, rationale: 3 },
      { ...ok, extra: true },
    ])
      expect(parseReviewMessage(bad), JSON.stringify(bad)?.slice(0, 80)).toBeNull();
  });
});
