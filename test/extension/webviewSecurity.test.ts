import { describe, expect, it } from 'vitest';
import { newNonce, webviewCsp, webviewPage } from '../../src/extension/webviewSecurity';

describe('webviewPage', () => {
  it('puts the policy first in the head and takes the title as text', () => {
    const nonce = newNonce();
    const csp = webviewCsp(nonce, {});
    const html = webviewPage({
      csp,
      title: 'a <script>alert(1)</script>.jsonl',
      head: `<style nonce="${nonce}">p{}</style>`,
      body: '<p>x</p>',
    });
    const head = html.slice(html.indexOf('<head>') + 6, html.indexOf('</head>'));
    // the first elements of the head: the charset, then the policy, before any style or script
    expect(head.trim().split('\n').slice(0, 2)).toEqual([
      '<meta charset="UTF-8">',
      `<meta http-equiv="Content-Security-Policy" content="${csp}">`,
    ]);
    expect(html).toContain('<title>a &lt;script&gt;alert(1)&lt;/script&gt;.jsonl</title>');
    expect(html).not.toContain('<script>');
    expect(html).toMatch(/<body>\n<p>x<\/p>\n<\/body>/);
  });
});
