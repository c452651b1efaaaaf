// e2e step: hostile pairs: nothing executes, text is literal.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCommand, webview, webviewFrame } from '../driver.mjs';
import { assertBackground, assertDrawn, boxOf, decodePng, THEME } from '../pixels.mjs';

export const title = 'hostile pairs: nothing executes, text is literal';

export default async function step(ctx) {
  const { dialogs, external, identityBox, lap, out, page, progressText, waitFor } = ctx;
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
  assert.equal(await identityBox.isVisible(), false, 'opening another dataset does not ask for the identity again');
  assert.ok(
    (await progressText()).includes('hostile-pairs · 0 / 6 labelled by e2e-annotator'),
    `the card names the annotator: ${await progressText()}`,
  );
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
    assert.equal(
      await webview(page)
        .locator('#card script, #card img, #card iframe, #card a, #card [onerror], #card [onclick]')
        .count(),
      0,
      `no active elements on ${id}`,
    );
    if (i === 1) assert.ok(text.includes('<script>window.__pwned=1</script>'), 'script tag shown as text');
    if (i < 6) {
      await page.keyboard.press('s');
    }
  }
  assert.ok(
    seen.some((n) => n > 90_000),
    `the 100 KB response is rendered (longest card ${Math.max(...seen)} chars)`,
  );
  const bodyText = await webview(page).locator('body').textContent();
  assert.ok(!/__pwned=1<\/script>$/.test(bodyText));
  assert.deepEqual(dialogs, [], 'no dialogs opened');
  // the picture: the last hostile pair's card drawn as text on the light theme's background
  const shot = decodePng(await page.screenshot({ path: join(out, 'workbench-hostile.png') }));
  const cardBox = await boxOf(webview(page).locator('#card'), 'the card');
  assertBackground(
    shot,
    { ...cardBox, height: Math.min(cardBox.height, 30) },
    THEME.light.editor,
    "workbench-hostile.png: the card's heading",
  );
  assertDrawn(shot, cardBox, THEME.light.editor, {
    min: 3000,
    ratio: 4.5,
    what: "workbench-hostile.png: the hostile pair's text",
  });
  lap(`hostile pairs: nothing executed, text literal; external requests: ${[...external].length}`);
}
