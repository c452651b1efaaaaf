// e2e step: the annotator identity, asked once.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { inputBox, runCommand, webview } from '../driver.mjs';

export const title = 'the annotator identity, asked once';

export default async function step(ctx) {
  const { card, identityBox, lap, page, progressText, query, settingsFile, sourceId, state } = ctx;
  // ---- the annotator identity, asked once ---------------------------------------------------------
  // prepare.mjs leaves discretion.annotator unset: opening the workbench asks for it in an input box
  await runCommand(page, 'Discretion: Open Sample Dataset', { after: () => identityBox.waitFor({ timeout: 60_000 }) });
  const idInput = page.locator('.quick-input-widget .quick-input-box input').first();
  assert.equal(await idInput.inputValue(), userInfo().username, 'the identity box suggests the user name');
  // a blank name is refused: the box says so and stays open
  await idInput.fill('   ');
  await page
    .locator('.quick-input-widget .quick-input-message', { hasText: 'Enter a name' })
    .waitFor({ timeout: 30_000 });
  await page.keyboard.press('Enter');
  await inputBox(page, 'annotator identity', 'e2e-annotator');
  await card.and(webview(page).locator('[data-source-id]')).waitFor({ timeout: 60_000 });
  lap('asked for the annotator identity; workbench open on the sample dataset');
  assert.equal(await sourceId(), 's01');
  assert.ok(
    (await progressText()).includes('labelled by e2e-annotator'),
    `the card names the annotator: ${await progressText()}`,
  );
  // stored in the user settings (the server's user-data folder), not the workspace's
  const userSettings = join(state, 'user-data', 'User', 'settings.json');
  for (
    let i = 0;
    i < 100 && !(existsSync(userSettings) && readFileSync(userSettings, 'utf8').includes('e2e-annotator'));
    i++
  )
    await page.waitForTimeout(100);
  assert.equal(
    JSON.parse(readFileSync(userSettings, 'utf8'))['discretion.annotator'],
    'e2e-annotator',
    'the identity is saved in the user settings',
  );
  assert.equal(
    JSON.parse(readFileSync(settingsFile, 'utf8'))['discretion.annotator'],
    undefined,
    'not in the workspace settings',
  );
  const humans = await query("SELECT name, provenance FROM annotators WHERE kind = 'human' ORDER BY name");
  assert.deepEqual(
    humans.map((h) => h.name),
    ['alice', 'bilal', 'e2e-annotator'],
    'the suggestion and the blank name were never recorded',
  );
  assert.equal(JSON.parse(humans[2].provenance).source, 'workbench');
}
