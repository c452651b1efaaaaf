// The end-to-end suite: a person labelling with the keyboard in a real VS Code, then the SQLite
// file checked row by row. This script starts the browser and the fake LLM endpoint, builds the
// context the steps share (the database query, the sample's pairs, the card helpers) and runs the
// steps of test/e2e/steps/ in the order listed below; each step is one thing a user does, and
// checks what the user and the database should see. Run by scripts/e2e-run.sh (npm run test:e2e).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Libsql from 'libsql';
import { launch, openWorkbench, webview } from './driver.mjs';
import { startFakeLlm } from './fake-llm.mjs';
import { assertAllGone, snapshot } from './processes.mjs';
import * as identity from './steps/01-identity.mjs';
import * as blindLabels from './steps/02-blind-labels.mjs';
import * as reload from './steps/03-reload.mjs';
import * as themes from './steps/04-themes.mjs';
import * as screenReader from './steps/05-screen-reader.mjs';
import * as moreLabels from './steps/06-more-labels.mjs';
import * as queues from './steps/07-queues.mjs';
import * as hostilePairs from './steps/08-hostile-pairs.mjs';
import * as dashboard from './steps/09-dashboard.mjs';
import * as rewardModel from './steps/10-reward-model.mjs';
import * as llmJudges from './steps/11-llm-judges.mjs';
import * as crash from './steps/12-crash-after-burst.mjs';
import * as review from './steps/13-review.mjs';
import * as walkthrough from './steps/14-walkthrough.mjs';

/**
 * In this order: later steps build on the labels, settings and runs of earlier ones. The crash step runs
 * before the model-judgment steps: those judge every sample pair, and a pair with model judgments waits for
 * the reveal after its submit, so a burst over them would not move the card on. The walkthrough comes last:
 * the steps before it have done each of its steps.
 */
