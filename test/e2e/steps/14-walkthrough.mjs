// e2e step: the first-run walkthrough, opened once from the command palette at the end of the suite: its
// title and five steps shown, each ticked, since the earlier steps did every one of them (01 opened the
// sample, 02 labelled pairs with the keyboard, 09 opened the dashboard, computed the metrics and exported
// the report), and a reload (step 12) came in between.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { quickPick, runCommand } from '../driver.mjs';

export const title = 'the first-run walkthrough: its five steps, each ticked once done';

/** publisher.name#id: the id "Welcome: Open Walkthrough..." runs workbench.action.openWalkthrough with. */
const WALKTHROUGH = 'discretion-workbench.discretion-workbench#discretion.gettingStarted';
const TITLE = 'Get started with Discretion Workbench';
const STEPS = [
  ['sample', 'Open the sample dataset'],
  ['label', 'Label a pair with the keyboard'],
  ['dashboard', 'Open the dashboard'],
  ['metrics', 'Compute the metrics'],
  ['report', 'Export the report'],
];

export default async function step(ctx) {
  const { lap, out, page } = ctx;
  const heading = page.locator(`h2.category-title[x-category-title-for="${WALKTHROUGH}"]`);
  // "Welcome: Open Walkthrough..." lists the walkthroughs by title; accepting one runs
  // workbench.action.openWalkthrough with its id
  await runCommand(page, 'Welcome: Open Walkthrough...', {
    after: async () => {
      await quickPick(page, TITLE, { timeout: 15_000 });
      await heading.waitFor({ state: 'visible', timeout: 30_000 });
    },
  });
  assert.equal((await heading.textContent()).trim(), TITLE);
  const titles = await page
    .locator(`h3.step-title[x-step-title-for^="${WALKTHROUGH}#"]`)
    .evaluateAll((xs) => xs.map((x) => [x.getAttribute('x-step-title-for'), x.textContent.trim()]));
  assert.deepEqual(
    titles,
    STEPS.map(([id, t]) => [`${WALKTHROUGH}#${id}`, t]),
    'the five steps, in order',
  );
  for (const [id, t] of STEPS) {
    assert.ok(
      await page.locator(`h3.step-title[x-step-title-for="${WALKTHROUGH}#${id}"]`).isVisible(),
      `"${t}" is visible`,
    );
    // a done step's checkbox: the checked codicon, aria-checked="true"
    const box = page.locator(`.codicon[data-done-step-id="${WALKTHROUGH}#${id}"]`);
    await box.and(page.locator('.complete.codicon-getting-started-step-checked[aria-checked="true"]')).waitFor({
      timeout: 15_000,
    });
  }
  await page.screenshot({ path: join(out, 'walkthrough.png') });
  lap(`walkthrough open: ${STEPS.length} steps, each ticked (done by the steps before)`);
}
