// The end-to-end suite: a person labelling with the keyboard in a real VS Code, then the SQLite
// file checked row by row; hostile pairs; screenshots in dark and light themes; the dashboard; model
// judgments by a reward model, an LLM judge and an LLM oracle (over fake-llm.mjs's endpoint).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { dashboardFrame, inputBox, launch, notifications, openWorkbench, quickPick, runCommand, waitForNotification, webview, webviewFrame } from './driver.mjs';
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

// the OpenAI-compatible endpoint of the LLM-judge steps (a real HTTP server on 127.0.0.1 in this process)
const llm = await startFakeLlm();
const { context, page: firstPage, close } = await launch();
let page = firstPage;
const dialogs = [];
page.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });
const external = new Set();
page.on('request', (r) => { const u = r.url(); if (/^https?:/.test(u) && !/^https?:\/\/(127\.0\.0\.1|([a-z0-9-]+\.)?localhost)[:/]/.test(u)) external.add(u.slice(0, 100)); });
let ok = false;
try {
  await openWorkbench(page, url);
  lap('VS Code up');
  const card = webview(page).locator('#card');
  await runCommand(page, 'Discretion: Open Sample Dataset', { after: () => card.and(page.frameLocator('iframe.webview.ready').frameLocator('#active-frame').locator('[data-source-id]')).waitFor({ timeout: 20_000 }) });
  lap('workbench open on the sample dataset');
  const sourceId = () => card.getAttribute('data-source-id');
  const waitFor = async (id) => { await webview(page).locator(`#card[data-source-id="${id}"]`).waitFor({ timeout: 15_000 }); };
  assert.equal(await sourceId(), 's01');

  // keyboard only: overall choice and grid rows, Enter submits and advances
  const plan = [
    { id: 's01', keys: ['a', '1', 'a', '2', 'b', '3', 'n'], overall: 'A', grid: { 0: 'A', 1: 'B', 2: 'neither' } },
    { id: 's02', keys: ['b', '4', 'n', '6', 'a'], overall: 'B', grid: { 3: 'neither', 5: 'A' } },
    { id: 's03', keys: ['t', '1', 'b'], overall: 'tie', grid: { 0: 'B' } },
  ];
  for (const [i, step] of plan.entries()) {
    await waitFor(step.id);
    for (const k of step.keys) await page.keyboard.press(k);
    const checked = await webview(page).locator(`[data-overall="${step.overall}"]`).getAttribute('aria-checked');
    assert.equal(checked, 'true', `overall ${step.overall} selected on ${step.id}`);
    await page.keyboard.press('Enter');
    await waitFor(`s0${i + 2}`);
  }
  lap('three pairs labelled with the keyboard');
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
  // the only other preferences are the ones prepare.mjs imported (alice and bilal: 30 sample + 6 hostile pairs each)
  const others = await query("SELECT a.name, COUNT(*) AS n FROM preferences pr JOIN annotators a ON a.id = pr.annotator_id WHERE a.name <> 'e2e-annotator' GROUP BY a.name ORDER BY a.name");
  assert.deepEqual(others.map((r) => `${r.name}:${r.n}`), ['alice:36', 'bilal:36']);
  lap('database holds exactly the expected rows');

  // reload: the serializer restores the panel on the same pair
  // (a new tab on the same browser profile: page.reload() in headless chromium leaves the webview
  // service worker of the old document attached and the restored webview never loads)
  await page.waitForTimeout(1500); // let the workbench persist its editor state
  const reloaded = await context.newPage();
  await page.close();
  page = reloaded;
  page.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });
  await openWorkbench(page, url);
  await waitFor('s03');
  lap('panel restored on s03 after reload');

  // screenshots, dark then light
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(out, 'workbench-dark.png') });
  const settingsFile = join(ws, '.vscode', 'settings.json');
  writeFileSync(settingsFile, JSON.stringify({ ...JSON.parse(readFileSync(settingsFile, 'utf8')), 'workbench.colorTheme': 'Default Light Modern' }, null, 2));
  await page.waitForFunction(() => document.querySelector('.monaco-workbench')?.classList.contains('vs'), null, { timeout: 15_000 });
  await page.waitForTimeout(1000);
  await page.screenshot({ path: join(out, 'workbench-light.png') });
  await webview(page).locator('#card').screenshot({ path: join(out, 'workbench-card-light.png') });
  lap('screenshots');

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
  // console errors and uncaught exceptions of the webview frames (the workbench's own are only logged)
  const webviewErrors = [], otherErrors = [], probes = [];
  const isWebview = (u) => /\/webview\/|vscode-webview|fake\.html|dashboard\.js/.test(u ?? '');
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const where = m.location().url;
    if (m.text() === 'e2e-console-probe') probes.push(where);
    else (isWebview(where) ? webviewErrors : otherErrors).push(`${m.text().slice(0, 300)} @ ${where}`);
  });
  page.on('pageerror', (e) => (isWebview(e.stack) ? webviewErrors : otherErrors).push(`uncaught: ${e.message} @ ${(e.stack ?? '').split('\n')[1] ?? ''}`));
  let dash;
  await runCommand(page, 'Discretion: Show Dashboard', { after: async () => { dash = await dashboardFrame(page, 30_000); } });
  const status = () => dash.locator('#status').textContent();
  // on "ready" the dashboard shows the newest stored run: prepare.mjs's run of the hostile pairs
  await dash.locator('#status', { hasText: /hostile-pairs: 2 annotators, run #\d+/ }).waitFor({ timeout: 60_000 });
  // the listener does hear the dashboard frame (else "no console errors" below would prove nothing)
  await dash.evaluate(() => console.error('e2e-console-probe'));
  for (let i = 0; i < 50 && probes.length === 0; i++) await page.waitForTimeout(100);
  assert.equal(probes.length, 1, 'console messages of the dashboard webview reach the driver');
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
    return rows.length === 1 && rows[0].textContent.trim() === '..' && !rows[0].classList.contains('focused');
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
  assert.deepEqual(dialogs, [], 'no dialogs opened');
  assert.deepEqual(webviewErrors, [], 'no console errors in the webviews');
  lap(`dashboard: stored run picked from the select; no webview console errors or exceptions (workbench errors meanwhile: ${JSON.stringify(otherErrors)})`);

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
  const samplePairs = new Map(readFileSync(join(root, 'media', 'sample', 'safety-pairs.jsonl'), 'utf8').trim().split('\n')
    .map((l) => JSON.parse(l)).map((r) => [r.id, { prompt: r.prompt, y0: r.response_0, y1: r.response_1 }]));
  assert.equal(samplePairs.size, 30);
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
