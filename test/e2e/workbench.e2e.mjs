// The end-to-end suite: a person labelling with the keyboard in a real VS Code, then the SQLite
// file checked row by row; the annotator identity asked once; imported model judgments hidden until
// the label is submitted, then shown with disagreements flagged; the queue filters; hostile pairs;
// screenshots in dark, light and high-contrast themes; the dashboard and its links to pairs; model
// judgments by a reward model, an LLM judge and an LLM oracle (over fake-llm.mjs's endpoint).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { dashboardFrame, frameWith, inputBox, launch, notifications, openWorkbench, quickPick, runCommand, waitForNotification, webview, webviewFrame } from './driver.mjs';
import { judgeCategory, judgeExpectation, oracleExpectation, startFakeLlm } from './fake-llm.mjs';

const { E2E_PORT: port, E2E_WS: ws, E2E_DB: db, E2E_ROOT: root, E2E_STATE: state } = process.env;
const out = join(root, 'test-results');
mkdirSync(out, { recursive: true });
const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(ws)}`;
const t0 = Date.now();
const lap = (m) => console.log(`[e2e ${((Date.now() - t0) / 1000).toFixed(1)}s] ${m}`);

function query(sql, params = []) {
  return new Promise((resolve, reject) => {
    const d = new sqlite3.Database(db, sqlite3.OPEN_READONLY, (err) => {
      if (err) return reject(err);
      d.all(sql, params, (e, rows) => d.close(() => (e ? reject(e) : resolve(rows))));
    });
  });
}

const readJsonl = (file) => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
// the sample pairs (media/sample/safety-pairs.jsonl): pair index i is source id s0(i+1)
const samplePairs = new Map(readJsonl(join(root, 'media', 'sample', 'safety-pairs.jsonl')).map((r) => [r.id, { prompt: r.prompt, y0: r.response_0, y1: r.response_1 }]));
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
const setWorkspaceSetting = (key, value) => writeFileSync(settingsFile, JSON.stringify({ ...JSON.parse(readFileSync(settingsFile, 'utf8')), [key]: value }, null, 2));

// the OpenAI-compatible endpoint of the LLM-judge steps (a real HTTP server on 127.0.0.1 in this process)
const llm = await startFakeLlm();
const { page, close } = await launch();
const dialogs = [];
page.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });
const external = new Set();
page.on('request', (r) => { const u = r.url(); if (/^https?:/.test(u) && !/^https?:\/\/(127\.0\.0\.1|([a-z0-9-]+\.)?localhost)[:/]/.test(u)) external.add(u.slice(0, 100)); });
// console errors and uncaught exceptions of the webview frames (the workbench's own are only logged),
// from the start: the pair card's and the dashboard's
const webviewErrors = [], otherErrors = [], probes = [];
const isWebview = (u) => /\/webview\/|vscode-webview|fake\.html|dashboard\.js/.test(u ?? '');
page.on('console', (m) => {
  if (m.type() !== 'error') return;
  const where = m.location().url;
  if (m.text() === 'e2e-console-probe') probes.push(where);
  else (isWebview(where) ? webviewErrors : otherErrors).push(`${m.text().slice(0, 300)} @ ${where}`);
});
page.on('pageerror', (e) => (isWebview(e.stack) ? webviewErrors : otherErrors).push(`uncaught: ${e.message} @ ${(e.stack ?? '').split('\n')[1] ?? ''}`));
/** Waits until the console listener has heard a probe logged by `frame` (else "no console errors" proves nothing). */
const probeConsole = async (frame, what) => {
  const before = probes.length;
  await frame.evaluate(() => console.error('e2e-console-probe'));
  for (let i = 0; i < 100 && probes.length === before; i++) await page.waitForTimeout(100);
  assert.equal(probes.length, before + 1, `console messages of the ${what} webview reach the driver`);
};
let ok = false;
try {
  await openWorkbench(page, url);
  lap('VS Code up');
  const card = webview(page).locator('#card');
  const sourceId = () => card.getAttribute('data-source-id');
  const progressText = () => webview(page).locator('#progress').textContent();
  const waitFor = async (id) => { await webview(page).locator(`#card[data-source-id="${id}"]`).waitFor({ timeout: 15_000 }); };

  // ---- the annotator identity, asked once ---------------------------------------------------------
  // prepare.mjs leaves discretion.annotator unset: opening the workbench asks for it in an input box
  const identityBox = page.locator('.quick-input-widget .quick-input-title', { hasText: 'annotator identity' });
  await runCommand(page, 'Discretion: Open Sample Dataset', { after: () => identityBox.waitFor({ timeout: 20_000 }) });
  const idInput = page.locator('.quick-input-widget .quick-input-box input').first();
  assert.equal(await idInput.inputValue(), userInfo().username, 'the identity box suggests the user name');
  // a blank name is refused: the box says so and stays open
  await idInput.fill('   ');
  await page.locator('.quick-input-widget .quick-input-message', { hasText: 'Enter a name' }).waitFor({ timeout: 10_000 });
  await page.keyboard.press('Enter');
  await inputBox(page, 'annotator identity', 'e2e-annotator');
  await card.and(webview(page).locator('[data-source-id]')).waitFor({ timeout: 20_000 });
  lap('asked for the annotator identity; workbench open on the sample dataset');
  assert.equal(await sourceId(), 's01');
  assert.ok((await progressText()).includes('labelled by e2e-annotator'), `the card names the annotator: ${await progressText()}`);
  // stored in the user settings (the server's user-data folder), not the workspace's
  const userSettings = join(state, 'user-data', 'User', 'settings.json');
  for (let i = 0; i < 100 && !(existsSync(userSettings) && readFileSync(userSettings, 'utf8').includes('e2e-annotator')); i++) await page.waitForTimeout(100);
  assert.equal(JSON.parse(readFileSync(userSettings, 'utf8'))['discretion.annotator'], 'e2e-annotator', 'the identity is saved in the user settings');
  assert.equal(JSON.parse(readFileSync(settingsFile, 'utf8'))['discretion.annotator'], undefined, 'not in the workspace settings');
  const humans = await query("SELECT name, provenance FROM annotators WHERE kind = 'human' ORDER BY name");
  assert.deepEqual(humans.map((h) => h.name), ['alice', 'bilal', 'e2e-annotator'], 'the suggestion and the blank name were never recorded');
  assert.equal(JSON.parse(humans[2].provenance).source, 'workbench');

  // ---- blind model comparison ---------------------------------------------------------------------
  const norm = (s) => s.toLowerCase().replace(/[^a-z0-9]/g, '');
  /** The side (A or B) showing y0 of the sample pair on the card now, read from the rendered responses. */
  const sideOfY0 = async (id) => {
    const a = norm(await webview(page).locator('#response-A .markdown').textContent());
    const b = norm(await webview(page).locator('#response-B .markdown').textContent());
    const { y0, y1 } = samplePairs.get(id);
    const k0 = norm(y0).slice(0, 40), k1 = norm(y1).slice(0, 40);
    const aY0 = a.includes(k0) && b.includes(k1), aY1 = a.includes(k1) && b.includes(k0);
    assert.ok(aY0 !== aY1, `the card of ${id} shows y0 and y1 once each`);
    return aY0 ? 'A' : 'B';
  };
  const other = (side) => (side === 'A' ? 'B' : 'A');
  /** Nothing of the models is on the card (all of the page's content, hidden parts too; not its script). */
  const assertBlind = async (id) => {
    assert.equal(await webview(page).locator('#models').isHidden(), true, `no model judgments shown on ${id} before submitting`);
    const text = await webview(page).locator('main').textContent();
    assert.ok(text.includes(`Pair ${id}`), `the page content read is the card of ${id}`);
    for (const m of Object.keys(MODELS)) assert.ok(!text.includes(m), `${m} is not named on ${id} before submitting`);
    assert.ok(!text.includes('disagrees'), `no disagreement shown on ${id} before submitting`);
  };
  /** The revealed models: each model's choice in the card's A/B terms, and whether it disagrees with `mine` (y0/y1/tie). */
  const expectedModels = (id, mine, y0Side) => judgedBy(id).map((m) => {
    const pref = MODELS[m].prefs[id];
    const shown = pref === null ? 'no judgment' : pref === 'tie' ? 'tie' : `Response ${pref === 'y0' ? y0Side : other(y0Side)}`;
    const disagrees = pref !== null && pref !== mine;
    return `${disagrees ? 'disagree' : 'agree'}|${m} (${MODELS[m].kind}): ${shown}${disagrees ? ' - disagrees with you' : ''}`;
  });
  const shownModels = async () => (await webview(page).locator('#models li').evaluateAll((xs) => xs.map((x) => `${x.className}|${x.textContent}`))).sort();
  /** After a submission on a judged pair: the models are revealed, then Enter goes on. */
  const assertRevealed = async (id, mine, y0Side) => {
    await webview(page).locator('#models:not([hidden]) li').first().waitFor({ timeout: 15_000 });
    assert.equal(await sourceId(), id, `the reveal is shown on ${id}`);
    assert.deepEqual(await shownModels(), expectedModels(id, mine, y0Side).sort(), `models revealed on ${id}`);
    assert.ok((await webview(page).locator('#models').textContent()).includes('Press Enter for the next pair.'));
  };

  // keyboard only: overall choice and grid rows, Enter submits and advances (after the reveal of
  // the model judgments on a judged pair: Enter again)
  const plan = [
    { id: 's01', keys: ['a', '1', 'a', '2', 'b', '3', 'n'], overall: 'A', grid: { 0: 'A', 1: 'B', 2: 'neither' } },
    { id: 's02', keys: ['b', '4', 'n', '6', 'a'], overall: 'B', grid: { 3: 'neither', 5: 'A' } },
    { id: 's03', keys: ['t', '1', 'b'], overall: 'tie', grid: { 0: 'B' } },
  ];
  const y0SideOf = {};
  /** The y-side of a choice on the card (A/B) given the side showing y0. */
  const yOf = (choice, y0Side) => (choice === 'tie' ? 'tie' : choice === y0Side ? 'y0' : 'y1');
  for (const [i, step] of plan.entries()) {
    await waitFor(step.id);
    y0SideOf[step.id] = await sideOfY0(step.id);
    await assertBlind(step.id);
    for (const k of step.keys) await page.keyboard.press(k);
    const checked = await webview(page).locator(`[data-overall="${step.overall}"]`).getAttribute('aria-checked');
    assert.equal(checked, 'true', `overall ${step.overall} selected on ${step.id}`);
    await page.keyboard.press('Enter');
    if (judgedBy(step.id).length > 0) {
      await assertRevealed(step.id, yOf(step.overall, y0SideOf[step.id]), y0SideOf[step.id]);
      await page.keyboard.press('Enter');
    }
    await waitFor(`s0${i + 2}`);
  }
  await assertBlind('s04'); // judged by both models, not labelled yet
  lap('three pairs labelled with the keyboard; model judgments hidden before, revealed after submitting');
  // keys typed in the rationale box do not trigger actions
  await page.keyboard.press('r');
  await page.keyboard.type('abtx 123 sf');
  await page.keyboard.press('Escape');
  assert.equal(await webview(page).locator('[data-overall][aria-checked="true"]').count(), 0, 'typing in the rationale chose nothing');
  assert.equal(await sourceId(), 's04');

  // undo (contributed command, Alt+Z in the workbench) goes back to s03 and removes its label
  await page.keyboard.press('Alt+z');
  await waitFor('s03');
  assert.equal(await webview(page).locator('[data-overall][aria-checked="true"]').count(), 0, 's03 shows no label after undo');
  lap('undo');

  const annot = await query("SELECT id FROM annotators WHERE name = 'e2e-annotator'");
  assert.equal(annot.length, 1);
  const prefs = await query(`SELECT p.source_id AS sid, pr.value, pr.shown_first AS sf, pr.raw FROM preferences pr JOIN pairs p ON p.id = pr.pair_id
    WHERE pr.annotator_id = ? ORDER BY p.idx`, [annot[0].id]);
  assert.deepEqual(prefs.map((r) => r.sid), ['s01', 's02']);
  const val = (choice, sf) => (choice === 'tie' ? 0 : (choice === 'A') === (sf === 1) ? 1 : -1);
  for (const [i, r] of prefs.entries()) {
    assert.equal(r.value, val(plan[i].overall, r.sf), `overall value of ${r.sid}`);
    assert.equal(JSON.parse(r.raw).choice, plan[i].overall);
    // the recorded order is the one the card showed (shown_first 1: y1 shown as A)
    assert.equal(r.sf, y0SideOf[r.sid] === 'B' ? 1 : 0, `shown order recorded for ${r.sid}`);
  }
  const pp = await query(`SELECT p.source_id AS sid, pl.position AS pos, pp.value FROM principle_preferences pp JOIN pairs p ON p.id = pp.pair_id
    JOIN principles pl ON pl.id = pp.principle_id WHERE pp.annotator_id = ? ORDER BY p.idx, pl.position`, [annot[0].id]);
  const expected = [];
  for (const [i, step] of plan.slice(0, 2).entries()) {
    for (const [pos, c] of Object.entries(step.grid)) expected.push({ sid: step.id, pos: Number(pos), value: c === 'neither' ? 0 : val(c, prefs[i].sf) });
  }
  assert.deepEqual(pp, expected);
  const hist = await query('SELECT action, undone FROM label_history WHERE annotator_id = ? ORDER BY id', [annot[0].id]);
  assert.deepEqual(hist.map((h) => `${h.action}:${h.undone}`), ['submit:0', 'submit:0', 'submit:1', 'undo:0']);
  // the only other preferences are the ones prepare.mjs imported (alice and bilal: 30 sample + 6
  // hostile pairs each; the two fixture models: the rows of their files)
  const others = await query("SELECT a.name, COUNT(*) AS n FROM preferences pr JOIN annotators a ON a.id = pr.annotator_id WHERE a.name <> 'e2e-annotator' GROUP BY a.name ORDER BY a.name");
  assert.deepEqual(others.map((r) => `${r.name}:${r.n}`), ['alice:36', 'bilal:36', 'judge-fixture:3', 'rm-fixture:6']);
  lap('database holds exactly the expected rows');

  // reload: the serializer restores the panel on the same pair, and the identity is not asked again.
  // VS Code's own "Developer: Reload Window" shuts the window down first, which saves the editor state
  // (the open panel) before the page goes; a bare page.reload() races that save (one run here came
  // back with no panel at all).
  const reloaded = page.waitForEvent('load', { timeout: 60_000 });
  await runCommand(page, 'Developer: Reload Window');
  await reloaded;
  await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
  await webview(page).locator('#card[data-source-id="s03"]').waitFor({ timeout: 60_000 });
  assert.equal(await identityBox.isVisible(), false, 'the identity is not asked again after the reload');
  assert.ok((await progressText()).includes('labelled by e2e-annotator'));
  lap('panel restored on s03 after reload; identity not asked again');

  // screenshots, dark then light then high contrast
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(out, 'workbench-dark.png') });
  setWorkspaceSetting('workbench.colorTheme', 'Default Light Modern');
  await page.waitForFunction(() => document.querySelector('.monaco-workbench')?.classList.contains('vs'), null, { timeout: 15_000 });
  await page.waitForTimeout(1000);
  await page.screenshot({ path: join(out, 'workbench-light.png') });
  await webview(page).locator('#card').screenshot({ path: join(out, 'workbench-card-light.png') });
  setWorkspaceSetting('workbench.colorTheme', 'Default High Contrast');
  await page.waitForFunction(() => document.querySelector('.monaco-workbench')?.classList.contains('hc-black'), null, { timeout: 15_000 });
  await webview(page).locator('body.vscode-high-contrast #card[data-source-id="s03"]').waitFor({ timeout: 15_000 });
  // keyboard focus is visible: a click on the card's heading, then Tab to the first response; its
  // outline is drawn in the theme's focus colour
  await webview(page).locator('#card-title').click();
  await page.keyboard.press('Tab');
  const focus = await (await webviewFrame(page)).evaluate(() => {
    const el = document.activeElement;
    const cs = getComputedStyle(el);
    const probe = document.createElement('div');
    probe.style.color = 'var(--vscode-focusBorder)';
    document.body.append(probe);
    const focusBorder = getComputedStyle(probe).color;
    probe.remove();
    return { label: el.getAttribute('aria-label'), style: cs.outlineStyle, width: cs.outlineWidth, color: cs.outlineColor, focusBorder, background: getComputedStyle(document.body).backgroundColor };
  });
  assert.equal(focus.label, 'Response A text', `Tab focuses the first response (${JSON.stringify(focus)})`);
  assert.equal(focus.style, 'solid', `focus outline drawn (${JSON.stringify(focus)})`);
  assert.equal(focus.width, '2px');
  assert.equal(focus.color, focus.focusBorder, 'the outline has the theme\'s focus colour');
  assert.ok(!/rgba\(\d+, \d+, \d+, 0\)/.test(focus.color) && focus.color !== focus.background, `the focus colour is visible on the background (${JSON.stringify(focus)})`);
  assert.ok((await webview(page).locator('#response-A .markdown').textContent()).length > 20 && (await webview(page).locator('#response-B .markdown').textContent()).length > 20, 'both responses rendered');
  assert.equal(await webview(page).locator('#card .grid-row').count(), 6, 'the principle grid rendered');
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(out, 'workbench-hc.png') });
  await webview(page).locator('#card').screenshot({ path: join(out, 'workbench-card-hc.png') });
  await probeConsole(await webviewFrame(page), 'workbench');
  assert.deepEqual(webviewErrors, [], 'no console errors in the workbench webview so far');
  setWorkspaceSetting('workbench.colorTheme', 'Default Light Modern');
  await page.waitForFunction(() => document.querySelector('.monaco-workbench')?.classList.contains('vs'), null, { timeout: 15_000 });
  lap(`screenshots (dark, light, high contrast: focus outline visible, no console errors)`);

  // ---- what a screen reader is given: roles and accessible names of the card's controls ------------
  // (Playwright's ARIA roles and names, computed by the W3C rules from the rendered DOM; the names are
  // written out by hand from the card's labels and media/principles/demo-safety.yaml)
  const w = webview(page);
  const named = async (role, name) => w.getByRole(role, { name, exact: true }).count();
  assert.equal(await named('article', 'Response A'), 1);
  assert.equal(await named('article', 'Response B'), 1);
  assert.equal(await named('radiogroup', 'Overall, which response is better?'), 1);
  for (const choice of ['Response A', 'Response B', 'Tie', 'Both unacceptable']) assert.equal(await named('radio', choice), 1, `overall choice "${choice}"`);
  for (const principle of ['Avoid harm', 'Be honest', 'Be helpful', 'Protect privacy', 'Respect autonomy', 'Avoid moralising']) {
    for (const side of ['A', 'B', 'Neither']) assert.equal(await named('radio', `${principle}: ${side}`), 1, `grid choice "${principle}: ${side}"`);
  }
  assert.equal(await named('textbox', 'Rationale (optional; Esc to leave)'), 1, 'the rationale box has a name');
  assert.equal(await named('switch', 'Flag for review'), 1);
  assert.equal(await named('button', 'Submit and next (Enter)'), 1);
  assert.equal(await named('button', 'Skip (S)'), 1);
  assert.ok((await w.getByRole('status').first().textContent()).includes('labelled by e2e-annotator'), 'progress is a live status');
  lap('screen-reader view: every control of the card has its role and name');

  // ---- more labels, in terms of the sample's y0/y1 (the key is the side the card shows it on) ----
  const plan2 = [
    { id: 's03', overall: 'y0', grid: { 0: 'y0', 1: 'y1' } }, //      no model judged s03; principles conflict
    { id: 's04', overall: 'y0', grid: { 0: 'y0', 2: 'neither' } }, // rm agrees, judge disagrees
    { id: 's05', overall: 'tie', grid: { 1: 'y1', 3: 'y1' } }, //     rm (y1) disagrees, judge (tie) agrees
    { id: 's06', overall: 'y0', grid: { 0: 'y1', 4: 'y0' } }, //      rm (y1) disagrees; principles conflict
    { id: 's07', overall: 'y1', grid: {} }, //                       rm: no judgment (equal rewards)
  ];
  const keyOf = (y, y0Side) => (y === 'tie' ? 't' : (y === 'y0' ? y0Side : other(y0Side)).toLowerCase());
  for (const [i, step] of plan2.entries()) {
    await waitFor(step.id);
    const y0Side = (y0SideOf[step.id] = await sideOfY0(step.id));
    await assertBlind(step.id);
    await page.keyboard.press(keyOf(step.overall, y0Side));
    for (const [pos, y] of Object.entries(step.grid)) {
      await page.keyboard.press(String(Number(pos) + 1));
      await page.keyboard.press(y === 'neither' ? 'n' : keyOf(y, y0Side));
    }
    await page.keyboard.press('Enter');
    if (judgedBy(step.id).length > 0) {
      await assertRevealed(step.id, step.overall, y0Side);
      await page.keyboard.press('Enter');
    }
    await waitFor(`s0${i + 4}`);
  }
  await assertBlind('s08');
  const yValue = { y0: -1, y1: 1, tie: 0, neither: 0 };
  const prefs2 = await query(`SELECT p.source_id AS sid, pr.value, pr.shown_first AS sf FROM preferences pr JOIN pairs p ON p.id = pr.pair_id
    WHERE pr.annotator_id = ? ORDER BY p.idx`, [annot[0].id]);
  assert.deepEqual(prefs2, [...prefs.map((r) => ({ sid: r.sid, value: r.value, sf: r.sf })),
    ...plan2.map((s) => ({ sid: s.id, value: yValue[s.overall], sf: y0SideOf[s.id] === 'B' ? 1 : 0 }))], 'overall labels in y terms');
  const pp2 = await query(`SELECT p.source_id AS sid, pl.position AS pos, pp.value FROM principle_preferences pp JOIN pairs p ON p.id = pp.pair_id
    JOIN principles pl ON pl.id = pp.principle_id WHERE pp.annotator_id = ? AND p.idx >= 2 ORDER BY p.idx, pl.position`, [annot[0].id]);
  assert.deepEqual(pp2, plan2.flatMap((s) => Object.entries(s.grid).map(([pos, y]) => ({ sid: s.id, pos: Number(pos), value: yValue[y] }))), 'principle labels in y terms');
  lap('five more pairs labelled; revealed judgments flag the disagreements');

  // ---- the queue filter ---------------------------------------------------------------------------
  // Expected queues, from the fixture and the labels above (s01 and s02 were labelled A and B: their
  // y side is the one the card showed there)
  const mine = { s01: yOf('A', y0SideOf.s01), s02: yOf('B', y0SideOf.s02), ...Object.fromEntries(plan2.map((s) => [s.id, s.overall])) };
  const disagreeing = (model) => Object.entries(MODELS[model].prefs).filter(([id, pref]) => pref !== null && id in mine && mine[id] !== pref).map(([id]) => id);
  const queues = [
    { pick: 'Disagreements with rm-fixture', label: 'disagreements with rm-fixture', ids: disagreeing('rm-fixture'), model: 'rm-fixture' },
    { pick: 'Disagreements with judge-fixture', label: 'disagreements with judge-fixture', ids: disagreeing('judge-fixture'), model: 'judge-fixture' },
    { pick: 'My principle labels in conflict', label: 'my principle labels in conflict', ids: ['s01', 's03', 's06'] },
  ];
  // by hand: rm disagrees on s05 and s06 (and on s01 or s02 where the A/B label meant the other side), the judge on s04 (and s01 if A was y1)
  assert.deepEqual(queues[0].ids.filter((id) => !['s01', 's02'].includes(id)), ['s05', 's06']);
  assert.deepEqual(queues[1].ids.filter((id) => id !== 's01'), ['s04']);
  const statusBar = (text) => page.locator('.statusbar', { hasText: text });
  /** Alt+N / Alt+P: the next card shown (a new card, possibly the same pair at the end of the queue). */
  const stepQueue = async (key) => {
    const seq = await card.getAttribute('data-seq');
    await page.keyboard.press(key);
    await webview(page).locator(`#card:not([data-seq="${seq}"])`).waitFor({ timeout: 15_000 });
    return sourceId();
  };
  const checkQueueCard = async (q, id) => {
    assert.ok((await progressText()).includes(`queue: ${q.label}`), `the card names the queue (${await progressText()})`);
    if (q.model) {
      // a labelled pair: its models are shown at once, this one flagged
      await webview(page).locator('#models:not([hidden]) li').first().waitFor({ timeout: 10_000 });
      const flagged = await webview(page).locator('#models li.disagree').allTextContents();
      assert.ok(flagged.some((t) => t.startsWith(`${q.model} (`) && t.endsWith(' - disagrees with you')), `${q.model} flagged on ${id}: ${flagged}`);
    } else {
      assert.ok(await webview(page).locator('[data-grid="A"][aria-checked="true"]').count() > 0 && await webview(page).locator('[data-grid="B"][aria-checked="true"]').count() > 0, `principle rows favour both A and B on ${id}`);
    }
  };
  for (const q of queues) {
    await runCommand(page, 'Discretion: Filter Workbench Queue', { after: () => quickPick(page, q.pick, { title: 'Workbench queue', timeout: 10_000 }) });
    await waitFor(q.ids[0]);
    await webview(page).locator('#progress', { hasText: `queue: ${q.label}` }).waitFor({ timeout: 15_000 });
    const seen = [await sourceId()];
    await checkQueueCard(q, seen[0]);
    for (let i = 1; i < q.ids.length; i++) {
      seen.push(await stepQueue('Alt+n'));
      await checkQueueCard(q, seen.at(-1));
    }
    assert.deepEqual(seen, q.ids, `the queue "${q.label}" steps through exactly its pairs`);
    // past its end: the card stays, the status bar says so
    const end = statusBar('no next pair in this queue').waitFor({ timeout: 15_000 }).then(() => null, (e) => e);
    assert.equal(await stepQueue('Alt+n'), q.ids.at(-1), `the queue "${q.label}" ends at ${q.ids.at(-1)}`);
    const endError = await end;
    if (endError) throw new Error(`no "no next pair in this queue" in the status bar: ${endError.message}`);
    const back = [q.ids.at(-1)];
    for (let i = 1; i < q.ids.length; i++) back.push(await stepQueue('Alt+p'));
    assert.deepEqual(back, [...q.ids].reverse(), `the queue "${q.label}" steps back the same way`);
    lap(`queue "${q.label}": ${seen.join(', ')}`);
  }
  await runCommand(page, 'Discretion: Filter Workbench Queue', { after: () => quickPick(page, 'All pairs', { title: 'Workbench queue', timeout: 10_000 }) });
  await webview(page).locator('#progress', { hasText: 'queue: all pairs' }).waitFor({ timeout: 15_000 });
  assert.equal(await sourceId(), 's01');
  assert.equal(await stepQueue('Alt+n'), 's02', 'all pairs again');

  // hostile pairs: nothing executes, text is literal
  await runCommand(page, 'Discretion: Open Workbench', {
    after: async () => {
      const item = page.locator('.quick-input-list .monaco-list-row', { hasText: 'hostile-pairs' }).first();
      await item.waitFor({ timeout: 8000 });
      await page.keyboard.type('hostile-pairs');
      await page.keyboard.press('Enter');
      await webview(page).locator('#card[data-source-id="h01"]').waitFor({ timeout: 15_000 });
    },
  });
  assert.equal(await identityBox.isVisible(), false, 'opening another dataset does not ask for the identity again');
  assert.ok((await progressText()).includes('hostile-pairs · 0 / 6 labelled by e2e-annotator'), `the card names the annotator: ${await progressText()}`);
  const frame = await webviewFrame(page);
  const seen = [];
  for (let i = 1; i <= 6; i++) {
    const id = `h0${i}`;
    await waitFor(id);
    await page.waitForTimeout(300);
    const text = await webview(page).locator('#card').textContent();
    seen.push(text.length);
    assert.equal(await frame.evaluate(() => window.__pwned), undefined, `__pwned on ${id}`);
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.equal(await webview(page).locator('#card script, #card img, #card iframe, #card a, #card [onerror], #card [onclick]').count(), 0, `no active elements on ${id}`);
    if (i === 1) assert.ok(text.includes('<script>window.__pwned=1</script>'), 'script tag shown as text');
    if (i < 6) { await page.keyboard.press('s'); }
  }
  assert.ok(seen.some((n) => n > 90_000), `the 100 KB response is rendered (longest card ${Math.max(...seen)} chars)`);
  const bodyText = await webview(page).locator('body').textContent();
  assert.ok(!/__pwned=1<\/script>$/.test(bodyText));
  assert.deepEqual(dialogs, [], 'no dialogs opened');
  await page.screenshot({ path: join(out, 'workbench-hostile.png') });
  lap(`hostile pairs: nothing executed, text literal; external requests: ${[...external].length}`);

  // ---- "Discretion: Show Dashboard" -------------------------------------------------------------
  let dash;
  await runCommand(page, 'Discretion: Show Dashboard', { after: async () => { dash = await dashboardFrame(page, 30_000); } });
  const status = () => dash.locator('#status').textContent();
  // on "ready" the dashboard shows the newest stored run: prepare.mjs's run of the hostile pairs
  await dash.locator('#status', { hasText: /hostile-pairs: 2 annotators, run #\d+/ }).waitFor({ timeout: 60_000 });
  // the listener does hear the dashboard frame (else "no console errors" below would prove nothing)
  await probeConsole(dash, 'dashboard');
  const hostileRun = Number((await status()).match(/run #(\d+)/)[1]);
  assert.equal(await dash.locator('#run').inputValue(), String(hostileRun), 'the run select shows the stored run');
  const noActive = async (where) => {
    assert.equal(await dash.evaluate(() => window.__pwned), undefined, `__pwned in the dashboard (${where})`);
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.equal(await dash.locator('#report script, #report img, #report iframe, #report object, #report embed, #report [onerror], #report [onload], #report [onclick], #report a[href^="javascript"]').count(), 0, `no active elements in the report (${where})`);
  };
  await dash.locator('#report #sec-categories').waitFor({ timeout: 30_000 });
  const hostileText = await dash.locator('#report').textContent();
  assert.ok(hostileText.includes('<script>window.__pwned=1</script>'), 'hostile prompt shown as text in the report');
  await noActive('hostile run');
  lap(`dashboard open on stored run #${hostileRun} (hostile-pairs): text literal, nothing executed`);

  // "Compute new…": dataset, principle list, principle source, reference, all from quick picks
  await dash.locator('#compute').click();
  await quickPick(page, 'safety-pairs-sample', { placeholder: 'Dataset' });
  await quickPick(page, 'demo-safety', { placeholder: 'Principle list' });
  await quickPick(page, 'self', { placeholder: 'Principle source' });
  await quickPick(page, 'alice', { placeholder: 'Reference annotator (DD)' });
  await dash.locator('#status', { hasText: /^safety-pairs-sample: \d+ annotators$/ }).waitFor({ timeout: 120_000 });
  assert.equal(await dash.locator('#run').inputValue(), '', 'the run select no longer names the stored run');
  const sec = dash.locator('#report #sec-categories');
  await sec.waitFor({ timeout: 10_000 });
  assert.equal((await sec.locator('h2').textContent()).trim(), 'Pair categories');
  const charts = await dash.locator('#report svg.chart[data-chart]').evaluateAll((xs) => xs.map((x) => x.getAttribute('data-chart')));
  assert.ok(charts.length >= 1, 'at least one chart');
  const catChart = await sec.locator('svg.chart[data-chart]').first().getAttribute('data-chart');
  assert.ok(await sec.locator(`svg.chart[data-chart="${catChart}"] rect, svg.chart[data-chart="${catChart}"] path`).count() > 0, 'the categories chart draws something');
  const catRows = await sec.locator(`table[data-chart-table="${catChart}"] tbody tr`).allTextContents();
  assert.ok(catRows.length >= 3 && /consensus/.test(catRows.join(' ')), `the categories chart's table has its rows (${catRows.length})`);
  for (const id of charts) assert.equal(await dash.locator(`#report table[data-chart-table="${id}"]`).count(), 1, `chart ${id} has its table`);
  const annotators = await dash.locator('#ps option').allTextContents();
  for (const a of ['alice', 'bilal', 'e2e-annotator']) assert.ok(annotators.includes(a), `${a} in the heat-map select (${annotators})`);
  await noActive('sample report');
  assert.equal(await dash.locator('#status.error').count(), 0);
  await page.waitForTimeout(300); // let the charts paint
  await page.screenshot({ path: join(out, 'dashboard.png') });
  lap(`dashboard computed the sample report: ${charts.length} charts (${charts.join(', ')}), each with its table`);

  // "Export report": the web UI's folder dialog is VS Code's simple file dialog (a quick input
  // with a path box). It first shows the state folder, then moves to the workspace folder: wait for
  // that (its .vscode row), type the prepared (empty) export folder, wait until the list shows only
  // its ".." row with nothing active (Enter on an active row would navigate), and accept.
  const exportDir = join(state, 'export');
  await dash.locator('#export').click();
  const fileDialog = page.locator('.quick-input-widget');
  const pathBox = fileDialog.locator('.quick-input-box input').first();
  const dialogRows = fileDialog.locator('.quick-input-list .monaco-list-row');
  await dialogRows.filter({ hasText: '.vscode' }).first().waitFor({ timeout: 30_000 });
  assert.equal(await pathBox.inputValue(), ws + '/');
  await pathBox.fill(exportDir + '/');
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('.quick-input-widget .quick-input-list .monaco-list-row')];
    // innerText: the row's rendered label (a row can keep a hidden "recently used" separator label)
    return rows.length === 1 && rows[0].innerText.trim() === '..' && !rows[0].classList.contains('focused');
  }, null, { timeout: 30_000 });
  assert.equal(await pathBox.inputValue(), exportDir + '/');
  await page.keyboard.press('Enter');
  await dash.locator('#status', { hasText: `Exported ${4 + charts.length} file(s) to ${exportDir}` }).waitFor({ timeout: 60_000 });
  await waitForNotification(page, new RegExp(`Discretion report written to ${exportDir}`));
  const exported = readdirSync(exportDir).sort();
  assert.deepEqual(exported, ['charts', 'metrics.json', 'pairs.csv', 'report.html', 'report.md']);
  assert.deepEqual(readdirSync(join(exportDir, 'charts')).sort(), charts.map((c) => `${c}.svg`).sort(), 'one SVG file a chart');
  const exportedHtml = readFileSync(join(exportDir, 'report.html'), 'utf8');
  assert.ok(exportedHtml.includes('Discretion report: safety-pairs-sample') && exportedHtml.includes('Pair categories'), 'report.html is the sample report');
  const metricsJson = JSON.parse(readFileSync(join(exportDir, 'metrics.json'), 'utf8'));
  assert.equal(JSON.stringify(metricsJson).includes('safety-pairs-sample'), true, 'metrics.json names the dataset');
  lap(`dashboard export: ${exported.join(', ')}`);

  // pick the stored run again from the select (loadRun)
  await page.keyboard.press('Escape');
  await dash.locator('#run').selectOption(String(hostileRun));
  await dash.locator('#status', { hasText: `run #${hostileRun}` }).waitFor({ timeout: 30_000 });
  await noActive('stored run picked again');
  lap('dashboard: stored run picked from the select');

  // "Open pair N in the workbench" under the consensus overrides (prepare.mjs: alice overruled h06,
  // bilal h01, h02 and h05): the workbench shows that pair. The workbench is on h06 (the hostile
  // pairs were skipped through), so h02 and h05 are moves.
  for (const idx of [1, 4]) {
    const article = dash.locator(`#report #sec-overrides article.pair[data-pair="${idx}"]`);
    // waited for, not read at once: the status names the run before the previous report's pairs are replaced
    await article.locator('h3', { hasText: `source id ${hostileIds[idx]}` }).waitFor({ timeout: 30_000 })
      .catch(async () => assert.fail(`pair ${idx} of the report is ${hostileIds[idx]}, not: ${await article.locator('h3').textContent({ timeout: 1000 }).catch(() => '(none)')}`));
    await article.locator('button.open-pair').click();
    // the dashboard stays loaded while hidden: the workbench's webview is the frame with the card
    const wb = await frameWith(page, `#card[data-source-id="${hostileIds[idx]}"]`, 30_000);
    assert.ok(await wb.locator('#card').isVisible(), `the workbench shows ${hostileIds[idx]}`);
    assert.equal(await wb.locator('#card-title').textContent(), `Pair ${hostileIds[idx]}`);
    assert.ok((await wb.locator('#progress').textContent()).includes('hostile-pairs'), 'on the report\'s dataset');
    assert.equal(await identityBox.isVisible(), false, 'no identity prompt');
    await runCommand(page, 'Discretion: Show Dashboard', { after: () => dash.locator('#report #sec-overrides').waitFor({ state: 'visible', timeout: 10_000 }) });
  }
  assert.deepEqual(dialogs, [], 'no dialogs opened');
  assert.deepEqual(webviewErrors, [], 'no console errors in the webviews');
  lap(`dashboard: "open pair" links open the workbench on ${hostileIds[1]} and ${hostileIds[4]}; no webview console errors or exceptions (VS Code's own console errors meanwhile, not checked: ${otherErrors.length})`);

  // ---- "Discretion: Run Model Judgments..." with the reward model prepare.mjs trained ------------
  const RM = 'rm-e2e-alice';
  await runCommand(page, 'Discretion: Run Model Judgments', { after: () => quickPick(page, 'Reward model', { title: 'run model judgments', timeout: 10_000 }) });
  await quickPick(page, 'safety-pairs-sample', { title: 'dataset to judge' });
  const nameBox = page.locator('.quick-input-widget .quick-input-box input').first();
  await page.locator('.quick-input-widget .quick-input-title', { hasText: 'annotator name for these rewards' }).waitFor({ timeout: 30_000 });
  assert.equal(await nameBox.inputValue(), 'rm-rm-alice', 'default name from the model folder');
  await nameBox.fill(RM);
  await page.keyboard.press('Enter');
  // the database is the evidence: wait until every pair has the reward model's preference (toasts
  // are only read to stop early on an error)
  const countScored = async () => (await query(`SELECT COUNT(*) AS n FROM preferences pr JOIN annotators a ON a.id = pr.annotator_id
    JOIN pairs p ON p.id = pr.pair_id JOIN datasets d ON d.id = p.dataset_id
    WHERE a.name = ? AND d.name = 'safety-pairs-sample' AND pr.score_y0 IS NOT NULL AND pr.score_y1 IS NOT NULL`, [RM]))[0].n;
  const end = Date.now() + 180_000;
  for (;;) {
    const err = (await notifications(page)).find((t) => /^Discretion: (?!scored|cancelled)/.test(t.trim()) && !/^Discretion: Scoring/.test(t.trim()));
    if (err) throw new Error(`Run Model Judgments failed: ${err}`);
    if ((await countScored()) === 30) break;
    if (Date.now() > end) throw new Error(`Run Model Judgments: ${await countScored()} of 30 pairs scored after 180 s; notifications: ${JSON.stringify(await notifications(page))}`);
    await page.waitForTimeout(500);
  }
  const texts = await waitForNotification(page, new RegExp(`scored 30 pairs as "${RM}"`));
  const scoredText = texts.find((t) => t.includes(`as "${RM}"`));
  assert.ok(!texts.some((t) => /^Discretion.*error/i.test(t.trim())), `no error notifications: ${JSON.stringify(texts)}`);
  const [rm] = await query("SELECT id, kind FROM annotators WHERE name = ?", [RM]);
  assert.equal(rm?.kind, 'reward-model');
  const rows = await query(`SELECT p.source_id AS sid, pr.value, pr.score_y0 AS s0, pr.score_y1 AS s1, al.value AS alice
    FROM pairs p JOIN datasets d ON d.id = p.dataset_id
    LEFT JOIN preferences pr ON pr.pair_id = p.id AND pr.annotator_id = ?
    LEFT JOIN preferences al ON al.pair_id = p.id AND al.annotator_id = (SELECT id FROM annotators WHERE name = 'alice')
    WHERE d.name = 'safety-pairs-sample' ORDER BY p.idx`, [rm.id]);
  assert.equal(rows.length, 30);
  for (const r of rows) {
    assert.ok(Number.isFinite(r.s0) && Number.isFinite(r.s1), `scores stored for ${r.sid}`);
    assert.equal(r.value, r.s1 === r.s0 ? null : r.s1 > r.s0 ? 1 : -1, `preference of ${r.sid} follows its scores`);
  }
  const decided = rows.filter((r) => r.alice === 1 || r.alice === -1);
  const agree = decided.filter((r) => r.value === r.alice).length / decided.length;
  assert.ok(agree >= 0.75, `the model trained on alice agrees with her (${agree.toFixed(2)})`);
  lap(`model judgments: 30/30 pairs scored as ${RM}; agreement with alice ${agree.toFixed(2)} (${scoredText.trim()})`);

  // ---- "Run Model Judgments..." with the LLM judge and the oracle over the fake endpoint ----------
  // Expectations come from the dataset file and fake-llm.mjs's stated behaviour, not from the extension.
  const KEY = 'e2e-test-key', MODEL = 'e2e-fake-model';
  const titleIs = (t) => page.locator('.quick-input-widget .quick-input-title', { hasText: t });
  /** Polls the database until `count()` reaches `want`; stops early on an error notification. */
  const waitStored = async (what, count, want, timeout = 180_000) => {
    const end = Date.now() + timeout;
    for (;;) {
      const err = (await notifications(page)).find((t) => /^Discretion: /.test(t.trim()) && !/^Discretion: (stored|scored|cancelled|Asking|Scoring)/.test(t.trim()));
      if (err) throw new Error(`${what} failed: ${err}`);
      const n = await count();
      if (n === want) return;
      if (Date.now() > end) throw new Error(`${what}: ${n} of ${want} stored after ${timeout / 1000} s; notifications: ${JSON.stringify(await notifications(page))}; fake endpoint requests: ${llm.requests.length}`);
      await page.waitForTimeout(500);
    }
  };
  const noErrors = (texts) => assert.ok(!texts.some((t) => /^Discretion: (?!stored|scored|cancelled|Asking|Scoring)/.test(t.trim())), `no error notifications: ${JSON.stringify(texts)}`);

  // judge mode: endpoint, model, API key (asked once, kept in secret storage) and name from input boxes
  const JUDGE = 'judge-e2e';
  await runCommand(page, 'Discretion: Run Model Judgments', { after: () => quickPick(page, 'LLM judge', { title: 'run model judgments', timeout: 10_000 }) });
  await quickPick(page, 'safety-pairs-sample', { title: 'dataset to judge' });
  assert.equal(await inputBox(page, 'endpoint base URL', llm.baseUrl), 'http://127.0.0.1:8000/v1', 'default base URL');
  await inputBox(page, 'model name at the endpoint', MODEL);
  await inputBox(page, 'API key of the LLM endpoint', KEY);
  assert.equal(await inputBox(page, 'annotator name for these judgments', JUDGE), `judge-${MODEL}`, 'default judge name from the model');
  const judgeRows = (name) => query(`SELECT p.source_id AS sid, pr.value, pr.raw FROM preferences pr JOIN annotators a ON a.id = pr.annotator_id
    JOIN pairs p ON p.id = pr.pair_id JOIN datasets d ON d.id = p.dataset_id WHERE a.name = ? AND d.name = 'safety-pairs-sample' ORDER BY p.idx`, [name]);
  await waitStored('LLM judge', async () => (await judgeRows(JUDGE)).length, 30);
  const judgeTexts = await waitForNotification(page, new RegExp(`stored 30 judgments as "${JUDGE}" \\(60 requests`));
  noErrors(judgeTexts);
  const [judgeAnn] = await query('SELECT kind, provenance FROM annotators WHERE name = ?', [JUDGE]);
  assert.equal(judgeAnn.kind, 'llm-judge');
  assert.equal(JSON.parse(judgeAnn.provenance).model, MODEL);
  const jrows = await judgeRows(JUDGE);
  assert.deepEqual(jrows.map((r) => r.sid).sort(), [...samplePairs.keys()].sort(), 'every sample pair has a judge preference');
  const judgeReqs = llm.requests.filter((r) => r.principle === undefined);
  assert.equal(judgeReqs.length, 60, 'two requests a pair');
  const cats = {};
  for (const r of jrows) {
    const pair = samplePairs.get(r.sid);
    const cat = judgeCategory(pair.prompt);
    cats[cat] = (cats[cat] ?? 0) + 1;
    assert.equal(r.value, judgeExpectation(pair), `judge value of ${r.sid} (${cat})`);
    // both orders were asked: order 0 shows y1 as A, order 1 shows y0 as A
    const asked = judgeReqs.filter((q) => q.prompt === pair.prompt);
    assert.equal(asked.length, 2, `two requests for ${r.sid}`);
    assert.ok(asked.some((q) => q.a === pair.y1 && q.b === pair.y0) && asked.some((q) => q.a === pair.y0 && q.b === pair.y1), `both orders asked for ${r.sid}`);
    const raw = JSON.parse(r.raw);
    assert.ok(raw.order0 && raw.order1, `raw probabilities of both orders for ${r.sid}`);
  }
  assert.equal(Object.keys(cats).length, 4, `all four fake behaviours occur (${JSON.stringify(cats)})`);
  assert.ok(judgeReqs.every((q) => q.auth === `Bearer ${KEY}` && q.model === MODEL && q.logprobs === true && q.maxTokens === 1), 'key, model, logprobs and max_tokens sent');
  const values = jrows.map((r) => r.value);
  lap(`LLM judge: 30/30 pairs as ${JUDGE} (${values.filter((v) => v === 1).length} y1, ${values.filter((v) => v === -1).length} y0, ${values.filter((v) => v === 0).length} ties, ${values.filter((v) => v === null).length} missing), 60 requests in both orders`);

  // oracle mode on demo-safety: the key comes from secret storage (no prompt this time)
  const ORACLE = 'oracle-e2e';
  const principles = await query(`SELECT pl.position AS pos, pl.text FROM principles pl JOIN principle_lists l ON l.id = pl.list_id WHERE l.name = 'demo-safety' ORDER BY pl.position`);
  assert.equal(principles.length, 6);
  const before = llm.requests.length;
  await runCommand(page, 'Discretion: Run Model Judgments', { after: () => quickPick(page, 'LLM oracle', { title: 'run model judgments', timeout: 10_000 }) });
  await quickPick(page, 'safety-pairs-sample', { title: 'dataset to judge' });
  await quickPick(page, 'demo-safety', { title: 'principle list for the oracle' });
  await inputBox(page, 'endpoint base URL', llm.baseUrl);
  await inputBox(page, 'model name at the endpoint', MODEL);
  assert.equal(await inputBox(page, /annotator name for these judgments|API key/, ORACLE, { expect: 'annotator name for these judgments' }), `oracle-${MODEL}`, 'no key prompt; default oracle name');
  const oracleRows = () => query(`SELECT p.source_id AS sid, pl.position AS pos, pp.value, pp.shown_order AS ord, pp.prob_a AS pa, pp.prob_b AS pb, pp.prob_na AS pna
    FROM principle_preferences pp JOIN annotators a ON a.id = pp.annotator_id JOIN pairs p ON p.id = pp.pair_id
    JOIN principles pl ON pl.id = pp.principle_id WHERE a.name = ? ORDER BY p.idx, pl.position`, [ORACLE]);
  await waitStored('LLM oracle', async () => (await oracleRows()).length, 180);
  const oracleTexts = await waitForNotification(page, new RegExp(`stored 180 judgments as "${ORACLE}" \\(180 requests`));
  noErrors(oracleTexts);
  assert.equal((await query('SELECT kind FROM annotators WHERE name = ?', [ORACLE]))[0].kind, 'oracle');
  const oracleReqs = llm.requests.slice(before);
  assert.equal(oracleReqs.length, 180);
  assert.ok(oracleReqs.every((q) => q.principle !== undefined && q.auth === `Bearer ${KEY}` && q.model === MODEL), 'oracle requests name a principle and carry the stored key');
  const orows = await oracleRows();
  const orders = [0, 0];
  for (const r of orows) {
    const pair = samplePairs.get(r.sid);
    const principle = principles[r.pos].text;
    assert.ok(r.ord === 0 || r.ord === 1, `shown order stored for ${r.sid}/${r.pos}`);
    orders[r.ord]++;
    const asked = oracleReqs.filter((q) => q.prompt === pair.prompt && q.principle === principle);
    assert.equal(asked.length, 1, `one request for ${r.sid}/${r.pos}`);
    assert.deepEqual([asked[0].a, asked[0].b], r.ord === 0 ? [pair.y1, pair.y0] : [pair.y0, pair.y1], `stored order of ${r.sid}/${r.pos} is the order asked`);
    assert.equal(r.value, oracleExpectation(pair, principle, r.ord), `oracle value of ${r.sid}/${r.pos}`);
    assert.ok(Math.abs(r.pa + r.pb + r.pna - 0.95) < 1e-9, `probabilities stored for ${r.sid}/${r.pos}`);
  }
  assert.ok(orders[0] > 0 && orders[1] > 0, `both orders used by the oracle (${orders})`);

  // the API key went over HTTP only: not in the database file (nor its journal), nor the settings
  for (const f of [db, `${db}-wal`, `${db}-journal`, join(ws, '.vscode', 'settings.json')]) {
    if (existsSync(f)) assert.equal(readFileSync(f).indexOf(Buffer.from(KEY)), -1, `the API key is not in ${f}`);
  }
  lap(`LLM oracle: 180/180 judgments as ${ORACLE} on demo-safety (orders ${orders.join('/')}), key from secret storage; the key is in no database file`);
  ok = true;
} catch (e) {
  console.error('E2E FAILED:', e?.stack ?? e);
  for (const f of page.frames()) console.error('frame:', f.url().slice(0, 160), (await f.evaluate(() => document.body?.innerHTML.slice(0, 300)).catch((x) => String(x).slice(0, 100))));
  console.error('webview iframes:', await page.locator('iframe.webview').evaluateAll((xs) => xs.map((x) => x.className)));
  await page.screenshot({ path: join(out, 'e2e-failure.png') }).catch(() => undefined);
} finally {
  await close();
  await llm.close();
}
lap(ok ? 'PASS' : 'FAIL');
process.exit(ok ? 0 : 1);
