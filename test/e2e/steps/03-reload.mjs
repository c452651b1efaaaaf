// e2e step: Reload Window restores the panel on its pair.
import assert from 'node:assert/strict';
import { runCommand, webview } from '../driver.mjs';

export const title = 'Reload Window restores the panel on its pair';

export default async function step(ctx) {
  const { identityBox, lap, page, progressText } = ctx;
  // reload: the serializer restores the panel on the same pair, and the identity is not asked again.
  // VS Code's own "Developer: Reload Window" shuts the window down first, which saves the editor state
  // (the open panel) before the page goes; a bare page.reload() races that save (one run here came
  // back with no panel at all). The restored card can take over a minute on the shared 2-core machine.
  const reloaded = page.waitForEvent('load', { timeout: 60_000 });
  await runCommand(page, 'Developer: Reload Window');
  await reloaded;
  await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
  await webview(page).locator('#card[data-source-id="s03"]').waitFor({ timeout: 120_000 });
  assert.equal(await identityBox.isVisible(), false, 'the identity is not asked again after the reload');
  assert.ok((await progressText()).includes('labelled by e2e-annotator'));
  lap('panel restored on s03 after reload; identity not asked again');
}
