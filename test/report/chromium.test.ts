// report.html in headless Chromium (Debian chromium + playwright-core): no console errors, no CSP violations,
// the hashed stylesheet applies, hostile text never runs; a full-page PNG goes to test-results/.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeCspHash } from '../../src/app/report';
import { renderHtml } from '../../src/core/report';
import { missingPrerequisite } from '../support/helpers';
import { fixture } from './fixture';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const skip = missingPrerequisite(
  existsSync(CHROMIUM),
  `${CHROMIUM} is absent (Debian's chromium: apt-get install chromium, or npm test, which installs it first)`,
);

describe.skipIf(!!skip)('report.html in headless Chromium', () => {
  let ctx: BrowserContext;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'report-chromium-'));
    ctx = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1200, height: 900 },
    });
  });
  afterAll(async () => {
    await ctx?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('renders with no console errors or CSP violations, styled, and nothing hostile runs', async () => {
    const { model } = fixture();
    const file = join(dir, 'report.html');
    writeFileSync(file, renderHtml(model, { hash: nodeCspHash }));
    const page = await ctx.newPage();
    const messages: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') messages.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => messages.push(`pageerror: ${e.message}`));
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    // Record CSP violations from inside the page before any of its content loads.
    await page.addInitScript(() => {
      (window as unknown as { __csp: string[] }).__csp = [];
      document.addEventListener('securitypolicyviolation', (e) =>
        (window as unknown as { __csp: string[] }).__csp.push(`${e.violatedDirective} ${e.blockedURI}`),
      );
    });
    await page.goto('file://' + file);
    await page.waitForLoadState('load');
    const state = await page.evaluate(() => ({
      csp: (window as unknown as { __csp: string[] }).__csp,
      rules: Array.from(document.styleSheets).reduce((n, s) => n + s.cssRules.length, 0),
      maxWidth: getComputedStyle(document.body).maxWidth,
      svgs: document.querySelectorAll('svg.chart').length,
      scripts: Array.from(document.scripts).map((s) => s.type),
      json: JSON.parse(document.getElementById('discretion-metrics')!.textContent!).report_schema as string,
    }));
    expect(messages).toEqual([]);
    expect(dialogs).toEqual([]);
    expect(state.csp).toEqual([]);
    expect(state.rules).toBeGreaterThan(10); // the hashed <style> block was allowed
    expect(state.maxWidth).toBe('1100px');
    expect(state.svgs).toBe(7);
    expect(state.scripts).toEqual(['application/json']);
    expect(state.json).toBe('discretion-report/1');
    const out = resolve('test-results');
    mkdirSync(out, { recursive: true });
    await page.screenshot({ path: join(out, 'report-hostile.png'), fullPage: true });
    expect(existsSync(join(out, 'report-hostile.png'))).toBe(true);
    await page.close();
  });

  it('a wrong style hash is reported as a CSP violation (the check above can fail)', async () => {
    const { model } = fixture({ hostile: false });
    const file = join(dir, 'bad.html');
    writeFileSync(file, renderHtml(model, { hash: () => "'sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='" }));
    const page = await ctx.newPage();
    const messages: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') messages.push(m.text());
    });
    await page.goto('file://' + file);
    const rules = await page.evaluate(() => getComputedStyle(document.body).maxWidth);
    expect(rules).not.toBe('1100px');
    expect(messages.join('\n')).toMatch(/Content Security Policy/);
    await page.close();
  });
});
