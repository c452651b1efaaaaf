// Webview-only part of the workbench benchmark (not a test): the built workbench bundle
// (dist/webview/workbench.js and .css, inlined into the page as the panel does) in Chromium, with a stub
// host in the page that speaks the panel's protocol (src/shared/workbenchProtocol.ts): the first card in
// the page, the next cards read ahead ('prefetch'), and each submission acknowledged ('saved') after
// --host-ms. Measures, per submission, the keystroke (the Enter keydown's timestamp) to the next card
// painted, two ways:
//   - frame: the bundle's own figure (window.__discretionTimings): the card's DOM written, then
//     requestAnimationFrame, then the first task after that frame (setTimeout 0): the frame that drew the
//     card has been committed by then. The figure the targets of npm run bench:e2e are set in.
//   - presented: the browser's Event Timing entry of that keydown (PerformanceEventTiming.duration: to the
//     frame presented after its handlers, rounded to 8 ms; only entries of 16 ms or more are reported, so
//     a keystroke without one counts as under 16 ms).
// With --compare DIR (another build's dist/webview, e.g. of the main branch), the two bundles run in
// alternating blocks in one browser (a fresh page per block, its first submissions not counted), so both
// see the same machine load.
// --trace PREFIX: a Chromium trace of each bundle's first block, PREFIX.1.json (--bundle), PREFIX.2.json (--compare).
// Usage: node scripts/e2e-webview-bench.mjs [--submissions 200] [--host-ms 20] [--block 25] [--bundle DIR]
//        [--compare DIR]   (--bundle: the build to measure, default dist/webview)
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '..');
const { values: opt } = parseArgs({
  options: {
    submissions: { type: 'string', default: '200' },
    'host-ms': { type: 'string', default: '20' },
    block: { type: 'string', default: '25' },
    bundle: { type: 'string', default: join(root, 'dist', 'webview') },
    compare: { type: 'string' },
    trace: { type: 'string' },
  },
});
const N = Number(opt.submissions);
const HOST_MS = Number(opt['host-ms']);
const BLOCK = Number(opt.block);
const WARMUP = 5;

/** The bench's cards: the shape and sizes of the e2e benchmark's generated dataset (test/e2e/prepare.mjs). */
const cardFor = (i, seq) => ({
  seq,
  dataset: 'bench-100k',
  annotator: 'bench',
  signedIn: null,
  pairIdx: i,
  sourceId: `b${i}`,
  turns: [
    { role: 'human', text: `Question number ${i}: how should I handle situation ${i % 97}?` },
    { role: 'assistant', text: 'Can you say more?' },
    { role: 'human', text: `It is urgent (${i}).` },
  ],
  // the responses as the host renders their Markdown (src/core/responseMarkdown.ts)
  responseAHtml: `<p><strong>Answer ${i}/0.</strong> ${'A careful, hedged response with some detail. '.repeat(8 + (i % 5))}</p>\n`,
  responseBHtml: `<p>Answer ${i}/1:</p>\n<ul>\n<li>point one</li>\n<li>point two</li>\n</ul>\n<p>${'A direct response. '.repeat(10 + (i % 7))}</p>\n`,
  shownFirst: 0,
  principleList: 'demo-safety@1',
  principles: Array.from({ length: 6 }, (_, k) => ({
    short: `Principle ${k + 1}`,
    text: `The full text of principle ${k + 1}, which is somewhat longer.`,
  })),
  existing: null,
  models: null,
  judged: false,
  progress: { labelled: i, total: 100000 },
  filter: 'all pairs',
  hasPrevious: i > 0,
  hasNext: true,
});

/**
 * The stub host, run in the page before the bundle: the panel's answers (src/extension/workbenchPanel.ts)
 * with no database: READ_AHEAD cards ahead of the one shown, kept (same seq) from one list to the next,
 * each list sent with whole cards (as a list after a new page is: older builds read only those).
 */
function stubHost(hostMs) {
  const READ_AHEAD = 10; // (src/app/workbench/cards.ts)
  let seq = 1;
  let labelled = 0;
  /** The pair shown by the host's count, and the cards read ahead after it. */
  let current = 0;
  let ahead = [];
  const send = (m, delay = 0) => setTimeout(() => window.postMessage(m, '*'), delay);
  const readAhead = () => {
    while (ahead.length < READ_AHEAD) ahead.push(window.__cardFor((ahead.at(-1)?.pairIdx ?? current) + 1, seq++));
    return ahead.slice();
  };
  window.__benchEnters = [];
  window.__benchEventTimings = [];
  // the Enter keydowns' timestamps, to find their Event Timing entries (registered before the bundle's listener)
  window.addEventListener('keydown', (e) => e.key === 'Enter' && window.__benchEnters.push(e.timeStamp), true);
  new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      if (e.name === 'keydown') window.__benchEventTimings.push([e.startTime, e.duration]);
  }).observe(/** @type {PerformanceObserverInit} */ ({ type: 'event', durationThreshold: 16 }));
  window.acquireVsCodeApi = () => ({
    getState: () => undefined,
    setState() {},
    /** @param {{ type: string, seq?: number, pairIdx?: number, ahead?: number | null }} m (WorkbenchWebviewMessage) */
    postMessage(m) {
      if (m.type === 'ready') send({ type: 'prefetch', cards: readAhead() });
      if (m.type !== 'submit') return;
      labelled++;
      const total = 100000;
      if (m.ahead !== null && ahead[0]?.seq === m.ahead) {
        current = ahead.shift().pairIdx;
        send({ type: 'saved', pairIdx: m.pairIdx, seq: m.seq, progress: { labelled, total } }, hostMs);
        send({ type: 'prefetch', cards: readAhead() }, hostMs);
      } else {
        // nothing was read ahead: the host's next card follows the acknowledgement
        current = m.pairIdx + 1;
        ahead = [];
        send({ type: 'saved', pairIdx: m.pairIdx, seq: m.seq, progress: { labelled, total } }, hostMs);
        send({ type: 'card', card: window.__cardFor(current, seq++) }, hostMs);
        send({ type: 'prefetch', cards: readAhead() }, hostMs);
      }
    },
  });
}

