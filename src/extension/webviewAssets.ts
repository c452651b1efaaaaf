// A webview's own script and stylesheet (the built files of dist/webview), inlined into its page under
// the page's nonce. Nothing of a panel is loaded through a webview resource URI: in VS Code for the web
// every such file is one request through the webview's service worker, the workbench and the server
// after the page is written. Each file is read once per activation and kept.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

/**
 * `text` as the content of an inline <script> or <style> element, or null when the HTML parser could
 * misread it (it ends the element at `</script` / `</style`, and `<!--` followed by `<script` changes
 * how script text is read). esbuild writes `<\/script` in strings, so a bundle built by
 * scripts/build.mjs never has it.
 */
export function inlineText(text: string, tag: 'script' | 'style'): string | null {
  const body = text.replace(/\/[/*]# sourceMappingURL=[^\n]*\s*$/, '');
  return new RegExp(`</?${tag}`, 'i').test(body) ? null : body;
}

/** The files read so far, by tag and path: read once per activation (the extension host's lifetime). */
const inlined = new Map<string, string>();

/**
 * The built file at `path` as the content of an inline `tag` element (inlineText), read on its first
 * use and then kept in memory. Throws when the file cannot be read or inlined: a damaged install,
 * which no panel falls back from by loading the file through a URI.
 */
export function inlineAsset(path: string, tag: 'script' | 'style'): string {
  const key = `${tag}:${path}`;
  const kept = inlined.get(key);
  if (kept !== undefined) return kept;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`the webview file ${basename(path)} could not be read (${(e as Error).message})`, { cause: e });
  }
  const body = inlineText(text, tag);
  if (body === null)
    throw new Error(`the webview file ${basename(path)} holds "</${tag}" or "<${tag}" and cannot be inlined`);
  inlined.set(key, body);
  return body;
}
