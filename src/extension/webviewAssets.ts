// A webview's own script and stylesheet, inlined into its page under the page's nonce. In VS Code for
// the web every file a webview loads is one request through the webview's service worker, the
// workbench and the server; inlined, they arrive with the page.
import { readFileSync } from 'node:fs';

/**
 * `text` as the content of an inline <script> or <style> element, or null when the HTML parser could
 * misread it (it ends the element at `</script` / `</style`, and `<!--` followed by `<script` changes
 * how script text is read): the caller then links the file instead.
 */
export function inlineText(text: string, tag: 'script' | 'style'): string | null {
  const body = text.replace(/\/[/*]# sourceMappingURL=[^\n]*\s*$/, '');
  return new RegExp(`</?${tag}`, 'i').test(body) ? null : body;
}

/** inlineText of a built file; null when it cannot be read or inlined. */
export function inlineFile(path: string, tag: 'script' | 'style'): string | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  return inlineText(text, tag);
}