const ALL_STEPS = [
  identity,
  blindLabels,
  reload,
  themes,
  screenReader,
  moreLabels,
  queues,
  hostilePairs,
  dashboard,
  crash,
  rewardModel,
  llmJudges,
  review,
  walkthrough,
];
// E2E_STEPS=1,12: only those steps (numbers as listed), to work on one step; a passing run is all of them
const only = process.env.E2E_STEPS?.split(',').map(Number);
const STEPS = ALL_STEPS.map((step, i) => ({ step, n: i + 1 })).filter(({ n }) => !only || only.includes(n));
const { E2E_PORT: port, E2E_WS: ws, E2E_DB: db, E2E_ROOT: root, E2E_STATE: state } = process.env;
const out = join(root, 'test-results');
mkdirSync(out, { recursive: true });
const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(ws)}`;
const t0 = Date.now();
const lap = (m) => console.log(`[e2e ${((Date.now() - t0) / 1000).toFixed(1)}s] ${m}`);

/** Reads the workbench's database as a second process would (read-only, WAL). */
async function query(sql, params = []) {
  const d = new Libsql(`file:${db}?mode=ro`);
  try {
    return d.prepare(sql).all(params);
  } finally {
    d.close();
  }
}

const readJsonl = (file) =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
// the sample pairs (media/sample/safety-pairs.jsonl): pair index i is source id s0(i+1)
const samplePairs = new Map(
  readJsonl(join(root, 'media', 'sample', 'safety-pairs.jsonl')).map((r) => [
    r.id,
    { prompt: r.prompt, y0: r.response_0, y1: r.response_1 },
  ]),
);
assert.equal(samplePairs.size, 30);
const hostileIds = readJsonl(join(root, 'test', 'fixtures', 'hostile', 'hostile-pairs.jsonl')).map((r) => r.id);
// What the model judgments prepare.mjs imports prefer, by hand from their files (row_id = pair
// index, so row 0 = s01; reward_a and order 0's A are y1): test/fixtures/models/sample-rewards.csv
// (s07's rewards are equal: a missing judgment) and sample-judge.csv (s05: A wins in both orders, a tie).
const MODELS = {
  'judge-fixture': { kind: 'llm-judge', prefs: { s01: 'y0', s04: 'y1', s05: 'tie' } },
  'rm-fixture': { kind: 'reward-model', prefs: { s01: 'y1', s02: 'y0', s04: 'y0', s05: 'y1', s06: 'y1', s07: null } },
};
const judgedBy = (id) => Object.keys(MODELS).filter((m) => id in MODELS[m].prefs);
const settingsFile = join(ws, '.vscode', 'settings.json');
const setWorkspaceSetting = (key, value) =>
  writeFileSync(
    settingsFile,
    JSON.stringify({ ...JSON.parse(readFileSync(settingsFile, 'utf8')), [key]: value }, null, 2),
  );

// the OpenAI-compatible endpoint of the LLM-judge steps (a real HTTP server on 127.0.0.1 in this process)
const llm = await startFakeLlm();
const { page, close } = await launch();
const dialogs = [];
page.on('dialog', (d) => {
  dialogs.push(d.message());
  void d.dismiss();
});
const external = new Set();
page.on('request', (r) => {
  const u = r.url();
  if (/^https?:/.test(u) && !/^https?:\/\/(127\.0\.0\.1|([a-z0-9-]+\.)?localhost)[:/]/.test(u))
    external.add(u.slice(0, 100));
});
// console errors and uncaught exceptions of the webview frames (the workbench's own are only logged),
// from the start: the pair card's and the dashboard's
const webviewErrors = [],
  otherErrors = [],
  probes = [];
const isWebview = (u) => /\/webview\/|vscode-webview|fake\.html|dashboard\.js/.test(u ?? '');
page.on('console', (m) => {
  if (m.type() !== 'error') return;
  const where = m.location().url;
  if (m.text() === 'e2e-console-probe') probes.push(where);
  else (isWebview(where) ? webviewErrors : otherErrors).push(`${m.text().slice(0, 300)} @ ${where}`);
});
page.on('pageerror', (e) =>
  (isWebview(e.stack) ? webviewErrors : otherErrors).push(
    `uncaught: ${e.message} @ ${(e.stack ?? '').split('\n')[1] ?? ''}`,
  ),
);
/** Waits until the console listener has heard a probe logged by `frame` (else "no console errors" proves nothing). */
const probeConsole = async (frame, what) => {
  const before = probes.length;
  await frame.evaluate(() => console.error('e2e-console-probe'));
  for (let i = 0; i < 100 && probes.length === before; i++) await page.waitForTimeout(100);
  assert.equal(probes.length, before + 1, `console messages of the ${what} webview reach the driver`);
};
let ok = false;
let current = '';
try {
  await openWorkbench(page, url);
  lap('VS Code up');
  // the card helpers every step uses (the webview's card, the blind model comparison)
  const card = webview(page).locator('#card');
  const sourceId = () => card.getAttribute('data-source-id');
  const progressText = () => webview(page).locator('#progress').textContent();
  const waitFor = async (id) => {
    await webview(page).locator(`#card[data-source-id="${id}"]`).waitFor({ timeout: 15_000 });
  };
  const identityBox = page.locator('.quick-input-widget .quick-input-title', { hasText: 'annotator identity' });
  const norm = (s) => s.toLowerCase().replace(/[^a-z0-9]/g, '');
  /** The side (A or B) showing y0 of the sample pair on the card now, read from the rendered responses. */
  const sideOfY0 = async (id) => {
    const a = norm(await webview(page).locator('#response-A .markdown').textContent());
    const b = norm(await webview(page).locator('#response-B .markdown').textContent());
    const { y0, y1 } = samplePairs.get(id);
    const k0 = norm(y0).slice(0, 40),
      k1 = norm(y1).slice(0, 40);
    const aY0 = a.includes(k0) && b.includes(k1),
      aY1 = a.includes(k1) && b.includes(k0);
    assert.ok(aY0 !== aY1, `the card of ${id} shows y0 and y1 once each`);
    return aY0 ? 'A' : 'B';
  };
  const other = (side) => (side === 'A' ? 'B' : 'A');
  /** Nothing of the models is on the card (all of the page's content, hidden parts too; not its script). */
  const assertBlind = async (id) => {
    assert.equal(
      await webview(page).locator('#models').isHidden(),
      true,
      `no model judgments shown on ${id} before submitting`,
    );
    const text = await webview(page).locator('main').textContent();
    assert.ok(text.includes(`Pair ${id}`), `the page content read is the card of ${id}`);
    for (const m of Object.keys(MODELS)) assert.ok(!text.includes(m), `${m} is not named on ${id} before submitting`);
    assert.ok(!text.includes('disagrees'), `no disagreement shown on ${id} before submitting`);
  };
  /** The revealed models: each model's choice in the card's A/B terms, and whether it disagrees with `mine` (y0/y1/tie). */
  const expectedModels = (id, mine, y0Side) =>
    judgedBy(id).map((m) => {
      const pref = MODELS[m].prefs[id];
      const shown =
        pref === null ? 'no judgment' : pref === 'tie' ? 'tie' : `Response ${pref === 'y0' ? y0Side : other(y0Side)}`;
      const disagrees = pref !== null && pref !== mine;
      return `${disagrees ? 'disagree' : 'agree'}|${m} (${MODELS[m].kind}): ${shown}${disagrees ? ' - disagrees with you' : ''}`;
    });
  const shownModels = async () =>
    (
      await webview(page)
        .locator('#models li')
        .evaluateAll((xs) => xs.map((x) => `${x.className}|${x.textContent}`))
    ).sort();
  /** After a submission on a judged pair: the models are revealed, then Enter goes on. */
  const assertRevealed = async (id, mine, y0Side) => {
    await webview(page).locator('#models:not([hidden]) li').first().waitFor({ timeout: 15_000 });
    assert.equal(await sourceId(), id, `the reveal is shown on ${id}`);
    assert.deepEqual(await shownModels(), expectedModels(id, mine, y0Side).sort(), `models revealed on ${id}`);
    assert.ok((await webview(page).locator('#models').textContent()).includes('Press Enter for the next pair.'));
  };
  /** The y-side of a choice on the card (A/B) given the side showing y0. */
  const yOf = (choice, y0Side) => (choice === 'tie' ? 'tie' : choice === y0Side ? 'y0' : 'y1');

  const ctx = {
    page,
    query,
    samplePairs,
    hostileIds,
    MODELS,
    judgedBy,
    settingsFile,
    setWorkspaceSetting,
    llm,
    dialogs,
    external,
    webviewErrors,
    otherErrors,
    probeConsole,
    lap,
    out,
    url,
    state,
    ws,
    db,
    root,
    port,
    card,
    sourceId,
    progressText,
    waitFor,
    identityBox,
    norm,
    sideOfY0,
    other,
    assertBlind,
    expectedModels,
    shownModels,
    assertRevealed,
    yOf,
  };
  for (const { step, n } of STEPS) {
    current = `step ${n} of ${ALL_STEPS.length}: ${step.title}`;
    lap(`-- ${current}`);
    await step.default(ctx);
  }
  ok = !only;
  if (only) lap(`only steps ${only.join(', ')} ran (E2E_STEPS): not a passing run`);
} catch (e) {
  console.error(`E2E FAILED in ${current}:`, e?.stack ?? e);
  for (const f of page.frames())
    console.error(
      'frame:',
      f.url().slice(0, 160),
      await f.evaluate(() => document.body?.innerHTML.slice(0, 300)).catch((x) => String(x).slice(0, 100)),
    );
  console.error(
    'webview iframes:',
    await page.locator('iframe.webview').evaluateAll((xs) => xs.map((x) => x.className)),
  );
  await page.screenshot({ path: join(out, 'e2e-failure.png') }).catch(() => undefined);
} finally {
  // the browser (and anything else this script started) stopped, and checked to be gone
  const started = snapshot();
  await close();
  await llm.close();
  try {
    await assertAllGone(started, { what: "the workbench suite's driver" });
  } catch (e) {
    console.error(`E2E FAILED: ${e.message}`);
    ok = false;
  }
}
lap(ok ? 'PASS' : 'FAIL');
process.exit(ok ? 0 : 1);
