// e2e step: labels with the keyboard, model judgments hidden until the submit, undo, the database row by row.
import assert from 'node:assert/strict';
import { webview } from '../driver.mjs';

export const title = 'labels with the keyboard, model judgments hidden until the submit, undo, the database row by row';

export default async function step(ctx) {
  const { assertBlind, assertRevealed, judgedBy, lap, page, query, sideOfY0, sourceId, waitFor, yOf } = ctx;

  // keyboard only: overall choice and grid rows, Enter submits and advances (after the reveal of
  // the model judgments on a judged pair: Enter again)
  const plan = [
    { id: 's01', keys: ['a', '1', 'a', '2', 'b', '3', 'n'], overall: 'A', grid: { 0: 'A', 1: 'B', 2: 'neither' } },
    { id: 's02', keys: ['b', '4', 'n', '6', 'a'], overall: 'B', grid: { 3: 'neither', 5: 'A' } },
    { id: 's03', keys: ['t', '1', 'b'], overall: 'tie', grid: { 0: 'B' } },
  ];
  const y0SideOf = {};
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
  assert.equal(
    await webview(page).locator('[data-overall][aria-checked="true"]').count(),
    0,
    'typing in the rationale chose nothing',
  );
  assert.equal(await sourceId(), 's04');

  // undo (contributed command, Alt+Z in the workbench) goes back to s03 and removes its label
  await page.keyboard.press('Alt+z');
  await waitFor('s03');
  assert.equal(
    await webview(page).locator('[data-overall][aria-checked="true"]').count(),
    0,
    's03 shows no label after undo',
  );
  lap('undo');

  const annot = await query("SELECT id FROM annotators WHERE name = 'e2e-annotator'");
  assert.equal(annot.length, 1);
  const prefs = await query(
    `SELECT p.source_id AS sid, pr.value, pr.shown_first AS sf, pr.raw FROM preferences pr JOIN pairs p ON p.id = pr.pair_id
    WHERE pr.annotator_id = ? ORDER BY p.idx`,
    [annot[0].id],
  );
  assert.deepEqual(
    prefs.map((r) => r.sid),
    ['s01', 's02'],
  );
  const val = (choice, sf) => (choice === 'tie' ? 0 : (choice === 'A') === (sf === 1) ? 1 : -1);
  for (const [i, r] of prefs.entries()) {
    assert.equal(r.value, val(plan[i].overall, r.sf), `overall value of ${r.sid}`);
    assert.equal(JSON.parse(r.raw).choice, plan[i].overall);
    // the recorded order is the one the card showed (shown_first 1: y1 shown as A)
    assert.equal(r.sf, y0SideOf[r.sid] === 'B' ? 1 : 0, `shown order recorded for ${r.sid}`);
  }
  const pp = await query(
    `SELECT p.source_id AS sid, pl.position AS pos, pp.value FROM principle_preferences pp JOIN pairs p ON p.id = pp.pair_id
    JOIN principles pl ON pl.id = pp.principle_id WHERE pp.annotator_id = ? ORDER BY p.idx, pl.position`,
    [annot[0].id],
  );
  const expected = [];
  for (const [i, step] of plan.slice(0, 2).entries()) {
    for (const [pos, c] of Object.entries(step.grid))
      expected.push({ sid: step.id, pos: Number(pos), value: c === 'neither' ? 0 : val(c, prefs[i].sf) });
  }
  assert.deepEqual(pp, expected);
  const hist = await query('SELECT action, undone FROM label_history WHERE annotator_id = ? ORDER BY id', [
    annot[0].id,
  ]);
  assert.deepEqual(
    hist.map((h) => `${h.action}:${h.undone}`),
    ['submit:0', 'submit:0', 'submit:1', 'undo:0'],
  );
  // the only other preferences are the ones prepare.mjs imported (alice and bilal: 30 sample + 6
  // hostile pairs each; the two fixture models: the rows of their files)
  const others = await query(
    "SELECT a.name, COUNT(*) AS n FROM preferences pr JOIN annotators a ON a.id = pr.annotator_id WHERE a.name <> 'e2e-annotator' GROUP BY a.name ORDER BY a.name",
  );
  assert.deepEqual(
    others.map((r) => `${r.name}:${r.n}`),
    ['alice:36', 'bilal:36', 'judge-fixture:3', 'rm-fixture:6'],
  );
  lap('database holds exactly the expected rows');
  Object.assign(ctx, { plan, y0SideOf, annot, prefs });
}
