// The pages of the three webview panels (workbench, dashboard, review) as VS Code gets them: one strict
// policy with the render's nonce and no 'unsafe-inline', the panel's script and styles inside the page
// under that nonce, and nothing loaded by URI (no src, no href, no local resource roots), so that once the
// page is written nothing of it goes through the webview's service worker. The built files are dist/'s
// (the vitest global setup builds them from the sources).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

vi.mock('vscode', () => ({ Uri: { joinPath: () => ({ fsPath: '' }) }, ViewColumn: { Active: -1 } }));

const { buildPage, pageContext, panelOptions } = await import('../../src/extension/webviewPanelBase');
const { newNonce } = await import('../../src/extension/webviewSecurity');
const { WORKBENCH } = await import('../../src/extension/workbenchPanel');
const { DASHBOARD } = await import('../../src/extension/dashboard');
const { REVIEW } = await import('../../src/extension/reviewPanel');

const DIST = resolve(__dirname, '..', '..', 'dist', 'webview');
const built = (name: string) =>
  readFileSync(join(DIST, name), 'utf8').replace(/\/[/*]# sourceMappingURL=[^\n]*\s*$/, '');

/** The page's markup, the content of its script and style elements left out (the bundles hold markup of their own). */
const markup = (html: string) => html.replace(/(<(script|style)\b[^>]*>)[^]*?(<\/\2>)/g, '$1$3');

/** The policy of a page, directive by directive. */
function policy(html: string): Map<string, string> {
  const content = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)![1];
  return new Map(
    content.split(';').map((d) => {
      const [name, ...values] = d.trim().split(/\s+/);
      return [name, values.join(' ')];
    }),
  );
}

describe.each([
  { name: 'workbench', kind: WORKBENCH, script: 'workbench.js', style: 'workbench.css', img: 'data:' },
  { name: 'dashboard', kind: DASHBOARD, script: 'dashboard.js', style: null, img: 'data:' },
  { name: 'review', kind: REVIEW, script: 'review.js', style: null, img: "'none'" },
])('the $name page', ({ kind, script, style, img }) => {
  const nonce = newNonce();
  const html = buildPage(kind, pageContext(nonce, DIST));

  it("runs only its nonce'd script and styles, under a policy without unsafe-inline or any URI source", () => {
    const csp = policy(html);
    expect(csp.get('default-src')).toBe("'none'");
    expect(csp.get('script-src')).toBe(`'nonce-${nonce}'`);
    expect(csp.get('style-src')).toBe(`'nonce-${nonce}'`);
    expect(csp.get('font-src')).toBe("'none'");
    expect(csp.get('img-src')).toBe(img);
    expect(csp.get('connect-src')).toBe("'none'");
    expect(markup(html)).not.toMatch(/unsafe-inline|unsafe-eval|vscode-resource|vscode-cdn|https:/);
    // every script and style element carries the nonce; no style attribute (it would need 'unsafe-inline')
    const opening = [...markup(html).matchAll(/<(script|style)\b[^>]*>/g)].map((m) => m[0]);
    // the panel's one script and its one style element (the built stylesheet, or the panel's own CSS)
    expect(opening.sort()).toEqual([`<script nonce="${nonce}">`, `<style nonce="${nonce}">`]);
    expect(markup(html)).not.toMatch(/\sstyle="/);
  });

  it('holds its built script (and stylesheet) in the page and loads nothing by URI', () => {
    expect(html).toContain(`<script nonce="${nonce}">${built(script)}</script>`);
    if (style) expect(html).toContain(`<style nonce="${nonce}">${built(style)}</style>`);
    expect(markup(html)).not.toMatch(/\s(src|href)=/i);
    expect(markup(html)).not.toMatch(/<link\b/i);
    expect(html).not.toContain('sourceMappingURL');
    const options = panelOptions(kind);
    expect(options.localResourceRoots).toEqual([]);
    expect(options.enableScripts).toBe(true);
    expect(options.enableCommandUris).toBe(false);
    expect(options.enableForms).toBe(false);
  });
});

describe('a page whose built files are missing', () => {
  it('says so as text, under the strict policy, and runs nothing', () => {
    const nonce = newNonce();
    const errors: unknown[] = [];
    const html = buildPage(WORKBENCH, pageContext(nonce, join(DIST, 'no <such> folder')), (e) => errors.push(e));
    expect(errors).toHaveLength(1);
    expect(html).toContain(
      '<p role="alert">Discretion Workbench could not be shown: the webview file workbench.css could not be read',
    );
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<such>');
    expect(policy(html).get('default-src')).toBe("'none'");
    expect(policy(html).has('script-src')).toBe(false);
  });
});

describe('the workbench page built with its first card', () => {
  it('holds the card as JSON under the nonce, before its script, that no dataset text can break out of', () => {
    const nonce = newNonce();
    const hostile = '</script><script>window.__pwned=1</script><!--<script>';
    const message = { type: 'card', card: { sourceId: hostile, turns: [{ role: 'human', text: `a & b ${hostile}` }] } };
    const html = buildPage(WORKBENCH, pageContext(nonce, DIST, message));
    const open = `<script type="application/json" id="first-card" nonce="${nonce}">`;
    const from = html.indexOf(open) + open.length;
    const json = html.slice(from, html.indexOf('</script>', from));
    expect(JSON.parse(json)).toEqual(message);
    expect(html.indexOf('id="first-card"')).toBeLessThan(html.indexOf(`<script nonce="${nonce}">`));
    // nothing of the dataset text as markup: its only script elements are the JSON and the bundle
    expect(markup(html).match(/<script\b[^>]*>/g)).toEqual([
      `<script type="application/json" id="first-card" nonce="${nonce}">`,
      `<script nonce="${nonce}">`,
    ]);
    expect(html).not.toContain('window.__pwned=1</script>');
    expect(policy(html).get('script-src')).toBe(`'nonce-${nonce}'`);
  });
});
