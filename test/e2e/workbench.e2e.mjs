// The end-to-end suite: a person labelling with the keyboard in a real VS Code, then the SQLite
// file checked row by row; hostile pairs; screenshots in dark and light themes.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { launch, openWorkbench, runCommand, webview, webviewFrame } from './driver.mjs';

const { E2E_PORT: port, E2E_WS: ws, E2E_DB: db, E2E_ROOT: root } = process.env;
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
  const others = await query("SELECT COUNT(*) AS n FROM preferences pr JOIN annotators a ON a.id = pr.annotator_id WHERE a.name <> 'e2e-annotator'");
  assert.equal(others[0].n, 0);
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
  writeFileSync(join(ws, '.vscode', 'settings.json'), JSON.stringify({
    'discretion.databasePath': db, 'discretion.annotator': 'e2e-annotator', 'workbench.colorTheme': 'Default Light Modern', 'workbench.startupEditor': 'none',
  }, null, 2));
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
  ok = true;
} catch (e) {
  console.error('E2E FAILED:', e?.stack ?? e);
  for (const f of page.frames()) console.error('frame:', f.url().slice(0, 160), (await f.evaluate(() => document.body?.innerHTML.slice(0, 300)).catch((x) => String(x).slice(0, 100))));
  console.error('webview iframes:', await page.locator('iframe.webview').evaluateAll((xs) => xs.map((x) => x.className)));
  await page.screenshot({ path: join(out, 'e2e-failure.png') }).catch(() => undefined);
} finally {
  await close();
}
lap(ok ? 'PASS' : 'FAIL');
process.exit(ok ? 0 : 1);
