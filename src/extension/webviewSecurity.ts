// The strict Content-Security-Policy every webview of the extension starts from, with a fresh nonce
// per render: nothing loads or runs but the nonce'd script and the sources a view names.
import { randomBytes } from 'node:crypto';
import { escapeHtml } from '../core/report/escape';

export function newNonce(): string {
  return randomBytes(18).toString('base64');
}

/**
 * `value` as JSON for a <script type="application/json"> element: every `<`, `>` and `&` escaped
 * (\u003c...), so no text in it (dataset text included) can end the element or start markup; the
 * page reads it back with JSON.parse of the element's text, unchanged.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export interface CspSources {
  /** Whether the page runs its nonce'd script (the JSONL preview runs none). */
  script?: boolean;
  style?: string;
  font?: string;
  img?: string;
}

export function webviewCsp(nonce: string, sources: CspSources): string {
  return [
    "default-src 'none'",
    ...(sources.script ? [`script-src 'nonce-${nonce}'`] : []),
    `style-src ${sources.style ?? `'nonce-${nonce}'`}`,
    `font-src ${sources.font ?? "'none'"}`,
    `img-src ${sources.img ?? "'none'"}`,
    "connect-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
    "frame-src 'none'",
  ].join('; ');
}

/**
 * A webview page: the policy is the first thing in its head, so no page of the extension goes out
 * without it. `head` and `body` are the page's own markup; `title` is text.
 */
export function webviewPage(page: { csp: string; title: string; head: string; body: string }): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${page.csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${page.head}
<title>${escapeHtml(page.title)}</title>
</head>
<body>
${page.body}
</body>
</html>`;
}
