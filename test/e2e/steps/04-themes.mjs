// e2e step: screenshots in dark, light and high-contrast themes; the focus outline.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { webview, webviewFrame } from '../driver.mjs';
import { assertBackground, assertDrawn, assertOutline, boxOf, decodePng, THEME } from '../pixels.mjs';

export const title = 'screenshots in dark, light and high-contrast themes; the focus outline';

export default async function step(ctx) {
  const { lap, out, page, probeConsole, setWorkspaceSetting, webviewErrors } = ctx;
  // screenshots, dark then light then high contrast; each is checked for what it shows: the webview painted in
  // the theme's editor background, the card's text drawn legibly on it (test/e2e/pixels.mjs)
  const shot = async (name, target = page) => decodePng(await target.screenshot({ path: join(out, name) }));
  const webviewBox = () => boxOf(page.locator('iframe.webview.ready'), 'the workbench webview');
  const cardBox = () => boxOf(webview(page).locator('#card'), 'the card');
  await page.waitForTimeout(500);
  const dark = await shot('workbench-dark.png');
  assertBackground(dark, await webviewBox(), THEME.dark.editor, 'workbench-dark.png: the workbench webview');
  assertDrawn(dark, await cardBox(), THEME.dark.editor, {
    min: 3000,
    ratio: 4.5,
    what: "workbench-dark.png: the card's text",
  });
  setWorkspaceSetting('workbench.colorTheme', 'Default Light Modern');
  await page.waitForFunction(() => document.querySelector('.monaco-workbench')?.classList.contains('vs'), null, {
    timeout: 15_000,
  });
  await page.waitForTimeout(1000);
  const light = await shot('workbench-light.png');
  assertBackground(light, await webviewBox(), THEME.light.editor, 'workbench-light.png: the workbench webview');
  assertDrawn(light, await cardBox(), THEME.light.editor, {
    min: 3000,
    ratio: 4.5,
    what: "workbench-light.png: the card's text",
  });
  const cardLight = await shot('workbench-card-light.png', webview(page).locator('#card'));
  const whole = { x: 0, y: 0, width: cardLight.width, height: cardLight.height };
  assertBackground(cardLight, whole, THEME.light.editor, 'workbench-card-light.png');
  assertDrawn(cardLight, whole, THEME.light.editor, {
    min: 3000,
    ratio: 4.5,
    what: "workbench-card-light.png: the card's text",
  });
  setWorkspaceSetting('workbench.colorTheme', 'Default High Contrast');
  await page.waitForFunction(() => document.querySelector('.monaco-workbench')?.classList.contains('hc-black'), null, {
    timeout: 15_000,
  });
  await webview(page).locator('body.vscode-high-contrast #card[data-source-id="s03"]').waitFor({ timeout: 15_000 });
  // keyboard focus is visible: a click on the card's heading, then Tab to the first response; its
  // outline is drawn in the theme's focus colour
  await webview(page).locator('#card-title').click();
  await page.keyboard.press('Tab');
  const focus = await (
    await webviewFrame(page)
  ).evaluate(() => {
    const el = document.activeElement;
    const cs = getComputedStyle(el);
    const probe = document.createElement('div');
    probe.style.color = 'var(--vscode-focusBorder)';
    document.body.append(probe);
    const focusBorder = getComputedStyle(probe).color;
    probe.remove();
    return {
      label: el.getAttribute('aria-label'),
      style: cs.outlineStyle,
      width: cs.outlineWidth,
      offset: cs.outlineOffset,
      color: cs.outlineColor,
      focusBorder,
      background: getComputedStyle(document.body).backgroundColor,
    };
  });
  assert.equal(focus.label, 'Response A text', `Tab focuses the first response (${JSON.stringify(focus)})`);
  assert.equal(focus.style, 'solid', `focus outline drawn (${JSON.stringify(focus)})`);
  assert.equal(focus.width, '2px');
  assert.equal(focus.color, focus.focusBorder, "the outline has the theme's focus colour");
  assert.ok(
    !/rgba\(\d+, \d+, \d+, 0\)/.test(focus.color) && focus.color !== focus.background,
    `the focus colour is visible on the background (${JSON.stringify(focus)})`,
  );
  assert.ok(
    (await webview(page).locator('#response-A .markdown').textContent()).length > 20 &&
      (await webview(page).locator('#response-B .markdown').textContent()).length > 20,
    'both responses rendered',
  );
  assert.equal(await webview(page).locator('#card .grid-row').count(), 6, 'the principle grid rendered');
  await page.waitForTimeout(500);
  // the picture shows the outline: 2 px in the focus colour all round Response A, at least 3:1 against what is
  // beside it (the page screenshot: the card's own would cut the outline where the response meets its edge)
  const hc = await shot('workbench-hc.png');
  assertBackground(hc, await webviewBox(), THEME.hc.editor, 'workbench-hc.png: the workbench webview');
  const outlineContrast = assertOutline(
    hc,
    await boxOf(webview(page).locator('[aria-label="Response A text"]'), 'Response A'),
    { width: 2, offset: parseFloat(focus.offset), colour: focus.color, what: 'workbench-hc.png' },
  );
  const cardHc = await shot('workbench-card-hc.png', webview(page).locator('#card'));
  const wholeHc = { x: 0, y: 0, width: cardHc.width, height: cardHc.height };
  assertBackground(cardHc, wholeHc, THEME.hc.editor, 'workbench-card-hc.png');
  assertDrawn(cardHc, wholeHc, THEME.hc.editor, {
    min: 3000,
    ratio: 7,
    what: "workbench-card-hc.png: the card's text",
  });
  await probeConsole(await webviewFrame(page), 'workbench');
  assert.deepEqual(webviewErrors, [], 'no console errors in the workbench webview so far');
  setWorkspaceSetting('workbench.colorTheme', 'Default Light Modern');
  await page.waitForFunction(() => document.querySelector('.monaco-workbench')?.classList.contains('vs'), null, {
    timeout: 15_000,
  });
  lap(
    `screenshots (dark, light, high contrast: backgrounds and text as drawn; focus outline drawn, contrast at least ${outlineContrast.toFixed(1)}:1; no console errors)`,
  );
}
