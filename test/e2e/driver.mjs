// Playwright helpers for a VS Code web workbench served on 127.0.0.1.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

/** @typedef {import('playwright-core').Page} Page */

const CHROMIUM = {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost, EXCLUDE *.localhost',
  ],
};
const VIEWPORT = { width: 1400, height: 1000 };

export async function launch() {
  const profile = mkdtempSync(join(tmpdir(), 'discretion-pw-'));
  const context = await chromium.launchPersistentContext(profile, { ...CHROMIUM, viewport: VIEWPORT });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * One Chromium for several windows: each `newWindow()` is a page in its own browser context (its own
 * storage, as a second browser profile would have), so two VS Code windows share nothing in the browser.
 */
export async function launchBrowser() {
  const browser = await chromium.launch(CHROMIUM);
  return {
    browser,
    newWindow: async () => {
      const context = await browser.newContext({ viewport: VIEWPORT });
      return { context, page: await context.newPage() };
    },
    close: () => browser.close(),
  };
}

export async function openWorkbench(page, url) {
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
  await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
  await page.waitForSelector('.statusbar', { timeout: 60_000 });
  await page.waitForTimeout(3000);
}

/**
 * Runs a command from the palette by its title; retries (the welcome page races the first F1).
 * `beforeEnter`: called just before the Enter that runs it (a benchmark's start); `after`: waited for.
 * @param {Page} page
 * @param {string} title
 * @param {{ after?: () => Promise<unknown>, beforeEnter?: () => void }} [opts]
 */
export async function runCommand(page, title, { after, beforeEnter } = {}) {
  const retry = (attempt, why) =>
    console.log(
      `runCommand "${title}": attempt ${attempt} failed (${String(why?.message ?? why)
        .split('\n')[0]
        .slice(0, 160)}); retrying`,
    );
  for (let attempt = 1; attempt <= 6; attempt++) {
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget .quick-input-box input').first();
    try {
      await input.waitFor({ state: 'visible', timeout: 5000 });
    } catch (e) {
      retry(attempt, e);
      continue;
    }
    // The palette can close under us (a notification or a finished quick pick takes focus): retry.
    try {
      await input.fill('>' + title, { timeout: 5000 });
    } catch (e) {
      retry(attempt, e);
      await page.waitForTimeout(1000);
      continue;
    }
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
    try {
      await row.waitFor({ timeout: 8000 });
    } catch (e) {
      retry(attempt, e);
      await page.waitForTimeout(1500);
      continue;
    }
    beforeEnter?.();
    await page.keyboard.press('Enter');
    if (!after) return;
    try {
      await after();
      return;
    } catch (e) {
      if (attempt === 6) throw e;
      retry(attempt, e);
    }
  }
  throw new Error(`could not run "${title}" from the command palette`);
}

export const webview = (page) => page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');

/** The Frame object of the workbench webview content (for evaluate). */
export async function webviewFrame(page) {
  const handle = await page
    .frameLocator('iframe.webview.ready')
    .locator('#active-frame')
    .elementHandle({ timeout: 30_000 });
  return handle.contentFrame();
}

/**
 * Answers the open quick pick: waits for it (by its title or placeholder, when given) to list a row
 * with `choose`, types `choose` as the filter and accepts the focused row once it is that row.
 * @param {Page} page
 * @param {string} choose
 * @param {{ title?: string, placeholder?: string, timeout?: number }} [opts]
 */
export async function quickPick(page, choose, { title, placeholder, timeout = 30_000 } = {}) {
  const widget = page.locator('.quick-input-widget');
  await widget.waitFor({ state: 'visible', timeout });
  if (title) await widget.locator('.quick-input-title', { hasText: title }).waitFor({ timeout });
  if (placeholder) await widget.locator(`.quick-input-box input[placeholder="${placeholder}"]`).waitFor({ timeout });
  await widget.locator('.quick-input-list .monaco-list-row', { hasText: choose }).first().waitFor({ timeout });
  // (a bounded wait: when the pick closes under us, the caller's retry comes sooner)
  await widget
    .locator('.quick-input-box input')
    .first()
    .fill(choose, { timeout: 10_000 })
    .catch(async (e) => {
      if (process.env.E2E_DEBUG_SHOTS)
        await page
          .screenshot({ path: `${process.env.E2E_DEBUG_SHOTS}/quickpick-${Date.now()}.png` })
          .catch(() => undefined);
      throw e;
    });
  await widget.locator('.quick-input-list .monaco-list-row.focused', { hasText: choose }).waitFor({ timeout: 10_000 });
  await page.keyboard.press('Enter');
}

/**
 * Answers the open input box whose title matches `title` (text or RegExp): waits for it, checks the
 * title also contains `expect` when given, types `value` and accepts. Returns the value it offered.
 * @param {Page} page
 * @param {string | RegExp} title
 * @param {string} value
 * @param {{ expect?: string, timeout?: number }} [opts]
 */
export async function inputBox(page, title, value, { expect, timeout = 30_000 } = {}) {
  const widget = page.locator('.quick-input-widget');
  const heading = widget.locator('.quick-input-title', { hasText: title });
  await heading.waitFor({ timeout });
  if (expect) {
    const text = await heading.textContent();
    if (!text.includes(expect)) throw new Error(`expected the input box "${expect}", got "${text}"`);
  }
  const input = widget.locator('.quick-input-box input').first();
  await input.waitFor({ state: 'visible', timeout });
  const offered = await input.inputValue();
  await input.fill(value);
  if ((await input.inputValue()) !== value)
    throw new Error(`the input box "${await heading.textContent()}" did not take the value`);
  await page.keyboard.press('Enter');
  await heading.waitFor({ state: 'hidden', timeout });
  return offered;
}

/** The texts of the notification toasts now shown. */
export async function notifications(page) {
  return page.locator('.notifications-toasts .notification-list-item-message').allTextContents();
}

/**
 * Waits until a notification whose text matches `re` is listed in the notification center (toasts
 * hide after a while; the center keeps them), and returns the texts of all notifications there.
 */
export async function waitForNotification(page, re, timeout = 30_000) {
  const end = Date.now() + timeout;
  const center = page.locator('.notifications-center .notification-list-item-message');
  for (;;) {
    await runCommand(page, 'Notifications: Show Notifications', {
      after: () => page.locator('.notifications-center').waitFor({ state: 'visible', timeout: 5000 }),
    });
    await page.waitForTimeout(300);
    const texts = await center.allTextContents();
    const hide = page
      .locator('.notifications-center .notifications-center-header .action-label[aria-label^="Hide Notifications"]')
      .first();
    if (await hide.count()) await hide.click().catch(() => undefined);
    else await page.keyboard.press('Escape');
    await page
      .locator('.notifications-center')
      .waitFor({ state: 'hidden', timeout: 5000 })
      .catch(() => undefined);
    if (texts.some((t) => re.test(t))) return texts;
    if (Date.now() > end) throw new Error(`no notification matching ${re}; the center lists ${JSON.stringify(texts)}`);
    await page.waitForTimeout(1000);
  }
}

/**
 * The first frame of the page whose document matches `selector` (polled for): a webview's content
 * when several webviews are loaded (a hidden dashboard keeps its frame).
 */
export async function frameWith(page, selector, timeout = 30_000) {
  const end = Date.now() + timeout;
  for (;;) {
    for (const f of page.frames()) {
      if (await f.evaluate((sel) => !!document.querySelector(sel), selector).catch(() => false)) return f;
    }
    if (Date.now() > end) throw new Error(`no frame shows ${selector}`);
    await page.waitForTimeout(250);
  }
}

/** The Frame of the dashboard webview's content (the one with #report and #compute), polled for. */
export async function dashboardFrame(page, timeout = 30_000) {
  const end = Date.now() + timeout;
  for (;;) {
    for (const f of page.frames()) {
      if (
        await f
          .evaluate(() => !!document.getElementById('report') && !!document.getElementById('compute'))
          .catch(() => false)
      )
        return f;
    }
    if (Date.now() > end) throw new Error('the dashboard webview did not load');
    await page.waitForTimeout(250);
  }
}
