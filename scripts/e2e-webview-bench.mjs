// Webview-only part of the workbench benchmark: the built dist/webview/workbench.js in Chromium with a
// stub host that answers each submission at once (zero host latency) with the next card, so the
// webview's own submit -> painted time (keydown -> card rendered -> next frame) is measured alone.
// Usage: node scripts/e2e-webview-bench.mjs [submissions=200]
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '..');
const N = Number(process.argv[2] || 200);
const dir = mkdtempSync(join(tmpdir(), 'wv-bench-'));
const cardFor = (i, seq) => ({
  seq,
  dataset: 'bench-100k',
  annotator: 'bench',
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
  progress: { labelled: i, total: 100000 },
  filter: 'all pairs',
  hasPrevious: i > 0,
  hasNext: true,
});
writeFileSync(join(dir, 'cards.js'), `window.__cardFor = ${cardFor.toString()};`);
writeFileSync(
  join(dir, 'stub.js'),
  `
window.__posts = []; let seq = 1, idx = 0;
window.acquireVsCodeApi = () => ({ getState: () => undefined, setState() {}, postMessage(m) {
  window.__posts.push(m.type);
  const reply = (msg) => setTimeout(() => window.postMessage(msg, '*'), 0);
  if (m.type === 'ready') { reply(${'{'} type: 'card', card: window.__cardFor(0, seq++) }); reply(${'{'} type: 'prefetch', card: window.__cardFor(1, 0) }); }
  if (m.type === 'submit') { idx++; reply(window.__reply(idx, seq++)); reply(${'{'} type: 'prefetch', card: window.__cardFor(idx + 1, 0) }); }
} });
window.__reply = (i, s) => ({ type: 'card', card: window.__cardFor(i, s) });`,
);
writeFileSync(
  join(dir, 'index.html'),
  `<!DOCTYPE html><html><head><link rel="stylesheet" href="file://${root}/dist/webview/workbench.css"></head>
<body><main><div id="status" role="status">Loading</div><div id="card" tabindex="-1" hidden></div></main>
<script src="cards.js"></script><script src="stub.js"></script><script src="file://${root}/dist/webview/workbench.js"></script></body></html>`,
);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--allow-file-access-from-files'],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
const t = Date.now();
await page.goto('file://' + join(dir, 'index.html'));
await page.locator('#card[data-seq="1"]').waitFor();
const loadMs = Date.now() - t;
await page.evaluate(() => {
  window.__discretionTimings = [];
  window.__discretionPhases = [];
});
// WEBVIEW_TRACE=FILE: a Chromium trace of the submissions (open it in chrome://tracing or Perfetto)
if (process.env.WEBVIEW_TRACE)
  await browser.startTracing(page, {
    path: process.env.WEBVIEW_TRACE,
    categories: ['devtools.timeline', 'blink.user_timing', 'v8.execute', 'disabled-by-default-devtools.timeline'],
  });
for (let i = 0; i < N; i++) {
  const seq = await page.locator('#card').getAttribute('data-seq');
  await page.keyboard.press(i % 2 ? 'a' : 'b');
  await page.keyboard.press('1');
  await page.keyboard.press('a');
  await page.keyboard.press('Enter');
  await page.locator(`#card:not([data-seq="${seq}"])`).waitFor();
}
if (process.env.WEBVIEW_TRACE) await browser.stopTracing();
const xs = await page.evaluate(() => window.__discretionTimings);
const phases = await page.evaluate(() => window.__discretionPhases);
const pct = (p) => {
  const s = [...xs].sort((a, b) => a - b);
  return +s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)].toFixed(1);
};
const median = (k) => {
  const s = phases.map((p) => p[k]).sort((a, b) => a - b);
  return +s[Math.floor(s.length / 2)].toFixed(1);
};
console.log(
  JSON.stringify({
    load_ms: loadMs,
    n: xs.length,
    submit_to_paint_ms: { p50: pct(50), p95: pct(95), max: +Math.max(...xs).toFixed(1) },
    steps_p50_ms: Object.fromEntries(['posted', 'received', 'rendered', 'painted'].map((k) => [k, median(k)])),
  }),
);
await browser.close();
