// Renders the extension's Marketplace icon, media/icon.png (256x256), from the balance glyph of
// media/icons/discretion.svg drawn on a solid rounded square, so that it reads on dark and light
// backgrounds alike. Rendered by the Debian Chromium the e2e suite uses, through playwright-core.
// Run: node scripts/make-icon.mjs [--preview FILE.png]  (--preview also writes the icon shown on a
// dark and a light background side by side, to look at; not committed)
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '..');
const SIZE = 256;
const out = resolve(root, 'media', 'icon.png');
const previewAt = process.argv.indexOf('--preview');
const preview = previewAt > 0 ? resolve(process.argv[previewAt + 1]) : undefined;

// The glyph's paths, as drawn in the 24x24 view box of the activity-bar icon.
const glyph = readFileSync(resolve(root, 'media', 'icons', 'discretion.svg'), 'utf8');
const paths = [...glyph.matchAll(/<path d="([^"]+)"\/>/g)].map((m) => m[1]);
if (paths.length !== 5) throw new Error(`expected the 5 paths of the balance in discretion.svg, found ${paths.length}`);
const pans = paths.filter((d) => d.includes('a3 3'));

// Deep blue square (contrast with white well above 4.5:1), white strokes, amber pans. The glyph spans
// x 1..23 and y 3..21 of its view box: scaled by 8 and moved by 32 it fills the square with a margin.
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${SIZE}" height="${SIZE}" viewBox="0 0 ${SIZE} ${SIZE}">
<defs><linearGradient id="bg" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#2f5fa8"/><stop offset="1" stop-color="#1d3f78"/></linearGradient></defs>
<rect x="4" y="4" width="${SIZE - 8}" height="${SIZE - 8}" rx="52" fill="url(#bg)" stroke="#16325f" stroke-width="2"/>
<g transform="translate(32 30) scale(8)" fill="none" stroke="#ffffff" stroke-width="1.7" stroke-linecap="round" stroke-linejoin="round">
${pans.map((d) => `<path d="${d}" fill="#f5b83d"/>`).join('\n')}
${paths.map((d) => `<path d="${d}"/>`).join('\n')}
</g>
</svg>`;

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
try {
  const page = await browser.newPage({ viewport: { width: SIZE, height: SIZE }, deviceScaleFactor: 1 });
  await page.setContent(`<html><body style="margin:0;background:transparent">${svg}</body></html>`);
  const png = await page.locator('svg').screenshot({ omitBackground: true });
  writeFileSync(out, png);
  console.log(`wrote ${out} (${png.length} bytes)`);
  if (preview) {
    const img = `data:image/png;base64,${png.toString('base64')}`;
    const tile = (bg) =>
      `<div style="display:inline-block;padding:32px;background:${bg}"><img src="${img}" width="${SIZE}"><img src="${img}" width="64" style="margin-left:24px"><img src="${img}" width="32" style="margin-left:24px"></div>`;
    await page.setViewportSize({ width: 2 * (SIZE + 64 + 64 + 24 + 32 + 24), height: SIZE + 64 });
    await page.setContent(
      `<html><body style="margin:0;display:flex">${tile('#1e1e1e')}${tile('#ffffff')}</body></html>`,
    );
    await page.screenshot({ path: preview });
    console.log(`wrote ${preview}`);
  }
} finally {
  await browser.close();
}
