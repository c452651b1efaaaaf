// e2e step: the queue filters against hand-listed pairs.
import assert from 'node:assert/strict';
import { quickPick, runCommand, webview } from '../driver.mjs';

export const title = 'the queue filters against hand-listed pairs';

export default async function step(ctx) {
  const { MODELS, card, lap, page, plan2, progressText, sourceId, waitFor, y0SideOf, yOf } = ctx;
  // ---- the queue filter ---------------------------------------------------------------------------
  // Expected queues, from the fixture and the labels above (s01 and s02 were labelled A and B: their
  // y side is the one the card showed there)
  const mine = {
    s01: yOf('A', y0SideOf.s01),
    s02: yOf('B', y0SideOf.s02),
    ...Object.fromEntries(plan2.map((s) => [s.id, s.overall])),
  };
  const disagreeing = (model) =>
    Object.entries(MODELS[model].prefs)
      .filter(([id, pref]) => pref !== null && id in mine && mine[id] !== pref)
      .map(([id]) => id);
  const queues = [
    {
      pick: 'Disagreements with rm-fixture',
      label: 'disagreements with rm-fixture',
      ids: disagreeing('rm-fixture'),
      model: 'rm-fixture',
    },
    {
      pick: 'Disagreements with judge-fixture',
      label: 'disagreements with judge-fixture',
      ids: disagreeing('judge-fixture'),
      model: 'judge-fixture',
    },
    { pick: 'My principle labels in conflict', label: 'my principle labels in conflict', ids: ['s01', 's03', 's06'] },
  ];
  // by hand: rm disagrees on s05 and s06 (and on s01 or s02 where the A/B label meant the other side), the judge on s04 (and s01 if A was y1)
  assert.deepEqual(
    queues[0].ids.filter((id) => !['s01', 's02'].includes(id)),
    ['s05', 's06'],
  );
  assert.deepEqual(
    queues[1].ids.filter((id) => id !== 's01'),
    ['s04'],
  );
  const statusBar = (text) => page.locator('.statusbar', { hasText: text });
  /** Alt+N / Alt+P: the next card shown (a new card, possibly the same pair at the end of the queue). */
  const stepQueue = async (key) => {
    const seq = await card.getAttribute('data-seq');
    await page.keyboard.press(key);
    await webview(page).locator(`#card:not([data-seq="${seq}"])`).waitFor({ timeout: 15_000 });
    return sourceId();
  };
  const checkQueueCard = async (q, id) => {
    assert.ok(
      (await progressText()).includes(`queue: ${q.label}`),
      `the card names the queue (${await progressText()})`,
    );
    if (q.model) {
      // a labelled pair: its models are shown at once, this one flagged
      await webview(page).locator('#models:not([hidden]) li').first().waitFor({ timeout: 10_000 });
      const flagged = await webview(page).locator('#models li.disagree').allTextContents();
      assert.ok(
        flagged.some((t) => t.startsWith(`${q.model} (`) && t.endsWith(' - disagrees with you')),
        `${q.model} flagged on ${id}: ${flagged}`,
      );
    } else {
      assert.ok(
        (await webview(page).locator('[data-grid="A"][aria-checked="true"]').count()) > 0 &&
          (await webview(page).locator('[data-grid="B"][aria-checked="true"]').count()) > 0,
        `principle rows favour both A and B on ${id}`,
      );
    }
  };
  for (const q of queues) {
    await runCommand(page, 'Discretion: Filter Workbench Queue', {
      after: () => quickPick(page, q.pick, { title: 'Workbench queue', timeout: 10_000 }),
    });
    await waitFor(q.ids[0]);
    await webview(page)
      .locator('#progress', { hasText: `queue: ${q.label}` })
      .waitFor({ timeout: 15_000 });
    const seen = [await sourceId()];
    await checkQueueCard(q, seen[0]);
    for (let i = 1; i < q.ids.length; i++) {
      seen.push(await stepQueue('Alt+n'));
      await checkQueueCard(q, seen.at(-1));
    }
    assert.deepEqual(seen, q.ids, `the queue "${q.label}" steps through exactly its pairs`);
    // past its end: the card stays, the status bar says so
    const end = statusBar('no next pair in this queue')
      .waitFor({ timeout: 15_000 })
      .then(
        () => null,
        (e) => e,
      );
    assert.equal(await stepQueue('Alt+n'), q.ids.at(-1), `the queue "${q.label}" ends at ${q.ids.at(-1)}`);
    const endError = await end;
    if (endError) throw new Error(`no "no next pair in this queue" in the status bar: ${endError.message}`);
    const back = [q.ids.at(-1)];
    for (let i = 1; i < q.ids.length; i++) back.push(await stepQueue('Alt+p'));
    assert.deepEqual(back, [...q.ids].reverse(), `the queue "${q.label}" steps back the same way`);
    lap(`queue "${q.label}": ${seen.join(', ')}`);
  }
  await runCommand(page, 'Discretion: Filter Workbench Queue', {
    after: () => quickPick(page, 'All pairs', { title: 'Workbench queue', timeout: 10_000 }),
  });
  await webview(page).locator('#progress', { hasText: 'queue: all pairs' }).waitFor({ timeout: 15_000 });
  assert.equal(await sourceId(), 's01');
  assert.equal(await stepQueue('Alt+n'), 's02', 'all pairs again');
}
