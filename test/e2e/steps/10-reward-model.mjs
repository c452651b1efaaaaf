// e2e step: "Run Model Judgments" with the reward model.
import assert from 'node:assert/strict';
import { notifications, quickPick, runCommand, waitForNotification } from '../driver.mjs';

export const title = '"Run Model Judgments" with the reward model';

export default async function step(ctx) {
  const { lap, page, query } = ctx;
  // ---- "Discretion: Run Model Judgments..." with the reward model prepare.mjs trained ------------
  const RM = 'rm-e2e-alice';
  await runCommand(page, 'Discretion: Run Model Judgments', {
    after: () => quickPick(page, 'Reward model', { title: 'run model judgments', timeout: 10_000 }),
  });
  await quickPick(page, 'safety-pairs-sample', { title: 'dataset to judge' });
  const nameBox = page.locator('.quick-input-widget .quick-input-box input').first();
  await page
    .locator('.quick-input-widget .quick-input-title', { hasText: 'annotator name for these rewards' })
    .waitFor({ timeout: 30_000 });
  assert.equal(await nameBox.inputValue(), 'rm-rm-alice', 'default name from the model folder');
  await nameBox.fill(RM);
  await page.keyboard.press('Enter');
  // the database is the evidence: wait until every pair has the reward model's preference (toasts
  // are only read to stop early on an error)
  const countScored = async () =>
    (
      await query(
        `SELECT COUNT(*) AS n FROM preferences pr JOIN annotators a ON a.id = pr.annotator_id
    JOIN pairs p ON p.id = pr.pair_id JOIN datasets d ON d.id = p.dataset_id
    WHERE a.name = ? AND d.name = 'safety-pairs-sample' AND pr.score_y0 IS NOT NULL AND pr.score_y1 IS NOT NULL`,
        [RM],
      )
    )[0].n;
  const end = Date.now() + 180_000;
  for (;;) {
    const err = (await notifications(page)).find(
      (t) => /^Discretion: (?!scored|cancelled)/.test(t.trim()) && !/^Discretion: Scoring/.test(t.trim()),
    );
    if (err) throw new Error(`Run Model Judgments failed: ${err}`);
    if ((await countScored()) === 30) break;
    if (Date.now() > end)
      throw new Error(
        `Run Model Judgments: ${await countScored()} of 30 pairs scored after 180 s; notifications: ${JSON.stringify(await notifications(page))}`,
      );
    await page.waitForTimeout(500);
  }
  const texts = await waitForNotification(page, new RegExp(`scored 30 pairs as "${RM}"`));
  const scoredText = texts.find((t) => t.includes(`as "${RM}"`));
  assert.ok(
    !texts.some((t) => /^Discretion.*error/i.test(t.trim())),
    `no error notifications: ${JSON.stringify(texts)}`,
  );
  const [rm] = await query('SELECT id, kind FROM annotators WHERE name = ?', [RM]);
  assert.equal(rm?.kind, 'reward-model');
  const rows = await query(
    `SELECT p.source_id AS sid, pr.value, pr.score_y0 AS s0, pr.score_y1 AS s1, al.value AS alice
    FROM pairs p JOIN datasets d ON d.id = p.dataset_id
    LEFT JOIN preferences pr ON pr.pair_id = p.id AND pr.annotator_id = ?
    LEFT JOIN preferences al ON al.pair_id = p.id AND al.annotator_id = (SELECT id FROM annotators WHERE name = 'alice')
    WHERE d.name = 'safety-pairs-sample' ORDER BY p.idx`,
    [rm.id],
  );
  assert.equal(rows.length, 30);
  for (const r of rows) {
    assert.ok(Number.isFinite(r.s0) && Number.isFinite(r.s1), `scores stored for ${r.sid}`);
    assert.equal(r.value, r.s1 === r.s0 ? null : r.s1 > r.s0 ? 1 : -1, `preference of ${r.sid} follows its scores`);
  }
  const decided = rows.filter((r) => r.alice === 1 || r.alice === -1);
  const agree = decided.filter((r) => r.value === r.alice).length / decided.length;
  assert.ok(agree >= 0.75, `the model trained on alice agrees with her (${agree.toFixed(2)})`);
  lap(`model judgments: 30/30 pairs scored as ${RM}; agreement with alice ${agree.toFixed(2)} (${scoredText.trim()})`);
}