/** The page as the panel builds it (workbenchPage in src/extension/workbenchPanel.ts), with the stub first. */
function pageFor(dir) {
  const js = readFileSync(join(dir, 'workbench.js'), 'utf8').replace(/<\/script/gi, '<\\/script');
  const css = readFileSync(join(dir, 'workbench.css'), 'utf8');
  const first = JSON.stringify({ type: 'card', card: cardFor(0, 0) }).replace(/</g, '\\u003c');
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><style>${css}</style></head>
<body><main><div id="status" role="status" aria-live="polite">Loading the workbench...</div>
<div id="card" tabindex="-1" aria-label="Pair card" hidden></div></main>
<script type="application/json" id="first-card">${first}</script>
<script>window.__cardFor = ${cardFor.toString()}; (${stubHost.toString()})(${HOST_MS});</script>
<script>${js}</script></body></html>`;
}

const bundles = [{ name: opt.bundle, dir: resolve(opt.bundle) }];
if (opt.compare) bundles.push({ name: opt.compare, dir: resolve(opt.compare) });
for (const b of bundles) {
  b.html = pageFor(b.dir);
  b.frame = [];
  b.presented = [];
  b.saved = [];
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu'],
});

/** One block on a fresh page: WARMUP submissions, then `n` measured (traced into `trace` when given). */
async function block(b, n, trace) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.setContent(b.html);
  await page.locator('#card[data-seq="0"]').waitFor();
  // the wait for each card runs in the page and only reads a counter (no locator polling on its thread)
  const painted = (k) =>
    page.evaluate(
      (k) =>
        new Promise((done) => {
          const check = () => (window.__discretionTimings.length > k ? done() : setTimeout(check, 25));
          check();
        }),
      k,
    );
  for (let i = 0; i < WARMUP + n; i++) {
    if (i === WARMUP) {
      // (the warm-up labels acknowledged first, so that only the measured ones are counted)
      await page.waitForFunction((k) => window.__discretionCommits.length >= k, WARMUP, { polling: 50 });
      await page.evaluate(() => {
        window.__discretionTimings = [];
        window.__discretionCommits = [];
        window.__benchEnters = [];
      });
      if (trace)
        await browser.startTracing(page, {
          path: trace,
          categories: [
            'devtools.timeline',
            'toplevel',
            'blink.user_timing',
            'v8.execute',
            'disabled-by-default-devtools.timeline',
          ],
        });
    }
    await page.keyboard.press(i % 2 ? 'a' : 'b');
    await page.keyboard.press('1');
    await page.keyboard.press('a');
    await page.keyboard.press('Enter');
    await painted(i < WARMUP ? i : i - WARMUP);
  }
  await page.waitForFunction((k) => window.__discretionCommits.length >= k, n, { polling: 50 });
  await page.waitForTimeout(100); // the last Event Timing entries are reported after their frame
  if (trace) await browser.stopTracing();
  const got = await page.evaluate(() => ({
    frame: window.__discretionTimings,
    saved: window.__discretionCommits,
    stamps: window.__benchEnters,
    timings: window.__benchEventTimings,
  }));
  b.frame.push(...got.frame);
  b.saved.push(...got.saved);
  // under 16 ms when the browser reported no entry (its threshold); else its duration
  for (const s of got.stamps) b.presented.push(got.timings.find(([t]) => Math.abs(t - s) < 0.01)?.[1] ?? 0);
  await page.close();
}

for (let done = 0; done < N; done += BLOCK)
  for (const [k, b] of bundles.entries())
    await block(b, Math.min(BLOCK, N - done), done === 0 && opt.trace ? `${opt.trace}.${k + 1}.json` : undefined);
await browser.close();

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return +s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)].toFixed(1);
};
const dist = (xs) => ({ n: xs.length, p50: pct(xs, 50), p95: pct(xs, 95), p99: pct(xs, 99), max: pct(xs, 100) });
const presentedDist = (xs) => {
  const d = dist(xs);
  // 0 stands for "under 16 ms" (no entry): say so rather than print 0
  const say = (v) => (v === 0 ? '<16' : v);
  return {
    n: d.n,
    under_16: xs.filter((x) => x === 0).length,
    p50: say(d.p50),
    p95: say(d.p95),
    p99: say(d.p99),
    max: say(d.max),
  };
};
console.log(
  JSON.stringify(
    {
      submissions_per_bundle: N,
      host_ms: HOST_MS,
      blocks_of: BLOCK,
      painted_means: {
        frame:
          'keydown timestamp -> card DOM written -> requestAnimationFrame -> first task after that frame (setTimeout 0)',
        presented: "the keydown's Event Timing duration: to the next frame presented (8 ms steps; none under 16 ms)",
      },
      bundles: bundles.map((b) => ({
        bundle: b.name,
        submit_to_paint_frame_ms: dist(b.frame),
        submit_to_paint_presented_ms: presentedDist(b.presented),
        submit_to_saved_ms: dist(b.saved),
      })),
    },
    null,
    2,
  ),
);
