// e2e step: screenshots in dark, light and high-contrast themes; the focus outline.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { webview, webviewFrame } from '../driver.mjs';

export const title = 'screenshots in dark, light and high-contrast themes; the focus outline';

export default async function step(ctx) {
  const { lap, out, page, probeConsole, setWorkspaceSetting, webviewErrors } = ctx;
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
}
