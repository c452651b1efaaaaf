import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inlineAsset, inlineText } from '../../src/extension/webviewAssets';

describe('inlineText', () => {
  it('keeps script text and drops the source-map comment', () => {
    expect(inlineText('var a = "<!-->";\n//# sourceMappingURL=workbench.js.map\n', 'script')).toBe(
      'var a = "<!-->";\n',
    );
    expect(inlineText('a{b:c}\n/*# sourceMappingURL=workbench.css.map */', 'style')).toBe('a{b:c}\n');
  });

  it('refuses text the HTML parser would end early or misread', () => {
    expect(inlineText('s = "</script><img src=x onerror=alert(1)>"', 'script')).toBeNull();
    expect(inlineText('s = "</SCRIPT >"', 'script')).toBeNull();
    expect(inlineText('s = "<!--<script>"', 'script')).toBeNull();
    expect(inlineText('a{content:"</style>"}', 'style')).toBeNull();
  });
});

describe('inlineAsset', () => {
  const dir = mkdtempSync(join(tmpdir(), 'discretion-assets-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a built file once and keeps it for the activation', () => {
    const file = join(dir, 'kept.js');
    writeFileSync(file, 'var a = 1;\n//# sourceMappingURL=kept.js.map\n');
    expect(inlineAsset(file, 'script')).toBe('var a = 1;\n');
    // changed or removed on disk afterwards: the page is built from what was read
    rmSync(file);
    expect(inlineAsset(file, 'script')).toBe('var a = 1;\n');
  });

  it('throws for a file it cannot read or inline, and never offers a URI instead', () => {
    expect(() => inlineAsset(join(dir, 'missing.js'), 'script')).toThrow(/missing\.js could not be read/);
    const bad = join(dir, 'bad.css');
    writeFileSync(bad, 'a{content:"</style>"}');
    expect(() => inlineAsset(bad, 'style')).toThrow(/bad\.css holds "<\/style" or "<style" and cannot be inlined/);
  });

  it('inlines every built webview file (the vitest global setup builds dist/)', () => {
    const dist = join(__dirname, '..', '..', 'dist', 'webview');
    for (const [name, tag] of [
      ['workbench.js', 'script'],
      ['workbench.css', 'style'],
      ['dashboard.js', 'script'],
      ['review.js', 'script'],
    ] as const)
      expect(inlineAsset(join(dist, name), tag).length).toBeGreaterThan(1000);
  });
});
