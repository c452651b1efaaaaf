// Playwright helpers for a VS Code web workbench served on 127.0.0.1.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export async function launch() {
  const profile = mkdtempSync(join(tmpdir(), 'discretion-pw-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1400, height: 1000 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost, EXCLUDE *.localhost'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page, close: async () => { await context.close(); rmSync(profile, { recursive: true, force: true }); } };
}

export async function openWorkbench(page, url) {
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
  await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
  await page.waitForSelector('.statusbar', { timeout: 60_000 });
  await page.waitForTimeout(3000);
}

/** Runs a command from the palette by its title; retries (the welcome page races the first F1). */
export async function runCommand(page, title, { after } = {}) {
  for (let attempt = 1; attempt <= 6; attempt++) {
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget .quick-input-box input').first();
    try { await input.waitFor({ state: 'visible', timeout: 5000 }); } catch { continue; }
    await input.fill('>' + title);
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
    try { await row.waitFor({ timeout: 8000 }); } catch { await page.waitForTimeout(1500); continue; }
    await page.keyboard.press('Enter');
    if (!after) return;
    try { await after(); return; } catch (e) { if (attempt === 6) throw e; }
  }
  throw new Error(`could not run "${title}" from the command palette`);
}

export const webview = (page) => page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');

/** The Frame object of the workbench webview content (for evaluate). */
export async function webviewFrame(page) {
  const handle = await page.frameLocator('iframe.webview.ready').locator('#active-frame').elementHandle({ timeout: 30_000 });
  return handle.contentFrame();
}
