// e2e step: a burst of submits at keystroke speed, the extension host killed right after it, and
// the window reloaded: every pair the card moved past is either stored or back in the queue.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand, webview } from '../driver.mjs';

export const title = 'a burst of submits, the extension host killed (kill -9) right after it, the queue resumed';

const BURST = 12;

/** The extension host processes of the VS Code server this run started (its process group). */
function extensionHosts(state) {
  const pgid = readFileSync(join(state, 'server.pid'), 'utf8').trim();
  return execFileSync('ps', ['-eo', 'pid=,pgid=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim().match(/^(\d+)\s+(\d+)\s+(.*)$/))
    .filter((m) => m && m[2] === pgid && /extensionHost/.test(m[3]))
    .map((m) => Number(m[1]));
}

export default async function step(ctx) {
  const { card, lap, page, query, sourceId, state } = ctx;
  const idxOf = (sid) => Number(sid.slice(1)) - 1; // the sample's pair index i is source id s0(i+1)
  const unlabelled = async () =>
    (
      await query(`SELECT p.source_id AS sid FROM pairs p JOIN datasets d ON d.id = p.dataset_id
    WHERE d.name = 'safety-pairs-sample' AND NOT EXISTS (SELECT 1 FROM preferences pr JOIN annotators a ON a.id = pr.annotator_id
      WHERE pr.pair_id = p.id AND a.name = 'e2e-annotator') ORDER BY p.idx`)
    ).map((r) => r.sid);

  // a fresh panel on the sample (the dashboard's webview, hidden, would be a second webview frame):
  // it opens at the first pair without a committed label (s08: s01-s07 are labelled by now)
  // every webview frame gone before the workbench opens (the command is tried again until they are: in a
  // clean-clone run under load one frame outlived the close and the driver's locator matched two)
  await runCommand(page, 'View: Close All Editors', {
    after: () =>
      page.waitForFunction(() => document.querySelectorAll('iframe.webview').length === 0, null, { timeout: 15_000 }),
  });
  await runCommand(page, 'Discretion: Open Workbench', {
    after: async () => {
      await page
        .locator('.quick-input-list .monaco-list-row', { hasText: 'safety-pairs-sample' })
        .first()
        .waitFor({ timeout: 8000 });
      await page.keyboard.type('safety-pairs-sample');
      await page.keyboard.press('Enter');
      await webview(page).locator('#card #progress', { hasText: 'safety-pairs-sample' }).waitFor({ timeout: 15_000 });
    },
  });
  const first = (await unlabelled())[0];
  assert.equal(await sourceId(), first, 'the workbench opens on the first pair without a committed label');
  // the cards read ahead arrive after the card; give them a moment, as an annotator reading the card would
  await page.waitForTimeout(500);
  const hosts = extensionHosts(state);
  assert.equal(hosts.length, 1, `one extension host of this server (${hosts})`);

  // the burst: a choice and Enter per pair, as fast as the keyboard goes, then kill -9 at once
  for (let i = 0; i < BURST; i++) {
    await page.keyboard.press(i % 2 ? 'b' : 'a');
    await page.keyboard.press('Enter');
  }
  process.kill(hosts[0], 'SIGKILL');
  const shownAtKill = await sourceId();
  const movedPast = [];
  for (let i = idxOf(first); i < idxOf(shownAtKill); i++) movedPast.push(`s${String(i + 1).padStart(2, '0')}`);
  assert.ok(movedPast.length >= 3, `the burst moved past several pairs (the card shows ${shownAtKill})`);
  const saveState = await webview(page).locator('#save-state').getAttribute('data-state');
  lap(
    `burst of ${BURST} submits; the card shows ${shownAtKill} (${movedPast.length} pairs moved past, save state "${saveState}"); extension host ${hosts[0]} killed`,
  );

  // what reached the file: labels of pairs the card moved past only, each stored once and whole
  const stored = await query(
    `SELECT p.source_id AS sid, pr.raw FROM preferences pr JOIN pairs p ON p.id = pr.pair_id
    JOIN annotators a ON a.id = pr.annotator_id JOIN datasets d ON d.id = p.dataset_id
    WHERE d.name = 'safety-pairs-sample' AND a.name = 'e2e-annotator' AND p.idx >= ? ORDER BY p.idx`,
    [idxOf(first)],
  );
  for (const r of stored) {
    assert.ok(movedPast.includes(r.sid) || r.sid === shownAtKill, `${r.sid} was submitted in the burst`);
    assert.ok(['A', 'B'].includes(JSON.parse(r.raw).choice), `the label of ${r.sid} is whole`);
  }
  const history = await query(
    `SELECT p.source_id AS sid, COUNT(*) AS n FROM label_history h JOIN pairs p ON p.id = h.pair_id
    JOIN annotators a ON a.id = h.annotator_id WHERE a.name = 'e2e-annotator' AND p.idx >= ? GROUP BY p.source_id`,
    [idxOf(first)],
  );
  assert.ok(
    history.every((h) => h.n === 1),
    `one submission recorded per pair (${JSON.stringify(history)})`,
  );
  assert.deepEqual(
    (await query('PRAGMA integrity_check')).map((r) => r.integrity_check),
    ['ok'],
  );

  // reload: a new extension host. VS Code sometimes restores the panels of the window before (the workbench's
  // serializer revives it; once in a clean-clone run on 2026-12-07 two webviews were up and the driver's
  // webview locator matched both), so every editor is closed and the workbench opened again, as a user
  // would: it comes back on the first pair without a committed label
  const reloaded = page.waitForEvent('load', { timeout: 60_000 });
  await runCommand(page, 'Developer: Reload Window');
  await reloaded;
  await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
  await runCommand(page, 'View: Close All Editors', {
    after: () =>
      page.waitForFunction(() => document.querySelectorAll('iframe.webview').length === 0, null, { timeout: 15_000 }),
  });
  const resume = (await unlabelled())[0];
  await runCommand(page, 'Discretion: Open Workbench', {
    after: async () => {
      await page
        .locator('.quick-input-list .monaco-list-row', { hasText: 'safety-pairs-sample' })
        .first()
        .waitFor({ timeout: 15_000 });
      await page.keyboard.type('safety-pairs-sample');
      await page.keyboard.press('Enter');
    },
  });
  await webview(page).locator(`#card[data-source-id="${resume}"]`).waitFor({ timeout: 120_000 });
  const lost = movedPast.filter((sid) => !stored.some((r) => r.sid === sid));
  // every pair moved past is stored, or back in the queue: at or after the pair it resumes at
  for (const sid of lost)
    assert.ok(idxOf(sid) >= idxOf(resume), `${sid} (not stored) is back in the queue, which resumes at ${resume}`);
  // The pair on the card at the kill may itself be stored already: its Enter was handled, the next card had not
  // been painted yet ("pending"). Then the queue resumes at the pair after it.
  const afterShown = `s${String(idxOf(shownAtKill) + 2).padStart(2, '0')}`;
  const expected = lost[0] ?? (stored.some((r) => r.sid === shownAtKill) ? afterShown : shownAtKill);
  assert.equal(resume, expected, 'the queue resumes at the first pair whose label was not committed');
  lap(
    `after the kill: ${stored.length} of ${movedPast.length} labels stored, ${lost.length} back in the queue; resumed at ${resume}`,
  );

  // and the workbench goes on: a label on the resumed pair is committed
  await page.keyboard.press('a');
  await page.keyboard.press('Enter');
  // (the card moves on, or shows the models' reveal first when models judged the pair)
  await webview(page).locator('#save-state[data-state="saved"]').waitFor({ timeout: 15_000 });
  assert.ok(!(await unlabelled()).includes(resume), `${resume} is stored after the restart`);
  assert.ok(await card.isVisible());
  lap(`the resumed card ${resume} labelled and committed`);
}
